/* yamljson — YAML (libyaml) to cJSON with a source position for every node,
 * and cJSON back to YAML for output.
 *
 * Scalar resolution follows what Kubernetes does (sigs.k8s.io/yaml on top of
 * go-yaml v2, i.e. YAML 1.1 plain scalars), so a manifest means here what it
 * means to kubectl:
 *   - Only PLAIN (unquoted) scalars are resolved; quoted scalars, block
 *     literals (|) and folded scalars (>) are always strings.
 *   - Explicit tags win: !!str, !!int, !!float, !!bool, !!null.
 *   - null:  "" (empty plain), ~, null, Null, NULL.
 *   - bool:  y Y yes Yes YES on On ON true True TRUE
 *            n N no No NO off Off OFF false False FALSE.
 *     (so `use: yes` is the boolean true — a Kubernetes label value must then be
 *     quoted: `azure.workload.identity/use: "true"`.)
 *   - int:   optional sign, then decimal, 0x hex, 0b binary, or a leading-0 octal
 *            (0777 = 511); underscores are ignored (1_000 = 1000). Values that do
 *            not fit in int64 fall through to float.
 *   - float: what strtod accepts as a decimal number with a digit (1.5, 1e3, .5,
 *            -2.), plus .inf .Inf .INF (+/-) and .nan .NaN .NAN. JSON has no
 *            inf/nan: those are kept as strings (sigs.k8s.io/yaml fails on them;
 *            we keep the text so the error can point at it).
 *   - everything else, timestamps included (go-yaml v2 keeps them as strings
 *     when decoding into interface{}), is a string.
 *   - Map keys are always strings (`1: x` has key "1", `yes: x` has key "true",
 *     as sigs.k8s.io/yaml converts them); a map or list as a key is an error.
 *     A duplicate key is an error (go-yaml v2 rejects it too).
 *   - Anchors and aliases are expanded (a deep copy per alias); `<<` merge keys
 *     are applied (explicit keys win over merged ones). An alias to an unknown
 *     anchor is an error. Expansion is capped (billion-laughs).
 *   - Nesting deeper than WIH_YAML_MAX_DEPTH is an error.
 *
 * Every node of a loaded document has a position (1-based line:col of the node's
 * first character; for a map entry's value, the value's start), valid while
 * the wih_ydocs owns the node. Errors read "file:line:col: message".
 */
#ifndef WIHARNESS_YAMLJSON_H
#define WIHARNESS_YAMLJSON_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

#define WIH_YAML_MAX_DEPTH 200
#define WIH_YAML_MAX_NODES 2000000
#define WIH_YAML_MAX_BYTES ((size_t)64 << 20)

typedef struct wih_pos {
    int line, col;
} wih_pos;

/* The one position map (node pointer → file, line:col), used by the loader
 * and by anything that copies nodes and must keep their origin (the OSMO
 * merge). `file` is borrowed and must outlive the map. */
typedef struct wih_posmap wih_posmap;
wih_posmap *wih_posmap_new(void);
void wih_posmap_free(wih_posmap *pm);
void wih_posmap_put(wih_posmap *pm, const cJSON *node, const char *file, wih_pos pos);
bool wih_posmap_get(const wih_posmap *pm, const cJSON *node, const char **file, wih_pos *pos);

/* A stream of documents with positions. Owns every node of every root. */
typedef struct wih_ydocs wih_ydocs;

/* Load all documents of a stream. An empty document (e.g. between two `---`)
 * is kept as a cJSON null so document indexes match the file. `name` is what
 * errors call the input (a path, or "<stdin>"). */
wih_ydocs *wih_yaml_load_string(const char *name, const char *text, size_t len, wih_err **err);
wih_ydocs *wih_yaml_load_file(const char *path, wih_err **err);
void wih_ydocs_free(wih_ydocs *d);

size_t wih_ydocs_count(const wih_ydocs *d);
/* Borrowed: the root of document i (NULL when out of range). */
cJSON *wih_ydocs_root(const wih_ydocs *d, size_t i);
/* Take ownership of document i's root (its positions stay registered, so
 * wih_ydocs_pos keeps working while the wih_ydocs lives). */
cJSON *wih_ydocs_detach(wih_ydocs *d, size_t i);
const char *wih_ydocs_name(const wih_ydocs *d);

/* Position of a node; false when the node was not produced by this loader. */
bool wih_ydocs_pos(const wih_ydocs *d, const cJSON *node, wih_pos *out);
/* An input error located at `node` ("file:line:col: <msg>"); node may be NULL. */
wih_err *wih_ydocs_err(const wih_ydocs *d, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Convenience: load a file that must hold exactly one document. */
cJSON *wih_yaml_load_one(const char *path, wih_ydocs **keep, wih_err **err);

/* Parse JSON with a position on error ("file:line:col: ..."). */
cJSON *wih_json_parse(const char *name, const char *text, wih_err **err);

/* JSON → YAML (block style, 2-space indent, keys in tree order). Strings that
 * would resolve to something else (yes, 1, null, "") are quoted; multi-line
 * strings use literal blocks when safe. Returns a new string. */
char *wih_yaml_emit(const cJSON *node);
/* Several documents separated by "---". */
char *wih_yaml_emit_stream(const cJSON *const *nodes, size_t n);

/* How a plain scalar resolves (exposed for tests and the emitter). */
typedef enum { WIH_YS_NULL, WIH_YS_BOOL, WIH_YS_INT, WIH_YS_FLOAT, WIH_YS_STRING } wih_yscalar_kind;
wih_yscalar_kind wih_yaml_resolve_plain(const char *s, bool *b, long long *i, double *f);

#endif
