/* Private to the runner (harness/scenario/runner*.c). */
#ifndef WIH_RUNNER_INT_H
#define WIH_RUNNER_INT_H

#include <pthread.h>

#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/runner.h"
#include "wiharness/storage.h"

/* The chain, from state.json (read-only after chain_load). */
typedef struct rchain {
    char *dir, *kubeconfig, *issuer;
    char *cloud_url, *ca_file, *admin_token; /* admin_token SECRET */
    char *minio_url;
    s3_creds root;                           /* SECRET */
    char *cloud_log, *webhook_log;
    char *probe_image;                       /* NULL without a node */
    cJSON *pod_urls;                         /* NULL without a node */
    bool has_kcm;                            /* a controller-manager: namespaces really go away */
} rchain;

wih_err *chain_load(const char *state_dir, rchain *c);
void chain_clear(rchain *c);
/* Name the broken component ("minio (pid 123) is dead"), or NULL when all are healthy. */
char *chain_blame(const rchain *c);
/* Wrap an infrastructure error with the component to blame (when one is). */
wih_err *chain_infra(const rchain *c, wih_err *e);

/* The watchdog: a thread that polls state.json's PIDs (cluster_local_dead)
 * every 250 ms while the run is in flight. Once a component is gone the run
 * is broken: waits end (chain_stop_sleep), no new case starts, and an HTTP
 * request running longer than 2 s is aborted (a server that hangs, such as
 * an API server without its etcd, would hold the run for 60 s); cases then
 * end as infrastructure errors naming it (chain_blame). One per process. */
void chain_watch_start(const rchain *c);
void chain_watch_stop(void);
/* "etcd (pid 123) is dead" once the watchdog saw it, else NULL (not owned). */
const char *chain_broken(void);
/* Sleep ms; true when the run should stop waiting (interrupted, or broken). */
bool chain_stop_sleep(int64_t ms);

/* Admin API of the mock cloud (JSON). Returns the reply, or NULL + err. */
cJSON *chain_admin(const rchain *c, const char *method, const char *path, const cJSON *body, long *status,
                   wih_err **err);

/* What one case made, for cleanup in reverse order. Guarded by the runner's
 * lock when it is on the live list. */
typedef struct rcase_res {
    char *ns;
    char **roles;    size_t nroles;
    char **buckets;  size_t nbuckets;
    bool ns_made;
    bool done;       /* cleaned up */
    /* in a namespace the run did not make for this case (--namespace): what
     * the case created there, deleted one by one (the namespace never is) */
    char *sa;
    char **pods;     size_t npods;
    struct rcase_res *next;
} rcase_res;

/* Remove what res lists: the namespace (with its pods and SA), the roles
 * (deleted through the cloud's admin API), the buckets (emptied
 * first). Errors are collected, never stop the cleanup. */
wih_err *chain_cleanup(const rchain *c, kube_client *kc, rcase_res *res);
void rcase_res_free(rcase_res *r);
/* Wait until none of the namespaces (a JSON array of names) exists (with a
 * controller-manager; without one a deleted namespace stays Terminating and
 * this returns 0 at once). -1 with *left = the names still there. */
int chain_wait_namespaces(const rchain *c, kube_client *kc, const cJSON *names, int64_t timeout_ms, char **left);

#endif
