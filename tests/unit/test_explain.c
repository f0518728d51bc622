/* Data-driven: fixtures/diagnosis/explain/<case>/
 *   values.yaml  the Helm values the team would deploy
 *   sa.yaml      their ServiceAccount manifest(s)
 *   workflow.yaml (optional) an OSMO workflow spec, passed as --workflow
 *   args         extra `wiharness explain` arguments (whitespace-separated, may be empty)
 *   expect.json  {"exit": 0|1|2,
 *                 "findings": [{"id", "where", "cause_contains"?}],   exactly these, in order
 *                 "stderr": "<substring of the error>"}               (exit 2)
 * `where` is compared with the case directory prefix removed. Each case runs the
 * built binary: `explain --values … --sa … <args> --output json`. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove every "<dir>/" from s (in place). */
static void strip_dir(char *s, const char *dir)
{
    char *pre = wih_asprintf("%s/", dir);
    size_t n = strlen(pre);
    char *p;
    while ((p = strstr(s, pre))) memmove(p, p + n, strlen(p + n) + 1);
    free(pre);
}

static char *check_findings(const cJSON *want, const cJSON *got, const char *dir)
{
    if (cJSON_GetArraySize(want) != cJSON_GetArraySize(got)) {
        char *g = cJSON_PrintUnformatted(got);
        strip_dir(g, dir);
        char *r = wih_asprintf("%d finding(s) expected, got %d: %s", cJSON_GetArraySize(want), cJSON_GetArraySize(got), g);
        free(g);
        return r;
    }
    for (int i = 0; i < cJSON_GetArraySize(want); i++) {
        const cJSON *w = cJSON_GetArrayItem(want, i), *g = cJSON_GetArrayItem(got, i);
        const char *keys[] = {"id", "cause", "fix", "where"};
        for (int k = 0; k < 4; k++) {
            const cJSON *v = cJSON_GetObjectItem(g, keys[k]);
            if (!cJSON_IsString(v) || !*v->valuestring) return wih_asprintf("finding %d has no %s", i, keys[k]);
        }
        const char *id = cJSON_GetObjectItem(g, "id")->valuestring;
        char *where = wih_strdup(cJSON_GetObjectItem(g, "where")->valuestring);
        strip_dir(where, dir);
        const char *wid = cJSON_GetObjectItem(w, "id")->valuestring, *wwh = cJSON_GetObjectItem(w, "where")->valuestring;
        char *r = NULL;
        if (strcmp(id, wid) || strcmp(where, wwh))
            r = wih_asprintf("finding %d: expected %s at %s, got %s at %s", i, wid, wwh, id, where);
        const cJSON *cc = cJSON_GetObjectItem(w, "cause_contains");
        if (!r && cc && !strstr(cJSON_GetObjectItem(g, "cause")->valuestring, cc->valuestring))
            r = wih_asprintf("finding %d (%s): cause \"%s\" lacks \"%s\"", i, id,
                             cJSON_GetObjectItem(g, "cause")->valuestring, cc->valuestring);
        free(where);
        if (r) return r;
    }
    return NULL;
}

/* Returns NULL when the case passes, else a description. */
static char *run_case(const char *dir)
{
    wih_err *e = NULL;
    char *ap = wih_path_join(dir, "args"), *xp = wih_path_join(dir, "expect.json");
    char *vp = wih_path_join(dir, "values.yaml"), *sp = wih_path_join(dir, "sa.yaml");
    char *wp = wih_path_join(dir, "workflow.yaml");
    char *args = wih_read_file(ap, 4096, NULL, &e), *xs = args ? wih_read_file(xp, 1 << 20, NULL, &e) : NULL;
    char *res = NULL, *out = NULL, *errout = NULL;
    cJSON *want = NULL, *got = NULL;
    if (!xs) {
        res = wih_asprintf("reading the case: %s", wih_err_str(e));
        goto done;
    }
    want = cJSON_Parse(xs);
    if (!want) {
        res = wih_strdup("expect.json is not JSON");
        goto done;
    }
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)WIH_BINARY;
    argv[n++] = "explain";
    argv[n++] = "--values";
    argv[n++] = vp;
    argv[n++] = "--sa";
    argv[n++] = sp;
    if (access(wp, R_OK) == 0) {
        argv[n++] = "--workflow";
        argv[n++] = wp;
    }
    char *save = NULL;
    for (char *t = strtok_r(args, " \t\n", &save); t && n < 36; t = strtok_r(NULL, " \t\n", &save)) argv[n++] = t;
    argv[n++] = "--output";
    argv[n++] = "json";
    argv[n] = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 30000, &out, &errout, &e);
    int wexit = cJSON_GetObjectItem(want, "exit")->valueint;
    if (rc != wexit) {
        res = wih_asprintf("exit %d, expected %d; stdout: %s; stderr: %s", rc, wexit, out ? out : "",
                           errout ? errout : "");
        goto done;
    }
    if (rc == 2) {
        strip_dir(errout, dir);
        const char *ws = cJSON_GetObjectItem(want, "stderr")->valuestring;
        if (!strstr(errout, ws)) res = wih_asprintf("stderr \"%s\" lacks \"%s\"", errout, ws);
        if (!res && out && *out) res = wih_asprintf("exit 2 but stdout is not empty: %s", out);
        goto done;
    }
    got = cJSON_Parse(out);
    const cJSON *gf = cJSON_GetObjectItem(got, "findings");
    if (!cJSON_IsArray(gf)) {
        res = wih_asprintf("stdout is not {\"findings\": [...]}: %s", out);
        goto done;
    }
    if ((rc == 0) != (cJSON_GetArraySize(gf) == 0)) res = wih_asprintf("exit %d with %d finding(s)", rc, cJSON_GetArraySize(gf));
    if (!res) res = check_findings(cJSON_GetObjectItem(want, "findings"), gf, dir);
done:
    wih_err_free(e);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(out);
    free(errout);
    free(args);
    free(xs);
    free(ap);
    free(xp);
    free(vp);
    free(sp);
    free(wp);
    return res;
}

START_TEST(explain_cases)
{
    char *root = wih_fixture("diagnosis/explain");
    DIR *d = opendir(root);
    ck_assert_msg(d, "no fixtures at %s", root);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.') names[n++] = wih_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    ck_assert_msg(n >= 20, "only %zu explain cases (need >= 20)", n);
    int failed = 0, clean = 0, broken = 0;
    wih_buf fails;
    wih_buf_init(&fails, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        char *dir = wih_path_join(root, names[i]);
        char *r = run_case(dir);
        if (r) {
            printf("FAIL explain/%s:\n%s\n", names[i], r);
            wih_buf_addf(&fails, "\nFAIL explain/%s:\n%s", names[i], r);
            failed++;
        } else
            printf("ok   explain/%s\n", names[i]);
        clean += strstr(names[i], "clean") != NULL;
        broken += strstr(names[i], "clean") == NULL;
        free(r);
        free(dir);
        free(names[i]);
    }
    free(root);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d explain case(s) failed:%s", failed, fails.data ? fails.data : "");
    ck_assert_msg(clean >= 3 && broken >= 17, "need clean and broken cases (%d clean, %d broken)", clean, broken);
    wih_buf_free(&fails);
}
END_TEST

/* The issue's own acceptance: the guide's configuration is clean for AWS and
 * flagged azure-use-label-missing for Azure (text output, exit codes). */
static int explain_text(const char *c, const char *profile, char **out)
{
    char *dir = wih_fixture(c);
    char *vp = wih_path_join(dir, "values.yaml"), *sp = wih_path_join(dir, "sa.yaml");
    char *argv[] = {(char *)WIH_BINARY, "explain", "--values", vp, "--sa", sp, "--profile", (char *)profile, NULL};
    char *err = NULL;
    wih_err *e = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 30000, out, &err, &e);
    wih_err_free(e);
    free(err);
    free(vp);
    free(sp);
    free(dir);
    return rc;
}

START_TEST(guide_configuration)
{
    char *out = NULL;
    ck_assert_int_eq(explain_text("diagnosis/explain/guide-aws-clean", "aws-irsa", &out), 0);
    ck_assert_msg(strstr(out, "no known misconfiguration"), "%s", out);
    free(out);
    ck_assert_int_eq(explain_text("diagnosis/explain/guide-azure-literal", "azure-wi", &out), 1);
    ck_assert_msg(strstr(out, "[azure-use-label-missing]") && strstr(out, "azure.workload.identity/use: \"true\""), "%s",
                  out);
    free(out);
}
END_TEST

/* The harness's own generators agree with explain: `gen sa` + `gen values` for
 * each profile is clean; the guide-exact values (no enabled flag) are not. */
static int run_bin(char **argv, char **out)
{
    char *err = NULL;
    wih_err *e = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 30000, out, &err, &e);
    if (rc < 0) fprintf(stderr, "%s\n", wih_err_str(e));
    wih_err_free(e);
    free(err);
    return rc;
}

static void write_out(const char *path, char **argv)
{
    char *out = NULL;
    ck_assert_int_eq(run_bin(argv, &out), 0);
    wih_err *e = NULL;
    ck_assert_msg(wih_write_file(path, out, strlen(out), 0600, &e) == 0, "%s", e ? wih_err_str(e) : "");
    free(out);
}

START_TEST(generators_agree)
{
    static const char *const prof[][3] = {{"aws-irsa", "--role-arn", "arn:aws:iam::123456789012:role/team-buckets"},
                                          {"azure-wi", "--client-id", "0b7c5f0e-3c1d-4b8a-9f2e-6a1d2c3b4e5f"},
                                          {"gcp-fleet", "--gcp-service-account", "team@my-project.iam.gserviceaccount.com"}};
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-explain-", true, &e);
    ck_assert_msg(dir, "%s", e ? wih_err_str(e) : "");
    char *sa = wih_path_join(dir, "sa.yaml"), *vals = wih_path_join(dir, "values.yaml");
    for (int i = 0; i < 3; i++) {
        char *gsa[] = {(char *)WIH_BINARY, "gen", "sa", "--profile", (char *)prof[i][0], "--name", "osmo-workflow",
                       "--namespace", "osmo-workflows", (char *)prof[i][1], (char *)prof[i][2], NULL};
        write_out(sa, gsa);
        for (int exact = 0; exact < 2; exact++) {
            char *gv[] = {(char *)WIH_BINARY, "gen", "values", "--template", "workflow_workload_identity",
                          "--service-account", "osmo-workflow", "--profile", (char *)prof[i][0],
                          exact ? "--guide-exact" : NULL, NULL};
            write_out(vals, gv);
            char *ex[] = {(char *)WIH_BINARY, "explain", "--values", vals, "--sa", sa, "--output", "json", NULL};
            char *out = NULL;
            int rc = run_bin(ex, &out);
            ck_assert_msg(rc == exact, "%s%s: explain exit %d: %s", prof[i][0], exact ? " --guide-exact" : "", rc, out);
            if (exact) ck_assert_msg(strstr(out, "\"configs-disabled\""), "%s", out);
            free(out);
        }
    }
    unlink(sa);
    unlink(vals);
    rmdir(dir);
    free(sa);
    free(vals);
    free(dir);
}
END_TEST

/* Usage errors: exit 2 with a message on stderr, nothing on stdout. */
START_TEST(usage_errors)
{
    char *sa = wih_fixture("diagnosis/explain/guide-aws-clean/sa.yaml");
    struct {
        const char *a[4];
        const char *err;
    } cases[] = {
        {{NULL}, "give --values FILE and/or --sa FILE"},
        {{"--sa", sa, "--output", "yaml"}, "--output must be text or json"},
        {{"--sa", "/nonexistent/sa.yaml"}, "/nonexistent/sa.yaml"},
        {{"--sa", sa, "--profile", "aws"}, "--profile must be aws-irsa, azure-wi, gcp-fleet or gcp-pfnet, not 'aws'"},
        {{"--vales", "x"}, "did you mean '--values'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *argv[8] = {(char *)WIH_BINARY, "explain"};
        int n = 2;
        for (int k = 0; k < 4 && cases[i].a[k]; k++) argv[n++] = (char *)cases[i].a[k];
        argv[n] = NULL;
        char *out = NULL, *err = NULL;
        wih_err *e = NULL;
        int rc = wih_run_capture(argv, NULL, NULL, 30000, &out, &err, &e);
        ck_assert_msg(rc == 2, "case %zu: exit %d", i, rc);
        ck_assert_msg(strstr(err, cases[i].err), "case %zu: stderr \"%s\" lacks \"%s\"", i, err, cases[i].err);
        ck_assert_msg(!out || !*out, "case %zu: stdout not empty: %s", i, out);
        wih_err_free(e);
        free(out);
        free(err);
    }
    free(sa);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("data");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, explain_cases);
    tcase_add_test(tc, guide_configuration);
    tcase_add_test(tc, generators_agree);
    tcase_add_test(tc, usage_errors);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
