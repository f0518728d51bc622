/* `wiharness cloud role set | role list | bucket create`: input errors (exit
 * 2) and missing/unreachable chains (exit 3), from fixtures/cloud/cli-cases.json,
 * through the built binary. No chain is started (test_playground does that);
 * the "unreachable" cases point state.json at a loopback port nobody listens
 * on. The admin token never appears in any output. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define TOKEN "adm1n-t0ken-not-to-be-printed"

static char *subst(const char *s, const char *state, const char *tokf, int closed)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    for (const char *p = s; *p;) {
        if (!strncmp(p, "{STATE}", 7)) {
            wih_buf_adds(&b, state);
            p += 7;
        } else if (!strncmp(p, "{TOKEN_FILE}", 12)) {
            wih_buf_adds(&b, tokf);
            p += 12;
        } else if (!strncmp(p, "{CLOSED}", 8)) {
            wih_buf_addf(&b, "%d", closed);
            p += 8;
        } else {
            wih_buf_add(&b, p++, 1);
        }
    }
    return wih_buf_take(&b);
}

START_TEST(cases)
{
    char *path = wih_fixture("cloud/cli-cases.json");
    wih_err *e = NULL;
    char *text = wih_read_file(path, 1 << 20, NULL, &e);
    ck_assert_msg(text, "%s", wih_err_str(e));
    cJSON *doc = cJSON_Parse(text);
    ck_assert_ptr_nonnull(doc);
    char *tmp = wih_tmpdir("wih-cloud-cli-", false, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    char *tokf = wih_path_join(tmp, "admin.token");
    ck_assert_int_eq(wih_write_file(tokf, TOKEN "\n", strlen(TOKEN) + 1, 0600, &e), 0);
    int closed = wih_free_port(&e); /* bound and released: nobody listens */
    ck_assert_msg(closed > 0, "%s", wih_err_str(e));
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        char *state = wih_asprintf("%s/case-%d", tmp, n++);
        const cJSON *st = cJSON_GetObjectItem(c, "state");
        if (st) {
            ck_assert_int_eq(wih_mkdir_p(state, 0700), 0);
            char *js = cJSON_PrintUnformatted(st), *sj = subst(js, state, tokf, closed);
            char *sp = wih_path_join(state, "state.json");
            ck_assert_int_eq(wih_write_file(sp, sj, strlen(sj), 0600, &e), 0);
            free(sp);
            free(sj);
            free(js);
        }
        char *argv[24];
        int k = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, cJSON_GetObjectItem(c, "args")) argv[k++] = subst(a->valuestring, state, tokf, closed);
        argv[k++] = wih_strdup("--state-dir");
        argv[k++] = wih_strdup(state);
        while (k < 23) argv[k++] = NULL;
        argv[23] = NULL;
        char *out = NULL, *err = NULL;
        int rc = wih_test_cli(&out, &err, NULL, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7],
                              argv[8], argv[9], argv[10], argv[11], argv[12], argv[13], argv[14], argv[15], argv[16],
                              argv[17], argv[18], argv[19], argv[20], argv[21], argv[22], NULL);
        int want = cJSON_GetObjectItem(c, "exit")->valueint;
        char *wants = subst(cJSON_GetStringValue(cJSON_GetObjectItem(c, "stderr")), state, tokf, closed);
        ck_assert_msg(rc == want, "%s: exit %d, want %d; stderr: %s", name, rc, want, err);
        ck_assert_msg(strstr(err, wants), "%s: stderr lacks '%s': %s", name, wants, err);
        ck_assert_msg(!strstr(err, TOKEN) && !strstr(out, TOKEN), "%s: the admin token was printed", name);
        free(wants);
        free(out);
        free(err);
        for (int i = 0; i < 23; i++) free(argv[i]);
        free(state);
    }
    ck_assert_int_ge(n, 20);
    wih_rm_rf(tmp);
    free(tmp);
    free(tokf);
    cJSON_Delete(doc);
    free(text);
    free(path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloud-cli");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cases);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
