/* wiharness webhook mutate: output formats and exit codes 0 / 1 / 2. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/yamljson.h"

static char *fx(const char *rel)
{
    char *r = wih_asprintf("webhook/%s", rel);
    char *p = wih_fixture(r);
    free(r);
    return p;
}

START_TEST(cli_allowed_json_matches_golden)
{
    char *pod = fx("aws-irsa/init-and-native-sidecar/pod.yaml"), *sa = fx("aws-irsa/init-and-native-sidecar/sa.yaml"),
         *op = fx("aws-irsa/init-and-native-sidecar/options.yaml"),
         *ex = fx("aws-irsa/init-and-native-sidecar/expect.json");
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", "--pod", pod, "--sa", sa,
                          "--options", op, "-o", "json", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    wih_err *e = NULL;
    char *et = wih_read_file(ex, 1 << 20, NULL, &e);
    cJSON *want = cJSON_Parse(et), *got = cJSON_Parse(out);
    ck_assert_msg(got, "not JSON: %s", out);
    char *d = wih_json_diff(want, got);
    ck_assert_msg(!d, "%s", d);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(et);
    free(out);
    free(err);
    /* default output is YAML */
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "-p", "aws-irsa", "--pod", pod, "--sa", sa, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "allowed: true\n") && strstr(out, "patchType: JSONPatch\n"), "%s", out);
    free(out);
    free(err);
    free(pod);
    free(sa);
    free(op);
    free(ex);
}
END_TEST

START_TEST(cli_apply_prints_mutated_pod)
{
    char *pod = fx("gcp-fleet/basic-configmap/pod.yaml"), *sa = fx("gcp-fleet/basic-configmap/sa.yaml");
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "gcp-fleet", "--pod", pod, "--sa", sa,
                          "--apply", NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("<stdout>", out, strlen(out), &e);
    ck_assert_msg(d, "%s", e ? wih_err_str(e) : "");
    cJSON *p = wih_ydocs_root(d, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(p, "kind")->valuestring, "Pod");
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "spec"), "containers"), 0);
    const cJSON *env0 = cJSON_GetArrayItem(cJSON_GetObjectItem(c0, "env"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(env0, "value")->valuestring,
                     "/var/run/secrets/tokens/gcp-ksa/google-application-credentials.json");
    const cJSON *v0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "spec"), "volumes"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(v0, "name")->valuestring, "gcp-ksa");
    wih_ydocs_free(d);
    free(out);
    free(err);
    free(pod);
    free(sa);
}
END_TEST

START_TEST(cli_denial_exit_1)
{
    char *pod = fx("azure-wi/expiration-too-low/pod.yaml"), *sa = fx("azure-wi/expiration-too-low/sa.yaml");
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "azure-wi", "--pod", pod, "--sa", sa,
                          NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "allowed: false"), "%s", out);
    ck_assert_msg(strstr(err, "token expiration 600 not valid. Expected value to be between 3600 and 86400"), "%s",
                  err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "azure-wi", "--pod", pod, "--sa", sa,
                      "--apply", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "");
    ck_assert_msg(strstr(err, "token expiration 600 not valid"), "%s", err);
    free(out);
    free(err);
    /* a missing SA (no --sa) is a denial for azure-wi */
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "azure-wi", "--pod", pod, "--apply", NULL);
    ck_assert_int_eq(rc, 1);
    ck_assert_str_eq(out, "");
    ck_assert_msg(strstr(err, "serviceaccounts \"sa\" not found"), "%s", err);
    free(out);
    free(err);
    free(pod);
    free(sa);
}
END_TEST

START_TEST(cli_bad_input_exit_2)
{
    char *pod = fx("aws-irsa/basic-no-volumes/pod.yaml");
    char dir[] = "/tmp/wih-webhook-cli-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *bad_opts = wih_asprintf("%s/opts.yaml", dir), *bad_pod = wih_asprintf("%s/pod.yaml", dir);
    wih_err *e = NULL;
    const char *ot = "defaultRegion: us-east-1\nstsRegionalEndpoints: true\n";
    ck_assert_int_eq(wih_write_file(bad_opts, ot, strlen(ot), 0644, &e), 0);
    const char *pt = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n";
    ck_assert_int_eq(wih_write_file(bad_pod, pt, strlen(pt), 0644, &e), 0);
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", "--pod", pod, "--options",
                          bad_opts, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "opts.yaml:2:") && strstr(err, "did you mean \"stsRegionalEndpoint\""), "%s", err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-iris", "--pod", pod, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "did you mean 'aws-irsa'"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", NULL);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", "--pod", bad_pod, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "pod.yaml:"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", "--pod", "/nonexistent.yaml",
                      NULL);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "webhook", "mutate", "--profile", "aws-irsa", "--pod", pod, "-o", "xml", NULL);
    ck_assert_int_eq(rc, 2);
    free(out);
    free(err);
    unlink(bad_opts);
    unlink(bad_pod);
    rmdir(dir);
    free(bad_opts);
    free(bad_pod);
    free(pod);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cli_allowed_json_matches_golden);
    tcase_add_test(tc, cli_apply_prints_mutated_pod);
    tcase_add_test(tc, cli_denial_exit_1);
    tcase_add_test(tc, cli_bad_input_exit_2);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
