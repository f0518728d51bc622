/* probe internals shared by run.c and http.c. */
#ifndef WIH_PROBE_INT_H
#define WIH_PROBE_INT_H

#include "wiharness/probe.h"

/* Send one request over HTTPS/HTTP (libcurl; the one place of this module
 * that sets curl options, every one checked). ca_file NULL = the default
 * bundle. Fills *status and body (capped at 1 MiB); -1 + err (exit 3) on a
 * transport failure. Proxies are not used: every endpoint is on the test
 * network. Secrets never reach err. */
int probe_http_send(const probe_req *r, const char *ca_file, int64_t timeout_ms, long *status, wih_buf *body,
                    wih_err **err);

#endif
