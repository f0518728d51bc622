/* The fixture-case driver (tests/helpers): an empty, missing, too small or
 * too large case directory is an error, never a silent stop; cases sort. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

static char *mk(const char *root, const char *name)
{
    char *p = wih_path_join(root, name);
    ck_assert_int_eq(wih_mkdir_p(p, 0700), 0);
    return p;
}

START_TEST(case_lists_fail_loudly)
{
    wih_err *e = NULL;
    char *root = wih_tmpdir("wih-cases", false, &e);
    ck_assert_msg(root, "%s", e ? wih_err_str(e) : "?");
    wih_cases cs;
    char *missing = wih_path_join(root, "missing");
    char *why = wih_cases_list(missing, 1, &cs);
    ck_assert_msg(why && strstr(why, "cannot open"), "%s", why ? why : "(accepted)");
    free(why);
    wih_cases_free(&cs);
    char *empty = mk(root, "empty");
    why = wih_cases_list(empty, 0, &cs);
    ck_assert_msg(why && strstr(why, "holds no cases"), "%s", why ? why : "(accepted)");
    free(why);
    wih_cases_free(&cs);
    char *some = mk(root, "some");
    const char *names[] = {"b", "c", "a"};
    for (int i = 0; i < 3; i++) free(mk(some, names[i]));
    char *file = wih_path_join(some, "README");
    ck_assert_int_eq(wih_write_file(file, "x", 1, 0644, &e), 0); /* a file is not a case */
    why = wih_cases_list(some, 5, &cs);
    ck_assert_msg(why && strstr(why, "only 3 cases (need >= 5)"), "%s", why ? why : "(accepted)");
    free(why);
    wih_cases_free(&cs);
    why = wih_cases_list(some, 3, &cs);
    ck_assert_msg(!why, "%s", why);
    ck_assert_uint_eq(cs.n, 3);
    ck_assert_str_eq(cs.names[0], "a");
    ck_assert_str_eq(cs.names[2], "c");
    wih_cases_free(&cs);
    char *many = mk(root, "many");
    for (int i = 0; i <= WIH_CASES_MAX; i++) {
        char n[16];
        snprintf(n, sizeof n, "c%05d", i);
        free(mk(many, n));
    }
    why = wih_cases_list(many, 1, &cs);
    ck_assert_msg(why && strstr(why, "more than 1024 cases"), "%s", why ? why : "(accepted)");
    free(why);
    wih_cases_free(&cs);
    wih_rm_rf(root);
    free(file);
    free(many);
    free(some);
    free(empty);
    free(missing);
    free(root);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cases");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, case_lists_fail_loudly);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
