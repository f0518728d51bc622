/* bench_local: wall time of `up` and `down` of the local chain, warm (binaries
 * built). Prints each run and the median. Not a test: figures only.
 * Usage: bench_local [RUNS]   (default 5) */
#include <stdlib.h>

#include "wiharness/cluster.h"

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    if (runs < 1 || runs > 50) runs = 5;
    wih_signals_install();
    wih_err *err = NULL;
    char *tmp = wih_tmpdir("wih-bench-local", false, &err);
    if (!tmp) return wih_err_report(err);
    char *dir = wih_path_join(tmp, "state");
    int64_t up[50], down[50];
    for (int i = 0; i < runs && !wih_interrupted(); i++) {
        cluster_local_opts o = {.state_dir = dir};
        bool reused;
        int64_t t0 = wih_now_ms();
        if ((err = cluster_local_up(&o, &reused))) return wih_err_report(err);
        up[i] = wih_now_ms() - t0;
        t0 = wih_now_ms();
        if ((err = cluster_local_down(&o, false))) return wih_err_report(err);
        down[i] = wih_now_ms() - t0;
        printf("run %d: up %lld ms, down %lld ms\n", i + 1, (long long)up[i], (long long)down[i]);
        fflush(stdout);
    }
    qsort(up, (size_t)runs, sizeof up[0], cmp);
    qsort(down, (size_t)runs, sizeof down[0], cmp);
    printf("median over %d runs: up %lld ms (min %lld, max %lld), down %lld ms (min %lld, max %lld)\n", runs,
           (long long)up[runs / 2], (long long)up[0], (long long)up[runs - 1], (long long)down[runs / 2],
           (long long)down[0], (long long)down[runs - 1]);
    free(dir);
    free(tmp);
    return 0;
}
