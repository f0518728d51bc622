/* The HTTP side of the Kubernetes client, on the shared client (http.h): one
 * connection per client (reused), TLS from the kubeconfig as PEM blobs (no key
 * material ever written to disk), JSON in and out, capped
 * response bodies, retries with backoff, and errors that keep the HTTP status
 * and the server's Status.message. */
#include "wiharness/kube.h"

#include <stdlib.h>
#include <string.h>

#include "kube_internal.h"
#include "wiharness/http.h"

struct kube_client {
    kube_config *cfg;
    wih_http *http;               /* one connection, reused */
    char *base;                   /* URL prefix requests are made against */
    char *connect_to;             /* tls-server-name: connect to the real host */
    int64_t retry_ms;
    size_t max_body;
    /* discovery cache (discovery.c) */
    cJSON *disc_api, *disc_apis;
    cJSON *disc_gv; /* object: "group/version" → APIResourceList */
};

/* accessors for discovery.c / ops.c */
cJSON **kube_client_disc_api(kube_client *c) { return &c->disc_api; }
cJSON **kube_client_disc_apis(kube_client *c) { return &c->disc_apis; }
cJSON *kube_client_disc_gv(kube_client *c) { return c->disc_gv; }

kube_config *kube_client_config(kube_client *c) { return c->cfg; }
void kube_client_set_retry_ms(kube_client *c, int64_t ms) { c->retry_ms = ms; }
void kube_client_set_max_body(kube_client *c, size_t max) { c->max_body = max; }

kube_client *kube_client_new(const kube_config_opts *opts, wih_err **err)
{
    kube_config *cfg = kube_config_load(opts, err);
    if (!cfg) return NULL;
    return kube_client_from_config(cfg, err);
}

/* Split "https://host:port/prefix" → host (maybe [v6]), port, prefix. */
static bool split_server(const char *server, char **scheme, char **host, int *port, char **prefix)
{
    const char *p = strstr(server, "://");
    if (!p) return false;
    *scheme = wih_asprintf("%.*s", (int)(p - server), server);
    p += 3;
    const char *end = p + strcspn(p, "/");
    const char *hend;
    if (*p == '[') {
        hend = strchr(p, ']');
        if (!hend || hend > end) return false;
        hend++;
    } else {
        hend = p;
        while (hend < end && *hend != ':') hend++;
    }
    *host = wih_asprintf("%.*s", (int)(hend - p), p);
    *port = !strcmp(*scheme, "https") ? 443 : 80;
    if (hend < end && *hend == ':') *port = atoi(hend + 1);
    *prefix = wih_strdup(end);
    return true;
}

kube_client *kube_client_from_config(kube_config *cfg, wih_err **err)
{
    kube_client *c = wih_xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->retry_ms = 10000;
    c->max_body = (size_t)16 << 20;
    c->disc_gv = cJSON_CreateObject();
    c->http = wih_http_new();
    const char *server = kube_config_server(cfg);
    const char *tsn = kube_config_tls_server_name(cfg);
    if (tsn) {
        /* client-go puts tls-server-name into the TLS config (SNI and the name
         * checked against the certificate). libcurl has no such knob, so the
         * URL names tls-server-name and CONNECT_TO sends the connection to the
         * real host. */
        char *scheme = NULL, *host = NULL, *prefix = NULL;
        int port = 0;
        if (!split_server(server, &scheme, &host, &port, &prefix)) {
            *err = wih_err_new(WIH_EXIT_INPUT, "cluster %s: cannot parse server %s", kube_config_cluster(cfg), server);
            free(scheme);
            free(host);
            free(prefix);
            kube_client_free(c);
            return NULL;
        }
        c->base = wih_asprintf("%s://%s:%d%s", scheme, tsn, port, prefix);
        c->connect_to = wih_asprintf("%s:%d:%s:%d", tsn, port, host, port);
        free(scheme);
        free(host);
        free(prefix);
    } else {
        c->base = wih_strdup(server);
    }
    return c;
}

void kube_client_free(kube_client *c)
{
    if (!c) return;
    wih_http_free(c->http);
    free(c->connect_to);
    free(c->base);
    cJSON_Delete(c->disc_api);
    cJSON_Delete(c->disc_apis);
    cJSON_Delete(c->disc_gv);
    kube_config_free(c->cfg);
    free(c);
}

/* ------------------------------------------------------------ error mapping */
static bool is_admission_denial(const char *m)
{
    return m && (strstr(m, "admission webhook") || strstr(m, "denied request") ||
                 strstr(m, "denied the request"));
}

wih_err *kube_error_from_http(long status, const char *body, const char *method, const char *url,
                              const char *kubeconfig, const char *user)
{
    char *msg = NULL, *reason = NULL;
    cJSON *j = body ? cJSON_Parse(body) : NULL;
    if (j && cJSON_IsObject(j)) {
        const char *kind = kube_obj_str(j, "kind");
        const char *m = kube_obj_str(j, "message");
        const char *r = kube_obj_str(j, "reason");
        if (kind && !strcmp(kind, "Status") && m) msg = wih_strdup(m);
        if (r) reason = wih_strdup(r);
        if (!msg && m) msg = wih_strdup(m);
    }
    cJSON_Delete(j);
    if (!msg) msg = wih_http_trim(body, 500);
    const char *shown = *msg ? msg : "(empty response body)";
    const char *kc = kubeconfig ? kubeconfig : "the kubeconfig";
    wih_err *e;
    if (is_admission_denial(msg)) {
        e = wih_err_http(status, msg, "%s %s: denied: %s", method, url, shown);
        e->kind = WIH_EXIT_FAIL;
    } else if (status == 401) {
        e = wih_err_http(status, msg,
                         "%s %s: unauthorized: the API server rejected the credentials of user \"%s\" in %s: %s",
                         method, url, user && *user ? user : "(none)", kc, shown);
    } else if (status == 403) {
        /* RBAC: "pods is forbidden: User \"x\" cannot list resource ..." */
        const char *f = strstr(msg, "forbidden: ");
        e = wih_err_http(status, msg, "%s %s: forbidden: %s", method, url, f ? f + 11 : shown);
    } else if (status == 400 || status == 422) {
        e = wih_err_http(status, msg, "%s %s: the server rejected the request as invalid: %s", method, url, shown);
        e->kind = WIH_EXIT_INPUT;
    } else if (status == 404) {
        e = wih_err_http(status, msg, "%s %s: not found: %s", method, url, shown);
    } else if (status == 409) {
        e = wih_err_http(status, msg, "%s %s: conflict%s%s: %s", method, url, reason ? " " : "",
                         reason ? reason : "", shown);
    } else if (status == 429) {
        e = wih_err_http(status, msg, "%s %s: too many requests (still 429 at the retry deadline): %s", method,
                         url, shown);
    } else if (status >= 500) {
        e = wih_err_http(status, msg, "%s %s: server error %ld: %s", method, url, status, shown);
    } else {
        e = wih_err_http(status, msg, "%s %s: HTTP %ld: %s", method, url, status, shown);
    }
    free(msg);
    free(reason);
    return e;
}

static wih_err *transport_error(kube_client *c, const wih_http_resp *rs, const char *method, const char *url)
{
    const char *kc = kube_config_source(c->cfg);
    const char *detail = rs->detail;
    const char *server = kube_config_server(c->cfg);
    switch (rs->fail) {
    case WIH_HTTP_E_CONNECT:
        return wih_err_new(WIH_EXIT_INFRA,
                           "%s %s: cannot connect to the API server %s (cluster \"%s\" in %s): %s — is it running?",
                           method, url, server, kube_config_cluster(c->cfg), kc, detail);
    case WIH_HTTP_E_RESOLVE:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: cannot resolve the API server's host (cluster \"%s\" in %s): %s",
                           method, url, kube_config_cluster(c->cfg), kc, detail);
    case WIH_HTTP_E_TIMEOUT:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: the API server %s did not answer in time: %s", method, url,
                           server, detail);
    case WIH_HTTP_E_TLS_VERIFY: {
        const char *ca = kube_config_ca_source(c->cfg);
        if (strstr(detail, "subject name") || strstr(detail, "does not match target host"))
            return wih_err_new(WIH_EXIT_INFRA,
                               "%s %s: TLS: the API server's certificate is not valid for this host name (set "
                               "tls-server-name in %s?): %s",
                               method, url, kc, detail);
        if (ca)
            return wih_err_new(WIH_EXIT_INFRA,
                               "%s %s: TLS: certificate verify failed for %s: the CA in %s (%s) does not match the "
                               "server's certificate: %s",
                               method, url, server, kc, ca, detail);
        return wih_err_new(WIH_EXIT_INFRA,
                           "%s %s: TLS: certificate verify failed for %s: %s sets no certificate-authority and the "
                           "system CA store does not trust it: %s",
                           method, url, server, kc, detail);
    }
    case WIH_HTTP_E_TLS_CERT:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS: the client certificate of user \"%s\" in %s is unusable: %s",
                           method, url, kube_config_user(c->cfg), kc, detail);
    case WIH_HTTP_E_TLS_CA:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS: the CA of cluster \"%s\" in %s cannot be loaded: %s", method,
                           url, kube_config_cluster(c->cfg), kc, detail);
    case WIH_HTTP_E_TLS_HANDSHAKE:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS handshake with %s failed: %s", method, url, server, detail);
    case WIH_HTTP_E_TOO_BIG:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: response body larger than the %zu-byte cap", method, url,
                           c->max_body);
    default:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: %s", method, url, detail);
    case WIH_HTTP_OK:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: no response", method, url);
    }
}

/* ----------------------------------------------------------------- requests */
/* One attempt through the shared client: connection refused, 429 and 5xx are
 * retried there until the client's deadline. */
static int send_once(kube_client *c, const char *method, const char *url, const char *content_type,
                     const char *payload, const kube_creds *cr, wih_http_resp *rs)
{
    /* JSON; the one exception is the service-account issuer's JWKS
     * (/openid/v1/jwks), which the API server offers only as
     * application/jwk-set+json (a JSON document too) */
    static const char *const accept[] = {"Accept: application/json, application/jwk-set+json;q=0.9", NULL};
    size_t ca_len = 0;
    const char *ca = kube_config_ca_pem(c->cfg, &ca_len);
    wih_http_req rq = {
        .method = method, .url = url, .headers = accept, .bearer = cr->token,
        .content_type = payload ? (content_type ? content_type : "application/json") : NULL,
        .body = payload, .body_len = payload ? strlen(payload) : 0,
        .ca_pem = ca, .ca_len = ca_len, .insecure = kube_config_insecure(c->cfg),
        .cert_pem = cr->cert_pem && cr->key_pem ? cr->cert_pem : NULL, .cert_len = cr->cert_len,
        .key_pem = cr->cert_pem && cr->key_pem ? cr->key_pem : NULL, .key_len = cr->key_len,
        .connect_to = c->connect_to, .timeout_ms = 60000, .connect_timeout_ms = 5000, .max_body = c->max_body,
        .retry = WIH_HTTP_RETRY_TRANSPORT | WIH_HTTP_RETRY_429_5XX, .retry_ms = c->retry_ms,
    };
    wih_err *ignored = NULL; /* transport errors are worded by transport_error */
    int rc = wih_http_do(c->http, &rq, rs, &ignored);
    wih_err_free(ignored);
    return rc;
}

cJSON *kube_request(kube_client *c, const char *method, const char *path, const char *content_type,
                    const cJSON *body, long *status_out, wih_err **err)
{
    char *url = wih_asprintf("%s%s", c->base, path);
    char *payload = body ? cJSON_PrintUnformatted(body) : NULL;
    bool refreshed = false;
    cJSON *result = NULL;
    for (;;) {
        kube_creds cr;
        if (kube_config_creds(c->cfg, &cr, err) != 0) {
            *err = wih_err_wrap(*err, "%s %s", method, url);
            break;
        }
        wih_http_resp rs;
        if (send_once(c, method, url, content_type, payload, &cr, &rs) != 0) {
            *err = transport_error(c, &rs, method, url);
            if (rs.attempts > 1) *err = wih_err_wrap(*err, "after %d attempts", rs.attempts);
            wih_http_resp_free(&rs);
            break;
        }
        long status = rs.status;
        if (status_out) *status_out = status;
        if (status >= 200 && status < 300) {
            if (rs.body.len == 0) {
                result = cJSON_CreateNull();
            } else {
                result = cJSON_ParseWithLength(rs.body.data, rs.body.len);
                if (!result)
                    *err = wih_err_http(status, NULL, "%s %s: the response is not JSON (%zu bytes)", method, url,
                                        rs.body.len);
            }
        } else if (status == 401 && cr.from_exec && !refreshed) {
            /* client-go re-runs the plugin once when the server says 401 */
            refreshed = true;
            kube_config_invalidate_exec(c->cfg);
            wih_http_resp_free(&rs);
            continue;
        } else {
            *err = kube_error_from_http(status, rs.body.data, method, url, kube_config_source(c->cfg),
                                        kube_config_user(c->cfg));
        }
        wih_http_resp_free(&rs);
        break;
    }
    free(payload);
    free(url);
    return result;
}

/* URL-escape one query value (caller frees). */
char *kube_escape(kube_client *c, const char *s)
{
    (void)c;
    return wih_http_escape(s, false);
}
