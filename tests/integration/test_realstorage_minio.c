/* The real-cloud S3 request builder against the real MinIO: a PUT, GET and
 * list signed by libcurl's SigV4 with static keys are allowed and round-trip
 * the bytes; a wrong secret is denied with MinIO's SignatureDoesNotMatch; a
 * missing key is an error with NoSuchKey. The same builder and parser serve
 * --identity real against AWS. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/realstorage.h"

static minio *mn;
static char *tmp;

static void setup(void)
{
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_MINIO, false, &ti);
    bool have = ti.path != NULL;
    wih_tool_info_free(&ti);
    if (!have) wih_test_skip("MinIO is not built (run ci/setup or set WIH_MINIO)");
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-rs-minio-", false, &e);
    char *data = wih_path_join(tmp, "data");
    minio_opts o = {.data_dir = data, .log_dir = tmp};
    mn = minio_start(&o, &e);
    free(data);
    ck_assert_msg(mn, "%s", e ? wih_err_str(e) : "");
}

static void teardown(void)
{
    minio_stop(mn);
    wih_rm_rf(tmp);
    free(tmp);
}

/* Send; the result and code. */
static const char *send_req(probe_req *r, char **code, char **body_out)
{
    wih_err *e = NULL;
    long st = 0;
    wih_buf body;
    int rc = probe_send(r, NULL, 15000, &st, &body, &e);
    ck_assert_msg(rc == 0, "%s", e ? wih_err_str(e) : "");
    char *msg = NULL;
    const char *res = rs_parse_result("s3", st, body.data, body.len, code, &msg);
    free(msg);
    if (body_out) *body_out = wih_strdup(body.data);
    wih_buf_free(&body);
    probe_req_free(r);
    return res;
}

START_TEST(sigv4_requests_against_minio)
{
    s3_creds root = {.access_key = (char *)minio_root_user(mn), .secret_key = (char *)minio_root_password(mn)};
    s3_client *c = s3_client_new(minio_endpoint(mn), &root, NULL);
    wih_err *e = NULL;
    ck_assert_msg(!s3_make_bucket(c, "rs-bucket", &e), "%s", e ? wih_err_str(e) : "");
    s3_client_free(c);
    const char *ep = minio_endpoint(mn);
    char *code = NULL, *body = NULL;
    ck_assert_str_eq(send_req(rs_s3_request("write", ep, NULL, "rs-bucket", "out/a b.txt", &root, "hello", 5, &e), &code, NULL),
                     "allowed");
    free(code);
    ck_assert_str_eq(send_req(rs_s3_request("read", ep, NULL, "rs-bucket", "out/a b.txt", &root, NULL, 0, &e), &code, &body),
                     "allowed");
    ck_assert_str_eq(body, "hello");
    free(body);
    free(code);
    ck_assert_str_eq(send_req(rs_s3_request("list", ep, NULL, "rs-bucket", "out/", &root, NULL, 0, &e), &code, &body),
                     "allowed");
    ck_assert_ptr_nonnull(strstr(body, "<Key>out/a b.txt</Key>"));
    free(body);
    free(code);
    s3_creds wrong = {.access_key = root.access_key, .secret_key = "not-the-secret"};
    ck_assert_str_eq(send_req(rs_s3_request("read", ep, NULL, "rs-bucket", "out/a b.txt", &wrong, NULL, 0, &e), &code, NULL),
                     "denied");
    ck_assert_str_eq(code, "SignatureDoesNotMatch");
    free(code);
    ck_assert_str_eq(send_req(rs_s3_request("read", ep, NULL, "rs-bucket", "missing", &root, NULL, 0, &e), &code, NULL),
                     "error");
    ck_assert_str_eq(code, "NoSuchKey");
    free(code);
    ck_assert_str_eq(send_req(rs_s3_request("delete", ep, NULL, "rs-bucket", "out/a b.txt", &root, NULL, 0, &e), &code, NULL),
                     "allowed");
    free(code);
}
END_TEST

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    Suite *s = suite_create("realstorage_minio");
    TCase *tc = tcase_create("minio");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, sigv4_requests_against_minio);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
