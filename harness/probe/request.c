/* Token-exchange requests, pure: each builder returns the request its SDK
 * sends (method, URL, headers, body); secrets are marked so a description
 * shows them only as fingerprints. The wire shapes were read from the SDKs
 * named in docs/probe.md. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/probe.h"

#define FORM_CT "application/x-www-form-urlencoded"

void probe_req_free(probe_req *r)
{
    if (!r) return;
    free(r->method);
    free(r->url);
    for (size_t i = 0; i < r->nheaders; i++) {
        free(r->headers[i].name);
        if (r->headers[i].secret) wih_free_secret(r->headers[i].value);
        else free(r->headers[i].value);
    }
    free(r->headers);
    wih_free_secret(r->body);
    free(r->body_shown);
    free(r->sigv4);
    wih_free_secret(r->sigv4_user);
    free(r);
}

static probe_req *req_new(const char *what, const char *method, const char *url)
{
    probe_req *r = calloc(1, sizeof *r);
    if (!r) abort();
    r->what = what;
    r->method = wih_strdup(method);
    r->url = wih_strdup(url);
    return r;
}

static void req_header(probe_req *r, const char *name, const char *value, bool secret)
{
    probe_kv *h = realloc(r->headers, (r->nheaders + 1) * sizeof *h);
    if (!h) abort();
    r->headers = h;
    h[r->nheaders++] = (probe_kv){wih_strdup(name), wih_strdup(value), secret};
}

/* Endpoint without trailing slashes + path. */
static char *join_url(const char *endpoint, const char *path)
{
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/') n--;
    return wih_asprintf("%.*s%s", (int)n, endpoint, path);
}

/* POST <endpoint>/ (the STS query APIs) */
static probe_req *req_post_root(const char *what, const char *endpoint)
{
    char *url = join_url(endpoint, "/");
    probe_req *r = req_new(what, "POST", url);
    free(url);
    return r;
}

/* RFC 3986 percent-encoding (unreserved kept); plus: space as '+', as
 * Python's urlencode (requests) writes it, else %20 as botocore does. */
static void pct_encode(wih_buf *b, const char *s, bool plus)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') wih_buf_add(b, p, 1);
        else if (*p == ' ' && plus) wih_buf_adds(b, "+");
        else wih_buf_addf(b, "%%%02X", *p);
    }
}

/* A form body from name/value fields (a NULL value is left out); secret
 * values are fingerprinted in the shown copy. */
typedef struct { const char *name, *value; bool secret; } form_field;

static void req_form(probe_req *r, const form_field *f, size_t n, bool plus, const char *ctype)
{
    wih_buf wire, shown;
    wih_buf_init(&wire, 1 << 20);
    wih_buf_init(&shown, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        if (!f[i].value) continue;
        const char *sep = wire.len ? "&" : "";
        wih_buf_addf(&wire, "%s%s=", sep, f[i].name);
        wih_buf_addf(&shown, "%s%s=", sep, f[i].name);
        pct_encode(&wire, f[i].value, plus);
        if (f[i].secret) {
            char *fp = wih_fingerprint(f[i].value);
            wih_buf_addf(&shown, "<%s>", fp);
            free(fp);
        } else {
            pct_encode(&shown, f[i].value, plus);
        }
    }
    if (!wire.data) wih_buf_adds(&wire, "");
    if (!shown.data) wih_buf_adds(&shown, "");
    r->body_len = wire.len;
    r->body = wih_buf_take(&wire);
    r->body_shown = wih_buf_take(&shown);
    req_header(r, "Content-Type", ctype, false);
}

probe_req *probe_req_aws_web_identity(const char *endpoint, const char *role_arn, const char *session_name,
                                      const char *token, int duration_s)
{
    probe_req *r = req_post_root("AWS STS AssumeRoleWithWebIdentity", endpoint);
    char dur[24];
    snprintf(dur, sizeof dur, "%d", duration_s);
    /* botocore's query serializer: Action, Version, then the input shape's
     * members in model order (RoleArn, RoleSessionName, WebIdentityToken, …,
     * DurationSeconds) */
    form_field f[] = {{"Action", "AssumeRoleWithWebIdentity", false},
                      {"Version", "2011-06-15", false},
                      {"RoleArn", role_arn, false},
                      {"RoleSessionName", session_name, false},
                      {"WebIdentityToken", token, true},
                      {"DurationSeconds", duration_s > 0 ? dur : NULL, false}};
    req_form(r, f, sizeof f / sizeof f[0], false, FORM_CT "; charset=utf-8");
    return r;
}

probe_req *probe_req_aws_caller_identity(const char *endpoint, const char *region, const s3_creds *creds)
{
    probe_req *r = req_post_root("AWS STS GetCallerIdentity", endpoint);
    form_field f[] = {{"Action", "GetCallerIdentity", false}, {"Version", "2011-06-15", false}};
    req_form(r, f, 2, false, FORM_CT "; charset=utf-8");
    if (creds && creds->session_token) req_header(r, "X-Amz-Security-Token", creds->session_token, true);
    r->sigv4 = wih_asprintf("aws:amz:%s:sts", region && *region ? region : "us-east-1");
    if (creds && creds->access_key && creds->secret_key)
        r->sigv4_user = wih_asprintf("%s:%s", creds->access_key, creds->secret_key);
    return r;
}

/* azure-identity's normalize_authority: add https:// when no scheme, drop
 * the trailing slash. */
static char *entra_token_url(const char *authority, const char *tenant)
{
    const char *a = authority && *authority ? authority : "https://login.microsoftonline.com";
    char *base = strstr(a, "://") ? wih_strdup(a) : wih_asprintf("https://%s", a);
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') base[--n] = 0;
    char *u = wih_asprintf("%s/%s/oauth2/v2.0/token", base, tenant && *tenant ? tenant : "organizations");
    free(base);
    return u;
}

probe_req *probe_req_entra_discovery(const char *authority, const char *tenant)
{
    char *tok = entra_token_url(authority, tenant);
    /* …/<tenant>/oauth2/v2.0/token → …/<tenant>/v2.0/.well-known/openid-configuration */
    tok[strlen(tok) - strlen("/oauth2/v2.0/token")] = 0;
    char *url = wih_asprintf("%s/v2.0/.well-known/openid-configuration", tok);
    free(tok);
    probe_req *r = req_new("Entra tenant discovery", "GET", url);
    free(url);
    return r;
}

/* A token request of the authority's tenant: at(<token url>, …). */
typedef probe_req *(*entra_at_fn)(const char *url, const char *client_id, const char *scope, const char *credential);

static probe_req *entra_at_authority(entra_at_fn at, const char *authority, const char *tenant,
                                     const char *client_id, const char *scope, const char *credential)
{
    char *url = entra_token_url(authority, tenant);
    probe_req *r = at(url, client_id, scope, credential);
    free(url);
    return r;
}

probe_req *probe_req_entra_assertion(const char *authority, const char *tenant, const char *client_id,
                                     const char *scope, const char *assertion)
{
    return entra_at_authority(probe_req_entra_assertion_at, authority, tenant, client_id, scope, assertion);
}

probe_req *probe_req_entra_assertion_at(const char *url, const char *client_id, const char *scope,
                                        const char *assertion)
{
    probe_req *r = req_new("Entra token (client assertion)", "POST", url);
    /* azure-identity's own AAD client (ClientAssertionCredential, which
     * WorkloadIdentityCredential is) sends the fields sorted by name and makes
     * no tenant discovery first (measured against azure-identity 1.27.0) */
    form_field f[] = {{"client_assertion", assertion, true},
                      {"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", false},
                      {"client_id", client_id, false},
                      {"grant_type", "client_credentials", false},
                      {"scope", scope, false}};
    req_form(r, f, sizeof f / sizeof f[0], true, FORM_CT);
    return r;
}

probe_req *probe_req_entra_secret(const char *authority, const char *tenant, const char *client_id,
                                  const char *scope, const char *secret)
{
    return entra_at_authority(probe_req_entra_secret_at, authority, tenant, client_id, scope, secret);
}

probe_req *probe_req_entra_secret_at(const char *url, const char *client_id, const char *scope, const char *secret)
{
    probe_req *r = req_new("Entra token (client secret)", "POST", url);
    /* ClientSecretCredential goes through MSAL: tenant discovery first
     * (probe_req_entra_discovery), then this (measured, msal 1.39.0) */
    form_field f[] = {{"client_id", client_id, false},
                      {"grant_type", "client_credentials", false},
                      {"client_info", "1", false},
                      {"client_secret", secret, true},
                      {"scope", scope, false}};
    req_form(r, f, sizeof f / sizeof f[0], true, FORM_CT);
    return r;
}

probe_req *probe_req_google_sts(const char *token_url, const char *audience, const char *subject_token_type,
                                const char *scope, const char *subject_token)
{
    probe_req *r = req_new("Google STS token exchange", "POST", token_url);
    form_field f[] = {{"grant_type", "urn:ietf:params:oauth:grant-type:token-exchange", false},
                      {"audience", audience, false},
                      {"scope", scope, false},
                      {"requested_token_type", "urn:ietf:params:oauth:token-type:access_token", false},
                      {"subject_token", subject_token, true},
                      {"subject_token_type", subject_token_type, false}};
    req_form(r, f, sizeof f / sizeof f[0], true, FORM_CT);
    return r;
}

probe_req *probe_req_google_generate(const char *impersonation_url, const char *scope, const char *federated_token)
{
    probe_req *r = req_new("Google IAM generateAccessToken", "POST", impersonation_url);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNullToObject(j, "delegates"); /* google-auth impersonated_credentials sends it, null */
    cJSON *s = cJSON_AddArrayToObject(j, "scope");
    cJSON_AddItemToArray(s, cJSON_CreateString(scope));
    cJSON_AddStringToObject(j, "lifetime", "3600s");
    r->body = cJSON_PrintUnformatted(j);
    if (!r->body) abort();
    r->body_len = strlen(r->body);
    r->body_shown = wih_strdup(r->body);
    cJSON_Delete(j);
    req_header(r, "Content-Type", "application/json", false);
    char *auth = wih_asprintf("Bearer %s", federated_token ? federated_token : "");
    req_header(r, "Authorization", auth, true);
    wih_free_secret(auth);
    return r;
}

probe_req *probe_req_google_tokeninfo(const char *url, const char *access_token)
{
    probe_req *r = req_new("Google tokeninfo", "POST", url);
    form_field f[] = {{"access_token", access_token, true}};
    req_form(r, f, 1, true, FORM_CT);
    return r;
}

char *probe_google_tokeninfo_url(const char *token_url)
{
    const char *p = token_url ? strstr(token_url, "://") : NULL;
    if (!p || p == token_url) return NULL;
    const char *host = p + 3, *end = host + strcspn(host, "/?#");
    if (end == host) return NULL;
    return wih_asprintf("%.*s/tokeninfo", (int)(end - token_url), token_url);
}

probe_req *probe_req_minio_web_identity(const char *endpoint, const char *token, int duration_s)
{
    probe_req *r = req_post_root("MinIO STS AssumeRoleWithWebIdentity", endpoint);
    char dur[24];
    snprintf(dur, sizeof dur, "%d", duration_s);
    form_field f[] = {{"Action", "AssumeRoleWithWebIdentity", false},
                      {"DurationSeconds", duration_s > 0 ? dur : NULL, false},
                      {"Version", "2011-06-15", false},
                      {"WebIdentityToken", token, true}};
    req_form(r, f, sizeof f / sizeof f[0], false, FORM_CT);
    return r;
}

cJSON *probe_req_describe(const probe_req *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "what", r->what);
    cJSON_AddStringToObject(j, "method", r->method);
    cJSON_AddStringToObject(j, "url", r->url);
    cJSON *h = cJSON_AddArrayToObject(j, "headers");
    for (size_t i = 0; i < r->nheaders; i++) {
        char *v = NULL;
        if (r->headers[i].secret) {
            /* "Bearer <fp>" keeps the scheme visible */
            const char *val = r->headers[i].value;
            const char *sp = !strncmp(val, "Bearer ", 7) ? val + 7 : val;
            char *fp = wih_fingerprint(sp);
            v = wih_asprintf("%s: %.*s<%s>", r->headers[i].name, (int)(sp - val), val, fp);
            free(fp);
        } else {
            v = wih_asprintf("%s: %s", r->headers[i].name, r->headers[i].value);
        }
        cJSON_AddItemToArray(h, cJSON_CreateString(v));
        free(v);
    }
    if (r->body_shown) cJSON_AddStringToObject(j, "body", r->body_shown);
    else cJSON_AddNullToObject(j, "body");
    if (r->sigv4) cJSON_AddStringToObject(j, "sigv4", r->sigv4);
    else cJSON_AddNullToObject(j, "sigv4");
    if (r->sigv4_user) {
        const char *colon = strchr(r->sigv4_user, ':');
        char *ak = wih_asprintf("%.*s", colon ? (int)(colon - r->sigv4_user) : 0, r->sigv4_user);
        cJSON_AddStringToObject(j, "sigv4_access_key", ak);
        free(ak);
    }
    return j;
}
