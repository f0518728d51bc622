/* libFuzzer target for the S3/STS XML parsers: harness/storage/s3.c's S3/STS
 * ErrorResponse (s3_parse_error_xml), AssumeRole*Response credentials as MinIO's
 * and the mock cloud's STS send them (s3_parse_sts_xml), ListBucketResult
 * (s3_parse_list_xml), and the probe's readers of the cloud's STS answers
 * (probe_parse_sts, probe_parse_caller_identity; the first byte picks the HTTP
 * status they are given). Every input goes to all of them.
 * Run: build-fuzz/tests/fuzz_s3_xml -max_total_time=60 tests/fuzz/corpus_s3_xml
 * (ci/test also seeds it from fixtures/storage/xml). Aborts on a crash, a
 * sanitizer report, or a success that leaves its output half-filled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/probe.h"
#include "wiharness/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *xml = (const char *)data;
    char *code = NULL, *msg = NULL;
    if (s3_parse_error_xml(xml, size, &code, &msg) && !code) abort();
    free(code);
    free(msg);
    s3_creds cr;
    memset(&cr, 0, sizeof cr);
    if (s3_parse_sts_xml(xml, size, &cr) && (!cr.access_key || !cr.secret_key)) abort();
    s3_creds_clear(&cr);
    cJSON *l = s3_parse_list_xml(xml, size);
    if (l && !cJSON_IsArray(l)) abort();
    cJSON_Delete(l);
    long status = size && (data[0] & 1) ? 403 : 200;
    probe_answer a;
    memset(&a, 0, sizeof a);
    int rc = probe_parse_sts(status, xml, size, &a);
    if (rc == 0 && (!a.ok || !a.creds.access_key || !a.creds.secret_key)) abort();
    if (rc != 0 && !a.message && !a.code) abort(); /* a refusal always says why */
    probe_answer_clear(&a);
    memset(&a, 0, sizeof a);
    rc = probe_parse_caller_identity(status, xml, size, &a);
    if (rc != 0 && !a.message && !a.code) abort();
    probe_answer_clear(&a);
    return 0;
}
