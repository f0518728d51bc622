/* Compact JWS: parse, RS256 verify against a JWKS, RS256 sign, base64url.
 *
 * Only RS256 is ever accepted. The public key is rebuilt from the JWK's n/e
 * with OSSL_PARAM_BLD + EVP_PKEY_fromdata (no deprecated RSA_* API). The
 * algorithm is taken from the header only to refuse it: verification always
 * runs RSASSA-PKCS1-v1_5 with SHA-256, so an "HS256" token HMAC'd with the
 * public key's bytes can never pass (it is refused as alg-unsupported before
 * any key is touched, and would fail the RSA check anyway). */
#include "wiharness/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct wih_jwk_key {
    EVP_PKEY *pkey;
    char *kid;
};

static const char *const code_names[WIH_JWT_CODE_COUNT] = {
    [WIH_JWT_OK] = "ok",
    [WIH_JWT_EMPTY] = "empty",
    [WIH_JWT_SEGMENTS] = "segments",
    [WIH_JWT_BASE64] = "base64",
    [WIH_JWT_HEADER_JSON] = "header-json",
    [WIH_JWT_PAYLOAD_JSON] = "payload-json",
    [WIH_JWT_ALG_NONE] = "alg-none",
    [WIH_JWT_ALG_UNSUPPORTED] = "alg-unsupported",
    [WIH_JWT_KID_UNKNOWN] = "kid-unknown",
    [WIH_JWT_NO_KEY] = "no-key",
    [WIH_JWT_BAD_SIGNATURE] = "bad-signature",
    [WIH_JWT_EXPIRED] = "expired",
    [WIH_JWT_NOT_YET_VALID] = "not-yet-valid",
    [WIH_JWT_CLAIM_TYPE] = "claim-type",
    [WIH_JWT_TOO_LARGE] = "too-large",
    [WIH_JWT_KID_MISSING] = "kid-missing",
    [WIH_JWT_SIG_LENGTH] = "signature-length",
    [WIH_JWT_CLAIM_MISSING] = "claim-missing",
};

const char *wih_jwt_code_name(wih_jwt_code c)
{
    if ((int)c < 0 || c >= WIH_JWT_CODE_COUNT || !code_names[c]) return "unknown";
    return code_names[c];
}

static wih_jwt_code fail(wih_err **err, wih_jwt_code c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static wih_jwt_code fail(wih_err **err, wih_jwt_code c, const char *fmt, ...)
{
    if (err && !*err) {
        va_list ap;
        va_start(ap, fmt);
        *err = wih_err_newv(WIH_EXIT_INPUT, fmt, ap);
        va_end(ap);
        wih_err_wrap(*err, "JWT %s", wih_jwt_code_name(c));
    }
    return c;
}

/* ------------------------------------------------------------------ base64url */
char *wih_b64url_encode(const unsigned char *p, size_t n)
{
    return wih_b64_encode(p, n, WIH_B64_URL | WIH_B64_NOPAD);
}

/* Strict: the URL alphabet only, no padding, no whitespace, and the unused
 * low bits of the last symbol must be zero (one encoding per byte string). */
unsigned char *wih_b64url_decode(const char *s, size_t len, size_t *outlen)
{
    return wih_b64_decode(s, len, WIH_B64_URL | WIH_B64_NOPAD, outlen);
}

/* ---------------------------------------------------------------------- parse */
void wih_jwt_free(wih_jwt *t)
{
    if (!t) return;
    cJSON_Delete(t->header);
    cJSON_Delete(t->payload);
    free(t->signing_input);
    free(t->sig);
    free(t);
}

static cJSON *parse_obj(const unsigned char *p, size_t n)
{
    if (n == 0 || memchr(p, 0, n)) return NULL; /* an embedded NUL is not JSON */
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts((const char *)p, n, &end, false);
    if (!j) return NULL;
    /* only trailing whitespace may follow the value */
    while (end && (size_t)(end - (const char *)p) < n && strchr(" \t\r\n", *end)) end++;
    if (!cJSON_IsObject(j) || !end || (size_t)(end - (const char *)p) != n) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

wih_jwt *wih_jwt_parse(const char *compact, wih_jwt_code *code, wih_err **err)
{
    wih_jwt_code dummy;
    if (!code) code = &dummy;
    *code = WIH_JWT_OK;
    if (!compact || !*compact) {
        *code = fail(err, WIH_JWT_EMPTY, "no token");
        return NULL;
    }
    size_t len = strnlen(compact, WIH_JWT_MAX_LEN + 1);
    if (len > WIH_JWT_MAX_LEN) {
        *code = fail(err, WIH_JWT_TOO_LARGE, "token longer than %d bytes", WIH_JWT_MAX_LEN);
        return NULL;
    }
    const char *d1 = memchr(compact, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - compact))) {
        int dots = 0;
        for (size_t i = 0; i < len; i++) dots += compact[i] == '.';
        *code = fail(err, WIH_JWT_SEGMENTS, "expected 3 dot-separated segments, found %d", dots + 1);
        return NULL;
    }
    size_t hl = (size_t)(d1 - compact), pl = (size_t)(d2 - d1 - 1), sl = len - (size_t)(d2 + 1 - compact);
    size_t hn, pn, sn;
    unsigned char *h = wih_b64url_decode(compact, hl, &hn);
    unsigned char *p = wih_b64url_decode(d1 + 1, pl, &pn);
    unsigned char *s = wih_b64url_decode(d2 + 1, sl, &sn);
    if (!h || !p || !s) {
        *code = fail(err, WIH_JWT_BASE64, "the %s segment is not base64url", !h ? "header" : !p ? "payload" : "signature");
        free(h);
        free(p);
        free(s);
        return NULL;
    }
    cJSON *hj = parse_obj(h, hn);
    cJSON *pj = hj ? parse_obj(p, pn) : NULL;
    free(h);
    free(p);
    if (!hj || !pj) {
        *code = !hj ? fail(err, WIH_JWT_HEADER_JSON, "the header is not a JSON object")
                    : fail(err, WIH_JWT_PAYLOAD_JSON, "the payload is not a JSON object");
        cJSON_Delete(hj);
        free(s);
        return NULL;
    }
    wih_jwt *t = wih_xcalloc(1, sizeof *t);
    t->header = hj;
    t->payload = pj;
    t->signing_input = wih_xmalloc(hl + 1 + pl + 1);
    memcpy(t->signing_input, compact, hl + 1 + pl);
    t->signing_input[hl + 1 + pl] = 0;
    t->sig = s;
    t->siglen = sn;
    return t;
}

/* --------------------------------------------------------------------- claims */
const char *wih_jwt_claim_str(const wih_jwt *t, const char *name)
{
    const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t->payload, name) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool wih_jwt_claim_int(const wih_jwt *t, const char *name, int64_t *out)
{
    const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t->payload, name) : NULL;
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (d != d || d < -9.2e18 || d > 9.2e18) return false;
    if (out) *out = (int64_t)d;
    return true;
}

bool wih_jwt_has_aud(const wih_jwt *t, const char *aud)
{
    const cJSON *v = t ? cJSON_GetObjectItemCaseSensitive(t->payload, "aud") : NULL;
    if (!aud) return false;
    if (cJSON_IsString(v)) return !strcmp(v->valuestring, aud);
    const cJSON *it;
    if (cJSON_IsArray(v))
        cJSON_ArrayForEach(it, v) if (cJSON_IsString(it) && !strcmp(it->valuestring, aud)) return true;
    return false;
}

/* ------------------------------------------------------------------------ keys */
static BIGNUM *b64_bn(const cJSON *v)
{
    if (!cJSON_IsString(v)) return NULL;
    size_t n;
    unsigned char *b = wih_b64url_decode(v->valuestring, strlen(v->valuestring), &n);
    if (!b || n == 0) {
        free(b);
        return NULL;
    }
    BIGNUM *bn = BN_bin2bn(b, (int)n, NULL);
    free(b);
    return bn;
}

/* An RSA public key from a JWK (kty RSA, n, e), or NULL when unusable. */
static EVP_PKEY *jwk_to_pkey(const cJSON *jwk)
{
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    if (!cJSON_IsString(kty) || strcmp(kty->valuestring, "RSA")) return NULL;
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    if (cJSON_IsString(use) && strcmp(use->valuestring, "sig")) return NULL;
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    if (cJSON_IsString(alg) && strcmp(alg->valuestring, "RS256")) return NULL;
    BIGNUM *n = b64_bn(cJSON_GetObjectItemCaseSensitive(jwk, "n"));
    BIGNUM *e = b64_bn(cJSON_GetObjectItemCaseSensitive(jwk, "e"));
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    /* keys below 2048 bits are refused, as the clouds do */
    if (!n || !e || BN_num_bits(n) < 2048 || BN_num_bits(n) > 16384 || BN_is_zero(e) || !BN_is_odd(e)) goto out;
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/* 1 verified, 0 not, -1 wrong length */
static int rs256_verify(EVP_PKEY *pkey, const wih_jwt *t)
{
    if (t->siglen != (size_t)EVP_PKEY_get_size(pkey)) return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) wih_oom(sizeof(void *));
    int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
             EVP_DigestVerify(md, t->sig, t->siglen, (const unsigned char *)t->signing_input,
                              strlen(t->signing_input)) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok ? 1 : 0;
}

static bool claim_types_ok(const wih_jwt *t, const char **which)
{
    static const char *const nums[] = {"exp", "nbf", "iat"};
    static const char *const strs[] = {"iss", "sub", "jti"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->payload, nums[i]);
        if (v && !cJSON_IsNumber(v)) return *which = nums[i], false;
        v = cJSON_GetObjectItemCaseSensitive(t->payload, strs[i]);
        if (v && !cJSON_IsString(v)) return *which = strs[i], false;
    }
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(t->payload, "aud"), *it;
    if (aud && !cJSON_IsString(aud)) {
        if (!cJSON_IsArray(aud)) return *which = "aud", false;
        cJSON_ArrayForEach(it, aud) if (!cJSON_IsString(it)) return *which = "aud", false;
    }
    return true;
}

wih_jwt_code wih_jwt_verify(const wih_jwt *t, const cJSON *jwks, int64_t now, int64_t leeway, wih_err **err)
{
    return wih_jwt_verify_ex(t, jwks, now, leeway, 0, err);
}

wih_jwt_code wih_jwt_verify_ex(const wih_jwt *t, const cJSON *jwks, int64_t now, int64_t leeway,
                               unsigned flags, wih_err **err)
{
    if (!t) return fail(err, WIH_JWT_EMPTY, "no token");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(t->header, "alg");
    if (!cJSON_IsString(alg) || !strcasecmp(alg->valuestring, "none"))
        return fail(err, WIH_JWT_ALG_NONE, "alg is %s; only RS256 is accepted",
                    cJSON_IsString(alg) ? "\"none\"" : "missing");
    if (strcmp(alg->valuestring, "RS256"))
        return fail(err, WIH_JWT_ALG_UNSUPPORTED, "alg \"%.32s\" is not accepted; only RS256", alg->valuestring);
    const cJSON *kidj = cJSON_GetObjectItemCaseSensitive(t->header, "kid");
    if (kidj && !cJSON_IsString(kidj)) return fail(err, WIH_JWT_KID_UNKNOWN, "kid is not a string");
    const char *kid = cJSON_IsString(kidj) ? kidj->valuestring : NULL;
    if (!kid && (flags & WIH_JWT_REQUIRE_KID)) return fail(err, WIH_JWT_KID_MISSING, "the header has no kid");

    const cJSON *keys = cJSON_GetObjectItemCaseSensitive(jwks, "keys"), *k;
    int usable = 0, kid_matches = 0, wrong_len = 0;
    bool verified = false;
    if (cJSON_IsArray(keys)) {
        cJSON_ArrayForEach(k, keys)
        {
            EVP_PKEY *pkey = jwk_to_pkey(k);
            if (!pkey) continue;
            usable++;
            const cJSON *kk = cJSON_GetObjectItemCaseSensitive(k, "kid");
            if (kid && !(cJSON_IsString(kk) && !strcmp(kk->valuestring, kid))) {
                EVP_PKEY_free(pkey);
                continue;
            }
            kid_matches++;
            int r = rs256_verify(pkey, t);
            EVP_PKEY_free(pkey);
            if (r < 0) wrong_len++;
            if (r == 1) {
                verified = true;
                break;
            }
        }
    }
    if (!usable) return fail(err, WIH_JWT_NO_KEY, "the JWKS has no usable RSA signing key");
    if (!kid_matches) return fail(err, WIH_JWT_KID_UNKNOWN, "kid \"%.64s\" names no key of the JWKS", kid);
    if (!verified) {
        if (wrong_len == kid_matches)
            return fail(err, WIH_JWT_SIG_LENGTH, "signature is %zu bytes, not the key's length (truncated?)",
                        t->siglen);
        return fail(err, WIH_JWT_BAD_SIGNATURE, "the signature does not verify");
    }
    const char *which = NULL;
    if (!claim_types_ok(t, &which)) return fail(err, WIH_JWT_CLAIM_TYPE, "claim \"%s\" has the wrong type", which);
    int64_t exp, nbf, iat;
    bool has_exp = wih_jwt_claim_int(t, "exp", &exp);
    if (!has_exp && (flags & WIH_JWT_REQUIRE_EXP)) return fail(err, WIH_JWT_CLAIM_MISSING, "no exp claim");
    if (has_exp && now - leeway >= exp)
        return fail(err, WIH_JWT_EXPIRED, "expired %lld s ago", (long long)(now - exp));
    if (wih_jwt_claim_int(t, "nbf", &nbf) && nbf > now + leeway)
        return fail(err, WIH_JWT_NOT_YET_VALID, "nbf is %lld s in the future", (long long)(nbf - now));
    if (wih_jwt_claim_int(t, "iat", &iat) && iat > now + leeway)
        return fail(err, WIH_JWT_NOT_YET_VALID, "iat is %lld s in the future", (long long)(iat - now));
    return WIH_JWT_OK;
}

/* -------------------------------------------------------------------- signing */
static wih_jwk_key *key_new(EVP_PKEY *pkey, const char *kid)
{
    wih_jwk_key *k = wih_xcalloc(1, sizeof *k);
    k->pkey = pkey;
    k->kid = wih_strdup(kid);
    return k;
}

static char *ossl_errstr(void)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return wih_strdup(e ? buf : "unknown OpenSSL error");
}

wih_jwk_key *wih_jwk_generate(int bits, const char *kid, wih_err **err)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)(bits > 0 ? bits : 2048));
    if (!pkey) {
        char *m = ossl_errstr();
        *err = wih_err_new(WIH_EXIT_INFRA, "generating an RSA key: %s", m);
        free(m);
        return NULL;
    }
    return key_new(pkey, kid);
}

wih_jwk_key *wih_jwk_load_pem(const char *pem_path, const char *kid, wih_err **err)
{
    FILE *f = fopen(pem_path, "r");
    if (!f) {
        *err = wih_err_new(WIH_EXIT_INPUT, "opening %s: %s", pem_path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey || !EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_free(pkey);
        char *m = ossl_errstr();
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: not an RSA private key in PEM: %s", pem_path, m);
        free(m);
        return NULL;
    }
    return key_new(pkey, kid);
}

void wih_jwk_free(wih_jwk_key *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    free(k->kid);
    free(k);
}

const char *wih_jwk_kid(const wih_jwk_key *k)
{
    return k ? k->kid : NULL;
}

void wih_jwk_set_kid(wih_jwk_key *k, const char *kid)
{
    free(k->kid);
    k->kid = wih_strdup(kid);
}

static char *bn_param_b64(const EVP_PKEY *pkey, const char *name)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) return NULL;
    int n = BN_num_bytes(bn);
    unsigned char *b = wih_xmalloc((size_t)n + 1);
    BN_bn2bin(bn, b);
    char *s = wih_b64url_encode(b, (size_t)n);
    free(b);
    BN_free(bn);
    return s;
}

cJSON *wih_jwk_public(const wih_jwk_key *k)
{
    char *n = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e = bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) {
        free(n);
        free(e);
        return NULL;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kty", "RSA");
    cJSON_AddStringToObject(j, "alg", "RS256");
    cJSON_AddStringToObject(j, "use", "sig");
    if (k->kid) cJSON_AddStringToObject(j, "kid", k->kid);
    cJSON_AddStringToObject(j, "n", n);
    cJSON_AddStringToObject(j, "e", e);
    free(n);
    free(e);
    return j;
}

static char *bio_string(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = wih_xmalloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    BIO_free(b);
    return s;
}

char *wih_jwk_public_pem(const wih_jwk_key *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PUBKEY(b, k->pkey)) {
        BIO_free(b);
        return NULL;
    }
    return bio_string(b);
}

char *wih_jwk_private_pem(const wih_jwk_key *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || !PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(b);
        return NULL;
    }
    return bio_string(b);
}

static char *json_b64(const cJSON *j)
{
    char *s = cJSON_PrintUnformatted(j); /* never NULL: OOM rule */
    char *b = wih_b64url_encode((const unsigned char *)s, strlen(s));
    free(s);
    return b;
}

char *wih_jwt_sign_hdr(const wih_jwk_key *k, const cJSON *extra_header, const cJSON *payload, wih_err **err)
{
    if (!cJSON_IsObject(payload)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "signing a JWT: the payload is not a JSON object");
        return NULL;
    }
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "alg", "RS256");
    cJSON_AddStringToObject(h, "typ", "JWT");
    if (k->kid) cJSON_AddStringToObject(h, "kid", k->kid);
    const cJSON *it;
    if (cJSON_IsObject(extra_header))
        cJSON_ArrayForEach(it, extra_header)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(h, it->string);
            cJSON_AddItemToObject(h, it->string, cJSON_Duplicate(it, true));
        }
    char *hb = json_b64(h), *pb = json_b64(payload);
    cJSON_Delete(h);
    char *input = wih_asprintf("%s.%s", hb, pb);
    free(hb);
    free(pb);
    size_t siglen = (size_t)EVP_PKEY_get_size(k->pkey);
    unsigned char *sig = wih_xmalloc(siglen);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) wih_oom(sizeof(void *));
    bool ok = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
              EVP_DigestSign(md, sig, &siglen, (const unsigned char *)input, strlen(input)) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        char *m = ossl_errstr();
        *err = wih_err_new(WIH_EXIT_INFRA, "signing a JWT: %s", m);
        free(m);
        free(sig);
        free(input);
        return NULL;
    }
    char *sb = wih_b64url_encode(sig, siglen);
    free(sig);
    char *out = wih_asprintf("%s.%s", input, sb);
    free(input);
    free(sb);
    return out;
}

char *wih_jwt_sign(const wih_jwk_key *k, const cJSON *payload, wih_err **err)
{
    return wih_jwt_sign_hdr(k, NULL, payload, err);
}
