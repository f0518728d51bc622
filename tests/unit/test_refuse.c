/* Bad input is refused (issue 13 findings 4 and 9): data cases run through the built
 * binary, fixtures/refuse/<case>/
 *   args              the command line, one argument a line; "$CASE" becomes the case's
 *                     directory, "$TMP" a fresh empty directory (removed afterwards),
 *                     "$PKI" a directory with a CA, client certificate and key made at
 *                     run time (ca.crt client.crt client.key: keys are never committed),
 *                     "\\n" a newline inside the argument
 *   <name>.in         optional: expanded as above and written to $TMP/<name> (e.g. a
 *                     kubeconfig naming $PKI/client.crt)
 *   stdin             optional: fed to the command
 *   expect-exit       the exit code (2 for bad input)
 *   expect-stderr.txt lines that must appear on stderr ("$CASE" expanded as above);
 *                     a line "! TEXT" must NOT appear
 *   expect-stdout.txt optional, the same for stdout
 * Every case also runs under ci/valgrind (the binary is traced). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char *g_pki; /* wih_test_pki's files, made once in main */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *slurp(const char *dir, const char *name)
{
    char *p = wih_path_join(dir, name);
    char *s = wih_read_file(p, 1 << 20, NULL, NULL);
    free(p);
    return s;
}

/* s with every "$CASE" / "$TMP" replaced (a new string) */
static char *expand(const char *s, const char *cdir, const char *tmp)
{
    wih_buf b;
    wih_buf_init(&b, 0);
    wih_buf_adds(&b, "");
    while (*s) {
        if (!strncmp(s, "$CASE", 5)) {
            wih_buf_adds(&b, cdir);
            s += 5;
        } else if (!strncmp(s, "$PKI", 4)) {
            wih_buf_adds(&b, g_pki);
            s += 4;
        } else if (!strncmp(s, "$TMP", 4)) {
            wih_buf_adds(&b, tmp);
            s += 4;
        } else if (!strncmp(s, "\\n", 2)) {
            wih_buf_adds(&b, "\n");
            s += 2;
        } else
            wih_buf_add(&b, s++, 1);
    }
    return wih_buf_take(&b);
}

/* every line of want (expanded) in got, no "! X" line in it; else a description */
static void check_lines(wih_buf *why, const char *what, const char *want, const char *got, const char *cdir,
                        const char *tmp)
{
    if (!want) return;
    char *w = wih_strdup(want), *save = NULL;
    for (char *line = strtok_r(w, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        bool neg = !strncmp(line, "! ", 2);
        char *x = expand(neg ? line + 2 : line, cdir, tmp);
        bool has = strstr(got, x) != NULL;
        if (has == neg) wih_buf_addf(why, "  %s %s \"%s\"\n", what, neg ? "must not contain" : "lacks", x);
        free(x);
    }
    free(w);
}

/* every <name>.in of the case, expanded, as $TMP/<name> */
static void write_templates(const char *cdir, const char *tmp)
{
    DIR *d = opendir(cdir);
    ck_assert_msg(d, "cannot open %s", cdir);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 3, ".in")) continue;
        char *in = slurp(cdir, de->d_name);
        ck_assert_msg(in, "%s/%s unreadable", cdir, de->d_name);
        char *x = expand(in, cdir, tmp), *name = wih_strdup(de->d_name);
        name[n - 3] = '\0';
        char *p = wih_path_join(tmp, name);
        wih_err *e = NULL;
        ck_assert_msg(wih_write_file(p, x, strlen(x), 0600, &e) == 0, "%s", wih_err_str(e));
        free(p);
        free(name);
        free(x);
        free(in);
    }
    closedir(d);
}

static char *run_case(const char *cdir)
{
    wih_err *e = NULL;
    char *tmp = wih_tmpdir("wih-refuse", true, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    write_templates(cdir, tmp);
    char *args = slurp(cdir, "args"), *in = slurp(cdir, "stdin"), *exit_s = slurp(cdir, "expect-exit"),
         *want_err = slurp(cdir, "expect-stderr.txt"), *want_out = slurp(cdir, "expect-stdout.txt");
    ck_assert_msg(args && exit_s, "%s: needs args and expect-exit", cdir);
    char *argv[64];
    int n = 0;
    argv[n++] = wih_strdup(WIH_BINARY);
    char *save = NULL;
    for (char *a = strtok_r(args, "\n", &save); a && n < 63; a = strtok_r(NULL, "\n", &save))
        argv[n++] = expand(a, cdir, tmp);
    argv[n] = NULL;
    char *env[] = {"NO_COLOR=1", NULL};
    char *out = NULL, *err = NULL;
    int rc = wih_run_capture(argv, env, in, 120000, &out, &err, &e);
    wih_buf why;
    wih_buf_init(&why, 0);
    if (rc < 0) wih_buf_addf(&why, "  could not run: %s\n", wih_err_str(e));
    int want = atoi(exit_s);
    if (rc != want) wih_buf_addf(&why, "  exit %d, want %d\n", rc, want);
    check_lines(&why, "stderr", want_err, err ? err : "", cdir, tmp);
    check_lines(&why, "stdout", want_out, out ? out : "", cdir, tmp);
    if (why.len) wih_buf_addf(&why, "  --- stderr:\n%s  --- stdout:\n%.2000s\n", err ? err : "", out ? out : "");
    for (int i = 0; i < n; i++) free(argv[i]);
    wih_rm_rf(tmp);
    free(tmp);
    free(args);
    free(in);
    free(exit_s);
    free(want_err);
    free(want_out);
    free(out);
    free(err);
    wih_err_free(e);
    return why.len ? wih_buf_take(&why) : (wih_buf_free(&why), NULL);
}

START_TEST(refuse_cases)
{
    char *root = wih_fixture("refuse");
    DIR *d = opendir(root);
    ck_assert_msg(d, "no fixtures at %s", root);
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256)
        if (de->d_name[0] != '.') names[n++] = wih_strdup(de->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    int failed = 0;
    wih_buf fails;
    wih_buf_init(&fails, 1 << 20);
    for (size_t i = 0; i < n; i++) {
        char *cdir = wih_path_join(root, names[i]);
        char *r = run_case(cdir);
        printf("%s refuse/%s\n%s", r ? "FAIL" : "ok  ", names[i], r ? r : "");
        if (r) {
            wih_buf_addf(&fails, "\nFAIL refuse/%s:\n%s", names[i], r);
            failed++;
        }
        free(r);
        free(cdir);
        free(names[i]);
    }
    free(root);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d of %zu refuse case(s) failed:%.3000s", failed, n, fails.data ? fails.data : "");
    wih_buf_free(&fails);
}
END_TEST

int main(void)
{
    wih_err *e = NULL;
    g_pki = wih_tmpdir("wih-refuse-pki", false, &e);
    char *why = g_pki ? wih_test_pki(g_pki) : wih_strdup(wih_err_str(e));
    wih_err_free(e);
    if (why) { /* a broken setup fails (exit 3), it is never a skip */
        fprintf(stderr, "test_refuse: setup: %s\n", why);
        free(why);
        return WIH_EXIT_INFRA;
    }
    Suite *s = suite_create("refuse");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, refuse_cases);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    wih_rm_rf(g_pki);
    free(g_pki);
    return rc;
}
