/* shard — spread the scenario × profile cases over CI machines (docs/ci.md).
 *
 * `--shard I/N` keeps the cases whose id ("<scenario>/<profile>") hashes to
 * I-1 modulo N (FNV-1a 64 of the id). The split depends on the id only, never
 * on the list position: adding or removing a case never moves another case to
 * a different shard, and shards 1/N … N/N together hold every case exactly
 * once. `--rerun-failed REPORT.json` keeps the cases the runner's JSON report
 * (docs/reports.md) lists with status "failed" or "error".
 * Ownership follows core.h. */
#ifndef WIHARNESS_SHARD_H
#define WIHARNESS_SHARD_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "wiharness/core.h"
#include "wiharness/scenario.h"

/* Parse "I/N" (1 ≤ I ≤ N ≤ 1000). 0, or -1 with *err (WIH_EXIT_INPUT). */
int shard_parse(const char *spec, int *index, int *count, wih_err **err);
/* FNV-1a 64 of s. Pure. */
uint64_t shard_hash(const char *s);
/* true when the case id belongs to shard index/count (index 1-based). */
bool shard_selects(const char *case_id, int index, int count);
/* Keep only the cases of shard index/count, in their order (in place). */
void shard_filter(scn_matrix *m, int index, int count);

/* The ids ("<scenario>/<profile>") of the cases a JSON report lists as
 * failed or error: a JSON array of strings. *err (WIH_EXIT_INPUT, with the
 * file) when the file is not a runner report. */
cJSON *shard_failed_ids(const char *report_path, wih_err **err);
/* The same from a report document already parsed. */
cJSON *shard_failed_ids_doc(const cJSON *report, const char *file, wih_err **err);
/* Keep only the cases whose id is in ids (in place). */
void shard_keep_ids(scn_matrix *m, const cJSON *ids);

#endif
