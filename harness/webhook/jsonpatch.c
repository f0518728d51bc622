/* RFC 6901 pointers, RFC 6902 patch application, and the diff that
 * controller-runtime's PatchResponseFromRaw produces (gomodules jsonpatch v2). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"

/* Split a pointer into unescaped tokens. Returns count, or -1 when malformed. */
static int ptr_split(const char *p, char ***out)
{
    *out = NULL;
    if (!*p) return 0;
    if (*p != '/') return -1;
    int n = 0;
    for (const char *q = p; *q; q++)
        if (*q == '/') n++;
    char **v = wih_xcalloc((size_t)n + 1, sizeof *v);
    int i = 0;
    const char *s = p + 1;
    for (;;) {
        const char *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char *t = wih_xmalloc(len + 1);
        size_t k = 0;
        for (size_t j = 0; j < len; j++) {
            if (s[j] == '~') {
                if (j + 1 < len && s[j + 1] == '0')
                    t[k++] = '~';
                else if (j + 1 < len && s[j + 1] == '1')
                    t[k++] = '/';
                else {
                    free(t);
                    for (int x = 0; x < i; x++) free(v[x]);
                    free(v);
                    return -1;
                }
                j++;
            } else
                t[k++] = s[j];
        }
        t[k] = 0;
        v[i++] = t;
        if (!e) break;
        s = e + 1;
    }
    *out = v;
    return i;
}

static void toks_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Array index token: digits without leading zero; "-" gives len when allow_end. */
static int arr_index(const char *t, int len, bool allow_end, int *idx)
{
    if (!strcmp(t, "-")) {
        if (!allow_end) return -1;
        *idx = len;
        return 0;
    }
    if (!*t || (t[0] == '0' && t[1]) ) return -1;
    long v = 0;
    for (const char *c = t; *c; c++) {
        if (!isdigit((unsigned char)*c)) return -1;
        v = v * 10 + (*c - '0');
        if (v > 1000000000L) return -1;
    }
    if (v > len || (!allow_end && v == len)) return -1;
    *idx = (int)v;
    return 0;
}

/* cJSON_InsertItemInArray of the packaged cJSON (1.7.15-1+deb12u4) silently
 * does nothing for a middle index; insert by re-linking through detach/add. */
void wh_array_insert(cJSON *arr, int idx, cJSON *item)
{
    cJSON *tail = cJSON_CreateArray();
    while (cJSON_GetArraySize(arr) > idx) cJSON_AddItemToArray(tail, cJSON_DetachItemFromArray(arr, idx));
    cJSON_AddItemToArray(arr, item);
    while (tail->child) cJSON_AddItemToArray(arr, cJSON_DetachItemFromArray(tail, 0));
    cJSON_Delete(tail);
}

static cJSON *child_of(cJSON *parent, const char *tok)
{
    if (cJSON_IsObject(parent)) return cJSON_GetObjectItemCaseSensitive(parent, tok);
    if (cJSON_IsArray(parent)) {
        int idx;
        if (arr_index(tok, cJSON_GetArraySize(parent), false, &idx)) return NULL;
        return cJSON_GetArrayItem(parent, idx);
    }
    return NULL;
}

/* Resolve all but the last token. */
static cJSON *resolve_parent(cJSON *doc, char **t, int n)
{
    cJSON *cur = doc;
    for (int i = 0; i < n - 1 && cur; i++) cur = child_of(cur, t[i]);
    return cur;
}

static cJSON *resolve(cJSON *doc, const char *path, char **errmsg)
{
    char **t;
    int n = ptr_split(path, &t);
    if (n < 0) {
        *errmsg = wih_asprintf("malformed JSON pointer \"%s\"", path);
        return NULL;
    }
    cJSON *cur = doc;
    for (int i = 0; i < n && cur; i++) cur = child_of(cur, t[i]);
    toks_free(t, n);
    if (!cur) *errmsg = wih_asprintf("path \"%s\" does not exist", path);
    return cur;
}

/* Insert `val` (owned) at path. replace_only: the target must exist. */
static int put(cJSON *doc, const char *path, cJSON *val, bool replace_only, char **errmsg)
{
    char **t;
    int n = ptr_split(path, &t);
    if (n < 0) {
        *errmsg = wih_asprintf("malformed JSON pointer \"%s\"", path);
        cJSON_Delete(val);
        return -1;
    }
    if (n == 0) {
        *errmsg = wih_strdup("replacing the document root is not supported");
        cJSON_Delete(val);
        return -1;
    }
    /* the value may carry the key it had elsewhere ("value", a moved key) */
    if (val->string && !(val->type & cJSON_StringIsConst)) cJSON_free(val->string);
    val->string = NULL;
    val->type &= ~cJSON_StringIsConst;
    cJSON *parent = resolve_parent(doc, t, n);
    const char *last = t[n - 1];
    int rc = 0;
    if (cJSON_IsObject(parent)) {
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(parent, last);
        if (cur)
            cJSON_ReplaceItemInObjectCaseSensitive(parent, last, val);
        else if (replace_only) {
            *errmsg = wih_asprintf("path \"%s\" does not exist", path);
            rc = -1;
        } else
            cJSON_AddItemToObject(parent, last, val);
    } else if (cJSON_IsArray(parent)) {
        int len = cJSON_GetArraySize(parent), idx;
        if (arr_index(last, len, !replace_only, &idx)) {
            *errmsg = wih_asprintf("index \"%s\" out of range in \"%s\"", last, path);
            rc = -1;
        } else if (replace_only)
            cJSON_ReplaceItemInArray(parent, idx, val);
        else if (idx == len)
            cJSON_AddItemToArray(parent, val);
        else
            wh_array_insert(parent, idx, val);
    } else {
        *errmsg = wih_asprintf("parent of \"%s\" does not exist or is not a container", path);
        rc = -1;
    }
    if (rc) cJSON_Delete(val);
    toks_free(t, n);
    return rc;
}

/* Detach the value at path (returned, owned). */
static cJSON *take(cJSON *doc, const char *path, char **errmsg)
{
    char **t;
    int n = ptr_split(path, &t);
    if (n <= 0) {
        *errmsg = wih_asprintf(n ? "malformed JSON pointer \"%s\"" : "cannot remove the document root%s", path);
        if (n > 0) toks_free(t, n);
        return NULL;
    }
    cJSON *parent = resolve_parent(doc, t, n);
    cJSON *item = parent ? child_of(parent, t[n - 1]) : NULL;
    toks_free(t, n);
    if (!item) {
        *errmsg = wih_asprintf("path \"%s\" does not exist", path);
        return NULL;
    }
    return cJSON_DetachItemViaPointer(parent, item);
}

int webhook_patch_apply(cJSON *doc, const cJSON *patch, char **errmsg)
{
    *errmsg = NULL;
    if (!cJSON_IsArray(patch)) {
        *errmsg = wih_strdup("a JSONPatch must be an array");
        return -1;
    }
    int i = 0;
    for (const cJSON *op = patch->child; op; op = op->next, i++) {
        const cJSON *jop = cJSON_GetObjectItemCaseSensitive(op, "op");
        const cJSON *jpath = cJSON_GetObjectItemCaseSensitive(op, "path");
        const cJSON *jval = cJSON_GetObjectItemCaseSensitive(op, "value");
        const cJSON *jfrom = cJSON_GetObjectItemCaseSensitive(op, "from");
        if (!cJSON_IsString(jop) || !cJSON_IsString(jpath)) {
            *errmsg = wih_asprintf("operation %d: needs string \"op\" and \"path\"", i);
            return -1;
        }
        const char *o = jop->valuestring, *path = jpath->valuestring;
        char *m = NULL;
        int rc = 0;
        if (!strcmp(o, "add") || !strcmp(o, "replace")) {
            if (!jval) {
                *errmsg = wih_asprintf("operation %d (%s %s): missing \"value\"", i, o, path);
                return -1;
            }
            rc = put(doc, path, cJSON_Duplicate(jval, 1), o[0] == 'r', &m);
        } else if (!strcmp(o, "remove")) {
            cJSON *x = take(doc, path, &m);
            rc = x ? 0 : -1;
            cJSON_Delete(x);
        } else if (!strcmp(o, "move") || !strcmp(o, "copy")) {
            if (!cJSON_IsString(jfrom)) {
                *errmsg = wih_asprintf("operation %d (%s %s): missing \"from\"", i, o, path);
                return -1;
            }
            cJSON *x;
            if (o[0] == 'm') {
                size_t fl = strlen(jfrom->valuestring);
                if (!strncmp(path, jfrom->valuestring, fl) && path[fl] == '/') {
                    *errmsg = wih_asprintf("operation %d: cannot move \"%s\" into itself", i, jfrom->valuestring);
                    return -1;
                }
                x = take(doc, jfrom->valuestring, &m);
            } else {
                cJSON *src = resolve(doc, jfrom->valuestring, &m);
                x = src ? cJSON_Duplicate(src, 1) : NULL;
            }
            rc = x ? put(doc, path, x, false, &m) : -1;
        } else if (!strcmp(o, "test")) {
            cJSON *cur = resolve(doc, path, &m);
            if (!cur)
                rc = -1;
            else if (!jval || !cJSON_Compare(cur, jval, 1)) {
                m = wih_asprintf("test failed at \"%s\"", path);
                rc = -1;
            }
        } else {
            *errmsg = wih_asprintf("operation %d: unknown op \"%s\"", i, o);
            return -1;
        }
        if (rc) {
            *errmsg = wih_asprintf("operation %d (%s %s): %s", i, o, path, m ? m : "failed");
            free(m);
            return -1;
        }
        free(m);
    }
    return 0;
}

/* ------------------------------------------------------------------- diff */
static char *esc_tok(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, "");
    for (; *s; s++) {
        if (*s == '~')
            wih_buf_adds(&b, "~0");
        else if (*s == '/')
            wih_buf_adds(&b, "~1");
        else
            wih_buf_add(&b, s, 1);
    }
    return wih_buf_take(&b);
}

static void add_op(cJSON *patch, const char *op, const char *path, const cJSON *val)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", op);
    cJSON_AddStringToObject(o, "path", path);
    if (val) cJSON_AddItemToObject(o, "value", cJSON_Duplicate(val, 1));
    cJSON_AddItemToArray(patch, o);
}

static int jtype(const cJSON *j)
{
    return j->type & 0xFF & ~(cJSON_False | cJSON_True) ? (j->type & 0xFF) : cJSON_True;
}

static void diff_rec(const cJSON *a, const cJSON *b, const char *path, cJSON *patch);

static void diff_obj(const cJSON *a, const cJSON *b, const char *path, cJSON *patch)
{
    for (const cJSON *bv = b->child; bv; bv = bv->next) {
        char *t = esc_tok(bv->string);
        char *p = wih_asprintf("%s/%s", path, t);
        free(t);
        const cJSON *av = cJSON_GetObjectItemCaseSensitive(a, bv->string);
        if (!av)
            add_op(patch, "add", p, bv);
        else
            diff_rec(av, bv, p, patch);
        free(p);
    }
    for (const cJSON *av = a->child; av; av = av->next) {
        if (cJSON_GetObjectItemCaseSensitive(b, av->string)) continue;
        char *t = esc_tok(av->string);
        char *p = wih_asprintf("%s/%s", path, t);
        free(t);
        add_op(patch, "remove", p, NULL);
        free(p);
    }
}

static void diff_rec(const cJSON *a, const cJSON *b, const char *path, cJSON *patch)
{
    if (jtype(a) != jtype(b)) {
        add_op(patch, "replace", path, b);
        return;
    }
    if (cJSON_IsObject(a)) {
        diff_obj(a, b, path, patch);
    } else if (cJSON_IsArray(a)) {
        int na = cJSON_GetArraySize(a), nb = cJSON_GetArraySize(b);
        int n = na < nb ? na : nb;
        for (int i = na - 1; i >= n; i--) {
            char *p = wih_asprintf("%s/%d", path, i);
            add_op(patch, "remove", p, NULL);
            free(p);
        }
        for (int i = n; i < nb; i++) {
            char *p = wih_asprintf("%s/%d", path, i);
            add_op(patch, "add", p, cJSON_GetArrayItem(b, i));
            free(p);
        }
        const cJSON *ai = a->child, *bi = b->child;
        for (int i = 0; i < n; i++, ai = ai->next, bi = bi->next) {
            char *p = wih_asprintf("%s/%d", path, i);
            diff_rec(ai, bi, p, patch);
            free(p);
        }
    } else if (!cJSON_Compare(a, b, 1)) {
        add_op(patch, "replace", path, b);
    }
}

cJSON *webhook_patch_diff(const cJSON *a, const cJSON *b)
{
    cJSON *patch = cJSON_CreateArray();
    diff_rec(a, b, "", patch);
    return patch;
}
