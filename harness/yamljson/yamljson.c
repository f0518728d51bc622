/* YAML → cJSON with positions (libyaml events), and cJSON → YAML (libyaml emitter).
 * The resolution rules are documented in include/wiharness/yamljson.h. */
#include "wiharness/yamljson.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ position table */
struct wih_ydocs {
    char *name;
    cJSON **roots;
    bool *detached;
    size_t n, cap;
    wih_posmap *pos; /* the one position map (posmap.c) */
};

static void pos_put(wih_ydocs *d, const cJSON *node, wih_pos pos)
{
    if (!d->pos) d->pos = wih_posmap_new();
    wih_posmap_put(d->pos, node, d->name, pos);
}

bool wih_ydocs_pos(const wih_ydocs *d, const cJSON *node, wih_pos *out)
{
    return d && wih_posmap_get(d->pos, node, NULL, out);
}

/* ------------------------------------------------------------ scalar resolution */
static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list)) return true;
    return false;
}

static const char *const k_true[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE", NULL};
static const char *const k_false[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE", NULL};
static const char *const k_null[] = {"", "~", "null", "Null", "NULL", NULL};

static bool parse_int(const char *s, long long *out)
{
    char buf[128];
    size_t k = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '_') continue;
        if (k + 1 >= sizeof buf) return false;
        buf[k++] = *p;
    }
    buf[k] = '\0';
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!*p) return false;
    int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    } else if (p[0] == '0' && p[1]) {
        base = 8;
        p += 1;
        if (*p == 'o' || *p == 'O') p++;
    }
    if (!*p) return false;
    for (const char *q = p; *q; q++) {
        int v = isdigit((unsigned char)*q) ? *q - '0'
                : isxdigit((unsigned char)*q) ? (tolower((unsigned char)*q) - 'a' + 10)
                                             : 99;
        if (v >= base) return false;
    }
    errno = 0;
    unsigned long long u = strtoull(p, NULL, base);
    if (errno == ERANGE) return false;
    if (neg) {
        if (u > (unsigned long long)LLONG_MAX + 1) return false;
        *out = u == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)u;
    } else {
        if (u > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)u;
    }
    return true;
}

static bool parse_float(const char *s, double *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return true;
    }
    if (p == s && (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))) {
        *out = NAN;
        return true;
    }
    /* digits, at most one '.', optional exponent; at least one digit before e */
    char buf[128];
    size_t k = 0;
    bool digit = false, dot = false, exp = false;
    for (const char *q = s; *q; q++) {
        char c = *q;
        if (c == '_') continue;
        if (k + 1 >= sizeof buf) return false;
        if (isdigit((unsigned char)c))
            digit = true;
        else if (c == '.') {
            if (dot || exp) return false;
            dot = true;
        } else if (c == 'e' || c == 'E') {
            if (exp || !digit) return false;
            exp = true;
            buf[k++] = c;
            if (q[1] == '+' || q[1] == '-') buf[k++] = *++q;
            if (!isdigit((unsigned char)q[1])) return false;
            continue;
        } else if ((c == '+' || c == '-') && q == s) {
        } else
            return false;
        buf[k++] = c;
    }
    buf[k] = '\0';
    if (!digit) return false;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end) return false;
    *out = v;
    return true;
}

wih_yscalar_kind wih_yaml_resolve_plain(const char *s, bool *b, long long *i, double *f)
{
    bool bb;
    long long ii;
    double ff;
    if (!b) b = &bb;
    if (!i) i = &ii;
    if (!f) f = &ff;
    if (in_list(s, k_null)) return WIH_YS_NULL;
    if (in_list(s, k_true)) {
        *b = true;
        return WIH_YS_BOOL;
    }
    if (in_list(s, k_false)) {
        *b = false;
        return WIH_YS_BOOL;
    }
    char c = s[0];
    if (!(isdigit((unsigned char)c) || c == '+' || c == '-' || c == '.')) return WIH_YS_STRING;
    if (parse_int(s, i)) return WIH_YS_INT;
    if (parse_float(s, f)) return WIH_YS_FLOAT;
    return WIH_YS_STRING;
}

/* ------------------------------------------------------------ loader */
typedef struct frame {
    cJSON *node;       /* object or array being filled */
    char *pending_key; /* object: key waiting for its value */
    wih_pos key_pos;
    bool key_pending;
    cJSON **merges; /* `<<` sources, applied at mapping end */
    size_t nmerges;
    char *anchor;
    /* mapping: its keys (borrowed from the items' ->string), so the duplicate
     * check is one probe, not a scan of the map (issue 13: quadratic YAML) */
    const char **kset;
    size_t kcap, nkeys;
} frame;

typedef struct anchor {
    char *name;
    cJSON *node; /* borrowed: lives in the tree */
} anchor;

typedef struct loader {
    wih_ydocs *d;
    frame stack[WIH_YAML_MAX_DEPTH + 2];
    int depth;
    anchor *anchors;
    size_t nanchors, capanchors;
    size_t nodes;
    cJSON *root;
    bool have_root;
    cJSON *graveyard; /* merge sources: freed at document end (anchors may name them) */
    wih_err *err;
} loader;

static wih_pos mark_pos(yaml_mark_t m)
{
    return (wih_pos){(int)m.line + 1, (int)m.column + 1};
}

static void fail_at(loader *L, wih_pos p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail_at(loader *L, wih_pos p, const char *fmt, ...)
{
    if (L->err) return;
    va_list ap;
    va_start(ap, fmt);
    L->err = wih_err_newv(WIH_EXIT_INPUT, fmt, ap);
    va_end(ap);
    L->err->file = wih_strdup(L->d->name);
    L->err->line = p.line;
    L->err->col = p.col;
}

static void add_anchor(loader *L, const char *name, cJSON *node)
{
    for (size_t i = 0; i < L->nanchors; i++)
        if (!strcmp(L->anchors[i].name, name)) {
            L->anchors[i].node = node; /* YAML: a re-defined anchor shadows */
            return;
        }
    if (L->nanchors == L->capanchors) {
        L->capanchors = L->capanchors ? 2 * L->capanchors : 16;
        L->anchors = wih_xrealloc(L->anchors, L->capanchors * sizeof *L->anchors);
    }
    L->anchors[L->nanchors++] = (anchor){wih_strdup(name), node};
}

static size_t count_nodes(const cJSON *n)
{
    size_t c = 1;
    for (const cJSON *k = n->child; k; k = k->next) c += count_nodes(k);
    return c;
}

static void copy_positions(wih_ydocs *d, const cJSON *from, const cJSON *to)
{
    wih_pos p;
    if (wih_ydocs_pos(d, from, &p)) pos_put(d, to, p);
    const cJSON *a = from->child, *b = to->child;
    for (; a && b; a = a->next, b = b->next) copy_positions(d, a, b);
}

static char *key_string(loader *L, cJSON *k, wih_pos pos)
{
    if (cJSON_IsString(k)) return wih_strdup(k->valuestring);
    if (cJSON_IsBool(k)) return wih_strdup(cJSON_IsTrue(k) ? "true" : "false");
    if (cJSON_IsNull(k)) return wih_strdup("null");
    if (cJSON_IsNumber(k)) {
        double v = k->valuedouble;
        if (v == floor(v) && fabs(v) < 9.2e18) return wih_asprintf("%lld", (long long)v);
        return wih_asprintf("%.17g", v);
    }
    fail_at(L, pos, "a map or list cannot be a key (Kubernetes accepts only scalar keys)");
    return NULL;
}

/* ---- the key set of an open mapping: linear scan while small, then a hash set */
enum { KSET_MIN = 16 };

static size_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)(h ^ (h >> 29));
}

static void kset_put(frame *f, const char *k)
{
    size_t m = f->kcap - 1, i = hash_str(k) & m;
    while (f->kset[i]) i = (i + 1) & m;
    f->kset[i] = k;
}

static void kset_grow(frame *f)
{
    const char **old = f->kset;
    size_t oldn = f->kcap;
    f->kcap = oldn ? oldn * 2 : 4 * KSET_MIN;
    f->kset = calloc(f->kcap, sizeof *f->kset);
    if (!f->kset) abort();
    if (old) {
        for (size_t i = 0; i < oldn; i++)
            if (old[i]) kset_put(f, old[i]);
    } else
        for (const cJSON *c = f->node->child; c; c = c->next) kset_put(f, c->string);
    free(old);
}

static bool frame_has_key(const frame *f, const char *k)
{
    if (!f->kset) return cJSON_GetObjectItemCaseSensitive(f->node, k) != NULL;
    size_t m = f->kcap - 1, i = hash_str(k) & m;
    for (; f->kset[i]; i = (i + 1) & m)
        if (!strcmp(f->kset[i], k)) return true;
    return false;
}

/* Add v under key k (not present: frame_has_key said so) and remember the key. */
static void frame_add(frame *f, const char *k, cJSON *v)
{
    cJSON_AddItemToObject(f->node, k, v);
    f->nkeys++;
    if (f->kset) {
        if (2 * f->nkeys >= f->kcap) kset_grow(f);
        kset_put(f, v->string);
    } else if (f->nkeys >= KSET_MIN)
        kset_grow(f); /* builds the set from the map's items */
}

/* Insert a finished value into the current container, or make it the root. */
static void attach(loader *L, cJSON *v, wih_pos pos, bool is_key_candidate)
{
    if (L->err) {
        cJSON_Delete(v);
        return;
    }
    if (L->depth == 0) {
        L->root = v;
        L->have_root = true;
        return;
    }
    frame *f = &L->stack[L->depth - 1];
    if (cJSON_IsArray(f->node)) {
        cJSON_AddItemToArray(f->node, v);
        return;
    }
    if (!f->key_pending) {
        (void)is_key_candidate;
        char *k = key_string(L, v, pos);
        cJSON_Delete(v);
        if (!k) return;
        f->pending_key = k;
        f->key_pos = pos;
        f->key_pending = true;
        return;
    }
    f->key_pending = false;
    char *k = f->pending_key;
    f->pending_key = NULL;
    if (!strcmp(k, "<<")) {
        /* merge key: value is a map or a list of maps */
        if (cJSON_IsObject(v)) {
            f->merges = wih_xrealloc(f->merges, (f->nmerges + 1) * sizeof *f->merges);
            f->merges[f->nmerges++] = v;
        } else if (cJSON_IsArray(v)) {
            cJSON *it;
            cJSON_ArrayForEach(it, v)
            {
                if (!cJSON_IsObject(it)) {
                    fail_at(L, pos, "a merge key (<<) list may only hold maps");
                    break;
                }
            }
            f->merges = wih_xrealloc(f->merges, (f->nmerges + 1) * sizeof *f->merges);
            f->merges[f->nmerges++] = v;
        } else {
            fail_at(L, pos, "a merge key (<<) needs a map or a list of maps");
            cJSON_Delete(v);
        }
        free(k);
        return;
    }
    if (frame_has_key(f, k)) {
        fail_at(L, f->key_pos, "duplicate key \"%s\"", k);
        free(k);
        cJSON_Delete(v);
        return;
    }
    frame_add(f, k, v);
    free(k);
}

static void apply_merges(loader *L, frame *f)
{
    /* explicit keys win; among merged maps, earlier ones win */
    for (size_t i = 0; i < f->nmerges; i++) {
        cJSON *m = f->merges[i];
        cJSON *maps = cJSON_IsArray(m) ? m->child : m;
        for (cJSON *one = maps; one; one = cJSON_IsArray(m) ? one->next : NULL) {
            for (cJSON *kv = one->child; kv; kv = kv->next) {
                if (frame_has_key(f, kv->string)) continue;
                cJSON *c = cJSON_Duplicate(kv, 1);
                copy_positions(L->d, kv, c);
                frame_add(f, kv->string, c);
            }
            if (!cJSON_IsArray(m)) break;
        }
        if (!L->graveyard) L->graveyard = cJSON_CreateArray();
        cJSON_AddItemToArray(L->graveyard, m);
    }
    free(f->merges);
    f->merges = NULL;
    f->nmerges = 0;
}

static cJSON *scalar_node(loader *L, yaml_event_t *ev, wih_pos pos)
{
    const char *val = (const char *)ev->data.scalar.value;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        bool b = false;
        long long i = 0;
        double fl = 0;
        wih_yscalar_kind k = wih_yaml_resolve_plain(val, &b, &i, &fl);
        if (!strcmp(t, "str")) return cJSON_CreateString(val);
        if (!strcmp(t, "null")) return cJSON_CreateNull();
        /* after a bad value the node is a placeholder (the load fails); it is never
         * built from what the resolver did not set (issue 13 finding 3) */
        if (!strcmp(t, "bool")) {
            if (k != WIH_YS_BOOL) {
                fail_at(L, pos, "!!bool value \"%s\" is not a boolean", val);
                return cJSON_CreateNull();
            }
            return cJSON_CreateBool(b);
        }
        if (!strcmp(t, "int")) {
            if (k != WIH_YS_INT) {
                fail_at(L, pos, "!!int value \"%s\" is not an integer", val);
                return cJSON_CreateNull();
            }
            return cJSON_CreateNumber((double)i);
        }
        if (!strcmp(t, "float")) {
            if (k == WIH_YS_INT) return cJSON_CreateNumber((double)i);
            if (k != WIH_YS_FLOAT || !isfinite(fl)) {
                if (k != WIH_YS_FLOAT) fail_at(L, pos, "!!float value \"%s\" is not a number", val);
                return cJSON_CreateString(val);
            }
            return cJSON_CreateNumber(fl);
        }
        /* other core tags (binary, timestamp, ...) stay strings */
        return cJSON_CreateString(val);
    }
    if (!plain || (tag && strcmp(tag, "!") == 0)) return cJSON_CreateString(val);
    bool b;
    long long i;
    double fl;
    switch (wih_yaml_resolve_plain(val, &b, &i, &fl)) {
    case WIH_YS_NULL:
        return cJSON_CreateNull();
    case WIH_YS_BOOL:
        return cJSON_CreateBool(b);
    case WIH_YS_INT:
        return cJSON_CreateNumber((double)i);
    case WIH_YS_FLOAT:
        if (!isfinite(fl)) return cJSON_CreateString(val);
        return cJSON_CreateNumber(fl);
    default:
        return cJSON_CreateString(val);
    }
}

static void doc_add(wih_ydocs *d, cJSON *root)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 4;
        d->roots = wih_xrealloc(d->roots, d->cap * sizeof *d->roots);
        d->detached = wih_xrealloc(d->detached, d->cap * sizeof *d->detached);
    }
    d->detached[d->n] = false;
    d->roots[d->n++] = root;
}

static void loader_reset_doc(loader *L)
{
    for (int i = 0; i < L->depth; i++) {
        free(L->stack[i].pending_key);
        free(L->stack[i].anchor);
        for (size_t j = 0; j < L->stack[i].nmerges; j++) cJSON_Delete(L->stack[i].merges[j]);
        free(L->stack[i].merges);
        free(L->stack[i].kset);
        cJSON_Delete(L->stack[i].node); /* open containers are not attached yet */
    }
    L->depth = 0;
    cJSON_Delete(L->graveyard);
    L->graveyard = NULL;
    for (size_t i = 0; i < L->nanchors; i++) free(L->anchors[i].name);
    L->nanchors = 0;
}

wih_ydocs *wih_yaml_load_string(const char *name, const char *text, size_t len, wih_err **err)
{
    wih_ydocs *d = wih_xcalloc(1, sizeof *d);
    d->name = wih_strdup(name ? name : "<input>");
    if (len > WIH_YAML_MAX_BYTES) {
        *err = wih_err_at(WIH_EXIT_INPUT, d->name, 0, 0, "larger than the %zu-byte limit", WIH_YAML_MAX_BYTES);
        wih_ydocs_free(d);
        return NULL;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) abort();
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    loader L;
    memset(&L, 0, sizeof L);
    L.d = d;
    bool done = false;
    while (!done && !L.err) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            wih_pos pos = mark_pos(p.problem_mark);
            if (p.context)
                fail_at(&L, pos, "%s %s", p.problem ? p.problem : "invalid YAML", p.context);
            else
                fail_at(&L, pos, "%s", p.problem ? p.problem : "invalid YAML");
            break;
        }
        wih_pos pos = mark_pos(ev.start_mark);
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            L.root = NULL;
            L.have_root = false;
            break;
        case YAML_DOCUMENT_END_EVENT:
            if (!L.have_root) {
                L.root = cJSON_CreateNull();
                pos_put(d, L.root, pos);
            }
            doc_add(d, L.root);
            L.root = NULL;
            loader_reset_doc(&L);
            break;
        case YAML_SCALAR_EVENT: {
            if (++L.nodes > WIH_YAML_MAX_NODES) {
                fail_at(&L, pos, "more than %d nodes", WIH_YAML_MAX_NODES);
                break;
            }
            cJSON *v = scalar_node(&L, &ev, pos);
            pos_put(d, v, pos);
            if (ev.data.scalar.anchor) {
                /* a key's node is freed once it became the key string: its anchor
                 * names a copy kept until the document ends (fuzz_yaml found the
                 * use after free) */
                frame *pf = L.depth ? &L.stack[L.depth - 1] : NULL;
                cJSON *target = v;
                if (pf && cJSON_IsObject(pf->node) && !pf->key_pending) {
                    target = cJSON_Duplicate(v, 1);
                    pos_put(d, target, pos);
                    if (!L.graveyard) L.graveyard = cJSON_CreateArray();
                    cJSON_AddItemToArray(L.graveyard, target);
                }
                add_anchor(&L, (const char *)ev.data.scalar.anchor, target);
            }
            attach(&L, v, pos, true);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            if (L.depth >= WIH_YAML_MAX_DEPTH) {
                fail_at(&L, pos, "nested deeper than %d levels", WIH_YAML_MAX_DEPTH);
                break;
            }
            if (++L.nodes > WIH_YAML_MAX_NODES) {
                fail_at(&L, pos, "more than %d nodes", WIH_YAML_MAX_NODES);
                break;
            }
            /* a container as a map key is an error */
            if (L.depth > 0) {
                frame *pf = &L.stack[L.depth - 1];
                if (cJSON_IsObject(pf->node) && !pf->key_pending) {
                    fail_at(&L, pos, "a map or list cannot be a key (Kubernetes accepts only scalar keys)");
                    break;
                }
            }
            frame *f = &L.stack[L.depth++];
            memset(f, 0, sizeof *f);
            f->node = ev.type == YAML_MAPPING_START_EVENT ? cJSON_CreateObject() : cJSON_CreateArray();
            pos_put(d, f->node, pos);
            const yaml_char_t *anc = ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor
                                                                           : ev.data.sequence_start.anchor;
            if (anc) f->anchor = wih_strdup((const char *)anc);
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame *f = &L.stack[L.depth - 1];
            if (ev.type == YAML_MAPPING_END_EVENT) apply_merges(&L, f);
            free(f->kset);
            f->kset = NULL;
            cJSON *node = f->node;
            if (f->anchor) {
                add_anchor(&L, f->anchor, node);
                free(f->anchor);
                f->anchor = NULL;
            }
            L.depth--;
            wih_pos npos;
            wih_ydocs_pos(d, node, &npos);
            attach(&L, node, npos, true);
            break;
        }
        case YAML_ALIAS_EVENT: {
            const char *a = (const char *)ev.data.alias.anchor;
            cJSON *target = NULL;
            for (size_t i = 0; i < L.nanchors; i++)
                if (!strcmp(L.anchors[i].name, a)) target = L.anchors[i].node;
            if (!target) {
                fail_at(&L, pos, "alias *%s names no anchor defined before it", a);
                break;
            }
            L.nodes += count_nodes(target);
            if (L.nodes > WIH_YAML_MAX_NODES) {
                fail_at(&L, pos, "aliases expand to more than %d nodes", WIH_YAML_MAX_NODES);
                break;
            }
            cJSON *c = cJSON_Duplicate(target, 1);
            copy_positions(d, target, c);
            pos_put(d, c, pos);
            attach(&L, c, pos, true);
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (L.err) {
        loader_reset_doc(&L);
        cJSON_Delete(L.root);
        free(L.anchors);
        *err = L.err;
        wih_ydocs_free(d);
        return NULL;
    }
    free(L.anchors);
    return d;
}

wih_ydocs *wih_yaml_load_file(const char *path, wih_err **err)
{
    size_t len = 0;
    char *text;
    if (!strcmp(path, "-")) {
        wih_buf b;
        wih_buf_init(&b, WIH_YAML_MAX_BYTES);
        char chunk[8192];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            if (wih_buf_add(&b, chunk, n) != 0) {
                *err = wih_err_new(WIH_EXIT_INPUT, "<stdin>: larger than the %zu-byte limit", WIH_YAML_MAX_BYTES);
                wih_buf_free(&b);
                return NULL;
            }
        len = b.len;
        text = wih_buf_take(&b);
        path = "<stdin>";
    } else {
        text = wih_read_file(path, WIH_YAML_MAX_BYTES, &len, err);
        if (!text) return NULL;
    }
    wih_ydocs *d = wih_yaml_load_string(path, text, len, err);
    free(text);
    return d;
}

void wih_ydocs_free(wih_ydocs *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->n; i++)
        if (!d->detached[i]) cJSON_Delete(d->roots[i]);
    free(d->roots);
    free(d->detached);
    wih_posmap_free(d->pos);
    free(d->name);
    free(d);
}

size_t wih_ydocs_count(const wih_ydocs *d)
{
    return d ? d->n : 0;
}

cJSON *wih_ydocs_root(const wih_ydocs *d, size_t i)
{
    return d && i < d->n && !d->detached[i] ? d->roots[i] : NULL;
}

cJSON *wih_ydocs_detach(wih_ydocs *d, size_t i)
{
    if (!d || i >= d->n || d->detached[i]) return NULL;
    d->detached[i] = true;
    return d->roots[i];
}

const char *wih_ydocs_name(const wih_ydocs *d)
{
    return d ? d->name : "<input>";
}

wih_err *wih_ydocs_err(const wih_ydocs *d, const cJSON *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(WIH_EXIT_INPUT, fmt, ap);
    va_end(ap);
    e->file = wih_strdup(wih_ydocs_name(d));
    wih_pos p;
    if (wih_ydocs_pos(d, node, &p)) {
        e->line = p.line;
        e->col = p.col;
    }
    return e;
}

cJSON *wih_yaml_load_one(const char *path, wih_ydocs **keep, wih_err **err)
{
    wih_ydocs *d = wih_yaml_load_file(path, err);
    if (!d) return NULL;
    size_t real = 0, idx = 0;
    for (size_t i = 0; i < d->n; i++)
        if (!cJSON_IsNull(d->roots[i])) {
            real++;
            idx = i;
        }
    if (real != 1) {
        *err = wih_err_at(WIH_EXIT_INPUT, wih_ydocs_name(d), 0, 0, "expected exactly one YAML document, found %zu",
                          real);
        wih_ydocs_free(d);
        return NULL;
    }
    cJSON *root = d->roots[idx];
    if (keep)
        *keep = d;
    else {
        root = wih_ydocs_detach(d, idx);
        wih_ydocs_free(d);
    }
    return root;
}

cJSON *wih_json_parse(const char *name, const char *text, wih_err **err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (j) return j;
    int line = 1, col = 1;
    for (const char *p = text; end && p < end && *p; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else
            col++;
    }
    *err = wih_err_at(WIH_EXIT_INPUT, name ? name : "<json>", line, col, "invalid JSON");
    return NULL;
}

/* ------------------------------------------------------------ emitter */
static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    return wih_buf_add(data, buffer, size) == 0;
}

static bool emit_ev(yaml_emitter_t *em, yaml_event_t *ev)
{
    return yaml_emitter_emit(em, ev) != 0;
}

static bool emit_scalar(yaml_emitter_t *em, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    return emit_ev(em, &ev);
}

static void number_text(double v, char *buf, size_t n)
{
    if (v == floor(v) && fabs(v) < 1e18) {
        snprintf(buf, n, "%lld", (long long)v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
}

static bool emit_node(yaml_emitter_t *em, const cJSON *n)
{
    yaml_event_t ev;
    if (cJSON_IsObject(n) || cJSON_IsArray(n)) {
        bool obj = cJSON_IsObject(n);
        bool empty = n->child == NULL;
        if (obj)
            yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                empty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
        else
            yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                 empty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
        if (!emit_ev(em, &ev)) return false;
        for (const cJSON *c = n->child; c; c = c->next) {
            if (obj) {
                const char *k = c->string ? c->string : "";
                yaml_scalar_style_t ks = wih_yaml_resolve_plain(k, NULL, NULL, NULL) == WIH_YS_STRING
                                             ? YAML_ANY_SCALAR_STYLE
                                             : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                if (!emit_scalar(em, k, ks)) return false;
            }
            if (!emit_node(em, c)) return false;
        }
        if (obj)
            yaml_mapping_end_event_initialize(&ev);
        else
            yaml_sequence_end_event_initialize(&ev);
        return emit_ev(em, &ev);
    }
    if (cJSON_IsString(n)) {
        const char *s = n->valuestring;
        yaml_scalar_style_t st = YAML_ANY_SCALAR_STYLE;
        if (wih_yaml_resolve_plain(s, NULL, NULL, NULL) != WIH_YS_STRING)
            st = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        else if (strchr(s, '\n'))
            st = YAML_LITERAL_SCALAR_STYLE;
        return emit_scalar(em, s, st);
    }
    if (cJSON_IsBool(n)) return emit_scalar(em, cJSON_IsTrue(n) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
    if (cJSON_IsNumber(n)) {
        char buf[64];
        number_text(n->valuedouble, buf, sizeof buf);
        return emit_scalar(em, buf, YAML_PLAIN_SCALAR_STYLE);
    }
    if (cJSON_IsRaw(n)) return emit_scalar(em, n->valuestring, YAML_PLAIN_SCALAR_STYLE);
    return emit_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
}

char *wih_yaml_emit_stream(const cJSON *const *nodes, size_t n)
{
    wih_buf b;
    wih_buf_init(&b, 0);
    yaml_emitter_t em;
    if (!yaml_emitter_initialize(&em)) abort();
    yaml_emitter_set_output(&em, write_handler, &b);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, -1);
    yaml_emitter_set_indent(&em, 2);
    yaml_event_t ev;
    bool ok = true;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = emit_ev(&em, &ev);
    for (size_t i = 0; ok && i < n; i++) {
        yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, i == 0);
        ok = emit_ev(&em, &ev) && emit_node(&em, nodes[i]);
        if (ok) {
            yaml_document_end_event_initialize(&ev, 1);
            ok = emit_ev(&em, &ev);
        }
    }
    if (ok) {
        yaml_stream_end_event_initialize(&ev);
        ok = emit_ev(&em, &ev);
    }
    yaml_emitter_delete(&em);
    if (!ok) {
        wih_buf_free(&b);
        return wih_strdup("# wiharness: could not emit YAML\n");
    }
    return wih_buf_take(&b);
}

char *wih_yaml_emit(const cJSON *node)
{
    return wih_yaml_emit_stream(&node, 1);
}
