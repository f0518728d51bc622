/* --submitter osmo: a case's workflow goes to an OSMO service (osmo_api.h)
 * instead of the runner creating the pods (docs/backends.md "OSMO submitter").
 *
 *   1. the case's workflow (runner_workflow) with every task changed to run
 *      the probe (runner_adapt_task: the submit-side counterpart of
 *      runner_adapt_pod; every change in the report);
 *   2. POST /api/pool/{pool}/workflow → the workflow id; a refused submit is
 *      an infrastructure error carrying OSMO's message (the service's pools
 *      do not take this workflow: nothing the scenario says is wrong);
 *   3. the task pods, found by osmo.workflow_id=<id> in the workflow
 *      namespace, are the admitted pods: the same admission assertions;
 *   4. the verdict is the probe's termination message in the task's own
 *      container (OSMO's osmo-ctrl is OSMO's image, not the probe), polled
 *      together with GET /api/workflow/<id> until both the verdict is there
 *      and the workflow has ended (OSMO's statuses, osmo_api.h);
 *   5. a workflow still alive when the case stops (error, deadline, SIGINT)
 *      is cancelled: POST /api/workflow/<id>/cancel (also from the cleanup
 *      stack, for an exit in between). OSMO deletes its own pods. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "runner_case.h"
#include "wiharness/osmo_api.h"
#include "wiharness/probe.h"
#include "wiharness/yamljson.h"

struct rosmo {
    const runner_osmo *o;
    char *id;      /* the workflow id OSMO gave */
    char *status;  /* the last status seen */
    char *pool;
    char *container; /* the task container of the first pod (k->verdict_container) */
    bool alive;    /* submitted, not seen ended */
    char *cancel;  /* what the cancel did, or NULL */
    int cleanup_h; /* the cancel on the cleanup stack, or -1 */
};

/* ------------------------------------------------------------ the task spec */
static void add_change(cJSON *changes, const char *what, const char *path, const cJSON *from, const cJSON *to)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "what", what);
    cJSON_AddStringToObject(c, "path", path);
    cJSON_AddItemToObject(c, "from", from ? cJSON_Duplicate(from, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "to", to ? cJSON_Duplicate(to, true) : cJSON_CreateNull());
    cJSON_AddItemToArray(changes, c);
}

/* Replace task[key] with to (owned), recording the change. */
static void set_field(cJSON *task, const char *key, cJSON *to, const char *base, const char *what, cJSON *changes)
{
    char *path = wih_asprintf("%s.%s", base, key);
    char *w = wih_asprintf("%s: %s", base, what);
    add_change(changes, w, path, cJSON_GetObjectItemCaseSensitive(task, key), to);
    cJSON_DeleteItemFromObjectCaseSensitive(task, key);
    if (to) cJSON_AddItemToObject(task, key, to);
    free(path);
    free(w);
}

static cJSON *probe_command(const runner_adapt *a)
{
    cJSON *cmd = cJSON_CreateArray();
    const char *head[] = {"/wiharness", "probe", "--profile", a->profile};
    for (int i = 0; i < 4; i++) cJSON_AddItemToArray(cmd, cJSON_CreateString(head[i]));
    const cJSON *x;
    cJSON_ArrayForEach(x, a->access)
    {
        cJSON_AddItemToArray(cmd, cJSON_CreateString("--access"));
        cJSON_AddItemToArray(cmd, cJSON_CreateString(x->valuestring));
    }
    return cmd;
}

void runner_adapt_task(cJSON *task, const char *base, const runner_adapt *a, const cJSON *env, cJSON *changes)
{
    set_field(task, "image", cJSON_CreateString(a->probe_image), base, "image -> the probe image", changes);
    cJSON *cmd = probe_command(a);
    char *text = cJSON_PrintUnformatted(cmd);
    char *what = wih_asprintf("command -> %s (the task's container runs the probe)", text);
    set_field(task, "command", cmd, base, what, changes);
    free(what);
    free(text);
    if (cJSON_GetObjectItemCaseSensitive(task, "args"))
        set_field(task, "args", NULL, base, "args dropped (the probe's are in command)", changes);
    if (!env || !env->child) return;
    cJSON *te = cJSON_GetObjectItemCaseSensitive(task, "environment");
    if (!cJSON_IsObject(te)) {
        cJSON_DeleteItemFromObjectCaseSensitive(task, "environment");
        te = cJSON_AddObjectToObject(task, "environment");
    }
    for (const cJSON *e = env->child; e; e = e->next) {
        char *path = wih_asprintf("%s.environment.%s", base, e->string);
        char *w = wih_asprintf("%s: + environment %s (mock identity mode: the SDK endpoint of the mock cloud / "
                               "MinIO, what an operator sets for a non-AWS endpoint)", base, e->string);
        add_change(changes, w, path, cJSON_GetObjectItemCaseSensitive(te, e->string), e);
        cJSON_DeleteItemFromObjectCaseSensitive(te, e->string);
        cJSON_AddItemToObject(te, e->string, cJSON_Duplicate(e, true));
        free(path);
        free(w);
    }
}

/* The endpoint env of mock identity mode as {name: value} (NULL without pod_urls). */
static cJSON *endpoint_env(const rcase *k)
{
    cJSON *t = runner_endpoints_template(k->ch->pod_urls);
    if (!t) return NULL;
    cJSON *out = cJSON_CreateObject();
    const cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "spec"), "containers"), 0), *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(c0, "env"))
        cJSON_AddStringToObject(out, kube_obj_str(e, "name"), kube_obj_str(e, "value"));
    cJSON_Delete(t);
    return out;
}

#define MAX_TASKS 64

/* Every task of the workflow (tasks, then each group's), in order: the
 * first max in out; returns how many there are. */
static size_t tasks_of(cJSON *wf, cJSON **out, size_t max)
{
    size_t n = 0;
    cJSON *w = cJSON_GetObjectItem(wf, "workflow"), *t, *g;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(w, "tasks")) if (n++ < max) out[n - 1] = t;
    cJSON_ArrayForEach(g, cJSON_GetObjectItem(w, "groups"))
        cJSON_ArrayForEach(t, cJSON_GetObjectItem(g, "tasks")) if (n++ < max) out[n - 1] = t;
    return n;
}

static wih_err *adapt_workflow(rcase *k, cJSON *wf)
{
    cJSON *tasks[MAX_TASKS];
    size_t n = tasks_of(wf, tasks, MAX_TASKS);
    if (n > MAX_TASKS)
        return wih_err_new(WIH_EXIT_INPUT, "the workflow has %zu tasks; the runner follows at most %d", n, MAX_TASKS);
    cJSON *env = endpoint_env(k);
    wih_err *e = NULL;
    for (size_t i = 0; i < n && !e; i++) {
        const char *name = kube_obj_str(tasks[i], "name");
        cJSON *acc = runner_access_list(wf, name, k->cs->scn, &k->vars, k->cs->profile, &e);
        if (!acc) break;
        rcase_seed_reads(k, acc);
        runner_adapt a = {.probe_image = k->ch->probe_image ? k->ch->probe_image : "wiharness-probe:no-node",
                          .profile = k->cs->profile, .access = acc};
        char *base = wih_asprintf("workflow.tasks[name=%s]", name ? name : "?");
        runner_adapt_task(tasks[i], base, &a, env, k->changes);
        free(base);
        cJSON_Delete(acc);
    }
    cJSON_Delete(env);
    return e;
}

/* ------------------------------------------------------------ the service */
/* Send r (consumed); *status and body (caller frees) filled. */
static wih_err *send(const runner_osmo *o, probe_req *r, long *status, wih_buf *body)
{
    if (!r) return NULL;
    wih_err *e = NULL;
    int rc = probe_send(r, o->ca_file, 30000, status, body, &e);
    probe_req_free(r);
    return rc ? wih_err_wrap(e, "the OSMO service at %s", o->url) : NULL;
}

/* Cancel the workflow when it is still alive; what happened in x->cancel. */
static void cancel(struct rosmo *x)
{
    if (!x->alive) return;
    x->alive = false;
    wih_err *e = NULL;
    probe_req *r = osmo_api_cancel_req(x->o->url, x->id, x->o->token, &e);
    long st = 0;
    wih_buf body = {0};
    if (!e) e = send(x->o, r, &st, &body);
    int rc = e ? -1 : osmo_api_parse_cancel(st, body.data, &e);
    wih_buf_free(&body);
    free(x->cancel);
    x->cancel = rc == 0   ? wih_strdup("cancelled (POST /api/workflow/<id>/cancel)")
                : rc == 1 ? wih_strdup("had already finished")
                          : wih_asprintf("cancel failed: %s", wih_err_str(e));
    if (rc < 0) wih_warn("OSMO workflow %s: %s", x->id, x->cancel);
    wih_err_free(e);
}

static void cancel_entry(void *vx)
{
    struct rosmo *x = vx;
    if (x->alive) fprintf(stderr, "wiharness: cancelling OSMO workflow %s\n", x->id);
    cancel(x);
}

/* GET /api/workflow/<id>: the status into x; *ended when it is no longer alive. */
static wih_err *query(struct rosmo *x, bool *ended)
{
    wih_err *e = NULL;
    probe_req *r = osmo_api_query_req(x->o->url, x->id, x->o->token, &e);
    long st = 0;
    wih_buf body = {0};
    if (!e) e = send(x->o, r, &st, &body);
    bool ok = false;
    *ended = false;
    char *s = e ? NULL : osmo_api_parse_status(st, body.data, ended, &ok, &e);
    wih_buf_free(&body);
    if (!s) return e;
    free(x->status);
    x->status = s;
    if (*ended) {
        x->alive = false;
        wih_cleanup_pop(x->cleanup_h, false);
        x->cleanup_h = -1;
    }
    return NULL;
}

static wih_err *submit(rcase *k, const char *yaml)
{
    struct rosmo *x = k->osmo;
    wih_err *e = NULL;
    probe_req *r = osmo_api_submit_req(x->o->url, x->pool, yaml, x->o->token, false, &e);
    long st = 0;
    wih_buf body = {0};
    if (!e) e = send(x->o, r, &st, &body);
    if (!e) x->id = osmo_api_parse_submit(st, body.data, &e);
    wih_buf_free(&body);
    if (e) {
        /* the service did not take the runner's workflow: not the scenario's fault */
        e->kind = WIH_EXIT_INFRA;
        return wih_err_wrap(e, "submitting the workflow to OSMO pool %s", x->pool);
    }
    x->alive = true;
    x->cleanup_h = wih_cleanup_push("cancelling an OSMO workflow of the runner", cancel_entry, x);
    return NULL;
}

/* ------------------------------------------------------------ the pods */
static int task_index(const cJSON *pod, cJSON *const *tasks, size_t n)
{
    const cJSON *lb = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels");
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(lb, "osmo.task_name"));
    for (size_t i = 0; t && i < n; i++)
        if (kube_obj_str(tasks[i], "name") && !strcmp(kube_obj_str(tasks[i], "name"), t)) return (int)i;
    return (int)n;
}

/* The pods of the workflow, in task order (the first task's first: its
 * container holds the verdict, as osmo-ctrl's does on the direct path). */
static cJSON *sorted_pods(cJSON *items, cJSON *const *tasks, size_t n)
{
    cJSON *out = cJSON_CreateArray();
    for (size_t want = 0; want <= n; want++) {
        const cJSON *p;
        cJSON_ArrayForEach(p, items) if ((size_t)task_index(p, tasks, n) == want)
            cJSON_AddItemToArray(out, cJSON_Duplicate(p, true));
    }
    return out;
}

/* The first container that is not OSMO's own osmo-ctrl: the task's. */
static const char *task_container(const cJSON *pod)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers"))
    {
        const char *n = kube_obj_str(c, "name");
        if (n && strcmp(n, "osmo-ctrl")) return n;
    }
    return "osmo-ctrl";
}

/* Poll -l osmo.workflow_id=<id> until every task has its pod (or the
 * workflow ended, or the admission + pod deadline passed). */
static wih_err *find_pods(rcase *k, cJSON *wf)
{
    struct rosmo *x = k->osmo;
    cJSON *tasks[MAX_TASKS];
    size_t n = tasks_of(wf, tasks, MAX_TASKS);
    char *sel = osmo_api_pod_selector(x->id);
    int64_t end = wih_now_ms() + k->cs->scn->timeouts.admission_ms + k->cs->scn->timeouts.pod_ms;
    wih_err *e = NULL;
    for (;;) {
        cJSON *list = kube_list(k->kc, "v1", "Pod", k->res->ns, sel, &e);
        if (!list) break;
        cJSON *items = cJSON_GetObjectItem(list, "items");
        size_t got = (size_t)cJSON_GetArraySize(items);
        if (got >= n && got) {
            cJSON_Delete(k->admitted);
            k->admitted = sorted_pods(items, tasks, n);
            cJSON_Delete(list);
            break;
        }
        cJSON_Delete(list);
        bool ended = false;
        if ((e = query(x, &ended))) break;
        if (ended) {
            e = wih_err_new(WIH_EXIT_INFRA, "OSMO workflow %s ended %s with %zu of its %zu task pod(s) in namespace %s",
                            x->id, x->status, got, n, k->res->ns);
            break;
        }
        if (wih_now_ms() >= end) {
            e = wih_err_new(WIH_EXIT_INFRA, "OSMO workflow %s (status %s): %zu of its %zu task pod(s) (-l %s) in "
                            "namespace %s after %lld s", x->id, x->status ? x->status : "?", got, n, sel, k->res->ns,
                            (long long)(k->cs->scn->timeouts.admission_ms + k->cs->scn->timeouts.pod_ms) / 1000);
            break;
        }
        if (chain_stop_sleep(250)) {
            e = wih_err_new(WIH_EXIT_INFRA, "stopped waiting for the pods of OSMO workflow %s", x->id);
            break;
        }
    }
    free(sel);
    if (!e) {
        x->container = wih_strdup(task_container(cJSON_GetArrayItem(k->admitted, 0)));
        k->verdict_container = x->container; /* a copy: refreshing the pods frees theirs */
    }
    return e;
}

/* ------------------------------------------------------------ the case */
wih_err *rcase_osmo_submit(rcase *k)
{
    struct rosmo *x = wih_xcalloc(1, sizeof *x);
    x->o = k->o->osmo;
    x->cleanup_h = -1;
    x->pool = wih_strdup(x->o->pool ? x->o->pool : k->cs->scn->pool ? k->cs->scn->pool : "default");
    k->osmo = x;
    char *what = wih_asprintf("pool %s: the OSMO service's own pod templates and pools (the scenario's values are "
                              "not sent: OSMO's submit takes a workflow, not pool configuration)", x->pool);
    char *path = wih_asprintf("pools.%s", x->pool);
    add_change(k->changes, what, path, NULL, NULL);
    free(what);
    free(path);
    wih_err *e = NULL;
    cJSON *wf = runner_workflow(k->cs, &k->vars, &e);
    if (!wf) return wih_err_wrap(e, "the scenario's workflow");
    if ((e = adapt_workflow(k, wf))) {
        cJSON_Delete(wf);
        return wih_err_wrap(e, "the scenario's workflow");
    }
    char *yaml = wih_yaml_emit(wf);
    e = submit(k, yaml);
    free(yaml);
    if (!e) e = find_pods(k, wf);
    cJSON_Delete(wf);
    return e;
}

wih_err *rcase_osmo_wait(rcase *k)
{
    struct rosmo *x = k->osmo;
    int64_t wait_ms = k->cs->scn->timeouts.pod_ms + k->cs->scn->timeouts.access_ms;
    int64_t end = wih_now_ms() + wait_ms;
    bool have = false, ended = !x->alive;
    for (;;) {
        wih_err *e = NULL;
        if (!have) {
            int r = rcase_verdict_poll(k, &e);
            if (r < 0) return wih_err_wrap(e, "the task pods of OSMO workflow %s", x->id);
            have = r == 1;
        }
        if (!ended && (e = query(x, &ended))) return e;
        if (have && ended) return NULL;
        if (ended) { /* the workflow is over: one last look at the pod */
            if (rcase_verdict_poll(k, &e) < 0) return wih_err_wrap(e, "the task pods of OSMO workflow %s", x->id);
            char *st = wih_asprintf("OSMO workflow %s ended %s; %s", x->id, x->status, k->pod_state ? k->pod_state : "");
            free(k->pod_state);
            k->pod_state = st;
            return NULL;
        }
        if (wih_now_ms() >= end) {
            if (!have) return NULL; /* no verdict: the assertions say what is missing (pod_state) */
            return wih_err_new(WIH_EXIT_INFRA, "OSMO workflow %s did not end within %lld s of its pods (last status "
                               "%s)", x->id, (long long)wait_ms / 1000, x->status ? x->status : "?");
        }
        if (chain_stop_sleep(500)) return NULL;
    }
}

void rcase_osmo_report(rcase *k, cJSON *c)
{
    struct rosmo *x = k->osmo;
    if (!x) return;
    cancel(x); /* a workflow still alive when the case stops */
    cJSON *o = cJSON_AddObjectToObject(c, "osmo");
    cJSON_AddStringToObject(o, "url", x->o->url);
    cJSON_AddStringToObject(o, "pool", x->pool);
    if (x->id) cJSON_AddStringToObject(o, "workflow", x->id);
    if (x->status) cJSON_AddStringToObject(o, "status", x->status);
    if (x->id) {
        char *sel = osmo_api_pod_selector(x->id);
        cJSON_AddStringToObject(o, "pods", sel);
        free(sel);
    }
    if (x->cancel) cJSON_AddStringToObject(o, "cancel", x->cancel);
}

void rcase_osmo_end(rcase *k)
{
    struct rosmo *x = k->osmo;
    if (!x) return;
    cancel(x);
    if (x->cleanup_h >= 0) wih_cleanup_pop(x->cleanup_h, false);
    k->osmo = NULL;
    k->verdict_container = NULL;
    free(x->container);
    free(x->id);
    free(x->status);
    free(x->pool);
    free(x->cancel);
    free(x);
}
