/* storage — the real MinIO on loopback (minio_*) and a small S3 / MinIO
 * admin / MinIO STS client on libcurl's SigV4 (s3_*).
 *
 * Ownership follows core.h. Secrets (root password, secret keys, session
 * tokens) are held in memory and in mode-0600 files only; messages name them
 * by wih_fingerprint().
 */
#ifndef WIHARNESS_STORAGE_H
#define WIHARNESS_STORAGE_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"

/* ------------------------------------------------------------------- MinIO */
typedef struct minio_opts {
    const char *data_dir;          /* required; created (mode 0700) */
    const char *certs_dir;         /* --certs-dir; default <data_dir>/../minio-certs */
    const char *ca_file;           /* optional PEM CA copied to <certs-dir>/CAs/ (trust the mock cloud) */
    const char *log_dir;           /* minio.log goes here; NULL = <data_dir>/.. */
    int port;                      /* 0 = a free loopback port */
    /* OpenID provider (claim mode: the `policy` claim names a MinIO policy) */
    const char *openid_config_url; /* NULL = no OpenID provider */
    const char *openid_client_id;  /* required with openid_config_url */
    /* root credentials; NULL = generated per run (OpenSSL RAND) */
    const char *root_user;
    const char *root_password;
    int64_t timeout_ms;            /* readiness deadline; 0 = 60 s */
    bool keep_running;             /* survive our exit (a daemonised `up`); default: die with us */
} minio_opts;

typedef struct minio minio;

/* Start MinIO and wait for /minio/health/live. The process is stopped by PID
 * by minio_stop (and by the cleanup stack if the caller never does). */
minio *minio_start(const minio_opts *o, wih_err **err);
const char *minio_endpoint(const minio *m); /* "http://127.0.0.1:<port>" (borrowed) */
int minio_port(const minio *m);
pid_t minio_pid(const minio *m);
const char *minio_root_user(const minio *m);     /* borrowed */
const char *minio_root_password(const minio *m); /* borrowed SECRET: never print */
const char *minio_log_path(const minio *m);      /* borrowed */
/* Stop (SIGTERM, then SIGKILL after 10 s) and free. NULL-safe. */
void minio_stop(minio *m);
/* Detach: keep it running, forget the handle (for a daemonised `up`). */
void minio_detach(minio *m);

/* ---------------------------------------------------------------------- S3 */
typedef struct s3_creds {
    char *access_key;
    char *secret_key;    /* SECRET */
    char *session_token; /* SECRET; NULL for long-term (root) credentials */
    char *expiration;    /* ISO 8601 from STS, or NULL */
} s3_creds;
void s3_creds_clear(s3_creds *c); /* frees the members (zeroing secrets) */

typedef struct s3_client s3_client;
/* endpoint "http://127.0.0.1:9000"; ca_file for https endpoints (NULL = system). */
s3_client *s3_client_new(const char *endpoint, const s3_creds *creds, const char *ca_file);
void s3_client_free(s3_client *c);

/* S3 errors: http_status set, server_msg = "<Code>: <Message>" from the
 * XML body (the code alone via s3_err_code). kind WIH_EXIT_FAIL for 4xx
 * answers, WIH_EXIT_INFRA for transport failures and 5xx. */
char *s3_err_code(const wih_err *e); /* "AccessDenied", or NULL (caller frees) */

int s3_make_bucket(s3_client *c, const char *bucket, wih_err **err);
int s3_put_object(s3_client *c, const char *bucket, const char *key, const void *data, size_t len,
                  wih_err **err);
/* Returns the body (NUL-terminated, *len its length). */
char *s3_get_object(s3_client *c, const char *bucket, const char *key, size_t *len, wih_err **err);
/* HEAD: 0 found (Content-Length in *size, -1 if absent), -1 error (404 → code "NoSuchKey"). */
int s3_head_object(s3_client *c, const char *bucket, const char *key, int64_t *size, wih_err **err);
int s3_delete_object(s3_client *c, const char *bucket, const char *key, wih_err **err);
/* DeleteBucket (the bucket must be empty). */
int s3_delete_bucket(s3_client *c, const char *bucket, wih_err **err);
/* ListObjectsV2: a JSON array of {"key":…, "size":…}. */
cJSON *s3_list_objects(s3_client *c, const char *bucket, const char *prefix, wih_err **err);

/* Parse an S3/STS error document (<Error> or <ErrorResponse><Error>) into
 * code and message (caller frees). Pure; false when it is not one. */
bool s3_parse_error_xml(const char *xml, size_t len, char **code, char **message);
/* Parse an AssumeRole*Response into creds. Pure. */
bool s3_parse_sts_xml(const char *xml, size_t len, s3_creds *out);
/* Parse a ListBucketResult into [{"key","size"}]. Pure; NULL if not one. */
cJSON *s3_parse_list_xml(const char *xml, size_t len);

/* ------------------------------------------------------------ MinIO admin */
/* The IAM policy document for a role's grants: an object bucket →
 * "read" | "write" | "readwrite" | "list". Pure. NULL + err (exit 2) on a bad
 * grant or bucket name. No grants → a policy that denies everything. */
cJSON *s3_policy_for_grants(const cJSON *grants, wih_err **err);
/* PUT /minio/admin/v3/add-canned-policy?name=NAME with the policy JSON as
 * the body (plain JSON, as madmin-go's AddCannedPolicy sends it), SigV4-signed
 * with the root credentials of the client. */
int s3_admin_add_policy(s3_client *root, const char *name, const cJSON *policy, wih_err **err);
/* DELETE /minio/admin/v3/remove-canned-policy?name=NAME (madmin-go's
 * RemoveCannedPolicy). A policy MinIO does not have is an error with
 * http_status 404. */
int s3_admin_remove_policy(s3_client *root, const char *name, wih_err **err);

/* GET /minio/admin/v3/info-canned-policy?name=NAME → the policy document. */
cJSON *s3_admin_info_policy(s3_client *root, const char *name, wih_err **err);

/* MinIO's own STS: POST / Action=AssumeRoleWithWebIdentity with a JWT the
 * caller minted; fills out (caller clears). duration_s 0 = MinIO's default. */
int s3_sts_web_identity(const char *endpoint, const char *ca_file, const char *jwt, int duration_s,
                        s3_creds *out, wih_err **err);

/* true if a bucket name is valid for S3 (3-63 chars, [a-z0-9.-], …). Pure. */
bool s3_bucket_name_ok(const char *name);

#endif
