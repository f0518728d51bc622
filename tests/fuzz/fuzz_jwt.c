/* libFuzzer: JWT parsing and verification never crash and never accept a
 * token the fuzzer made up (it cannot sign with our key). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/jwt.h"

static cJSON *jwks;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!jwks) {
        wih_err *e = NULL;
        wih_jwk_key *k = wih_jwk_generate(2048, "fuzz", &e);
        if (!k) abort();
        jwks = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(jwks, "keys"), wih_jwk_public(k));
        wih_jwk_free(k);
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    wih_jwt_code c;
    wih_err *e = NULL;
    wih_jwt *t = wih_jwt_parse(s, &c, &e);
    if (t) {
        if (c != WIH_JWT_OK || e) abort();
        if (wih_jwt_verify_ex(t, jwks, 1700000000, 30, WIH_JWT_REQUIRE_EXP, &e) == WIH_JWT_OK) abort();
        wih_err_free(e);
        (void)wih_jwt_claim_str(t, "sub");
        int64_t v;
        (void)wih_jwt_claim_int(t, "exp", &v);
        (void)wih_jwt_has_aud(t, "x");
        wih_jwt_free(t);
    } else {
        if (c == WIH_JWT_OK || !e) abort();
        wih_err_free(e);
    }
    /* base64url: decode(encode(x)) == x */
    char *b = wih_b64url_encode(data, size);
    size_t n = 0;
    unsigned char *d = wih_b64url_decode(b, strlen(b), &n);
    if (!d || n != size || memcmp(d, data, size)) abort();
    free(d);
    free(b);
    free(s);
    return 0;
}
