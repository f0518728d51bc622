/* `wiharness kube apply/get` exit codes and messages without a cluster:
 * malformed kubeconfig → 2 with file:line:col, missing context → 2, a
 * manifest without kind → 2 with its position, unreachable server → 3. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static char *g_kc; /* a kubeconfig whose server is a free port with nothing listening */
static char *g_dir;

static void setup(void)
{
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-kube-cli", false, &e);
    ck_assert_ptr_nonnull(dir);
    int port = wih_free_port(&e);
    ck_assert_int_gt(port, 0);
    char *text = wih_asprintf("apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters:\n- name: dead\n"
                              "  cluster: {server: \"https://127.0.0.1:%d\"}\nusers:\n- name: u\n"
                              "  user: {token: fake-cli-token}\ncontexts:\n- name: dead\n"
                              "  context: {cluster: dead, user: u}\n",
                              port);
    g_kc = wih_path_join(dir, "kubeconfig");
    ck_assert_int_eq(wih_write_file(g_kc, text, strlen(text), 0600, &e), 0);
    free(text);
    g_dir = dir;
}

static void teardown(void)
{
    wih_rm_rf(g_dir);
    free(g_dir);
    free(g_kc);
    g_dir = g_kc = NULL;
}

/* SIGINT while `kube get` retries a refused connection: exit 130, promptly
 * (issue 13 finding 6; it was 3). The binary is started and signalled by PID,
 * once its debug log shows it retrying (under valgrind that takes a while). */
START_TEST(test_sigint_during_retries_exit_130)
{
    char *log = wih_path_join(g_dir, "get.log");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY), lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(null, 1);
        dup2(lf, 2);
        execl(WIH_BINARY, WIH_BINARY, "-v", "kube", "get", "v1", "Pod", "--kubeconfig", g_kc, "--request-timeout",
              "120", (char *)NULL);
        _exit(127);
    }
    bool retrying = false;
    for (int i = 0; i < 600 && !retrying; i++) { /* up to 60 s */
        char *t = wih_read_file(log, 1 << 20, NULL, NULL);
        retrying = t && strstr(t, "retrying in");
        free(t);
        if (!retrying) usleep(100 * 1000);
    }
    int64_t t0 = wih_now_ms();
    kill(pid, SIGINT);
    int st = 0;
    pid_t w;
    while ((w = waitpid(pid, &st, WNOHANG)) == 0 && wih_now_ms() - t0 < 30000) usleep(50 * 1000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    free(log);
    ck_assert_msg(retrying, "kube get never logged a retry");
    ck_assert_msg(w == pid, "kube get did not stop within 30 s of SIGINT");
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "%s %d, want exit 130",
                  WIFEXITED(st) ? "exit" : "killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}
END_TEST

/* An empty file (or only comments / empty documents) applies nothing: that is a
 * mistake, exit 2, not a silent success (issue 13 finding 9). */
START_TEST(test_apply_empty_file_exit_2)
{
    char *f = wih_path_join(g_dir, "empty.yaml");
    ck_assert_int_eq(wih_write_file(f, "# nothing\n---\n", 14, 0600, NULL), 0);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "apply", "-f", f, "--kubeconfig", g_kc, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "applied nothing") && strstr(err, f), "%s", err);
    free(out);
    free(err);
    free(f);
}
END_TEST

START_TEST(test_malformed_kubeconfig_exit_2)
{
    char *kc = wih_fixture("kube/kubeconfig/malformed/bad-yaml.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "--kubeconfig", kc, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "bad-yaml.yaml:7:6:"), "%s", err);
    free(out);
    free(err);
    free(kc);
}
END_TEST

START_TEST(test_missing_context_exit_2)
{
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "--kubeconfig", g_kc, "--context", "prod",
                          NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "context \"prod\" (from --context) not found"), "%s", err);
    free(out);
    free(err);
}
END_TEST

START_TEST(test_manifest_without_kind_exit_2)
{
    char *f = wih_fixture("kube/cli/no-kind.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "apply", "-f", f, "--kubeconfig", g_kc, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "no-kind.yaml:7:1: document 2: a Kubernetes object needs apiVersion, kind"), "%s",
                  err);
    free(out);
    free(err);
    free(f);
}
END_TEST

START_TEST(test_unreachable_exit_3)
{
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "--kubeconfig", g_kc, "--request-timeout",
                          "1", NULL);
    ck_assert_int_eq(rc, 3);
    ck_assert_msg(strstr(err, "cannot connect to the API server https://127.0.0.1:") && strstr(err, g_kc), "%s", err);
    ck_assert_ptr_null(strstr(err, "fake-cli-token"));
    free(out);
    free(err);
}
END_TEST

START_TEST(test_bad_output_exit_2)
{
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "-o", "wide", "--kubeconfig", g_kc, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_ptr_nonnull(strstr(err, "--output must be text, json or yaml"));
    free(out);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kube-cli");
    TCase *tc = tcase_create("exit-codes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_malformed_kubeconfig_exit_2);
    tcase_add_test(tc, test_missing_context_exit_2);
    tcase_add_test(tc, test_manifest_without_kind_exit_2);
    tcase_add_test(tc, test_unreachable_exit_3);
    tcase_add_test(tc, test_bad_output_exit_2);
    tcase_add_test(tc, test_sigint_during_retries_exit_130);
    tcase_add_test(tc, test_apply_empty_file_exit_2);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
