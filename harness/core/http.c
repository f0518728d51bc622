/* The one HTTP client (include/wiharness/http.h): libcurl with every option
 * checked, capped bodies, TLS from files or blobs, SigV4, retries where asked,
 * and no secret in any message or log. */
#include "wiharness/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef WIH_VERSION
#define WIH_VERSION "dev"
#endif

#define DEFAULT_MAX_BODY ((size_t)16 << 20)

struct wih_http {
    CURL *curl;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

wih_http *wih_http_new(void)
{
    pthread_once(&g_once, global_init);
    wih_http *h = wih_xcalloc(1, sizeof *h);
    h->curl = curl_easy_init();
    if (!h->curl) wih_oom(sizeof *h);
    return h;
}

void wih_http_free(wih_http *h)
{
    if (!h) return;
    curl_easy_cleanup(h->curl);
    free(h);
}

void wih_http_resp_free(wih_http_resp *rs)
{
    if (!rs) return;
    wih_buf_free(&rs->body);
}

static _Atomic(wih_http_abort_fn) g_abort;

void wih_http_set_abort(wih_http_abort_fn fn)
{
    atomic_store(&g_abort, fn);
}

/* ------------------------------------------------------------ callbacks */
static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return wih_buf_add(ud, p, sz * n) == 0 ? sz * n : 0; /* 0 → CURLE_WRITE_ERROR */
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    wih_http_resp *rs = ud;
    size_t len = sz * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) rs->retry_after = strtol(p + 12, NULL, 10);
    return len;
}

/* ------------------------------------------------------------ one attempt */
typedef struct attempt {
    CURL *c;
    struct curl_slist *hdrs, *connect_to;
    char errbuf[CURL_ERROR_SIZE];
    const char *bad_opt; /* the option libcurl refused */
    CURLcode bad_rc;
    int64_t t0;          /* when the attempt began (for the abort check) */
} attempt;

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const attempt *a = ud;
    wih_http_abort_fn fn = atomic_load(&g_abort);
    return fn && fn(wih_now_ms() - a->t0) ? 1 : 0; /* nonzero → CURLE_ABORTED_BY_CALLBACK */
}

/* Every option goes through here: a refusal is remembered and ends setup. */
#define SET(a, opt, val)                                                                                            \
    do {                                                                                                            \
        CURLcode rc_ = curl_easy_setopt((a)->c, opt, val);                                                          \
        if (rc_ != CURLE_OK) {                                                                                      \
            (a)->bad_opt = #opt;                                                                                    \
            (a)->bad_rc = rc_;                                                                                      \
            return -1;                                                                                              \
        }                                                                                                           \
    } while (0)

static void add_header(attempt *a, const char *line)
{
    struct curl_slist *n = curl_slist_append(a->hdrs, line);
    if (!n) wih_oom(strlen(line));
    a->hdrs = n;
}

static int set_headers(attempt *a, const wih_http_req *rq)
{
    bool own_ct = false; /* the caller's Content-Type line wins (and keeps its place) */
    for (const char *const *h = rq->headers; h && *h; h++) {
        add_header(a, *h);
        if (!strncasecmp(*h, "Content-Type:", 13)) own_ct = true;
    }
    if (!own_ct && (rq->content_type || rq->body)) {
        char *ct = wih_asprintf("Content-Type: %s", rq->content_type ? rq->content_type : "application/json");
        add_header(a, ct);
        free(ct);
    }
    if (rq->bearer) {
        char *auth = wih_asprintf("Authorization: Bearer %s", rq->bearer);
        add_header(a, auth);
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    if (a->hdrs) SET(a, CURLOPT_HTTPHEADER, a->hdrs);
    return 0;
}

static int set_method(attempt *a, const wih_http_req *rq)
{
    const char *m = rq->method ? rq->method : "GET";
    if (!strcmp(m, "HEAD")) {
        SET(a, CURLOPT_NOBODY, 1L);
        return 0;
    }
    if (!strcmp(m, "GET") && !rq->body) {
        SET(a, CURLOPT_HTTPGET, 1L);
        return 0;
    }
    SET(a, CURLOPT_CUSTOMREQUEST, m);
    /* PUT/POST/PATCH always carry a (maybe empty) body; DELETE only when given */
    if (rq->body || strcmp(m, "DELETE")) {
        SET(a, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(rq->body ? rq->body_len : 0));
        SET(a, CURLOPT_POSTFIELDS, rq->body ? (const char *)rq->body : "");
    }
    return 0;
}

static int set_tls(attempt *a, const wih_http_req *rq)
{
    if (rq->ca_pem) {
        struct curl_blob b = {(void *)rq->ca_pem, rq->ca_len, CURL_BLOB_COPY};
        SET(a, CURLOPT_CAINFO_BLOB, &b);
    } else if (rq->ca_file) {
        SET(a, CURLOPT_CAINFO, rq->ca_file);
    }
    if (rq->insecure) {
        SET(a, CURLOPT_SSL_VERIFYPEER, 0L);
        SET(a, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (rq->cert_pem && rq->key_pem) {
        struct curl_blob cb = {(void *)rq->cert_pem, rq->cert_len, CURL_BLOB_COPY};
        struct curl_blob kb = {(void *)rq->key_pem, rq->key_len, CURL_BLOB_COPY};
        SET(a, CURLOPT_SSLCERTTYPE, "PEM");
        SET(a, CURLOPT_SSLCERT_BLOB, &cb);
        SET(a, CURLOPT_SSLKEYTYPE, "PEM");
        SET(a, CURLOPT_SSLKEY_BLOB, &kb);
    } else {
        if (rq->cert_file) SET(a, CURLOPT_SSLCERT, rq->cert_file);
        if (rq->key_file) SET(a, CURLOPT_SSLKEY, rq->key_file);
    }
    return 0;
}

static int configure(attempt *a, const wih_http_req *rq, wih_http_resp *rs)
{
    SET(a, CURLOPT_URL, rq->url);
    SET(a, CURLOPT_ERRORBUFFER, a->errbuf);
    SET(a, CURLOPT_NOSIGNAL, 1L);
    SET(a, CURLOPT_NOPROXY, "*"); /* we only talk to loopback and our own namespaces */
    SET(a, CURLOPT_PROTOCOLS_STR, rq->protocols ? rq->protocols : "https,http");
    if (!rq->user_agent || *rq->user_agent) /* "": none (curl_easy_reset left it unset) */
        SET(a, CURLOPT_USERAGENT, rq->user_agent ? rq->user_agent : "wiharness/" WIH_VERSION);
    SET(a, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : 60000L);
    SET(a, CURLOPT_CONNECTTIMEOUT_MS, rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : 5000L);
    SET(a, CURLOPT_NOPROGRESS, 0L);
    SET(a, CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(a, CURLOPT_XFERINFODATA, a);
    SET(a, CURLOPT_WRITEFUNCTION, on_body);
    SET(a, CURLOPT_WRITEDATA, &rs->body);
    SET(a, CURLOPT_HEADERFUNCTION, on_header);
    SET(a, CURLOPT_HEADERDATA, rs);
    if (rq->connect_to) {
        a->connect_to = curl_slist_append(NULL, rq->connect_to);
        if (!a->connect_to) wih_oom(strlen(rq->connect_to));
        SET(a, CURLOPT_CONNECT_TO, a->connect_to);
    }
    if (rq->aws_sigv4) {
        SET(a, CURLOPT_AWS_SIGV4, rq->aws_sigv4);
        SET(a, CURLOPT_USERNAME, rq->aws_access_key ? rq->aws_access_key : "");
        SET(a, CURLOPT_PASSWORD, rq->aws_secret_key ? rq->aws_secret_key : "");
    }
    if (set_tls(a, rq) || set_method(a, rq) || set_headers(a, rq)) return -1;
    return 0;
}

/* ------------------------------------------------------------ classification */
static wih_http_fail classify(CURLcode rc, const wih_http_resp *rs)
{
    switch (rc) {
    case CURLE_OK: return WIH_HTTP_OK;
    case CURLE_COULDNT_CONNECT: return WIH_HTTP_E_CONNECT;
    case CURLE_COULDNT_RESOLVE_HOST: return WIH_HTTP_E_RESOLVE;
    case CURLE_OPERATION_TIMEDOUT: return WIH_HTTP_E_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK: return WIH_HTTP_E_ABORTED;
    case CURLE_PEER_FAILED_VERIFICATION: return WIH_HTTP_E_TLS_VERIFY;
    case CURLE_SSL_CERTPROBLEM: return WIH_HTTP_E_TLS_CERT;
    case CURLE_SSL_CACERT_BADFILE: return WIH_HTTP_E_TLS_CA;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED: return WIH_HTTP_E_TLS_HANDSHAKE;
    case CURLE_WRITE_ERROR: return rs->body.overrun ? WIH_HTTP_E_TOO_BIG : WIH_HTTP_E_OTHER;
    default: return WIH_HTTP_E_OTHER;
    }
}

static bool retry_transport(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
           rc == CURLE_SEND_ERROR;
}

static bool retry_status(unsigned flags, long st)
{
    if ((flags & WIH_HTTP_RETRY_429_5XX) && (st == 429 || (st >= 500 && st != 501))) return true;
    return (flags & WIH_HTTP_RETRY_503) && st == 503;
}

/* Secrets travelled in header copies (bearer, x-amz-security-token): wipe them. */
static void attempt_end(attempt *a)
{
    curl_easy_reset(a->c); /* the handle forgets the lists before they are freed */
    for (struct curl_slist *it = a->hdrs; it; it = it->next) OPENSSL_cleanse(it->data, strlen(it->data));
    curl_slist_free_all(a->hdrs);
    curl_slist_free_all(a->connect_to);
    a->hdrs = a->connect_to = NULL;
}

/* One attempt. Returns the CURLcode; a refused option is CURLE_BAD_FUNCTION_ARGUMENT with a->bad_opt. */
static CURLcode perform_once(CURL *c, const wih_http_req *rq, wih_http_resp *rs, attempt *a)
{
    memset(a, 0, sizeof *a);
    a->c = c;
    a->t0 = wih_now_ms();
    curl_easy_reset(c);
    wih_buf_reset(&rs->body);
    rs->body.overrun = false;
    rs->status = 0;
    rs->retry_after = -1;
    rs->content_length = -1;
    CURLcode rc;
    if (configure(a, rq, rs) != 0) {
        rc = a->bad_rc ? a->bad_rc : CURLE_BAD_FUNCTION_ARGUMENT;
    } else {
        rc = curl_easy_perform(c);
        long st = 0;
        if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st) == CURLE_OK && rc == CURLE_OK) rs->status = st;
        curl_off_t cl = -1;
        if (rc == CURLE_OK && curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK)
            rs->content_length = (int64_t)cl;
    }
    attempt_end(a);
    return rc;
}

static wih_err *transport_err(const wih_http_req *rq, const wih_http_resp *rs, const attempt *a, size_t max)
{
    const char *m = rq->method ? rq->method : "GET";
    if (rs->fail == WIH_HTTP_E_OPTION)
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: libcurl refused %s: %s", m, rq->url, a->bad_opt,
                           curl_easy_strerror(a->bad_rc));
    if (rs->fail == WIH_HTTP_E_TOO_BIG)
        return wih_err_new(WIH_EXIT_INFRA, "%s %s: response body larger than the %zu-byte cap", m, rq->url, max);
    wih_err *e = wih_err_new(WIH_EXIT_INFRA, "%s %s: %s", m, rq->url, rs->detail);
    if (rs->attempts > 1) e = wih_err_wrap(e, "after %d attempts", rs->attempts);
    return e;
}

/* Retrying is over once the abort check says so (the whole request's time). */
static bool give_up(int64_t t0)
{
    wih_http_abort_fn fn = atomic_load(&g_abort);
    return wih_interrupted() || (fn && fn(wih_now_ms() - t0));
}

static int64_t next_backoff(int64_t b)
{
    return b * 2 > 2000 ? 2000 : b * 2;
}

int wih_http_do(wih_http *h, const wih_http_req *rq, wih_http_resp *rs, wih_err **err)
{
    pthread_once(&g_once, global_init);
    size_t max = rq->max_body ? rq->max_body : DEFAULT_MAX_BODY;
    memset(rs, 0, sizeof *rs);
    wih_buf_init(&rs->body, max);
    CURL *c = h ? h->curl : curl_easy_init();
    if (!c) wih_oom(0);
    const char *m = rq->method ? rq->method : "GET";
    int64_t t0 = wih_now_ms(), deadline = t0 + (rq->retry_ms > 0 ? rq->retry_ms : 10000);
    int64_t backoff = 100;
    int ret = 0;
    for (;;) {
        attempt a;
        rs->attempts++;
        CURLcode rc = perform_once(c, rq, rs, &a);
        int64_t now = wih_now_ms();
        if (rc != CURLE_OK) {
            rs->fail = a.bad_opt ? WIH_HTTP_E_OPTION : classify(rc, rs);
            snprintf(rs->detail, sizeof rs->detail, "%s",
                     rc == CURLE_ABORTED_BY_CALLBACK ? "aborted (the run is stopping)"
                     : a.errbuf[0]                   ? a.errbuf
                                                     : curl_easy_strerror(rc));
            if ((rq->retry & WIH_HTTP_RETRY_TRANSPORT) && retry_transport(rc) && now + backoff < deadline &&
                !give_up(t0)) {
                wih_debug("http: %s %s: %s; retrying in %lld ms", m, rq->url, rs->detail, (long long)backoff);
                wih_sleep_ms(backoff);
                backoff = next_backoff(backoff);
                continue;
            }
            *err = transport_err(rq, rs, &a, max);
            ret = -1;
            break;
        }
        rs->fail = WIH_HTTP_OK;
        rs->detail[0] = '\0';
        if (retry_status(rq->retry, rs->status) && !give_up(t0)) {
            int64_t wait = backoff;
            if (rs->retry_after > 0) wait = rs->retry_after * 1000 > 5000 ? 5000 : rs->retry_after * 1000;
            if (now + wait < deadline) {
                wih_debug("http: %s %s: HTTP %ld; retrying in %lld ms", m, rq->url, rs->status, (long long)wait);
                wih_sleep_ms(wait);
                backoff = next_backoff(backoff);
                continue;
            }
        }
        break;
    }
    if (!h) curl_easy_cleanup(c);
    return ret;
}

/* ------------------------------------------------------------ helpers */
char *wih_http_trim(const char *s, size_t max)
{
    if (!s) return wih_strdup("");
    while (*s && isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    if (n > max) return wih_asprintf("%.*s…", (int)max, s);
    return wih_asprintf("%.*s", (int)n, s);
}

wih_err *wih_http_status_err(const wih_http_resp *rs, const char *what)
{
    char *body = wih_http_trim(rs->body.data, 500);
    wih_err *e = wih_err_http(rs->status, *body ? body : NULL, "%s: HTTP %ld%s%s", what, rs->status,
                              *body ? ": " : "", body);
    free(body);
    return e;
}

char *wih_http_escape(const char *s, bool keep_slash)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, "");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            wih_buf_add(&b, p, 1);
        else
            wih_buf_addf(&b, "%%%02X", *p);
    }
    return wih_buf_take(&b);
}

long wih_http_fetch(wih_http *h, const wih_http_req *rq, char **body, wih_err **err)
{
    wih_http_resp rs;
    long st = wih_http_do(h, rq, &rs, err) == 0 ? rs.status : -1;
    if (body && st >= 0) {
        if (!rs.body.data) wih_buf_adds(&rs.body, "");
        *body = wih_buf_take(&rs.body);
    }
    wih_http_resp_free(&rs);
    return st;
}

long wih_http_get_status(const char *url, const char *ca_file, const char *cert_file, const char *key_file,
                         long timeout_ms, char **body, wih_err **err)
{
    wih_http_req rq = {.url = url, .ca_file = ca_file, .cert_file = cert_file, .key_file = key_file,
                       .timeout_ms = timeout_ms, .connect_timeout_ms = 2000, .max_body = (size_t)4 << 20};
    return wih_http_fetch(NULL, &rq, body, err);
}
