/* Registering an OIDC provider from its discovery document, like creating an
 * IAM OIDC provider: <issuer>/.well-known/openid-configuration → jwks_uri → JWKS. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"
#include "wiharness/http.h"

char *cloud_discovery_jwks_uri(const cJSON *disc, const char *issuer, wih_err **err)
{
    const char *iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(disc, "issuer"));
    const char *uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(disc, "jwks_uri"));
    if (!cJSON_IsObject(disc)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "the discovery document is not a JSON object");
        return NULL;
    }
    if (!iss || strcmp(iss, issuer)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "the discovery document names issuer \"%s\", not \"%s\"",
                           iss ? iss : "(none)", issuer);
        return NULL;
    }
    if (!uri || strncmp(uri, "https://", 8)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "the discovery document has no https jwks_uri");
        return NULL;
    }
    return wih_strdup(uri);
}

static cJSON *get_json(const char *url, const char *ca_file, wih_err **err)
{
    wih_http_req rq = {.url = url, .ca_file = ca_file, .protocols = "https", .timeout_ms = 15000,
                       .max_body = 1 << 20};
    wih_http_resp rs;
    cJSON *j = NULL;
    if (wih_http_do(NULL, &rq, &rs, err) != 0)
        ; /* err says "GET <url>: …" */
    else if (rs.status != 200)
        *err = wih_err_http(rs.status, rs.body.data, "GET %s: HTTP %ld", url, rs.status);
    else if (!(j = cJSON_ParseWithLength(rs.body.data ? rs.body.data : "", rs.body.len)))
        *err = wih_err_new(WIH_EXIT_INFRA, "GET %s: the answer is not JSON", url);
    wih_http_resp_free(&rs);
    return j;
}

int cloud_provider_discover(cloud *c, const char *issuer, const char *ca_file, wih_err **err)
{
    if (!issuer || strncmp(issuer, "https://", 8)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "an OIDC provider's issuer must be an https:// URL");
        return -1;
    }
    size_t n = strlen(issuer);
    char *url = wih_asprintf("%s%s.well-known/openid-configuration", issuer, issuer[n - 1] == '/' ? "" : "/");
    wih_err *e = NULL;
    cJSON *disc = get_json(url, ca_file, &e);
    free(url);
    char *uri = disc ? cloud_discovery_jwks_uri(disc, issuer, &e) : NULL;
    cJSON_Delete(disc);
    cJSON *jwks = uri ? get_json(uri, ca_file, &e) : NULL;
    free(uri);
    int rc = jwks ? cloud_provider_add(c, issuer, jwks, &e) : -1;
    cJSON_Delete(jwks);
    if (rc != 0) *err = wih_err_wrap(e, "registering OIDC provider %s", issuer);
    return rc;
}
