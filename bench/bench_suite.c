/* bench_suite [SCENARIOS] — the bundled suite's wall time cold (nothing
 * running: `wiharness run` starts the chain and stops it) and warm (`up`
 * already done), the time of each case (from the JSON report), and the peak
 * RSS of `wiharness run` (wait4's ru_maxrss; warm: the runner alone). Figures,
 * never a pass/fail. Runs ../wiharness next to this binary (or $WIH_BIN). */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "wiharness/core.h"

static char g_bin[4096];

static int run(char *const *argv, double *secs, long *maxrss_kb)
{
    int64_t t0 = wih_now_ms();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    wait4(pid, &st, 0, &ru);
    *secs = (double)(wih_now_ms() - t0) / 1000.0;
    if (maxrss_kb) *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void per_case(const char *report)
{
    char *t = wih_read_file(report, 16 << 20, NULL, NULL);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "cases"))
        printf("    %-12s %-10s %-7s %6.2f s\n", cJSON_GetObjectItem(c, "scenario")->valuestring,
               cJSON_GetObjectItem(c, "profile")->valuestring, cJSON_GetObjectItem(c, "status")->valuestring,
               cJSON_GetObjectItem(c, "duration_s")->valuedouble);
    cJSON_Delete(j);
    free(t);
}

int main(int argc, char **argv)
{
    const char *env = getenv("WIH_BIN");
    if (env) {
        snprintf(g_bin, sizeof g_bin, "%s", env);
    } else {
        ssize_t n = readlink("/proc/self/exe", g_bin, sizeof g_bin - 1);
        g_bin[n > 0 ? n : 0] = 0;
        char *s = strrchr(g_bin, '/');
        if (s) snprintf(s, sizeof g_bin - (size_t)(s - g_bin), "/../wiharness");
    }
    const char *suite = argc > 1 ? argv[1] : NULL;
    wih_err *e = NULL;
    char *tmp = wih_tmpdir("wih-bench-suite-", false, &e);
    if (!tmp) return wih_err_report(e);
    char *state = wih_path_join(tmp, "state"), *rep = wih_asprintf("json=%s/r.json", tmp);
    char *rjson = wih_path_join(tmp, "r.json");
    char *runv[] = {g_bin, "run", "--state-dir", state, "--report", rep, (char *)suite, NULL};
    char *upv[] = {g_bin, "up", "--state-dir", state, NULL}, *downv[] = {g_bin, "down", "--state-dir", state, NULL};
    double secs, up_s;
    long rss;
    int rc = run(runv, &secs, &rss);
    printf("cold (up + suite + down): %.1f s, exit %d, peak RSS %.1f MB (incl. up/down)\n", secs, rc, rss / 1024.0);
    per_case(rjson);
    rc = run(upv, &up_s, NULL);
    printf("up: %.1f s (exit %d)\n", up_s, rc);
    for (int i = 0; i < 2; i++) {
        rc = run(runv, &secs, &rss);
        printf("warm run %d: %.1f s, exit %d, peak RSS of the runner %.1f MB\n", i + 1, secs, rc, rss / 1024.0);
    }
    per_case(rjson);
    run(downv, &secs, NULL);
    printf("down: %.1f s\n", secs);
    wih_rm_rf(tmp);
    free(tmp);
    free(state);
    free(rep);
    free(rjson);
    return 0;
}
