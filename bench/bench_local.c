/* bench_local: wall time of `up` and `down` of the local chain, without and
 * with the real node (the node needs root; skipped with the reason if not),
 * and with the node again where `down` keeps the state dir (`down
 * --keep-state`): there the next `up` keeps the PKI, so the probe image's
 * content (binary + libraries + CA) is unchanged and comes from the image
 * cache (a new state dir has a new CA, hence a new image). Run 1 of each is
 * "cold" (a new state dir: PKI, images, page cache); the others are "warm".
 * Prints each run and the warm median; first the probe-image step alone
 * (no cache / cache miss / cache hit, wall and CPU). Not a test. The image cache is
 * $WIH_IMAGE_CACHE (docs/local-backend.md); set it to an empty dir for a
 * cold cache, to "off" to build every time.
 * Includes the mock identity webhook (started as build/wiharness).
 * Usage: bench_local [RUNS]   (default 3 per mode) */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wiharness/cluster.h"
#include "wiharness/node.h"

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int bench(const char *label, const char *dir, const char *bin, bool node, bool keep, int runs)
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
        if ((err = cluster_local_down(&o, keep && i + 1 < runs))) return wih_err_report(err);
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

static int64_t cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* The probe-image step of `up` alone (wall and this process's CPU time):
 * built without the cache, a cache miss (built + stored), a cache hit. */
static int bench_image(const char *tmp, const char *bin, int runs)
{
    static const char *const kinds[] = {"no cache", "cache miss", "cache hit"};
    char *cache = wih_path_join(tmp, "image-cache"), *out = wih_path_join(tmp, "probe.tar");
    const char *ca = "/etc/ssl/certs/ca-certificates.crt"; /* any PEM: stands in for the chain's CA */
    for (int i = 0; i < runs && !wih_interrupted(); i++) {
        wih_rm_rf(cache);
        for (int k = 0; k < 3; k++) {
            char *ref = NULL;
            bool hit = false;
            int64_t t0 = wih_now_ms(), c0 = cpu_ms();
            wih_err *err = node_image_probe_cached(bin, ca, k ? cache : NULL, out, &ref, &hit);
            int64_t wall = wih_now_ms() - t0, cpu = cpu_ms() - c0;
            if (err) return wih_err_report(err);
            printf("probe image run %d, %s: %lld ms wall, %lld ms cpu%s\n", i + 1, kinds[k], (long long)wall,
                   (long long)cpu, hit != (k == 2) ? " (UNEXPECTED hit/miss)" : "");
            free(ref);
        }
    }
    wih_rm_rf(cache);
    unlink(out);
    free(cache);
    free(out);
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
    int rc = bench_image(tmp, bin, runs);
    if (!rc) rc = bench("no node", dir, bin, false, false, runs);
    char *missing = node_preflight();
    if (missing)
        printf("with node: skipped (the node needs %s)\n", missing);
    else if (!rc && !(rc = bench("with node", dir, bin, true, false, runs)))
        rc = bench("with node, state kept", dir, bin, true, true, runs);
    free(missing);
    free(dir);
    free(tmp);
    free(self);
    free(bin);
    return rc;
}
