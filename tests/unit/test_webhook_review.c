/* JSONPatch apply/diff, AdmissionReview handling, the decision log, options
 * files and the MutatingWebhookConfiguration builder. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "testutil.h"
#include "wiharness/webhook.h"
#include "wiharness/yamljson.h"

static cJSON *J(const char *s)
{
    cJSON *j = cJSON_Parse(s);
    ck_assert_msg(j, "bad test JSON: %s", s);
    return j;
}

/* ------------------------------------------------------------- JSONPatch */
START_TEST(patch_rfc6902_ops)
{
    cJSON *doc = J("{\"a\":{\"b\":[1,2]},\"c\":\"x\",\"t~/\":1}");
    cJSON *p = J("[{\"op\":\"add\",\"path\":\"/a/b/1\",\"value\":9},"
                 "{\"op\":\"add\",\"path\":\"/a/b/-\",\"value\":7},"
                 "{\"op\":\"replace\",\"path\":\"/c\",\"value\":{\"k\":true}},"
                 "{\"op\":\"copy\",\"from\":\"/c\",\"path\":\"/d\"},"
                 "{\"op\":\"move\",\"from\":\"/a/b/0\",\"path\":\"/e\"},"
                 "{\"op\":\"remove\",\"path\":\"/t~0~1\"},"
                 "{\"op\":\"test\",\"path\":\"/d/k\",\"value\":true}]");
    char *em = NULL;
    ck_assert_msg(webhook_patch_apply(doc, p, &em) == 0, "%s", em);
    cJSON *want = J("{\"a\":{\"b\":[9,2,7]},\"c\":{\"k\":true},\"d\":{\"k\":true},\"e\":1}");
    char *d = wih_json_diff(want, doc);
    ck_assert_msg(!d, "%s", d);
    cJSON_Delete(want);
    cJSON_Delete(p);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(patch_errors)
{
    const char *bad[] = {
        "[{\"op\":\"remove\",\"path\":\"/nope\"}]",
        "[{\"op\":\"add\",\"path\":\"/a/b/5\",\"value\":1}]",
        "[{\"op\":\"add\",\"path\":\"/a/b/01\",\"value\":1}]",
        "[{\"op\":\"replace\",\"path\":\"/zz\",\"value\":1}]",
        "[{\"op\":\"test\",\"path\":\"/a/b/0\",\"value\":2}]",
        "[{\"op\":\"frob\",\"path\":\"/a\"}]",
        "[{\"op\":\"add\",\"path\":\"a\",\"value\":1}]",
        "[{\"op\":\"move\",\"from\":\"/a\",\"path\":\"/a/x\"}]",
        "[{\"op\":\"add\",\"path\":\"/x/y/z\",\"value\":1}]",
        "{\"op\":\"add\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *doc = J("{\"a\":{\"b\":[1]}}");
        cJSON *p = J(bad[i]);
        char *em = NULL;
        ck_assert_msg(webhook_patch_apply(doc, p, &em) == -1, "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(em);
        free(em);
        cJSON_Delete(p);
        cJSON_Delete(doc);
    }
}
END_TEST

START_TEST(patch_diff_roundtrip)
{
    const char *pairs[][2] = {
        {"{\"a\":1,\"b\":[1,2,3],\"c\":{\"x\":1}}", "{\"a\":2,\"b\":[1,5],\"d\":null,\"c\":{\"y\":[{}]}}"},
        {"{\"s\":[{\"n\":\"a\"}]}", "{\"s\":[{\"n\":\"z\"},{\"n\":\"a\",\"e\":[1]}]}"},
        {"{\"k/~\":true}", "{\"k/~\":false,\"x\":\"1\"}"},
        {"{\"a\":[]}", "{\"a\":{}}"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        cJSON *a = J(pairs[i][0]), *b = J(pairs[i][1]);
        cJSON *p = webhook_patch_diff(a, b);
        char *em = NULL;
        ck_assert_msg(webhook_patch_apply(a, p, &em) == 0, "%zu: %s", i, em);
        char *d = wih_json_diff(b, a);
        ck_assert_msg(!d, "pair %zu: %s", i, d);
        cJSON_Delete(p);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
    cJSON *same = J("{\"a\":[1,{\"b\":2}]}");
    cJSON *p = webhook_patch_diff(same, same);
    ck_assert_int_eq(cJSON_GetArraySize(p), 0);
    cJSON_Delete(p);
    cJSON_Delete(same);
}
END_TEST

/* ------------------------------------------------------- AdmissionReview */
typedef struct {
    const char *sa_json; /* returned for any name, or NULL = not found */
    const char *fail;    /* non-NULL: lookup error message */
    int calls;
} fake_sa;

static int fake_lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    fake_sa *f = ctx;
    (void)ns;
    (void)name;
    f->calls++;
    if (f->fail) {
        *msg = wih_strdup(f->fail);
        return -1;
    }
    if (!f->sa_json) return 0;
    *sa = cJSON_Parse(f->sa_json);
    return 1;
}

#define SA_ALL                                                                                                       \
    "{\"metadata\":{\"name\":\"default\",\"annotations\":{"                                                          \
    "\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::1:role/r\","                                                       \
    "\"azure.workload.identity/client-id\":\"cid\","                                                                \
    "\"iam.gke.io/gcp-service-account\":\"g@p.iam.gserviceaccount.com\"}}}"

static char *review_body(const char *uid, const char *labels)
{
    return wih_asprintf("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{"
                        "\"uid\":\"%s\",\"kind\":{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Pod\"},"
                        "\"operation\":\"CREATE\",\"namespace\":\"ns1\",\"object\":{\"metadata\":{\"name\":\"p\","
                        "\"labels\":%s},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
                        uid, labels);
}

static cJSON *resp_of(const char *body)
{
    cJSON *r = cJSON_Parse(body);
    ck_assert_msg(r, "response is not JSON: %s", body);
    return r;
}

static cJSON *decoded_patch(const cJSON *resp)
{
    const cJSON *r = cJSON_GetObjectItem(resp, "response");
    const cJSON *pt = cJSON_GetObjectItem(r, "patchType");
    const cJSON *p = cJSON_GetObjectItem(r, "patch");
    ck_assert_msg(cJSON_IsString(pt) && !strcmp(pt->valuestring, "JSONPatch"), "no patchType");
    ck_assert(cJSON_IsString(p));
    size_t n = strlen(p->valuestring);
    unsigned char *out = malloc(n + 1);
    int len = EVP_DecodeBlock(out, (const unsigned char *)p->valuestring, (int)n);
    ck_assert_int_gt(len, 0);
    while (len > 0 && out[len - 1] == 0) len--;
    out[len] = 0;
    cJSON *j = cJSON_Parse((char *)out);
    free(out);
    ck_assert(cJSON_IsArray(j));
    return j;
}

static webhook_handler mk_handler(fake_sa *f, FILE *log, bool aws, bool az, bool gcp)
{
    webhook_handler h;
    memset(&h, 0, sizeof h);
    webhook_opts_defaults(&h.opts);
    h.enabled[WEBHOOK_AWS_IRSA] = aws;
    h.enabled[WEBHOOK_AZURE_WI] = az;
    h.enabled[WEBHOOK_GCP_FLEET] = gcp;
    h.sa_lookup = fake_lookup;
    h.sa_ctx = f;
    h.log = log;
    return h;
}

START_TEST(review_wrong_content_type)
{
    fake_sa f = {.sa_json = SA_ALL};
    webhook_handler h = mk_handler(&f, NULL, true, true, true);
    char *body = review_body("u1", "{}"), *resp = NULL;
    const char *ct;
    webhook_outcome oc;
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "text/plain", &resp, &ct, &oc, NULL), 400);
    ck_assert_str_eq(ct, "text/plain");
    free(resp);
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), NULL, &resp, &ct, &oc, NULL), 400);
    free(resp);
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/json; charset=utf-8", &resp, &ct, &oc, NULL),
                     200);
    free(resp);
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/jsonx", &resp, &ct, &oc, NULL), 400);
    free(resp);
    free(body);
    webhook_opts_free(&h.opts);
}
END_TEST

START_TEST(review_malformed_never_crashes)
{
    fake_sa f = {0};
    webhook_handler h = mk_handler(&f, NULL, true, true, true);
    const char *bodies[] = {"", "{", "[]", "42", "{\"request\":7}", "{\"request\":{}}",
                            "{\"request\":{\"uid\":\"u\"}}", "{\"request\":{\"uid\":\"u\",\"object\":[]}}",
                            "{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"request\":{\"uid\":\"u9\",\"object\":1}}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        char *resp = NULL;
        const char *ct;
        webhook_outcome oc;
        int code = webhook_review(&h, bodies[i], strlen(bodies[i]), "application/json", &resp, &ct, &oc, NULL);
        ck_assert_int_eq(code, 200);
        ck_assert_int_eq(oc, WEBHOOK_OUT_ERROR);
        cJSON *r = resp_of(resp);
        const cJSON *rr = cJSON_GetObjectItem(r, "response");
        ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(rr, "allowed")));
        const cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(rr, "status"), "message");
        ck_assert_msg(cJSON_IsString(m) && strstr(m->valuestring, "malformed"), "%s", resp);
        if (i == sizeof bodies / sizeof bodies[0] - 1) {
            ck_assert_str_eq(cJSON_GetObjectItem(r, "apiVersion")->valuestring, "admission.k8s.io/v1beta1");
            ck_assert_str_eq(cJSON_GetObjectItem(rr, "uid")->valuestring, "u9");
        }
        cJSON_Delete(r);
        free(resp);
    }
    webhook_opts_free(&h.opts);
}
END_TEST

/* All three profiles on one pod: fixed order aws-irsa, azure-wi, gcp-fleet;
 * the concatenated patch applies to the original pod; one log line each. */
START_TEST(review_multi_profile_order_and_log)
{
    fake_sa f = {.sa_json = SA_ALL};
    char *logbuf = NULL;
    size_t logsz = 0;
    FILE *log = open_memstream(&logbuf, &logsz);
    webhook_handler h = mk_handler(&f, log, true, true, true);
    char *body = review_body("uid-42", "{\"azure.workload.identity/use\":\"true\"}"), *resp = NULL;
    const char *ct;
    webhook_outcome oc;
    cJSON *cms = NULL;
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/json", &resp, &ct, &oc, &cms), 200);
    ck_assert_int_eq(oc, WEBHOOK_OUT_PATCHED);
    ck_assert_int_eq(f.calls, 1);
    cJSON *r = resp_of(resp);
    ck_assert_str_eq(cJSON_GetObjectItem(r, "apiVersion")->valuestring, "admission.k8s.io/v1");
    ck_assert_str_eq(cJSON_GetObjectItem(r, "kind")->valuestring, "AdmissionReview");
    const cJSON *rr = cJSON_GetObjectItem(r, "response");
    ck_assert_str_eq(cJSON_GetObjectItem(rr, "uid")->valuestring, "uid-42");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(rr, "allowed")));
    cJSON *patch = decoded_patch(r);
    /* first op is AWS's wholesale volume list, then Azure's and GCP's */
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(patch, 0), "path")->valuestring, "/spec/volumes");
    cJSON *req = cJSON_Parse(body);
    cJSON *pod = cJSON_Duplicate(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "request"), "object"), 1);
    char *em = NULL;
    ck_assert_msg(webhook_patch_apply(pod, patch, &em) == 0, "%s", em);
    const cJSON *env = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"),
                                                                                      "containers"),
                                                                  0),
                                           "env");
    const char *order[] = {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_CLIENT_ID",
                           "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST", "GOOGLE_APPLICATION_CREDENTIALS"};
    ck_assert_int_eq(cJSON_GetArraySize(env), 6);
    for (int i = 0; i < 6; i++)
        ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(env, i), "name")->valuestring, order[i]);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "volumes")), 3);
    ck_assert_int_eq(cJSON_GetArraySize(cms), 1);
    fclose(log);
    /* one JSON line per profile, in order */
    const char *want[] = {"aws-irsa", "azure-wi", "gcp-fleet"};
    char *line = logbuf;
    for (int i = 0; i < 3; i++) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = 0;
        cJSON *l = cJSON_Parse(line);
        ck_assert_msg(l, "log line not JSON: %s", line);
        ck_assert_str_eq(cJSON_GetObjectItem(l, "profile")->valuestring, want[i]);
        ck_assert_str_eq(cJSON_GetObjectItem(l, "decision")->valuestring, "patched");
        ck_assert_str_eq(cJSON_GetObjectItem(l, "pod")->valuestring, "p");
        ck_assert_str_eq(cJSON_GetObjectItem(l, "serviceAccount")->valuestring, "default");
        ck_assert_str_eq(cJSON_GetObjectItem(l, "namespace")->valuestring, "ns1");
        ck_assert_str_eq(cJSON_GetObjectItem(l, "uid")->valuestring, "uid-42");
        cJSON_Delete(l);
        line = nl + 1;
    }
    ck_assert_str_eq(line, "");
    free(logbuf);
    free(em);
    cJSON_Delete(pod);
    cJSON_Delete(req);
    cJSON_Delete(patch);
    cJSON_Delete(cms);
    cJSON_Delete(r);
    free(resp);
    free(body);
    webhook_opts_free(&h.opts);
}
END_TEST

START_TEST(review_azure_denies_missing_sa_and_lookup_error)
{
    for (int mode = 0; mode < 2; mode++) {
        fake_sa f = {.sa_json = NULL, .fail = mode ? "etcdserver: request timed out" : NULL};
        char *logbuf = NULL;
        size_t logsz = 0;
        FILE *log = open_memstream(&logbuf, &logsz);
        webhook_handler h = mk_handler(&f, log, true, true, false);
        char *body = review_body("u2", "{\"azure.workload.identity/use\":\"true\"}"), *resp = NULL;
        const char *ct;
        webhook_outcome oc;
        ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/json", &resp, &ct, &oc, NULL), 200);
        ck_assert_int_eq(oc, WEBHOOK_OUT_DENIED);
        cJSON *r = resp_of(resp);
        const cJSON *rr = cJSON_GetObjectItem(r, "response");
        ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(rr, "allowed")));
        ck_assert(!cJSON_GetObjectItem(rr, "patch"));
        const cJSON *st = cJSON_GetObjectItem(rr, "status");
        ck_assert_int_eq(cJSON_GetObjectItem(st, "code")->valueint, 400);
        ck_assert_str_eq(cJSON_GetObjectItem(st, "message")->valuestring,
                         mode ? "etcdserver: request timed out" : "serviceaccounts \"default\" not found");
        fclose(log);
        ck_assert_msg(strstr(logbuf, "\"profile\":\"aws-irsa\",\"decision\":\"skipped\""), "%s", logbuf);
        ck_assert_msg(strstr(logbuf, "\"profile\":\"azure-wi\",\"decision\":\"denied\""), "%s", logbuf);
        free(logbuf);
        cJSON_Delete(r);
        free(resp);
        free(body);
        webhook_opts_free(&h.opts);
    }
}
END_TEST

START_TEST(review_skips_non_create_and_unmatched)
{
    fake_sa f = {.sa_json = "{\"metadata\":{\"name\":\"default\"}}"};
    webhook_handler h = mk_handler(&f, NULL, true, true, true);
    const char *body = "{\"request\":{\"uid\":\"u3\",\"operation\":\"UPDATE\",\"kind\":{\"kind\":\"Pod\"},"
                       "\"object\":{\"metadata\":{\"name\":\"p\"}}}}";
    char *resp = NULL;
    const char *ct;
    webhook_outcome oc;
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/json", &resp, &ct, &oc, NULL), 200);
    ck_assert_int_eq(oc, WEBHOOK_OUT_ALLOWED);
    ck_assert_msg(strstr(resp, "\"allowed\":true") && !strstr(resp, "patch"), "%s", resp);
    free(resp);
    /* a DELETE carries no object and is allowed, not "malformed" */
    const char *del = "{\"request\":{\"uid\":\"u5\",\"operation\":\"DELETE\",\"kind\":{\"kind\":\"Pod\"},"
                      "\"oldObject\":{\"metadata\":{\"name\":\"p\"}}}}";
    ck_assert_int_eq(webhook_review(&h, del, strlen(del), "application/json", &resp, &ct, &oc, NULL), 200);
    ck_assert_int_eq(oc, WEBHOOK_OUT_ALLOWED);
    ck_assert_msg(strstr(resp, "\"uid\":\"u5\",\"allowed\":true"), "%s", resp);
    free(resp);
    /* a CREATE with an SA carrying no annotations: every profile skips */
    char *b2 = review_body("u4", "{}");
    ck_assert_int_eq(webhook_review(&h, b2, strlen(b2), "application/json", &resp, &ct, &oc, NULL), 200);
    ck_assert_int_eq(oc, WEBHOOK_OUT_ALLOWED);
    ck_assert_msg(strstr(resp, "\"uid\":\"u4\",\"allowed\":true") && !strstr(resp, "patch"), "%s", resp);
    free(resp);
    free(b2);
    webhook_opts_free(&h.opts);
}
END_TEST

/* Duplicate keys (found by the fuzzer): the last one wins, as in Go, and our
 * own patch must still apply (no "internal error" denial). */
START_TEST(review_duplicate_keys_last_wins)
{
    fake_sa f = {.sa_json = SA_ALL};
    webhook_handler h = mk_handler(&f, NULL, true, true, true);
    const char *body = "{\"request\":{\"uid\":\"d\",\"object\":{\"metadata\":{\"name\":\"p\","
                       "\"labels\":{\"azure.workload.identity/use\":\"false\"},\"annotations\":{\"a\":\"1\"},"
                       "\"labels\":{\"azure.workload.identity/use\":\"true\"},\"annotations\":{\"b\":\"2\"}},"
                       "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}}}";
    char *resp = NULL;
    const char *ct;
    webhook_outcome oc;
    ck_assert_int_eq(webhook_review(&h, body, strlen(body), "application/json", &resp, &ct, &oc, NULL), 200);
    ck_assert_int_eq(oc, WEBHOOK_OUT_PATCHED);
    cJSON *r = resp_of(resp);
    cJSON *patch = decoded_patch(r);
    char *ps = cJSON_PrintUnformatted(patch);
    ck_assert_msg(strstr(ps, "AZURE_CLIENT_ID"), "azure-wi did not see the last labels: %s", ps);
    free(ps);
    cJSON_Delete(patch);
    cJSON_Delete(r);
    free(resp);
    webhook_opts_free(&h.opts);
}
END_TEST

/* ---------------------------------------------------------------- options */
START_TEST(options_unknown_key_nearest)
{
    const char *text = "tokenAudience: a\ntokenExpirtion: 600\n";
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("opts.yaml", text, strlen(text), &e);
    ck_assert_ptr_nonnull(d);
    webhook_opts o;
    webhook_opts_defaults(&o);
    ck_assert_int_eq(webhook_opts_from_yaml(&o, WEBHOOK_AWS_IRSA, d, wih_ydocs_root(d, 0), &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "opts.yaml:2:") && strstr(wih_err_str(e), "\"tokenExpiration\""), "%s",
                  wih_err_str(e));
    wih_err_free(e);
    wih_ydocs_free(d);
    webhook_opts_free(&o);

    const char *sect = "aws-irsa:\n  defaultRegion: eu-west-1\nazure-wi:\n  layout: \"v1.5\"\n  nativeSidecar: true\n"
                       "gcp-fleet:\n  tokenUrl: https://127.0.0.1:1/t\n";
    d = wih_yaml_load_string("s.yaml", sect, strlen(sect), &e);
    webhook_opts_defaults(&o);
    ck_assert_int_eq(webhook_opts_from_yaml(&o, WEBHOOK_NPROFILES, d, wih_ydocs_root(d, 0), &e), 0);
    ck_assert_str_eq(o.aws.default_region, "eu-west-1");
    ck_assert_int_eq(o.azure.layout, WEBHOOK_AZ_V15);
    ck_assert(o.azure.native_sidecar);
    ck_assert_str_eq(o.gcp.token_url, "https://127.0.0.1:1/t");
    wih_ydocs_free(d);
    webhook_opts_free(&o);

    const char *bads[] = {"layout: v2\n", "nativeSidecar: maybe\n", "azure-wi:\n  tenantId: [1]\n",
                          "azure-wy:\n  tenantId: x\n"};
    for (size_t i = 0; i < 4; i++) {
        d = wih_yaml_load_string("b.yaml", bads[i], strlen(bads[i]), &e);
        webhook_opts_defaults(&o);
        ck_assert_int_eq(webhook_opts_from_yaml(&o, WEBHOOK_AZURE_WI, d, wih_ydocs_root(d, 0), &e), -1);
        ck_assert_msg(strstr(wih_err_str(e), "b.yaml:"), "%s", wih_err_str(e));
        wih_err_free(e);
        e = NULL;
        wih_ydocs_free(d);
        webhook_opts_free(&o);
    }
}
END_TEST

/* ------------------------------------------------------------ registration */
START_TEST(mwc_per_profile)
{
    const char *ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const char *fp[] = {"Ignore", "Fail", "Ignore"};
    const char *rp[] = {"Never", "IfNeeded", "Never"};
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) {
        cJSON *m = webhook_mwc_json((webhook_profile)p, "https://127.0.0.1:8443/", ca);
        ck_assert_str_eq(cJSON_GetObjectItem(m, "kind")->valuestring, "MutatingWebhookConfiguration");
        const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "webhooks"), 0);
        ck_assert_str_eq(cJSON_GetObjectItem(w, "failurePolicy")->valuestring, fp[p]);
        ck_assert_str_eq(cJSON_GetObjectItem(w, "reinvocationPolicy")->valuestring, rp[p]);
        ck_assert_str_eq(cJSON_GetObjectItem(w, "sideEffects")->valuestring, "None");
        const cJSON *arv = cJSON_GetObjectItem(w, "admissionReviewVersions");
        ck_assert_int_eq(cJSON_GetArraySize(arv), 1);
        ck_assert_str_eq(cJSON_GetArrayItem(arv, 0)->valuestring, "v1");
        const cJSON *cc = cJSON_GetObjectItem(w, "clientConfig");
        char *url = wih_asprintf("https://127.0.0.1:8443/mutate/%s", webhook_profile_name((webhook_profile)p));
        ck_assert_str_eq(cJSON_GetObjectItem(cc, "url")->valuestring, url);
        free(url);
        unsigned char dec[256];
        const char *b = cJSON_GetObjectItem(cc, "caBundle")->valuestring;
        int n = EVP_DecodeBlock(dec, (const unsigned char *)b, (int)strlen(b));
        ck_assert_int_ge(n, (int)strlen(ca));
        ck_assert(!memcmp(dec, ca, strlen(ca)));
        const cJSON *rule = cJSON_GetArrayItem(cJSON_GetObjectItem(w, "rules"), 0);
        ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(rule, "operations"), 0)->valuestring, "CREATE");
        ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(rule, "resources"), 0)->valuestring, "pods");
        const cJSON *os = cJSON_GetObjectItem(w, "objectSelector");
        if (p == WEBHOOK_AWS_IRSA) {
            const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(os, "matchExpressions"), 0);
            ck_assert_str_eq(cJSON_GetObjectItem(e, "key")->valuestring, "eks.amazonaws.com/skip-pod-identity-webhook");
            ck_assert_str_eq(cJSON_GetObjectItem(e, "operator")->valuestring, "DoesNotExist");
        } else if (p == WEBHOOK_AZURE_WI) {
            ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(os, "matchLabels"), "azure.workload.identity/use")
                                 ->valuestring,
                             "true");
        } else
            ck_assert_ptr_null(os);
        cJSON_Delete(m);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("webhook_review");
    TCase *tc = tcase_create("all");
    tcase_add_test(tc, patch_rfc6902_ops);
    tcase_add_test(tc, patch_errors);
    tcase_add_test(tc, patch_diff_roundtrip);
    tcase_add_test(tc, review_wrong_content_type);
    tcase_add_test(tc, review_malformed_never_crashes);
    tcase_add_test(tc, review_multi_profile_order_and_log);
    tcase_add_test(tc, review_azure_denies_missing_sa_and_lookup_error);
    tcase_add_test(tc, review_skips_non_create_and_unmatched);
    tcase_add_test(tc, review_duplicate_keys_last_wins);
    tcase_add_test(tc, options_unknown_key_nearest);
    tcase_add_test(tc, mwc_per_profile);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
