/* wiharness run [PATH…] — run scenarios against the local chain (docs/runner.md). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/backends.h"
#include "wiharness/cli.h"
#include "wiharness/osmo_api.h"
#include "wiharness/realmap.h"
#include "wiharness/yamljson.h"
#include "wiharness/cluster.h"
#include "wiharness/incluster.h"
#include "wiharness/kube.h"
#include "wiharness/report.h"
#include "wiharness/runner.h"
#include "wiharness/shard.h"
#include "wiharness/source.h"

typedef struct {
    wih_strlist labels, reports;
    const char *artifacts, *state_dir, *profile;
    const char *shard, *rerun_failed;
    const char *backend, *context, *kubeconfig, *identity, *probe_image, *name, *namespace_;
    bool reuse_namespace;
    const char *submitter, *osmo_url, *osmo_token_file, *osmo_ca_file, *osmo_pool;
    const char *real;    /* --real FILE (--identity real) */
    realmap *realmap;    /* loaded by check_backend (not an option) */
    bool dry_run;
    cJSON *sources; /* provenance of git+ PATHs (not an option) */
    bool keep_on_failure;
    long parallel;
    bool in_cluster_job, in_cluster; /* docs/backends.md, "in-cluster" */
    const char *job_api_url;
    long job_timeout;
} run_cfg;

static const wih_opt k_run_opts[] = {
    {"backend", 0, WIH_OPT_CHOICE, offsetof(run_cfg, backend), "local|kind|existing",
     "where the cluster comes from (default local; docs/backends.md)", false},
    {"context", 0, WIH_OPT_STR, offsetof(run_cfg, context), "CTX", "--backend existing: the kubeconfig context", false},
    {"identity", 0, WIH_OPT_CHOICE, offsetof(run_cfg, identity), "mock|real",
     "--backend existing: the mock webhook and cloud (default) or the cloud's own", false},
    {"kubeconfig", 0, WIH_OPT_STR, offsetof(run_cfg, kubeconfig), "FILE",
     "--backend existing: the kubeconfig (default KUBECONFIG, ~/.kube/config)", false},
    {"name", 0, WIH_OPT_STR, offsetof(run_cfg, name), "N", "--backend kind: the cluster name (default wiharness)", false},
    {"namespace", 0, WIH_OPT_STR, offsetof(run_cfg, namespace_), "N",
     "--backend existing: every case in namespace N, one at a time (the run creates N unless --reuse-namespace); "
     "--submitter osmo: OSMO's workflow namespace (default osmo-workflows)",
     false},
    {"reuse-namespace", 0, WIH_OPT_FLAG, offsetof(run_cfg, reuse_namespace), NULL,
     "--backend existing: run inside the existing --namespace N (only the objects the run made are deleted)", false},
    {"submitter", 0, WIH_OPT_CHOICE, offsetof(run_cfg, submitter), "direct|osmo",
     "who creates the pods: the runner (direct, default) or an OSMO service (--osmo-url; docs/backends.md)", false},
    {"osmo-url", 0, WIH_OPT_STR, offsetof(run_cfg, osmo_url), "URL",
     "--submitter osmo: the OSMO service (its task pods are found in --namespace, default osmo-workflows)", false},
    {"osmo-token-file", 0, WIH_OPT_STR, offsetof(run_cfg, osmo_token_file), "FILE",
     "--submitter osmo: the token when OSMO_TOKEN is unset", false},
    {"osmo-ca-file", 0, WIH_OPT_STR, offsetof(run_cfg, osmo_ca_file), "PEM",
     "--submitter osmo: CA bundle for an https OSMO URL", false},
    {"osmo-pool", 0, WIH_OPT_STR, offsetof(run_cfg, osmo_pool), "P",
     "--submitter osmo: submit every case to pool P (default: the scenario's pool)", false},
    {"dry-run", 0, WIH_OPT_FLAG, offsetof(run_cfg, dry_run), NULL,
     "--submitter osmo: print each case's submit request (token as a fingerprint), send nothing", false},
    {"probe-image", 0, WIH_OPT_STR, offsetof(run_cfg, probe_image), "IMAGE",
     "--backend existing: the probe image the cluster pulls (default: the chain's)", false},
    {"real", 0, WIH_OPT_STR, offsetof(run_cfg, real), "FILE",
     "--identity real: the real map (roles, buckets, endpoints, the runner's own S3 credentials; "
     "docs/realmap.schema.json)", false},
    {"in-cluster-job", 0, WIH_OPT_FLAG, offsetof(run_cfg, in_cluster_job), NULL,
     "--backend existing: run the runner itself as a Job in the cluster; reports and exit code come back", false},
    {"job-api-url", 0, WIH_OPT_STR, offsetof(run_cfg, job_api_url), "URL",
     "--in-cluster-job: the API server for the Job's pod (default: the chain's pod_urls.apiserver)", false},
    {"job-timeout", 0, WIH_OPT_INT, offsetof(run_cfg, job_timeout), "S",
     "--in-cluster-job: the Job's deadline in seconds (default 1800)", false},
    {"in-cluster", 0, WIH_OPT_FLAG, offsetof(run_cfg, in_cluster), NULL,
     "--backend existing, inside a pod: its ServiceAccount instead of a kubeconfig (what the Job runs)", false},
    {"artifacts", 0, WIH_OPT_STR, offsetof(run_cfg, artifacts), "DIR",
     "write each failed case's pod, events, decision-log lines and probe verdict under DIR (redacted)", false},
    {"keep-on-failure", 0, WIH_OPT_FLAG, offsetof(run_cfg, keep_on_failure), NULL,
     "leave a failed case's namespace, roles and buckets up and print how to look", false},
    {"label", 'l', WIH_OPT_LIST, offsetof(run_cfg, labels), "KEY=VALUE",
     "only scenarios with this label (repeat = and; key!=value, key, !key too)", false},
    {"parallel", 0, WIH_OPT_INT, offsetof(run_cfg, parallel), "N", "run N cases at a time (default 2)", false},
    {"profile", 0, WIH_OPT_CHOICE, offsetof(run_cfg, profile), "aws-irsa|azure-wi|gcp-fleet",
     "only this profile's cases", false},
    {"report", 0, WIH_OPT_LIST, offsetof(run_cfg, reports), "KIND=FILE",
     "also write junit=FILE (JUnit XML), json=FILE or html=FILE (one page: matrix, broken links, diagnosis)", false},
    {"rerun-failed", 0, WIH_OPT_STR, offsetof(run_cfg, rerun_failed), "REPORT.json",
     "only the cases REPORT.json (a --report json= file) lists as failed or error", false},
    {"shard", 0, WIH_OPT_STR, offsetof(run_cfg, shard), "I/N",
     "only shard I of N (stable: a hash of scenario/profile, docs/ci.md)", false},
    {"state-dir", 0, WIH_OPT_STR, offsetof(run_cfg, state_dir), "DIR",
     "the local chain's state dir (default ${XDG_STATE_HOME:-~/.local/state}/wiharness/local); "
     "--backend kind: the run's (default …/wiharness/kind-N)", false},
};

/* The bundled suite: $WIH_SCENARIOS, ./scenarios, <binary>/../scenarios, the source tree's. */
static char *bundled_dir(void)
{
    const char *env = getenv("WIH_SCENARIOS");
    if (env && *env) return wih_strdup(env);
    if (access("scenarios", R_OK) == 0) return wih_strdup("scenarios");
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        char *d = wih_asprintf("%s/../scenarios", exe);
        if (access(d, R_OK) == 0) return d;
        free(d);
    }
    return wih_strdup(WIH_SCENARIOS_DIR);
}

/* `up` when the chain is not healthy; *started says whether we did. */
static wih_err *ensure_chain(const char *state_dir, bool *started)
{
    char *dir = state_dir ? wih_strdup(state_dir) : cluster_local_default_dir();
    bool ok = false;
    wih_err *e = NULL;
    cJSON *s = cluster_local_status(dir, &ok, &e);
    cJSON_Delete(s);
    wih_err_free(e);
    e = NULL;
    *started = false;
    if (!ok) {
        fprintf(stderr, "wiharness run: no healthy local chain in %s: starting one (`wiharness up`)\n", dir);
        cluster_local_opts o = {.state_dir = dir, .progress = stderr, .node = true}; /* as `wiharness up` */
        bool reused = false;
        e = cluster_local_up(&o, &reused);
        *started = !e && !reused;
    }
    free(dir);
    return e;
}

/* --report KIND=configmap:NAME: one ConfigMap per NAME in the client's
 * namespace (--in-cluster: the pod's own), one key per kind; inside the Job
 * the reports are also printed between markers, for a host that cannot read
 * the ConfigMap (incluster.h). */
static kube_client *report_client(const run_cfg *c, wih_err **e)
{
    kube_config_opts ko = {.in_cluster = c->in_cluster, .kubeconfig = c->kubeconfig, .context = c->context};
    return kube_client_new(&ko, e);
}

static void print_section(const char *what, const char *text)
{
    printf(INCLUSTER_MARK_BEGIN "\n%s%s" INCLUSTER_MARK_END "\n", what, text,
           *text && text[strlen(text) - 1] != '\n' ? "\n" : "", what);
}

static int configmap_reports(const run_cfg *c, const cJSON *run)
{
    cJSON *by_name = cJSON_CreateObject();
    int rc = 0;
    for (size_t i = 0; i < c->reports.n && !rc; i++) {
        report_kind k;
        const char *path, *name;
        wih_err *e = NULL;
        if (report_parse_spec(c->reports.v[i], &k, &path, &e) || !(name = report_configmap_name(path))) {
            wih_err_free(e);
            continue;
        }
        char *text = k == REPORT_JUNIT ? report_junit(run, &e) : k == REPORT_HTML ? report_html(run) : report_json(run);
        if (!text) {
            rc = wih_err_report(e);
            break;
        }
        cJSON *d = cJSON_GetObjectItemCaseSensitive(by_name, name);
        if (!d) d = cJSON_AddObjectToObject(by_name, name);
        cJSON_DeleteItemFromObjectCaseSensitive(d, report_configmap_key(k));
        cJSON_AddStringToObject(d, report_configmap_key(k), text);
        if (c->in_cluster && k != REPORT_HTML) print_section(k == REPORT_JUNIT ? "junit" : "json", text);
        free(text);
    }
    wih_err *e = NULL;
    kube_client *kc = by_name->child && !rc ? report_client(c, &e) : NULL;
    if (by_name->child && !rc && !kc) rc = wih_err_report(wih_err_wrap(e, "--report configmap:"));
    for (const cJSON *d = by_name->child; kc && d; d = d->next) {
        const char *ns = kube_config_namespace(kube_client_config(kc));
        if (report_configmap_write(kc, ns, d->string, d, &e)) rc = wih_err_report(e);
        e = NULL;
    }
    kube_client_free(kc);
    cJSON_Delete(by_name);
    return rc;
}

static int write_reports(const run_cfg *c, const cJSON *run)
{
    int rc = 0;
    for (size_t i = 0; i < c->reports.n; i++) {
        report_kind k;
        const char *path;
        wih_err *e = NULL;
        if (report_parse_spec(c->reports.v[i], &k, &path, &e)) {
            rc = wih_err_report(e);
            continue;
        }
        if (report_configmap_name(path)) continue; /* configmap_reports */
        if (report_write_file(run, k, path, &e)) rc = wih_err_report(e);
    }
    int cm = configmap_reports(c, run);
    return rc ? rc : cm;
}

static bool kube_name_ok(const char *n)
{
    size_t l = strlen(n);
    if (!l || l > 63 || n[0] == '-' || n[l - 1] == '-') return false;
    for (size_t i = 0; i < l; i++)
        if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-')) return false;
    return true;
}

/* --submitter osmo --dry-run: each case's POST /api/pool/P/workflow (the
 * scenario's workflow, buckets by their logical names, the token as a
 * fingerprint); nothing is sent. */
static int osmo_dry_run(const run_cfg *c, const scn_matrix *m)
{
    wih_err *e = NULL;
    char *token = osmo_api_token(c->osmo_token_file, &e);
    if (!token) return wih_err_report(e);
    cJSON *all = cJSON_CreateArray();
    int rc = WIH_EXIT_OK;
    for (size_t i = 0; i < m->n && rc == WIH_EXIT_OK; i++) {
        const scn_case *cs = &m->cases[i];
        scn_vars v = {.namespace_ = c->namespace_ ? c->namespace_ : "osmo-workflows",
                      .service_account = cs->scn->sa_name, .profile = cs->profile, .scenario = cs->scn->name,
                      .bucket_prefix = ""};
        cJSON *wf = runner_workflow(cs, &v, &e);
        char *yaml = wf ? wih_yaml_emit(wf) : NULL;
        const char *pool = c->osmo_pool ? c->osmo_pool : cs->scn->pool ? cs->scn->pool : "default";
        probe_req *r = yaml ? osmo_api_submit_req(c->osmo_url, pool, yaml, token, false, &e) : NULL;
        if (r) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddStringToObject(one, "case", cs->id);
            cJSON_AddItemToObject(one, "request", probe_req_describe(r));
            cJSON_AddItemToArray(all, one);
        } else {
            rc = wih_err_report(e);
        }
        probe_req_free(r);
        free(yaml);
        cJSON_Delete(wf);
    }
    if (rc == WIH_EXIT_OK) {
        char *s = cJSON_Print(all);
        printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(all);
    OPENSSL_cleanse(token, strlen(token));
    free(token);
    return rc;
}

static void wipe(char **secret)
{
    if (*secret) OPENSSL_cleanse(*secret, strlen(*secret));
    free(*secret);
    *secret = NULL;
}

static bool is_osmo(const run_cfg *c)
{
    return c->submitter && !strcmp(c->submitter, "osmo");
}

/* --submitter osmo for real: the token (*token, SECRET, caller wipes), and
 * the service answers at all (GET /api/version; unreachable = exit 3). */
static wih_err *osmo_prepare(const run_cfg *c, runner_osmo *o, char **token)
{
    if (c->namespace_ && !kube_name_ok(c->namespace_))
        return wih_err_new(WIH_EXIT_INPUT, "--namespace %s: not a namespace name (RFC 1123 label)", c->namespace_);
    wih_err *e = NULL;
    if (!(*token = osmo_api_token(c->osmo_token_file, &e))) return e;
    probe_req *r = osmo_api_version_req(c->osmo_url, &e);
    if (!r) return e;
    long st = 0;
    wih_buf body = {0};
    int rc = probe_send(r, c->osmo_ca_file, 10000, &st, &body, &e);
    probe_req_free(r);
    wih_buf_free(&body);
    if (rc) return wih_err_wrap(e, "--submitter osmo: the OSMO service at %s does not answer", c->osmo_url);
    *o = (runner_osmo){.url = c->osmo_url, .token = *token, .ca_file = c->osmo_ca_file, .pool = c->osmo_pool};
    return NULL;
}

static bool is_existing(const run_cfg *c)
{
    return c->backend && !strcmp(c->backend, "existing");
}

/* --identity real (docs/backends.md): no mock webhook, cloud or MinIO, no
 * chain needed; the real map loaded (file:line:col errors, exit 2) and
 * --namespace required (the operator's trust policies name it). */
static wih_err *check_real(run_cfg *c)
{
    if (!c->real) return wih_err_new(WIH_EXIT_INPUT, "--identity real needs --real FILE (the real map: "
                                                     "docs/realmap.schema.json)");
    if (!c->namespace_)
        return wih_err_new(WIH_EXIT_INPUT, "--identity real needs --namespace N: the operator's trust policies "
                                           "name the namespace (add --reuse-namespace when it exists)");
    wih_err *e = NULL;
    c->realmap = realmap_load(c->real, &e);
    return c->realmap ? NULL : e;
}

/* --in-cluster-job / --in-cluster go with --backend existing; inside the
 * Job the pod's ServiceAccount must hold the runner's RBAC (existing_perms),
 * and the state dir is the Job's Secret (the host checked the chain). */
static wih_err *check_in_cluster(const run_cfg *c)
{
    if (!is_existing(c))
        return wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job/--in-cluster go with --backend existing");
    if (c->in_cluster_job && c->in_cluster)
        return wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job and --in-cluster exclude each other");
    if (c->in_cluster_job && (c->artifacts || c->rerun_failed || c->sources))
        return wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job: --artifacts, --rerun-failed and git+ PATHs are host "
                                           "files the Job cannot see; not with --in-cluster-job");
    if (c->job_api_url && !c->in_cluster_job) return wih_err_new(WIH_EXIT_INPUT, "--job-api-url goes with --in-cluster-job");
    if (c->job_timeout < 0) return wih_err_new(WIH_EXIT_INPUT, "--job-timeout must be positive seconds");
    if (!c->in_cluster) return NULL;
    kube_config_opts ko = {.in_cluster = true};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    if (!kc) return wih_err_wrap(e, "--in-cluster");
    e = existing_check_rbac(kc, c->namespace_, c->reuse_namespace, "in-cluster");
    kube_client_free(kc);
    return e;
}

static bool is_kind(const run_cfg *c)
{
    return c->backend && !strcmp(c->backend, "kind");
}

/* The cleanup entry of --backend kind (a second SIGINT, exit). */
static void kind_cleanup(void *ctx)
{
    wih_err *e = kind_run_down(ctx, stderr);
    if (e) wih_err_report(e);
}

/* --backend kind: the cluster, the services serving it, the probe image
 * (kind_run_up); on failure what was made is taken down at once. */
static wih_err *kind_backend_up(const run_cfg *c, kind_run *kr, int *handle)
{
    kind_run_opts ko = {.name = c->name, .dir = c->state_dir, .progress = stderr};
    /* on the stack first: a second SIGINT during the bring-up runs it too */
    *handle = wih_cleanup_push("the kind run's services and the cluster it created", kind_cleanup, kr);
    wih_err *e = kind_run_up(&ko, kr);
    if (e) {
        wih_cleanup_pop(*handle, true);
        *handle = -1;
    }
    return e;
}

/* --backend: local (the default), kind, existing (docs/backends.md). */
static wih_err *check_backend(run_cfg *c)
{
    const char *b = c->backend ? c->backend : "local";
    if (c->in_cluster_job || c->in_cluster || c->job_api_url) {
        wih_err *ie = check_in_cluster(c);
        if (ie) return ie;
        /* inside the Job: --identity real still needs its map (never the mock silently) */
        if (c->in_cluster) return c->identity && !strcmp(c->identity, "real") ? check_real(c) : NULL;
    }
    if ((c->namespace_ || c->reuse_namespace) && strcmp(b, "existing") && !is_osmo(c))
        return wih_err_new(WIH_EXIT_INPUT, "--namespace/--reuse-namespace go with --backend existing");
    if (((c->identity && !strcmp(c->identity, "real")) || c->real) && strcmp(b, "existing"))
        return wih_err_new(WIH_EXIT_INPUT, "--identity real and --real go with --backend existing");
    if (!strcmp(b, "local")) return NULL;
    if (!strcmp(b, "kind")) {
        if (c->name && !kind_name_ok(c->name))
            return wih_err_new(WIH_EXIT_INPUT, "--name %s: a kind cluster name is [a-z0-9.-], at most 50 characters",
                               c->name);
        if (c->context || c->kubeconfig || c->probe_image || (c->identity && strcmp(c->identity, "mock")))
            return wih_err_new(WIH_EXIT_INPUT, "--context/--kubeconfig/--probe-image/--identity go with --backend "
                                               "existing (kind's come from the cluster it creates or reuses and the "
                                               "probe image it loads)");
        return kind_available(NULL, NULL);
    }
    if (strcmp(b, "existing"))
        return wih_err_new(WIH_EXIT_INPUT, "--backend %s: expected local, kind or existing", b);
    if (c->namespace_ && !kube_name_ok(c->namespace_))
        return wih_err_new(WIH_EXIT_INPUT, "--namespace %s: not a namespace name (RFC 1123 label)", c->namespace_);
    if (c->real && !(c->identity && !strcmp(c->identity, "real")))
        return wih_err_new(WIH_EXIT_INPUT, "--real FILE goes with --identity real");
    existing_opts eo = {.kubeconfig = c->kubeconfig, .context = c->context, .identity = c->identity,
                        .probe_image = c->probe_image, .namespace_ = c->namespace_,
                        .reuse_namespace = c->reuse_namespace};
    bool real = c->identity && !strcmp(c->identity, "real");
    if (is_osmo(c)) { /* OSMO's workflow namespace: used, never created or deleted */
        eo.namespace_ = c->namespace_ ? c->namespace_ : "osmo-workflows";
        eo.reuse_namespace = true;
    }
    wih_err *e = real ? check_real(c) : NULL; /* the map's errors (exit 2) before the cluster's */
    if (!e) e = existing_check(&eo);
    if (e || real) return e;
    /* identity mock: the local chain's mock webhook, cloud and MinIO serve the cluster */
    char *dir = c->state_dir ? wih_strdup(c->state_dir) : cluster_local_default_dir();
    bool ok = false;
    cJSON_Delete(cluster_local_status(dir, &ok, &e));
    wih_err_free(e);
    e = ok ? NULL
           : wih_err_new(WIH_EXIT_INFRA, "--backend existing --identity mock: the mock webhook, cloud and MinIO "
                                         "come from the local chain in %s, which is not healthy (wiharness up)", dir);
    free(dir);
    return e;
}

/* PATHs with git+URL#REF:DIR exported (at REF) into temp dirs (source.h). */
static char **git_paths(run_cfg *c, int argc, char **argv, wih_err **e)
{
    char **out = wih_xcalloc((size_t)argc + 1, sizeof *out);
    for (int i = 0; i < argc; i++) {
        if (!src_is_git(argv[i])) {
            out[i] = wih_strdup(argv[i]);
            continue;
        }
        char *tmp = wih_tmpdir("wih-git-scenarios", false, e);
        cJSON *prov = NULL;
        if (!tmp || src_git_export(argv[i], NULL, tmp, &prov, e)) {
            free(tmp);
            for (int j = 0; j < i; j++) free(out[j]);
            free(out);
            return NULL;
        }
        if (!c->sources) c->sources = cJSON_CreateArray();
        cJSON_AddItemToArray(c->sources, prov);
        out[i] = tmp;
    }
    return out;
}

/* --rerun-failed, then --shard (docs/ci.md). */
static int narrow_matrix(const run_cfg *c, scn_matrix *m, wih_err **e)
{
    if (c->rerun_failed) {
        cJSON *ids = shard_failed_ids(c->rerun_failed, e);
        if (!ids) return -1;
        shard_keep_ids(m, ids);
        cJSON_Delete(ids);
    }
    if (c->shard) {
        int i = 0, n = 0;
        if (shard_parse(c->shard, &i, &n, e)) return -1;
        shard_filter(m, i, n);
    }
    return 0;
}

static scn_matrix *load_matrix(run_cfg *c, int argc, char **argv, scn_list **list, wih_err **e)
{
    for (size_t i = 0; i < c->reports.n; i++) {
        report_kind k;
        const char *p;
        if (report_parse_spec(c->reports.v[i], &k, &p, e)) return NULL;
    }
    char *def = argc ? NULL : bundled_dir();
    const char *one[] = {def};
    char **paths = argc ? git_paths(c, argc, argv, e) : NULL;
    if (argc && !paths) return NULL;
    *list = argc ? scn_load_paths((const char *const *)paths, (size_t)argc, e) : scn_load_paths(one, 1, e);
    for (int i = 0; paths && i < argc; i++) free(paths[i]);
    free(paths);
    free(def);
    if (!*list) return NULL;
    scn_selector *sel = NULL;
    if (c->labels.n && !(sel = scn_selector_parse((const char *const *)c->labels.v, c->labels.n, e))) return NULL;
    const char *only[] = {c->profile, NULL};
    scn_matrix *m = scn_matrix_build(*list, sel, c->profile ? only : NULL, e);
    scn_selector_free(sel);
    if (m && narrow_matrix(c, m, e)) {
        scn_matrix_free(m);
        return NULL;
    }
    return m;
}

/* The options the in-cluster run gets as they were given here. */
static cJSON *pass_through(const run_cfg *c)
{
    cJSON *a = cJSON_CreateArray();
#define ADD(s) cJSON_AddItemToArray(a, cJSON_CreateString(s))
    for (size_t i = 0; i < c->labels.n; i++) {
        ADD("--label");
        ADD(c->labels.v[i]);
    }
    const char *pairs[][2] = {{"--profile", c->profile}, {"--shard", c->shard}, {"--namespace", c->namespace_}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][1]) {
            ADD(pairs[i][0]);
            ADD(pairs[i][1]);
        }
    if (c->reuse_namespace) ADD("--reuse-namespace");
    if (c->keep_on_failure) ADD("--keep-on-failure");
    if (c->parallel) {
        char n[24];
        snprintf(n, sizeof n, "%ld", c->parallel);
        ADD("--parallel");
        ADD(n);
    }
#undef ADD
    return a;
}

/* The host's reports from what the Job left (its JUnit and JSON). */
static int job_reports(const run_cfg *c, const incluster_result *r)
{
    int rc = 0;
    for (size_t i = 0; i < c->reports.n; i++) {
        report_kind k;
        const char *path;
        wih_err *e = NULL;
        if (report_parse_spec(c->reports.v[i], &k, &path, &e)) {
            rc = wih_err_report(e);
            continue;
        }
        cJSON *run = k == REPORT_HTML && r->json ? cJSON_Parse(r->json) : NULL;
        char *html = run ? report_html(run) : NULL;
        const char *text = k == REPORT_JUNIT ? r->junit : k == REPORT_JSON ? r->json : html;
        if (report_configmap_name(path))
            e = wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job: --report %s: the host writes files", c->reports.v[i]);
        else if (!text)
            e = wih_err_new(WIH_EXIT_INFRA, "--in-cluster-job: the Job's %s report did not come back (from the %s)",
                            k == REPORT_JUNIT ? "JUnit" : "JSON", r->from);
        else
            wih_write_file(path, text, strlen(text), 0644, &e);
        if (e) rc = wih_err_report(e);
        free(html);
        cJSON_Delete(run);
    }
    return rc;
}

/* --in-cluster-job: the runner as a Job (incluster.h); its console lines,
 * the host's reports from its own, its exit code. */
static int in_cluster_job(const run_cfg *c, int argc, char **argv)
{
    char *def = argc ? NULL : bundled_dir();
    const char *one[] = {def};
    cJSON *pass = pass_through(c);
    const char **args = wih_xcalloc((size_t)cJSON_GetArraySize(pass) + 1, sizeof *args);
    int na = 0;
    for (const cJSON *x = pass->child; x; x = x->next) args[na++] = x->valuestring;
    incluster_opts io = {.kubeconfig = c->kubeconfig, .context = c->context, .state_dir = c->state_dir,
                         .identity = c->identity, .probe_image = c->probe_image, .api_url = c->job_api_url,
                         .paths = argc ? (const char *const *)argv : one, .npaths = argc ? (size_t)argc : 1,
                         .run_args = args, .timeout_s = c->job_timeout, .progress = stderr};
    incluster_result r;
    wih_err *e = NULL;
    int rc;
    if (incluster_run(&io, &r, &e)) {
        rc = wih_err_report(e);
    } else {
        fputs(r.console ? r.console : "", stdout);
        fflush(stdout);
        fprintf(stderr, "in-cluster: reports from the %s\n", r.from);
        rc = r.exit_code;
        int wr = job_reports(c, &r);
        if (wr && rc == WIH_EXIT_OK) rc = wr;
        incluster_result_clear(&r);
    }
    free(args);
    cJSON_Delete(pass);
    free(def);
    return rc;
}

static int run_run(void *vcfg, int argc, char **argv)
{
    run_cfg *c = vcfg;
    if (c->parallel < 0 || c->parallel > 16) {
        fprintf(stderr, "wiharness run: --parallel must be 1..16\n");
        return WIH_EXIT_INPUT;
    }
    wih_err *e = NULL;
    scn_list *list = NULL;
    scn_matrix *m = load_matrix(c, argc, argv, &list, &e);
    if (!m) {
        cJSON_Delete(c->sources);
        scn_list_free(list);
        return wih_err_report(e);
    }
    if (!m->n) fprintf(stderr, "wiharness run: no scenario matches\n");
    runner_osmo osmo = {0};
    char *osmo_token = NULL;
    if (is_osmo(c) && (!c->osmo_url || c->dry_run || (e = osmo_prepare(c, &osmo, &osmo_token)))) {
        int orc = !c->osmo_url ? (fprintf(stderr, "wiharness run: --submitter osmo needs --osmo-url URL\n"), WIH_EXIT_INPUT)
                  : e          ? wih_err_report(e)
                               : osmo_dry_run(c, m);
        wipe(&osmo_token);
        cJSON_Delete(c->sources);
        scn_matrix_free(m);
        scn_list_free(list);
        return orc;
    }
    if (!m->n && (c->shard || c->rerun_failed)) { /* an empty shard or nothing to rerun: no chain, empty reports */
        cJSON *run = report_run_new();
        report_summarize(run, 0);
        int wr = write_reports(c, run);
        wipe(&osmo_token);
        cJSON_Delete(run);
        cJSON_Delete(c->sources);
        scn_matrix_free(m);
        scn_list_free(list);
        return wr;
    }
    bool started = false;
    kind_run kr = {0};
    int kh = -1;
    if ((e = check_backend(c)) || (!is_existing(c) && !is_kind(c) && (e = ensure_chain(c->state_dir, &started))) ||
        (is_kind(c) && (e = kind_backend_up(c, &kr, &kh)))) {
        realmap_free(c->realmap);
        wipe(&osmo_token);
        cJSON_Delete(c->sources);
        scn_matrix_free(m);
        scn_list_free(list);
        return wih_err_report(e);
    }
    if (c->in_cluster_job) {
        int jrc = in_cluster_job(c, argc, argv);
        cJSON_Delete(c->sources);
        scn_matrix_free(m);
        scn_list_free(list);
        return jrc;
    }
    runner_opts ro = {.state_dir = is_kind(c) ? kr.services : c->state_dir, .artifacts_dir = c->artifacts,
                      .keep_on_failure = c->keep_on_failure,
                      .parallel = c->parallel ? (int)c->parallel : 2, .out = stdout,
                      .tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO),
                      .kubeconfig = is_existing(c) ? (c->in_cluster ? NULL : c->kubeconfig) : is_kind(c) ? kr.kubeconfig : NULL,
                      .context = is_existing(c) ? (c->in_cluster ? NULL : c->context) : is_kind(c) ? kr.context : NULL,
                      .probe_image = is_existing(c) ? c->probe_image : is_kind(c) ? kr.probe_image : NULL,
                      .namespace_ = is_existing(c) ? c->namespace_ : NULL,
                      .reuse_namespace = c->reuse_namespace, .in_cluster = c->in_cluster,
                      .real = c->realmap};
    if (is_osmo(c)) { /* the task pods land in OSMO's workflow namespace: never made or deleted by the run */
        ro.osmo = &osmo;
        ro.namespace_ = c->namespace_ ? c->namespace_ : "osmo-workflows";
        ro.reuse_namespace = true;
    }
    cJSON *run = report_run_new();
    if (c->sources) cJSON_AddItemToObject(run, "sources", c->sources);
    c->sources = NULL;
    int rc = runner_run(m, &ro, run, &e);
    if (e) {
        rc = wih_err_report(e);
    } else {
        report_console_summary(stdout, run);
        int wr = write_reports(c, run);
        if (wr && rc == WIH_EXIT_OK) rc = wr;
    }
    cJSON_Delete(run);
    scn_matrix_free(m);
    scn_list_free(list);
    realmap_free(c->realmap);
    c->realmap = NULL;
    wipe(&osmo_token);
    if (kh >= 0) { /* kind: the services always go, the cluster only if this run created it */
        wih_cleanup_pop(kh, false);
        wih_err *ke = kind_run_down(&kr, stderr);
        if (ke) {
            int krc = wih_err_report(ke);
            if (rc == WIH_EXIT_OK) rc = krc;
        }
    }
    if (started && !(c->keep_on_failure && rc != WIH_EXIT_OK)) {
        cluster_local_opts o = {.state_dir = c->state_dir, .progress = stderr};
        wih_err *de = cluster_local_down(&o, false);
        if (de) wih_err_report(de);
    }
    return rc;
}

const wih_cmd wih_cmd_run = {
    .name = "run",
    .summary = "run scenarios (default: the bundled suite, every profile) against the local chain",
    .args = "[PATH…]",
    .details = "Each scenario × profile runs in its own namespace: the generated ServiceAccount, the mock\n"
               "cloud's roles, the buckets, the pods OSMO would create (changed so they run here: the\n"
               "changes are in every report), admission, the node runs the probe, the assertions, then\n"
               "cleanup in reverse order (also on Ctrl-C). With no healthy chain `up` runs first and\n"
               "`down` after (only then). PATH is a scenario file or a directory (suite.yaml = defaults).\n"
               "--backend existing --context CTX runs the cases in any cluster a kubeconfig reaches (RBAC\n"
               "checked first); with --identity real --real MAP the cloud is the operator's (no role or bucket\n"
               "made; names, endpoints and the runner's own S3 keys from MAP; --namespace N required);\n"
               "--backend kind [--name N] creates (or reuses) a kind cluster, serves it the\n"
               "mock webhook, cloud and MinIO on the kind network and loads the probe image; only a cluster\n"
               "it created is deleted at the end. PATH may be git+URL#REF:DIR; --shard I/N and\n"
               "--rerun-failed REPORT.json narrow the cases (docs/backends.md, docs/ci.md). --in-cluster-job\n"
               "runs the runner itself as a Job in that cluster and reads its JUnit/JSON back (from a\n"
               "ConfigMap, else its log).\n"
               "--submitter osmo --osmo-url URL hands each case's workflow to an OSMO service and asserts\n"
               "on the task pods it creates (found by osmo.workflow_id in --namespace, default osmo-workflows).\n"
               "Exit codes: 0 all passed, 1 a case failed, 2 a bad scenario (file:line:col),\n"
               "3 infrastructure (the component is named), 130 interrupted.",
    .opts = k_run_opts,
    .nopts = sizeof k_run_opts / sizeof k_run_opts[0],
    .cfg_size = sizeof(run_cfg),
    .min_args = 0,
    .max_args = -1,
    .run = run_run,
};
