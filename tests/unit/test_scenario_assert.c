/* Assertions from fixtures/scenario/assert/<case>/:
 *   scenario.yaml     the expectations (expect.pod, expect.access)
 *   pod.json          the admitted pod (absent: no pod yet)
 *   verdict.json      the probe verdict (absent: no verdict yet)
 *   principals.json   [{role, principal}] for identity checks (prefix "...*")
 *   expect.json       {matched, mismatched, not_yet, items: scn_result_json without "file"}
 * Templates expand with namespace ns1, SA osmo-workflow, bucket prefix "r1-". */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/scenario.h"

static cJSON *read_json(const char *dir, const char *name, bool must)
{
    char *p = wih_path_join(dir, name);
    char *text = wih_read_file(p, 1 << 20, NULL, NULL);
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    ck_assert_msg(!must || j, "%s: missing or not JSON", p);
    ck_assert_msg(!text || j, "%s: not JSON", p);
    free(text);
    free(p);
    return j;
}

static void run_case(const char *cdir, const char *name)
{
    char *sp = wih_path_join(cdir, "scenario.yaml");
    wih_err *err = NULL;
    scn_list *l = scn_load_path(sp, &err);
    ck_assert_msg(l && l->n == 1, "%s: %s", name, err ? wih_err_str(err) : "not one scenario");
    const scn_scenario *s = l->items[0];
    cJSON *pod = read_json(cdir, "pod.json", false), *verdict = read_json(cdir, "verdict.json", false);
    cJSON *pr = read_json(cdir, "principals.json", false), *want = read_json(cdir, "expect.json", true);

    scn_principal items[16];
    scn_principal_map map = {items, 0};
    for (const cJSON *c = pr ? pr->child : NULL; c && map.n < 16; c = c->next)
        items[map.n++] = (scn_principal){cJSON_GetObjectItem(c, "role")->valuestring,
                                         cJSON_GetObjectItem(c, "principal")->valuestring};
    scn_vars v = {"ns1", "osmo-workflow", "aws-irsa", s->name, "r1-", NULL, NULL};
    scn_result r;
    scn_result_init(&r);
    ck_assert_msg(scn_assert_pod(s->expect.pod, pod, s, &r, &err) == 0, "%s: %s", name, wih_err_str(err));
    ck_assert_msg(scn_assert_access(s->expect.access, s->expect.naccess, verdict, &v, scn_principal_map_role_of, &map,
                                    &r, &err) == 0,
                  "%s: %s", name, wih_err_str(err));

    cJSON *got = cJSON_CreateObject();
    cJSON_AddNumberToObject(got, "matched", (double)r.matched);
    cJSON_AddNumberToObject(got, "mismatched", (double)r.mismatched);
    cJSON_AddNumberToObject(got, "not_yet", (double)r.not_yet);
    cJSON *items_j = scn_result_json(&r);
    for (cJSON *it = items_j->child; it; it = it->next) {
        cJSON_DeleteItemFromObject(it, "file"); /* an absolute path */
        cJSON_DeleteItemFromObject(it, "col");
    }
    cJSON_AddItemToObject(got, "items", items_j);
    char *d = wih_json_diff(want, got);
    char *text = scn_result_text(&r);
    ck_assert_msg(d == NULL, "%s:\n%sgot:\n%s\ntext:\n%s", name, d, cJSON_Print(got), text);
    /* counts and items agree; the text has a line per item */
    ck_assert_uint_eq(r.n, r.mismatched + r.not_yet);
    size_t lines = 0;
    for (const char *p = text; *p; p++) lines += *p == '\n';
    ck_assert_uint_eq(lines, r.n);
    ck_assert(scn_result_ok(&r) == (r.n == 0));
    free(text);
    cJSON_Delete(got);
    scn_result_free(&r);
    cJSON_Delete(pod);
    cJSON_Delete(verdict);
    cJSON_Delete(pr);
    cJSON_Delete(want);
    scn_list_free(l);
    free(sp);
}

START_TEST(assert_cases)
{
    wih_cases cs;
    char *why = wih_cases_list("scenario/assert", 9, &cs); /* 8 cases + _shared */
    ck_assert_msg(why == NULL, "%s", why);
    for (size_t i = 0; i < cs.n; i++) {
        if (cs.names[i][0] == '_') continue; /* files the cases link to */
        char *cdir = wih_path_join(cs.root, cs.names[i]);
        run_case(cdir, cs.names[i]);
        free(cdir);
    }
    wih_cases_free(&cs);
}
END_TEST

START_TEST(principal_map)
{
    scn_principal items[] = {{"team-a", "arn:aws:sts::1:assumed-role/team-a/*"}, {"team-b", "client-b"}};
    scn_principal_map m = {items, 2};
    ck_assert_str_eq(scn_principal_map_role_of(&m, "arn:aws:sts::1:assumed-role/team-a/s1"), "team-a");
    ck_assert_ptr_null(scn_principal_map_role_of(&m, "arn:aws:sts::1:assumed-role/team-ab"));
    ck_assert_str_eq(scn_principal_map_role_of(&m, "client-b"), "team-b");
    ck_assert_ptr_null(scn_principal_map_role_of(&m, "client-b2"));
    ck_assert_ptr_null(scn_principal_map_role_of(&m, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scenario_assert");
    TCase *tc = tcase_create("assert");
    tcase_add_test(tc, assert_cases);
    tcase_add_test(tc, principal_map);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
