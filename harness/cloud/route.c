/* Routing, pure: method + path → the provider handler (docs/cloud.md has
 * the table), the cloud's own OpenID discovery and JWKS (what MinIO reads to
 * trust it), Entra's tenant discovery (what MSAL reads first). The admin API
 * is flagged for the HTTP layer (it needs MinIO). */
#include <stdlib.h>
#include <string.h>

#include "cloud_int.h"

/* Which provider's error shape a path gets when nothing serves it. */
typedef enum { AREA_AWS, AREA_GOOGLE, AREA_ENTRA, AREA_ADMIN } area;
/* The provider named in the result (and its decision) for each area. */
static const char *const k_area_provider[] = {"aws", "google", "azure", "admin"};

static area area_of(const char *p)
{
    if (!strncmp(p, "/admin/", 7)) return AREA_ADMIN;
    if (!strncmp(p, "/v1/", 4) || !strcmp(p, "/tokeninfo")) return AREA_GOOGLE;
    if (strstr(p, "/oauth2/") || strstr(p, "/v2.0/")) return AREA_ENTRA;
    return AREA_AWS; /* "/" and everything else: the STS query API's XML, which SDKs parse */
}

/* 404 (or 413 for a body over the limit) in the shape of the path's provider. */
static void refuse_path(const cloud_env *e, const cloud_request *rq, cloud_result *out, bool too_big)
{
    int st = too_big ? 413 : 404;
    const char *msg = too_big ? "The request body is over the limit." : "No such endpoint.";
    char *why = wih_asprintf("%s %.128s", too_big ? "body over the limit:" : "no endpoint for", rq->path);
    area a = area_of(rq->path);
    out->provider = k_area_provider[a];
    if (a != AREA_ADMIN)
        out->decision = cl_simple_decision(out->provider, "", NULL, "request", why);
    switch (a) {
    case AREA_ADMIN: {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "error", too_big ? "request body too large" : "not found");
        cl_json_reply(out, st, j);
        break;
    }
    case AREA_GOOGLE:
        cl_google_iam_error(out, st, too_big ? "INVALID_ARGUMENT" : "NOT_FOUND", msg);
        break;
    case AREA_ENTRA:
        cl_entra_error(out, e->now, st, "invalid_request", too_big ? 90033 : 90002, msg);
        break;
    case AREA_AWS:
        cl_aws_error(out, st, too_big ? "RequestEntityTooLarge" : "NotFound", msg);
        break;
    }
    free(why);
}



static void add_url(cJSON *j, const char *name, const char *base, const char *fmt_tail)
{
    char *u = wih_asprintf("%s%s", base, fmt_tail);
    cJSON_AddStringToObject(j, name, u);
    free(u);
}

static void add_list(cJSON *j, const char *name, const char *a, const char *b)
{
    cJSON *l = cJSON_AddArrayToObject(j, name);
    cJSON_AddItemToArray(l, cJSON_CreateString(a));
    if (b) cJSON_AddItemToArray(l, cJSON_CreateString(b));
}

static void openid_configuration(const cloud_env *e, cloud_result *out)
{
    out->provider = "discovery";
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "issuer", e->url);
    add_url(j, "jwks_uri", e->url, "/jwks");
    add_url(j, "authorization_endpoint", e->url, "/authorize");
    add_url(j, "token_endpoint", e->url, "/token");
    add_list(j, "response_types_supported", "id_token", NULL);
    add_list(j, "subject_types_supported", "public", NULL);
    add_list(j, "id_token_signing_alg_values_supported", "RS256", NULL);
    add_list(j, "scopes_supported", "openid", NULL);
    add_list(j, "claims_supported", "sub", "policy");
    cl_json_reply(out, 200, j);
}

static void tenant_discovery(const cloud_env *e, const char *tenant, cloud_result *out)
{
    out->provider = "azure";
    cJSON *j = cJSON_CreateObject();
    char *base = wih_asprintf("%s/%s", e->url, tenant);
    add_url(j, "token_endpoint", base, "/oauth2/v2.0/token");
    add_url(j, "authorization_endpoint", base, "/oauth2/v2.0/authorize");
    add_url(j, "issuer", base, "/v2.0");
    add_url(j, "jwks_uri", e->url, "/jwks");
    add_list(j, "token_endpoint_auth_methods_supported", "private_key_jwt", NULL);
    cJSON_AddStringToObject(j, "tenant_region_scope", "NA");
    free(base);
    cl_json_reply(out, 200, j);
}

static bool ends_with(const char *s, size_t n, const char *tail)
{
    size_t tl = strlen(tail);
    return n > tl + 1 && !strcmp(s + n - tl, tail);
}

/* /v1/projects/-/serviceAccounts/{email}:generateAccessToken → email (a
 * URL-encoded @ decoded), or NULL. */
static char *generate_email(const char *path)
{
    const char *sa = "/v1/projects/-/serviceAccounts/", *gat = ":generateAccessToken";
    size_t ul = strlen(path), sl = strlen(sa), gl = strlen(gat);
    if (strncmp(path, sa, sl) || ul <= sl + gl || strcmp(path + ul - gl, gat)) return NULL;
    char *email = wih_asprintf("%.*s", (int)(ul - gl - sl), path + sl);
    char *at = strstr(email, "%40");
    if (at) {
        *at = '@';
        memmove(at + 1, at + 3, strlen(at + 3) + 1);
    }
    return email;
}

/* "/{tenant}<tail>" → tenant (one path segment), or NULL. */
static char *tenant_of(const char *path, const char *tail)
{
    size_t ul = strlen(path);
    if (path[0] != '/' || !ends_with(path, ul, tail)) return NULL;
    return wih_asprintf("%.*s", (int)(ul - strlen(tail) - 1), path + 1);
}

void cloud_route(const cloud_env *e, const cloud_request *rq, cloud_result *out)
{
    const char *m = rq->method, *p = rq->path;
    bool get = !strcmp(m, "GET"), post = !strcmp(m, "POST");
    if (rq->too_big) return refuse_path(e, rq, out, true);
    if (!strncmp(p, "/admin/v1/", 10)) {
        out->admin = true;
        out->provider = "admin";
        return;
    }
    if (get && !strcmp(p, "/.well-known/openid-configuration")) return openid_configuration(e, out);
    if (get && !strcmp(p, "/jwks")) return cl_json_reply(out, 200, cJSON_Duplicate(e->jwks, true));
    if ((post || get) && !strcmp(p, "/")) return cloud_aws_sts(e, rq, out); /* the query API */
    if (post && !strcmp(p, "/v1/token")) return cloud_google_sts(e, rq, out);
    if ((post || get) && !strcmp(p, "/tokeninfo")) return cloud_google_tokeninfo(e, rq, out);
    char *email = post ? generate_email(p) : NULL;
    if (email) {
        cloud_google_generate(e, email, rq, out);
        free(email);
        return;
    }
    char *tenant = get ? tenant_of(p, "/v2.0/.well-known/openid-configuration") : NULL;
    if (tenant) {
        if (strchr(tenant, '/')) refuse_path(e, rq, out, false);
        else tenant_discovery(e, tenant, out);
        free(tenant);
        return;
    }
    tenant = post ? tenant_of(p, "/oauth2/v2.0/token") : NULL;
    if (tenant) {
        if (strchr(tenant, '/')) {
            out->provider = "azure";
            out->decision = cl_simple_decision("azure", "token", NULL, "request", "tenant not found");
            cl_entra_error(out, e->now, 404, "invalid_request", 90002, "Tenant not found.");
        } else {
            cloud_entra_token(e, tenant, rq, out);
        }
        free(tenant);
        return;
    }
    refuse_path(e, rq, out, false);
}
