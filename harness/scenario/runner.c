/* The runner: cases of a matrix, N at a time, each in its own namespace;
 * what a case made is on a live list that the cleanup stack empties on
 * SIGINT/SIGTERM or exit. docs/runner.md. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "runner_case.h"
#include "runner_real.h"
#include "wiharness/report.h"

typedef struct rctx {
    const runner_opts *o;
    const scn_matrix *m;
    rchain ch;
    pthread_mutex_t mu;
    size_t next, done;
    cJSON **cases;   /* per matrix index */
    rcase_res *live; /* not yet cleaned up */
    cJSON *deleted;  /* namespaces deleted (to wait for at the end) */
    int input_errors;
} rctx;

static void lock(rctx *x)
{
    pthread_mutex_lock(&x->mu);
}

static void unlock(rctx *x)
{
    pthread_mutex_unlock(&x->mu);
}

static void register_res(rcase *k)
{
    rctx *x = k->ctx;
    lock(x);
    k->res->next = x->live;
    x->live = k->res;
    unlock(x);
}

/* Unlink res from the live list (it is then the caller's). */
static void unlink_res(rctx *x, rcase_res *res)
{
    lock(x);
    for (rcase_res **p = &x->live; *p; p = &(*p)->next)
        if (*p == res) {
            *p = res->next;
            break;
        }
    unlock(x);
}

/* The cluster: the chain's kubeconfig, or --backend existing's context. */
static kube_config_opts kube_opts(const rctx *x)
{
    if (x->o->in_cluster) return (kube_config_opts){.in_cluster = true};
    if (x->o->kubeconfig || x->o->context)
        return (kube_config_opts){.kubeconfig = x->o->kubeconfig, .context = x->o->context};
    return (kube_config_opts){.kubeconfig = x->ch.kubeconfig};
}

/* The cleanup-stack entry: whatever is still live (SIGINT, exit). */
static void cleanup_live(void *vx)
{
    rctx *x = vx;
    kube_config_opts ko = kube_opts(x);
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    wih_err_free(e);
    for (rcase_res *r = x->live, *n; r; r = n) {
        n = r->next;
        if (!r->done) {
            fprintf(stderr, "wiharness: cleaning up namespace %s\n", r->ns);
            wih_err_free(chain_cleanup(&x->ch, kc, r));
        }
        if (r->nobjects) wih_err_free(real_cleanup(r));
        rcase_res_free(r);
    }
    x->live = NULL;
    kube_client_free(kc);
}

/* ------------------------------------------------------------ one case */
static cJSON *case_error(rcase *k, wih_err *e, double secs, rctx *x)
{
    e = chain_infra(&x->ch, e);
    cJSON *c = rcase_report(k, NULL, NULL, secs);
    bool input = wih_err_exit(e) == WIH_EXIT_INPUT;
    cJSON_ReplaceItemInObject(c, "status", cJSON_CreateString(wih_interrupted() ? "skipped" : "error"));
    char *m = wih_interrupted() ? wih_asprintf("interrupted (%s)", wih_err_str(e)) : wih_strdup(wih_err_str(e));
    cJSON_AddStringToObject(c, "message", m);
    free(m);
    if (input) {
        cJSON_AddStringToObject(c, "error_kind", "input");
        lock(x);
        x->input_errors++;
        unlock(x);
    }
    wih_err_free(e);
    return c;
}

/* Without a node the pods stay Pending: access cannot be checked. */
static void no_node(cJSON *c, const rcase *k)
{
    if (!k->cs->scn->expect.naccess || strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "passed")) return;
    cJSON_ReplaceItemInObject(c, "status", cJSON_CreateString("skipped"));
    char *m = wih_asprintf("the chain has no node (state.json has no \"node\"): pod assertions passed, "
                           "%zu access expectation(s) not checked",
                           k->cs->scn->expect.naccess);
    cJSON_AddStringToObject(c, "message", m);
    free(m);
}

/* An access the store never answered (status 0 and a transport error naming
 * the URL it sent to), or NULL. */
static const cJSON *access_no_answer(const cJSON *verdict)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(verdict, "access"))
    {
        const cJSON *st = cJSON_GetObjectItem(a, "status");
        const char *err = kube_obj_str(a, "error");
        if (cJSON_IsNumber(st) && st->valueint == 0 && err && (strstr(err, "http://") || strstr(err, "https://")))
            return a;
    }
    return NULL;
}

/* The probe could not reach the mock cloud or MinIO (or, --identity real,
 * the store) at all — a transport error, no HTTP status, at the exchange or
 * at an access: that is the chain failing, not the identity — an
 * infrastructure error naming it, never a failed check. */
static void transport_blame(cJSON *c, const cJSON *verdict)
{
    if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "failed")) return;
    const cJSON *ex = cJSON_GetObjectItem(verdict, "exchange"), *steps = cJSON_GetObjectItem(ex, "steps");
    const cJSON *last = cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1);
    const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(ex, "error"));
    const cJSON *st = cJSON_GetObjectItem(last, "status");
    char *m = NULL;
    const cJSON *a = NULL;
    if (!cJSON_IsTrue(cJSON_GetObjectItem(ex, "ok")) && err && cJSON_IsNumber(st) && st->valueint == 0)
        m = wih_asprintf("infrastructure: the probe got no answer from %s: %s",
                         kube_obj_str(last, "endpoint") ? kube_obj_str(last, "endpoint") : "the mock cloud", err);
    else if (cJSON_IsTrue(cJSON_GetObjectItem(ex, "ok")) && (a = access_no_answer(verdict)))
        m = wih_asprintf("infrastructure: the probe got no answer from the store: %s", kube_obj_str(a, "error"));
    if (!m) return;
    cJSON_ReplaceItemInObject(c, "status", cJSON_CreateString("error"));
    cJSON_DeleteItemFromObject(c, "message");
    cJSON_AddStringToObject(c, "message", m);
    free(m);
}

static cJSON *run_checks(rcase *k, rctx *x, int64_t t0)
{
    scn_result pr, ar;
    scn_result_init(&pr);
    scn_result_init(&ar);
    wih_err *e = rcase_assert_pods(k, &pr);
    bool node = k->ch->probe_image != NULL;
    /* with a node the probe always runs: its verdict is a fact for the
     * diagnosis (which credential won) even when no access is asserted */
    if (!e && node) e = k->osmo ? rcase_osmo_wait(k) : rcase_wait_verdict(k);
    if (!e && node && k->cs->scn->expect.naccess)
        scn_assert_access(k->cs->scn->expect.access, k->cs->scn->expect.naccess, k->verdict, &k->vars, rcase_role_of, k,
                          &ar, &e);
    cJSON *c = NULL;
    double secs = (double)(wih_now_ms() - t0) / 1000.0;
    if (e)
        c = case_error(k, e, secs, x);
    else
        c = rcase_report(k, &pr, node ? &ar : NULL, secs);
    if (!e && !node) no_node(c, k);
    if (!e) rcase_diagnose(k, c);
    if (!e && k->verdict) transport_blame(c, k->verdict);
    scn_result_free(&pr);
    scn_result_free(&ar);
    return c;
}

/* A case that did not pass while a component of the chain is down proves
 * nothing about identity: it is an infrastructure error naming the component. */
static void blame_chain(rctx *x, cJSON *c, const wih_err *cleanup_err)
{
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(c, "status"));
    if (!strcmp(st, "error") || (!strcmp(st, "passed") && !cleanup_err) || wih_interrupted()) return;
    char *b = chain_blame(&x->ch);
    if (!b) return;
    char *m = wih_asprintf("infrastructure: %s%s%s", b, cleanup_err ? "; " : "",
                           cleanup_err ? wih_err_str(cleanup_err) : "");
    cJSON_ReplaceItemInObject(c, "status", cJSON_CreateString("error"));
    cJSON_DeleteItemFromObject(c, "message");
    cJSON_AddStringToObject(c, "message", m);
    free(m);
    free(b);
}

static cJSON *run_case(rctx *x, kube_client *kc, const scn_case *cs)
{
    int64_t t0 = wih_now_ms();
    rcase k = {.ch = &x->ch, .kc = kc, .cs = cs, .o = x->o, .changes = cJSON_CreateArray(),
               .register_res = register_res, .ctx = x};
    wih_err *e = rcase_setup(&k);
    if (!e) e = x->o->osmo ? rcase_osmo_submit(&k) : rcase_pods(&k); /* --submitter osmo: runner_osmo.c */
    cJSON *c = e ? case_error(&k, e, (double)(wih_now_ms() - t0) / 1000.0, x) : run_checks(&k, x, t0);
    rcase_osmo_report(&k, c);
    bool bad = strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "passed") &&
               strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "skipped");
    if (bad && x->o->artifacts_dir) {
        cJSON *files = rcase_artifacts(&k);
        report_redact(c);
        wih_err *ae = NULL;
        if (report_artifacts_write(x->o->artifacts_dir, c, files, &ae)) wih_err_report(ae);
        cJSON_Delete(files);
    }
    if (k.res) {
        unlink_res(x, k.res);
        if (bad && x->o->keep_on_failure && !wih_interrupted()) {
            const cJSON *p = cJSON_GetArrayItem(k.admitted, 0);
            char *how = x->o->context
                            ? wih_asprintf("kubectl%s%s --context %s -n %s get pod %s -o yaml",
                                           x->o->kubeconfig ? " --kubeconfig " : "",
                                           x->o->kubeconfig ? x->o->kubeconfig : "", x->o->context, k.res->ns,
                                           p ? kube_obj_str(p, "metadata.name") : "")
                            : wih_asprintf("kubectl --kubeconfig %s -n %s get pod %s -o yaml", x->ch.kubeconfig,
                                           k.res->ns, p ? kube_obj_str(p, "metadata.name") : "");
            cJSON_AddStringToObject(c, "inspect", how);
            free(how);
            blame_chain(x, c, NULL);
        } else {
            if (k.res->ns_made) {
                lock(x);
                cJSON_AddItemToArray(x->deleted, cJSON_CreateString(k.res->ns));
                unlock(x);
            }
            wih_err *ce = chain_cleanup(&x->ch, kc, k.res);
            if (k.res->nobjects) { /* --identity real: what the run put in the operator's buckets */
                wih_err *oe = real_cleanup(k.res);
                if (oe && !ce) ce = oe;
                else wih_err_free(oe);
            }
            blame_chain(x, c, ce);
            if (ce) {
                wih_warn("%s [%s]: %s", cs->scn->name, cs->profile, wih_err_str(ce));
                wih_err_free(ce);
            }
        }
        rcase_res_free(k.res);
    }
    rcase_osmo_end(&k);
    rcase_free(&k);
    return c;
}

/* ------------------------------------------------------------ workers */
static void *worker(void *vx)
{
    rctx *x = vx;
    kube_config_opts ko = kube_opts(x);
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    for (;;) {
        lock(x);
        size_t i = x->next < x->m->n && !wih_interrupted() ? x->next++ : (size_t)-1;
        unlock(x);
        if (i == (size_t)-1) break;
        const scn_case *cs = &x->m->cases[i];
        int64_t t0 = wih_now_ms();
        cJSON *c;
        if (chain_broken()) { /* a component died: the case could prove nothing */
            rcase k = {.cs = cs, .changes = cJSON_CreateArray()};
            c = case_error(&k, wih_err_new(WIH_EXIT_INFRA, "case not run"), 0, x);
            rcase_free(&k);
        } else if (!kc) {
            rcase k = {.cs = cs, .changes = cJSON_CreateArray()};
            c = case_error(&k, wih_err_wrap(wih_err_new(wih_err_exit(e), "%s", wih_err_str(e)), "the kubeconfig"),
                           (double)(wih_now_ms() - t0) / 1000.0, x);
            rcase_free(&k);
        } else {
            c = run_case(x, kc, cs);
        }
        report_redact(c);
        lock(x);
        x->cases[i] = c;
        x->done++;
        report_console_progress(stderr, x->o->tty, (int)x->done, (int)x->m->n, NULL);
        report_console_case(x->o->out, c, x->o->verbose);
        report_console_progress(stderr, x->o->tty, (int)x->done, (int)x->m->n, "running…");
        unlock(x);
    }
    wih_err_free(e);
    kube_client_free(kc);
    return NULL;
}

/* Every namespace the run deleted is gone before the run says it is done. */
static void wait_deleted(rctx *x)
{
    kube_config_opts ko = kube_opts(x);
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    wih_err_free(e);
    char *left = NULL;
    /* a broken chain (its controller-manager may be the dead one) gets 10 s */
    int64_t ms = chain_broken() ? 10000 : 120000;
    if (chain_wait_namespaces(&x->ch, kc, x->deleted, ms, &left))
        wih_warn("namespaces still terminating after %lld s: %s", (long long)ms / 1000, left);
    free(left);
    kube_client_free(kc);
}

/* --namespace N: created by the run (an existing N is refused), or, with
 * --reuse-namespace, it must exist and is never deleted. */
static wih_err *shared_namespace(rctx *x, bool *made)
{
    kube_config_opts ko = kube_opts(x);
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    if (!kc) return e;
    const char *n = x->o->namespace_;
    if (x->o->reuse_namespace) {
        kube_ref r = {"v1", "Namespace", NULL, n};
        cJSON *got = kube_get(kc, &r, &e);
        cJSON_Delete(got);
        if (e && e->http_status == 404) {
            wih_err_free(e);
            e = wih_err_new(WIH_EXIT_INFRA, "--reuse-namespace: namespace %s does not exist", n);
        }
    } else {
        cJSON *ns = kube_obj_new("v1", "Namespace", NULL, n);
        cJSON *md = cJSON_GetObjectItem(ns, "metadata");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "wiharness.io/runner", "true");
        cJSON *got = kube_create(kc, ns, &e);
        cJSON_Delete(ns);
        cJSON_Delete(got);
        *made = !e;
        if (e && e->http_status == 409) {
            wih_err_free(e);
            e = wih_err_new(WIH_EXIT_INFRA, "--namespace %s: it already exists and this run did not create it "
                            "(add --reuse-namespace to run inside it)", n);
        }
    }
    kube_client_free(kc);
    return e ? wih_err_wrap(e, "--namespace %s", n) : NULL;
}

static void delete_shared_namespace(rctx *x)
{
    kube_config_opts ko = kube_opts(x);
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    kube_ref r = {"v1", "Namespace", NULL, x->o->namespace_};
    if (kc) kube_delete(kc, &r, -1, 0, &e);
    if (e) wih_warn("deleting namespace %s: %s", x->o->namespace_, wih_err_str(e));
    wih_err_free(e);
    kube_client_free(kc);
}

int runner_run(const scn_matrix *m, const runner_opts *o, cJSON *run, wih_err **err)
{
    rctx x = {.o = o, .m = m, .deleted = cJSON_CreateArray()};
    if ((*err = o->real ? real_chain_load(o, &x.ch) : chain_load(o->state_dir, &x.ch))) {
        chain_clear(&x.ch);
        return wih_err_exit(*err);
    }
    if (o->probe_image && !o->real) {
        free(x.ch.probe_image);
        x.ch.probe_image = wih_strdup(o->probe_image);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    bool made_ns = false;
    if (o->namespace_ && (*err = shared_namespace(&x, &made_ns))) {
        chain_clear(&x.ch);
        return wih_err_exit(*err);
    }
    pthread_mutex_init(&x.mu, NULL);
    x.cases = calloc(m->n ? m->n : 1, sizeof *x.cases);
    int h = wih_cleanup_push("the runner's scenario namespaces, roles and buckets", cleanup_live, &x);
    int64_t t0 = wih_now_ms();
    int n = o->namespace_ || o->parallel < 1 ? 1 : o->parallel > 16 ? 16 : o->parallel; /* one namespace: one case at a time */
    if ((size_t)n > m->n) n = m->n ? (int)m->n : 1;
    pthread_t th[16];
    if (!o->real) chain_watch_start(&x.ch); /* real: no chain of ours to watch */
    for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, worker, &x);
    for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    report_console_progress(stderr, o->tty, 0, 0, NULL);
    wih_cleanup_pop(h, true);
    if (made_ns) {
        cJSON_AddItemToArray(x.deleted, cJSON_CreateString(o->namespace_));
        delete_shared_namespace(&x);
    }
    wait_deleted(&x);
    if (!o->real) chain_watch_stop();
    for (size_t i = 0; i < m->n; i++)
        if (x.cases[i]) report_add_case(run, x.cases[i]);
    int rc = report_summarize(run, (double)(wih_now_ms() - t0) / 1000.0);
    if (wih_interrupted()) rc = WIH_EXIT_INTERRUPTED;
    cJSON_ReplaceItemInObject(cJSON_GetObjectItem(run, "summary"), "exit_code", cJSON_CreateNumber(rc));
    free(x.cases);
    cJSON_Delete(x.deleted);
    pthread_mutex_destroy(&x.mu);
    chain_clear(&x.ch);
    return rc;
}
