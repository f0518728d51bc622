/* The probe's --store real (what `run --identity real` sets) for each cloud,
 * against a loopback stand-in that plays the token endpoints and the store's
 * REST API (the shapes of fixtures/realstorage/, from the providers'
 * references): Azure (Entra token → Blob with the bearer), Google (STS →
 * tokeninfo → GCS JSON API with the bearer), AWS static keys (S3 SigV4,
 * path-style on a custom endpoint). Each: an allowed write, a denied read
 * with the provider's code as bucket-refused, and (Blob) an absent object
 * read as allowed — the verdict reads as in mock mode — no MinIO STS step, the
 * store saw the identity's credential, and no secret reaches the verdict. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/kube.h"
#include "wiharness/probe.h"

#define AZ_TOKEN "azure-access-token-for-the-test"
#define G_TOKEN "google-access-token-for-the-test"
#define AWS_SECRET "aws-secret-for-the-test"

typedef struct stand {
    struct MHD_Daemon *d;
    char *url;
    int bad_auth, requests;
} stand;

typedef struct route {
    const char *method, *prefix, *auth_prefix; /* auth_prefix NULL: any */
    int status;
    const char *body;
} route;

static const route k_routes[] = {
    {"POST", "/tenant-x/oauth2/v2.0/token", NULL, 200,
     "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"access_token\":\"" AZ_TOKEN "\"}"},
    {"PUT", "/team-a/out/x", "Bearer " AZ_TOKEN, 201, ""},
    {"GET", "/team-b/", "Bearer " AZ_TOKEN, 403,
     "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This "
     "request is not authorized to perform this operation using this permission.</Message></Error>"},
    {"GET", "/team-a/in/absent", "Bearer " AZ_TOKEN, 404,
     "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code><Message>The specified blob does "
     "not exist.</Message></Error>"},
    {"POST", "/v1/token", NULL, 200,
     "{\"access_token\":\"" G_TOKEN "\",\"issued_token_type\":\"urn:ietf:params:oauth:token-type:access_token\","
     "\"token_type\":\"Bearer\",\"expires_in\":3600}"},
    {"POST", "/tokeninfo", NULL, 200, "{\"email\":\"sa-a@p.iam.gserviceaccount.com\",\"expires_in\":\"3599\"}"},
    {"POST", "/upload/storage/v1/b/gcs-a/o", "Bearer " G_TOKEN, 200, "{\"name\":\"out/x\",\"bucket\":\"gcs-a\"}"},
    {"GET", "/storage/v1/b/gcs-b/", "Bearer " G_TOKEN, 403,
     "{\"error\":{\"code\":403,\"message\":\"denied\",\"errors\":[{\"reason\":\"forbidden\",\"message\":\"denied\"}]}}"},
    {"PUT", "/s3-a/out/x", "AWS4-HMAC-SHA256 Credential=AKIAREALSTORE/", 200, ""},
    {"GET", "/s3-b/", "AWS4-HMAC-SHA256 Credential=AKIAREALSTORE/", 403,
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
     "</Error>"},
};

static enum MHD_Result answer(struct MHD_Connection *c, int status, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *ver, const char *data, size_t *size, void **state)
{
    (void)ver;
    (void)data;
    stand *s = cls;
    if (!*state) { /* headers only: the body (if any) comes next */
        *state = s;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    s->requests++;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    for (size_t i = 0; i < sizeof k_routes / sizeof *k_routes; i++) {
        const route *r = &k_routes[i];
        if (strcmp(method, r->method) || strncmp(url, r->prefix, strlen(r->prefix))) continue;
        if (r->auth_prefix && (!auth || strncmp(auth, r->auth_prefix, strlen(r->auth_prefix)))) {
            s->bad_auth++;
            return answer(c, 401, "<Error><Code>NoAuth</Code></Error>");
        }
        return answer(c, r->status, r->body);
    }
    return answer(c, 404, "{\"error\":\"no such route\"}");
}

static void stand_up(stand *s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_req, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_END);
    ck_assert_ptr_nonnull(s->d);
    s->url = wih_asprintf("http://127.0.0.1:%d", MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port);
}

static void stand_down(stand *s)
{
    MHD_stop_daemon(s->d);
    free(s->url);
}

/* A file in the test's temp dir (removed by the test). */
static char *tmp_file(const char *dir, const char *name, const char *text)
{
    char *p = wih_path_join(dir, name);
    ck_assert(!wih_write_file(p, text, strlen(text), 0600, NULL));
    return p;
}

static char *tmp_dir(void)
{
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-probe-rs-", false, &e);
    ck_assert_msg(dir, "%s", e ? wih_err_str(e) : "");
    return dir;
}

static void rm_dir(char *dir)
{
    wih_rm_rf(dir);
    free(dir);
}

static void clean_env(void)
{
    clearenv();
    setenv("PATH", "/usr/bin:/bin", 1);
}

static cJSON *run_probe(const char *profile, const char *const *access, size_t n)
{
    probe_opts o = {.profile = profile, .access = access, .naccess = n, .store = "real", .timeout_ms = 5000,
                    .verdict_file = "/dev/null"};
    wih_err *e = NULL;
    cJSON *v = probe_run(&o, &e);
    ck_assert_msg(v, "%s", e ? wih_err_str(e) : "");
    return v;
}

/* access[i]: result, reason, code. */
static void expect(const cJSON *v, int i, const char *result, const char *reason, const char *code)
{
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "access"), i);
    char *s = cJSON_PrintUnformatted(v);
    ck_assert_msg(a, "no access[%d]: %s", i, s);
    const char *r = kube_obj_str(a, "result"), *re = kube_obj_str(a, "reason"), *c = kube_obj_str(a, "code");
    ck_assert_msg(r && !strcmp(r, result), "access[%d] result %s, want %s: %s", i, r, result, s);
    ck_assert_msg((!re && !reason) || (re && reason && !strcmp(re, reason)), "access[%d] reason %s: %s", i, re, s);
    ck_assert_msg((!c && !code) || (c && code && !strcmp(c, code)), "access[%d] code %s: %s", i, c, s);
    free(s);
}

static void no_secret_no_minio(cJSON *v, const char *secret)
{
    char *s = probe_verdict_print(v, 4096);
    ck_assert_msg(!strstr(s, secret), "the verdict holds a secret: %s", s);
    ck_assert_msg(!strstr(s, "MinIO"), "a MinIO step in a real-store verdict: %s", s);
    free(s);
}

START_TEST(azure_blob_with_the_entra_bearer)
{
    stand s = {0};
    stand_up(&s);
    clean_env();
    char *dir = tmp_dir();
    char *tok = tmp_file(dir, "token", "header.payload.sig");
    setenv("AZURE_CLIENT_ID", "3b2d1c0e-aaaa-4bbb-8ccc-1234567890ab", 1);
    setenv("AZURE_TENANT_ID", "tenant-x", 1);
    setenv("AZURE_FEDERATED_TOKEN_FILE", tok, 1);
    setenv("AZURE_AUTHORITY_HOST", s.url, 1);
    setenv("WIH_BLOB_ACCOUNT_URL", s.url, 1);
    const char *acc[] = {"write:s3://team-a/out/x", "read:s3://team-b/in/y", "read:s3://team-a/in/absent"};
    cJSON *v = run_probe("azure-wi", acc, 3);
    expect(v, 0, "allowed", NULL, NULL);
    expect(v, 1, "denied", "bucket-refused", "AuthorizationPermissionMismatch");
    expect(v, 2, "allowed", NULL, "BlobNotFound");
    ck_assert_str_eq(kube_obj_str(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "access"), 0), "identity"),
                     "3b2d1c0e-aaaa-4bbb-8ccc-1234567890ab");
    ck_assert_int_eq(s.bad_auth, 0);
    no_secret_no_minio(v, AZ_TOKEN);
    cJSON_Delete(v);
    free(tok);
    rm_dir(dir);
    stand_down(&s);
}
END_TEST

START_TEST(gcs_with_the_google_bearer)
{
    stand s = {0};
    stand_up(&s);
    clean_env();
    char *dir = tmp_dir();
    char *tok = tmp_file(dir, "token", "header.payload.sig");
    char *cred = wih_asprintf("{\"type\":\"external_account\",\"audience\":\"//iam.googleapis.com/projects/1/locations/"
                              "global/workloadIdentityPools/p/providers/q\",\"subject_token_type\":\"urn:ietf:params:"
                              "oauth:token-type:jwt\",\"token_url\":\"%s/v1/token\",\"credential_source\":{\"file\":"
                              "\"%s\"}}",
                              s.url, tok);
    char *cf = tmp_file(dir, "cred.json", cred);
    setenv("GOOGLE_APPLICATION_CREDENTIALS", cf, 1);
    setenv("WIH_GCS_ENDPOINT", s.url, 1);
    const char *acc[] = {"write:s3://gcs-a/out/x", "read:s3://gcs-b/in/y"};
    cJSON *v = run_probe("gcp-fleet", acc, 2);
    expect(v, 0, "allowed", NULL, NULL);
    expect(v, 1, "denied", "bucket-refused", "forbidden");
    ck_assert_str_eq(kube_obj_str(v, "exchange.identity"), "sa-a@p.iam.gserviceaccount.com");
    ck_assert_int_eq(s.bad_auth, 0);
    no_secret_no_minio(v, G_TOKEN);
    cJSON_Delete(v);
    free(cf);
    free(cred);
    free(tok);
    rm_dir(dir);
    stand_down(&s);
}
END_TEST

START_TEST(s3_sigv4_with_static_keys)
{
    stand s = {0};
    stand_up(&s);
    clean_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIAREALSTORE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET, 1);
    setenv("AWS_ENDPOINT_URL_S3", s.url, 1);
    const char *acc[] = {"write:s3://s3-a/out/x", "read:s3://s3-b/in/y"};
    cJSON *v = run_probe("aws-irsa", acc, 2);
    expect(v, 0, "allowed", NULL, NULL);
    expect(v, 1, "denied", "bucket-refused", "AccessDenied");
    ck_assert_int_eq(s.bad_auth, 0);
    ck_assert_int_eq(s.requests, 2); /* no STS endpoint: no GetCallerIdentity */
    no_secret_no_minio(v, AWS_SECRET);
    cJSON_Delete(v);
    stand_down(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("probe_realstore");
    TCase *tc = tcase_create("realstore");
    tcase_add_test(tc, azure_blob_with_the_entra_bearer);
    tcase_add_test(tc, gcs_with_the_google_bearer);
    tcase_add_test(tc, s3_sigv4_with_static_keys);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
