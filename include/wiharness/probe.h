/* probe — the workload inside a test pod: it finds credentials the way each
 * cloud SDK's default chain does, exchanges them at the (mock) cloud, asks
 * who it is, tries each bucket access on MinIO and writes one JSON verdict
 * (docs/probe.md; the verdict format is agreed in TEAM.md).
 *
 * Three layers:
 *   1. token-exchange clients, pure: request builders (probe_req_*) and
 *      response parsers (probe_parse_*), no I/O — tested from
 *      fixtures/probe/{requests,responses}/;
 *   2. credential discovery, pure: (profile, env lookup, file reader) → the
 *      source the SDK would pick and why (probe_discover) — tested from
 *      fixtures/probe/discover/;
 *   3. probe_run: the I/O (token file, HTTPS, S3) and the verdict.
 *
 * Ownership follows core.h. Secrets (tokens, keys, session tokens, access
 * tokens) never appear in a message, a description or a verdict: only
 * wih_fingerprint() ("sha256:<12 hex>").
 */
#ifndef WIHARNESS_PROBE_H
#define WIHARNESS_PROBE_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/storage.h"

/* ------------------------------------------------------------ requests */
/* One HTTP request as the SDK would send it. Header and form values marked
 * secret are kept for the wire and shown only as fingerprints. */
typedef struct probe_kv {
    char *name, *value;
    bool secret;
} probe_kv;

typedef struct probe_req {
    const char *what;      /* "AWS STS AssumeRoleWithWebIdentity" (static) */
    char *method, *url;
    probe_kv *headers;     /* in the order they are sent */
    size_t nheaders;
    char *body;            /* wire body (may hold secrets) or NULL */
    size_t body_len;
    char *body_shown;      /* the body with every secret value fingerprinted */
    char *sigv4;           /* "aws:amz:<region>:<service>" (CURLOPT_AWS_SIGV4) or NULL */
    char *sigv4_user;      /* "AK:SK" for sigv4 (SECRET) */
} probe_req;
void probe_req_free(probe_req *r);
/* {"what","method","url","headers":["Name: value"...],"body","sigv4"} with
 * secrets as "<sha256:…>". For fixtures and --debug; never a secret. */
cJSON *probe_req_describe(const probe_req *r);

/* AWS STS AssumeRoleWithWebIdentity as botocore sends it: POST <endpoint>/,
 * Content-Type application/x-www-form-urlencoded; charset=utf-8, query
 * protocol form Action, Version 2011-06-15, then RoleArn, RoleSessionName,
 * WebIdentityToken (DurationSeconds only when > 0). Unsigned. */
probe_req *probe_req_aws_web_identity(const char *endpoint, const char *role_arn, const char *session_name,
                                      const char *token, int duration_s);
/* AWS STS GetCallerIdentity: POST <endpoint>/ form Action=GetCallerIdentity
 * &Version=2011-06-15, SigV4 (service sts, region) with the credentials; a
 * session token goes in X-Amz-Security-Token (signed). */
probe_req *probe_req_aws_caller_identity(const char *endpoint, const char *region, const s3_creds *creds);
/* Entra client credentials with a federated client assertion, as
 * azure-identity's WorkloadIdentityCredential sends it (its own AAD client,
 * no discovery): POST <authority>/<tenant>/oauth2/v2.0/token, form sorted by
 * name: client_assertion, client_assertion_type=urn:ietf:params:oauth:
 * client-assertion-type:jwt-bearer, client_id, grant_type=client_credentials,
 * scope. authority may end in '/' and may lack a scheme (https:// is added,
 * as azure-identity does). */
probe_req *probe_req_entra_assertion(const char *authority, const char *tenant, const char *client_id,
                                     const char *scope, const char *assertion);
/* MSAL's tenant discovery before the token request: GET
 * <authority>/<tenant>/v2.0/.well-known/openid-configuration (its
 * token_endpoint is where the token request goes). MSAL's instance discovery
 * (login.microsoftonline.com) is not made: the SDK tests turn it off too. */
probe_req *probe_req_entra_discovery(const char *authority, const char *tenant);
/* The same token requests sent to a token endpoint URL (from discovery). */
probe_req *probe_req_entra_assertion_at(const char *token_url, const char *client_id, const char *scope,
                                        const char *assertion);
probe_req *probe_req_entra_secret_at(const char *token_url, const char *client_id, const char *scope,
                                     const char *secret);
/* Entra client secret (EnvironmentCredential → ClientSecretCredential, via
 * MSAL: after tenant discovery): form client_id, grant_type, client_info=1,
 * client_secret, scope. */
probe_req *probe_req_entra_secret(const char *authority, const char *tenant, const char *client_id,
                                  const char *scope, const char *secret);
/* Google STS token exchange (RFC 8693) as google-auth's identity_pool
 * credentials send it: POST token_url, form grant_type=urn:ietf:params:oauth:
 * grant-type:token-exchange, audience, scope, requested_token_type=
 * urn:ietf:params:oauth:token-type:access_token, subject_token,
 * subject_token_type. */
probe_req *probe_req_google_sts(const char *token_url, const char *audience, const char *subject_token_type,
                                const char *scope, const char *subject_token);
/* IAM Credentials generateAccessToken: POST <impersonation url>,
 * Authorization: Bearer <federated token>, JSON
 * {"delegates":null,"scope":[scope],"lifetime":"3600s"} (google-auth's body).
 * Before it, the STS exchange asks for scope https://www.googleapis.com/auth/iam,
 * as google-auth does when it impersonates. */
probe_req *probe_req_google_generate(const char *impersonation_url, const char *scope, const char *federated_token);
/* Google tokeninfo (who an access token is for): POST <url>, form
 * access_token=<token> (POST keeps the token out of URLs). Real Google serves
 * it at https://oauth2.googleapis.com/tokeninfo; the mock on the origin of
 * its token_url (probe_google_tokeninfo_url). */
probe_req *probe_req_google_tokeninfo(const char *url, const char *access_token);
/* <scheme>://<host[:port]> of token_url + "/tokeninfo", or NULL. Pure. */
char *probe_google_tokeninfo_url(const char *token_url);
/* MinIO STS AssumeRoleWithWebIdentity (what ci/demo does with the cloud's
 * access token): POST <minio>/ form Action, DurationSeconds, Version,
 * WebIdentityToken. Unsigned. */
probe_req *probe_req_minio_web_identity(const char *endpoint, const char *token, int duration_s);

/* Send one request through core's HTTP client (wih_http_do): its header
 * lines exactly as built, in order, and no User-Agent; SigV4 by libcurl when
 * sigv4 and sigv4_user are set. ca_file NULL = the default bundle. Fills
 * *status and body (capped at 1 MiB, caller frees with wih_buf_free); -1 +
 * err (exit 3, "<what> <url>: <why>") on a transport failure. Proxies are not
 * used: every endpoint is on the test network. No secret reaches err; every
 * copy of a header line is wiped. */
int probe_send(const probe_req *r, const char *ca_file, int64_t timeout_ms, long *status, wih_buf *body,
               wih_err **err);

/* ------------------------------------------------------------ responses */
typedef struct probe_answer {
    bool ok;             /* the service issued what was asked */
    long status;         /* HTTP status given to the parser */
    char *code;          /* provider error code: "AccessDenied", "AADSTS70021", "PERMISSION_DENIED", … */
    char *message;       /* the provider's message (never holds a secret we sent) */
    s3_creds creds;      /* AWS / MinIO STS */
    char *identity;      /* AssumedRoleUser/Arn, GetCallerIdentity Arn, … or NULL */
    char *account;       /* GetCallerIdentity Account */
    char *subject;       /* SubjectFromWebIdentityToken */
    char *access_token;  /* Entra / Google (SECRET) */
    char *expiration;    /* ISO 8601 (STS Expiration, Google expireTime) or NULL */
    long expires_in;     /* seconds, 0 when not given */
} probe_answer;
void probe_answer_clear(probe_answer *a);
/* {"ok","status","code","message","identity","account","subject",
 *  "access_key","secret_key":"sha256:…","session_token":"sha256:…",
 *  "access_token":"sha256:…","expiration","expires_in"} (fixtures). */
cJSON *probe_answer_describe(const probe_answer *a);

/* Each returns 0 when the answer carries the credential, -1 otherwise (code
 * and message set from the provider's error document, or code NULL and a
 * message saying what was wrong with the answer). Pure. */
int probe_parse_sts(long status, const char *body, size_t len, probe_answer *out); /* AWS and MinIO STS XML */
int probe_parse_caller_identity(long status, const char *body, size_t len, probe_answer *out);
int probe_parse_entra(long status, const char *body, size_t len, probe_answer *out);
/* The token_endpoint of a tenant discovery document (caller frees), or NULL
 * with out->code/message. */
char *probe_parse_entra_discovery(long status, const char *body, size_t len, probe_answer *out);
int probe_parse_google_sts(long status, const char *body, size_t len, probe_answer *out);
int probe_parse_google_generate(long status, const char *body, size_t len, probe_answer *out);
/* tokeninfo {"email","azp","aud","expires_in",…}: identity = email; errors
 * {"error":"invalid_token","error_description"}. */
int probe_parse_google_tokeninfo(long status, const char *body, size_t len, probe_answer *out);

/* ------------------------------------------------------------ discovery */
typedef enum {
    PROBE_SRC_NONE,
    PROBE_SRC_STATIC_ENV,        /* AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; a Google service-account key file */
    PROBE_SRC_WEB_IDENTITY,      /* AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE */
    PROBE_SRC_CLIENT_SECRET,     /* Azure EnvironmentCredential */
    PROBE_SRC_WORKLOAD_IDENTITY, /* Azure WorkloadIdentityCredential */
    PROBE_SRC_EXTERNAL_ACCOUNT,  /* Google external_account (identity pool, file-sourced) */
} probe_source;
const char *probe_source_name(probe_source s); /* "static-env", … as in the verdict */

typedef const char *(*probe_getenv_fn)(void *ctx, const char *name);
/* Read a whole (small) file; NULL + err when it cannot. */
typedef char *(*probe_readfile_fn)(void *ctx, const char *path, size_t *len, wih_err **err);

typedef struct probe_cred {
    const char *cloud;   /* "aws" | "azure" | "google" (static) */
    probe_source source;
    char *detail;        /* the variables that decided: "AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE" */
    char *why;           /* the chain step and what came before it */
    char *error;         /* configured but unusable (partial keys, bad credential file), or NULL */
    char *fingerprint;   /* of the static secret (static sources); run sets it for token files */
    /* AWS */
    char *access_key, *secret_key, *session_token, *role_arn, *session_name;
    char *sts_endpoint, *s3_endpoint, *region, *ca_file;
    /* Azure */
    char *client_id, *tenant_id, *authority, *client_secret;
    /* Google external_account */
    char *audience, *subject_token_type, *token_url, *impersonation_url, *gsa;
    char *token_format_field; /* credential_source.format.subject_token_field_name (json), or NULL */
    /* all token-based sources */
    char *token_file;
    cJSON *env;          /* identity-related env read: {"NAME": value | "sha256:…"} */
} probe_cred;
void probe_cred_clear(probe_cred *c);

/* The credential the profile's SDK would use (docs/probe.md cites each chain):
 *   aws-irsa  boto3 / aws-sdk-go-v2: static env keys, then web identity;
 *   azure-wi  DefaultAzureCredential: EnvironmentCredential (client secret),
 *             then WorkloadIdentityCredential;
 *   gcp-fleet google-auth ADC: GOOGLE_APPLICATION_CREDENTIALS (external_account
 *             or a service-account key).
 * profile NULL: the first cloud whose credential variables are present (AWS,
 * Azure, Google). sdk (AWS only): NULL or "boto3" (default), "go" for
 * aws-sdk-go-v2, whose env chain differs in the details: AWS_ACCESS_KEY /
 * AWS_SECRET_KEY are read as fallbacks, only AWS_SESSION_TOKEN is a session
 * token, and a key without its secret is ignored (falls through to web
 * identity) instead of an error. Fills out (caller clears); returns 0, or -1 + err (exit 2)
 * for an unknown profile. Everything else is data in out. Pure: env through
 * getenv, files through readfile. */
int probe_discover(const char *profile, const char *sdk, probe_getenv_fn getenv_fn, probe_readfile_fn readfile,
                   void *ctx, probe_cred *out, wih_err **err);
/* {"cloud","source","detail","why","error","endpoints":{…},"token_file",…}
 * (fixtures; no secrets). */
cJSON *probe_cred_describe(const probe_cred *c);

/* Claims of the projected token, without verification: {"iss","sub","aud":[…],
 * "pod","namespace","service_account","lifetime_s","exp"}. NULL when the file
 * does not hold a JWT. Never the token. */
cJSON *probe_token_claims(const char *token);

/* ------------------------------------------------------------ the probe */
typedef struct probe_opts {
    const char *profile;             /* NULL = detect */
    const char *sdk;                 /* AWS: NULL/"boto3" or "go" (probe_discover) */
    const char *const *access;       /* "OP:s3://bucket/key", OP read|write|list|delete */
    size_t naccess;
    const char *const *expect_env;   /* names recorded in "env" even when unset */
    size_t nexpect_env;
    const char *verdict_file;        /* NULL = /dev/termination-log */
    int64_t timeout_ms;              /* per HTTP request; 0 = 15 s */
    /* "real" (--store real, or WIH_PROBE_STORE=real: --identity real): the
     * accesses go to the real store through the realstorage builders with
     * the identity that answered — S3 SigV4 (AWS_ENDPOINT_URL_S3, else
     * AWS's virtual-hosted endpoint), Azure Blob with the Entra token
     * (WIH_BLOB_ACCOUNT_URL; s3://CONTAINER/BLOB), GCS with the Google
     * access token (WIH_GCS_ENDPOINT, else storage.googleapis.com;
     * s3://BUCKET/OBJECT); no MinIO STS hop. NULL/"mock" = MinIO (s3.c). */
    const char *store;
} probe_opts;

/* Check one --access value: 0, or -1 + err (exit 2) naming what is wrong. */
int probe_access_parse(const char *spec, char **op, char **bucket, char **key, wih_err **err);

/* Run the probe in this process's environment. Returns the verdict (caller
 * deletes), NULL + err only when it could not run at all. */
cJSON *probe_run(const probe_opts *o, wih_err **err);
/* The verdict as compact JSON below max bytes (4096 → max 4095): long strings
 * cut, then "env" dropped, then access entries from the end; "truncated"
 * lists what was cut. Caller frees. */
char *probe_verdict_print(cJSON *verdict, size_t max);

#endif
