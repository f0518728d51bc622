/* Starting the real etcd, kube-apiserver and MinIO on loopback through the
 * core supervisor, and the smoke check that ci/demo runs. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cluster.h"
#include "wiharness/http.h"

/* Thin wrappers over the one HTTP client (http.h), kept for their callers. */
static long http_do(const char *method, const char *url, const char *content_type, const char *body,
                    const char *cafile, const char *cert, const char *key, const char *bearer, char **resp,
                    wih_err **err)
{
    static const char *const accept[] = {"Accept: application/json, */*", NULL};
    wih_http_req rq = {.method = method, .url = url, .headers = accept, .bearer = bearer,
                       .content_type = content_type, .body = body, .body_len = body ? strlen(body) : 0,
                       .ca_file = cafile, .cert_file = cert, .key_file = key, .timeout_ms = 10000,
                       .connect_timeout_ms = 2000, .max_body = (size_t)4 << 20};
    return wih_http_fetch(NULL, &rq, resp, err);
}

long cluster_http(const char *method, const char *url, const char *content_type, const char *body,
                  const char *cafile, const char *cert, const char *key, char **resp, wih_err **err)
{
    return http_do(method, url, content_type, body, cafile, cert, key, NULL, resp, err);
}

long cluster_http_auth(const char *method, const char *url, const char *content_type, const char *body,
                       const char *cafile, const char *bearer, char **resp, wih_err **err)
{
    return http_do(method, url, content_type, body, cafile, NULL, NULL, bearer, resp, err);
}

long cluster_http_get(const char *url, const char *cafile, const char *cert, const char *key, char **body,
                      wih_err **err)
{
    return cluster_http("GET", url, NULL, NULL, cafile, cert, key, body, err);
}

void cluster_svc_stop(cluster_svc *s)
{
    if (!s) return;
    if (s->proc) {
        wih_proc_stop(s->proc, 10000);
        wih_proc_free(s->proc);
    }
    free(s->url);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ etcd */
typedef struct {
    const char *url, *cafile, *cert, *key;
    const char *expect; /* substring the body must contain, or NULL */
} probe;

static int probe_ready(void *ctx, wih_err **err)
{
    probe *p = ctx;
    char *body = NULL;
    wih_err *e = NULL;
    long st = cluster_http_get(p->url, p->cafile, p->cert, p->key, &body, &e);
    int r = st == 200 && (!p->expect || (body && strstr(body, p->expect))) ? 1 : 0;
    if (!r && e) *err = e;
    else wih_err_free(e);
    free(body);
    return r;
}

wih_err *cluster_etcd_start(const char *dir, cluster_svc *out, int64_t timeout_ms, unsigned flags)
{
    memset(out, 0, sizeof *out);
    wih_err *err = NULL;
    char *bin = wih_tool_path(WIH_TOOL_ETCD, &err);
    if (!bin) return err;
    int cport = wih_free_port(&err), pport = cport > 0 ? wih_free_port(&err) : -1;
    if (pport < 0) {
        free(bin);
        return err;
    }
    char *data = wih_path_join(dir, "etcd"), *logs = wih_path_join(dir, "logs");
    char *curl_ = wih_asprintf("http://127.0.0.1:%d", cport), *purl = wih_asprintf("http://127.0.0.1:%d", pport);
    char *a_data = wih_asprintf("--data-dir=%s", data);
    char *a_lc = wih_asprintf("--listen-client-urls=%s", curl_), *a_ac = wih_asprintf("--advertise-client-urls=%s", curl_);
    char *a_lp = wih_asprintf("--listen-peer-urls=%s", purl), *a_ap = wih_asprintf("--initial-advertise-peer-urls=%s", purl);
    char *a_ic = wih_asprintf("--initial-cluster=wiharness=%s", purl);
    char *argv[] = {bin, "--name=wiharness", a_data, a_lc, a_ac, a_lp, a_ap, a_ic, "--unsafe-no-fsync",
                    "--log-level=warn", NULL};
    wih_proc_opts o = {.name = "etcd", .argv = argv, .log_dir = logs, .die_with_parent = !(flags & CLUSTER_PERSIST)};
    out->proc = wih_proc_spawn(&o, &err);
    if (out->proc) {
        out->port = cport;
        out->port2 = pport;
        out->url = wih_strdup(curl_);
        char *health = wih_asprintf("%s/health", curl_);
        probe p = {.url = health, .expect = "\"health\":\"true\""};
        err = wih_proc_wait_ready(out->proc, probe_ready, &p, timeout_ms);
        free(health);
        if (err) cluster_svc_stop(out);
    }
    free(bin);
    free(data);
    free(logs);
    free(curl_);
    free(purl);
    free(a_data);
    free(a_lc);
    free(a_ac);
    free(a_lp);
    free(a_ap);
    free(a_ic);
    return err ? wih_err_wrap(err, "starting etcd") : NULL;
}

/* -------------------------------------------------------- kube-apiserver */
wih_err *cluster_apiserver_start(const char *dir, const char *pki, const cluster_svc *etcd, cluster_svc *out,
                                 int64_t timeout_ms, unsigned flags)
{
    memset(out, 0, sizeof *out);
    wih_err *err = NULL;
    char *bin = wih_tool_path(WIH_TOOL_KUBE_APISERVER, &err);
    if (!bin) return err;
    int port = wih_free_port(&err);
    if (port < 0) {
        free(bin);
        return err;
    }
    char *logs = wih_path_join(dir, "logs"), *certdir = wih_path_join(dir, "apiserver-certs");
    wih_mkdir_p(certdir, 0700);
#define P(name) wih_path_join(pki, name)
    char *ca = P("ca.crt"), *crt = P("apiserver.crt"), *key = P("apiserver.key"), *sapub = P("sa.pub"),
         *sakey = P("sa.key"), *admcrt = P("admin.crt"), *admkey = P("admin.key");
#undef P
    char *args[32];
    int n = 0;
    args[n++] = bin;
    args[n++] = wih_asprintf("--etcd-servers=%s", etcd->url);
    args[n++] = wih_asprintf("--secure-port=%d", port);
    args[n++] = wih_strdup("--bind-address=127.0.0.1");
    args[n++] = wih_strdup("--advertise-address=127.0.0.1");
    args[n++] = wih_asprintf("--cert-dir=%s", certdir);
    args[n++] = wih_asprintf("--tls-cert-file=%s", crt);
    args[n++] = wih_asprintf("--tls-private-key-file=%s", key);
    args[n++] = wih_asprintf("--client-ca-file=%s", ca);
    if (flags & CLUSTER_FULL_ADMISSION) {
        /* as on every real cluster: nodes authorized as nodes, the default
         * admission chain (ServiceAccount on) plus NodeRestriction */
        args[n++] = wih_strdup("--authorization-mode=Node,RBAC");
        args[n++] = wih_strdup("--enable-admission-plugins=NodeRestriction");
        args[n++] = wih_asprintf("--kubelet-client-certificate=%s/apiserver-kubelet-client.crt", pki);
        args[n++] = wih_asprintf("--kubelet-client-key=%s/apiserver-kubelet-client.key", pki);
        args[n++] = wih_strdup("--kubelet-preferred-address-types=InternalIP");
    } else
        args[n++] = wih_strdup("--authorization-mode=RBAC");
    args[n++] = wih_strdup("--service-cluster-ip-range=10.0.0.0/24");
    args[n++] = wih_asprintf("--service-account-issuer=https://127.0.0.1:%d", port);
    args[n++] = wih_asprintf("--service-account-key-file=%s", sapub);
    args[n++] = wih_asprintf("--service-account-signing-key-file=%s", sakey);
    if (!(flags & CLUSTER_FULL_ADMISSION)) args[n++] = wih_strdup("--disable-admission-plugins=ServiceAccount");
    args[n++] = wih_strdup("--allow-privileged=true");
    args[n++] = wih_strdup("--etcd-prefix=/registry");
    args[n++] = wih_strdup("--v=1");
    args[n] = NULL;
    wih_proc_opts o = {.name = "kube-apiserver", .argv = args, .log_dir = logs, .die_with_parent = !(flags & CLUSTER_PERSIST)};
    out->proc = wih_proc_spawn(&o, &err);
    if (out->proc) {
        out->port = port;
        out->url = wih_asprintf("https://127.0.0.1:%d", port);
        char *readyz = wih_asprintf("%s/readyz", out->url);
        probe p = {.url = readyz, .cafile = ca, .cert = admcrt, .key = admkey, .expect = "ok"};
        err = wih_proc_wait_ready(out->proc, probe_ready, &p, timeout_ms);
        free(readyz);
        if (err) cluster_svc_stop(out);
    }
    for (int i = 1; i < n; i++) free(args[i]);
    free(bin);
    free(logs);
    free(certdir);
    free(ca);
    free(crt);
    free(key);
    free(sapub);
    free(sakey);
    free(admcrt);
    free(admkey);
    return err ? wih_err_wrap(err, "starting kube-apiserver") : NULL;
}

/* --------------------------------- kube-controller-manager, kube-scheduler */
/* Their own client certificate (CN=system:kube-controller-manager /
 * system:kube-scheduler, which the bootstrap RBAC roles name), a kubeconfig,
 * a serving certificate from our CA on 127.0.0.1, no leader election. */
static wih_err *controller_start(const char *dir, const char *pki, const char *server, const char *name,
                                 wih_tool tool, char **extra, cluster_svc *out, int64_t timeout_ms, unsigned flags)
{
    memset(out, 0, sizeof *out);
    wih_err *err = NULL;
    char *bin = wih_tool_path(tool, &err);
    if (!bin) return err;
    char *cn = wih_asprintf("system:%s", name), *srv = wih_asprintf("%s-serving", name);
    int port = -1;
    if ((err = cluster_pki_issue(pki, name, cn, NULL, false, NULL)) ||
        (err = cluster_pki_issue(pki, srv, name, NULL, true, NULL)) || (port = wih_free_port(&err)) < 0) {
        free(bin);
        free(cn);
        free(srv);
        return wih_err_wrap(err, "starting %s", name);
    }
    char *kcname = wih_asprintf("%s.kubeconfig", name), *kc = wih_path_join(dir, kcname);
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_asprintf("%s/%s.crt", pki, name),
         *key = wih_asprintf("%s/%s.key", pki, name);
    char *args[40];
    int n = 0;
    args[n++] = bin;
    args[n++] = wih_asprintf("--kubeconfig=%s", kc);
    args[n++] = wih_asprintf("--authentication-kubeconfig=%s", kc);
    args[n++] = wih_asprintf("--authorization-kubeconfig=%s", kc);
    args[n++] = wih_strdup("--bind-address=127.0.0.1");
    args[n++] = wih_asprintf("--secure-port=%d", port);
    args[n++] = wih_asprintf("--tls-cert-file=%s/%s.crt", pki, srv);
    args[n++] = wih_asprintf("--tls-private-key-file=%s/%s.key", pki, srv);
    args[n++] = wih_strdup("--leader-elect=false");
    args[n++] = wih_strdup("--v=1");
    for (char **e = extra; e && *e && n < 38; e++) args[n++] = wih_strdup(*e);
    args[n] = NULL;
    char *logs = wih_path_join(dir, "logs");
    if (!(err = cluster_kubeconfig_write(kc, server, ca, crt, key, cn))) {
        wih_proc_opts o = {.name = name, .argv = args, .log_dir = logs, .die_with_parent = !(flags & CLUSTER_PERSIST)};
        out->proc = wih_proc_spawn(&o, &err);
    }
    if (out->proc) {
        out->port = port;
        out->url = wih_asprintf("https://127.0.0.1:%d", port);
        char *hz = wih_asprintf("%s/healthz", out->url);
        probe p = {.url = hz, .cafile = ca, .expect = "ok"};
        err = wih_proc_wait_ready(out->proc, probe_ready, &p, timeout_ms);
        free(hz);
        if (err) cluster_svc_stop(out);
    }
    for (int i = 1; i < n; i++) free(args[i]);
    free(bin);
    free(cn);
    free(srv);
    free(kcname);
    free(kc);
    free(ca);
    free(crt);
    free(key);
    free(logs);
    return err ? wih_err_wrap(err, "starting %s", name) : NULL;
}

wih_err *cluster_controller_manager_start(const char *dir, const char *pki, const char *server, cluster_svc *out,
                                          int64_t timeout_ms, unsigned flags)
{
    char *sa = wih_asprintf("--service-account-private-key-file=%s/sa.key", pki);
    char *root = wih_asprintf("--root-ca-file=%s/ca.crt", pki);
    char *ccrt = wih_asprintf("--cluster-signing-cert-file=%s/ca.crt", pki);
    char *ckey = wih_asprintf("--cluster-signing-key-file=%s/ca.key", pki);
    char *extra[] = {sa, root, ccrt, ckey, "--use-service-account-credentials=true",
                     "--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route",
                     "--allocate-node-cidrs=false", "--concurrent-namespace-syncs=5", NULL};
    wih_err *err = controller_start(dir, pki, server, "kube-controller-manager", WIH_TOOL_KUBE_CONTROLLER_MANAGER,
                                    extra, out, timeout_ms, flags);
    free(sa);
    free(root);
    free(ccrt);
    free(ckey);
    return err;
}

wih_err *cluster_scheduler_start(const char *dir, const char *pki, const char *server, cluster_svc *out,
                                 int64_t timeout_ms, unsigned flags)
{
    return controller_start(dir, pki, server, "kube-scheduler", WIH_TOOL_KUBE_SCHEDULER, NULL, out, timeout_ms, flags);
}

/* ------------------------------------------------------------------ MinIO */
wih_err *cluster_minio_start(const char *dir, cluster_svc *out, int64_t timeout_ms, unsigned flags)
{
    memset(out, 0, sizeof *out);
    wih_err *err = NULL;
    char *bin = wih_tool_path(WIH_TOOL_MINIO, &err);
    if (!bin) return err;
    int port = wih_free_port(&err), cport = port > 0 ? wih_free_port(&err) : -1;
    if (cport < 0) {
        free(bin);
        return err;
    }
    char *data = wih_path_join(dir, "minio"), *logs = wih_path_join(dir, "logs");
    wih_mkdir_p(data, 0700);
    char *addr = wih_asprintf("127.0.0.1:%d", port), *caddr = wih_asprintf("127.0.0.1:%d", cport);
    char *user = wih_random_hex(8), *pass = wih_random_hex(20);
    char *e_user = wih_asprintf("MINIO_ROOT_USER=%s", user), *e_pass = wih_asprintf("MINIO_ROOT_PASSWORD=%s", pass);
    char *env[] = {e_user, e_pass, "MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1", NULL};
    char *argv[] = {bin, "server", "--quiet", "--address", addr, "--console-address", caddr, data, NULL};
    wih_proc_opts o = {.name = "minio", .argv = argv, .env_add = env, .log_dir = logs, .die_with_parent = !(flags & CLUSTER_PERSIST)};
    out->proc = wih_proc_spawn(&o, &err);
    if (out->proc) {
        out->port = port;
        out->port2 = cport;
        out->url = wih_asprintf("http://%s", addr);
        char *live = wih_asprintf("%s/minio/health/live", out->url);
        probe p = {.url = live};
        err = wih_proc_wait_ready(out->proc, probe_ready, &p, timeout_ms);
        free(live);
        if (err) cluster_svc_stop(out);
    }
    free(bin);
    free(data);
    free(logs);
    free(addr);
    free(caddr);
    free(user);
    free(pass);
    free(e_user);
    free(e_pass);
    return err ? wih_err_wrap(err, "starting MinIO") : NULL;
}

/* ------------------------------------------------------------------ smoke */
/* One row: the health endpoint asked again now, with the status it really
 * answered (not 200 is an error). pki: the admin client certificate for the
 * apiserver, or NULL. */
static void line(FILE *out, const char *name, const wih_tool_info *ti, const char *base, const char *path,
                 const char *pki, int64_t ms, wih_err **err)
{
    char *url = wih_asprintf("%s%s", base, path);
    char *ca = pki ? wih_path_join(pki, "ca.crt") : NULL, *crt = pki ? wih_path_join(pki, "admin.crt") : NULL;
    char *key = pki ? wih_path_join(pki, "admin.key") : NULL;
    long st = cluster_http_get(url, ca, crt, key, NULL, err);
    char *health = wih_asprintf("GET %s %ld", url, st);
    fprintf(out, "  %-15s %-26s %-34s %5lld ms  %s\n", name, ti->version ? ti->version : "?", health,
            (long long)ms, ti->path ? ti->path : "");
    if (!*err && st != 200) *err = wih_err_http(st, NULL, "%s: GET %s answered %ld", name, url, st);
    free(health);
    free(url);
    free(ca);
    free(crt);
    free(key);
}

static wih_err *check_gone(const cluster_svc *s, pid_t pid, int port, int port2, const char *name)
{
    if (wih_pid_alive(pid)) return wih_err_new(WIH_EXIT_INFRA, "%s (pid %d) is still alive after stop", name, (int)pid);
    if (wih_port_listening(port) || (port2 && wih_port_listening(port2)))
        return wih_err_new(WIH_EXIT_INFRA, "a port of %s is still listening after stop", name);
    (void)s;
    return NULL;
}

wih_err *cluster_smoke(FILE *out)
{
    wih_err *err = NULL;
    char *dir = wih_tmpdir("wiharness-smoke", false, &err);
    if (!dir) return err;
    char *pki = wih_path_join(dir, "pki");
    wih_tool_info ti[WIH_TOOL_COUNT];
    for (int t = 0; t < WIH_TOOL_COUNT; t++) wih_tool_find((wih_tool)t, true, &ti[t]);
    fprintf(out, "smoke: each real program started by wiharness's supervisor on loopback, checked, stopped\n");
    fprintf(out, "  %-15s %-26s %-34s %8s  %s\n", "program", "version", "health", "start", "path");
    cluster_svc etcd = {0}, api = {0}, minio = {0};
    int64_t t0 = wih_now_ms();
    if ((err = cluster_pki_create(pki, false))) goto out;
    t0 = wih_now_ms();
    if ((err = cluster_etcd_start(dir, &etcd, 30000, 0))) goto out;
    line(out, "etcd", &ti[WIH_TOOL_ETCD], etcd.url, "/health", NULL, wih_now_ms() - t0, &err);
    if (err) goto out;
    t0 = wih_now_ms();
    if ((err = cluster_apiserver_start(dir, pki, &etcd, &api, 60000, 0))) goto out;
    line(out, "kube-apiserver", &ti[WIH_TOOL_KUBE_APISERVER], api.url, "/readyz", pki, wih_now_ms() - t0, &err);
    if (err) goto out;
    t0 = wih_now_ms();
    if ((err = cluster_minio_start(dir, &minio, 30000, 0))) goto out;
    line(out, "minio", &ti[WIH_TOOL_MINIO], minio.url, "/minio/health/live", NULL, wih_now_ms() - t0, &err);
out:;
    cluster_svc *all[] = {&minio, &api, &etcd};
    const char *names[] = {"minio", "kube-apiserver", "etcd"};
    for (int i = 0; i < 3; i++) {
        if (!all[i]->proc) continue;
        pid_t pid = wih_proc_pid(all[i]->proc);
        int p1 = all[i]->port, p2 = all[i]->port2;
        cluster_svc_stop(all[i]);
        wih_err *g = check_gone(all[i], pid, p1, p2, names[i]);
        if (g && !err)
            err = g;
        else
            wih_err_free(g);
    }
    if (!err) fprintf(out, "  all stopped: no process left alive, no port left listening\n");
    for (int t = 0; t < WIH_TOOL_COUNT; t++) wih_tool_info_free(&ti[t]);
    free(pki);
    wih_rm_rf(dir); /* pops its cleanup entry */
    free(dir);
    return err;
}
