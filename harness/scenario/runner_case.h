/* Private to the runner: the state of one running case. */
#ifndef WIH_RUNNER_CASE_H
#define WIH_RUNNER_CASE_H

#include "runner_int.h"

typedef struct rcase {
    const rchain *ch;
    kube_client *kc;
    const scn_case *cs;
    const runner_opts *o;
    rcase_res *res;       /* what to clean up */
    char *prefix;         /* of real bucket and role names: "w1a2b3c-" */
    scn_vars vars;
    cJSON *sa;            /* the ServiceAccount applied */
    cJSON *changes;       /* what the runner changed */
    cJSON *rendered;      /* the pods OSMO would create, after the changes */
    cJSON *admitted;      /* the pods as the API server has them (latest) */
    cJSON *verdict;       /* the probe's verdict, or NULL */
    cJSON *values;        /* the values as given (templates expanded), for the diagnosis */
    char *pod_state;      /* why there is no verdict yet */
    void (*register_res)(struct rcase *);
    void *ctx;
    cJSON *sources;       /* provenance of git/file inputs (source.h), or NULL */
    const char *verdict_container; /* whose termination message is the verdict; NULL = osmo-ctrl */
    struct rosmo *osmo;   /* --submitter osmo: the workflow (runner_osmo.c), or NULL */
} rcase;

wih_err *rcase_setup(rcase *k);
char *rcase_real_role(const rcase *k, const char *logical);
/* values + workflow → pods (changed) → created; admitted pods in k->admitted. */
wih_err *rcase_pods(rcase *k);
/* Seed an object at every read/list URL of access in this case's buckets. */
void rcase_seed_reads(rcase *k, const cJSON *access);
/* One look at the first pod for the verdict: 1 there is one (or the main
 * container ended without one: k->pod_state says so), 0 not yet, -1 + err. */
int rcase_verdict_poll(rcase *k, wih_err **err);
/* --submitter osmo (runner_osmo.c), in place of rcase_pods / rcase_wait_verdict:
 * the workflow built, submitted, its pods found (k->admitted); then the
 * verdict and the workflow's end. rcase_osmo_report cancels a workflow still
 * alive and adds "osmo" {url, pool, workflow, status, pods, cancel} to the
 * case; rcase_osmo_end (cancels if still needed and) frees k->osmo. */
wih_err *rcase_osmo_submit(rcase *k);
wih_err *rcase_osmo_wait(rcase *k);
void rcase_osmo_report(rcase *k, cJSON *c);
void rcase_osmo_end(rcase *k);
/* Poll the pod assertions (admission deadline) into r. */
wih_err *rcase_assert_pods(rcase *k, scn_result *r);
/* Wait for the main container's verdict (pod + access deadlines). */
wih_err *rcase_wait_verdict(rcase *k);
/* The case's report entry (status from the results). */
cJSON *rcase_report(rcase *k, const scn_result *pod, const scn_result *acc, double secs);
/* Diagnosis findings (diagnosis.h diag_runtime) for a case that failed or
 * names expected findings; checks expect.diagnosis into c. */
void rcase_diagnose(rcase *k, cJSON *c);
/* Artifacts of a failed case. */
cJSON *rcase_artifacts(rcase *k);
/* scn_role_of_fn over the case's roles (ctx = the rcase). */
const char *rcase_role_of(void *ctx, const char *principal);
void rcase_free(rcase *k);
/* expect.access[i] as {op, url}: the url expanded with the case's values
 * (the literal when that fails); *expanded (may be NULL) gets the expanded
 * url, owned, or NULL when the expansion failed. */
cJSON *rcase_access_json(const rcase *k, size_t i, char **expanded);
/* The lines of a log file (path may be NULL) that mention any of the
 * needles (NULL-terminated), each ending in '\n'; "" for none. Owned. */
char *rcase_log_grep(const char *path, const char *const *needles);

/* runner_diag.c (issue 14): the facts object of a case (docs/diagnosis.md)
 * for diag_runtime, and its summary for people (kase.facts: reports,
 * `wiharness reproduce`). */
cJSON *rcase_facts(const rcase *k, const cJSON *kase);
cJSON *rcase_facts_summary(const cJSON *facts);

#endif
