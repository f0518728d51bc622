/* The mock cloud's provider handlers, pure (no MinIO, no HTTP), from data
 * files: fixtures/cloud/handlers/{aws-sts,entra,google}.json — each case a
 * request (form fields over the file's defaults, a subject token signed at
 * run time with claim overrides) through cloud_route → the status, the
 * provider's error code parsed from the reply (AWS XML with libxml2, Entra
 * and Google JSON), the failed check of the decision line, and never a
 * credential in a refusal or a token in a decision line. */
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil.h"
#include "wiharness/cloud.h"

#define CLOUD_URL "https://127.0.0.1:1"

static wih_jwk_key *issuer, *rogue, *cloud_key;
static cJSON *reg, *cloud_jwks;
static int64_t now;

static cJSON *load_json(const char *rel)
{
    char *p = wih_fixture(rel);
    char *s = wih_read_file(p, 1 << 20, NULL, NULL);
    ck_assert_msg(s, "cannot read %s", p);
    cJSON *j = cJSON_Parse(s);
    ck_assert_msg(j, "%s is not JSON", p);
    free(s);
    free(p);
    return j;
}

static cJSON *jwks_of(const wih_jwk_key *k)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "keys"), wih_jwk_public(k));
    return j;
}

static void setup(void)
{
    wih_err *e = NULL;
    issuer = wih_jwk_generate(2048, "k8s", &e);
    rogue = wih_jwk_generate(2048, "k8s", &e); /* same kid, other key */
    cloud_key = wih_jwk_generate(2048, "cloud-k", &e);
    ck_assert(issuer && rogue && cloud_key);
    reg = load_json("cloud/handlers/registry.json");
    cJSON *p, *ij = jwks_of(issuer);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(reg, "providers")) cJSON_ReplaceItemInObject(p, "jwks", cJSON_Duplicate(ij, true));
    cJSON_Delete(ij);
    cloud_jwks = jwks_of(cloud_key);
    now = (int64_t)time(NULL);
}

static void teardown(void)
{
    wih_jwk_free(issuer);
    wih_jwk_free(rogue);
    wih_jwk_free(cloud_key);
    cJSON_Delete(reg);
    cJSON_Delete(cloud_jwks);
}

static cloud_env env(void)
{
    return (cloud_env){.reg = reg, .url = CLOUD_URL, .key = cloud_key, .jwks = cloud_jwks,
                       .minio_client_id = "wiharness-minio", .now = now};
}

/* ------------------------------------------------------------- tokens */
/* over's members replace into's; a null deletes (keep_null: stays, for claims). */
static void merge_ex(cJSON *into, const cJSON *over, bool keep_null)
{
    const cJSON *o;
    cJSON_ArrayForEach(o, over)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(into, o->string);
        if (keep_null || !cJSON_IsNull(o)) cJSON_AddItemToObject(into, o->string, cJSON_Duplicate(o, true));
    }
}

static void merge(cJSON *into, const cJSON *over)
{
    merge_ex(into, over, false);
}

static char *make_token(const cJSON *spec)
{
    cJSON *p = cJSON_Parse("{\"iss\":\"https://issuer.example\",\"sub\":\"system:serviceaccount:team-a:worker\"}");
    cJSON_AddNumberToObject(p, "iat", (double)(now - 5));
    cJSON_AddNumberToObject(p, "exp", (double)(now + 600));
    const cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(spec, "claims"))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(p, o->string);
        if (cJSON_IsNull(o)) continue;
        if (cJSON_IsNumber(o)) /* time claims: offsets from now */
            cJSON_AddNumberToObject(p, o->string, (double)(now + (int64_t)o->valuedouble));
        else if (cJSON_IsString(o) && !strcmp(o->valuestring, "@CLOUD@"))
            cJSON_AddStringToObject(p, o->string, CLOUD_URL);
        else
            cJSON_AddItemToObject(p, o->string, cJSON_Duplicate(o, true));
    }
    const char *how = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "sign"));
    const char *signer = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "signer"));
    cJSON *h = cJSON_CreateObject();
    if (how && !strcmp(how, "none")) cJSON_AddStringToObject(h, "alg", "none");
    const char *alg = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "alg"));
    const char *kid = cJSON_GetStringValue(cJSON_GetObjectItem(spec, "kid"));
    if (alg) cJSON_AddStringToObject(h, "alg", alg);
    if (kid) cJSON_AddStringToObject(h, "kid", kid);
    const wih_jwk_key *k = how && !strcmp(how, "rogue") ? rogue : signer && !strcmp(signer, "cloud") ? cloud_key : issuer;
    wih_err *e = NULL;
    char *t = how && !strcmp(how, "garbage") ? wih_strdup("garbage garbage") : wih_jwt_sign_hdr(k, h, p, &e);
    ck_assert_msg(t, "%s", wih_err_str(e));
    if (how && !strcmp(how, "truncate")) t[strrchr(t, '.') - t + 1 + 100] = 0;
    cJSON_Delete(h);
    cJSON_Delete(p);
    return t;
}

/* ------------------------------------------------------------ requests */
static void add_escaped(wih_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-_.~", c)) wih_buf_add(b, s, 1);
        else wih_buf_addf(b, "%%%02X", c);
    }
}

/* "@TOKEN@", "@CLIENT_ID:<role>@" → their values (a new string). */
static char *subst(const char *v, const char *tok)
{
    if (!strcmp(v, "@TOKEN@")) return wih_strdup(tok);
    if (!strncmp(v, "@CLIENT_ID:", 11)) {
        char *role = wih_asprintf("%.*s", (int)(strlen(v) - 12), v + 11);
        char *id = cloud_entra_client_id(role);
        free(role);
        return id;
    }
    const char *at = strstr(v, "@TOKEN@");
    if (at) return wih_asprintf("%.*s%s%s", (int)(at - v), v, tok, at + 7);
    return wih_strdup(v);
}

typedef struct {
    char *body, *token;
    cJSON *headers;
    cloud_request rq;
} built;

static void build(const cJSON *defaults, const cJSON *c, built *b)
{
    cJSON *tspec = cJSON_Duplicate(cJSON_GetObjectItem(defaults, "token"), true);
    if (!tspec) tspec = cJSON_CreateObject();
    const cJSON *ct = cJSON_GetObjectItem(c, "token");
    cJSON *claims = cJSON_Duplicate(cJSON_GetObjectItem(tspec, "claims"), true);
    if (!claims) claims = cJSON_CreateObject();
    merge_ex(claims, cJSON_GetObjectItem(ct, "claims"), true);
    merge(tspec, ct);
    cJSON_ReplaceItemInObject(tspec, "claims", claims);
    b->token = make_token(tspec);
    cJSON_Delete(tspec);
    bool json = cJSON_IsTrue(cJSON_GetObjectItem(c, "json"));
    b->headers = cJSON_CreateObject();
    cJSON_AddStringToObject(b->headers, "content-type", json ? "application/json" : "application/x-www-form-urlencoded");
    const cJSON *h;
    cJSON *hs = cJSON_Duplicate(cJSON_GetObjectItem(defaults, "headers"), true);
    if (!hs) hs = cJSON_CreateObject();
    merge(hs, cJSON_GetObjectItem(c, "headers"));
    cJSON_ArrayForEach(h, hs)
    {
        char *v = subst(h->valuestring, b->token);
        cJSON_DeleteItemFromObjectCaseSensitive(b->headers, h->string);
        cJSON_AddStringToObject(b->headers, h->string, v);
        free(v);
    }
    cJSON_Delete(hs);
    const char *raw = cJSON_GetStringValue(cJSON_GetObjectItem(c, "body"));
    if (raw) {
        b->body = wih_strdup(raw);
    } else {
        cJSON *form = cJSON_Duplicate(cJSON_GetObjectItem(defaults, "form"), true);
        merge(form, cJSON_GetObjectItem(c, "form"));
        cJSON *vals = cJSON_CreateObject();
        const cJSON *f;
        cJSON_ArrayForEach(f, form)
        {
            char *v = subst(f->valuestring, b->token);
            cJSON_AddStringToObject(vals, f->string, v);
            free(v);
        }
        wih_buf w;
        wih_buf_init(&w, 1 << 20);
        if (json) {
            char *s = cJSON_PrintUnformatted(vals);
            wih_buf_adds(&w, s);
            free(s);
        } else {
            cJSON_ArrayForEach(f, vals)
            {
                if (w.len) wih_buf_adds(&w, "&");
                add_escaped(&w, f->string);
                wih_buf_adds(&w, "=");
                add_escaped(&w, f->valuestring);
            }
        }
        b->body = wih_buf_take(&w);
        if (!b->body) b->body = wih_strdup("");
        cJSON_Delete(vals);
        cJSON_Delete(form);
    }
    const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(c, "path"));
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(c, "method"));
    b->rq = (cloud_request){.method = method ? method : cJSON_GetStringValue(cJSON_GetObjectItem(defaults, "method")),
                            .path = path ? path : cJSON_GetStringValue(cJSON_GetObjectItem(defaults, "path")),
                            .headers = b->headers,
                            .body = b->body,
                            .len = strlen(b->body)};
}

static void built_free(built *b)
{
    free(b->body);
    free(b->token);
    cJSON_Delete(b->headers);
}

/* --------------------------------------------------------------- replies */
/* AWS's <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>
 * <Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId/>, via libxml2. */
static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) return c;
    return NULL;
}

static char *text(xmlNodePtr n)
{
    if (!n) return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = wih_strdup((const char *)t);
    xmlFree(t);
    return s;
}

static bool aws_error_xml(const char *body, char **code, char **msg)
{
    xmlDocPtr d = xmlReadMemory(body, (int)strlen(body), "reply.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
    xmlNodePtr r = d ? xmlDocGetRootElement(d) : NULL;
    bool ok = r && !strcmp((const char *)r->name, "ErrorResponse") && r->ns &&
              !strcmp((const char *)r->ns->href, "https://sts.amazonaws.com/doc/2011-06-15/") && child(r, "RequestId");
    xmlNodePtr e = child(r, "Error");
    char *type = text(child(e, "Type"));
    ok = ok && type && !strcmp(type, "Sender");
    free(type);
    *code = ok ? text(child(e, "Code")) : NULL;
    *msg = ok ? text(child(e, "Message")) : NULL;
    xmlFreeDoc(d);
    return ok && *code;
}

/* The provider's error code from a reply, or NULL. */
static char *reply_code(const cloud_reply *r, char **msg, int *aadsts)
{
    *msg = NULL;
    *aadsts = 0;
    if (r->ctype && !strcmp(r->ctype, "text/xml")) {
        char *code = NULL;
        return aws_error_xml(r->body, &code, msg) ? code : NULL;
    }
    cJSON *j = cJSON_Parse(r->body);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    char *code = wih_strdup(cJSON_IsObject(e) ? cJSON_GetStringValue(cJSON_GetObjectItem(e, "status"))
                                              : cJSON_GetStringValue(e));
    const cJSON *codes = cJSON_GetObjectItem(j, "error_codes");
    if (codes) *aadsts = cJSON_GetArrayItem(codes, 0)->valueint;
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error_description"));
    if (cJSON_IsObject(e)) desc = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    *msg = wih_strdup(desc);
    cJSON_Delete(j);
    return code;
}

static void check_granted_token(const char *name, const char *body, const char *field)
{
    cJSON *j = cJSON_Parse(body);
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(j, field));
    ck_assert_msg(at, "%s: no %s in the answer", name, field);
    wih_jwt_code jc;
    wih_jwt *t = wih_jwt_parse(at, &jc, NULL);
    ck_assert_msg(t, "%s: the %s is not a JWT", name, field);
    ck_assert_int_eq(wih_jwt_verify(t, cloud_jwks, now, 0, NULL), WIH_JWT_OK);
    ck_assert_str_eq(wih_jwt_claim_str(t, "iss"), CLOUD_URL);
    wih_jwt_free(t);
    cJSON_Delete(j);
}

static void check_case(const char *name, const cJSON *want, const built *b, const cloud_result *r)
{
    ck_assert_msg(r->decision, "%s: no decision line", name);
    char *line = cJSON_PrintUnformatted(r->decision);
    ck_assert_msg(!strstr(line, b->token) && !strstr(line, "eyJ"), "%s: the decision line carries a token", name);
    free(line);
    const char *fc = cJSON_GetStringValue(cJSON_GetObjectItem(want, "failed_check"));
    if (fc) ck_assert_msg(!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r->decision, "failed_check")), fc),
                          "%s: failed check %s, want %s", name,
                          cJSON_GetStringValue(cJSON_GetObjectItem(r->decision, "failed_check")), fc);
    if (cJSON_IsTrue(cJSON_GetObjectItem(want, "mint"))) {
        ck_assert_msg(r->mint && !r->reply.body, "%s: not allowed (%d %s)", name, r->reply.status,
                      r->reply.body ? r->reply.body : "");
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItem(want, "role"));
        const char *sub = cJSON_GetStringValue(cJSON_GetObjectItem(want, "sub"));
        const cJSON *dur = cJSON_GetObjectItem(want, "duration");
        if (role) ck_assert_str_eq(r->role, role);
        if (sub) ck_assert_str_eq(r->sub, sub);
        if (dur) ck_assert_int_eq(r->duration, dur->valueint);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r->decision, "result")), "allow");
        return;
    }
    ck_assert_msg(!r->mint, "%s: credentials would be minted", name);
    int status = cJSON_GetObjectItem(want, "status")->valueint;
    ck_assert_msg(r->reply.status == status, "%s: HTTP %d, want %d: %s", name, r->reply.status, status,
                  r->reply.status == 200 ? "(a grant)" : r->reply.body);
    if (cJSON_IsTrue(cJSON_GetObjectItem(want, "access_token"))) check_granted_token(name, r->reply.body, "access_token");
    if (cJSON_IsTrue(cJSON_GetObjectItem(want, "accessToken"))) check_granted_token(name, r->reply.body, "accessToken");
    if (status == 200) return;
    ck_assert_msg(!strstr(r->reply.body, "<Credentials>") && !strstr(r->reply.body, "access_token\"") &&
                      !strstr(r->reply.body, "accessToken") && !strstr(r->reply.body, "eyJ"),
                  "%s: a refusal carries a credential", name);
    char *msg = NULL;
    int aad = 0;
    char *code = reply_code(&r->reply, &msg, &aad);
    const char *wc = cJSON_GetStringValue(cJSON_GetObjectItem(want, "code"));
    ck_assert_msg(code && !strcmp(code, wc), "%s: code %s, want %s (%s)", name, code ? code : "(none)", wc, r->reply.body);
    const char *wm = cJSON_GetStringValue(cJSON_GetObjectItem(want, "message"));
    if (wm) ck_assert_msg(msg && !strcmp(msg, wm), "%s: message \"%s\", want \"%s\"", name, msg, wm);
    const cJSON *wa = cJSON_GetObjectItem(want, "aadsts");
    const cJSON *dcode = cJSON_GetObjectItem(r->decision, "code");
    if (wa) {
        ck_assert_msg(aad == wa->valueint, "%s: AADSTS%d, want AADSTS%d", name, aad, wa->valueint);
        char *prefix = wih_asprintf("AADSTS%d: ", aad);
        ck_assert_msg(msg && !strncmp(msg, prefix, strlen(prefix)), "%s: description %s", name, msg);
        free(prefix);
        ck_assert_msg(cJSON_IsNumber(dcode) && dcode->valueint == aad, "%s: the decision has no code", name);
    } else {
        ck_assert_msg(cJSON_IsString(dcode) && !strcmp(dcode->valuestring, wc), "%s: the decision's code", name);
    }
    ck_assert_str_ne(cJSON_GetStringValue(cJSON_GetObjectItem(r->decision, "result")), "allow");
    free(code);
    free(msg);
}

static int run_file(const char *rel)
{
    cJSON *f = load_json(rel), *c;
    const cJSON *defaults = cJSON_GetObjectItem(f, "defaults");
    cloud_env e = env();
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(f, "cases"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        built b = {0};
        build(defaults, c, &b);
        cloud_result r = {0};
        cloud_route(&e, &b.rq, &r);
        check_case(name, cJSON_GetObjectItem(c, "want"), &b, &r);
        cloud_result_clear(&r);
        built_free(&b);
        n++;
    }
    cJSON_Delete(f);
    return n;
}

START_TEST(aws_sts_matrix)
{
    ck_assert_int_ge(run_file("cloud/handlers/aws-sts.json"), 30);
}
END_TEST

START_TEST(entra_matrix)
{
    ck_assert_int_ge(run_file("cloud/handlers/entra.json"), 20);
}
END_TEST

START_TEST(google_matrix)
{
    ck_assert_int_ge(run_file("cloud/handlers/google.json"), 30);
}
END_TEST

/* An allowed AssumeRoleWithWebIdentity, rendered with (stand-in) MinIO
 * credentials: AWS's response shape, read back with libxml2. */
START_TEST(aws_assume_reply_shape)
{
    cJSON *f = load_json("cloud/handlers/aws-sts.json");
    built b = {0};
    cJSON *c = cJSON_Parse("{\"form\":{\"RoleSessionName\":\"sess-1\"}}");
    build(cJSON_GetObjectItem(f, "defaults"), c, &b);
    cloud_env e = env();
    cloud_result r = {0};
    cloud_route(&e, &b.rq, &r);
    ck_assert(r.mint);
    s3_creds cr = {.access_key = "AKIDEXAMPLE", .secret_key = "secret/key", .session_token = "tok&en",
                   .expiration = "2030-01-01T00:00:00Z"};
    cloud_aws_assume_reply(&r, &cr, NULL);
    ck_assert_int_eq(r.reply.status, 200);
    s3_creds got;
    ck_assert(s3_parse_sts_xml(r.reply.body, strlen(r.reply.body), &got));
    ck_assert_str_eq(got.session_token, "tok&en"); /* escaped and read back */
    s3_creds_clear(&got);
    xmlDocPtr d = xmlReadMemory(r.reply.body, (int)strlen(r.reply.body), "r.xml", NULL, XML_PARSE_NONET);
    xmlNodePtr res = child(xmlDocGetRootElement(d), "AssumeRoleWithWebIdentityResult");
    char *arn = text(child(child(res, "AssumedRoleUser"), "Arn"));
    char *sub = text(child(res, "SubjectFromWebIdentityToken"));
    ck_assert_str_eq(arn, "arn:aws:sts::000000000000:assumed-role/team-a/sess-1");
    ck_assert_str_eq(sub, "system:serviceaccount:team-a:worker");
    free(arn);
    free(sub);
    xmlFreeDoc(d);
    char *line = cJSON_PrintUnformatted(r.decision);
    ck_assert_ptr_null(strstr(line, "secret/key"));
    ck_assert_ptr_null(strstr(line, "tok&en"));
    free(line);
    /* MinIO refused: InternalFailure, no credentials */
    cloud_result_clear(&r);
    cloud_route(&e, &b.rq, &r);
    cloud_aws_assume_reply(&r, NULL, "MinIO is down");
    ck_assert_int_eq(r.reply.status, 500);
    char *code = NULL, *msg = NULL;
    ck_assert(aws_error_xml(r.reply.body, &code, &msg) && !strcmp(code, "InternalFailure"));
    free(code);
    free(msg);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.decision, "result")), "error");
    cloud_result_clear(&r);
    built_free(&b);
    cJSON_Delete(c);
    cJSON_Delete(f);
}
END_TEST


/* ----------------------------------------------------------- SigV4 */
/* AWS's own worked example (General Reference, "Signature Version 4"):
 * GET /?Action=ListUsers&Version=2010-05-08 to IAM on 20150830T123600Z. */
START_TEST(sigv4_aws_example)
{
    cJSON *h = cJSON_Parse("{\"content-type\":\"application/x-www-form-urlencoded; charset=utf-8\","
                           "\"host\":\"iam.amazonaws.com\",\"x-amz-date\":\"20150830T123600Z\"}");
    cloud_request rq = {.method = "GET", .path = "/", .query = "Version=2010-05-08&Action=ListUsers", .headers = h,
                        .body = "", .len = 0};
    char *canon = cloud_sigv4_canonical_request(&rq, "content-type;host;x-amz-date");
    char *ch = cloud_sha256_hex(canon, strlen(canon));
    ck_assert_str_eq(ch, "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    char *sig = cloud_sigv4_signature("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z",
                                      "20150830/us-east-1/iam/aws4_request", canon);
    ck_assert_str_eq(sig, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
    ck_assert_ptr_null(cloud_sigv4_signature("x", "20150830T123600Z", "bad-scope", canon));
    free(sig);
    free(ch);
    free(canon);
    cJSON_Delete(h);
}
END_TEST

static void amz_date(int64_t t, char out[20])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y%m%dT%H%M%SZ", &tm);
}

/* One GetCallerIdentity request signed as the case says. */
static cloud_result identity_case(const cJSON *sess, const cJSON *c, cJSON *sessions)
{
    const char *akid = cJSON_GetStringValue(cJSON_GetObjectItem(sess, "akid"));
    const char *secret = cJSON_GetStringValue(cJSON_GetObjectItem(sess, "secret"));
    const char *token = cJSON_GetStringValue(cJSON_GetObjectItem(sess, "token"));
    const cJSON *ei = cJSON_GetObjectItem(c, "expires_in");
    s3_creds cr = {.access_key = (char *)akid, .secret_key = (char *)secret, .session_token = (char *)token};
    cloud_aws_session_add(sessions, &cr, cJSON_GetStringValue(cJSON_GetObjectItem(sess, "role")),
                          cJSON_GetStringValue(cJSON_GetObjectItem(sess, "session")),
                          now + (ei ? ei->valueint : cJSON_GetObjectItem(sess, "expires_in")->valueint), now - 3600);
    const cJSON *x;
    if ((x = cJSON_GetObjectItem(c, "akid"))) akid = x->valuestring;
    if ((x = cJSON_GetObjectItem(c, "secret"))) secret = x->valuestring;
    if ((x = cJSON_GetObjectItem(c, "token"))) token = cJSON_GetStringValue(x);
    const char *method = cJSON_GetStringValue(cJSON_GetObjectItem(c, "method"));
    bool get = method && !strcmp(method, "GET");
    const char *params = "Action=GetCallerIdentity&Version=2011-06-15";
    static char body[256];
    snprintf(body, sizeof body, "%s", get ? "" : params);
    char date[20];
    const cJSON *off = cJSON_GetObjectItem(c, "date_offset");
    amz_date(now + (off ? off->valueint : 0), date);
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "content-type", cJSON_IsTrue(cJSON_GetObjectItem(c, "spaces"))
                                                   ? "  application/x-www-form-urlencoded;   charset=utf-8 "
                                                   : "application/x-www-form-urlencoded; charset=utf-8");
    cJSON_AddStringToObject(h, "host", "127.0.0.1:1");
    cJSON_AddStringToObject(h, "x-amz-date", date);
    if (token) cJSON_AddStringToObject(h, "x-amz-security-token", token);
    bool csha = cJSON_IsTrue(cJSON_GetObjectItem(c, "content_sha256"));
    if (csha) {
        char *hh = cloud_sha256_hex(body, strlen(body));
        cJSON_AddStringToObject(h, "x-amz-content-sha256", hh);
        free(hh);
    }
    const char *sh = csha ? "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
                     : token ? "content-type;host;x-amz-date;x-amz-security-token"
                             : "content-type;host;x-amz-date";
    cloud_request rq = {.method = get ? "GET" : "POST", .path = "/", .query = get ? params : NULL, .headers = h,
                        .body = body, .len = strlen(body)};
    const char *region = cJSON_GetStringValue(cJSON_GetObjectItem(c, "region"));
    const char *service = cJSON_GetStringValue(cJSON_GetObjectItem(c, "service"));
    char *scope = wih_asprintf("%.8s/%s/%s/aws4_request", date, region ? region : "us-east-1", service ? service : "sts");
    char *canon = cloud_sigv4_canonical_request(&rq, sh);
    char *sig = cloud_sigv4_signature(secret, date, scope, canon);
    char *auth = wih_asprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", akid, scope, sh, sig);
    const char *ga = cJSON_GetStringValue(cJSON_GetObjectItem(c, "authorization"));
    if (!cJSON_IsTrue(cJSON_GetObjectItem(c, "unsigned"))) cJSON_AddStringToObject(h, "authorization", ga ? ga : auth);
    if (cJSON_IsTrue(cJSON_GetObjectItem(c, "no_date"))) cJSON_DeleteItemFromObject(h, "x-amz-date");
    if (cJSON_IsTrue(cJSON_GetObjectItem(c, "tamper_body"))) {
        snprintf(body, sizeof body, "Action=GetCallerIdentity&Version=2011-06-15&X=1");
        rq.len = strlen(body);
    }
    cloud_env e = env();
    e.sessions = sessions;
    cloud_result r = {0};
    cloud_route(&e, &rq, &r);
    free(auth);
    free(sig);
    free(canon);
    free(scope);
    cJSON_Delete(h);
    return r;
}

START_TEST(aws_caller_identity)
{
    cJSON *f = load_json("cloud/handlers/aws-identity.json"), *c;
    const cJSON *sess = cJSON_GetObjectItem(f, "session");
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(f, "cases"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const cJSON *want = cJSON_GetObjectItem(c, "want");
        cJSON *sessions = cJSON_CreateObject();
        cloud_result r = identity_case(sess, c, sessions);
        int status = cJSON_GetObjectItem(want, "status")->valueint;
        ck_assert_msg(r.reply.status == status, "%s: HTTP %d, want %d: %s", name, r.reply.status, status, r.reply.body);
        ck_assert_msg(r.decision, "%s: no decision", name);
        char *line = cJSON_PrintUnformatted(r.decision);
        ck_assert_msg(!strstr(line, cJSON_GetStringValue(cJSON_GetObjectItem(sess, "secret"))) &&
                          !strstr(line, cJSON_GetStringValue(cJSON_GetObjectItem(sess, "token"))),
                      "%s: a secret in the decision line", name);
        free(line);
        const char *fc = cJSON_GetStringValue(cJSON_GetObjectItem(want, "failed_check"));
        if (fc) ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r.decision, "failed_check")), fc);
        xmlDocPtr d = xmlReadMemory(r.reply.body, (int)strlen(r.reply.body), "r.xml", NULL, XML_PARSE_NONET);
        xmlNodePtr root = d ? xmlDocGetRootElement(d) : NULL;
        ck_assert_msg(root, "%s: not XML", name);
        if (status == 200) {
            ck_assert_str_eq((const char *)root->name, "GetCallerIdentityResponse");
            xmlNodePtr res = child(root, "GetCallerIdentityResult");
            char *arn = text(child(res, "Arn")), *uid = text(child(res, "UserId")), *acct = text(child(res, "Account"));
            ck_assert_str_eq(arn, "arn:aws:sts::000000000000:assumed-role/team-a/pod-1");
            ck_assert_str_eq(acct, "000000000000");
            char *rid = cloud_aws_role_id("team-a"), *want_uid = wih_asprintf("%s:pod-1", rid);
            ck_assert_str_eq(uid, want_uid);
            ck_assert_int_eq((int)strlen(rid), 21);
            ck_assert(!strncmp(rid, "AROA", 4));
            free(rid);
            free(want_uid);
            free(arn);
            free(uid);
            free(acct);
            ck_assert_ptr_nonnull(child(child(root, "ResponseMetadata"), "RequestId"));
        } else {
            char *code = NULL, *msg = NULL;
            ck_assert_msg(aws_error_xml(r.reply.body, &code, &msg), "%s: not an ErrorResponse", name);
            ck_assert_msg(!strcmp(code, cJSON_GetStringValue(cJSON_GetObjectItem(want, "code"))), "%s: code %s", name,
                          code);
            free(code);
            free(msg);
        }
        xmlFreeDoc(d);
        cloud_result_clear(&r);
        cJSON_Delete(sessions);
        n++;
    }
    ck_assert_int_ge(n, 15);
    cJSON_Delete(f);
}
END_TEST

START_TEST(aws_sessions_expire)
{
    cJSON *s = cJSON_CreateObject();
    s3_creds a = {.access_key = "A1", .secret_key = "s", .session_token = "t"};
    s3_creds b = {.access_key = "B2", .secret_key = "s", .session_token = "t"};
    cloud_aws_session_add(s, &a, "team-a", "x1", 100, 50);
    cloud_aws_session_add(s, &b, "team-a", "x2", 300, 150); /* drops A1 (expired at 100) */
    ck_assert_ptr_null(cJSON_GetObjectItem(s, "A1"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(s, "B2"));
    cloud_aws_sessions_free(s);
}
END_TEST

/* Who a token was minted for: Entra's claims; Google's tokeninfo. */
static cJSON *granted(const char *file, const char *case_json, const char *field, wih_jwt **t)
{
    cJSON *f = load_json(file);
    cJSON *c = cJSON_Parse(case_json);
    built b = {0};
    build(cJSON_GetObjectItem(f, "defaults"), c, &b);
    cloud_env e = env();
    cloud_result r = {0};
    cloud_route(&e, &b.rq, &r);
    ck_assert_msg(r.reply.status == 200, "%s", r.reply.body);
    cJSON *j = cJSON_Parse(r.reply.body);
    wih_jwt_code jc;
    *t = wih_jwt_parse(cJSON_GetStringValue(cJSON_GetObjectItem(j, field)), &jc, NULL);
    ck_assert_ptr_nonnull(*t);
    cloud_result_clear(&r);
    built_free(&b);
    cJSON_Delete(c);
    cJSON_Delete(f);
    return j;
}

START_TEST(identity_of_tokens)
{
    wih_jwt *t;
    cJSON *j = granted("cloud/handlers/entra.json", "{}", "access_token", &t);
    char *cid = cloud_entra_client_id("team-a"), *oid = cloud_entra_object_id("team-a");
    ck_assert_str_eq(wih_jwt_claim_str(t, "appid"), cid);
    ck_assert_str_eq(wih_jwt_claim_str(t, "azp"), cid);
    ck_assert_str_eq(wih_jwt_claim_str(t, "oid"), oid);
    ck_assert_str_eq(wih_jwt_claim_str(t, "sub"), oid);
    ck_assert_str_eq(wih_jwt_claim_str(t, "tid"), "tenant-1");
    ck_assert_str_eq(wih_jwt_claim_str(t, "idtyp"), "app");
    ck_assert_str_eq(wih_jwt_claim_str(t, "wih_subject"), "system:serviceaccount:team-a:worker");
    ck_assert(wih_jwt_has_aud(t, "wiharness-minio"));
    ck_assert(wih_jwt_has_aud(t, "https://storage.azure.com"));
    ck_assert_str_ne(cid, oid);
    free(cid);
    free(oid);
    wih_jwt_free(t);
    cJSON_Delete(j);
    j = granted("cloud/handlers/google.json",
                "{\"path\":\"/v1/projects/-/serviceAccounts/team-a@wiharness.iam.gserviceaccount.com:generateAccessToken\","
                "\"body\":\"{}\",\"headers\":{\"authorization\":\"Bearer @TOKEN@\"},\"token\":{\"signer\":\"cloud\","
                "\"claims\":{\"iss\":\"@CLOUD@\",\"aud\":\"wiharness-google-federated\",\"orig_iss\":\"https://issuer.example\"}}}",
                "accessToken", &t);
    ck_assert_str_eq(wih_jwt_claim_str(t, "email"), "team-a@wiharness.iam.gserviceaccount.com");
    const char *at = cJSON_GetStringValue(cJSON_GetObjectItem(j, "accessToken"));
    cloud_env e = env();
    const char *methods[] = {"POST", "GET"};
    for (int i = 0; i < 2; i++) {
        char *form = wih_asprintf("access_token=%s", at);
        cloud_request rq = {.method = methods[i], .path = "/tokeninfo", .query = i ? form : NULL,
                            .body = i ? "" : form, .len = i ? 0 : strlen(form)};
        cloud_result r = {0};
        cloud_route(&e, &rq, &r);
        ck_assert_msg(r.reply.status == 200, "%s: %s", methods[i], r.reply.body);
        cJSON *ti = cJSON_Parse(r.reply.body);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ti, "email")), "team-a@wiharness.iam.gserviceaccount.com");
        char *uid = cloud_google_sa_unique_id("team-a");
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ti, "azp")), uid);
        ck_assert_int_eq((int)strlen(uid), 21);
        free(uid);
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ti, "email_verified")), "true");
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(ti, "expires_in")));
        cJSON_Delete(ti);
        cloud_result_clear(&r);
        free(form);
    }
    /* a subject token, garbage, nothing → invalid_token */
    const char *bad[] = {"access_token=garbage", "", "access_token=eyJhbGciOiJSUzI1NiJ9.e30.AAAA"};
    for (int i = 0; i < 3; i++) {
        cloud_request rq = {.method = "POST", .path = "/tokeninfo", .body = bad[i], .len = strlen(bad[i])};
        cloud_result r = {0};
        cloud_route(&e, &rq, &r);
        ck_assert_int_eq(r.reply.status, 400);
        ck_assert_ptr_nonnull(strstr(r.reply.body, "\"error\":\"invalid_token\""));
        cloud_result_clear(&r);
    }
    wih_jwt_free(t);
    cJSON_Delete(j);
}
END_TEST

/* Unknown paths and oversized bodies: each provider's own error shape. */
START_TEST(error_shapes)
{
    cJSON *f = load_json("cloud/handlers/paths.json"), *c;
    cloud_env e = env();
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(f, "cases"))
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
        const cJSON *want = cJSON_GetObjectItem(c, "want");
        cloud_request rq = {.method = cJSON_GetStringValue(cJSON_GetObjectItem(c, "method")),
                            .path = cJSON_GetStringValue(cJSON_GetObjectItem(c, "path")),
                            .body = "", .len = 0, .too_big = cJSON_IsTrue(cJSON_GetObjectItem(c, "too_big"))};
        cloud_result r = {0};
        cloud_route(&e, &rq, &r);
        const char *shape = cJSON_GetStringValue(cJSON_GetObjectItem(want, "shape"));
        const char *wc = cJSON_GetStringValue(cJSON_GetObjectItem(want, "code"));
        ck_assert_msg(r.reply.status == cJSON_GetObjectItem(want, "status")->valueint, "%s: HTTP %d", name, r.reply.status);
        if (!strcmp(shape, "aws")) {
            char *code = NULL, *msg = NULL;
            ck_assert_msg(aws_error_xml(r.reply.body, &code, &msg), "%s: not an AWS ErrorResponse: %s", name, r.reply.body);
            ck_assert_msg(!strcmp(code, wc), "%s: %s", name, code);
            free(code);
            free(msg);
        } else {
            cJSON *j = cJSON_Parse(r.reply.body);
            ck_assert_msg(j, "%s: not JSON", name);
            const cJSON *err = cJSON_GetObjectItem(j, "error");
            if (!strcmp(shape, "google-api")) {
                ck_assert_msg(cJSON_IsObject(err) && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(err, "status")), wc) &&
                                  cJSON_GetObjectItem(err, "code")->valueint == r.reply.status,
                              "%s: %s", name, r.reply.body);
            } else if (!strcmp(shape, "entra")) {
                ck_assert_str_eq(cJSON_GetStringValue(err), wc);
                ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "error_codes"), 0)->valueint,
                                 cJSON_GetObjectItem(want, "aadsts")->valueint);
                ck_assert_ptr_nonnull(cJSON_GetObjectItem(j, "trace_id"));
            } else {
                ck_assert(cJSON_IsString(err));
            }
            cJSON_Delete(j);
        }
        cloud_result_clear(&r);
        n++;
    }
    ck_assert_int_ge(n, 10);
    cJSON_Delete(f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cloud-handlers");
    TCase *tc = tcase_create("pure");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_add_test(tc, aws_sts_matrix);
    tcase_add_test(tc, entra_matrix);
    tcase_add_test(tc, google_matrix);
    tcase_add_test(tc, aws_assume_reply_shape);
    tcase_add_test(tc, sigv4_aws_example);
    tcase_add_test(tc, aws_caller_identity);
    tcase_add_test(tc, aws_sessions_expire);
    tcase_add_test(tc, identity_of_tokens);
    tcase_add_test(tc, error_shapes);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
