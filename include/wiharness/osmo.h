/* osmo — the OSMO model: pod-template merge, template variables, Helm values
 * (three shapes), ServiceAccount manifests, the workflow spec and the pod OSMO
 * renders for each task. Pure logic: no I/O except the *_file loaders.
 *
 * Facts: ../shared/design/domain/osmo.md, checked against NVIDIA/OSMO
 * (src/lib/utils/common.py, src/utils/job/task.py, src/utils/job/kb_objects.py).
 * Where upstream and osmo.md disagree we follow upstream; each such place says
 * so in a comment in harness/osmo/ and in docs/osmo.md.
 *
 * Ownership follows core.h: returned cJSON trees belong to the caller, const
 * arguments are borrowed.
 */
#ifndef WIHARNESS_OSMO_H
#define WIHARNESS_OSMO_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/webhook.h"
#include "wiharness/yamljson.h"

/* -------------------------------------------------------------- positions */
/* Where a node came from (file:line:col). The merge copies nodes; a posmap
 * keeps each copy's origin so an error found after merging (an undefined
 * variable) still names the line of the template that holds it. */
typedef struct osmo_posmap osmo_posmap;
osmo_posmap *osmo_posmap_new(void);
void osmo_posmap_free(osmo_posmap *pm);
/* Resolve nodes of these documents too (borrowed; must outlive the map). */
void osmo_posmap_add_docs(osmo_posmap *pm, const wih_ydocs *docs);
/* Origin of a node; false when unknown. *file is borrowed. */
bool osmo_posmap_get(const osmo_posmap *pm, const cJSON *node, const char **file, wih_pos *pos);
/* Record that every node of `to` came from the matching node of `from`. */
void osmo_posmap_copy(osmo_posmap *pm, const cJSON *from, const cJSON *to);
/* An input error at node (file:line:col when known). */
wih_err *osmo_err_at(const osmo_posmap *pm, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------ merge */
/* OSMO's merge: recursive_dict_update(dst, src, merge_lists_on_name).
 *  - maps merge recursively, a later scalar (or null, or list over a non-list)
 *    replaces;
 *  - a list over a list: each later item that is a map whose `name` equals an
 *    earlier item's `name` is merged into it; every other item is appended;
 *  - the Python errors upstream raises are errors here (a map over a non-map,
 *    a list item that is a number/bool/null or a string containing "name").
 * dst is modified in place; src is copied (positions recorded in pm when pm).
 * Returns 0, or -1 with *err (an input error at the offending node). */
int osmo_merge(cJSON *dst, const cJSON *src, osmo_posmap *pm, wih_err **err);

/* ------------------------------------------------------------- variables */
/* {{VAR}} substitution over every string value (not keys) of tree, in place.
 * vars: object name → scalar. A rendered "ARRAY:[a,b]" becomes a list (as
 * upstream). An undefined variable, or any Jinja construct other than
 * {{ NAME }}, is an input error naming it at the string's file:line:col. */
int osmo_substitute(cJSON *tree, const cJSON *vars, const osmo_posmap *pm, wih_err **err);

/* ---------------------------------------------------------------- values */
typedef enum { OSMO_MODE_AUTO, OSMO_MODE_CONFIGMAP, OSMO_MODE_DATABASE } osmo_mode;
typedef enum { OSMO_SHAPE_SERVICES, OSMO_SHAPE_CONFIGURATION, OSMO_SHAPE_DATABASE, OSMO_SHAPE_NONE } osmo_shape;
const char *osmo_mode_name(osmo_mode m);
const char *osmo_shape_name(osmo_shape s);

/* The pod templates and pools OSMO would see, after Helm layering. */
typedef struct osmo_config {
    cJSON *pod_templates; /* name → template */
    cJSON *pools;         /* name → pool */
    osmo_shape shape;     /* which shape the file had */
    osmo_mode mode;       /* where OSMO reads them from (configmap / database) */
    bool helm_ignored;    /* services.configs.enabled is false: the file's keys do nothing */
    /* Findings a diagnosis can quote: [{code, path, message, file, line, col}].
     * codes: "helm-list-replaced", "helm-configs-disabled",
     *        "template-unknown-skipped" (added by osmo_pool_template). */
    cJSON *notes;
    osmo_posmap *pm; /* origins of every node above */
    wih_ydocs *docs_[2]; /* private: the user file and the chart defaults */
} osmo_config;

/* The chart defaults (default_ctrl, default_user, pool `default`) as a
 * podTemplates/pools pair: {"podTemplates": {...}, "pools": {...}}. */
cJSON *osmo_chart_defaults(void);

/* Helm's own layering: maps deep-merged, lists and scalars REPLACED. Each
 * list of `over` that replaces a list of `base` adds a note
 * {code: "helm-list-replaced", path} to notes (when notes). `over` nodes are
 * moved into base (so their positions survive); over is left empty. */
void osmo_helm_merge(cJSON *base, cJSON *over, const char *path, cJSON *notes);

/* Load a values file in any of the three shapes (YAML or JSON):
 *   services.configs.{enabled,podTemplates,pools}   (service chart; ConfigMap mode
 *                                                    only when enabled: true)
 *   configuration.{podTemplates,pools}              (umbrella chart)
 *   {"POD_TEMPLATE"|"pod_templates": {...}, "POOL"|"pools": {...}}  (database JSON,
 *                                                    as `osmo config show` prints)
 * and layer it over the chart defaults. mode AUTO derives the mode from the
 * shape (database JSON → database, else configmap). */
osmo_config *osmo_config_load_file(const char *path, osmo_mode mode, wih_err **err);
osmo_config *osmo_config_load_string(const char *name, const char *text, osmo_mode mode, wih_err **err);
/* From an already-loaded tree (borrowed, copied). */
osmo_config *osmo_config_from_tree(const cJSON *root, const wih_ydocs *docs, osmo_mode mode, wih_err **err);
void osmo_config_free(osmo_config *c);

/* The merged, un-rendered template of pool/platform ({} ⊕ common_pod_template
 * names in order ⊕ the platform's override_pod_template names). platform NULL
 * = the pool's default_platform. Unknown names: error in database mode, a
 * warning + note "template-unknown-skipped" in ConfigMap mode. */
cJSON *osmo_pool_template(osmo_config *c, const char *pool, const char *platform, wih_err **err);

/* --------------------------------------------------------- values output */
typedef struct osmo_values_opts {
    const char *template_name;  /* --template */
    const char *service_account;
    const char *const *pools;   /* NULL-terminated; default {"default"} */
    const char *profile;        /* NULL, "aws-irsa", "gcp-fleet", "azure-wi" (adds the use label) */
    bool guide_exact;           /* omit services.configs.enabled: true (the guide omits it) */
} osmo_values_opts;
/* The Helm values fragment of the guide's steps 3-4. */
cJSON *osmo_values_fragment(const osmo_values_opts *o, wih_err **err);

/* ------------------------------------------------------- ServiceAccounts */
typedef struct osmo_sa_opts {
    const char *profile; /* aws-irsa | azure-wi | gcp-fleet */
    const char *name, *namespace_;
    const char *role_arn;            /* aws */
    const char *client_id, *tenant_id; /* azure */
    const char *gcp_service_account; /* gcp */
    const char *audience;            /* aws */
    const char *token_expiration;    /* aws, azure: seconds */
} osmo_sa_opts;
/* The guide's step-2 ServiceAccount with the profile's annotations. */
cJSON *osmo_sa_manifest(const osmo_sa_opts *o, wih_err **err);

/* -------------------------------------------------------------- workflow */
/* Validate a storage URL the way OSMO's storage backends parse it:
 * s3://bucket[/path], gs://bucket[/path], azure://account/container[/path],
 * tos://endpoint/bucket[/path], swift://endpoint/namespace[/path]. Returns
 * NULL when valid, else a message (caller frees). */
char *osmo_url_check(const char *url);

typedef struct osmo_render_opts {
    const char *pool;      /* default "default" */
    const char *platform;  /* default: the pool's default_platform */
    const char *namespace_; /* default "osmo-workflows" (global.backendNamespace) */
    const char *submitted_by; /* default "wiharness" */
    const char *priority;  /* default "normal" */
    unsigned long seed;    /* ids are derived from it */
} osmo_render_opts;

/* Parse and validate a workflow spec (file:line:col errors via docs). */
int osmo_workflow_check(const cJSON *wf, const wih_ydocs *docs, wih_err **err);

/* The pods OSMO creates for the workflow, one per task, as a JSON array. */
cJSON *osmo_render(osmo_config *c, const cJSON *wf, const wih_ydocs *wfdocs, const osmo_render_opts *o,
                   wih_err **err);

/* Deterministic 32-hex id from seed and a label ("workflow", "task:t1"). */
void osmo_uuid(unsigned long seed, const char *what, char out[33]);

/* ------------------------------------------------- through the mock webhook */
/* What happens to the rendered pods at CREATE when the API server calls the
 * mock identity webhook of one profile (webhook.h; no cluster): for each pod,
 * webhook_mutate with the pod's service account, then the patch applied in
 * place. The profile's trigger (e.g. azure-wi's objectSelector on the
 * azure.workload.identity/use label) is evaluated by webhook_mutate, so an
 * unlabelled pod comes out unchanged.
 *
 * sa: the ServiceAccount manifest the user supplies, or NULL. As the live
 * webhook looks the SA up by the pod's namespace and spec.serviceAccountName,
 * an sa whose metadata.name (or metadata.namespace, when set) differs from
 * the pod's counts as missing (a note says so).
 *
 * notes (optional) gets one string per noteworthy event (a pod not mutated and
 * why, an SA that does not match, a gcp-fleet ConfigMap the webhook would
 * create). Returns 0 when every pod was admitted (pods mutated in place),
 * 1 on a denial (*denial = the webhook's message, as the API server shows it,
 * new string; the pods are then left partly mutated: print nothing), or -1
 * with *err when a patch does not apply (an internal error, kind INFRA). */
int osmo_admit_pods(cJSON *pods, webhook_profile p, const cJSON *sa, const webhook_opts *o, cJSON *notes,
                    char **denial, wih_err **err);

#endif
