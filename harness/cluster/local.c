/* The local backend: etcd + kube-apiserver on loopback that outlive `wiharness
 * up`, recorded in a state dir so `status`, `env` and `down` find them again. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "wiharness/cloud.h"
#include "wiharness/cluster.h"
#include "wiharness/storage.h"
#include "wiharness/yamljson.h"

char *cluster_local_default_dir(void)
{
    return wih_state_dir_default("local");
}

static void progress(const cluster_local_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(const cluster_local_opts *o, const char *fmt, ...)
{
    if (!o->progress) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->progress, fmt, ap);
    va_end(ap);
    fputc('\n', o->progress);
    fflush(o->progress);
}

/* An exclusive lock on <dir>/lock for the duration of up/down. */
static int lock_dir(const char *dir, wih_err **err)
{
    if (wih_mkdir_p(dir, 0700) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "creating state dir %s: %s", dir, strerror(errno));
        return -1;
    }
    char *p = wih_path_join(dir, "lock");
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(p);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (fd >= 0 && errno == EWOULDBLOCK) {
            /* another up/down holds it: wait for it, but not forever */
            int64_t end = wih_now_ms() + 120000;
            while (wih_now_ms() < end && !wih_interrupted()) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
                wih_sleep_ms(100);
            }
        }
        *err = wih_err_new(WIH_EXIT_INFRA, "state dir %s is locked by another wiharness", dir);
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

cJSON *cluster_local_state(const char *dir, wih_err **err)
{
    char *p = wih_path_join(dir, "state.json");
    char *text = wih_read_file(p, 1 << 20, NULL, NULL);
    if (!text) {
        *err = wih_err_new(WIH_EXIT_INFRA, "no local chain in %s (run 'wiharness up' first)", dir);
        free(p);
        return NULL;
    }
    cJSON *s = wih_json_parse(p, text, err);
    free(text);
    free(p);
    return s;
}

static cJSON *pid_json(pid_t pid, int port, int port2, const char *url, const char *log)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "pid", pid);
    char *st = wih_asprintf("%llu", wih_pid_start_ticks(pid));
    cJSON_AddStringToObject(o, "start_ticks", st);
    free(st);
    char path[64], exe[4096];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        cJSON_AddStringToObject(o, "exe", exe);
    }
    cJSON_AddNumberToObject(o, "port", port);
    if (port2) cJSON_AddNumberToObject(o, "port2", port2);
    cJSON_AddStringToObject(o, "url", url);
    if (log) cJSON_AddStringToObject(o, "log", log);
    return o;
}

static cJSON *proc_json(const cluster_svc *s)
{
    return pid_json(wih_proc_pid(s->proc), s->port, s->port2, s->url, wih_proc_log_path(s->proc));
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static long jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

/* alive = same PID, same start time as recorded (never a recycled PID) */
static bool comp_alive(const cJSON *c)
{
    pid_t pid = (pid_t)jnum(c, "pid");
    const char *st = jstr(c, "start_ticks");
    if (pid <= 0 || !st) return false;
    unsigned long long now = wih_pid_start_ticks(pid);
    return now != 0 && now == strtoull(st, NULL, 10);
}

static const char *const k_components[] = {"webhook", "minio", "cloud", "kube-apiserver", "etcd", NULL}; /* stop order */

static bool comp_healthy(const char *dir, const char *name, const cJSON *c)
{
    if (!comp_alive(c)) return false;
    const char *url = jstr(c, "url");
    if (!url) return false;
    char *pki = wih_path_join(dir, "pki");
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "admin.crt"), *key = wih_path_join(pki, "admin.key");
    char *probe = !strcmp(name, "etcd")      ? wih_asprintf("%s/health", url)
                  : !strcmp(name, "webhook") ? wih_asprintf("%s/healthz", url)
                  : !strcmp(name, "cloud")   ? wih_asprintf("%s/.well-known/openid-configuration", url)
                  : !strcmp(name, "minio")   ? wih_asprintf("%s/minio/health/live", url)
                                             : wih_asprintf("%s/readyz", url);
    wih_err *e = NULL;
    long st = cluster_http_get(probe, ca, crt, key, NULL, &e);
    wih_err_free(e);
    free(pki);
    free(ca);
    free(crt);
    free(key);
    free(probe);
    return st == 200;
}

cJSON *cluster_local_status(const char *dir, bool *all_ok, wih_err **err)
{
    cJSON *state = cluster_local_state(dir, err);
    if (!state) return NULL;
    cJSON *out = cJSON_CreateObject();
    bool ok = true;
    cJSON *comps = cJSON_GetObjectItem(state, "components");
    for (const char *const *n = k_components; *n; n++) {
        cJSON *c = cJSON_GetObjectItem(comps, *n);
        if (!c) continue;
        cJSON *o = cJSON_AddObjectToObject(out, *n);
        bool alive = c && comp_alive(c);
        bool healthy = alive && comp_healthy(dir, *n, c);
        cJSON_AddBoolToObject(o, "alive", alive);
        cJSON_AddBoolToObject(o, "healthy", healthy);
        if (c) {
            cJSON_AddNumberToObject(o, "pid", jnum(c, "pid"));
            if (jstr(c, "url")) cJSON_AddStringToObject(o, "url", jstr(c, "url"));
            if (jstr(c, "log")) cJSON_AddStringToObject(o, "log", jstr(c, "log"));
        }
        ok = ok && healthy;
    }
    cJSON_Delete(state);
    *all_ok = ok;
    return out;
}

static void stop_recorded(const cJSON *state, const cluster_local_opts *o)
{
    cJSON *comps = cJSON_GetObjectItem(state, "components");
    for (const char *const *n = k_components; *n; n++) {
        cJSON *c = cJSON_GetObjectItem(comps, *n);
        if (!c) continue;
        pid_t pid = (pid_t)jnum(c, "pid");
        const char *st = jstr(c, "start_ticks");
        if (!comp_alive(c)) continue;
        progress(o, "stopping %s (pid %d)", *n, (int)pid);
        wih_pid_stop_checked(pid, strtoull(st, NULL, 10), jstr(c, "exe"), 10000);
    }
}

static wih_err *bind_discovery(const char *dir, const cluster_svc *api)
{
    /* OIDC discovery and JWKS readable without credentials, as a cloud IAM
     * expects when it registers the cluster's issuer. */
    const char *body = "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":\"ClusterRoleBinding\","
                       "\"metadata\":{\"name\":\"wiharness:service-account-issuer-discovery\"},"
                       "\"roleRef\":{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\","
                       "\"name\":\"system:service-account-issuer-discovery\"},"
                       "\"subjects\":[{\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":\"Group\","
                       "\"name\":\"system:unauthenticated\"}]}";
    char *pki = wih_path_join(dir, "pki");
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "admin.crt"), *key = wih_path_join(pki, "admin.key");
    char *url = wih_asprintf("%s/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/"
                             "wiharness:service-account-issuer-discovery?fieldManager=wiharness&force=true",
                             api->url);
    wih_err *err = NULL;
    char *resp = NULL;
    long st = -1;
    /* RBAC bootstrap roles appear shortly after /readyz; retry briefly */
    for (int i = 0; i < 50; i++) {
        wih_err_free(err);
        err = NULL;
        free(resp);
        resp = NULL;
        st = cluster_http("PATCH", url, "application/apply-patch+yaml", body, ca, crt, key, &resp, &err);
        if (st == 200 || st == 201) break;
        wih_sleep_ms(100);
    }
    wih_err *out = NULL;
    if (st != 200 && st != 201)
        out = err ? err : wih_err_http(st, resp, "binding system:service-account-issuer-discovery to system:unauthenticated");
    else
        wih_err_free(err);
    free(resp);
    free(url);
    free(pki);
    free(ca);
    free(crt);
    free(key);
    return out;
}

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

/* `<wiharness> webhook serve` as a persistent process, registered when ready. */
static wih_err *start_webhook(const cluster_local_opts *o, const char *dir, const char *pki, const char *kubeconfig,
                              int64_t timeout, cluster_svc *out)
{
    wih_err *err = NULL;
    int port = wih_free_port(&err);
    if (port < 0) return err;
    char *ready = wih_path_join(dir, "webhook.ready"), *dlog = wih_path_join(dir, "logs/webhook-decisions.jsonl");
    unlink(ready);
    char *ports = wih_asprintf("%d", port);
    char *args[24];
    int n = 0;
    args[n++] = NULL; /* the binary */
    args[n++] = "--no-color";
    args[n++] = "webhook";
    args[n++] = "serve";
    args[n++] = "--kubeconfig";
    args[n++] = (char *)kubeconfig;
    args[n++] = "--pki";
    args[n++] = (char *)pki;
    args[n++] = "--port";
    args[n++] = ports;
    args[n++] = "--ready-file";
    args[n++] = ready;
    args[n++] = "--decision-log";
    args[n++] = dlog;
    if (o->profiles) {
        args[n++] = "--profiles";
        args[n++] = (char *)o->profiles;
    }
    if (o->webhook_options) {
        args[n++] = "--options";
        args[n++] = (char *)o->webhook_options;
    }
    args[n] = NULL;
    err = spawn_self(o, dir, "webhook", args, port, timeout, out);
    free(ready);
    free(dlog);
    free(ports);
    return err ? wih_err_wrap(err, "starting the mock identity webhook") : NULL;
}

/* The mock cloud (`wiharness cloud serve`) and the real MinIO trusting it:
 * ports and MinIO's root credentials are fixed first (the cloud needs them,
 * MinIO needs the cloud's discovery at its start), then the cloud, then MinIO,
 * then the cluster's issuer is registered with the cloud like an IAM OIDC
 * provider. Secrets live only in 0600 files of the state dir. */
static wih_err *start_cloud(const cluster_local_opts *o, const char *dir, const char *pki, const char *issuer,
                            int cport, int64_t timeout, cluster_svc *cl, minio **mo, cJSON *state)
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
    if ((err = cluster_pki_issue(pki, "cloud", "wiharness-cloud", NULL, true, NULL))) goto out;
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
    progress(o, "starting the mock cloud identity plane");
    if ((err = spawn_self(o, dir, "cloud", args, cport, timeout, cl))) goto out;
    progress(o, "starting MinIO (trusting the mock cloud)");
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
    /* register the cluster's issuer (the cloud fetches its discovery + JWKS) */
    body = wih_asprintf("{\"issuer\":\"%s\",\"ca_file\":\"%s\"}", issuer, ca);
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

static char *kubeconfig_text(const char *pki, const char *server)
{
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "admin.crt"), *key = wih_path_join(pki, "admin.key");
    char *y = wih_asprintf("apiVersion: v1\n"
                           "kind: Config\n"
                           "clusters:\n"
                           "- name: wiharness-local\n"
                           "  cluster:\n"
                           "    server: %s\n"
                           "    certificate-authority: %s\n"
                           "users:\n"
                           "- name: wiharness-admin\n"
                           "  user:\n"
                           "    client-certificate: %s\n"
                           "    client-key: %s\n"
                           "contexts:\n"
                           "- name: wiharness-local\n"
                           "  context:\n"
                           "    cluster: wiharness-local\n"
                           "    user: wiharness-admin\n"
                           "current-context: wiharness-local\n",
                           server, ca, crt, key);
    free(ca);
    free(crt);
    free(key);
    return y;
}

wih_err *cluster_local_up(const cluster_local_opts *o, bool *reused)
{
    char *dir = o->state_dir ? wih_strdup(o->state_dir) : cluster_local_default_dir();
    int64_t timeout = o->timeout_ms ? o->timeout_ms : 60000;
    wih_err *err = NULL;
    *reused = false;
    int lock = lock_dir(dir, &err);
    if (lock < 0) {
        free(dir);
        return err;
    }
    cJSON *old = cluster_local_state(dir, &err);
    wih_err_free(err);
    err = NULL;
    if (old) {
        bool healthy = true;
        cJSON *comps = cJSON_GetObjectItem(old, "components");
        for (const char *const *n = k_components; *n; n++) {
            cJSON *c = cJSON_GetObjectItem(comps, *n);
            if (!c && !strcmp(*n, "webhook") && o->no_webhook) continue;
            if (!c && (!strcmp(*n, "cloud") || !strcmp(*n, "minio")) && o->no_cloud) continue;
            healthy = healthy && c && comp_healthy(dir, *n, c);
        }
        if (healthy) {
            progress(o, "reusing the healthy local chain in %s", dir);
            *reused = true;
            cJSON_Delete(old);
            close(lock);
            free(dir);
            return NULL;
        }
        progress(o, "the local chain in %s is not healthy: replacing it", dir);
        stop_recorded(old, o);
        cJSON_Delete(old);
    }
    /* a fresh start: old data and logs go, the PKI stays (it is still valid) */
    char *etcd_dir = wih_path_join(dir, "etcd"), *logs = wih_path_join(dir, "logs"), *certs = wih_path_join(dir, "apiserver-certs");
    wih_rm_rf(etcd_dir);
    wih_rm_rf(logs);
    wih_rm_rf(certs);
    free(etcd_dir);
    free(logs);
    free(certs);
    char *statef = wih_path_join(dir, "state.json");
    unlink(statef);
    char *pki = wih_path_join(dir, "pki");
    cluster_svc etcd = {0}, api = {0}, wh = {0}, cl = {0};
    minio *mo = NULL;
    cJSON *state = NULL;
    int64_t t0 = wih_now_ms();
    if ((err = cluster_pki_create(pki, false))) goto fail;
    progress(o, "starting etcd");
    if ((err = cluster_etcd_start(dir, &etcd, timeout, CLUSTER_PERSIST))) goto fail;
    progress(o, "etcd ready at %s (%lld ms)", etcd.url, (long long)(wih_now_ms() - t0));
    progress(o, "starting kube-apiserver");
    if ((err = cluster_apiserver_start(dir, pki, &etcd, &api, timeout, CLUSTER_PERSIST))) goto fail;
    progress(o, "kube-apiserver ready at %s (%lld ms)", api.url, (long long)(wih_now_ms() - t0));
    if ((err = bind_discovery(dir, &api))) goto fail;
    char *kc = kubeconfig_text(pki, api.url);
    char *kcpath = wih_path_join(dir, "kubeconfig");
    if (wih_write_file(kcpath, kc, strlen(kc), 0600, &err) != 0) {
        free(kc);
        free(kcpath);
        goto fail;
    }
    free(kc);
    int cport = 0;
    if (!o->no_cloud && (cport = wih_free_port(&err)) < 0) {
        free(kcpath);
        goto fail;
    }
    if (!o->no_webhook) {
        progress(o, "starting the mock identity webhook (%s)", o->profiles ? o->profiles : "aws-irsa,azure-wi,gcp-fleet");
        cluster_local_opts wo = *o;
        char *optf = NULL;
        if (!o->webhook_options && !o->no_cloud) {
            /* point the webhook's cloud endpoints at the mock cloud, so the pods
             * it mutates reach it: Azure's authority host, Google's STS and IAM
             * credentials, and Fleet's documented audiences (cloud.h), which the mock accepts */
            optf = wih_path_join(dir, "webhook-options.yaml");
            char *y = wih_asprintf("# written by wiharness up: the webhook's cloud endpoints are the mock cloud's\n"
                                   "azure-wi:\n"
                                   "  authorityHost: https://127.0.0.1:%d/\n"
                                   "gcp-fleet:\n"
                                   "  identityProvider: \"%s\"\n"
                                   "  workloadIdentityPool: \"%s\"\n"
                                   "  tokenUrl: https://127.0.0.1:%d/v1/token\n"
                                   "  impersonationUrl: https://127.0.0.1:%d\n",
                                   cport, CLOUD_GOOGLE_FLEET_AUDIENCE, CLOUD_GOOGLE_FLEET_POOL, cport, cport);
            int wrc = wih_write_file(optf, y, strlen(y), 0600, &err);
            free(y);
            if (wrc != 0) {
                free(optf);
                free(kcpath);
                goto fail;
            }
            wo.webhook_options = optf;
        }
        err = start_webhook(&wo, dir, pki, kcpath, timeout, &wh);
        free(optf);
        if (err) {
            free(kcpath);
            goto fail;
        }
        progress(o, "webhook registered at %s (%lld ms)", wh.url, (long long)(wih_now_ms() - t0));
    }
    state = cJSON_CreateObject();
    if (!o->no_cloud) {
        if ((err = start_cloud(o, dir, pki, api.url, cport, timeout, &cl, &mo, state))) {
            free(kcpath);
            goto fail;
        }
        progress(o, "mock cloud at %s, MinIO at %s, cluster issuer registered (%lld ms)", cl.url,
                 minio_endpoint(mo), (long long)(wih_now_ms() - t0));
    }
    cJSON_AddStringToObject(state, "backend", "local");
    cJSON_AddNumberToObject(state, "created_ms", (double)wih_wall_ms());
    cJSON_AddStringToObject(state, "state_dir", dir);
    cJSON_AddStringToObject(state, "kubeconfig", kcpath);
    cJSON_AddStringToObject(state, "pki", pki);
    cJSON_AddStringToObject(state, "server", api.url);
    cJSON_AddStringToObject(state, "issuer", api.url);
    cJSON *comps = cJSON_AddObjectToObject(state, "components");
    cJSON_AddItemToObject(comps, "etcd", proc_json(&etcd));
    cJSON_AddItemToObject(comps, "kube-apiserver", proc_json(&api));
    if (wh.proc) cJSON_AddItemToObject(comps, "webhook", proc_json(&wh));
    if (cl.proc) cJSON_AddItemToObject(comps, "cloud", proc_json(&cl));
    if (mo)
        cJSON_AddItemToObject(comps, "minio",
                              pid_json(minio_pid(mo), minio_port(mo), 0, minio_endpoint(mo), minio_log_path(mo)));
    char *text = cJSON_Print(state);
    int wrc = wih_write_file(statef, text, strlen(text), 0600, &err);
    free(text);
    free(kcpath);
    if (wrc != 0) goto fail;
    /* hand the processes over: they outlive us, `down` stops them by recorded PID */
    if (mo) minio_detach(mo);
    mo = NULL;
    cluster_svc *all[] = {&etcd, &api, &wh, &cl};
    for (int i = 0; i < 4; i++) {
        if (all[i]->proc) {
            wih_proc_detach(all[i]->proc);
            wih_proc_free(all[i]->proc);
            all[i]->proc = NULL;
        }
        cluster_svc_stop(all[i]);
    }
    progress(o, "local control plane up in %.1f s", (double)(wih_now_ms() - t0) / 1000.0);
    cJSON_Delete(state);
    free(statef);
    free(pki);
    close(lock);
    free(dir);
    return NULL;
fail:
    minio_stop(mo);
    cluster_svc_stop(&cl);
    cluster_svc_stop(&wh);
    cluster_svc_stop(&api);
    cluster_svc_stop(&etcd);
    cJSON_Delete(state);
    unlink(statef);
    free(statef);
    free(pki);
    close(lock);
    free(dir);
    return wih_err_wrap(err, "wiharness up");
}

wih_err *cluster_local_down(const cluster_local_opts *o, bool keep_state)
{
    char *dir = o->state_dir ? wih_strdup(o->state_dir) : cluster_local_default_dir();
    wih_err *err = NULL;
    if (access(dir, F_OK) != 0) {
        progress(o, "nothing to stop: no state dir %s", dir);
        free(dir);
        return NULL;
    }
    int lock = lock_dir(dir, &err);
    if (lock < 0) {
        free(dir);
        return err;
    }
    cJSON *state = cluster_local_state(dir, &err);
    if (state) {
        stop_recorded(state, o);
        /* verify: nothing we recorded is alive or listening */
        cJSON *comps = cJSON_GetObjectItem(state, "components");
        for (const char *const *n = k_components; *n && !err; n++) {
            cJSON *c = cJSON_GetObjectItem(comps, *n);
            if (!c) continue;
            if (comp_alive(c))
                err = wih_err_new(WIH_EXIT_INFRA, "%s (pid %ld) is still alive", *n, jnum(c, "pid"));
            else if (wih_port_listening((int)jnum(c, "port")))
                err = wih_err_new(WIH_EXIT_INFRA, "port %ld of %s is still listening", jnum(c, "port"), *n);
        }
        cJSON_Delete(state);
    } else {
        wih_err_free(err);
        err = NULL;
    }
    if (!err) {
        if (keep_state) {
            char *p = wih_path_join(dir, "state.json"), *kept = wih_path_join(dir, "state.stopped.json");
            rename(p, kept);
            free(p);
            free(kept);
            progress(o, "stopped; state kept in %s", dir);
        } else {
            wih_rm_rf(dir);
            progress(o, "stopped; removed %s", dir);
        }
    }
    close(lock);
    free(dir);
    return err;
}
