/* Private to harness/kube: shared between kubeconfig.c, client.c and ops.c. */
#ifndef WIH_KUBE_INTERNAL_H
#define WIH_KUBE_INTERNAL_H

#include "wiharness/kube.h"

/* Standard or URL-safe base64, whitespace ignored; NULL when malformed. */
char *kube_b64_decode(const char *in, size_t *outlen);
char *kube_b64_encode(const void *data, size_t len);
/* Forget a cached exec credential (after a 401, as client-go does). */
void kube_config_invalidate_exec(kube_config *cfg);
bool kube_config_has_exec(const kube_config *cfg);

/* client.c internals used by discovery.c and ops.c */
cJSON **kube_client_disc_api(kube_client *c);
cJSON **kube_client_disc_apis(kube_client *c);
cJSON *kube_client_disc_gv(kube_client *c); /* object "group/version" → APIResourceList */
char *kube_escape(kube_client *c, const char *s);

#endif
