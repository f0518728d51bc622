/* The in-cluster Job, host side (incluster.h): what the pod needs from the
 * local chain, create the objects, wait for the pod, read the reports back,
 * delete everything this run made (also on failure and SIGINT). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "wiharness/cluster.h"
#include "wiharness/incluster.h"
#include "wiharness/jsonpath.h"
#include "wiharness/kube.h"

typedef struct {
    kube_client *kc;
    char *id, *ns, *cr;
    bool ns_made, cr_made, crb_made;
    cJSON *case_ns; /* the in-cluster run's case namespaces (from its report) */
    FILE *progress;
} ijob;

static void say(const ijob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const ijob *j, const char *fmt, ...)
{
    if (!j->progress) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("in-cluster: ", j->progress);
    vfprintf(j->progress, fmt, ap);
    va_end(ap);
    fputc('\n', j->progress);
    fflush(j->progress);
}

void incluster_result_clear(incluster_result *r)
{
    free(r->junit);
    free(r->json);
    free(r->console);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------- what the pod needs */
static void add_secret(incluster_file **v, size_t *n, const char *key, const char *path, char *data)
{
    *v = wih_xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = (incluster_file){.key = wih_strdup(key), .path = wih_strdup(path), .data = data,
                                    .len = strlen(data)};
}

/* The state dir the in-cluster runner reads (runner_chain.c's chain_load):
 * the chain's pod URLs as its cloud and MinIO, its issuer, the probe image;
 * files at INCLUSTER_STATE_DIR. */
static char *pod_state(const cJSON *st, const char *image)
{
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(st, "pod_urls");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "backend", "in-cluster");
    cJSON_AddStringToObject(o, "state_dir", INCLUSTER_STATE_DIR);
    cJSON_AddStringToObject(o, "kubeconfig", "(in-cluster)");
    cJSON_AddStringToObject(o, "issuer", wih_json_member_str_or(st, "issuer", ""));
    cJSON *c = cJSON_AddObjectToObject(o, "cloud");
    cJSON_AddStringToObject(c, "url", wih_json_member_str_or(pu, "cloud", ""));
    cJSON_AddStringToObject(c, "admin_token_file", INCLUSTER_STATE_DIR "/cloud/admin.token");
    cJSON_AddStringToObject(c, "ca_file", INCLUSTER_STATE_DIR "/ca.crt");
    /* the decision logs stay on the host: diagnosis in the pod goes without them */
    cJSON_AddStringToObject(c, "decision_log", INCLUSTER_STATE_DIR "/no-decision-log");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "minio"), "url", wih_json_member_str_or(pu, "minio", ""));
    cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "node"), "probe_image", image);
    cJSON_AddItemToObject(o, "pod_urls", cJSON_Duplicate(pu, true));
    cJSON_AddObjectToObject(o, "components");
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

static char *read_secret_file(const char *path, const char *what, wih_err **err)
{
    char *t = path ? wih_read_file(path, 1 << 20, NULL, err) : NULL;
    if (!t && !*err) *err = wih_err_new(WIH_EXIT_INFRA, "the local chain's state names no %s", what);
    if (!t) *err = wih_err_wrap(*err, "--in-cluster-job: %s", what);
    return t;
}

/* The Secret's files for --identity mock: state.json, the mock cloud's admin
 * token, MinIO's root credentials and the chain's CA (never printed). */
static incluster_file *chain_secrets(const cJSON *st, const char *dir, const char *image, size_t *n, wih_err **err)
{
    const cJSON *pu = cJSON_GetObjectItemCaseSensitive(st, "pod_urls");
    if (!wih_json_member_str(pu, "cloud") || !wih_json_member_str(pu, "minio")) {
        *err = wih_err_new(WIH_EXIT_INFRA, "--in-cluster-job --identity mock: the local chain in %s has no pod_urls "
                                           "(the node and the mock cloud are needed: wiharness up)", dir);
        return NULL;
    }
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(st, "cloud");
    char *rootp = wih_path_join(dir, "cloud/minio-root.json");
    char *tok = read_secret_file(wih_json_member_str(cl, "admin_token_file"), "the mock cloud's admin token", err);
    char *root = tok ? read_secret_file(rootp, "MinIO's root credentials", err) : NULL;
    char *ca = root ? read_secret_file(wih_json_member_str(cl, "ca_file"), "the chain's CA", err) : NULL;
    free(rootp);
    incluster_file *v = NULL;
    *n = 0;
    if (!ca) {
        if (tok) OPENSSL_cleanse(tok, strlen(tok));
        if (root) OPENSSL_cleanse(root, strlen(root));
        free(tok);
        free(root);
        return NULL;
    }
    add_secret(&v, n, "state.json", "state.json", pod_state(st, image));
    add_secret(&v, n, "admin.token", "cloud/admin.token", tok);
    add_secret(&v, n, "minio-root.json", "cloud/minio-root.json", root);
    add_secret(&v, n, "ca.crt", "ca.crt", ca);
    return v;
}

/* "https://H:P[/]" → H, P (new strings); false when it is not that. */
static bool split_url(const char *url, char **host, char **port)
{
    if (strncmp(url, "https://", 8)) return false;
    const char *h = url + 8, *end = h + strcspn(h, "/");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb || rb > end || rb[1] != ':') return false;
        *host = wih_asprintf("%.*s", (int)(rb - h - 1), h + 1);
        colon = rb + 1;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        if (!colon) return false;
        *host = wih_asprintf("%.*s", (int)(colon - h), h);
    }
    *port = wih_asprintf("%.*s", (int)(end - colon - 1), colon + 1);
    long p = atol(*port);
    if (!**host || p < 1 || p > 65535 || (end[0] == '/' && end[1])) {
        free(*host);
        free(*port);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ cleanup */
/* Poll until ref is gone (404) or timeout. Unlike kube_wait this goes on
 * after SIGINT: the cleanup's order matters (the pod's runner needs its RBAC
 * until it has removed its cases). false when it is still there. */
static bool wait_gone(ijob *j, const kube_ref *r, int64_t timeout_ms)
{
    wih_err *e = NULL;
    bool gone = false;
    for (int64_t end = wih_now_ms() + timeout_ms; !gone && wih_now_ms() < end;) {
        cJSON *o = kube_get(j->kc, r, &e);
        cJSON_Delete(o);
        gone = !o && e && e->http_status == 404;
        if (!o && !gone) wih_warn("in-cluster: %s %s: %s", r->kind, r->name, wih_err_str(e));
        wih_err_free(e);
        e = NULL;
        if (!gone) wih_sleep_ms(500);
    }
    if (!gone) wih_warn("in-cluster: %s %s is still there after %lld s", r->kind, r->name, (long long)timeout_ms / 1000);
    return gone;
}

static void wait_case_namespaces(ijob *j)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, j->case_ns)
    {
        kube_ref r = {"v1", "Namespace", NULL, n->valuestring};
        wait_gone(j, &r, 90000);
    }
}

static void delete_and_wait(ijob *j, const kube_ref *r, int64_t timeout_ms)
{
    wih_err *e = NULL;
    if (kube_delete(j->kc, r, -1, 0, &e)) {
        wih_warn("in-cluster: deleting %s %s: %s", r->kind, r->name, wih_err_str(e));
        wih_err_free(e);
        return;
    }
    if (timeout_ms) wait_gone(j, r, timeout_ms);
}

/* Pods first (their grace lets the in-cluster runner remove its case
 * namespaces, roles and buckets), then the namespace, then the cluster-wide RBAC. */
static void job_cleanup(void *v)
{
    ijob *j = v;
    wih_err *e = NULL;
    if (j->ns_made) {
        say(j, "deleting namespace %s (the Job's pod first: its runner cleans up its cases)", j->ns);
        char *sel = wih_asprintf("wiharness.io/in-cluster-job=%s", j->id);
        cJSON *pods = kube_list(j->kc, "v1", "Pod", j->ns, sel, &e);
        if (e) wih_warn("in-cluster: listing the Job's pods: %s", wih_err_str(e));
        wih_err_free(e);
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItem(pods, "items"))
        {
            kube_ref r = {"v1", "Pod", j->ns, kube_obj_str(p, "metadata.name")};
            delete_and_wait(j, &r, 150000); /* its grace is 120 s */
        }
        cJSON_Delete(pods);
        free(sel);
        wait_case_namespaces(j);
        kube_ref nr = {"v1", "Namespace", NULL, j->ns};
        delete_and_wait(j, &nr, 90000);
        j->ns_made = false;
    }
    if (j->crb_made) {
        kube_ref r = {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", NULL, j->cr};
        delete_and_wait(j, &r, 0);
        j->crb_made = false;
    }
    if (j->cr_made) {
        kube_ref r = {"rbac.authorization.k8s.io/v1", "ClusterRole", NULL, j->cr};
        delete_and_wait(j, &r, 0);
        j->cr_made = false;
    }
}

static wih_err *create_all(ijob *j, const cJSON *objs)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, objs)
    {
        if (wih_interrupted()) return wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted while creating the Job's objects");
        const char *kind = kube_obj_str(o, "kind");
        wih_err *e = NULL;
        cJSON *got = kube_create(j->kc, o, &e);
        cJSON_Delete(got);
        if (e)
            return wih_err_wrap(e, "--in-cluster-job: creating %s %s", kind, kube_obj_str(o, "metadata.name"));
        if (!strcmp(kind, "Namespace")) j->ns_made = true;
        if (!strcmp(kind, "ClusterRole")) j->cr_made = true;
        if (!strcmp(kind, "ClusterRoleBinding")) j->crb_made = true;
    }
    return NULL;
}

/* ------------------------------------------------------------ waiting */
static const char *stuck_reason(const cJSON *pod)
{
    static const char *const bad[] = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName",
                                      "CreateContainerConfigError", "CreateContainerError", NULL};
    const cJSON *cs;
    cJSON_ArrayForEach(cs, wih_json_member(wih_json_member(pod, "status"), "containerStatuses"))
    {
        const char *r = kube_obj_str(cs, "state.waiting.reason");
        for (const char *const *b = bad; r && *b; b++)
            if (!strcmp(r, *b)) return r;
    }
    return NULL;
}

/* The Job's pod once it ended (Succeeded or Failed), or NULL + err. */
static cJSON *wait_pod(ijob *j, long timeout_s, wih_err **err)
{
    char *sel = wih_asprintf("wiharness.io/in-cluster-job=%s", j->id);
    int64_t t0 = wih_now_ms(), end = t0 + timeout_s * 1000, next_say = t0;
    cJSON *done = NULL;
    while (!done && !*err) {
        if (wih_interrupted()) {
            *err = wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted while the in-cluster run was running");
            break;
        }
        cJSON *l = kube_list(j->kc, "v1", "Pod", j->ns, sel, err);
        const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(l, "items"), 0);
        const char *phase = p ? kube_obj_str(p, "status.phase") : NULL;
        const char *stuck = p ? stuck_reason(p) : NULL;
        if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
            done = cJSON_Duplicate(p, true);
        else if (stuck) {
            const cJSON *cs0 = cJSON_GetArrayItem(wih_json_member(wih_json_member(p, "status"), "containerStatuses"), 0);
            const char *msg = kube_obj_str(cs0, "state.waiting.message");
            *err = wih_err_new(WIH_EXIT_INFRA, "--in-cluster-job: the Job's pod %s cannot start: %s: %s",
                               kube_obj_str(p, "metadata.name"), stuck, msg ? msg : "");
        }
        else if (wih_now_ms() > end)
            *err = wih_err_new(WIH_EXIT_INFRA, "--in-cluster-job: the Job's pod did not finish in %ld s (%s)",
                               timeout_s, p ? (phase ? phase : "no phase") : "no pod was created");
        else if (wih_now_ms() >= next_say) {
            say(j, "%s %s (%.0f s)", p ? kube_obj_str(p, "metadata.name") : "Job", p ? (phase ? phase : "") : "no pod yet",
                (double)(wih_now_ms() - t0) / 1000.0);
            next_say = wih_now_ms() + 15000;
        }
        cJSON_Delete(l);
        if (!done && !*err) wih_sleep_ms(1000);
    }
    free(sel);
    return done;
}

static int exit_code_of(const cJSON *pod)
{
    const cJSON *cs = cJSON_GetArrayItem(wih_json_member(wih_json_member(pod, "status"), "containerStatuses"), 0);
    const cJSON *c = wih_json_member(wih_json_member(wih_json_member(cs, "state"), "terminated"), "exitCode");
    return cJSON_IsNumber(c) ? c->valueint : WIH_EXIT_INFRA;
}

/* ------------------------------------------------------------ read back */
static void read_back(ijob *j, const cJSON *pod, incluster_result *r)
{
    wih_err *e = NULL;
    kube_ref cr = {"v1", "ConfigMap", j->ns, INCLUSTER_RESULTS};
    cJSON *cm = kube_get(j->kc, &cr, &e);
    const cJSON *d = wih_json_member(cm, "data");
    r->junit = wih_strdup(wih_json_member_str(d, "junit.xml"));
    r->json = wih_strdup(wih_json_member_str(d, "report.json"));
    r->from = "configmap";
    cJSON_Delete(cm);
    if (e) say(j, "no results ConfigMap %s (%s): reading the Job's log", INCLUSTER_RESULTS, wih_err_str(e));
    wih_err_free(e);
    e = NULL;
    char *log = kube_pod_log(j->kc, j->ns, kube_obj_str(pod, "metadata.name"), INCLUSTER_NAME, &e);
    if (!log) {
        say(j, "reading the Job's log: %s", wih_err_str(e));
        wih_err_free(e);
    }
    if (!r->junit && log && (r->junit = incluster_log_section(log, "junit"))) r->from = "log";
    if (!r->json && log && (r->json = incluster_log_section(log, "json"))) r->from = "log";
    r->console = incluster_log_console(log);
    free(log);
    /* the case namespaces, to see them gone before the run ends */
    cJSON *doc = r->json ? cJSON_Parse(r->json) : NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, wih_json_member(doc, "cases"))
    {
        const char *n = wih_json_member_str(c, "namespace");
        if (n && *n) cJSON_AddItemToArray(j->case_ns, cJSON_CreateString(n));
    }
    cJSON_Delete(doc);
}

/* ------------------------------------------------------------ the run */
typedef struct {
    cJSON *state;
    incluster_file *scn, *sec;
    size_t nscn, nsec;
    char **where;
    char *image, *host, *port;
    cJSON *args;
} prep;

static void prep_free(prep *p, size_t npaths)
{
    cJSON_Delete(p->state);
    incluster_files_free(p->scn, p->nscn);
    incluster_files_free(p->sec, p->nsec);
    for (size_t i = 0; p->where && i < npaths; i++) free(p->where[i]);
    free(p->where);
    free(p->image);
    free(p->host);
    free(p->port);
    cJSON_Delete(p->args);
}

static wih_err *prepare(const incluster_opts *o, prep *p)
{
    wih_err *e = NULL;
    bool real = o->identity && !strcmp(o->identity, "real");
    char *dir = o->state_dir ? wih_strdup(o->state_dir) : cluster_local_default_dir();
    p->state = cluster_local_state(dir, &e);
    if (!p->state && real) { /* real identity needs no chain */
        wih_err_free(e);
        e = NULL;
    }
    const char *img = o->probe_image ? o->probe_image : kube_obj_str(p->state, "node.probe_image");
    const char *api = o->api_url ? o->api_url : kube_obj_str(p->state, "pod_urls.apiserver");
    if (!e && !img)
        e = wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job: no probe image (pass --probe-image; the local chain in "
                                        "%s has no node)", dir);
    if (!e && api && !split_url(api, &p->host, &p->port))
        e = wih_err_new(WIH_EXIT_INPUT, "--job-api-url %s: expected https://HOST:PORT", api);
    if (!e) p->image = wih_strdup(img);
    if (!e && !real) p->sec = chain_secrets(p->state, dir, img, &p->nsec, &e);
    if (!e) p->scn = incluster_collect(o->paths, o->npaths, 900 * 1024, &p->nscn, &p->where, &e);
    free(dir);
    if (e) return e;
    p->args = cJSON_CreateArray();
    const char *fixed[] = {"--backend", "existing", "--in-cluster", "--identity", real ? "real" : "mock",
                           "--probe-image", p->image, "--report", "junit=configmap:" INCLUSTER_RESULTS, "--report",
                           "json=configmap:" INCLUSTER_RESULTS, NULL};
    for (const char *const *a = fixed; *a; a++) cJSON_AddItemToArray(p->args, cJSON_CreateString(*a));
    if (!real) {
        cJSON_AddItemToArray(p->args, cJSON_CreateString("--state-dir"));
        cJSON_AddItemToArray(p->args, cJSON_CreateString(INCLUSTER_STATE_DIR));
    }
    for (const char *const *a = o->run_args; a && *a; a++) cJSON_AddItemToArray(p->args, cJSON_CreateString(*a));
    for (size_t i = 0; i < o->npaths; i++) cJSON_AddItemToArray(p->args, cJSON_CreateString(p->where[i]));
    return NULL;
}

static const char **argv_of(const cJSON *a)
{
    const char **v = wih_xcalloc((size_t)cJSON_GetArraySize(a) + 1, sizeof *v);
    int i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, a) v[i++] = s->valuestring;
    return v;
}

static wih_err *run_job(ijob *j, const incluster_opts *o, const prep *p, incluster_result *r)
{
    const char **argv = argv_of(p->args);
    incluster_spec s = {.id = j->id, .image = p->image, .api_host = p->host, .api_port = p->port,
                        .scenarios = p->scn, .nscenarios = p->nscn, .secrets = p->sec, .nsecrets = p->nsec,
                        .args = argv, .deadline_s = o->timeout_s > 0 ? o->timeout_s : 1800};
    cJSON *objs = incluster_objects(&s);
    free(argv);
    say(j, "namespace %s, Job %s (image %s), the API server for the pod at %s", j->ns, INCLUSTER_NAME, p->image,
        p->host ? o->api_url ? o->api_url : "the chain's relay" : "the cluster's kubernetes Service");
    for (size_t i = 0; i < p->nsec; i++)
        if (strcmp(p->sec[i].key, "state.json") && strcmp(p->sec[i].key, "ca.crt")) {
            char *fp = wih_fingerprint(p->sec[i].data);
            say(j, "Secret wih-runner-state: %s %s", p->sec[i].key, fp);
            free(fp);
        }
    wih_err *e = create_all(j, objs);
    cJSON_Delete(objs);
    cJSON *pod = e ? NULL : wait_pod(j, s.deadline_s + 60, &e);
    if (pod) {
        r->exit_code = exit_code_of(pod);
        say(j, "pod %s %s (exit %d)", kube_obj_str(pod, "metadata.name"), kube_obj_str(pod, "status.phase"),
            r->exit_code);
        read_back(j, pod, r);
        if (!r->junit && !r->json)
            e = wih_err_new(WIH_EXIT_INFRA, "--in-cluster-job: the run in pod %s (exit %d) left no report in "
                                            "ConfigMap %s nor in its log", kube_obj_str(pod, "metadata.name"),
                            r->exit_code, INCLUSTER_RESULTS);
    }
    cJSON_Delete(pod);
    return e;
}

int incluster_run(const incluster_opts *o, incluster_result *r, wih_err **err)
{
    memset(r, 0, sizeof *r);
    prep p = {0};
    if ((*err = prepare(o, &p))) {
        prep_free(&p, o->npaths);
        return -1;
    }
    ijob j = {.progress = o->progress, .case_ns = cJSON_CreateArray()};
    kube_config_opts ko = {.kubeconfig = o->kubeconfig, .context = o->context};
    j.kc = kube_client_new(&ko, err);
    if (!j.kc) {
        prep_free(&p, o->npaths);
        cJSON_Delete(j.case_ns);
        return -1;
    }
    j.id = wih_random_hex(3);
    j.ns = incluster_namespace(j.id);
    j.cr = wih_asprintf("wiharness-job-%s", j.id);
    int h = wih_cleanup_push("the in-cluster Job's namespace and RBAC", job_cleanup, &j);
    *err = run_job(&j, o, &p, r);
    wih_cleanup_pop(h, true);
    prep_free(&p, o->npaths);
    kube_client_free(j.kc);
    cJSON_Delete(j.case_ns);
    free(j.id);
    free(j.ns);
    free(j.cr);
    if (*err) incluster_result_clear(r);
    return *err ? -1 : 0;
}
