/* wiharness webhook serve — the mock identity webhook in the foreground,
 * registered with a live cluster (local, kind or existing) until stopped. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/cli.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/webhook.h"

typedef struct {
    const char *kubeconfig, *context, *options, *cert, *key, *ca, *pki, *url, *decision_log, *ready_file;
    wih_strlist profiles;
    long port, sa_grace, sa_cache_ms;
    bool no_register;
} serve_cfg;

#define O(n, l, t, f, m, h, s) {n, l, t, offsetof(serve_cfg, f), m, h, s}
static const wih_opt k_opts[] = {
    O("ca", 0, WIH_OPT_STR, ca, "FILE", "CA certificate for the registration's caBundle (with --cert/--key)", false),
    O("cert", 0, WIH_OPT_STR, cert, "FILE", "serving certificate (PEM)", false),
    O("context", 0, WIH_OPT_STR, context, "NAME", "kubeconfig context", false),
    O("decision-log", 0, WIH_OPT_STR, decision_log, "FILE", "append one JSON line per decision (default: stdout)",
      false),
    O("key", 0, WIH_OPT_STR, key, "FILE", "serving key (PEM)", false),
    O("kubeconfig", 0, WIH_OPT_STR, kubeconfig, "FILE", "kubeconfig (default $KUBECONFIG, ~/.kube/config)", false),
    O("no-register", 0, WIH_OPT_FLAG, no_register, NULL, "serve only; do not create MutatingWebhookConfigurations",
      false),
    O("options", 0, WIH_OPT_STR, options, "FILE", "profile options (docs/webhook.md)", false),
    O("pki", 0, WIH_OPT_STR, pki, "DIR", "issue the serving certificate from the wiharness CA in DIR", false),
    O("port", 0, WIH_OPT_PORT, port, "N", "listen on 127.0.0.1:N (default: a free port)", false),
    O("profiles", 0, WIH_OPT_LIST, profiles, "LIST", "aws-irsa,azure-wi,gcp-fleet (default: all)", true),
    O("ready-file", 0, WIH_OPT_STR, ready_file, "FILE", "write {\"port\":N} here once serving and registered",
      false),
    O("sa-cache-ms", 0, WIH_OPT_INT, sa_cache_ms, "MS",
      "serve a found ServiceAccount from memory this long (default 0: upstream watches SAs, so a change is seen at once)",
      false),
    O("sa-grace", 0, WIH_OPT_INT, sa_grace, "SECONDS",
      "keep retrying a missing ServiceAccount this long (AWS's lookup grace period; default 0)", false),
    O("url", 0, WIH_OPT_STR, url, "URL", "base URL the API server calls (default https://127.0.0.1:PORT)", false),
};

static char *read_pem(const char *path, wih_err **err)
{
    return wih_read_file(path, 1 << 20, NULL, err);
}

static int run_serve(void *vcfg, int argc, char **argv)
{
    serve_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    wih_err *err = NULL;
    int rc = WIH_EXIT_OK;
    webhook_handler h;
    memset(&h, 0, sizeof h);
    webhook_opts_defaults(&h.opts);
    if (c->profiles.n == 0)
        for (int p = 0; p < WEBHOOK_NPROFILES; p++) h.enabled[p] = true;
    for (size_t i = 0; i < c->profiles.n; i++) {
        webhook_profile p;
        if (webhook_profile_parse(c->profiles.v[i], &p) != 0) {
            fprintf(stderr, "wiharness webhook serve: unknown profile '%s' (aws-irsa, azure-wi, gcp-fleet)\n",
                    c->profiles.v[i]);
            webhook_opts_free(&h.opts);
            return WIH_EXIT_INPUT;
        }
        h.enabled[p] = true;
    }
    if (c->options)
        for (int p = 0; p < WEBHOOK_NPROFILES; p++)
            if (h.enabled[p] && webhook_opts_load(&h.opts, (webhook_profile)p, c->options, &err) != 0) {
                webhook_opts_free(&h.opts);
                return wih_err_report(err);
            }
    char *cert = NULL, *key = NULL, *ca = NULL;
    if (c->cert || c->key) {
        if (!c->cert || !c->key) {
            fprintf(stderr, "wiharness webhook serve: --cert and --key go together\n");
            webhook_opts_free(&h.opts);
            return WIH_EXIT_INPUT;
        }
        /* bad PEM is bad input naming the flag, not a TLS error at listen (issue 13) */
        if ((err = wih_pem_check_file(c->cert, WIH_PEM_CERT, "--cert")) ||
            (err = wih_pem_check_file(c->key, WIH_PEM_KEY, "--key")) ||
            (c->ca && (err = wih_pem_check_file(c->ca, WIH_PEM_CERT, "--ca"))))
            goto fail;
        if (!(cert = read_pem(c->cert, &err)) || !(key = read_pem(c->key, &err)) ||
            !(ca = read_pem(c->ca ? c->ca : c->cert, &err)))
            goto fail;
    } else if (c->pki) {
        static const char *const dns[] = {NULL};
        if ((err = cluster_pki_issue(c->pki, "webhook", "wiharness-webhook", NULL, true, dns))) goto fail;
        char *pc = wih_path_join(c->pki, "webhook.crt"), *pk = wih_path_join(c->pki, "webhook.key"),
             *pa = wih_path_join(c->pki, "ca.crt");
        cert = read_pem(pc, &err);
        if (cert) key = read_pem(pk, &err);
        if (key) ca = read_pem(pa, &err);
        free(pc);
        free(pk);
        free(pa);
        if (!ca) goto fail;
    } else {
        if (webhook_selfsigned(&cert, &key, &err) != 0) goto fail;
        ca = wih_strdup(cert);
    }
    kube_config_opts ko = {.kubeconfig = c->kubeconfig, .context = c->context};
    kube_client *kc = kube_client_new(&ko, &err);
    if (!kc) goto fail;
    webhook_live *live = webhook_live_new(kc);
    /* Upstream keeps SAs in an informer (a watch): an updated SA is seen within
     * milliseconds. Without a watch, any TTL would serve a stale SA, so the
     * default is a live GET for every pod. */
    webhook_sa_cache *cache = webhook_sa_cache_new(webhook_live_sa_lookup, live, c->sa_cache_ms, c->sa_grace * 1000);
    h.sa_lookup = webhook_sa_cache_lookup;
    h.sa_ctx = cache;
    FILE *log = stdout;
    if (c->decision_log && !(log = fopen(c->decision_log, "a"))) {
        err = wih_err_new(WIH_EXIT_INFRA, "opening %s", c->decision_log);
        goto fail_live;
    }
    setvbuf(log, NULL, _IOLBF, 0);
    h.log = log;
    webhook_server_cfg sc = {.cert_pem = cert, .key_pem = key, .port = (int)c->port, .handler = &h,
                             .on_configmaps = webhook_live_configmaps, .cm_ctx = live};
    webhook_server *srv = webhook_server_start(&sc, &err);
    if (!srv) goto fail_log;
    int port = webhook_server_port(srv);
    char *url = c->url ? wih_strdup(c->url) : wih_asprintf("https://127.0.0.1:%d", port);
    if (!c->no_register && (err = webhook_live_register(live, h.enabled, url, ca))) {
        webhook_server_stop(srv);
        free(url);
        goto fail_log;
    }
    wih_info("webhook serving on https://127.0.0.1:%d (registered at %s%s)", port, url,
             c->no_register ? ": not registered, --no-register" : "");
    if (c->ready_file) {
        char *r = wih_asprintf("{\"port\":%d,\"url\":\"%s\"}\n", port, url);
        wih_write_file(c->ready_file, r, strlen(r), 0600, &err);
        free(r);
        if (err) {
            wih_warn("%s", wih_err_str(err));
            wih_err_free(err);
            err = NULL;
        }
    }
    while (!wih_interrupted()) wih_sleep_ms(200);
    wih_info("webhook stopping (signal %d)", wih_interrupt_signal());
    if (!c->no_register && (err = webhook_live_unregister(live, h.enabled))) {
        wih_warn("%s", wih_err_str(err));
        wih_err_free(err);
        err = NULL;
    }
    cJSON *st = webhook_server_stats(srv);
    char *sts = cJSON_PrintUnformatted(st);
    wih_info("webhook stats: %s", sts);
    free(sts);
    cJSON_Delete(st);
    webhook_server_stop(srv);
    if (c->ready_file) unlink(c->ready_file);
    free(url);
    rc = WIH_EXIT_OK;
    goto out;
fail_log:
    rc = wih_err_report(err);
out:
    if (log && log != stdout) fclose(log);
    webhook_sa_cache_free(cache);
    webhook_live_free(live);
    free(cert);
    free(key);
    free(ca);
    webhook_opts_free(&h.opts);
    return rc;
fail_live:
    webhook_sa_cache_free(cache);
    webhook_live_free(live);
fail:
    free(cert);
    free(key);
    free(ca);
    webhook_opts_free(&h.opts);
    return wih_err_report(err);
}

const wih_cmd wih_cmd_webhook_serve = {
    .name = "webhook serve",
    .summary = "run the mock identity webhook and register it with a cluster until Ctrl-C",
    .details = "Serves POST /mutate[/<profile>], GET /healthz and GET /stats over HTTPS on 127.0.0.1, looks\n"
               "ServiceAccounts up through the kubeconfig's credentials, creates gcp-fleet credential\n"
               "ConfigMaps, and registers one MutatingWebhookConfiguration per profile (removed again\n"
               "on SIGINT/SIGTERM). The API server must be able to reach the URL: use it with the local\n"
               "backend, or with --url for kind and existing clusters.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(serve_cfg),
    .max_args = 0,
    .run = run_serve,
};
