/* `wiharness probe` against the local chain (`wiharness up` in a temp state
 * dir): buckets team-a-data / team-b-data, role team-a (trusts
 * system:serviceaccount:probe-test:app, team-a-data=readwrite) and role team-b
 * (trusts …:other, team-b-data=readwrite); TokenRequest tokens per provider
 * audience written to 0600 files; the probe runs on the host under `env -i`
 * with exactly what the webhook would inject plus the endpoint env the
 * runner's extra pool template sets — the shape the runner relies on:
 *   aws-irsa / azure-wi / gcp-fleet (Fleet's audience; and a pool provider):
 *     team-a-data write+read allowed as team-a's principal (assumed-role ARN
 *     from GetCallerIdentity / Entra client id / GSA email), team-b-data
 *     denied with reason bucket-refused (MinIO's AccessDenied);
 *   a static AWS key left in the env wins over web identity (static-env) and
 *     GetCallerIdentity names that key's owner (team-b's session);
 *   an untrusted ServiceAccount → exchange-refused with each provider's code
 *     (STS AccessDenied, AADSTS70021, PERMISSION_DENIED); no credentials →
 *     no-credentials;
 *   the verdict file equals stdout and is < 4096 bytes; no secret in any log. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "playground.h"
#include "testutil.h"
#include "wiharness/cloud.h"
#include "wiharness/probe.h"

#define WIF "//iam.googleapis.com/projects/000000000000/locations/global/workloadIdentityPools/wiharness/providers/kubernetes"

static pg P;
static char *role_arn, *entra_id, *google_sa, *stdout_log;
static int nrun;

static void setup(void)
{
    pg_up(&P, "wih-probe-");
    if (!P.kubectl) {
        pg_down(&P);
        wih_test_skip("kubectl is not installed (the test mints TokenRequest tokens with it)");
    }
    stdout_log = wih_path_join(P.tmp, "probe-stdout.log");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(stdout_log, "", 0, 0600, &e), 0);
    pg_team_a(&P, "probe-test", &role_arn, &entra_id, &google_sa);
    char *out = NULL;
    ck_assert_int_eq(pg_cli(&P, &out, NULL, "cloud", "role", "set", "team-b", "--trust",
                            "system:serviceaccount:probe-test:other", "--grant", "team-b-data=readwrite", NULL), 0);
    free(out);
}

static void teardown(void) { pg_down(&P); }

/* A token of SA in probe-test for AUD, in a 0600 file (playground's pg_token_file). */
static char *token_file(const char *sa, const char *aud, const char *name, char **token_out)
{
    return pg_token_file(&P, "probe-test", sa, aud, name, token_out);
}

/* `env -i <env…> wiharness probe --profile P --verdict-file F <args…>` → the verdict. */
static cJSON *run_probe(const char *profile, char **env, const char *const *args)
{
    char *vfile = wih_asprintf("%s/verdict-%d.json", P.tmp, ++nrun);
    char *argv[64];
    int n = 0;
    argv[n++] = "/usr/bin/env";
    argv[n++] = "-i";
    for (int i = 0; env[i]; i++) argv[n++] = env[i];
    argv[n++] = WIH_BINARY;
    argv[n++] = "probe";
    if (profile) {
        argv[n++] = "--profile";
        argv[n++] = (char *)profile;
    }
    argv[n++] = "--verdict-file";
    argv[n++] = vfile;
    for (int i = 0; args[i]; i++) argv[n++] = (char *)args[i];
    argv[n] = NULL;
    char *out = NULL, *err = NULL;
    int rc = pg_run(&P, argv, NULL, NULL, 120000, &out, &err);
    FILE *f = fopen(stdout_log, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "--- probe %s\n%s\n", profile ? profile : "(detect)", out);
    fclose(f);
    ck_assert_msg(rc == 0, "probe %s: exit %d; stderr: %.1500s", profile ? profile : "", rc, err);
    char *file = wih_read_file(vfile, 1 << 20, NULL, NULL);
    ck_assert_msg(file, "probe wrote no verdict file %s", vfile);
    ck_assert_uint_lt(strlen(file), 4096);
    out[strcspn(out, "\n")] = 0;
    ck_assert_msg(!strcmp(out, file), "stdout and the verdict file differ");
    printf("probe %s: %s\n", profile ? profile : "(detect)", file);
    cJSON *v = cJSON_Parse(file);
    ck_assert_msg(cJSON_IsObject(v), "the verdict is not JSON: %s", file);
    free(file);
    free(out);
    free(err);
    free(vfile);
    return v;
}

static const char *vstr(const cJSON *j, const char *path)
{
    /* "a.b" two levels at most */
    const char *dot = strchr(path, '.');
    if (dot) {
        char *head = wih_asprintf("%.*s", (int)(dot - path), path);
        const cJSON *o = cJSON_GetObjectItem(j, head);
        free(head);
        j = o;
        path = dot + 1;
    }
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(j, path));
    return s ? s : "(null)";
}

/* access[i] has result/reason/code/identity as expected (NULL = must be null). */
static void assert_access(const cJSON *v, int i, const char *result, const char *reason, const char *code,
                          const char *identity_part)
{
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "access"), i);
    ck_assert_msg(a, "no access[%d]", i);
    const char *url = vstr(a, "url"), *op = vstr(a, "op");
    ck_assert_msg(!strcmp(vstr(a, "result"), result), "%s %s: result %s, expected %s (code %s, error %s)", op, url,
                  vstr(a, "result"), result, vstr(a, "code"), vstr(a, "error"));
    ck_assert_msg(!strcmp(vstr(a, "reason"), reason ? reason : "(null)"), "%s %s: reason %s, expected %s", op, url,
                  vstr(a, "reason"), reason ? reason : "null");
    ck_assert_msg(!strcmp(vstr(a, "code"), code ? code : "(null)"), "%s %s: code %s, expected %s", op, url,
                  vstr(a, "code"), code ? code : "null");
    if (identity_part)
        ck_assert_msg(strstr(vstr(a, "identity"), identity_part), "%s %s: identity %s, expected %s", op, url,
                      vstr(a, "identity"), identity_part);
}

static char *kv(const char *k, const char *v) { return wih_asprintf("%s=%s", k, v ? v : ""); }

static const char *const k_team_ab[] = {"--access", "write:s3://team-a-data/probe/out.txt",
                                        "--access", "read:s3://team-a-data/probe/out.txt",
                                        "--access", "write:s3://team-b-data/probe/out.txt",
                                        "--access", "read:s3://team-b-data/probe/out.txt",
                                        NULL};

static void free_env(char **env)
{
    for (int i = 0; env[i]; i++) free(env[i]);
}

static void assert_team_a(const cJSON *v, const char *source, const char *identity)
{
    ck_assert_str_eq(vstr(v, "credential.source"), source);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "exchange"), "ok")), "exchange failed: %s",
                  vstr(v, "exchange.error"));
    ck_assert_msg(strstr(vstr(v, "exchange.identity"), identity), "exchange identity %s, expected %s",
                  vstr(v, "exchange.identity"), identity);
    ck_assert_str_eq(vstr(v, "token.sub"), "system:serviceaccount:probe-test:app");
    ck_assert_str_eq(vstr(v, "token.mode"), "0600");
    ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(v, "error")), "verdict error: %s", vstr(v, "error"));
    assert_access(v, 0, "allowed", NULL, NULL, identity);
    assert_access(v, 1, "allowed", NULL, NULL, identity);
    assert_access(v, 2, "denied", "bucket-refused", "AccessDenied", identity);
    assert_access(v, 3, "denied", "bucket-refused", "AccessDenied", identity);
}

/* What the runner's extra pool template points at: the chain's endpoints. */
static void aws_env(char **env, int *n, const char *token_path)
{
    env[(*n)++] = kv("AWS_ROLE_ARN", role_arn);
    env[(*n)++] = kv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path);
    env[(*n)++] = kv("AWS_ENDPOINT_URL_STS", pg_env(&P, "AWS_ENDPOINT_URL_STS"));
    env[(*n)++] = kv("AWS_ENDPOINT_URL_S3", pg_env(&P, "AWS_ENDPOINT_URL_S3"));
    env[(*n)++] = kv("AWS_REGION", "us-east-1");
    env[(*n)++] = kv("AWS_CA_BUNDLE", pg_env(&P, "WIH_CA_FILE"));
}

/* A pod object for SA app that no node runs (nodeName names no node), so a
 * token can be bound to it as the kubelet binds projected tokens. Returns its uid. */
static char *pod_for_binding(const char *name)
{
    char *manifest = wih_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
                                  "\"namespace\":\"probe-test\"},\"spec\":{\"serviceAccountName\":\"app\","
                                  "\"nodeName\":\"no-such-node\",\"containers\":[{\"name\":\"c\",\"image\":\"none\"}]}}",
                                  name);
    char *path = wih_path_join(P.tmp, "bound-pod.json");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(path, manifest, strlen(manifest), 0600, &e), 0);
    char *out = NULL;
    ck_assert_int_eq(pg_kubectl(&P, &out, "create", "-f", path, NULL), 0);
    free(out);
    ck_assert_int_eq(pg_kubectl(&P, &out, "get", "pod", name, "-n", "probe-test", "-o", "jsonpath={.metadata.uid}", NULL),
                     0);
    free(path);
    free(manifest);
    return out;
}

START_TEST(aws_irsa)
{
    /* bound to a pod, as the kubelet's projected token is */
    char *uid = pod_for_binding("probe-bound");
    char *tok = NULL;
    int rc = pg_kubectl(&P, &tok, "create", "token", "app", "-n", "probe-test", "--audience", "sts.amazonaws.com",
                        "--bound-object-kind", "Pod", "--bound-object-name", "probe-bound", "--bound-object-uid", uid,
                        NULL);
    ck_assert_msg(rc == 0, "kubectl create token --bound-object-kind Pod: exit %d", rc);
    tok[strcspn(tok, "\r\n")] = 0;
    pg_secret(&P, tok);
    char *tf = wih_path_join(P.tmp, "aws-token");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(tf, tok, strlen(tok), 0600, &e), 0);
    OPENSSL_cleanse(tok, strlen(tok));
    free(tok);
    free(uid);
    char *env[16];
    int n = 0;
    aws_env(env, &n, tf);
    env[n] = NULL;
    cJSON *v = run_probe("aws-irsa", env, k_team_ab);
    assert_team_a(v, "web-identity", "assumed-role/team-a/");
    ck_assert_str_eq(vstr(v, "token.pod"), "probe-bound");
    ck_assert_str_eq(vstr(v, "credential.detail"), "AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE");
    /* the mock STS answers GetCallerIdentity (SigV4 with the session credentials) */
    ck_assert_str_eq(vstr(v, "exchange.identity_from"), "GetCallerIdentity");
    const cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "exchange"), "steps");
    ck_assert_int_eq(cJSON_GetArraySize(steps), 2);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(steps, 1), "status")->valueint, 200);
    cJSON_Delete(v);
    free_env(env);
    free(tf);
}
END_TEST

static cJSON *azure_probe(const char *sa, const char *name)
{
    char *tf = token_file(sa, "api://AzureADTokenExchange", name, NULL);
    char *env[] = {kv("AZURE_CLIENT_ID", entra_id),
                   kv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001"),
                   kv("AZURE_FEDERATED_TOKEN_FILE", tf),
                   kv("AZURE_AUTHORITY_HOST", pg_env(&P, "AZURE_AUTHORITY_HOST")),
                   kv("REQUESTS_CA_BUNDLE", pg_env(&P, "WIH_CA_FILE")),
                   kv("WIH_S3_ENDPOINT", pg_env(&P, "AWS_ENDPOINT_URL_S3")),
                   NULL};
    cJSON *v = run_probe("azure-wi", env, k_team_ab);
    free_env(env);
    free(tf);
    return v;
}

/* aws-sdk-go-v2's chain: the same exchange; its default session name is the unix time in ns */
START_TEST(aws_irsa_go_sdk)
{
    char *tf = token_file("app", "sts.amazonaws.com", "aws-token-go", NULL);
    char *env[16];
    int n = 0;
    aws_env(env, &n, tf);
    env[n++] = kv("AWS_ACCESS_KEY_ID", "AKIAPARTIALONLY"); /* no secret: Go ignores it, boto3 would fail */
    env[n] = NULL;
    const char *args[] = {"--sdk", "go", "--access", "write:s3://team-a-data/probe/go.txt", NULL};
    cJSON *v = run_probe("aws-irsa", env, args);
    ck_assert_str_eq(vstr(v, "credential.source"), "web-identity");
    const char *id = vstr(v, "exchange.identity");
    const char *sess = strstr(id, "assumed-role/team-a/");
    ck_assert_msg(sess && strspn(sess + strlen("assumed-role/team-a/"), "0123456789") >= 18, "identity %s", id);
    assert_access(v, 0, "allowed", NULL, NULL, "assumed-role/team-a/");
    cJSON_Delete(v);
    free_env(env);
    free(tf);
}
END_TEST

START_TEST(azure_wi)
{
    cJSON *v = azure_probe("app", "azure-token");
    assert_team_a(v, "workload-identity", entra_id);
    ck_assert_str_eq(vstr(v, "exchange.identity_from"), "access token claim"); /* appid, as Entra app tokens */
    cJSON_Delete(v);
}
END_TEST

/* refused at the exchange: every access denied with the provider's code */
static void assert_refused(const cJSON *v, int status, const char *code)
{
    const cJSON *ex = cJSON_GetObjectItem(v, "exchange");
    ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(ex, "ok")), "the exchange succeeded");
    ck_assert_int_eq(cJSON_GetObjectItem(ex, "status")->valueint, status);
    for (int i = 0; i < 4; i++) assert_access(v, i, "denied", "exchange-refused", code, NULL);
}

START_TEST(azure_untrusted_sa)
{
    cJSON *v = azure_probe("other", "azure-token-other");
    ck_assert_str_eq(vstr(v, "credential.source"), "workload-identity");
    assert_refused(v, 400, "AADSTS70021");
    cJSON_Delete(v);
}
END_TEST


/* The credential file Fleet's pod spec mounts (an external_account) with the
 * given audience, and a token with the given audience. */
/* Run the probe for gcp-fleet with the credential file Fleet's pod spec mounts
 * (an external_account with file_aud) and SA's token with token_aud. */
static cJSON *gcp_probe(const char *sa, const char *file_aud, const char *token_aud, const char *name)
{
    char *tf = token_file(sa, token_aud, name, NULL);
    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "type", "external_account");
    cJSON_AddStringToObject(cfg, "audience", file_aud);
    cJSON_AddStringToObject(cfg, "subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    cJSON_AddStringToObject(cfg, "token_url", pg_env(&P, "WIH_GOOGLE_STS_URL"));
    char *imp = wih_asprintf("%s/v1/projects/-/serviceAccounts/%s:generateAccessToken", pg_env(&P, "WIH_GOOGLE_IAM_URL"),
                             google_sa);
    cJSON_AddStringToObject(cfg, "service_account_impersonation_url", imp);
    cJSON *src = cJSON_AddObjectToObject(cfg, "credential_source");
    cJSON_AddStringToObject(src, "file", tf);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(src, "format"), "type", "text");
    char *text = cJSON_Print(cfg);
    char *gname = wih_asprintf("%s.json", name);
    char *gac = wih_path_join(P.tmp, gname);
    free(gname);
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(gac, text, strlen(text), 0644, &e), 0);
    char *env[] = {kv("GOOGLE_APPLICATION_CREDENTIALS", gac), kv("REQUESTS_CA_BUNDLE", pg_env(&P, "WIH_CA_FILE")),
                   kv("WIH_S3_ENDPOINT", pg_env(&P, "AWS_ENDPOINT_URL_S3")), NULL};
    cJSON *v = run_probe("gcp-fleet", env, k_team_ab);
    free_env(env);
    free(text);
    free(gac);
    free(imp);
    cJSON_Delete(cfg);
    free(tf);
    return v;
}

static void gcp_case(const char *file_aud, const char *token_aud, const char *name)
{
    cJSON *v = gcp_probe("app", file_aud, token_aud, name);
    assert_team_a(v, "external-account", google_sa);
    ck_assert_str_eq(vstr(v, "exchange.identity_from"), "tokeninfo"); /* the mock's tokeninfo names the GSA */
    cJSON_Delete(v);
}

/* as Google documents Fleet: identitynamespace:<pool>:<provider>, token audience <pool> */
START_TEST(gcp_fleet)
{
    gcp_case(CLOUD_GOOGLE_FLEET_AUDIENCE, CLOUD_GOOGLE_FLEET_POOL, "gcp-token");
}
END_TEST

/* a workload identity pool provider (the generic GKE/other-cluster setup) */
START_TEST(gcp_pool_provider)
{
    gcp_case(WIF, "https:" WIF, "gcp-token-wif");
}
END_TEST

START_TEST(gcp_untrusted_sa)
{
    cJSON *v = gcp_probe("other", CLOUD_GOOGLE_FLEET_AUDIENCE, CLOUD_GOOGLE_FLEET_POOL, "gcp-token-other");
    assert_refused(v, 403, "PERMISSION_DENIED");
    cJSON_Delete(v);
}
END_TEST

/* team-b's session credentials, as if someone pasted them into a pod template
 * (the mock cloud knows the session, so GetCallerIdentity can name it). */
static void team_b_creds(s3_creds *out)
{
    char *tok = NULL;
    char *tf = token_file("other", "sts.amazonaws.com", "other-token", &tok);
    char *arn = wih_strdup(role_arn);
    char *slash = strrchr(arn, '/');
    strcpy(slash + 1, "team-b");
    probe_req *q = probe_req_aws_web_identity(pg_env(&P, "AWS_ENDPOINT_URL_STS"), arn, "left-in-template", tok, 0);
    long status = 0;
    wih_buf body;
    wih_err *e = NULL;
    ck_assert_msg(probe_send(q, pg_env(&P, "WIH_CA_FILE"), 30000, &status, &body, &e) == 0, "%s", wih_err_str(e));
    probe_answer a;
    ck_assert_msg(probe_parse_sts(status, body.data, body.len, &a) == 0, "team-b STS: HTTP %ld %s", status,
                  a.code ? a.code : "");
    *out = a.creds;
    memset(&a.creds, 0, sizeof a.creds);
    pg_secret(&P, out->secret_key);
    pg_secret(&P, out->session_token);
    probe_answer_clear(&a);
    OPENSSL_cleanse(body.data, body.len);
    wih_buf_free(&body);
    probe_req_free(q);
    OPENSSL_cleanse(tok, strlen(tok));
    free(tok);
    free(tf);
    free(arn);
}

START_TEST(static_key_wins)
{
    s3_creds b;
    team_b_creds(&b);
    char *tf = token_file("app", "sts.amazonaws.com", "aws-token-2", NULL);
    char *env[16];
    int n = 0;
    aws_env(env, &n, tf);
    env[n++] = kv("AWS_ACCESS_KEY_ID", b.access_key);
    env[n++] = kv("AWS_SECRET_ACCESS_KEY", b.secret_key);
    env[n++] = kv("AWS_SESSION_TOKEN", b.session_token);
    env[n] = NULL;
    cJSON *v = run_probe("aws-irsa", env, k_team_ab);
    ck_assert_str_eq(vstr(v, "credential.source"), "static-env");
    ck_assert_str_eq(vstr(v, "credential.detail"), "AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY + AWS_SESSION_TOKEN");
    char *fp = wih_fingerprint(b.secret_key);
    ck_assert_str_eq(vstr(v, "credential.fingerprint"), fp);
    ck_assert_str_eq(vstr(v, "env.AWS_SECRET_ACCESS_KEY"), fp);
    ck_assert_str_eq(vstr(v, "env.AWS_ROLE_ARN"), role_arn); /* the webhook's variables, beside the key that won */
    free(fp);
    /* the static key's owner answered, not team-a's role */
    /* GetCallerIdentity names the key's owner: team-b's session, not team-a's role */
    const char *id = vstr(v, "exchange.identity");
    ck_assert_msg(strstr(id, "assumed-role/team-b/left-in-template"), "static keys won; identity %s", id);
    ck_assert_str_eq(vstr(v, "exchange.identity_from"), "GetCallerIdentity");
    assert_access(v, 0, "denied", "bucket-refused", "AccessDenied", "assumed-role/team-b/");
    assert_access(v, 2, "allowed", NULL, NULL, "assumed-role/team-b/");
    assert_access(v, 3, "allowed", NULL, NULL, "assumed-role/team-b/");
    cJSON_Delete(v);
    free_env(env);
    s3_creds_clear(&b);
    free(tf);
}
END_TEST

START_TEST(untrusted_sa_exchange_refused)
{
    char *tf = token_file("other", "sts.amazonaws.com", "other-token-2", NULL);
    char *env[16];
    int n = 0;
    aws_env(env, &n, tf);
    env[n] = NULL;
    cJSON *v = run_probe("aws-irsa", env, k_team_ab);
    ck_assert_str_eq(vstr(v, "credential.source"), "web-identity");
    assert_refused(v, 403, "AccessDenied");
    cJSON_Delete(v);
    free_env(env);
    free(tf);
}
END_TEST

START_TEST(no_credentials)
{
    char *env[] = {kv("AWS_ENDPOINT_URL_S3", pg_env(&P, "AWS_ENDPOINT_URL_S3")), NULL};
    const char *args[] = {"--access", "write:s3://team-a-data/probe/none.txt", "--expect-env", "AWS_ROLE_ARN", NULL};
    cJSON *v = run_probe(NULL, env, args);
    ck_assert_str_eq(vstr(v, "credential.source"), "none");
    assert_access(v, 0, "denied", "no-credentials", NULL, NULL);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "env"), "AWS_ROLE_ARN")));
    cJSON_Delete(v);
    free_env(env);
}
END_TEST

START_TEST(no_secret_in_any_log)
{
    const char *extra[] = {stdout_log, NULL};
    size_t n = pg_scan_logs(&P, extra);
    ck_assert_uint_gt(n, 0);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1);
    pg_require_programs();
    Suite *s = suite_create("probe");
    TCase *tc = tcase_create("probe");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, aws_irsa);
    tcase_add_test(tc, aws_irsa_go_sdk);
    tcase_add_test(tc, azure_wi);
    tcase_add_test(tc, gcp_fleet);
    tcase_add_test(tc, gcp_pool_provider);
    tcase_add_test(tc, static_key_wins);
    tcase_add_test(tc, untrusted_sa_exchange_refused);
    tcase_add_test(tc, azure_untrusted_sa);
    tcase_add_test(tc, gcp_untrusted_sa);
    tcase_add_test(tc, no_credentials);
    tcase_add_test(tc, no_secret_in_any_log);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
