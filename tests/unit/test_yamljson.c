/* yamljson: data cases from fixtures/yamljson/<case>/{in.yaml, expect.json | expect.err}
 * plus positions, the emitter round trip, nesting limits and JSON errors. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/yamljson.h"

static void run_case(const char *name)
{
    char *dir = wih_fixture("yamljson");
    char *cdir = wih_path_join(dir, name);
    char *in = wih_path_join(cdir, "in.yaml"), *ej = wih_path_join(cdir, "expect.json"),
         *ee = wih_path_join(cdir, "expect.err");
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_file(in, &err);
    char *experr = wih_read_file(ee, 4096, NULL, NULL);
    if (experr) {
        experr[strcspn(experr, "\n")] = '\0';
        ck_assert_msg(d == NULL, "%s: expected an error, loaded %zu docs", name, wih_ydocs_count(d));
        ck_assert_int_eq(wih_err_exit(err), WIH_EXIT_INPUT);
        char *colon = strchr(strchr(experr, ':') + 1, ':'); /* after "L:C" */
        *colon = '\0';
        char *want_loc = wih_asprintf("%s:%s: ", in, experr);
        const char *got = wih_err_str(err);
        ck_assert_msg(strncmp(got, want_loc, strlen(want_loc)) == 0, "%s: got '%s', want prefix '%s'", name, got,
                      want_loc);
        ck_assert_msg(strstr(got, colon + 2) != NULL, "%s: got '%s', want '%s'", name, got, colon + 2);
        free(want_loc);
        wih_err_free(err);
    } else {
        ck_assert_msg(d != NULL, "%s: %s", name, wih_err_str(err));
        char *expect_text = wih_read_file(ej, 1 << 20, NULL, &err);
        ck_assert_msg(expect_text != NULL, "%s: %s", name, wih_err_str(err));
        cJSON *expect = cJSON_Parse(expect_text);
        ck_assert_msg(expect != NULL, "%s: expect.json is not JSON", name);
        cJSON *got = cJSON_CreateArray();
        for (size_t i = 0; i < wih_ydocs_count(d); i++)
            cJSON_AddItemToArray(got, cJSON_Duplicate(wih_ydocs_root(d, i), 1));
        char *diff = wih_json_diff(expect, got);
        ck_assert_msg(diff == NULL, "%s:\n%s", name, diff);
        cJSON_Delete(got);
        cJSON_Delete(expect);
        free(expect_text);
        /* every case also survives emit → load unchanged */
        for (size_t i = 0; i < wih_ydocs_count(d); i++) {
            char *y = wih_yaml_emit(wih_ydocs_root(d, i));
            wih_ydocs *back = wih_yaml_load_string("emitted", y, strlen(y), &err);
            ck_assert_msg(back != NULL, "%s: emitted YAML does not load: %s\n%s", name, wih_err_str(err), y);
            ck_assert_msg(cJSON_Compare(wih_ydocs_root(back, 0), wih_ydocs_root(d, i), 1), "%s: round trip\n%s",
                          name, y);
            wih_ydocs_free(back);
            free(y);
        }
    }
    wih_ydocs_free(d);
    free(experr);
    free(dir);
    free(cdir);
    free(in);
    free(ej);
    free(ee);
}

static char **g_cases;
static int g_ncases;

START_TEST(data_case)
{
    run_case(g_cases[_i]);
}
END_TEST

START_TEST(positions)
{
    const char *y = "apiVersion: v1\n"
                    "kind: Pod\n"
                    "spec:\n"
                    "  containers:\n"
                    "  - name: main\n"
                    "    image: ubuntu\n"
                    "    args: [\"-c\", x]\n";
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_string("pod.yaml", y, strlen(y), &err);
    ck_assert_ptr_nonnull(d);
    cJSON *root = wih_ydocs_root(d, 0);
    cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "spec"), "containers"), 0);
    wih_pos p;
    ck_assert(wih_ydocs_pos(d, cJSON_GetObjectItem(c0, "image"), &p));
    ck_assert_int_eq(p.line, 6);
    ck_assert_int_eq(p.col, 12);
    ck_assert(wih_ydocs_pos(d, c0, &p));
    ck_assert_int_eq(p.line, 5);
    ck_assert_int_eq(p.col, 5);
    cJSON *args = cJSON_GetObjectItem(c0, "args");
    ck_assert(wih_ydocs_pos(d, cJSON_GetArrayItem(args, 1), &p));
    ck_assert_int_eq(p.line, 7);
    ck_assert_int_eq(p.col, 18);
    wih_err *e = wih_ydocs_err(d, cJSON_GetObjectItem(root, "kind"), "expected %s", "a list");
    ck_assert_str_eq(wih_err_str(e), "pod.yaml:2:7: expected a list");
    wih_err_free(e);
    cJSON *detached = wih_ydocs_detach(d, 0);
    ck_assert(wih_ydocs_pos(d, cJSON_GetObjectItem(detached, "spec"), &p));
    ck_assert_int_eq(p.line, 4);
    wih_ydocs_free(d);
    cJSON_Delete(detached);
}
END_TEST

static char *nested(int depth)
{
    wih_buf b;
    wih_buf_init(&b, 0);
    for (int i = 0; i < depth; i++) wih_buf_adds(&b, "[");
    wih_buf_adds(&b, "1");
    for (int i = 0; i < depth; i++) wih_buf_adds(&b, "]");
    return wih_buf_take(&b);
}

START_TEST(deep_nesting)
{
    wih_err *err = NULL;
    char *ok = nested(WIH_YAML_MAX_DEPTH - 1);
    wih_ydocs *d = wih_yaml_load_string("deep.yaml", ok, strlen(ok), &err);
    ck_assert_msg(d != NULL, "%s", wih_err_str(err));
    const cJSON *n = wih_ydocs_root(d, 0);
    int depth = 0;
    while (cJSON_IsArray(n)) {
        n = n->child;
        depth++;
    }
    ck_assert_int_eq(depth, WIH_YAML_MAX_DEPTH - 1);
    ck_assert(cJSON_IsNumber(n));
    wih_ydocs_free(d);
    char *bad = nested(WIH_YAML_MAX_DEPTH + 5);
    d = wih_yaml_load_string("deep.yaml", bad, strlen(bad), &err);
    ck_assert_ptr_null(d);
    ck_assert_str_eq(wih_err_str(err), "deep.yaml:1:201: nested deeper than 200 levels");
    wih_err_free(err);
    free(ok);
    free(bad);
}
END_TEST

START_TEST(billion_laughs)
{
    wih_buf b;
    wih_buf_init(&b, 0);
    wih_buf_adds(&b, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'k'; c++)
        wih_buf_addf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", c, c, c - 1, c - 1, c - 1,
                     c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_string("lol.yaml", b.data, b.len, &err);
    ck_assert_ptr_null(d);
    ck_assert_msg(strstr(wih_err_str(err), "aliases expand to more than") != NULL, "%s", wih_err_str(err));
    wih_err_free(err);
    wih_buf_free(&b);
}
END_TEST

/* The duplicate-key check is a hash set per mapping (issue 13 finding 2): it must
 * still see a duplicate 20000 keys after the original, across table growth, in
 * every map of a stream, and never confuse sibling maps. */
START_TEST(duplicate_keys_far_apart)
{
    enum { N = 20000 };
    wih_buf b;
    wih_buf_init(&b, 0);
    wih_buf_adds(&b, "first:\n");
    for (int i = 0; i < N; i++) wih_buf_addf(&b, "  key-%05d: %d\n", i, i);
    wih_buf_adds(&b, "second:\n");
    for (int i = 0; i < N; i++) wih_buf_addf(&b, "  key-%05d: %d\n", i, i);
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_string("big.yaml", b.data, b.len, &err);
    ck_assert_msg(d != NULL, "sibling maps with the same keys: %s", wih_err_str(err));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(wih_ydocs_root(d, 0), "second")), N);
    wih_ydocs_free(d);
    for (int at = 0; at < N; at += N / 4 - 1) {
        size_t keep = b.len;
        wih_buf_addf(&b, "  key-%05d: again\n", at);
        d = wih_yaml_load_string("big.yaml", b.data, b.len, &err);
        ck_assert_ptr_null(d);
        char *want = wih_asprintf("big.yaml:%d:3: duplicate key \"key-%05d\"", 2 * N + 3, at);
        ck_assert_msg(!strcmp(wih_err_str(err), want), "got '%s', want '%s'", wih_err_str(err), want);
        free(want);
        wih_err_free(err);
        err = NULL;
        b.len = keep;
        b.data[keep] = '\0';
    }
    wih_buf_free(&b);
}
END_TEST

START_TEST(emit_quotes_what_would_resolve)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "use", "true");
    cJSON_AddStringToObject(o, "yes", "yes");
    cJSON_AddStringToObject(o, "n", "0777");
    cJSON_AddStringToObject(o, "empty", "");
    cJSON_AddStringToObject(o, "nul", "~");
    cJSON_AddStringToObject(o, "plain", "ubuntu:22.04");
    cJSON_AddStringToObject(o, "multi", "a\nb\n");
    cJSON_AddNumberToObject(o, "int", 3);
    cJSON_AddNumberToObject(o, "flt", 0.1);
    cJSON_AddBoolToObject(o, "b", 1);
    cJSON_AddNullToObject(o, "z");
    cJSON_AddItemToObject(o, "list", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "map", cJSON_CreateObject());
    char *y = wih_yaml_emit(o);
    ck_assert_msg(strstr(y, "use: \"true\"\n") && strstr(y, "\"yes\": \"yes\"\n") && strstr(y, "\"n\": \"0777\"\n") &&
                      strstr(y, "empty: \"\"\n") && strstr(y, "nul: \"~\"\n") && strstr(y, "plain: ubuntu:22.04\n") &&
                      strstr(y, "multi: |\n") && strstr(y, "int: 3\n") && strstr(y, "flt: 0.1\n") &&
                      strstr(y, "b: true\n") && strstr(y, "z: null\n") && strstr(y, "list: []\n") &&
                      strstr(y, "map: {}\n"),
                  "emitted:\n%s", y);
    wih_err *err = NULL;
    wih_ydocs *d = wih_yaml_load_string("e", y, strlen(y), &err);
    ck_assert_ptr_nonnull(d);
    ck_assert(cJSON_Compare(wih_ydocs_root(d, 0), o, 1));
    wih_ydocs_free(d);
    free(y);
    cJSON_Delete(o);
}
END_TEST

START_TEST(emit_stream)
{
    cJSON *a = cJSON_Parse("{\"kind\":\"A\"}"), *b = cJSON_Parse("{\"kind\":\"B\"}");
    const cJSON *docs[] = {a, b};
    char *y = wih_yaml_emit_stream(docs, 2);
    ck_assert_str_eq(y, "kind: A\n---\nkind: B\n");
    free(y);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

START_TEST(json_errors_have_positions)
{
    wih_err *err = NULL;
    cJSON *j = wih_json_parse("r.json", "{\n  \"a\": 1,\n  \"b\": tru\n}", &err);
    ck_assert_ptr_null(j);
    ck_assert_str_eq(wih_err_str(err), "r.json:3:8: invalid JSON");
    wih_err_free(err);
}
END_TEST

START_TEST(load_one_rejects_streams)
{
    char *p = wih_fixture("yamljson/multi-doc/in.yaml");
    wih_err *err = NULL;
    cJSON *r = wih_yaml_load_one(p, NULL, &err);
    ck_assert_ptr_null(r);
    ck_assert_msg(strstr(wih_err_str(err), "expected exactly one YAML document, found 3"), "%s", wih_err_str(err));
    wih_err_free(err);
    free(p);
}
END_TEST

START_TEST(resolve_table)
{
    bool b;
    long long i;
    double f;
    ck_assert_int_eq(wih_yaml_resolve_plain("-0x10", &b, &i, &f), WIH_YS_INT);
    ck_assert_int_eq(i, -16);
    ck_assert_int_eq(wih_yaml_resolve_plain("09", &b, &i, &f), WIH_YS_FLOAT); /* not octal: go-yaml v2 → float 9 */
    ck_assert_int_eq(wih_yaml_resolve_plain("1e", &b, &i, &f), WIH_YS_STRING);
    ck_assert_int_eq(wih_yaml_resolve_plain("-", &b, &i, &f), WIH_YS_STRING);
    ck_assert_int_eq(wih_yaml_resolve_plain(".", &b, &i, &f), WIH_YS_STRING);
    ck_assert_int_eq(wih_yaml_resolve_plain("+.inf", &b, &i, &f), WIH_YS_FLOAT);
    ck_assert_int_eq(wih_yaml_resolve_plain("1Gi", &b, &i, &f), WIH_YS_STRING);
    ck_assert_int_eq(wih_yaml_resolve_plain("-9223372036854775808", &b, &i, &f), WIH_YS_INT);
}
END_TEST

int main(void)
{
    wih_cases cs;
    char *why = wih_cases_list("yamljson", 1, &cs);
    if (why) {
        fprintf(stderr, "yamljson: %s\n", why);
        return 1;
    }
    g_cases = cs.names;
    g_ncases = (int)cs.n;
    Suite *s = suite_create("yamljson");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, data_case, 0, g_ncases);
    tcase_add_test(tc, positions);
    tcase_add_test(tc, deep_nesting);
    tcase_add_test(tc, billion_laughs);
    tcase_add_test(tc, duplicate_keys_far_apart);
    tcase_add_test(tc, emit_quotes_what_would_resolve);
    tcase_add_test(tc, emit_stream);
    tcase_add_test(tc, json_errors_have_positions);
    tcase_add_test(tc, load_one_rejects_streams);
    tcase_add_test(tc, resolve_table);
    suite_add_tcase(s, tc);
    printf("yamljson: %d data cases\n", g_ncases);
    int rc = wih_test_run(s);
    wih_cases_free(&cs);
    return rc;
}
