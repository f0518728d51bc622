/* Data-driven: fixtures/osmo/merge/<case>/
 *   base.yaml        the earlier map
 *   over.yaml        one or more documents, merged over base in order
 *   expect.yaml      the merged result, compared structurally, or
 *   expect-error.txt lines that must all appear in the error (exit kind 2)
 * The case's directory name says which quirk of OSMO's merge it pins. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/osmo.h"

/* Returns NULL when the case passes, else a description. */
static char *run_case(const char *dir)
{
    wih_err *e = NULL;
    char *bp = wih_path_join(dir, "base.yaml"), *op = wih_path_join(dir, "over.yaml");
    char *xp = wih_path_join(dir, "expect.yaml"), *ep = wih_path_join(dir, "expect-error.txt");
    char *res = NULL;
    wih_ydocs *bd = wih_yaml_load_file(bp, &e), *od = NULL;
    if (!bd || !(od = wih_yaml_load_file(op, &e))) {
        res = wih_asprintf("loading: %s", wih_err_str(e));
        goto out;
    }
    osmo_posmap *pm = osmo_posmap_new();
    osmo_posmap_add_docs(pm, bd);
    osmo_posmap_add_docs(pm, od);
    cJSON *acc = cJSON_Duplicate(wih_ydocs_root(bd, 0), 1);
    osmo_posmap_copy(pm, wih_ydocs_root(bd, 0), acc);
    int rc = 0;
    for (size_t i = 0; i < wih_ydocs_count(od) && !rc; i++) rc = osmo_merge(acc, wih_ydocs_root(od, i), pm, &e);
    FILE *f = fopen(ep, "r");
    if (f) {
        if (!rc) {
            char *got = cJSON_PrintUnformatted(acc);
            res = wih_asprintf("expected an error, merge succeeded: %s", got);
            free(got);
        } else if (e->kind != WIH_EXIT_INPUT) {
            res = wih_asprintf("error kind %d, expected input (2): %s", e->kind, wih_err_str(e));
        } else {
            char line[512];
            while (!res && fgets(line, sizeof line, f)) {
                line[strcspn(line, "\n")] = '\0';
                if (*line && !strstr(wih_err_str(e), line))
                    res = wih_asprintf("error \"%s\" lacks \"%s\"", wih_err_str(e), line);
            }
        }
        fclose(f);
    } else if (rc) {
        res = wih_asprintf("unexpected error: %s", wih_err_str(e));
    } else {
        wih_err *xe = NULL;
        cJSON *want = wih_yaml_load_one(xp, NULL, &xe);
        if (!want) {
            res = wih_asprintf("no expect.yaml/expect-error.txt: %s", wih_err_str(xe));
            wih_err_free(xe);
        } else {
            char *d = wih_json_diff(want, acc);
            if (d) {
                char *got = wih_yaml_emit(acc);
                res = wih_asprintf("%s--- got:\n%s", d, got);
                free(got);
                free(d);
            }
            cJSON_Delete(want);
        }
    }
    cJSON_Delete(acc);
    osmo_posmap_free(pm);
out:
    wih_err_free(e);
    wih_ydocs_free(bd);
    wih_ydocs_free(od);
    free(bp);
    free(op);
    free(xp);
    free(ep);
    return res;
}

static char *merge_case(const char *dir, void *ctx)
{
    (void)ctx;
    return run_case(dir);
}

START_TEST(merge_cases)
{
    wih_cases_run("merge", "osmo/merge", 20, merge_case, NULL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("osmo_merge");
    TCase *tc = tcase_create("data");
    tcase_add_test(tc, merge_cases);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
