/* Private to the real-cloud request builders (s3real.c, blob.c, gcs.c). */
#ifndef WIH_RS_INT_H
#define WIH_RS_INT_H

#include "wiharness/realstorage.h"

probe_req *rs_req_new(const char *what, const char *method, const char *url);
void rs_req_header(probe_req *r, const char *name, const char *value, bool secret);
/* A copy of the body as wire and shown body (object data is not secret). */
void rs_req_body(probe_req *r, const void *body, size_t len);
/* RFC 3986 percent-encoding; keep '/' when keep_slash. */
void rs_pct(wih_buf *b, const char *s, bool keep_slash);
/* endpoint without trailing slashes (a new string). */
char *rs_trim(const char *endpoint);
/* Check op ∈ read|write|list|delete; error WIH_EXIT_INPUT otherwise. */
bool rs_op_ok(const char *op, const char *who, wih_err **err);

#endif
