/* A loopback STAND-IN for the OSMO service, for the tests of
 * `run --submitter osmo` (there is no OSMO service here). It is not OSMO: it
 * answers the four routes the runner uses with the recorded answer shapes of
 * fixtures/osmo-api/standin.json (written from NVIDIA/OSMO's REST API, see
 * fixtures/osmo-api/README.md), and does the part of OSMO's work the runner
 * depends on with the harness's own OSMO model:
 *
 *   GET  /api/version                     → a version (no token needed)
 *   POST /api/pool/{pool}/workflow         → the task pods rendered with
 *        harness/osmo's merge (osmo_render) from the pool values it was
 *        started with, labelled as OSMO labels them (osmo.workflow_id, …),
 *        created in its namespace through the real API server; → {"name"}
 *   GET  /api/workflow/{name}             → {"status"} derived from the pods:
 *        PENDING, RUNNING, COMPLETED, FAILED, FAILED_IMAGE_PULL, FAILED_CANCELED
 *   POST /api/workflow/{name}/cancel      → its pods deleted, FAILED_CANCELED;
 *        an ended workflow → 400 "already finished" (as OSMO)
 * Every route but version wants x-osmo-auth = the token (else 401).
 *
 * Where it departs from OSMO, because OSMO's images are not here (no
 * registry): osmo-ctrl and osmo-init run ctrl_image with [version] (they move
 * no data); the task container runs the task's own command directly (no
 * /osmo/bin/osmo_exec wrapper); imagePullPolicy IfNotPresent; the env from
 * OSMO's secrets, resources, finalizers and imagePullSecrets are dropped (the
 * same reasons as the runner's direct path, docs/runner.md). It keeps its
 * pods after a workflow ends (OSMO deletes them later) and deletes every pod
 * it made when stopped. */
#ifndef WIH_OSMO_STANDIN_H
#define WIH_OSMO_STANDIN_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

typedef struct wih_osmo_standin wih_osmo_standin;

typedef struct wih_osmo_standin_opts {
    const char *values_file; /* the pool configuration it was deployed with (Helm values) */
    const char *kubeconfig;  /* the cluster its pods go to */
    const char *namespace_;  /* its workflow namespace (default osmo-workflows); must exist */
    const char *ctrl_image;  /* the image of osmo-ctrl / osmo-init here */
    const char *token;       /* the x-osmo-auth it accepts */
} wih_osmo_standin_opts;

/* Listening on 127.0.0.1 (a free port) once this returns. */
wih_osmo_standin *wih_osmo_standin_start(const wih_osmo_standin_opts *o, wih_err **err);
const char *wih_osmo_standin_url(const wih_osmo_standin *s);
/* Every request so far: [{"method","path","auth": true|false}] (caller frees). */
cJSON *wih_osmo_standin_requests(wih_osmo_standin *s);
/* The requests whose method is m and whose path contains needle. */
int wih_osmo_standin_count(wih_osmo_standin *s, const char *m, const char *needle);
/* Stop serving, delete every pod it made (waiting until they are gone), free. */
void wih_osmo_standin_stop(wih_osmo_standin *s);

#endif
