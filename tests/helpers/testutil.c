#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int wih_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

void wih_test_skip(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "SKIPPED: ");
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    exit(77);
}

char *wih_fixture(const char *rel)
{
    return wih_asprintf("%s/fixtures/%s", WIH_SOURCE_DIR, rel);
}

int wih_test_cli(char **out, char **err, const char *stdin_data, ...)
{
    char *argv[64];
    int n = 0;
    argv[n++] = (char *)WIH_BINARY;
    va_list ap;
    va_start(ap, stdin_data);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 63) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    char *env[] = {"NO_COLOR=1", NULL};
    wih_err *e = NULL;
    char *o = NULL, *er = NULL;
    int rc = wih_run_capture(argv, env, stdin_data, 120000, &o, &er, &e);
    if (rc < 0) {
        fprintf(stderr, "%s\n", wih_err_str(e));
        wih_err_free(e);
    }
    if (out)
        *out = o ? o : wih_strdup("");
    else
        free(o);
    if (err)
        *err = er ? er : wih_strdup("");
    else
        free(er);
    return rc;
}

/* wih_json_diff lives in the library now (include/wiharness/jsonpath.h). */

/* ---------------------------------------------------- the fixture-case driver */
static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dir(const char *root, const char *name)
{
    char *p = wih_path_join(root, name);
    struct stat st;
    bool ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    return ok;
}

char *wih_cases_list(const char *rel, size_t min, wih_cases *out)
{
    memset(out, 0, sizeof *out);
    out->root = rel[0] == '/' ? wih_strdup(rel) : wih_fixture(rel);
    DIR *d = opendir(out->root);
    if (!d) return wih_asprintf("no fixture cases: cannot open %s: %s", out->root, strerror(errno));
    struct dirent *de;
    bool too_many = false;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || !is_dir(out->root, de->d_name)) continue;
        if (out->n == WIH_CASES_MAX) {
            too_many = true;
            break;
        }
        out->names = wih_xrealloc(out->names, (out->n + 1) * sizeof *out->names);
        out->names[out->n++] = wih_strdup(de->d_name);
    }
    closedir(d);
    if (out->n) qsort(out->names, out->n, sizeof *out->names, cmp_names);
    if (too_many)
        return wih_asprintf("%s holds more than %d cases, more than the driver runs", out->root, WIH_CASES_MAX);
    if (out->n == 0) return wih_asprintf("%s holds no cases", out->root);
    if (out->n < min) return wih_asprintf("%s holds only %zu cases (need >= %zu)", out->root, out->n, min);
    return NULL;
}

void wih_cases_free(wih_cases *c)
{
    for (size_t i = 0; i < c->n; i++) free(c->names[i]);
    free(c->names);
    free(c->root);
    memset(c, 0, sizeof *c);
}

size_t wih_cases_run(const char *label, const char *rel, size_t min, wih_case_fn fn, void *ctx)
{
    wih_cases cs;
    char *why = wih_cases_list(rel, min, &cs);
    if (why) {
        wih_cases_free(&cs);
        ck_abort_msg("%s: %s", label, why);
    }
    wih_buf fails;
    wih_buf_init(&fails, 1 << 20);
    int failed = 0;
    for (size_t i = 0; i < cs.n; i++) {
        char *dir = wih_path_join(cs.root, cs.names[i]);
        char *r = fn(dir, ctx);
        if (r) {
            printf("FAIL %s/%s:\n%s\n", label, cs.names[i], r);
            wih_buf_addf(&fails, "\nFAIL %s/%s:\n%s", label, cs.names[i], r);
            failed++;
        } else {
            printf("ok   %s/%s\n", label, cs.names[i]);
        }
        free(r);
        free(dir);
    }
    size_t n = cs.n;
    wih_cases_free(&cs);
    fflush(stdout);
    ck_assert_msg(failed == 0, "%d %s case(s) of %zu failed:%s", failed, label, n, fails.data ? fails.data : "");
    wih_buf_free(&fails);
    return n;
}
