/* wiharness node relay — the local node's relay process (started by `up`). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"
#include "wiharness/node.h"

typedef struct {
    const char *ip, *ready_file;
    wih_strlist ports;
} relay_cfg;

static const wih_opt k_opts[] = {
    {"ip", 0, WIH_OPT_STR, offsetof(relay_cfg, ip), "ADDR", "the bridge address to listen on (required)", false},
    {"port", 0, WIH_OPT_LIST, offsetof(relay_cfg, ports), "N", "relay ADDR:N to 127.0.0.1:N (repeatable)", true},
    {"ready-file", 0, WIH_OPT_STR, offsetof(relay_cfg, ready_file), "FILE", "written once listening", false},
};

static int run_relay(void *vcfg, int argc, char **argv)
{
    relay_cfg *c = vcfg;
    (void)argc;
    (void)argv;
    if (!c->ip || !c->ports.n || c->ports.n > 16) {
        fprintf(stderr, "wiharness node relay: --ip and 1 to 16 --port are required\n");
        return WIH_EXIT_INPUT;
    }
    int ports[16];
    for (size_t i = 0; i < c->ports.n; i++) {
        char *end = NULL;
        long v = strtol(c->ports.v[i], &end, 10);
        if (!end || *end || v < 1 || v > 65535) {
            fprintf(stderr, "wiharness node relay: --port %s: not a port number (1-65535)\n", c->ports.v[i]);
            return WIH_EXIT_INPUT;
        }
        ports[i] = (int)v;
    }
    wih_err *e = node_relay_serve(c->ip, ports, (int)c->ports.n, c->ready_file);
    return e ? wih_err_report(e) : WIH_EXIT_OK;
}

const wih_cmd wih_cmd_node_relay = {
    .name = "node relay",
    .summary = "relay the node's bridge address to the host's loopback servers (started by up)",
    .details = "Pods reach the mock cloud and MinIO at https://<bridge address>:<port>; this copies each\n"
               "connection to 127.0.0.1:<port>, where they listen. TLS stays end to end.",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(relay_cfg),
    .max_args = 0,
    .run = run_relay,
};
