/* wiharness webhook serve — the mock identity webhook in the foreground,
 * registered with a live cluster (local, kind or existing) until stopped. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
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

static int run_serve(void *vcfg, int argc, char **argv)
{
    serve_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    const char **profiles = calloc(c->profiles.n + 1, sizeof *profiles);
    if (!profiles) abort();
    for (size_t i = 0; i < c->profiles.n; i++) profiles[i] = c->profiles.v[i];
    webhook_serve_opts o = {.kubeconfig = c->kubeconfig,
                            .context = c->context,
                            .options = c->options,
                            .cert = c->cert,
                            .key = c->key,
                            .ca = c->ca,
                            .pki = c->pki,
                            .url = c->url,
                            .decision_log = c->decision_log,
                            .ready_file = c->ready_file,
                            .profiles = profiles,
                            .port = (int)c->port,
                            .sa_grace_s = c->sa_grace,
                            .sa_cache_ms = c->sa_cache_ms,
                            .no_register = c->no_register};
    wih_err *err = webhook_serve(&o);
    free(profiles);
    return err ? wih_err_report(err) : WIH_EXIT_OK;
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
