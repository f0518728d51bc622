/* existing backend: any cluster a kubeconfig context reaches (exec plugins
 * through the kube module's loader); the runner's RBAC checked up front with
 * SelfSubjectAccessReviews so a missing permission is named before any case
 * runs (docs/backends.md). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/backends.h"

/* What the runner does (harness/scenario/runner*.c): per case a namespace
 * (created, deleted), a ServiceAccount (server-side apply), the pods OSMO
 * would create (created, read, listed, deleted), the namespace's events. */
const existing_perm existing_perms[] = {
    {"create", "", "namespaces"},      {"delete", "", "namespaces"},    {"get", "", "namespaces"},
    {"create", "", "serviceaccounts"}, {"patch", "", "serviceaccounts"}, {"get", "", "serviceaccounts"},
    {"create", "", "pods"},            {"get", "", "pods"},             {"list", "", "pods"},
    {"delete", "", "pods"},            {"list", "", "events"},          {NULL, NULL, NULL},
};

cJSON *existing_ssar(const existing_perm *p, const char *ns)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", "authorization.k8s.io/v1");
    cJSON_AddStringToObject(o, "kind", "SelfSubjectAccessReview");
    cJSON *ra = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "spec"), "resourceAttributes");
    if (ns && *ns && strcmp(p->resource, "namespaces")) cJSON_AddStringToObject(ra, "namespace", ns);
    cJSON_AddStringToObject(ra, "verb", p->verb);
    cJSON_AddStringToObject(ra, "group", p->group);
    cJSON_AddStringToObject(ra, "resource", p->resource);
    return o;
}

static wih_err *check_one(kube_client *kc, const existing_perm *p, const char *ns, const char *context)
{
    cJSON *req = existing_ssar(p, ns);
    wih_err *e = NULL;
    cJSON *got = kube_request(kc, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", NULL, req, NULL, &e);
    cJSON_Delete(req);
    const char *where = ns && *ns && strcmp(p->resource, "namespaces") ? ns : "(all namespaces)";
    if (!got) {
        e = wih_err_wrap(e, "RBAC check (SelfSubjectAccessReview) for %s %s in %s (context %s)", p->verb,
                         p->resource, where, context);
        e->kind = WIH_EXIT_INFRA;
        return e;
    }
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(got, "status");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "allowed"))) {
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "reason"));
        e = wih_err_new(WIH_EXIT_INFRA, "RBAC: context %s cannot %s %s in %s%s%s (the runner needs it)", context,
                        p->verb, p->resource, where, why && *why ? ": " : "", why && *why ? why : "");
    }
    cJSON_Delete(got);
    return e;
}

wih_err *existing_check_rbac(kube_client *kc, const char *ns, bool reuse_ns, const char *context)
{
    for (const existing_perm *p = existing_perms; p->verb; p++) {
        if (reuse_ns && !strcmp(p->resource, "namespaces") && strcmp(p->verb, "get")) continue; /* never made or deleted */
        wih_err *e = check_one(kc, p, ns, context ? context : "(current)");
        if (e) return e;
    }
    return NULL;
}

wih_err *existing_check(const existing_opts *o)
{
    const char *id = o->identity ? o->identity : "mock";
    if (!o->context || !*o->context)
        return wih_err_new(WIH_EXIT_INPUT, "--backend existing needs --context CTX (a context of the kubeconfig)");
    if (strcmp(id, "mock") && strcmp(id, "real"))
        return wih_err_new(WIH_EXIT_INPUT, "--identity %s: expected mock or real", id);
    if (!strcmp(id, "real") && !o->probe_image)
        return wih_err_new(WIH_EXIT_INPUT, "--identity real needs --probe-image IMAGE (a registry the cluster pulls from)");
    if (o->reuse_namespace && !o->namespace_)
        return wih_err_new(WIH_EXIT_INPUT, "--reuse-namespace needs --namespace N");
    kube_config_opts ko = {.kubeconfig = o->kubeconfig, .context = o->context};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    if (!kc) return wih_err_wrap(e, "--backend existing --context %s", o->context);
    cJSON *v = kube_request(kc, "GET", "/version", NULL, NULL, NULL, &e);
    if (!v) e = wih_err_wrap(e, "--backend existing: the API server of context %s", o->context);
    cJSON_Delete(v);
    if (!e) e = existing_check_rbac(kc, o->namespace_, o->reuse_namespace, o->context);
    kube_client_free(kc);
    if (e && e->kind != WIH_EXIT_INPUT) e->kind = WIH_EXIT_INFRA;
    return e;
}
