/* Data-driven: fixtures/osmo/render/<case>/
 *   values.yaml|values.json  Helm values (any shape) or database JSON
 *   workflow.yaml            the workflow spec
 *   args                     optional extra CLI arguments, one per line
 *   expect.yaml              the pods (a YAML stream), compared structurally, or
 *   expect-error.txt         lines that must appear in the error; exit code 2
 *   expect-stderr.txt        lines that must appear on stderr (warnings)
 * Each case runs through the library AND the built binary (json and yaml
 * output), and the binary must print the same bytes twice (determinism). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/osmo.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *path)
{
    wih_err *e = NULL;
    char *s = wih_read_file(path, 1 << 20, NULL, &e);
    wih_err_free(e);
    return s;
}

/* every non-empty line of file must occur in text; NULL or a complaint */
static char *need_lines(const char *file, const char *text, const char *what)
{
    char *want = slurp(file);
    if (!want) return NULL;
    char *res = NULL, *save = NULL;
    for (char *l = strtok_r(want, "\n", &save); l && !res; l = strtok_r(NULL, "\n", &save))
        if (*l && !strstr(text, l)) res = wih_asprintf("%s lacks \"%s\":\n%s", what, l, text);
    free(want);
    return res;
}

static cJSON *load_stream(const char *path, char **why)
{
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_file(path, &e);
    if (!d) {
        *why = wih_asprintf("%s", wih_err_str(e));
        wih_err_free(e);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < wih_ydocs_count(d); i++)
        if (!cJSON_IsNull(wih_ydocs_root(d, i))) cJSON_AddItemToArray(arr, cJSON_Duplicate(wih_ydocs_root(d, i), 1));
    wih_ydocs_free(d);
    return arr;
}

static cJSON *parse_yaml_text(const char *text, char **why)
{
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("<stdout>", text, strlen(text), &e);
    if (!d) {
        *why = wih_asprintf("%s", wih_err_str(e));
        wih_err_free(e);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < wih_ydocs_count(d); i++)
        if (!cJSON_IsNull(wih_ydocs_root(d, i))) cJSON_AddItemToArray(arr, cJSON_Duplicate(wih_ydocs_root(d, i), 1));
    wih_ydocs_free(d);
    return arr;
}

static char *compare(const cJSON *want, const cJSON *got, const char *what)
{
    char *d = wih_json_diff(want, got);
    if (!d) return NULL;
    char *r = wih_asprintf("%s differs:\n%.4000s", what, d);
    free(d);
    return r;
}

static char *run_case(const char *dir)
{
    char *res = NULL;
    char *vp = wih_path_join(dir, "values.yaml");
    if (access(vp, R_OK)) {
        free(vp);
        vp = wih_path_join(dir, "values.json");
    }
    char *wp = wih_path_join(dir, "workflow.yaml"), *ap = wih_path_join(dir, "args");
    char *xp = wih_path_join(dir, "expect.yaml"), *ep = wih_path_join(dir, "expect-error.txt");
    char *sp = wih_path_join(dir, "expect-stderr.txt");
    bool want_err = access(ep, R_OK) == 0;
    char *a[5] = {0};
    char *argtext = slurp(ap);
    int na = 0;
    char *save = NULL;
    for (char *t = argtext ? strtok_r(argtext, "\n", &save) : NULL; t && na < 4; t = strtok_r(NULL, "\n", &save))
        if (*t) a[na++] = t;
    osmo_render_opts ro = {0};
    osmo_mode mode = OSMO_MODE_AUTO;
    for (int i = 0; i + 1 < na; i += 2) {
        if (!strcmp(a[i], "--platform")) ro.platform = a[i + 1];
        if (!strcmp(a[i], "--mode")) mode = !strcmp(a[i + 1], "database") ? OSMO_MODE_DATABASE : OSMO_MODE_CONFIGMAP;
    }
    char *why = NULL;
    cJSON *want = want_err ? NULL : load_stream(xp, &why);
    if (!want_err && !want) {
        res = wih_asprintf("expect.yaml: %s", why);
        goto out;
    }

    /* 1. the library */
    {
        wih_err *e = NULL;
        osmo_config *c = osmo_config_load_file(vp, mode, &e);
        wih_ydocs *wd = NULL;
        cJSON *wf = c ? wih_yaml_load_one(wp, &wd, &e) : NULL;
        cJSON *pods = wf ? osmo_render(c, wf, wd, &ro, &e) : NULL;
        if (want_err) {
            if (pods)
                res = wih_strdup("library: expected an error, render succeeded");
            else if (e->kind != WIH_EXIT_INPUT)
                res = wih_asprintf("library: error kind %d: %s", e->kind, wih_err_str(e));
            else
                res = need_lines(ep, wih_err_str(e), "library error");
        } else if (!pods) {
            res = wih_asprintf("library: %s", wih_err_str(e));
        } else {
            res = compare(want, pods, "library output");
        }
        cJSON_Delete(pods);
        wih_ydocs_free(wd);
        osmo_config_free(c);
        wih_err_free(e);
        if (res) goto out;
    }

    /* 2. the binary, json then yaml, yaml twice */
    for (int pass = 0; pass < 3 && !res; pass++) {
        char *out = NULL, *err = NULL;
        const char *fmt = pass == 0 ? "json" : "yaml";
        int rc = wih_test_cli(&out, &err, NULL, "render", "-o", fmt, "--values", vp, "--workflow", wp, a[0], a[1],
                              a[2], a[3], NULL);
        if (want_err) {
            if (rc != WIH_EXIT_INPUT)
                res = wih_asprintf("cli: exit %d, expected 2; stderr:\n%s", rc, err);
            else
                res = need_lines(ep, err, "cli stderr");
        } else if (rc != 0) {
            res = wih_asprintf("cli: exit %d; stderr:\n%s", rc, err);
        } else {
            if (!access(sp, R_OK)) res = need_lines(sp, err, "cli stderr");
            cJSON *got = NULL;
            if (!res) {
                if (pass == 0) {
                    wih_err *e = NULL;
                    got = wih_json_parse("<stdout>", out, &e);
                    if (!got) res = wih_asprintf("cli json: %s", wih_err_str(e));
                    wih_err_free(e);
                } else {
                    got = parse_yaml_text(out, &why);
                    if (!got) res = wih_asprintf("cli yaml: %s", why);
                }
            }
            if (got && !res) res = compare(want, got, pass == 0 ? "cli json" : "cli yaml");
            cJSON_Delete(got);
            if (!res && pass == 2) {
                char *expect_text = slurp(xp);
                if (!expect_text || strcmp(expect_text, out))
                    res = wih_strdup("cli yaml: not byte-identical to expect.yaml (render must be deterministic)");
                free(expect_text);
            }
        }
        free(out);
        free(err);
    }
out:
    free(why);
    cJSON_Delete(want);
    free(argtext);
    free(vp);
    free(wp);
    free(ap);
    free(xp);
    free(ep);
    free(sp);
    return res;
}

START_TEST(render_cases)
{
    char *root = wih_fixture("osmo/render");
    DIR *d = opendir(root);
    ck_assert_msg(d, "no fixtures at %s", root);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.') names[n++] = wih_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    ck_assert_msg(n >= 8, "only %zu render cases (need >= 8)", n);
    int failed = 0;
    wih_buf fails;
    wih_buf_init(&fails, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        char *dir = wih_path_join(root, names[i]);
        char *r = run_case(dir);
        if (r) {
            printf("FAIL render/%s:\n%s\n", names[i], r);
            wih_buf_addf(&fails, "\nFAIL render/%s:\n%s", names[i], r);
            failed++;
        } else
            printf("ok   render/%s\n", names[i]);
        free(r);
        free(dir);
        free(names[i]);
    }
    free(root);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d render case(s) failed:%s", failed, fails.data ? fails.data : "");
    wih_buf_free(&fails);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("osmo_render");
    TCase *tc = tcase_create("data");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, render_cases);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
