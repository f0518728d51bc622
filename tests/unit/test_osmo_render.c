/* Data-driven: fixtures/osmo/render/<case>/
 *   values.yaml|values.json  Helm values (any shape) or database JSON
 *   workflow.yaml            the workflow spec
 *   args                     optional extra CLI arguments, one per line
 *   expect.yaml              the pods (a YAML stream), compared structurally, or
 *   expect-error.txt         lines that must appear in the error; exit code 2
 *   expect-stderr.txt        lines that must appear on stderr (warnings, notes);
 *                            a line "! TEXT" must NOT appear
 * With `--profile PROF` in args the pods go through the mock webhook:
 *   sa.yaml                  passed as --sa (absent: the SA is missing)
 *   webhook-options.yaml     passed as --webhook-options
 *   expect-denied.txt        the webhook denies: lines of its message; exit 1,
 *                            nothing on stdout
 *   expect-env.txt           independent checks of the output pods, one a line:
 *                            "+ CONTAINER VAR" / "- CONTAINER VAR" (env entry
 *                            present / absent in that container or init
 *                            container), "+ volume NAME" / "- volume NAME"
 *                            (NAME ending in '*' is a prefix)
 * Each case runs through the library AND the built binary (json and yaml
 * output), and the binary must print the same bytes twice (determinism). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/osmo.h"

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
        if (!strncmp(l, "! ", 2)) {
            if (strstr(text, l + 2)) res = wih_asprintf("%s has \"%s\", which must not appear:\n%s", what, l + 2, text);
        } else if (*l && !strstr(text, l))
            res = wih_asprintf("%s lacks \"%s\":\n%s", what, l, text);
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

static bool name_match(const char *pat, const char *name)
{
    size_t n = strlen(pat);
    if (n && pat[n - 1] == '*') return !strncmp(pat, name, n - 1);
    return !strcmp(pat, name);
}

static bool named_in(const cJSON *list, const char *pat)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *nm = cJSON_GetObjectItem(it, "name");
        if (cJSON_IsString(nm) && name_match(pat, nm->valuestring)) return true;
    }
    return false;
}

/* expect-env.txt against every pod of the output; NULL or a complaint */
static char *check_env(const char *file, const cJSON *pods)
{
    char *want = slurp(file);
    if (!want) return NULL;
    char *res = NULL, *save = NULL;
    for (char *l = strtok_r(want, "\n", &save); l && !res; l = strtok_r(NULL, "\n", &save)) {
        char sign, a[128], b[128];
        if (sscanf(l, "%c %127s %127s", &sign, a, b) != 3 || (sign != '+' && sign != '-')) {
            res = wih_asprintf("%s: bad line \"%s\"", file, l);
            break;
        }
        const cJSON *pod;
        cJSON_ArrayForEach(pod, pods)
        {
            const cJSON *spec = cJSON_GetObjectItem(pod, "spec");
            bool have;
            if (!strcmp(a, "volume")) {
                have = named_in(cJSON_GetObjectItem(spec, "volumes"), b);
            } else {
                const cJSON *ctr = NULL, *it;
                const char *lists[] = {"containers", "initContainers"};
                for (int k = 0; k < 2 && !ctr; k++)
                    cJSON_ArrayForEach(it, cJSON_GetObjectItem(spec, lists[k]))
                    {
                        const cJSON *nm = cJSON_GetObjectItem(it, "name");
                        if (cJSON_IsString(nm) && !strcmp(nm->valuestring, a)) ctr = it;
                    }
                if (!ctr) {
                    res = wih_asprintf("expect-env: no container %s in the output pod", a);
                    break;
                }
                have = named_in(cJSON_GetObjectItem(ctr, "env"), b);
            }
            if (have != (sign == '+')) {
                res = wih_asprintf("expect-env: \"%s\" does not hold", l);
                break;
            }
        }
    }
    free(want);
    return res;
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
    char *dp = wih_path_join(dir, "expect-denied.txt"), *envp = wih_path_join(dir, "expect-env.txt");
    char *sap = wih_path_join(dir, "sa.yaml"), *wop = wih_path_join(dir, "webhook-options.yaml");
    bool want_err = access(ep, R_OK) == 0, want_deny = access(dp, R_OK) == 0;
    char *a[9] = {0};
    char *argtext = slurp(ap);
    int na = 0;
    char *save = NULL;
    for (char *t = argtext ? strtok_r(argtext, "\n", &save) : NULL; t && na < 4; t = strtok_r(NULL, "\n", &save))
        if (*t) a[na++] = t;
    osmo_render_opts ro = {0};
    osmo_mode mode = OSMO_MODE_AUTO;
    const char *profile = NULL;
    for (int i = 0; i + 1 < na; i += 2) {
        if (!strcmp(a[i], "--platform")) ro.platform = a[i + 1];
        if (!strcmp(a[i], "--mode")) mode = !strcmp(a[i + 1], "database") ? OSMO_MODE_DATABASE : OSMO_MODE_CONFIGMAP;
        if (!strcmp(a[i], "--profile")) profile = a[i + 1];
    }
    bool has_sa = profile && !access(sap, R_OK), has_wo = profile && !access(wop, R_OK);
    if (has_sa) a[na++] = "--sa", a[na++] = sap;
    if (has_wo) a[na++] = "--webhook-options", a[na++] = wop;
    char *why = NULL;
    cJSON *want = want_err || want_deny ? NULL : load_stream(xp, &why);
    if (!want_err && !want_deny && !want) {
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
        if (pods && profile) {
            /* the mock webhook over the pods, as the CLI does */
            webhook_profile p;
            ck_assert_msg(webhook_profile_parse(profile, &p) == 0, "args: unknown profile %s", profile);
            webhook_opts wo;
            webhook_opts_defaults(&wo);
            wih_ydocs *sd = NULL;
            cJSON *sa = has_sa ? wih_yaml_load_one(sap, &sd, &e) : NULL;
            ck_assert_msg(!has_sa || sa, "sa.yaml: %s", wih_err_str(e));
            ck_assert_msg(!has_wo || webhook_opts_load(&wo, p, wop, &e) == 0, "options: %s", wih_err_str(e));
            char *denial = NULL;
            int ar = osmo_admit_pods(pods, p, sa, &wo, NULL, &denial, &e);
            if (want_deny) {
                if (ar != 1)
                    res = wih_asprintf("library: expected a denial, osmo_admit_pods returned %d", ar);
                else
                    res = need_lines(dp, denial, "library denial");
            } else if (ar != 0) {
                res = wih_asprintf("library: admission returned %d: %s", ar,
                                   ar == 1 ? denial : wih_err_str(e));
            } else {
                res = compare(want, pods, "library output");
                if (!res) res = check_env(envp, pods);
            }
            free(denial);
            webhook_opts_free(&wo);
            wih_ydocs_free(sd);
        } else if (want_deny) {
            res = wih_asprintf("library: expected a denial: %s", pods ? "no --profile in args" : wih_err_str(e));
        } else if (want_err) {
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
                              a[2], a[3], a[4], a[5], a[6], a[7], NULL);
        if (want_deny) {
            if (rc != WIH_EXIT_FAIL)
                res = wih_asprintf("cli: exit %d, expected 1 (denied); stderr:\n%s", rc, err);
            else if (out && *out)
                res = wih_asprintf("cli: a denial printed on stdout:\n%.2000s", out);
            else
                res = need_lines(dp, err, "cli stderr");
        } else if (want_err) {
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
            if (got && !res) res = check_env(envp, got);
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
    free(dp);
    free(envp);
    free(sap);
    free(wop);
    return res;
}

static char *render_case(const char *dir, void *ctx)
{
    (void)ctx;
    return run_case(dir);
}

START_TEST(render_cases)
{
    wih_cases_run("render", "osmo/render", 8, render_case, NULL);
}
END_TEST

/* --profile's own bad input: exit 2, a clear message, nothing on stdout */
START_TEST(render_profile_bad_input)
{
    char *d = wih_fixture("osmo/render/webhook-aws-guide");
    char *v = wih_path_join(d, "values.yaml"), *w = wih_path_join(d, "workflow.yaml"), *sa = wih_path_join(d, "sa.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "render", "--values", v, "--workflow", w, "--profile", "aws-irs", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "--profile must be aws-irsa, azure-wi or gcp-fleet, not 'aws-irs'"), "%s", err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "render", "--values", v, "--workflow", w, "--sa", sa, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "need --profile"), "%s", err);
    free(out);
    free(err);
    char *tmp = wih_tmpdir("wih-render-opts", false, NULL);
    /* --sa names an object of another kind: file:line:col */
    char *pp = wih_path_join(tmp, "pod.yaml");
    FILE *f = fopen(pp, "w");
    ck_assert_ptr_nonnull(f);
    fputs("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n", f);
    fclose(f);
    rc = wih_test_cli(&out, &err, NULL, "render", "--values", v, "--workflow", w, "--profile", "aws-irsa", "--sa", pp,
                      NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "pod.yaml:2:7") && strstr(err, "expected kind: ServiceAccount"), "%s", err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    free(pp);
    /* an options key the profile does not have */
    char *op = wih_path_join(tmp, "opts.yaml");
    f = fopen(op, "w");
    ck_assert_ptr_nonnull(f);
    fputs("aws-irsa:\n  tokenAudiense: x\n", f);
    fclose(f);
    rc = wih_test_cli(&out, &err, NULL, "render", "--values", v, "--workflow", w, "--profile", "aws-irsa",
                      "--webhook-options", op, NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "opts.yaml:2:") && strstr(err, "tokenAudience"), "%s", err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    free(op);
    wih_rm_rf(tmp); /* Check ends a forked test with _exit: no atexit cleanup */
    free(tmp);
    free(v);
    free(w);
    free(sa);
    free(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("osmo_render");
    TCase *tc = tcase_create("data");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, render_cases);
    tcase_add_test(tc, render_profile_bad_input);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
