/* The real MinIO: start on a free port, S3 round trips with root credentials,
 * errors parsed from MinIO's XML, admin policy creation, stop by PID. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/storage.h"

static minio *mn;
static char *tmp;
static s3_client *root;

static void setup(void)
{
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_MINIO, false, &ti);
    bool have = ti.path != NULL;
    wih_tool_info_free(&ti);
    if (!have) wih_test_skip("MinIO is not built (run ci/setup or set WIH_MINIO)");
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-storage-", false, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    char *data = wih_path_join(tmp, "data");
    minio_opts o = {.data_dir = data, .log_dir = tmp};
    mn = minio_start(&o, &e);
    free(data);
    ck_assert_msg(mn, "%s", wih_err_str(e));
    s3_creds rc = {.access_key = (char *)minio_root_user(mn), .secret_key = (char *)minio_root_password(mn)};
    root = s3_client_new(minio_endpoint(mn), &rc, NULL);
}

static void teardown(void)
{
    s3_client_free(root);
    pid_t pid = minio_pid(mn);
    minio_stop(mn);
    /* stopped by PID: the process is gone */
    ck_assert(!wih_pid_alive(pid));
    wih_cleanup_run_all();
    free(tmp);
}

static void expect_code(wih_err *e, const char *code, long status)
{
    ck_assert_ptr_nonnull(e);
    char *c = s3_err_code(e);
    ck_assert_msg(c && !strcmp(c, code), "want %s, got %s (%s)", code, c ? c : "(none)", wih_err_str(e));
    if (status) ck_assert_int_eq(e->http_status, status);
    free(c);
    wih_err_free(e);
}

START_TEST(bucket_object_roundtrip)
{
    wih_err *e = NULL;
    ck_assert_msg(s3_make_bucket(root, "team-a-data", &e) == 0, "%s", wih_err_str(e));
    /* again: MinIO says BucketAlreadyOwnedByYou */
    ck_assert_int_eq(s3_make_bucket(root, "team-a-data", &e), -1);
    expect_code(e, "BucketAlreadyOwnedByYou", 409);
    e = NULL;
    const char payload[] = "hello from wiharness\n\0binary\xff";
    ck_assert_msg(s3_put_object(root, "team-a-data", "dir/a file.txt", payload, sizeof payload, &e) == 0, "%s",
                  wih_err_str(e));
    ck_assert_msg(s3_put_object(root, "team-a-data", "dir/b", "", 0, &e) == 0, "%s", wih_err_str(e));
    ck_assert_msg(s3_put_object(root, "team-a-data", "other", "x", 1, &e) == 0, "%s", wih_err_str(e));
    size_t n = 0;
    char *got = s3_get_object(root, "team-a-data", "dir/a file.txt", &n, &e);
    ck_assert_msg(got, "%s", wih_err_str(e));
    ck_assert_uint_eq(n, sizeof payload);
    ck_assert(memcmp(got, payload, n) == 0);
    free(got);
    int64_t sz;
    ck_assert_msg(s3_head_object(root, "team-a-data", "dir/b", &sz, &e) == 0, "%s", wih_err_str(e));
    ck_assert_int_eq(sz, 0);
    ck_assert_msg(s3_head_object(root, "team-a-data", "dir/a file.txt", &sz, &e) == 0, "%s", wih_err_str(e));
    ck_assert_int_eq(sz, (int64_t)sizeof payload);
    cJSON *l = s3_list_objects(root, "team-a-data", "dir/", &e);
    ck_assert_msg(l, "%s", wih_err_str(e));
    ck_assert_int_eq(cJSON_GetArraySize(l), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "key")->valuestring, "dir/a file.txt");
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "size")->valueint, (int)sizeof payload);
    cJSON_Delete(l);
    ck_assert_msg(s3_delete_object(root, "team-a-data", "dir/b", &e) == 0, "%s", wih_err_str(e));
    ck_assert_int_eq(s3_head_object(root, "team-a-data", "dir/b", &sz, &e), -1);
    expect_code(e, "NoSuchKey", 404);
    e = NULL;
    ck_assert_ptr_null(s3_get_object(root, "team-a-data", "dir/b", &n, &e));
    expect_code(e, "NoSuchKey", 404);
    e = NULL;
    l = s3_list_objects(root, "team-a-data", "", &e);
    ck_assert_int_eq(cJSON_GetArraySize(l), 2);
    cJSON_Delete(l);
}
END_TEST

START_TEST(errors_from_minio)
{
    wih_err *e = NULL;
    ck_assert_int_eq(s3_put_object(root, "no-such-bucket", "k", "x", 1, &e), -1);
    expect_code(e, "NoSuchBucket", 404);
    e = NULL;
    ck_assert_ptr_null(s3_list_objects(root, "no-such-bucket", "", &e));
    expect_code(e, "NoSuchBucket", 404);
    e = NULL;
    /* the right user with a wrong secret */
    s3_creds bad = {.access_key = (char *)minio_root_user(mn), .secret_key = "wrong-secret-123456"};
    s3_client *c = s3_client_new(minio_endpoint(mn), &bad, NULL);
    ck_assert_int_eq(s3_make_bucket(c, "should-not-exist", &e), -1);
    expect_code(e, "SignatureDoesNotMatch", 403);
    e = NULL;
    s3_client_free(c);
    /* an unknown access key */
    s3_creds unk = {.access_key = "nobody-here", .secret_key = "wrong-secret-123456"};
    c = s3_client_new(minio_endpoint(mn), &unk, NULL);
    ck_assert_ptr_null(s3_get_object(c, "team-a-data", "k", NULL, &e));
    expect_code(e, "InvalidAccessKeyId", 403);
    e = NULL;
    s3_client_free(c);
    /* anonymous */
    c = s3_client_new(minio_endpoint(mn), NULL, NULL);
    ck_assert_int_eq(s3_make_bucket(c, "anon-bucket", &e), -1);
    expect_code(e, "AccessDenied", 403);
    e = NULL;
    s3_client_free(c);
    /* a session token MinIO never issued */
    s3_creds fake = {.access_key = (char *)minio_root_user(mn),
                     .secret_key = (char *)minio_root_password(mn),
                     .session_token = "eyJhbGciOiJub25lIn0.e30."};
    c = s3_client_new(minio_endpoint(mn), &fake, NULL);
    ck_assert_int_eq(s3_put_object(c, "team-a-data", "k", "x", 1, &e), -1);
    ck_assert_int_eq(e->http_status, 403);
    wih_err_free(e);
    e = NULL;
    s3_client_free(c);
    /* invalid bucket name never reaches the server */
    ck_assert_int_eq(s3_make_bucket(root, "Bad_Name", &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
}
END_TEST

START_TEST(admin_policy)
{
    wih_err *e = NULL;
    cJSON *g = cJSON_Parse("{\"team-a-data\":\"readwrite\",\"shared\":\"read\"}");
    cJSON *pol = s3_policy_for_grants(g, &e);
    ck_assert_msg(pol, "%s", wih_err_str(e));
    ck_assert_msg(s3_admin_add_policy(root, "wih-role-team-a", pol, &e) == 0, "%s", wih_err_str(e));
    cJSON *back = s3_admin_info_policy(root, "wih-role-team-a", &e);
    ck_assert_msg(back, "%s", wih_err_str(e));
    /* MinIO normalises the document; the statements and resources survive */
    char *s = cJSON_PrintUnformatted(back);
    ck_assert_msg(strstr(s, "arn:aws:s3:::team-a-data/*") && strstr(s, "s3:PutObject") &&
                      strstr(s, "arn:aws:s3:::shared"),
                  "%s", s);
    free(s);
    cJSON_Delete(back);
    ck_assert_ptr_null(s3_admin_info_policy(root, "no-such-policy", &e));
    ck_assert_int_ne(e->http_status, 200);
    wih_err_free(e);
    e = NULL;
    /* a non-root client cannot create policies */
    s3_creds bad = {.access_key = (char *)minio_root_user(mn), .secret_key = "wrong-secret-123456"};
    s3_client *c = s3_client_new(minio_endpoint(mn), &bad, NULL);
    ck_assert_int_eq(s3_admin_add_policy(c, "evil", pol, &e), -1);
    ck_assert_int_eq(e->http_status, 403);
    wih_err_free(e);
    s3_client_free(c);
    cJSON_Delete(pol);
    cJSON_Delete(g);
}
END_TEST

START_TEST(root_password_not_logged)
{
    const char *log = minio_log_path(mn);
    ck_assert_ptr_nonnull(log);
    char *txt = wih_read_file(log, 16 << 20, NULL, NULL);
    if (txt) ck_assert_ptr_null(strstr(txt, minio_root_password(mn)));
    free(txt);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1); /* one process: the MinIO fixture and its cleanup stack live here */
    Suite *s = suite_create("storage");
    TCase *tc = tcase_create("minio");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, bucket_object_roundtrip);
    tcase_add_test(tc, errors_from_minio);
    tcase_add_test(tc, admin_policy);
    tcase_add_test(tc, root_password_not_logged);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
