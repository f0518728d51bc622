/* The runner's view of the chain (state.json), the mock cloud's admin API,
 * and a case's cleanup. */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "runner_int.h"
#include "wiharness/http.h"

static const char *jget(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b) x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_GetStringValue(x);
}

static void cleanse_free(char *s)
{
    if (s) OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static char *read_trimmed(const char *path, wih_err **err)
{
    size_t n = 0;
    char *t = wih_read_file(path, 1 << 16, &n, err);
    while (t && n && isspace((unsigned char)t[n - 1])) t[--n] = 0;
    return t;
}

/* MinIO's root credentials (<state>/cloud/minio-root.json, 0600). */
static wih_err *load_root(rchain *c)
{
    char *p = wih_path_join(c->dir, "cloud/minio-root.json");
    wih_err *e = NULL;
    char *t = read_trimmed(p, &e);
    free(p);
    if (!t) return wih_err_wrap(e, "MinIO's root credentials");
    cJSON *j = cJSON_Parse(t);
    cleanse_free(t);
    const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "user"));
    const char *pw = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "password"));
    if (!u || !pw) e = wih_err_new(WIH_EXIT_INFRA, "%s/cloud/minio-root.json: no user/password", c->dir);
    c->root.access_key = wih_strdup(u);
    c->root.secret_key = wih_strdup(pw);
    if (j && pw) OPENSSL_cleanse(cJSON_GetObjectItemCaseSensitive(j, "password")->valuestring, strlen(pw));
    cJSON_Delete(j);
    return e;
}

wih_err *chain_load(const char *state_dir, rchain *c)
{
    memset(c, 0, sizeof *c);
    c->dir = state_dir ? wih_strdup(state_dir) : cluster_local_default_dir();
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(c->dir, &e);
    if (!st) return e;
    c->kubeconfig = wih_strdup(jget(st, "kubeconfig", NULL));
    c->issuer = wih_strdup(jget(st, "issuer", NULL));
    c->cloud_url = wih_strdup(jget(st, "cloud", "url"));
    c->ca_file = wih_strdup(jget(st, "cloud", "ca_file"));
    c->cloud_log = wih_strdup(jget(st, "cloud", "decision_log"));
    c->minio_url = wih_strdup(jget(st, "minio", "url"));
    c->webhook_log = wih_path_join(c->dir, "logs/webhook-decisions.jsonl");
    c->probe_image = wih_strdup(jget(st, "node", "probe_image"));
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(st, "pod_urls");
    c->pod_urls = pu ? cJSON_Duplicate(pu, true) : NULL;
    const cJSON *comps = cJSON_GetObjectItemCaseSensitive(st, "components");
    /* an external cluster (kind) has its own controller-manager */
    c->has_kcm = cJSON_GetObjectItemCaseSensitive(comps, "kube-controller-manager") != NULL ||
                 !strcmp(jget(st, "backend", NULL) ? jget(st, "backend", NULL) : "", "external");
    const char *tf = jget(st, "cloud", "admin_token_file");
    if (!c->kubeconfig)
        e = wih_err_new(WIH_EXIT_INFRA, "%s/state.json names no kubeconfig", c->dir);
    else if (!c->cloud_url || !tf || !c->minio_url)
        e = wih_err_new(WIH_EXIT_INFRA, "the local chain in %s has no mock cloud and MinIO (up --no-cloud?): "
                                        "the runner needs both", c->dir);
    else if (!(c->admin_token = read_trimmed(tf, &e)))
        e = wih_err_wrap(e, "the mock cloud's admin token");
    else
        e = load_root(c);
    cJSON_Delete(st);
    if (e) chain_clear(c);
    return e;
}

void chain_clear(rchain *c)
{
    free(c->dir);
    free(c->kubeconfig);
    free(c->issuer);
    free(c->cloud_url);
    free(c->ca_file);
    cleanse_free(c->admin_token);
    free(c->minio_url);
    s3_creds_clear(&c->root);
    free(c->cloud_log);
    free(c->webhook_log);
    free(c->probe_image);
    cJSON_Delete(c->pod_urls);
    memset(c, 0, sizeof *c);
}

char *chain_blame(const rchain *c)
{
    if (chain_broken()) return wih_strdup(chain_broken()); /* what the watchdog saw die first */
    bool ok = false;
    wih_err *e = NULL;
    cJSON *s = cluster_local_status(c->dir, &ok, &e);
    if (!s) {
        char *m = wih_asprintf("the local chain: %s", wih_err_str(e));
        wih_err_free(e);
        return m;
    }
    char *m = NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, s)
    {
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(it, "healthy");
        if (m || !cJSON_IsBool(h) || cJSON_IsTrue(h)) continue; /* entries without health (the node's record) */
        bool alive = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "alive"));
        const cJSON *pid = cJSON_GetObjectItemCaseSensitive(it, "pid");
        m = wih_asprintf("%s (pid %d) is %s", !strcmp(it->string, "minio") ? "MinIO" : it->string,
                         cJSON_IsNumber(pid) ? pid->valueint : 0, alive ? "not healthy" : "dead");
    }
    cJSON_Delete(s);
    return m;
}

/* ------------------------------------------------------------ watchdog */
static struct {
    pthread_t th;
    bool running;
    atomic_bool stop, broken;
    char *dir;
    char why[256]; /* written once, before broken is set */
} g_watch;

static bool abort_stuck(int64_t elapsed_ms)
{
    return atomic_load(&g_watch.broken) && elapsed_ms > 2000;
}

static void *watch(void *unused)
{
    (void)unused;
    while (!atomic_load(&g_watch.stop)) {
        int pid = 0;
        char *dead = cluster_local_dead(g_watch.dir, &pid);
        if (dead) {
            snprintf(g_watch.why, sizeof g_watch.why, "%s (pid %d) is dead", !strcmp(dead, "minio") ? "MinIO" : dead,
                     pid);
            free(dead);
            wih_http_set_abort(abort_stuck);
            atomic_store(&g_watch.broken, true);
            wih_warn("%s: ending the run", g_watch.why);
            break;
        }
        wih_sleep_ms(250);
    }
    return NULL;
}

void chain_watch_start(const rchain *c)
{
    atomic_store(&g_watch.stop, false);
    atomic_store(&g_watch.broken, false);
    g_watch.dir = wih_strdup(c->dir);
    g_watch.running = pthread_create(&g_watch.th, NULL, watch, NULL) == 0;
}

void chain_watch_stop(void)
{
    atomic_store(&g_watch.stop, true);
    if (g_watch.running) pthread_join(g_watch.th, NULL);
    g_watch.running = false;
    wih_http_set_abort(NULL);
    free(g_watch.dir);
    g_watch.dir = NULL;
}

const char *chain_broken(void)
{
    return atomic_load(&g_watch.broken) ? g_watch.why : NULL;
}

bool chain_stop_sleep(int64_t ms)
{
    for (int64_t end = wih_now_ms() + ms; !wih_interrupted() && !chain_broken();) {
        int64_t left = end - wih_now_ms();
        if (left <= 0) return false;
        wih_sleep_ms(left > 100 ? 100 : left);
    }
    return true;
}

wih_err *chain_infra(const rchain *c, wih_err *e)
{
    if (!e || wih_err_exit(e) != WIH_EXIT_INFRA) return e;
    char *b = chain_blame(c);
    if (b) e = wih_err_wrap(e, "infrastructure: %s", b);
    free(b);
    return e;
}

cJSON *chain_admin(const rchain *c, const char *method, const char *path, const cJSON *body, long *status,
                   wih_err **err)
{
    char *url = wih_asprintf("%s/admin/v1/%s", c->cloud_url, path);
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *resp = NULL;
    long st = cluster_http_auth(method, url, body ? "application/json" : NULL, text, c->ca_file, c->admin_token,
                                &resp, err);
    free(text);
    if (status) *status = st;
    cJSON *j = NULL;
    if (st >= 200 && st < 300) {
        j = resp && *resp ? cJSON_Parse(resp) : cJSON_CreateNull();
        if (!j) *err = wih_err_new(WIH_EXIT_INFRA, "%s %s: the mock cloud's reply is not JSON", method, path);
    } else if (st > 0) {
        cJSON *r = resp ? cJSON_Parse(resp) : NULL;
        const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "error"));
        *err = wih_err_http(st, m, "the mock cloud refused %s %s: %s", method, path, m ? m : "(no message)");
        (*err)->kind = st == 400 ? WIH_EXIT_INPUT : WIH_EXIT_INFRA;
        cJSON_Delete(r);
    } else if (*err) {
        *err = wih_err_wrap(*err, "the mock cloud at %s", c->cloud_url);
    }
    free(resp);
    free(url);
    return j;
}

/* ------------------------------------------------------------ cleanup */
static void keep_first(wih_err **first, wih_err *e)
{
    if (!*first)
        *first = e;
    else
        wih_err_free(e);
}

/* DELETE /admin/v1/roles/NAME (the cloud removes its MinIO policy too); a
 * role that is already gone (404) is not an error. */
static wih_err *remove_role(const rchain *c, const char *name)
{
    char *path = wih_asprintf("roles/%s", name);
    long st = 0;
    wih_err *e = NULL;
    cJSON *r = chain_admin(c, "DELETE", path, NULL, &st, &e);
    if (!r && st == 404) {
        wih_err_free(e);
        e = NULL;
    }
    cJSON_Delete(r);
    free(path);
    return e ? wih_err_wrap(e, "removing role %s", name) : NULL;
}

static wih_err *remove_bucket(s3_client *s3, const char *b)
{
    wih_err *e = NULL;
    cJSON *objs = s3_list_objects(s3, b, NULL, &e);
    if (!objs) {
        if (e && e->http_status == 404) {
            wih_err_free(e);
            return NULL;
        }
        return wih_err_wrap(e, "emptying bucket %s", b);
    }
    const cJSON *o;
    cJSON_ArrayForEach(o, objs)
    {
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "key"));
        if (k && s3_delete_object(s3, b, k, &e)) break;
    }
    cJSON_Delete(objs);
    if (!e) s3_delete_bucket(s3, b, &e);
    return e;
}

static wih_err *remove_namespace(const rchain *c, kube_client *kc, const char *ns)
{
    wih_err *e = NULL;
    /* pods first with grace 0: a pod of a control plane without a kubelet
     * (or a stuck one) would hold the namespace up */
    cJSON *pods = kube_list(kc, "v1", "Pod", ns, NULL, &e);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(pods, "items"))
    {
        kube_ref r = {"v1", "Pod", ns, kube_obj_str(p, "metadata.name")};
        wih_err *pe = NULL;
        kube_delete(kc, &r, 0, 0, &pe);
        wih_err_free(pe);
    }
    cJSON_Delete(pods);
    wih_err_free(e);
    e = NULL;
    kube_ref nr = {"v1", "Namespace", NULL, ns};
    /* not waited for here: chain_wait_namespaces waits for all of a run's at once */
    kube_delete(kc, &nr, -1, 0, &e);
    return e ? wih_err_wrap(e, "deleting namespace %s", ns) : NULL;
}

/* A shared namespace (--namespace): only the case's own pods and ServiceAccount. */
static wih_err *remove_own_objects(kube_client *kc, const rcase_res *res)
{
    wih_err *first = NULL;
    for (size_t i = res->npods; i-- > 0;) {
        kube_ref r = {"v1", "Pod", res->ns, res->pods[i]};
        wih_err *e = NULL;
        kube_delete(kc, &r, 0, 30000, &e);
        keep_first(&first, e ? wih_err_wrap(e, "deleting pod %s", res->pods[i]) : NULL);
    }
    if (res->sa) {
        kube_ref r = {"v1", "ServiceAccount", res->ns, res->sa};
        wih_err *e = NULL;
        kube_delete(kc, &r, -1, 0, &e);
        keep_first(&first, e ? wih_err_wrap(e, "deleting ServiceAccount %s", res->sa) : NULL);
    }
    return first;
}

wih_err *chain_cleanup(const rchain *c, kube_client *kc, rcase_res *res)
{
    if (res->done) return NULL;
    res->done = true;
    wih_err *first = NULL;
    if (res->ns_made && kc) keep_first(&first, remove_namespace(c, kc, res->ns));
    if (!res->ns_made && kc) keep_first(&first, remove_own_objects(kc, res));
    for (size_t i = res->nroles; i-- > 0;) keep_first(&first, remove_role(c, res->roles[i]));
    if (res->nbuckets) {
        s3_client *s3 = s3_client_new(c->minio_url, &c->root, c->ca_file);
        for (size_t i = res->nbuckets; i-- > 0;) keep_first(&first, remove_bucket(s3, res->buckets[i]));
        s3_client_free(s3);
    }
    return first ? wih_err_wrap(first, "cleaning up") : NULL;
}

int chain_wait_namespaces(const rchain *c, kube_client *kc, const cJSON *names, int64_t timeout_ms, char **left)
{
    *left = NULL;
    if (!c->has_kcm || !kc) return 0; /* only a controller-manager finishes a namespace's deletion */
    int64_t end = wih_now_ms() + timeout_ms;
    for (;;) {
        wih_buf b;
        wih_buf_init(&b, 1 << 16);
        wih_buf_adds(&b, "");
        const cJSON *n;
        cJSON_ArrayForEach(n, names)
        {
            kube_ref r = {"v1", "Namespace", NULL, n->valuestring};
            wih_err *e = NULL;
            cJSON *o = kube_get(kc, &r, &e);
            if (o) wih_buf_addf(&b, "%s%s", b.len ? ", " : "", n->valuestring);
            cJSON_Delete(o);
            wih_err_free(e);
        }
        if (!b.len || wih_now_ms() >= end || wih_interrupted()) {
            *left = b.len ? wih_buf_take(&b) : NULL;
            wih_buf_free(&b);
            return *left ? -1 : 0;
        }
        wih_buf_free(&b);
        wih_sleep_ms(250);
    }
}

void rcase_res_free(rcase_res *r)
{
    if (!r) return;
    free(r->ns);
    for (size_t i = 0; i < r->nroles; i++) free(r->roles[i]);
    for (size_t i = 0; i < r->nbuckets; i++) free(r->buckets[i]);
    for (size_t i = 0; i < r->npods; i++) free(r->pods[i]);
    free(r->pods);
    free(r->sa);
    free(r->roles);
    free(r->buckets);
    free(r);
}
