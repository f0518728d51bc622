/* Scenario loader: YAML (yamljson, with positions) → scn_scenario, suites
 * (suite.yaml defaults), directories. Every error is WIH_EXIT_INPUT at
 * file:line:col. The format is docs/scenarios.md. */
#include <dirent.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scn_internal.h"
#include "wiharness/diagnosis.h"
#include "wiharness/jsonpath.h"
#include "wiharness/yamljson.h"

/* ------------------------------------------------------------- key tables */
static const char *const k_top[] = {"apiVersion", "kind", "metadata", "spec", NULL};
static const char *const k_meta[] = {"name", "description", "labels", NULL};
static const char *const k_spec[] = {"profiles", "namespace", "serviceAccount", "cloud", "buckets", "values",
                                     "pool", "workflow", "timeouts", "expect", NULL};
static const char *const k_sa[] = {"name", "identity", NULL};
static const char *const k_ident[] = {"role", NULL};
static const char *const k_cloud[] = {"roles", NULL};
static const char *const k_role[] = {"trust", "grants", NULL};
static const char *const k_timeouts[] = {"admission", "pod", "access", NULL};
static const char *const k_expect[] = {"pod", "access", "diagnosis", NULL};
static const char *const k_access[] = {"url", "op", "result", "identity", "reason", "code", NULL};
static const char *const k_suite_spec[] = {"profiles", "timeouts", NULL};
static const char *const k_ops[] = {"read", "write", "list", "delete", NULL};
static const char *const k_results[] = {"allowed", "denied", "error", NULL};
static const char *const k_reasons[] = {"no-credentials", "exchange-refused", "bucket-refused", "error", NULL};
static const char *const k_grants[] = {"read", "write", "readwrite", "list", NULL};

const char *const *scn_known_keys(void)
{
    static const char *const keys[] = {
        "apiVersion", "kind", "metadata", "metadata.name", "metadata.description", "metadata.labels", "spec",
        "spec.profiles", "spec.namespace", "spec.serviceAccount", "spec.serviceAccount.name",
        "spec.serviceAccount.identity", "spec.serviceAccount.identity.role", "spec.cloud", "spec.cloud.roles",
        "spec.cloud.roles.*.trust", "spec.cloud.roles.*.grants", "spec.buckets", "spec.values", "spec.pool",
        "spec.workflow", "spec.timeouts", "spec.timeouts.admission", "spec.timeouts.pod", "spec.timeouts.access",
        "spec.expect", "spec.expect.pod", "spec.expect.access", "spec.expect.access[].url",
        "spec.expect.access[].op", "spec.expect.access[].result", "spec.expect.access[].identity",
        "spec.expect.access[].reason", "spec.expect.access[].code", "spec.expect.diagnosis",
        "suite:apiVersion", "suite:kind", "suite:metadata", "suite:metadata.name", "suite:metadata.description",
        "suite:metadata.labels", "suite:spec", "suite:spec.profiles", "suite:spec.timeouts",
        "suite:spec.timeouts.admission", "suite:spec.timeouts.pod", "suite:spec.timeouts.access", NULL};
    return keys;
}

/* ------------------------------------------------------------ load context */
typedef struct suite_defaults {
    char **profiles; /* NULL = all known */
    size_t nprofiles;
    cJSON *labels;
    scn_timeouts t;
} suite_defaults;

typedef struct ld {
    const char *file;
    const char *text;
    wih_ydocs *d;
} ld;

/* An input error at a node (at) or at the key of a map member (at_key). */
static wih_err *at_where(const ld *L, const cJSON *node, bool key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define at(L, node, ...) at_where(L, node, false, __VA_ARGS__)
#define at_key(L, member, ...) at_where(L, member, true, __VA_ARGS__)

/* Where a map member's KEY is written: the loader records the value's
 * position; look for `key:` on the value's line (before it) and then on the
 * lines above. Falls back to the value's position. */
static wih_pos key_pos(const ld *L, const cJSON *member)
{
    wih_pos vp = {0, 0};
    if (!wih_ydocs_pos(L->d, member, &vp) || !L->text || !member->string) return vp;
    /* the start of every line from vp.line - 63 to vp.line */
    const char *lines[64];
    int first = vp.line - 63 < 1 ? 1 : vp.line - 63, ln = 1;
    const char *s = L->text;
    while (s && ln <= vp.line) {
        if (ln >= first) lines[ln - first] = s;
        s = strchr(s, '\n');
        if (s) s++;
        ln++;
    }
    if (ln <= vp.line) return vp;
    size_t kl = strlen(member->string);
    for (int l = vp.line; l >= first; l--) {
        const char *b = lines[l - first];
        size_t len = strcspn(b, "\n");
        if (l == vp.line && (size_t)(vp.col - 1) < len) len = (size_t)(vp.col - 1);
        const char *best = NULL;
        for (const char *q = b; q + kl <= b + len; q++) {
            if (strncmp(q, member->string, kl)) continue;
            bool quoted = q > b && (q[-1] == '"' || q[-1] == '\'');
            const char *after = q + kl;
            if (quoted && after < b + len && *after == q[-1]) after++;
            while (after < b + len && *after == ' ') after++;
            if (after < b + len + 1 && *after == ':') best = quoted ? q - 1 : q;
        }
        if (best) return (wih_pos){l, (int)(best - b) + 1};
    }
    return vp;
}

static wih_err *at_where(const ld *L, const cJSON *node, bool key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!key) return wih_ydocs_err(L->d, node, "%s", msg);
    wih_pos p = key_pos(L, node);
    return wih_err_at(WIH_EXIT_INPUT, L->file, p.line, p.col, "%s", msg);
}

static const char *type_of(const cJSON *n)
{
    if (cJSON_IsObject(n)) return "a map";
    if (cJSON_IsArray(n)) return "a list";
    if (cJSON_IsString(n)) return "a string";
    if (cJSON_IsNumber(n)) return "a number";
    if (cJSON_IsBool(n)) return "a bool";
    return "null";
}

static void list_join(char *out, size_t cap, const char *const *v)
{
    out[0] = '\0';
    for (size_t i = 0; v[i]; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%s", i ? ", " : "", v[i]);
    }
}

/* obj must be a map whose keys are all in valid. */
static int check_map(const ld *L, const cJSON *obj, const char *where, const char *const *valid, wih_err **err)
{
    if (!cJSON_IsObject(obj)) {
        *err = at(L, obj, "%s: expected a map, got %s", where, type_of(obj));
        return -1;
    }
    for (const cJSON *c = obj->child; c; c = c->next) {
        bool ok = false;
        for (size_t i = 0; valid[i] && !ok; i++) ok = !strcmp(valid[i], c->string);
        if (ok) continue;
        const char *near = scn_nearest(c->string, valid);
        char all[512];
        list_join(all, sizeof all, valid);
        if (near) *err = at_key(L, c, "unknown key '%s' in %s (did you mean '%s'?)", c->string, where, near);
        else *err = at_key(L, c, "unknown key '%s' in %s (valid: %s)", c->string, where, all);
        return -1;
    }
    return 0;
}

static int need(const ld *L, const cJSON *obj, const char *k, const char *where, const cJSON **out, wih_err **err)
{
    *out = wih_json_member(obj, k);
    if (*out) return 0;
    *err = at(L, obj, "%s: missing required key '%s'", where, k);
    return -1;
}

/* A string member (absent → *out untouched). */
static int opt_str(const ld *L, const cJSON *obj, const char *k, const char *where, char **out, wih_err **err)
{
    const cJSON *v = wih_json_member(obj, k);
    if (!v) return 0;
    if (!cJSON_IsString(v) || !*v->valuestring) {
        *err = at(L, v, "%s.%s: expected a non-empty string, got %s", where, k,
                  cJSON_IsString(v) ? "an empty string" : type_of(v));
        return -1;
    }
    free(*out);
    *out = wih_strdup(v->valuestring);
    return 0;
}

/* A list of non-empty, distinct strings. */
static int str_list(const ld *L, const cJSON *v, const char *where, char ***out, size_t *n, wih_err **err)
{
    if (!cJSON_IsArray(v)) {
        *err = at(L, v, "%s: expected a list, got %s", where, type_of(v));
        return -1;
    }
    size_t cnt = (size_t)cJSON_GetArraySize(v), i = 0;
    char **r = wih_xcalloc(cnt + 1, sizeof *r);
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        const char *dup = NULL;
        for (size_t k = 0; k < i && cJSON_IsString(c); k++)
            if (!strcmp(r[k], c->valuestring)) dup = r[k];
        if (!cJSON_IsString(c) || !*c->valuestring || dup) {
            *err = dup ? at(L, c, "%s[%zu]: '%s' is listed twice", where, i, dup)
                       : at(L, c, "%s[%zu]: expected a non-empty string, got %s", where, i, type_of(c));
            for (size_t k = 0; k < i; k++) free(r[k]);
            free(r);
            return -1;
        }
        r[i] = wih_strdup(c->valuestring);
    }
    *out = r;
    *n = cnt;
    return 0;
}

static int one_of(const ld *L, const cJSON *v, const char *where, const char *const *valid, int *idx, wih_err **err)
{
    char all[256];
    list_join(all, sizeof all, valid);
    if (!cJSON_IsString(v)) {
        *err = at(L, v, "%s: expected one of %s, got %s", where, all, type_of(v));
        return -1;
    }
    for (int i = 0; valid[i]; i++)
        if (!strcmp(valid[i], v->valuestring)) {
            *idx = i;
            return 0;
        }
    const char *near = scn_nearest(v->valuestring, valid);
    if (near) *err = at(L, v, "%s: unknown value '%s' (did you mean '%s'?)", where, v->valuestring, near);
    else *err = at(L, v, "%s: unknown value '%s' (one of: %s)", where, v->valuestring, all);
    return -1;
}

/* RFC 1123 label: what a namespace / scenario name may be. */
static bool dns_label(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n > max || s[0] == '-' || s[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) return false;
    return true;
}

/* S3 bucket naming rules (the subset MinIO enforces). */
static bool bucket_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 63 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

static int timeouts(const ld *L, const cJSON *v, const char *where, scn_timeouts *t, wih_err **err)
{
    if (!v) return 0;
    if (check_map(L, v, where, k_timeouts, err) < 0) return -1;
    int64_t *slot[] = {&t->admission_ms, &t->pod_ms, &t->access_ms};
    for (int i = 0; k_timeouts[i]; i++) {
        const cJSON *d = wih_json_member(v, k_timeouts[i]);
        if (!d) continue;
        if (!cJSON_IsString(d)) {
            *err = at(L, d, "%s.%s: expected a duration with a unit (10s, 500ms, 2m), got %s", where, k_timeouts[i],
                      cJSON_IsNumber(d) ? "a bare number" : type_of(d));
            return -1;
        }
        wih_err *e = NULL;
        int64_t ms = scn_duration_parse(d->valuestring, &e);
        if (ms < 0) {
            *err = at(L, d, "%s.%s: %s", where, k_timeouts[i], e->msg);
            wih_err_free(e);
            return -1;
        }
        *slot[i] = ms;
    }
    return 0;
}

static int labels(const ld *L, const cJSON *v, const char *where, cJSON *into, wih_err **err)
{
    if (!v) return 0;
    if (!cJSON_IsObject(v)) {
        *err = at(L, v, "%s: expected a map, got %s", where, type_of(v));
        return -1;
    }
    for (const cJSON *c = v->child; c; c = c->next) {
        char *text = NULL;
        if (cJSON_IsString(c)) text = wih_strdup(c->valuestring);
        else if (cJSON_IsNumber(c) || cJSON_IsBool(c)) text = cJSON_PrintUnformatted(c);
        if (!text || !*c->string || strpbrk(c->string, "=!, ") || strpbrk(text, "=!, ")) {
            *err = !text ? at(L, c, "%s.%s: a label value is a string, got %s", where, c->string, type_of(c))
                         : at_key(L, c, "%s.%s: labels may not hold '=', '!', ',' or spaces", where, c->string);
            free(text);
            return -1;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(into, c->string);
        cJSON_AddStringToObject(into, c->string, text);
        free(text);
    }
    return 0;
}

static int profiles(const ld *L, const cJSON *v, const char *where, char ***out, size_t *n, wih_err **err)
{
    if (str_list(L, v, where, out, n, err) < 0) return -1;
    if (!*n) {
        *err = at(L, v, "%s: empty (list at least one of aws-irsa, azure-wi, gcp-fleet)", where);
        return -1;
    }
    size_t i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        int idx;
        char w[64];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (one_of(L, c, w, scn_profiles_known(), &idx, err) < 0) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------- the document */

/* Template checks at load time: every {{bucket X}} names a listed bucket,
 * and every harness template word is known. */
typedef struct tmpl_check {
    const scn_scenario *s;
} tmpl_check;

static int tmpl_check_one(void *ctx, const char *word, const char *arg, wih_buf *out, wih_err **err)
{
    const scn_scenario *s = ((tmpl_check *)ctx)->s;
    scn_vars v = {"ns", "sa", "aws-irsa", "scn", NULL, NULL, NULL};
    char *t = wih_asprintf("{{%s%s%s}}", word, *arg ? " " : "", arg);
    char *x = scn_expand(t, &v, err);
    free(t);
    if (!x) return -1;
    free(x);
    if (!strcmp(word, "bucket") || !strcmp(word, "bucketName")) {
        for (size_t i = 0; i < s->nbuckets; i++)
            if (!strcmp(s->buckets[i], arg)) return 0;
        const char *near = scn_nearest(arg, (const char *const *)s->buckets);
        *err = wih_err_new(WIH_EXIT_INPUT, "template '{{%s %s}}': '%s' is not in spec.buckets%s%s%s", word, arg, arg,
                           near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return -1;
    }
    (void)out;
    return 0;
}

static int check_templates(const ld *L, const scn_scenario *s, const cJSON *node, wih_err **err)
{
    if (!node) return 0;
    if (cJSON_IsString(node)) {
        tmpl_check tc = {s};
        wih_buf b;
        wih_buf_init(&b, 1 << 20);
        wih_err *e = NULL;
        int r = scn_tmpl_walk(node->valuestring, tmpl_check_one, &tc, &b, &e);
        wih_buf_free(&b);
        if (r < 0) {
            *err = at(L, node, "%s", e->msg);
            wih_err_free(e);
        }
        return r;
    }
    for (const cJSON *c = node->child; c; c = c->next)
        if (check_templates(L, s, c, err) < 0) return -1;
    return 0;
}

static int role_ref(const ld *L, const scn_scenario *s, const cJSON *v, const char *where, wih_err **err)
{
    for (size_t i = 0; i < s->nroles; i++)
        if (!strcmp(s->roles[i].name, v->valuestring)) return 0;
    const char **names = wih_xcalloc(s->nroles + 1, sizeof *names);
    for (size_t i = 0; i < s->nroles; i++) names[i] = s->roles[i].name;
    const char *near = scn_nearest(v->valuestring, names);
    *err = at(L, v, "%s: no role '%s' in spec.cloud.roles%s%s%s", where, v->valuestring,
              near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    free(names);
    return -1;
}

static int parse_role(const ld *L, scn_scenario *s, const cJSON *r, scn_role *out, wih_err **err)
{
    char where[160];
    snprintf(where, sizeof where, "spec.cloud.roles.%s", r->string);
    out->name = wih_strdup(r->string);
    scn_pos(s, r, &out->src);
    if (check_map(L, r, where, k_role, err) < 0) return -1;
    const cJSON *t = wih_json_member(r, "trust"), *g = wih_json_member(r, "grants");
    char w2[200];
    snprintf(w2, sizeof w2, "%s.trust", where);
    if (t && str_list(L, t, w2, &out->trust, &out->ntrust, err) < 0) return -1;
    out->grants = cJSON_CreateObject();
    if (!g) return 0;
    snprintf(w2, sizeof w2, "%s.grants", where);
    if (!cJSON_IsObject(g)) {
        *err = at(L, g, "%s: expected a map bucket → read|write|readwrite|list, got %s", w2, type_of(g));
        return -1;
    }
    for (const cJSON *c = g->child; c; c = c->next) {
        bool known = false;
        for (size_t i = 0; i < s->nbuckets && !known; i++) known = !strcmp(s->buckets[i], c->string);
        if (!known) {
            const char *near = scn_nearest(c->string, (const char *const *)s->buckets);
            *err = at_key(L, c, "%s: bucket '%s' is not in spec.buckets%s%s%s", w2, c->string,
                          near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            return -1;
        }
        char w3[260];
        snprintf(w3, sizeof w3, "%s.%s", w2, c->string);
        int idx;
        if (one_of(L, c, w3, k_grants, &idx, err) < 0) return -1;
        cJSON_AddStringToObject(out->grants, c->string, c->valuestring);
    }
    return 0;
}

static int parse_cloud(const ld *L, scn_scenario *s, const cJSON *v, wih_err **err)
{
    if (!v) return 0;
    if (check_map(L, v, "spec.cloud", k_cloud, err) < 0) return -1;
    const cJSON *roles = wih_json_member(v, "roles");
    if (!roles) return 0;
    if (!cJSON_IsObject(roles)) {
        *err = at(L, roles, "spec.cloud.roles: expected a map role name → {trust, grants}, got %s", type_of(roles));
        return -1;
    }
    s->roles = wih_xcalloc((size_t)cJSON_GetArraySize(roles) + 1, sizeof *s->roles);
    for (const cJSON *r = roles->child; r; r = r->next) {
        if (!dns_label(r->string, 63)) {
            *err = at_key(L, r, "spec.cloud.roles: role name '%s' must be lowercase letters, digits and '-'",
                          r->string);
            return -1;
        }
        if (parse_role(L, s, r, &s->roles[s->nroles++], err) < 0) return -1;
    }
    return 0;
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* values / workflow: a path (relative to the scenario's directory), an
 * inline map, or (values only) a git+ URL. */
static int parse_input(const ld *L, scn_scenario *s, const cJSON *v, const char *where, bool git_ok, scn_input *in,
                       wih_err **err)
{
    if (!v) return 0;
    scn_pos(s, v, &in->src);
    if (cJSON_IsObject(v)) {
        in->kind = SCN_SRC_INLINE;
        in->tree = (cJSON *)v; /* borrowed from the document: positions stay valid */
        return 0;
    }
    if (!cJSON_IsString(v) || !*v->valuestring) {
        *err = at(L, v, "%s: expected a file path or an inline map, got %s", where, type_of(v));
        return -1;
    }
    if (!strncmp(v->valuestring, "git+", 4)) {
        if (!git_ok) {
            *err = at(L, v, "%s: a git+ URL is accepted for values only", where);
            return -1;
        }
        in->kind = SCN_SRC_GIT;
        in->path = wih_strdup(v->valuestring);
        return 0;
    }
    in->kind = SCN_SRC_FILE;
    in->path = v->valuestring[0] == '/' ? wih_strdup(v->valuestring) : wih_path_join(s->dir, v->valuestring);
    if (!file_exists(in->path)) {
        *err = at(L, v, "%s: no such file: %s", where, in->path);
        return -1;
    }
    return 0;
}

static int parse_sa(const ld *L, scn_scenario *s, const cJSON *v, wih_err **err)
{
    s->sa_name = wih_strdup("osmo-workflow");
    if (!v) return 0;
    if (check_map(L, v, "spec.serviceAccount", k_sa, err) < 0) return -1;
    if (opt_str(L, v, "name", "spec.serviceAccount", &s->sa_name, err) < 0) return -1;
    if (!dns_label(s->sa_name, 253)) {
        *err = at(L, wih_json_member(v, "name"), "spec.serviceAccount.name: '%s' is not a valid ServiceAccount name",
                  s->sa_name);
        return -1;
    }
    const cJSON *id = wih_json_member(v, "identity");
    if (!id || cJSON_IsNull(id)) return 0;
    if (check_map(L, id, "spec.serviceAccount.identity", k_ident, err) < 0) return -1;
    const cJSON *role;
    if (need(L, id, "role", "spec.serviceAccount.identity", &role, err) < 0) return -1;
    return opt_str(L, id, "role", "spec.serviceAccount.identity", &s->sa_role, err);
}

static int parse_access(const ld *L, scn_scenario *s, const cJSON *c, size_t i, scn_access *a, wih_err **err)
{
    char where[64];
    snprintf(where, sizeof where, "spec.expect.access[%zu]", i);
    scn_pos(s, c, &a->src);
    if (check_map(L, c, where, k_access, err) < 0) return -1;
    const cJSON *url, *op, *res;
    if (need(L, c, "url", where, &url, err) < 0 || need(L, c, "op", where, &op, err) < 0 ||
        need(L, c, "result", where, &res, err) < 0)
        return -1;
    if (opt_str(L, c, "url", where, &a->url, err) < 0) return -1;
    if (check_templates(L, s, url, err) < 0) return -1;
    if (strncmp(a->url, "s3://", 5) && strncmp(a->url, "{{bucket ", 9)) {
        *err = at(L, url, "%s.url: expected s3://BUCKET/KEY or {{bucket NAME}}/KEY, got '%s'", where, a->url);
        return -1;
    }
    int idx;
    char w2[96];
    snprintf(w2, sizeof w2, "%s.op", where);
    if (one_of(L, op, w2, k_ops, &idx, err) < 0) return -1;
    a->op = (scn_op)idx;
    snprintf(w2, sizeof w2, "%s.result", where);
    if (one_of(L, res, w2, k_results, &idx, err) < 0) return -1;
    a->result = (scn_result_kind)idx;
    if (opt_str(L, c, "identity", where, &a->identity, err) < 0 || opt_str(L, c, "code", where, &a->code, err) < 0)
        return -1;
    if (a->identity) {
        snprintf(w2, sizeof w2, "%s.identity", where);
        if (role_ref(L, s, wih_json_member(c, "identity"), w2, err) < 0) return -1;
    }
    const cJSON *reason = wih_json_member(c, "reason");
    if (reason) {
        snprintf(w2, sizeof w2, "%s.reason", where);
        if (one_of(L, reason, w2, k_reasons, &idx, err) < 0) return -1;
        a->reason = wih_strdup(reason->valuestring);
    }
    return 0;
}

/* Path keys of expect.pod ("containers[name=x"): a syntax error points at
 * the key itself (assert.c validates the rest). */
static int check_path_keys(const ld *L, const cJSON *n, wih_err **err)
{
    for (const cJSON *c = n ? n->child : NULL; c; c = c->next) {
        char *why = c->string && strchr(c->string, '[') ? scn_path_key_error(c->string) : NULL;
        if (why) {
            *err = at_key(L, c, "spec.expect.pod: a key with '[' is a path: %s", why);
            free(why);
            return -1;
        }
        if (check_path_keys(L, c, err) < 0) return -1;
    }
    return 0;
}

/* expect.diagnosis: one finding id or a list; each must be a rule of
 * include/wiharness/diagnosis.h (nearest id suggested). */
static int parse_diagnosis(const ld *L, scn_scenario *s, const cJSON *dg, wih_err **err)
{
    const char *where = "spec.expect.diagnosis";
    if (cJSON_IsString(dg) && !*dg->valuestring) {
        *err = at(L, dg, "%s: expected a finding id, got an empty string", where);
        return -1;
    }
    cJSON *list = cJSON_IsString(dg) ? cJSON_CreateArray() : NULL;
    if (list) cJSON_AddItemReferenceToArray(list, (cJSON *)dg);
    const cJSON *src = list ? list : dg;
    int r = str_list(L, src, where, &s->expect.diagnosis, &s->expect.ndiagnosis, err);
    size_t nrules = 0, i = 0;
    const diag_rule *rules = diag_rules(&nrules);
    const char **ids = wih_xcalloc(nrules + 1, sizeof *ids);
    for (size_t k = 0; k < nrules; k++) ids[k] = rules[k].id;
    for (const cJSON *c = src->child; r == 0 && c; c = c->next, i++) {
        if (diag_rule_find(c->valuestring)) continue;
        const char *near = scn_nearest(c->valuestring, ids);
        char idx[24] = "";
        if (!list) snprintf(idx, sizeof idx, "[%zu]", i);
        *err = at(L, list ? dg : c, "%s%s: unknown finding id '%s'%s%s%s (ids: docs/diagnosis.md)", where, idx, c->valuestring,
                  near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        r = -1;
    }
    free(ids);
    cJSON_Delete(list);
    return r;
}

static int parse_expect(const ld *L, scn_scenario *s, const cJSON *v, wih_err **err)
{
    if (!v) return 0;
    if (check_map(L, v, "spec.expect", k_expect, err) < 0) return -1;
    const cJSON *pod = wih_json_member(v, "pod"), *acc = wih_json_member(v, "access"),
                *dg = wih_json_member(v, "diagnosis");
    if (pod) {
        if (!cJSON_IsObject(pod)) {
            *err = at(L, pod, "spec.expect.pod: expected a map (a partial pod), got %s", type_of(pod));
            return -1;
        }
        if (check_path_keys(L, pod, err) < 0 || scn_expect_pod_check(s, pod, err) < 0 ||
            check_templates(L, s, pod, err) < 0)
            return -1;
        s->expect.pod = (cJSON *)pod; /* borrowed from the document: mismatches name its lines */
    }
    if (acc) {
        if (!cJSON_IsArray(acc)) {
            *err = at(L, acc, "spec.expect.access: expected a list, got %s", type_of(acc));
            return -1;
        }
        s->expect.access = wih_xcalloc((size_t)cJSON_GetArraySize(acc) + 1, sizeof *s->expect.access);
        size_t i = 0;
        for (const cJSON *c = acc->child; c; c = c->next, i++) {
            s->expect.naccess++;
            if (parse_access(L, s, c, i, &s->expect.access[i], err) < 0) return -1;
        }
    }
    if (dg) return parse_diagnosis(L, s, dg, err);
    return 0;
}

static int parse_metadata(const ld *L, scn_scenario *s, const cJSON *root, const suite_defaults *def, wih_err **err)
{
    const cJSON *md;
    if (need(L, root, "metadata", "scenario", &md, err) < 0) return -1;
    if (check_map(L, md, "metadata", k_meta, err) < 0) return -1;
    const cJSON *name;
    if (need(L, md, "name", "metadata", &name, err) < 0) return -1;
    if (opt_str(L, md, "name", "metadata", &s->name, err) < 0) return -1;
    if (!dns_label(s->name, 40)) {
        *err = at(L, name, "metadata.name: '%s' must be 1-40 lowercase letters, digits and '-' (it becomes part of a namespace)",
                  s->name);
        return -1;
    }
    if (opt_str(L, md, "description", "metadata", &s->description, err) < 0) return -1;
    s->labels = def && def->labels ? cJSON_Duplicate(def->labels, 1) : cJSON_CreateObject();
    return labels(L, wih_json_member(md, "labels"), "metadata.labels", s->labels, err);
}

static int parse_header(const ld *L, const cJSON *root, const char *kind, wih_err **err)
{
    if (!cJSON_IsObject(root)) {
        *err = at(L, root, "expected a %s (a map with apiVersion, kind, metadata, spec), got %s", kind, type_of(root));
        return -1;
    }
    if (check_map(L, root, kind, k_top, err) < 0) return -1;
    const cJSON *av, *k;
    if (need(L, root, "apiVersion", kind, &av, err) < 0 || need(L, root, "kind", kind, &k, err) < 0) return -1;
    if (!cJSON_IsString(av) || strcmp(av->valuestring, SCN_API_VERSION)) {
        *err = at(L, av, "apiVersion: expected %s", SCN_API_VERSION);
        return -1;
    }
    if (!cJSON_IsString(k) || strcmp(k->valuestring, kind)) {
        bool suite = cJSON_IsString(k) && !strcmp(k->valuestring, "Suite");
        *err = suite ? at(L, k, "kind: a Suite is read from suite.yaml only; this file holds scenarios")
                     : at(L, k, "kind: expected %s", kind);
        return -1;
    }
    return 0;
}

static int parse_spec(const ld *L, scn_scenario *s, const cJSON *spec, const suite_defaults *def, wih_err **err)
{
    if (check_map(L, spec, "spec", k_spec, err) < 0) return -1;
    const cJSON *v;
    if ((v = wih_json_member(spec, "profiles"))) {
        if (profiles(L, v, "spec.profiles", &s->profiles, &s->nprofiles, err) < 0) return -1;
    } else {
        const char *const *src = def && def->profiles ? (const char *const *)def->profiles : scn_profiles_known();
        size_t n = 0;
        while (src[n]) n++;
        s->profiles = wih_xcalloc(n + 1, sizeof *s->profiles);
        for (size_t i = 0; i < n; i++) s->profiles[i] = wih_strdup(src[i]);
        s->nprofiles = n;
    }
    if (opt_str(L, spec, "namespace", "spec", &s->namespace_, err) < 0) return -1;
    if (s->namespace_ && !dns_label(s->namespace_, 63)) {
        *err = at(L, wih_json_member(spec, "namespace"), "spec.namespace: '%s' is not a valid namespace name",
                  s->namespace_);
        return -1;
    }
    if ((v = wih_json_member(spec, "buckets"))) {
        if (str_list(L, v, "spec.buckets", &s->buckets, &s->nbuckets, err) < 0) return -1;
        size_t i = 0;
        for (const cJSON *c = v->child; c; c = c->next, i++)
            if (!bucket_name_ok(c->valuestring)) {
                *err = at(L, c, "spec.buckets[%zu]: '%s' is not a valid bucket name (3-63 of a-z 0-9 . -)", i,
                          c->valuestring);
                return -1;
            }
    } else {
        s->buckets = wih_xcalloc(1, sizeof *s->buckets);
    }
    if (parse_sa(L, s, wih_json_member(spec, "serviceAccount"), err) < 0 ||
        parse_cloud(L, s, wih_json_member(spec, "cloud"), err) < 0)
        return -1;
    if (s->sa_role &&
        role_ref(L, s, wih_json_member(wih_json_member(wih_json_member(spec, "serviceAccount"), "identity"), "role"),
                 "spec.serviceAccount.identity.role", err) < 0)
        return -1;
    for (size_t i = 0; i < s->nroles; i++)
        if (check_templates(L, s,
                            wih_json_member(wih_json_member(wih_json_member(wih_json_member(spec, "cloud"), "roles"),
                                                            s->roles[i].name),
                                            "trust"),
                            err) < 0)
            return -1;
    s->pool = wih_strdup("default");
    if (opt_str(L, spec, "pool", "spec", &s->pool, err) < 0) return -1;
    if (parse_input(L, s, wih_json_member(spec, "values"), "spec.values", true, &s->values, err) < 0 ||
        parse_input(L, s, wih_json_member(spec, "workflow"), "spec.workflow", false, &s->workflow, err) < 0)
        return -1;
    if (timeouts(L, wih_json_member(spec, "timeouts"), "spec.timeouts", &s->timeouts, err) < 0) return -1;
    return parse_expect(L, s, wih_json_member(spec, "expect"), err);
}

static scn_scenario *parse_doc(const ld *L, const cJSON *root, const suite_defaults *def, wih_err **err)
{
    scn_scenario *s = wih_xcalloc(1, sizeof *s);
    s->file = wih_strdup(L->file);
    char *tmp = wih_strdup(L->file);
    s->dir = wih_strdup(dirname(tmp));
    free(tmp);
    s->docs_ = L->d; /* for scn_pos during parsing; refs set by the caller */
    scn_pos(s, root, &s->src);
    s->timeouts = def ? def->t
                      : (scn_timeouts){SCN_DEFAULT_ADMISSION_MS, SCN_DEFAULT_POD_MS, SCN_DEFAULT_ACCESS_MS};
    const cJSON *spec;
    if (parse_header(L, root, "Scenario", err) < 0 || parse_metadata(L, s, root, def, err) < 0 ||
        need(L, root, "spec", "scenario", &spec, err) < 0 || parse_spec(L, s, spec, def, err) < 0) {
        s->docs_ = NULL;
        scn_scenario_free(s);
        return NULL;
    }
    return s;
}

/* ----------------------------------------------------------------- suites */

static void defaults_free(suite_defaults *d)
{
    for (size_t i = 0; i < d->nprofiles; i++) free(d->profiles[i]);
    free(d->profiles);
    cJSON_Delete(d->labels);
}

static void defaults_copy(suite_defaults *to, const suite_defaults *from)
{
    *to = (suite_defaults){0};
    to->t = from->t;
    to->labels = from->labels ? cJSON_Duplicate(from->labels, 1) : NULL;
    if (from->profiles) {
        to->profiles = wih_xcalloc(from->nprofiles + 1, sizeof *to->profiles);
        for (size_t i = 0; i < from->nprofiles; i++) to->profiles[i] = wih_strdup(from->profiles[i]);
        to->nprofiles = from->nprofiles;
    }
}

/* Layer one suite.yaml (text) over d. */
static int suite_apply(const char *file, const char *text, suite_defaults *d, wih_err **err)
{
    wih_ydocs *docs = wih_yaml_load_string(file, text, strlen(text), err);
    if (!docs) return -1;
    ld L = {file, text, docs};
    int r = -1;
    const cJSON *root = wih_ydocs_root(docs, 0);
    if (wih_ydocs_count(docs) != 1) {
        *err = wih_err_at(WIH_EXIT_INPUT, file, 1, 1, "suite.yaml: expected exactly one document, found %zu",
                          wih_ydocs_count(docs));
        goto out;
    }
    if (parse_header(&L, root, "Suite", err) < 0) goto out;
    const cJSON *md = wih_json_member(root, "metadata"), *spec = wih_json_member(root, "spec");
    if (md) {
        if (check_map(&L, md, "metadata", k_meta, err) < 0) goto out;
        if (!d->labels) d->labels = cJSON_CreateObject();
        if (labels(&L, wih_json_member(md, "labels"), "metadata.labels", d->labels, err) < 0) goto out;
    }
    if (spec) {
        if (check_map(&L, spec, "spec", k_suite_spec, err) < 0) goto out;
        const cJSON *p = wih_json_member(spec, "profiles");
        if (p) {
            char **np = NULL;
            size_t nn = 0;
            if (profiles(&L, p, "spec.profiles", &np, &nn, err) < 0) goto out;
            for (size_t i = 0; i < d->nprofiles; i++) free(d->profiles[i]);
            free(d->profiles);
            d->profiles = np;
            d->nprofiles = nn;
        }
        if (timeouts(&L, wih_json_member(spec, "timeouts"), "spec.timeouts", &d->t, err) < 0) goto out;
    }
    r = 0;
out:
    wih_ydocs_free(docs);
    return r;
}

static int suite_apply_file(const char *dir, suite_defaults *d, wih_err **err)
{
    char *p = wih_path_join(dir, "suite.yaml");
    int r = 0;
    if (file_exists(p)) {
        char *text = wih_read_file(p, WIH_YAML_MAX_BYTES, NULL, err);
        r = text ? suite_apply(p, text, d, err) : -1;
        free(text);
    }
    free(p);
    return r;
}

/* ------------------------------------------------------------------ lists */

static void list_push(scn_list *l, scn_scenario *s)
{
    l->items = wih_xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n++] = s;
}

/* Walking a directory, a YAML file is a scenario file when its first
 * document says so (apiVersion wiharness/..., or kind Scenario); anything
 * else there (values files, workflow specs) is data the scenarios refer to. */
static bool looks_like_scenario(const wih_ydocs *docs)
{
    for (size_t i = 0; i < wih_ydocs_count(docs); i++) {
        const cJSON *root = wih_ydocs_root(docs, i);
        if (cJSON_IsNull(root)) continue;
        const cJSON *av = wih_json_member(root, "apiVersion"), *k = wih_json_member(root, "kind");
        return (cJSON_IsString(av) && !strncmp(av->valuestring, "wiharness/", 10)) ||
               (cJSON_IsString(k) && !strcmp(k->valuestring, "Scenario"));
    }
    return false;
}

/* Every scenario document of one file's text. walking: skip a file that is
 * not a scenario file (see looks_like_scenario). */
static int load_text(const char *file, const char *text, const suite_defaults *def, bool walking, scn_list *l,
                     wih_err **err)
{
    wih_ydocs *docs = wih_yaml_load_string(file, text, strlen(text), err);
    if (!docs) return -1;
    if (walking && !looks_like_scenario(docs)) {
        wih_debug("%s: not a scenario file (no apiVersion wiharness/v1), skipped", file);
        wih_ydocs_free(docs);
        return 0;
    }
    ld L = {file, text, docs};
    int *refs = wih_xcalloc(1, sizeof *refs);
    *refs = 1; /* ours until the end of this function */
    int r = 0;
    size_t found = 0;
    for (size_t i = 0; i < wih_ydocs_count(docs) && r == 0; i++) {
        const cJSON *root = wih_ydocs_root(docs, i);
        if (cJSON_IsNull(root)) continue;
        found++;
        scn_scenario *s = parse_doc(&L, root, def, err);
        if (!s) {
            r = -1;
            break;
        }
        s->docs_refs_ = refs;
        (*refs)++;
        list_push(l, s);
    }
    if (r == 0 && !found) {
        *err = wih_err_at(WIH_EXIT_INPUT, file, 1, 1, "no scenario in this file (an empty YAML document)");
        r = -1;
    }
    if (--*refs == 0) {
        wih_ydocs_free(docs);
        free(refs);
    }
    return r;
}

static int load_file(const char *path, const suite_defaults *def, bool walking, scn_list *l, wih_err **err)
{
    char *text = wih_read_file(path, WIH_YAML_MAX_BYTES, NULL, err);
    if (!text) {
        if (*err) (*err)->kind = WIH_EXIT_INPUT;
        return -1;
    }
    int r = load_text(path, text, def, walking, l, err);
    free(text);
    return r;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

static int load_dir(const char *dir, const suite_defaults *parent, scn_list *l, wih_err **err)
{
    suite_defaults d;
    defaults_copy(&d, parent);
    int r = suite_apply_file(dir, &d, err);
    DIR *dh = r == 0 ? opendir(dir) : NULL;
    if (r == 0 && !dh) {
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: cannot read the directory", dir);
        r = -1;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; dh && (e = readdir(dh));) {
        if (e->d_name[0] == '.' || e->d_name[0] == '_' || !strcmp(e->d_name, "suite.yaml")) continue;
        names = wih_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = wih_strdup(e->d_name);
    }
    if (dh) closedir(dh);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *p = wih_path_join(dir, names[i]);
        struct stat st;
        if (r == 0 && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) r = load_dir(p, &d, l, err);
            else if (S_ISREG(st.st_mode) && yaml_name(names[i])) r = load_file(p, &d, true, l, err);
        }
        free(p);
        free(names[i]);
    }
    free(names);
    defaults_free(&d);
    return r;
}

static void base_defaults(suite_defaults *d)
{
    *d = (suite_defaults){0};
    d->t = (scn_timeouts){SCN_DEFAULT_ADMISSION_MS, SCN_DEFAULT_POD_MS, SCN_DEFAULT_ACCESS_MS};
}

static int load_one_path(const char *path, scn_list *l, wih_err **err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: no such file or directory", path);
        return -1;
    }
    suite_defaults d;
    base_defaults(&d);
    int r;
    if (S_ISDIR(st.st_mode)) {
        r = load_dir(path, &d, l, err);
    } else {
        /* a single file gets the defaults of its own directory's suite.yaml */
        char *tmp = wih_strdup(path);
        r = suite_apply_file(dirname(tmp), &d, err);
        free(tmp);
        if (r == 0) r = load_file(path, &d, false, l, err);
    }
    defaults_free(&d);
    return r;
}

/* Names are unique across one load (they name namespaces and reports). */
static int check_unique(const scn_list *l, wih_err **err)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < i; k++)
            if (!strcmp(l->items[i]->name, l->items[k]->name)) {
                const scn_scenario *a = l->items[k], *b = l->items[i];
                *err = wih_err_at(WIH_EXIT_INPUT, b->file, b->src.line, b->src.col,
                                  "scenario name '%s' is also used at %s:%d:%d", b->name, a->file, a->src.line,
                                  a->src.col);
                return -1;
            }
    return 0;
}

scn_list *scn_load_paths(const char *const *paths, size_t n, wih_err **err)
{
    scn_list *l = wih_xcalloc(1, sizeof *l);
    for (size_t i = 0; i < n; i++)
        if (load_one_path(paths[i], l, err) < 0) {
            scn_list_free(l);
            return NULL;
        }
    if (check_unique(l, err) < 0) {
        scn_list_free(l);
        return NULL;
    }
    return l;
}

scn_list *scn_load_path(const char *path, wih_err **err)
{
    return scn_load_paths(&path, 1, err);
}

scn_list *scn_load_string(const char *name, const char *text, const char *suite_yaml, wih_err **err)
{
    suite_defaults d;
    base_defaults(&d);
    scn_list *l = wih_xcalloc(1, sizeof *l);
    int r = suite_yaml ? suite_apply("suite.yaml", suite_yaml, &d, err) : 0;
    if (r == 0) r = load_text(name, text, &d, false, l, err);
    if (r == 0) r = check_unique(l, err);
    defaults_free(&d);
    if (r < 0) {
        scn_list_free(l);
        return NULL;
    }
    return l;
}
