/* `wiharness cloud serve` refuses an admin token that would turn admin auth
 * off (issue 13 finding 1): an empty or short --admin-token-file → exit 2
 * naming the file, before listening; cloud_start refuses the same. (Before
 * the fix the empty token was accepted and GET /admin/v1/roles answered 200
 * without any Authorization header.) */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/cloud.h"

static char *tmp, *crt, *key;

static void setup(void)
{
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-cloud-serve-", false, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    ck_assert_msg(cloud_tls_generate(tmp, &e) == 0, "%s", wih_err_str(e));
    crt = wih_path_join(tmp, "server.crt");
    key = wih_path_join(tmp, "server.key");
}

static void teardown(void)
{
    free(crt);
    free(key);
    wih_cleanup_run_all();
}

START_TEST(short_admin_token_refused)
{
    const char *bodies[] = {"", "\n", "short-token\n"};
    for (int i = 0; i < 3; i++) {
        char *f = wih_path_join(tmp, "admin.token");
        wih_err *e = NULL;
        ck_assert_int_eq(wih_write_file(f, bodies[i], strlen(bodies[i]), 0600, &e), 0);
        char *argv[] = {WIH_BINARY, "--no-color", "cloud", "serve", "--cert", crt, "--key", key,
                        "--admin-token-file", f, NULL};
        char *out = NULL, *err = NULL;
        /* the timeout is the failure mode before the fix: it served */
        int rc = wih_run_capture(argv, NULL, NULL, 10000, &out, &err, &e);
        ck_assert_msg(rc == WIH_EXIT_INPUT, "case %d: exit %d (%s), want 2", i, rc, e ? wih_err_str(e) : err);
        ck_assert_msg(err && strstr(err, f) && strstr(err, "at least 16"), "case %d: %s", i, err);
        free(out);
        free(err);
        free(f);
    }
}
END_TEST

START_TEST(cloud_start_refuses_short_token)
{
    cloud_opts o = {.cert_file = crt, .key_file = key, .admin_token = ""};
    wih_err *e = NULL;
    ck_assert_ptr_null(cloud_start(&o, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "admin token"));
    wih_err_free(e);
    e = NULL;
    o.admin_token = "0123456789abcdef"; /* 16: enough */
    cloud *c = cloud_start(&o, &e);
    ck_assert_msg(c, "%s", wih_err_str(e));
    cloud_stop(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloud-serve");
    TCase *tc = tcase_create("serve");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, short_admin_token_refused);
    tcase_add_test(tc, cloud_start_refuses_short_token);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
