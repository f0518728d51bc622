/* The request layer against a scripted local HTTP server (libmicrohttpd on
 * 127.0.0.1): retries with backoff on 429/5xx until the deadline, the body
 * cap, headers (bearer token, content type, tls-server-name via CONNECT_TO),
 * an exec credential refreshed once on 401, and no token in any message. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/kube.h"

static struct MHD_Daemon *g_d;
static int g_port;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_hits_429, g_hits_503, g_hits_401;
static char *g_tmp;

typedef struct {
    wih_buf body;
} conn_state;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body, const char *extra_hdr,
                             const char *extra_val)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (extra_hdr) MHD_add_response_header(r, extra_hdr, extra_val);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    conn_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        wih_buf_init(&st->body, 1 << 20);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_size) {
        wih_buf_add(&st->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/flaky429")) {
        pthread_mutex_lock(&g_mu);
        int n = ++g_hits_429;
        pthread_mutex_unlock(&g_mu);
        if (n <= 2)
            return reply(c, 429, "{\"kind\":\"Status\",\"message\":\"slow down\",\"code\":429}", "Retry-After", "0");
        return reply(c, 200, "{\"ok\":true}", NULL, NULL);
    }
    if (!strcmp(url, "/always503")) {
        pthread_mutex_lock(&g_mu);
        g_hits_503++;
        pthread_mutex_unlock(&g_mu);
        return reply(c, 503, "{\"kind\":\"Status\",\"message\":\"etcd leader changed\",\"code\":503}", NULL, NULL);
    }
    if (!strcmp(url, "/unauth")) {
        pthread_mutex_lock(&g_mu);
        g_hits_401++;
        pthread_mutex_unlock(&g_mu);
        return reply(c, 401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"code\":401}", NULL, NULL);
    }
    if (!strcmp(url, "/big")) {
        size_t n = (size_t)2 << 20;
        char *big = malloc(n + 1);
        memset(big, ' ', n);
        big[0] = '[';
        big[n - 1] = ']';
        big[n] = '\0';
        enum MHD_Result r = reply(c, 200, big, NULL, NULL);
        free(big);
        return r;
    }
    if (!strcmp(url, "/empty")) return reply(c, 200, "", NULL, NULL);
    if (!strcmp(url, "/api") || !strcmp(url, "/api/v1")) {
        /* discovery documents recorded from a real kube-apiserver */
        char *p = wih_fixture(!strcmp(url, "/api") ? "kube/discovery/api.json" : "kube/discovery/api-v1.json");
        size_t n;
        char *doc = wih_read_file(p, 1 << 22, &n, NULL);
        free(p);
        enum MHD_Result r = reply(c, doc ? 200 : 500, doc ? doc : "{}", NULL, NULL);
        free(doc);
        return r;
    }
    if (!strcmp(url, "/notjson")) return reply(c, 200, "<html>proxy login</html>", NULL, NULL);
    /* /echo: what the client sent */
    cJSON *o = cJSON_CreateObject();
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "labelSelector");
    cJSON_AddStringToObject(o, "method", method);
    cJSON_AddStringToObject(o, "url", url);
    if (auth) cJSON_AddStringToObject(o, "auth", auth);
    if (host) cJSON_AddStringToObject(o, "host", host);
    if (ct) cJSON_AddStringToObject(o, "ct", ct);
    if (q) cJSON_AddStringToObject(o, "labelSelector", q);
    cJSON_AddStringToObject(o, "body", st->body.data ? st->body.data : "");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    enum MHD_Result r = reply(c, 200, s, NULL, NULL);
    free(s);
    return r;
}

static void done_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    conn_state *st = *con_cls;
    if (st) {
        wih_buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void start_server(void)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                           (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL, MHD_OPTION_END);
    ck_assert_ptr_nonnull(g_d);
    g_port = MHD_get_daemon_info(g_d, MHD_DAEMON_INFO_BIND_PORT)->port;
    ck_assert_int_gt(g_port, 0);
}

static void setup(void)
{
    start_server();
    wih_err *e = NULL;
    if (g_tmp) { /* CK_FORK=no (valgrind): the previous test's dir */
        wih_rm_rf(g_tmp);
        free(g_tmp);
    }
    g_tmp = wih_tmpdir("wih-kube-http-test", false, &e);
    ck_assert_ptr_nonnull(g_tmp);
    char *cred = wih_fixture("kube/kubeconfig/exec/bin/cred.sh");
    char *kc = wih_asprintf(
        "apiVersion: v1\nkind: Config\ncurrent-context: tok\n"
        "clusters:\n"
        "- name: fake\n  cluster: {server: \"http://127.0.0.1:%d\"}\n"
        "- name: fake-sni\n  cluster: {server: \"http://127.0.0.1:%d\", tls-server-name: api.example.internal}\n"
        "users:\n"
        "- name: tok\n  user: {token: fake-secret-token-1234}\n"
        "- name: ex\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: %s\n"
        "      args: [client.authentication.k8s.io/v1, token, http]\n      env: [{name: PREFIX, value: fake-exec}]\n"
        "      interactiveMode: Never\n"
        "contexts:\n"
        "- name: tok\n  context: {cluster: fake, user: tok}\n"
        "- name: ex\n  context: {cluster: fake, user: ex}\n"
        "- name: sni\n  context: {cluster: fake-sni, user: tok}\n",
        g_port, g_port, cred);
    char *p = wih_path_join(g_tmp, "kubeconfig");
    ck_assert_int_eq(wih_write_file(p, kc, strlen(kc), 0600, &e), 0);
    free(p);
    free(kc);
    free(cred);
    char *counter = wih_path_join(g_tmp, "runs");
    setenv("WIH_EXEC_COUNTER", counter, 1);
    unsetenv("WIH_EXEC_EXPIRY");
    unsetenv("WIH_EXEC_INFO_OUT");
    free(counter);
}

static void teardown(void)
{
    if (g_d) MHD_stop_daemon(g_d);
    g_d = NULL;
}

static kube_client *client(const char *ctx)
{
    char *p = wih_path_join(g_tmp, "kubeconfig");
    kube_config_opts o = {.kubeconfig = p, .context = ctx};
    wih_err *e = NULL;
    kube_client *c = kube_client_new(&o, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    free(p);
    return c;
}

START_TEST(test_retry_429_then_ok)
{
    kube_client *c = client(NULL);
    wih_err *e = NULL;
    long st = 0;
    cJSON *r = kube_request(c, "GET", "/flaky429", NULL, NULL, &st, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")));
    ck_assert_int_eq(g_hits_429, 3);
    cJSON_Delete(r);
    kube_client_free(c);
}
END_TEST

START_TEST(test_retry_5xx_until_deadline)
{
    kube_client *c = client(NULL);
    kube_client_set_retry_ms(c, 1500);
    wih_err *e = NULL;
    int64_t t0 = wih_now_ms();
    cJSON *r = kube_request(c, "GET", "/always503", NULL, NULL, NULL, &e);
    int64_t took = wih_now_ms() - t0;
    ck_assert_ptr_null(r);
    ck_assert_int_eq(e->http_status, 503);
    ck_assert_str_eq(e->server_msg, "etcd leader changed");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    /* retried with backoff (at least one pause), and gave up near the deadline;
     * bounds are loose: the machine may be loaded */
    ck_assert_msg(g_hits_503 >= 2, "only %d attempt(s)", g_hits_503);
    ck_assert_msg(took >= 100 && took < 8000, "took %lld ms", (long long)took);
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_body_cap_and_non_json)
{
    kube_client *c = client(NULL);
    kube_client_set_max_body(c, 1 << 20);
    wih_err *e = NULL;
    cJSON *r = kube_request(c, "GET", "/big", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(e->msg, "larger than the 1048576-byte cap"), "%s", e->msg);
    wih_err_free(e);
    kube_client_set_max_body(c, 4 << 20);
    r = kube_request(c, "GET", "/big", NULL, NULL, NULL, &e);
    ck_assert_msg(r != NULL && cJSON_IsArray(r), "%s", e ? e->msg : "not an array");
    cJSON_Delete(r);
    e = NULL;
    r = kube_request(c, "GET", "/empty", NULL, NULL, NULL, &e);
    ck_assert(r && cJSON_IsNull(r));
    cJSON_Delete(r);
    r = kube_request(c, "GET", "/notjson", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(r);
    ck_assert_ptr_nonnull(strstr(e->msg, "not JSON"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_headers_token_and_body)
{
    kube_client *c = client(NULL);
    wih_err *e = NULL;
    cJSON *body = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}");
    cJSON *r = kube_request(c, "PATCH", "/echo", "application/apply-patch+yaml", body, NULL, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "method"), "PATCH");
    ck_assert_str_eq(kube_obj_str(r, "auth"), "Bearer fake-secret-token-1234");
    ck_assert_str_eq(kube_obj_str(r, "ct"), "application/apply-patch+yaml");
    ck_assert_str_eq(kube_obj_str(r, "body"), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}");
    cJSON_Delete(r);
    cJSON_Delete(body);
    kube_client_free(c);
    /* tls-server-name: the request names it, the connection goes to the server's address */
    c = client("sni");
    r = kube_request(c, "GET", "/echo", NULL, NULL, NULL, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    char *want = wih_asprintf("api.example.internal:%d", g_port);
    ck_assert_str_eq(kube_obj_str(r, "host"), want);
    free(want);
    cJSON_Delete(r);
    kube_client_free(c);
}
END_TEST

START_TEST(test_401_refreshes_exec_once_and_never_prints_token)
{
    kube_client *c = client("ex");
    wih_err *e = NULL;
    cJSON *r = kube_request(c, "GET", "/echo", NULL, NULL, NULL, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "auth"), "Bearer fake-exec-http");
    cJSON_Delete(r);
    ck_assert_int_eq(kube_config_exec_runs(kube_client_config(c)), 1);
    r = kube_request(c, "GET", "/unauth", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(g_hits_401, 2); /* first try, then once more with a fresh credential */
    ck_assert_int_eq(kube_config_exec_runs(kube_client_config(c)), 2);
    ck_assert_int_eq(e->http_status, 401);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "unauthorized") && strstr(e->msg, "user \"ex\""), "%s", e->msg);
    ck_assert_ptr_null(strstr(e->msg, "fake-exec-http"));
    wih_err_free(e);
    kube_client_free(c);
    /* a static token is not in a 401 message either */
    c = client("tok");
    r = kube_request(c, "GET", "/unauth", NULL, NULL, NULL, &e);
    ck_assert_ptr_null(r);
    ck_assert_ptr_null(strstr(e->msg, "fake-secret-token-1234"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

START_TEST(test_list_get_through_discovery)
{
    kube_client *c = client(NULL);
    wih_err *e = NULL;
    /* the fake server serves recorded /api and /api/v1, then echoes */
    cJSON *r = kube_list(c, "v1", "Pod", "team-a", "tier in (web,api),app=x", &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "url"), "/api/v1/namespaces/team-a/pods");
    ck_assert_str_eq(kube_obj_str(r, "labelSelector"), "tier in (web,api),app=x");
    cJSON_Delete(r);
    kube_ref ref = {"v1", "Pod", NULL, "web-0"}; /* ns NULL → the context's namespace */
    r = kube_get(c, &ref, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "url"), "/api/v1/namespaces/default/pods/web-0");
    cJSON_Delete(r);
    kube_ref node = {"v1", "Node", "ignored-ns", "n1"}; /* cluster-scoped: no namespace */
    r = kube_get(c, &node, &e);
    ck_assert_msg(r != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_obj_str(r, "url"), "/api/v1/nodes/n1");
    cJSON_Delete(r);
    /* a kind the server does not serve */
    kube_ref bad = {"v1", "Podd", NULL, "x"};
    ck_assert_ptr_null(kube_get(c, &bad, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(e->msg, "kind Podd is not served in apiVersion v1"));
    wih_err_free(e);
    /* a TokenRequest body as the API expects it */
    const char *aud[] = {"sts.amazonaws.com", NULL};
    kube_token_req q = {.ns = "team-a", .service_account = "app", .audiences = aud, .expiration_seconds = 3600,
                        .bound_kind = "Pod", .bound_name = "web-0", .bound_uid = "uid-1"};
    e = NULL;
    char *tok = kube_token_request(c, &q, NULL, &e);
    ck_assert_ptr_null(tok); /* the echo has no status.token */
    ck_assert_ptr_nonnull(strstr(e->msg, "no status.token"));
    wih_err_free(e);
    kube_client_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kube-http");
    TCase *tc = tcase_create("fake-server");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_retry_429_then_ok);
    tcase_add_test(tc, test_retry_5xx_until_deadline);
    tcase_add_test(tc, test_body_cap_and_non_json);
    tcase_add_test(tc, test_headers_token_and_body);
    tcase_add_test(tc, test_401_refreshes_exec_once_and_never_prints_token);
    tcase_add_test(tc, test_list_get_through_discovery);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
