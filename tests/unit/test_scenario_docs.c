/* The scenario docs cannot drift from the loader:
 *   - every ```yaml example in docs/scenarios.md that is a Scenario loads
 *     (relative paths resolve against fixtures/scenario/docs-examples/), and
 *     every Suite example loads as a suite.yaml;
 *   - the bundled drafts (fixtures/scenario/bundled-draft/) and, when present,
 *     scenarios/ load;
 *   - docs/scenario.schema.json is JSON and lists exactly the keys the loader
 *     accepts (scn_known_keys), and docs/scenarios.md names each of them. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "wiharness/scenario.h"

static char *source(const char *rel)
{
    return wih_asprintf("%s/%s", WIH_SOURCE_DIR, rel);
}

static char *read_source(const char *rel)
{
    char *p = source(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 22, NULL, &e);
    ck_assert_msg(t != NULL, "%s", e ? wih_err_str(e) : p);
    free(p);
    return t;
}

START_TEST(doc_examples_load)
{
    char *md = read_source("docs/scenarios.md");
    int scenarios = 0, suites = 0, block = 0;
    for (char *p = strstr(md, "```yaml\n"); p; p = strstr(p, "```yaml\n")) {
        p += 8;
        char *end = strstr(p, "```");
        ck_assert_msg(end != NULL, "unclosed ```yaml block");
        char *text = wih_xstrndup(p, (size_t)(end - p));
        block++;
        bool is_scn = strstr(text, "kind: Scenario") != NULL, is_suite = strstr(text, "kind: Suite") != NULL;
        char *name = wih_asprintf("%s/fixtures/scenario/docs-examples/example-%d.yaml", WIH_SOURCE_DIR, block);
        wih_err *e = NULL;
        scn_list *l = NULL;
        if (is_scn) {
            l = scn_load_string(name, text, NULL, &e);
            scenarios++;
        } else if (is_suite) {
            l = scn_load_string(name, "apiVersion: wiharness/v1\nkind: Scenario\nmetadata: {name: x}\nspec: {}\n",
                                text, &e);
            suites++;
        }
        ck_assert_msg(!(is_scn || is_suite) || l, "docs/scenarios.md example %d does not load: %s\n%s", block,
                      wih_err_str(e), text);
        scn_list_free(l);
        free(name);
        free(text);
        p = end + 3;
    }
    ck_assert_msg(scenarios >= 10, "only %d scenario examples in docs/scenarios.md", scenarios);
    ck_assert_msg(suites >= 1, "no suite.yaml example in docs/scenarios.md");
    free(md);
}
END_TEST

START_TEST(bundled_load)
{
    const char *dirs[] = {"fixtures/scenario/bundled-draft", "scenarios"};
    int loaded = 0;
    for (size_t i = 0; i < 2; i++) {
        char *p = source(dirs[i]);
        struct stat st;
        if (stat(p, &st) == 0) {
            wih_err *e = NULL;
            scn_list *l = scn_load_path(p, &e);
            ck_assert_msg(l != NULL, "%s: %s", dirs[i], wih_err_str(e));
            ck_assert_msg(l->n > 0, "%s: no scenarios", dirs[i]);
            scn_list_free(l);
            loaded++;
        }
        free(p);
    }
    ck_assert_msg(loaded >= 1, "neither fixtures/scenario/bundled-draft nor scenarios/ exists");
}
END_TEST

/* Every key path the schema describes ("spec.cloud.roles.*.trust", "spec.expect.access[].op"). */
static void walk(const cJSON *root, const cJSON *n, const char *prefix, cJSON *out)
{
    const cJSON *ref = cJSON_GetObjectItem(n, "$ref");
    if (cJSON_IsString(ref)) {
        ck_assert_msg(!strncmp(ref->valuestring, "#/$defs/", 8), "unsupported $ref %s", ref->valuestring);
        const cJSON *def = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "$defs"), ref->valuestring + 8);
        ck_assert_msg(def != NULL, "dangling $ref %s", ref->valuestring);
        walk(root, def, prefix, out);
    }
    const cJSON *props = cJSON_GetObjectItem(n, "properties");
    for (const cJSON *c = props ? props->child : NULL; c; c = c->next) {
        char *p = *prefix && prefix[strlen(prefix) - 1] != ':' ? wih_asprintf("%s.%s", prefix, c->string)
                                                                : wih_asprintf("%s%s", prefix, c->string);
        if (!cJSON_GetObjectItem(out, p)) cJSON_AddTrueToObject(out, p);
        walk(root, c, p, out);
        free(p);
    }
    const cJSON *ap = cJSON_GetObjectItem(n, "additionalProperties");
    if (cJSON_IsObject(ap)) {
        char *p = wih_asprintf("%s.*", prefix);
        walk(root, ap, p, out);
        free(p);
    }
    const cJSON *items = cJSON_GetObjectItem(n, "items");
    if (cJSON_IsObject(items)) {
        char *p = wih_asprintf("%s[]", prefix);
        walk(root, items, p, out);
        free(p);
    }
    const char *alts[] = {"oneOf", "anyOf", "allOf"};
    for (size_t i = 0; i < 3; i++) {
        const cJSON *a = cJSON_GetObjectItem(n, alts[i]);
        for (const cJSON *c = a ? a->child : NULL; c; c = c->next) walk(root, c, prefix, out);
    }
}

/* The word appears as a key in code: after '`' or '.', before '`', '.', ':' or '['. */
static bool names_key(const char *md, const char *word)
{
    size_t l = strlen(word);
    for (const char *p = strstr(md, word); p; p = strstr(p + 1, word))
        if (p > md && (p[-1] == '`' || p[-1] == '.') && strchr("`.:[", p[l])) return true;
    return false;
}

START_TEST(schema_lists_every_key)
{
    char *text = read_source("docs/scenario.schema.json");
    cJSON *schema = cJSON_Parse(text);
    ck_assert_msg(schema != NULL, "docs/scenario.schema.json is not JSON");
    ck_assert_str_eq(cJSON_GetObjectItem(schema, "$schema")->valuestring,
                     "https://json-schema.org/draft/2020-12/schema");
    cJSON *keys = cJSON_CreateObject();
    const cJSON *defs = cJSON_GetObjectItem(schema, "$defs");
    walk(schema, cJSON_GetObjectItem(defs, "scenario"), "", keys);
    walk(schema, cJSON_GetObjectItem(defs, "suite"), "suite:", keys);
    char *md = read_source("docs/scenarios.md");
    const char *const *known = scn_known_keys();
    size_t nknown = 0;
    for (; known[nknown]; nknown++) {
        ck_assert_msg(cJSON_GetObjectItem(keys, known[nknown]) != NULL, "the loader accepts '%s'; the schema lacks it",
                      known[nknown]);
        const char *last = strrchr(known[nknown], '.');
        last = last ? last + 1 : (strchr(known[nknown], ':') ? strchr(known[nknown], ':') + 1 : known[nknown]);
        ck_assert_msg(names_key(md, last), "docs/scenarios.md never names `%s` (%s)", last, known[nknown]);
    }
    for (const cJSON *c = keys->child; c; c = c->next) {
        bool found = false;
        for (size_t i = 0; i < nknown && !found; i++) found = !strcmp(known[i], c->string);
        ck_assert_msg(found, "the schema describes '%s'; the loader does not accept it", c->string);
    }
    ck_assert_int_eq(cJSON_GetArraySize(keys), (int)nknown);
    free(md);
    cJSON_Delete(keys);
    cJSON_Delete(schema);
    free(text);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scenario_docs");
    TCase *tc = tcase_create("docs");
    tcase_add_test(tc, doc_examples_load);
    tcase_add_test(tc, bundled_load);
    tcase_add_test(tc, schema_lists_every_key);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
