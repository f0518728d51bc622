/* Helpers the static and runtime rules share: the facts' ServiceAccounts, the
 * pool templates as OSMO merges them, positions, decision-log lines. */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

/* ---------------------------------------------------------------- helpers */
bool diag_is_sa(const cJSON *src)
{
    const char *k = diag_str(diag_obj(src, "tree"), "kind");
    return k && !strcmp(k, "ServiceAccount");
}

const char *diag_annotation(const cJSON *obj, const char *key)
{
    return diag_str(diag_obj(diag_obj(obj, "metadata"), "annotations"), key);
}

const cJSON *diag_sa_list(const diag_ctx *c)
{
    return cJSON_GetObjectItemCaseSensitive(c->facts, "service_accounts");
}

const char *diag_obj_name(const cJSON *src)
{
    const char *n = diag_str(diag_obj(diag_obj(src, "tree"), "metadata"), "name");
    return n ? n : "?";
}

char *diag_ann_ptr(const char *kind, const char *key)
{
    char *b = wih_asprintf("/metadata/%s", kind);
    char *p = diag_ptr_join(b, key);
    free(b);
    return p;
}

char *diag_sa_where(const cJSON *src, const char *kind, const char *key)
{
    char *p = key ? diag_ann_ptr(kind, key) : kind ? wih_asprintf("/metadata/%s", kind) : wih_strdup("/metadata");
    char *w = diag_where(src, p);
    free(p);
    return w;
}

bool diag_has_sa(const diag_ctx *c)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c)) if (diag_is_sa(s)) return true;
    return false;
}

const cJSON *diag_sa_named(const diag_ctx *c, const char *name)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c)) if (diag_is_sa(s) && !strcmp(diag_obj_name(s), name)) return s;
    return NULL;
}

/* The user's node of template `name` (+ sub pointer), or NULL when the
 * template is the chart's. */
const cJSON *diag_user_tpl(const diag_ctx *c, const char *name)
{
    if (!c->values) return NULL;
    char *p = diag_ptr_join(c->tbase, name);
    const cJSON *t = diag_ptr_get(diag_obj(c->values, "tree"), p);
    free(p);
    return t;
}

char *diag_tpl_where(const diag_ctx *c, const char *name, const char *sub)
{
    char *p = diag_ptr_join(c->tbase, name);
    char *full = wih_asprintf("%s%s", p, sub ? sub : "");
    char *w = diag_user_tpl(c, name) ? diag_where(c->values, full)
                                : wih_asprintf("<chart defaults>#/podTemplates/%s%s", name, sub ? sub : "");
    free(p);
    free(full);
    return w;
}

const char *diag_values_file(const diag_ctx *c)
{
    const char *f = diag_str(c->values, "file");
    return f ? f : "the values file";
}

/* Template names of a pool in merge order (common, then the platform's
 * overrides), as a new array of strings. */
cJSON *diag_pool_names(const diag_ctx *c, const char *pool)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c->cfg->pools, pool), *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(p, "common_pod_template"))
        if (cJSON_IsString(n)) cJSON_AddItemToArray(out, cJSON_CreateString(n->valuestring));
    const char *plat = c->platform ? c->platform : diag_str(p, "default_platform");
    const cJSON *pl = diag_obj(diag_obj(p, "platforms"), plat ? plat : "default");
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(pl, "override_pod_template"))
        if (cJSON_IsString(n)) cJSON_AddItemToArray(out, cJSON_CreateString(n->valuestring));
    return out;
}

const cJSON *diag_tpl(const diag_ctx *c, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(c->cfg->pod_templates, name);
}

/* The merged (un-rendered) template of a pool; NULL when OSMO's merge fails
 * (the render command reports that error). */
cJSON *diag_merged(const diag_ctx *c, const char *pool)
{
    cJSON *names = diag_pool_names(c, pool), *n;
    cJSON *acc = cJSON_CreateObject();
    cJSON_ArrayForEach(n, names)
    {
        const cJSON *t = diag_tpl(c, n->valuestring);
        wih_err *e = NULL;
        if (t && osmo_merge(acc, t, NULL, &e)) {
            wih_err_free(e);
            cJSON_Delete(acc);
            acc = NULL;
            break;
        }
    }
    cJSON_Delete(names);
    return acc;
}

/* The template of the pool that sets spec.serviceAccountName last (the one
 * that wins), or NULL. */
const char *diag_sa_setter(const diag_ctx *c, const char *pool, const char **sa)
{
    cJSON *names = diag_pool_names(c, pool), *n;
    const char *who = NULL;
    *sa = NULL;
    cJSON_ArrayForEach(n, names)
    {
        const char *s = diag_str(diag_obj(diag_tpl(c, n->valuestring), "spec"), "serviceAccountName");
        if (s) {
            *sa = s;
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(c->cfg->pod_templates, n->valuestring);
            who = k ? k->string : NULL;
        }
    }
    cJSON_Delete(names);
    return who;
}


/* Whether a ServiceAccount matters: when the evaluated pools name their
 * ServiceAccount(s), only those (a `default` SA in the same List is not a
 * misconfiguration); otherwise every one given. */
bool diag_sa_relevant(const diag_ctx *c, const cJSON *src)
{
    if (!c->cfg) return true;
    bool named = false;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        const char *sa;
        if (!diag_sa_setter(c, p->valuestring, &sa)) continue;
        named = true;
        if (!strcmp(sa, diag_obj_name(src))) return true;
    }
    return !named;
}

/* Runtime facts: the webhook decision lines as objects (new array). */
cJSON *diag_wlog(const diag_ctx *c)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(c->facts, "webhook_log"))
    {
        cJSON *o = cJSON_IsString(l) ? cJSON_Parse(l->valuestring) : cJSON_Duplicate(l, 1);
        cJSON_AddItemToArray(out, o ? o : cJSON_CreateObject());
    }
    return out;
}

bool diag_emitted(const diag_ctx *c, const char *id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, c->findings) if (!strcmp(diag_str(f, "id"), id)) return true;
    return false;
}

/* The first webhook line whose decision is `dec` and whose reason/message
 * contains `needle`; its index in *idx. */
const cJSON *diag_wlog_find(cJSON *lines, const char *dec, const char *needle, int *idx)
{
    const cJSON *l;
    int i = 0;
    cJSON_ArrayForEach(l, lines)
    {
        const char *d = diag_str(l, "decision"), *r = diag_str(l, "reason"), *m = diag_str(l, "message");
        if (d && !strcmp(d, dec) && ((r && strstr(r, needle)) || (m && strstr(m, needle)))) {
            *idx = i;
            return l;
        }
        i++;
    }
    return NULL;
}

char *diag_wl_where(int i)
{
    char *p = wih_asprintf("/webhook_log/%d", i);
    char *w = diag_where_facts(p);
    free(p);
    return w;
}

