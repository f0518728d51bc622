/* bench_yaml: the YAML loader on one big annotations map (issue 13 finding 2:
 * the duplicate-key check used to scan the map per key, so this was quadratic).
 * bench_yaml [keys...] loads a generated `metadata: {annotations: {...}}` map with
 * that many keys; without arguments 40k, 80k keys and a ~50 MB file.
 * Prints bytes, keys and the load time per case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wiharness/yamljson.h"

static char *gen(size_t keys, size_t *len)
{
    wih_buf b;
    wih_buf_init(&b, 0);
    wih_buf_addf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n");
    for (size_t i = 0; i < keys; i++)
        wih_buf_addf(&b, "    example.com/annotation-%08zu: value-%08zu-abcdefghijklmnop\n", i, i);
    *len = b.len;
    return wih_buf_take(&b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one(size_t keys)
{
    size_t len;
    char *text = gen(keys, &len);
    wih_err *err = NULL;
    double t0 = now_s();
    wih_ydocs *d = wih_yaml_load_string("bench.yaml", text, len, &err);
    double dt = now_s() - t0;
    free(text);
    if (!d) {
        fprintf(stderr, "bench_yaml: %s\n", wih_err_str(err));
        wih_err_free(err);
        return 1;
    }
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(wih_ydocs_root(d, 0), "metadata"), "annotations");
    printf("yaml load: %9zu keys  %6.1f MB  %8.3f s  (%d keys loaded)\n", keys, (double)len / 1e6, dt,
           cJSON_GetArraySize(ann));
    wih_ydocs_free(d);
    return 0;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) rc |= one(strtoul(argv[i], NULL, 10));
        return rc;
    }
    rc |= one(40000);
    rc |= one(80000);
    rc |= one(750000); /* 66 bytes a line: ~50 MB, 1.5M nodes (the limit is 2M) */
    return rc;
}
