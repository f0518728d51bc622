/* The bundled drafts' pod expectations hold for the pods the harness's own
 * models produce, with no cluster: `wiharness gen sa` (the SA a profile
 * gets) + `wiharness render --profile` (OSMO's pod, then the mock identity
 * webhook) → scn_assert_pod. The API server's own defaults (a pod without
 * serviceAccountName gets "default") are not modelled here, so only the
 * scenarios whose expectations do not depend on them are checked. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/scenario.h"
#include "wiharness/yamljson.h"

typedef struct bundled_case {
    const char *file, *profile;
    const char *id_flag, *id_value; /* gen sa identity flag */
} bundled_case;

static const bundled_case cases[] = {
    {"guide-aws-irsa.yaml", "aws-irsa", "--role-arn", "arn:aws:iam::111122223333:role/team-a"},
    {"guide-azure-wi.yaml", "azure-wi", "--client-id", "00000000-0000-0000-0000-00000000000a"},
    {"guide-gcp-fleet.yaml", "gcp-fleet", "--gcp-service-account", "team-a@wiharness-project.iam.gserviceaccount.com"},
    {"azure-doc-literal.yaml", "azure-wi", "--client-id", "00000000-0000-0000-0000-00000000000a"},
    {"two-pools-listed.yaml", "aws-irsa", "--role-arn", "arn:aws:iam::111122223333:role/team-a"},
};

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *p = wih_path_join(dir, name);
    wih_err *e = NULL;
    ck_assert_msg(wih_write_file(p, text, strlen(text), 0600, &e) == 0, "%s", e ? wih_err_str(e) : p);
    return p;
}

static void check_case(const bundled_case *c, const char *tmp)
{
    char *path = wih_asprintf("%s/fixtures/scenario/bundled-draft/%s", WIH_SOURCE_DIR, c->file);
    wih_err *e = NULL;
    scn_list *l = scn_load_path(path, &e);
    ck_assert_msg(l && l->n == 1, "%s: %s", c->file, e ? wih_err_str(e) : "not one scenario");
    const scn_scenario *s = l->items[0];
    ck_assert_int_eq(s->values.kind, SCN_SRC_FILE);

    char *sa = NULL, *err = NULL;
    int rc = wih_test_cli(&sa, &err, NULL, "gen", "sa", "--profile", c->profile, "--name", s->sa_name, "--namespace",
                          "osmo-workflows", c->id_flag, c->id_value, "-o", "json", NULL);
    ck_assert_msg(rc == 0, "%s: gen sa: %s", c->file, err);
    char *sa_path = write_tmp(tmp, "sa.json", sa);
    char *wf_path = write_tmp(tmp, "wf.yaml",
                              "workflow:\n  name: rw\n  tasks:\n    - name: t\n      image: busybox\n"
                              "      command: [sh]\n      outputs: [{url: \"s3://team-a-data/out/\"}]\n");
    char *out = NULL;
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "render", "--values", s->values.path, "--pool", s->pool, "--profile",
                      c->profile, "--sa", sa_path, "--workflow", wf_path, "-o", "json", NULL);
    ck_assert_msg(rc == 0, "%s: render: %s", c->file, err);
    cJSON *pods = cJSON_Parse(out);
    ck_assert_msg(cJSON_GetArraySize(pods) >= 1, "%s: render printed no pod", c->file);

    scn_result r;
    scn_result_init(&r);
    ck_assert_msg(scn_assert_pod(s->expect.pod, cJSON_GetArrayItem(pods, 0), s, &r, &e) == 0, "%s: %s", c->file,
                  wih_err_str(e));
    char *text = scn_result_text(&r);
    ck_assert_msg(scn_result_ok(&r), "%s (%s):\n%s", c->file, c->profile, text);
    ck_assert_msg(r.matched >= 1, "%s: nothing checked", c->file);
    free(text);
    scn_result_free(&r);
    cJSON_Delete(pods);
    free(out);
    free(err);
    free(sa);
    free(sa_path);
    free(wf_path);
    scn_list_free(l);
    free(path);
}

/* Made and removed by main(), outside the forked tests, so a failing test
 * (which ends its process at the failed assertion) leaves nothing behind. */
static char *tmp;

START_TEST(drafts_match_the_models)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_case(&cases[i], tmp);
}
END_TEST

/* The same machinery fails when the pod is wrong: a static key in the pool
 * template breaks guide-aws-irsa's `env[name=AWS_ACCESS_KEY_ID]: $absent`. */
START_TEST(a_wrong_pod_fails)
{
    char *path = wih_asprintf("%s/fixtures/scenario/bundled-draft/guide-aws-irsa.yaml", WIH_SOURCE_DIR);
    wih_err *e = NULL;
    scn_list *l = scn_load_path(path, &e);
    ck_assert_msg(l != NULL, "%s", wih_err_str(e));
    cJSON *pod = cJSON_Parse("{\"spec\": {\"serviceAccountName\": \"default\", \"containers\": [{\"name\": \"osmo-ctrl\","
                             "\"env\": [{\"name\": \"AWS_ACCESS_KEY_ID\", \"value\": \"x\"}]}]}}");
    scn_result r;
    scn_result_init(&r);
    ck_assert_int_eq(scn_assert_pod(l->items[0]->expect.pod, pod, l->items[0], &r, &e), 0);
    ck_assert(!scn_result_ok(&r));
    ck_assert_uint_ge(r.mismatched, 2); /* the SA name and the static key */
    ck_assert_uint_ge(r.not_yet, 1);    /* AWS_ROLE_ARN never injected */
    char *text = scn_result_text(&r);
    ck_assert_msg(strstr(text, "spec.containers[name=osmo-ctrl].env[name=AWS_ACCESS_KEY_ID]: expected absent"), "%s",
                  text);
    ck_assert_msg(strstr(text, "spec.serviceAccountName: expected \"osmo-workflow\", got \"default\""), "%s", text);
    free(text);
    scn_result_free(&r);
    cJSON_Delete(pod);
    scn_list_free(l);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scenario_bundled");
    TCase *tc = tcase_create("bundled");
    tcase_add_test(tc, drafts_match_the_models);
    tcase_add_test(tc, a_wrong_pod_fails);
    suite_add_tcase(s, tc);
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-scn-bundled", true, &e);
    if (!tmp) return wih_err_report(e);
    int rc = wih_test_run(s);
    wih_rm_rf(tmp);
    free(tmp);
    return rc;
}
