/* --submitter osmo, the pure parts: the task spec the runner submits
 * (runner_adapt_task, from fixtures/osmo-api/adapt-task/) and OSMO's cancel
 * answers (fixtures/osmo-api/responses.json "cancel"), the cancel and version
 * requests. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/jsonpath.h"
#include "wiharness/osmo_api.h"
#include "wiharness/runner.h"

static cJSON *load(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s", e ? wih_err_str(e) : p);
    cJSON *j = wih_json_parse(p, t, &e);
    ck_assert_msg(j, "%s", e ? wih_err_str(e) : p);
    free(t);
    free(p);
    return j;
}

START_TEST(adapt_task_from_fixture)
{
    cJSON *in = load("osmo-api/adapt-task/in.json"), *want = load("osmo-api/adapt-task/expect-task.json");
    cJSON *paths = load("osmo-api/adapt-task/expect-changes.json");
    cJSON *task = cJSON_Duplicate(cJSON_GetObjectItem(in, "task"), 1), *changes = cJSON_CreateArray();
    runner_adapt a = {.probe_image = cJSON_GetObjectItem(in, "probe_image")->valuestring,
                      .profile = cJSON_GetObjectItem(in, "profile")->valuestring,
                      .access = cJSON_GetObjectItem(in, "access")};
    runner_adapt_task(task, cJSON_GetObjectItem(in, "base")->valuestring, &a, cJSON_GetObjectItem(in, "env"), changes);
    char *d = wih_json_diff(want, task);
    ck_assert_msg(!d, "the changed task:\n%s", d);
    ck_assert_int_eq(cJSON_GetArraySize(changes), cJSON_GetArraySize(paths));
    for (int i = 0; i < cJSON_GetArraySize(paths); i++) {
        const cJSON *c = cJSON_GetArrayItem(changes, i);
        ck_assert_str_eq(cJSON_GetObjectItem(c, "path")->valuestring, cJSON_GetArrayItem(paths, i)->valuestring);
        ck_assert(*cJSON_GetObjectItem(c, "what")->valuestring);
    }
    /* the task's own AWS_REGION is recorded with what it was */
    const cJSON *last = cJSON_GetArrayItem(changes, 4);
    ck_assert_str_eq(cJSON_GetObjectItem(last, "from")->valuestring, "eu-west-1");
    /* no env (identity real): image and command only */
    cJSON *t2 = cJSON_Duplicate(cJSON_GetObjectItem(in, "task"), 1), *c2 = cJSON_CreateArray();
    runner_adapt_task(t2, "t", &a, NULL, c2);
    ck_assert_int_eq(cJSON_GetArraySize(c2), 3);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(t2, "environment"), "AWS_REGION")),
                     "eu-west-1");
    cJSON_Delete(t2);
    cJSON_Delete(c2);
    cJSON_Delete(task);
    cJSON_Delete(changes);
    cJSON_Delete(in);
    cJSON_Delete(want);
    cJSON_Delete(paths);
}
END_TEST

START_TEST(cancel_answers_from_fixtures)
{
    cJSON *all = load("osmo-api/responses.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(all, "cancel"))
    {
        wih_err *e = NULL;
        long st = (long)cJSON_GetObjectItem(c, "status")->valuedouble;
        int r = osmo_api_parse_cancel(st, cJSON_GetStringValue(cJSON_GetObjectItem(c, "body")), &e);
        ck_assert_int_eq(r, cJSON_GetObjectItem(c, "result")->valueint);
        if (r < 0) {
            ck_assert_int_eq(wih_err_exit(e), cJSON_GetObjectItem(c, "exit")->valueint);
            ck_assert_msg(strstr(wih_err_str(e), cJSON_GetStringValue(cJSON_GetObjectItem(c, "text"))), "%s",
                          wih_err_str(e));
        } else {
            ck_assert_ptr_null(e);
        }
        wih_err_free(e);
        n++;
    }
    ck_assert_int_ge(n, 4);
    cJSON_Delete(all);
}
END_TEST

START_TEST(cancel_and_version_requests)
{
    wih_err *e = NULL;
    probe_req *r = osmo_api_cancel_req("https://osmo.example.com/", "wi-check-3", "tok-1", &e);
    ck_assert_msg(r, "%s", e ? wih_err_str(e) : "");
    ck_assert_str_eq(r->method, "POST");
    ck_assert_str_eq(r->url, "https://osmo.example.com/api/workflow/wi-check-3/cancel?force=false");
    cJSON *d = probe_req_describe(r);
    char *s = cJSON_PrintUnformatted(d);
    ck_assert_msg(!strstr(s, "tok-1") && strstr(s, "x-osmo-auth: <sha256:"), "%s", s);
    free(s);
    cJSON_Delete(d);
    probe_req_free(r);
    ck_assert_ptr_null(osmo_api_cancel_req("https://o", "a/../b", "t", &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    e = NULL;
    r = osmo_api_version_req("http://127.0.0.1:8000", &e);
    ck_assert_str_eq(r->url, "http://127.0.0.1:8000/api/version");
    ck_assert_int_eq((int)r->nheaders, 0);
    probe_req_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("runner_osmo");
    TCase *tc = tcase_create("runner_osmo");
    tcase_add_test(tc, adapt_task_from_fixture);
    tcase_add_test(tc, cancel_answers_from_fixtures);
    tcase_add_test(tc, cancel_and_version_requests);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
