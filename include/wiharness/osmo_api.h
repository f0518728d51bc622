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
 *   pods    label selector osmo.workflow_id=<name> in the backend namespace
 * Statuses: PENDING, RUNNING, WAITING go on; COMPLETED ends well; every
 * FAILED* ends badly. */
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
