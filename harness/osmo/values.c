/* Helm values in OSMO's three shapes, layered over the chart defaults the way
 * Helm layers values (maps deep-merged, lists and scalars replaced), and the
 * pool/platform template built from them with OSMO's merge. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/osmo.h"

/* The chart defaults as osmo.md lists them (NVIDIA/OSMO deployments/charts,
 * services.configs.podTemplates / pools). */
static const char k_defaults_yaml[] =
    "podTemplates:\n"
    "  default_ctrl:\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: osmo-ctrl\n"
    "        resources:\n"
    "          limits:\n"
    "            cpu: \"{{USER_CPU}}\"\n"
    "            memory: \"{{USER_MEMORY}}\"\n"
    "            ephemeral-storage: \"{{USER_STORAGE}}\"\n"
    "          requests:\n"
    "            cpu: \"1\"\n"
    "            memory: 1Gi\n"
    "            ephemeral-storage: 1Gi\n"
    "  default_user:\n"
    "    spec:\n"
    "      containers:\n"
    "      - name: \"{{USER_CONTAINER_NAME}}\"\n"
    "        resources:\n"
    "          limits:\n"
    "            cpu: \"{{USER_CPU}}\"\n"
    "            memory: \"{{USER_MEMORY}}\"\n"
    "            nvidia.com/gpu: \"{{USER_GPU}}\"\n"
    "            ephemeral-storage: \"{{USER_STORAGE}}\"\n"
    "          requests:\n"
    "            cpu: \"{{USER_CPU}}\"\n"
    "            memory: \"{{USER_MEMORY}}\"\n"
    "            nvidia.com/gpu: \"{{USER_GPU}}\"\n"
    "            ephemeral-storage: \"{{USER_STORAGE}}\"\n"
    "pools:\n"
    "  default:\n"
    "    backend: default\n"
    "    default_platform: default\n"
    "    common_pod_template:\n"
    "    - default_ctrl\n"
    "    - default_user\n"
    "    common_default_variables:\n"
    "      USER_CPU: 1\n"
    "      USER_GPU: 0\n"
    "      USER_MEMORY: 1Gi\n"
    "      USER_STORAGE: 1Gi\n"
    "    platforms:\n"
    "      default: {}\n";

#define DEFAULTS_NAME "<chart defaults>"

cJSON *osmo_chart_defaults(void)
{
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string(DEFAULTS_NAME, k_defaults_yaml, sizeof k_defaults_yaml - 1, &e);
    if (!d) abort(); /* a built-in constant */
    cJSON *r = wih_ydocs_detach(d, 0);
    wih_ydocs_free(d);
    return r;
}

const char *osmo_mode_name(osmo_mode m)
{
    return m == OSMO_MODE_DATABASE ? "database" : m == OSMO_MODE_CONFIGMAP ? "configmap" : "auto";
}

const char *osmo_shape_name(osmo_shape s)
{
    switch (s) {
    case OSMO_SHAPE_SERVICES:
        return "services.configs";
    case OSMO_SHAPE_CONFIGURATION:
        return "configuration";
    case OSMO_SHAPE_DATABASE:
        return "database JSON";
    default:
        return "none";
    }
}

static void add_note(cJSON *notes, const char *code, const char *path, const char *msg)
{
    if (!notes) return;
    cJSON *n = cJSON_CreateObject();
    cJSON_AddStringToObject(n, "code", code);
    if (path) cJSON_AddStringToObject(n, "path", path);
    cJSON_AddStringToObject(n, "message", msg);
    cJSON_AddItemToArray(notes, n);
}

void osmo_helm_merge(cJSON *base, cJSON *over, const char *path, cJSON *notes)
{
    while (over->child) {
        cJSON *v = cJSON_DetachItemViaPointer(over, over->child);
        cJSON *old = cJSON_GetObjectItemCaseSensitive(base, v->string);
        char *p = path && *path ? wih_asprintf("%s.%s", path, v->string) : wih_strdup(v->string);
        if (old && cJSON_IsObject(old) && cJSON_IsObject(v)) {
            osmo_helm_merge(old, v, p, notes);
            cJSON_Delete(v);
        } else if (cJSON_IsNull(v) && old) {
            /* Helm: a null in a user file deletes the chart's key */
            cJSON_DeleteItemFromObjectCaseSensitive(base, v->string);
            cJSON_Delete(v);
        } else {
            if (old && cJSON_IsArray(old) && cJSON_IsArray(v)) {
                /* only worth a note when the replacement drops something of the
                 * chart's: the guide's own pool list (a superset) loses nothing */
                int dropped = 0;
                const cJSON *it;
                cJSON_ArrayForEach(it, old)
                {
                    bool kept = false;
                    const cJSON *nv;
                    cJSON_ArrayForEach(nv, v) kept = kept || cJSON_Compare(it, nv, 1);
                    dropped += !kept;
                }
                if (dropped) {
                    char *m = wih_asprintf("the values file replaces the chart's list %s (%d item(s)) with its own "
                                           "(%d item(s)), dropping %d of the chart's: Helm replaces lists, it never "
                                           "merges them",
                                           p, cJSON_GetArraySize(old), cJSON_GetArraySize(v), dropped);
                    add_note(notes, "helm-list-replaced", p, m);
                    free(m);
                }
            }
            if (old)
                cJSON_ReplaceItemViaPointer(base, old, v);
            else
                cJSON_AddItemToObject(base, v->string, v);
        }
        free(p);
    }
}

void osmo_config_free(osmo_config *c)
{
    if (!c) return;
    cJSON_Delete(c->pod_templates);
    cJSON_Delete(c->pools);
    cJSON_Delete(c->notes);
    osmo_posmap_free(c->pm);
    wih_ydocs_free(c->docs_[0]);
    wih_ydocs_free(c->docs_[1]);
    free(c);
}

static cJSON *obj_get(const cJSON *o, const char *k)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* Copy `from` (positions kept in pm). */
static cJSON *dupp(const cJSON *from, osmo_posmap *pm)
{
    cJSON *c = cJSON_Duplicate(from, 1);
    osmo_posmap_copy(pm, from, c);
    return c;
}

static void note_pos(osmo_config *c, const cJSON *node)
{
    cJSON *last = cJSON_GetArrayItem(c->notes, cJSON_GetArraySize(c->notes) - 1);
    const char *file;
    wih_pos p;
    if (last && osmo_posmap_get(c->pm, node, &file, &p)) {
        cJSON_AddStringToObject(last, "file", file);
        cJSON_AddNumberToObject(last, "line", p.line);
        cJSON_AddNumberToObject(last, "col", p.col);
    }
}

osmo_config *osmo_config_from_tree(const cJSON *root, const wih_ydocs *docs, osmo_mode mode, wih_err **err)
{
    osmo_config *c = wih_xcalloc(1, sizeof *c);
    c->pm = osmo_posmap_new();
    c->notes = cJSON_CreateArray();
    if (docs) osmo_posmap_add_docs(c->pm, docs);
    wih_ydocs *dd = wih_yaml_load_string(DEFAULTS_NAME, k_defaults_yaml, sizeof k_defaults_yaml - 1, err);
    if (!dd) {
        osmo_config_free(c);
        return NULL;
    }
    c->docs_[1] = dd;
    osmo_posmap_add_docs(c->pm, dd);
    cJSON *defaults = wih_ydocs_root(dd, 0);

    const cJSON *tpl = NULL, *pools = NULL;
    const char *prefix = "";
    if (root && !cJSON_IsNull(root) && !cJSON_IsObject(root)) {
        *err = osmo_err_at(c->pm, root, "a values file must be a map");
        osmo_config_free(c);
        return NULL;
    }
    const cJSON *svc = obj_get(obj_get(root, "services"), "configs");
    const cJSON *conf = obj_get(root, "configuration");
    if (svc) {
        c->shape = OSMO_SHAPE_SERVICES;
        prefix = "services.configs";
        const cJSON *en = obj_get(svc, "enabled");
        if (!cJSON_IsTrue(en)) {
            c->helm_ignored = true;
            char *m = wih_asprintf(
                "services.configs.enabled is %s: the chart renders no config ConfigMap, OSMO keeps its configs "
                "in the database and the podTemplates/pools in this file are silently ignored (set "
                "services.configs.enabled: true, or apply them with `osmo config update`)",
                en ? (cJSON_IsFalse(en) ? "false" : "not a boolean") : "unset (default false)");
            add_note(c->notes, "helm-configs-disabled", "services.configs.enabled", m);
            note_pos(c, en ? en : svc);
            free(m);
        } else {
            tpl = obj_get(svc, "podTemplates");
            pools = obj_get(svc, "pools");
        }
    } else if (conf) {
        c->shape = OSMO_SHAPE_CONFIGURATION;
        prefix = "configuration";
        tpl = obj_get(conf, "podTemplates");
        pools = obj_get(conf, "pools");
    } else if (obj_get(root, "POD_TEMPLATE") || obj_get(root, "pod_templates") || obj_get(root, "POOL") ||
               obj_get(root, "pools")) {
        c->shape = OSMO_SHAPE_DATABASE;
        tpl = obj_get(root, "POD_TEMPLATE");
        if (!tpl) tpl = obj_get(root, "pod_templates");
        pools = obj_get(root, "POOL");
        if (!pools) pools = obj_get(root, "pools");
        /* `osmo config show POOL` wraps the map in {"pools": {...}} */
        if (obj_get(pools, "pools") && cJSON_IsObject(obj_get(pools, "pools"))) pools = obj_get(pools, "pools");
    } else {
        c->shape = OSMO_SHAPE_NONE;
    }
    for (int k = 0; k < 2; k++) {
        const cJSON *x = k ? pools : tpl;
        if (x && !cJSON_IsObject(x)) {
            *err = osmo_err_at(c->pm, x, "%s must be a map of name → %s", k ? "pools" : "podTemplates",
                               k ? "pool" : "template");
            osmo_config_free(c);
            return NULL;
        }
    }
    c->mode = mode != OSMO_MODE_AUTO ? mode : c->shape == OSMO_SHAPE_DATABASE ? OSMO_MODE_DATABASE : OSMO_MODE_CONFIGMAP;

    if (c->shape == OSMO_SHAPE_DATABASE) {
        /* Database mode: what the API shows is already the whole config; no
         * Helm layering. Absent sections fall back to the defaults OSMO seeds. */
        c->pod_templates = tpl ? dupp(tpl, c->pm) : dupp(obj_get(defaults, "podTemplates"), c->pm);
        c->pools = pools ? dupp(pools, c->pm) : dupp(obj_get(defaults, "pools"), c->pm);
    } else {
        c->pod_templates = dupp(obj_get(defaults, "podTemplates"), c->pm);
        c->pools = dupp(obj_get(defaults, "pools"), c->pm);
        char *p1 = wih_asprintf("%s.podTemplates", prefix), *p2 = wih_asprintf("%s.pools", prefix);
        if (tpl) {
            cJSON *t = dupp(tpl, c->pm);
            osmo_helm_merge(c->pod_templates, t, p1, c->notes);
            cJSON_Delete(t);
        }
        if (pools) {
            cJSON *t = dupp(pools, c->pm);
            osmo_helm_merge(c->pools, t, p2, c->notes);
            cJSON_Delete(t);
        }
        free(p1);
        free(p2);
    }
    /* attach positions to helm-list-replaced notes (the list now in place) */
    cJSON *n;
    cJSON_ArrayForEach(n, c->notes)
    {
        const cJSON *code = cJSON_GetObjectItem(n, "code");
        const cJSON *path = cJSON_GetObjectItem(n, "path");
        if (strcmp(code->valuestring, "helm-list-replaced") || !path) continue;
        /* walk the path under pod_templates / pools */
        const char *ps = path->valuestring;
        const char *rest = strstr(ps, ".podTemplates.");
        const cJSON *cur = c->pod_templates;
        if (!rest) {
            rest = strstr(ps, ".pools.");
            cur = c->pools;
            if (rest) rest += 7;
        } else
            rest += 14;
        if (!rest) {
            if (!strncmp(ps, "podTemplates.", 13)) rest = ps + 13, cur = c->pod_templates;
            else if (!strncmp(ps, "pools.", 6)) rest = ps + 6, cur = c->pools;
        }
        char *copy = wih_strdup(rest ? rest : "");
        char *save = NULL;
        for (char *t = strtok_r(copy, ".", &save); t && cur; t = strtok_r(NULL, ".", &save))
            cur = obj_get(cur, t);
        free(copy);
        const char *file;
        wih_pos p;
        if (cur && rest && osmo_posmap_get(c->pm, cur, &file, &p)) {
            cJSON_AddStringToObject(n, "file", file);
            cJSON_AddNumberToObject(n, "line", p.line);
            cJSON_AddNumberToObject(n, "col", p.col);
        }
    }
    return c;
}

osmo_config *osmo_config_load_string(const char *name, const char *text, osmo_mode mode, wih_err **err)
{
    wih_ydocs *d = wih_yaml_load_string(name, text, strlen(text), err);
    if (!d) return NULL;
    size_t real = 0;
    const cJSON *root = NULL;
    for (size_t i = 0; i < wih_ydocs_count(d); i++)
        if (!cJSON_IsNull(wih_ydocs_root(d, i))) {
            real++;
            root = wih_ydocs_root(d, i);
        }
    if (real > 1) {
        *err = wih_err_at(WIH_EXIT_INPUT, name, 0, 0, "a values file holds one YAML document, found %zu", real);
        wih_ydocs_free(d);
        return NULL;
    }
    osmo_config *c = osmo_config_from_tree(root, d, mode, err);
    if (!c) {
        wih_ydocs_free(d);
        return NULL;
    }
    c->docs_[0] = d;
    return c;
}

osmo_config *osmo_config_load_file(const char *path, osmo_mode mode, wih_err **err)
{
    size_t len = 0;
    char *text = wih_read_file(path, WIH_YAML_MAX_BYTES, &len, err);
    if (!text) return NULL;
    osmo_config *c = osmo_config_load_string(path, text, mode, err);
    free(text);
    return c;
}

/* ------------------------------------------------------------ pool template */
static int add_templates(osmo_config *c, cJSON *acc, const cJSON *names, const char *what, wih_err **err)
{
    if (!names || cJSON_IsNull(names)) return 0;
    if (!cJSON_IsArray(names)) {
        *err = osmo_err_at(c->pm, names, "%s must be a list of pod template names", what);
        return -1;
    }
    const cJSON *nm;
    cJSON_ArrayForEach(nm, names)
    {
        if (!cJSON_IsString(nm)) {
            *err = osmo_err_at(c->pm, nm, "%s: a pod template name must be a string", what);
            return -1;
        }
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(c->pod_templates, nm->valuestring);
        if (!t) {
            if (c->mode == OSMO_MODE_DATABASE) {
                *err = osmo_err_at(c->pm, nm,
                                   "%s names pod template \"%s\", which does not exist (database mode: OSMO "
                                   "rejects the pool config)",
                                   what, nm->valuestring);
                return -1;
            }
            char *m = wih_asprintf("%s names pod template \"%s\", which does not exist: in ConfigMap mode OSMO "
                                   "logs a warning and skips it, so its settings silently do not apply",
                                   what, nm->valuestring);
            bool seen = false; /* one note per name, however many tasks render */
            const cJSON *prev;
            cJSON_ArrayForEach(prev, c->notes)
            {
                const cJSON *pm_ = cJSON_GetObjectItem(prev, "message");
                if (cJSON_IsString(pm_) && !strcmp(pm_->valuestring, m)) seen = true;
            }
            if (seen) {
                free(m);
                continue;
            }
            add_note(c->notes, "template-unknown-skipped", what, m);
            note_pos(c, nm);
            const cJSON *last = cJSON_GetArrayItem(c->notes, cJSON_GetArraySize(c->notes) - 1);
            const cJSON *f = cJSON_GetObjectItem(last, "file");
            if (f)
                wih_warn("%s:%d:%d: [template-unknown-skipped] %s", f->valuestring, cJSON_GetObjectItem(last, "line")->valueint,
                         cJSON_GetObjectItem(last, "col")->valueint, m);
            else
                wih_warn("[template-unknown-skipped] %s", m);
            free(m);
            continue;
        }
        if (osmo_merge(acc, t, c->pm, err)) {
            *err = wih_err_wrap(*err, "merging pod template \"%s\"", nm->valuestring);
            return -1;
        }
    }
    return 0;
}

cJSON *osmo_pool_template(osmo_config *c, const char *pool, const char *platform, wih_err **err)
{
    if (!pool) pool = "default";
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c->pools, pool);
    if (!p) {
        *err = wih_err_new(WIH_EXIT_INPUT, "no pool \"%s\" in the values (pools: %s)", pool,
                           c->pools && c->pools->child ? "see the file" : "none");
        return NULL;
    }
    if (!cJSON_IsObject(p)) {
        *err = osmo_err_at(c->pm, p, "pool \"%s\" must be a map", pool);
        return NULL;
    }
    if (!platform) {
        const cJSON *dp = obj_get(p, "default_platform");
        platform = cJSON_IsString(dp) ? dp->valuestring : "default";
    }
    const cJSON *plats = obj_get(p, "platforms");
    const cJSON *plat = obj_get(plats, platform);
    static const cJSON k_empty = {0, 0, 0, cJSON_Object, NULL, 0, 0, NULL};
    /* A pool written without `platforms` (common in Helm values): OSMO's
     * Pool model gives it no platform; we let the implicit "default" through
     * as an empty platform so such values still render. */
    if (!plat && !plats && !strcmp(platform, "default")) plat = &k_empty;
    if (!plat) {
        *err = osmo_err_at(c->pm, plats ? plats : p, "pool \"%s\" has no platform \"%s\"", pool, platform);
        return NULL;
    }
    cJSON *acc = cJSON_CreateObject();
    char *w1 = wih_asprintf("pools.%s.common_pod_template", pool);
    char *w2 = wih_asprintf("pools.%s.platforms.%s.override_pod_template", pool, platform);
    int rc = add_templates(c, acc, obj_get(p, "common_pod_template"), w1, err);
    if (!rc) rc = add_templates(c, acc, obj_get(plat, "override_pod_template"), w2, err);
    free(w1);
    free(w2);
    if (rc) {
        cJSON_Delete(acc);
        return NULL;
    }
    return acc;
}

/* ------------------------------------------------------------ values fragment */
cJSON *osmo_values_fragment(const osmo_values_opts *o, wih_err **err)
{
    if (!o->template_name || !*o->template_name) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--template NAME is required");
        return NULL;
    }
    if (!o->service_account || !*o->service_account) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--service-account SA is required");
        return NULL;
    }
    bool azure = false;
    if (o->profile) {
        if (!strcmp(o->profile, "azure-wi"))
            azure = true;
        else if (strcmp(o->profile, "aws-irsa") && strcmp(o->profile, "gcp-fleet")) {
            *err = wih_err_new(WIH_EXIT_INPUT, "unknown --profile \"%s\" (aws-irsa, azure-wi, gcp-fleet)", o->profile);
            return NULL;
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *cfg = cJSON_AddObjectToObject(cJSON_AddObjectToObject(root, "services"), "configs");
    if (!o->guide_exact) cJSON_AddTrueToObject(cfg, "enabled");
    cJSON *t = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cfg, "podTemplates"), o->template_name);
    if (azure) /* Azure WI mutates only pods labelled azure.workload.identity/use: "true" */
        cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(t, "metadata"), "labels"),
                                "azure.workload.identity/use", "true");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "spec"), "serviceAccountName", o->service_account);
    cJSON *pools = cJSON_AddObjectToObject(cfg, "pools");
    static const char *const k_def[] = {"default", NULL};
    const char *const *pl = o->pools && o->pools[0] ? o->pools : k_def;
    for (; *pl; pl++) {
        if (cJSON_GetObjectItemCaseSensitive(pools, *pl)) continue;
        /* Helm replaces the chart's list: repeat the defaults (guide step 4). */
        cJSON *l = cJSON_AddArrayToObject(cJSON_AddObjectToObject(pools, *pl), "common_pod_template");
        cJSON_AddItemToArray(l, cJSON_CreateString("default_user"));
        cJSON_AddItemToArray(l, cJSON_CreateString("default_ctrl"));
        cJSON_AddItemToArray(l, cJSON_CreateString(o->template_name));
    }
    return root;
}
