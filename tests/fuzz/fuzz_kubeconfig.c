/* libFuzzer target for the kubeconfig loader (kube_config_load on one file).
 * Run: build-fuzz/tests/fuzz_kubeconfig -max_total_time=60 tests/fuzz/corpus_kubeconfig
 * (ci/test also seeds it from fixtures/kube/kubeconfig). The input is written to a
 * temp file loaded as --kubeconfig; exec plugins are never run (only
 * kube_config_load, which does not run them). Aborts on a crash, a sanitizer
 * report, an error without an exit code of 2 or 3, or a success without a server. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/kube.h"

static char g_path[64];

static void remove_file(void)
{
    if (g_path[0]) unlink(g_path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_path[0]) {
        snprintf(g_path, sizeof g_path, "/tmp/wih-fuzz-kubeconfig-%d", (int)getpid());
        atexit(remove_file);
    }
    FILE *f = fopen(g_path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    kube_config_opts o = {.kubeconfig = g_path};
    wih_err *err = NULL;
    kube_config *c = kube_config_load(&o, &err);
    if (!c) {
        int x = wih_err_exit(err);
        if (!err || (x != WIH_EXIT_INPUT && x != WIH_EXIT_INFRA)) abort();
        wih_err_free(err);
        return 0;
    }
    const char *s = kube_config_server(c);
    if (!s || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))) abort();
    kube_config_free(c);
    return 0;
}
