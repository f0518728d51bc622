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

/* ------------------------------------------------- throwaway PKI (run time) */
#include "wiharness/cluster.h"

static char *write_or_why(const char *dir, const char *name, const char *pem, mode_t mode)
{
    char *p = wih_path_join(dir, name);
    wih_err *e = NULL;
    char *why = NULL;
    if (wih_write_file(p, pem, strlen(pem), mode, &e) != 0)
        why = wih_asprintf("%s", wih_err_str(e));
    wih_err_free(e);
    free(p);
    return why;
}

char *wih_test_pki(const char *dir)
{
    char *ca = NULL, *ca_key = NULL, *crt = NULL, *key = NULL, *why = NULL;
    cluster_cert_req rca = {.kind = CLUSTER_CERT_CA, .cn = "wiharness-test-ca", .days = 30};
    wih_err *e = cluster_pki_make(&rca, &ca, &ca_key);
    cluster_cert_req rcl = {.kind = CLUSTER_CERT_CLIENT,
                            .cn = "wiharness-test-client",
                            .days = 30,
                            .ca_cert_pem = ca,
                            .ca_key_pem = ca_key};
    if (!e) e = cluster_pki_make(&rcl, &crt, &key);
    if (e)
        why = wih_asprintf("test PKI: %s", wih_err_str(e));
    else if (!(why = write_or_why(dir, "ca.crt", ca, 0644)) &&
             !(why = write_or_why(dir, "client.crt", crt, 0644)))
        why = write_or_why(dir, "client.key", key, 0600);
    wih_err_free(e);
    free(ca);
    free(ca_key);
    free(crt);
    free(key);
    return why;
}

char *wih_test_pki_put(const char *pki, const char *name, const char *dst)
{
    char *src = wih_path_join(pki, name);
    wih_err *e = NULL;
    size_t n = 0;
    char *s = wih_read_file(src, 1 << 16, &n, &e), *why = NULL;
    char *parent = wih_strdup(dst), *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    if (!s)
        why = wih_asprintf("%s", wih_err_str(e));
    else if (slash && wih_mkdir_p(parent, 0755) != 0)
        why = wih_asprintf("cannot create %s: %s", parent, strerror(errno));
    else if (wih_write_file(dst, s, n, 0600, &e) != 0)
        why = wih_asprintf("%s", wih_err_str(e));
    wih_err_free(e);
    free(parent);
    free(s);
    free(src);
    return why;
}

/* base64 of pki/<name> (as kubeconfig *-data holds it), or NULL */
static char *pki_b64(const char *pki, const char *name)
{
    char *p = wih_path_join(pki, name);
    size_t n = 0;
    char *s = wih_read_file(p, 1 << 16, &n, NULL);
    char *b = s ? wih_b64_encode(s, n, 0) : NULL;
    free(s);
    free(p);
    return b;
}

static char *fill_template(const char *path, char *const vals[3])
{
    static const char *const keys[3] = {"@CA_DATA@", "@CLIENT_CERT_DATA@", "@CLIENT_KEY_DATA@"};
    wih_err *e = NULL;
    char *s = wih_read_file(path, 1 << 20, NULL, &e), *why = NULL;
    if (!s) {
        why = wih_asprintf("%s", wih_err_str(e));
        wih_err_free(e);
        return why;
    }
    wih_buf b;
    wih_buf_init(&b, 0);
    wih_buf_adds(&b, "");
    for (const char *c = s; *c;) {
        int k = 0;
        while (k < 3 && strncmp(c, keys[k], strlen(keys[k])))
            k++;
        if (k < 3) {
            wih_buf_adds(&b, vals[k]);
            c += strlen(keys[k]);
        } else
            wih_buf_add(&b, c++, 1);
    }
    if (wih_write_file(path, b.data, b.len, 0600, &e) != 0)
        why = wih_asprintf("%s", wih_err_str(e));
    wih_err_free(e);
    wih_buf_free(&b);
    free(s);
    return why;
}

char *wih_test_fixture_copy(const char *rel, const char *pki, const char *const *templates,
                            char **why)
{
    wih_err *e = NULL;
    char *tmp = wih_tmpdir("wih-fixture", false, &e);
    if (!tmp) {
        *why = wih_asprintf("%s", wih_err_str(e));
        wih_err_free(e);
        return NULL;
    }
    char *src = wih_fixture(rel), *from = wih_path_join(src, "."), *dst = tmp;
    char *argv[] = {"cp", "-R", "-p", from, dst, NULL};
    char *out = NULL, *err = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 60000, &out, &err, &e);
    *why = rc != 0 ? wih_asprintf("cp -R %s: %s%s", src, e ? wih_err_str(e) : "", err ? err : "")
                   : NULL;
    char *vals[3] = {pki_b64(pki, "ca.crt"), pki_b64(pki, "client.crt"),
                     pki_b64(pki, "client.key")};
    if (!*why && !(vals[0] && vals[1] && vals[2])) *why = wih_asprintf("no test PKI in %s", pki);
    for (size_t i = 0; !*why && templates && templates[i]; i++) {
        char *p = wih_path_join(dst, templates[i]);
        *why = fill_template(p, vals);
        free(p);
    }
    for (int i = 0; i < 3; i++)
        free(vals[i]);
    free(out);
    free(err);
    free(src);
    free(from);
    wih_err_free(e);
    if (*why) {
        wih_rm_rf(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}
