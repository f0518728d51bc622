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

#endif
