/* webhook — the mock cloud identity admission webhooks (aws-irsa, azure-wi,
 * gcp-fleet), faithful to the upstream webhooks' observable behaviour.
 *
 * Layers, each usable on its own:
 *   1. pure mutation functions: (pod, service account or NULL, options) →
 *      skip | patch | deny, with an RFC 6902 JSONPatch (no I/O at all);
 *   2. JSONPatch helpers: apply a patch, diff two documents;
 *   3. AdmissionReview v1 handling as a pure function (bytes in, bytes out),
 *      several profiles per handler, one JSON decision line per profile;
 *   4. the HTTPS server (libmicrohttpd): POST /mutate, GET /healthz, GET /stats;
 *   5. MutatingWebhookConfiguration JSON per profile (registration is the
 *      caller's job).
 * docs/webhook.md describes every rule and every option key.
 */
#ifndef WIHARNESS_WEBHOOK_H
#define WIHARNESS_WEBHOOK_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"

/* ------------------------------------------------------------------ profiles */
/* The numeric order is the order in which one handler offers a pod to its
 * enabled profiles (see webhook_review): aws-irsa, azure-wi, gcp-fleet. */
typedef enum { WEBHOOK_AWS_IRSA, WEBHOOK_AZURE_WI, WEBHOOK_GCP_FLEET, WEBHOOK_NPROFILES } webhook_profile;

const char *webhook_profile_name(webhook_profile p); /* "aws-irsa", ... */
/* 0 on success, -1 for an unknown name. */
int webhook_profile_parse(const char *s, webhook_profile *out);

/* ------------------------------------------------------------------- options */
/* Strings are owned by the struct (webhook_opts_free). Defaults mirror the
 * upstream flags; docs/webhook.md lists them. */
typedef struct webhook_aws_opts {
    char *annotation_prefix;    /* annotationPrefix, default eks.amazonaws.com */
    char *token_audience;       /* tokenAudience, default sts.amazonaws.com */
    char *default_region;       /* defaultRegion, default "" (no region env) */
    bool sts_regional_endpoint; /* stsRegionalEndpoint, default false */
    long long token_expiration; /* tokenExpiration, default 86400 */
    char *token_mount_path;     /* tokenMountPath, default /var/run/secrets/eks.amazonaws.com/serviceaccount */
} webhook_aws_opts;

typedef enum { WEBHOOK_AZ_V15, WEBHOOK_AZ_V16 } webhook_az_layout;

typedef struct webhook_azure_opts {
    char *tenant_id;       /* tenantId, default "" */
    char *authority_host;  /* authorityHost, default https://login.microsoftonline.com/ */
    webhook_az_layout layout; /* layout v1.5 | v1.6, default v1.6 */
    char *audience;        /* audience, default api://AzureADTokenExchange */
    char *proxy_image;     /* proxyImage */
    char *proxy_init_image; /* proxyInitImage */
    char *proxy_log_level; /* proxyLogLevel, default info */
    bool native_sidecar;   /* nativeSidecar, default false */
} webhook_azure_opts;

typedef struct webhook_gcp_opts {
    char *project_id;             /* projectId, default wiharness-project */
    char *workload_identity_pool; /* workloadIdentityPool, default <projectId>.svc.id.goog */
    char *identity_provider;      /* identityProvider, default see docs */
    char *token_url;              /* tokenUrl, default https://sts.googleapis.com/v1/token */
    char *impersonation_url;      /* impersonationUrl, default https://iamcredentials.googleapis.com */
} webhook_gcp_opts;

typedef struct webhook_opts {
    webhook_aws_opts aws;
    webhook_azure_opts azure;
    webhook_gcp_opts gcp;
} webhook_opts;

void webhook_opts_defaults(webhook_opts *o);
void webhook_opts_free(webhook_opts *o);
/* Read options from a YAML file. Either a flat map of one profile's camelCase
 * keys (profile must then be given, i.e. not WEBHOOK_NPROFILES), or a map with
 * top-level keys "aws-irsa", "azure-wi", "gcp-fleet" each holding such a map.
 * An unknown key or a bad value is an input error (exit 2) at file:line:col,
 * naming the nearest valid key. Returns 0 or -1 with *err. */
int webhook_opts_load(webhook_opts *o, webhook_profile profile, const char *path, wih_err **err);
/* Same, from an already loaded YAML root (positions from docs). */
struct wih_ydocs;
int webhook_opts_from_yaml(webhook_opts *o, webhook_profile profile, const struct wih_ydocs *docs,
                           const cJSON *root, wih_err **err);

/* ------------------------------------------------------------- pure mutation */
typedef enum {
    WEBHOOK_SKIP,  /* allowed, nothing to inject (trigger did not match) */
    WEBHOOK_PATCH, /* allowed with a JSONPatch */
    WEBHOOK_DENY,  /* denied: code + message are what the API server shows */
} webhook_verdict;

typedef struct webhook_result {
    webhook_verdict verdict;
    int code;         /* HTTP-style status code of a denial (400), else 0 */
    char *message;    /* denial message (verbatim upstream text), or NULL */
    char *reason;     /* one-line why, for the decision log (always set) */
    cJSON *patch;     /* RFC 6902 array for PATCH, else NULL */
    cJSON *configmap; /* gcp-fleet: the credential ConfigMap to create, else NULL */
} webhook_result;

void webhook_result_free(webhook_result *r);

/* Run one profile on a pod. `pod` is the Pod object as the API server sends it
 * (metadata.namespace may be absent: `ns` is the request's namespace, or NULL
 * to use metadata.namespace, then "default"). `sa` is the pod's service
 * account (spec.serviceAccountName, "" meaning "default") or NULL when it does
 * not exist. The trigger (objectSelector) of the profile is evaluated here too,
 * so a pod the API server would not send gives WEBHOOK_SKIP. Pure: no I/O.
 * Always fills *out (free with webhook_result_free). */
void webhook_mutate(webhook_profile p, const cJSON *pod, const cJSON *sa, const char *ns, const webhook_opts *o,
                    webhook_result *out);

/* Could the API server have sent this object? The webhooks decode it into the
 * typed corev1 struct first, so a wrong-typed field they read or patch (a map for
 * spec.containers or a container's env, a number for spec.volumes, a non-string
 * annotation or label, no spec at all) fails before any rule runs. NULL when it
 * decodes; else the offending node (borrowed; the object itself for a missing
 * field) and *msg naming the field, e.g. "spec.volumes must be a list, not a
 * number" (caller frees). Pure. webhook_mutate denies (400) such a pod. */
const cJSON *webhook_pod_invalid(const cJSON *pod, char **msg);
const cJSON *webhook_sa_invalid(const cJSON *sa, char **msg);

/* The service account name a pod uses ("default" when unset). Borrowed. */
const char *webhook_pod_sa_name(const cJSON *pod);
/* The pod's log name: metadata.name, else generateName + " (prefix)" (caller frees). */
char *webhook_pod_display_name(const cJSON *pod);

/* The response object (without uid) for a result, as printed by
 * `wiharness webhook mutate`: {"allowed":…, "status":{code,message}?,
 * "patchType":"JSONPatch"?, "patch":[…]?, "configMap":{…}?}. New object. */
cJSON *webhook_result_json(const webhook_result *r);

/* ------------------------------------------------------------------ JSONPatch */
/* Apply an RFC 6902 patch (add, remove, replace, move, copy, test) to doc in
 * place. Returns 0, or -1 with a message in *err (doc is then undefined; work
 * on a copy). */
int webhook_patch_apply(cJSON *doc, const cJSON *patch, char **errmsg);
/* A patch turning a into b: objects compared key by key (b's keys in order,
 * then removals), arrays index by index (adds/removes at the tail), other
 * values replaced — the algorithm of gomodules.xyz/jsonpatch/v2 CreatePatch
 * that controller-runtime's PatchResponseFromRaw uses, with a deterministic
 * operation order. Returns a new array. */
cJSON *webhook_patch_diff(const cJSON *a, const cJSON *b);

/* ---------------------------------------------------- AdmissionReview handling */
/* Service account lookup used by the handler: return 1 and a new object in
 * *sa when found, 0 when it does not exist, -1 on another error (then *msg is
 * a new message string, e.g. the API server's). */
typedef int (*webhook_sa_lookup_fn)(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg);

typedef struct webhook_handler {
    bool enabled[WEBHOOK_NPROFILES];
    webhook_opts opts;            /* owned by the creator */
    webhook_sa_lookup_fn sa_lookup; /* NULL: every service account is missing */
    void *sa_ctx;
    FILE *log;                    /* decision log sink (one JSON line each), or NULL */
} webhook_handler;

typedef enum { WEBHOOK_OUT_ALLOWED, WEBHOOK_OUT_PATCHED, WEBHOOK_OUT_DENIED, WEBHOOK_OUT_ERROR } webhook_outcome;

/* Handle one POST /mutate. Pure apart from sa_lookup and the log sink.
 * Returns the HTTP status; *body (new, NUL-terminated) is the response body
 * and *ctype its Content-Type (static). Wrong Content-Type → 400 text; a body
 * that is not an AdmissionReview → 200 with allowed:false and a message.
 * The pod is offered to each enabled profile in enum order whose trigger
 * matches; later profiles see the earlier profiles' patches applied; the
 * response patch is the concatenation; the first denial wins and stops.
 * gcp-fleet ConfigMaps are returned through *configmaps (a new array, may be
 * NULL) for the server to create; pass NULL to drop them. */
int webhook_review(const webhook_handler *h, const char *body, size_t len, const char *content_type, char **resp,
                   const char **resp_ctype, webhook_outcome *outcome, cJSON **configmaps);

/* A service account cache in front of a live lookup (the kube client), with
 * upstream's behaviours: a fresh cached SA is served from memory (an
 * informer cache: AWS, Azure's client); a miss does a live GET (Azure's
 * reader fallback); when still missing, the live GET is retried every
 * 100 ms for up to grace_ms (AWS --service-account-lookup-grace-period).
 * Only found SAs are cached (for ttl_ms), so a new SA is seen at once.
 * Thread-safe. Use webhook_sa_cache_lookup as handler.sa_lookup with the
 * cache as sa_ctx. */
typedef struct webhook_sa_cache webhook_sa_cache;
webhook_sa_cache *webhook_sa_cache_new(webhook_sa_lookup_fn live, void *live_ctx, int64_t ttl_ms, int64_t grace_ms);
int webhook_sa_cache_lookup(void *cache, const char *ns, const char *name, cJSON **sa, char **msg);
/* Drop one entry (e.g. on a watch DELETE/UPDATE event), or all when name is NULL. */
void webhook_sa_cache_forget(webhook_sa_cache *c, const char *ns, const char *name);
void webhook_sa_cache_free(webhook_sa_cache *c);

/* ------------------------------------------------------------------- server */
typedef struct webhook_server webhook_server;
typedef struct webhook_server_cfg {
    const char *cert_pem; /* PEM text of the serving certificate (chain) */
    const char *key_pem;  /* PEM text of its private key */
    int port;             /* 0: any free port on 127.0.0.1 */
    const webhook_handler *handler; /* borrowed for the server's lifetime */
    /* Called (from a server thread) with each request's ConfigMaps; may be NULL. */
    void (*on_configmaps)(void *ctx, const cJSON *configmaps);
    void *cm_ctx;
} webhook_server_cfg;

webhook_server *webhook_server_start(const webhook_server_cfg *cfg, wih_err **err);
int webhook_server_port(const webhook_server *s);
/* {"requests","patches","denials","errors","allowed","latencyMs":{"p50","p99"}} (new object) */
cJSON *webhook_server_stats(webhook_server *s);
void webhook_server_stop(webhook_server *s);

/* ---------------------------------------------------------------- serving */
/* `wiharness webhook serve` as a library call: load the options, get a serving
 * certificate (cert/key files, or issued from the harness CA in pki, or
 * self-signed), look ServiceAccounts up live through the kubeconfig, serve,
 * register one MutatingWebhookConfiguration per enabled profile, write
 * ready_file ({"port","url"}), block until SIGINT/SIGTERM (wih_signals_install
 * first), unregister, stop. A bad option or profile is an input error. */
typedef struct webhook_serve_opts {
    const char *kubeconfig, *context;
    const char *options;          /* profile options file (docs/webhook.md), or NULL */
    const char *cert, *key, *ca;  /* serving cert/key files (ca: the registration's caBundle; default cert) */
    const char *pki;              /* or: issue the serving certificate from the CA in this dir */
    const char *url;              /* what the API server calls; NULL = https://127.0.0.1:<port> */
    const char *decision_log;     /* JSON lines appended here; NULL = stdout */
    const char *ready_file;       /* or NULL */
    const char *const *profiles;  /* NULL-terminated names; NULL or empty = all */
    int port;                     /* 0 = a free port */
    long sa_grace_s, sa_cache_ms; /* see the CLI's --sa-grace, --sa-cache-ms */
    bool no_register;
} webhook_serve_opts;
wih_err *webhook_serve(const webhook_serve_opts *o);
/* The same serve as a process of its own: argv of `<self> --no-color webhook
 * serve …` for o (NULL-terminated; free with webhook_serve_argv_free). The
 * one place besides the CLI's option table that knows the flag names. */
char **webhook_serve_argv(const webhook_serve_opts *o, const char *self);
void webhook_serve_argv_free(char **argv);

/* A self-signed certificate for 127.0.0.1/localhost made with the OpenSSL 3
 * API (RSA 2048, SAN IP:127.0.0.1 DNS:localhost), for tests and benchmarks.
 * Both PEM strings are new. The key exists only in memory. */
int webhook_selfsigned(char **cert_pem, char **key_pem, wih_err **err);

/* ---------------------------------------------------------- registration data */
/* The MutatingWebhookConfiguration for a profile, as upstream registers it:
 * aws-irsa failurePolicy Ignore + objectSelector skip label DoesNotExist;
 * azure-wi Fail + matchLabels azure.workload.identity/use "true" +
 * reinvocationPolicy IfNeeded; gcp-fleet Ignore. clientConfig.url = url,
 * caBundle = base64(ca_pem); sideEffects None; admissionReviewVersions [v1];
 * `url` is the server base (https://127.0.0.1:PORT): "/mutate/<profile>" is
 * appended, so each registration reaches only its own profile;
 * rules: pods CREATE. New object. */
cJSON *webhook_mwc_json(webhook_profile p, const char *url, const char *ca_pem);

/* ------------------------------------------------------- against a live cluster */
/* Glue between the server and a real API server (kube client): SA lookups,
 * the gcp-fleet credential ConfigMaps, and the registrations. One kube client
 * behind a mutex (the server has 4 worker threads; the client is not
 * thread-safe). */
struct kube_client;
typedef struct webhook_live webhook_live;
/* Takes ownership of the client. */
webhook_live *webhook_live_new(struct kube_client *c);
void webhook_live_free(webhook_live *l);
/* A webhook_sa_lookup_fn over the live cluster (ctx = the webhook_live). */
int webhook_live_sa_lookup(void *ctx, const char *ns, const char *name, cJSON **sa, char **msg);
/* on_configmaps for the server: server-side apply each ConfigMap (logged on failure). */
void webhook_live_configmaps(void *ctx, const cJSON *configmaps);
/* Register (server-side apply) one MutatingWebhookConfiguration per enabled
 * profile; unregister deletes them (absent ones are fine). */
wih_err *webhook_live_register(webhook_live *l, const bool enabled[WEBHOOK_NPROFILES], const char *url,
                               const char *ca_pem);
wih_err *webhook_live_unregister(webhook_live *l, const bool enabled[WEBHOOK_NPROFILES]);

#endif
