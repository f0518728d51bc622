/* wiharness run [PATH…] — run scenarios against the local chain (docs/runner.md). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/cli.h"
#include "wiharness/cluster.h"
#include "wiharness/report.h"
#include "wiharness/runner.h"

typedef struct {
    wih_strlist labels, reports;
    const char *artifacts, *state_dir, *profile;
    bool keep_on_failure;
    long parallel;
} run_cfg;

static const wih_opt k_run_opts[] = {
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
     "also write junit=FILE (JUnit XML) or json=FILE (repeatable)", false},
    {"state-dir", 0, WIH_OPT_STR, offsetof(run_cfg, state_dir), "DIR",
     "the local chain's state dir (default ${XDG_STATE_HOME:-~/.local/state}/wiharness/local)", false},
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

static int write_reports(const run_cfg *c, const cJSON *run)
{
    int rc = 0;
    for (size_t i = 0; i < c->reports.n; i++) {
        report_kind k;
        const char *path;
        wih_err *e = NULL;
        if (report_parse_spec(c->reports.v[i], &k, &path, &e) || report_write_file(run, k, path, &e))
            rc = wih_err_report(e);
    }
    return rc;
}

static scn_matrix *load_matrix(const run_cfg *c, int argc, char **argv, scn_list **list, wih_err **e)
{
    for (size_t i = 0; i < c->reports.n; i++) {
        report_kind k;
        const char *p;
        if (report_parse_spec(c->reports.v[i], &k, &p, e)) return NULL;
    }
    char *def = argc ? NULL : bundled_dir();
    const char *one[] = {def};
    *list = argc ? scn_load_paths((const char *const *)argv, (size_t)argc, e) : scn_load_paths(one, 1, e);
    free(def);
    if (!*list) return NULL;
    scn_selector *sel = NULL;
    if (c->labels.n && !(sel = scn_selector_parse((const char *const *)c->labels.v, c->labels.n, e))) return NULL;
    const char *only[] = {c->profile, NULL};
    scn_matrix *m = scn_matrix_build(*list, sel, c->profile ? only : NULL, e);
    scn_selector_free(sel);
    return m;
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
        scn_list_free(list);
        return wih_err_report(e);
    }
    if (!m->n) fprintf(stderr, "wiharness run: no scenario matches\n");
    bool started = false;
    if ((e = ensure_chain(c->state_dir, &started))) {
        scn_matrix_free(m);
        scn_list_free(list);
        return wih_err_report(e);
    }
    runner_opts ro = {.state_dir = c->state_dir, .artifacts_dir = c->artifacts, .keep_on_failure = c->keep_on_failure,
                      .parallel = c->parallel ? (int)c->parallel : 2, .out = stdout,
                      .tty = isatty(STDERR_FILENO) && isatty(STDOUT_FILENO)};
    cJSON *run = report_run_new();
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
               "Exit codes: 0 all passed, 1 a case failed, 2 a bad scenario (file:line:col),\n"
               "3 infrastructure (the component is named), 130 interrupted.",
    .opts = k_run_opts,
    .nopts = sizeof k_run_opts / sizeof k_run_opts[0],
    .cfg_size = sizeof(run_cfg),
    .min_args = 0,
    .max_args = -1,
    .run = run_run,
};
