/* jsonpath — one path language over cJSON trees (get / exists / set), and a
 * tree diff that reports every mismatch with its path.
 *
 * Syntax (docs/scenarios.md "Paths"):
 *   path     := ["$"] step ( ["."] step )*      leading "$" / "$." optional
 *   step     := NAME                 object member (letters, digits, _ - / : @;
 *                                    NOT "." "[" "]" "=" '"' whitespace)
 *             | "[" QUOTED "]"       object member with any characters:
 *                                    metadata.annotations["eks.amazonaws.com/role-arn"]
 *             | "[" INT "]"          array index; negative counts from the end
 *             | "[*]" | "*"          every array item / every object member
 *             | "[" KEY "=" VAL "]"  the array items (objects) whose member KEY
 *                                    equals VAL: containers[name=osmo-ctrl].
 *                                    VAL may be QUOTED; it is compared with the
 *                                    member's scalar text (strings as is,
 *                                    numbers/bools as JSON prints them).
 *             | NAME "[" ... "]"     a NAME directly followed by brackets is
 *                                    the member then the bracket step
 *                                    (env[name=X] = env then [name=X]).
 *   QUOTED   := '"' chars '"' with \" and \\ escapes (single quotes too).
 *
 * The obvious spelling is the right one: a selector step on a single match
 * continues from each selected item (no projection-of-projection as in
 * JMESPath), so `spec.containers[name=osmo-ctrl].env[name=AWS_ROLE_ARN].value`
 * yields the one string. A step that selects nothing says which step and what
 * was there:
 *   "spec.containers[name=osmo-ctrl]: no item with name=osmo-ctrl (items: user, osmo-init)"
 *
 * Ownership: results of get are borrowed from the tree; returned strings are
 * the caller's; set takes ownership of the value it is given (also on error).
 */
#ifndef WIHARNESS_JSONPATH_H
#define WIHARNESS_JSONPATH_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "wiharness/core.h"

typedef enum {
    WIH_JP_KEY,      /* object member `key` */
    WIH_JP_INDEX,    /* array item `index` (negative from the end) */
    WIH_JP_WILDCARD, /* every item / member */
    WIH_JP_SELECT,   /* array items whose member `key` equals `value` */
} wih_jp_kind;

typedef struct wih_jp_step {
    wih_jp_kind kind;
    char *key;   /* KEY: the member; SELECT: the member compared */
    char *value; /* SELECT: the value compared */
    long index;  /* INDEX */
    int col;     /* 1-based column of the step in the expression */
} wih_jp_step;

typedef struct wih_jpath {
    wih_jp_step *steps;
    size_t n;
    char *text; /* the expression as given */
} wih_jpath;

/* Parse an expression. A syntax error is an input error (WIH_EXIT_INPUT)
 * naming the column: "path 'a[b': col 2: unclosed '['". */
wih_jpath *wih_jpath_parse(const char *expr, wih_err **err);
void wih_jpath_free(wih_jpath *p);
/* Canonical text of steps [0, upto) (upto = p->n for all): keys that need it
 * quoted, e.g. `metadata.annotations["eks.amazonaws.com/role-arn"]`. New string. */
char *wih_jpath_str(const wih_jpath *p, size_t upto);
/* One step's text ("containers", "[name=osmo-ctrl]", "[0]", "[*]"). New string. */
char *wih_jp_step_str(const wih_jp_step *s);
/* Append a member key to a path string in canonical form: "$" + "a.b" →
 * `$["a.b"]`, "$" + "spec" → "$.spec". New string. */
char *wih_jpath_join_key(const char *base, const char *key);

/* Every node the path selects, in document order (borrowed pointers into
 * root). Returns the count (0 = nothing); *out is a malloc'd array (caller
 * frees the array, not the nodes) or NULL when none. When nothing is
 * selected and why is non-NULL, *why says which step selected nothing
 * (caller frees). */
size_t wih_jpath_select(const wih_jpath *p, const cJSON *root, const cJSON ***out, char **why);
/* The first node selected, or NULL (then *why as above). */
const cJSON *wih_jpath_get(const wih_jpath *p, const cJSON *root, char **why);

/* Convenience over an expression string (a bad expression selects nothing,
 * and *why says why). Borrowed results. */
const cJSON *wih_json_get(const cJSON *root, const char *expr);
const cJSON *wih_json_get_why(const cJSON *root, const char *expr, char **why);
bool wih_json_exists(const cJSON *root, const char *expr);
/* The selected string, or NULL when absent or not a string (borrowed). */
const char *wih_json_get_str(const cJSON *root, const char *expr);
/* One member of an object, the key taken literally (a header name, a role,
 * an annotation key held in a variable: dots and brackets are part of the
 * key, nothing is parsed). NULL when obj is no object or lacks key. Borrowed.
 * For a literal path use wih_json_get / wih_json_get_str. */
const cJSON *wih_json_member(const cJSON *obj, const char *key);
/* The member when it is a string, else NULL (borrowed). */
const char *wih_json_member_str(const cJSON *obj, const char *key);
/* The member when it is a string, else dflt (a report's "" for a missing field). */
const char *wih_json_member_str_or(const cJSON *obj, const char *key, const char *dflt);
/* The member when it is a number, else dflt. */
double wih_json_member_num(const cJSON *obj, const char *key, double dflt);

/* Set the node at path to value (owned; freed on error). Rules:
 *   - a missing object member on the way is created as {} (or the value at
 *     the last step); a null on the way is replaced by {};
 *   - [KEY=VAL] with no matching item appends {KEY: VAL} to the array (the
 *     array is created when missing), so
 *     `spec.containers[name=c].env[name=X].value` adds the env entry;
 *   - [INDEX] must exist (no holes); [*] / * sets every current match (none:
 *     nothing set, returns 0);
 *   - crossing a scalar (a string where a map is needed) is an error.
 * Returns the number of nodes set (>= 1 unless a wildcard matched nothing),
 * or -1 with *err (WIH_EXIT_INPUT) naming the step. */
int wih_jpath_set(const wih_jpath *p, cJSON *root, cJSON *value, wih_err **err);
int wih_json_set(cJSON *root, const char *expr, cJSON *value, wih_err **err);

/* ------------------------------------------------------------------ diff */
/* Compare two trees exactly (object member order ignored, array order not).
 * Every difference is one item {path, kind, expected, actual}:
 *   kind "missing"    — in expect, not in actual (actual absent);
 *   kind "unexpected" — in actual, not in expect (expected absent);
 *   kind "length"     — arrays of different lengths (expected/actual: counts);
 *   kind "value"      — different scalars or types (expected/actual: compact JSON).
 * Paths are canonical (`$.spec.containers[0]`, `$.metadata.annotations["a.b/c"]`).
 * Returns a new array (empty when equal). */
cJSON *wih_json_diff_list(const cJSON *expect, const cJSON *actual);
/* The same as text, one line per difference ("$.a: got 1, expected 2"), or
 * NULL when the trees are equal (caller frees). */
char *wih_json_diff(const cJSON *expect, const cJSON *actual);

/* Compact JSON of a node trimmed to at most max bytes ("…" marks a cut). New string. */
char *wih_json_trim(const cJSON *node, size_t max);

#endif
