/* JWT: every malformed or hostile token gets its own code; round trips work.
 * Keys are generated at test time; no key or token is committed. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/jwt.h"

static wih_jwk_key *key1, *key2, *key_other_same_kid;
static cJSON *jwks; /* key1 + key2 */
static int64_t now;

static void setup_keys(void)
{
    wih_err *e = NULL;
    key1 = wih_jwk_generate(2048, "k1", &e);
    key2 = wih_jwk_generate(2048, "k2", &e);
    key_other_same_kid = wih_jwk_generate(2048, "k1", &e);
    ck_assert_msg(key1 && key2 && key_other_same_kid, "keygen: %s", wih_err_str(e));
    jwks = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(jwks, "keys");
    cJSON_AddItemToArray(keys, wih_jwk_public(key1));
    cJSON_AddItemToArray(keys, wih_jwk_public(key2));
    now = (int64_t)time(NULL);
}

static void teardown_keys(void)
{
    wih_jwk_free(key1);
    wih_jwk_free(key2);
    wih_jwk_free(key_other_same_kid);
    cJSON_Delete(jwks);
}

static cJSON *claims(int64_t exp_off)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "iss", "https://127.0.0.1:6443");
    cJSON_AddStringToObject(p, "sub", "system:serviceaccount:ns:sa");
    cJSON *aud = cJSON_AddArrayToObject(p, "aud");
    cJSON_AddItemToArray(aud, cJSON_CreateString("sts.amazonaws.com"));
    cJSON_AddItemToArray(aud, cJSON_CreateString("wiharness-test"));
    cJSON_AddNumberToObject(p, "iat", (double)(now - 10));
    cJSON_AddNumberToObject(p, "nbf", (double)(now - 10));
    cJSON_AddNumberToObject(p, "exp", (double)(now + exp_off));
    return p;
}

static char *sign(wih_jwk_key *k, const char *extra_hdr_json, cJSON *payload)
{
    cJSON *h = extra_hdr_json ? cJSON_Parse(extra_hdr_json) : NULL;
    wih_err *e = NULL;
    char *t = wih_jwt_sign_hdr(k, h, payload, &e);
    ck_assert_msg(t, "sign: %s", wih_err_str(e));
    cJSON_Delete(h);
    cJSON_Delete(payload);
    return t;
}

static char *b64s(const char *s)
{
    return wih_b64url_encode((const unsigned char *)s, strlen(s));
}

/* "<b64(h)>.<b64(p)>.<sig>" from raw strings */
static char *raw_token(const char *h, const char *p, const char *sig)
{
    char *hb = b64s(h), *pb = b64s(p);
    char *t = wih_asprintf("%s.%s.%s", hb, pb, sig);
    free(hb);
    free(pb);
    return t;
}

/* parse + verify_ex; returns the first failing code */
static wih_jwt_code check(const char *tok, const cJSON *keys, unsigned flags)
{
    wih_jwt_code c = WIH_JWT_OK;
    wih_err *e = NULL;
    wih_jwt *t = wih_jwt_parse(tok, &c, &e);
    if (!t) {
        ck_assert_int_ne(c, WIH_JWT_OK);
        ck_assert_ptr_nonnull(e);
        /* the message never quotes the token */
        if (tok && strlen(tok) > 20) ck_assert_ptr_null(strstr(wih_err_str(e), tok));
        wih_err_free(e);
        return c;
    }
    ck_assert_ptr_null(e);
    c = wih_jwt_verify_ex(t, keys, now, 30, flags, &e);
    ck_assert(c == WIH_JWT_OK ? e == NULL : e != NULL);
    wih_err_free(e);
    wih_jwt_free(t);
    return c;
}

#define EXPECT(tok, code) ck_assert_str_eq(wih_jwt_code_name(check((tok), jwks, 0)), wih_jwt_code_name(code))

/* ----------------------------------------------------------------- positive */
START_TEST(roundtrip_ok)
{
    char *tok = sign(key1, NULL, claims(600));
    ck_assert_int_eq(check(tok, jwks, WIH_JWT_REQUIRE_KID | WIH_JWT_REQUIRE_EXP), WIH_JWT_OK);
    wih_jwt_code c;
    wih_jwt *t = wih_jwt_parse(tok, &c, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(wih_jwt_claim_str(t, "sub"), "system:serviceaccount:ns:sa");
    ck_assert_str_eq(wih_jwt_claim_str(t, "iss"), "https://127.0.0.1:6443");
    ck_assert_ptr_null(wih_jwt_claim_str(t, "exp")); /* a number, not a string */
    int64_t exp = 0;
    ck_assert(wih_jwt_claim_int(t, "exp", &exp));
    ck_assert_int_eq(exp, now + 600);
    ck_assert(!wih_jwt_claim_int(t, "sub", NULL));
    ck_assert(wih_jwt_has_aud(t, "wiharness-test"));
    ck_assert(wih_jwt_has_aud(t, "sts.amazonaws.com"));
    ck_assert(!wih_jwt_has_aud(t, "api://AzureADTokenExchange"));
    ck_assert_str_eq(cJSON_GetObjectItem(t->header, "kid")->valuestring, "k1");
    ck_assert_str_eq(cJSON_GetObjectItem(t->header, "alg")->valuestring, "RS256");
    wih_jwt_free(t);
    free(tok);
}
END_TEST

START_TEST(second_key_and_string_aud)
{
    cJSON *p = claims(600);
    cJSON_ReplaceItemInObject(p, "aud", cJSON_CreateString("only"));
    char *tok = sign(key2, NULL, p);
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    wih_jwt *t = wih_jwt_parse(tok, NULL, NULL);
    ck_assert(wih_jwt_has_aud(t, "only"));
    ck_assert(!wih_jwt_has_aud(t, "onl"));
    wih_jwt_free(t);
    free(tok);
}
END_TEST

START_TEST(no_kid_tries_every_key)
{
    char *tok = sign(key2, "{\"kid\":null}", claims(600));
    /* kid:null is "a kid that is not a string" → refused */
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_KID_UNKNOWN);
    free(tok);
    /* a key without kid: the header has none, every key is tried */
    wih_err *e = NULL;
    wih_jwk_key *nk = wih_jwk_generate(2048, NULL, &e);
    ck_assert_ptr_nonnull(nk);
    cJSON_AddItemToArray(cJSON_GetObjectItem(jwks, "keys"), wih_jwk_public(nk));
    tok = sign(nk, NULL, claims(600));
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    ck_assert_int_eq(check(tok, jwks, WIH_JWT_REQUIRE_KID), WIH_JWT_KID_MISSING);
    free(tok);
    wih_jwk_free(nk);
}
END_TEST

START_TEST(leeway_accepts_small_skew)
{
    cJSON *p = claims(-10); /* expired 10 s ago, leeway 30 */
    char *tok = sign(key1, NULL, p);
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    free(tok);
    p = claims(600);
    cJSON_ReplaceItemInObject(p, "nbf", cJSON_CreateNumber((double)(now + 20)));
    tok = sign(key1, NULL, p);
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    free(tok);
}
END_TEST

START_TEST(b64url_roundtrip)
{
    unsigned char buf[300];
    RAND_bytes(buf, sizeof buf);
    for (size_t n = 0; n <= sizeof buf; n++) {
        char *s = wih_b64url_encode(buf, n);
        ck_assert_uint_eq(strlen(s), (n * 4 + 2) / 3);
        ck_assert_ptr_null(strpbrk(s, "+/="));
        size_t m = 99999;
        unsigned char *d = wih_b64url_decode(s, strlen(s), &m);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(m, n);
        ck_assert(memcmp(d, buf, n) == 0);
        free(d);
        free(s);
    }
    /* known vectors (RFC 4648 §10 with the URL alphabet) */
    char *s = wih_b64url_encode((const unsigned char *)"foob", 4);
    ck_assert_str_eq(s, "Zm9vYg");
    free(s);
    s = wih_b64url_encode((const unsigned char[]){0xfb, 0xff}, 2);
    ck_assert_str_eq(s, "-_8");
    free(s);
    ck_assert_ptr_null(wih_b64url_decode("Zm9vYg==", 8, NULL)); /* padding */
    ck_assert_ptr_null(wih_b64url_decode("Zm9vYh", 6, NULL));   /* non-zero spare bits */
    ck_assert_ptr_null(wih_b64url_decode("Z", 1, NULL));        /* impossible length */
    ck_assert_ptr_null(wih_b64url_decode("+/8", 3, NULL));      /* the other alphabet */
    ck_assert_ptr_null(wih_b64url_decode("Zm 9", 4, NULL));
}
END_TEST

START_TEST(pem_exports)
{
    char *pub = wih_jwk_public_pem(key1), *priv = wih_jwk_private_pem(key1);
    ck_assert_ptr_nonnull(strstr(pub, "BEGIN PUBLIC KEY"));
    ck_assert_ptr_nonnull(strstr(priv, "BEGIN PRIVATE KEY"));
    /* load_pem round trip: a token signed by the reloaded key verifies under k1's JWK */
    char path[] = "/tmp/wih-jwt-test-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, priv, strlen(priv)), (ssize_t)strlen(priv));
    close(fd);
    wih_err *e = NULL;
    wih_jwk_key *k = wih_jwk_load_pem(path, "k1", &e);
    unlink(path);
    ck_assert_msg(k, "%s", wih_err_str(e));
    char *tok = sign(k, NULL, claims(600));
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    free(tok);
    wih_jwk_free(k);
    ck_assert_ptr_null(wih_jwk_load_pem("/nonexistent/key.pem", "x", &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    free(pub);
    free(priv);
}
END_TEST

/* ----------------------------------------------------------------- negative */
START_TEST(neg_empty)
{
    EXPECT("", WIH_JWT_EMPTY);
    ck_assert_int_eq(check(NULL, jwks, 0), WIH_JWT_EMPTY);
}
END_TEST

START_TEST(neg_garbage)
{
    EXPECT("this is not a token", WIH_JWT_SEGMENTS);
    EXPECT("a.b.c", WIH_JWT_BASE64);         /* 1-symbol segments cannot be base64 */
    EXPECT("....", WIH_JWT_SEGMENTS);
    EXPECT("e30.e30.e30.e30", WIH_JWT_SEGMENTS); /* JWE-like, 4+ parts */
    EXPECT("\xff\xfe.\x01.\x02", WIH_JWT_BASE64);
}
END_TEST

START_TEST(neg_truncated)
{
    char *tok = sign(key1, NULL, claims(600));
    char *dot2 = strrchr(tok, '.');
    /* cut inside the signature: shorter than the modulus */
    char *cut = wih_strdup(tok);
    cut[dot2 - tok + 1 + 336] = 0; /* 336 symbols = 252 bytes, valid base64url */
    EXPECT(cut, WIH_JWT_SIG_LENGTH);
    /* cut at the second dot: two segments */
    cut[dot2 - tok] = 0;
    EXPECT(cut, WIH_JWT_SEGMENTS);
    /* cut right after the second dot: empty signature */
    cut[dot2 - tok] = '.';
    cut[dot2 - tok + 1] = 0;
    EXPECT(cut, WIH_JWT_SIG_LENGTH);
    /* cut inside the payload */
    free(cut);
    cut = wih_strdup(tok);
    cut[strchr(tok, '.') - tok + 10] = 0;
    EXPECT(cut, WIH_JWT_SEGMENTS);
    free(cut);
    free(tok);
}
END_TEST

START_TEST(neg_bad_base64)
{
    char *tok = sign(key1, NULL, claims(600));
    char *bad = wih_strdup(tok);
    bad[3] = '+'; /* standard alphabet in the header */
    EXPECT(bad, WIH_JWT_BASE64);
    free(bad);
    bad = wih_asprintf("%s==", tok); /* padded signature */
    EXPECT(bad, WIH_JWT_BASE64);
    free(bad);
    bad = wih_strdup(tok);
    bad[strchr(tok, '.') - tok + 5] = '%';
    EXPECT(bad, WIH_JWT_BASE64);
    free(bad);
    free(tok);
}
END_TEST

START_TEST(neg_header_not_object)
{
    char *t = raw_token("[\"RS256\"]", "{}", "AAAA");
    EXPECT(t, WIH_JWT_HEADER_JSON);
    free(t);
    t = raw_token("{\"alg\":\"RS256\"", "{}", "AAAA");
    EXPECT(t, WIH_JWT_HEADER_JSON);
    free(t);
    t = raw_token("{\"alg\":\"RS256\"} trailing", "{}", "AAAA");
    EXPECT(t, WIH_JWT_HEADER_JSON);
    free(t);
    t = raw_token("", "{}", "AAAA");
    EXPECT(t, WIH_JWT_HEADER_JSON);
    free(t);
}
END_TEST

START_TEST(neg_payload_not_object)
{
    char *t = raw_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", "\"just a string\"", "AAAA");
    EXPECT(t, WIH_JWT_PAYLOAD_JSON);
    free(t);
    t = raw_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", "42", "AAAA");
    EXPECT(t, WIH_JWT_PAYLOAD_JSON);
    free(t);
    t = raw_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", "not json", "AAAA");
    EXPECT(t, WIH_JWT_PAYLOAD_JSON);
    free(t);
}
END_TEST

START_TEST(neg_alg_none)
{
    cJSON *p = claims(600);
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    const char *hdrs[] = {"{\"alg\":\"none\",\"kid\":\"k1\"}", "{\"alg\":\"NoNe\",\"kid\":\"k1\"}",
                          "{\"kid\":\"k1\"}", "{\"alg\":7,\"kid\":\"k1\"}"};
    for (size_t i = 0; i < 4; i++) {
        char *t = raw_token(hdrs[i], ps, "");
        EXPECT(t, WIH_JWT_ALG_NONE);
        free(t);
    }
    /* a valid RS256 signature does not rescue alg none */
    char *good = sign(key1, "{\"alg\":\"none\"}", claims(600));
    EXPECT(good, WIH_JWT_ALG_NONE);
    free(good);
    free(ps);
}
END_TEST

/* HMAC over the signing input keyed with the public key's bytes: the classic
 * RS256/HS256 confusion. Must never verify, whatever alg says. */
START_TEST(neg_hs256_key_confusion)
{
    char *pem = wih_jwk_public_pem(key1);
    cJSON *p = claims(600);
    char *ps = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    const char *hdrs[] = {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}",
                          "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"};
    wih_jwt_code expect[] = {WIH_JWT_ALG_UNSUPPORTED, WIH_JWT_SIG_LENGTH};
    for (int i = 0; i < 2; i++) {
        char *hb = b64s(hdrs[i]), *pb = b64s(ps);
        char *input = wih_asprintf("%s.%s", hb, pb);
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned maclen = 0;
        ck_assert_ptr_nonnull(HMAC(EVP_sha256(), pem, (int)strlen(pem), (unsigned char *)input, strlen(input), mac,
                                   &maclen));
        char *sb = wih_b64url_encode(mac, maclen);
        char *tok = wih_asprintf("%s.%s", input, sb);
        EXPECT(tok, expect[i]);
        free(tok);
        free(sb);
        free(input);
        free(hb);
        free(pb);
    }
    /* and the other HMAC/EC/PSS names are all refused */
    const char *algs[] = {"HS384", "HS512", "ES256", "PS256", "RS512", "rs256"};
    for (size_t i = 0; i < 6; i++) {
        char *h = wih_asprintf("{\"alg\":\"%s\"}", algs[i]);
        char *tok = sign(key1, h, claims(600));
        EXPECT(tok, WIH_JWT_ALG_UNSUPPORTED);
        free(tok);
        free(h);
    }
    free(ps);
    free(pem);
}
END_TEST

START_TEST(neg_kid_unknown)
{
    char *tok = sign(key1, "{\"kid\":\"nope\"}", claims(600));
    EXPECT(tok, WIH_JWT_KID_UNKNOWN);
    free(tok);
}
END_TEST

START_TEST(neg_kid_missing_when_required)
{
    char *tok = sign(key1, NULL, claims(600));
    /* strip kid by re-signing with a key that has none */
    wih_err *e = NULL;
    wih_jwk_key *nk = wih_jwk_generate(2048, NULL, &e);
    char *t2 = sign(nk, NULL, claims(600));
    ck_assert_int_eq(check(t2, jwks, WIH_JWT_REQUIRE_KID), WIH_JWT_KID_MISSING);
    /* without the flag, no key of the JWKS verifies it */
    ck_assert_int_eq(check(t2, jwks, 0), WIH_JWT_BAD_SIGNATURE);
    free(t2);
    free(tok);
    wih_jwk_free(nk);
}
END_TEST

START_TEST(neg_no_usable_key)
{
    char *tok = sign(key1, NULL, claims(600));
    cJSON *empty = cJSON_Parse("{\"keys\":[]}");
    ck_assert_int_eq(check(tok, empty, 0), WIH_JWT_NO_KEY);
    cJSON_Delete(empty);
    cJSON *ec = cJSON_Parse("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"k1\",\"x\":\"AA\",\"y\":\"AA\"}]}");
    ck_assert_int_eq(check(tok, ec, 0), WIH_JWT_NO_KEY);
    cJSON_Delete(ec);
    ck_assert_int_eq(check(tok, NULL, 0), WIH_JWT_NO_KEY);
    /* an encryption-only RSA key is not a signing key */
    cJSON *enc = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(enc, "keys");
    cJSON *jwk = wih_jwk_public(key1);
    cJSON_ReplaceItemInObject(jwk, "use", cJSON_CreateString("enc"));
    cJSON_AddItemToArray(keys, jwk);
    ck_assert_int_eq(check(tok, enc, 0), WIH_JWT_NO_KEY);
    cJSON_Delete(enc);
    /* keys below 2048 bits are refused */
    wih_err *e = NULL;
    wih_jwk_key *small = wih_jwk_generate(1024, "s", &e);
    ck_assert_ptr_nonnull(small);
    cJSON *sj = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(sj, "keys"), wih_jwk_public(small));
    char *st = sign(small, NULL, claims(600));
    ck_assert_int_eq(check(st, sj, 0), WIH_JWT_NO_KEY);
    free(st);
    cJSON_Delete(sj);
    wih_jwk_free(small);
    free(tok);
}
END_TEST

START_TEST(neg_bad_signature)
{
    /* right kid, wrong key */
    char *tok = sign(key_other_same_kid, NULL, claims(600));
    EXPECT(tok, WIH_JWT_BAD_SIGNATURE);
    free(tok);
    /* tampered payload: the sub changed after signing */
    tok = sign(key1, NULL, claims(600));
    wih_jwt *t = wih_jwt_parse(tok, NULL, NULL);
    cJSON_ReplaceItemInObject(t->payload, "sub", cJSON_CreateString("system:serviceaccount:ns:admin"));
    char *ps = cJSON_PrintUnformatted(t->payload);
    char *pb = b64s(ps);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *forged = wih_asprintf("%.*s.%s%s", (int)(d1 - tok), tok, pb, d2);
    EXPECT(forged, WIH_JWT_BAD_SIGNATURE);
    /* one flipped bit in the signature */
    char *flip = wih_strdup(tok);
    char *last = flip + strlen(flip) - 3;
    *last = *last == 'A' ? 'B' : 'A';
    EXPECT(flip, WIH_JWT_BAD_SIGNATURE);
    free(flip);
    free(forged);
    free(pb);
    free(ps);
    wih_jwt_free(t);
    free(tok);
}
END_TEST

START_TEST(neg_expired)
{
    char *tok = sign(key1, NULL, claims(-120));
    EXPECT(tok, WIH_JWT_EXPIRED);
    free(tok);
    cJSON *p = claims(0);
    cJSON_DeleteItemFromObject(p, "exp");
    tok = sign(key1, NULL, p);
    ck_assert_int_eq(check(tok, jwks, 0), WIH_JWT_OK);
    ck_assert_int_eq(check(tok, jwks, WIH_JWT_REQUIRE_EXP), WIH_JWT_CLAIM_MISSING);
    free(tok);
}
END_TEST

START_TEST(neg_not_yet_valid)
{
    cJSON *p = claims(3600);
    cJSON_ReplaceItemInObject(p, "nbf", cJSON_CreateNumber((double)(now + 600)));
    char *tok = sign(key1, NULL, p);
    EXPECT(tok, WIH_JWT_NOT_YET_VALID);
    free(tok);
    p = claims(3600);
    cJSON_ReplaceItemInObject(p, "iat", cJSON_CreateNumber((double)(now + 600)));
    tok = sign(key1, NULL, p);
    EXPECT(tok, WIH_JWT_NOT_YET_VALID);
    free(tok);
}
END_TEST

START_TEST(neg_claim_type)
{
    const char *bad[][2] = {{"exp", "\"tomorrow\""}, {"nbf", "true"}, {"iss", "1"}, {"sub", "[\"a\"]"},
                            {"aud", "{}"}, {"aud", "[\"a\",2]"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cJSON *p = claims(600);
        cJSON_ReplaceItemInObject(p, bad[i][0], cJSON_Parse(bad[i][1]));
        char *tok = sign(key1, NULL, p);
        ck_assert_msg(check(tok, jwks, 0) == WIH_JWT_CLAIM_TYPE, "claim %s=%s", bad[i][0], bad[i][1]);
        free(tok);
    }
}
END_TEST

START_TEST(neg_too_large)
{
    cJSON *p = claims(600);
    char *pad = malloc(WIH_JWT_MAX_LEN);
    memset(pad, 'x', WIH_JWT_MAX_LEN - 1);
    pad[WIH_JWT_MAX_LEN - 1] = 0;
    cJSON_AddStringToObject(p, "pad", pad);
    free(pad);
    char *tok = sign(key1, NULL, p);
    EXPECT(tok, WIH_JWT_TOO_LARGE);
    free(tok);
}
END_TEST

START_TEST(code_names_distinct)
{
    for (int i = 0; i < WIH_JWT_CODE_COUNT; i++) {
        ck_assert_str_ne(wih_jwt_code_name((wih_jwt_code)i), "unknown");
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(wih_jwt_code_name((wih_jwt_code)i), wih_jwt_code_name((wih_jwt_code)j));
    }
    ck_assert_str_eq(wih_jwt_code_name(WIH_JWT_CODE_COUNT), "unknown");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("jwt");
    tcase_add_unchecked_fixture(tc, setup_keys, teardown_keys);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, roundtrip_ok);
    tcase_add_test(tc, second_key_and_string_aud);
    tcase_add_test(tc, leeway_accepts_small_skew);
    tcase_add_test(tc, b64url_roundtrip);
    tcase_add_test(tc, pem_exports);
    tcase_add_test(tc, neg_empty);
    tcase_add_test(tc, neg_garbage);
    tcase_add_test(tc, neg_truncated);
    tcase_add_test(tc, neg_bad_base64);
    tcase_add_test(tc, neg_header_not_object);
    tcase_add_test(tc, neg_payload_not_object);
    tcase_add_test(tc, neg_alg_none);
    tcase_add_test(tc, neg_hs256_key_confusion);
    tcase_add_test(tc, neg_kid_unknown);
    tcase_add_test(tc, neg_kid_missing_when_required);
    tcase_add_test(tc, neg_no_usable_key);
    tcase_add_test(tc, neg_bad_signature);
    tcase_add_test(tc, neg_expired);
    tcase_add_test(tc, neg_not_yet_valid);
    tcase_add_test(tc, neg_claim_type);
    tcase_add_test(tc, neg_too_large);
    tcase_add_test(tc, code_names_distinct);
    tcase_add_test(tc, no_kid_tries_every_key); /* last: it adds a key to the shared JWKS */
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
