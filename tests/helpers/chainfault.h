/* A `wiharness run` in flight on a local chain, and a chain component killed
 * under it: shared by the fault-injection and run integration tests
 * (test_faults, test_run). Next to leftovers.h, which checks what is left. */
#ifndef WIH_TEST_CHAINFAULT_H
#define WIH_TEST_CHAINFAULT_H

#include <stdint.h>
#include <sys/types.h>

#include "wiharness/kube.h"

/* `wiharness run --state-dir dir scenario` in the background (NO_COLOR=1),
 * stdout+stderr to log (0600). Returns its pid (Check-asserts the fork). */
pid_t wih_test_run_bg(const char *dir, const char *log, const char *scenario);

/* Until the run has made its first namespace (label wiharness.io/runner=true:
 * a case is in flight); Check-aborts after timeout_ms. Returns a client of
 * the chain in dir (caller frees). */
kube_client *wih_test_wait_first_namespace(const char *dir, int64_t timeout_ms);

/* The exit code of pid (128 + signal when killed), or -1 when it is still
 * running after timeout_ms: then it is SIGKILLed and reaped. */
int wih_test_wait_exit(pid_t pid, int64_t timeout_ms);

/* SIGKILL the chain component comp ("minio", "etcd", …) by the PID its
 * state.json records, never by name. Returns that pid (Check-asserts there is
 * one and that kill succeeded). */
pid_t wih_test_kill_component(const char *dir, const char *comp);

#endif
