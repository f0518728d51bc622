/* A case after setup: the pods OSMO would create, changed, created, admitted,
 * run; the verdict; the assertions; the report entry and artifacts. */
#include <stdlib.h>
#include <string.h>

#include "runner_case.h"
#include "runner_real.h"
#include "wiharness/source.h"
#include "wiharness/cloud.h"
#include "wiharness/diagnosis.h"
#include "wiharness/report.h"

/* ------------------------------------------------------------ inputs */
/* The guide's values (steps 3-4) when the scenario names none. */
static cJSON *guide_values(const rcase *k, wih_err **err)
{
    const char *pools[] = {k->cs->scn->pool ? k->cs->scn->pool : "default", NULL};
    osmo_values_opts o = {.template_name = "workflow_workload_identity", .service_account = k->cs->scn->sa_name,
                          .pools = pools, .profile = k->cs->profile};
    return osmo_values_fragment(&o, err);
}

/* A one-task workflow writing to the first bucket. */
static cJSON *default_workflow(const rcase *k)
{
    cJSON *w = cJSON_CreateObject(), *wf = cJSON_AddObjectToObject(w, "workflow");
    char *name = wih_strdup(k->cs->scn->name);
    for (char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) *p = '-';
    cJSON_AddStringToObject(wf, "name", name);
    free(name);
    cJSON *res = cJSON_AddObjectToObject(cJSON_AddObjectToObject(wf, "resources"), "default");
    cJSON_AddNumberToObject(res, "cpu", 1);
    cJSON_AddStringToObject(res, "memory", "1Gi");
    cJSON_AddStringToObject(res, "storage", "1Gi");
    cJSON_AddNumberToObject(res, "gpu", 0);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", "probe");
    cJSON_AddStringToObject(t, "image", "ubuntu");
    cJSON_AddItemToObject(t, "command", cJSON_CreateStringArray((const char *[]){"true"}, 1));
    if (k->cs->scn->nbuckets) {
        char *u = wih_asprintf("s3://%s%s/out/", k->vars.bucket_prefix, k->cs->scn->buckets[0]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "url", u);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "outputs"), o);
        free(u);
    }
    cJSON_AddItemToArray(cJSON_AddArrayToObject(wf, "tasks"), t);
    return w;
}

/* A git+URL#REF:PATH input (source.h): read at REF, parsed with the source as
 * its name, provenance recorded in the case. */
static cJSON *git_input(rcase *k, const scn_input *in, wih_ydocs **docs, wih_err **err)
{
    cJSON *prov = NULL;
    size_t n = 0;
    char *text = src_read(in->path, NULL, &n, &prov, err);
    if (!text) {
        *err = wih_err_wrap(*err, "%s:%d:%d", k->cs->scn->file, in->src.line, in->src.col);
        return NULL;
    }
    cJSON *t = NULL;
    if ((*docs = wih_yaml_load_string(in->path, text, n, err))) {
        if (wih_ydocs_count(*docs) != 1)
            *err = wih_err_new(WIH_EXIT_INPUT, "%s: expected one YAML document", in->path);
        else
            t = cJSON_Duplicate(wih_ydocs_root(*docs, 0), true);
    }
    free(text);
    if (!k->sources) k->sources = cJSON_CreateArray();
    cJSON_AddItemToArray(k->sources, prov);
    return t;
}

/* A scenario input as a tree (copied, templates expanded); *docs keeps file positions. */
static cJSON *load_input(rcase *k, const scn_input *in, wih_ydocs **docs, wih_err **err)
{
    cJSON *t = NULL;
    *docs = NULL;
    if (in->kind == SCN_SRC_FILE) {
        t = wih_yaml_load_one(in->path, docs, err);
        if (t) t = cJSON_Duplicate(t, true);
        if (t && !k->sources) k->sources = cJSON_CreateArray();
        if (t) cJSON_AddItemToArray(k->sources, src_file_provenance(in->path));
    } else if (in->kind == SCN_SRC_INLINE) {
        t = cJSON_Duplicate(in->tree, true);
    } else if (in->kind == SCN_SRC_GIT) {
        t = git_input(k, in, docs, err);
    }
    if (t && scn_expand_tree(t, &k->vars, err)) {
        cJSON_Delete(t);
        t = NULL;
    }
    return t;
}

static osmo_config *load_values(rcase *k, wih_err **err)
{
    wih_ydocs *docs = NULL;
    const scn_input *in = &k->cs->scn->values;
    cJSON *t = in->kind == SCN_SRC_NONE ? guide_values(k, err) : load_input(k, in, &docs, err);
    if (!t) return NULL;
    cJSON_Delete(k->values);
    k->values = cJSON_Duplicate(t, true);
    osmo_config *cfg = osmo_config_from_tree(t, NULL, OSMO_MODE_AUTO, err);
    cJSON_Delete(t);
    wih_ydocs_free(docs);
    if (!cfg) return NULL;
    if (k->o->real) { /* the map's endpoints, never the mock's */
        if (real_add_template(k, cfg, err)) {
            osmo_config_free(cfg);
            return NULL;
        }
        return cfg;
    }
    cJSON *tmpl = runner_endpoints_template(k->ch->pod_urls);
    const char *pool = k->cs->scn->pool ? k->cs->scn->pool : "default";
    if (tmpl && runner_config_add_template(cfg, pool, RUNNER_ENDPOINTS_TEMPLATE, tmpl, k->changes, err)) {
        osmo_config_free(cfg);
        cfg = NULL;
    }
    cJSON_Delete(tmpl);
    return cfg;
}

/* ------------------------------------------------------------ pods */
/* Seed an object at every read URL in a bucket of this case, so a read
 * that is allowed finds something. */
void rcase_seed_reads(rcase *k, const cJSON *access)
{
    if (k->o->real) {
        real_prepare_objects(k, access);
        return;
    }
    s3_client *s3 = s3_client_new(k->ch->minio_url, &k->ch->root, k->ch->ca_file);
    const cJSON *a;
    cJSON_ArrayForEach(a, access)
    {
        const char *s = a->valuestring;
        if (strncmp(s, "read:s3://", 10) && strncmp(s, "list:s3://", 10)) continue;
        char *b = wih_strdup(s + 10), *key = strchr(b, '/');
        if (key) *key++ = 0;
        if (!strncmp(b, k->prefix, strlen(k->prefix)) && key && *key) {
            wih_err *e = NULL;
            s3_put_object(s3, b, key, "seeded by wiharness run\n", 24, &e);
            wih_err_free(e);
        }
        free(b);
    }
    s3_client_free(s3);
}

static wih_err *change_pods(rcase *k, cJSON *pods, const cJSON *wf)
{
    cJSON *p;
    wih_err *e = NULL;
    cJSON_ArrayForEach(p, pods)
    {
        const char *task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(p, "metadata"), "labels"), "osmo.task_name"));
        cJSON *acc = runner_access_list(wf, task, k->cs->scn, &k->vars, k->cs->profile, &e);
        if (!acc) return e;
        rcase_seed_reads(k, acc);
        runner_adapt adapt = {.probe_image = k->ch->probe_image ? k->ch->probe_image : "wiharness-probe:no-node",
                              .profile = k->cs->profile, .access = acc};
        runner_adapt_pod(p, &adapt, k->changes);
        cJSON_Delete(acc);
    }
    return NULL;
}

cJSON *runner_workflow(const scn_case *cs, const scn_vars *v, wih_err **err)
{
    rcase k = {.cs = cs, .vars = *v};
    wih_ydocs *wd = NULL;
    const scn_input *wi = &cs->scn->workflow;
    cJSON *wf = wi->kind == SCN_SRC_NONE ? default_workflow(&k) : load_input(&k, wi, &wd, err);
    wih_ydocs_free(wd);
    cJSON_Delete(k.sources);
    return wf;
}

wih_err *rcase_pods(rcase *k)
{
    wih_err *e = NULL;
    osmo_config *cfg = load_values(k, &e);
    if (!cfg) return wih_err_wrap(e, "the scenario's values");
    wih_ydocs *wd = NULL;
    const scn_input *wi = &k->cs->scn->workflow;
    cJSON *wf = wi->kind == SCN_SRC_NONE ? default_workflow(k) : load_input(k, wi, &wd, &e);
    cJSON *pods = NULL;
    if (wf) {
        osmo_render_opts ro = {.pool = k->cs->scn->pool, .namespace_ = k->res->ns,
                               .seed = (unsigned long)wih_wall_ms()};
        pods = osmo_render(cfg, wf, NULL, &ro, &e);
    }
    osmo_config_free(cfg);
    wih_ydocs_free(wd);
    if (pods) e = change_pods(k, pods, wf);
    cJSON_Delete(wf);
    if (!pods || e) {
        cJSON_Delete(pods);
        return wih_err_wrap(e, "rendering the pods OSMO would create");
    }
    k->rendered = pods;
    k->admitted = cJSON_CreateArray();
    const cJSON *p;
    cJSON_ArrayForEach(p, pods)
    {
        cJSON *got = kube_create(k->kc, p, &e);
        if (!got) return wih_err_wrap(e, "creating pod %s", kube_obj_str(p, "metadata.name"));
        cJSON_AddItemToArray(k->admitted, got);
        if (k->o->namespace_) { /* a shared namespace: remember each pod to delete it */
            k->res->pods = wih_xrealloc(k->res->pods, (k->res->npods + 1) * sizeof *k->res->pods);
            k->res->pods[k->res->npods++] = wih_strdup(kube_obj_str(got, "metadata.name"));
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ polling */
static wih_err *refresh(rcase *k)
{
    for (int i = 0; i < cJSON_GetArraySize(k->admitted); i++) {
        cJSON *p = cJSON_GetArrayItem(k->admitted, i);
        kube_ref r = {"v1", "Pod", k->res->ns, kube_obj_str(p, "metadata.name")};
        wih_err *e = NULL;
        cJSON *got = kube_get(k->kc, &r, &e);
        if (!got) return e;
        cJSON_ReplaceItemInArray(k->admitted, i, got);
    }
    return NULL;
}

wih_err *rcase_assert_pods(rcase *k, scn_result *r)
{
    const cJSON *exp = k->cs->scn->expect.pod;
    int64_t end = wih_now_ms() + k->cs->scn->timeouts.admission_ms;
    for (;;) {
        scn_result_free(r);
        scn_result_init(r);
        wih_err *e = NULL;
        /* one expectation for every pod of the workflow */
        const cJSON *p;
        cJSON_ArrayForEach(p, k->admitted) if (scn_assert_pod(exp, p, k->cs->scn, r, &e)) return e;
        /* a field that is there and differs is final; one not there yet may come */
        if (!r->not_yet || wih_now_ms() >= end || chain_stop_sleep(200)) return NULL;
        if ((e = refresh(k))) return e;
    }
}

/* The main container's termination message, or NULL (*state says why). */
static const char *main_message(const cJSON *pod, const char *main, char **state)
{
    const cJSON *cs, *st = cJSON_GetObjectItemCaseSensitive(pod, "status");
    free(*state);
    *state = wih_asprintf("pod phase %s", kube_obj_str(pod, "status.phase") ? kube_obj_str(pod, "status.phase") : "?");
    cJSON_ArrayForEach(cs, cJSON_GetObjectItemCaseSensitive(st, "containerStatuses"))
    {
        const char *n = kube_obj_str(cs, "name");
        if (!n || strcmp(n, main)) continue;
        const cJSON *term = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cs, "state"), "terminated");
        const cJSON *wait = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cs, "state"), "waiting");
        if (wait) {
            free(*state);
            *state = wih_asprintf("%s waiting: %s %s", main, kube_obj_str(wait, "reason") ? kube_obj_str(wait, "reason") : "",
                                  kube_obj_str(wait, "message") ? kube_obj_str(wait, "message") : "");
        }
        if (term) {
            const char *m = kube_obj_str(term, "message");
            if (m) return m;
            free(*state);
            *state = wih_asprintf("%s terminated (exit %d) without a verdict", main,
                                  cJSON_GetObjectItemCaseSensitive(term, "exitCode")
                                      ? cJSON_GetObjectItemCaseSensitive(term, "exitCode")->valueint
                                      : -1);
            return "";
        }
    }
    return NULL;
}

int rcase_verdict_poll(rcase *k, wih_err **err)
{
    if ((*err = refresh(k))) return -1;
    const cJSON *pod = cJSON_GetArrayItem(k->admitted, 0);
    const char *m = main_message(pod, k->verdict_container ? k->verdict_container : "osmo-ctrl", &k->pod_state);
    if (m && *m) {
        k->verdict = cJSON_Parse(m);
        if (!k->verdict) {
            free(k->pod_state);
            k->pod_state = wih_strdup("the probe's termination message is not JSON");
        }
    }
    return m ? 1 : 0;
}

wih_err *rcase_wait_verdict(rcase *k)
{
    int64_t end = wih_now_ms() + k->cs->scn->timeouts.pod_ms + k->cs->scn->timeouts.access_ms;
    for (;;) {
        wih_err *e = NULL;
        int r = rcase_verdict_poll(k, &e);
        if (r < 0) return e;
        if (r || wih_now_ms() >= end || chain_stop_sleep(500)) return NULL;
    }
}

/* ------------------------------------------------------------ report */
const char *rcase_role_of(void *ctx, const char *principal)
{
    const rcase *k = ctx;
    static __thread char buf[256];
    if (k->o && k->o->real) return real_role_of(k, principal);
    for (size_t i = 0; i < k->cs->scn->nroles; i++) {
        const char *logical = k->cs->scn->roles[i].name;
        char *real = rcase_real_role(k, logical);
        char *arn = cloud_aws_role_arn(real), *cid = cloud_entra_client_id(real), *gsa = cloud_google_sa_email(real);
        char *assumed = wih_asprintf("arn:aws:sts::000000000000:assumed-role/%s/", real);
        bool hit = !strcmp(principal, arn) || !strcmp(principal, cid) || !strcmp(principal, gsa) ||
                   !strncmp(principal, assumed, strlen(assumed)) || !strcmp(principal, real);
        free(real);
        free(arn);
        free(cid);
        free(gsa);
        free(assumed);
        if (hit) {
            snprintf(buf, sizeof buf, "%s", logical);
            return buf;
        }
    }
    return NULL;
}

/* A mismatch's text as a JSON value when it is one ("\"a\"", 3, {…}), else the text. */
static cJSON *text_value(const char *t)
{
    cJSON *v = cJSON_Parse(t);
    return v ? v : cJSON_CreateString(t);
}

static cJSON *mismatches_json(const scn_result *r)
{
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; r && i < r->n; i++) {
        const scn_mismatch *m = &r->items[i];
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "path", m->path ? m->path : "");
        cJSON_AddItemToObject(x, "expected", text_value(m->expected ? m->expected : ""));
        cJSON_AddItemToObject(x, "actual", m->actual ? text_value(m->actual) : cJSON_CreateNull());
        char *msg = m->kind == SCN_M_NOT_YET ? wih_asprintf("not there by the deadline%s%s", m->why ? ": " : "", m->why ? m->why : "")
                                             : wih_strdup(m->why);
        if (msg) cJSON_AddStringToObject(x, "message", msg);
        free(msg);
        if (m->src.line) {
            char *at = wih_asprintf("%s:%d:%d", m->src.file ? m->src.file : "", m->src.line, m->src.col);
            cJSON_AddStringToObject(x, "at", at);
            free(at);
        }
        cJSON_AddItemToArray(out, x);
    }
    return out;
}

static const cJSON *verdict_entry(const cJSON *verdict, const char *op, const char *url)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(verdict, "access"))
    {
        const char *o = kube_obj_str(a, "op"), *u = kube_obj_str(a, "url");
        if (o && u && !strcmp(o, op) && !strcmp(u, url)) return a;
    }
    return NULL;
}

/* "credential used: static-env (AWS_ACCESS_KEY_ID + …)" */
static char *credential_text(const cJSON *verdict)
{
    const char *src = kube_obj_str(verdict, "credential.source"), *det = kube_obj_str(verdict, "credential.detail");
    if (!src) return wih_strdup("");
    return wih_asprintf("; credential used: %s%s%s%s", src, det ? " (" : "", det ? det : "", det ? ")" : "");
}

cJSON *rcase_access_json(const rcase *k, size_t i, char **expanded)
{
    const scn_access *a = &k->cs->scn->expect.access[i];
    wih_err *e = NULL;
    char *url = scn_expand(a->url, &k->vars, &e);
    wih_err_free(e);
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "op", scn_op_name(a->op));
    cJSON_AddStringToObject(x, "url", url ? url : a->url);
    if (expanded)
        *expanded = url;
    else
        free(url);
    return x;
}

static cJSON *access_entry(rcase *k, size_t i, const scn_result *acc)
{
    const scn_access *a = &k->cs->scn->expect.access[i];
    char *url = NULL;
    cJSON *x = rcase_access_json(k, i, &url);
    cJSON *ex = cJSON_AddObjectToObject(x, "expect");
    cJSON_AddStringToObject(ex, "result", scn_result_name(a->result));
    if (a->identity) cJSON_AddStringToObject(ex, "identity", a->identity);
    if (a->reason) cJSON_AddStringToObject(ex, "reason", a->reason);
    if (a->code) cJSON_AddStringToObject(ex, "code", a->code);
    const cJSON *v = url ? verdict_entry(k->verdict, scn_op_name(a->op), url) : NULL;
    cJSON *ac = v ? cJSON_Duplicate(v, true) : cJSON_CreateNull();
    const char *id = kube_obj_str(v, "identity");
    const char *role = id ? rcase_role_of(k, id) : NULL;
    if (v && role) cJSON_AddStringToObject(ac, "role", role);
    cJSON_AddItemToObject(x, "actual", ac);
    char *prefix = wih_asprintf("access[%zu]", i);
    wih_buf msg;
    wih_buf_init(&msg, 1 << 16);
    wih_buf_adds(&msg, "");
    for (size_t j = 0; acc && j < acc->n; j++) {
        const scn_mismatch *m = &acc->items[j];
        size_t pl = strlen(prefix);
        if (!m->path || strncmp(m->path, prefix, pl) || (m->path[pl] && m->path[pl] != '.')) continue;
        wih_buf_addf(&msg, "%s%s: expected %s, got %s", msg.len ? "; " : "", m->path + pl + (m->path[pl] == '.'),
                     m->expected ? m->expected : "?", m->kind == SCN_M_NOT_YET ? "nothing yet" : m->actual ? m->actual : "absent");
    }
    cJSON_AddBoolToObject(x, "ok", msg.len == 0);
    if (msg.len) {
        char *cred = credential_text(k->verdict);
        if (!v && k->pod_state) wih_buf_addf(&msg, " (no verdict: %s)", k->pod_state);
        wih_buf_adds(&msg, cred);
        free(cred);
        cJSON_AddStringToObject(x, "message", msg.data);
    }
    wih_buf_free(&msg);
    free(prefix);
    free(url);
    return x;
}

cJSON *rcase_report(rcase *k, const scn_result *pod, const scn_result *acc, double secs)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "scenario", k->cs->scn->name);
    cJSON_AddStringToObject(c, "profile", k->cs->profile);
    cJSON_AddStringToObject(c, "file", k->cs->scn->file ? k->cs->scn->file : "");
    cJSON_AddStringToObject(c, "namespace", k->res ? k->res->ns : "");
    bool ok = (!pod || scn_result_ok(pod)) && (!acc || scn_result_ok(acc));
    cJSON_AddStringToObject(c, "status", ok ? "passed" : "failed");
    cJSON_AddNumberToObject(c, "duration_s", (double)(long)(secs * 1000 + 0.5) / 1000);
    cJSON_AddItemToObject(c, "mismatches", mismatches_json(pod));
    cJSON *al = cJSON_AddArrayToObject(c, "access");
    for (size_t i = 0; acc && i < k->cs->scn->expect.naccess; i++) cJSON_AddItemToArray(al, access_entry(k, i, acc));
    cJSON_AddItemToObject(c, "changes", cJSON_Duplicate(k->changes, true));
    if (k->sources) cJSON_AddItemToObject(c, "sources", cJSON_Duplicate(k->sources, true));
    const cJSON *p = cJSON_GetArrayItem(k->admitted, 0);
    if (p && kube_obj_str(p, "metadata.name")) cJSON_AddStringToObject(c, "pod", kube_obj_str(p, "metadata.name"));
    if (k->verdict) cJSON_AddItemToObject(c, "verdict", cJSON_Duplicate(k->verdict, true));
    return c;
}

/* ------------------------------------------------------------ diagnosis */
static char *grep_lines(const char *path, const char *needle);

void rcase_diagnose(rcase *k, cJSON *c)
{
    bool failed = !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "failed");
    cJSON *facts = failed || k->cs->scn->expect.ndiagnosis || k->o->facts ? rcase_facts(k, c) : NULL; /* runner_diag.c */
    if (facts) cJSON_AddItemToObject(c, "facts", rcase_facts_summary(facts));
    if (!failed && !k->cs->scn->expect.ndiagnosis) {
        cJSON_Delete(facts);
        return;
    }
    wih_err *e = NULL;
    cJSON *found = diag_runtime(facts, &e);
    cJSON_Delete(facts);
    if (!found) {
        wih_warn("%s [%s]: diagnosis: %s", k->cs->scn->name, k->cs->profile, wih_err_str(e));
        wih_err_free(e);
        found = cJSON_CreateArray();
    }
    cJSON *ids = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, found) cJSON_AddItemToArray(ids, cJSON_CreateString(kube_obj_str(x, "id") ? kube_obj_str(x, "id") : "?"));
    for (size_t i = 0; i < k->cs->scn->expect.ndiagnosis; i++) {
        const char *want = k->cs->scn->expect.diagnosis[i];
        bool seen = false;
        cJSON_ArrayForEach(x, ids) seen = seen || !strcmp(x->valuestring, want);
        if (seen) continue;
        cJSON *m = cJSON_CreateObject();
        char *p = wih_asprintf("diagnosis[%zu]", i);
        cJSON_AddStringToObject(m, "path", p);
        cJSON_AddStringToObject(m, "expected", want);
        cJSON_AddItemToObject(m, "actual", cJSON_Duplicate(ids, true));
        cJSON_AddStringToObject(m, "message", "the diagnosis did not name it");
        cJSON_AddItemToArray(cJSON_GetObjectItem(c, "mismatches"), m);
        cJSON_ReplaceItemInObject(c, "status", cJSON_CreateString("failed"));
        free(p);
    }
    cJSON_Delete(ids);
    cJSON_AddItemToObject(c, "findings", found);
}

/* ------------------------------------------------------------ artifacts */
char *rcase_log_grep(const char *path, const char *const *needles)
{
    char *text = path ? wih_read_file(path, 64 << 20, NULL, NULL) : NULL;
    wih_buf b;
    wih_buf_init(&b, 16 << 20);
    wih_buf_adds(&b, "");
    char *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save))
        for (const char *const *n = needles; *n; n++)
            if (strstr(l, *n)) {
                wih_buf_addf(&b, "%s\n", l);
                break;
            }
    free(text);
    return wih_buf_take(&b);
}

/* The lines of a log file that mention needle (redacted later). */
static char *grep_lines(const char *path, const char *needle)
{
    const char *const needles[] = {needle, NULL};
    return rcase_log_grep(path, needles);
}

cJSON *rcase_artifacts(rcase *k)
{
    cJSON *f = cJSON_CreateObject();
    if (k->admitted) cJSON_AddItemToObject(f, "pod.json", cJSON_Duplicate(k->admitted, true));
    if (k->rendered) cJSON_AddItemToObject(f, "rendered-pod.json", cJSON_Duplicate(k->rendered, true));
    if (k->sa) cJSON_AddItemToObject(f, "serviceaccount.json", cJSON_Duplicate(k->sa, true));
    if (k->verdict) cJSON_AddItemToObject(f, "verdict.json", cJSON_Duplicate(k->verdict, true));
    wih_err *e = NULL;
    cJSON *ev = k->kc && k->res ? kube_list(k->kc, "v1", "Event", k->res->ns, NULL, &e) : NULL;
    wih_err_free(e);
    if (ev) cJSON_AddItemToObject(f, "events.json", ev);
    if (k->res) {
        char *wl = grep_lines(k->ch->webhook_log, k->res->ns);
        char *subj = wih_asprintf("system:serviceaccount:%s:", k->res->ns);
        char *cl = grep_lines(k->ch->cloud_log, subj);
        cJSON_AddStringToObject(f, "webhook-decisions.jsonl", wl);
        cJSON_AddStringToObject(f, "cloud-decisions.jsonl", cl);
        free(wl);
        free(cl);
        free(subj);
    }
    return f;
}

void rcase_free(rcase *k)
{
    free(k->prefix);
    cJSON_Delete(k->sa);
    cJSON_Delete(k->changes);
    cJSON_Delete(k->rendered);
    cJSON_Delete(k->admitted);
    cJSON_Delete(k->verdict);
    cJSON_Delete(k->values);
    cJSON_Delete(k->sources);
    free(k->pod_state);
}
