/* incluster — the runner as a Kubernetes Job in the cluster (docs/backends.md,
 * "in-cluster"): `run --backend existing … --in-cluster-job` makes its own
 * namespace, ServiceAccount, ClusterRole/Binding (exactly existing_perms) and
 * Role/Binding (configmaps create/update in that namespace), a ConfigMap with
 * the scenario files, a Secret with what the runner needs to reach the mock
 * cloud and MinIO, and a Job running the probe image's
 * `wiharness run --backend existing --in-cluster …`; it waits, reads the
 * reports back from the results ConfigMap (or the Job's log), and deletes
 * everything it made, also on failure and SIGINT.
 *
 * The builders are pure (tested from fixtures/incluster/); incluster_run does
 * the I/O. Ownership follows core.h. */
#ifndef WIHARNESS_INCLUSTER_H
#define WIHARNESS_INCLUSTER_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"

/* Where the pod sees them. */
#define INCLUSTER_SCENARIOS_DIR "/wih/scenarios"
#define INCLUSTER_STATE_DIR "/wih/state"
#define INCLUSTER_RESULTS "wih-results" /* the results ConfigMap */
#define INCLUSTER_NAME "wih-runner"     /* ServiceAccount, Job, container */
/* What the in-cluster run prints to its log around each report, for the
 * fallback when the results ConfigMap cannot be read. */
#define INCLUSTER_MARK_BEGIN "=== wiharness %s begin ==="
#define INCLUSTER_MARK_END "=== wiharness %s end ==="

/* One file of a ConfigMap or Secret: its key (a valid data key) and where it
 * lands under the mount (items[].path, may be nested). */
typedef struct incluster_file {
    char *key, *path;
    char *data; /* SECRET for the Secret's files */
    size_t len;
} incluster_file;
void incluster_files_free(incluster_file *f, size_t n);

/* Every regular file under each PATH (a directory: recursively, dot files
 * skipped; a file: the files of its directory, not below), as
 * "<i>/<relative path>" for the i-th PATH; *where gets, per PATH, the
 * in-pod path to hand the in-cluster run (INCLUSTER_SCENARIOS_DIR/<i>[/file]).
 * More than max_bytes in all (a ConfigMap holds 1 MiB) → WIH_EXIT_INPUT. */
incluster_file *incluster_collect(const char *const *paths, size_t npaths, size_t max_bytes, size_t *n,
                                  char ***where, wih_err **err);

typedef struct incluster_spec {
    const char *id;                  /* names: wih-job-<id>, wiharness-job-<id> */
    const char *image;               /* the probe image (wiharness is its entrypoint) */
    const char *api_host, *api_port; /* KUBERNETES_SERVICE_HOST/PORT for the pod; NULL = the cluster's own */
    const incluster_file *scenarios;
    size_t nscenarios;
    const incluster_file *secrets;   /* NULL/0: no Secret (--identity real) */
    size_t nsecrets;
    const char *const *args;         /* the in-cluster `run`'s arguments (after "run"), NULL-terminated */
    long deadline_s;                 /* the Job's activeDeadlineSeconds */
} incluster_spec;

/* The namespace of a run: "wih-job-<id>" (new string). */
char *incluster_namespace(const char *id);
/* The objects to create, in order: Namespace, ServiceAccount, ClusterRole
 * (existing_perms), ClusterRoleBinding, Role + RoleBinding (configmaps
 * create/update in its namespace), ConfigMap (scenarios; items[].path),
 * Secret (when any), Job (backoffLimit 0, restartPolicy Never). A new array. */
cJSON *incluster_objects(const incluster_spec *s);
/* The text between the markers of `what` ("junit", "json") in a log, or NULL. */
char *incluster_log_section(const char *log, const char *what);
/* The log without those sections (what the in-cluster run printed for people). */
char *incluster_log_console(const char *log);

/* ----------------------------------------------------------------- I/O */
typedef struct incluster_opts {
    const char *kubeconfig, *context; /* the host's way into the cluster */
    const char *state_dir;            /* the local chain (identity mock); NULL = default */
    const char *identity;             /* mock (default) | real */
    const char *probe_image;          /* NULL = the chain's */
    const char *api_url;              /* --job-api-url; NULL = the chain's pod_urls.apiserver, else the cluster's own */
    const char *const *paths;         /* host paths of scenarios */
    size_t npaths;
    const char *const *run_args;      /* passed to the in-cluster run (labels, profile, …), NULL-terminated */
    long timeout_s;                   /* the whole Job (default 1800) */
    FILE *progress;                   /* NULL = quiet */
} incluster_opts;

typedef struct incluster_result {
    int exit_code;     /* the in-cluster run's */
    char *junit, *json; /* the reports (either may be NULL) */
    char *console;     /* its log, without the report sections */
    const char *from;  /* "configmap" or "log" */
} incluster_result;
void incluster_result_clear(incluster_result *r);

/* Create, wait, read back, delete (always, also when interrupted: the pod
 * gets its grace period so the in-cluster runner removes its own case
 * namespaces first). Returns 0 with *r filled, or -1 with *err (infrastructure:
 * exit 3; interrupted: 130). */
int incluster_run(const incluster_opts *o, incluster_result *r, wih_err **err);

#endif
