/* runner — runs scenario × profile cases against a chain (docs/runner.md):
 * per case a namespace, the generated ServiceAccount, the mock cloud's roles,
 * the buckets in MinIO, the pods OSMO would create (changed, visibly, so they
 * run here), admission, the node runs them, the probe's verdict, assertions
 * polled until their deadlines, cleanup in reverse order (also on SIGINT).
 *
 * The pure parts (what the runner changes in a rendered pod, the endpoints
 * template, the probe's access list, the principal → role map) are exposed
 * for tests. Ownership follows core.h. */
#ifndef WIHARNESS_RUNNER_H
#define WIHARNESS_RUNNER_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"
#include "wiharness/osmo.h"
#include "wiharness/scenario.h"

/* ------------------------------------------------------------ pure parts */
#define RUNNER_ENDPOINTS_TEMPLATE "wih-endpoints"

/* The one extra pool template of mock identity mode — what an operator adds
 * for a non-AWS S3 endpoint: the user container ({{USER_CONTAINER_NAME}})
 * and osmo-ctrl get the SDK endpoint env pointing at the mock cloud and MinIO
 * (pod_urls: {"cloud": URL, "minio": URL}): AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL_S3, AWS_REGION, WIH_CLOUD_URL, WIH_MINIO_URL and WIH_S3_ENDPOINT
 * (the probe's S3 endpoint for Azure and Google, docs/probe.md). NULL when
 * pod_urls lacks either URL. */
cJSON *runner_endpoints_template(const cJSON *pod_urls);

/* Add a pod template to the loaded OSMO config (after Helm layering, so the
 * chart defaults stay) and append its name to the pool's
 * common_pod_template. Records a change. Returns 0, or -1 with *err (no such
 * pool: WIH_EXIT_INPUT). */
int runner_config_add_template(osmo_config *cfg, const char *pool, const char *name, const cJSON *tmpl,
                               cJSON *changes, wih_err **err);

typedef struct runner_adapt {
    const char *probe_image;
    const char *profile;
    const char *main_container;  /* where the access checks run; default "osmo-ctrl" */
    const cJSON *access;         /* ["write:s3://b/k", …] for the main container */
} runner_adapt;
/* Change a rendered pod (in place) so it runs on this node, appending one
 * {"what","path","from","to"} per change to changes:
 *   - every container image → the probe image, command dropped, args: main
 *     container [probe, --profile P, --access OP:URL…], other containers
 *     [probe, --profile P], init containers [version]; imagePullPolicy
 *     IfNotPresent;
 *   - env from secrets/config maps OSMO's service would have created → dropped;
 *   - resources (the node is small) → dropped;
 *   - finalizers (no OSMO controller to remove them) → dropped;
 *   - imagePullSecrets (secrets OSMO would have created) → dropped. */
void runner_adapt_pod(cJSON *pod, const runner_adapt *a, cJSON *changes);

/* The probe's --access list for one task pod: each input read, each output
 * written (URL + "wiharness-probe/<profile>"), then the scenario's access
 * expectations (expanded); duplicates dropped. ["read:s3://…", …] */
cJSON *runner_access_list(const cJSON *workflow, const char *task, const scn_scenario *s, const scn_vars *v,
                          const char *profile, wih_err **err);

/* The workflow spec a case submits: the scenario's (templates expanded with
 * v) or the runner's one-task default writing to the first bucket. */
cJSON *runner_workflow(const scn_case *cs, const scn_vars *v, wih_err **err);

/* ------------------------------------------------------------ the runner */
/* --submitter osmo (docs/backends.md "OSMO submitter"): each case's workflow
 * goes to an OSMO service, which creates the task pods in the workflow
 * namespace (runner_opts.namespace_, with reuse_namespace: OSMO's, never made
 * or deleted by the run); the runner finds them by osmo.workflow_id, waits for
 * the workflow's end, and cancels it when the case stops early. */
typedef struct runner_osmo {
    const char *url;
    const char *token;   /* SECRET: sent as x-osmo-auth, never printed */
    const char *ca_file; /* NULL = the default CA bundle */
    const char *pool;    /* NULL = the scenario's pool (default "default") */
} runner_osmo;

/* The task spec of one workflow task changed so its container runs the probe
 * (the submit-side counterpart of runner_adapt_pod), appending one change per
 * field to changes: image → the probe image, command → [/wiharness, probe,
 * --profile P, --access OP:URL…] (access), args dropped, environment + env
 * (object name → value: the SDK endpoints of mock identity mode). base is the
 * change path prefix ("workflow.tasks[name=t1]"). Pure. */
void runner_adapt_task(cJSON *task, const char *base, const runner_adapt *a, const cJSON *env, cJSON *changes);

typedef struct runner_opts {
    const char *state_dir;     /* the chain; NULL = default */
    const char *artifacts_dir; /* NULL = none */
    bool keep_on_failure;
    int parallel;              /* ≥ 1 */
    FILE *out;                 /* console lines */
    bool tty;                  /* progress on out */
    bool verbose;
    /* --backend existing (backends.h): the cluster of this kubeconfig/context
     * instead of the chain's own kubeconfig (NULL = the chain's). */
    const char *kubeconfig;
    const char *context;
    const char *probe_image;   /* --probe-image: instead of the chain's (NULL = the chain's) */
    /* --namespace N: every case runs in N, one at a time; each case deletes
     * only the pods and ServiceAccount it created there. The run creates N
     * (and deletes it at its end) unless reuse_namespace, when N must exist
     * and is never deleted. */
    const char *namespace_;
    bool reuse_namespace;
    bool facts;                /* every case carries "facts" (runner_diag.c), also when it
                                * passed: what `wiharness reproduce` prints */
    /* --identity real --real FILE (realmap.h): no mock cloud, no roles or
     * buckets made; names from the map; needs kubeconfig/context, probe_image
     * and namespace_ (trust policies name it). NULL = mock identity. */
    const struct realmap *real;
    bool in_cluster;           /* --in-cluster: the pod's ServiceAccount (kube_config_in_cluster)
                                * instead of any kubeconfig */
    const runner_osmo *osmo;   /* --submitter osmo; NULL = direct (the runner creates the pods) */
} runner_opts;

/* Run every case; each finished case is added to run (report.h) and printed.
 * Returns the exit code (0 / 1 / 3, 130 when interrupted); *err only for a
 * failure before any case could run (no chain: exit 3). */
int runner_run(const scn_matrix *m, const runner_opts *o, cJSON *run, wih_err **err);

#endif
