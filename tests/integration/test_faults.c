/* Fault injection (issue 13, "keep it found"): a local chain with its node,
 * `wiharness run` of a slow scenario in flight, one component SIGKILLed by the
 * PID state.json records → the run exits 3 within 30 s naming that component
 * ("<name> (pid N) is dead"), and `wiharness down` then exits 0 and leaves
 * no process, mount, netns, bridge, IPAM lease or cgroup. One fresh chain per
 * component. Fixture: tests/e2e/scenarios/slow.yaml. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chainfault.h"
#include "leftovers.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/node.h"

static char *g_base;

/* state.json name, and how the run's report names it */
static const struct {
    const char *comp, *shown;
} k_comps[] = {
    {"etcd", "etcd"},       {"kube-apiserver", "kube-apiserver"}, {"webhook", "webhook"},
    {"cloud", "cloud"},     {"minio", "MinIO"},                   {"kubelet", "kubelet"},
    {"containerd", "containerd"},
};
#define NCOMPS ((int)(sizeof k_comps / sizeof k_comps[0]))

static char *state_dir(int i)
{
    return wih_asprintf("%s/%s/state", g_base, k_comps[i].comp);
}

/* The end of a log, short enough for a Check message. */
static const char *tail(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    return !text ? "(no log)" : n > 3000 ? text + n - 3000 : text;
}

START_TEST(killed_component_exit_3_and_down_leaves_nothing)
{
    const char *comp = k_comps[_i].comp, *shown = k_comps[_i].shown;
    char *dir = state_dir(_i), *log = wih_asprintf("%s/%s/run.log", g_base, comp);
    char *f = wih_asprintf("%s/tests/e2e/scenarios/slow.yaml", WIH_SOURCE_DIR);
    char *out = NULL, *err = NULL;
    int64_t t0 = wih_now_ms();
    int rc = wih_test_cli(&out, &err, NULL, "up", "--state-dir", dir, NULL);
    ck_assert_msg(rc == 0, "up failed (%d): %s", rc, err);
    int64_t t_up = wih_now_ms() - t0;
    free(out);
    free(err);
    wih_err *e = NULL;
    cJSON *snap = cluster_local_state(dir, &e);
    ck_assert_msg(snap, "%s", e ? wih_err_str(e) : "");
    node_plan p;
    ck_assert_msg(node_plan_from_json(cJSON_GetObjectItem(snap, "node"), &p) == 0, "the chain has no node");
    cJSON *recs = node_records(&p);
    node_plan_free(&p);

    pid_t run = wih_test_run_bg(dir, log, f);
    kube_client_free(wih_test_wait_first_namespace(dir, 30000));
    wih_sleep_ms(500); /* the pods are being admitted / started */
    pid_t cpid = wih_test_kill_component(dir, comp); /* by the PID the chain recorded, never by name */
    int64_t tk = wih_now_ms();
    rc = wih_test_wait_exit(run, 60000);
    int64_t dt = wih_now_ms() - tk;
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    const char *t = tail(text);
    printf("%s: up %lld ms; kill → run exit %d in %lld ms\n", comp, (long long)t_up, rc, (long long)dt);
    ck_assert_msg(rc != -1, "%s killed: the run still running 60 s later\n%s", comp, t);
    ck_assert_msg(rc == 3, "%s killed: run exited %d, want 3\n%s", comp, rc, t);
    ck_assert_msg(dt <= 30000, "%s killed: the run took %lld ms to exit (limit 30 s)\n%s", comp, (long long)dt, t);
    char *want = wih_asprintf("%s (pid %d) is dead", shown, (int)cpid);
    ck_assert_msg(text && strstr(text, want), "%s killed: the run's output lacks \"%s\":\n%s", comp, want, t);

    t0 = wih_now_ms();
    out = err = NULL;
    rc = wih_test_cli(&out, &err, NULL, "down", "--state-dir", dir, NULL);
    printf("%s: down exit %d in %lld ms\n", comp, rc, (long long)(wih_now_ms() - t0));
    ck_assert_msg(rc == 0, "%s killed: down exited %d: %s", comp, rc, err);
    wih_test_check_clean(dir, snap, recs);
    free(out);
    free(err);
    free(want);
    free(text);
    cJSON_Delete(recs);
    cJSON_Delete(snap);
    free(f);
    free(log);
    free(dir);
}
END_TEST

/* Whatever a failed case left: its chain goes. */
static void teardown(void)
{
    for (int i = 0; i < NCOMPS; i++) {
        char *dir = state_dir(i);
        if (access(dir, F_OK) == 0) wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", dir, NULL);
        free(dir);
    }
}

int main(void)
{
    char *missing = node_preflight();
    if (missing) wih_test_skip("the node needs %s", missing);
    wih_err *e = NULL;
    for (int t = 0; t < WIH_TOOL_COUNT; t++) {
        if (t == WIH_TOOL_KUBECTL) continue;
        char *p = wih_tool_path((wih_tool)t, &e);
        if (!p) wih_test_skip("%s", wih_err_str(e));
        free(p);
    }
    g_base = wih_tmpdir("wih-test-faults-", false, &e);
    if (!g_base) {
        fprintf(stderr, "%s\n", wih_err_str(e));
        return 1;
    }
    const char *only = getenv("WIH_FAULTS_ONLY"); /* one component, for debugging */
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 180);
    tcase_add_checked_fixture(tc, NULL, teardown);
    for (int i = 0; i < NCOMPS; i++)
        if (!only || !strcmp(only, k_comps[i].comp))
            tcase_add_loop_test(tc, killed_component_exit_3_and_down_leaves_nothing, i, i + 1);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    teardown();
    wih_rm_rf(g_base);
    free(g_base);
    return rc;
}
