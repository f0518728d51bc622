/* Discovery: apiVersion + kind → resource path and scope, from the server's
 * /api (APIVersions), /apis (APIGroupList) and group-version
 * (APIResourceList) documents. The mapping itself is pure (unit-tested from
 * recorded documents); kube_resolve fetches and caches per client. */
#include "wiharness/kube.h"

#include <stdlib.h>
#include <string.h>

#include "kube_internal.h"

void kube_resource_clear(kube_resource *r)
{
    if (!r) return;
    free(r->group);
    free(r->version);
    free(r->resource);
    free(r->kind);
    memset(r, 0, sizeof *r);
}

/* "apps/v1" → group "apps", version "v1"; "v1" → "", "v1". */
static bool split_gv(const char *api_version, char **group, char **version)
{
    if (!api_version || !*api_version) return false;
    const char *slash = strchr(api_version, '/');
    if (!slash) {
        *group = wih_strdup("");
        *version = wih_strdup(api_version);
        return true;
    }
    if (slash == api_version || !slash[1] || strchr(slash + 1, '/')) return false;
    *group = wih_asprintf("%.*s", (int)(slash - api_version), api_version);
    *version = wih_strdup(slash + 1);
    return true;
}

bool kube_discovery_has_version(const cJSON *api, const cJSON *apis, const char *api_version)
{
    char *g = NULL, *v = NULL;
    if (!split_gv(api_version, &g, &v)) return false;
    bool found = false;
    if (!*g) {
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(api, "versions");
        const cJSON *e;
        cJSON_ArrayForEach(e, vs) if (cJSON_IsString(e) && !strcmp(e->valuestring, v)) found = true;
    } else {
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(apis, "groups");
        const cJSON *grp;
        cJSON_ArrayForEach(grp, groups)
        {
            const char *name = kube_obj_str(grp, "name");
            if (!name || strcmp(name, g)) continue;
            const cJSON *vs = cJSON_GetObjectItemCaseSensitive(grp, "versions");
            const cJSON *e;
            cJSON_ArrayForEach(e, vs)
            {
                const char *gv = kube_obj_str(e, "groupVersion");
                if (gv && !strcmp(gv, api_version)) found = true;
            }
        }
    }
    free(g);
    free(v);
    return found;
}

bool kube_discovery_find(const cJSON *list, const char *api_version, const char *kind, kube_resource *out)
{
    memset(out, 0, sizeof *out);
    if (!kind || !*kind) return false;
    const char *gv = kube_obj_str(list, "groupVersion");
    if (gv && api_version && strcmp(gv, api_version)) return false;
    char *g = NULL, *v = NULL;
    if (!split_gv(api_version ? api_version : gv, &g, &v)) return false;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(list, "resources");
    const cJSON *r;
    cJSON_ArrayForEach(r, res)
    {
        const char *name = kube_obj_str(r, "name"), *k = kube_obj_str(r, "kind");
        if (!name || !k || strchr(name, '/')) continue; /* pods/status, pods/binding... */
        if (strcmp(k, kind)) continue;
        out->group = g;
        out->version = v;
        out->resource = wih_strdup(name);
        out->kind = wih_strdup(k);
        out->namespaced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "namespaced"));
        return true;
    }
    free(g);
    free(v);
    return false;
}

char *kube_resource_path(const kube_resource *r, const char *ns, const char *name, const char *sub)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    if (!r->group || !*r->group)
        wih_buf_addf(&b, "/api/%s", r->version);
    else
        wih_buf_addf(&b, "/apis/%s/%s", r->group, r->version);
    if (r->namespaced && ns && *ns) wih_buf_addf(&b, "/namespaces/%s", ns);
    wih_buf_addf(&b, "/%s", r->resource);
    if (name && *name) wih_buf_addf(&b, "/%s", name);
    if (name && *name && sub && *sub) wih_buf_addf(&b, "/%s", sub);
    return wih_buf_take(&b);
}

static int fetch(kube_client *c, const char *path, cJSON **slot, wih_err **err)
{
    if (*slot) return 0;
    *slot = kube_request(c, "GET", path, NULL, NULL, NULL, err);
    if (!*slot) {
        *err = wih_err_wrap(*err, "discovery");
        return -1;
    }
    return 0;
}

static char *served_list(const cJSON *api, const cJSON *apis)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(api, "versions"))
        if (cJSON_IsString(e)) wih_buf_addf(&b, "%s%s", b.len ? ", " : "", e->valuestring);
    const cJSON *grp;
    cJSON_ArrayForEach(grp, cJSON_GetObjectItemCaseSensitive(apis, "groups"))
    {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(grp, "versions"))
        {
            const char *gv = kube_obj_str(e, "groupVersion");
            if (gv && b.len < 2000) wih_buf_addf(&b, ", %s", gv);
        }
    }
    return wih_buf_take(&b);
}

int kube_resolve(kube_client *c, const char *api_version, const char *kind, kube_resource *out, wih_err **err)
{
    memset(out, 0, sizeof *out);
    char *g = NULL, *v = NULL;
    if (!split_gv(api_version, &g, &v)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "apiVersion \"%s\" is not of the form v1 or group/version",
                           api_version ? api_version : "");
        return -1;
    }
    bool core = !*g;
    free(g);
    free(v);
    if (!kind || !*kind) {
        *err = wih_err_new(WIH_EXIT_INPUT, "an object of apiVersion %s has no kind", api_version);
        return -1;
    }
    cJSON *cache = kube_client_disc_gv(c);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(cache, api_version);
    for (int pass = 0; pass < 2; pass++) {
        if (!list) {
            if (fetch(c, "/api", kube_client_disc_api(c), err) ||
                (!core && fetch(c, "/apis", kube_client_disc_apis(c), err)))
                return -1;
            if (!kube_discovery_has_version(*kube_client_disc_api(c), *kube_client_disc_apis(c), api_version)) {
                if (pass == 0 && !core) {
                    /* a CRD may have been added since: refresh the group list once */
                    cJSON_Delete(*kube_client_disc_apis(c));
                    *kube_client_disc_apis(c) = NULL;
                    continue;
                }
                char *served = served_list(*kube_client_disc_api(c), *kube_client_disc_apis(c));
                *err = wih_err_new(WIH_EXIT_INPUT, "apiVersion %s is not served by %s (served: %s)", api_version,
                                   kube_config_server(kube_client_config(c)), served);
                free(served);
                return -1;
            }
            char *path = core ? wih_asprintf("/api/%s", api_version) : wih_asprintf("/apis/%s", api_version);
            list = kube_request(c, "GET", path, NULL, NULL, NULL, err);
            free(path);
            if (!list) {
                *err = wih_err_wrap(*err, "discovery of %s", api_version);
                return -1;
            }
            cJSON_AddItemToObject(cache, api_version, list);
        }
        if (kube_discovery_find(list, api_version, kind, out)) return 0;
        if (pass == 0) {
            /* stale cache (a CRD kind added later): forget and refetch once */
            cJSON_DeleteItemFromObjectCaseSensitive(cache, api_version);
            list = NULL;
            continue;
        }
    }
    *err = wih_err_new(WIH_EXIT_INPUT, "kind %s is not served in apiVersion %s by %s", kind, api_version,
                       kube_config_server(kube_client_config(c)));
    return -1;
}
