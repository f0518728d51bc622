/* AWS STS (query API, Version 2011-06-15), pure: AssumeRoleWithWebIdentity
 * against the trust registry. The credentials themselves are MinIO's: on
 * success the handler sets out->mint and the HTTP layer opens the MinIO
 * session, then cloud_aws_assume_reply renders the answer.
 * Codes: InvalidIdentityToken, ExpiredTokenException, IDPRejectedClaim,
 * AccessDenied (403), MissingParameter, InvalidParameterValue,
 * ValidationError, MissingAction, InvalidAction (400). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_int.h"

void cloud_result_clear(cloud_result *r)
{
    if (!r) return;
    if (r->reply.body) OPENSSL_cleanse(r->reply.body, strlen(r->reply.body));
    free(r->reply.body);
    cJSON_Delete(r->decision);
    free(r->role);
    free(r->sub);
    free(r->iss);
    free(r->aud);
    free(r->session);
    memset(r, 0, sizeof *r);
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

/* A malformed request: the error reply and a "request" decision naming its code. */
static void bad_request(cloud_result *out, const char *action, const char *code, const char *msg)
{
    char *m = wih_asprintf("malformed request: %s", code);
    out->decision = cl_simple_decision("aws", action ? action : "", NULL, "request", m);
    free(m);
    cl_aws_error(out, 400, code, msg);
}

/* The form checks of AssumeRoleWithWebIdentity; false when answered. */
static bool assume_form_ok(const cJSON *f, cloud_result *out, long *duration)
{
    const char *missing = !cl_form_str(f, "RoleArn")            ? "RoleArn"
                          : !cl_form_str(f, "RoleSessionName")  ? "RoleSessionName"
                          : !cl_form_str(f, "WebIdentityToken") ? "WebIdentityToken"
                                                                : NULL;
    const char *a = "AssumeRoleWithWebIdentity";
    if (missing) {
        char *m = wih_asprintf("The request must contain the parameter %s", missing);
        bad_request(out, a, "MissingParameter", m);
        free(m);
        return false;
    }
    if (!session_name_ok(cl_form_str(f, "RoleSessionName"))) {
        bad_request(out, a, "ValidationError",
                    "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: "
                    "Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}");
        return false;
    }
    const char *dur_s = cl_form_str(f, "DurationSeconds");
    *duration = 3600;
    if (dur_s) {
        char *end;
        *duration = strtol(dur_s, &end, 10);
        if (!*dur_s || *end || *duration < 900 || *duration > 43200) {
            bad_request(out, a, "ValidationError",
                        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: "
                        "Member must have value between 900 and 43200");
            return false;
        }
    }
    return true;
}

static void assume_verdict_error(cloud_result *out, cloud_verdict v, const cloud_decision *d)
{
    switch (v) {
    case CLOUD_OK: break;
    case CLOUD_TOKEN_MALFORMED:
    case CLOUD_TOKEN_SIGNATURE:
    case CLOUD_NOT_YET_VALID: cl_aws_error(out, 400, "InvalidIdentityToken", d->detail); break;
    case CLOUD_ISSUER_UNKNOWN: {
        char *m = wih_asprintf("No OpenIDConnect provider found in your account for %s", d->iss ? d->iss : "");
        cl_aws_error(out, 400, "InvalidIdentityToken", m);
        free(m);
        break;
    }
    case CLOUD_AUDIENCE: cl_aws_error(out, 400, "InvalidIdentityToken", "Incorrect token audience"); break;
    case CLOUD_EXPIRED: cl_aws_error(out, 400, "ExpiredTokenException", "Token expired"); break;
    case CLOUD_CLAIM_MISSING: cl_aws_error(out, 403, "IDPRejectedClaim", d->detail); break;
    case CLOUD_SUBJECT:
    case CLOUD_ROLE_UNKNOWN:
        cl_aws_error(out, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
        break;
    }
}

static void assume_role(const cloud_env *e, const cJSON *f, cloud_result *out)
{
    long duration;
    if (!assume_form_ok(f, out, &duration)) return;
    const char *arn = cl_form_str(f, "RoleArn"), *token = cl_form_str(f, "WebIdentityToken");
    const char *role = cloud_role_from_arn(e->reg, arn);
    const char *want_aud = NULL;
    if (role) {
        const cJSON *ta = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cl_role(e->reg, role), "trust"), "audience");
        want_aud = cJSON_IsString(ta) ? ta->valuestring : CLOUD_AWS_DEFAULT_AUDIENCE;
    }
    cloud_decision d;
    cloud_verdict v = cloud_check_token(e->reg, role ? role : arn, token, want_aud, e->now, &d);
    if (!role) d.verdict = v = CLOUD_ROLE_UNKNOWN;
    out->decision = cloud_decision_json(&d, "aws", "AssumeRoleWithWebIdentity", role ? role : arn);
    if (v != CLOUD_OK) {
        assume_verdict_error(out, v, &d);
    } else {
        out->mint = true;
        out->role = wih_strdup(role);
        out->sub = wih_strdup(d.sub);
        out->iss = wih_strdup(d.iss);
        out->aud = wih_strdup(cJSON_IsString(d.aud) ? d.aud->valuestring
                              : cJSON_IsArray(d.aud) && cJSON_IsString(cJSON_GetArrayItem(d.aud, 0))
                                  ? cJSON_GetArrayItem(d.aud, 0)->valuestring
                                  : "");
        out->session = wih_strdup(cl_form_str(f, "RoleSessionName"));
        out->duration = (int)duration;
    }
    cloud_decision_clear(&d);
}

void cloud_aws_assume_reply(cloud_result *r, const s3_creds *cr, const char *minio_error)
{
    if (!cr) {
        cJSON_ReplaceItemInObject(r->decision, "result", cJSON_CreateString("error"));
        cJSON_AddStringToObject(r->decision, "minio_error", minio_error ? minio_error : "");
        cl_aws_error(r, 500, "InternalFailure", "the mock cloud could not open a MinIO session for the role");
        cJSON_DeleteItemFromObjectCaseSensitive(r->decision, "code");
        return;
    }
    char *skfp = wih_fingerprint(cr->secret_key);
    cJSON_AddStringToObject(r->decision, "access_key_id", cr->access_key);
    cJSON_AddStringToObject(r->decision, "secret_key", skfp);
    free(skfp);
    cJSON_AddStringToObject(r->decision, "expiration", cr->expiration ? cr->expiration : "");
    char *x_sub = cl_xml_escape(r->sub), *x_aud = cl_xml_escape(r->aud), *x_iss = cl_xml_escape(r->iss);
    char *x_sess = cl_xml_escape(r->session), *x_role = cl_xml_escape(r->role);
    char *x_ak = cl_xml_escape(cr->access_key), *x_sk = cl_xml_escape(cr->secret_key);
    char *x_st = cl_xml_escape(cr->session_token), *x_exp = cl_xml_escape(cr->expiration);
    char *rid = cl_rand_token(12), *rid_role = cloud_aws_role_id(r->role);
    free(r->reply.body);
    r->reply.status = 200;
    r->reply.ctype = "text/xml";
    r->reply.body = wih_asprintf(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<AssumeRoleWithWebIdentityResponse xmlns=\"" CL_STS_NS "\">"
        "<AssumeRoleWithWebIdentityResult>"
        "<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken><Audience>%s</Audience>"
        "<AssumedRoleUser><Arn>arn:aws:sts::" CL_ACCOUNT ":assumed-role/%s/%s</Arn>"
        "<AssumedRoleId>%s:%s</AssumedRoleId></AssumedRoleUser>"
        "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
        "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
        "<Provider>%s</Provider></AssumeRoleWithWebIdentityResult>"
        "<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>\n",
        x_sub, x_aud, x_role, x_sess, rid_role, x_sess, x_ak, x_sk, x_st, x_exp, x_iss, rid);
    free(rid_role);
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
}

void cloud_aws_sts(const cloud_env *e, const cloud_request *rq, cloud_result *out)
{
    out->provider = "aws";
    wih_err *err = NULL;
    /* the query API: parameters in the body of a POST, in the query of a GET */
    bool get = !strcmp(rq->method, "GET");
    const char *params = get ? (rq->query ? rq->query : "") : rq->body ? rq->body : "";
    cJSON *f = cloud_form_parse(params, get ? strlen(params) : rq->len, &err);
    if (!f) {
        out->decision = cl_simple_decision("aws", "AssumeRoleWithWebIdentity", NULL, "form", wih_err_str(err));
        cl_aws_error(out, 400, "InvalidParameterValue", wih_err_str(err));
        wih_err_free(err);
        return;
    }
    const char *action = cl_form_str(f, "Action"), *version = cl_form_str(f, "Version");
    if (!action) {
        bad_request(out, NULL, "MissingAction", "The request must contain the parameter Action");
    } else if (!strcmp(action, "GetCallerIdentity") && version && !strcmp(version, "2011-06-15")) {
        cl_aws_caller_identity(e, rq, out);
    } else if (strcmp(action, "AssumeRoleWithWebIdentity")) {
        char *m = wih_asprintf("Could not find operation %.64s for version %.32s", action, version ? version : "");
        bad_request(out, action, "InvalidAction", m);
        free(m);
    } else if (!version) {
        bad_request(out, action, "MissingParameter", "The request must contain the parameter Version");
    } else if (strcmp(version, "2011-06-15")) {
        bad_request(out, action, "InvalidParameterValue", "Version must be 2011-06-15");
    } else {
        assume_role(e, f, out);
    }
    cJSON_Delete(f);
}
