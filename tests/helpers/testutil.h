/* Helpers shared by the Check-based tests. */
#ifndef WIH_TESTUTIL_H
#define WIH_TESTUTIL_H

#include <check.h>
#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/jsonpath.h" /* wih_json_diff */

/* Run a suite, print Check's summary, return the process exit code. */
int wih_test_run(Suite *s);
/* Print why and exit 77 (ctest: skipped). Never a silent pass. */
void wih_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* <source>/fixtures/<rel> (caller frees). */
char *wih_fixture(const char *rel);
/* Run the built wiharness binary with args; capture stdout/stderr; returns exit code. */
int wih_test_cli(char **out, char **err, const char *stdin_data, ...) __attribute__((sentinel));

/* ---------------------------------------------------- the fixture-case driver */
/* Every data-driven test lists its cases with this: the sub-directories of
 * fixtures/<rel> (or of an absolute path), sorted by name. A missing
 * directory, fewer than `min` cases (an empty directory is always an error)
 * or more than WIH_CASES_MAX is an error — never a silent stop. */
#define WIH_CASES_MAX 1024
typedef struct wih_cases {
    char *root;   /* the directory */
    char **names; /* case names, sorted */
    size_t n;
} wih_cases;
/* NULL, or what is wrong (caller frees); out is filled either way (free it). */
char *wih_cases_list(const char *rel, size_t min, wih_cases *out);
void wih_cases_free(wih_cases *c);
/* One case: NULL when it passes, else why it failed (the driver frees it). */
typedef char *(*wih_case_fn)(const char *dir, void *ctx);
/* Inside a Check test: list the cases (failing the test if the list is
 * wrong), run fn on each, print "ok   <label>/<case>" or "FAIL ...", and fail
 * the test naming every failed case. Returns the number of cases run. */
size_t wih_cases_run(const char *label, const char *rel, size_t min, wih_case_fn fn, void *ctx);

#endif
