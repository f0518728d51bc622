/* probe_run and `wiharness probe` without a chain: the environment is set in
 * the (forked) test process, every endpoint is a closed loopback port, so
 * each case exercises the failure paths — and proves no secret (keys, the
 * token) reaches the verdict, stdout or stderr even when things fail. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/jwt.h"
#include "wiharness/probe.h"

static char *closed_url;

static void clean_env(void)
{
    clearenv();
    setenv("PATH", "/usr/bin:/bin", 1);
    setenv("NO_COLOR", "1", 1);
}

static char *print(cJSON *v)
{
    char *s = probe_verdict_print(v, 4096);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_lt(strlen(s), 4096);
    return s;
}

static const char *get(const cJSON *v, const char *a, const char *b)
{
    const cJSON *o = cJSON_GetObjectItem(v, a);
    const char *s = cJSON_GetStringValue(b ? cJSON_GetObjectItem(o, b) : o);
    return s ? s : "(null)";
}

static const cJSON *access0(const cJSON *v) { return cJSON_GetArrayItem(cJSON_GetObjectItem(v, "access"), 0); }

START_TEST(static_keys_unreachable)
{
    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "unit-secret-key-value", 1);
    setenv("AWS_SESSION_TOKEN", "unit-session-token-value", 1);
    setenv("AWS_ENDPOINT_URL_STS", closed_url, 1);
    setenv("AWS_ENDPOINT_URL_S3", closed_url, 1);
    const char *acc[] = {"write:s3://team-a-data/x"};
    probe_opts o = {.profile = "aws-irsa", .access = acc, .naccess = 1, .timeout_ms = 3000};
    wih_err *e = NULL;
    cJSON *v = probe_run(&o, &e);
    ck_assert_msg(v, "%s", wih_err_str(e));
    char *s = print(v);
    ck_assert_str_eq(get(v, "credential", "source"), "static-env");
    ck_assert_str_eq(get(v, "exchange", "identity"), "access-key:AKIAUNITTEST");
    ck_assert_str_eq(get(v, "exchange", "identity_from"), "AWS_ACCESS_KEY_ID");
    ck_assert_msg(strcmp(get(v, "exchange", "caller_identity_error"), "(null)"), "no caller_identity_error: %s", s);
    ck_assert_str_eq(get(access0(v), "result", NULL), "error");
    ck_assert_str_eq(get(access0(v), "reason", NULL), "error");
    ck_assert_ptr_null(strstr(s, "unit-secret-key-value"));
    ck_assert_ptr_null(strstr(s, "unit-session-token-value"));
    free(s);
    cJSON_Delete(v);
}
END_TEST

START_TEST(web_identity_sts_unreachable)
{
    clean_env();
    wih_err *e = NULL;
    wih_jwk_key *k = wih_jwk_generate(2048, "k", &e);
    cJSON *p = cJSON_Parse("{\"iss\":\"https://issuer\",\"sub\":\"system:serviceaccount:ns:sa\",\"aud\":\"sts.amazonaws.com\","
                           "\"iat\":100,\"exp\":3700}");
    char *tok = wih_jwt_sign(k, p, &e);
    char *dir = wih_tmpdir("wih-probe-unit-", false, &e);
    char *tf = wih_path_join(dir, "token");
    char *line = wih_asprintf("%s\n", tok); /* a trailing newline: sent as is, like the SDKs; noted */
    ck_assert_int_eq(wih_write_file(tf, line, strlen(line), 0640, &e), 0);
    free(line);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::000000000000:role/team-a", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    setenv("AWS_ENDPOINT_URL_STS", closed_url, 1);
    setenv("AWS_ENDPOINT_URL_S3", closed_url, 1);
    const char *acc[] = {"read:s3://team-a-data/x"};
    const char *want_env[] = {"AWS_REGION"};
    probe_opts o = {.access = acc, .naccess = 1, .expect_env = want_env, .nexpect_env = 1, .timeout_ms = 3000};
    cJSON *v = probe_run(&o, &e);
    ck_assert_msg(v, "%s", wih_err_str(e));
    char *s = print(v);
    ck_assert_str_eq(get(v, "profile", NULL), "aws-irsa");
    ck_assert_str_eq(get(v, "credential", "source"), "web-identity");
    ck_assert_str_eq(get(v, "token", "mode"), "0640");
    ck_assert_str_eq(get(v, "token", "sub"), "system:serviceaccount:ns:sa");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "token"), "lifetime_s")->valueint, 3600);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "token"), "trailing_whitespace")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "exchange"), "ok")));
    ck_assert_str_eq(get(access0(v), "result", NULL), "error");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "env"), "AWS_REGION")));
    ck_assert_msg(strstr(get(v, "error", NULL), "AWS STS AssumeRoleWithWebIdentity"), "error: %s", get(v, "error", NULL));
    ck_assert_ptr_null(strstr(s, tok));
    ck_assert_ptr_null(strstr(s, "eyJ"));
    free(s);
    cJSON_Delete(v);
    free(tf);
    wih_rm_rf(dir);
    free(dir);
    free(tok);
    cJSON_Delete(p);
    wih_jwk_free(k);
}
END_TEST

START_TEST(no_sts_endpoint_never_public)
{
    clean_env();
    setenv("AWS_ROLE_ARN", "arn:aws:iam::000000000000:role/team-a", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    probe_opts o = {.profile = "aws-irsa"};
    wih_err *e = NULL;
    cJSON *v = probe_run(&o, &e);
    ck_assert_ptr_nonnull(v);
    ck_assert_msg(strstr(get(v, "token", "error"), "/nonexistent/token"), "token error: %s", get(v, "token", "error"));
    cJSON_Delete(v);
    /* a readable token but no endpoint: the probe says so instead of calling sts.amazonaws.com */
    char *dir = wih_tmpdir("wih-probe-unit-", false, &e);
    char *tf = wih_path_join(dir, "token");
    ck_assert_int_eq(wih_write_file(tf, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", 28, 0600, &e), 0);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tf, 1);
    v = probe_run(&o, &e);
    ck_assert_msg(strstr(get(v, "error", NULL), "no STS endpoint"), "error: %s", get(v, "error", NULL));
    cJSON_Delete(v);
    free(tf);
    wih_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(cli_exit_codes)
{
    clean_env();
    char *out = NULL, *err = NULL;
    /* bad --access: exit 2 before anything runs */
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "probe", "--access", "copy:s3://b-1/x", NULL), 2);
    ck_assert_msg(strstr(err, "OP read, write, list or delete"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "probe", "--profile", "aws-iras", NULL), 2);
    free(out), free(err);
    /* the verdict cannot be written: exit 3, stdout still carries it */
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "probe", "--profile", "azure-wi", "--verdict-file",
                                  "/nonexistent/dir/verdict.json", NULL),
                     3);
    cJSON *v = cJSON_Parse(out);
    ck_assert_msg(v, "stdout: %s", out);
    ck_assert_str_eq(get(v, "credential", "source"), "none");
    ck_assert_msg(strstr(err, "/nonexistent/dir/verdict.json"), "%s", err);
    cJSON_Delete(v);
    free(out), free(err);
    /* denied is still exit 0 */
    char *dir = wih_tmpdir("wih-probe-unit-", false, NULL);
    char *vf = wih_path_join(dir, "v.json");
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "probe", "--access", "write:s3://team-a-data/x", "--verdict-file",
                                  vf, NULL),
                     0);
    char *file = wih_read_file(vf, 1 << 16, NULL, NULL);
    out[strcspn(out, "\n")] = 0;
    ck_assert_str_eq(out, file);
    v = cJSON_Parse(file);
    ck_assert_str_eq(get(access0(v), "reason", NULL), "no-credentials");
    cJSON_Delete(v);
    wih_rm_rf(dir);
    free(file), free(vf), free(dir), free(out), free(err);
}
END_TEST

int main(void)
{
    wih_err *e = NULL;
    int port = wih_free_port(&e); /* bound and released: nothing listens */
    if (port <= 0) wih_test_skip("no free loopback port: %s", wih_err_str(e));
    closed_url = wih_asprintf("http://127.0.0.1:%d", port);
    Suite *s = suite_create("probe_run");
    TCase *t = tcase_create("run");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, static_keys_unreachable);
    tcase_add_test(t, web_identity_sts_unreachable);
    tcase_add_test(t, no_sts_endpoint_never_public);
    tcase_add_test(t, cli_exit_codes);
    suite_add_tcase(s, t);
    int rc = wih_test_run(s);
    free(closed_url);
    return rc;
}
