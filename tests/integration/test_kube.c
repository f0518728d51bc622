/* The kube client against a REAL kube-apiserver + etcd (tests/helpers/minicluster):
 * server-side apply, get, list by label, binding, /status, TokenRequest bound
 * to a pod, delete and wait; the error paths (403 from RBAC, wrong CA,
 * unreachable server, 422 with the server's message); and afterwards no
 * process of the run alive and none of its ports listening.
 *
 * Tests run in order without forking (CK_FORK=no), sharing one cluster. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../harness/kube/kube_internal.h" /* kube_b64_decode for the JWT payload */
#include "minicluster.h"
#include "testutil.h"
#include "wiharness/kube.h"

static wih_minicluster *g_mc;
static char *g_pod_uid;

static kube_client *client_for(const char *context)
{
    kube_config_opts o = {.kubeconfig = g_mc->kubeconfig, .context = context};
    wih_err *e = NULL;
    kube_client *c = kube_client_new(&o, &e);
    ck_assert_msg(c != NULL, "client for %s: %s", context, wih_err_str(e));
    return c;
}

static const kube_ref POD = {"v1", "Pod", "wih-kube-it", "app"};

START_TEST(test_apply_get_list)
{
    kube_client *c = client_for(NULL);
    char *fx = wih_fixture("kube/integration/objects.yaml");
    cJSON *applied = NULL;
    wih_err *e = NULL;
    int rc = kube_apply_file(c, fx, &applied, &e);
    ck_assert_msg(rc == 0, "apply: %s", wih_err_str(e));
    ck_assert_int_eq(cJSON_GetArraySize(applied), 3);
    /* the server's view, with our field manager recorded */
    cJSON *pod = cJSON_GetArrayItem(applied, 2);
    ck_assert_str_eq(kube_obj_str(pod, "kind"), "Pod");
    cJSON *mf = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "managedFields");
    ck_assert_str_eq(kube_obj_str(cJSON_GetArrayItem(mf, 0), "manager"), "wiharness");
    ck_assert_str_eq(kube_obj_str(cJSON_GetArrayItem(mf, 0), "operation"), "Apply");
    /* applying again is idempotent */
    cJSON_Delete(applied);
    applied = NULL;
    rc = kube_apply_file(c, fx, NULL, &e);
    ck_assert_msg(rc == 0, "re-apply: %s", wih_err_str(e));
    free(fx);

    cJSON *got = kube_get(c, &POD, &e);
    ck_assert_msg(got != NULL, "get: %s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(got, "spec.serviceAccountName"), "app-sa");
    ck_assert_ptr_nonnull(kube_obj_str(got, "metadata.uid"));
    g_pod_uid = wih_strdup(kube_obj_str(got, "metadata.uid"));
    cJSON_Delete(got);

    cJSON *l = kube_list(c, "v1", "Pod", "wih-kube-it", "app=wih-test,tier in (web)", &e);
    ck_assert_msg(l != NULL, "list: %s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(l, "kind"), "PodList");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 1);
    cJSON_Delete(l);
    l = kube_list(c, "v1", "Pod", NULL, "app=somebody-else", &e);
    ck_assert_msg(l != NULL, "list all namespaces: %s", wih_err_str(e));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")), 0);
    cJSON_Delete(l);

    /* cluster-scoped kind through discovery */
    kube_ref nsref = {"v1", "Namespace", NULL, "wih-kube-it"};
    got = kube_get(c, &nsref, &e);
    ck_assert_msg(got != NULL, "get namespace: %s", wih_err_str(e));
    cJSON_Delete(got);
    kube_client_free(c);
}
END_TEST

START_TEST(test_create_conflict)
{
    kube_client *c = client_for(NULL);
    cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
                            "\"namespace\":\"wih-kube-it\"},\"data\":{\"k\":\"v\"}}");
    wih_err *e = NULL;
    cJSON *r = kube_create(c, cm, &e);
    ck_assert_msg(r != NULL, "create: %s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "data.k"), "v");
    cJSON_Delete(r);
    r = kube_create(c, cm, &e);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(e->http_status, 409);
    ck_assert_msg(strstr(e->msg, "creating ConfigMap wih-kube-it/cfg") && strstr(e->msg, "AlreadyExists") &&
                      strstr(e->server_msg, "configmaps \"cfg\" already exists"),
                  "%s", e->msg);
    wih_err_free(e);
    e = NULL;
    kube_ref ref = {"v1", "ConfigMap", "wih-kube-it", "cfg"};
    ck_assert_msg(kube_delete(c, &ref, -1, 10000, &e) == 0, "%s", wih_err_str(e));
    cJSON_Delete(cm);
    kube_client_free(c);
}
END_TEST

START_TEST(test_discovery_live)
{
    kube_client *c = client_for("admin");
    kube_resource r;
    wih_err *e = NULL;
    ck_assert_msg(kube_resolve(c, "apps/v1", "Deployment", &r, &e) == 0, "%s", wih_err_str(e));
    ck_assert_str_eq(r.resource, "deployments");
    ck_assert(r.namespaced);
    kube_resource_clear(&r);
    ck_assert_msg(kube_resolve(c, "rbac.authorization.k8s.io/v1", "ClusterRole", &r, &e) == 0, "%s",
                  wih_err_str(e));
    ck_assert_str_eq(r.resource, "clusterroles");
    ck_assert(!r.namespaced);
    kube_resource_clear(&r);
    ck_assert_int_eq(kube_resolve(c, "v1", "Gadget", &r, &e), -1);
    ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(e->msg, "Gadget"));
    wih_err_free(e);
    e = NULL;
    ck_assert_int_eq(kube_resolve(c, "nosuch.example.com/v9", "Thing", &r, &e), -1);
    ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(e->msg, "nosuch.example.com/v9"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

static char *b64url_json(const char *seg)
{
    size_t n = 0;
    return kube_b64_decode(seg, &n);
}

START_TEST(test_token_request_bound_to_pod)
{
    ck_assert_ptr_nonnull(g_pod_uid);
    kube_client *c = client_for(NULL);
    const char *aud[] = {"wiharness-test", NULL};
    kube_token_req q = {.ns = "wih-kube-it",
                        .service_account = "app-sa",
                        .audiences = aud,
                        .expiration_seconds = 600,
                        .bound_kind = "Pod",
                        .bound_api_version = "v1",
                        .bound_name = "app",
                        .bound_uid = g_pod_uid};
    wih_err *e = NULL;
    int64_t exp = 0;
    char *tok = kube_token_request(c, &q, &exp, &e);
    ck_assert_msg(tok != NULL, "token request: %s", wih_err_str(e));
    ck_assert(exp > wih_wall_ms());
    /* a compact JWS: three non-empty base64url parts */
    char *d1 = strchr(tok, '.');
    ck_assert_ptr_nonnull(d1);
    char *d2 = strchr(d1 + 1, '.');
    ck_assert_ptr_nonnull(d2);
    ck_assert_ptr_null(strchr(d2 + 1, '.'));
    ck_assert(d1 > tok && d2 > d1 + 1 && d2[1]);
    char *payload = wih_asprintf("%.*s", (int)(d2 - d1 - 1), d1 + 1);
    char *pj = b64url_json(payload);
    ck_assert_ptr_nonnull(pj);
    cJSON *claims = cJSON_Parse(pj);
    ck_assert_ptr_nonnull(claims);
    cJSON *audc = cJSON_GetObjectItem(claims, "aud");
    ck_assert(cJSON_IsArray(audc));
    ck_assert_str_eq(cJSON_GetArrayItem(audc, 0)->valuestring, "wiharness-test");
    ck_assert_str_eq(kube_obj_str(claims, "sub"), "system:serviceaccount:wih-kube-it:app-sa");
    ck_assert_str_eq(kube_obj_str(claims, "iss"), g_mc->server);
    cJSON *k8s = cJSON_GetObjectItem(claims, "kubernetes.io");
    ck_assert_str_eq(kube_obj_str(k8s, "pod.name"), "app");
    ck_assert_str_eq(kube_obj_str(k8s, "pod.uid"), g_pod_uid);
    ck_assert_str_eq(kube_obj_str(k8s, "serviceaccount.name"), "app-sa");
    char *fp = wih_fingerprint(tok);
    printf("token request ok: token %s (never printed)\n", fp);
    free(fp);
    cJSON_Delete(claims);
    free(pj);
    free(payload);
    memset(tok, 0, strlen(tok));
    free(tok);

    /* binding to a pod whose SA differs is refused, and the server says why */
    q.service_account = "nosuch-sa";
    tok = kube_token_request(c, &q, NULL, &e);
    ck_assert_ptr_null(tok);
    ck_assert_int_eq(e->http_status, 404);
    ck_assert_ptr_nonnull(e->server_msg);
    ck_assert_ptr_nonnull(strstr(e->server_msg, "nosuch-sa"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

static int pred_running(const cJSON *obj, void *ctx, wih_err **err)
{
    (void)ctx;
    (void)err;
    const char *ph = kube_obj_str(obj, "status.phase");
    return ph && !strcmp(ph, "Running");
}

START_TEST(test_binding_and_status)
{
    kube_client *c = client_for(NULL);
    wih_err *e = NULL;
    ck_assert_msg(kube_pod_bind(c, "wih-kube-it", "app", "wih-node-1", &e) == 0, "bind: %s", wih_err_str(e));
    cJSON *pod = kube_get(c, &POD, &e);
    ck_assert_msg(pod != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(pod, "spec.nodeName"), "wih-node-1");
    /* PUT the whole object's status */
    cJSON *st = cJSON_GetObjectItem(pod, "status");
    cJSON_ReplaceItemInObject(st, "phase", cJSON_CreateString("Running"));
    cJSON_AddStringToObject(st, "podIP", "10.244.0.5");
    cJSON *put = kube_put_status(c, pod, &e);
    ck_assert_msg(put != NULL, "put status: %s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(put, "status.podIP"), "10.244.0.5");
    cJSON_Delete(put);
    cJSON_Delete(pod);
    /* PATCH (merge) the status */
    cJSON *patch = cJSON_Parse("{\"status\":{\"message\":\"emulated by wiharness\"}}");
    cJSON *pt = kube_patch_status(c, &POD, patch, &e);
    ck_assert_msg(pt != NULL, "patch status: %s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(pt, "status.message"), "emulated by wiharness");
    cJSON_Delete(pt);
    cJSON_Delete(patch);
    cJSON *w = kube_wait(c, &POD, pred_running, NULL, 5000, &e);
    ck_assert_msg(w != NULL, "wait: %s", wih_err_str(e));
    cJSON_Delete(w);
    kube_client_free(c);
}
END_TEST

static int pred_never(const cJSON *obj, void *ctx, wih_err **err)
{
    (void)obj;
    (void)ctx;
    (void)err;
    return 0;
}

START_TEST(test_wait_deadline)
{
    kube_client *c = client_for(NULL);
    wih_err *e = NULL;
    int64_t t0 = wih_now_ms();
    cJSON *w = kube_wait(c, &POD, pred_never, NULL, 700, &e);
    ck_assert_ptr_null(w);
    ck_assert(wih_now_ms() - t0 >= 500);
    ck_assert_int_eq(e->kind, WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "not met within 700 ms") && strstr(e->msg, "phase Running"), "%s", e->msg);
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_invalid_object_keeps_server_message)
{
    kube_client *c = client_for(NULL);
    char *fx = wih_fixture("kube/integration/invalid-pod.yaml");
    wih_err *e = NULL;
    ck_assert_int_eq(kube_apply_file(c, fx, NULL, &e), -1);
    ck_assert_int_eq(e->http_status, 422);
    ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(e->server_msg);
    ck_assert_msg(strstr(e->server_msg, "spec.containers") && strstr(e->server_msg, "Required value"), "%s",
                  e->server_msg);
    /* the message names the document's place in the file */
    ck_assert_msg(strstr(e->msg, "invalid-pod.yaml:3:1"), "%s", e->msg);
    wih_err_free(e);
    free(fx);
    kube_client_free(c);
}
END_TEST

START_TEST(test_forbidden_rbac)
{
    kube_client *c = client_for("nobody");
    wih_err *e = NULL;
    cJSON *l = kube_list(c, "v1", "Pod", "wih-kube-it", NULL, &e);
    ck_assert_ptr_null(l);
    ck_assert_int_eq(e->http_status, 403);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "forbidden: User \"wih-nobody\" cannot list resource \"pods\""), "%s", e->msg);
    ck_assert_ptr_nonnull(strstr(e->server_msg, "wih-nobody"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_wrong_ca)
{
    kube_client *c = client_for("wrongca");
    kube_client_set_retry_ms(c, 1000);
    wih_err *e = NULL;
    cJSON *v = kube_request(c, "GET", "/version", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "TLS: certificate verify failed for https://127.0.0.1:") &&
                      strstr(e->msg, g_mc->kubeconfig) && strstr(e->msg, "otherpki/ca.crt"),
                  "%s", e->msg);
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_tls_server_name)
{
    /* the serving certificate has DNS:localhost: tls-server-name localhost works */
    kube_client *c = client_for("sni");
    wih_err *e = NULL;
    cJSON *v = kube_request(c, "GET", "/version", NULL, NULL, NULL, &e);
    ck_assert_msg(v != NULL, "%s", wih_err_str(e));
    ck_assert_ptr_nonnull(kube_obj_str(v, "gitVersion"));
    cJSON_Delete(v);
    kube_client_free(c);
    /* a name the certificate lacks: exit-3 TLS error about the host name */
    c = client_for("sni-bad");
    kube_client_set_retry_ms(c, 500);
    v = kube_request(c, "GET", "/version", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "TLS: the API server's certificate is not valid for this host name"), "%s", e->msg);
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_unreachable)
{
    kube_client *c = client_for("unreachable");
    kube_client_set_retry_ms(c, 1200);
    wih_err *e = NULL;
    int64_t t0 = wih_now_ms();
    cJSON *v = kube_request(c, "GET", "/version", NULL, NULL, NULL, &e);
    int64_t took = wih_now_ms() - t0;
    ck_assert_ptr_null(v);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "cannot connect to the API server") && strstr(e->msg, "after"), "%s", e->msg);
    ck_assert_msg(took >= 300 && took < 8000, "retried for %lld ms", (long long)took);
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_cli_exit_codes)
{
    char *fx = wih_fixture("kube/integration/objects.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "kube", "apply", "-f", fx, "--kubeconfig", g_mc->kubeconfig, NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_msg(strstr(out, "Pod wih-kube-it/app applied"), "%s", out);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "-n", "wih-kube-it", "-l", "app=wih-test",
                      "--kubeconfig", g_mc->kubeconfig, NULL);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    ck_assert_str_eq(out, "wih-kube-it/app\n");
    free(out);
    free(err);
    /* RBAC: exit 3 and the API server's own words */
    rc = wih_test_cli(&out, &err, NULL, "kube", "get", "v1", "Pod", "-n", "wih-kube-it", "--kubeconfig",
                      g_mc->kubeconfig, "--context", "nobody", NULL);
    ck_assert_int_eq(rc, 3);
    ck_assert_msg(strstr(err, "forbidden: User \"wih-nobody\" cannot list resource \"pods\""), "%s", err);
    free(out);
    free(err);
    /* wrong CA: exit 3 naming TLS and the kubeconfig */
    rc = wih_test_cli(&out, &err, NULL, "kube", "apply", "-f", fx, "--kubeconfig", g_mc->kubeconfig, "--context",
                      "wrongca", NULL);
    ck_assert_int_eq(rc, 3);
    ck_assert_msg(strstr(err, "TLS: certificate verify failed") && strstr(err, g_mc->kubeconfig), "%s", err);
    free(out);
    free(err);
    free(fx);
}
END_TEST

START_TEST(test_delete_and_wait)
{
    kube_client *c = client_for(NULL);
    wih_err *e = NULL;
    /* bound to a node with no kubelet: only a zero grace period removes it */
    ck_assert_msg(kube_delete(c, &POD, 0, 30000, &e) == 0, "delete pod: %s", wih_err_str(e));
    cJSON *g = kube_get(c, &POD, &e);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(e->http_status, 404);
    wih_err_free(e);
    e = NULL;
    kube_ref sa = {"v1", "ServiceAccount", "wih-kube-it", "app-sa"};
    ck_assert_msg(kube_delete(c, &sa, -1, 10000, &e) == 0, "delete sa: %s", wih_err_str(e));
    /* deleting what is gone is fine */
    ck_assert_msg(kube_delete(c, &sa, -1, 1000, &e) == 0, "delete again: %s", wih_err_str(e));
    /* no controller-manager: a namespace would stay Terminating, so no wait */
    kube_ref ns = {"v1", "Namespace", NULL, "wih-kube-it"};
    ck_assert_msg(kube_delete(c, &ns, -1, 0, &e) == 0, "delete ns: %s", wih_err_str(e));
    kube_client_free(c);
}
END_TEST

START_TEST(test_zz_stop_leaves_nothing)
{
    pid_t pids[2] = {g_mc->etcd_pid, g_mc->api_pid};
    int ports[3] = {g_mc->etcd_port, g_mc->etcd_peer_port, g_mc->api_port};
    char *dir = wih_strdup(g_mc->dir);
    wih_minicluster_stop(g_mc);
    g_mc = NULL;
    for (int i = 0; i < 2; i++) ck_assert_msg(!wih_pid_alive(pids[i]), "pid %d still alive", (int)pids[i]);
    for (int i = 0; i < 3; i++) ck_assert_msg(!wih_port_listening(ports[i]), "port %d still listens", ports[i]);
    ck_assert_msg(access(dir, F_OK) != 0, "%s still exists", dir);
    free(dir);
}
END_TEST

static void record_discovery(const char *out_dir)
{
    /* WIH_RECORD_DISCOVERY=<dir>: save the server's discovery documents
     * (how fixtures/kube/discovery was made). */
    kube_config_opts o = {.kubeconfig = g_mc->kubeconfig};
    wih_err *ce = NULL;
    kube_client *c = kube_client_new(&o, &ce);
    if (!c) {
        fprintf(stderr, "recording: %s\n", wih_err_str(ce));
        return;
    }
    const char *paths[][2] = {{"/api", "api.json"},
                              {"/apis", "apis.json"},
                              {"/api/v1", "api-v1.json"},
                              {"/apis/apps/v1", "apis-apps-v1.json"},
                              {"/apis/rbac.authorization.k8s.io/v1", "apis-rbac-v1.json"},
                              {"/apis/admissionregistration.k8s.io/v1", "apis-admissionregistration-v1.json"}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        wih_err *e = NULL;
        cJSON *j = kube_request(c, "GET", paths[i][0], NULL, NULL, NULL, &e);
        if (!j) {
            fprintf(stderr, "recording %s: %s\n", paths[i][0], wih_err_str(e));
            wih_err_free(e);
            continue;
        }
        char *s = cJSON_Print(j);
        char *p = wih_path_join(out_dir, paths[i][1]);
        if (wih_write_file(p, s, strlen(s), 0644, &e)) fprintf(stderr, "%s\n", wih_err_str(e));
        free(p);
        free(s);
        cJSON_Delete(j);
    }
    kube_client_free(c);
}

int main(void)
{
    wih_tool_info ti;
    for (int t = WIH_TOOL_KUBE_APISERVER; t <= WIH_TOOL_ETCD; t++) {
        wih_tool_find((wih_tool)t, false, &ti);
        if (!ti.path) wih_test_skip("%s not found (run ci/setup, or set %s)", ti.name, ti.env);
        wih_tool_info_free(&ti);
    }
    setenv("CK_FORK", "no", 1); /* one shared cluster; the cleanup stack must stay in this process */
    wih_err *e = NULL;
    int64_t t0 = wih_now_ms();
    g_mc = wih_minicluster_start(&e);
    if (!g_mc) {
        fprintf(stderr, "minicluster: %s\n", wih_err_str(e));
        return 1;
    }
    printf("minicluster up in %lld ms at %s\n", (long long)(wih_now_ms() - t0), g_mc->server);
    const char *rec = getenv("WIH_RECORD_DISCOVERY");
    if (rec && *rec) record_discovery(rec);

    Suite *s = suite_create("kube-integration");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_apply_get_list);
    tcase_add_test(tc, test_create_conflict);
    tcase_add_test(tc, test_discovery_live);
    tcase_add_test(tc, test_token_request_bound_to_pod);
    tcase_add_test(tc, test_binding_and_status);
    tcase_add_test(tc, test_wait_deadline);
    tcase_add_test(tc, test_invalid_object_keeps_server_message);
    tcase_add_test(tc, test_forbidden_rbac);
    tcase_add_test(tc, test_wrong_ca);
    tcase_add_test(tc, test_tls_server_name);
    tcase_add_test(tc, test_unreachable);
    tcase_add_test(tc, test_cli_exit_codes);
    tcase_add_test(tc, test_delete_and_wait);
    tcase_add_test(tc, test_zz_stop_leaves_nothing);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    if (g_mc) wih_minicluster_stop(g_mc); /* a failed test left it running */
    free(g_pod_uid);
    return rc;
}
