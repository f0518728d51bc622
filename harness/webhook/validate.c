/* Is this object something the API server could have sent? A webhook decodes the
 * Pod / ServiceAccount into the typed Go structs (corev1.Pod, corev1.ServiceAccount),
 * so a wrong-typed field fails the decode before any mutation rule runs
 * (issue 13 findings 4 and 9). Only the fields the webhooks read or patch are
 * checked; the API server itself requires spec.containers. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"

typedef struct {
    const cJSON *at;
    char *msg;
} verr;

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsObject(v)) return "a map";
    if (cJSON_IsArray(v)) return "a list";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    return "null";
}

static bool bad(verr *e, const cJSON *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool bad(verr *e, const cJSON *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = malloc(512);
    if (!m) abort();
    vsnprintf(m, 512, fmt, ap);
    va_end(ap);
    e->at = at;
    e->msg = m;
    return false;
}

/* field (may be absent, or null as Go's decoder allows) of the wanted kind */
static bool want(verr *e, const cJSON *obj, const char *key, const char *path, int (*is)(const cJSON *),
                 const char *kind)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v) || is(v)) return true;
    return bad(e, v, "%s%s%s must be %s, not %s", path, *path ? "." : "", key, kind, type_name(v));
}

static int is_obj(const cJSON *v) { return cJSON_IsObject(v); }
static int is_arr(const cJSON *v) { return cJSON_IsArray(v); }
static int is_str(const cJSON *v) { return cJSON_IsString(v); }

/* a list of maps, each checked by item() */
static bool list_of(verr *e, const cJSON *obj, const char *key, const char *path,
                    bool (*item)(verr *, const cJSON *, const char *))
{
    if (!want(e, obj, key, path, is_arr, "a list")) return false;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(obj, key))
    {
        char *p = wih_asprintf("%s.%s[%d]", path, key, i++);
        bool ok = cJSON_IsObject(it) ? (!item || item(e, it, p))
                                      : bad(e, it, "%s must be a map, not %s", p, type_name(it));
        free(p);
        if (!ok) return false;
    }
    return true;
}

static bool named(verr *e, const cJSON *it, const char *p)
{
    return want(e, it, "name", p, is_str, "a string");
}

static bool env_var(verr *e, const cJSON *it, const char *p)
{
    return named(e, it, p) && want(e, it, "value", p, is_str, "a string") &&
           want(e, it, "valueFrom", p, is_obj, "a map");
}

static bool container(verr *e, const cJSON *c, const char *p)
{
    return named(e, c, p) && list_of(e, c, "env", p, env_var) && list_of(e, c, "envFrom", p, NULL) &&
           list_of(e, c, "volumeMounts", p, named);
}

/* metadata.annotations / labels: map[string]string */
static bool string_map(verr *e, const cJSON *meta, const char *key)
{
    if (!want(e, meta, key, "metadata", is_obj, "a map")) return false;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(meta, key))
    if (!cJSON_IsString(kv))
        return bad(e, kv, "metadata.%s.%s must be a string, not %s (Kubernetes stores %s as strings: quote it)", key,
                   kv->string, type_name(kv), key);
    return true;
}

static bool metadata(verr *e, const cJSON *obj)
{
    if (!want(e, obj, "metadata", "", is_obj, "a map")) return false;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
    return want(e, m, "name", "metadata", is_str, "a string") &&
           want(e, m, "namespace", "metadata", is_str, "a string") && string_map(e, m, "annotations") &&
           string_map(e, m, "labels");
}

static const cJSON *finish(verr *e, bool ok, const cJSON *obj, char **msg)
{
    if (ok) return NULL;
    *msg = e->msg;
    return e->at ? e->at : obj;
}

static bool pod_spec(verr *e, const cJSON *pod)
{
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    if (!spec) return bad(e, pod, "the Pod has no spec (the API server requires spec.containers)");
    if (!cJSON_IsObject(spec)) return bad(e, spec, "spec must be a map, not %s", type_name(spec));
    if (!want(e, spec, "serviceAccountName", "spec", is_str, "a string")) return false;
    if (!cJSON_GetObjectItemCaseSensitive(spec, "containers"))
        return bad(e, spec, "spec.containers is missing (the API server requires at least one container)");
    return list_of(e, spec, "containers", "spec", container) &&
           list_of(e, spec, "initContainers", "spec", container) && list_of(e, spec, "volumes", "spec", named);
}

const cJSON *webhook_pod_invalid(const cJSON *pod, char **msg)
{
    verr e = {0};
    bool ok = cJSON_IsObject(pod) ? metadata(&e, pod) && pod_spec(&e, pod)
                                  : bad(&e, pod, "a Pod must be a map, not %s", type_name(pod));
    return finish(&e, ok, pod, msg);
}

const cJSON *webhook_sa_invalid(const cJSON *sa, char **msg)
{
    verr e = {0};
    if (!cJSON_IsObject(sa))
        return finish(&e, bad(&e, sa, "a ServiceAccount must be a map, not %s", type_name(sa)), sa, msg);
    return finish(&e, metadata(&e, sa), sa, msg);
}
