/* report — what a run of scenarios says, to people (console), to CI (JUnit
 * XML, libxml2) and to programs (JSON), plus the artifacts of a failed case.
 * Pure except report_write_file and report_artifacts_write. docs/reports.md.
 *
 * The data is one cJSON "run" document, which IS the --report json output:
 *   {"report": 1,
 *    "cases": [CASE…],
 *    "summary": {"passed", "failed", "skipped", "errors", "total", "duration_s", "exit_code"}}
 * CASE:
 *   {"scenario": "aws-guide", "profile": "aws-irsa", "file": "scenarios/guide.yaml",
 *    "namespace": "wih-…", "status": "passed|failed|skipped|error",
 *    "duration_s": 1.25,
 *    "message": "why skipped / the infrastructure error" | null,
 *    "mismatches": [{"path", "expected", "actual", "message"}],   (every one)
 *    "access": [{"op", "url", "expect": {…}, "actual": {…}, "ok": bool}],
 *    "changes": [{"what", "path", "from", "to"}],   (what the runner changed in the pod)
 *    "artifacts": "DIR" | null, "inspect": "kubectl …" | null}
 * "failed" is a check that did not hold (exit 1); "error" is infrastructure
 * (exit 3). Every string that reaches a report went through report_redact.
 *
 * Ownership follows core.h. */
#ifndef WIHARNESS_REPORT_H
#define WIHARNESS_REPORT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "wiharness/core.h"

/* ------------------------------------------------------------ the run */
cJSON *report_run_new(void); /* {"report":1,"cases":[]} */
/* Add a case (taken over; redacted in place first). Borrowed pointer back. */
cJSON *report_add_case(cJSON *run, cJSON *kase);
/* Recompute "summary" from the cases; duration_s = the run's wall time.
 * Returns the exit code: 3 when any case is an infrastructure error, else 2
 * when a case's error is bad input ("error_kind": "input"), else 1 when any
 * failed, else 0. */
int report_summarize(cJSON *run, double duration_s);

/* ------------------------------------------------------------ redaction */
/* Secrets never reach a report or an artifact: in place, every string value
 * that looks like a JWT (three base64url parts, header "eyJ"), and the value
 * of every object member or env entry ({name, value}) whose name says it is
 * a secret (…SECRET…, …PASSWORD…, …SESSION_TOKEN, …ACCESS_KEY_ID, token,
 * access_token, client_assertion, …; not …_FILE / …_PATH / …_URL) becomes
 * its wih_fingerprint. Returns the number of values replaced. */
int report_redact(cJSON *tree);
/* Same for free text (a log line): JWT-looking words become fingerprints. New string. */
char *report_redact_text(const char *text);

/* ------------------------------------------------------------ console */
/* One line for a finished case: "PASS  aws-guide [aws-irsa]  1.2 s", then,
 * for a failure, each mismatch and failed access check indented below, and
 * the changes (always, one line: "changed: image→probe, +template
 * wih-endpoints"), and the inspect hint. */
void report_console_case(FILE *out, const cJSON *kase, bool verbose);
/* "N passed, N failed, N skipped" (+ ", N errors" when any) and the time. */
void report_console_summary(FILE *out, const cJSON *run);
/* Progress on a TTY: "\r[3/9] running aws-guide [aws-irsa]…" (nothing when !tty). */
void report_console_progress(FILE *out, bool tty, int done, int total, const char *what);

/* ------------------------------------------------------------ files */
/* JUnit XML (libxml2 writer): <testsuites> with one <testsuite name=scenario>
 * per scenario (in first-seen order) and one <testcase name=profile
 * classname=scenario time=…> per case; a failed case carries <failure
 * message=…> whose text is every mismatch and failed access check, an error
 * case <error>, a skipped one <skipped>; changes go to <system-out>. New
 * string, or NULL with *err. */
char *report_junit(const cJSON *run, wih_err **err);
/* The run document, pretty-printed (a new string). */
char *report_json(const cJSON *run);
/* The failure text of a case (what goes into <failure>), new string. */
char *report_failure_text(const cJSON *kase);

/* "junit=FILE" | "json=FILE" | "html=FILE" → kind and path (borrowed from spec). Exit-2
 * error naming the spec. */
typedef enum { REPORT_JUNIT, REPORT_JSON, REPORT_HTML } report_kind;
int report_parse_spec(const char *spec, report_kind *kind, const char **path, wih_err **err);
/* Write the run in that format to path (0644). */
int report_write_file(const cJSON *run, report_kind kind, const char *path, wih_err **err);
/* --report KIND=configmap:NAME (configmap.c): NAME (borrowed from path), or
 * NULL when path is a file. */
const char *report_configmap_name(const char *path);
/* The ConfigMap key of a kind: junit.xml, report.json, report.html. */
const char *report_configmap_key(report_kind k);
/* Pure: ConfigMap ns/name with data ({key: text}, copied). */
cJSON *report_configmap_doc(const char *ns, const char *name, const cJSON *data);
/* Create it, or replace it when it exists (verbs: create, update). */
struct kube_client;
int report_configmap_write(struct kube_client *kc, const char *ns, const char *name, const cJSON *data,
                           wih_err **err);

/* ------------------------------------------------------------ diagnosis (html.c) */
/* A case that did not pass, or whose scenario expects finding ids, carries
 *   "findings": [{"id","cause","fix","where"}…]   (diag_runtime's, runner_flow.c)
 *   "facts": {profile, pool, namespace, service_account, admitted_pod: {name,
 *             serviceAccountName, labels, env, volumeMounts, token_volumes},
 *             webhook_log, cloud_log, webhook_registered, namespace_labels,
 *             expected_identity, expect_access, failure}
 * The chain's links, in order (index = link number). */
enum { REPORT_NLINKS = 8 };
/* "sa" "template" "pool" "pod" "webhook" "token" "exchange" "bucket" ("" out of range). */
const char *report_link_name(int link);
/* The broken link of a case: the earliest link a finding's id names, else
 * where the failure was seen (the failed access's reason, a missing env →
 * webhook, else pod); -1 for a case without findings that did not fail
 * (passed, skipped, an infrastructure error). */
int report_broken_link(const cJSON *kase);
/* One self-contained HTML page (no external assets, no script): the scenario
 * × profile matrix, and per case with a broken link the chain with that link
 * marked (li.link.broken, data-link=NAME), the findings and fixes beside it,
 * the facts in <details>. Every string escaped; the run is redacted first. New string. */
char *report_html(const cJSON *run);

/* ------------------------------------------------------------ artifacts */
/* Write the artifacts of a failed case under <dir>/<scenario>/<profile>/:
 * every member of `files` ({"pod.json": <cJSON>, "events.json": …,
 * "webhook-decisions.jsonl": "<text>", "verdict.json": …}) redacted first,
 * plus case.json. Sets kase.artifacts to the directory. */
int report_artifacts_write(const char *dir, cJSON *kase, const cJSON *files, wih_err **err);

#endif
