/* Real-cloud storage requests (S3 SigV4, Azure Blob bearer, GCS JSON API)
 * and answers, from recorded shapes (fixtures/realstorage/README.md says
 * where each shape comes from): every builder's request as described, no
 * secret in any description, bad arguments exit 2, every answer mapped to
 * allowed / denied / error with the provider's code. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/realstorage.h"

static cJSON *load(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s", p);
    cJSON *j = cJSON_Parse(t);
    ck_assert_msg(j, "%s: not JSON", p);
    free(t);
    free(p);
    return j;
}

static const char *str(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static probe_req *build(const cJSON *c, wih_err **e)
{
    const char *prov = str(c, "provider"), *op = str(c, "op"), *body = str(c, "body");
    size_t len = body ? strlen(body) : 0;
    if (!strcmp(prov, "s3")) {
        s3_creds cr = {.access_key = (char *)str(c, "access_key"), .secret_key = (char *)str(c, "secret_key"),
                       .session_token = (char *)str(c, "session_token")};
        return rs_s3_request(op, str(c, "endpoint"), str(c, "region"), str(c, "bucket"), str(c, "key"), &cr, body,
                             len, e);
    }
    if (!strcmp(prov, "blob"))
        return rs_blob_request(op, str(c, "endpoint"), str(c, "bucket"), str(c, "key"), str(c, "bearer"),
                               str(c, "date"), body, len, e);
    return rs_gcs_request(op, str(c, "endpoint"), str(c, "bucket"), str(c, "key"), str(c, "bearer"), body, len, e);
}

START_TEST(requests_match_recorded_shapes)
{
    cJSON *all = load("realstorage/requests.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, all) {
        wih_err *e = NULL;
        probe_req *r = build(c, &e);
        ck_assert_msg(r, "%s: %s", str(c, "name"), e ? wih_err_str(e) : "");
        cJSON *got = probe_req_describe(r);
        char *gs = cJSON_PrintUnformatted(got);
        char *ws = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "expect"));
        ck_assert_msg(cJSON_Compare(got, cJSON_GetObjectItem(c, "expect"), true), "%s:\n got  %s\n want %s",
                      str(c, "name"), gs, ws);
        /* secrets never in a description */
        const char *secrets[] = {"secret_key", "session_token", "bearer"};
        for (int i = 0; i < 3; i++)
            if (str(c, secrets[i])) ck_assert_msg(!strstr(gs, str(c, secrets[i])), "%s leaks %s", str(c, "name"), secrets[i]);
        /* the wire keeps them */
        if (str(c, "bearer")) {
            bool seen = false;
            for (size_t i = 0; i < r->nheaders; i++) seen |= strstr(r->headers[i].value, str(c, "bearer")) != NULL;
            ck_assert_msg(seen, "%s: the token is not on the wire", str(c, "name"));
        }
        free(gs);
        free(ws);
        cJSON_Delete(got);
        probe_req_free(r);
        n++;
    }
    ck_assert_int_eq(n, 9);
    cJSON_Delete(all);
}
END_TEST

START_TEST(bad_arguments_exit_2)
{
    wih_err *e = NULL;
    s3_creds cr = {.access_key = "a", .secret_key = "b"};
    ck_assert_ptr_null(rs_s3_request("copy", NULL, "us-east-1", "b1x", "k", &cr, NULL, 0, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "expected read, write, list or delete"));
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(rs_s3_request("read", NULL, NULL, "Bad_Bucket", "k", &cr, NULL, 0, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(rs_blob_request("read", "https://a.blob.core.windows.net", "c", NULL, "t", "d", NULL, 0, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(rs_gcs_request("write", NULL, "b", "k", NULL, "x", 1, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
}
END_TEST

START_TEST(answers_map_to_results)
{
    cJSON *all = load("realstorage/responses.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, all) {
        const char *body = str(c, "body");
        char *code = NULL, *msg = NULL;
        long st = (long)cJSON_GetObjectItem(c, "status")->valuedouble;
        const char *res = rs_parse_result(str(c, "provider"), st, body, strlen(body), &code, &msg);
        ck_assert_msg(!strcmp(res, str(c, "result")), "%s %ld: %s, want %s", str(c, "provider"), st, res,
                      str(c, "result"));
        const char *wc = str(c, "code");
        if (wc) ck_assert_msg(code && !strcmp(code, wc), "%s %ld: code %s, want %s", str(c, "provider"), st, code, wc);
        else ck_assert_msg(!code, "%s %ld: unexpected code %s", str(c, "provider"), st, code);
        if (str(c, "message")) ck_assert_str_eq(msg, str(c, "message"));
        free(code);
        free(msg);
        n++;
    }
    ck_assert_int_eq(n, 13);
    cJSON_Delete(all);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("realstorage");
    TCase *tc = tcase_create("realstorage");
    tcase_add_test(tc, requests_match_recorded_shapes);
    tcase_add_test(tc, bad_arguments_exit_2);
    tcase_add_test(tc, answers_map_to_results);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
