/* wiharness smoke: start each real program through the supervisor, check, stop. */
#include "wiharness/cli.h"
#include "wiharness/cluster.h"

typedef struct {
    int unused;
} smoke_cfg;

static int run_smoke(void *cfg, int argc, char **argv)
{
    (void)cfg;
    (void)argc;
    (void)argv;
    wih_err *e = cluster_smoke(stdout);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_smoke = {
    .name = "smoke",
    .summary = "start etcd, kube-apiserver and MinIO on loopback, check their health, stop them",
    .details = "Each program runs under wiharness's supervisor on free 127.0.0.1 ports with a\n"
               "generated PKI in a temp dir; the command checks that after stopping no process\n"
               "is left alive and no port listening. Exit 3 when a program is missing or unhealthy.",
    .cfg_size = sizeof(smoke_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_smoke,
};
