/* The local chain as a user drives it (`wiharness up` in a temp state dir,
 * `wiharness env`, the `cloud` CLI, kubectl), for the playground and SDK
 * integration tests — plus the bookkeeping of every secret the test saw and
 * every log the run produced, so a test can prove no secret leaked. */
#ifndef WIH_PLAYGROUND_H
#define WIH_PLAYGROUND_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

typedef struct pg {
    char *tmp;        /* temp dir (removed by pg_down) */
    char *state_dir;  /* <tmp>/state */
    char *stderr_log; /* every command's stderr, appended (scanned by pg_scan_logs) */
    char *kubectl;    /* path, or NULL when absent */
    cJSON *state;     /* state.json after up */
    char **env;       /* "K=V" from `wiharness env` */
    size_t nenv;
    char **secrets; /* everything the run must never log */
    size_t nsecrets;
    int ncommands; /* commands whose stderr went to stderr_log */
} pg;

/* Skip (exit 77, saying why) unless etcd, kube-apiserver and MinIO are built. */
void pg_require_programs(void);
/* `wiharness up` + `wiharness env` in a fresh temp state dir (test fails on error). */
void pg_up(pg *p, const char *prefix);
/* `wiharness down`; removes the temp dir. Safe to call twice. */
void pg_down(pg *p);
/* A variable from `wiharness env`, or NULL. */
const char *pg_env(const pg *p, const char *key);
/* Run the built wiharness (args…, NULL) with --state-dir appended; stderr goes to the log. */
int pg_cli(pg *p, char **out, const char *stdin_data, ...) __attribute__((sentinel));
/* Run any program with the chain's env (+ env_add); stderr goes to the log (and
 * to *errout if given). Returns the exit status (test fails if it cannot run). */
int pg_run(pg *p, char *const *argv, char *const *env_add, const char *stdin_data, int64_t timeout_ms, char **out,
           char **errout);
/* kubectl args… NULL with KUBECONFIG of the chain; returns exit status. */
int pg_kubectl(pg *p, char **out, ...) __attribute__((sentinel));
/* The team the probe and SDK tests share: buckets team-a-data and
 * team-b-data, role team-a (trusts system:serviceaccount:NS:app, readwrite on
 * team-a-data), namespace NS with ServiceAccounts app and other. The role's
 * identifiers (new strings) in *role_arn, *entra_id, *google_sa. */
void pg_team_a(pg *p, const char *ns, char **role_arn, char **entra_id, char **google_sa);
/* A TokenRequest token (`kubectl create token SA -n NS --audience AUD
 * --duration 20m`), Check-asserted to be a JWT, remembered as a secret and
 * written 0600 to <tmp>/<name>. Returns that path (caller frees); the token
 * itself in *token_out when given (caller wipes and frees), else wiped. */
char *pg_token_file(pg *p, const char *ns, const char *sa, const char *aud, const char *name, char **token_out);
/* Remember a secret (copied) that must never appear in any log. */
void pg_secret(pg *p, const char *s);
/* The role document from `wiharness cloud role list -o json` (caller deletes). */
cJSON *pg_role(pg *p, const char *name);
/* Scan the chain's logs dir (every file), the decision log and the stderr of
 * every command for every remembered secret (root password, admin token,
 * issued keys, session tokens, JWTs) and for anything JWT-shaped: zero hits.
 * extra: more files to scan (NULL-terminated array or NULL). Returns the
 * number of bytes scanned. */
size_t pg_scan_logs(pg *p, const char *const *extra);

#endif
