/* Starting the node's parts: the bridge, containerd, the image imports, the
 * kubelet, and waiting for the Node to be Ready. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/cluster.h"
#include "wiharness/node.h"
#include "wiharness/jsonpath.h"

/* containerd's shims, runc and the kubelet's mount helpers are found on PATH */
static char *const k_env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};

static wih_err *run(char *const *argv, int64_t timeout_ms, char **out)
{
    char *o = NULL, *e = NULL;
    wih_err *err = NULL;
    int rc = wih_run_capture(argv, k_env, NULL, timeout_ms, &o, &e, &err);
    if (rc != 0 && !err) {
        char *msg = e && *e ? e : o ? o : "";
        size_t n = strlen(msg);
        while (n && msg[n - 1] == '\n') msg[--n] = '\0';
        err = wih_err_new(WIH_EXIT_INFRA, "%s %s exited %d: %s", argv[0], argv[1] ? argv[1] : "", rc, msg);
    }
    if (out && !err)
        *out = o;
    else
        free(o);
    free(e);
    return err;
}

static char *sys_path(const char *name)
{
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
    for (const char *const *d = dirs; *d; d++) {
        char *p = wih_path_join(*d, name);
        if (access(p, X_OK) == 0) return p;
        free(p);
    }
    return wih_strdup(name);
}

wih_err *node_bridge_create(const node_plan *p)
{
    char *ip = sys_path("ip");
    char *sys = wih_asprintf("/sys/class/net/%s", p->bridge);
    char *cidr = wih_asprintf("%s/24", p->gateway);
    wih_err *err = NULL;
    if (access(sys, F_OK) != 0) {
        /* A fixed (locally administered) address: without one a Linux bridge
         * takes the lowest MAC of its ports, which changes as pods come and go,
         * and a long-lived pod's ARP entry for the gateway (an in-cluster
         * runner's connections to the relay) then points at a MAC that is gone:
         * its packets are dropped until the entry expires. */
        size_t bl = strlen(p->bridge);
        const char *h = bl >= 6 ? p->bridge + bl - 6 : "000000";
        char mac[32];
        snprintf(mac, sizeof mac, "02:77:69:%.2s:%.2s:%.2s", h, h + 2, h + 4);
        bool hex = strspn(h, "0123456789abcdef") == 6;
        char *a[] = {ip, "link", "add", "name", p->bridge, "address", hex ? mac : "02:77:69:00:00:01", "type", "bridge",
                     NULL};
        err = run(a, 10000, NULL);
    }
    if (!err) {
        char *a[] = {ip, "addr", "replace", cidr, "dev", p->bridge, NULL};
        err = run(a, 10000, NULL);
    }
    if (!err) {
        char *a[] = {ip, "link", "set", p->bridge, "up", NULL};
        err = run(a, 10000, NULL);
    }
    free(ip);
    free(sys);
    free(cidr);
    return err ? wih_err_wrap(err, "creating the bridge %s (%s)", p->bridge, p->subnet) : NULL;
}

static char *node_path(const node_plan *p, const char *rel)
{
    return wih_path_join(p->dir, rel);
}

static char *ctr_path(void)
{
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_CONTAINERD, false, &ti);
    char *r = NULL;
    if (ti.path) {
        char *slash = strrchr(ti.path, '/');
        if (slash) {
            *slash = '\0';
            r = wih_path_join(ti.path, "ctr");
        }
    }
    wih_tool_info_free(&ti);
    return r ? r : sys_path("ctr");
}

typedef struct {
    const node_plan *p;
} ctr_ctx;

static int containerd_ready(void *vctx, wih_err **err)
{
    ctr_ctx *c = vctx;
    char *sock = node_path(c->p, "containerd/containerd.sock"), *ctr = ctr_path();
    char *a[] = {ctr, "--address", sock, "version", NULL};
    wih_err *e = NULL;
    int ok = access(sock, F_OK) == 0 && !(e = run(a, 5000, NULL));
    if (e) {
        wih_err_free(*err);
        *err = e;
    }
    free(sock);
    free(ctr);
    return ok ? 1 : 0;
}

wih_err *node_containerd_start(const node_plan *p, const char *sandbox_image, int64_t timeout_ms, wih_proc **out)
{
    *out = NULL;
    wih_err *err = NULL;
    char *bin = wih_tool_path(WIH_TOOL_CONTAINERD, &err);
    if (!bin) return err;
    static const char *const dirs[] = {"containerd/root", "containerd/state", "containerd/opt", "runc", "cni/net.d",
                                       "cni/ipam", "pod-logs", "images", NULL};
    for (const char *const *d = dirs; *d; d++) {
        char *x = node_path(p, *d);
        wih_mkdir_p(x, 0700);
        free(x);
    }
    char *cfg = node_containerd_config(p, sandbox_image), *cfgf = node_path(p, "containerd/config.toml");
    char *cni = node_cni_conflist(p), *cnif = node_path(p, "cni/net.d/10-wiharness.conflist");
    char *logs = wih_path_join(p->dir, "../logs");
    if (wih_write_file(cfgf, cfg, strlen(cfg), 0600, &err) == 0 && wih_write_file(cnif, cni, strlen(cni), 0600, &err) == 0) {
        char *argv[] = {bin, "--config", cfgf, NULL};
        wih_proc_opts o = {.name = "containerd", .argv = argv, .env_add = k_env, .log_dir = logs};
        *out = wih_proc_spawn(&o, &err);
        if (*out) {
            ctr_ctx c = {p};
            err = wih_proc_wait_ready(*out, containerd_ready, &c, timeout_ms);
            if (err) {
                wih_proc_stop(*out, 5000);
                wih_proc_free(*out);
                *out = NULL;
            }
        }
    }
    free(bin);
    free(cfg);
    free(cfgf);
    free(cni);
    free(cnif);
    free(logs);
    return err ? wih_err_wrap(err, "starting containerd") : NULL;
}

wih_err *node_image_import(const node_plan *p, const char *tar_path)
{
    char *sock = node_path(p, "containerd/containerd.sock"), *ctr = ctr_path();
    char *a[] = {ctr, "--address", sock, "--namespace", "k8s.io", "images", "import", "--snapshotter", "overlayfs",
                 (char *)tar_path, NULL};
    wih_err *err = run(a, 120000, NULL);
    free(sock);
    free(ctr);
    return err ? wih_err_wrap(err, "importing %s into containerd", tar_path) : NULL;
}

/* ----------------------------------------------------------------- kubelet */
typedef struct {
    char *url;
} hz_ctx;

static int kubelet_ready(void *vctx, wih_err **err)
{
    hz_ctx *c = vctx;
    wih_err *e = NULL;
    long st = cluster_http_get(c->url, NULL, NULL, NULL, NULL, &e);
    if (e) {
        wih_err_free(*err);
        *err = e;
    }
    return st == 200 ? 1 : 0;
}

static wih_err *kubelet_files(const node_plan *p, const char *pki, const char *server, int port, int hport)
{
    wih_err *err = NULL;
    char *crt = wih_asprintf("kubelet-%s", p->name), *srv = wih_asprintf("kubelet-serving-%s", p->name);
    char *cn = wih_asprintf("system:node:%s", p->name), *ipsan = wih_asprintf("IP:%s", p->gateway);
    const char *const sans[] = {ipsan, p->name, NULL};
    if (!(err = cluster_pki_issue(pki, crt, cn, "system:nodes", false, NULL)) &&
        !(err = cluster_pki_issue(pki, srv, p->name, NULL, true, sans))) {
        char *ca = wih_path_join(pki, "ca.crt");
        char *cc = wih_asprintf("%s/%s.crt", pki, crt), *ck = wih_asprintf("%s/%s.key", pki, crt);
        char *sc = wih_asprintf("%s/%s.crt", pki, srv), *sk = wih_asprintf("%s/%s.key", pki, srv);
        char *kc = node_path(p, "kubelet.kubeconfig"), *cfgf = node_path(p, "kubelet-config.yaml");
        char *cfg = node_kubelet_config(p, ca, sc, sk, port, hport);
        if (!(err = cluster_kubeconfig_write(kc, server, ca, cc, ck, cn)))
            wih_write_file(cfgf, cfg, strlen(cfg), 0600, &err);
        free(ca);
        free(cc);
        free(ck);
        free(sc);
        free(sk);
        free(kc);
        free(cfgf);
        free(cfg);
    }
    free(crt);
    free(srv);
    free(cn);
    free(ipsan);
    return err;
}

wih_err *node_kubelet_start(const node_plan *p, const char *pki, const char *server, int64_t timeout_ms,
                            wih_proc **out)
{
    *out = NULL;
    wih_err *err = NULL;
    char *bin = wih_tool_path(WIH_TOOL_KUBELET, &err);
    if (!bin) return err;
    int port = wih_free_port(&err), hport = port > 0 ? wih_free_port(&err) : -1;
    if (hport < 0 || (err = kubelet_files(p, pki, server, port, hport))) {
        free(bin);
        return wih_err_wrap(err, "starting the kubelet");
    }
    char *root = node_path(p, "kubelet"), *certs = node_path(p, "kubelet/pki");
    wih_mkdir_p(certs, 0700);
    char *a_cfg = wih_asprintf("--config=%s/kubelet-config.yaml", p->dir);
    char *a_kc = wih_asprintf("--kubeconfig=%s/kubelet.kubeconfig", p->dir);
    char *a_root = wih_asprintf("--root-dir=%s", root), *a_cert = wih_asprintf("--cert-dir=%s", certs);
    char *a_ip = wih_asprintf("--node-ip=%s", p->gateway), *a_host = wih_asprintf("--hostname-override=%s", p->name);
    char *logs = wih_path_join(p->dir, "../logs");
    char *argv[] = {bin, a_cfg, a_kc, a_root, a_cert, a_ip, a_host, "--v=1", NULL};
    wih_proc_opts o = {.name = "kubelet", .argv = argv, .env_add = k_env, .log_dir = logs};
    *out = wih_proc_spawn(&o, &err);
    if (*out) {
        hz_ctx c = {wih_asprintf("http://127.0.0.1:%d/healthz", hport)};
        err = wih_proc_wait_ready(*out, kubelet_ready, &c, timeout_ms);
        free(c.url);
        if (err) {
            wih_proc_stop(*out, 5000);
            wih_proc_free(*out);
            *out = NULL;
        }
    }
    free(bin);
    free(root);
    free(certs);
    free(a_cfg);
    free(a_kc);
    free(a_root);
    free(a_cert);
    free(a_ip);
    free(a_host);
    free(logs);
    return err ? wih_err_wrap(err, "starting the kubelet") : NULL;
}

static bool node_is_ready(const char *body)
{
    cJSON *n = cJSON_Parse(body);
    bool ready = false;
    cJSON *conds = cJSON_GetObjectItem(cJSON_GetObjectItem(n, "status"), "conditions");
    for (cJSON *c = conds ? conds->child : NULL; c; c = c->next)
        if (!strcmp(wih_json_member_str_or(c, "type", ""), "Ready"))
            ready = !strcmp(wih_json_member_str_or(c, "status", ""), "True");
    cJSON_Delete(n);
    return ready;
}

wih_err *node_wait_ready(const node_plan *p, const char *pki, const char *server, int64_t timeout_ms)
{
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "admin.crt"), *key = wih_path_join(pki, "admin.key");
    char *url = wih_asprintf("%s/api/v1/nodes/%s", server, p->name);
    int64_t end = wih_now_ms() + timeout_ms;
    wih_err *err = NULL;
    long st = -1;
    bool ready = false;
    while (!ready && wih_now_ms() < end && !wih_interrupted()) {
        char *body = NULL;
        wih_err_free(err);
        err = NULL;
        st = cluster_http_get(url, ca, crt, key, &body, &err);
        ready = st == 200 && body && node_is_ready(body);
        free(body);
        if (!ready) wih_sleep_ms(100);
    }
    wih_err *out = NULL;
    if (!ready)
        out = wih_err_new(wih_interrupted() ? WIH_EXIT_INTERRUPTED : WIH_EXIT_INFRA,
                          "node %s not Ready within %lld ms (last GET: %ld%s%s)", p->name, (long long)timeout_ms, st,
                          err ? ", " : "", err ? wih_err_str(err) : "");
    wih_err_free(err);
    free(ca);
    free(crt);
    free(key);
    free(url);
    return out;
}
