/* Real cloud SDKs against the local chain's mock cloud (Python, test-only:
 * the venv ci/setup makes at ${XDG_CACHE_HOME:-~/.cache}/wiharness/venv, or
 * $WIH_SDK_PYTHON). `wiharness up` → buckets + role team-a (trusts
 * system:serviceaccount:wi-test:app, team-a-data=readwrite) through the CLI →
 * namespace + ServiceAccounts with kubectl → TokenRequest tokens per provider
 * audience written to 0600 files → each script of tests/sdk/ runs with the
 * env of `wiharness env` (+ what a pod's webhook would inject) and prints one
 * JSON verdict, which this test asserts on:
 *   aws_boto3.py       boto3's default chain (web identity env) → STS → S3;
 *   azure_identity.py  WorkloadIdentityCredential → Entra token → MinIO STS → S3;
 *   google_auth.py     external_account → Google STS → generateAccessToken → MinIO STS → S3.
 * A provider whose SDK is not installed is skipped saying why (exit 77 only
 * when none is); google-auth refusing a local endpoint would be reported, and
 * skipped, with its exact message. Last: every log, every script's output,
 * scanned for every secret the SDKs were issued. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "playground.h"
#include "testutil.h"
#include "wiharness/cloud.h"

static pg P;
static char *python;                    /* the venv's python */
static bool have_mod[3];                /* boto3, azure.identity, google.auth importable */
static const char *const k_mod[3] = {"boto3", "azure.identity", "google.auth"};
static char *role_arn, *entra_id, *google_sa, *stdout_log, *secrets_file;
static int skipped;

static char *venv_python(void)
{
    const char *w = getenv("WIH_SDK_PYTHON");
    if (w && *w) return wih_strdup(w);
    char *cache = wih_cache_dir_default("venv");
    char *p = wih_path_join(cache, "bin/python");
    free(cache);
    return p;
}

/* A token of SA in wi-test for AUD, in a 0600 file (playground's pg_token_file). */
static char *token_file(const char *sa, const char *aud, const char *name)
{
    return pg_token_file(&P, "wi-test", sa, aud, name, NULL);
}

static void setup(void)
{
    pg_up(&P, "wih-sdk-");
    stdout_log = wih_path_join(P.tmp, "sdk-stdout.log");
    secrets_file = wih_path_join(P.tmp, "sdk-secrets");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(stdout_log, "", 0, 0600, &e), 0);
    pg_team_a(&P, "wi-test", &role_arn, &entra_id, &google_sa);
}

static void teardown(void) { pg_down(&P); }

/* Run tests/sdk/<script> with the chain's env + add; returns its verdict. */
static cJSON *run_script(const char *script, char **add)
{
    char *path = wih_asprintf("%s/tests/sdk/%s", WIH_SOURCE_DIR, script);
    char *argv[] = {python, "-I" /* isolated: no user site, no PYTHON* env */, "-B", path, NULL};
    /* -I ignores PYTHONPATH; the script puts its own directory on sys.path */
    char *env[40];
    int n = 0;
    char *owned[40];
    int no = 0;
#define ADD(s) (env[n++] = owned[no++] = (s))
    ADD(wih_asprintf("WIH_SECRETS_FILE=%s", secrets_file));
    ADD(wih_strdup("WIH_BUCKET_OK=team-a-data"));
    ADD(wih_strdup("WIH_BUCKET_DENIED=team-b-data"));
    ADD(wih_strdup("NO_PROXY=127.0.0.1,localhost"));
    ADD(wih_strdup("no_proxy=127.0.0.1,localhost"));
    ADD(wih_strdup("PYTHONDONTWRITEBYTECODE=1"));
    /* a safety net: anything an SDK would send off loopback goes to a closed
     * local port instead of the network (NO_PROXY keeps the chain direct) */
    ADD(wih_strdup("HTTPS_PROXY=http://127.0.0.1:9"));
    ADD(wih_strdup("https_proxy=http://127.0.0.1:9"));
    ADD(wih_strdup("HTTP_PROXY=http://127.0.0.1:9"));
    ADD(wih_strdup("http_proxy=http://127.0.0.1:9"));
    /* the SDKs must find nothing but what we give them: no static keys, no
     * profile files, never the instance metadata service */
    ADD(wih_strdup("AWS_ACCESS_KEY_ID="));
    ADD(wih_strdup("AWS_SECRET_ACCESS_KEY="));
    ADD(wih_strdup("AWS_SESSION_TOKEN="));
    ADD(wih_asprintf("AWS_CONFIG_FILE=%s/no-aws-config", P.tmp));
    ADD(wih_asprintf("AWS_SHARED_CREDENTIALS_FILE=%s/no-aws-credentials", P.tmp));
    ADD(wih_strdup("AWS_EC2_METADATA_DISABLED=true"));
    ADD(wih_strdup("AZURE_CLIENT_SECRET="));
    ADD(wih_strdup("AZURE_CLIENT_CERTIFICATE_PATH="));
#undef ADD
    for (int i = 0; add[i]; i++) env[n++] = add[i];
    env[n] = NULL;
    char *out = NULL, *err = NULL;
    int rc = pg_run(&P, argv, env, NULL, 180000, &out, &err);
    for (int i = 0; i < no; i++) free(owned[i]);
    FILE *f = fopen(stdout_log, "a");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "--- %s\n%s\n", script, out);
    fclose(f);
    /* the verdict is the last non-empty stdout line */
    char *last = NULL;
    for (char *ln = strtok(out, "\n"); ln; ln = strtok(NULL, "\n"))
        if (*ln) last = ln;
    cJSON *v = last ? cJSON_Parse(last) : NULL;
    ck_assert_msg(rc == 0 && cJSON_IsObject(v), "%s: exit %d, no verdict line; stderr: %.1500s", script, rc, err);
    printf("%s: %s\n", script, last);
    /* the secrets the SDK was issued, for the log scan */
    char *sec = wih_read_file(secrets_file, 1 << 20, NULL, NULL);
    if (sec) {
        for (char *ln = strtok(sec, "\n"); ln; ln = strtok(NULL, "\n")) pg_secret(&P, ln);
        OPENSSL_cleanse(sec, strlen(sec));
        free(sec);
    }
    free(out);
    free(err);
    free(path);
    return v;
}

static const char *vs(const cJSON *v, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(v, k));
    return s ? s : "(missing)";
}

/* "ok" → go on; "unavailable"/"rejected" → print the skip and return false; else fail. */
static bool usable(const cJSON *v, const char *what)
{
    const char *st = vs(v, "status");
    if (!strcmp(st, "ok")) return true;
    if (!strcmp(st, "unavailable") || !strcmp(st, "rejected")) {
        printf("SKIPPED: %s: %s\n", what, vs(v, "reason"));
        skipped++;
        return false;
    }
    ck_abort_msg("%s: %s: %s (at %s)", what, st, vs(v, "error"), vs(v, "where"));
    return false;
}

static void assert_buckets(const cJSON *v, const char *what)
{
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(v, "put_ok")), "%s: PUT in team-a-data failed", what);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(v, "get_ok")), "%s: GET from team-a-data returned other bytes",
                  what);
    ck_assert_msg(!strcmp(vs(v, "denied_put"), "AccessDenied"), "%s: PUT in team-b-data: %s", what,
                  vs(v, "denied_put"));
    ck_assert_msg(!strcmp(vs(v, "denied_get"), "AccessDenied"), "%s: GET from team-b-data: %s", what,
                  vs(v, "denied_get"));
}

static void skip_unimportable(int i, const char *what)
{
    printf("SKIPPED: %s: %s is not importable by %s (ci/setup installs it; see its output for why it could not)\n",
           what, k_mod[i], python);
    skipped++;
}

/* Each SDK that ran really went through the mock cloud: its decision log has
 * an allow for that provider's action on role team-a, and a deny for the
 * untrusted ServiceAccount. */
static void assert_decided(const char *provider, const char *action, const char *role)
{
    const char *dlog =
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(P.state, "cloud"), "decision_log"));
    wih_err *e = NULL;
    char *dl = wih_read_file(dlog, 64 << 20, NULL, &e);
    ck_assert_msg(dl, "%s", wih_err_str(e));
    bool allow = false, deny = false;
    for (char *ln = strtok(dl, "\n"); ln; ln = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(ln);
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(j, "provider"));
        const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(j, "action"));
        const char *r = cJSON_GetStringValue(cJSON_GetObjectItem(j, "result"));
        const char *ro = cJSON_GetStringValue(cJSON_GetObjectItem(j, "role"));
        if (p && a && r && ro && !strcmp(p, provider) && !strcmp(a, action) && !strcmp(ro, role)) {
            if (!strcmp(r, "allow")) allow = true;
            const char *sub = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "actual"), "sub"));
            if (!strcmp(r, "deny") && sub && !strcmp(sub, "system:serviceaccount:wi-test:other")) deny = true;
        }
        cJSON_Delete(j);
    }
    free(dl);
    ck_assert_msg(allow, "no allow for %s %s (role %s) in the decision log", provider, action, role);
    ck_assert_msg(deny, "no deny of wi-test:other for %s %s in the decision log", provider, action);
}

START_TEST(aws_boto3_default_chain)
{
    if (!have_mod[0]) {
        skip_unimportable(0, "boto3");
        return;
    }
    char *tf = token_file("app", "sts.amazonaws.com", "aws-token");
    char *bad = token_file("other", "sts.amazonaws.com", "aws-token-other");
    char *add[] = {wih_asprintf("AWS_ROLE_ARN=%s", role_arn), wih_asprintf("AWS_WEB_IDENTITY_TOKEN_FILE=%s", tf),
                   wih_strdup("AWS_ROLE_SESSION_NAME=wiharness-sdk-test"),
                   wih_asprintf("WIH_UNTRUSTED_TOKEN_FILE=%s", bad), NULL};
    cJSON *v = run_script("aws_boto3.py", add);
    if (usable(v, "boto3")) {
        ck_assert_msg(!strcmp(vs(v, "credential_method"), "assume-role-with-web-identity"),
                      "boto3's chain answered with '%s', not the web identity provider", vs(v, "credential_method"));
        assert_buckets(v, "boto3");
        ck_assert_msg(!strcmp(vs(v, "untrusted_sa"), "AccessDenied"), "boto3, untrusted SA: %s", vs(v, "untrusted_sa"));
        ck_assert_msg(strcmp(vs(v, "expiration"), "(missing)"), "boto3 saw no expiration");
        assert_decided("aws", "AssumeRoleWithWebIdentity", "team-a");
        /* boto3's get_caller_identity(): botocore signs it, the mock checks the signature */
        ck_assert_msg(!strcmp(vs(v, "caller_arn"), "arn:aws:sts::000000000000:assumed-role/team-a/wiharness-sdk-test"),
                      "boto3 get_caller_identity: %s", vs(v, "caller_arn"));
    }
    cJSON_Delete(v);
    for (int i = 0; add[i]; i++) free(add[i]);
    free(tf);
    free(bad);
}
END_TEST

START_TEST(azure_workload_identity_credential)
{
    if (!have_mod[1]) {
        skip_unimportable(1, "azure-identity");
        return;
    }
    char *tf = token_file("app", CLOUD_ENTRA_AUDIENCE, "azure-token");
    char *bad = token_file("other", CLOUD_ENTRA_AUDIENCE, "azure-token-other");
    char *add[] = {wih_strdup("AZURE_TENANT_ID=72f988bf-0000-4000-8000-00000000c0de"),
                   wih_asprintf("AZURE_CLIENT_ID=%s", entra_id), wih_asprintf("AZURE_FEDERATED_TOKEN_FILE=%s", tf),
                   wih_asprintf("WIH_UNTRUSTED_TOKEN_FILE=%s", bad), NULL};
    cJSON *v = run_script("azure_identity.py", add);
    if (usable(v, "azure-identity")) {
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(v, "token_issued")), "azure-identity: no JWT access token");
        if (cJSON_GetObjectItem(v, "buckets"))
            printf("SKIPPED: azure-identity bucket access: %s\n", vs(v, "buckets"));
        else
            assert_buckets(v, "azure-identity");
        ck_assert_msg(!strcmp(vs(v, "wrong_client_id"), "AADSTS700016"), "azure-identity, unknown client id: %s",
                      vs(v, "wrong_client_id"));
        ck_assert_msg(!strcmp(vs(v, "untrusted_sa"), "AADSTS70021"), "azure-identity, untrusted SA: %s",
                      vs(v, "untrusted_sa"));
        assert_decided("azure", "token", "team-a");
    }
    cJSON_Delete(v);
    for (int i = 0; add[i]; i++) free(add[i]);
    free(tf);
    free(bad);
}
END_TEST

START_TEST(google_external_account)
{
    if (!have_mod[2]) {
        skip_unimportable(2, "google-auth");
        return;
    }
    /* Google accepts the provider's resource name with an https: prefix as the
     * token audience (docs/cloud.md); that is what the mock checks. */
    char *tf = token_file("app", "https:" CLOUD_GOOGLE_WIF_AUDIENCE, "google-token");
    char *bad = token_file("other", "https:" CLOUD_GOOGLE_WIF_AUDIENCE, "google-token-other");
    char *add[] = {wih_asprintf("WIH_GOOGLE_TOKEN_FILE=%s", tf), wih_asprintf("WIH_GOOGLE_SA=%s", google_sa),
                   wih_asprintf("WIH_UNTRUSTED_TOKEN_FILE=%s", bad), NULL};
    cJSON *v = run_script("google_auth.py", add);
    if (usable(v, "google-auth external_account")) {
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(v, "token_issued")), "google-auth: no access token");
        if (cJSON_GetObjectItem(v, "buckets"))
            printf("SKIPPED: google-auth bucket access: %s\n", vs(v, "buckets"));
        else
            assert_buckets(v, "google-auth");
        ck_assert_msg(!strcmp(vs(v, "unknown_sa"), "NOT_FOUND"), "google-auth, unknown SA: %s", vs(v, "unknown_sa"));
        ck_assert_msg(!strcmp(vs(v, "untrusted_sa"), "PERMISSION_DENIED"), "google-auth, untrusted SA: %s",
                      vs(v, "untrusted_sa"));
        assert_decided("google", "generateAccessToken", "team-a");
        ck_assert_msg(!strcmp(vs(v, "tokeninfo_email"), google_sa), "tokeninfo: %s", vs(v, "tokeninfo_email"));
    }
    cJSON_Delete(v);
    for (int i = 0; add[i]; i++) free(add[i]);
    free(tf);
    free(bad);
}
END_TEST

/* GKE Fleet as Google documents it: token audience <PROJECT>.svc.id.goog,
 * credential config audience identitynamespace:<pool>:<provider> (what `up`
 * writes into the gcp-fleet ConfigMaps). */
START_TEST(google_fleet_audience)
{
    if (!have_mod[2]) {
        skip_unimportable(2, "google-auth");
        return;
    }
    char *tf = token_file("app", CLOUD_GOOGLE_FLEET_POOL, "google-fleet-token");
    char *bad = token_file("other", CLOUD_GOOGLE_FLEET_POOL, "google-fleet-token-other");
    char *add[] = {wih_asprintf("WIH_GOOGLE_TOKEN_FILE=%s", tf), wih_asprintf("WIH_GOOGLE_SA=%s", google_sa),
                   wih_asprintf("WIH_UNTRUSTED_TOKEN_FILE=%s", bad),
                   wih_strdup("WIH_GOOGLE_AUDIENCE=" CLOUD_GOOGLE_FLEET_AUDIENCE), NULL};
    cJSON *v = run_script("google_auth.py", add);
    if (usable(v, "google-auth external_account (Fleet audience)")) {
        ck_assert_str_eq(vs(v, "audience"), "fleet");
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(v, "token_issued")), "google-auth (Fleet): no access token");
        if (!cJSON_GetObjectItem(v, "buckets")) assert_buckets(v, "google-auth (Fleet)");
        ck_assert_msg(!strcmp(vs(v, "tokeninfo_email"), google_sa), "tokeninfo: %s", vs(v, "tokeninfo_email"));
        ck_assert_msg(!strcmp(vs(v, "untrusted_sa"), "PERMISSION_DENIED"), "google-auth (Fleet), untrusted SA: %s",
                      vs(v, "untrusted_sa"));
    }
    cJSON_Delete(v);
    for (int i = 0; add[i]; i++) free(add[i]);
    free(tf);
    free(bad);
}
END_TEST

/* Must run last: the chain's logs, the decision log, every command's stderr
 * and every script's stdout, for every token/key/secret the run saw. */
START_TEST(no_secret_in_any_log)
{
    const char *extra[] = {stdout_log, NULL};
    size_t bytes = pg_scan_logs(&P, extra);
    ck_assert_uint_gt(bytes, 1000);
    printf("scanned %zu bytes of logs and SDK output for %zu secrets: no hit\n", bytes, P.nsecrets);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1);
    pg_require_programs();
    python = venv_python();
    if (access(python, X_OK) != 0)
        wih_test_skip("no SDK venv python at %s (ci/setup creates it; set WIH_SDK_PYTHON to use another)", python);
    int navail = 0;
    for (int i = 0; i < 3; i++) {
        char *code = wih_asprintf("import %s", k_mod[i]);
        char *argv[] = {python, "-I", "-c", code, NULL};
        char *o = NULL, *er = NULL;
        wih_err *e = NULL;
        have_mod[i] = wih_run_capture(argv, NULL, NULL, 60000, &o, &er, &e) == 0;
        navail += have_mod[i];
        free(o);
        free(er);
        wih_err_free(e);
        free(code);
    }
    if (!navail) wih_test_skip("none of boto3, azure-identity, google-auth is importable by %s (run ci/setup)", python);
    Suite *s = suite_create("sdk");
    TCase *tc = tcase_create("sdk");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, aws_boto3_default_chain);
    tcase_add_test(tc, azure_workload_identity_credential);
    tcase_add_test(tc, google_external_account);
    tcase_add_test(tc, google_fleet_audience);
    tcase_add_test(tc, no_secret_in_any_log);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    free(python);
    return rc;
}
