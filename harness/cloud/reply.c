/* Reply bodies in each provider's own error shape, and the small helpers the
 * provider handlers share. Pure (randomness only for request ids).
 *  - AWS STS (query API): <ErrorResponse xmlns=…><Error><Type>Sender</Type>
 *    <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
 *  - Entra (MSAL-facing JSON): {"error","error_description":"AADSTSnnn: … Trace ID: …",
 *    "error_codes":[nnn],"timestamp","trace_id","correlation_id","error_uri"}
 *  - Google STS (OAuth 2.0 token exchange): {"error","error_description"}
 *  - Google IAM Credentials (Google API errors): {"error":{"code","message","status"}} */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cloud_int.h"

char *cl_rand_token(size_t n)
{
    unsigned char b[48];
    if (n > sizeof b) n = sizeof b;
    if (RAND_bytes(b, (int)n) != 1) abort();
    return wih_b64url_encode(b, n);
}

void cl_iso8601(int64_t secs, char out[32])
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *cl_xml_escape(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    wih_buf_adds(&b, "");
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
    char *r = wih_buf_take(&b);
    return r ? r : wih_strdup("");
}

const char *cl_form_str(const cJSON *form, const char *name)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(form, name));
}

const cJSON *cl_role(const cJSON *reg, const char *role)
{
    if (!role) return NULL;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(reg, "roles"), role);
    return cJSON_IsObject(r) ? r : NULL;
}

cJSON *cl_simple_decision(const char *provider, const char *action, const char *role, const char *check,
                          const char *detail)
{
    cloud_decision d = {0};
    d.verdict = CLOUD_ROLE_UNKNOWN;
    d.check = check;
    d.detail = wih_strdup(detail);
    cJSON *j = cloud_decision_json(&d, provider, action, role);
    cJSON_ReplaceItemInObject(j, "verdict", cJSON_CreateString(check));
    cloud_decision_clear(&d);
    return j;
}

static void set_code(cloud_result *r, cJSON *code)
{
    if (!r->decision) r->decision = cl_simple_decision(r->provider ? r->provider : "", "", NULL, "request", "");
    cJSON_DeleteItemFromObjectCaseSensitive(r->decision, "code");
    cJSON_AddItemToObject(r->decision, "code", code);
}

void cl_json_reply(cloud_result *r, int status, cJSON *body)
{
    free(r->reply.body);
    r->reply.status = status;
    r->reply.ctype = "application/json";
    r->reply.body = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
}

void cl_aws_error(cloud_result *r, int status, const char *code, const char *msg)
{
    char *m = cl_xml_escape(msg), *rid = cl_rand_token(12);
    free(r->reply.body);
    r->reply.status = status;
    r->reply.ctype = "text/xml";
    r->reply.body = wih_asprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                 "<ErrorResponse xmlns=\"" CL_STS_NS "\">"
                                 "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                                 "<RequestId>%s</RequestId></ErrorResponse>\n",
                                 code, m, rid);
    free(m);
    free(rid);
    set_code(r, cJSON_CreateString(code));
}

void cl_entra_error(cloud_result *r, int64_t now, int status, const char *error, int aadsts, const char *msg)
{
    char ts[32];
    cl_iso8601(now, ts);
    char *trace = cl_rand_token(16), *corr = cl_rand_token(16);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", error);
    char *desc = wih_asprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, trace, corr,
                              ts);
    cJSON_AddStringToObject(j, "error_description", desc);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "error_codes"), cJSON_CreateNumber(aadsts));
    cJSON_AddStringToObject(j, "timestamp", ts);
    cJSON_AddStringToObject(j, "trace_id", trace);
    cJSON_AddStringToObject(j, "correlation_id", corr);
    cJSON_AddStringToObject(j, "error_uri", "https://login.microsoftonline.com/error");
    cl_json_reply(r, status, j);
    free(desc);
    free(trace);
    free(corr);
    set_code(r, cJSON_CreateNumber(aadsts));
}

void cl_google_sts_error(cloud_result *r, int status, const char *error, const char *desc)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", error);
    cJSON_AddStringToObject(j, "error_description", desc);
    cl_json_reply(r, status, j);
    set_code(r, cJSON_CreateString(error));
}

void cl_google_iam_error(cloud_result *r, int code, const char *status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(j, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "status", status);
    cl_json_reply(r, code, j);
    set_code(r, cJSON_CreateString(status));
}

char *cl_mint_for_minio(const cloud_env *e, const char *role, const char *sub, const char *provider,
                        int64_t lifetime, const char *extra_aud, const cJSON *extra, wih_err **err)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "iss", e->url);
    cJSON_AddStringToObject(p, "sub", sub);
    if (extra_aud) {
        cJSON *a = cJSON_AddArrayToObject(p, "aud");
        cJSON_AddItemToArray(a, cJSON_CreateString(e->minio_client_id));
        cJSON_AddItemToArray(a, cJSON_CreateString(extra_aud));
    } else {
        cJSON_AddStringToObject(p, "aud", e->minio_client_id);
    }
    cJSON_AddStringToObject(p, "azp", e->minio_client_id);
    char *pol = cloud_minio_policy_name(role);
    cJSON_AddStringToObject(p, "policy", pol);
    free(pol);
    cJSON_AddStringToObject(p, "wih_role", role);
    cJSON_AddStringToObject(p, "wih_provider", provider);
    cJSON_AddNumberToObject(p, "iat", (double)e->now);
    cJSON_AddNumberToObject(p, "nbf", (double)(e->now - 5));
    cJSON_AddNumberToObject(p, "exp", (double)(e->now + lifetime));
    char *jti = cl_rand_token(12);
    cJSON_AddStringToObject(p, "jti", jti);
    free(jti);
    const cJSON *x;
    cJSON_ArrayForEach(x, extra)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(p, x->string);
        cJSON_AddItemToObject(p, x->string, cJSON_Duplicate(x, true));
    }
    char *t = wih_jwt_sign(e->key, p, err);
    cJSON_Delete(p);
    return t;
}
