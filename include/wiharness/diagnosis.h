/* diagnosis — name the broken link of a workload-identity chain, and the fix.
 *
 * Pure rules over one "facts" object (cJSON) → zero or more findings
 *   {"id": "<stable id>", "cause": "<one sentence>", "fix": "<the exact change>",
 *    "where": "<file:line:col>" | "<file>#<JSON pointer>" | "facts#<JSON pointer>"}
 * Ids are the stable strings of the catalog (shared/design/domain/misconfigurations.md,
 * plus the additions proposed in docs/troubleshooting.md). One table of rules
 * (diag_rules) holds every id with its generic cause, fix and function.
 *
 * ---------------------------------------------------------------- the facts
 * Every key is optional; a rule whose facts are absent does not fire.
 * {
 *   "profile":   "aws-irsa" | "azure-wi" | "gcp-fleet" | "gcp-pfnet",
 *                (absent: inferred from the ServiceAccounts' annotations)
 *   "pool":      "<pool name>"    (absent: every pool the values file defines,
 *                                  else "default")
 *   "platform":  "<platform>"     (absent: the pool's default_platform)
 *   "namespace": "<workflow namespace>" (absent: values global.backendNamespace,
 *                                  else "osmo-workflows")
 *   "values":    SOURCE           the Helm values file (any of OSMO's three shapes)
 *   "workflow":  SOURCE           an OSMO workflow spec (its data URLs)
 *   "service_accounts": [SOURCE…] one per object of every --sa file: each YAML
 *                                  document, each item of a `kind: List` (any
 *                                  kind: a Service with the annotations is
 *                                  itself a finding)
 *   --- runtime only (diag_runtime) ---
 *   "rendered_pod":  {Pod}        the pod OSMO would create (osmo_render)
 *   "admitted_pod":  {Pod}        the pod as the API server stored it (after webhooks)
 *   "webhook_log":   [LINE…]      the mock webhook's decision lines for this pod:
 *                                  objects, or the JSONL strings themselves
 *                                  ({"profile","decision":"patched|skipped|denied|error",
 *                                    "reason","message"?,"serviceAccount","namespace","pod"})
 *   "webhook_registered": bool     false when the run saw no MutatingWebhookConfiguration
 *   "webhook_configurations": [MutatingWebhookConfiguration…]  as registered
 *   "namespace_labels": {…}       the workflow namespace's labels
 *   "webhook_call_error": "<text>" the API server's "failed calling webhook" message
 *   "cloud_log":     [LINE…]      the mock cloud's decision lines (cloud_decision_json:
 *                                  {"provider","action","role","result","verdict",
 *                                   "failed_check","detail","expected":{iss,aud},
 *                                   "actual":{iss,aud,sub}})
 *   "probe":         {verdict}    the probe's verdict (TEAM.md: credential, token,
 *                                  exchange, env, access, error)
 *   "expected_identity": "<principal>"  the principal the scenario expected
 *   "failure":       "<text>"     what the runner saw fail (quoted in no-known-cause)
 * }
 * SOURCE = {"file": "<name as given>", "doc": <index in the file>,
 *           "tree": <the document>, "pos": {"<JSON pointer>": [line, col], …}}
 * "pos" gives file:line:col for every node (diag_source builds it from a
 * loaded YAML stream); without it `where` is "<file>#<JSON pointer>".
 *
 * Ownership as core.h: const cJSON * arguments are borrowed; every returned
 * cJSON * belongs to the caller.
 */
#ifndef WIHARNESS_DIAGNOSIS_H
#define WIHARNESS_DIAGNOSIS_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/yamljson.h"

/* A SOURCE object for document `doc` of a loaded stream: the tree (copied)
 * and the position of every node. New object. */
cJSON *diag_source(const char *file, const wih_ydocs *docs, size_t doc);
/* The same for one node of that document (an item of a `kind: List`). */
cJSON *diag_source_node(const char *file, const wih_ydocs *docs, size_t doc, const cJSON *node);

/* The objects of a JSONL decision log (text, e.g. webhook-decisions.jsonl)
 * whose string member `field` equals `value` (every object when field is NULL):
 * a new array for facts.webhook_log / facts.cloud_log. Lines that are not JSON
 * objects are skipped. E.g. diag_jsonl(text, "pod", pod_name). */
cJSON *diag_jsonl(const char *text, const char *field, const char *value);

/* Load --values and --sa files into a facts object (profile/pool/namespace
 * set when non-NULL). Unreadable or invalid YAML, a values file that is not a
 * map, an --sa document that is not a Kubernetes object: input error (exit 2)
 * at file:line:col. */
typedef struct diag_load_opts {
    const char *values;            /* path, or NULL */
    const char *workflow;          /* an OSMO workflow spec (path), or NULL */
    const char *const *sa;         /* paths */
    size_t nsa;
    const char *profile, *pool, *platform, *namespace_;
} diag_load_opts;
cJSON *diag_facts_load(const diag_load_opts *o, wih_err **err);

/* The static rules (values, ServiceAccounts, profile, pool): the findings
 * array, empty when clean. NULL with *err (exit 2) when the facts are not
 * usable (unknown profile, the named pool does not exist, a values file OSMO
 * itself would refuse). */
cJSON *diag_static(const cJSON *facts, wih_err **err);

/* Called when a run failed: the static rules, then the runtime rules over the
 * rendered/admitted pod, decision logs and probe verdict (a runtime finding
 * whose id a static one already reported is dropped). Never empty: when no rule
 * matches, one finding {"id": "no-known-cause", …, "facts": <summary>} carries
 * a summary of the raw facts (webhook decisions, cloud verdicts, probe
 * credential/exchange/access) — never a guess. NULL with *err as diag_static. */
cJSON *diag_runtime(const cJSON *facts, wih_err **err);

/* ----------------------------------------------------------- the rule table */
typedef struct diag_ctx diag_ctx;
typedef struct diag_rule {
    const char *id;    /* stable id */
    const char *cause; /* generic cause (the finding's cause is specific) */
    const char *fix;   /* generic fix */
    bool runtime;      /* needs runtime facts */
    void (*fn)(diag_ctx *c, const struct diag_rule *self);
} diag_rule;
/* Borrowed table, in the order findings are reported. */
const diag_rule *diag_rules(size_t *n);
/* The rule of an id (NULL when unknown; "no-known-cause" has one too). */
const diag_rule *diag_rule_find(const char *id);

/* Human output: "<where>: [<id>] <cause>\n    fix: <fix>\n" per finding.
 * New string. */
char *diag_format_text(const cJSON *findings);

#endif
