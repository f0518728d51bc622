/* The facts object: SOURCE objects with positions, loading --values/--sa
 * files, JSON pointers and `where` strings. */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

/* ------------------------------------------------------------ JSON pointers */
char *diag_ptr_join(const char *base, const char *key)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, base ? base : "");
    wih_buf_adds(&b, "/");
    for (const char *p = key; *p; p++) {
        if (*p == '~')
            wih_buf_adds(&b, "~0");
        else if (*p == '/')
            wih_buf_adds(&b, "~1");
        else
            wih_buf_add(&b, p, 1);
    }
    return wih_buf_take(&b);
}

static char *ptr_index(const char *base, int i)
{
    return wih_asprintf("%s/%d", base ? base : "", i);
}

const cJSON *diag_ptr_get(const cJSON *root, const char *ptr)
{
    const cJSON *cur = root;
    const char *p = ptr;
    while (cur && *p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        char *tok = wih_xmalloc(n + 1);
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                tok[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else
                tok[k++] = p[i];
        }
        tok[k] = '\0';
        if (cJSON_IsArray(cur)) {
            char *end;
            long idx = strtol(tok, &end, 10);
            cur = *tok && !*end ? cJSON_GetArrayItem(cur, (int)idx) : NULL;
        } else if (cJSON_IsObject(cur))
            cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
        else
            cur = NULL;
        free(tok);
        p += n;
    }
    return *p ? NULL : cur;
}

/* ----------------------------------------------------------------- sources */
static void index_pos(const wih_ydocs *d, const cJSON *n, const char *ptr, cJSON *pos)
{
    wih_pos p;
    if (wih_ydocs_pos(d, n, &p)) {
        cJSON *a = cJSON_CreateArray();
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p.line));
        cJSON_AddItemToArray(a, cJSON_CreateNumber(p.col));
        cJSON_AddItemToObject(pos, ptr, a);
    }
    const cJSON *ch;
    int i = 0;
    cJSON_ArrayForEach(ch, n)
    {
        char *cp = cJSON_IsArray(n) ? ptr_index(ptr, i) : diag_ptr_join(ptr, ch->string);
        index_pos(d, ch, cp, pos);
        free(cp);
        i++;
    }
}

cJSON *diag_source(const char *file, const wih_ydocs *docs, size_t doc)
{
    return diag_source_node(file, docs, doc, wih_ydocs_root(docs, doc));
}

cJSON *diag_source_node(const char *file, const wih_ydocs *docs, size_t doc, const cJSON *node)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "file", file);
    cJSON_AddNumberToObject(s, "doc", (double)doc);
    cJSON_AddItemToObject(s, "tree", node ? cJSON_Duplicate(node, 1) : cJSON_CreateNull());
    cJSON *pos = cJSON_AddObjectToObject(s, "pos");
    if (node) index_pos(docs, node, "", pos);
    return s;
}

char *diag_where(const cJSON *src, const char *ptr)
{
    const char *file = diag_str(src, "file");
    if (!file) file = "?";
    const cJSON *pos = diag_obj(src, "pos");
    char *p = wih_strdup(ptr ? ptr : "");
    for (;;) {
        const cJSON *a = pos ? cJSON_GetObjectItemCaseSensitive(pos, p) : NULL;
        if (cJSON_IsArray(a) && cJSON_GetArraySize(a) == 2) {
            char *w = wih_asprintf("%s:%d:%d", file, cJSON_GetArrayItem(a, 0)->valueint,
                                   cJSON_GetArrayItem(a, 1)->valueint);
            free(p);
            return w;
        }
        char *slash = strrchr(p, '/');
        if (!slash || !pos || !pos->child) break;
        *slash = '\0';
    }
    free(p);
    return ptr && *ptr ? wih_asprintf("%s#%s", file, ptr) : wih_strdup(file);
}

char *diag_where_facts(const char *ptr)
{
    return wih_asprintf("facts#%s", ptr);
}

const char *diag_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *diag_obj(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
    return cJSON_IsObject(v) ? v : NULL;
}

/* ------------------------------------------------------------------ loading */
/* What OSMO itself refuses in a values file (a podTemplates that is not a map,
 * a template that cannot merge), with the file's positions: the rules then see
 * only values OSMO accepts. services.configs.enabled is forced on in the
 * loaded tree (it was copied into the facts already) so the templates are read. */
static wih_err *validate_values(wih_ydocs *d, cJSON *root)
{
    cJSON *svc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "services"), "configs");
    if (cJSON_IsObject(svc)) {
        cJSON *en = cJSON_GetObjectItemCaseSensitive(svc, "enabled");
        if (en) {
            en->type = cJSON_True; /* same node: its position stays */
        } else
            cJSON_AddTrueToObject(svc, "enabled");
    }
    wih_err *e = NULL;
    osmo_config *c = osmo_config_from_tree(root, d, OSMO_MODE_AUTO, &e);
    if (!c) return e;
    const cJSON *p;
    cJSON_ArrayForEach(p, c->pools)
    {
        if (!cJSON_IsObject(p)) {
            e = osmo_err_at(c->pm, p, "pool \"%s\" must be a map", p->string);
            break;
        }
        cJSON *acc = cJSON_CreateObject();
        const char *lists[] = {"common_pod_template", NULL};
        const cJSON *n;
        for (int i = 0; lists[i] && !e; i++) {
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, lists[i]);
            if (l && !cJSON_IsNull(l) && !cJSON_IsArray(l)) {
                e = osmo_err_at(c->pm, l, "%s must be a list of pod template names", lists[i]);
                break;
            }
            cJSON_ArrayForEach(n, l)
            {
                if (!cJSON_IsString(n)) {
                    e = osmo_err_at(c->pm, n, "a pod template name must be a string");
                    break;
                }
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->pod_templates, n->valuestring);
                if (t && osmo_merge(acc, t, c->pm, &e)) {
                    e = wih_err_wrap(e, "pool \"%s\": merging pod template \"%s\"", p->string, n->valuestring);
                    break;
                }
            }
        }
        cJSON_Delete(acc);
        if (e) break;
    }
    osmo_config_free(c);
    return e;
}

static wih_err *check_k8s_object(const wih_ydocs *d, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return wih_ydocs_err(d, root, "a ServiceAccount manifest document must be a map (apiVersion, kind, metadata)");
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!cJSON_IsString(kind) || !*kind->valuestring)
        return wih_ydocs_err(d, kind ? kind : root, "a Kubernetes object needs a string \"kind\"");
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    if (!cJSON_IsObject(md)) return wih_ydocs_err(d, md ? md : root, "\"metadata\" must be a map");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(md, "name");
    if (!cJSON_IsString(name) || !*name->valuestring)
        return wih_ydocs_err(d, name ? name : md, "metadata.name must be a non-empty string");
    for (int i = 0; i < 2; i++) {
        const char *k = i ? "labels" : "annotations";
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(md, k), *v;
        if (!m || cJSON_IsNull(m)) continue;
        if (!cJSON_IsObject(m)) return wih_ydocs_err(d, m, "metadata.%s must be a map of strings", k);
        cJSON_ArrayForEach(v, m) if (!cJSON_IsString(v) && !(i == 1 && cJSON_IsBool(v)))
            return wih_ydocs_err(d, v, "metadata.%s.%s must be a string (quote it)", k, v->string);
    }
    return NULL;
}

/* One SOURCE per object; a `kind: List` (what `kubectl get sa -o yaml` prints)
 * contributes each of its items, positions kept. */
static int add_objects(cJSON *arr, const char *path, const wih_ydocs *d, size_t i, const cJSON *root, wih_err **err)
{
    const char *kind = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "kind"));
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
    if (cJSON_IsObject(root) && kind && !strcmp(kind, "List") && cJSON_IsArray(items)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            if ((*err = check_k8s_object(d, it))) return -1;
            cJSON *s = diag_source_node(path, d, i, it);
            cJSON_AddItemToArray(arr, s);
        }
        return 0;
    }
    if ((*err = check_k8s_object(d, root))) return -1;
    cJSON_AddItemToArray(arr, diag_source(path, d, i));
    return 0;
}

static int load_sa_file(cJSON *arr, const char *path, wih_err **err)
{
    wih_ydocs *d = wih_yaml_load_file(path, err);
    if (!d) return -1;
    int before = cJSON_GetArraySize(arr);
    for (size_t i = 0; i < wih_ydocs_count(d); i++) {
        const cJSON *root = wih_ydocs_root(d, i);
        if (cJSON_IsNull(root)) continue;
        if (add_objects(arr, path, d, i, root, err)) {
            wih_ydocs_free(d);
            return -1;
        }
    }
    wih_ydocs_free(d);
    if (cJSON_GetArraySize(arr) == before) {
        *err = wih_err_at(WIH_EXIT_INPUT, path, 0, 0, "no Kubernetes object in the file");
        return -1;
    }
    return 0;
}

cJSON *diag_facts_load(const diag_load_opts *o, wih_err **err)
{
    cJSON *f = cJSON_CreateObject();
    if (o->profile) cJSON_AddStringToObject(f, "profile", o->profile);
    if (o->pool) cJSON_AddStringToObject(f, "pool", o->pool);
    if (o->platform) cJSON_AddStringToObject(f, "platform", o->platform);
    if (o->namespace_) cJSON_AddStringToObject(f, "namespace", o->namespace_);
    if (o->values) {
        wih_ydocs *d = wih_yaml_load_file(o->values, err);
        if (!d) goto fail;
        size_t idx = 0, real = 0;
        for (size_t i = 0; i < wih_ydocs_count(d); i++)
            if (!cJSON_IsNull(wih_ydocs_root(d, i))) idx = i, real++;
        const cJSON *root = wih_ydocs_root(d, idx);
        if (real > 1 || (root && !cJSON_IsNull(root) && !cJSON_IsObject(root))) {
            *err = real > 1 ? wih_err_at(WIH_EXIT_INPUT, o->values, 0, 0,
                                         "a values file holds one YAML document, found %zu", real)
                            : wih_ydocs_err(d, root, "a values file must be a map");
            wih_ydocs_free(d);
            goto fail;
        }
        cJSON_AddItemToObject(f, "values", diag_source(o->values, d, idx));
        wih_err *ve = root && !cJSON_IsNull(root) ? validate_values(d, (cJSON *)root) : NULL;
        wih_ydocs_free(d);
        if (ve) {
            *err = ve;
            goto fail;
        }
    }
    if (o->workflow) {
        wih_ydocs *d = NULL;
        cJSON *wf = wih_yaml_load_one(o->workflow, &d, err);
        if (!wf) goto fail;
        /* wf belongs to d (kept for positions) */
        if (osmo_workflow_check(wf, d, err)) {
            wih_ydocs_free(d);
            goto fail;
        }
        cJSON_AddItemToObject(f, "workflow", diag_source_node(o->workflow, d, 0, wf));
        wih_ydocs_free(d);
    }
    cJSON *sas = cJSON_AddArrayToObject(f, "service_accounts");
    for (size_t i = 0; i < o->nsa; i++)
        if (load_sa_file(sas, o->sa[i], err)) goto fail;
    return f;
fail:
    cJSON_Delete(f);
    return NULL;
}

/* ------------------------------------------------------------ decision logs */
cJSON *diag_jsonl(const char *text, const char *field, const char *value)
{
    cJSON *out = cJSON_CreateArray();
    const char *p = text ? text : "";
    while (*p) {
        size_t n = strcspn(p, "\n");
        char *line = wih_xmalloc(n + 1);
        memcpy(line, p, n);
        line[n] = '\0';
        cJSON *o = cJSON_Parse(line);
        free(line);
        const char *v = field ? cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, field)) : NULL;
        if (cJSON_IsObject(o) && (!field || (v && value && !strcmp(v, value))))
            cJSON_AddItemToArray(out, o);
        else
            cJSON_Delete(o);
        p += n;
        if (*p) p++;
    }
    return out;
}
