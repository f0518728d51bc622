/* bench_local: wall time of `up` and `down` of the local chain, without and
 * with the real node (the node needs root; skipped with the reason if not).
 * Run 1 of each is "cold" (a new state dir: PKI, images, page cache); the
 * others are "warm". Prints each run and the warm median. Not a test.
 * Includes the mock identity webhook (started as build/wiharness).
 * Usage: bench_local [RUNS]   (default 3 per mode) */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cluster.h"
#include "wiharness/node.h"

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int bench(const char *label, const char *dir, const char *bin, bool node, int runs)
{
    int64_t up[50], down[50];
    wih_err *err = NULL;
    for (int i = 0; i < runs && !wih_interrupted(); i++) {
        cluster_local_opts o = {.state_dir = dir, .wiharness_bin = bin, .node = node};
        bool reused;
        int64_t t0 = wih_now_ms();
        if ((err = cluster_local_up(&o, &reused))) {
            wih_err_free(cluster_local_down(&o, false));
            return wih_err_report(err);
        }
        up[i] = wih_now_ms() - t0;
        t0 = wih_now_ms();
        if ((err = cluster_local_down(&o, false))) return wih_err_report(err);
        down[i] = wih_now_ms() - t0;
        printf("%s run %d (%s): up %lld ms, down %lld ms\n", label, i + 1, i ? "warm" : "cold", (long long)up[i],
               (long long)down[i]);
        fflush(stdout);
    }
    if (runs > 1) {
        int n = runs - 1;
        qsort(up + 1, (size_t)n, sizeof up[0], cmp);
        qsort(down + 1, (size_t)n, sizeof down[0], cmp);
        printf("%s: cold up %lld ms; warm median over %d: up %lld ms (min %lld, max %lld), down %lld ms\n", label,
               (long long)up[0], n, (long long)up[1 + n / 2], (long long)up[1], (long long)up[n],
               (long long)down[1 + n / 2]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 3;
    if (runs < 1 || runs > 50) runs = 3;
    wih_signals_install();
    wih_err *err = NULL;
    char *tmp = wih_tmpdir("wih-bench-local", false, &err);
    if (!tmp) return wih_err_report(err);
    char *dir = wih_path_join(tmp, "state");
    /* the webhook runs as `wiharness webhook serve`: build/bench/.. holds it */
    char *self = wih_strdup(argv[0]);
    char *bin = wih_asprintf("%s/../wiharness", dirname(self));
    int rc = bench("no node", dir, bin, false, runs);
    char *missing = node_preflight();
    if (missing)
        printf("with node: skipped (the node needs %s)\n", missing);
    else if (!rc)
        rc = bench("with node", dir, bin, true, runs);
    free(missing);
    free(dir);
    free(tmp);
    free(self);
    free(bin);
    return rc;
}
