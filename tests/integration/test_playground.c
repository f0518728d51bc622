/* The local chain as a playground, driven the way a user reproducing a report
 * would: `wiharness up` → `wiharness cloud bucket create` / `cloud role set` /
 * `cloud role list -o json` → kubectl creates the namespace and the
 * ServiceAccount → then ONLY real external clients: `kubectl create token`,
 * curl POSTing the AWS STS form, curl --aws-sigv4 PUT/GET on MinIO →
 * team-a-data works, team-b-data is AccessDenied by MinIO itself → every log
 * of the run scanned for every secret → `wiharness down`.
 *
 * Credentials go to curl through a config on stdin (-K -), never on its
 * command line; nothing secret is printed (fingerprints only). */
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "playground.h"
#include "testutil.h"

static pg P;
static const char *curl_bin = "/usr/bin/curl";

/* <Tag>value</Tag> in an XML reply (caller frees), or NULL. Deliberately not
 * our own S3/STS parser: this test only trusts external clients. */
static char *xml_tag(const char *xml, const char *tag)
{
    char *open = wih_asprintf("<%s>", tag), *close = wih_asprintf("</%s>", tag);
    const char *a = strstr(xml, open), *b = a ? strstr(a, close) : NULL;
    char *v = a && b ? wih_asprintf("%.*s", (int)(b - a - strlen(open)), a + strlen(open)) : NULL;
    free(open);
    free(close);
    return v;
}

/* curl -sS --noproxy '*' -K - args… with cfg on stdin; out = body + "\n" + HTTP code. */
static int curl(const char *cfg, char **out, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)curl_bin;
    argv[n++] = "-sS";
    argv[n++] = "--noproxy";
    argv[n++] = "*";
    argv[n++] = "-w";
    argv[n++] = "\n%{http_code}";
    argv[n++] = "-K";
    argv[n++] = "-";
    va_list ap;
    va_start(ap, out);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 31) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    return pg_run(&P, argv, NULL, cfg ? cfg : "", 60000, out, NULL);
}

static long http_code(const char *out)
{
    const char *nl = strrchr(out, '\n');
    return nl ? strtol(nl + 1, NULL, 10) : -1;
}

static void setup(void)
{
    pg_require_programs();
    if (access(curl_bin, X_OK) != 0) wih_test_skip("the curl CLI (%s) is not installed", curl_bin);
    wih_err *e = NULL;
    char *argv[] = {(char *)curl_bin, "--help", "all", NULL};
    char *o = NULL, *er = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 10000, &o, &er, &e);
    bool sigv4 = rc == 0 && o && strstr(o, "--aws-sigv4");
    free(o);
    free(er);
    wih_err_free(e);
    if (!sigv4) wih_test_skip("this curl has no --aws-sigv4 (curl >= 7.75 needed)");
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_KUBECTL, false, &ti);
    bool have = ti.path != NULL;
    wih_tool_info_free(&ti);
    if (!have) wih_test_skip("kubectl is not installed (the playground is driven with the real kubectl)");
    pg_up(&P, "wih-playground-");
}

static void teardown(void) { pg_down(&P); }

START_TEST(cli_refuses_bad_input)
{
    char *out = NULL;
    /* bad --grant syntax, unknown level, bad bucket name: exit 2 before any request */
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "set", "x", "--trust", "system:serviceaccount:a:b",
                            "--grant", "team-a-data", NULL),
                     2);
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "set", "x", "--trust", "system:serviceaccount:a:b",
                            "--grant", "team-a-data=admin", NULL),
                     2);
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "bucket", "create", "Not_A_Bucket", NULL), 2);
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "set", "x", "--grant", "team-a-data=read", NULL), 2);
    free(out);
    /* the cloud's own refusal (a role name it does not accept) comes back with its message, exit 2 */
    char *err = NULL;
    char *argv[] = {WIH_BINARY, "cloud", "role", "set", "bad.name", "--trust", "system:serviceaccount:a:b",
                    "--state-dir", P.state_dir, NULL};
    ck_assert_int_eq(pg_run(&P, argv, NULL, NULL, 60000, &out, &err), 2);
    ck_assert_msg(strstr(err, "role name") && strstr(err, "HTTP 400"), "%s", err);
    free(out);
    free(err);
    /* the same cloud with a wrong admin token (a copy of state.json pointing at
     * another token file): the cloud refuses, exit 3, and no token is printed */
    char *other = wih_path_join(P.tmp, "wrong-token-state");
    ck_assert_int_eq(wih_mkdir_p(other, 0700), 0);
    char *wrongf = wih_path_join(other, "admin.token");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(wrongf, "not-the-admin-token-0123456789", 30, 0600, &e), 0);
    cJSON *st = cJSON_Duplicate(P.state, true);
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(st, "cloud"), "admin_token_file", cJSON_CreateString(wrongf));
    char *sj = cJSON_Print(st), *sp = wih_path_join(other, "state.json");
    ck_assert_int_eq(wih_write_file(sp, sj, strlen(sj), 0600, &e), 0);
    char *argv3[] = {WIH_BINARY, "cloud", "role", "list", "--state-dir", other, NULL};
    ck_assert_int_eq(pg_run(&P, argv3, NULL, NULL, 60000, &out, &err), 3);
    ck_assert_msg(strstr(err, "admin token required") && strstr(err, "HTTP 401") &&
                      !strstr(err, "not-the-admin-token"),
                  "%s", err);
    free(out);
    free(err);
    free(sp);
    free(sj);
    cJSON_Delete(st);
    free(wrongf);
    free(other);
    /* no chain in a state dir → exit 3 */
    char *none = wih_path_join(P.tmp, "nothing-here");
    char *argv2[] = {WIH_BINARY, "cloud", "role", "list", "--state-dir", none, NULL};
    ck_assert_int_eq(pg_run(&P, argv2, NULL, NULL, 60000, &out, &err), 3);
    free(out);
    free(err);
    free(none);
}
END_TEST

START_TEST(kubectl_and_curl_only)
{
    char *out = NULL, *err = NULL;
    /* buckets and the role, through the CLI */
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "bucket", "create", "team-a-data", NULL), 0);
    ck_assert_str_eq(out, "bucket team-a-data created\n");
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "bucket", "create", "team-b-data", NULL), 0);
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "bucket", "create", "team-a-data", NULL), 0); /* idempotent */
    ck_assert_str_eq(out, "bucket team-a-data already exists\n");
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "set", "team-a", "--trust",
                            "system:serviceaccount:wi-test:app", "--grant", "team-a-data=readwrite", NULL),
                     0);
    ck_assert_msg(strstr(out, "arn:aws:iam::000000000000:role/team-a") &&
                      strstr(out, "team-a@wiharness.iam.gserviceaccount.com") &&
                      strstr(out, "grant:                   team-a-data=readwrite"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "list", NULL), 0);
    ck_assert_msg(strstr(out, "trusts subject:          system:serviceaccount:wi-test:app"), "%s", out);
    free(out);
    cJSON *role = pg_role(&P, "team-a");
    const char *arn = cJSON_GetStringValue(cJSON_GetObjectItem(role, "aws_role_arn"));
    ck_assert_str_eq(arn, "arn:aws:iam::000000000000:role/team-a");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(role, "trust"), "issuer")),
                     cJSON_GetStringValue(cJSON_GetObjectItem(P.state, "issuer")));
    ck_assert_msg(cJSON_GetStringValue(cJSON_GetObjectItem(role, "entra_client_id")), "no entra_client_id");

    /* namespace + ServiceAccount with kubectl */
    ck_assert_int_eq(pg_kubectl(&P, &out, "create", "namespace", "wi-test", NULL), 0);
    free(out);
    ck_assert_int_eq(pg_kubectl(&P, &out, "create", "serviceaccount", "app", "-n", "wi-test", NULL), 0);
    free(out);
    ck_assert_int_eq(pg_kubectl(&P, &out, "create", "serviceaccount", "other", "-n", "wi-test", NULL), 0);
    free(out);

    /* the projected-token equivalent: kubectl create token */
    char *tok = NULL;
    ck_assert_int_eq(pg_kubectl(&P, &tok, "create", "token", "app", "-n", "wi-test", "--audience",
                                "sts.amazonaws.com", "--duration", "10m", NULL),
                     0);
    tok[strcspn(tok, "\r\n")] = 0;
    ck_assert_msg(!strncmp(tok, "eyJ", 3), "kubectl create token printed no JWT");
    pg_secret(&P, tok);

    /* AWS STS AssumeRoleWithWebIdentity with curl */
    const char *sts = pg_env(&P, "AWS_ENDPOINT_URL_STS"), *ca = pg_env(&P, "AWS_CA_BUNDLE");
    char *cfg = wih_asprintf("url = \"%s/\"\ncacert = \"%s\"\n"
                             "data-urlencode = \"Action=AssumeRoleWithWebIdentity\"\n"
                             "data-urlencode = \"Version=2011-06-15\"\n"
                             "data-urlencode = \"RoleArn=%s\"\n"
                             "data-urlencode = \"RoleSessionName=playground\"\n"
                             "data-urlencode = \"DurationSeconds=900\"\n"
                             "data-urlencode = \"WebIdentityToken=%s\"\n",
                             sts, ca, arn, tok);
    int rc = curl(cfg, &out, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 200, "curl STS: exit %d HTTP %ld", rc, http_code(out));
    char *ak = xml_tag(out, "AccessKeyId"), *sk = xml_tag(out, "SecretAccessKey"), *st = xml_tag(out, "SessionToken"),
         *exp = xml_tag(out, "Expiration");
    ck_assert_msg(ak && sk && st && exp, "the STS reply has no complete <Credentials>");
    pg_secret(&P, sk);
    pg_secret(&P, st);
    ck_assert_msg(strstr(out, "<AssumeRoleWithWebIdentityResponse"), "not an AssumeRoleWithWebIdentityResponse");
    free(out);
    free(cfg);

    /* another ServiceAccount's token: AccessDenied from the STS, no credentials */
    char *tok2 = NULL;
    ck_assert_int_eq(pg_kubectl(&P, &tok2, "create", "token", "other", "-n", "wi-test", "--audience",
                                "sts.amazonaws.com", NULL),
                     0);
    tok2[strcspn(tok2, "\r\n")] = 0;
    pg_secret(&P, tok2);
    cfg = wih_asprintf("url = \"%s/\"\ncacert = \"%s\"\ndata-urlencode = \"Action=AssumeRoleWithWebIdentity\"\n"
                       "data-urlencode = \"Version=2011-06-15\"\ndata-urlencode = \"RoleArn=%s\"\n"
                       "data-urlencode = \"RoleSessionName=other\"\ndata-urlencode = \"WebIdentityToken=%s\"\n",
                       sts, ca, arn, tok2);
    rc = curl(cfg, &out, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 403 && strstr(out, "<Code>AccessDenied</Code>") &&
                      !strstr(out, "<Credentials>"),
                  "untrusted SA: HTTP %ld", http_code(out));
    free(out);
    free(cfg);

    /* S3 with curl --aws-sigv4 and the session credentials */
    const char *s3 = pg_env(&P, "AWS_ENDPOINT_URL_S3"), *region = pg_env(&P, "AWS_REGION");
    char *scfg = wih_asprintf("user = \"%s:%s\"\naws-sigv4 = \"aws:amz:%s:s3\"\n"
                              "header = \"x-amz-security-token: %s\"\n"
                              /* curl 7.88 signs no payload hash header; MinIO wants one */
                              "header = \"x-amz-content-sha256: UNSIGNED-PAYLOAD\"\n",
                              ak, sk, region, st);
    char *payload = wih_path_join(P.tmp, "payload.txt");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(payload, "hello from curl\n", 16, 0600, &e), 0);
    char *obj_a = wih_asprintf("%s/team-a-data/playground/hello.txt", s3);
    rc = curl(scfg, &out, "-T", payload, obj_a, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 200, "PUT team-a-data: exit %d HTTP %ld: %.300s", rc,
                  http_code(out), out);
    free(out);
    rc = curl(scfg, &out, obj_a, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 200 && !strncmp(out, "hello from curl\n", 16),
                  "GET team-a-data: HTTP %ld", http_code(out));
    free(out);
    char *obj_b = wih_asprintf("%s/team-b-data/playground/hello.txt", s3);
    rc = curl(scfg, &out, "-T", payload, obj_b, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 403 && strstr(out, "<Code>AccessDenied</Code>"),
                  "PUT team-b-data: HTTP %ld: %.300s", http_code(out), out);
    free(out);
    rc = curl(scfg, &out, obj_b, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 403 && strstr(out, "<Code>AccessDenied</Code>"),
                  "GET team-b-data: HTTP %ld: %.300s", http_code(out), out);
    free(out);
    /* without the session token the same keys are refused: the token is really part of the credentials */
    char *nocfg = wih_asprintf("user = \"%s:%s\"\naws-sigv4 = \"aws:amz:%s:s3\"\n"
                               "header = \"x-amz-content-sha256: UNSIGNED-PAYLOAD\"\n",
                               ak, sk, region);
    rc = curl(nocfg, &out, obj_a, NULL);
    ck_assert_msg(rc == 0 && http_code(out) == 403, "GET without the session token: HTTP %ld", http_code(out));
    free(out);
    char *skfp = wih_fingerprint(sk);
    printf("playground: STS issued %s (secret %s), expires %s; team-a-data PUT/GET 200, team-b-data 403 "
           "AccessDenied\n",
           ak, skfp, exp);
    free(skfp);

    /* the decision log saw both decisions, the deny with the actual subject */
    const char *dlog =
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(P.state, "cloud"), "decision_log"));
    char *dl = wih_read_file(dlog, 16 << 20, NULL, &e);
    ck_assert_msg(dl, "%s", wih_err_str(e));
    ck_assert_msg(strstr(dl, "system:serviceaccount:wi-test:other") && strstr(dl, "\"result\":\"allow\""),
                  "decision log lacks the allow / the denied subject");
    free(dl);

    OPENSSL_cleanse(scfg, strlen(scfg));
    OPENSSL_cleanse(nocfg, strlen(nocfg));
    free(nocfg);
    free(scfg);
    free(obj_a);
    free(obj_b);
    free(payload);
    free(ak);
    free(sk);
    free(st);
    free(exp);
    free(tok);
    free(tok2);
    cJSON_Delete(role);
    (void)err;
}
END_TEST

/* Must run last: every log the playground run produced, for every secret it saw. */
START_TEST(no_secret_in_any_log)
{
    size_t bytes = pg_scan_logs(&P, NULL);
    ck_assert_uint_gt(bytes, 1000);
    printf("scanned %zu bytes of logs for %zu secrets: no hit\n", bytes, P.nsecrets);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("playground");
    TCase *tc = tcase_create("playground");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cli_refuses_bad_input);
    tcase_add_test(tc, kubectl_and_curl_only);
    tcase_add_test(tc, no_secret_in_any_log);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
