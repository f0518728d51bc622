/* Private helpers shared by the webhook module's files. */
#ifndef WIH_WEBHOOK_INT_H
#define WIH_WEBHOOK_INT_H

#include "wiharness/jsonpath.h"
#include "wiharness/webhook.h"

const char *wh_annotation(const cJSON *obj, const char *key);
bool wh_has_annotation(const cJSON *obj, const char *key);
const char *wh_label(const cJSON *obj, const char *key);
const char *wh_namespace(const cJSON *pod, const char *ns);
void wh_skip(webhook_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wh_deny(webhook_result *r, int code, const char *msg, const char *why);
/* strconv.ParseInt(s, 10, bits) incl. its error text; 0 ok, -1 error. */
int wh_parse_int(const char *s, int bits, long long *out, char **errmsg);
/* strconv.ParseBool */
int wh_parse_bool(const char *s, bool *out);
bool wh_env_has(const cJSON *container, const char *name);
cJSON *wh_env_array(cJSON *container);
void wh_env_append(cJSON *container, const char *name, const char *value);
cJSON *wh_named(const cJSON *arr, const char *name, int *index);
cJSON *wh_mount(const char *name, const char *path);
cJSON *wh_array_field(cJSON *obj, const char *key);
void wh_array_insert(cJSON *arr, int idx, cJSON *item);

void wh_aws_mutate(const cJSON *pod, const cJSON *sa, const webhook_aws_opts *o, webhook_result *r);
void wh_azure_mutate(const cJSON *pod, const cJSON *sa, const webhook_azure_opts *o, webhook_result *r);
void wh_gcp_mutate(const cJSON *pod, const cJSON *sa, const char *ns, const webhook_gcp_opts *o, webhook_result *r);

#endif
