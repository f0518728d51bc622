/* wiharness up | status | env | down — the local chain as a playground. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/cluster.h"

typedef struct {
    const char *state_dir;
    const char *backend;
    long timeout;
    const char *output;
    bool keep_state;
    const char *profiles, *webhook_options;
    bool no_webhook, no_cloud, no_node;
} local_cfg;

#define STATE_OPT                                                                                                 \
    {"state-dir", 0, WIH_OPT_STR, offsetof(local_cfg, state_dir), "DIR",                                          \
     "where this chain's state lives (default ${XDG_STATE_HOME:-~/.local/state}/wiharness/local)", false}

static const wih_opt k_up_opts[] = {
    {"backend", 0, WIH_OPT_STR, offsetof(local_cfg, backend), "NAME", "cluster backend: local (the only one so far)",
     false},
    {"no-cloud", 0, WIH_OPT_FLAG, offsetof(local_cfg, no_cloud), NULL,
     "start neither the mock cloud identity plane nor MinIO", false},
    {"no-node", 0, WIH_OPT_FLAG, offsetof(local_cfg, no_node), NULL,
     "control plane only: no kubelet, containerd, controller-manager or scheduler (no root needed; pods never run)",
     false},
    {"no-webhook", 0, WIH_OPT_FLAG, offsetof(local_cfg, no_webhook), NULL,
     "start the control plane only, without the mock identity webhook", false},
    {"profiles", 0, WIH_OPT_STR, offsetof(local_cfg, profiles), "LIST",
     "webhook profiles to serve and register: aws-irsa,azure-wi,gcp-fleet (default: all)", false},
    STATE_OPT,
    {"timeout", 0, WIH_OPT_INT, offsetof(local_cfg, timeout), "SECONDS",
     "readiness deadline per component (default 60)", false},
    {"webhook-options", 0, WIH_OPT_STR, offsetof(local_cfg, webhook_options), "FILE",
     "webhook profile options (camelCase keys, docs/webhook.md)", false},
};
static const wih_opt k_status_opts[] = {
    {"output", 'o', WIH_OPT_CHOICE, offsetof(local_cfg, output), "text|json", "text (default) or json", false},
    STATE_OPT,
};
static const wih_opt k_env_opts[] = {STATE_OPT};
static const wih_opt k_down_opts[] = {
    {"keep-state", 0, WIH_OPT_FLAG, offsetof(local_cfg, keep_state), NULL,
     "keep the state dir (data, logs, PKI) for inspection", false},
    STATE_OPT,
};

static int run_up(void *vcfg, int argc, char **argv)
{
    local_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    if (c->backend && strcmp(c->backend, "local")) {
        fprintf(stderr, "wiharness up: unknown backend '%s' (available: local)\n", c->backend);
        return WIH_EXIT_INPUT;
    }
    cluster_local_opts o = {.state_dir = c->state_dir,
                            .timeout_ms = c->timeout * 1000,
                            .progress = stderr,
                            .no_webhook = c->no_webhook,
                            .no_cloud = c->no_cloud,
                            .node = !c->no_node,
                            .profiles = c->profiles,
                            .webhook_options = c->webhook_options};
    bool reused = false;
    wih_err *e = cluster_local_up(&o, &reused);
    /* an interrupt exits 130 either way: say which state it left (issue 13 finding 6) */
    if (e && wih_interrupted()) fprintf(stderr, "wiharness up: interrupted before the chain was fully up\n");
    if (e) return wih_err_report(e);
    if (wih_interrupted())
        fprintf(stderr, "wiharness up: interrupted, but only after the chain was fully up: it is running "
                        "('wiharness down' stops it)\n");
    char *dir = c->state_dir ? wih_strdup(c->state_dir) : cluster_local_default_dir();
    char *kc = wih_path_join(dir, "kubeconfig");
    printf("export KUBECONFIG=%s\n", kc);
    free(kc);
    free(dir);
    return WIH_EXIT_OK;
}

static int run_status(void *vcfg, int argc, char **argv)
{
    local_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    bool json = c->output && !strcmp(c->output, "json");
    if (c->output && !json && strcmp(c->output, "text")) {
        fprintf(stderr, "wiharness status: --output must be text or json\n");
        return WIH_EXIT_INPUT;
    }
    char *dir = c->state_dir ? wih_strdup(c->state_dir) : cluster_local_default_dir();
    wih_err *e = NULL;
    bool ok = false;
    cJSON *st = cluster_local_status(dir, &ok, &e);
    if (!st) {
        free(dir);
        return wih_err_report(e);
    }
    if (json) {
        char *s = cJSON_Print(st);
        printf("%s\n", s);
        free(s);
    } else {
        printf("local chain in %s: %s\n", dir, ok ? "healthy" : "NOT healthy");
        for (cJSON *it = st->child; it; it = it->next) {
            if (!strcmp(it->string, "node")) continue;
            bool alive = cJSON_IsTrue(cJSON_GetObjectItem(it, "alive"));
            bool healthy = cJSON_IsTrue(cJSON_GetObjectItem(it, "healthy"));
            cJSON *url = cJSON_GetObjectItem(it, "url"), *pid = cJSON_GetObjectItem(it, "pid");
            printf("  %-23s %-9s pid %-7d %s\n", it->string, healthy ? "healthy" : alive ? "unhealthy" : "dead",
                   pid ? pid->valueint : 0, cJSON_IsString(url) ? url->valuestring : "");
        }
        const cJSON *node = cJSON_GetObjectItem(st, "node");
        if (node) {
            const cJSON *pods = cJSON_GetObjectItem(node, "pods");
            printf("  node %s (%s): %s, %d pod(s)\n", cJSON_GetStringValue(cJSON_GetObjectItem(node, "name")),
                   cJSON_GetStringValue(cJSON_GetObjectItem(node, "ip")),
                   cJSON_IsTrue(cJSON_GetObjectItem(node, "ready")) ? "Ready" : "NOT Ready", cJSON_GetArraySize(pods));
            for (const cJSON *p = pods ? pods->child : NULL; p; p = p->next)
                printf("    %s/%s %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(p, "namespace")),
                       cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")),
                       cJSON_GetStringValue(cJSON_GetObjectItem(p, "phase")));
        }
    }
    cJSON_Delete(st);
    free(dir);
    return ok ? WIH_EXIT_OK : WIH_EXIT_INFRA;
}

static int run_env(void *vcfg, int argc, char **argv)
{
    local_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    char *dir = c->state_dir ? wih_strdup(c->state_dir) : cluster_local_default_dir();
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(dir, &e);
    free(dir);
    if (!st) return wih_err_report(e);
    const cJSON *kc = cJSON_GetObjectItem(st, "kubeconfig");
    printf("export KUBECONFIG=%s\n", cJSON_IsString(kc) ? kc->valuestring : "");
    const cJSON *cl = cJSON_GetObjectItem(st, "cloud"), *mo = cJSON_GetObjectItem(st, "minio");
    const char *curl_ = cJSON_GetStringValue(cJSON_GetObjectItem(cl, "url"));
    const char *ca = cJSON_GetStringValue(cJSON_GetObjectItem(cl, "ca_file"));
    const char *murl = cJSON_GetStringValue(cJSON_GetObjectItem(mo, "url"));
    if (curl_ && ca && murl) {
        /* what the cloud SDKs read: boto3 (endpoints, AWS_CA_BUNDLE), azure-identity
         * (AZURE_AUTHORITY_HOST; requests honours REQUESTS_CA_BUNDLE), google-auth
         * (token_url in its credential file: WIH_GOOGLE_STS_URL) */
        printf("export AWS_ENDPOINT_URL_STS=%s\n", curl_);
        printf("export AWS_ENDPOINT_URL_S3=%s\n", murl);
        printf("export AWS_REGION=us-east-1\n");
        printf("export AWS_CA_BUNDLE=%s\n", ca);
        printf("export AZURE_AUTHORITY_HOST=%s/\n", curl_);
        printf("export REQUESTS_CA_BUNDLE=%s\n", ca);
        printf("export SSL_CERT_FILE=%s\n", ca);
        printf("export WIH_GOOGLE_STS_URL=%s/v1/token\n", curl_);
        printf("export WIH_GOOGLE_IAM_URL=%s\n", curl_);
        printf("export WIH_CA_FILE=%s\n", ca);
        printf("export WIH_CLOUD_URL=%s\n", curl_);
        printf("export WIH_MINIO_URL=%s\n", murl);
    }
    cJSON_Delete(st);
    return WIH_EXIT_OK;
}

static int run_down(void *vcfg, int argc, char **argv)
{
    local_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    cluster_local_opts o = {.state_dir = c->state_dir, .progress = stderr};
    wih_err *e = cluster_local_down(&o, c->keep_state);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

#define NOPTS(a) (sizeof a / sizeof a[0])
const wih_cmd wih_cmd_up = {
    .name = "up",
    .summary = "start the local chain (control plane, webhook, mock cloud, MinIO, and a real node) or reuse it",
    .details = "Starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the mock webhook, the\n"
               "mock cloud and MinIO on 127.0.0.1, then the node: containerd, the kubelet (node IP = its own\n"
               "bridge's address), the probe and pause images imported; waits for the node to be Ready.\n"
               "The node needs root; without it (or with --no-node) only the control plane runs.\n"
               "Idempotent: a healthy chain in the state dir is reused, a dead one replaced.\n"
               "The webhook is registered with the API server for each profile (down removes it).\n"
               "Prints 'export KUBECONFIG=…' on stdout; progress goes to stderr.",
    .opts = k_up_opts,
    .nopts = NOPTS(k_up_opts),
    .cfg_size = sizeof(local_cfg),
    .max_args = 0,
    .run = run_up,
};
const wih_cmd wih_cmd_status = {
    .name = "status",
    .summary = "show whether each process of the local chain is alive and healthy, the node and its pods (exit 3 if not)",
    .opts = k_status_opts,
    .nopts = NOPTS(k_status_opts),
    .cfg_size = sizeof(local_cfg),
    .max_args = 0,
    .run = run_status,
};
const wih_cmd wih_cmd_env = {
    .name = "env",
    .summary = "print the shell exports that point kubectl and the cloud SDKs at the local chain",
    .details = "KUBECONFIG; AWS_ENDPOINT_URL_STS (the mock cloud) and AWS_ENDPOINT_URL_S3 (MinIO),\n"
               "AWS_REGION, AWS_CA_BUNDLE; AZURE_AUTHORITY_HOST; REQUESTS_CA_BUNDLE and SSL_CERT_FILE (the\n"
               "harness CA); WIH_GOOGLE_STS_URL, WIH_GOOGLE_IAM_URL, WIH_CA_FILE, WIH_CLOUD_URL, WIH_MINIO_URL.\n"
               "Use: eval \"$(wiharness env)\"",
    .opts = k_env_opts,
    .nopts = NOPTS(k_env_opts),
    .cfg_size = sizeof(local_cfg),
    .max_args = 0,
    .run = run_env,
};
const wih_cmd wih_cmd_down = {
    .name = "down",
    .summary = "stop the local chain and remove its state (or keep it with --keep-state)",
    .details = "Deletes the pods through the API, stops the kubelet, every container and shim (by the PIDs\n"
               "containerd recorded), containerd, and the rest in reverse start order; unmounts what the\n"
               "node mounted, removes its network namespaces, cgroups and bridge, then the state dir.",
    .opts = k_down_opts,
    .nopts = NOPTS(k_down_opts),
    .cfg_size = sizeof(local_cfg),
    .max_args = 0,
    .run = run_down,
};
