/* The local backend through the real binary: up → status → kubectl → anonymous
 * OIDC discovery → up again reuses → down → nothing alive, nothing listening. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/yamljson.h"

static char *g_dir;

static cJSON *state(void)
{
    wih_err *err = NULL;
    cJSON *s = cluster_local_state(g_dir, &err);
    ck_assert_msg(s != NULL, "%s", wih_err_str(err));
    return s;
}

START_TEST(up_status_env_down)
{
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "up", "--no-node", "--state-dir", g_dir, NULL);
    ck_assert_msg(rc == 0, "up exit %d: %s", rc, err);
    char *kc = wih_path_join(g_dir, "kubeconfig");
    char *want = wih_asprintf("export KUBECONFIG=%s\n", kc);
    ck_assert_str_eq(out, want);
    free(out);
    free(err);

    rc = wih_test_cli(&out, &err, NULL, "status", "--state-dir", g_dir, "-o", "json", NULL);
    ck_assert_msg(rc == 0, "status exit %d: %s %s", rc, out, err);
    cJSON *st = cJSON_Parse(out);
    static const char *const comps[] = {"etcd", "kube-apiserver", "webhook", "cloud", "minio", NULL};
    for (const char *const *c = comps; *c; c++)
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(st, *c), "healthy")), "%s not healthy", *c);
    cJSON_Delete(st);
    free(out);
    free(err);

    rc = wih_test_cli(&out, &err, NULL, "env", "--state-dir", g_dir, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s", out);
    static const char *const vars[] = {"AWS_ENDPOINT_URL_STS=https://127.0.0.1:", "AWS_ENDPOINT_URL_S3=http://127.0.0.1:",
                                       "AZURE_AUTHORITY_HOST=https://127.0.0.1:", "REQUESTS_CA_BUNDLE=",
                                       "WIH_GOOGLE_STS_URL=https://127.0.0.1:", NULL};
    for (const char *const *v = vars; *v; v++) ck_assert_msg(strstr(out, *v), "env lacks %s:\n%s", *v, out);
    free(out);
    free(err);

    /* the OIDC discovery document and JWKS are public, as a cloud IAM needs */
    cJSON *s = state();
    const char *server = cJSON_GetObjectItem(s, "server")->valuestring;
    char *ca = wih_asprintf("%s/pki/ca.crt", g_dir);
    char *url = wih_asprintf("%s/.well-known/openid-configuration", server);
    char *body = NULL;
    wih_err *e = NULL;
    long code = cluster_http_get(url, ca, NULL, NULL, &body, &e);
    ck_assert_msg(code == 200, "discovery: %ld %s", code, body ? body : wih_err_str(e));
    cJSON *disc = cJSON_Parse(body);
    ck_assert_str_eq(cJSON_GetObjectItem(disc, "issuer")->valuestring, server);
    char *jwks_uri = wih_strdup(cJSON_GetObjectItem(disc, "jwks_uri")->valuestring);
    ck_assert_msg(strncmp(jwks_uri, "https://127.0.0.1:", 18) == 0, "jwks_uri %s", jwks_uri);
    cJSON_Delete(disc);
    free(body);
    code = cluster_http_get(jwks_uri, ca, NULL, NULL, &body, &e);
    ck_assert_msg(code == 200, "jwks: %ld", code);
    cJSON *jwks = cJSON_Parse(body);
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(jwks, "keys")), 1);
    cJSON_Delete(jwks);
    free(body);
    free(jwks_uri);
    free(url);
    /* ... but the API itself is not */
    url = wih_asprintf("%s/api/v1/namespaces", server);
    code = cluster_http_get(url, ca, NULL, NULL, NULL, &e);
    ck_assert_int_eq(code, 403);
    free(url);

    /* kubectl works with the written kubeconfig */
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_KUBECTL, false, &ti);
    if (ti.path) {
        char *argv[] = {ti.path, "--kubeconfig", kc, "get", "ns", "-o", "name", NULL};
        char *ko = NULL, *ke = NULL;
        rc = wih_run_capture(argv, NULL, NULL, 30000, &ko, &ke, &e);
        ck_assert_msg(rc == 0, "kubectl get ns: %d %s", rc, ke);
        ck_assert_msg(strstr(ko, "namespace/default"), "%s", ko);
        free(ko);
        free(ke);
    } else {
        printf("SKIPPED: kubectl check: kubectl not found on PATH\n");
    }
    wih_tool_info_free(&ti);

    /* a second up reuses the healthy chain: same PIDs */
    long pid_api = (long)cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "components"), "kube-apiserver"), "pid")->valuedouble;
    long pid_etcd = (long)cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "components"), "etcd"), "pid")->valuedouble;
    int port_api = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "components"), "kube-apiserver"), "port")->valueint;
    int port_etcd = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "components"), "etcd"), "port")->valueint;
    rc = wih_test_cli(&out, &err, NULL, "up", "--no-node", "--state-dir", g_dir, NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(err, "reusing the healthy local chain"), "%s", err);
    free(out);
    free(err);
    cJSON *s2 = state();
    ck_assert_int_eq((long)cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s2, "components"), "kube-apiserver"), "pid")->valuedouble, pid_api);
    cJSON_Delete(s2);

    cJSON *all = cJSON_Duplicate(cJSON_GetObjectItem(s, "components"), 1);
    rc = wih_test_cli(&out, &err, NULL, "down", "--state-dir", g_dir, NULL);
    ck_assert_msg(rc == 0, "down exit %d: %s", rc, err);
    free(out);
    free(err);
    ck_assert_int_eq(cJSON_GetArraySize(all), 5);
    for (cJSON *c = all->child; c; c = c->next) {
        pid_t pid = (pid_t)cJSON_GetObjectItem(c, "pid")->valuedouble;
        int port = cJSON_GetObjectItem(c, "port")->valueint;
        ck_assert_msg(!wih_pid_alive(pid), "%s (pid %d) still alive after down", c->string, (int)pid);
        ck_assert_msg(!wih_port_listening(port), "%s's port %d still listening after down", c->string, port);
    }
    cJSON_Delete(all);
    ck_assert_msg(!wih_pid_alive((pid_t)pid_api), "kube-apiserver %ld still alive", pid_api);
    ck_assert_msg(!wih_pid_alive((pid_t)pid_etcd), "etcd %ld still alive", pid_etcd);
    ck_assert(!wih_port_listening(port_api));
    ck_assert(!wih_port_listening(port_etcd));
    ck_assert_int_ne(access(g_dir, F_OK), 0);
    rc = wih_test_cli(&out, &err, NULL, "status", "--state-dir", g_dir, NULL);
    ck_assert_int_eq(rc, 3);
    free(out);
    free(err);
    cJSON_Delete(s);
    free(ca);
    free(kc);
    free(want);
}
END_TEST

START_TEST(up_replaces_a_dead_chain)
{
    char *out, *err;
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "up", "--no-node", "--state-dir", g_dir, NULL), 0);
    free(out);
    free(err);
    cJSON *s = state();
    cJSON *etcd = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "components"), "etcd");
    pid_t old = (pid_t)cJSON_GetObjectItem(etcd, "pid")->valuedouble;
    wih_pid_stop_checked(old, strtoull(cJSON_GetObjectItem(etcd, "start_ticks")->valuestring, NULL, 10), NULL, 5000);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "status", "--state-dir", g_dir, NULL), 3);
    free(out);
    free(err);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "up", "--no-node", "--state-dir", g_dir, NULL), 0);
    ck_assert_msg(strstr(err, "not healthy: replacing it"), "%s", err);
    free(out);
    free(err);
    cJSON *s2 = state();
    pid_t now = (pid_t)cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(s2, "components"), "etcd"), "pid")->valuedouble;
    ck_assert_int_ne(now, old);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "status", "--state-dir", g_dir, NULL), 0);
    free(out);
    free(err);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "down", "--state-dir", g_dir, NULL), 0);
    free(out);
    free(err);
    ck_assert(!wih_pid_alive(now));
    cJSON_Delete(s);
    cJSON_Delete(s2);
}
END_TEST

int main(void)
{
    wih_err *err = NULL;
    for (int t = 0; t < WIH_TOOL_MINIO; t++) {
        char *p = wih_tool_path((wih_tool)t, &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    char *tmp = wih_tmpdir("wih-local-test", false, &err);
    g_dir = wih_path_join(tmp, "state");
    Suite *s = suite_create("local");
    TCase *tc = tcase_create("local");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, up_status_env_down);
    tcase_add_test(tc, up_replaces_a_dead_chain);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    /* never leave a chain behind, whatever failed */
    cluster_local_opts o = {.state_dir = g_dir};
    wih_err_free(cluster_local_down(&o, false));
    free(g_dir);
    free(tmp);
    return rc;
}
