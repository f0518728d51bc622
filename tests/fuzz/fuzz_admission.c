/* libFuzzer target for the AdmissionReview handler (webhook_review).
 * Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DWIH_FUZZ=ON
 * Run:   build-fuzz/tests/fuzz_admission -max_total_time=60 tests/fuzz/corpus_admission
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static webhook_handler h;
    static int init;
    if (!init) {
        webhook_opts_defaults(&h.opts);
        for (int p = 0; p < WEBHOOK_NPROFILES; p++) h.enabled[p] = true;
        h.sa_lookup = lookup;
        init = 1;
    }
    /* first byte picks the layout and the content type */
    h.opts.azure.layout = size && (data[0] & 1) ? WEBHOOK_AZ_V15 : WEBHOOK_AZ_V16;
    h.opts.azure.native_sidecar = size && (data[0] & 2);
    const char *ct = size && (data[0] & 0x80) ? "text/plain" : "application/json";
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
    return 0;
}
