/* The shared bring-up of the tests that run pods on the real node. */
#include "nodechain.h"

#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "wiharness/cluster.h"

void wih_test_chain_down(wih_test_chain *c)
{
    if (c->dir) wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", c->dir, NULL);
    if (c->base) wih_rm_rf(c->base);
    free(c->base);
    free(c->dir);
    c->base = c->dir = NULL;
}

void wih_test_chain_up(wih_test_chain *c, const char *prefix)
{
    wih_err *e = NULL;
    for (int t = WIH_TOOL_KUBE_APISERVER; t <= WIH_TOOL_MINIO; t++) {
        char *p = wih_tool_path((wih_tool)t, &e);
        if (!p) wih_test_skip("%s", wih_err_str(e));
        free(p);
    }
    c->base = wih_tmpdir(prefix, false, &e);
    if (!c->base) {
        fprintf(stderr, "%s\n", wih_err_str(e));
        exit(1);
    }
    c->dir = wih_path_join(c->base, "state");
    char *err = NULL;
    int rc = wih_test_cli(NULL, &err, NULL, "up", "--state-dir", c->dir, NULL);
    if (rc != 0) {
        fprintf(stderr, "wiharness up failed (exit %d):\n%s\n", rc, err ? err : "");
        free(err);
        wih_test_chain_down(c);
        exit(1);
    }
    free(err);
    cJSON *st = cluster_local_state(c->dir, &e);
    bool node = st && cJSON_GetObjectItem(st, "node");
    cJSON_Delete(st);
    wih_err_free(e);
    if (!node) {
        wih_test_chain_down(c);
        wih_test_skip("the local chain came up without a node (no root, containerd or kubelet here)");
    }
}
