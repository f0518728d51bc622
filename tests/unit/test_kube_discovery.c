/* Discovery mapping (pure) from discovery documents recorded from a real
 * kube-apiserver v1.34 (fixtures/kube/discovery, made with
 * WIH_RECORD_DISCOVERY=<dir> tests/test_kube), and error mapping from an
 * HTTP status + Status body (fixtures/kube/errors/cases.json). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/kube.h"
#include "wiharness/yamljson.h"

static cJSON *load_json(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    size_t n;
    char *s = wih_read_file(p, 1 << 22, &n, &e);
    ck_assert_msg(s != NULL, "%s", wih_err_str(e));
    cJSON *j = wih_json_parse(p, s, &e);
    ck_assert_msg(j != NULL, "%s", wih_err_str(e));
    free(s);
    free(p);
    return j;
}

/* Table: which document, apiVersion, kind → resource, namespaced (or not found). */
static const struct {
    const char *doc, *api_version, *kind, *resource;
    int namespaced; /* -1 = must not be found */
    const char *path;  /* kube_resource_path(ns "team-a", name "x") */
} k_cases[] = {
    {"api-v1.json", "v1", "Pod", "pods", 1, "/api/v1/namespaces/team-a/pods/x"},
    {"api-v1.json", "v1", "ServiceAccount", "serviceaccounts", 1, "/api/v1/namespaces/team-a/serviceaccounts/x"},
    {"api-v1.json", "v1", "Namespace", "namespaces", 0, "/api/v1/namespaces/x"},
    {"api-v1.json", "v1", "Node", "nodes", 0, "/api/v1/nodes/x"},
    {"api-v1.json", "v1", "Secret", "secrets", 1, "/api/v1/namespaces/team-a/secrets/x"},
    /* Binding is both "bindings" and the subresource "pods/binding": the resource wins */
    {"api-v1.json", "v1", "Binding", "bindings", 1, "/api/v1/namespaces/team-a/bindings/x"},
    /* only subresources carry these kinds */
    {"api-v1.json", "v1", "TokenRequest", NULL, -1, NULL},
    {"api-v1.json", "v1", "Eviction", NULL, -1, NULL},
    {"api-v1.json", "v1", "pod", NULL, -1, NULL}, /* kinds are case-sensitive */
    {"apis-apps-v1.json", "apps/v1", "Deployment", "deployments", 1, "/apis/apps/v1/namespaces/team-a/deployments/x"},
    {"apis-apps-v1.json", "apps/v1", "DaemonSet", "daemonsets", 1, "/apis/apps/v1/namespaces/team-a/daemonsets/x"},
    {"apis-apps-v1.json", "apps/v1", "Scale", NULL, -1, NULL},
    {"apis-apps-v1.json", "v1", "Deployment", NULL, -1, NULL}, /* wrong group-version for the document */
    {"apis-rbac-v1.json", "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", 0,
     "/apis/rbac.authorization.k8s.io/v1/clusterroles/x"},
    {"apis-rbac-v1.json", "rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", 1,
     "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings/x"},
    {"apis-admissionregistration-v1.json", "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration",
     "mutatingwebhookconfigurations", 0, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/x"},
};

START_TEST(test_find_table)
{
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        char *rel = wih_asprintf("kube/discovery/%s", k_cases[i].doc);
        cJSON *doc = load_json(rel);
        kube_resource r;
        bool found = kube_discovery_find(doc, k_cases[i].api_version, k_cases[i].kind, &r);
        if (k_cases[i].namespaced < 0) {
            ck_assert_msg(!found, "case %zu: %s %s should not be found (got %s)", i, k_cases[i].api_version,
                          k_cases[i].kind, found ? r.resource : "");
        } else {
            ck_assert_msg(found, "case %zu: %s %s not found", i, k_cases[i].api_version, k_cases[i].kind);
            ck_assert_str_eq(r.resource, k_cases[i].resource);
            ck_assert_str_eq(r.kind, k_cases[i].kind);
            ck_assert_int_eq(r.namespaced, k_cases[i].namespaced);
            char *p = kube_resource_path(&r, "team-a", "x", NULL);
            ck_assert_str_eq(p, k_cases[i].path);
            free(p);
        }
        kube_resource_clear(&r);
        cJSON_Delete(doc);
        free(rel);
    }
}
END_TEST

START_TEST(test_paths)
{
    cJSON *doc = load_json("kube/discovery/api-v1.json");
    kube_resource r;
    ck_assert(kube_discovery_find(doc, "v1", "Pod", &r));
    char *p = kube_resource_path(&r, "ns1", "web", "status");
    ck_assert_str_eq(p, "/api/v1/namespaces/ns1/pods/web/status");
    free(p);
    p = kube_resource_path(&r, "ns1", NULL, NULL); /* collection */
    ck_assert_str_eq(p, "/api/v1/namespaces/ns1/pods");
    free(p);
    p = kube_resource_path(&r, NULL, NULL, NULL); /* all namespaces */
    ck_assert_str_eq(p, "/api/v1/pods");
    free(p);
    p = kube_resource_path(&r, "ns1", NULL, "status"); /* sub without name is ignored */
    ck_assert_str_eq(p, "/api/v1/namespaces/ns1/pods");
    free(p);
    kube_resource_clear(&r);
    ck_assert(kube_discovery_find(doc, "v1", "Namespace", &r));
    p = kube_resource_path(&r, "ignored", "team-a", "finalize");
    ck_assert_str_eq(p, "/api/v1/namespaces/team-a/finalize");
    free(p);
    kube_resource_clear(&r);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_has_version)
{
    cJSON *api = load_json("kube/discovery/api.json");
    cJSON *apis = load_json("kube/discovery/apis.json");
    ck_assert(kube_discovery_has_version(api, apis, "v1"));
    ck_assert(!kube_discovery_has_version(api, apis, "v2"));
    ck_assert(kube_discovery_has_version(api, apis, "apps/v1"));
    ck_assert(!kube_discovery_has_version(api, apis, "apps/v1beta1"));
    ck_assert(kube_discovery_has_version(api, apis, "rbac.authorization.k8s.io/v1"));
    ck_assert(kube_discovery_has_version(api, apis, "authentication.k8s.io/v1"));
    ck_assert(kube_discovery_has_version(api, apis, "admissionregistration.k8s.io/v1"));
    ck_assert(!kube_discovery_has_version(api, apis, "example.com/v1"));
    ck_assert(!kube_discovery_has_version(api, apis, "apps/"));
    ck_assert(!kube_discovery_has_version(api, apis, "/v1"));
    ck_assert(!kube_discovery_has_version(api, apis, "a/b/c"));
    ck_assert(!kube_discovery_has_version(api, apis, ""));
    cJSON_Delete(api);
    cJSON_Delete(apis);
}
END_TEST

START_TEST(test_error_mapping)
{
    cJSON *cases = load_json("kube/errors/cases.json");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = kube_obj_str(c, "name");
        const cJSON *bf = cJSON_GetObjectItem(c, "body");
        char *body = NULL;
        if (cJSON_IsString(bf)) {
            char *rel = wih_asprintf("kube/errors/%s", bf->valuestring);
            char *p = wih_fixture(rel);
            size_t len;
            body = wih_read_file(p, 1 << 20, &len, NULL);
            ck_assert_msg(body != NULL, "%s: %s", name, p);
            free(p);
            free(rel);
        }
        long status = (long)cJSON_GetObjectItem(c, "status")->valuedouble;
        const char *url = strstr(name, "rbac") ? "https://127.0.0.1:6443/api/v1/namespaces/team-a/pods"
                                               : "https://127.0.0.1:6443/api/v1/x";
        wih_err *e = kube_error_from_http(status, body, "GET", url, "/home/jane/.kube/config", "jane");
        ck_assert_int_eq(e->http_status, status);
        ck_assert_msg(e->kind == cJSON_GetObjectItem(c, "kind")->valueint, "%s: kind %d", name, e->kind);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "contains"))
            ck_assert_msg(strstr(e->msg, s->valuestring), "%s: \"%s\" not in \"%s\"", name, s->valuestring, e->msg);
        const char *sm = kube_obj_str(c, "server_msg");
        if (sm) ck_assert_msg(e->server_msg && !strcmp(e->server_msg, sm), "%s: server_msg %s", name, e->server_msg);
        wih_err_free(e);
        free(body);
        n++;
    }
    ck_assert_int_ge(n, 10);
    cJSON_Delete(cases);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kube-discovery-errors");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, test_find_table);
    tcase_add_test(tc, test_paths);
    tcase_add_test(tc, test_has_version);
    tcase_add_test(tc, test_error_mapping);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
