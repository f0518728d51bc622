/* Data-driven: fixtures/diagnosis/runtime/<case>/
 *   facts.json   a facts object as the runner fills it (include/wiharness/diagnosis.h)
 *   expect.json  {"findings": [{"id", "where", "cause_contains"?, "facts_contains"?}]}
 *                exactly these, in order, from diag_runtime; or {"error": "<substring>"}
 * Plus checks of the rule table itself (ids unique, every row documented in
 * docs/troubleshooting.md). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/diagnosis.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *check_one(const cJSON *w, const cJSON *g, int i)
{
    const char *keys[] = {"id", "cause", "fix", "where"};
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetObjectItem(g, keys[k]);
        if (!cJSON_IsString(v) || !*v->valuestring) return wih_asprintf("finding %d has no %s", i, keys[k]);
    }
    const char *id = cJSON_GetObjectItem(g, "id")->valuestring, *where = cJSON_GetObjectItem(g, "where")->valuestring;
    const char *wid = cJSON_GetObjectItem(w, "id")->valuestring, *wwh = cJSON_GetObjectItem(w, "where")->valuestring;
    if (strcmp(id, wid) || strcmp(where, wwh))
        return wih_asprintf("finding %d: expected %s at %s, got %s at %s", i, wid, wwh, id, where);
    const cJSON *cc = cJSON_GetObjectItem(w, "cause_contains");
    const char *cause = cJSON_GetObjectItem(g, "cause")->valuestring;
    if (cc && !strstr(cause, cc->valuestring))
        return wih_asprintf("finding %d (%s): cause \"%s\" lacks \"%s\"", i, id, cause, cc->valuestring);
    const cJSON *fc = cJSON_GetObjectItem(w, "facts_contains");
    if (fc) {
        char *f = cJSON_PrintUnformatted(cJSON_GetObjectItem(g, "facts"));
        char *r = f && strstr(f, fc->valuestring) ? NULL
                                                  : wih_asprintf("finding %d (%s): facts %s lack \"%s\"", i, id,
                                                                 f ? f : "(none)", fc->valuestring);
        free(f);
        if (r) return r;
    }
    return NULL;
}

static char *run_case(const char *dir)
{
    wih_err *e = NULL;
    char *fp = wih_path_join(dir, "facts.json"), *xp = wih_path_join(dir, "expect.json");
    char *fs = wih_read_file(fp, 1 << 20, NULL, &e), *xs = fs ? wih_read_file(xp, 1 << 20, NULL, &e) : NULL;
    char *res = NULL;
    cJSON *facts = NULL, *want = NULL, *got = NULL;
    if (!xs) {
        res = wih_asprintf("reading the case: %s", wih_err_str(e));
        goto done;
    }
    facts = wih_json_parse(fp, fs, &e);
    want = cJSON_Parse(xs);
    if (!facts || !want) {
        res = wih_asprintf("facts.json/expect.json: %s", e ? wih_err_str(e) : "expect.json is not JSON");
        goto done;
    }
    got = diag_runtime(facts, &e);
    const cJSON *werr = cJSON_GetObjectItem(want, "error");
    if (werr) {
        if (got) res = wih_strdup("expected an error, got findings");
        else if (e->kind != WIH_EXIT_INPUT || !strstr(wih_err_str(e), werr->valuestring))
            res = wih_asprintf("error \"%s\" (kind %d) lacks \"%s\"", wih_err_str(e), e->kind, werr->valuestring);
        goto done;
    }
    if (!got) {
        res = wih_asprintf("unexpected error: %s", wih_err_str(e));
        goto done;
    }
    const cJSON *wf = cJSON_GetObjectItem(want, "findings");
    if (cJSON_GetArraySize(wf) != cJSON_GetArraySize(got)) {
        char *g = cJSON_PrintUnformatted(got);
        res = wih_asprintf("%d finding(s) expected, got %d: %s", cJSON_GetArraySize(wf), cJSON_GetArraySize(got), g);
        free(g);
        goto done;
    }
    for (int i = 0; i < cJSON_GetArraySize(wf) && !res; i++)
        res = check_one(cJSON_GetArrayItem(wf, i), cJSON_GetArrayItem(got, i), i);
done:
    wih_err_free(e);
    cJSON_Delete(facts);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(fs);
    free(xs);
    free(fp);
    free(xp);
    return res;
}

START_TEST(runtime_cases)
{
    char *root = wih_fixture("diagnosis/runtime");
    DIR *d = opendir(root);
    ck_assert_msg(d, "no fixtures at %s", root);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.') names[n++] = wih_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    ck_assert_msg(n >= 10, "only %zu runtime cases", n);
    int failed = 0;
    bool nkc = false;
    wih_buf fails;
    wih_buf_init(&fails, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        char *dir = wih_path_join(root, names[i]);
        char *r = run_case(dir);
        if (r) {
            printf("FAIL runtime/%s:\n%s\n", names[i], r);
            wih_buf_addf(&fails, "\nFAIL runtime/%s:\n%s", names[i], r);
            failed++;
        } else
            printf("ok   runtime/%s\n", names[i]);
        nkc = nkc || !strcmp(names[i], "no-known-cause");
        free(r);
        free(dir);
        free(names[i]);
    }
    free(root);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d runtime case(s) failed:%s", failed, fails.data ? fails.data : "");
    ck_assert_msg(nkc, "the no-known-cause case is missing");
    wih_buf_free(&fails);
}
END_TEST

/* Every id once in the table, with a cause, a fix and a function, and a
 * section "## <id>" in docs/troubleshooting.md. */
START_TEST(rule_table)
{
    size_t n;
    const diag_rule *r = diag_rules(&n);
    ck_assert_uint_ge(n, 20);
    char *doc_path = wih_path_join(WIH_SOURCE_DIR, "docs/troubleshooting.md");
    wih_err *e = NULL;
    char *doc = wih_read_file(doc_path, 1 << 20, NULL, &e);
    ck_assert_msg(doc, "%s", e ? wih_err_str(e) : "");
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(r[i].id && *r[i].cause && *r[i].fix && r[i].fn, "row %zu incomplete", i);
        ck_assert_ptr_eq(diag_rule_find(r[i].id), &r[i]);
        char *h = wih_asprintf("\n## %s\n", r[i].id);
        ck_assert_msg(strstr(doc, h), "docs/troubleshooting.md has no section \"## %s\"", r[i].id);
        free(h);
    }
    ck_assert_ptr_null(diag_rule_find("no-such-id"));
    free(doc);
    free(doc_path);
}
END_TEST

/* Positions: a SOURCE built from YAML gives file:line:col; the text format
 * names where, id, cause and fix. */
START_TEST(source_positions)
{
    const char *y = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n  namespace: osmo-workflows\n"
                    "  annotations:\n    eks.amazonaws.com/rolearn: arn:aws:iam::123456789012:role/r\n";
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("sa.yaml", y, strlen(y), &e);
    ck_assert_ptr_nonnull(d);
    cJSON *facts = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(facts, "service_accounts"), diag_source("sa.yaml", d, 0));
    wih_ydocs_free(d);
    cJSON *f = diag_static(facts, &e);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cJSON_GetArraySize(f), 1);
    const cJSON *x = cJSON_GetArrayItem(f, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(x, "id")->valuestring, "sa-annotation-typo");
    ck_assert_str_eq(cJSON_GetObjectItem(x, "where")->valuestring, "sa.yaml:7:32");
    char *t = diag_format_text(f);
    ck_assert_msg(strstr(t, "sa.yaml:7:32: [sa-annotation-typo] ") && strstr(t, "\n    fix: rename"), "%s", t);
    free(t);
    cJSON_Delete(f);
    cJSON_Delete(facts);
}
END_TEST

/* Facts of the wrong shape anywhere: an error or findings, never a crash. */
START_TEST(odd_shapes)
{
    static const char *const cases[] = {
        "{\"service_accounts\": 3, \"webhook_log\": {}, \"cloud_log\": \"x\", \"probe\": []}",
        "{\"service_accounts\": [1, \"s\", {}, {\"tree\": []}, {\"tree\": {\"kind\": \"ServiceAccount\", \"metadata\": 1}}]}",
        "{\"values\": {\"tree\": {\"services\": {\"configs\": {\"enabled\": \"yes\", \"pools\": {\"default\": {\"common_pod_template\": [1]}}}}}}}",
        "{\"values\": {\"tree\": []}}",
        "{\"webhook_log\": [\"not json\", 5, {\"decision\": 7}], \"cloud_log\": [{\"result\": \"deny\"}, {\"result\": \"deny\", \"verdict\": \"subject\"}]}",
        "{\"probe\": {\"access\": [{\"op\": 1}, {\"result\": \"denied\", \"reason\": \"bucket-refused\"}], \"error\": \"Permission denied\"}, \"expected_identity\": \"x\"}",
        "{\"admitted_pod\": {\"spec\": {\"containers\": [{\"env\": [{\"name\": \"AWS_WEB_IDENTITY_TOKEN_FILE\"}, 3]}]}}}",
        "{\"profile\": \"azure-wi\", \"values\": {\"tree\": {\"configuration\": {\"podTemplates\": {\"t\": {\"metadata\": {\"labels\": []}}}, \"pools\": {\"p\": {\"common_pod_template\": [\"t\"]}}}}}}",
        "[]",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *f = cJSON_Parse(cases[i]);
        ck_assert_msg(f, "case %zu is not JSON", i);
        wih_err *e = NULL;
        cJSON *r = diag_runtime(f, &e);
        ck_assert_msg(r || (e && e->kind == WIH_EXIT_INPUT), "case %zu: neither findings nor an input error", i);
        if (r) ck_assert_msg(cJSON_GetArraySize(r) > 0, "case %zu: runtime diagnosis is never empty", i);
        cJSON_Delete(r);
        wih_err_free(e);
        cJSON_Delete(f);
    }
}
END_TEST

START_TEST(jsonl_filter)
{
    const char *t = "{\"pod\":\"a\",\"decision\":\"patched\"}\nnot json\n\n{\"pod\":\"b\"}\n[1]\n{\"pod\":\"a\",\"decision\":\"skipped\"}";
    cJSON *a = diag_jsonl(t, "pod", "a");
    ck_assert_int_eq(cJSON_GetArraySize(a), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(a, 1), "decision")->valuestring, "skipped");
    cJSON *all = diag_jsonl(t, NULL, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(all), 3);
    cJSON *none = diag_jsonl(NULL, "pod", "a");
    ck_assert_int_eq(cJSON_GetArraySize(none), 0);
    cJSON_Delete(a);
    cJSON_Delete(all);
    cJSON_Delete(none);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diagnosis");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, runtime_cases);
    tcase_add_test(tc, rule_table);
    tcase_add_test(tc, source_positions);
    tcase_add_test(tc, odd_shapes);
    tcase_add_test(tc, jsonl_filter);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
