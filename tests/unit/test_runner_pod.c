/* What the runner changes in the pods OSMO would create, from data
 * (fixtures/runner/, see its README.md): the pod after runner_adapt_pod and
 * the path of every recorded change; the endpoints template; adding it to a
 * loaded config keeps the chart defaults; the probe's access list. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/jsonpath.h"
#include "wiharness/runner.h"
#include "wiharness/yamljson.h"

static cJSON *load(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s", e ? wih_err_str(e) : p);
    cJSON *j = wih_json_parse(p, t, &e);
    ck_assert_msg(j, "%s", e ? wih_err_str(e) : p);
    free(t);
    free(p);
    return j;
}

START_TEST(adapt_task_pod)
{
    cJSON *in = load("runner/adapt/task-pod/in.json");
    cJSON *want = load("runner/adapt/task-pod/expect-pod.json");
    cJSON *paths = load("runner/adapt/task-pod/expect-changes.json");
    cJSON *pod = cJSON_Duplicate(cJSON_GetObjectItem(in, "pod"), 1), *changes = cJSON_CreateArray();
    runner_adapt a = {.probe_image = cJSON_GetObjectItem(in, "probe_image")->valuestring,
                      .profile = cJSON_GetObjectItem(in, "profile")->valuestring,
                      .access = cJSON_GetObjectItem(in, "access")};
    runner_adapt_pod(pod, &a, changes);
    char *d = wih_json_diff(want, pod);
    ck_assert_msg(!d, "the changed pod:\n%s", d);
    ck_assert_int_eq(cJSON_GetArraySize(changes), cJSON_GetArraySize(paths));
    for (int i = 0; i < cJSON_GetArraySize(paths); i++) {
        const cJSON *c = cJSON_GetArrayItem(changes, i);
        ck_assert_str_eq(cJSON_GetObjectItem(c, "path")->valuestring, cJSON_GetArrayItem(paths, i)->valuestring);
        ck_assert(cJSON_GetObjectItem(c, "what") && *cJSON_GetObjectItem(c, "what")->valuestring);
    }
    /* the dropped secret env is recorded with what it was */
    const cJSON *c8 = cJSON_GetArrayItem(changes, 8);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(c8, "from"), "name")->valuestring, "OSMO_CONFIG_FILE_DIR");
    cJSON_Delete(pod);
    cJSON_Delete(changes);
    cJSON_Delete(in);
    cJSON_Delete(want);
    cJSON_Delete(paths);
}
END_TEST

START_TEST(endpoints_template)
{
    cJSON *urls = load("runner/endpoints/pod_urls.json"), *want = load("runner/endpoints/expect.json");
    cJSON *t = runner_endpoints_template(urls);
    char *d = wih_json_diff(want, t);
    ck_assert_msg(!d, "%s", d);
    cJSON_DeleteItemFromObject(urls, "minio");
    ck_assert_ptr_null(runner_endpoints_template(urls));
    ck_assert_ptr_null(runner_endpoints_template(NULL));
    cJSON_Delete(t);
    cJSON_Delete(urls);
    cJSON_Delete(want);
}
END_TEST

START_TEST(template_added_after_helm_layering)
{
    const char *pools[] = {"default", NULL};
    osmo_values_opts vo = {.template_name = "workflow_workload_identity", .service_account = "osmo-workflow",
                           .pools = pools};
    wih_err *e = NULL;
    cJSON *v = osmo_values_fragment(&vo, &e);
    ck_assert(v);
    osmo_config *cfg = osmo_config_from_tree(v, NULL, OSMO_MODE_AUTO, &e);
    ck_assert_msg(cfg, "%s", e ? wih_err_str(e) : "");
    cJSON *urls = load("runner/endpoints/pod_urls.json"), *t = runner_endpoints_template(urls), *ch = cJSON_CreateArray();
    ck_assert_int_eq(runner_config_add_template(cfg, "default", RUNNER_ENDPOINTS_TEMPLATE, t, ch, &e), 0);
    const cJSON *list = cJSON_GetObjectItem(cJSON_GetObjectItem(cfg->pools, "default"), "common_pod_template");
    char *s = cJSON_PrintUnformatted(list);
    ck_assert_str_eq(s, "[\"default_user\",\"default_ctrl\",\"workflow_workload_identity\",\"wih-endpoints\"]");
    free(s);
    ck_assert(cJSON_GetObjectItem(cfg->pod_templates, "wih-endpoints"));
    ck_assert_int_eq(cJSON_GetArraySize(ch), 1);
    ck_assert_int_eq(runner_config_add_template(cfg, "nope", "x", t, ch, &e), -1);
    ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
    ck_assert(strstr(wih_err_str(e), "'nope'"));
    wih_err_free(e);
    osmo_config_free(cfg);
    cJSON_Delete(v);
    cJSON_Delete(t);
    cJSON_Delete(urls);
    cJSON_Delete(ch);
}
END_TEST

START_TEST(access_list)
{
    const char *scn = "apiVersion: wiharness/v1\nkind: Scenario\nmetadata: {name: acc}\n"
                      "spec:\n  profiles: [gcp-fleet]\n  buckets: [team-a-data]\n"
                      "  expect:\n    access:\n"
                      "    - {op: write, url: \"{{bucket team-a-data}}/out/x\", result: allowed}\n"
                      "    - {op: read, url: \"{{bucket team-a-data}}/in/data\", result: allowed}\n";
    wih_err *e = NULL;
    scn_list *l = scn_load_string("acc.yaml", scn, NULL, &e);
    ck_assert_msg(l, "%s", e ? wih_err_str(e) : "");
    const char *wf = "{\"workflow\":{\"name\":\"w\",\"tasks\":[{\"name\":\"t\",\"inputs\":[{\"url\":\"s3://p-team-a-data/in/data\"}],"
                     "\"outputs\":[{\"url\":\"s3://p-team-a-data/out\"}]},{\"name\":\"other\"}]}}";
    cJSON *w = cJSON_Parse(wf);
    scn_vars v = {.namespace_ = "ns", .service_account = "sa", .profile = "gcp-fleet", .scenario = "acc",
                  .bucket_prefix = "p-"};
    cJSON *a = runner_access_list(w, "t", l->items[0], &v, "gcp-fleet", &e);
    ck_assert_msg(a, "%s", e ? wih_err_str(e) : "");
    char *s = cJSON_PrintUnformatted(a);
    /* input read, output written under the probe's key, then the expectations; the duplicate read once */
    ck_assert_str_eq(s, "[\"read:s3://p-team-a-data/in/data\",\"write:s3://p-team-a-data/out/wiharness-probe/gcp-fleet\","
                        "\"write:s3://p-team-a-data/out/x\"]");
    free(s);
    cJSON_Delete(a);
    a = runner_access_list(w, "other", l->items[0], &v, "gcp-fleet", &e);
    s = cJSON_PrintUnformatted(a);
    ck_assert_str_eq(s, "[\"write:s3://p-team-a-data/out/x\",\"read:s3://p-team-a-data/in/data\"]");
    free(s);
    cJSON_Delete(a);
    cJSON_Delete(w);
    scn_list_free(l);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner_pod");
    TCase *tc = tcase_create("runner_pod");
    tcase_add_test(tc, adapt_task_pod);
    tcase_add_test(tc, endpoints_template);
    tcase_add_test(tc, template_added_after_helm_layering);
    tcase_add_test(tc, access_list);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
