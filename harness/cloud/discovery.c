/* Registering an OIDC provider from its discovery document, like creating an
 * IAM OIDC provider: <issuer>/.well-known/openid-configuration → jwks_uri → JWKS. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"

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

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return wih_buf_add(ud, p, sz * n) == 0 ? sz * n : 0;
}

static cJSON *get_json(const char *url, const char *ca_file, wih_err **err)
{
    CURL *h = curl_easy_init();
    if (!h) abort();
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
    if (ca_file) curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    CURLcode rc = curl_easy_perform(h);
    long st = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(h);
    cJSON *j = NULL;
    if (rc != CURLE_OK)
        *err = wih_err_new(WIH_EXIT_INFRA, "GET %s: %s", url, *ebuf ? ebuf : curl_easy_strerror(rc));
    else if (st != 200)
        *err = wih_err_http(st, b.data, "GET %s: HTTP %ld", url, st);
    else if (!(j = cJSON_ParseWithLength(b.data ? b.data : "", b.len)))
        *err = wih_err_new(WIH_EXIT_INFRA, "GET %s: the answer is not JSON", url);
    wih_buf_free(&b);
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
