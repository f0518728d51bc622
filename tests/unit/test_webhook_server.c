/* The HTTPS server over real TLS: a self-signed certificate generated at test
 * time with the OpenSSL 3 API, libcurl as the client verifying it. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/webhook.h"

static char *g_cert, *g_key;
static webhook_server *g_srv;
static webhook_handler g_h;
static int g_cm_calls;

#define SA_ALL                                                                                                       \
    "{\"metadata\":{\"name\":\"default\",\"annotations\":{"                                                          \
    "\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::1:role/r\","                                                       \
    "\"azure.workload.identity/client-id\":\"cid\","                                                                \
    "\"iam.gke.io/gcp-service-account\":\"g@p.iam.gserviceaccount.com\"}}}"

static int lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    (void)ctx;
    (void)ns;
    (void)msg;
    if (strcmp(name, "default")) return 0;
    *sa = cJSON_Parse(SA_ALL);
    return 1;
}

static void on_cm(void *ctx, const cJSON *cms)
{
    (void)ctx;
    if (cJSON_GetArraySize(cms) == 1) __atomic_add_fetch(&g_cm_calls, 1, __ATOMIC_SEQ_CST);
}

static void setup(void)
{
    wih_err *e = NULL;
    ck_assert_msg(webhook_selfsigned(&g_cert, &g_key, &e) == 0, "%s", e ? wih_err_str(e) : "?");
    memset(&g_h, 0, sizeof g_h);
    webhook_opts_defaults(&g_h.opts);
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) g_h.enabled[p] = true;
    g_h.sa_lookup = lookup;
    webhook_server_cfg cfg = {.cert_pem = g_cert, .key_pem = g_key, .port = 0, .handler = &g_h,
                              .on_configmaps = on_cm};
    g_srv = webhook_server_start(&cfg, &e);
    /* the server is the code under test: not starting is a failure, not a skip */
    ck_assert_msg(g_srv != NULL, "webhook_server_start failed: %s", e ? wih_err_str(e) : "?");
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
    webhook_server_stop(g_srv);
    webhook_opts_free(&g_h.opts);
    free(g_cert);
    free(g_key);
    curl_global_cleanup();
}

static size_t sink(char *p, size_t sz, size_t n, void *ud)
{
    wih_buf_add(ud, p, sz * n);
    return sz * n;
}

/* Returns the HTTP status, or -curl_code on a transport error. */
static long call(const char *method, const char *path, const char *ctype, const char *body, bool trust, char **out)
{
    CURL *c = curl_easy_init();
    char *url = wih_asprintf("https://127.0.0.1:%d%s", webhook_server_port(g_srv), path);
    wih_buf b;
    wih_buf_init(&b, 1 << 24);
    wih_buf_adds(&b, "");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L); /* a safety net: TLS under valgrind on a busy host is slow */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    struct curl_blob blob = {.data = g_cert, .len = strlen(g_cert), .flags = CURL_BLOB_COPY};
    if (trust) curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    else curl_easy_setopt(c, CURLOPT_CAINFO, "/dev/null");
    struct curl_slist *hd = NULL;
    if (ctype) {
        char *h = wih_asprintf("Content-Type: %s", ctype);
        hd = curl_slist_append(hd, h);
        free(h);
    }
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(c);
    long code = -(long)rc;
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(hd);
    curl_easy_cleanup(c);
    free(url);
    if (out)
        *out = wih_buf_take(&b);
    wih_buf_free(&b);
    return code;
}

static const char *k_review =
    "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"tls-1\","
    "\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},\"operation\":\"CREATE\",\"namespace\":\"ns\","
    "\"object\":{\"metadata\":{\"name\":\"p\",\"labels\":{\"azure.workload.identity/use\":\"true\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}";

START_TEST(tls_endpoints)
{
    char *out = NULL;
    ck_assert_int_eq(call("GET", "/healthz", NULL, NULL, true, &out), 200);
    ck_assert_str_eq(out, "ok\n");
    free(out);

    ck_assert_int_eq(call("POST", "/mutate", "application/json", k_review, true, &out), 200);
    cJSON *r = cJSON_Parse(out);
    ck_assert_msg(r, "%s", out);
    const cJSON *rr = cJSON_GetObjectItem(r, "response");
    ck_assert_str_eq(cJSON_GetObjectItem(rr, "uid")->valuestring, "tls-1");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rr, "allowed")));
    ck_assert_str_eq(cJSON_GetObjectItem(rr, "patchType")->valuestring, "JSONPatch");
    cJSON_Delete(r);
    free(out);

    /* a per-profile endpoint, as registered by webhook_mwc_json */
    ck_assert_int_eq(call("POST", "/mutate/azure-wi", "application/json", k_review, true, &out), 200);
    ck_assert_msg(strstr(out, "\"allowed\":true") && strstr(out, "JSONPatch"), "%s", out);
    free(out);
    ck_assert_int_eq(call("POST", "/mutate/nope", "application/json", k_review, true, &out), 404);
    free(out);

    ck_assert_int_eq(call("POST", "/mutate", "text/plain", k_review, true, &out), 400);
    free(out);
    ck_assert_int_eq(call("POST", "/mutate", "application/json", "{not json", true, &out), 200);
    ck_assert_msg(strstr(out, "\"allowed\":false") && strstr(out, "malformed"), "%s", out);
    free(out);
    ck_assert_int_eq(call("GET", "/mutate", NULL, NULL, true, &out), 405);
    free(out);
    ck_assert_int_eq(call("GET", "/nowhere", NULL, NULL, true, &out), 404);
    free(out);

    ck_assert_int_eq(call("GET", "/stats", NULL, NULL, true, &out), 200);
    cJSON *s = cJSON_Parse(out);
    ck_assert_msg(s, "%s", out);
    ck_assert_int_eq(cJSON_GetObjectItem(s, "requests")->valueint, 4);
    ck_assert_int_eq(cJSON_GetObjectItem(s, "patches")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(s, "errors")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(s, "denials")->valueint, 0);
    const cJSON *l = cJSON_GetObjectItem(s, "latencyMs");
    ck_assert_int_eq(cJSON_GetObjectItem(l, "samples")->valueint, 4);
    ck_assert(cJSON_GetObjectItem(l, "p99")->valuedouble >= cJSON_GetObjectItem(l, "p50")->valuedouble);
    cJSON_Delete(s);
    free(out);
    ck_assert_int_eq(g_cm_calls, 1); /* only /mutate ran gcp-fleet */
}
END_TEST

START_TEST(tls_untrusted_client_rejected)
{
    long code = call("GET", "/healthz", NULL, NULL, false, NULL);
    ck_assert_msg(code < 0, "an untrusting client got HTTP %ld", code);
    ck_assert_msg(code == -CURLE_PEER_FAILED_VERIFICATION || code == -CURLE_SSL_CACERT_BADFILE, "curl code %ld",
                  -code);
}
END_TEST

START_TEST(tls_denial_over_the_wire)
{
    const char *body =
        "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"d-1\","
        "\"operation\":\"CREATE\",\"namespace\":\"ns\",\"object\":{\"metadata\":{\"name\":\"p\",\"labels\":{"
        "\"azure.workload.identity/use\":\"true\"},\"annotations\":{"
        "\"azure.workload.identity/service-account-token-expiration\":\"600\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}";
    char *out = NULL;
    ck_assert_int_eq(call("POST", "/mutate/azure-wi", "application/json", body, true, &out), 200);
    ck_assert_msg(strstr(out, "\"allowed\":false") &&
                      strstr(out, "token expiration 600 not valid. Expected value to be between 3600 and 86400"),
                  "%s", out);
    free(out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_server");
    TCase *tc = tcase_create("tls");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tls_endpoints);
    tcase_add_test(tc, tls_untrusted_client_rejected);
    tcase_add_test(tc, tls_denial_over_the_wire);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
