/* The bundled misconfiguration suite on a real local chain with a node (its
 * own state dir): `wiharness run scenarios/misconfig` exits 0 — every case's
 * failure was as its scenario expects AND the runner's diagnosis named the
 * expected id (expect.diagnosis; a missing id fails the case). The JSON report
 * is read back: every case passed and carries the finding named like its
 * scenario (each scenario is named after its catalog id); the HTML report
 * draws a chain for every case, with one broken link each. Skips (77) when the
 * chain can have no node. */
#include <stdlib.h>
#include <string.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/yamljson.h"

static char *g_base, *g_dir;

static bool has_id(const cJSON *kase, const char *id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(kase, "findings"))
    {
        const char *i = cJSON_GetStringValue(cJSON_GetObjectItem(f, "id"));
        if (i && !strcmp(i, id)) return true;
    }
    return false;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

START_TEST(misconfig_suite_diagnosed)
{
    char *json = wih_path_join(g_base, "r.json"), *html = wih_path_join(g_base, "r.html");
    char *rj = wih_asprintf("json=%s", json), *rh = wih_asprintf("html=%s", html);
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios/misconfig");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, "--parallel", "2", "--report", rj, "--report",
                          rh, suite, NULL);
    if (rc != 0) { /* Check's messages are short: the output, and the verdicts of the cases that failed */
        fprintf(stderr, "%s\n%s\n", out, err);
        char *t = wih_read_file(json, 64 << 20, NULL, NULL);
        cJSON *r = t ? cJSON_Parse(t) : NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(r, "cases"))
        {
            if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "passed")) continue;
            char *v = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "verdict"));
            fprintf(stderr, "verdict of %s: %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(c, "scenario")), v ? v : "none");
            free(v);
        }
        cJSON_Delete(r);
        free(t);
    }
    ck_assert_msg(rc == 0, "misconfig suite: exit %d (output above)", rc);
    wih_err *e = NULL;
    char *t = wih_read_file(json, 64 << 20, NULL, &e);
    cJSON *run = t ? wih_json_parse(json, t, &e) : NULL;
    ck_assert_msg(run, "%s", e ? wih_err_str(e) : json);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(run, "cases"))
    {
        const char *scn = cJSON_GetStringValue(cJSON_GetObjectItem(c, "scenario"));
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "passed");
        ck_assert_msg(has_id(c, scn), "%s [%s]: no finding %s", scn,
                      cJSON_GetStringValue(cJSON_GetObjectItem(c, "profile")), scn);
        n++;
    }
    ck_assert_msg(n >= 12, "only %d cases", n);
    char *h = wih_read_file(html, 64 << 20, NULL, &e);
    ck_assert_msg(h, "no html report");
    ck_assert_int_eq(count(h, "<section class=\"case "), n);
    ck_assert_int_eq(count(h, "<li class=\"link broken\""), n);
    free(h);
    free(t);
    cJSON_Delete(run);
    free(out);
    free(err);
    free(suite);
    free(rj);
    free(rh);
    free(json);
    free(html);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-misconfig-");
    g_base = ch.base;
    g_dir = ch.dir;
    int rc;
    Suite *s = suite_create("misconfig");
    TCase *tc = tcase_create("misconfig");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, misconfig_suite_diagnosed);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
