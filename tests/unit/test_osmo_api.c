/* OSMO submitter from recorded shapes (fixtures/osmo-api/README.md): the
 * submit request, every answer → workflow id / status / error with its exit
 * code, the pods' selector, the token (env, file, never printed), the
 * command's --dry-run, and the wait loop against a loopback server replaying
 * recorded query answers. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/osmo_api.h"

#define TOKEN "osmo-fixture-token-1"

static char *slurp(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s", p);
    free(p);
    return t;
}

START_TEST(submit_request_shape)
{
    char *spec = slurp("osmo-api/workflow.yaml");
    char *want_t = slurp("osmo-api/submit-request.json");
    cJSON *want = cJSON_Parse(want_t);
    wih_err *e = NULL;
    probe_req *r = osmo_api_submit_req("https://osmo.example.com/", "gpu-a", spec, TOKEN, false, &e);
    ck_assert_msg(r, "%s", e ? wih_err_str(e) : "");
    cJSON *got = probe_req_describe(r);
    char *gs = cJSON_PrintUnformatted(got);
    ck_assert_msg(cJSON_Compare(got, want, true), "got %s", gs);
    ck_assert_ptr_null(strstr(gs, TOKEN));
    /* the wire carries the token and the spec as JSON */
    bool tok = false;
    for (size_t i = 0; i < r->nheaders; i++) tok |= !strcmp(r->headers[i].value, TOKEN);
    ck_assert(tok);
    cJSON *b = cJSON_Parse(r->body);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(b, "file")), spec);
    cJSON_Delete(b);
    probe_req_free(r);
    r = osmo_api_submit_req("http://osmo:8000", "gpu-a", spec, TOKEN, true, &e);
    ck_assert_str_eq(r->url, "http://osmo:8000/api/pool/gpu-a/workflow?dry_run=true");
    probe_req_free(r);
    ck_assert_ptr_null(osmo_api_submit_req("osmo.example.com", "gpu-a", spec, TOKEN, false, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(osmo_api_submit_req("https://o", "../x", spec, TOKEN, false, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    char *sel = osmo_api_pod_selector("wi-check-3");
    ck_assert_str_eq(sel, "osmo.workflow_id=wi-check-3");
    free(sel);
    free(gs);
    cJSON_Delete(got);
    cJSON_Delete(want);
    free(want_t);
    free(spec);
}
END_TEST

START_TEST(answers_from_fixtures)
{
    char *t = slurp("osmo-api/responses.json");
    cJSON *all = cJSON_Parse(t);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "submit")) {
        wih_err *e = NULL;
        long st = (long)cJSON_GetObjectItem(c, "status")->valuedouble;
        char *name = osmo_api_parse_submit(st, cJSON_GetStringValue(cJSON_GetObjectItem(c, "body")), &e);
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        if (want) {
            ck_assert_msg(name && !strcmp(name, want), "submit %ld: %s", st, e ? wih_err_str(e) : name);
        } else {
            ck_assert_msg(!name && e, "submit %ld: no error", st);
            ck_assert_int_eq(wih_err_exit(e), cJSON_GetObjectItem(c, "exit")->valueint);
            ck_assert_msg(strstr(wih_err_str(e), cJSON_GetStringValue(cJSON_GetObjectItem(c, "text"))), "%s",
                          wih_err_str(e));
        }
        free(name);
        wih_err_free(e);
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "query")) {
        wih_err *e = NULL;
        bool term = true, ok = true;
        long st = (long)cJSON_GetObjectItem(c, "status")->valuedouble;
        char *s = osmo_api_parse_status(st, cJSON_GetStringValue(cJSON_GetObjectItem(c, "body")), &term, &ok, &e);
        const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(c, "state"));
        if (want) {
            ck_assert_msg(s && !strcmp(s, want), "query: %s", e ? wih_err_str(e) : s);
            ck_assert_int_eq(term, cJSON_IsTrue(cJSON_GetObjectItem(c, "terminal")));
            ck_assert_int_eq(ok, cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
        } else {
            ck_assert_msg(!s && e, "query %ld: no error", st);
            ck_assert_int_eq(wih_err_exit(e), cJSON_GetObjectItem(c, "exit")->valueint);
            ck_assert_msg(strstr(wih_err_str(e), cJSON_GetStringValue(cJSON_GetObjectItem(c, "text"))), "%s",
                          wih_err_str(e));
        }
        free(s);
        wih_err_free(e);
    }
    cJSON_Delete(all);
    free(t);
}
END_TEST

START_TEST(token_sources)
{
    wih_err *e = NULL;
    unsetenv("OSMO_TOKEN");
    ck_assert_ptr_null(osmo_api_token(NULL, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "OSMO_TOKEN"));
    wih_err_free(e);
    e = NULL;
    char *dir = wih_tmpdir("wih-osmo-api", false, &e);
    char *f = wih_path_join(dir, "token");
    wih_write_file(f, "tok-from-file  \nsecond line\n", 28, 0600, &e);
    char *t = osmo_api_token(f, &e);
    ck_assert_str_eq(t, "tok-from-file");
    free(t);
    setenv("OSMO_TOKEN", "tok-from-env", 1);
    t = osmo_api_token(f, &e);
    ck_assert_str_eq(t, "tok-from-env");
    free(t);
    unsetenv("OSMO_TOKEN");
    wih_write_file(f, "\n", 1, 0600, &e);
    ck_assert_ptr_null(osmo_api_token(f, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    wih_rm_rf(dir);
    free(f);
    free(dir);
}
END_TEST

START_TEST(dry_run_prints_the_request_not_the_token)
{
    char *spec = wih_fixture("osmo-api/workflow.yaml");
    setenv("OSMO_TOKEN", TOKEN, 1);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "osmo", "submit", spec, "--osmo-url", "https://osmo.example.com",
                          "--pool", "gpu-a", "--dry-run", NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    cJSON *got = cJSON_Parse(out);
    char *want_t = slurp("osmo-api/submit-request.json");
    cJSON *want = cJSON_Parse(want_t);
    ck_assert_msg(cJSON_Compare(got, want, true), "%s", out);
    ck_assert_ptr_null(strstr(out, TOKEN));
    ck_assert_ptr_null(strstr(err, TOKEN));
    unsetenv("OSMO_TOKEN");
    cJSON_Delete(got);
    cJSON_Delete(want);
    free(want_t);
    free(out);
    free(err);
    free(spec);
}
END_TEST

/* ----------------------------------------------------- replay server */
typedef struct replay {
    cJSON *answers;
    int next;
    int bad_auth;
} replay;

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *ver, const char *data, size_t *size, void **state)
{
    replay *r = cls;
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-osmo-auth");
    if (!auth || strcmp(auth, TOKEN) || strcmp(url, "/api/workflow/wi-check-3") || strcmp(method, "GET"))
        r->bad_auth++;
    int n = cJSON_GetArraySize(r->answers);
    const char *body = cJSON_GetStringValue(cJSON_GetArrayItem(r->answers, r->next < n ? r->next : n - 1));
    r->next++;
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

START_TEST(wait_follows_recorded_answers_to_the_end)
{
    char *t = slurp("osmo-api/sequence.json");
    replay r = {.answers = cJSON_Parse(t)};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_req, &r,
                                            MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    int port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char *url = wih_asprintf("http://127.0.0.1:%d", port);
    wih_err *e = NULL;
    char *fin = osmo_api_wait(url, "wi-check-3", TOKEN, NULL, 20000, 10, &e);
    ck_assert_msg(fin, "%s", e ? wih_err_str(e) : "");
    ck_assert_str_eq(fin, "COMPLETED");
    ck_assert_int_eq(r.next, 4);
    ck_assert_int_eq(r.bad_auth, 0);
    free(fin);
    /* a workflow that never ends: the deadline is an infrastructure error */
    cJSON_Delete(r.answers);
    r.answers = cJSON_Parse("[\"{\\\"status\\\": \\\"RUNNING\\\"}\"]");
    r.next = 0;
    ck_assert_ptr_null(osmo_api_wait(url, "wi-check-3", TOKEN, NULL, 300, 20, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "did not end"));
    wih_err_free(e);
    MHD_stop_daemon(d);
    cJSON_Delete(r.answers);
    free(url);
    free(t);
}
END_TEST

/* run --submitter osmo --dry-run: each case's submit request from the
 * bundled suite, no chain, no token; without --dry-run an OSMO URL nobody
 * answers is exit 3 before anything starts. */
START_TEST(run_dry_run_per_case)
{
    char *guide = wih_fixture("../scenarios/guide.yaml");
    setenv("OSMO_TOKEN", TOKEN, 1);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--osmo-url", "https://osmo.example.com",
                          "--dry-run", "-l", "name=guide-aws", guide, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_null(strstr(out, TOKEN));
    cJSON *all = cJSON_Parse(out);
    ck_assert_int_eq(cJSON_GetArraySize(all), 1);
    const cJSON *one = cJSON_GetArrayItem(all, 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(one, "case")), "guide-aws/aws-irsa");
    const cJSON *rq = cJSON_GetObjectItem(one, "request");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rq, "url")),
                     "https://osmo.example.com/api/pool/default/workflow");
    cJSON *body = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(rq, "body")));
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(body, "file"));
    ck_assert_msg(file && strstr(file, "url: s3://team-a-data/out/") && strstr(file, "tasks:"), "%s", file);
    cJSON_Delete(body);
    cJSON_Delete(all);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--osmo-url", "http://127.0.0.1:9", "-l",
                      "name=guide-aws", guide, NULL);
    ck_assert_msg(rc == 3 && strstr(err, "does not answer"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "run", "--submitter", "osmo", "--dry-run", guide, NULL);
    ck_assert_msg(rc == 2 && strstr(err, "--osmo-url"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    unsetenv("OSMO_TOKEN");
    free(guide);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("osmo_api");
    TCase *tc = tcase_create("osmo_api");
    tcase_add_test(tc, submit_request_shape);
    tcase_add_test(tc, answers_from_fixtures);
    tcase_add_test(tc, token_sources);
    tcase_add_test(tc, dry_run_prints_the_request_not_the_token);
    tcase_add_test(tc, wait_follows_recorded_answers_to_the_end);
    tcase_add_test(tc, run_dry_run_per_case);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
