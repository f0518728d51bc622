/* storage pure functions: grants → MinIO policy (data-driven from
 * fixtures/storage/policy/<case>/{grants.json, expect.json | error.txt}),
 * S3/STS XML parsing, bucket names. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/storage.h"

static char *fixture_text(const char *rel, size_t *len)
{
    char *p = wih_fixture(rel);
    char *s = wih_read_file(p, 1 << 20, len, NULL);
    free(p);
    return s;
}

START_TEST(policy_cases)
{
    char *dir = wih_fixture("storage/policy");
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        n++;
        char *rel = wih_asprintf("storage/policy/%s/grants.json", de->d_name);
        char *gs = fixture_text(rel, NULL);
        free(rel);
        ck_assert_msg(gs, "%s: no grants.json", de->d_name);
        cJSON *g = cJSON_Parse(gs);
        free(gs);
        wih_err *e = NULL;
        cJSON *pol = s3_policy_for_grants(g, &e);
        rel = wih_asprintf("storage/policy/%s/expect.json", de->d_name);
        char *es = fixture_text(rel, NULL);
        free(rel);
        if (es) {
            ck_assert_msg(pol, "%s: %s", de->d_name, wih_err_str(e));
            cJSON *want = cJSON_Parse(es);
            char *diff = wih_json_diff(want, pol);
            ck_assert_msg(!diff, "%s: %s", de->d_name, diff);
            cJSON_Delete(want);
            free(es);
        } else {
            rel = wih_asprintf("storage/policy/%s/error.txt", de->d_name);
            char *msg = fixture_text(rel, NULL);
            free(rel);
            ck_assert_msg(msg, "%s: neither expect.json nor error.txt", de->d_name);
            msg[strcspn(msg, "\n")] = 0;
            ck_assert_msg(!pol, "%s: expected an error", de->d_name);
            ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
            ck_assert_msg(strstr(wih_err_str(e), msg), "%s: %s", de->d_name, wih_err_str(e));
            free(msg);
            wih_err_free(e);
        }
        cJSON_Delete(pol);
        cJSON_Delete(g);
    }
    closedir(d);
    free(dir);
    ck_assert_int_ge(n, 6);
}
END_TEST

START_TEST(xml_sts_ok)
{
    size_t n;
    char *x = fixture_text("storage/xml/sts-ok.xml", &n);
    s3_creds c;
    ck_assert(s3_parse_sts_xml(x, n, &c));
    ck_assert_str_eq(c.access_key, "AKIAEXAMPLEONLY");
    ck_assert_str_eq(c.secret_key, "not-a-real-secret");
    ck_assert_str_eq(c.session_token, "not-a-real-token");
    ck_assert_str_eq(c.expiration, "2026-11-29T04:38:41Z");
    s3_creds_clear(&c);
    ck_assert_ptr_null(c.secret_key);
    char *code, *msg;
    ck_assert(!s3_parse_error_xml(x, n, &code, &msg)); /* not an error document */
    free(x);
}
END_TEST

START_TEST(xml_errors)
{
    size_t n;
    char *x = fixture_text("storage/xml/sts-error.xml", &n);
    char *code, *msg;
    ck_assert(s3_parse_error_xml(x, n, &code, &msg));
    ck_assert_str_eq(code, "InvalidIdentityToken");
    ck_assert_str_eq(msg, "Token is expired");
    free(code);
    free(msg);
    s3_creds c;
    ck_assert(!s3_parse_sts_xml(x, n, &c));
    free(x);
    x = fixture_text("storage/xml/s3-error.xml", &n);
    ck_assert(s3_parse_error_xml(x, n, &code, &msg));
    ck_assert_str_eq(code, "AccessDenied");
    ck_assert_str_eq(msg, "Access Denied.");
    free(code);
    free(msg);
    free(x);
    /* not XML, empty, truncated */
    ck_assert(!s3_parse_error_xml("oops", 4, &code, &msg));
    ck_assert(!s3_parse_error_xml("", 0, &code, &msg));
    ck_assert(!s3_parse_error_xml("<Error><Code>A", 14, &code, &msg));
    ck_assert(!s3_parse_sts_xml("<x/>", 4, &c));
}
END_TEST

START_TEST(xml_no_external_entities)
{
    size_t n;
    char *x = fixture_text("storage/xml/xxe.xml", &n);
    char *code = NULL, *msg = NULL;
    char *host = wih_read_file("/etc/hostname", 4096, NULL, NULL);
    if (s3_parse_error_xml(x, n, &code, &msg) && host) {
        host[strcspn(host, "\n")] = 0;
        if (*host) ck_assert_ptr_null(strstr(code, host));
    }
    free(code);
    free(msg);
    free(host);
    free(x);
}
END_TEST

START_TEST(xml_list)
{
    size_t n;
    char *x = fixture_text("storage/xml/list.xml", &n);
    cJSON *l = s3_parse_list_xml(x, n);
    ck_assert_ptr_nonnull(l);
    cJSON *want = cJSON_Parse("[{\"key\":\"a/1\",\"size\":5},{\"key\":\"a & b\",\"size\":0}]");
    char *diff = wih_json_diff(want, l);
    ck_assert_msg(!diff, "%s", diff);
    cJSON_Delete(want);
    cJSON_Delete(l);
    free(x);
    ck_assert_ptr_null(s3_parse_list_xml("<Error/>", 8));
}
END_TEST

START_TEST(err_code)
{
    wih_err *e = wih_err_http(403, "AccessDenied: Access Denied.", "x");
    char *c = s3_err_code(e);
    ck_assert_str_eq(c, "AccessDenied");
    free(c);
    wih_err_free(e);
    ck_assert_ptr_null(s3_err_code(NULL));
}
END_TEST

START_TEST(bucket_names)
{
    const char *ok[] = {"team-a-data", "abc", "a.b.c", "0-9", "x23456789012345678901234567890123456789012345678901234567890123"};
    const char *bad[] = {"ab", "Team", "a_b", "-ab", "ab-", "a..b", "a.-b", "a-.b", "", NULL,
                         "x234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) ck_assert_msg(s3_bucket_name_ok(ok[i]), "%s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!s3_bucket_name_ok(bad[i]), "%s", bad[i] ? bad[i] : "(null)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("s3");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, policy_cases);
    tcase_add_test(tc, xml_sts_ok);
    tcase_add_test(tc, xml_errors);
    tcase_add_test(tc, xml_no_external_entities);
    tcase_add_test(tc, xml_list);
    tcase_add_test(tc, err_code);
    tcase_add_test(tc, bucket_names);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
