/* The whole chain with REAL Kubernetes tokens: the local control plane
 * (etcd + kube-apiserver), the cluster's issuer registered with the mock
 * cloud from its public discovery document, TokenRequest tokens → AWS STS,
 * Entra and Google → MinIO credentials → team-a-data works, team-b-data is
 * denied by MinIO; another ServiceAccount's token is refused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cloud.h"
#include "wiharness/cluster.h"

static char *tmp, *state_dir, *ca_file, *kca, *kcrt, *kkey, *server, *issuer;
static cloud *cl;
static minio *mn;

static long kube(const char *method, const char *path, const char *body, char **resp)
{
    char *url = wih_asprintf("%s%s", server, path);
    wih_err *e = NULL;
    long st = cluster_http(method, url, "application/json", body, kca, kcrt, kkey, resp, &e);
    ck_assert_msg(st > 0, "%s %s: %s", method, path, wih_err_str(e));
    free(url);
    return st;
}

static void setup(void)
{
    for (int t = 0; t < WIH_TOOL_KUBECTL; t++) {
        wih_tool_info ti;
        wih_tool_find((wih_tool)t, false, &ti);
        bool have = ti.path != NULL;
        const char *name = ti.name;
        wih_tool_info_free(&ti);
        if (!have) wih_test_skip("%s is not built (run ci/setup)", name);
    }
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-cloudk8s-", false, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    state_dir = wih_path_join(tmp, "chain");
    cluster_local_opts lo = {.state_dir = state_dir, .no_webhook = true, .no_cloud = true}; /* tokens only: the test runs its own cloud */
    bool reused = false;
    e = cluster_local_up(&lo, &reused);
    ck_assert_msg(!e, "%s", wih_err_str(e));
    cJSON *st = cluster_local_state(state_dir, &e);
    ck_assert_msg(st, "%s", wih_err_str(e));
    server = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(st, "server")));
    issuer = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(st, "issuer")));
    const char *pki = cJSON_GetStringValue(cJSON_GetObjectItem(st, "pki"));
    char *pki_dir = wih_strdup(pki);
    kca = wih_path_join(pki, "ca.crt");
    kcrt = wih_path_join(pki, "admin.crt");
    kkey = wih_path_join(pki, "admin.key");
    cJSON_Delete(st);

    /* the cloud serves with a certificate from the cluster's own CA (EC P-256),
     * as the local chain will wire it */
    e = cluster_pki_issue(pki_dir, "cloud", "wiharness-cloud", NULL, true, NULL);
    ck_assert_msg(!e, "%s", wih_err_str(e));
    ca_file = wih_strdup(kca);
    char *crt = wih_path_join(pki_dir, "cloud.crt"), *key = wih_path_join(pki_dir, "cloud.key");
    cloud_opts co = {.cert_file = crt, .key_file = key};
    cl = cloud_start(&co, &e);
    ck_assert_msg(cl, "%s", wih_err_str(e));
    char *cfg = wih_asprintf("%s/.well-known/openid-configuration", cloud_url(cl));
    char *data = wih_path_join(tmp, "minio-data");
    minio_opts mo = {.data_dir = data, .log_dir = tmp, .ca_file = ca_file, .openid_config_url = cfg,
                     .openid_client_id = cloud_minio_client_id(cl)};
    mn = minio_start(&mo, &e);
    ck_assert_msg(mn, "%s", wih_err_str(e));
    cloud_set_minio(cl, minio_endpoint(mn), minio_root_user(mn), minio_root_password(mn));
    free(cfg);
    free(data);
    free(crt);
    free(key);
    free(pki_dir);

    /* register the cluster's issuer from its public discovery document */
    ck_assert_msg(cloud_provider_discover(cl, issuer, kca, &e) == 0, "%s", wih_err_str(e));
    ck_assert_msg(cloud_bucket_create(cl, "team-a-data", &e) == 0, "%s", wih_err_str(e));
    ck_assert_msg(cloud_bucket_create(cl, "team-b-data", &e) == 0, "%s", wih_err_str(e));
    char *ra = wih_asprintf("{\"trust\":{\"issuer\":\"%s\",\"subjects\":[\"system:serviceaccount:team-a:worker\"]},"
                            "\"grants\":{\"team-a-data\":\"readwrite\"}}",
                            issuer);
    cJSON *r = cJSON_Parse(ra);
    ck_assert_msg(cloud_role_set(cl, "team-a", r, &e) == 0, "%s", wih_err_str(e));
    cJSON_Delete(r);
    free(ra);

    char *resp = NULL;
    long s = kube("POST", "/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-a\"}}",
                  &resp);
    ck_assert_msg(s == 201 || s == 409, "namespace: %ld %s", s, resp);
    free(resp);
    const char *sas[] = {"worker", "intruder"};
    for (int i = 0; i < 2; i++) {
        char *b = wih_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":{\"name\":\"%s\"}}", sas[i]);
        s = kube("POST", "/api/v1/namespaces/team-a/serviceaccounts", b, &resp);
        ck_assert_msg(s == 201 || s == 409, "sa: %ld %s", s, resp);
        free(resp);
        free(b);
    }
}

static void teardown(void)
{
    minio_stop(mn);
    cloud_stop(cl);
    cluster_local_opts lo = {.state_dir = state_dir};
    wih_err *e = cluster_local_down(&lo, false);
    if (e) {
        fprintf(stderr, "down: %s\n", wih_err_str(e));
        wih_err_free(e);
    }
    wih_cleanup_run_all();
}

/* A TokenRequest token for team-a/<sa> with the given audiences (JSON list). */
static char *token_for(const char *sa, const char *audiences)
{
    char *path = wih_asprintf("/api/v1/namespaces/team-a/serviceaccounts/%s/token", sa);
    char *body = wih_asprintf("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenRequest\","
                              "\"spec\":{\"audiences\":%s,\"expirationSeconds\":600}}",
                              audiences);
    char *resp = NULL;
    long st = kube("POST", path, body, &resp);
    ck_assert_msg(st == 201, "TokenRequest: %ld", st);
    cJSON *j = cJSON_Parse(resp);
    char *t = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "status"), "token")));
    ck_assert_ptr_nonnull(t);
    cJSON_Delete(j);
    free(resp);
    free(body);
    free(path);
    return t;
}

static long post(const char *path, const char *form, char **resp)
{
    char *url = wih_asprintf("%s%s", cloud_url(cl), path);
    wih_err *e = NULL;
    long st = cluster_http("POST", url, "application/x-www-form-urlencoded", form, ca_file, NULL, NULL, resp, &e);
    ck_assert_msg(st > 0, "%s", wih_err_str(e));
    free(url);
    return st;
}

static char *enc(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) wih_buf_addf(&b, "%%%02X", *p);
    return wih_buf_take(&b);
}

static void buckets(const s3_creds *cr, const char *who)
{
    s3_client *s = s3_client_new(minio_endpoint(mn), cr, NULL);
    wih_err *e = NULL;
    ck_assert_msg(s3_put_object(s, "team-a-data", who, "x", 1, &e) == 0, "%s: %s", who, wih_err_str(e));
    size_t n;
    char *got = s3_get_object(s, "team-a-data", who, &n, &e);
    ck_assert_msg(got && n == 1, "%s: %s", who, wih_err_str(e));
    free(got);
    ck_assert_int_eq(s3_put_object(s, "team-b-data", who, "x", 1, &e), -1);
    char *code = s3_err_code(e);
    ck_assert_msg(code && !strcmp(code, "AccessDenied"), "%s: %s", who, wih_err_str(e));
    free(code);
    wih_err_free(e);
    s3_client_free(s);
}

START_TEST(aws_with_a_real_token)
{
    char *tok = token_for("worker", "[\"sts.amazonaws.com\"]");
    char *arn = cloud_aws_role_arn("team-a"), *a = enc(arn), *t = enc(tok);
    char *form = wih_asprintf("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName=k8s"
                              "&WebIdentityToken=%s&DurationSeconds=900",
                              a, t);
    char *resp = NULL;
    long st = post("/", form, &resp);
    ck_assert_msg(st == 200, "HTTP %ld", st);
    s3_creds cr;
    ck_assert(s3_parse_sts_xml(resp, strlen(resp), &cr));
    buckets(&cr, "aws-k8s");
    s3_creds_clear(&cr);
    free(resp);
    free(form);
    free(t);
    free(tok);
    /* another ServiceAccount of the same namespace is not trusted */
    tok = token_for("intruder", "[\"sts.amazonaws.com\"]");
    t = enc(tok);
    form = wih_asprintf("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName=k8s"
                        "&WebIdentityToken=%s",
                        a, t);
    st = post("/", form, &resp);
    char *code = NULL, *msg = NULL;
    ck_assert_msg(st == 403 && s3_parse_error_xml(resp, strlen(resp), &code, &msg) && !strcmp(code, "AccessDenied") &&
                      !strstr(resp, "<Credentials>"),
                  "HTTP %ld", st);
    free(code);
    free(msg);
    free(resp);
    free(form);
    free(t);
    free(tok);
    free(a);
    free(arn);
}
END_TEST

START_TEST(entra_with_a_real_token)
{
    char *tok = token_for("worker", "[\"api://AzureADTokenExchange\"]");
    char *cid = cloud_entra_client_id("team-a"), *t = enc(tok);
    char *form = wih_asprintf("client_id=%s&grant_type=client_credentials&scope=https%%3A%%2F%%2Fstorage.azure.com%%2F"
                              ".default&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3A"
                              "jwt-bearer&client_assertion=%s",
                              cid, t);
    char *resp = NULL;
    long st = post("/tenant-1/oauth2/v2.0/token", form, &resp);
    ck_assert_msg(st == 200, "HTTP %ld", st);
    cJSON *j = cJSON_Parse(resp);
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(j, "access_token"));
    ck_assert_ptr_nonnull(at);
    s3_creds cr;
    wih_err *e = NULL;
    ck_assert_msg(s3_sts_web_identity(minio_endpoint(mn), NULL, at, 900, &cr, &e) == 0, "%s", wih_err_str(e));
    buckets(&cr, "azure-k8s");
    s3_creds_clear(&cr);
    cJSON_Delete(j);
    free(resp);
    free(form);
    free(t);
    free(cid);
    free(tok);
}
END_TEST

START_TEST(google_sts_with_a_real_token)
{
    /* the STS leg with a real token; generateAccessToken is covered in test_cloud */
    char *tok = token_for("worker", "[\"https:" CLOUD_GOOGLE_WIF_AUDIENCE "\"]");
    char *t = enc(tok), *aud = enc(CLOUD_GOOGLE_WIF_AUDIENCE);
    char *form = wih_asprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Atoken-exchange&audience=%s"
                              "&subject_token_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type%%3Ajwt&subject_token=%s",
                              aud, t);
    char *resp = NULL;
    long st = post("/v1/token", form, &resp);
    ck_assert_msg(st == 200 && strstr(resp, "\"access_token\""), "HTTP %ld", st);
    free(resp);
    free(form);
    free(aud);
    free(t);
    free(tok);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("cloud-k8s");
    TCase *tc = tcase_create("chain");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, aws_with_a_real_token);
    tcase_add_test(tc, entra_with_a_real_token);
    tcase_add_test(tc, google_sts_with_a_real_token);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
