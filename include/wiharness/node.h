/* node — a real one-node Kubernetes node for the local backend: Debian's
 * containerd + runc, the CNI bridge and host-local plugins, the real kubelet;
 * images come from OCI image-layout tars written here (no registry, no
 * Docker). docs/local-backend.md says what runs and what it leaves to clean.
 *
 * Everything lives under <node dir> (= <state dir>/node):
 *   containerd/{config.toml,containerd.sock,root,state,opt}  runc/  (runc's state root)
 *   cni/net.d/10-wiharness.conflist  cni/ipam/ (host-local leases)
 *   kubelet/ (--root-dir)  kubelet-config.yaml  kubelet.kubeconfig  pods-logs/
 *   images/{pause,probe}.tar
 * plus, outside it, what the kernel or the programs insist on (each removed by
 * node_teardown, found through our own records, never by a name pattern):
 * the bridge, the network namespaces of our sandboxes, the /var/log/containers
 * links into our pods-logs dir, per-container cgroups, shim sockets. */
#ifndef WIHARNESS_NODE_H
#define WIHARNESS_NODE_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"

/* ---------------------------------------------------------- OCI image tars */
/* One file of an image layer. Content from `src` (a host file, followed
 * through symlinks) or from `data`/`len`. Paths are absolute in the image. */
typedef struct node_file {
    const char *path; /* "/etc/ssl/certs/ca-certificates.crt" */
    const char *src;  /* host file, or NULL */
    const char *data; /* used when src is NULL */
    size_t len;
    unsigned mode;    /* 0755, 0644; a path ending in '/' is a directory */
} node_file;

typedef struct node_image_spec {
    const char *repo;              /* "wiharness.local/probe" (tag = first 12 hex of the manifest digest) */
    const node_file *files;
    size_t nfiles;
    const char *const *entrypoint; /* NULL-terminated */
    const char *const *env;        /* "K=V", NULL-terminated, or NULL */
} node_image_spec;

/* Write an OCI image-layout tar (oci-layout, index.json with the
 * io.containerd.image.name annotation, one uncompressed layer
 * application/vnd.oci.image.layer.v1.tar, config, manifest) to out_path.
 * Deterministic: the same files give the same digests. *ref (new) is
 * "<repo>:<tag>". Directories of every file are added. */
wih_err *node_image_write(const node_image_spec *s, const char *out_path, char **ref);

/* The sandbox image: the static pause program (found as $WIH_PAUSE_BIN, next
 * to the wiharness binary as wiharness-pause, or where CMake built it). */
wih_err *node_image_pause(const char *out_path, char **ref);
/* The probe image: the wiharness binary (self, or bin) as entrypoint, the
 * shared libraries `ldd` lists for it, /etc/passwd + group, and the CA bundle
 * = the system bundle + extra_ca (PEM file or NULL) at
 * /etc/ssl/certs/ca-certificates.crt (SSL_CERT_FILE in the config env). */
wih_err *node_image_probe(const char *bin, const char *extra_ca, const char *out_path, char **ref);
/* The same through the content cache in cache_dir (NULL: no cache). */
wih_err *node_image_probe_cached(const char *bin, const char *extra_ca, const char *cache_dir, const char *out_path,
                                 char **ref, bool *hit);

/* node_image_write through a content cache: the key is the sha256 of the
 * spec (repo, entrypoint, env, every file's path, mode and content) and of
 * the running program (whose code writes the bytes). A hit links (or copies,
 * across file systems) <cache_dir>/<name>-<key>.tar to out_path and reads the
 * ref from <name>-<key>.ref; a miss writes the tar there (0444, renamed into
 * place: concurrent writers never see half a tar) and keeps the 3 most
 * recently used per name. *hit (may be NULL) says which. cache_dir NULL:
 * plain node_image_write. */
wih_err *node_image_write_cached(const node_image_spec *s, const char *cache_dir, const char *out_path, char **ref,
                                 bool *hit);
/* $WIH_IMAGE_CACHE ("" or "off": NULL = no cache), else
 * ${XDG_CACHE_HOME:-~/.cache}/wiharness/images. New string or NULL. */
char *node_image_cache_dir(void);

/* ---------------------------------------------------------------- the node */
typedef struct node_plan {
    char *name;       /* node name "wih-<id>" */
    char *id;         /* 6 hex, unique per chain */
    char *bridge;     /* "wih0-<id>" (≤ 15 chars) */
    char *subnet;     /* "10.244.N.0/24" */
    char *gateway;    /* "10.244.N.1": the bridge's address = the node IP */
    char *dir;        /* <state dir>/node */
} node_plan;

/* What a node needs that is missing (root, programs, kernel features), as
 * one message naming each; NULL when nothing is. */
char *node_preflight(void);
/* Pick a name, a bridge name and a free /24 (not on any host interface, not
 * used by another wiharness bridge). */
wih_err *node_plan_new(const char *state_dir, node_plan *p);
void node_plan_free(node_plan *p);
cJSON *node_plan_json(const node_plan *p);
int node_plan_from_json(const cJSON *j, node_plan *p);

/* Pure config generators (fixtures/node/...). */
char *node_containerd_config(const node_plan *p, const char *sandbox_image);
char *node_cni_conflist(const node_plan *p);
char *node_kubelet_config(const node_plan *p, const char *ca_file, const char *tls_cert, const char *tls_key,
                          int port, int healthz_port);

/* The bridge with the gateway address, up. Idempotent. */
wih_err *node_bridge_create(const node_plan *p);

/* containerd on its own socket; waits until `ctr version` answers. */
wih_err *node_containerd_start(const node_plan *p, const char *sandbox_image, int64_t timeout_ms, wih_proc **out);
/* `ctr -n k8s.io images import` of an image tar (with our socket). */
wih_err *node_image_import(const node_plan *p, const char *tar_path);
/* The kubelet (client cert CN=system:node:<name>, O=system:nodes issued from pki). */
wih_err *node_kubelet_start(const node_plan *p, const char *pki, const char *server, int64_t timeout_ms,
                            wih_proc **out);
/* Wait until the Node object is Ready (admin credentials of pki). */
wih_err *node_wait_ready(const node_plan *p, const char *pki, const char *server, int64_t timeout_ms);

/* What containerd recorded about its tasks under our state dir: an array of
 * {namespace, id, shim_pid, init_pid, address, netns, cgroup}. Read it once
 * the kubelet is stopped and before containerd's state is removed. */
cJSON *node_records(const node_plan *p);
/* Remove what the node left after its processes were stopped: containers
 * (runc delete --force in our runc root; else the init PID, if its parent
 * is our shim), shims (by recorded PID, if their command line names our
 * node dir), mounts under the node dir, our sandboxes' network namespaces,
 * our containers' cgroups and shim sockets, /var/log/containers links into
 * our pods-logs dir, the bridge. Steps are reported on progress (may be
 * NULL). Returns what could not be removed. */
wih_err *node_teardown(const node_plan *p, const cJSON *records, FILE *progress);
/* What of this node is still present, as strings ("mount: …", "bridge: …",
 * "netns: …", "process: …", "cgroup: …"); an empty array when nothing. */
cJSON *node_leftovers(const node_plan *p, const cJSON *records);

/* The relay (docs/local-backend.md): listen on ip:port for each port and copy
 * each connection to 127.0.0.1:port, so pods reach the host's loopback
 * servers on the bridge address. Writes ready_file once listening, runs until
 * SIGINT/SIGTERM (wih_signals_install first). */
wih_err *node_relay_serve(const char *ip, const int *ports, int n, const char *ready_file);

#endif
