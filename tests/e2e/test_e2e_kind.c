/* End to end, --backend kind: the bundled suite on a kind cluster. Needs
 * `kind` and a Docker engine (CI's nightly job, ci/nightly.example.yml);
 * skips (77) saying which is missing otherwise. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/backends.h"

int main(void)
{
    wih_err *e = kind_available(NULL, NULL);
    if (e) wih_test_skip("%s", wih_err_str(e));
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "kind", "--name", "wih-e2e", suite, NULL);
    if (rc != 0) fprintf(stderr, "the bundled suite on kind: exit %d\n%s\n%s\n", rc, out, err);
    free(out);
    free(err);
    free(suite);
    return rc == 0 ? 0 : 1;
}
