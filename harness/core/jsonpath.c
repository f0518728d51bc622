/* jsonpath — parse, select, set and diff; see include/wiharness/jsonpath.h. */
#include "wiharness/jsonpath.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ parse */

static bool name_char(unsigned char c)
{
    return c && !strchr(".[]=\"'", c) && !isspace(c);
}

static wih_err *perr(const char *expr, size_t at, const char *what)
{
    return wih_err_new(WIH_EXIT_INPUT, "path '%s': col %zu: %s", expr, at + 1, what);
}

/* A quoted string starting at s[*i] (the quote); *i ends after the closing quote. */
static char *parse_quoted(const char *s, size_t *i, const char *expr, wih_err **err)
{
    char q = s[*i];
    size_t start = *i;
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    wih_buf_adds(&b, "");
    for ((*i)++; s[*i] && s[*i] != q; (*i)++) {
        if (s[*i] == '\\' && (s[*i + 1] == q || s[*i + 1] == '\\')) (*i)++;
        wih_buf_add(&b, s + *i, 1);
    }
    if (s[*i] != q) {
        wih_buf_free(&b);
        if (err) *err = perr(expr, start, "unclosed quote");
        return NULL;
    }
    (*i)++;
    return wih_buf_take(&b);
}

static void skip_sp(const char *s, size_t *i)
{
    while (s[*i] == ' ' || s[*i] == '\t') (*i)++;
}

/* A SELECT value or key without quotes: up to stop chars, trimmed. */
static char *parse_bare(const char *s, size_t *i, const char *stops)
{
    size_t st = *i;
    while (s[*i] && !strchr(stops, s[*i])) (*i)++;
    size_t en = *i;
    while (en > st && isspace((unsigned char)s[en - 1])) en--;
    return wih_xstrndup(s + st, en - st);
}

static int parse_index(const char *s, size_t *i, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s + *i, &end, 10);
    if (errno || end == s + *i) return -1;
    *i = (size_t)(end - s);
    *out = v;
    return 0;
}

/* The inside of "[...]" starting after '['. */
static int parse_bracket(const char *s, size_t *i, wih_jp_step *st, const char *expr, wih_err **err)
{
    size_t open = *i - 1;
    skip_sp(s, i);
    if (s[*i] == '*') {
        st->kind = WIH_JP_WILDCARD;
        (*i)++;
    } else if (isdigit((unsigned char)s[*i]) || s[*i] == '-') {
        st->kind = WIH_JP_INDEX;
        if (parse_index(s, i, &st->index) < 0) {
            if (err) *err = perr(expr, *i, "bad index");
            return -1;
        }
    } else {
        bool quoted = s[*i] == '"' || s[*i] == '\'';
        char *k = quoted ? parse_quoted(s, i, expr, err) : parse_bare(s, i, "=]");
        if (!k) return -1;
        skip_sp(s, i);
        if (!quoted && !*k && s[*i] == ']') {
            free(k);
            if (err) *err = perr(expr, *i, "empty '[]'");
            return -1;
        }
        if (s[*i] == '=') {
            (*i)++;
            if (s[*i] == '=') (*i)++; /* tolerate == */
            skip_sp(s, i);
            char *v = (s[*i] == '"' || s[*i] == '\'') ? parse_quoted(s, i, expr, err) : parse_bare(s, i, "]");
            if (!v) {
                free(k);
                return -1;
            }
            st->kind = WIH_JP_SELECT;
            st->value = v;
        } else {
            st->kind = WIH_JP_KEY;
        }
        st->key = k;
        if (!*k && st->kind == WIH_JP_SELECT) {
            if (err) *err = perr(expr, open + 1, "empty key in selector");
            return -1;
        }
    }
    skip_sp(s, i);
    if (s[*i] != ']') {
        if (err) *err = perr(expr, s[*i] ? *i : open, s[*i] ? "expected ']'" : "unclosed '['");
        return -1;
    }
    (*i)++;
    return 0;
}

static void steps_push(wih_jpath *p, wih_jp_step st)
{
    p->steps = wih_xrealloc(p->steps, (p->n + 1) * sizeof *p->steps);
    p->steps[p->n++] = st;
}

wih_jpath *wih_jpath_parse(const char *expr, wih_err **err)
{
    if (!expr) expr = "";
    wih_jpath *p = wih_xcalloc(1, sizeof *p);
    p->text = wih_strdup(expr);
    const char *s = expr;
    size_t i = 0;
    if (s[0] == '$') i = (s[1] == '.') ? 2 : 1;
    bool need_step = i != 1; /* "$" alone is the root; "" is an error */
    while (s[i] || need_step) {
        wih_jp_step st = {.col = (int)i + 1};
        if (s[i] == '[') {
            i++;
            if (parse_bracket(s, &i, &st, expr, err) < 0) {
                free(st.key);
                free(st.value);
                goto fail;
            }
        } else if (s[i] == '*' && (!s[i + 1] || s[i + 1] == '.' || s[i + 1] == '[')) {
            st.kind = WIH_JP_WILDCARD;
            i++;
        } else if (name_char((unsigned char)s[i])) {
            size_t b = i;
            while (name_char((unsigned char)s[i])) i++;
            st.kind = WIH_JP_KEY;
            st.key = wih_xstrndup(s + b, i - b);
        } else {
            const char *what = s[i] ? "expected a key, '[' or '*'" : p->n || i ? "path ends after '.'" : "empty path";
            if (err) *err = perr(expr, i, what);
            goto fail;
        }
        steps_push(p, st);
        need_step = false;
        if (s[i] == '.') {
            i++;
            need_step = true;
        } else if (s[i] && s[i] != '[') {
            if (err) *err = perr(expr, i, "expected '.' or '['");
            goto fail;
        }
    }
    return p;
fail:
    wih_jpath_free(p);
    return NULL;
}

void wih_jpath_free(wih_jpath *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].key);
        free(p->steps[i].value);
    }
    free(p->steps);
    free(p->text);
    free(p);
}

/* --------------------------------------------------------------- printing */

static bool bare_ok(const char *k, const char *extra_bad)
{
    if (!*k || !strcmp(k, "*") || isdigit((unsigned char)k[0]) || k[0] == '-' || k[0] == '$') return false;
    for (const char *c = k; *c; c++)
        if (!name_char((unsigned char)*c) || strchr(extra_bad, *c)) return false;
    return true;
}

/* A [key=VALUE] value printed without quotes must parse back the same. */
static bool value_bare_ok(const char *v)
{
    if (!*v || *v == '=') return false;
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c == 0x7f || isspace(*c) || strchr("]\"'", *c)) return false;
    return true;
}

static void add_quoted(wih_buf *b, const char *s)
{
    wih_buf_adds(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') wih_buf_adds(b, "\\");
        wih_buf_add(b, s, 1);
    }
    wih_buf_adds(b, "\"");
}

static void add_step(wih_buf *b, const wih_jp_step *s, bool first)
{
    switch (s->kind) {
    case WIH_JP_KEY:
        if (bare_ok(s->key, "")) {
            if (!first) wih_buf_adds(b, ".");
            wih_buf_adds(b, s->key);
        } else {
            wih_buf_adds(b, "[");
            add_quoted(b, s->key);
            wih_buf_adds(b, "]");
        }
        break;
    case WIH_JP_INDEX: wih_buf_addf(b, "[%ld]", s->index); break;
    case WIH_JP_WILDCARD: wih_buf_adds(b, "[*]"); break;
    case WIH_JP_SELECT:
        wih_buf_adds(b, "[");
        if (bare_ok(s->key, "")) wih_buf_adds(b, s->key);
        else add_quoted(b, s->key);
        wih_buf_adds(b, "=");
        if (value_bare_ok(s->value)) wih_buf_adds(b, s->value);
        else add_quoted(b, s->value);
        wih_buf_adds(b, "]");
        break;
    }
}

char *wih_jpath_str(const wih_jpath *p, size_t upto)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    wih_buf_adds(&b, "");
    if (upto > p->n) upto = p->n;
    for (size_t i = 0; i < upto; i++) add_step(&b, &p->steps[i], i == 0);
    if (!b.len) wih_buf_adds(&b, "$");
    return wih_buf_take(&b);
}

char *wih_jp_step_str(const wih_jp_step *s)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    wih_buf_adds(&b, "");
    add_step(&b, s, true);
    return wih_buf_take(&b);
}

char *wih_jpath_join_key(const char *base, const char *key)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    wih_buf_adds(&b, base ? base : "");
    wih_jp_step st = {.kind = WIH_JP_KEY, .key = (char *)key};
    add_step(&b, &st, !base || !*base);
    return wih_buf_take(&b);
}

/* ---------------------------------------------------------------- select */

/* The text a SELECT compares with: strings as is, other scalars as JSON. */
static char *scalar_text(const cJSON *n)
{
    if (cJSON_IsString(n)) return wih_strdup(n->valuestring);
    if (cJSON_IsNumber(n)) {
        double d = n->valuedouble;
        if (d == (double)(long long)d) return wih_asprintf("%lld", (long long)d);
        return wih_asprintf("%.17g", d);
    }
    if (cJSON_IsBool(n)) return wih_strdup(cJSON_IsTrue(n) ? "true" : "false");
    if (cJSON_IsNull(n)) return wih_strdup("null");
    return NULL;
}

static bool item_selected(const cJSON *item, const wih_jp_step *s)
{
    if (!cJSON_IsObject(item)) return false;
    char *t = scalar_text(cJSON_GetObjectItemCaseSensitive(item, s->key));
    bool ok = t && !strcmp(t, s->value);
    free(t);
    return ok;
}

typedef struct nodevec {
    const cJSON **v;
    size_t n, cap;
} nodevec;

static void nv_push(nodevec *nv, const cJSON *n)
{
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 8;
        nv->v = wih_xrealloc((void *)nv->v, nv->cap * sizeof *nv->v);
    }
    nv->v[nv->n++] = n;
}

static const cJSON *index_item(const cJSON *a, long idx)
{
    long sz = cJSON_GetArraySize(a);
    if (idx < 0) idx += sz;
    if (idx < 0 || idx >= sz) return NULL;
    return cJSON_GetArrayItem(a, (int)idx);
}

static void step_apply(const wih_jp_step *s, const cJSON *n, nodevec *out)
{
    switch (s->kind) {
    case WIH_JP_KEY: {
        const cJSON *c = cJSON_IsObject(n) ? cJSON_GetObjectItemCaseSensitive(n, s->key) : NULL;
        if (c) nv_push(out, c);
        break;
    }
    case WIH_JP_INDEX: {
        const cJSON *c = cJSON_IsArray(n) ? index_item(n, s->index) : NULL;
        if (c) nv_push(out, c);
        break;
    }
    case WIH_JP_WILDCARD:
        if (cJSON_IsArray(n) || cJSON_IsObject(n))
            for (const cJSON *c = n->child; c; c = c->next) nv_push(out, c);
        break;
    case WIH_JP_SELECT:
        if (cJSON_IsArray(n))
            for (const cJSON *c = n->child; c; c = c->next)
                if (item_selected(c, s)) nv_push(out, c);
        break;
    }
}

static const char *type_name(const cJSON *n)
{
    if (cJSON_IsObject(n)) return "a map";
    if (cJSON_IsArray(n)) return "a list";
    if (cJSON_IsString(n)) return "a string";
    if (cJSON_IsNumber(n)) return "a number";
    if (cJSON_IsBool(n)) return "a bool";
    if (cJSON_IsNull(n)) return "null";
    return "?";
}

/* "(keys: a, b)" / "(items: user, osmo-init)", at most 8 names. */
static void add_names(wih_buf *b, const cJSON *n, const char *label, const char *member)
{
    if (!n->child) {
        wih_buf_addf(b, " (%s)", cJSON_IsArray(n) ? "empty list" : "empty map");
        return;
    }
    wih_buf_addf(b, " (%s: ", label);
    int k = 0;
    for (const cJSON *c = n->child; c; c = c->next, k++) {
        if (k == 8) {
            wih_buf_addf(b, ", … %d more", cJSON_GetArraySize(n) - 8);
            break;
        }
        char *t = member ? scalar_text(cJSON_IsObject(c) ? cJSON_GetObjectItemCaseSensitive(c, member) : NULL)
                         : wih_strdup(c->string);
        wih_buf_addf(b, "%s%s", k ? ", " : "", t ? t : "-");
        free(t);
    }
    wih_buf_adds(b, ")");
}

/* Why step s selected nothing from n. */
static void why_empty(wih_buf *b, const wih_jp_step *s, const cJSON *n)
{
    switch (s->kind) {
    case WIH_JP_KEY:
        if (!cJSON_IsObject(n)) wih_buf_addf(b, "not a map (%s)", type_name(n));
        else {
            wih_buf_addf(b, "no key '%s'", s->key);
            add_names(b, n, "keys", NULL);
        }
        break;
    case WIH_JP_INDEX:
        if (!cJSON_IsArray(n)) wih_buf_addf(b, "not a list (%s)", type_name(n));
        else wih_buf_addf(b, "no item %ld (%d items)", s->index, cJSON_GetArraySize(n));
        break;
    case WIH_JP_WILDCARD:
        if (!cJSON_IsArray(n) && !cJSON_IsObject(n)) wih_buf_addf(b, "not a list or map (%s)", type_name(n));
        else wih_buf_adds(b, n->child ? "nothing" : (cJSON_IsArray(n) ? "empty list" : "empty map"));
        break;
    case WIH_JP_SELECT:
        if (!cJSON_IsArray(n)) wih_buf_addf(b, "not a list (%s)", type_name(n));
        else {
            wih_buf_addf(b, "no item with %s=%s", s->key, s->value);
            add_names(b, n, "items", s->key);
        }
        break;
    }
}

size_t wih_jpath_select(const wih_jpath *p, const cJSON *root, const cJSON ***out, char **why)
{
    *out = NULL;
    if (why) *why = NULL;
    if (!root) {
        if (why) *why = wih_strdup("$: no document");
        return 0;
    }
    nodevec cur = {0};
    nv_push(&cur, root);
    for (size_t i = 0; i < p->n; i++) {
        nodevec nxt = {0};
        for (size_t k = 0; k < cur.n; k++) step_apply(&p->steps[i], cur.v[k], &nxt);
        if (!nxt.n) {
            if (why) {
                wih_buf b;
                wih_buf_init(&b, 1 << 16);
                char *pre = wih_jpath_str(p, i + 1);
                wih_buf_addf(&b, "%s: ", pre);
                free(pre);
                why_empty(&b, &p->steps[i], cur.v[0]);
                if (cur.n > 1) wih_buf_addf(&b, " [in the first of %zu]", cur.n);
                *why = wih_buf_take(&b);
            }
            free(cur.v);
            free(nxt.v);
            return 0;
        }
        free(cur.v);
        cur = nxt;
    }
    *out = cur.v;
    return cur.n;
}

const cJSON *wih_jpath_get(const wih_jpath *p, const cJSON *root, char **why)
{
    const cJSON **v;
    size_t n = wih_jpath_select(p, root, &v, why);
    const cJSON *r = n ? v[0] : NULL;
    free(v);
    return r;
}

const cJSON *wih_json_get_why(const cJSON *root, const char *expr, char **why)
{
    wih_err *e = NULL;
    wih_jpath *p = wih_jpath_parse(expr, &e);
    if (!p) {
        if (why) *why = wih_strdup(wih_err_str(e));
        wih_err_free(e);
        return NULL;
    }
    const cJSON *r = wih_jpath_get(p, root, why);
    wih_jpath_free(p);
    return r;
}

const cJSON *wih_json_get(const cJSON *root, const char *expr)
{
    return wih_json_get_why(root, expr, NULL);
}

bool wih_json_exists(const cJSON *root, const char *expr)
{
    return wih_json_get(root, expr) != NULL;
}

const char *wih_json_get_str(const cJSON *root, const char *expr)
{
    const cJSON *n = wih_json_get(root, expr);
    return cJSON_IsString(n) ? n->valuestring : NULL;
}

const cJSON *wih_json_member(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) && key ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const char *wih_json_member_str(const cJSON *obj, const char *key)
{
    const cJSON *v = wih_json_member(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *wih_json_member_str_or(const cJSON *obj, const char *key, const char *dflt)
{
    const char *s = wih_json_member_str(obj, key);
    return s ? s : dflt;
}

double wih_json_member_num(const cJSON *obj, const char *key, double dflt)
{
    const cJSON *v = wih_json_member(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* ------------------------------------------------------------------- set */

static wih_err *set_err(const wih_jpath *p, size_t i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static wih_err *set_err(const wih_jpath *p, size_t i, const char *fmt, ...)
{
    char *pre = wih_jpath_str(p, i + 1);
    char m[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    wih_err *e = wih_err_new(WIH_EXIT_INPUT, "setting '%s': %s: %s", p->text, pre, m);
    free(pre);
    return e;
}

/* An empty container fit for step s (a list for index/select, else a map). */
static cJSON *container_for(const wih_jp_step *s)
{
    return (s->kind == WIH_JP_SELECT || s->kind == WIH_JP_INDEX) ? cJSON_CreateArray() : cJSON_CreateObject();
}

static int set_rec(const wih_jpath *p, size_t i, cJSON *n, const cJSON *value, wih_err **err);

/* Put fresh where c is in n (an object member keeps c's key). */
static void replace_node(cJSON *n, cJSON *c, cJSON *fresh)
{
    if (!(fresh->type & cJSON_StringIsConst)) cJSON_free(fresh->string);
    fresh->string = NULL;
    fresh->type &= ~cJSON_StringIsConst;
    if (c->string) {
        fresh->string = wih_strdup(c->string);
    }
    if (!cJSON_ReplaceItemViaPointer(n, c, fresh)) abort();
}

/* Descend into (or replace) child c of parent n at step i. */
static int set_child(const wih_jpath *p, size_t i, cJSON *n, cJSON *c, const cJSON *value, wih_err **err)
{
    if (i + 1 == p->n) {
        cJSON *dup = cJSON_Duplicate(value, 1); /* never NULL: cJSON follows the OOM rule */
        replace_node(n, c, dup);
        return 1;
    }
    if (cJSON_IsNull(c)) {
        cJSON *fresh = container_for(&p->steps[i + 1]);
        replace_node(n, c, fresh);
        c = fresh;
    }
    return set_rec(p, i + 1, c, value, err);
}

static int set_key(const wih_jpath *p, size_t i, cJSON *n, const cJSON *value, wih_err **err)
{
    const wih_jp_step *s = &p->steps[i];
    if (!cJSON_IsObject(n)) {
        if (err) *err = set_err(p, i, "not a map (%s)", type_name(n));
        return -1;
    }
    cJSON *c = cJSON_GetObjectItemCaseSensitive(n, s->key);
    if (!c && i + 1 < p->n && p->steps[i + 1].kind == WIH_JP_WILDCARD) return 0; /* nothing to set */
    if (!c && i + 1 < p->n && p->steps[i + 1].kind == WIH_JP_INDEX) {
        if (err) *err = set_err(p, i + 1, "no such item (no list)");
        return -1;
    }
    if (!c) {
        c = i + 1 == p->n ? cJSON_CreateNull() : container_for(&p->steps[i + 1]);
        cJSON_AddItemToObject(n, s->key, c);
    }
    return set_child(p, i, n, c, value, err);
}

static int set_select(const wih_jpath *p, size_t i, cJSON *n, const cJSON *value, wih_err **err)
{
    const wih_jp_step *s = &p->steps[i];
    int total = 0, hit = 0;
    for (cJSON *c = n->child, *next; c; c = next) {
        next = c->next;
        if (!item_selected(c, s)) continue;
        hit++;
        int r = set_child(p, i, n, c, value, err);
        if (r < 0) return -1;
        total += r;
    }
    if (hit) return total;
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, s->key, s->value);
    cJSON_AddItemToArray(n, item);
    return set_child(p, i, n, item, value, err);
}

static int set_rec(const wih_jpath *p, size_t i, cJSON *n, const cJSON *value, wih_err **err)
{
    const wih_jp_step *s = &p->steps[i];
    if (s->kind == WIH_JP_KEY) return set_key(p, i, n, value, err);
    if (s->kind == WIH_JP_WILDCARD) {
        if (!cJSON_IsArray(n) && !cJSON_IsObject(n)) {
            if (err) *err = set_err(p, i, "not a list or map (%s)", type_name(n));
            return -1;
        }
        int total = 0;
        for (cJSON *c = n->child, *next; c; c = next) {
            next = c->next;
            int r = set_child(p, i, n, c, value, err);
            if (r < 0) return -1;
            total += r;
        }
        return total;
    }
    if (!cJSON_IsArray(n)) {
        if (err) *err = set_err(p, i, "not a list (%s)", type_name(n));
        return -1;
    }
    if (s->kind == WIH_JP_SELECT) return set_select(p, i, n, value, err);
    cJSON *c = (cJSON *)index_item(n, s->index);
    if (!c) {
        if (err) *err = set_err(p, i, "no such item (the list has %d)", cJSON_GetArraySize(n));
        return -1;
    }
    return set_child(p, i, n, c, value, err);
}

int wih_jpath_set(const wih_jpath *p, cJSON *root, cJSON *value, wih_err **err)
{
    int r;
    if (!root || !p->n) {
        if (err) *err = wih_err_new(WIH_EXIT_INPUT, "setting '%s': %s", p->text, root ? "cannot replace the root" : "no document");
        r = -1;
    } else {
        r = set_rec(p, 0, root, value, err);
    }
    cJSON_Delete(value);
    return r;
}

int wih_json_set(cJSON *root, const char *expr, cJSON *value, wih_err **err)
{
    wih_jpath *p = wih_jpath_parse(expr, err);
    if (!p) {
        cJSON_Delete(value);
        return -1;
    }
    int r = wih_jpath_set(p, root, value, err);
    wih_jpath_free(p);
    return r;
}

/* ------------------------------------------------------------------ diff */

char *wih_json_trim(const cJSON *node, size_t max)
{
    if (!node) return wih_strdup("absent");
    char *s = cJSON_PrintUnformatted(node);
    size_t len = strlen(s);
    if (max < 8) max = 8;
    if (len <= max) return s;
    size_t cut = max - 3; /* room for "…" (3 bytes) */
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    memcpy(s + cut, "\xe2\x80\xa6", 4);
    return s;
}

static void diff_add(cJSON *out, const char *path, const char *kind, cJSON *exp, cJSON *act)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "path", path);
    cJSON_AddStringToObject(d, "kind", kind);
    cJSON_AddItemToObject(d, "expected", exp ? exp : cJSON_CreateNull());
    cJSON_AddItemToObject(d, "actual", act ? act : cJSON_CreateNull());
    cJSON_AddItemToArray(out, d);
}

static void diff_rec(const cJSON *e, const cJSON *a, const char *path, cJSON *out)
{
    if (!a) {
        diff_add(out, path, "missing", cJSON_Duplicate(e, 1), NULL);
        return;
    }
    if (cJSON_IsObject(e) && cJSON_IsObject(a)) {
        for (const cJSON *c = e->child; c; c = c->next) {
            char *p = wih_jpath_join_key(path, c->string);
            diff_rec(c, cJSON_GetObjectItemCaseSensitive(a, c->string), p, out);
            free(p);
        }
        for (const cJSON *c = a->child; c; c = c->next)
            if (!cJSON_GetObjectItemCaseSensitive(e, c->string)) {
                char *p = wih_jpath_join_key(path, c->string);
                diff_add(out, p, "unexpected", NULL, cJSON_Duplicate(c, 1));
                free(p);
            }
        return;
    }
    if (cJSON_IsArray(e) && cJSON_IsArray(a)) {
        int ne = cJSON_GetArraySize(e), na = cJSON_GetArraySize(a);
        if (ne != na) diff_add(out, path, "length", cJSON_CreateNumber(ne), cJSON_CreateNumber(na));
        const cJSON *ce = e->child, *ca = a->child;
        for (int i = 0; ce && ca; i++, ce = ce->next, ca = ca->next) {
            char *p = wih_asprintf("%s[%d]", path, i);
            diff_rec(ce, ca, p, out);
            free(p);
        }
        return;
    }
    if (!cJSON_Compare(e, a, 1)) diff_add(out, path, "value", cJSON_Duplicate(e, 1), cJSON_Duplicate(a, 1));
}

cJSON *wih_json_diff_list(const cJSON *expect, const cJSON *actual)
{
    cJSON *out = cJSON_CreateArray();
    diff_rec(expect, actual, "$", out);
    return out;
}

char *wih_json_diff(const cJSON *expect, const cJSON *actual)
{
    cJSON *l = wih_json_diff_list(expect, actual);
    if (!l->child) {
        cJSON_Delete(l);
        return NULL;
    }
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    for (const cJSON *d = l->child; d; d = d->next) {
        const char *path = cJSON_GetObjectItem(d, "path")->valuestring;
        const char *kind = cJSON_GetObjectItem(d, "kind")->valuestring;
        const cJSON *ex = cJSON_GetObjectItem(d, "expected"), *ac = cJSON_GetObjectItem(d, "actual");
        if (!strcmp(kind, "missing")) {
            wih_buf_addf(&b, "%s: missing (expected %s)\n", path, cJSON_IsObject(ex) ? "a map" : "a value");
        } else if (!strcmp(kind, "unexpected")) {
            wih_buf_addf(&b, "%s: unexpected\n", path);
        } else if (!strcmp(kind, "length")) {
            wih_buf_addf(&b, "%s: %d items, expected %d\n", path, ac->valueint, ex->valueint);
        } else {
            char *es = wih_json_trim(ex, 400), *as = wih_json_trim(ac, 400);
            wih_buf_addf(&b, "%s: got %s, expected %s\n", path, as, es);
            free(es);
            free(as);
        }
    }
    cJSON_Delete(l);
    return wih_buf_take(&b);
}
