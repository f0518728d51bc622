/* The HTTP side of the Kubernetes client: one libcurl handle per client (so
 * connections are reused), TLS from the kubeconfig via libcurl's blob
 * options (no key material ever written to disk), JSON in and out, capped
 * response bodies, retries with backoff, and errors that keep the HTTP status
 * and the server's Status.message. */
#include "wiharness/kube.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kube_internal.h"

struct kube_client {
    kube_config *cfg;
    CURL *curl;
    char errbuf[CURL_ERROR_SIZE];
    char *base;                   /* URL prefix requests are made against */
    struct curl_slist *connect_to; /* tls-server-name: connect to the real host */
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

static int g_curl_init;

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
    if (!g_curl_init) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_curl_init = 1;
    }
    kube_client *c = wih_xcalloc(1, sizeof *c);
    c->cfg = cfg;
    c->retry_ms = 10000;
    c->max_body = (size_t)16 << 20;
    c->disc_gv = cJSON_CreateObject();
    c->curl = curl_easy_init();
    if (!c->curl) {
        *err = wih_err_new(WIH_EXIT_INFRA, "kube: curl_easy_init failed");
        kube_client_free(c);
        return NULL;
    }
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
        char *ct = wih_asprintf("%s:%d:%s:%d", tsn, port, host, port);
        c->connect_to = curl_slist_append(NULL, ct);
        free(ct);
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
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->connect_to);
    free(c->base);
    cJSON_Delete(c->disc_api);
    cJSON_Delete(c->disc_apis);
    cJSON_Delete(c->disc_gv);
    kube_config_free(c->cfg);
    free(c);
}

/* ------------------------------------------------------------ error mapping */
static char *trimmed(const char *s, size_t max)
{
    if (!s) return wih_strdup("");
    while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t')) n--;
    if (n > max) return wih_asprintf("%.*s…", (int)max, s);
    return wih_asprintf("%.*s", (int)n, s);
}

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
    if (!msg) msg = trimmed(body, 500);
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

static wih_err *transport_error(kube_client *c, CURLcode rc, const char *method, const char *url)
{
    const char *kc = kube_config_source(c->cfg);
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    const char *server = kube_config_server(c->cfg);
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
        return wih_err_new(WIH_EXIT_INFRA,
                           "%s %s: cannot connect to the API server %s (cluster \"%s\" in %s): %s — is it running?",
                           method, url, server, kube_config_cluster(c->cfg), kc, detail);
    case CURLE_COULDNT_RESOLVE_HOST:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: cannot resolve the API server's host (cluster \"%s\" in %s): %s",
                           method, url, kube_config_cluster(c->cfg), kc, detail);
    case CURLE_OPERATION_TIMEDOUT:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: the API server %s did not answer in time: %s", method, url,
                           server, detail);
    case CURLE_PEER_FAILED_VERIFICATION: {
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
    case CURLE_SSL_CERTPROBLEM:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS: the client certificate of user \"%s\" in %s is unusable: %s",
                           method, url, kube_config_user(c->cfg), kc, detail);
    case CURLE_SSL_CACERT_BADFILE:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS: the CA of cluster \"%s\" in %s cannot be loaded: %s", method,
                           url, kube_config_cluster(c->cfg), kc, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: TLS handshake with %s failed: %s", method, url, server, detail);
    case CURLE_WRITE_ERROR:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: response body larger than the %zu-byte cap", method, url,
                           c->max_body);
    default:
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: %s", method, url, detail);
    }
}

/* ----------------------------------------------------------------- requests */
static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    wih_buf *b = ud;
    if (wih_buf_add(b, p, sz * n) != 0) return 0; /* → CURLE_WRITE_ERROR */
    return sz * n;
}

typedef struct {
    long retry_after; /* seconds, -1 none */
} hdr_state;

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    hdr_state *h = ud;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) h->retry_after = strtol(p + 12, NULL, 10);
    return len;
}

static bool retryable_transport(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
           rc == CURLE_SEND_ERROR;
}

cJSON *kube_request(kube_client *c, const char *method, const char *path, const char *content_type,
                    const cJSON *body, long *status_out, wih_err **err)
{
    char *url = wih_asprintf("%s%s", c->base, path);
    char *payload = body ? cJSON_PrintUnformatted(body) : NULL;
    int64_t deadline = wih_now_ms() + c->retry_ms;
    int64_t backoff = 100;
    bool refreshed = false;
    cJSON *result = NULL;
    wih_buf resp;
    wih_buf_init(&resp, c->max_body);
    for (int attempt = 1;; attempt++) {
        kube_creds cr;
        if (kube_config_creds(c->cfg, &cr, err) != 0) {
            *err = wih_err_wrap(*err, "%s %s", method, url);
            break;
        }
        CURL *h = c->curl;
        curl_easy_reset(h);
        c->errbuf[0] = '\0';
        wih_buf_reset(&resp);
        hdr_state hs = {-1};
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hs);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(h, CURLOPT_USERAGENT, "wiharness/" WIH_VERSION);
        if (c->connect_to) curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
        size_t ca_len = 0;
        const char *ca = kube_config_ca_pem(c->cfg, &ca_len);
        if (ca) {
            struct curl_blob b = {(void *)ca, ca_len, CURL_BLOB_COPY};
            curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
        }
        if (kube_config_insecure(c->cfg)) {
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (cr.cert_pem && cr.key_pem) {
            struct curl_blob cb = {(void *)cr.cert_pem, cr.cert_len, CURL_BLOB_COPY};
            struct curl_blob kb = {(void *)cr.key_pem, cr.key_len, CURL_BLOB_COPY};
            curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
            curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cb);
            curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
            curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &kb);
        }
        struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
        char *ct = NULL, *auth = NULL;
        if (payload) {
            ct = wih_asprintf("Content-Type: %s", content_type ? content_type : "application/json");
            hdrs = curl_slist_append(hdrs, ct);
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
        }
        if (cr.token) {
            auth = wih_asprintf("Authorization: Bearer %s", cr.token);
            hdrs = curl_slist_append(hdrs, auth);
        }
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);
        free(ct);
        if (auth) {
            memset(auth, 0, strlen(auth));
            free(auth);
        }
        int64_t now = wih_now_ms();
        if (rc != CURLE_OK) {
            if (rc == CURLE_WRITE_ERROR && resp.overrun) {
                *err = transport_error(c, rc, method, url);
                break;
            }
            if (retryable_transport(rc) && now + backoff < deadline && !wih_interrupted()) {
                wih_debug("kube: %s %s: %s; retrying in %lld ms", method, url, c->errbuf, (long long)backoff);
                wih_sleep_ms(backoff);
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
                continue;
            }
            *err = transport_error(c, rc, method, url);
            if (attempt > 1) *err = wih_err_wrap(*err, "after %d attempts", attempt);
            break;
        }
        if (status_out) *status_out = status;
        if (status >= 200 && status < 300) {
            if (resp.len == 0) {
                result = cJSON_CreateNull();
            } else {
                result = cJSON_ParseWithLength(resp.data, resp.len);
                if (!result)
                    *err = wih_err_http(status, NULL, "%s %s: the response is not JSON (%zu bytes)", method, url,
                                        resp.len);
            }
            break;
        }
        if (status == 401 && cr.from_exec && !refreshed) {
            /* client-go re-runs the plugin once when the server says 401 */
            refreshed = true;
            kube_config_invalidate_exec(c->cfg);
            continue;
        }
        if ((status == 429 || (status >= 500 && status != 501)) && !wih_interrupted()) {
            int64_t wait = backoff;
            if (hs.retry_after > 0) wait = hs.retry_after * 1000 > 5000 ? 5000 : hs.retry_after * 1000;
            if (now + wait < deadline) {
                wih_debug("kube: %s %s: HTTP %ld; retrying in %lld ms", method, url, status, (long long)wait);
                wih_sleep_ms(wait);
                backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
                continue;
            }
        }
        *err = kube_error_from_http(status, resp.data, method, url, kube_config_source(c->cfg),
                                    kube_config_user(c->cfg));
        break;
    }
    wih_buf_free(&resp);
    free(payload);
    free(url);
    return result;
}

/* URL-escape one query value (caller frees). */
char *kube_escape(kube_client *c, const char *s)
{
    char *e = curl_easy_escape(c->curl, s, 0);
    char *r = wih_strdup(e);
    curl_free(e);
    return r;
}
