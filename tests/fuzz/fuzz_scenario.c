/* libFuzzer: the scenario loader and the path engine never crash.
 *   - scn_load_string either loads or fails with an input error (exit 2);
 *     what loads can be asserted (expect.pod against itself, access with no
 *     verdict), reported and dumped;
 *   - a path that parses prints a canonical form that parses back to the
 *     same text; select and set on a small tree never crash.
 * Seeds: fixtures/scenario/{load,assert,bundled-draft} (scenario.yaml files). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/jsonpath.h"
#include "wiharness/scenario.h"

static void must_be_input_error(wih_err *e)
{
    if (!e || e->kind != WIH_EXIT_INPUT) abort();
    wih_err_free(e);
}

static void exercise(const scn_scenario *s)
{
    wih_err *e = NULL;
    scn_result r;
    scn_result_init(&r);
    if (scn_assert_pod(s->expect.pod, s->expect.pod, s, &r, &e) < 0) must_be_input_error(e);
    e = NULL;
    scn_vars v = {.namespace_ = "ns", .service_account = "sa", .profile = "aws-irsa", .scenario = s->name,
                  .bucket_prefix = "p-"};
    if (scn_assert_access(s->expect.access, s->expect.naccess, NULL, &v, NULL, NULL, &r, &e) < 0)
        must_be_input_error(e);
    if (r.n != r.mismatched + r.not_yet) abort();
    free(scn_result_text(&r));
    cJSON_Delete(scn_result_json(&r));
    scn_result_free(&r);
    cJSON_Delete(scn_scenario_json(s));
}

static void paths(const char *t)
{
    wih_err *e = NULL;
    wih_jpath *p = wih_jpath_parse(t, &e);
    if (!p) {
        must_be_input_error(e);
        return;
    }
    char *s1 = wih_jpath_str(p, p->n);
    wih_jpath *q = wih_jpath_parse(s1, &e);
    if (!q) abort();
    char *s2 = wih_jpath_str(q, q->n);
    if (strcmp(s1, s2)) abort();
    cJSON *doc = cJSON_Parse("{\"a\":{\"b.c\":[{\"name\":\"x\",\"v\":1},{\"name\":\"y\"}]},\"l\":[1,2,[3]]}");
    const cJSON **v = NULL;
    char *why = NULL;
    size_t n = wih_jpath_select(p, doc, &v, &why);
    if (!n && !why) abort();
    free(v);
    free(why);
    if (wih_jpath_set(p, doc, cJSON_CreateString("z"), &e) < 0) must_be_input_error(e);
    cJSON_Delete(doc);
    free(s1);
    free(s2);
    wih_jpath_free(p);
    wih_jpath_free(q);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t) abort();
    memcpy(t, data, size);
    t[size] = '\0';
    wih_err *e = NULL;
    scn_list *l = scn_load_string("/nonexistent/fuzz.yaml", t, NULL, &e);
    if (l) {
        for (size_t i = 0; i < l->n; i++) exercise(l->items[i]);
        scn_list_free(l);
    } else {
        must_be_input_error(e);
    }
    paths(t);
    free(t);
    return 0;
}
