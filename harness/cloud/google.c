/* Google STS token exchange and IAM Credentials generateAccessToken, pure.
 * The STS exchange is not role-bound (like Google's: the federated principal
 * is checked at impersonation): a subject token from a registered issuer
 * with the provider's audience → a federated token (our JWT, aud
 * wiharness-google-federated, carrying the original issuer and subject).
 * generateAccessToken checks the service account's role trusts that
 * principal. Errors: STS {"error","error_description"}; IAM
 * {"error":{"code","message","status"}}. */
#include <fnmatch.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud_int.h"

/* The subject token audience an STS `audience` parameter asks for, or NULL
 * for an unknown provider: the workload identity provider itself (also
 * spelt with https:), or Fleet's identitynamespace:<pool>:<provider> whose
 * tokens carry the pool. */
static const char *token_audience(const char *a)
{
    if (!a) return NULL;
    if (!strcmp(a, CLOUD_GOOGLE_FLEET_AUDIENCE)) return CLOUD_GOOGLE_FLEET_POOL;
    if (!strncmp(a, "https:", 6)) a += 6;
    return strcmp(a, CLOUD_GOOGLE_WIF_AUDIENCE) ? NULL : CLOUD_GOOGLE_WIF_AUDIENCE;
}

static const char *header(const cloud_request *rq, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->headers, name));
}

/* The request as an object: JSON for application/json, else a form. */
static cJSON *sts_params(const cloud_request *rq, wih_err **err)
{
    const char *ctype = header(rq, "content-type");
    if (ctype && !strncasecmp(ctype, "application/json", 16)) {
        cJSON *f = rq->len < CLOUD_FORM_MAX_BODY ? cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len) : NULL;
        if (cJSON_IsObject(f)) return f;
        cJSON_Delete(f);
        *err = wih_err_new(WIH_EXIT_INPUT, "the body is not a JSON object");
        return NULL;
    }
    return cloud_form_parse(rq->body ? rq->body : "", rq->len, err);
}

static void refuse(cloud_result *out, const char *error, const char *desc, const char *check, const char *why)
{
    out->decision = cl_simple_decision("google", "token", NULL, check, why);
    cl_google_sts_error(out, 400, error, desc);
}

/* The request checks; false when answered. */
static bool sts_form_ok(const cJSON *f, cloud_result *out)
{
    const char *gt = cl_form_str(f, "grant_type"), *aud = cl_form_str(f, "audience");
    const char *stt = cl_form_str(f, "subject_token_type"), *st = cl_form_str(f, "subject_token");
    const char *missing = !gt ? "grant_type" : !aud ? "audience" : !stt ? "subject_token_type"
                                              : !st ? "subject_token" : NULL;
    if (missing) {
        char *m = wih_asprintf("Missing required parameter: %s.", missing);
        refuse(out, "invalid_request", m, "request", m);
        free(m);
        return false;
    }
    if (strcmp(gt, "urn:ietf:params:oauth:grant-type:token-exchange")) {
        refuse(out, "unsupported_grant_type", "Unsupported grant_type.", "request", "unsupported grant_type");
        return false;
    }
    if (strcmp(stt, "urn:ietf:params:oauth:token-type:jwt") && strcmp(stt, "urn:ietf:params:oauth:token-type:id_token")) {
        refuse(out, "invalid_request", "Invalid subject_token_type.", "request", "subject_token_type");
        return false;
    }
    if (!token_audience(aud)) {
        refuse(out, "invalid_target",
               "The target service indicated by the \"audience\" parameters is invalid. This might either be because "
               "the pool or provider is disabled or deleted or because it doesn't exist.",
               "audience-parameter", "unknown workload identity provider");
        return false;
    }
    return true;
}

static void federate(const cloud_env *e, const cloud_decision *d, cloud_result *out)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "iss", e->url);
    cJSON_AddStringToObject(p, "aud", CL_GOOGLE_FED_AUD);
    cJSON_AddStringToObject(p, "sub", d->sub);
    cJSON_AddStringToObject(p, "orig_iss", d->iss);
    cJSON_AddNumberToObject(p, "iat", (double)e->now);
    cJSON_AddNumberToObject(p, "exp", (double)(e->now + 3600));
    wih_err *err = NULL;
    char *fed = wih_jwt_sign(e->key, p, &err);
    cJSON_Delete(p);
    if (!fed) {
        cl_google_sts_error(out, 500, "server_error", "internal error");
        cJSON_DeleteItemFromObjectCaseSensitive(out->decision, "code");
        wih_err_free(err);
        return;
    }
    char *fp = wih_fingerprint(fed);
    cJSON_AddStringToObject(out->decision, "access_token", fp);
    free(fp);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "access_token", fed);
    cJSON_AddStringToObject(j, "issued_token_type", "urn:ietf:params:oauth:token-type:access_token");
    cJSON_AddStringToObject(j, "token_type", "Bearer");
    cJSON_AddNumberToObject(j, "expires_in", 3600);
    cl_json_reply(out, 200, j);
    OPENSSL_cleanse(fed, strlen(fed));
    free(fed);
}

void cloud_google_sts(const cloud_env *e, const cloud_request *rq, cloud_result *out)
{
    out->provider = "google";
    wih_err *err = NULL;
    cJSON *f = sts_params(rq, &err);
    if (!f) {
        refuse(out, "invalid_request", "Invalid request body.", "form", wih_err_str(err));
        wih_err_free(err);
        return;
    }
    if (!sts_form_ok(f, out)) {
        cJSON_Delete(f);
        return;
    }
    const char *st = cl_form_str(f, "subject_token"), *want = token_audience(cl_form_str(f, "audience"));
    bool fleet = !strcmp(want, CLOUD_GOOGLE_FLEET_POOL);
    cloud_decision d;
    /* the token's aud must name the provider (both spellings Google accepts), or Fleet's pool */
    cloud_verdict v = cloud_check_token(e->reg, NULL, st, want, e->now, &d);
    if (v == CLOUD_AUDIENCE && !fleet) {
        cloud_decision_clear(&d);
        v = cloud_check_token(e->reg, NULL, st, "https:" CLOUD_GOOGLE_WIF_AUDIENCE, e->now, &d);
    }
    out->decision = cloud_decision_json(&d, "google", "token", NULL);
    if (v != CLOUD_OK) {
        const char *desc = v == CLOUD_EXPIRED ? "The access token has expired."
                           : v == CLOUD_ISSUER_UNKNOWN ? "The issuer in ID Token does not match the configured issuer."
                           : v == CLOUD_AUDIENCE ? "The audience in ID Token does not match the expected audience."
                           : v == CLOUD_TOKEN_SIGNATURE ? "Invalid ID Token signature."
                                                       : "Unable to parse the ID Token.";
        cl_google_sts_error(out, 400, "invalid_grant", desc);
    } else {
        federate(e, &d, out);
    }
    cloud_decision_clear(&d);
    cJSON_Delete(f);
}

/* The federated token of an Authorization header, verified; NULL if none. */
static wih_jwt *federated_token(const cloud_env *e, const char *tok)
{
    wih_jwt_code jc = WIH_JWT_EMPTY;
    wih_jwt *t = tok ? wih_jwt_parse(tok, &jc, NULL) : NULL;
    if (t) jc = wih_jwt_verify_ex(t, e->jwks, e->now, 0, WIH_JWT_REQUIRE_EXP | WIH_JWT_REQUIRE_KID, NULL);
    const char *iss = t ? wih_jwt_claim_str(t, "iss") : NULL;
    if (jc != WIH_JWT_OK || !wih_jwt_has_aud(t, CL_GOOGLE_FED_AUD) || !iss || strcmp(iss, e->url)) {
        wih_jwt_free(t);
        return NULL;
    }
    return t;
}

static bool principal_trusted(const cJSON *trust, const char *oiss, const char *sub)
{
    const char *want_iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(trust, "issuer"));
    if (!want_iss || !oiss || strcmp(want_iss, oiss) || !sub) return false;
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(trust, "subjects"))
    if (cJSON_IsString(s) && fnmatch(s->valuestring, sub, 0) == 0) return true;
    return false;
}

static void grant(const cloud_env *e, const char *role, const char *sub, cloud_result *out)
{
    /* who the token is for: the service account, as tokeninfo reports it */
    char *email = cloud_google_sa_email(role), *uid = cloud_google_sa_unique_id(role);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "email", email);
    cJSON_AddStringToObject(x, "wih_google_sa_id", uid);
    cJSON_AddStringToObject(x, "scope", "https://www.googleapis.com/auth/cloud-platform");
    wih_err *err = NULL;
    char *at = cl_mint_for_minio(e, role, sub, "google", 3600, NULL, x, &err);
    cJSON_Delete(x);
    free(email);
    free(uid);
    if (!at) {
        cl_google_iam_error(out, 500, "INTERNAL", "internal error");
        cJSON_DeleteItemFromObjectCaseSensitive(out->decision, "code");
        wih_err_free(err);
        return;
    }
    char ts[32];
    cl_iso8601(e->now + 3600, ts);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "accessToken", at);
    cJSON_AddStringToObject(j, "expireTime", ts);
    cl_json_reply(out, 200, j);
    char *fp = wih_fingerprint(at);
    cJSON_AddStringToObject(out->decision, "access_token", fp);
    free(fp);
    OPENSSL_cleanse(at, strlen(at));
    free(at);
}

void cloud_google_generate(const cloud_env *e, const char *email, const cloud_request *rq, cloud_result *out)
{
    out->provider = "google";
    const char *authz = header(rq, "authorization");
    const char *tok = authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
    wih_jwt *t = federated_token(e, tok);
    if (!t) {
        out->decision = cl_simple_decision("google", "generateAccessToken", NULL, "federated-token",
                                           "invalid or missing federated token");
        cl_google_iam_error(out, 401, "UNAUTHENTICATED",
                            "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                            "cookie or other valid authentication credential.");
        return;
    }
    const char *sub = wih_jwt_claim_str(t, "sub"), *oiss = wih_jwt_claim_str(t, "orig_iss");
    const char *role = cloud_role_from_sa_email(e->reg, email);
    const cJSON *trust = cJSON_GetObjectItemCaseSensitive(cl_role(e->reg, role), "trust");
    bool allowed = role && principal_trusted(trust, oiss, sub);
    cloud_decision d = {0};
    d.checks = cJSON_CreateArray();
    d.iss = wih_strdup(oiss);
    d.sub = wih_strdup(sub);
    d.want_iss = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(trust, "issuer")));
    d.token_fp = wih_fingerprint(tok);
    d.verdict = !role ? CLOUD_ROLE_UNKNOWN : allowed ? CLOUD_OK : CLOUD_SUBJECT;
    d.check = !role ? "role" : allowed ? "ok" : "subject";
    out->decision = cloud_decision_json(&d, "google", "generateAccessToken", role ? role : email);
    if (!role) {
        char *m = wih_asprintf("Not found; Gaia id not found for email %.128s", email);
        cl_google_iam_error(out, 404, "NOT_FOUND", m);
        free(m);
    } else if (!allowed) {
        cl_google_iam_error(out, 403, "PERMISSION_DENIED",
                            "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).");
    } else {
        grant(e, role, sub, out);
    }
    cloud_decision_clear(&d);
    wih_jwt_free(t);
}

/* ------------------------------------------------------------ tokeninfo */
static void invalid_token(cloud_result *out, const char *why)
{
    out->decision = cl_simple_decision("google", "tokeninfo", NULL, "access-token", why);
    cl_google_sts_error(out, 400, "invalid_token", "Invalid Value");
}

static void add_num_str(cJSON *j, const char *name, int64_t v)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)v);
    cJSON_AddStringToObject(j, name, b);
}

void cloud_google_tokeninfo(const cloud_env *e, const cloud_request *rq, cloud_result *out)
{
    out->provider = "google";
    bool get = !strcmp(rq->method, "GET");
    const char *params = get ? (rq->query ? rq->query : "") : rq->body ? rq->body : "";
    wih_err *err = NULL;
    cJSON *f = cloud_form_parse(params, get ? strlen(params) : rq->len, &err);
    wih_err_free(err);
    const char *tok = cl_form_str(f, "access_token");
    wih_jwt_code jc = WIH_JWT_EMPTY;
    wih_jwt *t = tok ? wih_jwt_parse(tok, &jc, NULL) : NULL;
    if (t) jc = wih_jwt_verify_ex(t, e->jwks, e->now, 0, WIH_JWT_REQUIRE_EXP | WIH_JWT_REQUIRE_KID, NULL);
    const char *iss = t ? wih_jwt_claim_str(t, "iss") : NULL, *email = t ? wih_jwt_claim_str(t, "email") : NULL;
    const char *uid = t ? wih_jwt_claim_str(t, "wih_google_sa_id") : NULL;
    int64_t exp = 0;
    if (jc != WIH_JWT_OK || !iss || strcmp(iss, e->url) || !email || !uid || !wih_jwt_claim_int(t, "exp", &exp)) {
        invalid_token(out, !tok ? "no access_token" : "not a valid Google access token of this cloud");
    } else {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "azp", uid);
        cJSON_AddStringToObject(j, "aud", uid);
        const char *scope = wih_jwt_claim_str(t, "scope");
        cJSON_AddStringToObject(j, "scope", scope ? scope : "");
        add_num_str(j, "exp", exp);
        add_num_str(j, "expires_in", exp - e->now);
        cJSON_AddStringToObject(j, "email", email);
        cJSON_AddStringToObject(j, "email_verified", "true");
        cJSON_AddStringToObject(j, "access_type", "online");
        cl_json_reply(out, 200, j);
        cloud_decision d = {0};
        d.check = "ok";
        d.token_fp = wih_fingerprint(tok);
        out->decision = cloud_decision_json(&d, "google", "tokeninfo", wih_jwt_claim_str(t, "wih_role"));
        cJSON_AddStringToObject(out->decision, "email", email);
        cloud_decision_clear(&d);
    }
    wih_jwt_free(t);
    cJSON_Delete(f);
}
