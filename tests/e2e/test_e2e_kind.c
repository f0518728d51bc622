/* End to end, --backend kind: the bundled suite on a real kind cluster (the
 * run creates wih-e2e, serves it the mock webhook, cloud and MinIO on the kind
 * network, loads the probe image, deletes the cluster at its end). Needs
 * `kind` and a Docker engine (CI's nightly job, ci/nightly.example.yml);
 * skips (77) saying which is missing otherwise. Without them the same path
 * is tested with stand-ins for the two CLIs: tests/integration/test_kind_run.c. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/backends.h"

int main(void)
{
    wih_err *e = kind_available(NULL, NULL);
    if (e) wih_test_skip("%s", wih_err_str(e));
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *argv[] = {(char *)WIH_BINARY, "run", "--backend", "kind", "--name", "wih-e2e", suite, NULL};
    char *env[] = {"NO_COLOR=1", NULL};
    char *out = NULL, *err = NULL;
    /* creating a kind cluster alone takes a minute or more */
    int rc = wih_run_capture(argv, env, NULL, 1800000, &out, &err, &e);
    if (rc < 0) fprintf(stderr, "%s\n", wih_err_str(e));
    if (rc != 0) fprintf(stderr, "the bundled suite on kind: exit %d\n%s\n%s\n", rc, out ? out : "", err ? err : "");
    wih_err_free(e);
    free(out);
    free(err);
    free(suite);
    return rc == 0 ? 0 : 1;
}
