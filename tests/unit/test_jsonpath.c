/* jsonpath: get / why / set / parse errors / canonical text / diff, all from
 * fixtures/scenario/jsonpath/<name>.yaml. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/jsonpath.h"
#include "wiharness/yamljson.h"

static cJSON *load(const char *name)
{
    char *rel = wih_asprintf("scenario/jsonpath/%s", name);
    char *path = wih_fixture(rel);
    wih_err *e = NULL;
    cJSON *root = wih_yaml_load_one(path, NULL, &e);
    ck_assert_msg(root != NULL, "%s: %s", path, wih_err_str(e));
    free(rel);
    free(path);
    return root;
}

static const cJSON *need(const cJSON *o, const char *k)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(c != NULL, "fixture lacks '%s'", k);
    return c;
}

static int count_items(const cJSON *l, int min)
{
    int n = cJSON_GetArraySize(l);
    ck_assert_msg(n >= min, "fixture list has %d cases, want at least %d", n, min);
    return n;
}

static void check_get(const cJSON *doc, const cJSON *c)
{
    const char *path = need(c, "path")->valuestring;
    const cJSON *want_value = cJSON_GetObjectItem(c, "value"), *want_values = cJSON_GetObjectItem(c, "values"),
                *want_why = cJSON_GetObjectItem(c, "why");
    wih_err *e = NULL;
    wih_jpath *p = wih_jpath_parse(path, &e);
    ck_assert_msg(p != NULL, "%s: %s", path, wih_err_str(e));
    const cJSON **v = NULL;
    char *why = NULL;
    size_t n = wih_jpath_select(p, doc, &v, &why);
    if (want_why) {
        ck_assert_msg(n == 0, "%s: selected %zu nodes, want none", path, n);
        ck_assert_msg(why && !strcmp(why, want_why->valuestring), "%s:\n got  %s\n want %s", path, why,
                      want_why->valuestring);
        ck_assert(!wih_json_exists(doc, path));
    } else if (want_value) {
        ck_assert_msg(n >= 1, "%s: nothing: %s", path, why);
        ck_assert_msg(cJSON_Compare(v[0], want_value, 1), "%s: got %s", path, cJSON_PrintUnformatted(v[0]));
        ck_assert(wih_json_get(doc, path) == v[0]);
    } else if (cJSON_IsNumber(want_values)) {
        ck_assert_msg(n == (size_t)want_values->valueint, "%s: %zu matches, want %d", path, n, want_values->valueint);
    } else {
        ck_assert_msg(n == (size_t)cJSON_GetArraySize(want_values), "%s: %zu matches", path, n);
        size_t i = 0;
        for (const cJSON *w = want_values->child; w; w = w->next, i++)
            ck_assert_msg(cJSON_Compare(v[i], w, 1), "%s: match %zu is %s", path, i, cJSON_PrintUnformatted(v[i]));
    }
    free(v);
    free(why);
    wih_jpath_free(p);
}

START_TEST(get_and_why)
{
    cJSON *root = load("pod.yaml");
    const cJSON *doc = need(root, "doc");
    count_items(need(root, "get"), 20);
    for (const cJSON *c = need(root, "get")->child; c; c = c->next) check_get(doc, c);
    ck_assert_str_eq(wih_json_get_str(doc, "spec.containers[name=user].image"), "busybox");
    ck_assert_ptr_null(wih_json_get_str(doc, "spec.containers[name=user]")); /* a map, not a string */
    cJSON_Delete(root);
}
END_TEST

START_TEST(member)
{
    cJSON *root = load("member.yaml");
    const cJSON *doc = need(root, "doc");
    count_items(need(root, "member"), 8);
    for (const cJSON *c = need(root, "member")->child; c; c = c->next) {
        const char *on = need(c, "at")->valuestring, *key = need(c, "key")->valuestring;
        const cJSON *obj = wih_json_get(doc, on);
        const cJSON *m = wih_json_member(obj, key);
        const char *str = wih_json_member_str(obj, key);
        const char *str_or = wih_json_member_str_or(obj, key, "-");
        double num = wih_json_member_num(obj, key, -1);
        const cJSON *wn = cJSON_GetObjectItem(c, "num");
        ck_assert_msg(num == (cJSON_IsNumber(wn) ? wn->valuedouble : -1), "%s / %s: num %g", on, key, num);
        ck_assert_msg(str ? str_or == str : !strcmp(str_or, "-"), "%s / %s: str_or %s", on, key, str_or);
        if (cJSON_IsTrue(cJSON_GetObjectItem(c, "absent"))) {
            ck_assert_msg(m == NULL && str == NULL, "%s / %s: found %s", on, key, cJSON_PrintUnformatted(m));
            continue;
        }
        ck_assert_msg(m && cJSON_Compare(m, need(c, "value"), 1), "%s / %s: got %s", on, key,
                      m ? cJSON_PrintUnformatted(m) : "nothing");
        const cJSON *ws = need(c, "str");
        if (cJSON_IsString(ws))
            ck_assert_msg(str && !strcmp(str, ws->valuestring), "%s / %s: str %s", on, key, str ? str : "(null)");
        else
            ck_assert_msg(str == NULL, "%s / %s: str %s, want none (not a string)", on, key, str);
    }
    ck_assert_ptr_null(wih_json_member(NULL, "a"));
    ck_assert_ptr_null(wih_json_member(doc, NULL));
    ck_assert_ptr_null(wih_json_member_str(NULL, "a"));
    ck_assert_str_eq(wih_json_member_str_or(NULL, "a", ""), "");
    ck_assert(wih_json_member_num(NULL, "a", 7) == 7);
    cJSON_Delete(root);
}
END_TEST

START_TEST(syntax)
{
    cJSON *root = load("syntax.yaml");
    count_items(need(root, "errors"), 8);
    for (const cJSON *c = need(root, "errors")->child; c; c = c->next) {
        const char *path = need(c, "path")->valuestring;
        wih_err *e = NULL;
        wih_jpath *p = wih_jpath_parse(path, &e);
        ck_assert_msg(p == NULL, "'%s' parsed", path);
        ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
        ck_assert_str_eq(wih_err_str(e), need(c, "error")->valuestring);
        wih_err_free(e);
    }
    count_items(need(root, "canonical"), 5);
    for (const cJSON *c = need(root, "canonical")->child; c; c = c->next) {
        const char *path = need(c, "path")->valuestring;
        wih_err *e = NULL;
        wih_jpath *p = wih_jpath_parse(path, &e);
        ck_assert_msg(p != NULL, "%s: %s", path, wih_err_str(e));
        char *s = wih_jpath_str(p, p->n);
        ck_assert_str_eq(s, need(c, "str")->valuestring);
        /* the canonical text parses back to the same text */
        wih_jpath *q = wih_jpath_parse(s, &e);
        ck_assert_msg(q != NULL, "%s: %s", s, wih_err_str(e));
        char *s2 = wih_jpath_str(q, q->n);
        ck_assert_str_eq(s2, s);
        free(s);
        free(s2);
        wih_jpath_free(p);
        wih_jpath_free(q);
    }
    cJSON_Delete(root);
}
END_TEST

START_TEST(set)
{
    cJSON *root = load("set.yaml");
    count_items(need(root, "set"), 10);
    for (const cJSON *c = need(root, "set")->child; c; c = c->next) {
        const char *path = need(c, "path")->valuestring;
        cJSON *doc = cJSON_Duplicate(need(root, "doc"), 1);
        cJSON *before = cJSON_Duplicate(doc, 1);
        wih_err *e = NULL;
        int r = wih_json_set(doc, path, cJSON_Duplicate(need(c, "value"), 1), &e);
        const cJSON *want_err = cJSON_GetObjectItem(c, "error");
        if (want_err) {
            ck_assert_msg(r == -1, "%s: set returned %d", path, r);
            ck_assert_str_eq(wih_err_str(e), want_err->valuestring);
            ck_assert_msg(cJSON_Compare(doc, before, 1), "%s: a failed set changed the tree", path);
            wih_err_free(e);
        } else {
            ck_assert_msg(r == need(c, "count")->valueint, "%s: set %d (%s)", path, r, e ? wih_err_str(e) : "");
            const cJSON *chk = cJSON_GetObjectItem(c, "check");
            if (chk) {
                const char *cp = need(chk, "path")->valuestring;
                char *why = NULL;
                const cJSON *got = wih_json_get_why(doc, cp, &why);
                ck_assert_msg(got != NULL, "%s then %s: %s", path, cp, why);
                ck_assert_msg(cJSON_Compare(got, need(chk, "value"), 1), "%s then %s: %s", path, cp,
                              cJSON_PrintUnformatted(got));
            } else {
                ck_assert_msg(cJSON_Compare(doc, before, 1), "%s: nothing set but the tree changed", path);
            }
        }
        cJSON_Delete(doc);
        cJSON_Delete(before);
    }
    cJSON_Delete(root);
}
END_TEST

START_TEST(diff)
{
    cJSON *root = load("diff.yaml");
    count_items(need(root, "cases"), 2);
    for (const cJSON *c = need(root, "cases")->child; c; c = c->next) {
        char *text = wih_json_diff(need(c, "expect"), need(c, "actual"));
        const cJSON *want = need(c, "text");
        if (cJSON_IsNull(want)) ck_assert_msg(text == NULL, "unexpected diff:\n%s", text);
        else ck_assert_str_eq(text ? text : "(equal)", want->valuestring);
        cJSON *l = wih_json_diff_list(need(c, "expect"), need(c, "actual"));
        const cJSON *kinds = cJSON_GetObjectItem(c, "kinds");
        if (kinds) {
            ck_assert_int_eq(cJSON_GetArraySize(l), cJSON_GetArraySize(kinds));
            const cJSON *k = kinds->child;
            for (const cJSON *it = l->child; it; it = it->next, k = k->next)
                ck_assert_str_eq(cJSON_GetObjectItem(it, "kind")->valuestring, k->valuestring);
        }
        cJSON_Delete(l);
        free(text);
    }
    cJSON_Delete(root);
}
END_TEST

START_TEST(trim)
{
    cJSON *s = cJSON_CreateString("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9\xc3\xa9\xc3\xa9");
    char *t = wih_json_trim(s, 20);
    ck_assert_uint_le(strlen(t), 20);
    ck_assert_str_eq(t + strlen(t) - 3, "\xe2\x80\xa6");
    free(t);
    t = wih_json_trim(NULL, 20);
    ck_assert_str_eq(t, "absent");
    free(t);
    cJSON_Delete(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonpath");
    TCase *tc = tcase_create("jsonpath");
    tcase_add_test(tc, get_and_why);
    tcase_add_test(tc, member);
    tcase_add_test(tc, syntax);
    tcase_add_test(tc, set);
    tcase_add_test(tc, diff);
    tcase_add_test(tc, trim);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
