/* backends — where the cluster comes from besides `local` (docs/backends.md):
 *   kind      a kind cluster (shells out to `kind` and `docker`: they have no
 *             C API; their stderr is kept in errors);
 *   existing  any cluster a kubeconfig context reaches (exec plugins too),
 *             with the RBAC the runner needs checked up front.
 * The pure parts (kind's config, the command lines, the RBAC list) are
 * exposed for tests. Ownership follows core.h. */
#ifndef WIHARNESS_BACKENDS_H
#define WIHARNESS_BACKENDS_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"
#include "wiharness/kube.h"

/* ------------------------------------------------------------------ kind */
typedef struct kind_cfg {
    const char *name;          /* cluster name (default "wiharness") */
    const char *node_image;    /* kindest/node:<tag>, or NULL = kind's default */
    const char *host_address;  /* the host's address on the kind network (the
                                * webhook, mock cloud and MinIO listen there) */
    int webhook_port;          /* for the comment only; the apiserver dials host_address:port */
} kind_cfg;

/* kind names: [a-z0-9.-], 1..50 chars, starting with a letter or digit. */
bool kind_name_ok(const char *name);
/* The kind config (YAML, kind.x-k8s.io/v1alpha4): one control-plane node,
 * the apiserver on 127.0.0.1 (no apiServerPort: kind picks a random one), no extraPortMappings (nothing
 * listens in the cluster for the host: the host serves the cluster). */
char *kind_config_yaml(const kind_cfg *c);

/* Command lines (NULL-terminated argv, caller frees with wih_argv_free). */
char **kind_argv_create(const char *kind, const char *name, const char *config, const char *kubeconfig);
char **kind_argv_get_clusters(const char *kind);
char **kind_argv_load_archive(const char *kind, const char *archive, const char *name);
char **kind_argv_delete(const char *kind, const char *name, const char *kubeconfig);
char **kind_argv_kubeconfig(const char *kind, const char *name);
/* docker network inspect kind: the network's gateway = the host's address. */
char **kind_argv_network_gateway(const char *docker);
char **kind_argv_docker_info(const char *docker);
void wih_argv_free(char **argv);

/* `kind get clusters` output → does it list name? (one a line; "No kind
 * clusters found." on stderr when none). Pure. */
bool kind_clusters_has(const char *out, const char *name);
/* The first IPv4 gateway in `docker network inspect` output. Pure; NULL if none. */
char *kind_parse_gateway(const char *out);

/* Is the kind backend usable here? NULL, or WIH_EXIT_INFRA saying why
 * ("kind is not on PATH", "no Docker engine: <docker info's stderr>").
 * $WIH_KIND / $WIH_DOCKER override the programs. */
wih_err *kind_available(char **kind_path, char **docker_path);

typedef struct kind_state {
    char *name, *kubeconfig, *host_address;
    bool created;              /* we created it: `down` deletes it, else never */
} kind_state;
/* Create the cluster unless one of that name exists (reuse, idempotent),
 * write its kubeconfig to kubeconfig, load the probe image archive (if
 * any). */
wih_err *kind_up(const kind_cfg *c, const char *kubeconfig, const char *image_archive, kind_state *out);
/* `kind load image-archive ARCHIVE --name st->name`. */
wih_err *kind_load(const kind_state *st, const char *archive);
/* Delete the cluster only if st->created (also after SIGINT: the delete
 * then runs to its end instead of being cut short). */
wih_err *kind_down(const kind_state *st);
void kind_state_clear(kind_state *st);

/* `run --backend kind`, end to end (kind_run.c): the cluster (created or
 * reused), the mock webhook, mock cloud and MinIO of a services-only local
 * chain in <dir>/services serving the cluster on the host's address on the
 * kind network (cluster_local_opts.external_kubeconfig + serve_address), the
 * probe image (built with that chain's CA) loaded into the nodes. */
typedef struct kind_run_opts {
    const char *name;          /* default "wiharness" */
    const char *node_image;    /* or NULL */
    const char *dir;           /* the run's state; NULL = ${XDG_STATE_HOME}/wiharness/kind-<name> */
    const char *wiharness_bin; /* NULL = /proc/self/exe */
    FILE *progress;
} kind_run_opts;
typedef struct kind_run {
    kind_state cluster;
    char *dir;          /* the run's state dir */
    char *services;     /* <dir>/services: the chain's state dir (runner_opts.state_dir) */
    char *kubeconfig;   /* <dir>/kubeconfig: the cluster's (runner_opts.kubeconfig) */
    char *context;      /* kind-<name> */
    char *probe_image;  /* the loaded probe image's reference */
    bool made_dir;
} kind_run;
/* Bring everything up; on failure *r still says what to take down. */
wih_err *kind_run_up(const kind_run_opts *o, kind_run *r);
/* Take down what kind_run_up made: the services always, the cluster only if
 * created, the run's files. Frees r. */
wih_err *kind_run_down(kind_run *r, FILE *progress);

/* ------------------------------------------------------------- existing */
/* One permission the runner needs: verb on group/resource (namespaced). */
typedef struct existing_perm {
    const char *verb, *group, *resource;
} existing_perm;
/* What the runner does in a cluster: namespaces, service accounts, pods
 * (+log), events, token requests. NULL-terminated (verb NULL). */
extern const existing_perm existing_perms[];
/* The SelfSubjectAccessReview body for one permission (namespace "" = all). Pure. */
cJSON *existing_ssar(const existing_perm *p, const char *ns);
/* Check every permission with SelfSubjectAccessReviews (namespaced ones in
 * ns when given; with reuse_ns only `get namespaces` of the namespace kind);
 * a denial is WIH_EXIT_INFRA naming verb and resource ("RBAC: context c
 * cannot create pods in x (the runner needs it)"). */
wih_err *existing_check_rbac(kube_client *kc, const char *ns, bool reuse_ns, const char *context);

typedef struct existing_opts {
    const char *kubeconfig;     /* NULL = KUBECONFIG / ~/.kube/config */
    const char *context;        /* required */
    const char *identity;       /* "mock" (default) | "real" */
    const char *probe_image;    /* required with identity real */
    const char *namespace_;     /* every case in this namespace, or NULL = one per case */
    bool reuse_namespace;       /* namespace_ exists and is not the run's: never made or deleted */
} existing_opts;
/* Validate the options and the context (kubeconfig loads, context exists,
 * the API server answers, RBAC); exit 2 for bad options, 3 otherwise. */
wih_err *existing_check(const existing_opts *o);

#endif
