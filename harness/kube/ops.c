/* Operations on unstructured objects: server-side apply, create, get, list,
 * delete (and wait until gone), wait-until, pod binding, /status writes and
 * TokenRequest. */
#include "wiharness/kube.h"

#include <stdlib.h>
#include <string.h>

#include "kube_internal.h"

/* Resolve ref → path. ns NULL = context namespace (namespaced kinds only). */
static char *ref_path(kube_client *c, const char *api_version, const char *kind, const char *ns, const char *name,
                      const char *sub, bool all_ns, kube_resource *res_out, wih_err **err)
{
    kube_resource r;
    if (kube_resolve(c, api_version, kind, &r, err)) return NULL;
    const char *use_ns = ns && *ns ? ns : (all_ns ? NULL : kube_config_namespace(kube_client_config(c)));
    char *p = kube_resource_path(&r, use_ns, name, sub);
    if (res_out)
        *res_out = r;
    else
        kube_resource_clear(&r);
    return p;
}

static const char *desc_obj(const cJSON *obj, char *buf, size_t n)
{
    const char *kind = kube_obj_str(obj, "kind"), *name = kube_obj_str(obj, "metadata.name");
    const char *ns = kube_obj_str(obj, "metadata.namespace");
    snprintf(buf, n, "%s %s%s%s", kind ? kind : "(no kind)", ns ? ns : "", ns ? "/" : "", name ? name : "(no name)");
    return buf;
}

static int obj_ident(const cJSON *obj, const char **api, const char **kind, const char **ns, const char **name,
                     wih_err **err)
{
    *api = kube_obj_str(obj, "apiVersion");
    *kind = kube_obj_str(obj, "kind");
    *ns = kube_obj_str(obj, "metadata.namespace");
    *name = kube_obj_str(obj, "metadata.name");
    if (!cJSON_IsObject(obj) || !*api || !*kind) {
        *err = wih_err_new(WIH_EXIT_INPUT, "an object needs apiVersion and kind");
        return -1;
    }
    return 0;
}

cJSON *kube_apply(kube_client *c, const cJSON *obj, wih_err **err)
{
    const char *api, *kind, *ns, *name;
    if (obj_ident(obj, &api, &kind, &ns, &name, err)) return NULL;
    if (!name || !*name) {
        *err = wih_err_new(WIH_EXIT_INPUT, "server-side apply of a %s needs metadata.name", kind);
        return NULL;
    }
    char *p = ref_path(c, api, kind, ns, name, NULL, false, NULL, err);
    if (!p) return NULL;
    char *q = wih_asprintf("%s?fieldManager=wiharness&force=true", p);
    /* application/apply-patch+yaml accepts JSON (YAML is a superset) */
    cJSON *r = kube_request(c, "PATCH", q, "application/apply-patch+yaml", obj, NULL, err);
    if (!r) {
        char d[512];
        *err = wih_err_wrap(*err, "applying %s", desc_obj(obj, d, sizeof d));
    }
    free(q);
    free(p);
    return r;
}

int kube_apply_docs(kube_client *c, const wih_ydocs *docs, cJSON **applied, wih_err **err)
{
    /* check every document before applying any: a typo in the last one
     * must not leave the first ones applied */
    for (size_t i = 0; i < wih_ydocs_count(docs); i++) {
        const cJSON *d = wih_ydocs_root(docs, i);
        if (!d || cJSON_IsNull(d)) continue;
        if (!cJSON_IsObject(d) || !kube_obj_str(d, "apiVersion") || !kube_obj_str(d, "kind") ||
            !kube_obj_str(d, "metadata.name")) {
            *err = wih_ydocs_err(docs, d, "document %zu: a Kubernetes object needs apiVersion, kind and "
                                          "metadata.name",
                                 i + 1);
            return -1;
        }
    }
    cJSON *out = applied ? cJSON_CreateArray() : NULL;
    for (size_t i = 0; i < wih_ydocs_count(docs); i++) {
        const cJSON *d = wih_ydocs_root(docs, i);
        if (!d || cJSON_IsNull(d)) continue;
        wih_err *e = NULL;
        cJSON *r = kube_apply(c, d, &e);
        if (!r) {
            wih_pos pos;
            if (wih_ydocs_pos(docs, d, &pos)) {
                /* keep the kind and HTTP facts; add where the document is */
                char *m = wih_asprintf("%s:%d:%d: %s", wih_ydocs_name(docs), pos.line, pos.col, e->msg);
                free(e->msg);
                e->msg = m;
            }
            *err = e;
            cJSON_Delete(out);
            return -1;
        }
        if (out)
            cJSON_AddItemToArray(out, r);
        else
            cJSON_Delete(r);
    }
    if (applied) *applied = out;
    return 0;
}

int kube_apply_file(kube_client *c, const char *path, cJSON **applied, wih_err **err)
{
    wih_ydocs *d = wih_yaml_load_file(path, err);
    if (!d) return -1;
    int rc = kube_apply_docs(c, d, applied, err);
    wih_ydocs_free(d);
    return rc;
}

cJSON *kube_create(kube_client *c, const cJSON *obj, wih_err **err)
{
    const char *api, *kind, *ns, *name;
    if (obj_ident(obj, &api, &kind, &ns, &name, err)) return NULL;
    char *p = ref_path(c, api, kind, ns, NULL, NULL, false, NULL, err);
    if (!p) return NULL;
    cJSON *r = kube_request(c, "POST", p, NULL, obj, NULL, err);
    if (!r) {
        char d[512];
        *err = wih_err_wrap(*err, "creating %s", desc_obj(obj, d, sizeof d));
    }
    free(p);
    return r;
}

cJSON *kube_get(kube_client *c, const kube_ref *ref, wih_err **err)
{
    char *p = ref_path(c, ref->api_version, ref->kind, ref->ns, ref->name, NULL, false, NULL, err);
    if (!p) return NULL;
    cJSON *r = kube_request(c, "GET", p, NULL, NULL, NULL, err);
    free(p);
    return r;
}

cJSON *kube_list(kube_client *c, const char *api_version, const char *kind, const char *ns,
                 const char *label_selector, wih_err **err)
{
    char *p = ref_path(c, api_version, kind, ns, NULL, NULL, true, NULL, err);
    if (!p) return NULL;
    if (label_selector && *label_selector) {
        char *e = kube_escape(c, label_selector);
        char *q = wih_asprintf("%s?labelSelector=%s", p, e);
        free(e);
        free(p);
        p = q;
    }
    cJSON *r = kube_request(c, "GET", p, NULL, NULL, NULL, err);
    free(p);
    return r;
}

static int pred_gone(const cJSON *obj, void *ctx, wih_err **err)
{
    (void)ctx;
    (void)err;
    return obj == NULL;
}

int kube_delete(kube_client *c, const kube_ref *ref, int grace_seconds, int64_t wait_ms, wih_err **err)
{
    char *p = ref_path(c, ref->api_version, ref->kind, ref->ns, ref->name, NULL, false, NULL, err);
    if (!p) return -1;
    cJSON *opts = NULL;
    if (grace_seconds >= 0) {
        opts = cJSON_CreateObject();
        cJSON_AddStringToObject(opts, "apiVersion", "v1");
        cJSON_AddStringToObject(opts, "kind", "DeleteOptions");
        cJSON_AddNumberToObject(opts, "gracePeriodSeconds", grace_seconds);
    }
    wih_err *e = NULL;
    cJSON *r = kube_request(c, "DELETE", p, NULL, opts, NULL, &e);
    cJSON_Delete(opts);
    free(p);
    cJSON_Delete(r);
    if (!r) {
        if (e->http_status != 404) {
            *err = wih_err_wrap(e, "deleting %s %s", ref->kind, ref->name);
            return -1;
        }
        wih_err_free(e);
        return 0;
    }
    if (wait_ms <= 0) return 0;
    cJSON *w = kube_wait(c, ref, pred_gone, NULL, wait_ms, err);
    if (!w) {
        *err = wih_err_wrap(*err, "waiting for %s %s to be deleted", ref->kind, ref->name);
        return -1;
    }
    cJSON_Delete(w);
    return 0;
}

cJSON *kube_wait(kube_client *c, const kube_ref *ref, kube_pred pred, void *ctx, int64_t timeout_ms, wih_err **err)
{
    int64_t deadline = wih_now_ms() + timeout_ms;
    int64_t interval = 100;
    char *last = NULL;
    for (;;) {
        wih_err *e = NULL;
        cJSON *obj = kube_get(c, ref, &e);
        if (!obj && e->http_status != 404) {
            free(last);
            *err = e;
            return NULL;
        }
        wih_err_free(e);
        wih_err *pe = NULL;
        int v = pred(obj, ctx, &pe);
        if (v == 1) {
            free(last);
            return obj ? obj : cJSON_CreateNull();
        }
        if (v < 0) {
            cJSON_Delete(obj);
            free(last);
            *err = pe ? pe : wih_err_new(WIH_EXIT_FAIL, "%s %s: the wait condition gave up", ref->kind, ref->name);
            return NULL;
        }
        free(last);
        if (obj) {
            const char *phase = kube_obj_str(obj, "status.phase");
            const char *rv = kube_obj_str(obj, "metadata.resourceVersion");
            const char *dt = kube_obj_str(obj, "metadata.deletionTimestamp");
            last = wih_asprintf("it exists (resourceVersion %s%s%s%s%s)", rv ? rv : "?", phase ? ", phase " : "",
                                phase ? phase : "", dt ? ", deleting since " : "", dt ? dt : "");
        } else {
            last = wih_strdup("it does not exist");
        }
        cJSON_Delete(obj);
        int64_t left = deadline - wih_now_ms();
        if (left <= 0 || wih_interrupted()) {
            *err = wih_err_new(WIH_EXIT_INFRA, "%s %s%s%s: condition not met within %lld ms; last seen: %s", ref->kind,
                               ref->ns ? ref->ns : "", ref->ns ? "/" : "", ref->name, (long long)timeout_ms, last);
            free(last);
            return NULL;
        }
        wih_sleep_ms(interval < left ? interval : left);
        interval = interval * 2 > 1000 ? 1000 : interval * 2;
    }
}

cJSON *kube_obj_new(const char *api_version, const char *kind, const char *ns, const char *name)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", api_version);
    cJSON_AddStringToObject(o, "kind", kind);
    cJSON *md = cJSON_AddObjectToObject(o, "metadata");
    cJSON_AddStringToObject(md, "name", name);
    if (ns) cJSON_AddStringToObject(md, "namespace", ns);
    return o;
}

int kube_pod_bind(kube_client *c, const char *ns, const char *pod, const char *node, wih_err **err)
{
    if (!ns || !*ns) ns = kube_config_namespace(kube_client_config(c));
    cJSON *b = kube_obj_new("v1", "Binding", ns, pod);
    cJSON *t = cJSON_AddObjectToObject(b, "target");
    cJSON_AddStringToObject(t, "apiVersion", "v1");
    cJSON_AddStringToObject(t, "kind", "Node");
    cJSON_AddStringToObject(t, "name", node);
    char *p = wih_asprintf("/api/v1/namespaces/%s/pods/%s/binding", ns, pod);
    cJSON *r = kube_request(c, "POST", p, NULL, b, NULL, err);
    free(p);
    cJSON_Delete(b);
    if (!r) {
        *err = wih_err_wrap(*err, "binding pod %s/%s to node %s", ns, pod, node);
        return -1;
    }
    cJSON_Delete(r);
    return 0;
}

cJSON *kube_put_status(kube_client *c, const cJSON *obj, wih_err **err)
{
    const char *api, *kind, *ns, *name;
    if (obj_ident(obj, &api, &kind, &ns, &name, err)) return NULL;
    if (!name) {
        *err = wih_err_new(WIH_EXIT_INPUT, "writing the status of a %s needs metadata.name", kind);
        return NULL;
    }
    char *p = ref_path(c, api, kind, ns, name, "status", false, NULL, err);
    if (!p) return NULL;
    cJSON *r = kube_request(c, "PUT", p, NULL, obj, NULL, err);
    free(p);
    if (!r) *err = wih_err_wrap(*err, "writing the status of %s %s", kind, name);
    return r;
}

cJSON *kube_patch_status(kube_client *c, const kube_ref *ref, const cJSON *merge_patch, wih_err **err)
{
    char *p = ref_path(c, ref->api_version, ref->kind, ref->ns, ref->name, "status", false, NULL, err);
    if (!p) return NULL;
    cJSON *r = kube_request(c, "PATCH", p, "application/merge-patch+json", merge_patch, NULL, err);
    free(p);
    if (!r) *err = wih_err_wrap(*err, "patching the status of %s %s", ref->kind, ref->name);
    return r;
}

char *kube_token_request(kube_client *c, const kube_token_req *q, int64_t *expires_ms, wih_err **err)
{
    const char *ns = q->ns && *q->ns ? q->ns : kube_config_namespace(kube_client_config(c));
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "apiVersion", "authentication.k8s.io/v1");
    cJSON_AddStringToObject(b, "kind", "TokenRequest");
    cJSON *spec = cJSON_AddObjectToObject(b, "spec");
    if (q->audiences) {
        cJSON *a = cJSON_AddArrayToObject(spec, "audiences");
        for (const char *const *p = q->audiences; *p; p++) cJSON_AddItemToArray(a, cJSON_CreateString(*p));
    }
    if (q->expiration_seconds > 0) cJSON_AddNumberToObject(spec, "expirationSeconds", (double)q->expiration_seconds);
    if (q->bound_kind) {
        cJSON *br = cJSON_AddObjectToObject(spec, "boundObjectRef");
        cJSON_AddStringToObject(br, "kind", q->bound_kind);
        cJSON_AddStringToObject(br, "apiVersion", q->bound_api_version ? q->bound_api_version : "v1");
        if (q->bound_name) cJSON_AddStringToObject(br, "name", q->bound_name);
        if (q->bound_uid) cJSON_AddStringToObject(br, "uid", q->bound_uid);
    }
    char *p = wih_asprintf("/api/v1/namespaces/%s/serviceaccounts/%s/token", ns, q->service_account);
    cJSON *r = kube_request(c, "POST", p, NULL, b, NULL, err);
    free(p);
    cJSON_Delete(b);
    if (!r) {
        *err = wih_err_wrap(*err, "requesting a token for service account %s/%s", ns, q->service_account);
        return NULL;
    }
    const char *tok = kube_obj_str(r, "status.token");
    if (!tok || !*tok) {
        cJSON_Delete(r);
        *err = wih_err_new(WIH_EXIT_INFRA, "TokenRequest for %s/%s: the response has no status.token", ns,
                           q->service_account);
        return NULL;
    }
    char *t = wih_strdup(tok);
    if (expires_ms) {
        int64_t ms = 0;
        *expires_ms = kube_parse_rfc3339(kube_obj_str(r, "status.expirationTimestamp"), &ms) ? ms : 0;
    }
    cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
    cJSON *tn = cJSON_GetObjectItemCaseSensitive(st, "token");
    if (cJSON_IsString(tn)) memset(tn->valuestring, 0, strlen(tn->valuestring));
    cJSON_Delete(r);
    return t;
}
