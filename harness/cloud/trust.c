/* The trust registry's pure checks: a subject token against a role's trust,
 * and the identifiers each provider uses for a role. No I/O here. */
#include <fnmatch.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wiharness/cloud.h"

static const char *const verdict_names[] = {
    [CLOUD_OK] = "ok",
    [CLOUD_TOKEN_MALFORMED] = "token-malformed",
    [CLOUD_TOKEN_SIGNATURE] = "token-signature",
    [CLOUD_ISSUER_UNKNOWN] = "issuer-unknown",
    [CLOUD_AUDIENCE] = "audience",
    [CLOUD_SUBJECT] = "subject",
    [CLOUD_EXPIRED] = "expired",
    [CLOUD_NOT_YET_VALID] = "not-yet-valid",
    [CLOUD_CLAIM_MISSING] = "claim-missing",
    [CLOUD_ROLE_UNKNOWN] = "role-unknown",
};

const char *cloud_verdict_name(cloud_verdict v)
{
    if ((int)v < 0 || (size_t)v >= sizeof verdict_names / sizeof *verdict_names) return "unknown";
    return verdict_names[v];
}

void cloud_decision_clear(cloud_decision *d)
{
    if (!d) return;
    free(d->detail);
    free(d->iss);
    free(d->sub);
    cJSON_Delete(d->aud);
    free(d->want_iss);
    free(d->want_aud);
    free(d->token_fp);
    cJSON_Delete(d->checks);
    memset(d, 0, sizeof *d);
}

static void step(cloud_decision *d, const char *check, bool ok)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "check", check);
    cJSON_AddBoolToObject(c, "ok", ok);
    cJSON_AddItemToArray(d->checks, c);
    if (!ok) d->check = check;
}

static cloud_verdict verdict(cloud_decision *d, cloud_verdict v, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static cloud_verdict verdict(cloud_decision *d, cloud_verdict v, const char *check, const char *fmt, ...)
{
    step(d, check, false);
    d->verdict = v;
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(0, fmt, ap);
    va_end(ap);
    free(d->detail);
    d->detail = wih_strdup(e->msg);
    wih_err_free(e);
    return v;
}

static cloud_verdict jwt_verdict(wih_jwt_code c)
{
    switch (c) {
    case WIH_JWT_KID_UNKNOWN:
    case WIH_JWT_KID_MISSING:
    case WIH_JWT_NO_KEY:
    case WIH_JWT_BAD_SIGNATURE:
    case WIH_JWT_SIG_LENGTH: return CLOUD_TOKEN_SIGNATURE;
    case WIH_JWT_EXPIRED: return CLOUD_EXPIRED;
    case WIH_JWT_NOT_YET_VALID: return CLOUD_NOT_YET_VALID;
    case WIH_JWT_CLAIM_MISSING: return CLOUD_CLAIM_MISSING;
    default: return CLOUD_TOKEN_MALFORMED;
    }
}

static const char *jwt_check_name(wih_jwt_code c)
{
    switch (jwt_verdict(c)) {
    case CLOUD_TOKEN_SIGNATURE: return "signature";
    case CLOUD_EXPIRED:
    case CLOUD_NOT_YET_VALID: return "expiry";
    case CLOUD_CLAIM_MISSING: return "claims";
    default: return c == WIH_JWT_ALG_NONE || c == WIH_JWT_ALG_UNSUPPORTED ? "algorithm" : "parse";
    }
}

cloud_verdict cloud_check_token(const cJSON *reg, const char *role, const char *token, const char *want_aud,
                                int64_t now, cloud_decision *d)
{
    memset(d, 0, sizeof *d);
    d->checks = cJSON_CreateArray();
    d->check = "ok";
    d->token_fp = token && *token ? wih_fingerprint(token) : NULL;
    /* role NULL: only the token and its issuer (Google's STS exchange is not role-bound) */
    const cJSON *r = role ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reg, "roles"), role) : NULL;
    if (role && !cJSON_IsObject(r)) return verdict(d, CLOUD_ROLE_UNKNOWN, "role", "no role named \"%.128s\"", role);
    if (role) step(d, "role", true);
    const cJSON *trust = cJSON_GetObjectItemCaseSensitive(r, "trust");
    const cJSON *tiss = cJSON_GetObjectItemCaseSensitive(trust, "issuer");
    const cJSON *taud = cJSON_GetObjectItemCaseSensitive(trust, "audience");
    d->want_iss = wih_strdup(cJSON_IsString(tiss) ? tiss->valuestring : NULL);
    d->want_aud = wih_strdup(want_aud ? want_aud : cJSON_IsString(taud) ? taud->valuestring : NULL);

    wih_jwt_code jc;
    wih_err *e = NULL;
    wih_jwt *t = wih_jwt_parse(token, &jc, &e);
    if (!t) {
        d->jwt_code = jc;
        cloud_verdict v = verdict(d, jwt_verdict(jc), jwt_check_name(jc), "%s", wih_err_str(e));
        wih_err_free(e);
        return v;
    }
    step(d, "parse", true);
    /* unverified claims, for the log (expected vs actual) */
    d->iss = wih_strdup(wih_jwt_claim_str(t, "iss"));
    d->sub = wih_strdup(wih_jwt_claim_str(t, "sub"));
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(t->payload, "aud");
    d->aud = aud ? cJSON_Duplicate(aud, true) : NULL;
    cloud_verdict v = CLOUD_OK;

    const cJSON *prov = d->iss ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reg, "providers"),
                                                                  d->iss)
                               : NULL;
    if (!d->iss) {
        /* without iss no provider can be chosen */
        v = verdict(d, CLOUD_CLAIM_MISSING, "issuer", "the token has no iss claim");
        goto out;
    }
    if (!cJSON_IsObject(prov)) {
        v = verdict(d, CLOUD_ISSUER_UNKNOWN, "issuer", "no OpenID Connect provider is registered for issuer \"%.256s\"",
                    d->iss);
        goto out;
    }
    step(d, "issuer", true);
    jc = wih_jwt_verify_ex(t, cJSON_GetObjectItemCaseSensitive(prov, "jwks"), now, 0,
                           WIH_JWT_REQUIRE_EXP, &e);
    if (jc != WIH_JWT_OK) {
        d->jwt_code = jc;
        v = verdict(d, jwt_verdict(jc), jwt_check_name(jc), "%s", wih_err_str(e));
        wih_err_free(e);
        goto out;
    }
    step(d, "signature", true);
    step(d, "expiry", true);
    if (!d->sub || !*d->sub) {
        v = verdict(d, CLOUD_CLAIM_MISSING, "claims", "the token has no sub claim");
        goto out;
    }
    if (!d->want_aud || !wih_jwt_has_aud(t, d->want_aud)) {
        v = verdict(d, CLOUD_AUDIENCE, "audience", "the token's audience does not contain \"%.256s\"",
                    d->want_aud ? d->want_aud : "(none configured)");
        goto out;
    }
    step(d, "audience", true);
    if (!role) goto out;
    if (!d->want_iss || strcmp(d->want_iss, d->iss)) {
        v = verdict(d, CLOUD_SUBJECT, "trust-issuer", "role \"%s\" trusts issuer \"%.256s\", not \"%.256s\"", role,
                    d->want_iss ? d->want_iss : "(none)", d->iss);
        goto out;
    }
    step(d, "trust-issuer", true);
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(trust, "subjects"), *s;
    bool allowed = false;
    cJSON_ArrayForEach(s, subs) if (cJSON_IsString(s) && fnmatch(s->valuestring, d->sub, 0) == 0) allowed = true;
    if (!allowed) {
        v = verdict(d, CLOUD_SUBJECT, "subject", "subject \"%.256s\" is not allowed by the trust of role \"%s\"",
                    d->sub, role);
        goto out;
    }
    step(d, "subject", true);
out:
    wih_jwt_free(t);
    return v;
}

cJSON *cloud_decision_json(const cloud_decision *d, const char *provider, const char *action, const char *role)
{
    cJSON *j = cJSON_CreateObject();
    char ts[32];
    int64_t ms = wih_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    char *tss = wih_asprintf("%s.%03dZ", ts, (int)(ms % 1000));
    cJSON_AddStringToObject(j, "time", tss);
    free(tss);
    cJSON_AddStringToObject(j, "provider", provider);
    cJSON_AddStringToObject(j, "action", action);
    if (role) cJSON_AddStringToObject(j, "role", role);
    cJSON_AddStringToObject(j, "result", d->verdict == CLOUD_OK ? "allow" : "deny");
    cJSON_AddStringToObject(j, "verdict", cloud_verdict_name(d->verdict));
    cJSON_AddStringToObject(j, "failed_check", d->verdict == CLOUD_OK ? "" : d->check ? d->check : "");
    if (d->jwt_code) cJSON_AddStringToObject(j, "jwt", wih_jwt_code_name(d->jwt_code));
    if (d->detail) cJSON_AddStringToObject(j, "detail", d->detail);
    cJSON *exp = cJSON_AddObjectToObject(j, "expected");
    if (d->want_iss) cJSON_AddStringToObject(exp, "iss", d->want_iss);
    if (d->want_aud) cJSON_AddStringToObject(exp, "aud", d->want_aud);
    cJSON *act = cJSON_AddObjectToObject(j, "actual");
    if (d->iss) cJSON_AddStringToObject(act, "iss", d->iss);
    if (d->aud) cJSON_AddItemToObject(act, "aud", cJSON_Duplicate(d->aud, true));
    if (d->sub) cJSON_AddStringToObject(act, "sub", d->sub);
    if (d->token_fp) cJSON_AddStringToObject(j, "token", d->token_fp);
    if (d->checks) cJSON_AddItemToObject(j, "checks", cJSON_Duplicate(d->checks, true));
    return j;
}

/* ------------------------------------------------------------ identifiers */
char *cloud_aws_role_arn(const char *role)
{
    return wih_asprintf("arn:aws:iam::000000000000:role/%s", role);
}

/* a name-based UUID (version 5 layout over SHA-1), stable across runs */
static char *name_uuid(const char *ns, const char *role)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char *in = wih_asprintf("%s:%s", ns, role);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha1(), NULL);
    free(in);
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
    return wih_asprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2],
                        md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14],
                        md[15]);
}

char *cloud_entra_client_id(const char *role) { return name_uuid("wiharness-entra-app", role); }
char *cloud_entra_object_id(const char *role) { return name_uuid("wiharness-entra-sp", role); }

char *cloud_google_sa_unique_id(const char *role)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    char *in = wih_asprintf("wiharness-google-sa:%s", role);
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    free(in);
    char id[22];
    id[0] = '1';
    for (int i = 1; i < 21; i++) id[i] = (char)('0' + md[i] % 10);
    id[21] = 0;
    return wih_strdup(id);
}

char *cloud_google_sa_email(const char *role)
{
    return wih_asprintf("%s@wiharness.iam.gserviceaccount.com", role);
}

char *cloud_minio_policy_name(const char *role)
{
    return wih_asprintf("wih-role-%s", role);
}

typedef char *(*ident_fn)(const char *);
static const char *role_by(const cJSON *reg, ident_fn fn, const char *want)
{
    if (!want) return NULL;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(reg, "roles"))
    {
        char *id = fn(r->string);
        bool eq = !strcmp(id, want);
        free(id);
        if (eq) return r->string;
    }
    return NULL;
}

const char *cloud_role_from_arn(const cJSON *reg, const char *arn) { return role_by(reg, cloud_aws_role_arn, arn); }
const char *cloud_role_from_client_id(const cJSON *reg, const char *id)
{
    return role_by(reg, cloud_entra_client_id, id);
}
const char *cloud_role_from_sa_email(const cJSON *reg, const char *email)
{
    return role_by(reg, cloud_google_sa_email, email);
}

bool cloud_role_valid(const char *name, const cJSON *role, wih_err **err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 64) {
        *err = wih_err_new(WIH_EXIT_INPUT, "role name must have 1 to 64 characters");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c >= 'A' && c <= 'Z') || c == '_')) {
            *err = wih_err_new(WIH_EXIT_INPUT, "role name \"%s\": only letters, digits, '-' and '_'", name);
            return false;
        }
    }
    const cJSON *trust = cJSON_GetObjectItemCaseSensitive(role, "trust");
    if (!cJSON_IsObject(trust)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "role %s: \"trust\" must be an object", name);
        return false;
    }
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(trust, "issuer");
    if (!cJSON_IsString(iss) || !*iss->valuestring) {
        *err = wih_err_new(WIH_EXIT_INPUT, "role %s: trust.issuer must be a non-empty string", name);
        return false;
    }
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(trust, "subjects"), *s;
    if (!cJSON_IsArray(subs) || cJSON_GetArraySize(subs) == 0) {
        *err = wih_err_new(WIH_EXIT_INPUT, "role %s: trust.subjects must be a non-empty list", name);
        return false;
    }
    cJSON_ArrayForEach(s, subs) if (!cJSON_IsString(s) || !*s->valuestring)
    {
        *err = wih_err_new(WIH_EXIT_INPUT, "role %s: every trust.subjects entry must be a non-empty string", name);
        return false;
    }
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(trust, "audience");
    if (aud && !cJSON_IsString(aud)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "role %s: trust.audience must be a string", name);
        return false;
    }
    const cJSON *grants = cJSON_GetObjectItemCaseSensitive(role, "grants");
    if (grants) {
        cJSON *p = s3_policy_for_grants(grants, err);
        if (!p) {
            *err = wih_err_wrap(*err, "role %s", name);
            return false;
        }
        cJSON_Delete(p);
    }
    return true;
}
