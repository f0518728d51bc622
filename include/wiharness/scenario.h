/* scenario — the scenario model (loaded from YAML with file:line:col on every
 * error), the profile matrix, label selectors, template expansion, and the
 * assertions the runner polls. Pure logic: no I/O except the loaders.
 *
 * The format is docs/scenarios.md (schema: docs/scenario.schema.json).
 * A suite is a directory; an optional `suite.yaml` in it holds defaults
 * (profiles, labels, timeouts) inherited by every scenario in that directory
 * and below (a nested suite.yaml overrides its parent's, key by key).
 *
 * Ownership follows core.h: everything in a loaded scenario belongs to it;
 * const arguments are borrowed; returned pointers are the caller's unless
 * marked "borrowed".
 */
#ifndef WIHARNESS_SCENARIO_H
#define WIHARNESS_SCENARIO_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wiharness/core.h"
#include "wiharness/yamljson.h"

#define SCN_API_VERSION "wiharness/v1"

/* Where a piece of the scenario was written (provenance for messages). */
typedef struct scn_src {
    const char *file; /* borrowed from the scenario (its `file`) */
    int line, col;    /* 1-based; 0 unknown */
} scn_src;

/* ---------------------------------------------------------------- timeouts */
/* Durations: "500ms", "10s", "2m", "1m30s" (a bare number is an error: say
 * the unit). Defaults below; suite.yaml overrides them, a scenario overrides
 * its suite. */
#define SCN_DEFAULT_ADMISSION_MS 10000
#define SCN_DEFAULT_POD_MS 60000
#define SCN_DEFAULT_ACCESS_MS 30000
typedef struct scn_timeouts {
    int64_t admission_ms; /* create → admitted pod (webhook mutation visible) */
    int64_t pod_ms;       /* admitted → pod terminated with a verdict */
    int64_t access_ms;    /* the probe's whole access phase (exchange + S3) */
} scn_timeouts;
/* Parse a duration; -1 with *err (no position: the caller wraps it). */
int64_t scn_duration_parse(const char *s, wih_err **err);

/* ------------------------------------------------------------------- model */
typedef enum { SCN_OP_READ, SCN_OP_WRITE, SCN_OP_LIST, SCN_OP_DELETE } scn_op;
typedef enum { SCN_RES_ALLOWED, SCN_RES_DENIED, SCN_RES_ERROR } scn_result_kind;
const char *scn_op_name(scn_op op);             /* "read" ... */
const char *scn_result_name(scn_result_kind r); /* "allowed" ... */

/* A role in the mock cloud: who may assume it and what it may do. */
typedef struct scn_role {
    char *name;     /* logical name ("team-a"); ARN / client id / GSA derived per profile */
    char **trust;   /* subjects, e.g. "system:serviceaccount:{{namespace}}:osmo-workflow" (templates unexpanded) */
    size_t ntrust;
    cJSON *grants;  /* object: bucket (logical name) → "read" | "write" | "readwrite" | "list" */
    scn_src src;
} scn_role;

typedef enum { SCN_SRC_NONE, SCN_SRC_FILE, SCN_SRC_INLINE, SCN_SRC_GIT } scn_src_kind;
/* values / workflow: a file (path resolved against the scenario file's
 * directory), an inline tree, or (values only) a "git+URL#REF:PATH" string
 * kept opaque for the runner. */
typedef struct scn_input {
    scn_src_kind kind;
    char *path;   /* FILE: absolute or relative to cwd, resolved; GIT: the URL as written */
    cJSON *tree;  /* INLINE: borrowed from the scenario's document (lives as long as the
                   * scenario; positions via scn_pos, or scn_docs for osmo_config_from_tree) */
    scn_src src;
} scn_input;

/* One access expectation. NULL fields are not checked. */
typedef struct scn_access {
    scn_op op;
    char *url;             /* as written ("{{bucket team-a-data}}/out/x"); scn_expand it */
    scn_result_kind result;
    char *identity;        /* logical role the cloud must have seen, or NULL */
    char *reason;          /* "no-credentials" | "exchange-refused" | "bucket-refused" | "error", or NULL */
    char *code;            /* the error code seen ("AccessDenied"), or NULL */
    scn_src src;
} scn_access;

typedef struct scn_expect {
    cJSON *pod;            /* partial tree (see "assertions"), or NULL; borrowed from the document */
    scn_access *access;
    size_t naccess;
    char **diagnosis;      /* finding ids the diagnosis must report */
    size_t ndiagnosis;
} scn_expect;

typedef struct scn_scenario {
    char *name;            /* metadata.name (unique within a load) */
    char *description;     /* metadata.description, or NULL */
    cJSON *labels;         /* object name → string (suite labels merged in; scenario wins) */
    char **profiles;       /* "aws-irsa" | "azure-wi" | "gcp-fleet" */
    size_t nprofiles;
    char *namespace_;      /* NULL = the runner generates one */
    char *sa_name;         /* spec.serviceAccount.name (default "osmo-workflow") */
    char *sa_role;         /* spec.serviceAccount.identity.role, or NULL (no identity) */
    scn_role *roles;       /* spec.cloud.roles */
    size_t nroles;
    char **buckets;        /* logical bucket names */
    size_t nbuckets;
    scn_input values;      /* Helm values */
    char *pool;            /* default "default" */
    scn_input workflow;    /* OSMO workflow spec (NONE = the runner's one-task default) */
    scn_expect expect;
    scn_timeouts timeouts;
    char *file;            /* the scenario file (as given) */
    char *dir;             /* its directory (relative paths resolve against it) */
    scn_src src;           /* the document's start */
    wih_ydocs *docs_;      /* private: positions of every node above */
    int *docs_refs_;       /* private: scenarios sharing docs_ (one file, several documents) */
} scn_scenario;

typedef struct scn_list {
    scn_scenario **items;  /* sorted by file path, then document order */
    size_t n;
} scn_list;

/* -------------------------------------------------------------- loading */
/* A file holds one or more scenario documents (separated by ---); a
 * directory is walked recursively (*.yaml, *.yml whose first document has
 * apiVersion wiharness/... or kind Scenario — other YAML there is data, e.g.
 * values files; suite.yaml is the directory's defaults; names starting with
 * "." or "_" are skipped). A file given directly is always a scenario file
 * and gets its own directory's suite.yaml. Every error is WIH_EXIT_INPUT at file:line:col; an unknown key
 * names the nearest valid one ("unknown key 'profile' in spec (did you mean
 * 'profiles'?)"); duplicate scenario names across the load are an error. */
scn_list *scn_load_path(const char *path, wih_err **err);
/* Several paths into one list (same rules). */
scn_list *scn_load_paths(const char *const *paths, size_t n, wih_err **err);
/* One document from text (tests; the "file" is `name`, dir is its dirname;
 * suite defaults from `suite_yaml` text when non-NULL). */
scn_list *scn_load_string(const char *name, const char *text, const char *suite_yaml, wih_err **err);
void scn_list_free(scn_list *l);
void scn_scenario_free(scn_scenario *s);

/* The YAML documents the scenario was read from (borrowed): pass to
 * osmo_config_from_tree with values.tree so OSMO errors name the lines. */
const wih_ydocs *scn_docs(const scn_scenario *s);
/* Position of a node of the scenario's tree (expect.pod, inline values…). */
bool scn_pos(const scn_scenario *s, const cJSON *node, scn_src *out);
/* An input error at node ("file:line:col: msg"). */
wih_err *scn_err_at(const scn_scenario *s, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The loaded model as JSON (for `run --list`, reports and tests): every
 * field after defaults, timeouts in ms, inputs as {kind, path|tree}. New tree. */
cJSON *scn_scenario_json(const scn_scenario *s);

/* The keys the loader accepts, as dotted paths ("spec.serviceAccount.identity.role",
 * "spec.expect.access[].op", "suite: spec.timeouts.pod"), NULL-terminated,
 * borrowed — the schema test checks docs/scenario.schema.json against it. */
const char *const *scn_known_keys(void);
/* The profiles a scenario may list (NULL-terminated, borrowed). */
const char *const *scn_profiles_known(void);

/* ------------------------------------------------------------ selectors */
/* `-l` expressions, repeated = AND: "key=value", "key!=value", "key" (has
 * the label), "!key" (lacks it). The scenario's name matches as the label
 * "name" unless it has a label of that name. */
typedef struct scn_selector scn_selector;
scn_selector *scn_selector_parse(const char *const *exprs, size_t n, wih_err **err);
bool scn_selector_match(const scn_selector *sel, const scn_scenario *s);
void scn_selector_free(scn_selector *sel);

/* --------------------------------------------------------------- matrix */
typedef struct scn_case {
    const scn_scenario *scn; /* borrowed from the list */
    const char *profile;     /* borrowed */
    char *id;                /* "<name>/<profile>" */
} scn_case;
typedef struct scn_matrix {
    scn_case *cases;
    size_t n;
} scn_matrix;
/* Scenario × profile for the scenarios sel matches (sel NULL = all), only
 * the profiles in only[] when only is non-NULL (NULL-terminated; an unknown
 * name is WIH_EXIT_INPUT naming the nearest). Order: list order, then the
 * scenario's profile order. */
scn_matrix *scn_matrix_build(const scn_list *l, const scn_selector *sel, const char *const *only,
                             wih_err **err);
void scn_matrix_free(scn_matrix *m);

/* ------------------------------------------------------------ templates */
/* Harness templates (docs/scenarios.md "Templates"); anything else in
 * {{...}} — OSMO's {{USER_CPU}}, {{output}}, {{input:0}} — is left as is:
 *   {{bucket NAME}}      s3://<real bucket name>
 *   {{bucketName NAME}}  <real bucket name>
 *   {{namespace}}        the case's namespace
 *   {{serviceAccount}}   the SA name
 *   {{profile}}          the profile
 *   {{scenario}}         the scenario name
 * NAME must be one of spec.buckets (checked at load time). */
typedef struct scn_vars {
    const char *namespace_;
    const char *service_account;
    const char *profile;
    const char *scenario;
    const char *bucket_prefix; /* real name = prefix + NAME (NULL = NAME) */
    /* --identity real: the real bucket of a logical name (owned; NULL = not
     * mapped, an input error); when set, bucket_prefix is not used */
    char *(*bucket_of)(void *ctx, const char *logical);
    void *bucket_ctx;
} scn_vars;
/* New string, or NULL with *err (an unknown harness template). */
char *scn_expand(const char *s, const scn_vars *v, wih_err **err);
/* Every string value (not keys) of tree, in place. */
int scn_expand_tree(cJSON *tree, const scn_vars *v, wih_err **err);

/* ----------------------------------------------------------- assertions */
/* expect.pod is a partial tree: every key in it must match, others are
 * ignored. A key containing '[' is a path (jsonpath.h):
 * `containers[name=osmo-ctrl]`, `env[name=AWS_ROLE_ARN].value`; any other key
 * is ONE member, dots included (`eks.amazonaws.com/role-arn`). A path key
 * selecting several nodes (`containers[*]`) requires each to match. Leaves:
 *   a scalar             equal (type and value: "8080" is not 8080)
 *   "$absent"            the node must not exist
 *   "$present"           the node must exist (any value)
 *   {"$regex": "RE"}     a string matching the POSIX extended RE (unanchored)
 *   {"$eq": X}           X literally (so "$absent" itself can be matched)
 * A list without selectors matches as a subset: each expected item must
 * match some distinct actual item, in any order.
 * (Validated at load time: a bad regex, path or operator, or a near miss
 * like "$absnt", is WIH_EXIT_INPUT at its line.) */
typedef enum {
    SCN_M_MISMATCH, /* present and different (the runner may still retry until the deadline) */
    SCN_M_NOT_YET,  /* required but absent (may appear later: poll until the deadline) */
} scn_mismatch_kind;

typedef struct scn_mismatch {
    scn_mismatch_kind kind;
    char *path;     /* "spec.containers[name=osmo-ctrl].env[name=AWS_ROLE_ARN].value", "access[1].identity" */
    char *expected; /* text: "\"arn:...\"", "absent", "present", "regex ^arn:", "allowed" */
    char *actual;   /* compact JSON trimmed to ~200 bytes, or "absent" */
    char *why;      /* which step selected nothing, or NULL */
    scn_src src;    /* where the expectation is written, when known */
} scn_mismatch;

typedef struct scn_result {
    size_t matched, mismatched, not_yet; /* leaf checks */
    scn_mismatch *items;                 /* mismatched + not_yet entries, in expect order */
    size_t n, cap_;
} scn_result;
void scn_result_init(scn_result *r);
void scn_result_free(scn_result *r);
/* Done and passed: no mismatch, nothing pending. */
static inline bool scn_result_ok(const scn_result *r) { return r->mismatched == 0 && r->not_yet == 0; }
/* One line per item: "spec.x.y: expected \"a\", got \"b\"" / "...: not yet (absent)". New string. */
char *scn_result_text(const scn_result *r);
/* [{"path","kind":"mismatch"|"not-yet","expected","actual","why"?,"file"?,"line"?,"col"?}] */
cJSON *scn_result_json(const scn_result *r);

/* Match expect (borrowed; NULL = nothing to check) against the admitted pod
 * (borrowed; NULL = no pod yet: everything is not_yet). s is used for
 * positions only (may be NULL). Appends to r; returns 0, or -1 with *err
 * when the expectation itself is malformed (bad path/regex: WIH_EXIT_INPUT). */
int scn_assert_pod(const cJSON *expect, const cJSON *pod, const scn_scenario *s, scn_result *r, wih_err **err);

/* Access expectations against the probe verdict (TEAM.md format). The
 * runner tells which logical role a principal is: role_of returns the
 * scenario role name for a principal the cloud saw, or NULL when it is none
 * of them (borrowed; may be called many times). */
typedef const char *(*scn_role_of_fn)(void *ctx, const char *principal);
/* A ready-made role_of over a table: a principal pattern ending in "*"
 * matches by prefix ("arn:aws:sts::111122223333:assumed-role/team-a/" + "*"). */
typedef struct scn_principal {
    const char *role;      /* logical role */
    const char *principal; /* exact, or prefix + "*" */
} scn_principal;
typedef struct scn_principal_map {
    const scn_principal *items;
    size_t n;
} scn_principal_map;
const char *scn_principal_map_role_of(void *ctx /* const scn_principal_map * */, const char *principal);

/* Each expectation i is matched to the verdict's access entry with the same
 * op and url (urls expanded with v; v NULL = as written): missing entry →
 * "access[i]" not_yet (no verdict yet) or mismatch (verdict has no such
 * entry); then result, identity, reason, code each a mismatch at
 * "access[i].result" etc. verdict NULL = everything not_yet. */
int scn_assert_access(const scn_access *exp, size_t n, const cJSON *verdict, const scn_vars *v,
                      scn_role_of_fn role_of, void *ctx, scn_result *r, wih_err **err);

#endif
