/* Internal to harness/cloud: helpers the provider handlers share (reply
 * bodies in each provider's error shape, decision lines, escaping). */
#ifndef WIH_CLOUD_INT_H
#define WIH_CLOUD_INT_H

#include "wiharness/cloud.h"

#define CL_ACCOUNT "000000000000"
#define CL_STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define CL_GOOGLE_FED_AUD "wiharness-google-federated"

char *cl_rand_token(size_t nbytes);            /* base64url of CSPRNG bytes */
void cl_iso8601(int64_t secs, char out[32]);    /* 2026-12-01T22:00:00Z */
char *cl_xml_escape(const char *s);             /* NULL → "" */
const char *cl_form_str(const cJSON *form, const char *name);
cJSON *cl_simple_decision(const char *provider, const char *action, const char *role, const char *check,
                          const char *detail);
/* The role object of the registry, or NULL. */
const cJSON *cl_role(const cJSON *reg, const char *role);

/* Error replies in each provider's shape. Each also records the code in
 * r->decision (creating a simple decision with check/detail when absent). */
void cl_aws_error(cloud_result *r, int status, const char *code, const char *msg);
void cl_entra_error(cloud_result *r, int64_t now, int status, const char *error, int aadsts, const char *msg);
void cl_google_sts_error(cloud_result *r, int status, const char *error, const char *desc);
void cl_google_iam_error(cloud_result *r, int code, const char *status, const char *msg);
void cl_json_reply(cloud_result *r, int status, cJSON *body /* consumed */);

/* The JWT MinIO accepts for a role (claims mode: `policy`), plus `extra`
 * claims (borrowed; may override). aud = [minio client id, extra_aud?]. */
char *cl_mint_for_minio(const cloud_env *e, const char *role, const char *sub, const char *provider,
                        int64_t lifetime, const char *extra_aud, const cJSON *extra, wih_err **err);

/* aws_identity.c: GetCallerIdentity, SigV4-checked against the sessions in e. */
void cl_aws_caller_identity(const cloud_env *e, const cloud_request *rq, cloud_result *out);

#endif
