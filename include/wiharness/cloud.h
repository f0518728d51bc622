/* cloud — the mock cloud identity plane (AWS STS, Microsoft Entra token
 * endpoint, Google STS + IAM Credentials) over HTTPS, backed by the real MinIO.
 *
 * A role session becomes MinIO credentials like this: the cloud mints its own
 * RS256 JWT (iss = the cloud, sub = the caller's subject, aud = MinIO's
 * OpenID client id, policy = the role's MinIO policy) and calls MinIO's own
 * STS AssumeRoleWithWebIdentity with it; MinIO trusts the cloud through the
 * cloud's /.well-known/openid-configuration and /jwks. Entra and Google
 * access tokens ARE such JWTs, so a client exchanges them at MinIO's STS for
 * S3 credentials: MinIO, not the mock, decides what the role may touch.
 *
 * Every decision is one JSON line in the decision log (which check passed or
 * failed, expected vs actual iss/aud/sub) — never a token or a secret, only
 * wih_fingerprint()s.
 */
#ifndef WIHARNESS_CLOUD_H
#define WIHARNESS_CLOUD_H

#include <cjson/cJSON.h>

#include "wiharness/core.h"
#include "wiharness/jwt.h"
#include "wiharness/storage.h"

/* ------------------------------------------------------------ pure: forms */
#define CLOUD_FORM_MAX_BODY (256 * 1024)
#define CLOUD_FORM_MAX_FIELDS 64
/* application/x-www-form-urlencoded → {"name":"value",…} (strings). Errors
 * (exit 2): bad %-escape, NUL, empty name, a repeated name, too many fields,
 * too long. Pure. */
cJSON *cloud_form_parse(const char *body, size_t len, wih_err **err);

/* ------------------------------------------------------ pure: trust checks */
/* The registry as JSON (the admin API speaks it too):
 *   {"providers": {"<issuer>": {"jwks": {...}}},
 *    "roles": {"<name>": {"trust": {"issuer": "...", "subjects": ["system:serviceaccount:ns:sa", "…*"],
 *                                   "audience": "..."(optional)},
 *                         "grants": {"bucket": "read|write|readwrite|list"}}}}
 * Subjects may use fnmatch(3) patterns ("system:serviceaccount:team-a:*"). */
typedef enum {
    CLOUD_OK = 0,
    CLOUD_TOKEN_MALFORMED,   /* not a JWT, alg none/unsupported, claims of the wrong type */
    CLOUD_TOKEN_SIGNATURE,   /* kid unknown, no key, bad or truncated signature */
    CLOUD_ISSUER_UNKNOWN,    /* iss not registered as an OIDC provider */
    CLOUD_AUDIENCE,          /* aud does not contain the accepted audience */
    CLOUD_SUBJECT,           /* sub not allowed by the role's trust (or issuer ≠ the trusted one) */
    CLOUD_EXPIRED,           /* exp passed */
    CLOUD_NOT_YET_VALID,     /* nbf/iat in the future */
    CLOUD_CLAIM_MISSING,     /* no sub / no exp / no iss */
    CLOUD_ROLE_UNKNOWN,      /* no such role / application / service account */
} cloud_verdict;
const char *cloud_verdict_name(cloud_verdict v);

typedef struct cloud_decision {
    cloud_verdict verdict;
    wih_jwt_code jwt_code; /* when verdict is about the token itself */
    const char *check;     /* "parse", "issuer", "signature", "expiry", "audience", "subject", … (static) */
    char *detail;          /* human message (no token, no secret) */
    char *iss, *sub;       /* actual (from the token, possibly unverified), or NULL */
    cJSON *aud;            /* actual aud (owned copy), or NULL */
    char *want_iss, *want_aud; /* expected */
    char *token_fp;        /* fingerprint of the presented token */
    cJSON *checks;         /* [{"check":…, "ok":true|false}] in order */
} cloud_decision;
void cloud_decision_clear(cloud_decision *d);
/* One JSON object for the decision log (caller frees). */
cJSON *cloud_decision_json(const cloud_decision *d, const char *provider, const char *action, const char *role);

/* Check a subject token against the registry for `role` accepting audience
 * `want_aud` (NULL = the role's trust.audience). `now` seconds since the
 * epoch. The role must exist (caller looks it up). Pure. */
cloud_verdict cloud_check_token(const cJSON *registry, const char *role /* NULL: no role checks */, const char *token, const char *want_aud,
                                int64_t now, cloud_decision *d);

/* Identifiers each provider uses for a role (caller frees). */
char *cloud_aws_role_arn(const char *role);          /* arn:aws:iam::000000000000:role/<role> */
char *cloud_entra_client_id(const char *role);       /* a stable UUID from the name */
char *cloud_google_sa_email(const char *role);       /* <role>@wiharness.iam.gserviceaccount.com */
char *cloud_entra_object_id(const char *role);       /* the application's service principal (oid/sub of its tokens) */
char *cloud_google_sa_unique_id(const char *role);   /* 21 digits: the account's uniqueId (azp of its tokens) */
char *cloud_minio_policy_name(const char *role);     /* wih-role-<role> */
/* Role name from an ARN / client id / SA email, looked up in the registry; NULL if none. */
const char *cloud_role_from_arn(const cJSON *registry, const char *arn);
const char *cloud_role_from_client_id(const cJSON *registry, const char *client_id);
const char *cloud_role_from_sa_email(const cJSON *registry, const char *email);
/* Validate a role document (exit 2 errors naming the field). Pure. */
bool cloud_role_valid(const char *name, const cJSON *role, wih_err **err);

#define CLOUD_AWS_DEFAULT_AUDIENCE "sts.amazonaws.com"
#define CLOUD_ENTRA_AUDIENCE "api://AzureADTokenExchange"
#define CLOUD_GOOGLE_WIF_AUDIENCE \
    "//iam.googleapis.com/projects/000000000000/locations/global/workloadIdentityPools/wiharness/providers/kubernetes"
/* GKE Fleet Workload Identity as Google documents it: the projected token's
 * audience is the fleet's pool <PROJECT>.svc.id.goog, and the credential
 * config's audience is identitynamespace:<pool>:<identity provider>, the
 * provider being the membership's authority.identityProvider. `wiharness up`
 * configures the gcp-fleet webhook profile with these. */
#define CLOUD_GOOGLE_FLEET_PROJECT "wiharness-project"
#define CLOUD_GOOGLE_FLEET_POOL CLOUD_GOOGLE_FLEET_PROJECT ".svc.id.goog"
#define CLOUD_GOOGLE_FLEET_PROVIDER \
    "https://gkehub.googleapis.com/projects/" CLOUD_GOOGLE_FLEET_PROJECT "/locations/global/memberships/wiharness"
#define CLOUD_GOOGLE_FLEET_AUDIENCE "identitynamespace:" CLOUD_GOOGLE_FLEET_POOL ":" CLOUD_GOOGLE_FLEET_PROVIDER

/* ----------------------------------------------------- pure: handlers */
/* Each provider is a pure handler (environment, request) → reply + one
 * decision-log line; harness/cloud/server.c is only the HTTP layer around
 * them (libmicrohttpd, the decision log, MinIO, the admin API). */
typedef struct cloud_reply {
    int status;
    const char *ctype; /* static */
    char *body;        /* owned */
} cloud_reply;

typedef struct cloud_request {
    const char *method;   /* "GET", "POST", … */
    const char *path;     /* without the query string */
    const char *query;    /* the raw query string (after '?'), or NULL */
    const cJSON *headers; /* {"lower-case name": "value"} (borrowed), may be NULL */
    const char *body;
    size_t len;
    bool too_big;         /* the body was over the limit (not kept) */
} cloud_request;

typedef struct cloud_env {
    const cJSON *reg;            /* the registry (see above) */
    const char *url;             /* the cloud's URL = the issuer of what it mints */
    const wih_jwk_key *key;      /* its signing key */
    const cJSON *jwks;           /* its public keys */
    const char *minio_client_id; /* aud of what it mints for MinIO */
    const cJSON *sessions;       /* AWS sessions it issued (cloud_aws_session_add), may be NULL */
    int64_t now;                 /* seconds since the epoch */
} cloud_env;

typedef struct cloud_result {
    cloud_reply reply;
    cJSON *decision;      /* the decision-log line (owned), or NULL */
    const char *provider; /* "aws", "azure", "google", "discovery", "admin" (static) */
    bool admin;           /* the admin API: the HTTP layer answers it (needs MinIO) */
    /* AssumeRoleWithWebIdentity allowed: the HTTP layer opens the MinIO
     * session, then cloud_aws_assume_reply renders the answer. */
    bool mint;
    char *role, *sub, *iss, *aud, *session;
    int duration;
} cloud_result;
void cloud_result_clear(cloud_result *r);

/* Every non-admin endpoint: routing by method and path (docs/cloud.md). Pure. */
void cloud_route(const cloud_env *e, const cloud_request *rq, cloud_result *out);
/* The providers (also reachable through cloud_route). */
void cloud_aws_sts(const cloud_env *e, const cloud_request *rq, cloud_result *out);
void cloud_entra_token(const cloud_env *e, const char *tenant, const cloud_request *rq, cloud_result *out);
void cloud_google_sts(const cloud_env *e, const cloud_request *rq, cloud_result *out);
void cloud_google_generate(const cloud_env *e, const char *email, const cloud_request *rq, cloud_result *out);
/* GET /tokeninfo?access_token= or POST form access_token=: who a Google access token is for. */
void cloud_google_tokeninfo(const cloud_env *e, const cloud_request *rq, cloud_result *out);
/* After r->mint: the AssumeRoleWithWebIdentity answer with MinIO's credentials
 * (or InternalFailure when cr is NULL; minio_error goes to the decision). */
void cloud_aws_assume_reply(cloud_result *r, const s3_creds *cr, const char *minio_error);

/* ------------------------------------------------------ pure: SigV4 */
/* Lower-case hex sha256 (caller frees). */
char *cloud_sha256_hex(const void *data, size_t len);
/* AWS's canonical request of rq for the ';'-separated lower-case signed
 * header names; the payload hash is the x-amz-content-sha256 header when
 * present, else sha256 of the body. Caller frees. */
char *cloud_sigv4_canonical_request(const cloud_request *rq, const char *signed_headers);
/* The hex AWS4-HMAC-SHA256 signature of a canonical request at amzdate
 * (YYYYMMDDTHHMMSSZ) for scope "date/region/service/aws4_request"; NULL for
 * a malformed scope. Caller frees. */
char *cloud_sigv4_signature(const char *secret, const char *amzdate, const char *scope, const char *canonical);

/* AWS sessions the STS issued, for GetCallerIdentity: remember the
 * credentials of a role session until `expires` (epoch s); expired entries
 * are dropped. sessions is {"<AccessKeyId>": {...}} (holds secrets: never log it). */
void cloud_aws_session_add(cJSON *sessions, const s3_creds *cr, const char *role, const char *session,
                           int64_t expires, int64_t now);
/* Free a sessions object, wiping the secrets first. */
void cloud_aws_sessions_free(cJSON *sessions);
/* The IAM role id of a role: "AROA" + 17 upper-case letters/digits derived from the name. */
char *cloud_aws_role_id(const char *role);

/* ------------------------------------------------------------------ TLS */
/* A CA and a serving certificate for 127.0.0.1/localhost, written as
 * <dir>/ca.crt, <dir>/server.crt, <dir>/server.key (0600). For tests and
 * until the cluster's CA is wired in. */
int cloud_tls_generate(const char *dir, wih_err **err);

/* --------------------------------------------------------------- server */
typedef struct cloud_opts {
    const char *cert_file, *key_file; /* required: HTTPS serving cert and key (PEM) */
    int port;                         /* 0 = a free loopback port */
    const char *decision_log;         /* JSONL file (appended); NULL = only wih_debug */
    const char *minio_client_id;      /* aud of the JWTs minted for MinIO; default "wiharness-minio" */
    const char *admin_token;          /* NULL = generated (read it with cloud_admin_token); else at
                                         least CLOUD_ADMIN_TOKEN_MIN characters (cloud_start refuses less) */
    /* Persistence, so a restarted cloud keeps what MinIO and clients know:
     * the token-signing key (PEM, 0600; generated and written when absent —
     * MinIO fetches the JWKS once at its start) and the registry (JSON, 0600;
     * loaded at start, rewritten after every provider/role change). NULL = in memory. */
    const char *signing_key_file;
    const char *registry_file;
    /* The MinIO behind it (else set later with cloud_set_minio). */
    const char *minio_endpoint, *minio_root_user, *minio_root_password;
} cloud_opts;

#define CLOUD_ADMIN_TOKEN_MIN 16
typedef struct cloud cloud;
cloud *cloud_start(const cloud_opts *o, wih_err **err);
void cloud_stop(cloud *c); /* NULL-safe */
/* Run in the foreground for a daemonised chain: start, write ready_file
 * (JSON {"url","port","pid"}, 0600) when listening, block until SIGINT/SIGTERM
 * (wih_signals_install must have been called), stop. */
wih_err *cloud_serve(const cloud_opts *o, const char *ready_file);
const char *cloud_url(const cloud *c);          /* "https://127.0.0.1:<port>" (also the issuer) */
int cloud_port(const cloud *c);
const char *cloud_admin_token(const cloud *c);  /* SECRET: never print */
const char *cloud_minio_client_id(const cloud *c);
/* The MinIO behind the cloud (root creds for policies, STS endpoint). */
void cloud_set_minio(cloud *c, const char *endpoint, const char *root_user, const char *root_password);

/* Registry operations (also reachable over the admin API). */
int cloud_provider_add(cloud *c, const char *issuer, const cJSON *jwks, wih_err **err);
/* Fetch <issuer>/.well-known/openid-configuration → jwks_uri → JWKS (ca_file
 * for an https issuer) and register it, like registering an IAM OIDC provider. */
int cloud_provider_discover(cloud *c, const char *issuer, const char *ca_file, wih_err **err);
/* Pure part of discovery: the jwks_uri of a discovery document, checking that
 * its issuer is `issuer`. */
char *cloud_discovery_jwks_uri(const cJSON *discovery, const char *issuer, wih_err **err);
/* Create/replace a role: validates, creates its MinIO policy, stores it. */
int cloud_role_set(cloud *c, const char *name, const cJSON *role, wih_err **err);
/* Delete a role: its MinIO policy, then the registry entry. An unknown role
 * is an error with http_status 404 (admin DELETE → 404). */
int cloud_role_delete(cloud *c, const char *name, wih_err **err);
/* [{"name", "trust", "grants", "aws_role_arn", "entra_client_id", "google_service_account", "minio_policy"}] */
cJSON *cloud_role_list(cloud *c);
/* A copy of the whole registry ({"providers","roles"}). */
cJSON *cloud_registry(cloud *c);
int cloud_bucket_create(cloud *c, const char *bucket, wih_err **err);

#endif
