/* What the runner changes in the pods OSMO would create so they run here,
 * every change recorded (docs/runner.md "Changes"). Pure. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/runner.h"

static void add_change(cJSON *changes, const char *what, const char *path, const cJSON *from, const cJSON *to)
{
    if (!changes) return;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "what", what);
    cJSON_AddStringToObject(c, "path", path);
    cJSON_AddItemToObject(c, "from", from ? cJSON_Duplicate(from, true) : cJSON_CreateNull());
    cJSON_AddItemToObject(c, "to", to ? cJSON_Duplicate(to, true) : cJSON_CreateNull());
    cJSON_AddItemToArray(changes, c);
}

static void env_add(cJSON *env, const char *name, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "value", value);
    cJSON_AddItemToArray(env, e);
}

cJSON *runner_endpoints_template(const cJSON *pod_urls)
{
    const char *cloud = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pod_urls, "cloud"));
    const char *minio = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pod_urls, "minio"));
    if (!cloud || !minio) return NULL;
    cJSON *t = cJSON_CreateObject();
    cJSON *cs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(t, "spec"), "containers");
    static const char *const names[] = {"{{USER_CONTAINER_NAME}}", "osmo-ctrl"};
    for (int i = 0; i < 2; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", names[i]);
        cJSON *env = cJSON_AddArrayToObject(c, "env");
        env_add(env, "AWS_ENDPOINT_URL_STS", cloud);
        env_add(env, "AWS_ENDPOINT_URL_S3", minio);
        env_add(env, "AWS_REGION", "us-east-1");
        env_add(env, "WIH_CLOUD_URL", cloud);
        env_add(env, "WIH_MINIO_URL", minio);
        env_add(env, "WIH_S3_ENDPOINT", minio);
        cJSON_AddItemToArray(cs, c);
    }
    return t;
}

int runner_config_add_template(osmo_config *cfg, const char *pool, const char *name, const cJSON *tmpl,
                               cJSON *changes, wih_err **err)
{
    cJSON *p = cJSON_GetObjectItemCaseSensitive(cfg->pools, pool);
    if (!cJSON_IsObject(p)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "the values have no pool '%s'", pool);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(cfg->pod_templates, name);
    cJSON_AddItemToObject(cfg->pod_templates, name, cJSON_Duplicate(tmpl, true));
    cJSON *list = cJSON_GetObjectItemCaseSensitive(p, "common_pod_template");
    if (!cJSON_IsArray(list)) {
        cJSON_DeleteItemFromObjectCaseSensitive(p, "common_pod_template");
        list = cJSON_AddArrayToObject(p, "common_pod_template");
    }
    cJSON_AddItemToArray(list, cJSON_CreateString(name));
    char *what = wih_asprintf("+ pool template %s in pool %s: SDK endpoints -> the mock cloud and MinIO "
                              "(what an operator adds for a non-AWS S3 endpoint)", name, pool);
    char *path = wih_asprintf("pools.%s.common_pod_template", pool);
    cJSON *to = cJSON_CreateString(name);
    add_change(changes, what, path, NULL, to);
    cJSON_Delete(to);
    free(what);
    free(path);
    return 0;
}

/* Drop key k of obj when present, recording it. */
static void drop(cJSON *obj, const char *k, const char *what, const char *path, cJSON *changes)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, k);
    if (!v) return;
    add_change(changes, what, path, v, NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
}

/* env entries whose value comes from a Secret / ConfigMap OSMO's service creates */
static void drop_env_refs(cJSON *c, const char *base, cJSON *changes)
{
    cJSON *env = cJSON_GetObjectItemCaseSensitive(c, "env");
    for (int i = cJSON_GetArraySize(env) - 1; i >= 0; i--) {
        cJSON *e = cJSON_GetArrayItem(env, i);
        const cJSON *vf = cJSON_GetObjectItemCaseSensitive(e, "valueFrom");
        if (!cJSON_GetObjectItemCaseSensitive(vf, "secretKeyRef") && !cJSON_GetObjectItemCaseSensitive(vf, "configMapKeyRef"))
            continue;
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
        char *what = wih_asprintf("%s: env %s dropped (from a secret OSMO's service would create)", base, n ? n : "?");
        char *path = wih_asprintf("%s.env[name=%s]", base, n ? n : "?");
        add_change(changes, what, path, e, NULL);
        cJSON_DeleteItemFromArray(env, i);
        free(what);
        free(path);
    }
    char *what = wih_asprintf("%s: envFrom dropped (secrets OSMO's service would create)", base);
    char *path = wih_asprintf("%s.envFrom", base);
    drop(c, "envFrom", what, path, changes);
    free(what);
    free(path);
}

static cJSON *probe_args(const runner_adapt *a, bool main, bool init)
{
    cJSON *args = cJSON_CreateArray();
    if (init) {
        cJSON_AddItemToArray(args, cJSON_CreateString("version"));
        return args;
    }
    cJSON_AddItemToArray(args, cJSON_CreateString("probe"));
    cJSON_AddItemToArray(args, cJSON_CreateString("--profile"));
    cJSON_AddItemToArray(args, cJSON_CreateString(a->profile));
    const cJSON *x;
    if (main)
        cJSON_ArrayForEach(x, a->access)
        {
            cJSON_AddItemToArray(args, cJSON_CreateString("--access"));
            cJSON_AddItemToArray(args, cJSON_CreateString(x->valuestring));
        }
    return args;
}

static void adapt_container(cJSON *c, const runner_adapt *a, const char *kind, bool init, cJSON *changes)
{
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "name"));
    const char *main = a->main_container ? a->main_container : "osmo-ctrl";
    bool is_main = !init && name && !strcmp(name, main);
    char *base = wih_asprintf("spec.%s[name=%s]", kind, name ? name : "?");
    cJSON *img = cJSON_GetObjectItemCaseSensitive(c, "image");
    char *what = wih_asprintf("%s: image %s -> the probe image", base, cJSON_IsString(img) ? img->valuestring : "(none)");
    char *path = wih_asprintf("%s.image", base);
    cJSON *to = cJSON_CreateString(a->probe_image);
    add_change(changes, what, path, img, to);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "image");
    cJSON_AddItemToObject(c, "image", to);
    free(what);
    free(path);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "imagePullPolicy");
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    cJSON *args = probe_args(a, is_main, init);
    char *argtext = cJSON_PrintUnformatted(args);
    what = wih_asprintf("%s: command -> wiharness %s", base, argtext);
    path = wih_asprintf("%s.args", base);
    add_change(changes, what, path, cJSON_GetObjectItemCaseSensitive(c, "args"), args);
    free(argtext);
    free(what);
    free(path);
    cJSON_DeleteItemFromObjectCaseSensitive(c, "command");
    cJSON_DeleteItemFromObjectCaseSensitive(c, "args");
    cJSON_AddItemToObject(c, "args", args);
    drop_env_refs(c, base, changes);
    char *rw = wih_asprintf("%s: resources dropped (the node is small)", base);
    char *rp = wih_asprintf("%s.resources", base);
    drop(c, "resources", rw, rp, changes);
    free(rw);
    free(rp);
    free(base);
}

void runner_adapt_pod(cJSON *pod, const runner_adapt *a, cJSON *changes)
{
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec"), *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "initContainers"))
        adapt_container(c, a, "initContainers", true, changes);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, "containers"))
        adapt_container(c, a, "containers", false, changes);
    drop(cJSON_GetObjectItemCaseSensitive(pod, "metadata"), "finalizers",
         "finalizers dropped (no OSMO controller here to remove them)", "metadata.finalizers", changes);
    drop(spec, "imagePullSecrets", "imagePullSecrets dropped (secrets OSMO's service would create)",
         "spec.imagePullSecrets", changes);
}

/* ------------------------------------------------------------ access list */
static void add_unique(cJSON *list, const char *op, const char *url)
{
    char *s = wih_asprintf("%s:%s", op, url);
    const cJSON *x;
    bool seen = false;
    cJSON_ArrayForEach(x, list) seen = seen || !strcmp(x->valuestring, s);
    if (!seen) cJSON_AddItemToArray(list, cJSON_CreateString(s));
    free(s);
}

static const cJSON *find_task(const cJSON *wf, const char *task)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(wf, "workflow"), *t, *g;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(w, "tasks"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "name"));
        if (n && task && !strcmp(n, task)) return t;
    }
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(w, "groups"))
    {
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(g, "tasks"))
        {
            const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(t, "name"));
            if (n && task && !strcmp(n, task)) return t;
        }
    }
    return NULL;
}

cJSON *runner_access_list(const cJSON *workflow, const char *task, const scn_scenario *s, const scn_vars *v,
                          const char *profile, wih_err **err)
{
    cJSON *list = cJSON_CreateArray();
    const cJSON *t = find_task(workflow, task), *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t, "inputs"))
    {
        const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "url"));
        if (u && !strncmp(u, "s3://", 5)) add_unique(list, "read", u);
    }
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t, "outputs"))
    {
        const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x, "url"));
        if (!u || strncmp(u, "s3://", 5)) continue;
        size_t n = strlen(u);
        char *k = wih_asprintf("%s%swiharness-probe/%s", u, n && u[n - 1] == '/' ? "" : "/", profile);
        add_unique(list, "write", k);
        free(k);
    }
    for (size_t i = 0; s && i < s->expect.naccess; i++) {
        char *u = scn_expand(s->expect.access[i].url, v, err);
        if (!u) {
            cJSON_Delete(list);
            return NULL;
        }
        add_unique(list, scn_op_name(s->expect.access[i].op), u);
        free(u);
    }
    return list;
}
