/* http — the one HTTP client every module uses (kube, S3/MinIO, the cloud
 * CLI, discovery, program health checks). libcurl underneath; nothing else
 * in harness/ calls curl_easy_setopt.
 *
 *   - every libcurl option is checked: a refused option is an error naming it;
 *   - response bodies are capped (core's wih_buf rule): past max_body the
 *     transfer stops and the error says so — never a crash, never a truncation
 *     taken for the whole answer;
 *   - TLS material comes from files or from memory (PEM blobs, copied by
 *     libcurl; no key is ever written to disk for it);
 *   - retries with backoff only where the caller asks (retry flags + a
 *     deadline), honouring Retry-After;
 *   - a transport error says "METHOD URL: what happened" and classifies it
 *     (wih_http_fail); wih_http_status_err keeps the status and the trimmed body;
 *   - secrets never reach a message or a log: bearer tokens, Authorization
 *     headers and SigV4 secrets are passed to libcurl and wiped after, and only
 *     method + URL are ever logged (a URL must not carry a secret).
 *
 * Ownership follows core.h. */
#ifndef WIHARNESS_HTTP_H
#define WIHARNESS_HTTP_H

#include "wiharness/core.h"

/* What to retry, until retry_ms after the first attempt (backoff 100 ms
 * doubling to 2 s; Retry-After honoured up to 5 s). */
enum {
    WIH_HTTP_RETRY_TRANSPORT = 1, /* connection refused / reset, nothing received */
    WIH_HTTP_RETRY_429_5XX = 2,   /* 429 and every 5xx but 501 */
    WIH_HTTP_RETRY_503 = 4,       /* 503 only (MinIO "server not initialized", S3 SlowDown) */
};

typedef struct wih_http_req {
    const char *method; /* NULL = "GET"; "HEAD" sends no body and reads none */
    const char *url;
    const char *const *headers; /* extra "Name: value" lines, NULL-terminated, sent in this
                                 * order; every copy is wiped after the request, so a line
                                 * may carry a secret (X-Amz-Security-Token, Authorization) */
    const char *bearer;         /* SECRET: sent as "Authorization: Bearer …", never logged */
    const char *content_type;   /* with a body: NULL = application/json; ignored when
                                 * headers has a Content-Type line (that one is sent, in place) */
    const void *body;           /* NULL = no body */
    size_t body_len;
    /* TLS: a CA file or PEM bytes (NULL both = the system store) */
    const char *ca_file;
    const char *ca_pem;
    size_t ca_len;
    /* client certificate: files, or PEM bytes (SECRET key) */
    const char *cert_file, *key_file;
    const char *cert_pem, *key_pem;
    size_t cert_len, key_len;
    bool insecure;          /* skip server verification (kubeconfig insecure-skip-tls-verify) */
    const char *connect_to; /* "HOST:PORT:REALHOST:REALPORT" (tls-server-name) or NULL */
    /* AWS SigV4 by libcurl ("aws:amz:<region>:<service>"), with the key pair
     * (the secret is SECRET) */
    const char *aws_sigv4;
    const char *aws_access_key, *aws_secret_key;
    const char *protocols;   /* NULL = "https,http" */
    const char *user_agent;  /* NULL = "wiharness/<version>"; "" = no User-Agent header
                              * (a client that must look like an SDK's bare request) */
    long timeout_ms;         /* whole transfer; 0 = 60 s */
    long connect_timeout_ms; /* 0 = 5 s */
    size_t max_body;         /* response cap; 0 = 16 MiB */
    unsigned retry;          /* WIH_HTTP_RETRY_* bits; 0 = one attempt */
    int64_t retry_ms;        /* deadline for retries; 0 with retry bits = 10 s */
} wih_http_req;

/* How a request failed before an HTTP status came back. */
typedef enum {
    WIH_HTTP_OK = 0,      /* a response came (any status) */
    WIH_HTTP_E_CONNECT,   /* refused / unreachable */
    WIH_HTTP_E_RESOLVE,   /* host name did not resolve */
    WIH_HTTP_E_TIMEOUT,
    WIH_HTTP_E_TLS_VERIFY,   /* the server's certificate was not trusted / not for this name */
    WIH_HTTP_E_TLS_CERT,     /* our client certificate/key is unusable */
    WIH_HTTP_E_TLS_CA,       /* the CA cannot be loaded */
    WIH_HTTP_E_TLS_HANDSHAKE,
    WIH_HTTP_E_TOO_BIG,      /* the body passed max_body */
    WIH_HTTP_E_OPTION,       /* libcurl refused an option (a bug or a libcurl without the feature) */
    WIH_HTTP_E_ABORTED,      /* the wih_http_set_abort check ended it */
    WIH_HTTP_E_OTHER,
} wih_http_fail;

typedef struct wih_http_resp {
    long status;            /* 0 when no response came */
    wih_buf body;           /* NUL-terminated when len > 0 */
    int64_t content_length; /* Content-Length, -1 when unknown */
    long retry_after;       /* seconds from Retry-After, -1 none */
    int attempts;
    wih_http_fail fail;
    char detail[256];       /* libcurl's own words for a transport failure */
} wih_http_resp;

/* A reusable connection (keep-alive across requests); not thread-safe. */
typedef struct wih_http wih_http;
wih_http *wih_http_new(void);
void wih_http_free(wih_http *h);

/* One request (with its retries). Returns 0 when a response came, whatever
 * its status (check rs->status), or -1 with err ("METHOD URL: detail") and
 * rs->fail set. h may be NULL (a one-off connection). rs is always
 * initialised: free it with wih_http_resp_free. */
int wih_http_do(wih_http *h, const wih_http_req *rq, wih_http_resp *rs, wih_err **err);
void wih_http_resp_free(wih_http_resp *rs);

/* A process-wide abort check for requests in flight: libcurl asks it about
 * once a second (and on every transfer step) with how long the request has
 * run; true ends the request (rs->fail WIH_HTTP_E_ABORTED, "aborted …"), and
 * no retry starts once it is true of the whole request's time. The
 * runner sets it while a component of the chain is dead, so a request to a
 * server that hangs (an API server whose etcd died) does not hold the run
 * for its 60 s timeout. NULL (the default) never aborts. */
typedef bool (*wih_http_abort_fn)(int64_t elapsed_ms);
void wih_http_set_abort(wih_http_abort_fn fn);

/* The error for an answer the caller did not want: "<what>: HTTP <status>:
 * <trimmed body>" with http_status and server_msg (the trimmed body) kept.
 * kind WIH_EXIT_INFRA. */
wih_err *wih_http_status_err(const wih_http_resp *rs, const char *what);

/* `s` with leading/trailing white space removed, cut to max bytes + "…". */
char *wih_http_trim(const char *s, size_t max);
/* Percent-encode everything but RFC 3986 unreserved characters (and '/' when
 * keep_slash): for a query value or a path. */
char *wih_http_escape(const char *s, bool keep_slash);

/* wih_http_do, returning the status (-1 on a transport failure, err set) and
 * the body in *body (a new string, "" when empty) when body is non-NULL. */
long wih_http_fetch(wih_http *h, const wih_http_req *rq, char **body, wih_err **err);

/* GET url and return its status (-1 on a transport failure, err set), the
 * body in *body when body is non-NULL: for readiness probes. Never retries. */
long wih_http_get_status(const char *url, const char *ca_file, const char *cert_file, const char *key_file,
                         long timeout_ms, char **body, wih_err **err);

#endif
