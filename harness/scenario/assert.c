/* Assertions: a partial tree match of expect.pod against the admitted pod,
 * and access expectations against the probe's verdict. Pure: every result
 * goes into a scn_result the runner polls (mismatch vs not yet). */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "scn_internal.h"
#include "wiharness/jsonpath.h"

#define SCN_ACTUAL_MAX 200

/* ------------------------------------------------------------------ result */

void scn_result_init(scn_result *r)
{
    *r = (scn_result){0};
}

void scn_result_free(scn_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].path);
        free(r->items[i].expected);
        free(r->items[i].actual);
        free(r->items[i].why);
    }
    free(r->items);
    *r = (scn_result){0};
}

/* Takes ownership of expected, actual and why. */
static void add_item(scn_result *r, scn_mismatch_kind k, const char *path, char *expected, char *actual, char *why,
                     const scn_scenario *s, const cJSON *at)
{
    if (r->n == r->cap_) {
        r->cap_ = r->cap_ ? r->cap_ * 2 : 8;
        r->items = wih_xrealloc(r->items, r->cap_ * sizeof *r->items);
    }
    scn_mismatch *m = &r->items[r->n++];
    *m = (scn_mismatch){k, wih_strdup(path), expected, actual, why, {0}};
    scn_pos(s, at, &m->src);
    if (k == SCN_M_NOT_YET) r->not_yet++;
    else r->mismatched++;
}

char *scn_result_text(const scn_result *r)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    wih_buf_adds(&b, "");
    for (size_t i = 0; i < r->n; i++) {
        const scn_mismatch *m = &r->items[i];
        if (m->kind == SCN_M_NOT_YET)
            wih_buf_addf(&b, "%s: not yet (expected %s)", m->path, m->expected);
        else
            wih_buf_addf(&b, "%s: expected %s, got %s", m->path, m->expected, m->actual);
        if (m->why) wih_buf_addf(&b, "; %s", m->why);
        if (m->src.file && m->src.line) wih_buf_addf(&b, " (%s:%d)", m->src.file, m->src.line);
        wih_buf_adds(&b, "\n");
    }
    return wih_buf_take(&b);
}

cJSON *scn_result_json(const scn_result *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < r->n; i++) {
        const scn_mismatch *m = &r->items[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", m->path);
        cJSON_AddStringToObject(o, "kind", m->kind == SCN_M_NOT_YET ? "not-yet" : "mismatch");
        cJSON_AddStringToObject(o, "expected", m->expected);
        cJSON_AddStringToObject(o, "actual", m->actual ? m->actual : "absent");
        if (m->why) cJSON_AddStringToObject(o, "why", m->why);
        if (m->src.file) {
            cJSON_AddStringToObject(o, "file", m->src.file);
            cJSON_AddNumberToObject(o, "line", m->src.line);
            cJSON_AddNumberToObject(o, "col", m->src.col);
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* ----------------------------------------------------------- leaf matchers */

char *scn_path_key_error(const char *key)
{
    wih_err *pe = NULL;
    wih_jpath *jp = wih_jpath_parse(key, &pe);
    if (jp) {
        wih_jpath_free(jp);
        return NULL;
    }
    char *why = wih_strdup(pe->msg);
    wih_err_free(pe);
    return why;
}

int scn_leaf_classify(const cJSON *e, scn_leaf_kind *kind, const cJSON **lit, char **msg)
{
    *lit = e;
    if (cJSON_IsString(e)) {
        if (!strcmp(e->valuestring, "$absent")) *kind = SCN_LEAF_ABSENT;
        else if (!strcmp(e->valuestring, "$present")) *kind = SCN_LEAF_PRESENT;
        else *kind = SCN_LEAF_EQ;
        return 0;
    }
    if (!cJSON_IsObject(e) || !e->child || e->child->string[0] != '$') {
        *kind = (cJSON_IsObject(e) || cJSON_IsArray(e)) ? SCN_LEAF_TREE : SCN_LEAF_EQ;
        if (cJSON_IsObject(e))
            for (const cJSON *c = e->child; c; c = c->next)
                if (c->string[0] == '$') {
                    *msg = wih_asprintf("'%s' mixed with plain keys: an operator ($eq, $regex) is a map of its own",
                                        c->string);
                    return -1;
                }
        return 0;
    }
    if (e->child->next) {
        *msg = wih_asprintf("an operator map holds one key ($eq or $regex), this one has %d", cJSON_GetArraySize(e));
        return -1;
    }
    const cJSON *op = e->child;
    if (!strcmp(op->string, "$eq")) {
        *kind = SCN_LEAF_EQ;
        *lit = op;
        return 0;
    }
    if (!strcmp(op->string, "$regex")) {
        if (!cJSON_IsString(op)) {
            *msg = wih_strdup("$regex: expected a string (a POSIX extended regular expression)");
            return -1;
        }
        *kind = SCN_LEAF_REGEX;
        *lit = op;
        return 0;
    }
    static const char *const ops[] = {"$eq", "$regex", NULL};
    const char *near = scn_nearest(op->string, ops);
    *msg = wih_asprintf("unknown operator '%s'%s%s%s (operators: $eq, $regex; strings \"$absent\", \"$present\")",
                        op->string, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    return -1;
}

static bool is_path_key(const char *k)
{
    return strchr(k, '[') != NULL;
}

/* The report path of member k under path: a plain key is one member (quoted
 * when it has dots: annotations["eks.amazonaws.com/role-arn"]); a path key
 * is appended as written. */
static char *child_path(const char *path, const char *k)
{
    if (!is_path_key(k)) return wih_jpath_join_key(path, k);
    if (!*path) return wih_strdup(k);
    return wih_asprintf("%s%s%s", path, k[0] == '[' ? "" : ".", k);
}

/* scn_leaf_classify with a malformed operator object as an error at e. */
static int classify_at(const scn_scenario *s, const cJSON *e, const char *path, scn_leaf_kind *k,
                       const cJSON **lit, wih_err **err)
{
    char *msg = NULL;
    if (scn_leaf_classify(e, k, lit, &msg) < 0) {
        *err = scn_err_at(s, e, "%s: %s", path, msg);
        free(msg);
        return -1;
    }
    return 0;
}

static int check_rec(const scn_scenario *s, const cJSON *e, const char *path, wih_err **err)
{
    scn_leaf_kind k;
    const cJSON *lit;
    if (classify_at(s, e, path, &k, &lit, err) < 0) return -1;
    if (k == SCN_LEAF_EQ && cJSON_IsString(e) && e->valuestring[0] == '$') {
        static const char *const words[] = {"$absent", "$present", NULL};
        const char *near = scn_nearest(e->valuestring, words);
        if (near) {
            *err = scn_err_at(s, e, "%s: '%s': did you mean '%s'? (to match the text itself write {$eq: \"%s\"})",
                              path, e->valuestring, near, e->valuestring);
            return -1;
        }
    }
    if (k == SCN_LEAF_REGEX) {
        regex_t re;
        int rc = regcomp(&re, lit->valuestring, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char buf[200];
            regerror(rc, &re, buf, sizeof buf);
            *err = scn_err_at(s, lit, "%s: $regex '%s': %s", path, lit->valuestring, buf);
            return -1;
        }
        regfree(&re);
    }
    if (k != SCN_LEAF_TREE) return 0;
    int i = 0;
    for (const cJSON *c = e->child; c; c = c->next, i++) {
        char *p;
        if (cJSON_IsArray(e)) {
            p = wih_asprintf("%s[%d]", path, i);
        } else {
            char *why = is_path_key(c->string) ? scn_path_key_error(c->string) : NULL;
            if (why) {
                *err = scn_err_at(s, c, "%s: key is a path: %s", path, why);
                free(why);
                return -1;
            }
            p = child_path(path, c->string);
        }
        int r = check_rec(s, c, p, err);
        free(p);
        if (r < 0) return -1;
    }
    return 0;
}

int scn_expect_pod_check(const scn_scenario *s, const cJSON *e, wih_err **err)
{
    return check_rec(s, e, "spec.expect.pod", err);
}

/* ------------------------------------------------------------ pod matching */

typedef struct mctx {
    const scn_scenario *s;
    scn_result *r;
    wih_err **err;
} mctx;

static char *expected_text(scn_leaf_kind k, const cJSON *lit)
{
    switch (k) {
    case SCN_LEAF_ABSENT: return wih_strdup("absent");
    case SCN_LEAF_PRESENT: return wih_strdup("present");
    case SCN_LEAF_REGEX: return wih_asprintf("regex %s", lit->valuestring);
    case SCN_LEAF_TREE: return wih_strdup(cJSON_IsArray(lit) ? "a list" : "a map");
    default: return wih_json_trim(lit, SCN_ACTUAL_MAX);
    }
}

static int match(mctx *M, const cJSON *e, const cJSON *a, const char *path, const char *why);

static bool regex_ok(const char *pat, const char *s)
{
    regex_t re;
    if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB)) return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int match_leaf(mctx *M, scn_leaf_kind k, const cJSON *e, const cJSON *lit, const cJSON *a, const char *path,
                      const char *why)
{
    bool ok;
    if (k == SCN_LEAF_ABSENT) {
        ok = a == NULL;
    } else if (!a) {
        add_item(M->r, SCN_M_NOT_YET, path, expected_text(k, lit), NULL, why ? wih_strdup(why) : NULL, M->s, e);
        return 0;
    } else if (k == SCN_LEAF_PRESENT) {
        ok = true;
    } else if (k == SCN_LEAF_REGEX) {
        ok = cJSON_IsString(a) && regex_ok(lit->valuestring, a->valuestring);
    } else {
        ok = cJSON_Compare(lit, a, 1);
    }
    if (ok) M->r->matched++;
    else add_item(M->r, SCN_M_MISMATCH, path, expected_text(k, lit), wih_json_trim(a, SCN_ACTUAL_MAX), NULL, M->s, e);
    return 0;
}

/* Would e match a fully (no mismatch, nothing pending)? */
static bool trial(mctx *M, const cJSON *e, const cJSON *a, scn_result *out)
{
    scn_result_init(out);
    mctx T = {M->s, out, M->err};
    if (match(&T, e, a, "", NULL) < 0) return false;
    return scn_result_ok(out);
}

/* Subset: every expected item matches a distinct actual item, any order. */
static int match_list(mctx *M, const cJSON *e, const cJSON *a, const char *path)
{
    int na = cJSON_GetArraySize(a), i = 0;
    bool *used = wih_xcalloc((size_t)na + 1, sizeof *used);
    for (const cJSON *ce = e->child; ce; ce = ce->next, i++) {
        char *p = wih_asprintf("%s[%d]", path, i);
        bool found = false;
        int k = 0;
        for (const cJSON *ca = a->child; ca && !found; ca = ca->next, k++) {
            if (used[k]) continue;
            scn_result t;
            if (trial(M, ce, ca, &t)) {
                used[k] = found = true;
                M->r->matched += t.matched;
            }
            scn_result_free(&t);
        }
        if (!found) {
            char *w = wih_asprintf("no item of the %d matches", na);
            add_item(M->r, SCN_M_MISMATCH, p, wih_json_trim(ce, SCN_ACTUAL_MAX), wih_json_trim(a, SCN_ACTUAL_MAX), w,
                     M->s, ce);
        }
        free(p);
    }
    free(used);
    return 0;
}

static int match_map(mctx *M, const cJSON *e, const cJSON *a, const char *path, const char *why)
{
    for (const cJSON *c = e->child; c; c = c->next) {
        char *p = child_path(path, c->string);
        int r = 0;
        if (!is_path_key(c->string)) {
            r = match(M, c, a ? cJSON_GetObjectItemCaseSensitive(a, c->string) : NULL, p, why);
        } else {
            wih_err *pe = NULL;
            wih_jpath *jp = wih_jpath_parse(c->string, &pe);
            if (!jp) {
                *M->err = scn_err_at(M->s, c, "%s: key is a path: %s", p, pe->msg);
                wih_err_free(pe);
                free(p);
                return -1;
            }
            const cJSON **v = NULL;
            char *w = NULL;
            size_t n = a ? wih_jpath_select(jp, a, &v, &w) : 0;
            if (!n) {
                char *full = w ? wih_asprintf("%s%s%s", *path ? path : "", *path ? "." : "", w) : NULL;
                r = match(M, c, NULL, p, why ? why : full);
                free(full);
            }
            for (size_t i = 0; i < n && r == 0; i++) r = match(M, c, v[i], p, why);
            free(v);
            free(w);
            wih_jpath_free(jp);
        }
        free(p);
        if (r < 0) return -1;
    }
    return 0;
}

static int match(mctx *M, const cJSON *e, const cJSON *a, const char *path, const char *why)
{
    scn_leaf_kind k;
    const cJSON *lit;
    if (classify_at(M->s, e, path, &k, &lit, M->err) < 0) return -1;
    if (k != SCN_LEAF_TREE) return match_leaf(M, k, lit, lit, a, path, why);
    if (!a && cJSON_IsArray(e)) {
        add_item(M->r, SCN_M_NOT_YET, path, wih_json_trim(e, SCN_ACTUAL_MAX), NULL, why ? wih_strdup(why) : NULL, M->s,
                 e);
        return 0;
    }
    if (!a) return match_map(M, e, NULL, path, why); /* "$absent" leaves below still hold */
    if (cJSON_IsArray(e) ? !cJSON_IsArray(a) : !cJSON_IsObject(a)) {
        add_item(M->r, SCN_M_MISMATCH, path, expected_text(k, e), wih_json_trim(a, SCN_ACTUAL_MAX), NULL, M->s, e);
        return 0;
    }
    return cJSON_IsArray(e) ? match_list(M, e, a, path) : match_map(M, e, a, path, why);
}

int scn_assert_pod(const cJSON *expect, const cJSON *pod, const scn_scenario *s, scn_result *r, wih_err **err)
{
    if (!expect) return 0;
    mctx M = {s, r, err};
    if (!pod) return match(&M, expect, NULL, "", "no admitted pod yet");
    return match(&M, expect, pod, "", NULL);
}

/* ---------------------------------------------------------- access checks */

const char *scn_principal_map_role_of(void *ctx, const char *principal)
{
    const scn_principal_map *m = ctx;
    if (!m || !principal) return NULL;
    for (size_t i = 0; i < m->n; i++) {
        const char *p = m->items[i].principal;
        size_t l = strlen(p);
        if (l && p[l - 1] == '*' ? !strncmp(principal, p, l - 1) : !strcmp(principal, p)) return m->items[i].role;
    }
    return NULL;
}

static const cJSON *find_check(const cJSON *verdict, const char *op, const char *url)
{
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(verdict, "access");
    for (const cJSON *c = cJSON_IsArray(acc) ? acc->child : NULL; c; c = c->next) {
        const char *o = wih_json_member_str(c, "op"), *u = wih_json_member_str(c, "url");
        if (o && u && !strcmp(o, op) && !strcmp(u, url)) return c;
    }
    return NULL;
}

static char *checks_list(const cJSON *verdict)
{
    wih_buf b;
    wih_buf_init(&b, 4096);
    wih_buf_adds(&b, "");
    const cJSON *acc = cJSON_GetObjectItemCaseSensitive(verdict, "access");
    int n = 0;
    for (const cJSON *c = cJSON_IsArray(acc) ? acc->child : NULL; c; c = c->next, n++) {
        const char *o = wih_json_member_str(c, "op"), *u = wih_json_member_str(c, "url");
        wih_buf_addf(&b, "%s%s %s", n ? ", " : "", o ? o : "?", u ? u : "?");
    }
    char *l = wih_buf_take(&b);
    char *r = n ? wih_asprintf("not in the verdict (its checks: %s)", l) : wih_strdup("not in the verdict (no access checks)");
    free(l);
    return r;
}

/* "denied (reason bucket-refused, code AccessDenied)" */
static char *result_text(const cJSON *c)
{
    const char *res = wih_json_member_str(c, "result"), *reason = wih_json_member_str(c, "reason"),
               *code = wih_json_member_str(c, "code");
    if (!reason && !code) return wih_strdup(res ? res : "null");
    return wih_asprintf("%s (%s%s%s%s%s)", res ? res : "null", reason ? "reason " : "", reason ? reason : "",
                        reason && code ? ", " : "", code ? "code " : "", code ? code : "");
}

/* Who the cloud saw, and which credential won: "arn:… (role team-b) via static-env: AWS_ACCESS_KEY_ID". */
static char *identity_text(const cJSON *verdict, const char *principal, const char *role)
{
    const cJSON *cred = cJSON_GetObjectItemCaseSensitive(verdict, "credential");
    const char *src = wih_json_member_str(cred, "source"), *detail = wih_json_member_str(cred, "detail");
    char *who = principal ? wih_asprintf("%s (%s%s)", principal, role ? "role " : "not a scenario role",
                                         role ? role : "")
                          : wih_strdup("no identity");
    char *r = src ? wih_asprintf("%s via %s%s%s", who, src, detail ? ": " : "", detail ? detail : "") : wih_strdup(who);
    free(who);
    return r;
}

static void check_field(scn_result *r, const scn_scenario *s, size_t i, const char *field, const char *want,
                        const char *got, char *shown)
{
    char *p = wih_asprintf("access[%zu].%s", i, field);
    if (got && !strcmp(want, got)) {
        r->matched++;
        free(shown);
    } else {
        add_item(r, SCN_M_MISMATCH, p, wih_strdup(want), shown ? shown : wih_strdup(got ? got : "null"), NULL, s,
                 NULL);
    }
    free(p);
}

static int assert_one(const scn_access *x, size_t i, const cJSON *verdict, const scn_vars *v, scn_role_of_fn role_of,
                      void *ctx, scn_result *r, wih_err **err)
{
    char *url = v ? scn_expand(x->url, v, err) : wih_strdup(x->url);
    if (!url) return -1;
    char *p = wih_asprintf("access[%zu]", i);
    char *what = wih_asprintf("%s %s %s", scn_op_name(x->op), url, scn_result_name(x->result));
    const cJSON *c = verdict ? find_check(verdict, scn_op_name(x->op), url) : NULL;
    if (!verdict) {
        add_item(r, SCN_M_NOT_YET, p, what, NULL, wih_strdup("no probe verdict yet"), NULL, NULL);
    } else if (!c) {
        add_item(r, SCN_M_MISMATCH, p, what, wih_strdup("absent"), checks_list(verdict), NULL, NULL);
    } else {
        free(what);
        check_field(r, NULL, i, "result", scn_result_name(x->result), wih_json_member_str(c, "result"), result_text(c));
        if (x->identity) {
            const char *principal = wih_json_member_str(c, "identity");
            const char *role = principal && role_of ? role_of(ctx, principal) : NULL;
            check_field(r, NULL, i, "identity", x->identity, role, identity_text(verdict, principal, role));
        }
        if (x->reason) check_field(r, NULL, i, "reason", x->reason, wih_json_member_str(c, "reason"), NULL);
        if (x->code) check_field(r, NULL, i, "code", x->code, wih_json_member_str(c, "code"), NULL);
    }
    /* positions: every item of this expectation points at its line */
    for (size_t k = 0; k < r->n; k++)
        if (!r->items[k].src.file && !strncmp(r->items[k].path, p, strlen(p)) &&
            (r->items[k].path[strlen(p)] == '.' || !r->items[k].path[strlen(p)]))
            r->items[k].src = x->src;
    free(p);
    free(url);
    return 0;
}

int scn_assert_access(const scn_access *exp, size_t n, const cJSON *verdict, const scn_vars *v,
                      scn_role_of_fn role_of, void *ctx, scn_result *r, wih_err **err)
{
    for (size_t i = 0; i < n; i++)
        if (assert_one(&exp[i], i, verdict, v, role_of, ctx, r, err) < 0) return -1;
    return 0;
}
