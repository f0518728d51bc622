/* The one HTTP client against a scripted libmicrohttpd server on 127.0.0.1:
 * capped bodies, retries only when asked (503, Retry-After), methods and
 * bodies, status + trimmed body kept in errors, TLS from a PEM blob, and no
 * bearer token in any message. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/http.h"
#include "wiharness/webhook.h"

static int g_flaky; /* 503s left to give on /flaky */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    wih_buf body;
} conn;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body, size_t len, const char *h,
                             const char *v)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (h) MHD_add_response_header(r, h, v);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result add_line(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    wih_buf_addf(cls, "%s: %s\n", key, value ? value : "");
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)version;
    if (!*con_cls) {
        conn *st = wih_xcalloc(1, sizeof *st);
        wih_buf_init(&st->body, 1 << 20);
        *con_cls = st;
        return MHD_YES;
    }
    conn *st = *con_cls;
    if (*upload_size) {
        wih_buf_add(&st->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (!strcmp(url, "/big")) {
        size_t n = (size_t)2 << 20;
        char *b = wih_xmalloc(n);
        memset(b, 'x', n);
        enum MHD_Result r = reply(c, 200, b, n, NULL, NULL);
        free(b);
        return r;
    }
    if (!strcmp(url, "/flaky")) {
        pthread_mutex_lock(&g_mu);
        bool fail = g_flaky > 0 && g_flaky--;
        pthread_mutex_unlock(&g_mu);
        return fail ? reply(c, 503, "busy", 4, "Retry-After", "0") : reply(c, 200, "ok", 2, NULL, NULL);
    }
    if (!strcmp(url, "/missing")) return reply(c, 404, "  \n no such thing here \n\n", 24, NULL, NULL);
    if (!strcmp(url, "/echo")) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        char *s = wih_asprintf("%s %s %s auth=%s", method, ct ? ct : "-", st->body.data ? st->body.data : "",
                               auth ? auth : "-");
        enum MHD_Result r = reply(c, 200, s, strlen(s), NULL, NULL);
        free(s);
        return r;
    }
    if (!strcmp(url, "/headers")) { /* every request header, in the order it came */
        wih_buf b;
        wih_buf_init(&b, 1 << 16);
        wih_buf_adds(&b, "");
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_line, &b);
        enum MHD_Result r = reply(c, 200, b.data, b.len, NULL, NULL);
        wih_buf_free(&b);
        return r;
    }
    return reply(c, 404, "", 0, NULL, NULL);
}

static void done_cb(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    conn *st = *con_cls;
    if (st) {
        wih_buf_free(&st->body);
        free(st);
    }
}

static struct MHD_Daemon *start(unsigned flags, const char *cert, const char *key, int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        cert ? MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | flags, 0, NULL, NULL, handler, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_CERT, cert,
                                MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_NOTIFY_COMPLETED, done_cb, NULL,
                                MHD_OPTION_END)
             : MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | flags, 0, NULL, NULL, handler, NULL,
                                MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, done_cb,
                                NULL, MHD_OPTION_END);
    ck_assert_msg(d != NULL, "the test server did not start");
    *port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

static struct MHD_Daemon *g_d;
static int g_port;

static void setup(void)
{
    g_d = start(0, NULL, NULL, &g_port);
}

static void teardown(void)
{
    MHD_stop_daemon(g_d);
}

static char *url_of(const char *path)
{
    return wih_asprintf("http://127.0.0.1:%d%s", g_port, path);
}

START_TEST(body_over_the_cap_is_an_error)
{
    char *u = url_of("/big");
    wih_http_req rq = {.url = u, .max_body = 1 << 20};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), -1);
    ck_assert_int_eq(rs.fail, WIH_HTTP_E_TOO_BIG);
    ck_assert_msg(strstr(e->msg, "larger than the 1048576-byte cap"), "%s", e->msg);
    wih_err_free(e);
    wih_http_resp_free(&rs);
    rq.max_body = (size_t)4 << 20; /* a bigger cap holds it */
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), 0);
    ck_assert_uint_eq(rs.body.len, (size_t)2 << 20);
    wih_http_resp_free(&rs);
    free(u);
}
END_TEST

START_TEST(retries_only_when_asked)
{
    char *u = url_of("/flaky");
    g_flaky = 2;
    wih_http_req rq = {.url = u};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), 0);
    ck_assert_int_eq(rs.status, 503);
    ck_assert_int_eq(rs.attempts, 1);
    wih_http_resp_free(&rs);
    rq.retry = WIH_HTTP_RETRY_503;
    rq.retry_ms = 10000;
    wih_http *h = wih_http_new(); /* a reused connection as well */
    ck_assert_int_eq(wih_http_do(h, &rq, &rs, &e), 0);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_int_eq(rs.attempts, 2); /* one 503 was left */
    ck_assert_str_eq(rs.body.data, "ok");
    wih_http_resp_free(&rs);
    wih_http_free(h);
    free(u);
}
END_TEST

START_TEST(methods_bodies_and_headers)
{
    char *u = url_of("/echo");
    static const char *const hdrs[] = {"X-Test: 1", NULL};
    wih_http_req rq = {.method = "POST", .url = u, .headers = hdrs, .body = "a=1", .body_len = 3,
                       .content_type = "application/x-www-form-urlencoded", .bearer = "sekret-token-123"};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), 0);
    ck_assert_str_eq(rs.body.data, "POST application/x-www-form-urlencoded a=1 auth=Bearer sekret-token-123");
    wih_http_resp_free(&rs);
    wih_http_req put = {.method = "PUT", .url = u, .body = "{}", .body_len = 2};
    ck_assert_int_eq(wih_http_do(NULL, &put, &rs, &e), 0);
    ck_assert_str_eq(rs.body.data, "PUT application/json {} auth=-");
    wih_http_resp_free(&rs);
    wih_http_req head = {.method = "HEAD", .url = u};
    ck_assert_int_eq(wih_http_do(NULL, &head, &rs, &e), 0);
    ck_assert_int_eq(rs.status, 200);
    ck_assert_uint_eq(rs.body.len, 0);
    wih_http_resp_free(&rs);
    free(u);
}
END_TEST

/* A Content-Type among the caller's headers is the one sent, in its place
 * (not a second one after it); user_agent "" sends none: the probe relies on
 * both to send exactly the SDKs' header lines (docs/probe.md). */
START_TEST(caller_content_type_wins_and_no_user_agent)
{
    char *u = url_of("/headers");
    static const char *const hdrs[] = {"X-First: 1", "Content-Type: text/plain; charset=utf-8", "X-Last: 2", NULL};
    wih_http_req rq = {.method = "POST", .url = u, .headers = hdrs, .body = "x", .body_len = 1, .user_agent = ""};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), 0);
    char *want = wih_asprintf("Host: 127.0.0.1:%d\nAccept: */*\nX-First: 1\n"
                              "Content-Type: text/plain; charset=utf-8\nX-Last: 2\nContent-Length: 1\n", g_port);
    ck_assert_str_eq(rs.body.data, want);
    free(want);
    wih_http_resp_free(&rs);
    /* without them: the default Content-Type after the headers, our User-Agent */
    wih_http_req dflt = {.method = "POST", .url = u, .headers = hdrs + 2, .body = "x", .body_len = 1};
    ck_assert_int_eq(wih_http_do(NULL, &dflt, &rs, &e), 0);
    ck_assert_msg(strstr(rs.body.data, "User-Agent: wiharness/") &&
                      strstr(rs.body.data, "X-Last: 2\nContent-Type: application/json\n"),
                  "%s", rs.body.data);
    wih_http_resp_free(&rs);
    free(u);
}
END_TEST

START_TEST(errors_keep_status_and_trimmed_body_never_the_token)
{
    char *u = url_of("/missing");
    wih_http_req rq = {.url = u, .bearer = "sekret-token-123"};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_int_eq(wih_http_do(NULL, &rq, &rs, &e), 0);
    wih_err *se = wih_http_status_err(&rs, "reading the thing");
    ck_assert_int_eq(se->http_status, 404);
    ck_assert_str_eq(se->server_msg, "no such thing here");
    ck_assert_str_eq(se->msg, "reading the thing: HTTP 404: no such thing here");
    wih_err_free(se);
    wih_http_resp_free(&rs);
    free(u);
    /* a closed port: a transport error, retried when asked, no token in it */
    int port = wih_free_port(&e);
    char *dead = wih_asprintf("http://127.0.0.1:%d/x", port);
    wih_http_req rq2 = {.url = dead, .bearer = "sekret-token-123", .retry = WIH_HTTP_RETRY_TRANSPORT,
                        .retry_ms = 400};
    ck_assert_int_eq(wih_http_do(NULL, &rq2, &rs, &e), -1);
    ck_assert_int_eq(rs.fail, WIH_HTTP_E_CONNECT);
    ck_assert_int_gt(rs.attempts, 1);
    ck_assert_msg(strstr(e->msg, dead) && !strstr(wih_err_str(e), "sekret"), "%s", wih_err_str(e));
    wih_err_free(e);
    wih_http_resp_free(&rs);
    free(dead);
}
END_TEST

START_TEST(tls_from_a_pem_blob)
{
    char *cert = NULL, *key = NULL;
    wih_err *e = NULL;
    ck_assert_msg(webhook_selfsigned(&cert, &key, &e) == 0, "%s", e ? wih_err_str(e) : "?");
    int port = 0;
    struct MHD_Daemon *d = start(0, cert, key, &port);
    char *u = wih_asprintf("https://127.0.0.1:%d/flaky", port);
    g_flaky = 0;
    wih_http_req rq = {.url = u, .ca_pem = cert, .ca_len = strlen(cert)};
    wih_http_resp rs;
    ck_assert_msg(wih_http_do(NULL, &rq, &rs, &e) == 0, "%s", e ? wih_err_str(e) : "?");
    ck_assert_int_eq(rs.status, 200);
    wih_http_resp_free(&rs);
    wih_http_req untrusted = {.url = u};
    ck_assert_int_eq(wih_http_do(NULL, &untrusted, &rs, &e), -1);
    ck_assert_int_eq(rs.fail, WIH_HTTP_E_TLS_VERIFY);
    wih_err_free(e);
    wih_http_resp_free(&rs);
    MHD_stop_daemon(d);
    free(u);
    free(cert);
    free(key);
}
END_TEST

START_TEST(escape_and_trim)
{
    char *s = wih_http_escape("a b/c~d", false);
    ck_assert_str_eq(s, "a%20b%2Fc~d");
    free(s);
    s = wih_http_escape("a b/c", true);
    ck_assert_str_eq(s, "a%20b/c");
    free(s);
    s = wih_http_escape("", false);
    ck_assert_str_eq(s, "");
    free(s);
    s = wih_http_trim("  abcdef \n", 3);
    ck_assert_str_eq(s, "abc…");
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, body_over_the_cap_is_an_error);
    tcase_add_test(tc, retries_only_when_asked);
    tcase_add_test(tc, methods_bodies_and_headers);
    tcase_add_test(tc, caller_content_type_wins_and_no_user_agent);
    tcase_add_test(tc, errors_keep_status_and_trimmed_body_never_the_token);
    tcase_add_test(tc, tls_from_a_pem_blob);
    tcase_add_test(tc, escape_and_trim);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
