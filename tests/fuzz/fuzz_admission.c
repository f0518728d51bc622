/* libFuzzer target for the AdmissionReview handler (webhook_review).
 * Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DWIH_FUZZ=ON
 * Run:   build-fuzz/tests/fuzz_admission -max_total_time=60 tests/fuzz/corpus_admission
 * Mode bits and the structure-aware template are described below.
 * Besides crashes and sanitizer reports, it aborts when the response is not
 * JSON, lacks response.allowed, or says our own patch did not apply. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/webhook.h"

static int lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg)
{
    (void)ctx;
    (void)ns;
    size_t n = strlen(name);
    /* the service account's fate depends on its name so inputs can steer it */
    if (n % 5 == 1) {
        *msg = strdup("lookup failed");
        return -1;
    }
    if (n % 5 == 2) return 0;
    *sa = cJSON_Parse("{\"metadata\":{\"name\":\"x\",\"annotations\":{"
                      "\"eks.amazonaws.com/role-arn\":\"arn:aws:iam::1:role/r\","
                      "\"eks.amazonaws.com/token-expiration\":\"10\","
                      "\"azure.workload.identity/client-id\":\"cid\","
                      "\"iam.gke.io/gcp-service-account\":\"g@p.iam.gserviceaccount.com\"}}}");
    return 1;
}

/* Structure-aware mode (first byte & 0x40): the rest, split on '\n', fills a
 * valid AdmissionReview template (pod name, SA name, skip-containers,
 * token expiration, a container name, proxy port), so that even an empty
 * corpus reaches the mutation rules quickly. */
static char *templated(const uint8_t *data, size_t size)
{
    const char *f[6] = {"", "", "", "", "", ""};
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = 0;
    int n = 0;
    char *p = copy;
    while (n < 6) {
        f[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl) break;
        *nl = 0;
        p = nl + 1;
    }
    cJSON *ann = cJSON_CreateObject();
    cJSON_AddStringToObject(ann, "eks.amazonaws.com/skip-containers", f[2]);
    cJSON_AddStringToObject(ann, "azure.workload.identity/skip-containers", f[2]);
    cJSON_AddStringToObject(ann, "eks.amazonaws.com/token-expiration", f[3]);
    cJSON_AddStringToObject(ann, "azure.workload.identity/service-account-token-expiration", f[3]);
    if (*f[5]) {
        cJSON_AddStringToObject(ann, "azure.workload.identity/inject-proxy-sidecar", "true");
        cJSON_AddStringToObject(ann, "azure.workload.identity/proxy-sidecar-port", f[5]);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *req = cJSON_AddObjectToObject(r, "request");
    cJSON_AddStringToObject(req, "uid", "fuzz");
    cJSON *pod = cJSON_AddObjectToObject(req, "object");
    cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
    cJSON_AddStringToObject(md, *f[0] == 'g' ? "generateName" : "name", f[0]);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "azure.workload.identity/use", "true");
    cJSON_AddItemToObject(md, "annotations", ann);
    cJSON *spec = cJSON_AddObjectToObject(pod, "spec");
    cJSON_AddStringToObject(spec, "serviceAccountName", f[1]);
    const char *lists[2] = {"initContainers", "containers"};
    for (int i = 0; i < 2; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", f[4]);
        cJSON *env = cJSON_AddArrayToObject(c, "env");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", i ? "AWS_REGION" : f[4]);
        cJSON_AddItemToArray(env, e);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, lists[i]), c);
    }
    if (size > 8 && (data[size - 1] & 1)) cJSON_AddArrayToObject(spec, "volumes");
    char *out = cJSON_PrintUnformatted(r);
    cJSON_Delete(r);
    free(copy);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tmpl = NULL;
    const uint8_t b0 = size ? data[0] : 0; /* mode bits, read before templating */
    if (b0 & 0x40) {
        tmpl = templated(data + 1, size - 1);
        data = (const uint8_t *)tmpl;
        size = strlen(tmpl);
    }
    static webhook_handler h;
    static int init;
    if (!init) {
        webhook_opts_defaults(&h.opts);
        for (int p = 0; p < WEBHOOK_NPROFILES; p++) h.enabled[p] = true;
        h.sa_lookup = lookup;
        init = 1;
    }
    /* first byte: bit0 layout v1.5, bit1 native sidecar, bit6 template mode, bit7 wrong content type */
    h.opts.azure.layout = (b0 & 1) ? WEBHOOK_AZ_V15 : WEBHOOK_AZ_V16;
    h.opts.azure.native_sidecar = (b0 & 2) != 0;
    const char *ct = (b0 & 0x80) ? "text/plain" : "application/json";
    char *resp = NULL;
    const char *rct = NULL;
    webhook_outcome oc;
    cJSON *cms = NULL;
    int code = webhook_review(&h, (const char *)data, size, ct, &resp, &rct, &oc, &cms);
    if (!resp || !rct) abort();
    if (code == 200) {
        cJSON *r = cJSON_Parse(resp);
        const cJSON *rr = cJSON_GetObjectItemCaseSensitive(r, "response");
        if (!r || !cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(rr, "allowed"))) abort();
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(rr, "status");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, "message");
        if (cJSON_IsString(m) && !strncmp(m->valuestring, "internal error: ", 16)) abort();
        cJSON_Delete(r);
    } else if (code != 400)
        abort();
    cJSON_Delete(cms);
    free(resp);
    free(tmpl);
    return 0;
}
