/* The probe run: discover → token file → exchange → who am I → bucket
 * accesses → one verdict (TEAM.md format). Every network call goes to an
 * endpoint from the environment (the test network); a default public
 * endpoint is never called. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "wiharness/jsonpath.h"
#include "wiharness/probe.h"
#include "wiharness/jwt.h"
#include "wiharness/realstorage.h"

#define ENTRA_SCOPE "https://storage.azure.com/.default"
#define GOOGLE_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GOOGLE_IAM_SCOPE "https://www.googleapis.com/auth/iam"
#define MINIO_DURATION 900

static const char *real_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

static char *real_readfile(void *ctx, const char *path, size_t *len, wih_err **err)
{
    (void)ctx;
    return wih_read_file(path, 1 << 20, len, err);
}

typedef struct run {
    const probe_opts *o;
    probe_cred c;
    cJSON *v;          /* the verdict */
    char *token;       /* SECRET: the projected token */
    s3_creds s3;       /* what the accesses use */
    bool have_s3;
    char *bearer;      /* SECRET: the real store's token (Azure/Google, store real) */
    char *identity;    /* the principal the cloud saw */
    const char *deny_reason; /* when there are no usable S3 credentials */
    char *deny_code;
    long deny_status;
    char *error;       /* the verdict's top-level error */
    char **secrets;    /* scrubbed from every message */
    size_t nsecrets;
} run;

static void remember(run *r, const char *s)
{
    if (!s || !*s) return;
    char **n = realloc(r->secrets, (r->nsecrets + 1) * sizeof *n);
    if (!n) abort();
    r->secrets = n;
    n[r->nsecrets++] = wih_strdup(s);
}

/* A message fit for the verdict: no remembered secret, nothing JWT-shaped, ≤ 300 bytes. */
static char *scrub(run *r, const char *msg)
{
    if (!msg) return NULL;
    char *s = wih_strdup(msg);
    for (size_t i = 0; i < r->nsecrets; i++) {
        char *p;
        while ((p = strstr(s, r->secrets[i]))) {
            char *fp = wih_fingerprint(r->secrets[i]);
            char *n = wih_asprintf("%.*s<%s>%s", (int)(p - s), s, fp, p + strlen(r->secrets[i]));
            free(fp);
            wih_free_secret(s);
            s = n;
        }
    }
    char *p;
    while ((p = strstr(s, "eyJ"))) {
        size_t n = 0;
        while (p[n] && (strchr("-_.=", p[n]) || (p[n] >= '0' && p[n] <= '9') || ((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z'))) n++;
        char *t = wih_asprintf("%.*s<jwt>%s", (int)(p - s), s, p + n);
        wih_free_secret(s);
        s = t;
    }
    if (strlen(s) > 300) strcpy(s + 297, "...");
    return s;
}

static void set_error(run *r, const char *msg)
{
    if (!r->error) r->error = scrub(r, msg);
}

static void add_str(cJSON *j, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

/* ------------------------------------------------------------ the token */
cJSON *probe_token_claims(const char *token)
{
    wih_jwt_code code;
    wih_err *e = NULL;
    wih_jwt *t = wih_jwt_parse(token, &code, &e);
    wih_err_free(e);
    if (!t) return NULL;
    cJSON *j = cJSON_CreateObject();
    add_str(j, "iss", wih_jwt_claim_str(t, "iss"));
    add_str(j, "sub", wih_jwt_claim_str(t, "sub"));
    cJSON *aud = cJSON_AddArrayToObject(j, "aud");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(t->payload, "aud");
    if (cJSON_IsString(a)) cJSON_AddItemToArray(aud, cJSON_CreateString(a->valuestring));
    const cJSON *it;
    if (cJSON_IsArray(a)) cJSON_ArrayForEach(it, a) if (cJSON_IsString(it))
        cJSON_AddItemToArray(aud, cJSON_CreateString(it->valuestring));
    const cJSON *k8s = cJSON_GetObjectItemCaseSensitive(t->payload, "kubernetes.io");
    const cJSON *pod = cJSON_GetObjectItemCaseSensitive(k8s, "pod");
    add_str(j, "pod", wih_json_member_str(pod, "name"));
    int64_t iat = 0, exp = 0;
    bool has_iat = wih_jwt_claim_int(t, "iat", &iat), has_exp = wih_jwt_claim_int(t, "exp", &exp);
    if (has_iat && has_exp) cJSON_AddNumberToObject(j, "lifetime_s", (double)(exp - iat));
    else cJSON_AddNullToObject(j, "lifetime_s");
    if (has_exp) cJSON_AddNumberToObject(j, "exp", (double)exp);
    wih_jwt_free(t);
    return j;
}

/* The subject token of a JSON-format Google credential source. */
static char *json_field(const char *text, const char *field)
{
    cJSON *j = cJSON_Parse(text);
    const char *v = wih_json_member_str(j, field);
    char *s = wih_strdup(v);
    cJSON_Delete(j);
    return s;
}

static void read_token(run *r)
{
    if (!r->c.token_file) return;
    cJSON *t = cJSON_AddObjectToObject(r->v, "token");
    cJSON_AddStringToObject(t, "path", r->c.token_file);
    struct stat st;
    wih_err *e = NULL;
    size_t len = 0;
    char *text = stat(r->c.token_file, &st) == 0 ? wih_read_file(r->c.token_file, 64 * 1024, &len, &e) : NULL;
    if (!text) {
        char *m = wih_asprintf("token file %s: %s", r->c.token_file, e ? wih_err_str(e) : strerror(errno));
        cJSON_AddStringToObject(t, "error", m);
        set_error(r, m);
        free(m);
        wih_err_free(e);
        return;
    }
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", (unsigned)(st.st_mode & 07777));
    if (r->c.token_format_field) {
        char *f = json_field(text, r->c.token_format_field);
        wih_free_secret(text);
        text = f;
    }
    if (!text || !*text) {
        set_error(r, "the token file holds no token");
        free(text);
        return;
    }
    /* sent as read, like the SDKs (botocore FileWebIdentityTokenLoader,
     * azure-identity TokenFileMixin and google-auth read the file whole): a
     * trailing newline reaches the cloud too; the claims are read without it */
    r->token = text;
    remember(r, text);
    size_t tl = strcspn(text, "\r\n \t");
    char *trimmed = wih_asprintf("%.*s", (int)tl, text);
    if (tl != strlen(text)) cJSON_AddBoolToObject(t, "trailing_whitespace", true);
    cJSON *claims = probe_token_claims(trimmed);
    wih_free_secret(trimmed);
    if (claims) {
        cJSON *c;
        while ((c = claims->child)) {
            cJSON_DetachItemViaPointer(claims, c);
            if (strcmp(c->string, "exp")) cJSON_AddItemToObject(t, c->string, c);
            else cJSON_Delete(c);
        }
        cJSON_Delete(claims);
    } else {
        cJSON_AddStringToObject(t, "error", "not a JWT");
    }
    cJSON_AddStringToObject(t, "mode", mode);
    cJSON_AddNumberToObject(t, "uid", (double)st.st_uid);
    cJSON_AddNumberToObject(t, "gid", (double)st.st_gid);
    char *fp = wih_fingerprint(text); /* of the bytes sent */
    cJSON_AddStringToObject(t, "fingerprint", fp);
    if (!r->c.fingerprint) r->c.fingerprint = fp;
    else free(fp);
}

/* ----------------------------------------------------------- exchanges */
typedef int (*parse_fn)(long, const char *, size_t, probe_answer *);

/* Send, parse, record the step in exchange.steps. Returns 0 when the answer
 * carried the credential; on refusal sets the deny reason and error. */
static int step(run *r, cJSON *steps, probe_req *q, const char *ca, parse_fn parse, probe_answer *a)
{
    memset(a, 0, sizeof *a);
    long status = 0;
    wih_buf body;
    wih_err *e = NULL;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "what", q->what);
    cJSON_AddStringToObject(s, "endpoint", q->url);
    cJSON_AddItemToArray(steps, s);
    int rc = probe_send(q, ca, r->o->timeout_ms, &status, &body, &e);
    if (rc != 0) {
        cJSON_AddNumberToObject(s, "status", 0);
        char *m = wih_asprintf("%s", wih_err_str(e));
        set_error(r, m);
        free(m);
        wih_err_free(e);
        r->deny_reason = "error";
        a->status = 0;
        return -1;
    }
    rc = parse(status, body.data, body.len, a);
    OPENSSL_cleanse(body.data, body.len);
    wih_buf_free(&body);
    cJSON_AddNumberToObject(s, "status", (double)status);
    add_str(s, "code", a->code);
    remember(r, a->creds.secret_key);
    remember(r, a->creds.session_token);
    remember(r, a->access_token);
    if (rc != 0) {
        char *m = wih_asprintf("%s: HTTP %ld %s%s%s", q->what, status, a->code ? a->code : "",
                               a->code ? ": " : "", a->message ? a->message : "");
        set_error(r, m);
        free(m);
        r->deny_reason = status >= 400 && status < 500 ? "exchange-refused" : "error";
        free(r->deny_code);
        r->deny_code = wih_strdup(a->code);
        r->deny_status = status;
    }
    return rc;
}

static bool store_real(const run *r)
{
    return r->o->store && !strcmp(r->o->store, "real");
}

/* store real: the cloud's own access token is the store's bearer (no MinIO STS). */
static void take_bearer(run *r, const char *token)
{
    wih_free_secret(r->bearer);
    r->bearer = wih_strdup(token);
}

static void take_s3(run *r, probe_answer *a)
{
    r->s3 = a->creds;
    memset(&a->creds, 0, sizeof a->creds);
    r->have_s3 = true;
}

/* Principal from the cloud's own access token (a JWT in the mock): Entra
 * access tokens name the client in appid (v1) / azp (v2); Google identity
 * tokens in email. NULL when the token is opaque or says nothing. */
static char *claim_of(const char *token, const char *const *names)
{
    wih_jwt_code code;
    wih_err *e = NULL;
    wih_jwt *t = token ? wih_jwt_parse(token, &code, &e) : NULL;
    wih_err_free(e);
    char *v = NULL;
    for (; t && *names && !v; names++) v = wih_strdup(wih_jwt_claim_str(t, *names));
    wih_jwt_free(t);
    return v;
}

static const char *s3_endpoint_or_fail(run *r)
{
    if (r->c.s3_endpoint) return r->c.s3_endpoint;
    set_error(r, "no S3 endpoint: set WIH_S3_ENDPOINT or AWS_ENDPOINT_URL_S3 (the probe never calls a public one)");
    r->deny_reason = "error";
    return NULL;
}

/* The cloud's access token → MinIO STS → S3 session credentials. */
static void minio_exchange(run *r, cJSON *steps, const char *access_token)
{
    const char *ep = s3_endpoint_or_fail(r);
    if (!ep) return;
    probe_req *q = probe_req_minio_web_identity(ep, access_token, MINIO_DURATION);
    probe_answer a;
    if (step(r, steps, q, r->c.ca_file, probe_parse_sts, &a) == 0) take_s3(r, &a);
    probe_answer_clear(&a);
    probe_req_free(q);
}

static void caller_identity(run *r, cJSON *ex, cJSON *steps)
{
    if (!r->c.sts_endpoint || !r->have_s3) return;
    probe_req *q = probe_req_aws_caller_identity(r->c.sts_endpoint, r->c.region, &r->s3);
    probe_answer a;
    const char *keep = r->deny_reason;
    char *keep_err = r->error;
    r->error = NULL;
    if (step(r, steps, q, r->c.ca_file, probe_parse_caller_identity, &a) == 0) {
        free(r->identity);
        r->identity = wih_strdup(a.identity);
        cJSON_ReplaceItemInObject(ex, "identity_from", cJSON_CreateString("GetCallerIdentity"));
    } else {
        /* not fatal: the S3 accesses still run; the step records why */
        cJSON_AddStringToObject(ex, "caller_identity_error", r->error ? r->error : "failed");
    }
    free(r->error);
    r->error = keep_err;
    r->deny_reason = keep;
    probe_answer_clear(&a);
    probe_req_free(q);
}

static void aws_exchange(run *r, cJSON *ex, cJSON *steps)
{
    probe_cred *c = &r->c;
    if (c->source == PROBE_SRC_STATIC_ENV) {
        r->s3 = (s3_creds){wih_strdup(c->access_key), wih_strdup(c->secret_key), wih_strdup(c->session_token), NULL};
        r->have_s3 = true;
        remember(r, c->secret_key);
        remember(r, c->session_token);
        r->identity = wih_asprintf("access-key:%s", c->access_key);
        cJSON_AddStringToObject(ex, "identity_from", "AWS_ACCESS_KEY_ID");
        caller_identity(r, ex, steps);
        return;
    }
    if (!c->sts_endpoint) {
        set_error(r, "no STS endpoint: set AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL (the probe never calls "
                     "sts.amazonaws.com)");
        r->deny_reason = "error";
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* the SDKs' default session names: botocore-session-<unix s>; aws-sdk-go-v2: <unix ns> */
    char *sess = c->session_name ? wih_strdup(c->session_name)
               : r->o->sdk && !strcmp(r->o->sdk, "go")
                   ? wih_asprintf("%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec)
                   : wih_asprintf("botocore-session-%lld", (long long)ts.tv_sec);
    probe_req *q = probe_req_aws_web_identity(c->sts_endpoint, c->role_arn, sess, r->token, 0);
    free(sess);
    probe_answer a;
    if (step(r, steps, q, c->ca_file, probe_parse_sts, &a) == 0) {
        r->identity = wih_strdup(a.identity);
        cJSON_AddStringToObject(ex, "identity_from", "AssumeRoleWithWebIdentity");
        take_s3(r, &a);
        caller_identity(r, ex, steps);
    }
    probe_answer_clear(&a);
    probe_req_free(q);
}

/* parse_fn shape for the discovery document: token_endpoint kept in identity. */
static int parse_discovery(long status, const char *body, size_t len, probe_answer *a)
{
    char *te = probe_parse_entra_discovery(status, body, len, a);
    a->identity = te;
    return te ? 0 : -1;
}

/* The Entra token request: the client secret flow goes through MSAL (tenant
 * discovery, then the document's token_endpoint); WorkloadIdentityCredential
 * posts straight to <authority>/<tenant>/oauth2/v2.0/token. */
static probe_req *entra_request(run *r, cJSON *steps)
{
    probe_cred *c = &r->c;
    if (c->source != PROBE_SRC_CLIENT_SECRET)
        return probe_req_entra_assertion(c->authority, c->tenant_id, c->client_id, ENTRA_SCOPE, r->token);
    probe_req *d = probe_req_entra_discovery(c->authority, c->tenant_id);
    probe_answer disc;
    int drc = step(r, steps, d, c->ca_file, parse_discovery, &disc);
    probe_req_free(d);
    probe_req *q = drc == 0 ? probe_req_entra_secret_at(disc.identity, c->client_id, ENTRA_SCOPE, c->client_secret)
                            : NULL;
    probe_answer_clear(&disc);
    return q;
}

static void azure_exchange(run *r, cJSON *ex, cJSON *steps)
{
    probe_cred *c = &r->c;
    probe_req *q = entra_request(r, steps);
    if (!q) return;
    probe_answer a;
    if (step(r, steps, q, c->ca_file, probe_parse_entra, &a) == 0) {
        static const char *const names[] = {"appid", "azp", NULL};
        char *id = claim_of(a.access_token, names);
        cJSON_AddStringToObject(ex, "identity_from", id ? "access token claim" : "client_id the token was issued for");
        r->identity = id ? id : wih_strdup(c->client_id);
        if (store_real(r)) take_bearer(r, a.access_token);
        else minio_exchange(r, steps, a.access_token);
    }
    probe_answer_clear(&a);
    probe_req_free(q);
}

/* Who the Google access token is for: tokeninfo (the cloud says), else the
 * token's email claim, else the impersonated service account. A failing
 * tokeninfo is not fatal (steps record it). */
static char *google_identity(run *r, cJSON *steps, const char *token, cJSON *ex)
{
    char *url = probe_google_tokeninfo_url(r->c.token_url);
    probe_req *q = url ? probe_req_google_tokeninfo(url, token) : NULL;
    free(url);
    probe_answer a;
    char *id = NULL;
    char *keep_err = r->error;
    const char *keep = r->deny_reason;
    r->error = NULL;
    if (q && step(r, steps, q, r->c.ca_file, probe_parse_google_tokeninfo, &a) == 0) {
        id = wih_strdup(a.identity);
        cJSON_AddStringToObject(ex, "identity_from", "tokeninfo");
    }
    if (q) probe_answer_clear(&a);
    free(r->error);
    r->error = keep_err;
    r->deny_reason = keep;
    probe_req_free(q);
    if (id) return id;
    static const char *const names[] = {"email", NULL};
    id = claim_of(token, names);
    cJSON_AddStringToObject(ex, "identity_from", id ? "access token claim"
                                                  : r->c.gsa ? "service account the token was issued for"
                                                             : "federated token");
    return id ? id : r->c.gsa ? wih_strdup(r->c.gsa) : wih_strdup("federated principal (no impersonation)");
}

static void google_exchange(run *r, cJSON *ex, cJSON *steps)
{
    probe_cred *c = &r->c;
    /* google-auth asks STS for the iam scope when it impersonates next, else for the caller's scopes */
    probe_req *q = probe_req_google_sts(c->token_url, c->audience, c->subject_token_type,
                                        c->impersonation_url ? GOOGLE_IAM_SCOPE : GOOGLE_SCOPE, r->token);
    probe_answer fed, at;
    memset(&at, 0, sizeof at);
    if (step(r, steps, q, c->ca_file, probe_parse_google_sts, &fed) == 0) {
        const char *token = fed.access_token;
        if (c->impersonation_url) {
            probe_req *g = probe_req_google_generate(c->impersonation_url, GOOGLE_SCOPE, fed.access_token);
            token = step(r, steps, g, c->ca_file, probe_parse_google_generate, &at) == 0 ? at.access_token : NULL;
            probe_req_free(g);
        }
        if (token) {
            r->identity = google_identity(r, steps, token, ex);
            if (store_real(r)) take_bearer(r, token);
            else minio_exchange(r, steps, token);
        }
    }
    probe_answer_clear(&fed);
    probe_answer_clear(&at);
    probe_req_free(q);
}

static void exchange(run *r)
{
    probe_cred *c = &r->c;
    cJSON *ex = cJSON_AddObjectToObject(r->v, "exchange");
    cJSON *steps = cJSON_CreateArray();
    if (c->source == PROBE_SRC_NONE || c->error || (c->token_file && !r->token)) {
        if (c->error) set_error(r, c->error);
        r->deny_reason = c->source == PROBE_SRC_NONE && !c->error ? "no-credentials" : "error";
        cJSON_AddBoolToObject(ex, "ok", false);
        cJSON_AddNullToObject(ex, "endpoint");
        cJSON_AddNullToObject(ex, "status");
        add_str(ex, "error", c->source == PROBE_SRC_NONE && !c->error ? "no credentials found" : r->error);
        cJSON_AddNullToObject(ex, "identity");
        cJSON_Delete(steps);
        return;
    }
    if (!strcmp(c->cloud, "aws")) aws_exchange(r, ex, steps);
    else if (!strcmp(c->cloud, "azure")) azure_exchange(r, ex, steps);
    else google_exchange(r, ex, steps);
    const cJSON *first = cJSON_GetArrayItem(steps, 0); /* the exchange proper: discovery is not it */
    if (first && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(first, "what")), "discovery") &&
        cJSON_GetArraySize(steps) > 1)
        first = cJSON_GetArrayItem(steps, 1);
    cJSON *last = cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1);
    cJSON *notes = cJSON_Duplicate(ex, true); /* identity_from, caller_identity_error: after the agreed keys */
    while (ex->child) cJSON_DeleteItemFromArray(ex, 0);
    bool got = r->have_s3 || r->bearer;
    cJSON_AddBoolToObject(ex, "ok", got);
    bool exchanged = c->source != PROBE_SRC_STATIC_ENV; /* static keys: nothing exchanged, steps hold GetCallerIdentity */
    add_str(ex, "endpoint", exchanged && first ? cJSON_GetStringValue(cJSON_GetObjectItem(first, "endpoint")) : NULL);
    const cJSON *st = !exchanged ? NULL
                    : got || !last ? cJSON_GetObjectItem(first, "status") : cJSON_GetObjectItem(last, "status");
    if (cJSON_IsNumber(st)) cJSON_AddNumberToObject(ex, "status", st->valuedouble);
    else cJSON_AddNullToObject(ex, "status");
    add_str(ex, "error", got ? NULL : r->error);
    add_str(ex, "identity", r->identity);
    cJSON *n;
    while ((n = notes->child)) cJSON_AddItemToObject(ex, n->string, cJSON_DetachItemViaPointer(notes, n));
    cJSON_Delete(notes);
    cJSON_AddItemToObject(ex, "steps", steps);
}

/* ------------------------------------------------------------- accesses */
int probe_access_parse(const char *spec, char **op, char **bucket, char **key, wih_err **err)
{
    *op = *bucket = *key = NULL;
    const char *colon = strchr(spec, ':');
    static const char *const ops[] = {"read", "write", "list", "delete", NULL};
    const char *const *o = ops;
    if (colon) for (; *o; o++) if (strlen(*o) == (size_t)(colon - spec) && !strncmp(spec, *o, strlen(*o))) break;
    if (!colon || !*o) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--access %s: expected OP:s3://BUCKET/KEY with OP read, write, list or delete",
                           spec);
        return -1;
    }
    const char *u = colon + 1;
    if (strncmp(u, "s3://", 5)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--access %s: the URL must start with s3://", spec);
        return -1;
    }
    u += 5;
    const char *slash = strchr(u, '/');
    char *b = slash ? wih_asprintf("%.*s", (int)(slash - u), u) : wih_strdup(u);
    if (!s3_bucket_name_ok(b)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--access %s: \"%s\" is not a valid bucket name", spec, b);
        free(b);
        return -1;
    }
    const char *k = slash ? slash + 1 : "";
    if (!*k && strcmp(*o, "list")) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--access %s: %s needs an object key (s3://%s/KEY)", spec, *o, b);
        free(b);
        return -1;
    }
    *op = wih_strdup(*o);
    *bucket = b;
    *key = wih_strdup(k);
    return 0;
}

static int s3_op(s3_client *s, const char *op, const char *bucket, const char *key, const char *payload,
                 wih_err **e)
{
    if (!strcmp(op, "write")) return s3_put_object(s, bucket, key, payload, strlen(payload), e);
    if (!strcmp(op, "delete")) return s3_delete_object(s, bucket, key, e);
    if (!strcmp(op, "list")) {
        cJSON *l = s3_list_objects(s, bucket, key, e);
        cJSON_Delete(l);
        return l ? 0 : -1;
    }
    size_t n = 0;
    char *got = s3_get_object(s, bucket, key, &n, e);
    free(got);
    return got ? 0 : -1;
}

/* store real: one access through the realstorage builders → result and reason as on MinIO. */
static probe_req *real_request(run *r, const char *op, const char *bucket, const char *key, const char *payload,
                               wih_err **e)
{
    size_t len = strlen(payload);
    if (!strcmp(r->c.cloud, "aws"))
        return rs_s3_request(op, r->c.s3_endpoint, r->c.region, bucket, key, &r->s3, payload, len, e);
    if (!strcmp(r->c.cloud, "azure")) {
        const char *acct = getenv("WIH_BLOB_ACCOUNT_URL");
        if (!acct || !*acct) {
            *e = wih_err_new(WIH_EXIT_INPUT, "no Blob account URL: set WIH_BLOB_ACCOUNT_URL");
            return NULL;
        }
        char date[64];
        time_t now = time(NULL);
        struct tm tm;
        strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
        return rs_blob_request(op, acct, bucket, key, r->bearer, date, payload, len, e);
    }
    const char *ep = getenv("WIH_GCS_ENDPOINT");
    return rs_gcs_request(op, ep && *ep ? ep : NULL, bucket, key, r->bearer, payload, len, e);
}

static const char *real_op(run *r, const char *op, const char *bucket, const char *key, const char *payload,
                           long *status, char **code, char **msg, const char **reason)
{
    const char *provider = !strcmp(r->c.cloud, "aws") ? "s3" : !strcmp(r->c.cloud, "azure") ? "blob" : "gcs";
    wih_err *e = NULL;
    char *pm = NULL;
    probe_req *q = real_request(r, op, bucket, key, payload, &e);
    const char *res = q ? rs_do(q, provider, r->c.ca_file, r->o->timeout_ms, status, code, &pm, &e) : NULL;
    probe_req_free(q);
    bool absent = *code && (!strcmp(*code, "NoSuchKey") || !strcmp(*code, "BlobNotFound") || !strcmp(*code, "notFound"));
    if (res && !strcmp(res, "error") && *status == 404 && absent && strcmp(op, "write")) {
        res = "allowed"; /* authorised; the object is not there */
    } else if (res && !strcmp(res, "denied")) {
        *reason = "bucket-refused";
    } else if (!res || strcmp(res, "allowed")) {
        res = "error", *reason = "error";
        char *m = e ? wih_strdup(wih_err_str(e)) : wih_asprintf("HTTP %ld %s", *status, pm ? pm : "");
        *msg = scrub(r, m);
        free(m);
    }
    free(pm);
    wih_err_free(e);
    return res;
}

static cJSON *access_one(run *r, s3_client *s, const char *spec, const char *payload)
{
    cJSON *a = cJSON_CreateObject();
    char *op, *bucket, *key;
    wih_err *e = NULL;
    probe_access_parse(spec, &op, &bucket, &key, &e); /* checked by the CLI already */
    wih_err_free(e);
    e = NULL;
    cJSON_AddStringToObject(a, "op", op ? op : "?");
    char *url = wih_asprintf("s3://%s/%s", bucket ? bucket : "?", key ? key : "");
    cJSON_AddStringToObject(a, "url", url);
    free(url);
    const char *result, *reason = NULL;
    long status = 0;
    char *code = NULL, *msg = NULL;
    bool real_ready = store_real(r) && (r->have_s3 || r->bearer);
    if ((!s && !real_ready) || !op) {
        result = r->deny_reason && strcmp(r->deny_reason, "error") ? "denied" : "error";
        reason = r->deny_reason ? r->deny_reason : "error";
        status = r->deny_status;
        code = wih_strdup(r->deny_code);
    } else if (store_real(r)) {
        result = real_op(r, op, bucket, key, payload, &status, &code, &msg, &reason);
    } else if (s3_op(s, op, bucket, key, payload, &e) == 0) {
        result = "allowed";
        status = 200;
    } else {
        status = e->http_status;
        code = s3_err_code(e);
        if (status == 404 && code && !strcmp(code, "NoSuchKey") && strcmp(op, "write")) {
            result = "allowed"; /* authorised; the object is not there */
        } else if (status == 403) {
            result = "denied", reason = "bucket-refused";
        } else {
            result = "error", reason = "error";
            msg = scrub(r, wih_err_str(e));
        }
        wih_err_free(e);
    }
    cJSON_AddStringToObject(a, "result", result);
    cJSON_AddNumberToObject(a, "status", (double)status);
    add_str(a, "code", code);
    add_str(a, "reason", reason);
    if (msg) cJSON_AddStringToObject(a, "error", msg);
    add_str(a, "identity", r->identity);
    free(code);
    free(msg);
    free(op);
    free(bucket);
    free(key);
    return a;
}

static void accesses(run *r)
{
    cJSON *arr = cJSON_AddArrayToObject(r->v, "access");
    bool real = store_real(r); /* the real store: no MinIO client, AWS's endpoint when none is set */
    s3_client *s = !real && r->have_s3 && r->c.s3_endpoint ? s3_client_new(r->c.s3_endpoint, &r->s3, r->c.ca_file) : NULL;
    if (!real && r->have_s3 && !s) s3_endpoint_or_fail(r);
    char *payload = wih_asprintf("written by wiharness probe (%s) at %lld\n", r->c.cloud, (long long)time(NULL));
    for (size_t i = 0; i < r->o->naccess; i++) cJSON_AddItemToArray(arr, access_one(r, s, r->o->access[i], payload));
    free(payload);
    s3_client_free(s);
}

/* --------------------------------------------------------------- verdict */
static void credential(run *r)
{
    cJSON *c = cJSON_GetObjectItem(r->v, "credential");
    cJSON_AddStringToObject(c, "source", probe_source_name(r->c.source));
    add_str(c, "detail", r->c.detail);
    add_str(c, "fingerprint", r->c.fingerprint);
    add_str(c, "why", r->c.why);
    if (r->c.error) cJSON_AddStringToObject(c, "error", r->c.error);
}

static void expect_env(run *r)
{
    for (size_t i = 0; i < r->o->nexpect_env; i++) {
        const char *n = r->o->expect_env[i];
        if (cJSON_GetObjectItemCaseSensitive(r->c.env, n)) continue;
        const char *v = getenv(n);
        if (!v) {
            cJSON_AddNullToObject(r->c.env, n);
            continue;
        }
        size_t l = strlen(n);
        bool secret = strstr(n, "SECRET") || strstr(n, "PASSWORD") || (l > 6 && !strcmp(n + l - 6, "_TOKEN")) ||
                      !strncmp(v, "eyJ", 3);
        char *fp = secret ? wih_fingerprint(v) : NULL;
        cJSON_AddStringToObject(r->c.env, n, fp ? fp : v);
        free(fp);
    }
}

cJSON *probe_run(const probe_opts *o, wih_err **err)
{
    run r = {.o = o};
    if (probe_discover(o->profile, o->sdk, real_getenv, real_readfile, NULL, &r.c, err) != 0) return NULL;
    r.v = cJSON_CreateObject();
    cJSON_AddNumberToObject(r.v, "probe", 1);
    const char *prof = o->profile ? o->profile
                     : !strcmp(r.c.cloud, "aws") ? "aws-irsa" : !strcmp(r.c.cloud, "azure") ? "azure-wi" : "gcp-fleet";
    cJSON_AddStringToObject(r.v, "profile", prof);
    remember(&r, r.c.secret_key);
    remember(&r, r.c.session_token);
    remember(&r, r.c.client_secret);
    cJSON_AddObjectToObject(r.v, "credential"); /* filled once the token's fingerprint is known */
    read_token(&r);
    exchange(&r);
    credential(&r);
    expect_env(&r);
    cJSON_AddItemToObject(r.v, "env", r.c.env);
    r.c.env = NULL;
    accesses(&r);
    add_str(r.v, "error", r.error);
    cJSON *v = r.v;
    wih_free_secret(r.token);
    wih_free_secret(r.bearer);
    s3_creds_clear(&r.s3);
    free(r.identity);
    free(r.deny_code);
    free(r.error);
    for (size_t i = 0; i < r.nsecrets; i++) wih_free_secret(r.secrets[i]);
    free(r.secrets);
    probe_cred_clear(&r.c);
    return v;
}

/* Cut every string longer than n bytes. Returns true when one was cut. */
static bool cut_strings(cJSON *j, size_t n)
{
    bool cut = false;
    for (cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && strlen(c->valuestring) > n) {
            char *s = wih_asprintf("%.*s...", (int)(n - 3), c->valuestring);
            cJSON_SetValuestring(c, s);
            free(s);
            cut = true;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            cut = cut_strings(c, n) || cut;
        }
    }
    return cut;
}

char *probe_verdict_print(cJSON *v, size_t max)
{
    char *s = cJSON_PrintUnformatted(v);
    cJSON *tr = NULL;
    for (int stage = 0; s && strlen(s) >= max && stage < 64; stage++) {
        free(s);
        if (!tr) tr = cJSON_AddArrayToObject(v, "truncated");
        if (stage == 0) {
            cJSON *steps = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "exchange"), "steps");
            if (steps) {
                cJSON_DeleteItemFromObject(cJSON_GetObjectItem(v, "exchange"), "steps");
                cJSON_AddItemToArray(tr, cJSON_CreateString("exchange.steps"));
            }
        } else if (stage == 1) {
            if (cut_strings(v, 160)) cJSON_AddItemToArray(tr, cJSON_CreateString("strings over 160 bytes"));
        } else if (stage == 2) {
            cJSON_DeleteItemFromObject(v, "env");
            cJSON_AddItemToArray(tr, cJSON_CreateString("env"));
        } else {
            cJSON *acc = cJSON_GetObjectItem(v, "access");
            int n = cJSON_GetArraySize(acc);
            if (n == 0) {
                cJSON_DeleteItemFromObject(v, "credential");
                cJSON_DeleteItemFromObject(v, "token");
                cJSON_AddItemToArray(tr, cJSON_CreateString("credential, token"));
                stage = 64;
            } else {
                cJSON_DeleteItemFromArray(acc, n - 1);
                char *m = wih_asprintf("access[%d]", n - 1);
                cJSON_AddItemToArray(tr, cJSON_CreateString(m));
                free(m);
            }
        }
        s = cJSON_PrintUnformatted(v);
    }
    if (s && strlen(s) >= max) { /* cannot happen with the fields above; never more than max anyway */
        free(s);
        s = wih_asprintf("{\"probe\":1,\"error\":\"the verdict did not fit in %zu bytes\",\"truncated\":[\"all\"]}", max);
    }
    return s;
}
