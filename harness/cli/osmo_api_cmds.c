/* wiharness osmo submit FILE — submit a workflow to a real OSMO service
 * (osmo_api.h, docs/backends.md): --dry-run prints the request (the token
 * as a fingerprint); otherwise submit, name the task pods' selector, list
 * them when a cluster is given, and with --wait follow the workflow to its end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wiharness/cli.h"
#include "wiharness/kube.h"
#include "wiharness/osmo_api.h"

typedef struct {
    const char *url, *pool, *token_file, *ca_file, *kubeconfig, *context, *namespace_;
    bool dry_run, wait;
    long timeout_s;
} submit_cfg;

static const wih_opt k_submit_opts[] = {
    {"osmo-url", 0, WIH_OPT_STR, offsetof(submit_cfg, url), "URL", "the OSMO service (required)", false},
    {"pool", 0, WIH_OPT_STR, offsetof(submit_cfg, pool), "P", "the pool (default default)", false},
    {"osmo-token-file", 0, WIH_OPT_STR, offsetof(submit_cfg, token_file), "FILE",
     "the token when OSMO_TOKEN is unset (first line of FILE)", false},
    {"ca-file", 0, WIH_OPT_STR, offsetof(submit_cfg, ca_file), "PEM", "CA bundle for an https OSMO URL", false},
    {"dry-run", 0, WIH_OPT_FLAG, offsetof(submit_cfg, dry_run), NULL,
     "print the request that would be sent (token as a fingerprint) and send nothing", false},
    {"wait", 0, WIH_OPT_FLAG, offsetof(submit_cfg, wait), NULL, "follow the workflow until it ends", false},
    {"timeout", 0, WIH_OPT_INT, offsetof(submit_cfg, timeout_s), "SECONDS", "with --wait (default 1800)", false},
    {"kubeconfig", 0, WIH_OPT_STR, offsetof(submit_cfg, kubeconfig), "FILE", "list the task pods in this cluster", false},
    {"context", 0, WIH_OPT_STR, offsetof(submit_cfg, context), "CTX", "… with this context", false},
    {"namespace", 0, WIH_OPT_STR, offsetof(submit_cfg, namespace_), "NS",
     "the backend namespace of the pods (default osmo-workflows)", false},
};

static void free_token(char *t)
{
    if (t) OPENSSL_cleanse(t, strlen(t));
    free(t);
}

static void list_pods(const submit_cfg *c, const char *name)
{
    if (!c->kubeconfig && !c->context) return;
    kube_config_opts ko = {.kubeconfig = c->kubeconfig, .context = c->context};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    char *sel = osmo_api_pod_selector(name);
    cJSON *l = kc ? kube_list(kc, "v1", "Pod", c->namespace_ ? c->namespace_ : "osmo-workflows", sel, &e) : NULL;
    if (!l) wih_warn("listing the task pods (%s): %s", sel, wih_err_str(e));
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(l, "items"))
        printf("pod: %s (%s)\n", kube_obj_str(p, "metadata.name"), kube_obj_str(p, "status.phase"));
    wih_err_free(e);
    cJSON_Delete(l);
    free(sel);
    kube_client_free(kc);
}

static int submit(const submit_cfg *c, const char *token, const char *spec)
{
    wih_err *e = NULL;
    probe_req *r = osmo_api_submit_req(c->url, c->pool ? c->pool : "default", spec, token, false, &e);
    if (!r) return wih_err_report(e);
    if (c->dry_run) {
        cJSON *d = probe_req_describe(r);
        char *s = cJSON_Print(d);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(d);
        probe_req_free(r);
        return WIH_EXIT_OK;
    }
    long st = 0;
    wih_buf body;
    int rc = probe_send(r, c->ca_file, 30000, &st, &body, &e);
    probe_req_free(r);
    char *name = rc ? NULL : osmo_api_parse_submit(st, body.data, &e);
    wih_buf_free(&body);
    if (!name) return wih_err_report(e);
    char *sel = osmo_api_pod_selector(name);
    printf("workflow: %s\npods: -l %s\n", name, sel);
    free(sel);
    list_pods(c, name);
    int out = WIH_EXIT_OK;
    if (c->wait) {
        char *fin = osmo_api_wait(c->url, name, token, c->ca_file, (c->timeout_s ? c->timeout_s : 1800) * 1000, 2000, &e);
        if (!fin) out = wih_err_report(e);
        else printf("status: %s\n", fin);
        if (fin && strcmp(fin, "COMPLETED")) out = WIH_EXIT_FAIL;
        free(fin);
    }
    free(name);
    return out;
}

static int run_submit(void *vcfg, int argc, char **argv)
{
    submit_cfg *c = vcfg;
    wih_err *e = NULL;
    if (!c->url) {
        fprintf(stderr, "wiharness osmo submit: --osmo-url URL is required\n");
        return WIH_EXIT_INPUT;
    }
    char *spec = wih_read_file(argv[0], 1 << 22, NULL, &e);
    if (!spec) return wih_err_report(e);
    char *token = osmo_api_token(c->token_file, &e);
    int rc = token ? submit(c, token, spec) : wih_err_report(e);
    free_token(token);
    free(spec);
    return rc;
}

const wih_cmd wih_cmd_osmo_submit = {
    .name = "osmo submit",
    .summary = "submit a workflow to an OSMO service (POST /api/pool/P/workflow), find its pods, wait for its end",
    .args = "WORKFLOW.yaml",
    .details = "The token comes from OSMO_TOKEN or --osmo-token-file and is sent as x-osmo-auth; it is never\n"
               "printed (--dry-run shows its sha256 fingerprint). The task pods carry the label\n"
               "osmo.workflow_id=<name>. Exit codes: 0 submitted (with --wait: COMPLETED), 1 the workflow\n"
               "ended FAILED*, 2 bad input or a spec OSMO refused (400/422), 3 OSMO unreachable or the\n"
               "token refused.",
    .opts = k_submit_opts,
    .nopts = sizeof k_submit_opts / sizeof k_submit_opts[0],
    .cfg_size = sizeof(submit_cfg),
    .min_args = 1,
    .max_args = 1,
    .run = run_submit,
};
