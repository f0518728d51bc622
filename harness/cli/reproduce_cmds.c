/* wiharness reproduce — "a team reported it" (issue 14 item 4): a scenario
 * built from the team's own Helm values and ServiceAccount manifest, run on
 * the local chain; prints what the team would see (kubectl-describe style)
 * and the diagnosis. docs/troubleshooting.md "Reproducing a report". */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/cli.h"
#include "wiharness/cluster.h"
#include "wiharness/diagnosis.h"
#include "wiharness/report.h"
#include "wiharness/runner.h"
#include "wiharness/yamljson.h"

typedef struct {
    const char *values, *sa, *profile, *pool, *workflow, *save, *state_dir, *output;
} repro_cfg;

#define RO(n, f, m, h) {n, 0, WIH_OPT_STR, offsetof(repro_cfg, f), m, h, false}
static const wih_opt k_repro_opts[] = {
    {"output", 'o', WIH_OPT_CHOICE, offsetof(repro_cfg, output), "text|json",
     "text (default, kubectl-describe style) or json (one object on stdout)", false},
    RO("pool", pool, "NAME", "the pool the team submits to (default: default)"),
    {"profile", 0, WIH_OPT_CHOICE, offsetof(repro_cfg, profile), WIH_PROFILE_CHOICES,
     "the team's provider (required; the profiles the local chain serves)", false},
    RO("sa", sa, "FILE", "the team's ServiceAccount manifest (required)"),
    RO("save", save, "FILE", "also write the generated scenario to FILE (loadable by `wiharness run`)"),
    RO("state-dir", state_dir, "DIR", "the local chain's state dir (default as `wiharness up`)"),
    RO("values", values, "FILE", "the team's OSMO Helm values file (required)"),
    RO("workflow", workflow, "FILE", "the team's workflow spec (default: the guide's sample — one task writing the team's bucket)"),
};

/* ------------------------------------------------------------ the scenario */
static const char *trigger_key(const char *profile)
{
    return !strcmp(profile, "aws-irsa") ? "eks.amazonaws.com/role-arn"
           : !strcmp(profile, "azure-wi") ? "azure.workload.identity/client-id"
                                          : "iam.gke.io/gcp-service-account";
}

/* The team's ServiceAccount: the first document of kind ServiceAccount. */
static const cJSON *find_sa(const wih_ydocs *d)
{
    for (size_t i = 0; i < wih_ydocs_count(d); i++) {
        const cJSON *r = wih_ydocs_root(d, i);
        const char *k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "kind"));
        if (k && !strcmp(k, "ServiceAccount")) return r;
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "items"))
        {
            k = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "kind"));
            if (k && !strcmp(k, "ServiceAccount")) return it;
        }
    }
    return NULL;
}

static void add_bucket(cJSON *buckets, const char *b)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, buckets) if (!strcmp(x->valuestring, b)) return;
    cJSON_AddItemToArray(buckets, cJSON_CreateString(b));
}

/* s3://BUCKET/… in the workflow → {{bucket BUCKET}}/… (the runner makes the
 * buckets, with a per-run prefix); the names go to buckets. */
static void rewrite_urls(cJSON *n, cJSON *buckets)
{
    if (cJSON_IsString(n) && !strncmp(n->valuestring, "s3://", 5)) {
        const char *b = n->valuestring + 5, *slash = strchr(b, '/');
        char *name = slash ? wih_asprintf("%.*s", (int)(slash - b), b) : wih_strdup(b);
        char *u = wih_asprintf("{{bucket %s}}%s", name, slash ? slash : "/");
        add_bucket(buckets, name);
        cJSON_SetValuestring(n, u);
        free(u);
        free(name);
        return;
    }
    cJSON *c;
    cJSON_ArrayForEach(c, n) rewrite_urls(c, buckets);
}

static void emit_json(wih_buf *b, const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v); /* JSON is YAML */
    wih_buf_adds(b, s ? s : "null");
    free(s);
}

static void emit_str(wih_buf *b, const char *s)
{
    cJSON *v = cJSON_CreateString(s);
    emit_json(b, v);
    cJSON_Delete(v);
}

static void emit_expect(wih_buf *b, const char *profile, const char *sa, const char *bucket, bool identity)
{
    static const char *const env_aws[] = {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", NULL};
    static const char *const env_az[] = {"AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", NULL};
    static const char *const env_gcp[] = {"GOOGLE_APPLICATION_CREDENTIALS", NULL};
    const char *const *env = !strcmp(profile, "aws-irsa") ? env_aws : !strcmp(profile, "azure-wi") ? env_az : env_gcp;
    wih_buf_adds(b, "  expect:\n    pod:\n      spec:\n        serviceAccountName: ");
    emit_str(b, sa);
    wih_buf_adds(b, "\n        containers[name=osmo-ctrl]:\n");
    for (; *env; env++) wih_buf_addf(b, "          env[name=%s]: $present\n", *env);
    wih_buf_adds(b, "    access:\n      - {op: write, url: ");
    char *u = wih_asprintf("{{bucket %s}}/out/wiharness-reproduce", bucket);
    emit_str(b, u);
    free(u);
    wih_buf_addf(b, ", result: allowed%s}\n", identity ? ", identity: team" : "");
}

/* The scenario text. *note: how the identity was mapped (for the output). */
static char *build_scenario(const repro_cfg *c, const char *values_abs, const cJSON *sa, cJSON *wf, char **note)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(sa, "metadata");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));
    const char *key = trigger_key(c->profile);
    const char *val = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "annotations"), key));
    bool identity = val && *val;
    *note = identity ? wih_asprintf("%s: %s → a mock identity bound to this ServiceAccount (same key, a value the "
                                    "local cloud knows)", key, val)
                     : wih_asprintf("no %s annotation: the ServiceAccount is created without one", key);
    cJSON *buckets = cJSON_CreateArray();
    if (wf) rewrite_urls(wf, buckets);
    if (!cJSON_GetArraySize(buckets)) add_bucket(buckets, "team-data");
    const char *first = cJSON_GetArrayItem(buckets, 0)->valuestring;
    wih_buf b;
    wih_buf_init(&b, 64 << 20);
    wih_buf_addf(&b, "# Generated by: wiharness reproduce --values %s --sa %s --profile %s%s%s%s%s\n", c->values, c->sa,
                 c->profile, c->pool ? " --pool " : "", c->pool ? c->pool : "", c->workflow ? " --workflow " : "",
                 c->workflow ? c->workflow : "");
    wih_buf_addf(&b, "# The ServiceAccount: %s\n# It passes once the reported configuration works.\n", *note);
    wih_buf_adds(&b, "apiVersion: wiharness/v1\nkind: Scenario\nmetadata:\n  name: reproduce\n"
                     "  description: a team's reported configuration\n  labels: {suite: reproduce}\nspec:\n");
    wih_buf_addf(&b, "  profiles: [%s]\n  serviceAccount: {name: ", c->profile);
    emit_str(&b, name);
    wih_buf_addf(&b, "%s}\n  cloud:\n    roles:\n      team:\n        trust: [", identity ? ", identity: {role: team}" : "");
    char *subj = wih_asprintf("system:serviceaccount:{{namespace}}:%s", name);
    emit_str(&b, subj);
    free(subj);
    wih_buf_adds(&b, "]\n        grants: {");
    const cJSON *x;
    int i = 0;
    cJSON_ArrayForEach(x, buckets)
    {
        wih_buf_adds(&b, i++ ? ", " : "");
        emit_str(&b, x->valuestring);
        wih_buf_adds(&b, ": readwrite");
    }
    wih_buf_adds(&b, "}\n  buckets: ");
    emit_json(&b, buckets);
    wih_buf_adds(&b, "\n  values: ");
    emit_str(&b, values_abs);
    wih_buf_adds(&b, "\n");
    if (c->pool) {
        wih_buf_adds(&b, "  pool: ");
        emit_str(&b, c->pool);
        wih_buf_adds(&b, "\n");
    }
    if (wf) {
        wih_buf_adds(&b, "  workflow: ");
        emit_json(&b, wf);
        wih_buf_adds(&b, "\n");
    }
    emit_expect(&b, c->profile, name, first, identity);
    cJSON_Delete(buckets);
    return wih_buf_take(&b);
}

/* ------------------------------------------------------------ output */
static const char *js(const cJSON *o, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    return s ? s : "";
}

static bool identity_env(const char *n)
{
    /* not the endpoint variables the runner adds (wih-endpoints template) */
    return (!strncmp(n, "AWS_", 4) && strncmp(n, "AWS_ENDPOINT_URL", 16) && strcmp(n, "AWS_REGION")) || !strncmp(n, "AZURE_", 6) ||
           !strncmp(n, "GOOGLE_", 7) || !strncmp(n, "CLOUDSDK_", 9);
}

static void print_pod(const cJSON *pod, const cJSON *verdict)
{
    printf("Pod:                %s\n", js(pod, "name"));
    printf("  Service Account:  %s\n", js(pod, "serviceAccountName"));
    const cJSON *l;
    int n = 0;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(pod, "labels"))
    {
        if (!strncmp(l->string, "osmo.", 5)) continue;
        printf("%s%s=%s\n", n++ ? "                    " : "  Labels:           ", l->string,
               cJSON_IsString(l) ? l->valuestring : "?");
    }
    if (!n) printf("  Labels:           <none>\n");
    printf("  Containers:\n   osmo-ctrl:\n    Environment (identity):\n");
    n = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pod, "env"))
    {
        const char *name = js(e, "name");
        if (!identity_env(name)) continue;
        printf("      %-32s %s\n", name, cJSON_GetObjectItemCaseSensitive(e, "value") ? js(e, "value") : "(from a reference)");
        n++;
    }
    if (!n) printf("      <none>\n");
    printf("    Mounts (tokens):\n");
    n = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pod, "volumeMounts"))
    {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pod, "token_volumes"))
        {
            if (strcmp(js(t, "volume"), js(e, "name"))) continue;
            printf("      %s/%s from %s: projected ServiceAccount token, audience %s, %gs\n", js(e, "mountPath"),
                   js(t, "path"), js(e, "name"), *js(t, "audience") ? js(t, "audience") : "(the API server's)",
                   cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "expirationSeconds")));
            n++;
        }
    }
    if (!n) printf("      <none>\n");
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(verdict, "credential");
    if (cr) printf("  The SDK found:    %s%s%s%s\n", js(cr, "source"), *js(cr, "detail") ? " (" : "", js(cr, "detail"),
                   *js(cr, "detail") ? ")" : "");
}

static void print_access(const cJSON *kase)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(kase, "access"))
    {
        const cJSON *ac = cJSON_GetObjectItemCaseSensitive(a, "actual");
        printf("  %s %s: %s%s%s%s\n", js(a, "op"), js(a, "url"), *js(ac, "result") ? js(ac, "result") : "no verdict",
               *js(ac, "reason") ? " (" : "", js(ac, "reason"), *js(ac, "reason") ? ")" : "");
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(kase, "mismatches"))
    {
        char *ex = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "expected"));
        char *ac = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "actual"));
        printf("  not as it should be: %s: expected %s, got %s\n", js(m, "path"), ex ? ex : "?", ac ? ac : "nothing");
        free(ex);
        free(ac);
    }
    if (*js(kase, "message")) printf("  %s\n", js(kase, "message"));
}

static bool has_id(const cJSON *f, const char *id)
{
    const cJSON *x;
    cJSON_ArrayForEach(x, f) if (!strcmp(js(x, "id"), id)) return true;
    return false;
}

/* The findings on the team's own files first, then those only the run saw
 * (a new array). */
static cJSON *merged_findings(const cJSON *stat, const cJSON *kase)
{
    cJSON *all = cJSON_Duplicate(stat, true);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(kase, "findings"))
    {
        if (!has_id(all, js(f, "id")) && !(cJSON_GetArraySize(all) && !strcmp(js(f, "id"), "no-known-cause")))
            cJSON_AddItemToArray(all, cJSON_Duplicate(f, true));
    }
    return all;
}

static void print_diagnosis(const cJSON *stat, const cJSON *kase)
{
    cJSON *all = merged_findings(stat, kase);
    printf("\nDiagnosis:\n");
    if (!cJSON_GetArraySize(all)) {
        printf("  no known misconfiguration found\n");
    } else {
        char *t = diag_format_text(all);
        for (char *p = t, *nl; *p; p = nl + 1) {
            nl = strchr(p, '\n');
            if (!nl) nl = p + strlen(p) - 1;
            printf("  %.*s\n", (int)(nl - p), p);
        }
        free(t);
    }
    cJSON_Delete(all);
}

/* ------------------------------------------------------------ --output json */
/* The same facts the text shows, as one object (docs/troubleshooting.md). */
static cJSON *json_pod(const cJSON *pod, const cJSON *verdict)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", js(pod, "name"));
    cJSON_AddStringToObject(o, "service_account", js(pod, "serviceAccountName"));
    cJSON *labels = cJSON_AddObjectToObject(o, "labels");
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(pod, "labels"))
    {
        if (strncmp(l->string, "osmo.", 5)) cJSON_AddItemToObject(labels, l->string, cJSON_Duplicate(l, true));
    }
    cJSON *env = cJSON_AddArrayToObject(o, "identity_env");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pod, "env"))
    {
        if (!identity_env(js(e, "name"))) continue;
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", js(e, "name"));
        if (cJSON_GetObjectItemCaseSensitive(e, "value"))
            cJSON_AddStringToObject(v, "value", js(e, "value"));
        else
            cJSON_AddStringToObject(v, "from", "reference");
        cJSON_AddItemToArray(env, v);
    }
    cJSON *mounts = cJSON_AddArrayToObject(o, "token_mounts");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(pod, "volumeMounts"))
    {
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pod, "token_volumes"))
        {
            if (strcmp(js(t, "volume"), js(e, "name"))) continue;
            cJSON *m = cJSON_CreateObject();
            char *p = wih_asprintf("%s/%s", js(e, "mountPath"), js(t, "path"));
            cJSON_AddStringToObject(m, "path", p);
            free(p);
            cJSON_AddStringToObject(m, "volume", js(e, "name"));
            if (*js(t, "audience")) cJSON_AddStringToObject(m, "audience", js(t, "audience"));
            cJSON_AddNumberToObject(m, "expiration_seconds",
                                    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "expirationSeconds")));
            cJSON_AddItemToArray(mounts, m);
        }
    }
    const cJSON *cr = cJSON_GetObjectItemCaseSensitive(verdict, "credential");
    if (cr) cJSON_AddItemToObject(o, "credential", cJSON_Duplicate(cr, true));
    return o;
}

static cJSON *json_access(const cJSON *kase)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(kase, "access"))
    {
        const cJSON *ac = cJSON_GetObjectItemCaseSensitive(a, "actual");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "op", js(a, "op"));
        cJSON_AddStringToObject(o, "url", js(a, "url"));
        if (*js(ac, "result")) cJSON_AddStringToObject(o, "result", js(ac, "result"));
        if (*js(ac, "reason")) cJSON_AddStringToObject(o, "reason", js(ac, "reason"));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static void print_json(const repro_cfg *c, const cJSON *stat, const cJSON *k, const char *note, int rc)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(k, "facts");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "result", rc == WIH_EXIT_OK ? "works" : rc == WIH_EXIT_FAIL ? "broken" : "not-reproduced");
    cJSON_AddNumberToObject(o, "exit", rc);
    cJSON *sa = cJSON_AddObjectToObject(o, "service_account");
    cJSON_AddStringToObject(
        sa, "name",
        js(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f, "service_account"), "metadata"), "name"));
    cJSON_AddStringToObject(sa, "namespace", js(k, "namespace"));
    cJSON_AddStringToObject(sa, "identity", note);
    cJSON_AddItemToObject(o, "pod", json_pod(cJSON_GetObjectItemCaseSensitive(f, "admitted_pod"),
                                             cJSON_GetObjectItemCaseSensitive(k, "verdict")));
    cJSON_AddItemToObject(o, "access", json_access(k));
    const cJSON *mm = cJSON_GetObjectItemCaseSensitive(k, "mismatches");
    cJSON_AddItemToObject(o, "mismatches", mm ? cJSON_Duplicate(mm, true) : cJSON_CreateArray());
    if (*js(k, "message")) cJSON_AddStringToObject(o, "message", js(k, "message"));
    cJSON_AddItemToObject(o, "diagnosis", merged_findings(stat, k));
    if (c->save) cJSON_AddStringToObject(o, "scenario", c->save);
    char *t = cJSON_Print(o);
    printf("%s\n", t);
    free(t);
    cJSON_Delete(o);
}

static void print_text(const cJSON *stat, const cJSON *k, const char *note, int rc)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(k, "facts");
    const cJSON *sa = cJSON_GetObjectItemCaseSensitive(f, "service_account");
    printf("ServiceAccount:     %s\n  Namespace:        %s\n  Identity:         %s\n",
           js(cJSON_GetObjectItemCaseSensitive(sa, "metadata"), "name"), js(k, "namespace"), note);
    print_pod(cJSON_GetObjectItemCaseSensitive(f, "admitted_pod"), cJSON_GetObjectItemCaseSensitive(k, "verdict"));
    printf("\nAccess (what the workflow's task could do):\n");
    print_access(k);
    print_diagnosis(stat, k);
    printf("\n%s\n", rc == WIH_EXIT_OK ? "works: the pod gets its identity and reaches the team's bucket"
                     : rc == WIH_EXIT_FAIL ? "broken: the team's configuration fails here too (exit 1)"
                                           : "could not be reproduced (see above)");
}

/* ------------------------------------------------------------ the command */
static wih_err *ensure_chain(const char *state_dir, bool *started)
{
    char *dir = state_dir ? wih_strdup(state_dir) : cluster_local_default_dir();
    bool ok = false;
    wih_err *e = NULL;
    cJSON_Delete(cluster_local_status(dir, &ok, &e));
    wih_err_free(e);
    e = NULL;
    *started = false;
    if (!ok) {
        fprintf(stderr, "wiharness reproduce: no healthy local chain in %s: starting one (`wiharness up`)\n", dir);
        cluster_local_opts o = {.state_dir = dir, .progress = stderr};
        bool reused = false;
        e = cluster_local_up(&o, &reused);
        *started = !e && !reused;
    }
    free(dir);
    return e;
}

/* Static findings on the team's files (input errors: exit 2). */
static cJSON *static_findings(const repro_cfg *c, wih_err **e)
{
    const char *sa[] = {c->sa};
    diag_load_opts o = {.values = c->values, .workflow = c->workflow, .sa = sa, .nsa = 1, .profile = c->profile,
                        .pool = c->pool};
    cJSON *facts = diag_facts_load(&o, e);
    cJSON *f = facts ? diag_static(facts, e) : NULL;
    cJSON_Delete(facts);
    if (!f && *e && (*e)->kind != WIH_EXIT_INFRA) (*e)->kind = WIH_EXIT_INPUT;
    return f;
}

static int run_scenario(const repro_cfg *c, const char *path, const cJSON *stat, const char *note)
{
    wih_err *e = NULL;
    scn_list *l = scn_load_path(path, &e);
    scn_matrix *m = l ? scn_matrix_build(l, NULL, NULL, &e) : NULL;
    bool started = false;
    if (!m || (e = ensure_chain(c->state_dir, &started))) {
        scn_matrix_free(m);
        scn_list_free(l);
        return wih_err_report(e);
    }
    FILE *quiet = fopen("/dev/null", "w");
    runner_opts ro = {.state_dir = c->state_dir, .parallel = 1, .out = quiet ? quiet : stderr, .facts = true};
    cJSON *run = report_run_new();
    int rc = runner_run(m, &ro, run, &e);
    if (quiet) fclose(quiet);
    const cJSON *k = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(run, "cases"), 0);
    if (e) {
        rc = wih_err_report(e);
    } else if (k && c->output && !strcmp(c->output, "json")) {
        print_json(c, stat, k, note, rc);
    } else if (k) {
        print_text(stat, k, note, rc);
    }
    cJSON_Delete(run);
    scn_matrix_free(m);
    scn_list_free(l);
    if (started) {
        cluster_local_opts o = {.state_dir = c->state_dir, .progress = stderr};
        wih_err *de = cluster_local_down(&o, false);
        if (de) wih_err_report(de);
    }
    return rc;
}

static int usage(const char *msg)
{
    fprintf(stderr, "wiharness reproduce: %s\nTry 'wiharness reproduce --help'.\n", msg);
    return WIH_EXIT_INPUT;
}

/* The workflow (copied) or NULL; its SA document; the values' absolute path. */
static int load_inputs(const repro_cfg *c, wih_ydocs **sad, cJSON **wf, char *abs)
{
    wih_err *e = NULL;
    if (!realpath(c->values, abs)) return usage("--values: cannot resolve the path");
    if (!(*sad = wih_yaml_load_file(c->sa, &e))) return wih_err_report(e);
    if (!find_sa(*sad)) {
        fprintf(stderr, "%s:1:1: no ServiceAccount document\n", c->sa);
        return WIH_EXIT_INPUT;
    }
    if (c->workflow) {
        wih_ydocs *wd = NULL;
        cJSON *t = wih_yaml_load_one(c->workflow, &wd, &e);
        *wf = t ? cJSON_Duplicate(t, true) : NULL;
        wih_ydocs_free(wd);
        if (!*wf) return wih_err_report(e);
    }
    return 0;
}

static int run_reproduce(void *vcfg, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    repro_cfg *c = vcfg;
    if (!c->values || !c->sa || !c->profile) return usage("give --values FILE, --sa FILE and --profile P");
    if (strcmp(c->profile, "aws-irsa") && strcmp(c->profile, "azure-wi") && strcmp(c->profile, "gcp-fleet"))
        return usage("--profile must be aws-irsa, azure-wi or gcp-fleet (the profiles the local chain serves)");
    wih_err *e = NULL;
    cJSON *stat = static_findings(c, &e);
    if (!stat) return wih_err_report(e);
    wih_ydocs *sad = NULL;
    cJSON *wf = NULL;
    char abs[PATH_MAX];
    int rc = load_inputs(c, &sad, &wf, abs);
    char *note = NULL, *text = rc ? NULL : build_scenario(c, abs, find_sa(sad), wf, &note);
    char *dir = NULL, *path = NULL;
    if (text && c->save) {
        path = wih_strdup(c->save);
    } else if (text) {
        dir = wih_tmpdir("wih-reproduce-", false, &e);
        path = dir ? wih_path_join(dir, "reproduce.yaml") : NULL;
        if (!dir) rc = wih_err_report(e);
    }
    if (path && !rc && wih_write_file(path, text, strlen(text), 0644, &e)) rc = wih_err_report(e);
    if (path && !rc) {
        if (c->save) fprintf(stderr, "wiharness reproduce: the scenario is in %s\n", c->save);
        rc = run_scenario(c, path, stat, note);
    }
    if (dir) wih_rm_rf(dir);
    free(dir);
    free(path);
    free(text);
    free(note);
    cJSON_Delete(wf);
    cJSON_Delete(stat);
    wih_ydocs_free(sad);
    return rc;
}

const wih_cmd wih_cmd_reproduce = {
    .name = "reproduce",
    .summary = "run a team's reported values + ServiceAccount on the local chain and say what breaks",
    .args = "",
    .details = "Builds a scenario from the team's Helm values and ServiceAccount manifest (the guide's sample\n"
               "workflow — one task writing the team's bucket — unless --workflow is given; its s3:// buckets\n"
               "are created here), runs it on the local chain (`up` first when none is healthy, `down` after),\n"
               "and prints what the team would see: the ServiceAccount, the pod's identity env and token\n"
               "mounts, what the task could do, then the diagnosis (findings on the team's files first).\n"
               "The identity annotation's value is replaced by one the local cloud knows (same key); a\n"
               "missing or misspelt key stays missing. --save FILE keeps the scenario for the suite.\n"
               "--output json prints the same as one object: {\"result\": works|broken|not-reproduced,\n"
               "\"exit\", \"service_account\": {name, namespace, identity}, \"pod\": {name, service_account,\n"
               "labels, identity_env, token_mounts, credential}, \"access\", \"mismatches\", \"diagnosis\"\n"
               "(findings as `explain -o json` gives them), \"scenario\" (with --save)}; errors (exit 2, 3)\n"
               "go to stderr only.\n"
               "Exit codes: 0 it works, 1 broken, 2 bad input (file:line:col), 3 infrastructure, 130 interrupted.",
    .opts = k_repro_opts,
    .nopts = sizeof k_repro_opts / sizeof k_repro_opts[0],
    .cfg_size = sizeof(repro_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_reproduce,
};
