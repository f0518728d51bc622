/* The OSMO model against a real kube-apiserver (the local backend):
 *   - `wiharness gen sa` output, as printed, is server-side applied
 *     (application/apply-patch+yaml, fieldValidation=Strict) and read back;
 *   - the pods `wiharness render` makes from the guide's values for each
 *     profile are accepted by the apiserver (create with dryRun=All and
 *     fieldValidation=Strict: a real schema check, unknown fields rejected). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/osmo.h"
#include "wiharness/yamljson.h"

static char *g_dir, *g_server, *g_ca, *g_cert, *g_key;

static long api(const char *method, const char *path, const char *ctype, const char *body, char **resp)
{
    char *url = wih_asprintf("%s%s", g_server, path);
    wih_err *e = NULL;
    long code = cluster_http(method, url, ctype, body, g_ca, g_cert, g_key, resp, &e);
    if (code < 0) fprintf(stderr, "%s %s: %s\n", method, url, wih_err_str(e));
    wih_err_free(e);
    free(url);
    return code;
}

static const struct {
    const char *profile, *flag, *val, *key, *fixture;
} k_prof[] = {
    {"aws-irsa", "--role-arn", "arn:aws:iam::123456789012:role/team", "eks.amazonaws.com/role-arn", "guide-aws"},
    {"azure-wi", "--client-id", "11111111-2222-3333-4444-555555555555", "azure.workload.identity/client-id",
     "guide-azure"},
    {"gcp-fleet", "--gcp-service-account", "team@proj.iam.gserviceaccount.com", "iam.gke.io/gcp-service-account",
     "guide-gcp"},
};

START_TEST(gen_sa_server_side_apply_and_rendered_pods_accepted)
{
    char *resp = NULL;
    long code = api("POST", "/api/v1/namespaces", "application/json",
                    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"osmo-workflows\"}}", &resp);
    ck_assert_msg(code == 201 || code == 409, "create namespace: %ld %s", code, resp);
    free(resp);
    for (size_t i = 0; i < 3; i++) {
        const char *sa_names[] = {"osmo-workflow-aws", "osmo-workflow-azure", "osmo-workflow-gcp"};
        char *out = NULL, *err = NULL;
        int rc = wih_test_cli(&out, &err, NULL, "gen", "sa", "--profile", k_prof[i].profile, "--name", sa_names[i],
                              "--namespace", "osmo-workflows", k_prof[i].flag, k_prof[i].val, NULL);
        ck_assert_msg(rc == 0, "gen sa: %s", err);
        char *path = wih_asprintf("/api/v1/namespaces/osmo-workflows/serviceaccounts/%s"
                                  "?fieldManager=wiharness&fieldValidation=Strict",
                                  sa_names[i]);
        code = api("PATCH", path, "application/apply-patch+yaml", out, &resp);
        ck_assert_msg(code == 200 || code == 201, "%s: apply: %ld %s", k_prof[i].profile, code, resp);
        cJSON *got = cJSON_Parse(resp);
        const cJSON *an = cJSON_GetObjectItem(cJSON_GetObjectItem(got, "metadata"), "annotations");
        const cJSON *v = cJSON_GetObjectItem(an, k_prof[i].key);
        ck_assert_msg(cJSON_IsString(v) && !strcmp(v->valuestring, k_prof[i].val), "%s: annotation lost: %s",
                      k_prof[i].profile, resp);
        cJSON_Delete(got);
        free(resp);
        /* applying the same manifest again is a no-op, not a conflict */
        code = api("PATCH", path, "application/apply-patch+yaml", out, &resp);
        ck_assert_msg(code == 200, "%s: re-apply: %ld %s", k_prof[i].profile, code, resp);
        free(resp);
        free(path);
        free(out);
        free(err);

        /* the rendered pod of the guide's values for that profile */
        char *rel = wih_asprintf("osmo/render/%s/values.yaml", k_prof[i].fixture);
        char *vp = wih_fixture(rel);
        free(rel);
        rel = wih_asprintf("osmo/render/%s/workflow.yaml", k_prof[i].fixture);
        char *wp = wih_fixture(rel);
        free(rel);
        rc = wih_test_cli(&out, &err, NULL, "render", "--values", vp, "--workflow", wp, "-o", "json", NULL);
        ck_assert_msg(rc == 0, "render: %s", err);
        cJSON *pods = cJSON_Parse(out);
        ck_assert_int_eq(cJSON_GetArraySize(pods), 1);
        char *pod = cJSON_PrintUnformatted(cJSON_GetArrayItem(pods, 0));
        code = api("POST", "/api/v1/namespaces/osmo-workflows/pods?dryRun=All&fieldValidation=Strict",
                   "application/json", pod, &resp);
        ck_assert_msg(code == 201, "%s: rendered pod rejected: %ld %s", k_prof[i].profile, code, resp);
        cJSON *created = cJSON_Parse(resp);
        const cJSON *san = cJSON_GetObjectItem(cJSON_GetObjectItem(created, "spec"), "serviceAccountName");
        ck_assert_msg(cJSON_IsString(san) && !strcmp(san->valuestring, sa_names[i]), "%s: pod SA %s",
                      k_prof[i].profile, resp);
        cJSON_Delete(created);
        cJSON_Delete(pods);
        free(pod);
        free(resp);
        free(out);
        free(err);
        free(vp);
        free(wp);
    }
}
END_TEST

int main(void)
{
    wih_err *err = NULL;
    for (int t = 0; t < WIH_TOOL_MINIO; t++) {
        char *p = wih_tool_path((wih_tool)t, &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    char *tmp = wih_tmpdir("wih-osmo-apply", false, &err);
    g_dir = wih_path_join(tmp, "state");
    cluster_local_opts o = {.state_dir = g_dir, .no_webhook = true, .no_cloud = true}; /* the control plane is enough here */
    bool reused = false;
    wih_err *e = cluster_local_up(&o, &reused);
    if (e) {
        fprintf(stderr, "local backend: %s\n", wih_err_str(e));
        wih_err_free(e);
        wih_err_free(cluster_local_down(&o, false));
        return 1;
    }
    cJSON *st = cluster_local_state(g_dir, &err);
    g_server = wih_strdup(cJSON_GetObjectItem(st, "server")->valuestring);
    cJSON_Delete(st);
    g_ca = wih_asprintf("%s/pki/ca.crt", g_dir);
    g_cert = wih_asprintf("%s/pki/admin.crt", g_dir);
    g_key = wih_asprintf("%s/pki/admin.key", g_dir);
    Suite *s = suite_create("osmo_apply");
    TCase *tc = tcase_create("apply");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, gen_sa_server_side_apply_and_rendered_pods_accepted);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    wih_err_free(cluster_local_down(&o, false)); /* never leave a chain behind */
    free(g_server);
    free(g_ca);
    free(g_cert);
    free(g_key);
    free(g_dir);
    free(tmp);
    return rc;
}
