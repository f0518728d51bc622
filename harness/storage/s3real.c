/* S3 requests as the SDKs send them with the credentials a workload got
 * (pure; SigV4 itself is libcurl's CURLOPT_AWS_SIGV4 at send time). */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "rs_int.h"

static char *sha256_hex(const void *p, size_t n)
{
    unsigned char md[32];
    unsigned int l = 0;
    EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
    char *hex = wih_xmalloc(65);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

static char *s3_url(const char *op, const char *endpoint, const char *region, const char *bucket, const char *key)
{
    wih_buf u;
    wih_buf_init(&u, 1 << 16);
    if (endpoint) {
        char *base = rs_trim(endpoint);
        wih_buf_addf(&u, "%s/%s", base, bucket); /* path-style: custom endpoints (MinIO) */
        free(base);
    } else {
        wih_buf_addf(&u, "https://%s.s3.%s.amazonaws.com", bucket, region);
    }
    if (!strcmp(op, "list")) {
        wih_buf_adds(&u, endpoint ? "?list-type=2" : "/?list-type=2");
        if (key && *key) {
            wih_buf_adds(&u, "&prefix=");
            rs_pct(&u, key, false);
        }
    } else {
        wih_buf_adds(&u, "/");
        rs_pct(&u, key, true);
    }
    return wih_buf_take(&u);
}

probe_req *rs_s3_request(const char *op, const char *endpoint, const char *region, const char *bucket,
                         const char *key, const s3_creds *creds, const void *body, size_t len, wih_err **err)
{
    if (!rs_op_ok(op, "S3", err)) return NULL;
    const char *rg = region && *region ? region : "us-east-1";
    if (!bucket || !s3_bucket_name_ok(bucket) || (strcmp(op, "list") && (!key || !*key)) || !creds ||
        !creds->access_key || !creds->secret_key) {
        *err = wih_err_new(WIH_EXIT_INPUT, "S3 %s: needs a valid bucket%s and credentials", op,
                           strcmp(op, "list") ? ", a key" : "");
        return NULL;
    }
    char *url = s3_url(op, endpoint, rg, bucket, key);
    const char *method = !strcmp(op, "write") ? "PUT" : !strcmp(op, "delete") ? "DELETE" : "GET";
    probe_req *r = rs_req_new("S3", method, url);
    free(url);
    bool put = !strcmp(op, "write");
    char *hash = sha256_hex(put && body ? body : "", put && body ? len : 0);
    rs_req_header(r, "x-amz-content-sha256", hash, false);
    free(hash);
    if (creds->session_token) rs_req_header(r, "x-amz-security-token", creds->session_token, true);
    if (put) {
        rs_req_header(r, "Content-Type", "application/octet-stream", false);
        rs_req_body(r, body ? body : "", body ? len : 0);
    }
    r->sigv4 = wih_asprintf("aws:amz:%s:s3", rg);
    r->sigv4_user = wih_asprintf("%s:%s", creds->access_key, creds->secret_key);
    return r;
}

const char *rs_do(const probe_req *r, const char *provider, const char *ca_file, int64_t timeout_ms, long *status,
                  char **code, char **message, wih_err **err)
{
    wih_buf body;
    *code = *message = NULL;
    if (probe_send(r, ca_file, timeout_ms, status, &body, err)) return NULL;
    const char *res = rs_parse_result(provider, *status, body.data, body.len, code, message);
    wih_buf_free(&body);
    return res;
}
