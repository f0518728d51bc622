/* The facts of a case for the diagnosis (issue 14, docs/diagnosis.md): what
 * the case collected plus what the API server and the decision logs say, for
 * diag_runtime (rcase_diagnose, runner_flow.c); and their summary for people
 * (kase.facts). */
#include <stdlib.h>
#include <string.h>

#include "runner_case.h"
#include "wiharness/realmap.h"
#include "wiharness/cloud.h"
#include "wiharness/diagnosis.h"
#include "wiharness/report.h"
#include "wiharness/jsonpath.h"

/* The values as a SOURCE: positions from the file or the scenario document
 * (the tree is the expanded one the case used). */
static cJSON *values_source(const rcase *k)
{
    const scn_input *in = &k->cs->scn->values;
    cJSON *src = NULL;
    if (in->kind == SCN_SRC_FILE) {
        wih_err *e = NULL;
        wih_ydocs *d = wih_yaml_load_file(in->path, &e);
        wih_err_free(e);
        if (d && wih_ydocs_count(d)) src = diag_source(in->path, d, 0);
        wih_ydocs_free(d);
    } else if (in->kind == SCN_SRC_INLINE && scn_docs(k->cs->scn)) {
        src = diag_source_node(k->cs->scn->file, scn_docs(k->cs->scn), 0, in->tree);
    }
    if (!src) {
        src = cJSON_CreateObject();
        cJSON_AddStringToObject(src, "file", in->kind == SCN_SRC_NONE ? "<the guide's values>" : k->cs->scn->file);
        cJSON_AddNumberToObject(src, "doc", 0);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(src, "tree");
    cJSON_AddItemToObject(src, "tree", cJSON_Duplicate(k->values, true));
    return src;
}

static cJSON *sa_source(const rcase *k)
{
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "file", "<the scenario's serviceAccount>");
    cJSON_AddNumberToObject(src, "doc", 0);
    cJSON_AddItemToObject(src, "tree", cJSON_Duplicate(k->sa, true));
    return src;
}

/* The JSONL lines of a log file that mention any of the needles (NULL-terminated). */
static cJSON *log_lines(const char *path, const char *const *needles)
{
    char *text = rcase_log_grep(path, needles);
    cJSON *out = diag_jsonl(text, NULL, NULL);
    free(text);
    return out;
}

/* The chain serves every profile's webhook side by side: only the decisions
 * of the case's profile are about its identity. */
static cJSON *own_profile(cJSON *lines, const char *profile)
{
    for (int i = cJSON_GetArraySize(lines) - 1; i >= 0; i--) {
        const char *p = wih_json_member_str(cJSON_GetArrayItem(lines, i), "profile");
        if (p && strcmp(p, profile)) cJSON_DeleteItemFromArray(lines, i);
    }
    return lines;
}

/* The identity the scenario expects (the principal of its first allowed
 * access's role): the cloud's own principal when it maps to that role. */
static char *expected_identity(const rcase *k)
{
    const char *role = NULL;
    for (size_t i = 0; i < k->cs->scn->expect.naccess && !role; i++)
        if (k->cs->scn->expect.access[i].result == SCN_RES_ALLOWED) role = k->cs->scn->expect.access[i].identity;
    if (!role) return NULL;
    const char *got = k->verdict ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                       cJSON_GetObjectItemCaseSensitive(k->verdict, "exchange"), "identity"))
                                 : NULL;
    const char *mapped = got ? rcase_role_of((void *)k, got) : NULL;
    if (mapped && !strcmp(mapped, role)) return wih_strdup(got);
    if (k->o && k->o->real && k->res) /* --identity real: the principal the map names */
        return wih_strdup(realmap_role(k->res->real, k->cs->scn->name, role));
    char *real = rcase_real_role(k, role), *id;
    const char *p = k->cs->profile;
    id = !strcmp(p, "aws-irsa") ? cloud_aws_role_arn(real) : !strcmp(p, "azure-wi") ? cloud_entra_client_id(real)
                                                                                    : cloud_google_sa_email(real);
    free(real);
    return id;
}

static cJSON *expect_access(const rcase *k)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < k->cs->scn->expect.naccess; i++) {
        cJSON *o = rcase_access_json(k, i, NULL);
        cJSON_AddStringToObject(o, "result", scn_result_name(k->cs->scn->expect.access[i].result));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* What the API server has: the registrations and the namespace's labels. */
static void cluster_facts(const rcase *k, cJSON *f)
{
    if (!k->kc) return;
    wih_err *e = NULL;
    cJSON *l = kube_list(k->kc, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", NULL, NULL, &e);
    if (l) {
        cJSON *items = cJSON_DetachItemFromObjectCaseSensitive(l, "items");
        /* the chain registers one webhook per profile (wiharness-<profile>): only the case's own counts */
        char *own = wih_asprintf("wiharness-%s", k->cs->profile);
        for (int i = cJSON_GetArraySize(items) - 1; i >= 0; i--) {
            const char *n = wih_json_member_str(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items, i), "metadata"), "name");
            if (n && !strncmp(n, "wiharness-", 10) && strcmp(n, own)) cJSON_DeleteItemFromArray(items, i);
        }
        free(own);
        cJSON_AddBoolToObject(f, "webhook_registered", cJSON_GetArraySize(items) > 0);
        cJSON_AddItemToObject(f, "webhook_configurations", items ? items : cJSON_CreateArray());
        cJSON_Delete(l);
    }
    wih_err_free(e);
    e = NULL;
    kube_ref r = {"v1", "Namespace", NULL, k->res ? k->res->ns : NULL};
    cJSON *ns = r.name ? kube_get(k->kc, &r, &e) : NULL;
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ns, "metadata"), "labels");
    if (lb) cJSON_AddItemToObject(f, "namespace_labels", cJSON_Duplicate(lb, true));
    cJSON_Delete(ns);
    wih_err_free(e);
}

cJSON *rcase_facts(const rcase *k, const cJSON *kase)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "profile", k->cs->profile);
    cJSON_AddStringToObject(f, "pool", k->cs->scn->pool ? k->cs->scn->pool : "default");
    if (k->res) cJSON_AddStringToObject(f, "namespace", k->res->ns);
    if (k->values) cJSON_AddItemToObject(f, "values", values_source(k));
    if (k->sa) cJSON_AddItemToArray(cJSON_AddArrayToObject(f, "service_accounts"), sa_source(k));
    const cJSON *rp = cJSON_GetArrayItem(k->rendered, 0), *ap = cJSON_GetArrayItem(k->admitted, 0);
    if (rp) cJSON_AddItemToObject(f, "rendered_pod", cJSON_Duplicate(rp, true));
    if (ap) cJSON_AddItemToObject(f, "admitted_pod", cJSON_Duplicate(ap, true));
    if (k->res) {
        char *subj = wih_asprintf("system:serviceaccount:%s:", k->res->ns);
        const char *wn[] = {k->res->ns, NULL}, *cn[] = {subj, k->prefix, NULL};
        cJSON_AddItemToObject(f, "webhook_log", own_profile(log_lines(k->ch->webhook_log, wn), k->cs->profile));
        cJSON_AddItemToObject(f, "cloud_log", log_lines(k->ch->cloud_log, cn));
        free(subj);
    }
    cluster_facts(k, f);
    const char *msg = wih_json_member_str(kase, "message");
    if (msg && strstr(msg, "failed calling webhook")) cJSON_AddStringToObject(f, "webhook_call_error", msg);
    if (k->verdict) cJSON_AddItemToObject(f, "probe", cJSON_Duplicate(k->verdict, true));
    char *want = expected_identity(k);
    if (want) cJSON_AddStringToObject(f, "expected_identity", want);
    free(want);
    cJSON_AddItemToObject(f, "expect_access", expect_access(k));
    char *t = report_failure_text(kase), *nl = strchr(t, '\n');
    if (nl) *nl = 0;
    if (*t) cJSON_AddStringToObject(f, "failure", t);
    free(t);
    return f;
}

/* The pod as the team would see it: SA, labels, the main container's env
 * (values redacted later with the report), projected token volumes + mounts. */
static cJSON *pod_summary(const cJSON *pod)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(pod, "metadata"), *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    if (wih_json_member_str(md, "name"))
        cJSON_AddStringToObject(o, "name", wih_json_member_str(md, "name"));
    if (wih_json_member_str(spec, "serviceAccountName"))
        cJSON_AddStringToObject(o, "serviceAccountName",
                                wih_json_member_str(spec, "serviceAccountName"));
    const cJSON *lb = cJSON_GetObjectItemCaseSensitive(md, "labels");
    if (lb) cJSON_AddItemToObject(o, "labels", cJSON_Duplicate(lb, true));
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
    {
        if (!wih_json_member_str(c, "name") || strcmp(wih_json_member_str(c, "name"), "osmo-ctrl"))
            continue;
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
        cJSON_AddItemToObject(o, "env", env ? cJSON_Duplicate(env, true) : cJSON_CreateArray());
        const cJSON *vm = cJSON_GetObjectItemCaseSensitive(c, "volumeMounts");
        cJSON_AddItemToObject(o, "volumeMounts", vm ? cJSON_Duplicate(vm, true) : cJSON_CreateArray());
    }
    cJSON *tv = cJSON_AddArrayToObject(o, "token_volumes");
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(spec, "volumes"))
    {
        const cJSON *src, *pr = cJSON_GetObjectItemCaseSensitive(v, "projected");
        cJSON_ArrayForEach(src, cJSON_GetObjectItemCaseSensitive(pr, "sources"))
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(src, "serviceAccountToken");
            if (!t) continue;
            cJSON *x = cJSON_Duplicate(t, true);
            cJSON_AddStringToObject(x, "volume", wih_json_member_str_or(v, "name", ""));
            cJSON_AddItemToArray(tv, x);
        }
    }
    return o;
}

/* The facts worth showing with a finding (reports are read by people). */
cJSON *rcase_facts_summary(const cJSON *f)
{
    static const char *const keep[] = {"profile", "pool", "namespace", "webhook_registered", "namespace_labels",
                                       "webhook_call_error", "webhook_log", "cloud_log", "expected_identity",
                                       "expect_access", "failure", NULL};
    cJSON *s = cJSON_CreateObject();
    for (const char *const *k = keep; *k; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, *k);
        if (v) cJSON_AddItemToObject(s, *k, cJSON_Duplicate(v, true));
    }
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(f, "service_accounts"), 0), "tree");
    if (sa) cJSON_AddItemToObject(s, "service_account", cJSON_Duplicate(sa, true));
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(f, "admitted_pod");
    if (ap) cJSON_AddItemToObject(s, "admitted_pod", pod_summary(ap));
    return s;
}
