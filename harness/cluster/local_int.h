/* Private to the local backend: the chain being started and its steps. */
#ifndef WIH_LOCAL_INT_H
#define WIH_LOCAL_INT_H

#include <cjson/cJSON.h>

#include "wiharness/cluster.h"
#include "wiharness/node.h"

typedef struct lchain {
    const cluster_local_opts *o;
    char *dir, *pki, *kubeconfig;
    int64_t timeout, t0;
    cJSON *state; /* rewritten to state.json after every component */
    char *etcd_url, *api_url;
    int cport;    /* the mock cloud's port, fixed before the webhook (its options name it) */
    node_plan plan;
    bool node;
    char *pause_ref, *probe_ref;
    const char *addr; /* where pods (and an external API server) reach our servers, or NULL */
    char *issuer;     /* the external cluster's issuer and JWKS (external_kubeconfig) */
    cJSON *jwks;
} lchain;

void lc_progress(const cluster_local_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a started, ready program under components.<name> (PID, start time,
 * exe, port, url, health URL) and hand it over (detached): from here on it is
 * stopped by its recorded PID, by `down` or by the failure/SIGINT path. */
wih_err *lc_record(lchain *c, const char *name, cluster_svc *s, const char *health);
wih_err *lc_record_pid(lchain *c, const char *name, pid_t pid, int port, const char *url, const char *log,
                       const char *health);
wih_err *lc_write_state(lchain *c);

/* the steps of `up`, in order (local_steps.c) */
wih_err *lc_external_issuer(lchain *c); /* external_kubeconfig: its issuer + JWKS into c */
wih_err *lc_start_etcd(lchain *c);
wih_err *lc_start_apiserver(lchain *c);
wih_err *lc_start_controller_manager(lchain *c);
wih_err *lc_start_scheduler(lchain *c);
wih_err *lc_start_webhook(lchain *c);
wih_err *lc_start_cloud(lchain *c); /* and MinIO */
wih_err *lc_start_containerd(lchain *c); /* bridge, images, containerd */
wih_err *lc_start_kubelet(lchain *c);    /* and waits for the Node to be Ready */
wih_err *lc_start_relay(lchain *c);

/* stop hooks (local.c walks them) */
void lc_drain_pods(const char *dir, const cJSON *state, const cluster_local_opts *o);
wih_err *lc_node_teardown(const cJSON *state, const cluster_local_opts *o);

#endif
