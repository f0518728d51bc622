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

/* ------------------------------------------------- throwaway PKI (run time) */
/* The rule: test keys are generated at run time, never committed. Writes a
 * fresh CA and a client certificate signed by it into dir (which must exist):
 *   ca.crt, client.crt (CN=wiharness-test-client), client.key (0600)
 * from cluster_pki_make. NULL, or what went wrong (caller frees). */
char *wih_test_pki(const char *dir);
/* A copy of the fixture tree fixtures/<rel> under a new temp dir (keep=false:
 * on the cleanup stack), with the PEM placeholders of the pki dir written by
 * wih_test_pki substituted in every file named in templates (NULL-ended, paths
 * relative to rel): @CA_DATA@ @CLIENT_CERT_DATA@ @CLIENT_KEY_DATA@ become the
 * base64 of ca.crt / client.crt / client.key (as kubeconfig *-data holds them).
 * Returns the copy's root (caller frees; wih_rm_rf it), or NULL with *why set. */
char *wih_test_fixture_copy(const char *rel, const char *pki, const char *const *templates, char **why);
/* Copy pki/<name> to dst (mode 0600; dst's directory is made if missing). NULL or why. */
char *wih_test_pki_put(const char *pki, const char *name, const char *dst);

#endif
