/* jwt (part of core) — compact JWS parsing, RS256 verification against a JWKS,
 * RS256 signing (the mock cloud mints tokens), claims access.
 *
 * Verification is strict: only RS256 is accepted (`alg: none`, HS*, ES*, PS*
 * are rejected — in particular an HMAC "signed" with the RSA public key is
 * never accepted); the header's `kid`, when present, must name a key of the
 * JWKS; without `kid` every RSA key is tried. Each malformed case has its own
 * error code so callers (the mock cloud) can answer like the real provider.
 */
#ifndef WIHARNESS_JWT_H
#define WIHARNESS_JWT_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

typedef enum {
    WIH_JWT_OK = 0,
    WIH_JWT_EMPTY,          /* no token at all */
    WIH_JWT_SEGMENTS,       /* not three dot-separated segments */
    WIH_JWT_BASE64,         /* a segment is not base64url */
    WIH_JWT_HEADER_JSON,    /* header is not a JSON object */
    WIH_JWT_PAYLOAD_JSON,   /* payload is not a JSON object */
    WIH_JWT_ALG_NONE,       /* alg "none" (or missing) */
    WIH_JWT_ALG_UNSUPPORTED,/* any alg other than RS256 (HS256 key confusion lands here) */
    WIH_JWT_KID_UNKNOWN,    /* kid names no key in the JWKS */
    WIH_JWT_NO_KEY,         /* JWKS has no usable RSA key */
    WIH_JWT_BAD_SIGNATURE,  /* signature does not verify */
    WIH_JWT_EXPIRED,        /* exp in the past (with leeway) */
    WIH_JWT_NOT_YET_VALID,  /* nbf/iat in the future (with leeway) */
    WIH_JWT_CLAIM_TYPE,     /* a registered claim has the wrong JSON type */
    WIH_JWT_TOO_LARGE,      /* longer than WIH_JWT_MAX_LEN */
    WIH_JWT_KID_MISSING,    /* no kid while WIH_JWT_REQUIRE_KID is asked for */
    WIH_JWT_SIG_LENGTH,     /* signature length != the key's modulus length (truncated) */
    WIH_JWT_CLAIM_MISSING,  /* a claim required by the flags (exp) is absent */
    WIH_JWT_CODE_COUNT
} wih_jwt_code;

#define WIH_JWT_MAX_LEN (64 * 1024)

const char *wih_jwt_code_name(wih_jwt_code c); /* "expired", "bad-signature", ... */

typedef struct wih_jwt {
    cJSON *header;  /* owned */
    cJSON *payload; /* owned */
    char *signing_input; /* "<b64 header>.<b64 payload>" */
    unsigned char *sig;
    size_t siglen;
} wih_jwt;

/* Parse without verifying. On failure returns NULL and sets *code (and err). */
wih_jwt *wih_jwt_parse(const char *compact, wih_jwt_code *code, wih_err **err);
void wih_jwt_free(wih_jwt *t);

/* Verify the signature against a JWKS document ({"keys":[...]}) and the time
 * claims (exp, nbf) at `now` (seconds since the epoch) with `leeway` seconds. */
wih_jwt_code wih_jwt_verify(const wih_jwt *t, const cJSON *jwks, int64_t now, int64_t leeway, wih_err **err);

/* Stricter variants for identity providers: MinIO and the clouds require a
 * kid (when the JWKS holds more than one key the choice is ambiguous) and an
 * exp. wih_jwt_verify is wih_jwt_verify_ex(..., 0, ...). */
enum { WIH_JWT_REQUIRE_KID = 1, WIH_JWT_REQUIRE_EXP = 2 };
wih_jwt_code wih_jwt_verify_ex(const wih_jwt *t, const cJSON *jwks, int64_t now, int64_t leeway,
                               unsigned flags, wih_err **err);

/* Claims (borrowed, NULL when absent or of another type). */
const char *wih_jwt_claim_str(const wih_jwt *t, const char *name);
bool wih_jwt_claim_int(const wih_jwt *t, const char *name, int64_t *out);
/* true if `aud` (a string or a list of strings) contains aud. */
bool wih_jwt_has_aud(const wih_jwt *t, const char *aud);

/* An RSA signing key (for the mock cloud and tests). */
typedef struct wih_jwk_key wih_jwk_key;
wih_jwk_key *wih_jwk_generate(int bits, const char *kid, wih_err **err);
wih_jwk_key *wih_jwk_load_pem(const char *pem_path, const char *kid, wih_err **err);
void wih_jwk_free(wih_jwk_key *k);
/* The public half as a JWK ({"kty":"RSA","alg":"RS256","use":"sig","kid","n","e"}). */
cJSON *wih_jwk_public(const wih_jwk_key *k);
/* Sign header+payload as RS256 (kid added to the header). Returns the compact form. */
char *wih_jwt_sign(const wih_jwk_key *k, const cJSON *payload, wih_err **err);

/* The public half as PEM (SubjectPublicKeyInfo) — e.g. for kube-apiserver's
 * --service-account-key-file, or a test's key-confusion attack. */
char *wih_jwk_public_pem(const wih_jwk_key *k);
/* The private key as PKCS#8 PEM (mode-0600 files only; never print it). */
char *wih_jwk_private_pem(const wih_jwk_key *k);
const char *wih_jwk_kid(const wih_jwk_key *k); /* borrowed */
void wih_jwk_set_kid(wih_jwk_key *k, const char *kid);
/* Sign with extra header fields (merged over alg/typ/kid; for tests that need
 * a hostile header). */
char *wih_jwt_sign_hdr(const wih_jwk_key *k, const cJSON *extra_header, const cJSON *payload, wih_err **err);

/* base64url without padding. */
char *wih_b64url_encode(const unsigned char *p, size_t n);
unsigned char *wih_b64url_decode(const char *s, size_t len, size_t *outlen); /* NULL if invalid */

#endif
