/* The steps of `wiharness up`, one per component of the table in local.c:
 * each starts its program(s), waits until ready and records them (lc_record),
 * so that a failure or SIGINT at any point stops exactly what was started. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "local_int.h"
#include "wiharness/cloud.h"
#include "wiharness/kube.h"
#include "wiharness/storage.h"
#include "wiharness/webhook.h"

/* ------------------------------------------------------------- etcd, API */
wih_err *lc_start_etcd(lchain *c)
{
    cluster_svc s;
    lc_progress(c->o, "starting etcd");
    wih_err *err = cluster_etcd_start(c->dir, &s, c->timeout, CLUSTER_PERSIST);
    if (err) return err;
    c->etcd_url = wih_strdup(s.url);
    char *h = wih_asprintf("%s/health", s.url);
    err = lc_record(c, "etcd", &s, h);
    free(h);
    return err;
}

static kube_client *admin_client(const char *kubeconfig, wih_err **err)
{
    kube_config_opts ko = {.kubeconfig = kubeconfig};
    return kube_client_new(&ko, err);
}

/* OIDC discovery and JWKS readable without credentials, as a cloud IAM
 * expects when it registers the cluster's issuer. */
static wih_err *bind_discovery(const char *kubeconfig)
{
    static const char body[] = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
                               "\"metadata\":{\"name\":\"wiharness:service-account-issuer-discovery\"},"
                               "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
                               "\"name\":\"system:service-account-issuer-discovery\"},"
                               "\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\","
                               "\"name\":\"system:unauthenticated\"}]}";
    wih_err *err = NULL;
    kube_client *kc = admin_client(kubeconfig, &err);
    if (!kc) return err;
    cJSON *obj = cJSON_Parse(body), *r = NULL;
    /* RBAC bootstrap roles appear shortly after /readyz; retry briefly */
    for (int i = 0; i < 50 && !r && !wih_interrupted(); i++) {
        wih_err_free(err);
        err = NULL;
        if (!(r = kube_apply(kc, obj, &err))) wih_sleep_ms(100);
    }
    cJSON_Delete(r);
    cJSON_Delete(obj);
    kube_client_free(kc);
    return err ? wih_err_wrap(err, "binding system:service-account-issuer-discovery to system:unauthenticated") : NULL;
}

wih_err *lc_start_apiserver(lchain *c)
{
    cluster_svc etcd = {.url = c->etcd_url}, s;
    lc_progress(c->o, "starting kube-apiserver");
    wih_err *err = NULL;
    if (c->node) {
        /* the API server's client certificate for the kubelets (logs, exec) */
        if ((err = cluster_pki_issue(c->pki, "apiserver-kubelet-client", "kube-apiserver-kubelet-client",
                                     "system:masters", false, NULL)))
            return err;
    }
    err = cluster_apiserver_start(c->dir, c->pki, &etcd, &s, c->timeout,
                                  CLUSTER_PERSIST | (c->node ? CLUSTER_FULL_ADMISSION : 0));
    if (err) return err;
    c->api_url = wih_strdup(s.url);
    char *h = wih_asprintf("%s/readyz", s.url);
    err = lc_record(c, "kube-apiserver", &s, h);
    free(h);
    if (err) return err;
    cJSON_AddStringToObject(c->state, "server", c->api_url);
    cJSON_AddStringToObject(c->state, "issuer", c->api_url);
    char *ca = wih_path_join(c->pki, "ca.crt"), *crt = wih_path_join(c->pki, "admin.crt"),
         *key = wih_path_join(c->pki, "admin.key");
    err = cluster_kubeconfig_write(c->kubeconfig, c->api_url, ca, crt, key, "wiharness-admin");
    free(ca);
    free(crt);
    free(key);
    if (err) return err;
    lc_write_state(c);
    return bind_discovery(c->kubeconfig);
}

/* An external cluster (kind): its service-account issuer and JWKS, read
 * through its API as the mock cloud needs them (the issuer URL itself, e.g.
 * https://kubernetes.default.svc.cluster.local, is not reachable from here). */
wih_err *lc_external_issuer(lchain *c)
{
    wih_err *err = NULL;
    kube_client *kc = admin_client(c->kubeconfig, &err);
    cJSON *disc = kc ? kube_request(kc, "GET", "/.well-known/openid-configuration", NULL, NULL, NULL, &err) : NULL;
    const char *iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(disc, "issuer"));
    if (disc && !iss)
        err = wih_err_new(WIH_EXIT_INFRA, "%s: /.well-known/openid-configuration has no issuer", c->kubeconfig);
    if (!err) c->jwks = kube_request(kc, "GET", "/openid/v1/jwks", NULL, NULL, NULL, &err);
    if (!err && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(c->jwks, "keys")))
        err = wih_err_new(WIH_EXIT_INFRA, "%s: /openid/v1/jwks has no keys", c->kubeconfig);
    if (!err) {
        c->issuer = wih_strdup(iss);
        cJSON_AddStringToObject(c->state, "issuer", iss);
        lc_progress(c->o, "the cluster of %s: issuer %s (%d signing key(s))", c->kubeconfig, iss,
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c->jwks, "keys")));
    }
    cJSON_Delete(disc);
    kube_client_free(kc);
    return err ? wih_err_wrap(err, "reading the cluster's service-account issuer") : NULL;
}

wih_err *lc_start_controller_manager(lchain *c)
{
    cluster_svc s;
    lc_progress(c->o, "starting kube-controller-manager");
    wih_err *err = cluster_controller_manager_start(c->dir, c->pki, c->api_url, &s, c->timeout, CLUSTER_PERSIST);
    if (err) return err;
    char *h = wih_asprintf("%s/healthz", s.url);
    err = lc_record(c, "kube-controller-manager", &s, h);
    free(h);
    return err;
}

wih_err *lc_start_scheduler(lchain *c)
{
    cluster_svc s;
    lc_progress(c->o, "starting kube-scheduler");
    wih_err *err = cluster_scheduler_start(c->dir, c->pki, c->api_url, &s, c->timeout, CLUSTER_PERSIST);
    if (err) return err;
    char *h = wih_asprintf("%s/healthz", s.url);
    err = lc_record(c, "kube-scheduler", &s, h);
    free(h);
    return err;
}

/* ------------------------------------------------ wiharness's own servers */
typedef struct {
    const char *ready;
} ready_file_ctx;

static int ready_file_ready(void *ctx, wih_err **err)
{
    (void)err;
    return access(((ready_file_ctx *)ctx)->ready, R_OK) == 0 ? 1 : 0;
}

/* Path of the wiharness program, which the chain re-runs for its own servers. */
static const char *self_bin(const cluster_local_opts *o, char *buf, size_t n, wih_err **err)
{
    if (o->wiharness_bin) return o->wiharness_bin;
    ssize_t r = readlink("/proc/self/exe", buf, n - 1);
    if (r <= 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "cannot find the wiharness binary (/proc/self/exe)");
        return NULL;
    }
    buf[r] = '\0';
    const char *base = strrchr(buf, '/');
    if (strcmp(base ? base + 1 : buf, "wiharness") != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA,
                           "the webhook and the mock cloud run as `wiharness … serve`, and %s is not wiharness: "
                           "pass cluster_local_opts.wiharness_bin (or no_webhook and no_cloud)",
                           buf);
        return NULL;
    }
    return buf;
}

/* `<wiharness> <args…>` as a persistent process named `name`, ready when it
 * has written <dir>/<name>.ready. */
static wih_err *spawn_self(const cluster_local_opts *o, const char *dir, const char *name, char **args, int port,
                           int64_t timeout, cluster_svc *out)
{
    memset(out, 0, sizeof *out);
    char self[4096];
    wih_err *err = NULL;
    const char *bin = self_bin(o, self, sizeof self, &err);
    if (!bin) return err;
    args[0] = (char *)bin;
    char *logs = wih_path_join(dir, "logs");
    wih_mkdir_p(logs, 0700);
    char *rname = wih_asprintf("%s.ready", name);
    char *ready = wih_path_join(dir, rname);
    free(rname);
    wih_proc_opts po = {.name = name, .argv = args, .log_dir = logs};
    out->proc = wih_proc_spawn(&po, &err);
    if (out->proc) {
        out->port = port;
        out->url = wih_asprintf("https://127.0.0.1:%d", port);
        ready_file_ctx rc = {ready};
        err = wih_proc_wait_ready(out->proc, ready_file_ready, &rc, timeout);
        if (err) cluster_svc_stop(out);
    }
    free(logs);
    free(ready);
    return err;
}

/* The webhook (webhook_serve, as a persistent process of its own through
 * webhook_serve_argv), registered when ready. */
static wih_err *start_webhook(const cluster_local_opts *o, const char *dir, const char *pki, const char *kubeconfig,
                              int64_t timeout, cluster_svc *out)
{
    wih_err *err = NULL;
    int port = wih_free_port(&err);
    if (port < 0) return err;
    /* served on another address (an API server in a kind node dials it
     * there through the relay): a certificate naming that IP, and that URL */
    char *wcrt = NULL, *wkey = NULL, *wca = NULL, *wurl = NULL;
    if (o->serve_address) {
        char *ipsan = wih_asprintf("IP:%s", o->serve_address);
        const char *const sans[] = {ipsan, NULL};
        err = cluster_pki_issue(pki, "webhook-served", "wiharness-webhook", NULL, true, sans);
        free(ipsan);
        if (err) return wih_err_wrap(err, "the webhook's certificate for %s", o->serve_address);
        wcrt = wih_path_join(pki, "webhook-served.crt");
        wkey = wih_path_join(pki, "webhook-served.key");
        wca = wih_path_join(pki, "ca.crt");
        wurl = wih_asprintf("https://%s:%d", o->serve_address, port);
    }
    char *ready = wih_path_join(dir, "webhook.ready"), *dlog = wih_path_join(dir, "logs/webhook-decisions.jsonl");
    unlink(ready);
    char *plist = o->profiles ? wih_strdup(o->profiles) : NULL, *save = NULL;
    const char *profiles[8] = {0};
    int np = 0;
    for (char *t = plist ? strtok_r(plist, ",", &save) : NULL; t && np < 7; t = strtok_r(NULL, ",", &save)) profiles[np++] = t;
    webhook_serve_opts wo = {.kubeconfig = kubeconfig,
                             .pki = pki,
                             .port = port,
                             .ready_file = ready,
                             .decision_log = dlog,
                             .options = o->webhook_options,
                             .profiles = np ? profiles : NULL,
                             .cert = wcrt,
                             .key = wkey,
                             .ca = wca,
                             .url = wurl};
    if (wcrt) wo.pki = NULL;
    char **args = webhook_serve_argv(&wo, "wiharness");
    char *argv0 = args[0]; /* spawn_self puts the real binary there */
    err = spawn_self(o, dir, "webhook", args, port, timeout, out);
    args[0] = argv0;
    webhook_serve_argv_free(args);
    free(plist);
    free(ready);
    free(dlog);
    free(wcrt);
    free(wkey);
    free(wca);
    free(wurl);
    return err ? wih_err_wrap(err, "starting the mock identity webhook") : NULL;
}

/* The mock cloud (`wiharness cloud serve`) and the real MinIO trusting it:
 * ports and MinIO's root credentials are fixed first (the cloud needs them,
 * MinIO needs the cloud's discovery at its start), then the cloud, then MinIO,
 * then the cluster's issuer is registered with the cloud like an IAM OIDC
 * provider. Secrets live only in 0600 files of the state dir. */

/* The webhook's cloud endpoints: the mock cloud's, at the address the pods it
 * mutates reach it (the bridge address with a node, else loopback): Azure's
 * authority host, Google's STS and IAM credentials, and Fleet's documented
 * audiences (cloud.h), which the mock accepts. */
static wih_err *webhook_options_file(lchain *c, char **path)
{
    const char *host = c->addr ? c->addr : "127.0.0.1";
    *path = wih_path_join(c->dir, "webhook-options.yaml");
    char *y = wih_asprintf("# written by wiharness up: the webhook's cloud endpoints are the mock cloud's\n"
                           "azure-wi:\n"
                           "  authorityHost: https://%s:%d/\n"
                           /* the chart's required azureTenantID: the webhook injects it as AZURE_TENANT_ID,
                            * without which DefaultAzureCredential has no workload identity */
                           "  tenantId: \"72f988bf-0000-4000-8000-00000000000a\"\n"
                           "gcp-fleet:\n"
                           "  identityProvider: \"%s\"\n"
                           "  workloadIdentityPool: \"%s\"\n"
                           "  tokenUrl: https://%s:%d/v1/token\n"
                           "  impersonationUrl: https://%s:%d\n",
                           host, c->cport, CLOUD_GOOGLE_FLEET_AUDIENCE, CLOUD_GOOGLE_FLEET_POOL, host, c->cport, host,
                           c->cport);
    wih_err *err = NULL;
    wih_write_file(*path, y, strlen(y), 0600, &err);
    free(y);
    return err;
}

wih_err *lc_start_webhook(lchain *c)
{
    lc_progress(c->o, "starting the mock identity webhook (%s)", c->o->profiles ? c->o->profiles : "aws-irsa,azure-wi,gcp-fleet");
    cluster_local_opts wo = *c->o;
    char *optf = NULL;
    wih_err *err = NULL;
    if (!c->o->webhook_options && !c->o->no_cloud) {
        if ((err = webhook_options_file(c, &optf))) {
            free(optf);
            return err;
        }
        wo.webhook_options = optf;
    }
    cluster_svc s;
    err = start_webhook(&wo, c->dir, c->pki, c->kubeconfig, c->timeout, &s);
    free(optf);
    if (err) return err;
    char *h = wih_asprintf("%s/healthz", s.url);
    err = lc_record(c, "webhook", &s, h);
    free(h);
    return err;
}

static wih_err *start_cloud(const cluster_local_opts *o, const char *dir, const char *pki, const char *issuer,
                            const cJSON *jwks, int cport, int64_t timeout, cluster_svc *cl, minio **mo, cJSON *state,
                            const char *bridge_ip)
{
    wih_err *err = NULL;
    *mo = NULL;
    char *cdir = wih_path_join(dir, "cloud");
    wih_mkdir_p(cdir, 0700);
    char *tokf = wih_path_join(cdir, "admin.token"), *rootf = wih_path_join(cdir, "minio-root.json");
    char *token = wih_random_hex(32), *user = wih_random_hex(8), *pass = wih_random_hex(24);
    char *rootj = wih_asprintf("{\"user\":\"%s\",\"password\":\"%s\"}\n", user, pass);
    char *ports = NULL, *mep = NULL, *crt = NULL, *key = NULL, *ready = NULL, *dlog = NULL, *skey = NULL,
         *reg = NULL, *ca = NULL, *cfgurl = NULL, *body = NULL, *resp = NULL, *purl = NULL;
    int mport = -1;
    if (wih_write_file(tokf, token, strlen(token), 0600, &err) || wih_write_file(rootf, rootj, strlen(rootj), 0600, &err))
        goto out;
    /* pods reach the cloud on the bridge address: the certificate names it too */
    char *ipsan = bridge_ip ? wih_asprintf("IP:%s", bridge_ip) : NULL;
    const char *const sans[] = {ipsan, NULL};
    err = cluster_pki_issue(pki, "cloud", "wiharness-cloud", NULL, true, sans);
    free(ipsan);
    if (err) goto out;
    if ((mport = wih_free_port(&err)) < 0) goto out;
    ports = wih_asprintf("%d", cport);
    mep = wih_asprintf("http://127.0.0.1:%d", mport);
    crt = wih_path_join(pki, "cloud.crt");
    key = wih_path_join(pki, "cloud.key");
    ready = wih_path_join(dir, "cloud.ready");
    unlink(ready);
    dlog = wih_path_join(dir, "logs/cloud-decisions.jsonl");
    skey = wih_path_join(cdir, "signing.key");
    reg = wih_path_join(cdir, "registry.json");
    ca = wih_path_join(pki, "ca.crt");
    char *args[] = {NULL, "--no-color", "cloud", "serve", "--cert", crt, "--key", key, "--port", ports,
                    "--ready-file", ready, "--decision-log", dlog, "--admin-token-file", tokf,
                    "--signing-key-file", skey, "--registry-file", reg, "--minio-endpoint", mep,
                    "--minio-root-file", rootf, NULL};
    lc_progress(o, "starting the mock cloud identity plane");
    if ((err = spawn_self(o, dir, "cloud", args, cport, timeout, cl))) goto out;
    lc_progress(o, "starting MinIO (trusting the mock cloud)");
    char *mdata = wih_path_join(dir, "minio"), *logs = wih_path_join(dir, "logs");
    cfgurl = wih_asprintf("%s/.well-known/openid-configuration", cl->url);
    minio_opts mopt = {.data_dir = mdata,
                       .ca_file = ca,
                       .log_dir = logs,
                       .port = mport,
                       .openid_config_url = cfgurl,
                       .openid_client_id = "wiharness-minio",
                       .root_user = user,
                       .root_password = pass,
                       .timeout_ms = timeout,
                       .keep_running = true};
    *mo = minio_start(&mopt, &err);
    free(mdata);
    free(logs);
    if (!*mo) goto out;
    /* register the cluster's issuer (the cloud fetches its discovery + JWKS,
     * or is handed the JWKS of an external cluster) */
    if (jwks) {
        cJSON *b = cJSON_CreateObject();
        cJSON_AddStringToObject(b, "issuer", issuer);
        cJSON_AddItemToObject(b, "jwks", cJSON_Duplicate(jwks, true));
        body = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
    } else {
        body = wih_asprintf("{\"issuer\":\"%s\",\"ca_file\":\"%s\"}", issuer, ca);
    }
    purl = wih_asprintf("%s/admin/v1/providers", cl->url);
    long st = cluster_http_auth("PUT", purl, "application/json", body, ca, token, &resp, &err);
    if (st < 200 || st >= 300) {
        if (!err) err = wih_err_http(st, resp, "registering the cluster issuer %s with the mock cloud", issuer);
        goto out;
    }
    cJSON *cj = cJSON_AddObjectToObject(state, "cloud");
    cJSON_AddStringToObject(cj, "url", cl->url);
    cJSON_AddStringToObject(cj, "admin_token_file", tokf);
    cJSON_AddStringToObject(cj, "ca_file", ca);
    cJSON_AddStringToObject(cj, "decision_log", dlog);
    cJSON_AddStringToObject(cj, "issuer_registered", issuer);
    cJSON *mj = cJSON_AddObjectToObject(state, "minio");
    cJSON_AddStringToObject(mj, "url", minio_endpoint(*mo));
out:
    if (err) {
        minio_stop(*mo);
        *mo = NULL;
        cluster_svc_stop(cl);
    }
    OPENSSL_cleanse(token, strlen(token));
    OPENSSL_cleanse(pass, strlen(pass));
    OPENSSL_cleanse(rootj, strlen(rootj));
    free(token);
    free(user);
    free(pass);
    free(rootj);
    free(tokf);
    free(rootf);
    free(cdir);
    free(ports);
    free(mep);
    free(crt);
    free(key);
    free(ready);
    free(dlog);
    free(skey);
    free(reg);
    free(ca);
    free(cfgurl);
    free(body);
    free(resp);
    free(purl);
    return err ? wih_err_wrap(err, "starting the mock cloud and MinIO") : NULL;
}


wih_err *lc_start_cloud(lchain *c)
{
    cluster_svc cl;
    minio *mo = NULL;
    wih_err *err = start_cloud(c->o, c->dir, c->pki, c->issuer ? c->issuer : c->api_url, c->jwks, c->cport,
                               c->timeout, &cl, &mo, c->state, c->addr);
    if (err) return err;
    pid_t mpid = minio_pid(mo);
    char *murl = wih_strdup(minio_endpoint(mo)), *mlog = wih_strdup(minio_log_path(mo));
    int mport = minio_port(mo);
    char *h = wih_asprintf("%s/.well-known/openid-configuration", cl.url);
    err = lc_record(c, "cloud", &cl, h);
    free(h);
    /* MinIO is recorded right away too: from here on only its PID stops it */
    minio_detach(mo);
    h = wih_asprintf("%s/minio/health/live", murl);
    wih_err *e2 = lc_record_pid(c, "minio", mpid, mport, murl, mlog, h);
    free(h);
    free(murl);
    free(mlog);
    if (!err) err = e2;
    else wih_err_free(e2);
    if (!err)
        lc_progress(c->o, "mock cloud and MinIO up, cluster issuer registered (%lld ms)", (long long)(wih_now_ms() - c->t0));
    return err;
}

/* ----------------------------------------------------------------- the node */
wih_err *lc_start_containerd(lchain *c)
{
    wih_err *err = NULL;
    lc_progress(c->o, "node %s: bridge %s (%s), images", c->plan.name, c->plan.bridge, c->plan.subnet);
    if ((err = node_bridge_create(&c->plan))) return err;
    char *images = wih_path_join(c->plan.dir, "images");
    wih_mkdir_p(images, 0700);
    char *pt = wih_path_join(images, "pause.tar"), *pr = wih_path_join(images, "probe.tar");
    char *ca = wih_path_join(c->pki, "ca.crt");
    char self[4096];
    const char *bin = c->o->wiharness_bin;
    if (!bin) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = '\0';
        bin = self;
    }
    cJSON *node = cJSON_GetObjectItem(c->state, "node");
    char *cache = node_image_cache_dir();
    bool hit = false;
    if (!(err = node_image_pause(pt, &c->pause_ref)) &&
        !(err = node_image_probe_cached(bin, ca, cache, pr, &c->probe_ref, &hit))) {
        lc_progress(c->o, "probe image %s (%s)", c->probe_ref, hit ? "unchanged: from the image cache" : "built");
        cJSON_AddStringToObject(node, "pause_image", c->pause_ref);
        cJSON_AddStringToObject(node, "probe_image", c->probe_ref);
        lc_write_state(c);
        lc_progress(c->o, "starting containerd (sandbox image %s)", c->pause_ref);
        wih_proc *p = NULL;
        if (!(err = node_containerd_start(&c->plan, c->pause_ref, c->timeout, &p))) {
            char *sock = wih_path_join(c->plan.dir, "containerd/containerd.sock");
            err = lc_record_pid(c, "containerd", wih_proc_pid(p), 0, sock, wih_proc_log_path(p), NULL);
            cJSON_AddStringToObject(cJSON_GetObjectItem(cJSON_GetObjectItem(c->state, "components"), "containerd"),
                                    "socket", sock);
            lc_write_state(c);
            free(sock);
            wih_proc_detach(p);
            wih_proc_free(p);
        }
        if (!err) err = node_image_import(&c->plan, pt);
        if (!err) err = node_image_import(&c->plan, pr);
        if (!err) lc_progress(c->o, "images imported: %s, %s (%lld ms)", c->pause_ref, c->probe_ref, (long long)(wih_now_ms() - c->t0));
    }
    free(cache);
    free(images);
    free(pt);
    free(pr);
    free(ca);
    return err;
}

wih_err *lc_start_kubelet(lchain *c)
{
    lc_progress(c->o, "starting the kubelet (node %s, IP %s)", c->plan.name, c->plan.gateway);
    wih_proc *p = NULL;
    wih_err *err = node_kubelet_start(&c->plan, c->pki, c->api_url, c->timeout, &p);
    if (err) return err;
    err = lc_record_pid(c, "kubelet", wih_proc_pid(p), 0, NULL, wih_proc_log_path(p), NULL);
    wih_proc_detach(p);
    wih_proc_free(p);
    if (err) return err;
    if ((err = node_wait_ready(&c->plan, c->pki, c->api_url, c->timeout))) return err;
    lc_progress(c->o, "node %s Ready (%lld ms)", c->plan.name, (long long)(wih_now_ms() - c->t0));
    return NULL;
}

wih_err *lc_start_relay(lchain *c)
{
    cJSON *comps = cJSON_GetObjectItem(c->state, "components");
    int cport = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(comps, "cloud"), "port"));
    int mport = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(comps, "minio"), "port"));
    /* with a serve address the API server dials the webhook there too */
    int wport = c->o->serve_address
                    ? (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(comps, "webhook"), "port"))
                    : 0;
    char *cs = wih_asprintf("%d", cport), *ms = wih_asprintf("%d", mport), *ws = wih_asprintf("%d", wport);
    char *ready = wih_path_join(c->dir, "relay.ready");
    unlink(ready);
    char *args[] = {NULL, "--no-color", "node", "relay", "--ip", (char *)c->addr, "--port", cs, "--port", ms,
                    "--ready-file", ready, wport ? "--port" : NULL, ws, NULL};
    cluster_svc s;
    lc_progress(c->o, "relaying %s:%d and :%d (pods) to the mock cloud and MinIO%s", c->addr, cport, mport,
                wport ? ", and the webhook's port" : "");
    wih_err *err = spawn_self(c->o, c->dir, "relay", args, cport, c->timeout, &s);
    if (!err) {
        free(s.url);
        s.url = wih_asprintf("https://%s:%d", c->addr, cport);
        err = lc_record(c, "relay", &s, NULL);
    }
    if (!err) {
        cJSON *pu = cJSON_AddObjectToObject(c->state, "pod_urls");
        char *u = wih_asprintf("https://%s:%d", c->addr, cport);
        cJSON_AddStringToObject(pu, "cloud", u);
        free(u);
        /* MinIO's own scheme (it serves plain HTTP on loopback) */
        const char *murl = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(comps, "minio"), "url"));
        u = wih_asprintf("%s://%s:%d", murl && !strncmp(murl, "https", 5) ? "https" : "http", c->addr, mport);
        cJSON_AddStringToObject(pu, "minio", u);
        free(u);
        lc_write_state(c);
    }
    free(cs);
    free(ms);
    free(ws);
    free(ready);
    return err;
}

/* ------------------------------------------------------------- stop hooks */
/* Delete every pod through the API (dropping finalizers) and wait (≤ 15 s)
 * until the kubelet has stopped them: that runs the CNI DEL and removes each
 * sandbox's netns. */
void lc_drain_pods(const char *dir, const cJSON *state, const cluster_local_opts *o)
{
    const char *kcp = cJSON_GetStringValue(cJSON_GetObjectItem(state, "kubeconfig"));
    if (!kcp) return;
    wih_err *err = NULL;
    kube_client *kc = admin_client(kcp, &err);
    cJSON *list = kc ? kube_list(kc, "v1", "Pod", NULL, NULL, &err) : NULL;
    int n = 0;
    for (cJSON *it = list ? cJSON_GetObjectItem(list, "items")->child : NULL; it; it = it->next) {
        cJSON *md = cJSON_GetObjectItem(it, "metadata");
        kube_ref r = {"v1", "Pod", cJSON_GetStringValue(cJSON_GetObjectItem(md, "namespace")),
                      cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"))};
        /* a finished pod holds no process: gone at once (the kubelet still
         * removes its sandbox on the watch event); a running one gets 1 s */
        const char *ph = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "status"), "phase"));
        bool done = ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
        wih_err *e = NULL;
        /* a finalizer nobody here serves (OSMO's osmo.nvidia.com/cleanup) would
         * keep the pod forever: the chain is going, drop them */
        if (cJSON_GetArraySize(cJSON_GetObjectItem(md, "finalizers"))) {
            char *path = wih_asprintf("/api/v1/namespaces/%s/pods/%s", r.ns, r.name);
            cJSON *patch = cJSON_Parse("{\"metadata\":{\"finalizers\":null}}");
            cJSON_Delete(kube_request(kc, "PATCH", path, "application/merge-patch+json", patch, NULL, &e));
            wih_err_free(e);
            e = NULL;
            cJSON_Delete(patch);
            free(path);
        }
        if (kube_delete(kc, &r, done ? 0 : 1, 0, &e) == 0) n++;
        wih_err_free(e);
    }
    cJSON_Delete(list);
    if (n) lc_progress(o, "deleting %d pod(s) through the API", n);
    int64_t end = wih_now_ms() + 15000;
    while (n && kc && wih_now_ms() < end) {
        wih_err *e = NULL;
        cJSON *l = kube_list(kc, "v1", "Pod", NULL, NULL, &e);
        int left = l ? cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")) : 0;
        cJSON_Delete(l);
        wih_err_free(e);
        if (!left) break;
        wih_sleep_ms(200);
    }
    wih_err_free(err);
    kube_client_free(kc);
    (void)dir;
}

wih_err *lc_node_teardown(const cJSON *state, const cluster_local_opts *o)
{
    node_plan p;
    if (node_plan_from_json(cJSON_GetObjectItem(state, "node"), &p) != 0) return NULL;
    cJSON *recs = node_records(&p);
    wih_err *err = node_teardown(&p, recs, o->progress);
    cJSON_Delete(recs);
    /* its data (containerd's content, IPAM leases, images) goes too, but never
     * across a mount that is still there (node_teardown said so) */
    if (!err) wih_rm_rf(p.dir);
    node_plan_free(&p);
    return err;
}
