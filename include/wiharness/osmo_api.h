/* osmo_api — submitting a workflow to a real OSMO service and following it
 * (docs/backends.md, "OSMO submitter"). Pure request builders (probe_req:
 * the token is marked secret, so descriptions and --dry-run show only its
 * fingerprint) and response parsers, plus a wait loop over probe_send.
 *
 *   submit  POST <url>/api/pool/<pool>/workflow[?dry_run=true]
 *           x-osmo-auth: <token>, Content-Type: application/json,
 *           {"file": "<workflow YAML>", "set_variables": [], "set_string_variables": []}
 *           → {"name": "<workflow id>", "overview", "logs", "dashboard_url", "warnings"}
 *   query   GET <url>/api/workflow/<name> → {"name", "status", …}
 *   cancel  POST <url>/api/workflow/<name>/cancel?force=false → {"name"}
 *           (a finished workflow: 400 "Workflow <name> is already finished.")
 *   version GET <url>/api/version (no token needed: the reachability check)
 *   pods    label selector osmo.workflow_id=<name> in the backend namespace
 * Statuses (OSMO's WorkflowStatus, src/utils/job/workflow.py): PENDING,
 * RUNNING, WAITING are alive; COMPLETED ends well; every other one ends
 * badly: FAILED, FAILED_SUBMISSION, FAILED_SERVER_ERROR, FAILED_EXEC_TIMEOUT,
 * FAILED_QUEUE_TIMEOUT, FAILED_CANCELED, FAILED_BACKEND_ERROR,
 * FAILED_IMAGE_PULL, FAILED_EVICTED, FAILED_START_ERROR, FAILED_START_TIMEOUT,
 * FAILED_PREEMPTED. Errors are FastAPI JSON: {"message", "error_code",
 * "workflow_id"} (400 for OSMO's user errors) or {"detail"} (422). */
#ifndef WIHARNESS_OSMO_API_H
#define WIHARNESS_OSMO_API_H

#include "wiharness/probe.h"

probe_req *osmo_api_submit_req(const char *url, const char *pool, const char *workflow_yaml, const char *token,
                               bool dry_run, wih_err **err);
/* The workflow id from a submit answer; non-2xx → error with OSMO's message
 * (400/422: WIH_EXIT_INPUT, the spec was refused; 401/403: WIH_EXIT_INFRA,
 * the token was; others WIH_EXIT_INFRA). */
char *osmo_api_parse_submit(long status, const char *body, wih_err **err);
probe_req *osmo_api_query_req(const char *url, const char *name, const char *token, wih_err **err);
/* The status string of a query answer (caller frees); *terminal, *ok. */
char *osmo_api_parse_status(long status, const char *body, bool *terminal, bool *ok, wih_err **err);
/* Cancel a workflow that is still alive (what `osmo workflow cancel` sends). */
probe_req *osmo_api_cancel_req(const char *url, const char *name, const char *token, wih_err **err);
/* 0 when the cancel was accepted, 1 when the workflow had already finished
 * (OSMO's 400 "already finished": nothing to cancel), -1 + err otherwise. */
int osmo_api_parse_cancel(long status, const char *body, wih_err **err);
/* GET <url>/api/version: any HTTP answer means the service is there. */
probe_req *osmo_api_version_req(const char *url, wih_err **err);
/* "osmo.workflow_id=<name>" (caller frees). */
char *osmo_api_pod_selector(const char *name);

/* The token: $OSMO_TOKEN, else the file's first line (token_file may be NULL).
 * WIH_EXIT_INPUT when neither gives one. SECRET: never print it. */
char *osmo_api_token(const char *token_file, wih_err **err);

/* Poll query every poll_ms until terminal or timeout (WIH_EXIT_INFRA);
 * returns the final status (caller frees). */
char *osmo_api_wait(const char *url, const char *name, const char *token, const char *ca_file, int64_t timeout_ms,
                    int64_t poll_ms, wih_err **err);

#endif
