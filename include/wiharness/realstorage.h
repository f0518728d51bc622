/* realstorage — the requests a workload sends to the real object stores
 * with the identity it got (docs/backends.md): pure builders returning a
 * probe_req (probe.h: method, URL, headers, body; secrets marked, so
 * probe_req_describe shows only fingerprints), sent with probe_send, and one
 * parser turning any answer into allowed / denied / error with the
 * provider's code.
 *
 *   S3          SigV4 by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"),
 *               x-amz-content-sha256 of the body, x-amz-security-token for
 *               session credentials; path-style for a custom endpoint
 *               (MinIO), virtual-hosted for AWS.
 *   Azure Blob  Authorization: Bearer <Entra token for storage.azure.com>,
 *               x-ms-version, x-ms-date; PUT adds x-ms-blob-type: BlockBlob.
 *   GCS         JSON API, Authorization: Bearer <access token>: upload
 *               POST /upload/storage/v1/b/B/o?uploadType=media&name=K,
 *               download GET /storage/v1/b/B/o/K?alt=media (K encoded, '/'
 *               as %2F), list GET /storage/v1/b/B/o?prefix=P, DELETE.
 * ops: "read" | "write" | "list" | "delete". */
#ifndef WIHARNESS_REALSTORAGE_H
#define WIHARNESS_REALSTORAGE_H

#include "wiharness/probe.h"
#include "wiharness/storage.h"

#define RS_AZURE_VERSION "2023-11-03"

/* endpoint NULL = https://<bucket>.s3.<region>.amazonaws.com (virtual-hosted). */
probe_req *rs_s3_request(const char *op, const char *endpoint, const char *region, const char *bucket,
                         const char *key, const s3_creds *creds, const void *body, size_t len, wih_err **err);
/* account_url "https://<account>.blob.core.windows.net"; date RFC 1123 (x-ms-date). */
probe_req *rs_blob_request(const char *op, const char *account_url, const char *container, const char *blob,
                           const char *bearer, const char *date, const void *body, size_t len, wih_err **err);
/* endpoint NULL = https://storage.googleapis.com. */
probe_req *rs_gcs_request(const char *op, const char *endpoint, const char *bucket, const char *object,
                          const char *bearer, const void *body, size_t len, wih_err **err);

/* "s3" | "blob" | "gcs" answer → result "allowed" | "denied" | "error",
 * *code the provider's error code (S3/Blob <Code>, GCS error.errors[0].reason
 * or error.status), *message its message (caller frees both; NULL when none).
 * 2xx allowed; 401/403 denied; 404 of the object on read: allowed to ask
 * (code NoSuchKey/BlobNotFound/notFound) reported as "error"; others error. */
const char *rs_parse_result(const char *provider, long status, const char *body, size_t len, char **code,
                            char **message);

/* Send r (probe_send) and parse the answer (rs_parse_result): the result;
 * NULL + err (exit 3) on a transport failure. *status, *code, *message as
 * above (caller frees code and message). */
const char *rs_do(const probe_req *r, const char *provider, const char *ca_file, int64_t timeout_ms, long *status,
                  char **code, char **message, wih_err **err);

#endif
