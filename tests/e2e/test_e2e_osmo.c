/* End to end, --submitter osmo, against a loopback STAND-IN for the OSMO
 * service (tests/helpers/osmo_standin.h: recorded answer shapes from
 * fixtures/osmo-api/standin.json; on submit it renders the task pods with
 * harness/osmo's own merge from fixtures/osmo-api/standin-values.yaml and
 * creates them, labelled as OSMO labels them, on the local real-node chain —
 * the only part that is not real). Everything else is: the API server and its
 * webhook admission, the kubelet running the probe, the mock cloud, MinIO.
 *  1. the core scenarios (guide, cross-team, read-only, two-pools; every
 *     profile) pass through --submitter osmo with the same verdicts as the
 *     direct path: per case the status, per access the result, reason, code
 *     and role; every workflow found by osmo.workflow_id and COMPLETED;
 *  2. a refused submit (OSMO's 400 for an unknown pool) → exit 3 with OSMO's
 *     message; a refused token → exit 3; the ServiceAccount is not left;
 *  3. an OSMO URL nobody answers → exit 3 before any case runs;
 *  4. SIGINT while a workflow is alive → exit 130 and the workflow cancelled
 *     (POST /api/workflow/<id>/cancel).
 * The token never reaches any output. Skips (77) when the chain cannot have a
 * node here. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chainfault.h"
#include "nodechain.h"
#include "osmo_standin.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"

#define TOKEN "osmo-standin-token-5f1d0c"
#define NS "osmo-workflows"

static char *g_base, *g_dir;

/* The end of a long text (Check's messages are bounded). */
static const char *tail(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    return !t ? "" : n > 1500 ? t + n - 1500 : t;
}

static char *scn(const char *name)
{
    return wih_asprintf("%s/scenarios/%s", WIH_SOURCE_DIR, name);
}

static kube_client *client(void)
{
    return wih_test_chain_client(g_dir);
}

static wih_osmo_standin *standin(void)
{
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(g_dir, &e);
    ck_assert_msg(st, "%s", e ? wih_err_str(e) : "");
    char *kc = wih_path_join(g_dir, "kubeconfig"), *values = wih_fixture("osmo-api/standin-values.yaml");
    wih_osmo_standin_opts o = {.values_file = values, .kubeconfig = kc, .namespace_ = NS,
                               .ctrl_image = kube_obj_str(st, "node.probe_image"), .token = TOKEN};
    wih_osmo_standin *s = wih_osmo_standin_start(&o, &e);
    ck_assert_msg(s, "%s", e ? wih_err_str(e) : "");
    cJSON_Delete(st);
    free(kc);
    free(values);
    return s;
}

static cJSON *read_json(const char *path)
{
    char *t = wih_read_file(path, 1 << 24, NULL, NULL);
    ck_assert_msg(t, "no report %s", path);
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_msg(j, "%s: not JSON", path);
    return j;
}

/* "status | op result reason code role; …" of one case: what must not
 * depend on who created the pods. */
static char *digest(const cJSON *c)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    wih_buf_addf(&b, "%s |", kube_obj_str(c, "status"));
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(c, "access"))
    {
        const cJSON *ac = cJSON_GetObjectItem(a, "actual");
        wih_buf_addf(&b, " %s %s %s %s %s;", kube_obj_str(a, "op"), kube_obj_str(ac, "result") ? kube_obj_str(ac, "result") : "-",
                     kube_obj_str(ac, "reason") ? kube_obj_str(ac, "reason") : "-",
                     kube_obj_str(ac, "code") ? kube_obj_str(ac, "code") : "-",
                     kube_obj_str(ac, "role") ? kube_obj_str(ac, "role") : "-");
    }
    return wih_buf_take(&b);
}

static const cJSON *find_case(const cJSON *doc, const char *scenario, const char *profile)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
        if (!strcmp(kube_obj_str(c, "scenario"), scenario) && !strcmp(kube_obj_str(c, "profile"), profile)) return c;
    return NULL;
}

/* The core scenarios once, direct (url NULL) or through OSMO (with
 * --rerun-failed when rerun): up to 10 minutes — 12 cases one at a time
 * through OSMO on a loaded 2-core machine outlast wih_test_cli's 2. */
static int run_core(const char *url, const char *rep, const char *rerun, char **out, char **err)
{
    char *g = scn("guide.yaml"), *x = scn("cross-team.yaml"), *r = scn("read-only.yaml"), *t = scn("two-pools.yaml");
    char *argv[24];
    int n = 0;
    argv[n++] = (char *)WIH_BINARY;
    argv[n++] = "run";
    if (url) {
        argv[n++] = "--submitter";
        argv[n++] = "osmo";
        argv[n++] = "--osmo-url";
        argv[n++] = (char *)url;
    }
    if (rerun) {
        argv[n++] = "--rerun-failed";
        argv[n++] = (char *)rerun;
    }
    char *rest[] = {"--state-dir", g_dir, "--report", (char *)rep, g, x, r, t};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) argv[n++] = rest[i];
    argv[n] = NULL;
    char *env[] = {"NO_COLOR=1", NULL};
    wih_err *e = NULL;
    int rc = wih_run_capture(argv, env, NULL, 600000, out, err, &e);
    if (rc < 0) fprintf(stderr, "%s\n", wih_err_str(e));
    wih_err_free(e);
    if (!*out) *out = wih_strdup("");
    if (!*err) *err = wih_strdup("");
    free(g);
    free(x);
    free(r);
    free(t);
    return rc;
}

/* Every case that did not pass is an infrastructure error (the probe got no
 * answer from the chain in time: this machine's load, docs/runner.md). */
static bool only_infra(const cJSON *doc)
{
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        if (!strcmp(kube_obj_str(c, "status"), "passed")) continue;
        const char *m = kube_obj_str(c, "message");
        if (strcmp(kube_obj_str(c, "status"), "error") || !m || strncmp(m, "infrastructure: ", 16)) return false;
        n++;
    }
    return n > 0;
}

/* The core scenarios, direct (url NULL) or through OSMO; the report. A run
 * whose only trouble is infrastructure errors runs those cases once more
 * (--rerun-failed) — never a wrong verdict. */
static cJSON *core_run(const char *url, const char *name)
{
    char *j1 = wih_asprintf("%s/%s.json", g_base, name), *j2 = wih_asprintf("%s/%s-again.json", g_base, name);
    char *r1 = wih_asprintf("json=%s", j1), *r2 = wih_asprintf("json=%s", j2);
    char *out = NULL, *err = NULL;
    int rc = run_core(url, r1, NULL, &out, &err);
    cJSON *doc = rc == 0 || rc == 3 ? read_json(j1) : NULL;
    ck_assert_msg(!strstr(out, TOKEN) && !strstr(err, TOKEN), "%s: the OSMO token reached the output", name);
    if (rc == 3 && only_infra(doc)) {
        fprintf(stderr, "%s: running the cases that hit an infrastructure error once more:\n%s\n", name, tail(out));
        free(out);
        free(err);
        rc = run_core(url, r2, j1, &out, &err);
        cJSON *again = rc == 0 ? read_json(j2) : NULL;
        const cJSON *c, *cases = cJSON_GetObjectItem(again, "cases");
        cJSON_ArrayForEach(c, cases)
        {
            cJSON *all = cJSON_GetObjectItem(doc, "cases");
            for (int i = 0; i < cJSON_GetArraySize(all); i++) {
                const cJSON *o = cJSON_GetArrayItem(all, i);
                if (!strcmp(kube_obj_str(o, "scenario"), kube_obj_str(c, "scenario")) &&
                    !strcmp(kube_obj_str(o, "profile"), kube_obj_str(c, "profile")))
                    cJSON_ReplaceItemInArray(all, i, cJSON_Duplicate(c, true));
            }
        }
        cJSON_Delete(again);
    }
    if (rc) fprintf(stderr, "%s:\n%s\n%s\n", name, out, err);
    ck_assert_msg(rc == 0, "%s: exit %d\n%s\n%s", name, rc, tail(out), tail(err));
    char *text = cJSON_PrintUnformatted(doc);
    ck_assert_msg(!strstr(text, TOKEN), "%s: the OSMO token reached the report", name);
    free(text);
    free(out);
    free(err);
    free(r1);
    free(r2);
    free(j1);
    free(j2);
    return doc;
}

START_TEST(core_scenarios_same_verdicts_through_osmo)
{
    wih_osmo_standin *s = standin();
    cJSON *direct = core_run(NULL, "direct");
    setenv("OSMO_TOKEN", TOKEN, 1);
    cJSON *osmo = core_run(wih_osmo_standin_url(s), "osmo");
    unsetenv("OSMO_TOKEN");
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(direct, "cases"));
    printf("the core scenarios: %d cases; direct %.1f s, --submitter osmo %.1f s (first runs)\n", n,
           cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(direct, "summary"), "duration_s")),
           cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(osmo, "summary"), "duration_s")));
    ck_assert_msg(n >= 12, "expected the 12 core cases, the direct run had %d", n);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(osmo, "cases")), n);
    const cJSON *dc;
    cJSON_ArrayForEach(dc, cJSON_GetObjectItem(direct, "cases"))
    {
        const char *sn = kube_obj_str(dc, "scenario"), *pf = kube_obj_str(dc, "profile");
        const cJSON *oc = find_case(osmo, sn, pf);
        ck_assert_msg(oc, "%s/%s did not run through osmo", sn, pf);
        char *a = digest(dc), *b = digest(oc);
        ck_assert_msg(!strcmp(a, b), "%s/%s: direct %s, osmo %s", sn, pf, a, b);
        ck_assert_msg(cJSON_GetObjectItem(oc, "verdict"), "%s/%s: no probe verdict through osmo", sn, pf);
        const char *wf = kube_obj_str(oc, "osmo.workflow"), *st = kube_obj_str(oc, "osmo.status");
        ck_assert_msg(wf && st && !strcmp(st, "COMPLETED"), "%s/%s: workflow %s ended %s", sn, pf, wf ? wf : "?",
                      st ? st : "?");
        ck_assert_msg(!strcmp(kube_obj_str(oc, "namespace"), NS), "%s/%s ran in %s", sn, pf, kube_obj_str(oc, "namespace"));
        free(a);
        free(b);
    }
    /* every case was (at least, when run again) one submit; every request carried the token */
    ck_assert_int_ge(wih_osmo_standin_count(s, "POST", "/workflow"), n);
    cJSON *reqs = wih_osmo_standin_requests(s);
    const cJSON *q;
    cJSON_ArrayForEach(q, reqs)
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(q, "auth")) || !strcmp(kube_obj_str(q, "path"), "/api/version"),
                      "%s %s without the token", kube_obj_str(q, "method"), kube_obj_str(q, "path"));
    cJSON_Delete(reqs);
    /* the runner's ServiceAccount is gone from OSMO's namespace */
    kube_client *kc = client();
    kube_ref sr = {"v1", "ServiceAccount", NS, "osmo-workflow"};
    wih_err *e = NULL;
    cJSON *got = kube_get(kc, &sr, &e);
    ck_assert_msg(!got && e && e->http_status == 404, "the run left its ServiceAccount in %s", NS);
    wih_err_free(e);
    kube_client_free(kc);
    wih_osmo_standin_stop(s);
    cJSON_Delete(direct);
    cJSON_Delete(osmo);
}
END_TEST

START_TEST(refused_submit_and_token_are_exit_3)
{
    wih_osmo_standin *s = standin();
    char *g = scn("guide.yaml"), *tf = wih_path_join(g_base, "token"), *bad = wih_path_join(g_base, "bad-token");
    ck_assert_int_eq(wih_write_file(tf, TOKEN "\n", strlen(TOKEN) + 1, 0600, NULL), 0);
    ck_assert_int_eq(wih_write_file(bad, "not-the-token\n", 14, 0600, NULL), 0);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--osmo-url", wih_osmo_standin_url(s),
                          "--osmo-token-file", tf, "--osmo-pool", "gpu-nowhere", "--state-dir", g_dir, "-l",
                          "name=guide-aws", g, NULL);
    ck_assert_msg(rc == 3, "unknown pool: exit %d\n%s\n%s", rc, tail(out), tail(err));
    ck_assert_msg(strstr(out, "Pool gpu-nowhere does not exist") || strstr(err, "Pool gpu-nowhere does not exist"),
                  "OSMO's message is not shown:\n%s\n%s", tail(out), tail(err));
    ck_assert_msg(!strstr(out, TOKEN) && !strstr(err, TOKEN), "the token reached the output");
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--osmo-url", wih_osmo_standin_url(s),
                      "--osmo-token-file", bad, "--state-dir", g_dir, "-l", "name=guide-aws", g, NULL);
    ck_assert_msg(rc == 3, "refused token: exit %d\n%s\n%s", rc, tail(out), tail(err));
    ck_assert_msg(strstr(out, "Invalid token") || strstr(err, "Invalid token"), "%s\n%s", tail(out), tail(err));
    free(out);
    free(err);
    kube_client *kc = client();
    kube_ref sr = {"v1", "ServiceAccount", NS, "osmo-workflow"};
    wih_err *e = NULL;
    cJSON *got = kube_get(kc, &sr, &e);
    ck_assert_msg(!got, "a refused submit left the ServiceAccount");
    wih_err_free(e);
    kube_client_free(kc);
    wih_osmo_standin_stop(s);
    free(g);
    free(tf);
    free(bad);
}
END_TEST

START_TEST(unreachable_url_is_exit_3)
{
    char *g = scn("guide.yaml");
    char *out = NULL, *err = NULL;
    setenv("OSMO_TOKEN", TOKEN, 1);
    int rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--osmo-url", "http://127.0.0.1:9",
                          "--state-dir", g_dir, g, NULL);
    unsetenv("OSMO_TOKEN");
    ck_assert_msg(rc == 3, "exit %d\n%s\n%s", rc, tail(out), tail(err));
    ck_assert_msg(strstr(err, "does not answer"), "%s", tail(err));
    ck_assert_msg(!strstr(out, "PASS") && !strstr(out, "FAIL") && !strstr(out, "ERROR"), "cases ran:\n%s", tail(out));
    free(out);
    free(err);
    free(g);
}
END_TEST

START_TEST(sigint_cancels_the_workflow)
{
    wih_osmo_standin *s = standin();
    char *g = scn("guide.yaml"), *log = wih_path_join(g_base, "osmo-int.log");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NO_COLOR", "1", 1);
        setenv("OSMO_TOKEN", TOKEN, 1);
        execl(WIH_BINARY, WIH_BINARY, "run", "--submitter", "osmo", "--osmo-url", wih_osmo_standin_url(s),
              "--state-dir", g_dir, "-l", "name=guide-gcp", g, (char *)NULL);
        _exit(127);
    }
    int i = 0;
    while (wih_osmo_standin_count(s, "POST", "/workflow") == 0 && i++ < 600) wih_sleep_ms(50);
    ck_assert_msg(i < 600, "no submit within 30 s");
    kill(pid, SIGINT);
    int rc = wih_test_wait_exit(pid, 120000);
    ck_assert_msg(rc >= 0, "the run did not end in 120 s");
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    ck_assert_msg(rc == 130, "exit %d\n%s", rc, tail(text));
    if (wih_osmo_standin_count(s, "POST", "/cancel") != 1) {
        cJSON *rq = wih_osmo_standin_requests(s);
        char *rs = cJSON_PrintUnformatted(rq);
        fprintf(stderr, "requests: %s\nlog:\n%s\n", rs, text);
        free(rs);
        cJSON_Delete(rq);
    }
    ck_assert_msg(wih_osmo_standin_count(s, "POST", "/cancel") == 1, "the workflow was not cancelled:\n%s", tail(text));
    kube_client *kc = client();
    kube_ref sr = {"v1", "ServiceAccount", NS, "osmo-workflow"};
    wih_err *e = NULL;
    cJSON *got = kube_get(kc, &sr, &e);
    ck_assert_msg(!got, "the interrupted run left its ServiceAccount\n%s", tail(text));
    wih_err_free(e);
    kube_client_free(kc);
    wih_osmo_standin_stop(s);
    free(text);
    free(log);
    free(g);
}
END_TEST

/* After everything: no task pod left in OSMO's namespace (the stand-in
 * deletes its own), no runner namespace. */
START_TEST(nothing_left)
{
    kube_client *kc = client();
    wih_err *e = NULL;
    cJSON *pods = kube_list(kc, "v1", "Pod", NS, NULL, &e);
    ck_assert_msg(pods, "%s", e ? wih_err_str(e) : "");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pods, "items")), 0);
    cJSON_Delete(pods);
    cJSON *sas = kube_list(kc, "v1", "ServiceAccount", NS, NULL, &e);
    const cJSON *sa;
    cJSON_ArrayForEach(sa, cJSON_GetObjectItem(sas, "items"))
        ck_assert_msg(!strcmp(kube_obj_str(sa, "metadata.name"), "default"), "ServiceAccount %s left in %s",
                      kube_obj_str(sa, "metadata.name"), NS);
    cJSON_Delete(sas);
    kube_client_free(kc);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-osmo-");
    g_base = ch.base;
    g_dir = ch.dir;
    /* OSMO's backend namespace, as an OSMO deployment has it (no Check
     * assertions out here: no test is running yet) */
    char *kcp = wih_path_join(g_dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kcp};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    free(kcp);
    cJSON *ns = kube_obj_new("v1", "Namespace", NULL, NS);
    cJSON *got = kc ? kube_create(kc, ns, &e) : NULL;
    cJSON_Delete(ns);
    kube_client_free(kc);
    if (!got) {
        fprintf(stderr, "creating namespace %s: %s\n", NS, wih_err_str(e));
        wih_test_chain_down(&ch);
        return 1;
    }
    cJSON_Delete(got);
    Suite *s = suite_create("e2e_osmo");
    const struct {
        const char *name;
        const TTest *t;
    } tests[] = {
        {"unreachable", unreachable_url_is_exit_3}, {"refused", refused_submit_and_token_are_exit_3},
        {"core", core_scenarios_same_verdicts_through_osmo}, {"sigint", sigint_cancels_the_workflow},
        {"left", nothing_left}};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) { /* CK_RUN_CASE=<name> runs one */
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 900);
        tcase_add_test(tc, tests[i].t);
        suite_add_tcase(s, tc);
    }
    int rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
