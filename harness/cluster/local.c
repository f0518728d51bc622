/* The local backend: one table of components (etcd, kube-apiserver,
 * controller-manager, scheduler, webhook, mock cloud, MinIO, containerd,
 * kubelet, relay) that outlive `wiharness up`, recorded in a state dir so
 * `status`, `env` and `down` find them again. `up` walks the table in order,
 * `down`, a failure and SIGINT/SIGTERM walk it in reverse. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "local_int.h"
#include "wiharness/kube.h"
#include "wiharness/yamljson.h"
#include "wiharness/jsonpath.h"

char *cluster_local_default_dir(void)
{
    return wih_state_dir_default("local");
}

void lc_progress(const cluster_local_opts *o, const char *fmt, ...)
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

/* A zombie (a program of ours that died after `up` handed it to init, and
 * nobody reaped yet) is gone: it cannot be signalled and holds nothing. */
static bool pid_zombie(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = wih_read_file(path, 1 << 16, NULL, NULL);
    char *rp = s ? strrchr(s, ')') : NULL;
    bool z = rp && (rp[2] == 'Z' || rp[2] == 'X');
    free(s);
    if (!z) return false;
    /* a Go program's leader thread shows Z while its other threads still
     * shut down: gone only when every thread is */
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && z && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char tp[320];
        snprintf(tp, sizeof tp, "/proc/%d/task/%s/stat", (int)pid, e->d_name);
        char *t = wih_read_file(tp, 1 << 16, NULL, NULL);
        char *trp = t ? strrchr(t, ')') : NULL;
        if (trp && trp[2] != 'Z' && trp[2] != 'X') z = false;
        free(t);
    }
    if (d) closedir(d);
    return z;
}

/* alive = same PID, same start time as recorded (never a recycled PID), not a zombie */
static bool comp_alive(const cJSON *c)
{
    pid_t pid = (pid_t)wih_json_member_num(c, "pid", 0);
    const char *st = wih_json_member_str(c, "start_ticks");
    if (pid <= 0 || !st) return false;
    unsigned long long now = wih_pid_start_ticks(pid);
    return now != 0 && now == strtoull(st, NULL, 10) && !pid_zombie(pid);
}


/* ------------------------------------------------------------ the table */
enum {
    LC_ALWAYS,     /* etcd, kube-apiserver (unless the cluster is external) */
    LC_NODE,       /* the node and the controllers a node needs */
    LC_WEBHOOK,    /* unless --no-webhook */
    LC_CLOUD,      /* unless --no-cloud */
    LC_NODE_CLOUD, /* both, or a serve address (the relay) */
};
typedef struct lcomp {
    const char *name;
    int need;
    wih_err *(*start)(lchain *c); /* starts, waits until ready, records; NULL = started with the entry before */
    int64_t grace_ms;             /* SIGTERM → SIGKILL */
    /* before its SIGTERM (the kubelet: delete the pods through the API) */
    void (*before_stop)(const char *dir, const cJSON *state, const cluster_local_opts *o);
    /* what it leaves to clean once stopped (containerd: containers, shims,
     * mounts, netns, cgroups, log links, the bridge); the data dirs and logs
     * of all go with the state dir */
    wih_err *(*clean)(const cJSON *state, const cluster_local_opts *o);
} lcomp;

static const lcomp k_table[] = {
    {"etcd", LC_ALWAYS, lc_start_etcd, 5000, NULL, NULL},
    {"kube-apiserver", LC_ALWAYS, lc_start_apiserver, 5000, NULL, NULL},
    {"kube-controller-manager", LC_NODE, lc_start_controller_manager, 5000, NULL, NULL},
    {"kube-scheduler", LC_NODE, lc_start_scheduler, 5000, NULL, NULL},
    {"webhook", LC_WEBHOOK, lc_start_webhook, 10000, NULL, NULL},
    {"cloud", LC_CLOUD, lc_start_cloud, 5000, NULL, NULL},
    {"minio", LC_CLOUD, NULL, 5000, NULL, NULL},
    {"containerd", LC_NODE, lc_start_containerd, 5000, NULL, lc_node_teardown},
    {"kubelet", LC_NODE, lc_start_kubelet, 5000, lc_drain_pods, NULL},
    {"relay", LC_NODE_CLOUD, lc_start_relay, 2000, NULL, NULL},
};
#define NCOMP ((int)(sizeof k_table / sizeof k_table[0]))

static bool wanted(const lcomp *t, const cluster_local_opts *o)
{
    switch (t->need) {
    case LC_NODE: return o->node;
    case LC_WEBHOOK: return !o->no_webhook;
    case LC_CLOUD: return !o->no_cloud;
    case LC_NODE_CLOUD: return (o->node && !o->no_cloud) || o->serve_address;
    default: return !o->external_kubeconfig;
    }
}

/* --------------------------------------------------------------- records */
wih_err *lc_write_state(lchain *c)
{
    char *p = wih_path_join(c->dir, "state.json");
    char *text = cJSON_Print(c->state);
    wih_err *err = NULL;
    wih_write_file(p, text, strlen(text), 0600, &err);
    free(text);
    free(p);
    return err;
}

wih_err *lc_record_pid(lchain *c, const char *name, pid_t pid, int port, const char *url, const char *log,
                       const char *health)
{
    cJSON *comps = cJSON_GetObjectItem(c->state, "components");
    cJSON *rec = pid_json(pid, port, 0, url ? url : "", log);
    if (health) cJSON_AddStringToObject(rec, "health", health);
    cJSON_DeleteItemFromObject(comps, name);
    cJSON_AddItemToObject(comps, name, rec);
    return lc_write_state(c);
}

wih_err *lc_record(lchain *c, const char *name, cluster_svc *s, const char *health)
{
    cJSON *comps = cJSON_GetObjectItem(c->state, "components");
    cJSON *rec = proc_json(s);
    if (health) cJSON_AddStringToObject(rec, "health", health);
    cJSON_DeleteItemFromObject(comps, name);
    cJSON_AddItemToObject(comps, name, rec);
    /* hand it over: from here on it is stopped by its recorded PID */
    wih_proc_detach(s->proc);
    wih_proc_free(s->proc);
    s->proc = NULL;
    cluster_svc_stop(s);
    return lc_write_state(c);
}

/* ---------------------------------------------------------------- health */
static bool comp_healthy(const char *dir, const char *name, const cJSON *c)
{
    if (!comp_alive(c)) return false;
    const char *h = wih_json_member_str(c, "health");
    if (!h) {
        const char *sock = wih_json_member_str(c, "socket");
        return !sock || access(sock, F_OK) == 0;
    }
    char *pki = wih_path_join(dir, "pki");
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "admin.crt"), *key = wih_path_join(pki, "admin.key");
    wih_err *e = NULL;
    long st = cluster_http_get(h, ca, crt, key, NULL, &e);
    wih_err_free(e);
    free(pki);
    free(ca);
    free(crt);
    free(key);
    (void)name;
    return st == 200;
}

/* {"name","ready","pods":[{"namespace","name","phase"}]} of the node, or NULL */
static cJSON *node_status(const cJSON *state)
{
    const cJSON *n = cJSON_GetObjectItem(state, "node");
    const char *kcp = wih_json_member_str(state, "kubeconfig");
    if (!n || !kcp) return NULL;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "name", wih_json_member_str_or(n, "name", ""));
    cJSON_AddStringToObject(out, "ip", wih_json_member_str_or(n, "ip", ""));
    wih_err *err = NULL;
    kube_config_opts ko = {.kubeconfig = kcp};
    kube_client *kc = kube_client_new(&ko, &err);
    kube_ref r = {"v1", "Node", NULL, wih_json_member_str(n, "name")};
    cJSON *node = kc ? kube_get(kc, &r, &err) : NULL;
    bool ready = false;
    cJSON *conds = cJSON_GetObjectItem(cJSON_GetObjectItem(node, "status"), "conditions");
    for (cJSON *c = conds ? conds->child : NULL; c; c = c->next)
        if (!strcmp(wih_json_member_str_or(c, "type", ""), "Ready"))
            ready = !strcmp(wih_json_member_str_or(c, "status", ""), "True");
    cJSON_AddBoolToObject(out, "ready", ready);
    cJSON *pods = cJSON_AddArrayToObject(out, "pods");
    char *sel = wih_asprintf("spec.nodeName=%s", wih_json_member_str(n, "name"));
    (void)sel;
    cJSON *list = kc ? kube_list(kc, "v1", "Pod", NULL, NULL, &err) : NULL;
    for (cJSON *it = list ? cJSON_GetObjectItem(list, "items")->child : NULL; it; it = it->next) {
        cJSON *md = cJSON_GetObjectItem(it, "metadata"), *st = cJSON_GetObjectItem(it, "status");
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "namespace", wih_json_member_str_or(md, "namespace", ""));
        cJSON_AddStringToObject(p, "name", wih_json_member_str_or(md, "name", ""));
        cJSON_AddStringToObject(p, "phase", wih_json_member_str_or(st, "phase", ""));
        cJSON_AddItemToArray(pods, p);
    }
    free(sel);
    cJSON_Delete(list);
    cJSON_Delete(node);
    wih_err_free(err);
    kube_client_free(kc);
    return out;
}

char *cluster_local_dead(const char *dir, int *pid)
{
    wih_err *e = NULL;
    cJSON *state = cluster_local_state(dir, &e);
    wih_err_free(e);
    const cJSON *comps = cJSON_GetObjectItem(state, "components");
    char *dead = NULL;
    for (int i = 0; comps && i < NCOMP && !dead; i++) {
        const cJSON *c = cJSON_GetObjectItem(comps, k_table[i].name);
        if (c && !comp_alive(c)) {
            dead = wih_strdup(k_table[i].name);
            *pid = (int)wih_json_member_num(c, "pid", 0);
        }
    }
    cJSON_Delete(state);
    return dead;
}

cJSON *cluster_local_status(const char *dir, bool *all_ok, wih_err **err)
{
    cJSON *state = cluster_local_state(dir, err);
    if (!state) return NULL;
    cJSON *out = cJSON_CreateObject();
    bool ok = true;
    cJSON *comps = cJSON_GetObjectItem(state, "components");
    for (int i = 0; i < NCOMP; i++) {
        const char *n = k_table[i].name;
        cJSON *c = cJSON_GetObjectItem(comps, n);
        if (!c) continue;
        cJSON *o = cJSON_AddObjectToObject(out, n);
        bool alive = comp_alive(c);
        bool healthy = alive && comp_healthy(dir, n, c);
        cJSON_AddBoolToObject(o, "alive", alive);
        cJSON_AddBoolToObject(o, "healthy", healthy);
        cJSON_AddNumberToObject(o, "pid", (long)wih_json_member_num(c, "pid", 0));
        if (*wih_json_member_str_or(c, "url", ""))
            cJSON_AddStringToObject(o, "url", wih_json_member_str(c, "url"));
        if (wih_json_member_str(c, "log"))
            cJSON_AddStringToObject(o, "log", wih_json_member_str(c, "log"));
        ok = ok && healthy;
    }
    cJSON *ns = node_status(state);
    if (ns) {
        ok = ok && cJSON_IsTrue(cJSON_GetObjectItem(ns, "ready"));
        cJSON_AddItemToObject(out, "node", ns);
    }
    cJSON_Delete(state);
    *all_ok = ok;
    return out;
}

/* -------------------------------------------------------------- stopping */
static bool still_there(const cJSON *c)
{
    pid_t pid = (pid_t)wih_json_member_num(c, "pid", 0);
    const char *st = wih_json_member_str(c, "start_ticks");
    unsigned long long now = pid > 0 ? wih_pid_start_ticks(pid) : 0;
    return st && now != 0 && now == strtoull(st, NULL, 10);
}

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL); /* not wih_sleep_ms: it returns at once after a SIGINT */
}

/* SIGTERM, wait, SIGKILL, wait (#13 finding 5: a kube-apiserver whose etcd
 * died does not finish a graceful shutdown): true when it is gone. Gone =
 * reaped, or a zombie nobody reaps (every thread dead) after a last grace. */
static bool stop_pid(const cJSON *c, int64_t grace_ms)
{
    pid_t pid = (pid_t)wih_json_member_num(c, "pid", 0);
    if (!comp_alive(c)) return true;
    kill(pid, SIGTERM);
    int64_t end = wih_now_ms() + grace_ms;
    while (wih_now_ms() < end && still_there(c) && comp_alive(c)) nap();
    if (still_there(c)) kill(pid, SIGKILL);
    end = wih_now_ms() + 5000;
    while (wih_now_ms() < end && still_there(c)) {
        if (!comp_alive(c) && wih_now_ms() > end - 3000) break; /* an unreaped zombie for 2 s */
        nap();
    }
    return !comp_alive(c);
}

static bool port_closes(int port)
{
    int64_t end = wih_now_ms() + 5000;
    while (wih_port_listening(port)) {
        if (wih_now_ms() > end) return false;
        nap();
    }
    return true;
}

/* Walk the table in reverse: every recorded program stopped (its hooks
 * before and after), then what the node left. Returns what survived. */
static wih_err *teardown_chain(const char *dir, const cJSON *state, const cluster_local_opts *o)
{
    const cJSON *comps = cJSON_GetObjectItem(state, "components");
    wih_err *err = NULL;
    bool node_clean = false;
    int64_t t0 = wih_now_ms();
    for (int i = NCOMP - 1; i >= 0; i--) {
        const lcomp *t = &k_table[i];
        const cJSON *c = cJSON_GetObjectItem(comps, t->name);
        if (c && comp_alive(c)) {
            const cJSON *api = cJSON_GetObjectItem(comps, "kube-apiserver");
            /* only through a ready API server: one whose etcd died answers
             * nothing, and each request would hang for its minute */
            if (t->before_stop && api && comp_healthy(dir, "kube-apiserver", api)) t->before_stop(dir, state, o);
            lc_progress(o, "stopping %s (pid %ld) at %lld ms", t->name,
                        (long)wih_json_member_num(c, "pid", 0), (long long)(wih_now_ms() - t0));
            if (!stop_pid(c, t->grace_ms) && !err)
                err = wih_err_new(WIH_EXIT_INFRA, "%s (pid %ld) survived SIGKILL", t->name,
                                  (long)wih_json_member_num(c, "pid", 0));
        }
        if (t->clean && (c || cJSON_GetObjectItem(state, "node"))) {
            wih_err *e = t->clean(state, o);
            node_clean = true;
            if (e && !err) err = e;
            else wih_err_free(e);
        }
    }
    (void)node_clean;
    return err;
}

/* The failure / SIGINT path of `up`: the cleanup entry of a chain being started. */
static void teardown_cleanup(void *ctx)
{
    lchain *c = ctx;
    if (!c->state) return;
    wih_err *e = teardown_chain(c->dir, c->state, c->o);
    if (e) fprintf(stderr, "wiharness: %s\n", wih_err_str(e));
    wih_err_free(e);
    char *p = wih_path_join(c->dir, "state.json");
    unlink(p);
    free(p);
    cJSON_Delete(c->state);
    c->state = NULL;
}

/* ------------------------------------------------------------------- up */
/* NULL when the old chain can be reused, else why not */
static const char *not_reusable(const char *dir, const cJSON *old, const cluster_local_opts *o)
{
    const cJSON *comps = cJSON_GetObjectItem(old, "components");
    for (int i = 0; i < NCOMP; i++) {
        const cJSON *c = cJSON_GetObjectItem(comps, k_table[i].name);
        if (c && !comp_healthy(dir, k_table[i].name, c)) return "is not healthy";
    }
    for (int i = 0; i < NCOMP; i++)
        if (wanted(&k_table[i], o) != (cJSON_GetObjectItem(comps, k_table[i].name) != NULL))
            return "is not the chain asked for (node, webhook, cloud)";
    return NULL;
}

static void fresh_dir(const char *dir)
{
    /* old data and logs go, the PKI stays (it is still valid) */
    static const char *const sub[] = {"etcd", "logs", "apiserver-certs", "node", "minio", "state.json", NULL};
    for (const char *const *s = sub; *s; s++) {
        char *p = wih_path_join(dir, *s);
        wih_rm_rf(p);
        free(p);
    }
}

static wih_err *chain_init(lchain *c, const cluster_local_opts *o, char *dir)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    c->dir = dir;
    c->pki = wih_path_join(dir, "pki");
    c->kubeconfig = o->external_kubeconfig ? wih_strdup(o->external_kubeconfig) : wih_path_join(dir, "kubeconfig");
    c->timeout = o->timeout_ms ? o->timeout_ms : 60000;
    c->t0 = wih_now_ms();
    c->node = o->node;
    c->state = cJSON_CreateObject();
    cJSON_AddStringToObject(c->state, "backend", o->external_kubeconfig ? "external" : "local");
    cJSON_AddNumberToObject(c->state, "created_ms", (double)wih_wall_ms());
    cJSON_AddStringToObject(c->state, "state_dir", dir);
    cJSON_AddStringToObject(c->state, "kubeconfig", c->kubeconfig);
    cJSON_AddStringToObject(c->state, "pki", c->pki);
    cJSON_AddObjectToObject(c->state, "components");
    wih_err *err = NULL;
    if (!o->no_cloud && (c->cport = wih_free_port(&err)) < 0) return err;
    if (c->node) {
        if ((err = node_plan_new(dir, &c->plan))) return err;
        cJSON *n = node_plan_json(&c->plan);
        cJSON_AddStringToObject(n, "ip", c->plan.gateway);
        cJSON_AddItemToObject(c->state, "node", n);
    }
    c->addr = o->serve_address ? o->serve_address : c->node ? c->plan.gateway : NULL;
    if (o->serve_address) cJSON_AddStringToObject(c->state, "serve_address", o->serve_address);
    if (o->external_kubeconfig && (err = lc_external_issuer(c))) return err;
    return lc_write_state(c);
}

static void chain_free(lchain *c)
{
    cJSON_Delete(c->state);
    free(c->pki);
    free(c->kubeconfig);
    free(c->etcd_url);
    free(c->api_url);
    free(c->pause_ref);
    free(c->probe_ref);
    free(c->issuer);
    cJSON_Delete(c->jwks);
    node_plan_free(&c->plan);
}

wih_err *cluster_local_up(const cluster_local_opts *o, bool *reused)
{
    *reused = false;
    if (o->external_kubeconfig && o->node)
        return wih_err_new(WIH_EXIT_INPUT, "cluster_local_up: an external cluster has its own node");
    if (o->node) {
        char *missing = node_preflight();
        if (missing) {
            wih_err *e = wih_err_new(WIH_EXIT_INFRA,
                                     "wiharness up: the node needs %s; run 'wiharness up --no-node' for the control "
                                     "plane only (no pods run)",
                                     missing);
            free(missing);
            return e;
        }
    }
    char *dir = o->state_dir ? wih_strdup(o->state_dir) : cluster_local_default_dir();
    wih_err *err = NULL;
    int lock = lock_dir(dir, &err);
    if (lock < 0) {
        free(dir);
        return err;
    }
    cJSON *old = cluster_local_state(dir, &err);
    wih_err_free(err);
    err = NULL;
    if (old) {
        const char *why = not_reusable(dir, old, o);
        if (!why) {
            lc_progress(o, "reusing the healthy local chain in %s", dir);
            *reused = true;
            cJSON_Delete(old);
            close(lock);
            free(dir);
            return NULL;
        }
        lc_progress(o, "the local chain in %s %s: replacing it", dir, why);
        wih_err *e = teardown_chain(dir, old, o);
        cJSON_Delete(old);
        if (e) {
            close(lock);
            free(dir);
            return wih_err_wrap(e, "wiharness up: stopping the old chain");
        }
    }
    fresh_dir(dir);
    lchain c;
    if ((err = chain_init(&c, o, dir)) || (err = cluster_pki_create(c.pki, false))) {
        teardown_cleanup(&c);
        chain_free(&c);
        close(lock);
        free(dir);
        return wih_err_wrap(err, "wiharness up");
    }
    int cl = wih_cleanup_push("the local chain being started", teardown_cleanup, &c);
    for (int i = 0; i < NCOMP && !err; i++) {
        if (!wanted(&k_table[i], o) || !k_table[i].start) continue;
        if (wih_interrupted()) {
            err = wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted before starting %s", k_table[i].name);
            break;
        }
        err = k_table[i].start(&c);
        if (!err && wih_interrupted())
            err = wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted after starting %s", k_table[i].name);
    }
    if (err) {
        lc_progress(o, "wiharness up failed: stopping what it started");
        wih_cleanup_pop(cl, true);
    } else {
        wih_cleanup_pop(cl, false);
        lc_progress(o, "local chain up in %.1f s", (double)(wih_now_ms() - c.t0) / 1000.0);
    }
    chain_free(&c);
    close(lock);
    free(dir);
    return err ? wih_err_wrap(err, "wiharness up") : NULL;
}

/* ------------------------------------------------------------------ down */
wih_err *cluster_local_down(const cluster_local_opts *o, bool keep_state)
{
    char *dir = o->state_dir ? wih_strdup(o->state_dir) : cluster_local_default_dir();
    wih_err *err = NULL;
    if (access(dir, F_OK) != 0) {
        lc_progress(o, "nothing to stop: no state dir %s", dir);
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
        err = teardown_chain(dir, state, o);
        /* verify: nothing we recorded is alive or listening */
        cJSON *comps = cJSON_GetObjectItem(state, "components");
        for (cJSON *c = comps ? comps->child : NULL; c && !err; c = c->next) {
            if (comp_alive(c))
                err = wih_err_new(WIH_EXIT_INFRA, "%s (pid %ld) is still alive", c->string,
                                  (long)wih_json_member_num(c, "pid", 0));
            else if (wih_json_member_num(c, "port", 0) && strcmp(c->string, "relay") != 0 &&
                     !port_closes((int)wih_json_member_num(c, "port", 0)))
                err = wih_err_new(WIH_EXIT_INFRA, "port %ld of %s is still listening",
                                  (long)wih_json_member_num(c, "port", 0), c->string);
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
            lc_progress(o, "stopped; state kept in %s", dir);
        } else {
            wih_rm_rf(dir);
            lc_progress(o, "stopped; removed %s", dir);
        }
    }
    close(lock);
    free(dir);
    return err;
}
