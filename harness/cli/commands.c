/* The command table: `wiharness help` lists them in this order. */
#include "wiharness/cli.h"

extern const wih_cmd wih_cmd_up;
extern const wih_cmd wih_cmd_status;
extern const wih_cmd wih_cmd_env;
extern const wih_cmd wih_cmd_down;
extern const wih_cmd wih_cmd_smoke;
extern const wih_cmd wih_cmd_kube_apply;
extern const wih_cmd wih_cmd_kube_get;
extern const wih_cmd wih_cmd_gen_sa;
extern const wih_cmd wih_cmd_gen_values;
extern const wih_cmd wih_cmd_render;
extern const wih_cmd wih_cmd_explain;
extern const wih_cmd wih_cmd_webhook_mutate;
extern const wih_cmd wih_cmd_webhook_serve;
extern const wih_cmd wih_cmd_cloud_role_set;
extern const wih_cmd wih_cmd_cloud_role_list;
extern const wih_cmd wih_cmd_cloud_bucket_create;
extern const wih_cmd wih_cmd_cloud_serve;
extern const wih_cmd wih_cmd_run;
extern const wih_cmd wih_cmd_image_build;
extern const wih_cmd wih_cmd_node_relay;
extern const wih_cmd wih_cmd_node_selftest;
extern const wih_cmd wih_cmd_probe;

const wih_cmd *const wih_commands[] = {
    /* the local chain */
    &wih_cmd_up,
    &wih_cmd_status,
    &wih_cmd_env,
#ifndef WIH_NO_RUNNER
    /* scenarios */
    &wih_cmd_run,
#endif
    &wih_cmd_down,
    /* the chain's mock cloud: roles and buckets */
    &wih_cmd_cloud_role_set,
    &wih_cmd_cloud_role_list,
    &wih_cmd_cloud_bucket_create,
    /* OSMO: what pod will OSMO make, and the manifests of the guide */
    &wih_cmd_render,
    &wih_cmd_gen_sa,
    &wih_cmd_gen_values,
    /* diagnosis: what is misconfigured, and the fix */
    &wih_cmd_explain,
    /* the mock identity webhook */
    &wih_cmd_webhook_mutate,
    &wih_cmd_webhook_serve,
    /* the mock cloud identity plane */
    &wih_cmd_cloud_serve,
    /* the test pod's workload */
    &wih_cmd_probe,
    /* a small kubectl */
    &wih_cmd_kube_apply,
    &wih_cmd_kube_get,
    /* images for pods (the local node imports its own) */
    &wih_cmd_image_build,
    &wih_cmd_node_relay,
    &wih_cmd_node_selftest,
    /* the installation */
    &wih_cmd_smoke,
    &wih_cmd_version,
    &wih_cmd_help,
};
const size_t wih_ncommands = sizeof wih_commands / sizeof wih_commands[0];
