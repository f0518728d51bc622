/* libFuzzer target for the YAML loader (wih_yaml_load_string) and emitter.
 * Run: build-fuzz/tests/fuzz_yaml -max_total_time=60 tests/fuzz/corpus_yaml
 * (ci/test also seeds it from the YAML files under fixtures/). Besides crashes and
 * sanitizer reports it aborts when an error lacks file:line:col, when a loaded
 * document does not survive emit → load unchanged, or on a silent failure. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/yamljson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_string("fuzz.yaml", (const char *)data, size, &err);
    if (!d) {
        if (!err || wih_err_exit(err) != WIH_EXIT_INPUT) abort();
        if (strncmp(wih_err_str(err), "fuzz.yaml:", 10)) abort(); /* always names the file */
        wih_err_free(err);
        return 0;
    }
    if (err) abort();
    for (size_t i = 0; i < wih_ydocs_count(d); i++) {
        const cJSON *root = wih_ydocs_root(d, i);
        wih_pos p;
        if (!wih_ydocs_pos(d, root, &p) || p.line < 1 || p.col < 1) abort(); /* every root has a position */
        char *y = wih_yaml_emit(root);
        wih_err *e2 = NULL;
        wih_ydocs *back = wih_yaml_load_string("emitted.yaml", y, strlen(y), &e2);
        /* what we emit must load back as the same tree (NaN aside: never emitted as a number) */
        if (!back || wih_ydocs_count(back) != 1 || !cJSON_Compare(wih_ydocs_root(back, 0), root, 1)) abort();
        wih_ydocs_free(back);
        free(y);
    }
    wih_ydocs_free(d);
    return 0;
}
