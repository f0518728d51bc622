/* AWS Signature Version 4 (AWS4-HMAC-SHA256), pure, for the mock STS to
 * check what a client signed with the session credentials it issued:
 * canonical request = method \n URI-encoded path \n sorted canonical query \n
 * "name:trimmed value\n" per signed header \n signed header list \n payload
 * hash; string to sign = algorithm \n X-Amz-Date \n scope \n hex sha256 of the
 * canonical request; key = HMAC chain "AWS4"+secret → date → region →
 * service → "aws4_request" (AWS General Reference, "Create a signed AWS API
 * request"). */
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_int.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

char *cloud_sha256_hex(const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    char *out = wih_xmalloc(2 * n + 1);
    hex(md, n, out);
    return out;
}

static void add_uri_escaped(wih_buf *b, const char *s, size_t n, bool keep_slash)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || strchr("-_.~", c) || (keep_slash && c == '/')) wih_buf_add(b, s + i, 1);
        else wih_buf_addf(b, "%%%02X", c);
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* One query component decoded (%XX only), then AWS-encoded. */
static char *canonical_component(const char *s, size_t n)
{
    wih_buf raw, out;
    wih_buf_init(&raw, 1 << 20);
    wih_buf_init(&out, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        int a = -1, b = -1;
        if (s[i] == '%' && i + 2 < n && (a = hexval(s[i + 1])) >= 0 && (b = hexval(s[i + 2])) >= 0) {
            char ch = (char)(a << 4 | b);
            wih_buf_add(&raw, &ch, 1);
            i += 2;
        } else {
            wih_buf_add(&raw, s + i, 1);
        }
    }
    add_uri_escaped(&out, raw.data ? raw.data : "", raw.len, false);
    wih_buf_free(&raw);
    char *r = wih_buf_take(&out);
    return r ? r : wih_strdup("");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "b=2&a=1" → "a=1&b=2" with AWS encoding (sorted by the encoded pairs). */
static char *canonical_query(const char *q)
{
    char *pairs[256];
    size_t n = 0;
    for (const char *p = q; p && *p && n < 256;) {
        size_t len = strcspn(p, "&");
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t kl = eq ? (size_t)(eq - p) : len;
            char *k = canonical_component(p, kl), *v = canonical_component(eq ? eq + 1 : "", eq ? len - kl - 1 : 0);
            pairs[n++] = wih_asprintf("%s=%s", k, v);
            free(k);
            free(v);
        }
        p += len + (p[len] == '&');
    }
    qsort(pairs, n, sizeof *pairs, cmp_str);
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    wih_buf_adds(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (i) wih_buf_adds(&b, "&");
        wih_buf_adds(&b, pairs[i]);
        free(pairs[i]);
    }
    return wih_buf_take(&b);
}

/* Header value trimmed, runs of spaces collapsed to one. */
static void add_trimmed(wih_buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t') v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    for (size_t i = 0; i < n; i++) {
        if ((v[i] == ' ' || v[i] == '\t') && i && (v[i - 1] == ' ' || v[i - 1] == '\t')) continue;
        wih_buf_add(b, v[i] == '\t' ? " " : v + i, 1);
    }
}

char *cloud_sigv4_canonical_request(const cloud_request *rq, const char *signed_headers)
{
    wih_buf b;
    wih_buf_init(&b, 4 << 20);
    wih_buf_addf(&b, "%s\n", rq->method);
    add_uri_escaped(&b, rq->path, strlen(rq->path), true);
    char *q = canonical_query(rq->query);
    wih_buf_addf(&b, "\n%s\n", q);
    free(q);
    for (const char *p = signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        char *name = wih_asprintf("%.*s", (int)len, p);
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->headers, name));
        wih_buf_addf(&b, "%s:", name);
        add_trimmed(&b, v ? v : "");
        wih_buf_adds(&b, "\n");
        free(name);
        p += len + (p[len] == ';');
    }
    const char *ph = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->headers, "x-amz-content-sha256"));
    char *hash = ph ? wih_strdup(ph) : cloud_sha256_hex(rq->body ? rq->body : "", rq->len);
    wih_buf_addf(&b, "\n%s\n%s", signed_headers, hash);
    free(hash);
    return wih_buf_take(&b);
}

static void hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned n = 32;
    if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n)) abort();
}

char *cloud_sigv4_signature(const char *secret, const char *amzdate, const char *scope, const char *canonical)
{
    /* scope = date/region/service/aws4_request */
    char date[9] = {0}, region[64] = {0}, service[64] = {0};
    const char *s1 = strchr(scope, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL, *s3 = s2 ? strchr(s2 + 1, '/') : NULL;
    if (!s3 || s1 - scope != 8 || s2 - s1 - 1 >= 64 || s3 - s2 - 1 >= 64) return NULL;
    memcpy(date, scope, 8);
    memcpy(region, s1 + 1, (size_t)(s2 - s1 - 1));
    memcpy(service, s2 + 1, (size_t)(s3 - s2 - 1));
    char *k0 = wih_asprintf("AWS4%s", secret);
    unsigned char k[32];
    hmac(k0, strlen(k0), date, k);
    OPENSSL_cleanse(k0, strlen(k0));
    free(k0);
    hmac(k, 32, region, k);
    hmac(k, 32, service, k);
    hmac(k, 32, "aws4_request", k);
    char *ch = cloud_sha256_hex(canonical, strlen(canonical));
    char *sts = wih_asprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", amzdate, scope, ch);
    free(ch);
    unsigned char sig[32];
    hmac(k, 32, sts, sig);
    OPENSSL_cleanse(k, sizeof k);
    free(sts);
    char *out = wih_xmalloc(65);
    hex(sig, 32, out);
    return out;
}
