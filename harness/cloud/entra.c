/* Microsoft Entra token endpoint, pure: client credentials with a federated
 * client assertion (what azure-identity's WorkloadIdentityCredential posts),
 * and the tenant discovery document MSAL reads first. Errors are Entra's
 * JSON with the AADSTS code MSAL shows. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_int.h"

#define JWT_BEARER "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static void refuse(cloud_result *out, int64_t now, const char *error, int aad, const char *msg, const char *why)
{
    out->decision = cl_simple_decision("azure", "token", NULL, "request", why);
    cl_entra_error(out, now, 400, error, aad, msg);
}

/* The form checks; false when answered. */
static bool form_ok(const cloud_env *e, const cJSON *f, cloud_result *out)
{
    const char *missing = !cl_form_str(f, "grant_type")              ? "grant_type"
                          : !cl_form_str(f, "client_id")             ? "client_id"
                          : !cl_form_str(f, "client_assertion_type") ? "client_assertion_type"
                          : !cl_form_str(f, "client_assertion")      ? "client_assertion"
                          : !cl_form_str(f, "scope")                 ? "scope"
                                                                     : NULL;
    if (missing) {
        char *m = wih_asprintf("The request body must contain the following parameter: '%s'.", missing);
        refuse(out, e->now, "invalid_request", 900144, m, m);
        free(m);
        return false;
    }
    if (strcmp(cl_form_str(f, "grant_type"), "client_credentials")) {
        refuse(out, e->now, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.",
               "unsupported grant_type");
        return false;
    }
    if (strcmp(cl_form_str(f, "client_assertion_type"), JWT_BEARER)) {
        refuse(out, e->now, "invalid_request", 50027, "Invalid client_assertion_type.",
               "client_assertion_type is not jwt-bearer");
        return false;
    }
    return true;
}

static void verdict_error(cloud_result *out, int64_t now, cloud_verdict v, const cloud_decision *d)
{
    if (v == CLOUD_TOKEN_MALFORMED || v == CLOUD_CLAIM_MISSING) {
        cl_entra_error(out, now, 400, "invalid_request", 50027, "JWT token is invalid or malformed.");
    } else if (v == CLOUD_TOKEN_SIGNATURE) {
        cl_entra_error(out, now, 400, "invalid_client", 700027, "Client assertion failed signature validation.");
    } else if (v == CLOUD_EXPIRED || v == CLOUD_NOT_YET_VALID) {
        cl_entra_error(out, now, 400, "invalid_client", 700024, "Client assertion is not within its valid time range.");
    } else {
        char *aud = d->aud ? cJSON_PrintUnformatted(d->aud) : wih_strdup("");
        char *m = wih_asprintf("No matching federated identity record found for presented assertion. Assertion Issuer: "
                               "'%.256s'. Assertion Subject: '%.256s'. Assertion Audience: '%.256s'.",
                               d->iss ? d->iss : "", d->sub ? d->sub : "", aud);
        cl_entra_error(out, now, 400, "invalid_client", 70021, m);
        free(m);
        free(aud);
    }
}

/* The access token: a cloud JWT MinIO accepts (aud also the requested resource). */
static void issue(const cloud_env *e, const char *tenant, const char *role, const char *sub, const char *scope,
                  cloud_result *out)
{
    char *resource = wih_strdup(scope);
    char *sp = strchr(resource, ' ');
    if (sp) *sp = 0;
    size_t rl = strlen(resource);
    if (rl > 9 && !strcmp(resource + rl - 9, "/.default")) resource[rl - 9] = 0; /* aud = the resource */
    /* who the token is for, as a real Entra v2 app token says it */
    char *cid = cloud_entra_client_id(role), *oid = cloud_entra_object_id(role);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "azp", cid);
    cJSON_AddStringToObject(x, "appid", cid);
    cJSON_AddStringToObject(x, "oid", oid);
    cJSON_AddStringToObject(x, "tid", tenant);
    cJSON_AddStringToObject(x, "idtyp", "app");
    cJSON_AddStringToObject(x, "ver", "2.0");
    cJSON_AddArrayToObject(x, "roles");
    cJSON_AddStringToObject(x, "wih_subject", sub);
    wih_err *err = NULL;
    char *at = cl_mint_for_minio(e, role, oid, "azure", 3600, resource, x, &err);
    cJSON_Delete(x);
    free(cid);
    free(oid);
    free(resource);
    if (!at) {
        cl_entra_error(out, e->now, 500, "server_error", 90000, "The mock cloud could not sign a token.");
        cJSON_DeleteItemFromObjectCaseSensitive(out->decision, "code");
        cJSON_AddStringToObject(out->decision, "error", wih_err_str(err));
        wih_err_free(err);
        return;
    }
    char *fp = wih_fingerprint(at);
    cJSON_AddStringToObject(out->decision, "access_token", fp);
    free(fp);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "token_type", "Bearer");
    cJSON_AddNumberToObject(j, "expires_in", 3599);
    cJSON_AddNumberToObject(j, "ext_expires_in", 3599);
    cJSON_AddStringToObject(j, "access_token", at);
    cl_json_reply(out, 200, j);
    OPENSSL_cleanse(at, strlen(at));
    free(at);
}

void cloud_entra_token(const cloud_env *e, const char *tenant, const cloud_request *rq, cloud_result *out)
{
    out->provider = "azure";
    wih_err *err = NULL;
    cJSON *f = cloud_form_parse(rq->body ? rq->body : "", rq->len, &err);
    if (!f) {
        out->decision = cl_simple_decision("azure", "token", NULL, "form", wih_err_str(err));
        cl_entra_error(out, e->now, 400, "invalid_request", 900144, "The request body must be a valid form.");
        wih_err_free(err);
        return;
    }
    if (!form_ok(e, f, out)) {
        cJSON_Delete(f);
        return;
    }
    const char *cid = cl_form_str(f, "client_id");
    const char *role = cloud_role_from_client_id(e->reg, cid);
    cloud_decision d;
    cloud_verdict v =
        cloud_check_token(e->reg, role ? role : "", cl_form_str(f, "client_assertion"), CLOUD_ENTRA_AUDIENCE, e->now, &d);
    out->decision = cloud_decision_json(&d, "azure", "token", role ? role : cid);
    if (!role) {
        char *m = wih_asprintf("Application with identifier '%.64s' was not found in the directory '%.64s'.", cid,
                               tenant);
        cl_entra_error(out, e->now, 400, "unauthorized_client", 700016, m);
        free(m);
        cJSON_ReplaceItemInObject(out->decision, "verdict", cJSON_CreateString("role-unknown"));
        cJSON_ReplaceItemInObject(out->decision, "result", cJSON_CreateString("deny"));
    } else if (v != CLOUD_OK) {
        verdict_error(out, e->now, v, &d);
    } else {
        issue(e, tenant, role, d.sub, cl_form_str(f, "scope"), out);
    }
    cloud_decision_clear(&d);
    cJSON_Delete(f);
}
