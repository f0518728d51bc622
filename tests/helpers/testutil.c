#include "testutil.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
