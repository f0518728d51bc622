/* cluster — where the cluster comes from. For now the `local` backend: the
 * real etcd and kube-apiserver on loopback, with a PKI generated in C
 * (OpenSSL 3), plus the smoke check of the real programs. */
#ifndef WIHARNESS_CLUSTER_H
#define WIHARNESS_CLUSTER_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

/* ------------------------------------------------------------------ PKI */
/* Files written by cluster_pki_create into dir (keys 0600):
 *   ca.crt ca.key                 the harness CA (EC P-256, 10 years)
 *   apiserver.crt apiserver.key   serving: SAN IP:127.0.0.1, DNS:localhost
 *   admin.crt admin.key           client: CN=wiharness-admin, O=system:masters
 *   sa.key sa.pub                 RSA 2048 service-account signing key (RS256)
 * Existing files are kept (idempotent) unless force. */
wih_err *cluster_pki_create(const char *dir, bool force);

/* Issue one more certificate from the CA in dir: <name>.crt/<name>.key.
 * server: SAN IP:127.0.0.1 + DNS:localhost (+ extra DNS names in extra_dns;
 * an entry "IP:a.b.c.d" adds an IP address instead);
 * client: CN and optional organisation (a Kubernetes group). */
wih_err *cluster_pki_issue(const char *dir, const char *name, const char *cn, const char *org, bool server,
                           const char *const *extra_dns);

/* A kubeconfig (0600) for a client certificate: cluster wiharness-local,
 * user `user`, context wiharness-local. */
wih_err *cluster_kubeconfig_write(const char *path, const char *server, const char *ca, const char *crt,
                                  const char *key, const char *user);

/* The one certificate generator, in memory (every module's certificates come
 * from here: the PKI files above, the mock cloud's TLS, the webhook's
 * throwaway certificate). A new EC P-256 key and a certificate signed by the
 * CA given as PEM, or self-signed when ca_cert_pem is NULL. kind:
 *   CLUSTER_CERT_CA          CA:TRUE, keyCertSign (self-signed or an intermediate)
 *   CLUSTER_CERT_SERVER      serverAuth, SAN san ("IP:127.0.0.1,DNS:localhost")
 *   CLUSTER_CERT_CLIENT      clientAuth (org = a Kubernetes group)
 *   CLUSTER_CERT_SELF_SERVER serverAuth and its own CA (clients trust it directly)
 * The key PEM is SECRET. days 0 = 3650. */
enum { CLUSTER_CERT_CA = 0, CLUSTER_CERT_SERVER = 1, CLUSTER_CERT_CLIENT = 2, CLUSTER_CERT_SELF_SERVER = 3 };
typedef struct cluster_cert_req {
    int kind;
    const char *cn, *org, *san;
    long days;
    const char *ca_cert_pem, *ca_key_pem; /* the issuer, or NULL both = self-signed */
} cluster_cert_req;
wih_err *cluster_pki_make(const cluster_cert_req *r, char **cert_pem, char **key_pem);

/* ------------------------------------------------------- the real programs */
/* A running program we started: the supervisor handle and where it listens. */
typedef struct cluster_svc {
    wih_proc *proc;
    int port;       /* main port (etcd client, apiserver secure, MinIO API) */
    int port2;      /* etcd peer / MinIO console, or 0 */
    char *url;      /* http(s)://127.0.0.1:port */
} cluster_svc;

/* flags for the starters */
enum {
    CLUSTER_PERSIST = 1, /* the program outlives this process (no parent-death signal) */
    /* kube-apiserver as on a real cluster with nodes: --authorization-mode=Node,RBAC,
     * the default admission chain (ServiceAccount on) + NodeRestriction, and a
     * client certificate (pki/apiserver-kubelet-client.*) for the kubelets */
    CLUSTER_FULL_ADMISSION = 2,
};
/* etcd with its data in <dir>/etcd, log in <dir>/logs/etcd.log; waits for /health. */
wih_err *cluster_etcd_start(const char *dir, cluster_svc *out, int64_t timeout_ms, unsigned flags);
/* kube-apiserver on that etcd with the PKI of pki_dir; waits for /readyz
 * (on failure the error quotes the end of its log). */
wih_err *cluster_apiserver_start(const char *dir, const char *pki_dir, const cluster_svc *etcd, cluster_svc *out,
                                 int64_t timeout_ms, unsigned flags);
/* kube-controller-manager and kube-scheduler on 127.0.0.1 (their own client
 * certificates CN=system:kube-controller-manager / system:kube-scheduler,
 * kubeconfigs <dir>/<name>.kubeconfig); wait for /healthz. The controller
 * manager signs service-account tokens with pki/sa.key and publishes
 * pki/ca.crt as kube-root-ca.crt. */
wih_err *cluster_controller_manager_start(const char *dir, const char *pki, const char *server, cluster_svc *out,
                                          int64_t timeout_ms, unsigned flags);
wih_err *cluster_scheduler_start(const char *dir, const char *pki, const char *server, cluster_svc *out,
                                 int64_t timeout_ms, unsigned flags);
/* MinIO with data in <dir>/minio and generated root credentials (never printed). */
wih_err *cluster_minio_start(const char *dir, cluster_svc *out, int64_t timeout_ms, unsigned flags);
void cluster_svc_stop(cluster_svc *s);

/* GET url (CA file or NULL, client cert/key or NULL); returns HTTP status or -1. */
long cluster_http_get(const char *url, const char *cafile, const char *cert, const char *key, char **body,
                      wih_err **err);

/* With "Authorization: Bearer <token>" (the token is never logged). */
long cluster_http_auth(const char *method, const char *url, const char *content_type, const char *body,
                       const char *cafile, const char *bearer, char **resp, wih_err **err);
/* Any method; body may be NULL. Returns HTTP status or -1 (err set). */
long cluster_http(const char *method, const char *url, const char *content_type, const char *body,
                  const char *cafile, const char *cert, const char *key, char **resp, wih_err **err);

/* ------------------------------------------------------------ local backend */
/* The state of one local chain lives in a state dir (default
 * ${XDG_STATE_HOME:-~/.local/state}/wiharness/local):
 *   state.json   backend, ports, PIDs (+ start time and executable, so `down`
 *                never signals a recycled PID), URLs, issuer
 *   kubeconfig   admin access (cluster-admin via O=system:masters)
 *   pki/         ca.crt … (see cluster_pki_create)
 *   etcd/ minio/ data;  logs/<program>.log
 * Several chains run side by side with different state dirs. */
typedef struct cluster_local_opts {
    const char *state_dir; /* NULL = default */
    int64_t timeout_ms;    /* per component readiness; 0 = 60 s */
    FILE *progress;        /* progress lines, or NULL */
    /* The mock identity webhook runs as `<wiharness> webhook serve …`, a
     * process of its own that outlives `up` and is registered with the API
     * server (down stops it; it removes its registrations on SIGTERM). */
    const char *wiharness_bin;   /* NULL = /proc/self/exe */
    bool no_webhook;             /* no mock identity webhook */
    bool no_cloud;               /* no mock cloud and no MinIO */
    const char *profiles;        /* "aws-irsa,azure-wi,gcp-fleet" subset; NULL = all */
    const char *webhook_options; /* options file (docs/webhook.md), or NULL */
    /* The real node (root): kube-controller-manager, kube-scheduler, the API
     * server with Node,RBAC and its default admission chain, containerd, the
     * kubelet and the relay; false = the control-plane-only chain (`up --no-node`). */
    bool node;
    /* A cluster that runs elsewhere (`run --backend kind`, backends.h): no
     * etcd, API server or node start; the webhook registers in this
     * kubeconfig's cluster and the mock cloud trusts that cluster's issuer
     * (its discovery and JWKS fetched through the API). Needs node false. */
    const char *external_kubeconfig;
    /* Serve the webhook, the mock cloud and MinIO on this address too (a
     * relay to their loopback ports; their certificates carry the IP; the
     * webhook is registered at it; pod_urls name it): the host's address on
     * the kind network. NULL: the bridge address with a node, else none. */
    const char *serve_address;
} cluster_local_opts;

char *cluster_local_default_dir(void);
/* Start (or reuse when healthy; replace when dead). *reused tells which. */
wih_err *cluster_local_up(const cluster_local_opts *o, bool *reused);
/* Stop everything recorded in the state; remove the state dir unless keep. */
wih_err *cluster_local_down(const cluster_local_opts *o, bool keep_state);
/* Read state.json (NULL + err kind INFRA "no local chain" when absent). */
cJSON *cluster_local_state(const char *state_dir, wih_err **err);
/* Health of each component as {"name": {"alive":bool,"healthy":bool,"url":…,"pid":…}}. */
cJSON *cluster_local_status(const char *state_dir, bool *all_ok, wih_err **err);
/* The first recorded component (in start order) whose process is gone, as a
 * new string ("etcd", "minio", …) with its recorded pid in *pid; NULL when
 * every one is alive or there is no state. Reads /proc only (no health
 * request): cheap enough to poll. */
char *cluster_local_dead(const char *state_dir, int *pid);

/* ------------------------------------------------------------------ smoke */
/* Start each real program (etcd, kube-apiserver on that etcd, MinIO) through
 * the supervisor on free loopback ports, check its health endpoint, print
 * version and health lines to out, stop it, and check nothing it started is
 * left running or listening. */
wih_err *cluster_smoke(FILE *out);

#endif
