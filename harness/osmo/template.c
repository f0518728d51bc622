/* OSMO's pod-template merge and {{VAR}} substitution.
 *
 * Upstream (NVIDIA/OSMO src/lib/utils/common.py):
 *   recursive_dict_update(d1, d2, merge_lists_on_name): for each key of d2 —
 *     d2 value a dict  → d1[key] = recursive_dict_update(d1.get(key, {}), value)
 *     d2 value a list and d1[key] a list → merge_lists_on_name(d1[key], value)
 *     anything else    → d1[key] = value   (scalars, null, a list over a non-list)
 *   merge_lists_on_name(l1, l2): index l1 items by item['name'] when
 *     `'name' in item` (the LAST item with a name wins the index); each l2 item
 *     whose name is indexed is merged into that l1 item; all others are
 *     collected and appended at the end, in order.
 *
 * Where this differs from osmo.md we follow upstream:
 *   - a later `null` REPLACES (the key stays with a null value, which
 *     Kubernetes reads as absent) — osmo.md's "nothing can delete a field" holds
 *     for lists and maps only;
 *   - `'name' in item` is Python's `in`: for a string item it is a substring
 *     test, so a string list item containing "name" (e.g. "--hostname") makes
 *     upstream raise TypeError when two lists meet; for a number, bool or null
 *     item `in` itself raises TypeError. We report both as errors;
 *   - a map over a non-map raises in Python (d1.get(key) is not a dict) unless
 *     the map is empty (then the old value is kept). Same here;
 *   - names compare with Python equality (1 == 1.0 == true).
 * Substitution (src/utils/job/task.py substitute_pod_template_tokens): every
 * string value (map values and list items, never keys) is rendered by Jinja;
 * a result matching ^ARRAY:\[(.*)\]$ becomes a list split on ','. We render
 * only {{ NAME }}; any other Jinja construct is reported, not guessed. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/osmo.h"

/* ------------------------------------------------------------ position map */
/* The copies the merge makes, in the one position map (yamljson's), plus the
 * loaded documents it falls back on. */
struct osmo_posmap {
    wih_posmap *copies;
    const wih_ydocs **docs;
    size_t ndocs;
    char **files;
    size_t nfiles;
};

osmo_posmap *osmo_posmap_new(void)
{
    osmo_posmap *pm = wih_xcalloc(1, sizeof *pm);
    pm->copies = wih_posmap_new();
    return pm;
}

void osmo_posmap_free(osmo_posmap *pm)
{
    if (!pm) return;
    wih_posmap_free(pm->copies);
    free(pm->docs);
    for (size_t i = 0; i < pm->nfiles; i++) free(pm->files[i]);
    free(pm->files);
    free(pm);
}

void osmo_posmap_add_docs(osmo_posmap *pm, const wih_ydocs *docs)
{
    if (!pm || !docs) return;
    pm->docs = wih_xrealloc(pm->docs, (pm->ndocs + 1) * sizeof *pm->docs);
    pm->docs[pm->ndocs++] = docs;
}

static const char *pm_intern(osmo_posmap *pm, const char *file)
{
    for (size_t i = 0; i < pm->nfiles; i++)
        if (!strcmp(pm->files[i], file)) return pm->files[i];
    pm->files = wih_xrealloc(pm->files, (pm->nfiles + 1) * sizeof *pm->files);
    pm->files[pm->nfiles] = wih_strdup(file);
    return pm->files[pm->nfiles++];
}

bool osmo_posmap_get(const osmo_posmap *pm, const cJSON *node, const char **file, wih_pos *pos)
{
    if (!pm || !node) return false;
    if (wih_posmap_get(pm->copies, node, file, pos)) return true;
    for (size_t d = 0; d < pm->ndocs; d++) {
        wih_pos p;
        if (wih_ydocs_pos(pm->docs[d], node, &p)) {
            if (file) *file = wih_ydocs_name(pm->docs[d]);
            if (pos) *pos = p;
            return true;
        }
    }
    return false;
}

void osmo_posmap_copy(osmo_posmap *pm, const cJSON *from, const cJSON *to)
{
    if (!pm || !from || !to) return;
    const char *file;
    wih_pos p;
    if (osmo_posmap_get(pm, from, &file, &p)) wih_posmap_put(pm->copies, to, pm_intern(pm, file), p);
    const cJSON *a = from->child, *b = to->child;
    for (; a && b; a = a->next, b = b->next) osmo_posmap_copy(pm, a, b);
}

wih_err *osmo_err_at(const osmo_posmap *pm, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(WIH_EXIT_INPUT, fmt, ap);
    va_end(ap);
    const char *file;
    wih_pos p;
    if (osmo_posmap_get(pm, node, &file, &p)) {
        e->file = wih_strdup(file);
        e->line = p.line;
        e->col = p.col;
    }
    return e;
}

static cJSON *dup_pos(const cJSON *src, osmo_posmap *pm)
{
    cJSON *c = cJSON_Duplicate(src, 1);
    if (!c) abort();
    osmo_posmap_copy(pm, src, c);
    return c;
}

/* ------------------------------------------------------------------ merge */
static const char *py_type(const cJSON *n)
{
    if (cJSON_IsObject(n)) return "dict";
    if (cJSON_IsArray(n)) return "list";
    if (cJSON_IsString(n)) return "str";
    if (cJSON_IsBool(n)) return "bool";
    if (cJSON_IsNull(n)) return "NoneType";
    if (cJSON_IsNumber(n)) return n->valuedouble == floor(n->valuedouble) ? "int" : "float";
    return "object";
}

/* Python's `'name' in item` followed by item['name']: returns the name node
 * (NULL when the item has none) or sets *err when Python would raise. */
static int item_name(const cJSON *item, const cJSON **name, osmo_posmap *pm, wih_err **err)
{
    *name = NULL;
    if (cJSON_IsObject(item)) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(item, "name");
        if (n && (cJSON_IsObject(n) || cJSON_IsArray(n))) {
            *err = osmo_err_at(pm, n,
                               "OSMO's merge_lists_on_name fails here (TypeError: unhashable type: '%s'): "
                               "a list item's name must be a scalar",
                               py_type(n));
            return -1;
        }
        *name = n;
        return 0;
    }
    if (cJSON_IsString(item)) {
        if (strstr(item->valuestring, "name")) {
            *err = osmo_err_at(pm, item,
                               "OSMO's merge_lists_on_name fails on the list item \"%s\" (TypeError: string "
                               "indices must be integers): a string item containing \"name\" cannot be merged "
                               "with another list",
                               item->valuestring);
            return -1;
        }
        return 0;
    }
    if (cJSON_IsArray(item)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, item) if (cJSON_IsString(x) && !strcmp(x->valuestring, "name"))
        {
            *err = osmo_err_at(pm, item,
                               "OSMO's merge_lists_on_name fails on a nested list holding \"name\" "
                               "(TypeError: list indices must be integers)");
            return -1;
        }
        return 0;
    }
    *err = osmo_err_at(pm, item,
                       "OSMO's merge_lists_on_name fails on a list item of type %s (TypeError: argument of "
                       "type '%s' is not iterable): only maps and strings can be merged as list items",
                       py_type(item), py_type(item));
    return -1;
}

/* Python equality of two hashable scalars (1 == 1.0 == True). */
static bool py_eq(const cJSON *a, const cJSON *b)
{
    if (!a || !b) return false;
    if (cJSON_IsString(a) || cJSON_IsString(b))
        return cJSON_IsString(a) && cJSON_IsString(b) && !strcmp(a->valuestring, b->valuestring);
    if (cJSON_IsNull(a) || cJSON_IsNull(b)) return cJSON_IsNull(a) && cJSON_IsNull(b);
    double x = cJSON_IsBool(a) ? (cJSON_IsTrue(a) ? 1 : 0) : a->valuedouble;
    double y = cJSON_IsBool(b) ? (cJSON_IsTrue(b) ? 1 : 0) : b->valuedouble;
    return x == y;
}

static int merge_map(cJSON *d1, const cJSON *d2, osmo_posmap *pm, wih_err **err);

static int merge_lists(cJSON *l1, const cJSON *l2, osmo_posmap *pm, wih_err **err)
{
    int n1 = cJSON_GetArraySize(l1);
    /* Python builds name_to_index once, from the values the names have
     * before any merge (a merge may replace an item's name node): keep copies. */
    cJSON **names = wih_xcalloc((size_t)n1 + 1, sizeof *names);
    cJSON **items = wih_xcalloc((size_t)n1 + 1, sizeof *items);
    int i = 0;
    for (cJSON *it = l1->child; it; it = it->next, i++) {
        const cJSON *nm;
        items[i] = it;
        if (item_name(it, &nm, pm, err)) goto fail;
        names[i] = nm ? cJSON_Duplicate(nm, 1) : NULL;
    }
    cJSON *append = cJSON_CreateArray();
    for (const cJSON *v = l2->child; v; v = v->next) {
        const cJSON *vn;
        if (item_name(v, &vn, pm, err)) {
            cJSON_Delete(append);
            goto fail;
        }
        int idx = -1;
        if (vn) /* the index keeps the last l1 item with that name */
            for (int k = 0; k < n1; k++)
                if (names[k] && py_eq(names[k], vn)) idx = k;
        if (idx >= 0) {
            /* recursive_dict_update(l1[idx], v): both are maps here (v has a
             * name, and so has l1[idx]) */
            if (merge_map(items[idx], v, pm, err)) {
                cJSON_Delete(append);
                goto fail;
            }
        } else {
            cJSON_AddItemToArray(append, dup_pos(v, pm));
        }
    }
    while (append->child) cJSON_AddItemToArray(l1, cJSON_DetachItemViaPointer(append, append->child));
    cJSON_Delete(append);
    for (int k = 0; k < n1; k++) cJSON_Delete(names[k]);
    free(names);
    free(items);
    return 0;
fail:
    for (int k = 0; k < n1; k++) cJSON_Delete(names[k]);
    free(names);
    free(items);
    return -1;
}

static int merge_map(cJSON *d1, const cJSON *d2, osmo_posmap *pm, wih_err **err)
{
    for (const cJSON *v = d2->child; v; v = v->next) {
        cJSON *old = cJSON_GetObjectItemCaseSensitive(d1, v->string);
        if (cJSON_IsObject(v)) {
            if (!old) {
                cJSON *fresh = cJSON_CreateObject();
                osmo_posmap_copy(pm, v, fresh);
                if (merge_map(fresh, v, pm, err)) {
                    cJSON_Delete(fresh);
                    return -1;
                }
                cJSON_AddItemToObject(d1, v->string, fresh);
            } else if (cJSON_IsObject(old)) {
                if (merge_map(old, v, pm, err)) return -1;
            } else if (v->child) {
                *err = osmo_err_at(pm, v,
                                   "OSMO's recursive_dict_update fails here: \"%s\" is a map but the earlier "
                                   "value is a %s (Python TypeError)",
                                   v->string, py_type(old));
                return -1;
            } /* an empty map over a non-map keeps the old value (upstream) */
        } else if (cJSON_IsArray(v) && cJSON_IsArray(old)) {
            if (merge_lists(old, v, pm, err)) return -1;
        } else {
            cJSON *c = dup_pos(v, pm);
            if (old)
                cJSON_ReplaceItemViaPointer(d1, old, c);
            else
                cJSON_AddItemToObject(d1, v->string, c);
        }
    }
    return 0;
}

int osmo_merge(cJSON *dst, const cJSON *src, osmo_posmap *pm, wih_err **err)
{
    if (!cJSON_IsObject(src)) {
        *err = osmo_err_at(pm, src, "a pod template must be a map, not a %s", cJSON_IsArray(src) ? "list"
                                                                               : cJSON_IsNull(src) ? "null"
                                                                                                    : "scalar");
        return -1;
    }
    if (!cJSON_IsObject(dst)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "merge target must be a map");
        return -1;
    }
    return merge_map(dst, src, pm, err);
}

/* ------------------------------------------------------------ substitution */
static char *scalar_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return wih_strdup(v->valuestring);
    if (cJSON_IsBool(v)) return wih_strdup(cJSON_IsTrue(v) ? "True" : "False"); /* Python str() */
    if (cJSON_IsNull(v)) return wih_strdup("None");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) return wih_asprintf("%lld", (long long)d);
        return wih_asprintf("%.15g", d);
    }
    char *s = cJSON_PrintUnformatted(v);
    return s ? s : wih_strdup("");
}

/* Render one string; returns a new string or NULL with *err. */
static char *render_str(const char *s, const cJSON *vars, const osmo_posmap *pm, const cJSON *node, wih_err **err)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    const char *p = s;
    while (*p) {
        if (p[0] == '{' && (p[1] == '%' || p[1] == '#')) {
            *err = osmo_err_at(pm, node,
                               "Jinja statement/comment \"%.*s\" in a template value: wiharness renders only "
                               "{{ NAME }} (OSMO would evaluate it with Jinja)",
                               (int)strcspn(p, "\n") > 40 ? 40 : (int)strcspn(p, "\n"), p);
            wih_buf_free(&b);
            return NULL;
        }
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            if (!end) {
                *err = osmo_err_at(pm, node, "unterminated \"{{\" in template value \"%s\"", s);
                wih_buf_free(&b);
                return NULL;
            }
            const char *a = p + 2, *z = end;
            while (a < z && isspace((unsigned char)*a)) a++;
            while (z > a && isspace((unsigned char)z[-1])) z--;
            bool ident = z > a && (isalpha((unsigned char)*a) || *a == '_');
            for (const char *q = a; q < z; q++)
                if (!isalnum((unsigned char)*q) && *q != '_') ident = false;
            char *name = wih_asprintf("%.*s", (int)(z - a), a);
            if (!ident) {
                *err = osmo_err_at(pm, node,
                                   "Jinja expression \"{{%s}}\" in a template value: wiharness renders only "
                                   "{{ NAME }} (no filters or expressions)",
                                   name);
                free(name);
                wih_buf_free(&b);
                return NULL;
            }
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(vars, name);
            if (!v) {
                *err = osmo_err_at(pm, node,
                                   "undefined template variable \"%s\" (OSMO fails the pod with a Jinja "
                                   "UndefinedError; there is no such variable for this task)",
                                   name);
                free(name);
                wih_buf_free(&b);
                return NULL;
            }
            char *t = scalar_text(v);
            wih_buf_adds(&b, t);
            free(t);
            free(name);
            p = end + 2;
            continue;
        }
        wih_buf_add(&b, p, 1);
        p++;
    }
    if (!b.data) wih_buf_adds(&b, "");
    return wih_buf_take(&b);
}

/* "ARRAY:[a,b]" → ["a","b"] (re.fullmatch: no newline inside). */
static cJSON *rendered_node(char *r)
{
    size_t n = strlen(r);
    if (n >= 8 && !strncmp(r, "ARRAY:[", 7) && r[n - 1] == ']' && !strchr(r, '\n')) {
        cJSON *arr = cJSON_CreateArray();
        char *body = wih_asprintf("%.*s", (int)(n - 8), r + 7);
        char *q = body;
        for (;;) {
            char *c = strchr(q, ',');
            if (c) *c = '\0';
            cJSON_AddItemToArray(arr, cJSON_CreateString(q));
            if (!c) break;
            q = c + 1;
        }
        free(body);
        free(r);
        return arr;
    }
    cJSON *s = cJSON_CreateString(r);
    free(r);
    return s;
}

static int subst_rec(cJSON *n, const cJSON *vars, const osmo_posmap *pm, wih_err **err)
{
    for (cJSON *c = n->child, *next; c; c = next) {
        next = c->next;
        if (cJSON_IsObject(c) || (cJSON_IsArray(c) && cJSON_IsObject(n))) {
            if (subst_rec(c, vars, pm, err)) return -1;
        } else if (cJSON_IsArray(n) && cJSON_IsArray(c)) {
            /* upstream renders a nested list item as a string; leave it */
        } else if (cJSON_IsString(c)) {
            if (!strstr(c->valuestring, "{") && strncmp(c->valuestring, "ARRAY:[", 7)) continue;
            char *r = render_str(c->valuestring, vars, pm, c, err);
            if (!r) return -1;
            cJSON *nn = rendered_node(r);
            osmo_posmap_copy((osmo_posmap *)pm, c, nn);
            if (c->string) nn->string = wih_strdup(c->string); /* ViaPointer keeps no key */
            cJSON_ReplaceItemViaPointer(n, c, nn);
        }
    }
    return 0;
}

int osmo_substitute(cJSON *tree, const cJSON *vars, const osmo_posmap *pm, wih_err **err)
{
    if (!tree) return 0;
    if (cJSON_IsString(tree)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "internal: substitute on a bare string");
        return -1;
    }
    return subst_rec(tree, vars, pm, err);
}
