/* AWS STS GetCallerIdentity, pure: a request signed with SigV4 using the
 * session credentials the mock STS issued → who the caller is
 * (GetCallerIdentityResult/{Arn, UserId, Account}). Refusals in real STS's
 * codes: MissingAuthenticationToken (403), IncompleteSignature (400),
 * InvalidClientTokenId (403), ExpiredToken (400), SignatureDoesNotMatch (403). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud_int.h"

#define SKEW_S (15 * 60)

static const char *hdr(const cloud_request *rq, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rq->headers, name));
}

typedef struct {
    char *akid, *scope, *signed_headers, *signature;
} authz;

static void authz_free(authz *a)
{
    free(a->akid);
    free(a->scope);
    free(a->signed_headers);
    free(a->signature);
}

/* The value of "name=" in "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". */
static char *param(const char *s, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = s; (p = strstr(p, name)); p += nl) {
        if ((p == s || p[-1] == ' ' || p[-1] == ',') && p[nl] == '=') {
            const char *v = p + nl + 1;
            return wih_asprintf("%.*s", (int)strcspn(v, ", "), v);
        }
    }
    return NULL;
}

static bool parse_authz(const char *h, authz *a)
{
    memset(a, 0, sizeof *a);
    const char *alg = "AWS4-HMAC-SHA256 ";
    if (strncmp(h, alg, strlen(alg))) return false;
    char *cred = param(h, "Credential");
    a->signed_headers = param(h, "SignedHeaders");
    a->signature = param(h, "Signature");
    const char *slash = cred ? strchr(cred, '/') : NULL;
    if (slash) {
        a->akid = wih_asprintf("%.*s", (int)(slash - cred), cred);
        a->scope = wih_strdup(slash + 1);
    }
    free(cred);
    return a->akid && *a->akid && a->scope && a->signed_headers && *a->signed_headers && a->signature;
}

/* 20251201T120000Z → epoch, or -1. */
static int64_t amz_time(const char *s)
{
    struct tm tm = {0};
    if (!s || strlen(s) != 16 || sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                                        &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

static void refuse(cloud_result *out, int status, const char *code, const char *msg, const char *check,
                   const char *role)
{
    out->decision = cl_simple_decision("aws", "GetCallerIdentity", role, check, msg);
    cl_aws_error(out, status, code, msg);
}

static bool scope_ok(const authz *a, cloud_result *out, const char *role)
{
    const char *s = a->scope;
    size_t n = strlen(s);
    const char *svc_end = n > 13 ? s + n - 13 : NULL; /* "/aws4_request" */
    const char *svc = svc_end ? svc_end - 3 : NULL;
    if (!svc_end || strcmp(svc_end, "/aws4_request")) {
        refuse(out, 400, "IncompleteSignature", "Credential should be scoped to a valid region.", "signature", role);
        return false;
    }
    if (svc < s + 1 || strncmp(svc, "sts", 3) || svc[-1] != '/') {
        refuse(out, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'.", "signature",
               role);
        return false;
    }
    return true;
}

static void answer(const cloud_env *e, const cJSON *sess, const char *akid, cloud_result *out)
{
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sess, "role"));
    const char *session = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sess, "session"));
    char *arn = wih_asprintf("arn:aws:sts::" CL_ACCOUNT ":assumed-role/%s/%s", role, session);
    char *rid = cloud_aws_role_id(role);
    char *x_arn = cl_xml_escape(arn), *x_sess = cl_xml_escape(session), *req = cl_rand_token(12);
    free(out->reply.body);
    out->reply.status = 200;
    out->reply.ctype = "text/xml";
    out->reply.body = wih_asprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                   "<GetCallerIdentityResponse xmlns=\"" CL_STS_NS "\">"
                                   "<GetCallerIdentityResult><Arn>%s</Arn><UserId>%s:%s</UserId>"
                                   "<Account>" CL_ACCOUNT "</Account></GetCallerIdentityResult>"
                                   "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
                                   "</GetCallerIdentityResponse>\n",
                                   x_arn, rid, x_sess, req);
    cloud_decision d = {0};
    d.check = "ok";
    out->decision = cloud_decision_json(&d, "aws", "GetCallerIdentity", role);
    cJSON_AddStringToObject(out->decision, "access_key_id", akid);
    cJSON_AddStringToObject(out->decision, "arn", arn);
    (void)e;
    free(arn);
    free(rid);
    free(x_arn);
    free(x_sess);
    free(req);
}

/* The checks real STS makes, in its order; true when the request is the session's. */
static bool authenticated(const cloud_env *e, const cloud_request *rq, const authz *a, const cJSON *sess,
                          cloud_result *out)
{
    const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sess, "role"));
    const char *want_st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sess, "session_token"));
    const char *st = hdr(rq, "x-amz-security-token");
    const char *invalid = "The security token included in the request is invalid.";
    if (!want_st || !st || strlen(st) != strlen(want_st) || CRYPTO_memcmp(st, want_st, strlen(st))) {
        refuse(out, 403, "InvalidClientTokenId", invalid, "session-token", role);
        return false;
    }
    double exp = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(sess, "expires"));
    if ((double)e->now >= exp) {
        refuse(out, 400, "ExpiredToken", "The security token included in the request is expired", "expiry", role);
        return false;
    }
    if (!scope_ok(a, out, role)) return false;
    const char *amzdate = hdr(rq, "x-amz-date");
    int64_t t = amz_time(amzdate);
    if (t < 0) {
        refuse(out, 400, "IncompleteSignature",
               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", "signature", role);
        return false;
    }
    char *canon = cloud_sigv4_canonical_request(rq, a->signed_headers);
    const char *secret = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sess, "secret_key"));
    char *sig = cloud_sigv4_signature(secret ? secret : "", amzdate, a->scope, canon);
    free(canon);
    bool match = sig && strlen(sig) == strlen(a->signature) && !CRYPTO_memcmp(sig, a->signature, strlen(sig));
    free(sig);
    if (!match) {
        refuse(out, 403, "SignatureDoesNotMatch",
               "The request signature we calculated does not match the signature you provided. Check your AWS "
               "Secret Access Key and signing method. Consult the service documentation for details.",
               "signature", role);
        return false;
    }
    if (t < e->now - SKEW_S || t > e->now + SKEW_S) {
        char *m = wih_asprintf("Signature expired: %s is now earlier or later than 15 minutes from the server's time.",
                               amzdate);
        refuse(out, 403, "SignatureDoesNotMatch", m, "signature-time", role);
        free(m);
        return false;
    }
    return true;
}

void cl_aws_caller_identity(const cloud_env *e, const cloud_request *rq, cloud_result *out)
{
    const char *h = hdr(rq, "authorization");
    if (!h) return refuse(out, 403, "MissingAuthenticationToken", "Request is missing Authentication Token", "signature",
                          NULL);
    authz a;
    if (!parse_authz(h, &a)) {
        refuse(out, 400, "IncompleteSignature",
               "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.", "signature",
               NULL);
        authz_free(&a);
        return;
    }
    const cJSON *sess = cJSON_GetObjectItemCaseSensitive(e->sessions, a.akid);
    if (!cJSON_IsObject(sess))
        refuse(out, 403, "InvalidClientTokenId", "The security token included in the request is invalid.",
               "access-key", NULL);
    else if (authenticated(e, rq, &a, sess, out))
        answer(e, sess, a.akid, out);
    authz_free(&a);
}

/* Secrets are wiped before their memory is freed. */
static void session_delete(cJSON *o)
{
    const char *secret[] = {"secret_key", "session_token"};
    for (int i = 0; i < 2; i++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(o, secret[i]);
        if (cJSON_IsString(v)) OPENSSL_cleanse(v->valuestring, strlen(v->valuestring));
    }
    cJSON_Delete(o);
}

void cloud_aws_sessions_free(cJSON *sessions)
{
    if (!sessions) return;
    while (sessions->child) session_delete(cJSON_DetachItemViaPointer(sessions, sessions->child));
    cJSON_Delete(sessions);
}

void cloud_aws_session_add(cJSON *sessions, const s3_creds *cr, const char *role, const char *session,
                           int64_t expires, int64_t now)
{
    for (cJSON *s = sessions ? sessions->child : NULL, *next; s; s = next) {
        next = s->next;
        if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "expires")) <= (double)now)
            session_delete(cJSON_DetachItemViaPointer(sessions, s));
    }
    if (!sessions || !cr || !cr->access_key) return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "secret_key", cr->secret_key ? cr->secret_key : "");
    cJSON_AddStringToObject(o, "session_token", cr->session_token ? cr->session_token : "");
    cJSON_AddStringToObject(o, "role", role);
    cJSON_AddStringToObject(o, "session", session);
    cJSON_AddNumberToObject(o, "expires", (double)expires);
    cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(sessions, cr->access_key);
    if (old) session_delete(old);
    cJSON_AddItemToObject(sessions, cr->access_key, o);
}

char *cloud_aws_role_id(const char *role)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char *h = cloud_sha256_hex(role ? role : "", role ? strlen(role) : 0);
    char id[4 + 17 + 1] = "AROA";
    for (int i = 0; i < 17; i++) id[4 + i] = a[(unsigned char)(h[2 * i] * 7 + h[2 * i + 1]) % 32];
    id[21] = 0;
    free(h);
    return wih_strdup(id);
}
