/* The scenario model: names of enums, durations, freeing, positions,
 * selectors, the profile matrix and harness templates. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scn_internal.h"
#include "wiharness/core.h"

static const char *const k_profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet", NULL};
const char *const *scn_profiles_known(void) { return k_profiles; }

const char *scn_op_name(scn_op op)
{
    static const char *const n[] = {"read", "write", "list", "delete"};
    return (unsigned)op < 4 ? n[op] : "?";
}

const char *scn_result_name(scn_result_kind r)
{
    static const char *const n[] = {"allowed", "denied", "error"};
    return (unsigned)r < 3 ? n[r] : "?";
}

const char *scn_nearest(const char *given, const char *const *valid)
{
    const char *near = wih_nearest(given, valid);
    if (!near) return NULL;
    bool prefix = strlen(given) >= 3 && !strncmp(near, given, strlen(given));
    return prefix || wih_edit_distance(given, near) <= 3 ? near : NULL;
}

/* ---------------------------------------------------------------- durations */

int64_t scn_duration_parse(const char *s, wih_err **err)
{
    static const struct { const char *u; int64_t ms; } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    const char *p = s;
    int64_t total = 0;
    bool any = false;
    while (p && *p) {
        if (!isdigit((unsigned char)*p)) break;
        char *end;
        double v = strtod(p, &end);
        size_t ul = 0;
        int64_t mul = 0;
        for (size_t i = 0; i < 4; i++) {
            size_t l = strlen(units[i].u);
            if (!strncmp(end, units[i].u, l) && l > ul) {
                ul = l;
                mul = units[i].ms;
            }
        }
        if (!ul) {
            if (err)
                *err = wih_err_new(WIH_EXIT_INPUT, "duration '%s': %s", s,
                                   *end ? "unknown unit (use ms, s, m or h)" : "a number needs a unit (10s, 500ms, 2m)");
            return -1;
        }
        total += (int64_t)(v * (double)mul);
        p = end + ul;
        any = true;
    }
    if (!any || (p && *p)) {
        if (err) *err = wih_err_new(WIH_EXIT_INPUT, "duration '%s': expected e.g. 10s, 500ms, 2m, 1m30s", s ? s : "");
        return -1;
    }
    if (total <= 0 || total > 24 * 3600000LL) {
        if (err) *err = wih_err_new(WIH_EXIT_INPUT, "duration '%s': must be more than 0 and at most 24h", s);
        return -1;
    }
    return total;
}

/* -------------------------------------------------------------------- free */

static void strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void scn_scenario_free(scn_scenario *s)
{
    if (!s) return;
    free(s->name);
    free(s->description);
    cJSON_Delete(s->labels);
    strv_free(s->profiles, s->nprofiles);
    free(s->namespace_);
    free(s->sa_name);
    free(s->sa_role);
    for (size_t i = 0; i < s->nroles; i++) {
        free(s->roles[i].name);
        strv_free(s->roles[i].trust, s->roles[i].ntrust);
        cJSON_Delete(s->roles[i].grants);
    }
    free(s->roles);
    strv_free(s->buckets, s->nbuckets);
    free(s->values.path);
    free(s->pool);
    free(s->workflow.path);
    for (size_t i = 0; i < s->expect.naccess; i++) {
        scn_access *a = &s->expect.access[i];
        free(a->url);
        free(a->identity);
        free(a->reason);
        free(a->code);
    }
    free(s->expect.access);
    strv_free(s->expect.diagnosis, s->expect.ndiagnosis);
    free(s->file);
    free(s->dir);
    if (s->docs_refs_ && --*s->docs_refs_ == 0) {
        wih_ydocs_free(s->docs_);
        free(s->docs_refs_);
    }
    free(s);
}

void scn_list_free(scn_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) scn_scenario_free(l->items[i]);
    free(l->items);
    free(l);
}

/* --------------------------------------------------------------- positions */

const wih_ydocs *scn_docs(const scn_scenario *s)
{
    return s ? s->docs_ : NULL;
}

bool scn_pos(const scn_scenario *s, const cJSON *node, scn_src *out)
{
    wih_pos p;
    if (!s || !s->docs_ || !wih_ydocs_pos(s->docs_, node, &p)) return false;
    if (out) *out = (scn_src){s->file, p.line, p.col};
    return true;
}

wih_err *scn_err_at(const scn_scenario *s, const cJSON *node, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    scn_src p = {0};
    scn_pos(s, node, &p);
    return wih_err_at(WIH_EXIT_INPUT, s ? s->file : NULL, p.line, p.col, "%s", msg);
}

/* --------------------------------------------------------------- selectors */

typedef struct sel_term {
    char *key, *value; /* value NULL: existence */
    bool negate;
} sel_term;
struct scn_selector {
    sel_term *t;
    size_t n;
};

void scn_selector_free(scn_selector *sel)
{
    if (!sel) return;
    for (size_t i = 0; i < sel->n; i++) {
        free(sel->t[i].key);
        free(sel->t[i].value);
    }
    free(sel->t);
    free(sel);
}

static bool label_ok(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("-_./", *s)) return false;
    return true;
}

static int sel_term_parse(const char *x, sel_term *t, wih_err **err)
{
    const char *ne = strstr(x, "!="), *eq = strchr(x, '=');
    if (ne) {
        t->key = wih_xstrndup(x, (size_t)(ne - x));
        t->value = wih_strdup(ne + 2);
        t->negate = true;
    } else if (eq) {
        size_t kl = (size_t)(eq - x);
        t->key = wih_xstrndup(x, kl);
        t->value = wih_strdup(eq[1] == '=' ? eq + 2 : eq + 1);
    } else {
        t->negate = x[0] == '!';
        t->key = wih_strdup(x + t->negate);
    }
    if (!label_ok(t->key) || (t->value && strpbrk(t->value, "=! ,"))) {
        if (err)
            *err = wih_err_new(WIH_EXIT_INPUT,
                               "label selector '%s': expected key=value, key!=value, key or !key", x);
        return -1;
    }
    return 0;
}

scn_selector *scn_selector_parse(const char *const *exprs, size_t n, wih_err **err)
{
    scn_selector *sel = wih_xcalloc(1, sizeof *sel);
    for (size_t i = 0; i < n; i++) {
        /* "-l a=b,c=d" is the same as "-l a=b -l c=d" (kubectl's spelling) */
        char *copy = wih_strdup(exprs[i]), *save = NULL;
        for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
            sel->t = wih_xrealloc(sel->t, (sel->n + 1) * sizeof *sel->t);
            sel->t[sel->n] = (sel_term){0};
            if (sel_term_parse(part, &sel->t[sel->n++], err) < 0) {
                free(copy);
                scn_selector_free(sel);
                return NULL;
            }
        }
        free(copy);
        if (!exprs[i][0]) {
            if (err) *err = wih_err_new(WIH_EXIT_INPUT, "label selector '': expected key=value");
            scn_selector_free(sel);
            return NULL;
        }
    }
    return sel;
}

static const char *label_of(const scn_scenario *s, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->labels, key);
    if (cJSON_IsString(v)) return v->valuestring;
    if (!strcmp(key, "name")) return s->name;
    return NULL;
}

bool scn_selector_match(const scn_selector *sel, const scn_scenario *s)
{
    if (!sel) return true;
    for (size_t i = 0; i < sel->n; i++) {
        const sel_term *t = &sel->t[i];
        const char *v = label_of(s, t->key);
        bool ok = t->value ? (v && !strcmp(v, t->value)) : v != NULL;
        if (t->negate) ok = !ok;
        if (!ok) return false;
    }
    return true;
}

/* ------------------------------------------------------------------ matrix */

void scn_matrix_free(scn_matrix *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->cases[i].id);
    free(m->cases);
    free(m);
}

static bool in_list(const char *s, const char *const *l)
{
    for (size_t i = 0; l[i]; i++)
        if (!strcmp(l[i], s)) return true;
    return false;
}

scn_matrix *scn_matrix_build(const scn_list *l, const scn_selector *sel, const char *const *only, wih_err **err)
{
    for (size_t i = 0; only && only[i]; i++)
        if (!in_list(only[i], k_profiles)) {
            const char *near = scn_nearest(only[i], k_profiles);
            if (err)
                *err = wih_err_new(WIH_EXIT_INPUT, "unknown profile '%s'%s%s%s (profiles: aws-irsa, azure-wi, gcp-fleet)",
                                   only[i], near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
            return NULL;
        }
    scn_matrix *m = wih_xcalloc(1, sizeof *m);
    size_t cap = 0;
    for (size_t i = 0; i < l->n; i++) {
        const scn_scenario *s = l->items[i];
        if (!scn_selector_match(sel, s)) continue;
        for (size_t p = 0; p < s->nprofiles; p++) {
            if (only && !in_list(s->profiles[p], only)) continue;
            if (m->n == cap) {
                cap = cap ? cap * 2 : 16;
                m->cases = wih_xrealloc(m->cases, cap * sizeof *m->cases);
            }
            m->cases[m->n++] = (scn_case){s, s->profiles[p], wih_asprintf("%s/%s", s->name, s->profiles[p])};
        }
    }
    return m;
}

/* --------------------------------------------------------------- templates */

static const char *const k_tmpl_words[] = {"bucket", "bucketName", "namespace", "serviceAccount", "profile",
                                           "scenario", NULL};

/* "{{ word arg }}" → word/arg (trimmed); false when it is not a harness
 * template (OSMO's {{USER_CPU}}, {{output}}, {{input:0}}). A near miss of a
 * harness word ({{buckets x}}) is returned too, as an unknown word. */
static bool tmpl_split(const char *in, size_t len, char *word, size_t wcap, char *arg, size_t acap)
{
    while (len && isspace((unsigned char)*in)) in++, len--;
    while (len && isspace((unsigned char)in[len - 1])) len--;
    size_t w = 0;
    while (w < len && !isspace((unsigned char)in[w])) w++;
    if (!w || w >= wcap) return false;
    memcpy(word, in, w);
    word[w] = '\0';
    const char *a = in + w;
    size_t al = len - w;
    while (al && isspace((unsigned char)*a)) a++, al--;
    if (al >= acap) return false;
    memcpy(arg, a, al);
    arg[al] = '\0';
    if (in_list(word, k_tmpl_words)) return true;
    const char *near = scn_nearest(word, k_tmpl_words);
    return near && islower((unsigned char)word[0]) && !strchr(word, ':') && strcmp(word, "output");
}

int scn_tmpl_walk(const char *s, scn_tmpl_fn fn, void *ctx, wih_buf *out, wih_err **err)
{
    const char *p = s;
    while (*p) {
        const char *o = strstr(p, "{{");
        const char *c = o ? strstr(o + 2, "}}") : NULL;
        if (!o || !c) {
            wih_buf_adds(out, p);
            break;
        }
        char word[64], arg[256];
        wih_buf_add(out, p, (size_t)(o - p));
        if (tmpl_split(o + 2, (size_t)(c - o - 2), word, sizeof word, arg, sizeof arg)) {
            if (fn(ctx, word, arg, out, err) < 0) return -1;
        } else {
            wih_buf_add(out, o, (size_t)(c + 2 - o));
        }
        p = c + 2;
    }
    return 0;
}

static int expand_one(void *ctx, const char *word, const char *arg, wih_buf *out, wih_err **err)
{
    const scn_vars *v = ctx;
    const char *val = NULL;
    bool needs_arg = !strcmp(word, "bucket") || !strcmp(word, "bucketName");
    const char *problem = NULL, *near = NULL;
    if (!in_list(word, k_tmpl_words)) {
        problem = "unknown template";
        near = scn_nearest(word, k_tmpl_words);
    } else if (needs_arg && !*arg) {
        problem = "needs a bucket name";
    } else if (!needs_arg && *arg) {
        problem = "takes no argument";
    }
    if (problem) {
        if (err)
            *err = wih_err_new(WIH_EXIT_INPUT, "template '{{%s%s%s}}': %s%s%s%s", word, *arg ? " " : "", arg, problem,
                               near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
        return -1;
    }
    if (needs_arg) {
        if (!strcmp(word, "bucket")) wih_buf_adds(out, "s3://");
        char *real = v && v->bucket_of ? v->bucket_of(v->bucket_ctx, arg) : NULL;
        if (v && v->bucket_of && !real) {
            if (err) *err = wih_err_new(WIH_EXIT_INPUT, "template '{{%s %s}}': the real map names no bucket %s", word, arg, arg);
            return -1;
        }
        if (real) wih_buf_adds(out, real);
        else wih_buf_addf(out, "%s%s", v && v->bucket_prefix ? v->bucket_prefix : "", arg);
        free(real);
        return 0;
    }
    if (!strcmp(word, "namespace")) val = v ? v->namespace_ : NULL;
    else if (!strcmp(word, "serviceAccount")) val = v ? v->service_account : NULL;
    else if (!strcmp(word, "profile")) val = v ? v->profile : NULL;
    else val = v ? v->scenario : NULL;
    if (!val) {
        if (err) *err = wih_err_new(WIH_EXIT_INPUT, "template '{{%s}}': no value for it here", word);
        return -1;
    }
    wih_buf_adds(out, val);
    return 0;
}

char *scn_expand(const char *s, const scn_vars *v, wih_err **err)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    wih_buf_adds(&b, "");
    if (scn_tmpl_walk(s, expand_one, (void *)v, &b, err) < 0) {
        wih_buf_free(&b);
        return NULL;
    }
    return wih_buf_take(&b);
}

int scn_expand_tree(cJSON *tree, const scn_vars *v, wih_err **err)
{
    if (!tree) return 0;
    if (cJSON_IsString(tree) && strstr(tree->valuestring, "{{")) {
        char *x = scn_expand(tree->valuestring, v, err);
        if (!x) return -1;
        cJSON_free(tree->valuestring);
        tree->valuestring = x;
        return 0;
    }
    for (cJSON *c = tree->child; c; c = c->next)
        if (scn_expand_tree(c, v, err) < 0) return -1;
    return 0;
}

/* -------------------------------------------------------------------- dump */

static cJSON *strv_json(char *const *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *input_json(const scn_input *in)
{
    static const char *const kinds[] = {"none", "file", "inline", "git"};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", kinds[in->kind]);
    if (in->path) cJSON_AddStringToObject(o, "path", in->path);
    if (in->tree) cJSON_AddItemToObject(o, "tree", cJSON_Duplicate(in->tree, 1));
    return o;
}

static void add_opt_str(cJSON *o, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(o, k, v);
}

static cJSON *access_json(const scn_access *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", scn_op_name(a->op));
    cJSON_AddStringToObject(o, "url", a->url);
    cJSON_AddStringToObject(o, "result", scn_result_name(a->result));
    add_opt_str(o, "identity", a->identity);
    add_opt_str(o, "reason", a->reason);
    add_opt_str(o, "code", a->code);
    cJSON_AddNumberToObject(o, "line", a->src.line);
    return o;
}

cJSON *scn_scenario_json(const scn_scenario *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", s->name);
    add_opt_str(o, "description", s->description);
    cJSON_AddItemToObject(o, "labels", cJSON_Duplicate(s->labels, 1));
    cJSON_AddItemToObject(o, "profiles", strv_json(s->profiles, s->nprofiles));
    add_opt_str(o, "namespace", s->namespace_);
    cJSON *sa = cJSON_AddObjectToObject(o, "serviceAccount");
    cJSON_AddStringToObject(sa, "name", s->sa_name);
    add_opt_str(sa, "role", s->sa_role);
    cJSON *roles = cJSON_AddObjectToObject(o, "roles");
    for (size_t i = 0; i < s->nroles; i++) {
        cJSON *r = cJSON_AddObjectToObject(roles, s->roles[i].name);
        cJSON_AddItemToObject(r, "trust", strv_json(s->roles[i].trust, s->roles[i].ntrust));
        cJSON_AddItemToObject(r, "grants", cJSON_Duplicate(s->roles[i].grants, 1));
    }
    cJSON_AddItemToObject(o, "buckets", strv_json(s->buckets, s->nbuckets));
    cJSON_AddItemToObject(o, "values", input_json(&s->values));
    cJSON_AddStringToObject(o, "pool", s->pool);
    cJSON_AddItemToObject(o, "workflow", input_json(&s->workflow));
    cJSON *t = cJSON_AddObjectToObject(o, "timeouts_ms");
    cJSON_AddNumberToObject(t, "admission", (double)s->timeouts.admission_ms);
    cJSON_AddNumberToObject(t, "pod", (double)s->timeouts.pod_ms);
    cJSON_AddNumberToObject(t, "access", (double)s->timeouts.access_ms);
    cJSON *ex = cJSON_AddObjectToObject(o, "expect");
    if (s->expect.pod) cJSON_AddItemToObject(ex, "pod", cJSON_Duplicate(s->expect.pod, 1));
    cJSON *acc = cJSON_AddArrayToObject(ex, "access");
    for (size_t i = 0; i < s->expect.naccess; i++) cJSON_AddItemToArray(acc, access_json(&s->expect.access[i]));
    cJSON_AddItemToObject(ex, "diagnosis", strv_json(s->expect.diagnosis, s->expect.ndiagnosis));
    cJSON_AddStringToObject(o, "file", s->file);
    cJSON_AddNumberToObject(o, "line", s->src.line);
    return o;
}
