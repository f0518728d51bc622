/* Private to harness/scenario: the loader's key tables and helpers shared by
 * loader.c, model.c and assert.c. */
#ifndef WIH_SCN_INTERNAL_H
#define WIH_SCN_INTERNAL_H

#include "wiharness/scenario.h"

/* Nearest of a NULL-terminated list (edit distance ≤ 3, or a prefix), or NULL. */
const char *scn_nearest(const char *given, const char *const *valid);

/* Walk the harness templates ({{bucket X}}, {{namespace}}, ...) of s: for
 * each one, fn(ctx, word, arg, out) appends its expansion to out (or returns
 * -1 with *err); other {{...}} text is copied as is. */
typedef int (*scn_tmpl_fn)(void *ctx, const char *word, const char *arg, wih_buf *out, wih_err **err);
int scn_tmpl_walk(const char *s, scn_tmpl_fn fn, void *ctx, wih_buf *out, wih_err **err);

/* The leaf matcher kinds of expect.pod (assert.c); also used by the loader to
 * validate expectations. */
typedef enum { SCN_LEAF_EQ, SCN_LEAF_ABSENT, SCN_LEAF_PRESENT, SCN_LEAF_REGEX, SCN_LEAF_TREE } scn_leaf_kind;
/* Classify an expect node; for EQ *lit is the literal to compare; for REGEX
 * *lit is the pattern string node. Returns -1 with a message (caller frees)
 * for a malformed operator object. */
int scn_leaf_classify(const cJSON *e, scn_leaf_kind *kind, const cJSON **lit, char **msg);
/* Why an expect.pod key that is a path ("containers[name=x]") does not
 * parse (owned), or NULL when it parses. */
char *scn_path_key_error(const char *key);
/* Validate an expect.pod tree (paths parse, regexes compile, operators known). */
int scn_expect_pod_check(const scn_scenario *s, const cJSON *e, wih_err **err);

#endif
