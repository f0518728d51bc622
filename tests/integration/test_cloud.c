#define _XOPEN_SOURCE 700 /* strptime */
/* The mock cloud + the real MinIO: subject tokens signed here (as a
 * Kubernetes issuer would) → AWS STS / Entra / Google → MinIO credentials →
 * the role's bucket works and another team's bucket is denied BY MINIO. The
 * negative matrix per provider, malformed requests, the admin API, and a
 * final scan of every log for secrets. One process (CK_FORK=no): MinIO and
 * the cloud are started once. */
#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cloud.h"

#define K8S_ISS "https://127.0.0.1:6443"
#define SUB_A "system:serviceaccount:team-a:worker"

static char *tmp, *ca_file, *dlog_path, *stderr_path;
static int saved_stderr = -1;
static cloud *cl;
static minio *mn;
static wih_jwk_key *issuer_key, *rogue_key;
static int64_t now;

/* every secret the suite saw, for the final log scan */
static char *secrets[512];
static int nsecrets;
static void remember(const char *s)
{
    if (s && *s && nsecrets < 512) secrets[nsecrets++] = wih_strdup(s);
}

static void setup(void)
{
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_MINIO, false, &ti);
    bool have = ti.path != NULL;
    wih_tool_info_free(&ti);
    if (!have) wih_test_skip("MinIO is not built (run ci/setup or set WIH_MINIO)");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wih_err *e = NULL;
    tmp = wih_tmpdir("wih-cloud-", false, &e);
    ck_assert_msg(tmp, "%s", wih_err_str(e));
    /* everything the harness logs goes to a file we scan at the end */
    stderr_path = wih_path_join(tmp, "stderr.log");
    saved_stderr = dup(2);
    int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
    wih_log_set_level(WIH_LOG_DEBUG);

    char *tls = wih_path_join(tmp, "tls");
    ck_assert_msg(cloud_tls_generate(tls, &e) == 0, "%s", wih_err_str(e));
    ca_file = wih_path_join(tls, "ca.crt");
    char *crt = wih_path_join(tls, "server.crt"), *key = wih_path_join(tls, "server.key");
    dlog_path = wih_path_join(tmp, "decisions.jsonl");
    cloud_opts co = {.cert_file = crt, .key_file = key, .decision_log = dlog_path};
    cl = cloud_start(&co, &e);
    ck_assert_msg(cl, "%s", wih_err_str(e));
    remember(cloud_admin_token(cl));
    char *cfg = wih_asprintf("%s/.well-known/openid-configuration", cloud_url(cl));
    char *data = wih_path_join(tmp, "minio-data");
    minio_opts mo = {.data_dir = data,
                     .log_dir = tmp,
                     .ca_file = ca_file,
                     .openid_config_url = cfg,
                     .openid_client_id = cloud_minio_client_id(cl)};
    mn = minio_start(&mo, &e);
    ck_assert_msg(mn, "%s", wih_err_str(e));
    remember(minio_root_password(mn));
    cloud_set_minio(cl, minio_endpoint(mn), minio_root_user(mn), minio_root_password(mn));
    free(cfg);
    free(data);
    free(crt);
    free(key);
    free(tls);

    issuer_key = wih_jwk_generate(2048, "k8s-sa-key", &e);
    rogue_key = wih_jwk_generate(2048, "k8s-sa-key", &e); /* same kid, other key */
    ck_assert(issuer_key && rogue_key);
    cJSON *jwks = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(jwks, "keys"), wih_jwk_public(issuer_key));
    ck_assert_msg(cloud_provider_add(cl, K8S_ISS, jwks, &e) == 0, "%s", wih_err_str(e));
    cJSON_Delete(jwks);

    ck_assert_msg(cloud_bucket_create(cl, "team-a-data", &e) == 0, "%s", wih_err_str(e));
    ck_assert_msg(cloud_bucket_create(cl, "team-b-data", &e) == 0, "%s", wih_err_str(e));
    cJSON *ra = cJSON_Parse("{\"trust\":{\"issuer\":\"" K8S_ISS "\",\"subjects\":[\"" SUB_A "\"]},"
                            "\"grants\":{\"team-a-data\":\"readwrite\"}}");
    cJSON *rb = cJSON_Parse("{\"trust\":{\"issuer\":\"" K8S_ISS "\",\"subjects\":[\"system:serviceaccount:team-b:*\"]},"
                            "\"grants\":{\"team-b-data\":\"readwrite\"}}");
    ck_assert_msg(cloud_role_set(cl, "team-a", ra, &e) == 0, "%s", wih_err_str(e));
    ck_assert_msg(cloud_role_set(cl, "team-b", rb, &e) == 0, "%s", wih_err_str(e));
    cJSON_Delete(ra);
    cJSON_Delete(rb);
    /* something for team-a to be denied reading */
    s3_creds rc = {.access_key = (char *)minio_root_user(mn), .secret_key = (char *)minio_root_password(mn)};
    s3_client *root = s3_client_new(minio_endpoint(mn), &rc, NULL);
    ck_assert_msg(s3_put_object(root, "team-b-data", "secret.txt", "b", 1, &e) == 0, "%s", wih_err_str(e));
    s3_client_free(root);
    now = (int64_t)time(NULL);
}

static void teardown(void)
{
    minio_stop(mn);
    cloud_stop(cl);
    wih_jwk_free(issuer_key);
    wih_jwk_free(rogue_key);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, 2);
        close(saved_stderr);
    }
    for (int i = 0; i < nsecrets; i++) free(secrets[i]);
    wih_cleanup_run_all();
}

/* --------------------------------------------------------------- helpers */
static char *subject_token(wih_jwk_key *k, const char *iss, const char *sub, const char *aud, int64_t exp_off,
                           const char *hdr)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "iss", iss);
    if (sub) cJSON_AddStringToObject(p, "sub", sub);
    cJSON *a = cJSON_AddArrayToObject(p, "aud");
    cJSON_AddItemToArray(a, cJSON_CreateString(aud));
    cJSON_AddNumberToObject(p, "iat", (double)(now - 5));
    cJSON_AddNumberToObject(p, "nbf", (double)(now - 5));
    cJSON_AddNumberToObject(p, "exp", (double)(now + exp_off));
    cJSON *h = hdr ? cJSON_Parse(hdr) : NULL;
    wih_err *e = NULL;
    char *t = wih_jwt_sign_hdr(k, h, p, &e);
    ck_assert_msg(t, "%s", wih_err_str(e));
    cJSON_Delete(h);
    cJSON_Delete(p);
    remember(t);
    return t;
}

/* A body for a failure message: withheld when it carries a credential. */
static const char *shown(const char *body)
{
    if (!body) return "(none)";
    if (strstr(body, "eyJ") || strstr(body, "SecretAccessKey") || strstr(body, "access_token") ||
        strstr(body, "accessToken"))
        return "(body withheld: it carries a credential)";
    return body;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return wih_buf_add(ud, p, sz * n) == 0 ? sz * n : 0;
}

/* POST to the cloud over HTTPS (trusting only our CA); returns the body. */
static char *post(const char *path, const char *ctype, const char *body, const char *bearer, long *status)
{
    CURL *h = curl_easy_init();
    char *url = wih_asprintf("%s%s", cloud_url(cl), path);
    wih_buf b;
    wih_buf_init(&b, 4 << 20);
    struct curl_slist *hd = NULL;
    char *ct = wih_asprintf("Content-Type: %s", ctype);
    hd = curl_slist_append(hd, ct);
    char *au = bearer ? wih_asprintf("Authorization: Bearer %s", bearer) : NULL;
    if (au) hd = curl_slist_append(hd, au);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    ck_assert_msg(rc == CURLE_OK, "POST %s: %s", path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    free(ct);
    free(au);
    free(url);
    return wih_buf_take(&b);
}

/* An admin call: GET without a body, PUT with one, or `method` when given. */
static char *admin_req(const char *method, const char *path, const char *body, const char *bearer, long *status)
{
    CURL *h = curl_easy_init();
    char *url = wih_asprintf("%s%s", cloud_url(cl), path);
    wih_buf b;
    wih_buf_init(&b, 4 << 20);
    struct curl_slist *hd = NULL;
    char *au = bearer ? wih_asprintf("Authorization: Bearer %s", bearer) : NULL;
    if (au) hd = curl_slist_append(hd, au);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (method) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    ck_assert_msg(rc == CURLE_OK, "%s: %s", path, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hd);
    free(au);
    free(url);
    return wih_buf_take(&b);
}

static char *put_admin(const char *path, const char *body, const char *bearer, long *status)
{
    return admin_req(NULL, path, body, bearer, status);
}

static char *urlenc(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = wih_strdup(e);
    curl_free(e);
    return r;
}

static char *aws_form(const char *role, const char *token, int duration)
{
    char *arn = cloud_aws_role_arn(role), *a = urlenc(arn), *t = urlenc(token);
    char *f = duration ? wih_asprintf("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName="
                                      "wih-test&WebIdentityToken=%s&DurationSeconds=%d",
                                      a, t, duration)
                       : wih_asprintf("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=%s&RoleSessionName="
                                      "wih-test&WebIdentityToken=%s",
                                      a, t);
    free(arn);
    free(a);
    free(t);
    return f;
}

/* The role's bucket works; the other team's is denied by MinIO. */
static void check_bucket_access(const s3_creds *cr, const char *who)
{
    remember(cr->secret_key);
    remember(cr->session_token);
    s3_client *s = s3_client_new(minio_endpoint(mn), cr, NULL);
    wih_err *e = NULL;
    char *key = wih_asprintf("%s/hello.txt", who);
    ck_assert_msg(s3_put_object(s, "team-a-data", key, who, strlen(who), &e) == 0, "%s: %s", who, wih_err_str(e));
    size_t n = 0;
    char *got = s3_get_object(s, "team-a-data", key, &n, &e);
    ck_assert_msg(got, "%s: %s", who, wih_err_str(e));
    ck_assert_uint_eq(n, strlen(who));
    ck_assert(memcmp(got, who, n) == 0);
    free(got);
    ck_assert_int_eq(s3_put_object(s, "team-b-data", key, "x", 1, &e), -1);
    char *code = s3_err_code(e);
    ck_assert_msg(code && !strcmp(code, "AccessDenied") && e->http_status == 403, "%s: %s", who, wih_err_str(e));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "Access Denied")); /* MinIO's own message */
    free(code);
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(s3_get_object(s, "team-b-data", "secret.txt", NULL, &e));
    code = s3_err_code(e);
    ck_assert_msg(code && !strcmp(code, "AccessDenied"), "%s: %s", who, wih_err_str(e));
    free(code);
    wih_err_free(e);
    free(key);
    s3_client_free(s);
}

/* ------------------------------------------------------------------- AWS */
START_TEST(aws_exchange_and_buckets)
{
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, "sts.amazonaws.com", 600, NULL);
    char *form = aws_form("team-a", tok, 1800);
    long st = 0;
    char *body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 200, "HTTP %ld: %s", st, shown(body));
    s3_creds cr;
    ck_assert(s3_parse_sts_xml(body, strlen(body), &cr));
    ck_assert_ptr_nonnull(strstr(body, "<SubjectFromWebIdentityToken>" SUB_A "<"));
    ck_assert_ptr_nonnull(strstr(body, "assumed-role/team-a/wih-test"));
    /* DurationSeconds honoured: Expiration ≈ now + 1800 */
    struct tm tm = {0};
    ck_assert_ptr_nonnull(strptime(cr.expiration, "%Y-%m-%dT%H:%M:%S", &tm));
    int64_t exp = (int64_t)timegm(&tm);
    int64_t t = (int64_t)time(NULL);
    ck_assert_msg(exp >= t + 1800 - 60 && exp <= t + 1800 + 60, "Expiration %s is not now+1800", cr.expiration);
    check_bucket_access(&cr, "aws");
    s3_creds_clear(&cr);
    free(body);
    free(form);
    free(tok);
    /* default duration: 3600 */
    tok = subject_token(issuer_key, K8S_ISS, SUB_A, "sts.amazonaws.com", 600, NULL);
    form = aws_form("team-a", tok, 0);
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert(s3_parse_sts_xml(body, strlen(body), &cr));
    remember(cr.secret_key);
    remember(cr.session_token);
    strptime(cr.expiration, "%Y-%m-%dT%H:%M:%S", &tm);
    exp = (int64_t)timegm(&tm);
    ck_assert_msg(exp >= t + 3600 - 60 && exp <= t + 3600 + 60, "Expiration %s is not now+3600", cr.expiration);
    s3_creds_clear(&cr);
    free(body);
    free(form);
    free(tok);
}
END_TEST

typedef struct {
    const char *name;
    char *token;
    const char *role;
} neg_case;

/* the shared negative matrix: name, token */
static int make_matrix(neg_case *m, const char *aud)
{
    int n = 0;
    m[n++] = (neg_case){"wrong audience", subject_token(issuer_key, K8S_ISS, SUB_A, "someone-else", 600, NULL), NULL};
    m[n++] = (neg_case){"wrong subject",
                        subject_token(issuer_key, K8S_ISS, "system:serviceaccount:team-a:intruder", aud, 600, NULL),
                        NULL};
    m[n++] = (neg_case){"unregistered issuer",
                        subject_token(issuer_key, "https://127.0.0.1:1/unknown", SUB_A, aud, 600, NULL), NULL};
    m[n++] = (neg_case){"expired", subject_token(issuer_key, K8S_ISS, SUB_A, aud, -600, NULL), NULL};
    m[n++] = (neg_case){"bad signature", subject_token(rogue_key, K8S_ISS, SUB_A, aud, 600, NULL), NULL};
    char *good = subject_token(issuer_key, K8S_ISS, SUB_A, aud, 600, NULL);
    /* alg none: same payload, header {"alg":"none"}, empty signature */
    char *d1 = strchr(good, '.'), *d2 = strrchr(good, '.');
    char *hn = wih_b64url_encode((const unsigned char *)"{\"alg\":\"none\",\"typ\":\"JWT\"}", 26);
    m[n++] = (neg_case){"alg none", wih_asprintf("%s.%.*s.", hn, (int)(d2 - d1 - 1), d1 + 1), NULL};
    free(hn);
    m[n++] = (neg_case){"truncated", wih_asprintf("%.*s", (int)(d2 - good + 1 + 40), good), NULL}; /* 40 symbols = 30 bytes of signature */
    m[n++] = (neg_case){"garbage", wih_strdup("this-is-not-a-jwt"), NULL};
    m[n++] = (neg_case){"no sub", subject_token(issuer_key, K8S_ISS, NULL, aud, 600, NULL), NULL};
    for (int i = 0; i < n; i++)
        if (i >= 5) remember(m[i].token);
    free(good);
    return n;
}

START_TEST(aws_negative_matrix)
{
    neg_case m[16];
    int n = make_matrix(m, "sts.amazonaws.com");
    /* expected (status, code) per case, in make_matrix's order (AWS's codes) */
    const struct {
        long status;
        const char *code;
    } want[] = {{400, "InvalidIdentityToken"}, {403, "AccessDenied"},         {400, "InvalidIdentityToken"},
                {400, "ExpiredTokenException"}, {400, "InvalidIdentityToken"}, {400, "InvalidIdentityToken"},
                {400, "InvalidIdentityToken"}, {400, "InvalidIdentityToken"}, {403, "IDPRejectedClaim"}};
    ck_assert_int_eq(n, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < n; i++) {
        char *form = aws_form("team-a", m[i].token, 900);
        long st = 0;
        char *body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
        char *code = NULL, *msg = NULL;
        ck_assert_msg(s3_parse_error_xml(body, strlen(body), &code, &msg), "%s: not an AWS error: %s", m[i].name, shown(body));
        ck_assert_msg(st == want[i].status && !strcmp(code, want[i].code), "%s: want %ld %s, got %ld %s (%s)",
                      m[i].name, want[i].status, want[i].code, st, code, msg);
        ck_assert_msg(!strstr(body, "<Credentials>") && !strstr(body, "SecretAccessKey"), "%s: credentials issued",
                      m[i].name);
        free(code);
        free(msg);
        free(body);
        free(form);
        free(m[i].token);
    }
    /* an unknown role ARN → AccessDenied */
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, "sts.amazonaws.com", 600, NULL);
    char *form = aws_form("no-such-role", tok, 900);
    long st;
    char *body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_int_eq(st, 403);
    char *code = NULL, *msg = NULL;
    ck_assert(s3_parse_error_xml(body, strlen(body), &code, &msg) && !strcmp(code, "AccessDenied"));
    free(code);
    free(msg);
    free(body);
    free(form);
    /* team-a's token cannot assume team-b */
    form = aws_form("team-b", tok, 900);
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_int_eq(st, 403);
    ck_assert(s3_parse_error_xml(body, strlen(body), &code, &msg) && !strcmp(code, "AccessDenied"));
    free(code);
    free(msg);
    free(body);
    free(form);
    free(tok);
}
END_TEST

START_TEST(aws_malformed_requests)
{
    const struct {
        const char *form;
        const char *code;
    } cases[] = {
        {"", "MissingAction"},
        {"Action=AssumeRole&Version=2011-06-15", "InvalidAction"},
        {"Action=AssumeRoleWithWebIdentity", "MissingParameter"},
        {"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=s1", "MissingParameter"},
        {"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=s1&WebIdentityToken=%zz",
         "InvalidParameterValue"},
        {"Action=AssumeRoleWithWebIdentity&Action=AssumeRoleWithWebIdentity", "InvalidParameterValue"},
        {"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=s1&WebIdentityToken=a"
         "&DurationSeconds=10",
         "ValidationError"},
        {"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=s1&WebIdentityToken=a"
         "&DurationSeconds=abc",
         "ValidationError"},
        {"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=x&RoleSessionName=a%20b&WebIdentityToken=a",
         "ValidationError"},
        {"Action=AssumeRoleWithWebIdentity&Version=1999-01-01", "InvalidParameterValue"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        long st = 0;
        char *body = post("/", "application/x-www-form-urlencoded", cases[i].form, NULL, &st);
        char *code = NULL, *msg = NULL;
        ck_assert_msg(s3_parse_error_xml(body, strlen(body), &code, &msg), "case %zu: %s", i, shown(body));
        ck_assert_msg(st == 400 && !strcmp(code, cases[i].code), "case %zu: want 400 %s, got %ld %s", i, cases[i].code,
                      st, code);
        free(code);
        free(msg);
        free(body);
    }
    /* an oversized body: rejected, no crash */
    size_t big = CLOUD_FORM_MAX_BODY + 10;
    char *b = malloc(big + 1);
    memset(b, 'a', big);
    b[big] = 0;
    long st = 0;
    char *body = post("/", "application/x-www-form-urlencoded", b, NULL, &st);
    ck_assert_int_ge(st, 400);
    free(body);
    free(b);
}
END_TEST

/* ----------------------------------------------------------------- Entra */
static char *entra_form(const char *client_id, const char *assertion)
{
    char *a = urlenc(assertion);
    char *f = wih_asprintf("client_id=%s&grant_type=client_credentials&scope=https%%3A%%2F%%2Fstorage.azure.com%%2F."
                           "default&client_assertion_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3A"
                           "jwt-bearer&client_assertion=%s",
                           client_id, a);
    free(a);
    return f;
}

static void access_token_to_buckets(const char *at, const char *who)
{
    s3_creds cr;
    wih_err *e = NULL;
    ck_assert_msg(s3_sts_web_identity(minio_endpoint(mn), NULL, at, 900, &cr, &e) == 0, "%s: %s", who,
                  wih_err_str(e));
    check_bucket_access(&cr, who);
    s3_creds_clear(&cr);
}

START_TEST(entra_exchange_and_buckets)
{
    char *cid = cloud_entra_client_id("team-a");
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, CLOUD_ENTRA_AUDIENCE, 600, NULL);
    char *form = entra_form(cid, tok);
    long st = 0;
    char *body = post("/tenant-1/oauth2/v2.0/token", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 200, "HTTP %ld: %s", st, shown(body));
    cJSON *j = cJSON_Parse(body);
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(j, "access_token"));
    ck_assert_ptr_nonnull(at);
    remember(at);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "token_type")), "Bearer");
    access_token_to_buckets(at, "azure");
    cJSON_Delete(j);
    free(body);
    free(form);
    free(tok);
    free(cid);
}
END_TEST

START_TEST(entra_negative_matrix)
{
    char *cid = cloud_entra_client_id("team-a");
    neg_case m[16];
    int n = make_matrix(m, CLOUD_ENTRA_AUDIENCE);
    const int want[] = {70021, 70021, 70021, 700024, 700027, 50027, 700027, 50027, 50027};
    ck_assert_int_eq(n, (int)(sizeof want / sizeof *want));
    for (int i = 0; i < n; i++) {
        char *form = entra_form(cid, m[i].token);
        long st = 0;
        char *body = post("/tenant-1/oauth2/v2.0/token", "application/x-www-form-urlencoded", form, NULL, &st);
        cJSON *j = cJSON_Parse(body);
        cJSON *codes = cJSON_GetObjectItem(j, "error_codes");
        const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error_description"));
        ck_assert_msg(st == 400 && codes && cJSON_GetArrayItem(codes, 0)->valueint == want[i] && desc,
                      "%s: want AADSTS%d, got %ld %s", m[i].name, want[i], st, shown(body));
        char *prefix = wih_asprintf("AADSTS%d:", want[i]);
        ck_assert(!strncmp(desc, prefix, strlen(prefix)));
        free(prefix);
        ck_assert_msg(!cJSON_GetObjectItem(j, "access_token"), "%s: token issued", m[i].name);
        cJSON_Delete(j);
        free(body);
        free(form);
        free(m[i].token);
    }
    /* unknown application */
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, CLOUD_ENTRA_AUDIENCE, 600, NULL);
    char *form = entra_form("00000000-0000-0000-0000-000000000000", tok);
    long st;
    char *body = post("/tenant-1/oauth2/v2.0/token", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "AADSTS700016") && strstr(body, "unauthorized_client"), "%s", shown(body));
    free(body);
    free(form);
    /* malformed: missing client_assertion, wrong grant type */
    body = post("/tenant-1/oauth2/v2.0/token", "application/x-www-form-urlencoded", "client_id=x&grant_type=client_credentials",
                NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "AADSTS900144"), "%s", shown(body));
    free(body);
    body = post("/tenant-1/oauth2/v2.0/token", "application/x-www-form-urlencoded", "a=%", NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "invalid_request"), "%s", shown(body));
    free(body);
    free(tok);
    free(cid);
}
END_TEST

/* ---------------------------------------------------------------- Google */
static char *google_form(const char *token, const char *aud)
{
    char *t = urlenc(token), *a = urlenc(aud);
    char *f = wih_asprintf("grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3Atoken-exchange&audience=%s"
                           "&scope=https%%3A%%2F%%2Fwww.googleapis.com%%2Fauth%%2Fcloud-platform&requested_token_type="
                           "urn%%3Aietf%%3Aparams%%3Aoauth%%3Atoken-type%%3Aaccess_token&subject_token_type=urn%%3Aietf"
                           "%%3Aparams%%3Aoauth%%3Atoken-type%%3Ajwt&subject_token=%s",
                           a, t);
    free(t);
    free(a);
    return f;
}

/* returns the federated token or NULL; *status set */
static char *google_federate(const char *tok, long *st, char **body_out)
{
    char *form = google_form(tok, CLOUD_GOOGLE_WIF_AUDIENCE);
    char *body = post("/v1/token", "application/x-www-form-urlencoded", form, NULL, st);
    free(form);
    cJSON *j = cJSON_Parse(body);
    char *fed = wih_strdup(cJSON_GetStringValue(cJSON_GetObjectItem(j, "access_token")));
    cJSON_Delete(j);
    if (fed) remember(fed);
    *body_out = body;
    return fed;
}

START_TEST(google_exchange_and_buckets)
{
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, "https:" CLOUD_GOOGLE_WIF_AUDIENCE, 600, NULL);
    long st;
    char *body;
    char *fed = google_federate(tok, &st, &body);
    ck_assert_msg(st == 200 && fed, "HTTP %ld: %s", st, shown(body));
    free(body);
    char *email = cloud_google_sa_email("team-a");
    char *path = wih_asprintf("/v1/projects/-/serviceAccounts/%s:generateAccessToken", email);
    body = post(path, "application/json", "{\"scope\":[\"https://www.googleapis.com/auth/cloud-platform\"]}", fed, &st);
    ck_assert_msg(st == 200, "HTTP %ld: %s", st, shown(body));
    cJSON *j = cJSON_Parse(body);
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(j, "accessToken"));
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_nonnull(cJSON_GetStringValue(cJSON_GetObjectItem(j, "expireTime")));
    remember(at);
    access_token_to_buckets(at, "google");
    cJSON_Delete(j);
    free(body);
    free(path);
    /* team-a's principal may not impersonate team-b's service account */
    char *emb = cloud_google_sa_email("team-b");
    path = wih_asprintf("/v1/projects/-/serviceAccounts/%s:generateAccessToken", emb);
    body = post(path, "application/json", "{}", fed, &st);
    ck_assert_msg(st == 403 && strstr(body, "PERMISSION_DENIED") && !strstr(body, "accessToken"), "%s", shown(body));
    free(body);
    free(path);
    free(emb);
    /* no federated token / an unknown service account */
    path = wih_asprintf("/v1/projects/-/serviceAccounts/%s:generateAccessToken", email);
    body = post(path, "application/json", "{}", NULL, &st);
    ck_assert_msg(st == 401 && strstr(body, "UNAUTHENTICATED"), "%s", shown(body));
    free(body);
    body = post(path, "application/json", "{}", tok /* a subject token is not a federated token */, &st);
    ck_assert_msg(st == 401, "%s", shown(body));
    free(body);
    free(path);
    body = post("/v1/projects/-/serviceAccounts/nobody@x.iam.gserviceaccount.com:generateAccessToken",
                "application/json", "{}", fed, &st);
    ck_assert_msg(st == 404 && strstr(body, "NOT_FOUND"), "%s", shown(body));
    free(body);
    free(email);
    free(fed);
    free(tok);
}
END_TEST

START_TEST(google_negative_matrix)
{
    neg_case m[16];
    int n = make_matrix(m, "https:" CLOUD_GOOGLE_WIF_AUDIENCE);
    char *email = cloud_google_sa_email("team-a");
    char *path = wih_asprintf("/v1/projects/-/serviceAccounts/%s:generateAccessToken", email);
    for (int i = 0; i < n; i++) {
        long st;
        char *body;
        char *fed = google_federate(m[i].token, &st, &body);
        if (!strcmp(m[i].name, "wrong subject")) {
            /* the STS exchange is not role-bound: the subject is refused at impersonation */
            ck_assert_msg(st == 200 && fed, "%s: %s", m[i].name, shown(body));
            free(body);
            body = post(path, "application/json", "{}", fed, &st);
            ck_assert_msg(st == 403 && strstr(body, "PERMISSION_DENIED") && !strstr(body, "accessToken"), "%s: %s",
                          m[i].name, shown(body));
        } else {
            cJSON *j = cJSON_Parse(body);
            ck_assert_msg(st == 400 && !fed && j &&
                              !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")) ? cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")) : "", "invalid_grant"),
                          "%s: want 400 invalid_grant, got %ld %s", m[i].name, st, shown(body));
            cJSON_Delete(j);
        }
        free(body);
        free(fed);
        free(m[i].token);
    }
    /* a wrong audience parameter (unknown provider), malformed request */
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, "https:" CLOUD_GOOGLE_WIF_AUDIENCE, 600, NULL);
    char *form = google_form(tok, "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/x/providers/y");
    long st;
    char *body = post("/v1/token", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "invalid_target"), "%s", shown(body));
    free(body);
    free(form);
    body = post("/v1/token", "application/json", "{not json", NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "invalid_request"), "%s", shown(body));
    free(body);
    body = post("/v1/token", "application/x-www-form-urlencoded", "grant_type=x", NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "invalid_request"), "%s", shown(body));
    free(body);
    free(tok);
    free(path);
    free(email);
}
END_TEST

/* ----------------------------------------------------------- admin, discovery */
START_TEST(admin_api)
{
    long st;
    char *body = put_admin("/admin/v1/roles", NULL, NULL, &st);
    ck_assert_int_eq(st, 401);
    free(body);
    body = put_admin("/admin/v1/roles", NULL, "wrong-token", &st);
    ck_assert_int_eq(st, 401);
    free(body);
    body = put_admin("/admin/v1/roles", NULL, cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    cJSON *j = cJSON_Parse(body);
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    cJSON *a = cJSON_GetArrayItem(j, 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a, "name")), "team-a");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a, "aws_role_arn")), "arn:aws:iam::000000000000:role/team-a");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a, "google_service_account")),
                     "team-a@wiharness.iam.gserviceaccount.com");
    ck_assert_int_eq((int)strlen(cJSON_GetStringValue(cJSON_GetObjectItem(a, "entra_client_id"))), 36);
    cJSON_Delete(j);
    free(body);
    /* set a role and create a bucket through the API */
    body = put_admin("/admin/v1/buckets/team-c-data", "", cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    free(body);
    body = put_admin("/admin/v1/roles/team-c",
                     "{\"trust\":{\"issuer\":\"" K8S_ISS "\",\"subjects\":[\"system:serviceaccount:team-c:*\"],"
                     "\"audience\":\"team-c-aud\"},\"grants\":{\"team-c-data\":\"read\"}}",
                     cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    free(body);
    /* a bad role: 400 naming the field */
    body = put_admin("/admin/v1/roles/bad", "{\"trust\":{\"issuer\":\"" K8S_ISS "\",\"subjects\":[]}}",
                     cloud_admin_token(cl), &st);
    ck_assert_msg(st == 400 && strstr(body, "trust.subjects"), "%s", shown(body));
    free(body);
    body = put_admin("/admin/v1/buckets/Bad_Name", "", cloud_admin_token(cl), &st);
    ck_assert_int_eq(st, 400);
    free(body);
    /* the custom audience is honoured: the default is then refused */
    char *tok = subject_token(issuer_key, K8S_ISS, "system:serviceaccount:team-c:x", "team-c-aud", 600, NULL);
    char *form = aws_form("team-c", tok, 900);
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    s3_creds cr;
    ck_assert(s3_parse_sts_xml(body, strlen(body), &cr));
    remember(cr.secret_key);
    remember(cr.session_token);
    /* read grant: list works, write is denied by MinIO */
    s3_client *s = s3_client_new(minio_endpoint(mn), &cr, NULL);
    wih_err *e = NULL;
    cJSON *l = s3_list_objects(s, "team-c-data", "", &e);
    ck_assert_msg(l, "%s", wih_err_str(e));
    cJSON_Delete(l);
    ck_assert_int_eq(s3_put_object(s, "team-c-data", "x", "x", 1, &e), -1);
    ck_assert_int_eq(e->http_status, 403);
    wih_err_free(e);
    s3_client_free(s);
    s3_creds_clear(&cr);
    free(body);
    free(form);
    free(tok);
    tok = subject_token(issuer_key, K8S_ISS, "system:serviceaccount:team-c:x", "sts.amazonaws.com", 600, NULL);
    form = aws_form("team-c", tok, 900);
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 400 && strstr(body, "Incorrect token audience"), "%s", shown(body));
    free(body);
    free(form);
    free(tok);
}
END_TEST

/* DELETE roles/NAME: the role and its MinIO policy are gone, STS no longer
 * knows the role, and credentials minted before are refused by MinIO. */
START_TEST(admin_role_delete)
{
    long st;
    wih_err *e = NULL;
    char *body = put_admin("/admin/v1/roles/team-del",
                           "{\"trust\":{\"issuer\":\"" K8S_ISS "\",\"subjects\":[\"system:serviceaccount:team-del:*\"]},"
                           "\"grants\":{\"team-a-data\":\"read\"}}",
                           cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    free(body);
    char *tok = subject_token(issuer_key, K8S_ISS, "system:serviceaccount:team-del:x", "sts.amazonaws.com", 600, NULL);
    char *form = aws_form("team-del", tok, 900);
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st == 200, "%s", shown(body));
    s3_creds cr;
    ck_assert(s3_parse_sts_xml(body, strlen(body), &cr));
    free(body);
    remember(cr.secret_key);
    remember(cr.session_token);
    s3_client *s = s3_client_new(minio_endpoint(mn), &cr, NULL);
    cJSON *l = s3_list_objects(s, "team-a-data", "", &e);
    ck_assert_msg(l, "%s", wih_err_str(e));
    cJSON_Delete(l);
    /* only with the admin token */
    body = admin_req("DELETE", "/admin/v1/roles/team-del", NULL, "wrong-token", &st);
    ck_assert_int_eq(st, 401);
    free(body);
    body = admin_req("DELETE", "/admin/v1/roles/team-del", NULL, cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200 && strstr(body, "\"deleted\":\"team-del\""), "%d %s", (int)st, shown(body));
    free(body);
    /* the registry no longer lists it */
    body = put_admin("/admin/v1/roles", NULL, cloud_admin_token(cl), &st);
    ck_assert_msg(st == 200 && !strstr(body, "team-del"), "%s", shown(body));
    free(body);
    /* MinIO no longer has its policy */
    s3_creds rc = {.access_key = (char *)minio_root_user(mn), .secret_key = (char *)minio_root_password(mn)};
    s3_client *root = s3_client_new(minio_endpoint(mn), &rc, NULL);
    char *pname = cloud_minio_policy_name("team-del");
    cJSON *pol = s3_admin_info_policy(root, pname, &e);
    ck_assert_msg(!pol && e && e->http_status == 404, "policy %s still in MinIO (%s)", pname, e ? wih_err_str(e) : "200");
    wih_err_free(e);
    e = NULL;
    free(pname);
    s3_client_free(root);
    /* the old session's credentials match no policy now */
    l = s3_list_objects(s, "team-a-data", "", &e);
    ck_assert_msg(!l && e && e->http_status == 403, "old credentials still list (%s)", e ? wih_err_str(e) : "200");
    wih_err_free(e);
    s3_client_free(s);
    s3_creds_clear(&cr);
    /* STS: no such role any more, no credentials */
    body = post("/", "application/x-www-form-urlencoded", form, NULL, &st);
    ck_assert_msg(st != 200 && !strstr(body, "<Credentials>"), "%s", shown(body));
    free(body);
    /* a second DELETE: 404 */
    body = admin_req("DELETE", "/admin/v1/roles/team-del", NULL, cloud_admin_token(cl), &st);
    ck_assert_msg(st == 404 && strstr(body, "no role team-del"), "%d %s", (int)st, shown(body));
    free(body);
    free(form);
    free(tok);
}
END_TEST

START_TEST(discovery_registration)
{
    /* the cloud serves discovery for itself: register it like an IAM OIDC provider */
    wih_err *e = NULL;
    ck_assert_msg(cloud_provider_discover(cl, cloud_url(cl), ca_file, &e) == 0, "%s", wih_err_str(e));
    /* without our CA the TLS check fails (infrastructure error naming the cause) */
    ck_assert_int_eq(cloud_provider_discover(cl, cloud_url(cl), "/etc/ssl/certs/ca-certificates.crt", &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    wih_err_free(e);
    e = NULL;
    ck_assert_int_eq(cloud_provider_discover(cl, "http://127.0.0.1:1", NULL, &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
}
END_TEST

static char *get_url(const char *url, long *status)
{
    CURL *h = curl_easy_init();
    wih_buf b;
    wih_buf_init(&b, 4 << 20);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(h);
    ck_assert_msg(rc == CURLE_OK, "GET %s: %s", url, curl_easy_strerror(rc));
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    return wih_buf_take(&b);
}

START_TEST(entra_tenant_discovery)
{
    char *u = wih_asprintf("%s/tenant-1/v2.0/.well-known/openid-configuration", cloud_url(cl));
    long st;
    char *body = get_url(u, &st);
    ck_assert_msg(st == 200, "%s", body);
    cJSON *j = cJSON_Parse(body);
    char *want = wih_asprintf("%s/tenant-1/oauth2/v2.0/token", cloud_url(cl));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "token_endpoint")), want);
    ck_assert_ptr_nonnull(cJSON_GetStringValue(cJSON_GetObjectItem(j, "authorization_endpoint")));
    free(want);
    cJSON_Delete(j);
    free(body);
    free(u);
}
END_TEST

/* A restarted cloud keeps its signing key (kid and modulus) and its registry. */
START_TEST(persistence_across_restart)
{
    char *tls = wih_path_join(tmp, "tls");
    char *crt = wih_path_join(tls, "server.crt"), *key = wih_path_join(tls, "server.key");
    char *sk = wih_path_join(tmp, "cloud-signing.pem"), *rf = wih_path_join(tmp, "cloud-registry.json");
    cloud_opts co = {.cert_file = crt, .key_file = key, .signing_key_file = sk, .registry_file = rf};
    wih_err *e = NULL;
    cJSON *jwks_before = NULL;
    for (int round = 0; round < 2; round++) {
        cloud *c2 = cloud_start(&co, &e);
        ck_assert_msg(c2, "%s", wih_err_str(e));
        char *u = wih_asprintf("%s/jwks", cloud_url(c2));
        long st;
        char *body = get_url(u, &st);
        ck_assert_int_eq(st, 200);
        cJSON *jwks = cJSON_Parse(body);
        free(body);
        free(u);
        if (round == 0) {
            jwks_before = jwks;
            cJSON *pj = cJSON_CreateObject();
            cJSON_AddItemToArray(cJSON_AddArrayToObject(pj, "keys"), wih_jwk_public(issuer_key));
            ck_assert_msg(cloud_provider_add(c2, "https://127.0.0.1:7777", pj, &e) == 0, "%s", wih_err_str(e));
            cJSON_Delete(pj);
        } else {
            char *diff = wih_json_diff(jwks_before, jwks);
            ck_assert_msg(!diff, "the JWKS changed across a restart: %s", diff);
            cJSON_Delete(jwks);
            cJSON *reg = cloud_registry(c2);
            ck_assert(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetObjectItem(reg, "providers"), "https://127.0.0.1:7777")));
            cJSON_Delete(reg);
        }
        cloud_stop(c2);
    }
    cJSON_Delete(jwks_before);
    struct stat sb;
    ck_assert_int_eq(stat(sk, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 077, 0); /* the key is private to us */
    /* a corrupt registry is an input error naming the file */
    ck_assert_int_eq(wih_write_file(rf, "[]", 2, 0600, &e), 0);
    ck_assert_ptr_null(cloud_start(&co, &e));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "cloud-registry.json"));
    wih_err_free(e);
    free(crt);
    free(key);
    free(sk);
    free(rf);
    free(tls);
}
END_TEST

/* cloud_serve: the foreground form a daemonised chain runs; ready file, then
 * SIGTERM stops it cleanly. */
START_TEST(serve_until_sigterm)
{
    char *tls = wih_path_join(tmp, "tls");
    char *crt = wih_path_join(tls, "server.crt"), *key = wih_path_join(tls, "server.key");
    char *ready = wih_path_join(tmp, "cloud-ready.json");
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        wih_signals_install();
        cloud_opts co = {.cert_file = crt, .key_file = key};
        wih_err *e = cloud_serve(&co, ready);
        _exit(e ? 1 : 0); /* never run the parent's cleanup stack */
    }
    char *txt = NULL;
    for (int i = 0; i < 100 && !(txt = wih_read_file(ready, 4096, NULL, NULL)); i++) wih_sleep_ms(100);
    ck_assert_msg(txt, "no ready file");
    cJSON *j = cJSON_Parse(txt);
    ck_assert_int_eq((pid_t)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "pid")), pid);
    char *u = wih_asprintf("%s/jwks", cJSON_GetStringValue(cJSON_GetObjectItem(j, "url")));
    long st;
    char *body = get_url(u, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_ptr_nonnull(strstr(body, "\"kty\":\"RSA\""));
    free(body);
    kill(pid, SIGTERM);
    int ws = 0;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "wait status %d", ws);
    ck_assert(!wih_port_listening((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "port"))));
    cJSON_Delete(j);
    free(u);
    free(txt);
    free(ready);
    free(crt);
    free(key);
    free(tls);
}
END_TEST

/* Real clients only: curl posts the STS form, curl --aws-sigv4 writes and
 * reads with the session credentials (secrets go through files and stdin,
 * never argv). */
static int run_curl(const char *cfg, char **out, ...)
{
    char *argv[32];
    int n = 0;
    argv[n++] = "/usr/bin/curl";
    argv[n++] = "-sS";
    argv[n++] = "--noproxy";
    argv[n++] = "*";
    argv[n++] = "--cacert";
    argv[n++] = ca_file;
    if (cfg) {
        argv[n++] = "-K";
        argv[n++] = "-";
    }
    va_list ap;
    va_start(ap, out);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 31) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    wih_err *e = NULL;
    char *er = NULL;
    int rc = wih_run_capture(argv, NULL, cfg, 60000, out, &er, &e);
    ck_assert_msg(rc >= 0, "%s", wih_err_str(e));
    free(er);
    return rc;
}

START_TEST(real_curl_client)
{
    ck_assert_msg(access("/usr/bin/curl", X_OK) == 0, "the curl CLI is needed for the real-client test");
    char *tok = subject_token(issuer_key, K8S_ISS, SUB_A, "sts.amazonaws.com", 600, NULL);
    char *tokfile = wih_path_join(tmp, "token");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(tokfile, tok, strlen(tok), 0600, &e), 0);
    char *arn = cloud_aws_role_arn("team-a");
    char *arnarg = wih_asprintf("RoleArn=%s", arn), *tokarg = wih_asprintf("WebIdentityToken@%s", tokfile);
    char *url = wih_asprintf("%s/", cloud_url(cl));
    char *out = NULL;
    int rc = run_curl(NULL, &out, "-X", "POST", "--data-urlencode", "Action=AssumeRoleWithWebIdentity",
                      "--data-urlencode", "Version=2011-06-15", "--data-urlencode", arnarg, "--data-urlencode",
                      "RoleSessionName=curl", "--data-urlencode", tokarg, "--data-urlencode", "DurationSeconds=900", url,
                      NULL);
    ck_assert_int_eq(rc, 0);
    s3_creds cr;
    ck_assert_msg(s3_parse_sts_xml(out, strlen(out), &cr), "%s", shown(out));
    remember(cr.secret_key);
    remember(cr.session_token);
    free(out);
    char *cfg = wih_asprintf("user = \"%s:%s\"\naws-sigv4 = \"aws:amz:us-east-1:s3\"\n"
                             "header = \"x-amz-security-token: %s\"\nheader = \"x-amz-content-sha256: UNSIGNED-PAYLOAD\"\n",
                             cr.access_key, cr.secret_key, cr.session_token);
    char *payload = wih_path_join(tmp, "payload.txt");
    ck_assert_int_eq(wih_write_file(payload, "written by curl\n", 16, 0600, &e), 0);
    char *obj = wih_asprintf("%s/team-a-data/curl/hello.txt", minio_endpoint(mn));
    rc = run_curl(cfg, &out, "-f", "-T", payload, obj, NULL);
    ck_assert_msg(rc == 0, "curl PUT: exit %d: %s", rc, shown(out));
    free(out);
    rc = run_curl(cfg, &out, "-f", obj, NULL);
    ck_assert_msg(rc == 0 && !strcmp(out, "written by curl\n"), "curl GET: exit %d: %s", rc, shown(out));
    free(out);
    /* GetCallerIdentity signed by curl --aws-sigv4 with the session credentials */
    char *scfg = wih_asprintf("user = \"%s:%s\"\naws-sigv4 = \"aws:amz:us-east-1:sts\"\n"
                              "header = \"x-amz-security-token: %s\"\n",
                              cr.access_key, cr.secret_key, cr.session_token);
    rc = run_curl(scfg, &out, "-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-8", "--data",
                  "Action=GetCallerIdentity&Version=2011-06-15", url, NULL);
    ck_assert_msg(rc == 0 && strstr(out, "<GetCallerIdentityResponse") &&
                      strstr(out, "<Arn>arn:aws:sts::000000000000:assumed-role/team-a/curl</Arn>"),
                  "curl GetCallerIdentity: exit %d: %s", rc, shown(out));
    free(out);
    /* the same with a wrong secret: SignatureDoesNotMatch, parsed as XML */
    char *bcfg = wih_asprintf("user = \"%s:not-the-secret\"\naws-sigv4 = \"aws:amz:us-east-1:sts\"\n"
                              "header = \"x-amz-security-token: %s\"\n",
                              cr.access_key, cr.session_token);
    rc = run_curl(bcfg, &out, "--data", "Action=GetCallerIdentity&Version=2011-06-15", url, NULL);
    char *code = NULL, *msg = NULL;
    ck_assert_msg(rc == 0 && s3_parse_error_xml(out, strlen(out), &code, &msg) && !strcmp(code, "SignatureDoesNotMatch"),
                  "curl GetCallerIdentity, wrong secret: %s", shown(out));
    free(code);
    free(msg);
    free(out);
    OPENSSL_cleanse(scfg, strlen(scfg));
    OPENSSL_cleanse(bcfg, strlen(bcfg));
    free(scfg);
    free(bcfg);
    char *objb = wih_asprintf("%s/team-b-data/secret.txt", minio_endpoint(mn));
    rc = run_curl(cfg, &out, "-w", "\n%{http_code}", objb, NULL);
    char *nl = out ? strrchr(out, '\n') : NULL;
    ck_assert_msg(rc == 0 && nl && !strcmp(nl, "\n403"), "%s", shown(out));
    ck_assert_msg(s3_parse_error_xml(out, (size_t)(nl - out), &code, &msg) && !strcmp(code, "AccessDenied"), "%s",
                  shown(out));
    free(code);
    free(msg);
    free(out);
    s3_creds_clear(&cr);
    OPENSSL_cleanse(cfg, strlen(cfg));
    free(cfg);
    free(objb);
    free(obj);
    free(payload);
    free(url);
    free(arnarg);
    free(tokarg);
    free(arn);
    free(tokfile);
    free(tok);
}
END_TEST

/* Must run last: every log written by the suite, scanned for every secret. */
START_TEST(no_secret_in_any_log)
{
    fflush(stderr);
    ck_assert_int_gt(nsecrets, 20);
    const char *logs[] = {dlog_path, stderr_path, minio_log_path(mn)};
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(logs[i]);
        size_t n = 0;
        char *txt = wih_read_file(logs[i], 64 << 20, &n, NULL);
        ck_assert_msg(txt, "cannot read %s", logs[i]);
        total += n;
        for (int s = 0; s < nsecrets; s++)
            ck_assert_msg(!strstr(txt, secrets[s]), "secret #%d (%s) found in %s", s, "redacted", logs[i]);
        ck_assert_msg(!strstr(txt, "eyJ"), "something JWT-shaped in %s", logs[i]);
        ck_assert_msg(!strstr(txt, "PRIVATE KEY"), "a private key in %s", logs[i]);
        free(txt);
    }
    /* the decision log is not empty: the scan saw real content */
    char *dl = wih_read_file(dlog_path, 64 << 20, NULL, NULL);
    ck_assert_ptr_nonnull(strstr(dl, "\"failed_check\":\"audience\""));
    ck_assert_ptr_nonnull(strstr(dl, "\"failed_check\":\"subject\""));
    ck_assert_ptr_nonnull(strstr(dl, "\"expected\":{\"iss\":\"" K8S_ISS "\""));
    ck_assert_ptr_nonnull(strstr(dl, "\"token\":\"sha256:"));
    /* one JSON object per line */
    int lines = 0;
    for (char *ln = strtok(dl, "\n"); ln; ln = strtok(NULL, "\n"), lines++) {
        cJSON *j = cJSON_Parse(ln);
        ck_assert_msg(cJSON_IsObject(j), "not JSON: %.200s", ln);
        cJSON_Delete(j);
    }
    ck_assert_int_gt(lines, 30);
    free(dl);
    ck_assert_uint_gt(total, 1000);
}
END_TEST

int main(void)
{
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("cloud");
    TCase *tc = tcase_create("cloud+minio");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, aws_exchange_and_buckets);
    tcase_add_test(tc, aws_negative_matrix);
    tcase_add_test(tc, aws_malformed_requests);
    tcase_add_test(tc, entra_exchange_and_buckets);
    tcase_add_test(tc, entra_negative_matrix);
    tcase_add_test(tc, google_exchange_and_buckets);
    tcase_add_test(tc, google_negative_matrix);
    tcase_add_test(tc, admin_api);
    tcase_add_test(tc, admin_role_delete);
    tcase_add_test(tc, discovery_registration);
    tcase_add_test(tc, entra_tenant_discovery);
    tcase_add_test(tc, persistence_across_restart);
    tcase_add_test(tc, real_curl_client);
    tcase_add_test(tc, serve_until_sigterm);
    tcase_add_test(tc, no_secret_in_any_log);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
