/* `wiharness run` against a real local chain (its own state dir): a wrong
 * expectation → exit 1 naming each mismatch path (and the JUnit file says
 * so); a malformed scenario → exit 2 with file:line:col; MinIO killed
 * mid-run → exit 3 naming MinIO; SIGINT mid-run → exit 130 and no scenario
 * namespace is left Active; a finished run leaves no role in the cloud. Fixtures: tests/e2e/scenarios/. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chainfault.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"

static char *g_dir;

static char *fixture(const char *name)
{
    return wih_asprintf("%s/tests/e2e/scenarios/%s", WIH_SOURCE_DIR, name);
}

static void chain_up(void)
{
    char *err = NULL;
    int rc = wih_test_cli(NULL, &err, NULL, "up", "--state-dir", g_dir, NULL);
    ck_assert_msg(rc == 0, "up failed (%d): %s", rc, err);
    free(err);
}

static void chain_down(void)
{
    wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", g_dir, NULL);
}

START_TEST(wrong_expectation_exit_1)
{
    chain_up();
    char *f = fixture("wrong-expectation.yaml"), *junit = wih_path_join(g_dir, "../junit.xml");
    char *rep = wih_asprintf("junit=%s", junit);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, "--report", rep, f, NULL);
    ck_assert_msg(rc == 1, "exit %d\n%s\n%s", rc, out, err);
    ck_assert_msg(strstr(out, "spec.serviceAccountName: expected \"someone-else\", got \"osmo-workflow\""), "%s", out);
    ck_assert_msg(strstr(out, "spec.containers[name=osmo-ctrl].env[name=AWS_ROLE_ARN]: expected"), "%s", out);
    ck_assert_msg(strstr(out, "0 passed, 1 failed, 0 skipped"), "%s", out);
    char *x = wih_read_file(junit, 1 << 20, NULL, NULL);
    ck_assert_msg(x && strstr(x, "<failure") && strstr(x, "spec.containers[name=osmo-ctrl].env[name=AWS_ROLE_ARN]"),
                  "%s", x ? x : "(no junit file)");
    free(x);
    /* the case's roles are deleted from the cloud, not left behind inert */
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "cloud", "role", "list", "--state-dir", g_dir, "--output", "json", NULL);
    cJSON *roles = rc == 0 ? cJSON_Parse(out) : NULL;
    ck_assert_msg(cJSON_IsArray(roles) && cJSON_GetArraySize(roles) == 0, "roles left after the run (exit %d): %s%s",
                  rc, out, err);
    cJSON_Delete(roles);
    unlink(junit);
    free(junit);
    free(rep);
    free(out);
    free(err);
    free(f);
}
END_TEST

START_TEST(malformed_exit_2)
{
    char *f = fixture("malformed.yaml"), *want = wih_asprintf("%s:8:5: unknown key 'pods'", f);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, f, NULL);
    ck_assert_msg(rc == 2, "exit %d\n%s", rc, err);
    ck_assert_msg(strstr(err, want), "want %s in:\n%s", want, err);
    free(want);
    free(out);
    free(err);
    free(f);
}
END_TEST

static pid_t spawn_run(const char *log, const char *scenario)
{
    return wih_test_run_bg(g_dir, log, scenario);
}

/* The run's exit code; fails the test when it has not ended in 120 s. */
static int wait_exit(pid_t pid)
{
    int rc = wih_test_wait_exit(pid, 120000);
    ck_assert_msg(rc != -1, "the run did not end in 120 s");
    return rc;
}

START_TEST(sigint_cleans_up)
{
    chain_up();
    char *f = fixture("slow.yaml"), *log = wih_path_join(g_dir, "../run-int.log");
    pid_t pid = spawn_run(log, f);
    kube_client *c = wih_test_wait_first_namespace(g_dir, 20000);
    kill(pid, SIGINT);
    int rc = wait_exit(pid);
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    ck_assert_msg(rc == 130, "exit %d\n%s", rc, text);
    wih_err *e = NULL;
    cJSON *l = kube_list(c, "v1", "Namespace", NULL, "wiharness.io/runner=true", &e);
    ck_assert(l);
    const cJSON *ns;
    cJSON_ArrayForEach(ns, cJSON_GetObjectItem(l, "items"))
    {
        const char *phase = kube_obj_str(ns, "status.phase");
        ck_assert_msg(phase && !strcmp(phase, "Terminating"), "namespace %s survived the interrupted run (%s)\n%s",
                      kube_obj_str(ns, "metadata.name"), phase ? phase : "?", text);
    }
    cJSON_Delete(l);
    kube_client_free(c);
    free(text);
    unlink(log);
    free(log);
    free(f);
}
END_TEST

START_TEST(minio_killed_exit_3)
{
    chain_up();
    char *f = fixture("slow.yaml"), *log = wih_path_join(g_dir, "../run-minio.log");
    pid_t pid = spawn_run(log, f);
    kube_client *c = wih_test_wait_first_namespace(g_dir, 20000);
    wih_test_kill_component(g_dir, "minio"); /* by the PID the chain recorded */
    int rc = wait_exit(pid);
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    ck_assert_msg(rc == 3, "exit %d\n%s", rc, text);
    ck_assert_msg(strstr(text, "MinIO") && strstr(text, "dead"), "the report does not name MinIO:\n%s", text);
    kube_client_free(c);
    free(text);
    unlink(log);
    free(log);
    free(f);
}
END_TEST

static void teardown(void)
{
    chain_down();
}

int main(void)
{
    wih_err *e = NULL;
    char *p;
    for (int t = WIH_TOOL_KUBE_APISERVER; t <= WIH_TOOL_MINIO; t++) {
        if (!(p = wih_tool_path((wih_tool)t, &e))) wih_test_skip("%s", wih_err_str(e));
        free(p);
    }
    char *base = wih_tmpdir("wih-test-run-", false, &e);
    g_dir = wih_path_join(base, "state");
    Suite *s = suite_create("run");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 240);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, malformed_exit_2);
    tcase_add_test(tc, wrong_expectation_exit_1);
    tcase_add_test(tc, sigint_cleans_up);
    tcase_add_test(tc, minio_killed_exit_3);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    chain_down();
    wih_rm_rf(base);
    free(base);
    free(g_dir);
    return rc;
}
