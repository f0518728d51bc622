/* The shared bring-up of the tests that run pods on the real node. */
#include "nodechain.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "testutil.h"
#include "wiharness/cluster.h"

/* The cleanup entry: `down` for a chain whose test ended abnormally. Pushed
 * after the temp dir's entry, so it runs first (the stack runs in reverse). */
static void down_at_exit(void *ctx)
{
    /* ctx stays the chain's (freed by pop_down): the process is ending */
    wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", (const char *)ctx, NULL);
}

static void pop_down(wih_test_chain *c)
{
    if (!c->down_ctx) return;
    /* pop without running; the entry's ctx (a copy of dir) is freed here */
    wih_cleanup_pop(c->down_handle, false);
    free(c->down_ctx);
    c->down_handle = 0;
    c->down_ctx = NULL;
}

void wih_test_chain_down(wih_test_chain *c)
{
    pop_down(c);
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
    c->down_ctx = wih_strdup(c->dir);
    c->down_handle = wih_cleanup_push("taking the test's chain down", down_at_exit, c->down_ctx);
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

kube_client *wih_test_chain_client(const char *dir)
{
    char *kcp = wih_path_join(dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kcp};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    free(kcp);
    ck_assert_msg(kc, "%s", e ? wih_err_str(e) : "");
    return kc;
}
