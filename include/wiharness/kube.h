/* kube — a small generic Kubernetes client on libcurl + cJSON (no typed
 * models): kubeconfig loading the way kubectl does it, JSON requests with
 * retries and errors that keep the HTTP status and the server's
 * Status.message, discovery (apiVersion + kind → resource path), and the
 * operations the harness needs (server-side apply, get, list, delete and wait,
 * wait-until, pod binding, /status writes, TokenRequest).
 *
 * Ownership follows core.h: returned pointers (cJSON *, char *) belong to the
 * caller; const arguments are borrowed; `wih_err **err` gets a new error on
 * failure.
 *
 * Error kinds (exit codes):
 *   - kubeconfig problems (malformed YAML, a wrong field type, bad base64, a
 *     missing context/cluster/user, an unreadable referenced file) → WIH_EXIT_INPUT
 *     with file:line:col when the problem has a place in a file;
 *   - unreachable server, TLS/certificate failures, 401, 403 (RBAC), 429/5xx
 *     after the retry deadline, a failing exec plugin → WIH_EXIT_INFRA;
 *   - 400/422 (the object is invalid) → WIH_EXIT_INPUT;
 *   - an admission webhook's denial → WIH_EXIT_FAIL (the server's text kept);
 *   - anything else → WIH_EXIT_INFRA.
 *   Every HTTP error has err->http_status and err->server_msg (Status.message).
 * Tokens and keys never appear in messages or logs (wih_fingerprint only). */
#ifndef WIHARNESS_KUBE_H
#define WIHARNESS_KUBE_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/yamljson.h"

/* ------------------------------------------------------------- kubeconfig */
typedef struct kube_config_opts {
    const char *kubeconfig; /* --kubeconfig: one explicit file (overrides KUBECONFIG) */
    const char *context;    /* --context: overrides current-context */
    const char *kubeconfig_env; /* KUBECONFIG value to use; NULL = getenv("KUBECONFIG") */
    int64_t exec_timeout_ms;    /* an exec credential plugin gets this long (0: 60 s); then
                                 * its process group is killed */
    bool in_cluster;            /* ignore kubeconfig/context: kube_config_in_cluster(sa_dir) */
    const char *sa_dir;         /* in_cluster: NULL = KUBE_SA_DIR */
} kube_config_opts;

/* A resolved kubeconfig: the chosen context, its cluster and its user, with
 * every referenced file read (relative paths resolve against the directory
 * of the kubeconfig file that defined the entry, as kubectl does) and every
 * *-data field base64-decoded. Exec-plugin credentials are cached here until
 * their expirationTimestamp. */
typedef struct kube_config kube_config;

/* Loading order (client-go's): opts->kubeconfig if set (must exist); else the
 * colon-separated KUBECONFIG list (missing files skipped; for clusters, users
 * and contexts the FIRST file that defines a name wins; current-context comes
 * from the first file that sets it); else ~/.kube/config. */
kube_config *kube_config_load(const kube_config_opts *opts, wih_err **err);
void kube_config_free(kube_config *cfg);

/* In-cluster config, as client-go's rest.InClusterConfig: the server is
 * https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (an IPv6 host in
 * brackets; both must be set), the bearer token is sa_dir/token (re-read on
 * every request, as client-go rotates it), the CA sa_dir/ca.crt, the
 * namespace sa_dir/namespace (context "in-cluster", user "serviceaccount").
 * Missing environment or an unreadable token/CA → WIH_EXIT_INFRA naming it. */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
kube_config *kube_config_in_cluster(const char *sa_dir, wih_err **err);

/* Borrowed strings, valid while cfg lives. */
const char *kube_config_context(const kube_config *cfg);   /* context name */
const char *kube_config_cluster(const kube_config *cfg);   /* cluster name */
const char *kube_config_user(const kube_config *cfg);      /* user name */
const char *kube_config_server(const kube_config *cfg);    /* https://host:port[/prefix] */
const char *kube_config_namespace(const kube_config *cfg); /* context namespace or "default" */
const char *kube_config_source(const kube_config *cfg);    /* file that defined the context */
const char *kube_config_tls_server_name(const kube_config *cfg); /* or NULL */
bool kube_config_insecure(const kube_config *cfg);
/* PEM bytes of the CA bundle (NULL when the system store is used). */
const char *kube_config_ca_pem(const kube_config *cfg, size_t *len);
/* Where the CA came from: a path, "<kubeconfig>: certificate-authority-data", or NULL. */
const char *kube_config_ca_source(const kube_config *cfg);

/* The credentials to send now. Runs the exec plugin when there is one and its
 * cached credential is missing or expired; re-reads tokenFile. All fields are
 * borrowed from cfg and valid until the next call. Never print them. */
typedef struct kube_creds {
    const char *token;          /* bearer token or NULL */
    const char *cert_pem;       /* client certificate PEM or NULL */
    size_t cert_len;
    const char *key_pem;        /* client key PEM or NULL */
    size_t key_len;
    bool from_exec;             /* came from an exec plugin */
    int64_t expires_ms;         /* exec credential expiry (wall ms), 0 = none */
} kube_creds;
int kube_config_creds(kube_config *cfg, kube_creds *out, wih_err **err);
/* How many times the exec plugin has been run (for tests and debug logs). */
int kube_config_exec_runs(const kube_config *cfg);

/* RFC 3339 ("2026-11-29T04:00:00Z", "…T04:00:00.123+02:00") → wall ms.
 * Returns false when malformed. */
bool kube_parse_rfc3339(const char *s, int64_t *ms);

/* -------------------------------------------------------------- the client */
/* One libcurl handle (connections reused) plus the discovery cache. Not
 * thread-safe: use one client per thread (e.g. per webhook worker). */
typedef struct kube_client kube_client;

/* Load the kubeconfig and make a client. */
kube_client *kube_client_new(const kube_config_opts *opts, wih_err **err);
/* Make a client from a loaded config (takes ownership of cfg, even on failure). */
kube_client *kube_client_from_config(kube_config *cfg, wih_err **err);
void kube_client_free(kube_client *c);
kube_config *kube_client_config(kube_client *c); /* borrowed */

/* Retry deadline for one logical request (429, 5xx, connection refused are
 * retried with backoff until it; default 10 s) and the cap on a response body
 * (default 16 MiB). */
void kube_client_set_retry_ms(kube_client *c, int64_t ms);
void kube_client_set_max_body(kube_client *c, size_t max);

/* One request. `path` starts with "/" and may hold a query. `body` (may be
 * NULL) is sent as JSON with the given content type (NULL =
 * application/json). On 2xx returns the parsed body (a JSON null when empty)
 * and sets *status when non-NULL; otherwise returns NULL with an error from
 * kube_error_from_http or a transport error. */
cJSON *kube_request(kube_client *c, const char *method, const char *path, const char *content_type,
                    const cJSON *body, long *status, wih_err **err);

/* Pure: the error for a non-2xx response. Keeps status and Status.message;
 * chooses the kind and the cause text ("forbidden: User … cannot …",
 * "unauthorized: the credentials of user X in <kubeconfig> were rejected").
 * kubeconfig/user may be NULL. */
wih_err *kube_error_from_http(long status, const char *body, const char *method, const char *url,
                              const char *kubeconfig, const char *user);

/* ------------------------------------------------------------- discovery */
typedef struct kube_resource {
    char *group;      /* "" for the core group */
    char *version;    /* "v1" */
    char *resource;   /* plural: "pods" */
    char *kind;       /* "Pod" */
    bool namespaced;
} kube_resource;
void kube_resource_clear(kube_resource *r);

/* Pure: is apiVersion ("v1", "apps/v1") served according to the /api
 * (APIVersions) and /apis (APIGroupList) documents? */
bool kube_discovery_has_version(const cJSON *api, const cJSON *apis, const char *api_version);
/* Pure: find `kind` in a group-version APIResourceList (subresources such as
 * "pods/status" are skipped). Returns false when the kind is not there. */
bool kube_discovery_find(const cJSON *resource_list, const char *api_version, const char *kind,
                         kube_resource *out);
/* Pure: the URL path of a resource (ns ignored for cluster-scoped ones; name
 * and sub may be NULL): "/api/v1/namespaces/ns/pods/p/status". Caller frees. */
char *kube_resource_path(const kube_resource *r, const char *ns, const char *name, const char *sub);

/* Resolve with the server's discovery documents (cached per client). Unknown
 * apiVersion or kind → WIH_EXIT_INPUT error naming it. out is filled with new
 * strings (kube_resource_clear). */
int kube_resolve(kube_client *c, const char *api_version, const char *kind, kube_resource *out,
                 wih_err **err);

/* ------------------------------------------------------------- operations */
/* An object reference. ns NULL = the context namespace for namespaced kinds. */
typedef struct kube_ref {
    const char *api_version, *kind, *ns, *name;
} kube_ref;

/* Server-side apply (PATCH application/apply-patch+yaml, JSON body,
 * fieldManager=wiharness, force=true). The object needs apiVersion, kind,
 * metadata.name. Returns the object as the server has it. */
cJSON *kube_apply(kube_client *c, const cJSON *obj, wih_err **err);
/* Apply every non-empty document of a stream in order; an error names the
 * document's file:line:col. *applied (optional) gets an array of the results. */
int kube_apply_docs(kube_client *c, const wih_ydocs *docs, cJSON **applied, wih_err **err);
int kube_apply_file(kube_client *c, const char *path, cJSON **applied, wih_err **err);
/* POST. Returns the created object. */
cJSON *kube_create(kube_client *c, const cJSON *obj, wih_err **err);
/* GET one object. Not found → NULL with err->http_status 404. */
cJSON *kube_get(kube_client *c, const kube_ref *ref, wih_err **err);
/* GET a list (ns NULL or "" for namespaced kinds = all namespaces);
 * label_selector may be NULL ("app=x,tier!=db"). Returns the List object. */
cJSON *kube_list(kube_client *c, const char *api_version, const char *kind, const char *ns,
                 const char *label_selector, wih_err **err);
/* DELETE (a 404 counts as success), then, if wait_ms > 0, poll until the
 * object is gone (404) or the deadline passes (an INFRA error).
 * grace_seconds < 0 = the server's default; 0 = immediately (with no kubelet
 * a pod bound to a node only goes away with 0). Note: with no
 * kube-controller-manager a namespace stays Terminating forever, so do not
 * wait for one. */
int kube_delete(kube_client *c, const kube_ref *ref, int grace_seconds, int64_t wait_ms, wih_err **err);

/* Predicate for kube_wait: obj is NULL when the object does not exist (yet).
 * Return 1 done, 0 not yet, -1 give up (set *err). */
typedef int (*kube_pred)(const cJSON *obj, void *ctx, wih_err **err);
/* Poll GET until pred says done (returns the object, or a JSON null if pred
 * accepted "absent") or the deadline passes (INFRA error, with the last state
 * described). */
cJSON *kube_wait(kube_client *c, const kube_ref *ref, kube_pred pred, void *ctx, int64_t timeout_ms,
                 wih_err **err);

/* POST pods/NAME/binding {target: Node NAME}. */
int kube_pod_bind(kube_client *c, const char *ns, const char *pod, const char *node, wih_err **err);
/* PUT <obj>/status with the whole object (needs resourceVersion for
 * optimistic concurrency, or none to overwrite). Returns the server's object. */
cJSON *kube_put_status(kube_client *c, const cJSON *obj, wih_err **err);
/* PATCH <ref>/status with a JSON merge patch ({"status": {...}}). */
cJSON *kube_patch_status(kube_client *c, const kube_ref *ref, const cJSON *merge_patch, wih_err **err);

/* GET pods/NAME/log (container may be NULL): the log text (new string). */
char *kube_pod_log(kube_client *c, const char *ns, const char *pod, const char *container, wih_err **err);

/* TokenRequest: POST serviceaccounts/SA/token. */
typedef struct kube_token_req {
    const char *ns, *service_account;
    const char *const *audiences; /* NULL-terminated; NULL = the API server's default */
    int64_t expiration_seconds;   /* 0 = server default; the server wants ≥ 600 */
    /* boundObjectRef (optional): kind "Pod"/"Secret"/"Node", its name and uid. */
    const char *bound_kind, *bound_api_version, *bound_name, *bound_uid;
} kube_token_req;
/* Returns status.token (a secret: never print it, use wih_fingerprint) and
 * sets *expires_ms (wall ms from status.expirationTimestamp) when non-NULL. */
char *kube_token_request(kube_client *c, const kube_token_req *r, int64_t *expires_ms, wih_err **err);

/* Small helpers for callers. */
const char *kube_obj_str(const cJSON *obj, const char *dotted_path); /* borrowed or NULL */
/* A new object {apiVersion, kind, metadata: {name, namespace}} (owned); ns
 * NULL for a cluster-scoped object (no namespace member). */
cJSON *kube_obj_new(const char *api_version, const char *kind, const char *ns, const char *name);

#endif
