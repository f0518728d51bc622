/* Scenario loader from fixtures/scenario/load/<case>/:
 *   input:  in/ (a directory: a suite) or scenario.yaml
 *   expect: expect.err  "<file relative to the case>:<line>:<col>: <message>" (exact), or
 *           expect.json the loaded list as scn_scenario_json dumps, with the
 *                       case directory written as "<case>".
 * Plus matrix, selectors, templates and durations. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "wiharness/scenario.h"

/* Replace every occurrence of from in the string values of tree with to. */
static void replace_strings(cJSON *t, const char *from, const char *to)
{
    if (cJSON_IsString(t)) {
        char *p;
        while ((p = strstr(t->valuestring, from))) {
            char *n = wih_asprintf("%.*s%s%s", (int)(p - t->valuestring), t->valuestring, to, p + strlen(from));
            cJSON_free(t->valuestring);
            t->valuestring = n;
        }
    }
    for (cJSON *c = t->child; c; c = c->next) replace_strings(c, from, to);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void run_case(const char *cdir, const char *name)
{
    char *in = wih_path_join(cdir, "in");
    if (!is_dir(in)) {
        free(in);
        in = wih_path_join(cdir, "scenario.yaml");
    }
    char *ee = wih_path_join(cdir, "expect.err"), *ej = wih_path_join(cdir, "expect.json");
    wih_err *err = NULL;
    scn_list *l = scn_load_path(in, &err);
    char *experr = wih_read_file(ee, 4096, NULL, NULL);
    char *prefix = wih_asprintf("%s/", cdir);
    if (experr) {
        experr[strcspn(experr, "\n")] = '\0';
        ck_assert_msg(l == NULL, "%s: loaded, expected the error %s", name, experr);
        ck_assert_int_eq(wih_err_exit(err), WIH_EXIT_INPUT);
        cJSON *got = cJSON_CreateString(wih_err_str(err));
        replace_strings(got, prefix, ""); /* paths in the message, relative to the case */
        ck_assert_msg(!strcmp(got->valuestring, experr), "%s:\n got  %s\n want %s", name, got->valuestring, experr);
        cJSON_Delete(got);
        wih_err_free(err);
    } else {
        ck_assert_msg(l != NULL, "%s: %s", name, wih_err_str(err));
        cJSON *got = cJSON_CreateArray();
        for (size_t i = 0; i < l->n; i++) cJSON_AddItemToArray(got, scn_scenario_json(l->items[i]));
        replace_strings(got, cdir, "<case>");
        char *text = wih_read_file(ej, 1 << 20, NULL, &err);
        ck_assert_msg(text != NULL, "%s: %s\ngot:\n%s", name, err ? wih_err_str(err) : "", cJSON_Print(got));
        cJSON *want = cJSON_Parse(text);
        ck_assert_msg(want != NULL, "%s: expect.json is not JSON", name);
        char *d = wih_json_diff(want, got);
        ck_assert_msg(d == NULL, "%s:\n%sgot:\n%s", name, d, cJSON_Print(got));
        cJSON_Delete(want);
        cJSON_Delete(got);
        free(text);
        scn_list_free(l);
    }
    free(prefix);
    free(experr);
    free(in);
    free(ee);
    free(ej);
}

START_TEST(load_cases)
{
    wih_cases cs;
    char *why = wih_cases_list("scenario/load", 30, &cs);
    ck_assert_msg(why == NULL, "%s", why);
    for (size_t i = 0; i < cs.n; i++) {
        char *cdir = wih_path_join(cs.root, cs.names[i]);
        run_case(cdir, cs.names[i]);
        free(cdir);
    }
    wih_cases_free(&cs);
}
END_TEST

static scn_list *load_text(const char *text, const char *suite)
{
    wih_err *e = NULL;
    scn_list *l = scn_load_string("mem.yaml", text, suite, &e);
    ck_assert_msg(l != NULL, "%s", wih_err_str(e));
    return l;
}

START_TEST(matrix_and_selectors)
{
    scn_list *l = load_text("apiVersion: wiharness/v1\nkind: Scenario\nmetadata: {name: a, labels: {suite: smoke}}\n"
                            "spec: {profiles: [aws-irsa, azure-wi]}\n---\n"
                            "apiVersion: wiharness/v1\nkind: Scenario\nmetadata: {name: b, labels: {suite: misconfig}}\n"
                            "spec: {}\n",
                            NULL);
    ck_assert_uint_eq(l->n, 2);
    wih_err *e = NULL;
    scn_matrix *m = scn_matrix_build(l, NULL, NULL, &e);
    ck_assert_uint_eq(m->n, 5); /* a × 2 + b × all 3 */
    ck_assert_str_eq(m->cases[0].id, "a/aws-irsa");
    ck_assert_str_eq(m->cases[4].id, "b/gcp-fleet");
    scn_matrix_free(m);

    const char *only[] = {"azure-wi", NULL};
    m = scn_matrix_build(l, NULL, only, &e);
    ck_assert_uint_eq(m->n, 2);
    scn_matrix_free(m);
    const char *bad[] = {"azure-wl", NULL};
    ck_assert_ptr_null(scn_matrix_build(l, NULL, bad, &e));
    ck_assert_str_eq(wih_err_str(e), "unknown profile 'azure-wl' (did you mean 'azure-wi'?) (profiles: aws-irsa, azure-wi, gcp-fleet)");
    wih_err_free(e);

    struct { const char *exprs[3]; size_t n; size_t cases; } sc[] = {
        {{"suite=smoke"}, 1, 2},         {{"suite!=smoke"}, 1, 3},     {{"suite"}, 1, 5},
        {{"!suite"}, 1, 0},              {{"suite=smoke", "name=a"}, 2, 2}, {{"suite=smoke", "name=b"}, 2, 0},
        {{"suite=smoke,name=a"}, 1, 2},  {{"name=b"}, 1, 3},           {{"nope=x"}, 1, 0},
    };
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        scn_selector *sel = scn_selector_parse(sc[i].exprs, sc[i].n, &e);
        ck_assert_msg(sel != NULL, "%s: %s", sc[i].exprs[0], e ? wih_err_str(e) : "");
        m = scn_matrix_build(l, sel, NULL, &e);
        ck_assert_msg(m->n == sc[i].cases, "selector %zu (%s): %zu cases, want %zu", i, sc[i].exprs[0], m->n,
                      sc[i].cases);
        scn_matrix_free(m);
        scn_selector_free(sel);
    }
    const char *badsel[] = {"a=b=c"};
    ck_assert_ptr_null(scn_selector_parse(badsel, 1, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_str_eq(wih_err_str(e), "label selector 'a=b=c': expected key=value, key!=value, key or !key");
    wih_err_free(e);
    const char *empty[] = {""};
    ck_assert_ptr_null(scn_selector_parse(empty, 1, &e));
    wih_err_free(e);
    scn_list_free(l);
}
END_TEST

START_TEST(templates)
{
    scn_vars v = {"wih-a-aws-irsa", "osmo-workflow", "aws-irsa", "a", "r1-", NULL, NULL};
    wih_err *e = NULL;
    struct { const char *in, *out; } ok[] = {
        {"{{bucket team-a-data}}/out/x", "s3://r1-team-a-data/out/x"},
        {"{{ bucketName team-a-data }}", "r1-team-a-data"},
        {"system:serviceaccount:{{namespace}}:{{serviceAccount}}", "system:serviceaccount:wih-a-aws-irsa:osmo-workflow"},
        {"{{profile}}/{{scenario}}", "aws-irsa/a"},
        {"{{USER_CPU}} {{output}}/x {{input:0}} {{ workflow_id }}", "{{USER_CPU}} {{output}}/x {{input:0}} {{ workflow_id }}"},
        {"no templates {{ unclosed", "no templates {{ unclosed"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char *x = scn_expand(ok[i].in, &v, &e);
        ck_assert_msg(x != NULL, "%s: %s", ok[i].in, e ? wih_err_str(e) : "");
        ck_assert_str_eq(x, ok[i].out);
        free(x);
    }
    struct { const char *in, *err; } bad[] = {
        {"{{buckets team-a-data}}", "template '{{buckets team-a-data}}': unknown template (did you mean 'bucket'?)"},
        {"{{bucket}}", "template '{{bucket}}': needs a bucket name"},
        {"{{namespace x}}", "template '{{namespace x}}': takes no argument"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_null(scn_expand(bad[i].in, &v, &e));
        ck_assert_str_eq(wih_err_str(e), bad[i].err);
        wih_err_free(e);
        e = NULL;
    }
    cJSON *t = cJSON_Parse("{\"a\": [\"{{bucket b1}}\", 1], \"{{namespace}}\": \"{{namespace}}\"}");
    ck_assert_int_eq(scn_expand_tree(t, &v, &e), 0);
    char *s = cJSON_PrintUnformatted(t);
    ck_assert_str_eq(s, "{\"a\":[\"s3://r1-b1\",1],\"{{namespace}}\":\"wih-a-aws-irsa\"}"); /* keys are not expanded */
    free(s);
    cJSON_Delete(t);
}
END_TEST

START_TEST(durations)
{
    struct { const char *in; int64_t ms; } ok[] = {{"10s", 10000}, {"500ms", 500}, {"2m", 120000}, {"1m30s", 90000},
                                                  {"1h", 3600000}, {"1.5s", 1500}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        wih_err *e = NULL;
        ck_assert_msg(scn_duration_parse(ok[i].in, &e) == ok[i].ms, "%s", ok[i].in);
    }
    const char *bad[] = {"10", "10x", "", "s", "-1s", "0s", "25h", "10s5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wih_err *e = NULL;
        ck_assert_msg(scn_duration_parse(bad[i], &e) == -1, "'%s' accepted", bad[i]);
        ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
        wih_err_free(e);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scenario_load");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, load_cases);
    tcase_add_test(tc, matrix_and_selectors);
    tcase_add_test(tc, templates);
    tcase_add_test(tc, durations);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
