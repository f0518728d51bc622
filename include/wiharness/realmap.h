/* realmap — `run --identity real --real FILE` (docs/backends.md, the schema
 * docs/realmap.schema.json): how a scenario's logical names map to a real
 * cloud the operator set up. The runner owns no cloud object in real mode;
 * this file says, per profile, which principal each logical role is, which
 * real bucket each logical bucket is, the store's endpoints, and the
 * runner's OWN static S3 credentials (only to seed read objects and delete
 * what the run wrote; never printed, only fingerprinted).
 *
 *   apiVersion: wiharness/v1
 *   kind: RealMap
 *   profiles:
 *     aws-irsa:
 *       region: us-east-1
 *       endpoints: {sts: https://…, s3: https://…}   # optional (S3-compatible stores)
 *       caFile: /path/ca.pem                          # optional: the runner's trust (host side)
 *       roles: {team-a: arn:aws:iam::123456789012:role/osmo-team-a}
 *       buckets: {team-a-data: acme-team-a-data}      # or bucketPrefix: acme-
 *       credentials: {env: {accessKeyId: NAME, secretAccessKey: NAME, sessionToken: NAME}}
 *                 #  or {file: PATH}  (mode 0600: {accessKeyId, secretAccessKey, sessionToken})
 *       scenarios:                                     # optional per-scenario overrides
 *         read-only: {roles: {…}, buckets: {…}}
 *     azure-wi: {tenantId: T, blobAccountUrl: https://ACCOUNT.blob.core.windows.net, roles: {team-a: CLIENT-ID}, …}
 *     gcp-fleet: {gcsEndpoint: URL (optional), roles: {team-a: SA@P.iam.gserviceaccount.com}, …}
 *
 * Errors are exit 2 with file:line:col. Ownership follows core.h. */
#ifndef WIHARNESS_REALMAP_H
#define WIHARNESS_REALMAP_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/storage.h"

typedef struct realmap_profile {
    char *profile;                     /* "aws-irsa" | "azure-wi" | "gcp-fleet" */
    char *region;                      /* aws (default us-east-1) */
    char *sts_endpoint, *s3_endpoint;  /* aws, NULL = AWS's own */
    char *tenant_id, *blob_account_url; /* azure */
    char *gcs_endpoint;                /* gcp, NULL = https://storage.googleapis.com */
    char *ca_file;                     /* the runner's trust for the store (NULL = system) */
    char *bucket_prefix;               /* NULL = explicit buckets only */
    cJSON *roles, *buckets;            /* {logical: string} */
    cJSON *scenarios;                  /* {name: {"roles":{…},"buckets":{…}}} or NULL */
    s3_creds creds;                    /* SECRET; access_key NULL when none given */
    char *creds_from;                  /* "env NAME/NAME" | "file PATH": for messages */
} realmap_profile;

typedef struct realmap {
    char *file;
    realmap_profile *p;
    size_t n;
} realmap;

realmap *realmap_load(const char *path, wih_err **err);
void realmap_free(realmap *m);
/* The profile's section, or NULL. */
const realmap_profile *realmap_profile_get(const realmap *m, const char *profile);
/* The principal of a logical role (the scenario's override first), or NULL. Borrowed. */
const char *realmap_role(const realmap_profile *p, const char *scenario, const char *logical);
/* The real bucket of a logical one (override, buckets, then bucketPrefix +
 * name), or NULL when unmapped. Owned. */
char *realmap_bucket(const realmap_profile *p, const char *scenario, const char *logical);
/* The logical role whose principal answered: an AWS role ARN, or an
 * assumed-role ARN of that role (arn:aws:sts::ACCOUNT:assumed-role/NAME/…,
 * NAME = the role ARN's last path segment, same account); the Azure client
 * id; the Google SA email. NULL when none. Borrowed. */
const char *realmap_role_of(const realmap_profile *p, const char *scenario, const char *principal);
/* Every logical bucket the map names for a scenario check: 0, or -1 + err
 * (exit 2) naming the first role or bucket of the scenario it cannot map. */
int realmap_check(const realmap_profile *p, const char *scenario, const char *const *roles, size_t nroles,
                  const char *const *buckets, size_t nbuckets, wih_err **err);
/* The map as JSON for tests and --verbose: credentials as
 * {"from", "access_key_id", "secret": "sha256:…"}; never a secret. */
cJSON *realmap_describe(const realmap *m);

#endif
