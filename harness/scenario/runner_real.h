/* Private to the runner: --identity real (runner_real.c, docs/backends.md).
 * The runner owns no cloud object: names come from the real map; the only
 * objects it touches are the read objects it seeds and the keys the run
 * writes, with the runner's own static credentials. */
#ifndef WIH_RUNNER_REAL_H
#define WIH_RUNNER_REAL_H

#include "runner_case.h"
#include "wiharness/realmap.h"

/* The chain of a real run: the cluster from --kubeconfig/--context, the
 * probe image from --probe-image; no state dir, cloud or MinIO. */
wih_err *real_chain_load(const runner_opts *o, rchain *c);
/* The map's section for the case's profile + every role and bucket the
 * scenario names mapped (exit 2 otherwise); sets k->res->real and the
 * bucket lookup in k->vars. */
wih_err *real_setup(rcase *k);
/* The ServiceAccount with the real principal's annotation. */
cJSON *real_sa_manifest(rcase *k, wih_err **err);
/* The pool template of real mode (region, STS/S3 endpoints of the map,
 * WIH_PROBE_STORE=real and the store's URL), added to the case's pool with
 * a change. */
int real_add_template(rcase *k, osmo_config *cfg, wih_err **err);
/* Seed every read/list URL in a mapped bucket that has no object yet, and
 * remember every write key that had none (both deleted at cleanup). S3 only:
 * Blob and GCS have no runner credentials (nothing seeded, nothing deleted). */
void real_prepare_objects(rcase *k, const cJSON *access);
/* Delete the objects res lists (404 is fine). */
wih_err *real_cleanup(rcase_res *res);
/* The logical role of a principal through the map, or NULL. */
const char *real_role_of(const rcase *k, const char *principal);

#endif
