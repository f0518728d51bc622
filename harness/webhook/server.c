/* The HTTPS server (libmicrohttpd, TLS from PEM text in memory):
 *   POST /mutate            every enabled profile, in the fixed order
 *   POST /mutate/<profile>  one profile (what each MutatingWebhookConfiguration
 *                           points at, so a pod is not mutated three times)
 *   GET  /healthz           "ok"
 *   GET  /stats             counters and latency p50/p99 (ms)
 * Bodies are capped at 8 MiB (413 above). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webhook_int.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"

#define MAX_BODY ((size_t)8 << 20)
#define NSAMPLES 8192

#if MHD_VERSION >= 0x00097002
typedef enum MHD_Result mhd_ret;
#else
typedef int mhd_ret;
#endif

struct webhook_server {
    struct MHD_Daemon *d;
    int port;
    webhook_handler all;
    webhook_handler one[WEBHOOK_NPROFILES];
    void (*on_cm)(void *, const cJSON *);
    void *cm_ctx;
    pthread_mutex_t mu;
    unsigned long long requests, patches, denials, errors, allowed;
    double lat[NSAMPLES];
    size_t nlat, lat_pos;
};

typedef struct reqst {
    wih_buf body;
    bool too_big;
    double t0;
} reqst;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static mhd_ret send_text(struct MHD_Connection *c, unsigned code, const char *ctype, const char *body)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", ctype);
    mhd_ret ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static void record(webhook_server *s, webhook_outcome oc, double ms)
{
    pthread_mutex_lock(&s->mu);
    s->requests++;
    switch (oc) {
    case WEBHOOK_OUT_PATCHED: s->patches++; break;
    case WEBHOOK_OUT_DENIED: s->denials++; break;
    case WEBHOOK_OUT_ERROR: s->errors++; break;
    default: s->allowed++; break;
    }
    s->lat[s->lat_pos] = ms;
    s->lat_pos = (s->lat_pos + 1) % NSAMPLES;
    if (s->nlat < NSAMPLES) s->nlat++;
    pthread_mutex_unlock(&s->mu);
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

cJSON *webhook_server_stats(webhook_server *s)
{
    cJSON *o = cJSON_CreateObject();
    pthread_mutex_lock(&s->mu);
    size_t n = s->nlat;
    double *v = wih_xmalloc((n ? n : 1) * sizeof *v);
    memcpy(v, s->lat, n * sizeof *v);
    cJSON_AddNumberToObject(o, "requests", (double)s->requests);
    cJSON_AddNumberToObject(o, "patches", (double)s->patches);
    cJSON_AddNumberToObject(o, "denials", (double)s->denials);
    cJSON_AddNumberToObject(o, "errors", (double)s->errors);
    cJSON_AddNumberToObject(o, "allowed", (double)s->allowed);
    pthread_mutex_unlock(&s->mu);
    qsort(v, n, sizeof *v, cmpd);
    cJSON *l = cJSON_AddObjectToObject(o, "latencyMs");
    cJSON_AddNumberToObject(l, "samples", (double)n);
    cJSON_AddNumberToObject(l, "p50", pct(v, n, 0.50));
    cJSON_AddNumberToObject(l, "p99", pct(v, n, 0.99));
    free(v);
    return o;
}

static mhd_ret on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                          const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    webhook_server *s = cls;
    (void)version;
    if (!*con_cls) {
        reqst *st = wih_xcalloc(1, sizeof *st);
        wih_buf_init(&st->body, MAX_BODY);
        st->t0 = now_ms();
        *con_cls = st;
        return MHD_YES;
    }
    reqst *st = *con_cls;
    if (*upload_size) {
        if (!st->too_big && wih_buf_add(&st->body, upload, *upload_size)) st->too_big = true;
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/healthz")) return send_text(conn, MHD_HTTP_OK, "text/plain", "ok\n");
    if (!strcmp(url, "/stats")) {
        cJSON *j = webhook_server_stats(s);
        char *t = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        mhd_ret r = send_text(conn, MHD_HTTP_OK, "application/json", t);
        free(t);
        return r;
    }
    const webhook_handler *h = NULL;
    if (!strcmp(url, "/mutate"))
        h = &s->all;
    else if (!strncmp(url, "/mutate/", 8)) {
        webhook_profile p;
        if (!webhook_profile_parse(url + 8, &p) && s->all.enabled[p]) h = &s->one[p];
    }
    if (!h) return send_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n");
    if (strcmp(method, "POST")) return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "use POST\n");
    if (st->too_big) {
        record(s, WEBHOOK_OUT_ERROR, now_ms() - st->t0);
        return send_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "text/plain", "request body too large\n");
    }
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    char *resp = NULL;
    const char *rct = NULL;
    webhook_outcome oc;
    cJSON *cms = NULL;
    int code = webhook_review(h, st->body.data ? st->body.data : "", st->body.len, ct, &resp, &rct, &oc,
                              s->on_cm ? &cms : NULL);
    if (cms && s->on_cm) s->on_cm(s->cm_ctx, cms);
    cJSON_Delete(cms);
    mhd_ret r = send_text(conn, (unsigned)code, rct, resp);
    free(resp);
    record(s, oc, now_ms() - st->t0);
    return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    reqst *st = *con_cls;
    if (st) {
        wih_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

webhook_server *webhook_server_start(const webhook_server_cfg *cfg, wih_err **err)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        *err = wih_err_new(WIH_EXIT_INFRA, "libmicrohttpd was built without TLS support");
        return NULL;
    }
    if (!cfg->cert_pem || !cfg->key_pem || !cfg->handler) {
        *err = wih_err_new(WIH_EXIT_INPUT, "webhook server: certificate, key and handler are required");
        return NULL;
    }
    webhook_server *s = wih_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->all = *cfg->handler;
    for (int p = 0; p < WEBHOOK_NPROFILES; p++) {
        s->one[p] = *cfg->handler;
        for (int q = 0; q < WEBHOOK_NPROFILES; q++) s->one[p].enabled[q] = p == q;
    }
    s->on_cm = cfg->on_configmaps;
    s->cm_ctx = cfg->cm_ctx;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY | MHD_USE_TLS |
                                MHD_USE_ERROR_LOG,
                            (uint16_t)cfg->port, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
                            MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem, MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, 4,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->d) {
        *err = wih_err_new(WIH_EXIT_INFRA,
                           "starting the webhook HTTPS server on 127.0.0.1:%d failed (port in use, or a bad "
                           "certificate/key)",
                           cfg->port);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : cfg->port;
    return s;
}

int webhook_server_port(const webhook_server *s)
{
    return s->port;
}

void webhook_server_stop(webhook_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ------------------------------------------------------------ webhook_serve */
static wih_err *serve_certs(const webhook_serve_opts *o, char **cert, char **key, char **ca)
{
    wih_err *err = NULL;
    *cert = *key = *ca = NULL;
    if (o->cert || o->key) {
        if (!o->cert || !o->key) return wih_err_new(WIH_EXIT_INPUT, "webhook serve: --cert and --key go together");
        /* bad PEM is bad input naming the flag, not a TLS error at listen (issue 13) */
        if ((err = wih_pem_check_file(o->cert, WIH_PEM_CERT, "--cert")) ||
            (err = wih_pem_check_file(o->key, WIH_PEM_KEY, "--key")) ||
            (o->ca && (err = wih_pem_check_file(o->ca, WIH_PEM_CERT, "--ca"))))
            return err;
        if ((*cert = wih_read_file(o->cert, 1 << 20, NULL, &err)) && (*key = wih_read_file(o->key, 1 << 20, NULL, &err)))
            *ca = wih_read_file(o->ca ? o->ca : o->cert, 1 << 20, NULL, &err);
    } else if (o->pki) {
        static const char *const dns[] = {NULL};
        if ((err = cluster_pki_issue(o->pki, "webhook", "wiharness-webhook", NULL, true, dns))) return err;
        char *pc = wih_path_join(o->pki, "webhook.crt"), *pk = wih_path_join(o->pki, "webhook.key"),
             *pa = wih_path_join(o->pki, "ca.crt");
        if ((*cert = wih_read_file(pc, 1 << 20, NULL, &err)) && (*key = wih_read_file(pk, 1 << 20, NULL, &err)))
            *ca = wih_read_file(pa, 1 << 20, NULL, &err);
        free(pc);
        free(pk);
        free(pa);
    } else if (webhook_selfsigned(cert, key, &err) == 0)
        *ca = wih_strdup(*cert);
    if (err) {
        free(*cert);
        free(*key);
        free(*ca);
        *cert = *key = *ca = NULL;
    }
    return err;
}

static wih_err *serve_handler(const webhook_serve_opts *o, webhook_handler *h)
{
    memset(h, 0, sizeof *h);
    webhook_opts_defaults(&h->opts);
    bool any = false;
    for (const char *const *p = o->profiles; p && *p; p++) {
        webhook_profile pr;
        if (webhook_profile_parse(*p, &pr) != 0)
            return wih_err_new(WIH_EXIT_INPUT, "webhook serve: unknown profile '%s' (aws-irsa, azure-wi, gcp-fleet)", *p);
        h->enabled[pr] = any = true;
    }
    if (!any)
        for (int p = 0; p < WEBHOOK_NPROFILES; p++) h->enabled[p] = true;
    wih_err *err = NULL;
    if (o->options)
        for (int p = 0; p < WEBHOOK_NPROFILES; p++)
            if (h->enabled[p] && webhook_opts_load(&h->opts, (webhook_profile)p, o->options, &err) != 0) return err;
    return NULL;
}

static void serve_until_signal(const webhook_serve_opts *o, webhook_live *live, webhook_handler *h,
                               webhook_server *srv, const char *url)
{
    int port = webhook_server_port(srv);
    wih_err *err = NULL;
    wih_info("webhook serving on https://127.0.0.1:%d (registered at %s%s)", port, url,
             o->no_register ? ": not registered, --no-register" : "");
    if (o->ready_file) {
        char *r = wih_asprintf("{\"port\":%d,\"url\":\"%s\"}\n", port, url);
        wih_write_file(o->ready_file, r, strlen(r), 0600, &err);
        free(r);
        if (err) {
            wih_warn("%s", wih_err_str(err));
            wih_err_free(err);
            err = NULL;
        }
    }
    while (!wih_interrupted()) wih_sleep_ms(200);
    wih_info("webhook stopping (signal %d)", wih_interrupt_signal());
    if (!o->no_register && (err = webhook_live_unregister(live, h->enabled))) {
        wih_warn("%s", wih_err_str(err));
        wih_err_free(err);
    }
    cJSON *st = webhook_server_stats(srv);
    char *sts = cJSON_PrintUnformatted(st);
    wih_info("webhook stats: %s", sts);
    free(sts);
    cJSON_Delete(st);
    if (o->ready_file) unlink(o->ready_file);
}

wih_err *webhook_serve(const webhook_serve_opts *o)
{
    webhook_handler h;
    char *cert = NULL, *key = NULL, *ca = NULL;
    wih_err *err = serve_handler(o, &h);
    if (!err) err = serve_certs(o, &cert, &key, &ca);
    kube_config_opts ko = {.kubeconfig = o->kubeconfig, .context = o->context};
    kube_client *kc = err ? NULL : kube_client_new(&ko, &err);
    webhook_live *live = kc ? webhook_live_new(kc) : NULL;
    /* Upstream keeps SAs in an informer (a watch): an updated SA is seen within
     * milliseconds. Without a watch, any TTL would serve a stale SA, so the
     * default is a live GET for every pod. */
    webhook_sa_cache *cache =
        live ? webhook_sa_cache_new(webhook_live_sa_lookup, live, o->sa_cache_ms, o->sa_grace_s * 1000) : NULL;
    FILE *log = stdout;
    if (live && o->decision_log && !(log = fopen(o->decision_log, "a")))
        err = wih_err_new(WIH_EXIT_INFRA, "opening %s", o->decision_log);
    webhook_server *srv = NULL;
    char *url = NULL;
    if (live && !err) {
        setvbuf(log, NULL, _IOLBF, 0);
        h.sa_lookup = webhook_sa_cache_lookup;
        h.sa_ctx = cache;
        h.log = log;
        webhook_server_cfg sc = {.cert_pem = cert, .key_pem = key, .port = o->port, .handler = &h,
                                 .on_configmaps = webhook_live_configmaps, .cm_ctx = live};
        srv = webhook_server_start(&sc, &err);
    }
    if (srv) {
        url = o->url ? wih_strdup(o->url) : wih_asprintf("https://127.0.0.1:%d", webhook_server_port(srv));
        if (o->no_register || !(err = webhook_live_register(live, h.enabled, url, ca)))
            serve_until_signal(o, live, &h, srv, url);
        webhook_server_stop(srv);
    }
    if (log && log != stdout) fclose(log);
    free(url);
    webhook_sa_cache_free(cache);
    webhook_live_free(live);
    free(cert);
    free(key);
    free(ca);
    webhook_opts_free(&h.opts);
    return err;
}

char **webhook_serve_argv(const webhook_serve_opts *o, const char *self)
{
    char **a = calloc(40, sizeof *a);
    if (!a) abort();
    int n = 0;
    a[n++] = wih_strdup(self);
    a[n++] = wih_strdup("--no-color");
    a[n++] = wih_strdup("webhook");
    a[n++] = wih_strdup("serve");
#define FLAG(name, v)                                                                                              \
    if (v) {                                                                                                       \
        a[n++] = wih_strdup(name);                                                                                 \
        a[n++] = wih_strdup(v);                                                                                    \
    }
    FLAG("--kubeconfig", o->kubeconfig);
    FLAG("--context", o->context);
    FLAG("--options", o->options);
    FLAG("--cert", o->cert);
    FLAG("--key", o->key);
    FLAG("--ca", o->ca);
    FLAG("--pki", o->pki);
    FLAG("--url", o->url);
    FLAG("--decision-log", o->decision_log);
    FLAG("--ready-file", o->ready_file);
#undef FLAG
    if (o->port) {
        a[n++] = wih_strdup("--port");
        a[n++] = wih_asprintf("%d", o->port);
    }
    if (o->sa_grace_s) {
        a[n++] = wih_strdup("--sa-grace");
        a[n++] = wih_asprintf("%ld", o->sa_grace_s);
    }
    if (o->sa_cache_ms) {
        a[n++] = wih_strdup("--sa-cache-ms");
        a[n++] = wih_asprintf("%ld", o->sa_cache_ms);
    }
    if (o->profiles && o->profiles[0]) {
        wih_buf b;
        wih_buf_init(&b, 4096);
        for (const char *const *p = o->profiles; *p; p++) wih_buf_addf(&b, "%s%s", p == o->profiles ? "" : ",", *p);
        a[n++] = wih_strdup("--profiles");
        a[n++] = wih_buf_take(&b);
        wih_buf_free(&b);
    }
    if (o->no_register) a[n++] = wih_strdup("--no-register");
    a[n] = NULL;
    return a;
}

void webhook_serve_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++) free(*p);
    free(argv);
}
