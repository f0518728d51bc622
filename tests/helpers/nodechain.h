/* A local chain with the real node in a fresh temp dir, for the tests whose
 * pods must really run (e2e suite, misconfig, reproduce, existing, git). */
#ifndef WIH_NODECHAIN_H
#define WIH_NODECHAIN_H

#include "wiharness/kube.h"

typedef struct wih_test_chain {
    char *base; /* the temp dir (removed by wih_test_chain_down) */
    char *dir;  /* <base>/state: the chain's state dir */
    int down_handle; /* cleanup entry that runs `down` if the test exits abnormally (valid while down_ctx) */
    char *down_ctx;  /* its copy of dir */
} wih_test_chain;

/* `wiharness up` in a new temp dir named <prefix>XXXXXX. Skips (77, saying
 * why) when a real program is missing or the chain came up without a node;
 * when `up` fails it prints its stderr, takes the chain down, and exits 1.
 * A test that exits without wih_test_chain_down (a failed assertion outside
 * a test, exit() anywhere) still runs `down` from the cleanup stack, before
 * the temp dir (and with it state.json) is removed. */
void wih_test_chain_up(wih_test_chain *c, const char *prefix);
/* `wiharness down`, remove the temp dir, free the paths. */
void wih_test_chain_down(wih_test_chain *c);

/* A client for the chain in state dir dir (its <dir>/kubeconfig, the admin
 * context); Check-asserts that it could be made. Free with kube_client_free. */
kube_client *wih_test_chain_client(const char *dir);

#endif
