/* probe internals shared by its files. */
#ifndef WIH_PROBE_INT_H
#define WIH_PROBE_INT_H

#include "wiharness/probe.h"

/* Zero a secret string, then free it. NULL-safe. (storage/s3.c has the same
 * rule; one core helper for both is the lib work of issue 9.) */
void probe_free_secret(char *s);

#endif
