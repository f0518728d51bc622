/* chainfault.h: a run in flight and a component killed by its recorded PID. */
#include "chainfault.h"

#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nodechain.h"
#include "wiharness/cluster.h"

pid_t wih_test_run_bg(const char *dir, const char *log, const char *scenario)
{
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NO_COLOR", "1", 1);
        execl(WIH_BINARY, WIH_BINARY, "run", "--state-dir", dir, scenario, (char *)NULL);
        _exit(127);
    }
    return pid;
}

kube_client *wih_test_wait_first_namespace(const char *dir, int64_t timeout_ms)
{
    kube_client *c = wih_test_chain_client(dir);
    wih_err *e = NULL;
    for (int64_t end = wih_now_ms() + timeout_ms; wih_now_ms() < end; wih_sleep_ms(100)) {
        cJSON *l = kube_list(c, "v1", "Namespace", NULL, "wiharness.io/runner=true", &e);
        int n = l ? cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")) : 0;
        cJSON_Delete(l);
        wih_err_free(e);
        e = NULL;
        if (n) return c;
    }
    kube_client_free(c);
    ck_abort_msg("the run made no namespace in %lld ms", (long long)timeout_ms);
    return NULL;
}

int wih_test_wait_exit(pid_t pid, int64_t timeout_ms)
{
    int st = 0;
    for (int64_t end = wih_now_ms() + timeout_ms; wih_now_ms() < end; wih_sleep_ms(50))
        if (waitpid(pid, &st, WNOHANG) == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    kill(pid, SIGKILL); /* the pid this test forked */
    waitpid(pid, &st, 0);
    return -1;
}

pid_t wih_test_kill_component(const char *dir, const char *comp)
{
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(dir, &e);
    ck_assert_msg(st, "%s", e ? wih_err_str(e) : "no state.json");
    const cJSON *pid = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "components"), comp), "pid");
    ck_assert_msg(cJSON_IsNumber(pid), "state.json records no pid for %s", comp);
    pid_t p = (pid_t)pid->valueint;
    cJSON_Delete(st);
    ck_assert_msg(kill(p, SIGKILL) == 0, "kill %s (pid %d)", comp, (int)p);
    return p;
}
