/* What a local chain with a node may leave behind once it is down: shared by
 * the node and fault-injection integration tests. */
#ifndef WIH_TEST_LEFTOVERS_H
#define WIH_TEST_LEFTOVERS_H

#include <cjson/cJSON.h>

/* Processes (not zombies, not this one) whose command line names dir; each
 * is printed. Returns how many. */
int wih_test_procs_naming(const char *dir);

/* Check-asserts that nothing of the chain in dir is left: no process naming
 * it, none of the node's records (mounts, netns, bridge, cgroups: recs is
 * node_records() of snap's plan, taken before down), no IPAM leases, no
 * mount under dir. snap: state.json as it was (NULL: processes and mounts only). */
void wih_test_check_clean(const char *dir, const cJSON *snap, const cJSON *recs);

#endif
