/* The mock cloud's HTTPS server (libmicrohttpd, a thread per connection):
 * AWS STS, Entra token endpoint, Google STS + IAM Credentials, its own OpenID
 * discovery + JWKS (for MinIO), and the admin API.
 *
 * Error shapes follow the real services:
 *  - AWS STS (query API): <ErrorResponse><Error><Type>Sender</Type><Code>…
 *    codes InvalidIdentityToken, ExpiredTokenException, IDPRejectedClaim,
 *    AccessDenied (403), MissingParameter, InvalidParameterValue,
 *    ValidationError, MissingAction, InvalidAction (400).
 *  - Entra (MSAL-facing JSON): {"error","error_description":"AADSTSnnn: …",
 *    "error_codes":[nnn],"timestamp","trace_id","correlation_id"}.
 *  - Google STS: {"error","error_description"}; IAM Credentials:
 *    {"error":{"code","message","status"}}. */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "wiharness/cloud.h"

#define REQ_MAX_BODY (CLOUD_FORM_MAX_BODY + 1)
#define GOOGLE_FED_AUD "wiharness-google-federated"

struct cloud {
    struct MHD_Daemon *d;
    int port;
    char *url;
    pthread_mutex_t mu; /* guards reg, minio_* and the decision log */
    cJSON *reg;
    wih_jwk_key *key;
    cJSON *jwks;
    char *minio_endpoint, *minio_user, *minio_pass;
    char *minio_client_id;
    char *admin_token;
    FILE *dlog;
    char *cert_pem, *key_pem;
    char *registry_file;
};

typedef struct {
    wih_buf body;
} req_state;

typedef struct {
    int status;
    const char *ctype;
    char *body;
} reply;

static char *rand_token(size_t n)
{
    unsigned char b[48];
    if (n > sizeof b) n = sizeof b;
    if (RAND_bytes(b, (int)n) != 1) abort();
    return wih_b64url_encode(b, n);
}

static void iso8601(int64_t secs, char out[32])
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *xml_escape(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    for (; s && *s; s++) {
        switch (*s) {
        case '<': wih_buf_adds(&b, "&lt;"); break;
        case '>': wih_buf_adds(&b, "&gt;"); break;
        case '&': wih_buf_adds(&b, "&amp;"); break;
        case '"': wih_buf_adds(&b, "&quot;"); break;
        case '\'': wih_buf_adds(&b, "&apos;"); break;
        default: wih_buf_add(&b, s, 1);
        }
    }
    return wih_buf_take(&b);
}

static void log_decision(cloud *c, cJSON *line)
{
    char *s = cJSON_PrintUnformatted(line);
    pthread_mutex_lock(&c->mu);
    if (c->dlog) {
        fprintf(c->dlog, "%s\n", s);
        fflush(c->dlog);
    }
    pthread_mutex_unlock(&c->mu);
    wih_debug("cloud decision: %s", s);
    free(s);
    cJSON_Delete(line);
}

/* A simple decision without a token check (bad form, unknown role, …). */
static void log_simple(cloud *c, const char *provider, const char *action, const char *role, const char *check,
                       const char *detail)
{
    cloud_decision d = {0};
    d.verdict = CLOUD_ROLE_UNKNOWN;
    d.check = check;
    d.detail = wih_strdup(detail);
    cJSON *j = cloud_decision_json(&d, provider, action, role);
    cJSON_ReplaceItemInObject(j, "verdict", cJSON_CreateString(check));
    log_decision(c, j);
    cloud_decision_clear(&d);
}

/* The JWT MinIO accepts for a role (claim mode: `policy`). */
static char *mint_for_minio(cloud *c, const char *role, const char *sub, const char *provider, int64_t now,
                            int64_t lifetime, const char *extra_aud, wih_err **err)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "iss", c->url);
    cJSON_AddStringToObject(p, "sub", sub);
    if (extra_aud) {
        cJSON *a = cJSON_AddArrayToObject(p, "aud");
        cJSON_AddItemToArray(a, cJSON_CreateString(c->minio_client_id));
        cJSON_AddItemToArray(a, cJSON_CreateString(extra_aud));
    } else {
        cJSON_AddStringToObject(p, "aud", c->minio_client_id);
    }
    cJSON_AddStringToObject(p, "azp", c->minio_client_id);
    char *pol = cloud_minio_policy_name(role);
    cJSON_AddStringToObject(p, "policy", pol);
    free(pol);
    cJSON_AddStringToObject(p, "wih_role", role);
    cJSON_AddStringToObject(p, "wih_provider", provider);
    cJSON_AddNumberToObject(p, "iat", (double)now);
    cJSON_AddNumberToObject(p, "nbf", (double)(now - 5));
    cJSON_AddNumberToObject(p, "exp", (double)(now + lifetime));
    char *jti = rand_token(12);
    cJSON_AddStringToObject(p, "jti", jti);
    free(jti);
    char *t = wih_jwt_sign(c->key, p, err);
    cJSON_Delete(p);
    return t;
}

/* Role session → MinIO credentials via MinIO's own STS. */
static int minio_session(cloud *c, const char *role, const char *sub, const char *provider, int duration,
                         s3_creds *out, wih_err **err)
{
    pthread_mutex_lock(&c->mu);
    char *ep = wih_strdup(c->minio_endpoint);
    pthread_mutex_unlock(&c->mu);
    if (!ep) {
        *err = wih_err_new(WIH_EXIT_INFRA, "the mock cloud has no MinIO behind it");
        return -1;
    }
    int64_t now = wih_wall_ms() / 1000;
    char *jwt = mint_for_minio(c, role, sub, provider, now, duration + 300, NULL, err);
    int r = -1;
    if (jwt) {
        r = s3_sts_web_identity(ep, NULL, jwt, duration, out, err);
        OPENSSL_cleanse(jwt, strlen(jwt));
        free(jwt);
    }
    free(ep);
    return r;
}

/* --------------------------------------------------------------- AWS STS */
static reply aws_error(int status, const char *code, const char *msg)
{
    char *m = xml_escape(msg);
    char *rid = rand_token(12);
    reply r = {status, "text/xml",
               wih_asprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                            "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                            "<RequestId>%s</RequestId></ErrorResponse>\n",
                            code, m, rid)};
    free(m);
    free(rid);
    return r;
}

static bool session_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64) return false;
    for (; *s; s++)
        if (!(((*s | 32) >= 'a' && (*s | 32) <= 'z') || (*s >= '0' && *s <= '9') || strchr("_+=,.@-", *s)))
            return false;
    return true;
}

static reply aws_sts(cloud *c, const char *body, size_t len)
{
    wih_err *e = NULL;
    cJSON *f = cloud_form_parse(body, len, &e);
    if (!f) {
        log_simple(c, "aws", "AssumeRoleWithWebIdentity", NULL, "form", wih_err_str(e));
        reply r = aws_error(400, "InvalidParameterValue", wih_err_str(e));
        wih_err_free(e);
        return r;
    }
    reply r = {0};
    const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "Action"));
    const char *version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "Version"));
    const char *arn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "RoleArn"));
    const char *session = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "RoleSessionName"));
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "WebIdentityToken"));
    const char *dur_s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "DurationSeconds"));
    const char *missing = !arn ? "RoleArn" : !session ? "RoleSessionName" : !token ? "WebIdentityToken" : NULL;
    long duration = 3600;
    char *role = NULL;
    if (!action) {
        r = aws_error(400, "MissingAction", "The request must contain the parameter Action");
        goto bad;
    }
    if (strcmp(action, "AssumeRoleWithWebIdentity")) {
        char *m = wih_asprintf("Could not find operation %.64s for version %.32s", action, version ? version : "");
        r = aws_error(400, "InvalidAction", m);
        free(m);
        goto bad;
    }
    if (!version) {
        r = aws_error(400, "MissingParameter", "The request must contain the parameter Version");
        goto bad;
    }
    if (strcmp(version, "2011-06-15")) {
        r = aws_error(400, "InvalidParameterValue", "Version must be 2011-06-15");
        goto bad;
    }
    if (missing) {
        char *m = wih_asprintf("The request must contain the parameter %s", missing);
        r = aws_error(400, "MissingParameter", m);
        free(m);
        goto bad;
    }
    if (!session_name_ok(session)) {
        r = aws_error(400, "ValidationError",
                      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                      "Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}");
        goto bad;
    }
    if (dur_s) {
        char *end;
        duration = strtol(dur_s, &end, 10);
        if (!*dur_s || *end || duration < 900 || duration > 43200) {
            r = aws_error(400, "ValidationError",
                          "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: "
                          "Member must have value between 900 and 43200");
            goto bad;
        }
    }
    pthread_mutex_lock(&c->mu);
    role = wih_strdup(cloud_role_from_arn(c->reg, arn));
    cloud_decision d;
    char *want_aud = NULL;
    if (role) {
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->reg,
                                                                                                                "roles"),
                                                                               role),
                                             "trust"),
            "audience");
        want_aud = wih_strdup(cJSON_IsString(ta) ? ta->valuestring : CLOUD_AWS_DEFAULT_AUDIENCE);
    }
    cloud_verdict v = cloud_check_token(c->reg, role ? role : arn, token, want_aud, wih_wall_ms() / 1000, &d);
    pthread_mutex_unlock(&c->mu);
    free(want_aud);
    if (!role) d.verdict = v = CLOUD_ROLE_UNKNOWN;
    cJSON *line = cloud_decision_json(&d, "aws", "AssumeRoleWithWebIdentity", role ? role : arn);
    switch (v) {
    case CLOUD_OK: break;
    case CLOUD_TOKEN_MALFORMED:
    case CLOUD_TOKEN_SIGNATURE:
    case CLOUD_NOT_YET_VALID: r = aws_error(400, "InvalidIdentityToken", d.detail); break;
    case CLOUD_ISSUER_UNKNOWN: {
        char *m = wih_asprintf("No OpenIDConnect provider found in your account for %s", d.iss ? d.iss : "");
        r = aws_error(400, "InvalidIdentityToken", m);
        free(m);
        break;
    }
    case CLOUD_AUDIENCE: r = aws_error(400, "InvalidIdentityToken", "Incorrect token audience"); break;
    case CLOUD_EXPIRED: r = aws_error(400, "ExpiredTokenException", "Token expired"); break;
    case CLOUD_CLAIM_MISSING: r = aws_error(403, "IDPRejectedClaim", d.detail); break;
    case CLOUD_SUBJECT:
    case CLOUD_ROLE_UNKNOWN:
        r = aws_error(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
        break;
    }
    if (v != CLOUD_OK) {
        cJSON_AddStringToObject(line, "code", strstr(r.body, "<Code>") + 6);
        char *cut = strstr(cJSON_GetObjectItem(line, "code")->valuestring, "</Code>");
        if (cut) *cut = 0;
        log_decision(c, line);
        cloud_decision_clear(&d);
        goto done;
    }
    s3_creds cr;
    if (minio_session(c, role, d.sub, "aws", (int)duration, &cr, &e) != 0) {
        cJSON_ReplaceItemInObject(line, "result", cJSON_CreateString("error"));
        cJSON_AddStringToObject(line, "minio_error", wih_err_str(e));
        log_decision(c, line);
        r = aws_error(500, "InternalFailure", "the mock cloud could not open a MinIO session for the role");
        wih_err_free(e);
        cloud_decision_clear(&d);
        goto done;
    }
    char *akfp = wih_fingerprint(cr.secret_key);
    cJSON_AddStringToObject(line, "access_key_id", cr.access_key);
    cJSON_AddStringToObject(line, "secret_key", akfp);
    free(akfp);
    cJSON_AddStringToObject(line, "expiration", cr.expiration ? cr.expiration : "");
    log_decision(c, line);
    char *x_sub = xml_escape(d.sub), *x_aud = xml_escape(cJSON_IsString(d.aud) ? d.aud->valuestring
                                                          : cJSON_IsArray(d.aud) && cJSON_IsString(cJSON_GetArrayItem(d.aud, 0))
                                                              ? cJSON_GetArrayItem(d.aud, 0)->valuestring
                                                              : "");
    char *x_iss = xml_escape(d.iss), *x_sess = xml_escape(session), *x_role = xml_escape(role);
    char *x_ak = xml_escape(cr.access_key), *x_sk = xml_escape(cr.secret_key), *x_st = xml_escape(cr.session_token);
    char *x_exp = xml_escape(cr.expiration);
    char *rid = rand_token(12);
    r.status = 200;
    r.ctype = "text/xml";
    r.body = wih_asprintf(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<AssumeRoleWithWebIdentityResult>"
        "<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken><Audience>%s</Audience>"
        "<AssumedRoleUser><Arn>arn:aws:sts::000000000000:assumed-role/%s/%s</Arn>"
        "<AssumedRoleId>AROAWIHARNESS:%s</AssumedRoleId></AssumedRoleUser>"
        "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
        "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
        "<Provider>%s</Provider></AssumeRoleWithWebIdentityResult>"
        "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>\n",
        x_sub, x_aud, x_role, x_sess, x_sess, x_ak, x_sk, x_st, x_exp, x_iss, rid);
    free(x_sub);
    free(x_aud);
    free(x_iss);
    free(x_sess);
    free(x_role);
    free(x_ak);
    OPENSSL_cleanse(x_sk, strlen(x_sk));
    free(x_sk);
    OPENSSL_cleanse(x_st, strlen(x_st));
    free(x_st);
    free(x_exp);
    free(rid);
    s3_creds_clear(&cr);
    cloud_decision_clear(&d);
    goto done;
bad: {
    char *code = strstr(r.body, "<Code>") + 6;
    char *m = wih_asprintf("malformed request: %.*s", (int)(strstr(code, "</Code>") - code), code);
    log_simple(c, "aws", action ? action : "", NULL, "request", m);
    free(m);
}
done:
    free(role);
    cJSON_Delete(f);
    return r;
}

/* ----------------------------------------------------------------- Entra */
static reply entra_error(int status, const char *error, int aadsts, const char *msg)
{
    char ts[32];
    iso8601(wih_wall_ms() / 1000, ts);
    char *trace = rand_token(16), *corr = rand_token(16);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", error);
    char *desc = wih_asprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, trace, corr,
                              ts);
    cJSON_AddStringToObject(j, "error_description", desc);
    cJSON *codes = cJSON_AddArrayToObject(j, "error_codes");
    cJSON_AddItemToArray(codes, cJSON_CreateNumber(aadsts));
    cJSON_AddStringToObject(j, "timestamp", ts);
    cJSON_AddStringToObject(j, "trace_id", trace);
    cJSON_AddStringToObject(j, "correlation_id", corr);
    cJSON_AddStringToObject(j, "error_uri", "https://login.microsoftonline.com/error");
    reply r = {status, "application/json", cJSON_PrintUnformatted(j)};
    cJSON_Delete(j);
    free(desc);
    free(trace);
    free(corr);
    return r;
}

static reply entra_token(cloud *c, const char *tenant, const char *body, size_t len)
{
    wih_err *e = NULL;
    cJSON *f = cloud_form_parse(body, len, &e);
    if (!f) {
        log_simple(c, "azure", "token", NULL, "form", wih_err_str(e));
        reply r = entra_error(400, "invalid_request", 900144, "The request body must be a valid form.");
        wih_err_free(e);
        return r;
    }
    reply r = {0};
    const char *gt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "grant_type"));
    const char *cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "client_id"));
    const char *cat = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "client_assertion_type"));
    const char *ca = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "client_assertion"));
    const char *scope = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "scope"));
    const char *missing = !gt ? "grant_type" : !cid ? "client_id" : !cat ? "client_assertion_type"
                                              : !ca  ? "client_assertion"
                                              : !scope ? "scope" : NULL;
    char *role = NULL;
    if (missing) {
        char *m = wih_asprintf("The request body must contain the following parameter: '%s'.", missing);
        r = entra_error(400, "invalid_request", 900144, m);
        log_simple(c, "azure", "token", NULL, "request", m);
        free(m);
        goto done;
    }
    if (strcmp(gt, "client_credentials")) {
        r = entra_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
        log_simple(c, "azure", "token", NULL, "request", "unsupported grant_type");
        goto done;
    }
    if (strcmp(cat, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")) {
        r = entra_error(400, "invalid_request", 50027, "Invalid client_assertion_type.");
        log_simple(c, "azure", "token", NULL, "request", "client_assertion_type is not jwt-bearer");
        goto done;
    }
    pthread_mutex_lock(&c->mu);
    role = wih_strdup(cloud_role_from_client_id(c->reg, cid));
    cloud_decision d;
    cloud_verdict v = cloud_check_token(c->reg, role ? role : "", ca, CLOUD_ENTRA_AUDIENCE, wih_wall_ms() / 1000, &d);
    pthread_mutex_unlock(&c->mu);
    cJSON *line = cloud_decision_json(&d, "azure", "token", role ? role : cid);
    int aad = 0;
    if (!role) {
        char *m = wih_asprintf("Application with identifier '%.64s' was not found in the directory '%.64s'.", cid,
                               tenant);
        r = entra_error(400, "unauthorized_client", aad = 700016, m);
        free(m);
        cJSON_ReplaceItemInObject(line, "verdict", cJSON_CreateString("role-unknown"));
        cJSON_ReplaceItemInObject(line, "result", cJSON_CreateString("deny"));
        v = CLOUD_ROLE_UNKNOWN;
    } else if (v == CLOUD_TOKEN_MALFORMED || v == CLOUD_CLAIM_MISSING) {
        r = entra_error(400, "invalid_request", aad = 50027, "JWT token is invalid or malformed.");
    } else if (v == CLOUD_TOKEN_SIGNATURE) {
        r = entra_error(400, "invalid_client", aad = 700027, "Client assertion failed signature validation.");
    } else if (v == CLOUD_EXPIRED || v == CLOUD_NOT_YET_VALID) {
        r = entra_error(400, "invalid_client", aad = 700024, "Client assertion is not within its valid time range.");
    } else if (v != CLOUD_OK) {
        char *aud = d.aud ? cJSON_PrintUnformatted(d.aud) : wih_strdup("");
        char *m = wih_asprintf("No matching federated identity record found for presented assertion. Assertion Issuer: "
                               "'%.256s'. Assertion Subject: '%.256s'. Assertion Audience: '%.256s'.",
                               d.iss ? d.iss : "", d.sub ? d.sub : "", aud);
        r = entra_error(400, "invalid_client", aad = 70021, m);
        free(m);
        free(aud);
    }
    if (v != CLOUD_OK) {
        cJSON_AddNumberToObject(line, "code", aad);
        log_decision(c, line);
        cloud_decision_clear(&d);
        goto done;
    }
    /* the access token: a cloud JWT MinIO accepts (aud also the requested resource) */
    char *resource = wih_strdup(scope);
    char *sp = strchr(resource, ' ');
    if (sp) *sp = 0;
    size_t rl = strlen(resource);
    if (rl > 8 && !strcmp(resource + rl - 8, "/.default")) resource[rl - 8] = 0;
    int64_t now = wih_wall_ms() / 1000;
    char *at = mint_for_minio(c, role, d.sub, "azure", now, 3600, resource, &e);
    free(resource);
    if (!at) {
        r = entra_error(500, "server_error", 90000, "The mock cloud could not sign a token.");
        cJSON_AddStringToObject(line, "error", wih_err_str(e));
        wih_err_free(e);
    } else {
        char *fp = wih_fingerprint(at);
        cJSON_AddStringToObject(line, "access_token", fp);
        free(fp);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "token_type", "Bearer");
        cJSON_AddNumberToObject(j, "expires_in", 3599);
        cJSON_AddNumberToObject(j, "ext_expires_in", 3599);
        cJSON_AddStringToObject(j, "access_token", at);
        r = (reply){200, "application/json", cJSON_PrintUnformatted(j)};
        cJSON_Delete(j);
        OPENSSL_cleanse(at, strlen(at));
        free(at);
    }
    log_decision(c, line);
    cloud_decision_clear(&d);
done:
    free(role);
    cJSON_Delete(f);
    return r;
}

/* ---------------------------------------------------------------- Google */
static reply google_sts_error(int status, const char *error, const char *desc)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", error);
    cJSON_AddStringToObject(j, "error_description", desc);
    reply r = {status, "application/json", cJSON_PrintUnformatted(j)};
    cJSON_Delete(j);
    return r;
}

static reply google_iam_error(int code, const char *status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "status", status);
    reply r = {code, "application/json", cJSON_PrintUnformatted(j)};
    cJSON_Delete(j);
    return r;
}

static bool google_aud_ok(const char *a)
{
    if (!a) return false;
    if (!strncmp(a, "https:", 6)) a += 6;
    return !strcmp(a, CLOUD_GOOGLE_WIF_AUDIENCE);
}

static reply google_sts(cloud *c, const char *ctype, const char *body, size_t len)
{
    wih_err *e = NULL;
    cJSON *f = NULL;
    if (ctype && !strncasecmp(ctype, "application/json", 16)) {
        f = len < CLOUD_FORM_MAX_BODY ? cJSON_ParseWithLength(body, len) : NULL;
        if (!cJSON_IsObject(f)) {
            cJSON_Delete(f);
            f = NULL;
            e = wih_err_new(WIH_EXIT_INPUT, "the body is not a JSON object");
        }
    } else {
        f = cloud_form_parse(body, len, &e);
    }
    if (!f) {
        log_simple(c, "google", "token", NULL, "form", wih_err_str(e));
        wih_err_free(e);
        return google_sts_error(400, "invalid_request", "Invalid request body.");
    }
    reply r = {0};
    const char *gt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "grant_type"));
    const char *aud = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "audience"));
    const char *stt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "subject_token_type"));
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "subject_token"));
    const char *missing = !gt ? "grant_type" : !aud ? "audience" : !stt ? "subject_token_type"
                                              : !st ? "subject_token" : NULL;
    if (missing) {
        char *m = wih_asprintf("Missing required parameter: %s.", missing);
        r = google_sts_error(400, "invalid_request", m);
        log_simple(c, "google", "token", NULL, "request", m);
        free(m);
        goto done;
    }
    if (strcmp(gt, "urn:ietf:params:oauth:grant-type:token-exchange")) {
        r = google_sts_error(400, "unsupported_grant_type", "Unsupported grant_type.");
        log_simple(c, "google", "token", NULL, "request", "unsupported grant_type");
        goto done;
    }
    if (strcmp(stt, "urn:ietf:params:oauth:token-type:jwt") && strcmp(stt, "urn:ietf:params:oauth:token-type:id_token")) {
        r = google_sts_error(400, "invalid_request", "Invalid subject_token_type.");
        log_simple(c, "google", "token", NULL, "request", "subject_token_type");
        goto done;
    }
    if (!google_aud_ok(aud)) {
        r = google_sts_error(400, "invalid_target",
                             "The target service indicated by the \"audience\" parameters is invalid. This might either "
                             "be because the pool or provider is disabled or deleted or because it doesn't exist.");
        log_simple(c, "google", "token", NULL, "audience-parameter", "unknown workload identity provider");
        goto done;
    }
    pthread_mutex_lock(&c->mu);
    cloud_decision d;
    /* the token's aud must name the provider: accept both spellings Google accepts */
    cloud_verdict v = cloud_check_token(c->reg, NULL, st, CLOUD_GOOGLE_WIF_AUDIENCE, wih_wall_ms() / 1000, &d);
    if (v == CLOUD_AUDIENCE) {
        char *alt = wih_asprintf("https:%s", CLOUD_GOOGLE_WIF_AUDIENCE);
        cloud_decision_clear(&d);
        v = cloud_check_token(c->reg, NULL, st, alt, wih_wall_ms() / 1000, &d);
        free(alt);
    }
    pthread_mutex_unlock(&c->mu);
    cJSON *line = cloud_decision_json(&d, "google", "token", NULL);
    if (v != CLOUD_OK) {
        const char *desc = v == CLOUD_EXPIRED ? "The access token has expired."
                           : v == CLOUD_ISSUER_UNKNOWN ? "The issuer in ID Token does not match the configured issuer."
                           : v == CLOUD_AUDIENCE ? "The audience in ID Token does not match the expected audience."
                           : v == CLOUD_TOKEN_SIGNATURE ? "Invalid ID Token signature."
                                                       : "Unable to parse the ID Token.";
        r = google_sts_error(400, "invalid_grant", desc);
        cJSON_AddStringToObject(line, "code", "invalid_grant");
        log_decision(c, line);
        cloud_decision_clear(&d);
        goto done;
    }
    /* the federated token: ours, carrying the original issuer and subject */
    cJSON *p = cJSON_CreateObject();
    int64_t now = wih_wall_ms() / 1000;
    cJSON_AddStringToObject(p, "iss", c->url);
    cJSON_AddStringToObject(p, "aud", GOOGLE_FED_AUD);
    cJSON_AddStringToObject(p, "sub", d.sub);
    cJSON_AddStringToObject(p, "orig_iss", d.iss);
    cJSON_AddNumberToObject(p, "iat", (double)now);
    cJSON_AddNumberToObject(p, "exp", (double)(now + 3600));
    char *fed = wih_jwt_sign(c->key, p, &e);
    cJSON_Delete(p);
    if (!fed) {
        r = google_sts_error(500, "server_error", "internal error");
        wih_err_free(e);
    } else {
        char *fp = wih_fingerprint(fed);
        cJSON_AddStringToObject(line, "access_token", fp);
        free(fp);
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "access_token", fed);
        cJSON_AddStringToObject(j, "issued_token_type", "urn:ietf:params:oauth:token-type:access_token");
        cJSON_AddStringToObject(j, "token_type", "Bearer");
        cJSON_AddNumberToObject(j, "expires_in", 3600);
        r = (reply){200, "application/json", cJSON_PrintUnformatted(j)};
        cJSON_Delete(j);
        OPENSSL_cleanse(fed, strlen(fed));
        free(fed);
    }
    log_decision(c, line);
    cloud_decision_clear(&d);
done:
    cJSON_Delete(f);
    return r;
}

static reply google_gen_token(cloud *c, const char *email, const char *authz, const char *body, size_t len)
{
    (void)body;
    (void)len;
    const char *tok = authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
    wih_jwt_code jc = WIH_JWT_EMPTY;
    wih_jwt *t = tok ? wih_jwt_parse(tok, &jc, NULL) : NULL;
    if (t) jc = wih_jwt_verify_ex(t, c->jwks, wih_wall_ms() / 1000, 0, WIH_JWT_REQUIRE_EXP | WIH_JWT_REQUIRE_KID, NULL);
    if (jc != WIH_JWT_OK || !wih_jwt_has_aud(t, GOOGLE_FED_AUD) || strcmp(wih_jwt_claim_str(t, "iss") ? wih_jwt_claim_str(t, "iss") : "", c->url)) {
        wih_jwt_free(t);
        log_simple(c, "google", "generateAccessToken", NULL, "federated-token", "invalid or missing federated token");
        return google_iam_error(401, "UNAUTHENTICATED",
                                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                                "cookie or other valid authentication credential.");
    }
    const char *sub = wih_jwt_claim_str(t, "sub");
    const char *oiss = wih_jwt_claim_str(t, "orig_iss");
    pthread_mutex_lock(&c->mu);
    char *role = wih_strdup(cloud_role_from_sa_email(c->reg, email));
    bool allowed = false;
    const cJSON *trust = NULL;
    char *want_iss = NULL;
    if (role) {
        trust = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->reg, "roles"), role), "trust");
        const cJSON *wi = cJSON_GetObjectItemCaseSensitive(trust, "issuer"), *s;
        want_iss = wih_strdup(cJSON_GetStringValue(wi));
        if (want_iss && oiss && !strcmp(want_iss, oiss) && sub)
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(trust, "subjects")) if (
                cJSON_IsString(s) && fnmatch(s->valuestring, sub, 0) == 0) allowed = true;
    }
    pthread_mutex_unlock(&c->mu);
    cloud_decision d = {0};
    d.checks = cJSON_CreateArray();
    d.iss = wih_strdup(oiss);
    d.sub = wih_strdup(sub);
    d.want_iss = want_iss;
    d.token_fp = wih_fingerprint(tok);
    d.verdict = !role ? CLOUD_ROLE_UNKNOWN : allowed ? CLOUD_OK : CLOUD_SUBJECT;
    d.check = !role ? "role" : allowed ? "ok" : "subject";
    cJSON *line = cloud_decision_json(&d, "google", "generateAccessToken", role ? role : email);
    reply r;
    if (!role) {
        char *m = wih_asprintf("Not found; Gaia id not found for email %.128s", email);
        r = google_iam_error(404, "NOT_FOUND", m);
        free(m);
        cJSON_AddStringToObject(line, "code", "NOT_FOUND");
    } else if (!allowed) {
        r = google_iam_error(403, "PERMISSION_DENIED",
                             "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not "
                             "exist).");
        cJSON_AddStringToObject(line, "code", "PERMISSION_DENIED");
    } else {
        wih_err *e = NULL;
        int64_t now = wih_wall_ms() / 1000;
        char *at = mint_for_minio(c, role, sub, "google", now, 3600, NULL, &e);
        if (!at) {
            r = google_iam_error(500, "INTERNAL", "internal error");
            wih_err_free(e);
        } else {
            char ts[32];
            iso8601(now + 3600, ts);
            cJSON *j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "accessToken", at);
            cJSON_AddStringToObject(j, "expireTime", ts);
            r = (reply){200, "application/json", cJSON_PrintUnformatted(j)};
            cJSON_Delete(j);
            char *fp = wih_fingerprint(at);
            cJSON_AddStringToObject(line, "access_token", fp);
            free(fp);
            OPENSSL_cleanse(at, strlen(at));
            free(at);
        }
    }
    log_decision(c, line);
    cloud_decision_clear(&d);
    free(role);
    wih_jwt_free(t);
    return r;
}

/* ----------------------------------------------------------------- admin */
static reply json_reply(int status, cJSON *j)
{
    reply r = {status, "application/json", cJSON_PrintUnformatted(j)};
    cJSON_Delete(j);
    return r;
}

static reply admin_error(int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    return json_reply(status, j);
}

static reply admin(cloud *c, const char *method, const char *url, const char *authz, const char *body, size_t len)
{
    const char *tok = authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : "";
    size_t tl = strlen(tok), al = strlen(c->admin_token);
    if (tl != al || CRYPTO_memcmp(tok, c->admin_token, al) != 0) return admin_error(401, "admin token required");
    const char *rest = url + strlen("/admin/v1/");
    wih_err *e = NULL;
    if (!strcmp(method, "GET") && !strcmp(rest, "roles")) return json_reply(200, cloud_role_list(c));
    if (!strcmp(method, "PUT") && !strncmp(rest, "roles/", 6)) {
        cJSON *role = cJSON_ParseWithLength(body, len);
        int rc = role ? cloud_role_set(c, rest + 6, role, &e) : -1;
        cJSON_Delete(role);
        if (rc != 0) {
            reply r = admin_error(e && wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : e ? 502 : 400,
                                  e ? wih_err_str(e) : "the body is not JSON");
            wih_err_free(e);
            return r;
        }
        return json_reply(200, cloud_role_list(c));
    }
    if ((!strcmp(method, "PUT") || !strcmp(method, "POST")) && !strncmp(rest, "buckets/", 8)) {
        if (cloud_bucket_create(c, rest + 8, &e) != 0) {
            reply r = admin_error(wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : e->http_status == 409 ? 409 : 502,
                                  wih_err_str(e));
            wih_err_free(e);
            return r;
        }
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "bucket", rest + 8);
        return json_reply(200, j);
    }
    if (!strcmp(method, "PUT") && !strcmp(rest, "providers")) {
        cJSON *j = cJSON_ParseWithLength(body, len);
        const char *iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "issuer"));
        const cJSON *jwks = cJSON_GetObjectItemCaseSensitive(j, "jwks");
        const char *ca = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "ca_file"));
        int rc = !iss ? -1 : jwks ? cloud_provider_add(c, iss, jwks, &e) : cloud_provider_discover(c, iss, ca, &e);
        cJSON_Delete(j);
        if (rc != 0) {
            reply r = admin_error(e ? (wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : 502) : 400,
                                  e ? wih_err_str(e) : "body must be {\"issuer\", \"jwks\" | \"ca_file\"}");
            wih_err_free(e);
            return r;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "issuer", iss ? "registered" : "");
        return json_reply(200, o);
    }
    return admin_error(404, "no such admin endpoint");
}

/* ------------------------------------------------------------- dispatch */
static reply route(cloud *c, struct MHD_Connection *conn, const char *method, const char *url, const char *body,
                   size_t len, bool too_big)
{
    if (too_big) return admin_error(413, "request body too large");
    const char *ctype = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (!strcmp(method, "GET") && !strcmp(url, "/.well-known/openid-configuration")) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "issuer", c->url);
        char *u = wih_asprintf("%s/jwks", c->url);
        cJSON_AddStringToObject(j, "jwks_uri", u);
        free(u);
        u = wih_asprintf("%s/authorize", c->url);
        cJSON_AddStringToObject(j, "authorization_endpoint", u);
        free(u);
        u = wih_asprintf("%s/token", c->url);
        cJSON_AddStringToObject(j, "token_endpoint", u);
        free(u);
        cJSON *a = cJSON_AddArrayToObject(j, "response_types_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("id_token"));
        a = cJSON_AddArrayToObject(j, "subject_types_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("public"));
        a = cJSON_AddArrayToObject(j, "id_token_signing_alg_values_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("RS256"));
        a = cJSON_AddArrayToObject(j, "scopes_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("openid"));
        a = cJSON_AddArrayToObject(j, "claims_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("sub"));
        cJSON_AddItemToArray(a, cJSON_CreateString("policy"));
        return json_reply(200, j);
    }
    if (!strcmp(method, "GET") && !strcmp(url, "/jwks")) return json_reply(200, cJSON_Duplicate(c->jwks, true));
    if (!strncmp(url, "/admin/v1/", 10)) return admin(c, method, url, authz, body, len);
    if (!strcmp(method, "POST") && !strcmp(url, "/")) return aws_sts(c, body, len);
    if (!strcmp(method, "POST") && !strcmp(url, "/v1/token")) return google_sts(c, ctype, body, len);
    const char *sa = "/v1/projects/-/serviceAccounts/", *gat = ":generateAccessToken";
    size_t ul = strlen(url), gl = strlen(gat);
    if (!strcmp(method, "POST") && !strncmp(url, sa, strlen(sa)) && ul > strlen(sa) + gl &&
        !strcmp(url + ul - gl, gat)) {
        char *email = wih_asprintf("%.*s", (int)(ul - gl - strlen(sa)), url + strlen(sa));
        char *at = strstr(email, "%40");
        if (at) { /* a URL-encoded @ */
            *at = '@';
            memmove(at + 1, at + 3, strlen(at + 3) + 1);
        }
        reply r = google_gen_token(c, email, authz, body, len);
        free(email);
        return r;
    }
    /* /{tenant}/v2.0/.well-known/openid-configuration: what MSAL's tenant
     * discovery reads before it posts to the token endpoint */
    const char *wk = "/v2.0/.well-known/openid-configuration";
    size_t wl = strlen(wk);
    if (!strcmp(method, "GET") && ul > wl + 1 && !strcmp(url + ul - wl, wk)) {
        char *tenant = wih_asprintf("%.*s", (int)(ul - wl - 1), url + 1);
        if (strchr(tenant, '/')) {
            free(tenant);
            return admin_error(404, "not found");
        }
        cJSON *j = cJSON_CreateObject();
        char *u = wih_asprintf("%s/%s/oauth2/v2.0/token", c->url, tenant);
        cJSON_AddStringToObject(j, "token_endpoint", u);
        free(u);
        u = wih_asprintf("%s/%s/oauth2/v2.0/authorize", c->url, tenant);
        cJSON_AddStringToObject(j, "authorization_endpoint", u);
        free(u);
        u = wih_asprintf("%s/%s/v2.0", c->url, tenant);
        cJSON_AddStringToObject(j, "issuer", u);
        free(u);
        u = wih_asprintf("%s/jwks", c->url);
        cJSON_AddStringToObject(j, "jwks_uri", u);
        free(u);
        cJSON *a = cJSON_AddArrayToObject(j, "token_endpoint_auth_methods_supported");
        cJSON_AddItemToArray(a, cJSON_CreateString("private_key_jwt"));
        cJSON_AddStringToObject(j, "tenant_region_scope", "NA");
        free(tenant);
        return json_reply(200, j);
    }
    /* /{tenant}/oauth2/v2.0/token */
    const char *tail = "/oauth2/v2.0/token";
    size_t tl = strlen(tail);
    if (!strcmp(method, "POST") && ul > tl + 1 && !strcmp(url + ul - tl, tail) && url[0] == '/') {
        char *tenant = wih_asprintf("%.*s", (int)(ul - tl - 1), url + 1);
        reply r = strchr(tenant, '/') ? entra_error(404, "invalid_request", 90002, "Tenant not found.")
                                      : entra_token(c, tenant, body, len);
        free(tenant);
        return r;
    }
    return admin_error(404, "not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    cloud *c = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = wih_xcalloc(1, sizeof *st);
        wih_buf_init(&st->body, REQ_MAX_BODY);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        wih_buf_add(&st->body, upload, *upload_size); /* an overrun is remembered and answered with 413 */
        *upload_size = 0;
        return MHD_YES;
    }
    reply r = route(c, conn, method, url, st->body.data ? st->body.data : "", st->body.len, st->body.overrun);
    if (!r.body) r = admin_error(500, "internal error");
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", r.ctype ? r.ctype : "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *st = *con_cls;
    if (!st) return;
    if (st->body.data) OPENSSL_cleanse(st->body.data, st->body.len);
    wih_buf_free(&st->body);
    free(st);
    *con_cls = NULL;
}

/* --------------------------------------------------------------- lifecycle */
/* The signing key: loaded from path when it exists, else generated (and
 * written 0600 when path is given). The kid is derived from the public key,
 * so it is stable across restarts. */
static int load_or_make_key(cloud *c, const char *path, wih_err **err)
{
    wih_jwk_key *k = NULL;
    if (path && access(path, F_OK) == 0) {
        k = wih_jwk_load_pem(path, NULL, err);
    } else {
        k = wih_jwk_generate(2048, NULL, err);
        char *pem = k ? wih_jwk_private_pem(k) : NULL;
        if (k && path && (!pem || wih_write_file(path, pem, strlen(pem), 0600, err) != 0)) {
            wih_jwk_free(k);
            k = NULL;
        }
        if (pem) OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
    if (!k) return -1;
    cJSON *pub = wih_jwk_public(k);
    char *fp = wih_fingerprint(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pub, "n")));
    cJSON_Delete(pub);
    char *kid = wih_strdup(strchr(fp, ':') ? strchr(fp, ':') + 1 : fp);
    free(fp);
    wih_jwk_set_kid(k, kid);
    c->key = k;
    free(kid);
    return 0;
}

/* Write the registry (under c->mu). Errors are logged: the in-memory state stays authoritative. */
static void save_registry_locked(cloud *c)
{
    if (!c->registry_file) return;
    char *s = cJSON_Print(c->reg);
    wih_err *e = NULL;
    if (wih_write_file(c->registry_file, s, strlen(s), 0600, &e) != 0) {
        wih_warn("saving the mock cloud registry: %s", wih_err_str(e));
        wih_err_free(e);
    }
    free(s);
}

cloud *cloud_start(const cloud_opts *o, wih_err **err)
{
    wih_err *e = NULL;
    if (!o || !o->cert_file || !o->key_file) {
        *err = wih_err_new(WIH_EXIT_INPUT, "starting the mock cloud: a serving certificate and key are required");
        return NULL;
    }
    cloud *c = wih_xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->reg = cJSON_Parse("{\"providers\":{},\"roles\":{}}");
    c->minio_client_id = wih_strdup(o->minio_client_id ? o->minio_client_id : "wiharness-minio");
    c->admin_token = o->admin_token ? wih_strdup(o->admin_token) : rand_token(32);
    if (!(c->cert_pem = wih_read_file(o->cert_file, 1 << 20, NULL, &e)) ||
        !(c->key_pem = wih_read_file(o->key_file, 1 << 20, NULL, &e)))
        goto fail;
    if (load_or_make_key(c, o->signing_key_file, &e) != 0) goto fail;
    if (o->registry_file) {
        c->registry_file = wih_strdup(o->registry_file);
        if (access(o->registry_file, F_OK) == 0) {
            char *txt = wih_read_file(o->registry_file, 16 << 20, NULL, &e);
            cJSON *r = txt ? cJSON_Parse(txt) : NULL;
            free(txt);
            if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "providers")) ||
                !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "roles"))) {
                cJSON_Delete(r);
                if (!e) e = wih_err_new(WIH_EXIT_INPUT, "%s: not a mock cloud registry ({\"providers\",\"roles\"})",
                                        o->registry_file);
                goto fail;
            }
            cJSON_Delete(c->reg);
            c->reg = r;
        }
    }
    c->jwks = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(c->jwks, "keys"), wih_jwk_public(c->key));
    if (o->decision_log && !(c->dlog = fopen(o->decision_log, "ae"))) {
        e = wih_err_new(WIH_EXIT_INFRA, "opening the decision log %s: %s", o->decision_log, strerror(errno));
        goto fail;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)(o->port > 0 ? o->port : 0));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, c, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_HTTPS_MEM_CERT, c->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, c->key_pem,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, c, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
    if (!c->d) {
        e = wih_err_new(WIH_EXIT_INFRA, "libmicrohttpd could not listen on 127.0.0.1:%d with TLS", o->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(c->d, MHD_DAEMON_INFO_BIND_PORT);
    c->port = di ? di->port : 0;
    c->url = wih_asprintf("https://127.0.0.1:%d", c->port);
    if (o->minio_endpoint) cloud_set_minio(c, o->minio_endpoint, o->minio_root_user, o->minio_root_password);
    wih_info("mock cloud listening on %s", c->url);
    return c;
fail:
    *err = wih_err_wrap(e, "starting the mock cloud");
    cloud_stop(c);
    return NULL;
}

wih_err *cloud_serve(const cloud_opts *o, const char *ready_file)
{
    wih_err *e = NULL;
    cloud *c = cloud_start(o, &e);
    if (!c) return e;
    if (ready_file) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "url", c->url);
        cJSON_AddNumberToObject(j, "port", c->port);
        cJSON_AddNumberToObject(j, "pid", (double)getpid());
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        int rc = wih_write_file(ready_file, s, strlen(s), 0600, &e);
        free(s);
        if (rc != 0) {
            cloud_stop(c);
            return wih_err_wrap(e, "writing %s", ready_file);
        }
    }
    while (!wih_interrupted()) wih_sleep_ms(200);
    cloud_stop(c);
    return NULL;
}

void cloud_stop(cloud *c)
{
    if (!c) return;
    if (c->d) MHD_stop_daemon(c->d);
    cJSON_Delete(c->reg);
    cJSON_Delete(c->jwks);
    wih_jwk_free(c->key);
    free(c->url);
    free(c->minio_endpoint);
    free(c->minio_user);
    if (c->minio_pass) OPENSSL_cleanse(c->minio_pass, strlen(c->minio_pass));
    free(c->minio_pass);
    free(c->minio_client_id);
    if (c->admin_token) OPENSSL_cleanse(c->admin_token, strlen(c->admin_token));
    free(c->admin_token);
    if (c->key_pem) OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
    free(c->key_pem);
    free(c->cert_pem);
    free(c->registry_file);
    if (c->dlog) fclose(c->dlog);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *cloud_url(const cloud *c) { return c->url; }
int cloud_port(const cloud *c) { return c->port; }
const char *cloud_admin_token(const cloud *c) { return c->admin_token; }
const char *cloud_minio_client_id(const cloud *c) { return c->minio_client_id; }

void cloud_set_minio(cloud *c, const char *endpoint, const char *user, const char *password)
{
    pthread_mutex_lock(&c->mu);
    free(c->minio_endpoint);
    free(c->minio_user);
    if (c->minio_pass) OPENSSL_cleanse(c->minio_pass, strlen(c->minio_pass));
    free(c->minio_pass);
    c->minio_endpoint = wih_strdup(endpoint);
    c->minio_user = wih_strdup(user);
    c->minio_pass = wih_strdup(password);
    pthread_mutex_unlock(&c->mu);
}

static s3_client *root_client(cloud *c, wih_err **err)
{
    pthread_mutex_lock(&c->mu);
    s3_client *s = NULL;
    if (c->minio_endpoint) {
        s3_creds cr = {.access_key = c->minio_user, .secret_key = c->minio_pass};
        s = s3_client_new(c->minio_endpoint, &cr, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    if (!s) *err = wih_err_new(WIH_EXIT_INFRA, "the mock cloud has no MinIO behind it");
    return s;
}

int cloud_provider_add(cloud *c, const char *issuer, const cJSON *jwks, wih_err **err)
{
    if (!issuer || strncmp(issuer, "https://", 8)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "an OIDC provider's issuer must be an https:// URL");
        return -1;
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(jwks, "keys"))) {
        *err = wih_err_new(WIH_EXIT_INPUT, "provider %s: the JWKS has no \"keys\" list", issuer);
        return -1;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "jwks", cJSON_Duplicate(jwks, true));
    pthread_mutex_lock(&c->mu);
    cJSON *provs = cJSON_GetObjectItemCaseSensitive(c->reg, "providers");
    cJSON_DeleteItemFromObjectCaseSensitive(provs, issuer);
    cJSON_AddItemToObject(provs, issuer, p);
    save_registry_locked(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int cloud_role_set(cloud *c, const char *name, const cJSON *role, wih_err **err)
{
    if (!cloud_role_valid(name, role, err)) return -1;
    cJSON *pol = s3_policy_for_grants(cJSON_GetObjectItemCaseSensitive(role, "grants"), err);
    if (!pol) return -1;
    s3_client *root = root_client(c, err);
    if (!root) {
        cJSON_Delete(pol);
        return -1;
    }
    char *pname = cloud_minio_policy_name(name);
    int rc = s3_admin_add_policy(root, pname, pol, err);
    free(pname);
    s3_client_free(root);
    cJSON_Delete(pol);
    if (rc != 0) return -1;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "trust", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(role, "trust"), true));
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(role, "grants");
    cJSON_AddItemToObject(r, "grants", g ? cJSON_Duplicate(g, true) : cJSON_CreateObject());
    pthread_mutex_lock(&c->mu);
    cJSON *roles = cJSON_GetObjectItemCaseSensitive(c->reg, "roles");
    cJSON_DeleteItemFromObjectCaseSensitive(roles, name);
    cJSON_AddItemToObject(roles, name, r);
    save_registry_locked(c);
    pthread_mutex_unlock(&c->mu);
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "provider", "admin");
    cJSON_AddStringToObject(line, "action", "role-set");
    cJSON_AddStringToObject(line, "role", name);
    log_decision(c, line);
    return 0;
}

cJSON *cloud_role_list(cloud *c)
{
    cJSON *out = cJSON_CreateArray();
    pthread_mutex_lock(&c->mu);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(c->reg, "roles"))
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->string);
        cJSON_AddItemToObject(o, "trust", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "trust"), true));
        cJSON_AddItemToObject(o, "grants", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "grants"), true));
        char *s = cloud_aws_role_arn(r->string);
        cJSON_AddStringToObject(o, "aws_role_arn", s);
        free(s);
        s = cloud_entra_client_id(r->string);
        cJSON_AddStringToObject(o, "entra_client_id", s);
        free(s);
        s = cloud_google_sa_email(r->string);
        cJSON_AddStringToObject(o, "google_service_account", s);
        free(s);
        s = cloud_minio_policy_name(r->string);
        cJSON_AddStringToObject(o, "minio_policy", s);
        free(s);
        cJSON_AddItemToArray(out, o);
    }
    pthread_mutex_unlock(&c->mu);
    return out;
}

cJSON *cloud_registry(cloud *c)
{
    pthread_mutex_lock(&c->mu);
    cJSON *r = cJSON_Duplicate(c->reg, true);
    pthread_mutex_unlock(&c->mu);
    return r;
}

int cloud_bucket_create(cloud *c, const char *bucket, wih_err **err)
{
    s3_client *root = root_client(c, err);
    if (!root) return -1;
    int rc = s3_make_bucket(root, bucket, err);
    s3_client_free(root);
    return rc;
}
