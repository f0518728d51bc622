/* Token-exchange answers, pure: AWS/MinIO STS XML (libxml2, no network, no
 * entities), Entra and Google JSON. Each parser fills a probe_answer with
 * either the credential or the provider's own error code and message. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/probe.h"

void probe_answer_clear(probe_answer *a)
{
    if (!a) return;
    free(a->code);
    free(a->message);
    s3_creds_clear(&a->creds);
    free(a->identity);
    free(a->account);
    free(a->subject);
    wih_free_secret(a->access_token);
    free(a->expiration);
    memset(a, 0, sizeof *a);
}

static void add_str(cJSON *j, const char *k, const char *v)
{
    if (v) cJSON_AddStringToObject(j, k, v);
    else cJSON_AddNullToObject(j, k);
}

static void add_fp(cJSON *j, const char *k, const char *secret)
{
    if (!secret) {
        cJSON_AddNullToObject(j, k);
        return;
    }
    char *fp = wih_fingerprint(secret);
    cJSON_AddStringToObject(j, k, fp);
    free(fp);
}

cJSON *probe_answer_describe(const probe_answer *a)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "ok", a->ok);
    cJSON_AddNumberToObject(j, "status", (double)a->status);
    add_str(j, "code", a->code);
    add_str(j, "message", a->message);
    add_str(j, "identity", a->identity);
    add_str(j, "account", a->account);
    add_str(j, "subject", a->subject);
    add_str(j, "access_key", a->creds.access_key);
    add_fp(j, "secret_key", a->creds.secret_key);
    add_fp(j, "session_token", a->creds.session_token);
    add_fp(j, "access_token", a->access_token);
    add_str(j, "expiration", a->expiration ? a->expiration : a->creds.expiration);
    cJSON_AddNumberToObject(j, "expires_in", (double)a->expires_in);
    return j;
}

static int fail(probe_answer *a, const char *code, const char *fmt, const char *arg)
{
    a->ok = false;
    if (!a->code && code) a->code = wih_strdup(code);
    if (!a->message) a->message = wih_asprintf(fmt, arg ? arg : "");
    return -1;
}

/* ------------------------------------------------------------------ XML */
static xmlDocPtr xml_parse(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > (1u << 24)) return NULL;
    return xmlReadMemory(xml, (int)len, "sts.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* First element child named name (namespace ignored, as STS answers carry
 * xmlns="https://sts.amazonaws.com/doc/2011-06-15/"). */
static xmlNodePtr xchild(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) return c;
    return NULL;
}

static char *xtext(xmlNodePtr n)
{
    if (!n) return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = t && *t ? wih_strdup((const char *)t) : NULL;
    if (t) {
        OPENSSL_cleanse(t, strlen((const char *)t));
        xmlFree(t);
    }
    return s;
}

/* <ErrorResponse><Error><Code>…</Code><Message>…</Message></Error> (or a bare <Error>). */
static bool xml_error(xmlNodePtr root, probe_answer *a)
{
    xmlNodePtr e = root;
    if (e && !strcmp((const char *)e->name, "ErrorResponse")) e = xchild(e, "Error");
    if (!e || strcmp((const char *)e->name, "Error")) return false;
    a->code = xtext(xchild(e, "Code"));
    a->message = xtext(xchild(e, "Message"));
    return a->code != NULL;
}

/* Parse, then either the error document or the <…Result> child of the root. */
static xmlNodePtr xml_result(const char *body, size_t len, const char *root_name, xmlDocPtr *doc, probe_answer *a)
{
    *doc = xml_parse(body, len);
    xmlNodePtr r = *doc ? xmlDocGetRootElement(*doc) : NULL;
    if (!r) {
        fail(a, NULL, "HTTP %s: the answer is not XML", a->status >= 400 ? "error" : "success");
        return NULL;
    }
    if (xml_error(r, a)) {
        a->ok = false;
        return NULL;
    }
    if (strcmp((const char *)r->name, root_name)) {
        fail(a, NULL, "the answer is a <%s>, not the expected response", (const char *)r->name);
        return NULL;
    }
    char *res = wih_asprintf("%.*sResult", (int)(strlen(root_name) - strlen("Response")), root_name);
    xmlNodePtr out = xchild(r, res);
    if (!out) fail(a, NULL, "the answer has no <%s>", res);
    free(res);
    return out;
}

/* The steps every XML parser shares: reset a, parse, find the <…Result> of
 * root_name (or the error document), let fill read it. */
typedef void (*xml_fill_fn)(xmlNodePtr res, long status, probe_answer *a);

static int xml_answer(long status, const char *body, size_t len, const char *root_name, xml_fill_fn fill,
                      probe_answer *a)
{
    memset(a, 0, sizeof *a);
    a->status = status;
    xmlDocPtr d;
    xmlNodePtr res = xml_result(body, len, root_name, &d, a);
    if (res) fill(res, status, a);
    xmlFreeDoc(d);
    return a->ok ? 0 : -1;
}

static void sts_fill(xmlNodePtr res, long status, probe_answer *a)
{
    xmlNodePtr cr = xchild(res, "Credentials");
    a->creds.access_key = xtext(xchild(cr, "AccessKeyId"));
    a->creds.secret_key = xtext(xchild(cr, "SecretAccessKey"));
    a->creds.session_token = xtext(xchild(cr, "SessionToken"));
    a->creds.expiration = xtext(xchild(cr, "Expiration"));
    a->identity = xtext(xchild(xchild(res, "AssumedRoleUser"), "Arn"));
    a->subject = xtext(xchild(res, "SubjectFromWebIdentityToken"));
    if (a->creds.expiration) a->expiration = wih_strdup(a->creds.expiration);
    a->ok = a->creds.access_key && a->creds.secret_key && status >= 200 && status < 300;
    if (!a->ok) {
        fail(a, NULL, "%s", "the answer has no complete <Credentials>");
        s3_creds_clear(&a->creds);
    }
}

int probe_parse_sts(long status, const char *body, size_t len, probe_answer *a)
{
    return xml_answer(status, body, len, "AssumeRoleWithWebIdentityResponse", sts_fill, a);
}

static void caller_fill(xmlNodePtr res, long status, probe_answer *a)
{
    a->identity = xtext(xchild(res, "Arn"));
    a->account = xtext(xchild(res, "Account"));
    a->subject = xtext(xchild(res, "UserId"));
    a->ok = a->identity && status >= 200 && status < 300;
    if (!a->ok) fail(a, NULL, "%s", "the answer has no <Arn>");
}

int probe_parse_caller_identity(long status, const char *body, size_t len, probe_answer *a)
{
    return xml_answer(status, body, len, "GetCallerIdentityResponse", caller_fill, a);
}

/* ----------------------------------------------------------------- JSON */
static cJSON *json_body(const char *body, size_t len, probe_answer *a)
{
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        fail(a, NULL, "HTTP %s: the answer is not a JSON object", a->status >= 400 ? "error" : "success");
        return NULL;
    }
    return j;
}

static char *jstr(const cJSON *j, const char *k)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k));
    return s && *s ? wih_strdup(s) : NULL;
}

/* OAuth 2 error ({"error","error_description"}); Entra puts "AADSTS<n>: …"
 * at the start of the description: that number is the code worth keeping. */
static void oauth_error(const cJSON *j, probe_answer *a, bool aadsts)
{
    char *err = jstr(j, "error"), *desc = jstr(j, "error_description");
    if (aadsts && desc && !strncmp(desc, "AADSTS", 6)) {
        size_t n = 6;
        while (desc[n] >= '0' && desc[n] <= '9') n++;
        a->code = wih_asprintf("%.*s", (int)n, desc);
    } else {
        a->code = wih_strdup(err);
    }
    a->message = err && desc ? wih_asprintf("%s: %s", err, desc) : wih_strdup(desc ? desc : err);
    free(err);
    free(desc);
    if (!a->code) fail(a, NULL, "HTTP %s without an OAuth error", "error");
}

/* The steps every JSON parser shares: reset a, parse the object, let ok read
 * a 2xx answer and err any other (out: what ok extracts besides a). */
typedef void (*json_read_fn)(const cJSON *j, probe_answer *a, void *out);

static int json_answer(long status, const char *body, size_t len, json_read_fn ok, json_read_fn err, void *out,
                       probe_answer *a)
{
    memset(a, 0, sizeof *a);
    a->status = status;
    cJSON *j = json_body(body, len, a);
    if (!j) return -1;
    if (status >= 200 && status < 300) ok(j, a, out);
    else err(j, a, out);
    cJSON_Delete(j);
    return a->ok ? 0 : -1;
}

static void entra_error(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    oauth_error(j, a, true);
}

static void plain_oauth_error(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    oauth_error(j, a, false);
}

static void oauth_token(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    a->access_token = jstr(j, "access_token");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    if (cJSON_IsNumber(e)) a->expires_in = (long)e->valuedouble;
    else if (cJSON_IsString(e)) a->expires_in = strtol(e->valuestring, NULL, 10);
    a->ok = a->access_token != NULL;
    if (!a->ok) fail(a, NULL, "%s", "the answer has no access_token");
}

int probe_parse_entra(long status, const char *body, size_t len, probe_answer *a)
{
    return json_answer(status, body, len, oauth_token, entra_error, NULL, a);
}

int probe_parse_google_sts(long status, const char *body, size_t len, probe_answer *a)
{
    return json_answer(status, body, len, oauth_token, plain_oauth_error, NULL, a);
}

/* {"accessToken","expireTime"}; errors are Google API errors
 * {"error":{"code":403,"message":"…","status":"PERMISSION_DENIED"}}. */
static void generate_ok(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    a->access_token = jstr(j, "accessToken");
    a->expiration = jstr(j, "expireTime");
    a->ok = a->access_token != NULL;
    if (!a->ok) fail(a, NULL, "%s", "the answer has no accessToken");
}

static void google_api_error(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsObject(e)) {
        a->code = jstr(e, "status");
        a->message = jstr(e, "message");
    }
    if (!a->code) fail(a, NULL, "HTTP %s without a Google API error", "error");
}

int probe_parse_google_generate(long status, const char *body, size_t len, probe_answer *a)
{
    return json_answer(status, body, len, generate_ok, google_api_error, NULL, a);
}

static void tokeninfo_ok(const cJSON *j, probe_answer *a, void *out)
{
    (void)out;
    a->identity = jstr(j, "email");
    char *exp = jstr(j, "expires_in");
    if (exp) a->expires_in = strtol(exp, NULL, 10);
    free(exp);
    a->ok = a->identity != NULL;
    if (!a->ok) fail(a, NULL, "%s", "the answer has no email");
}

int probe_parse_google_tokeninfo(long status, const char *body, size_t len, probe_answer *a)
{
    return json_answer(status, body, len, tokeninfo_ok, plain_oauth_error, NULL, a);
}

static void discovery_ok(const cJSON *j, probe_answer *a, void *out)
{
    char *te = jstr(j, "token_endpoint");
    a->ok = te && (!strncmp(te, "https://", 8) || !strncmp(te, "http://", 7));
    if (!a->ok) {
        free(te);
        fail(a, NULL, "%s", "the discovery document has no http(s) token_endpoint");
        return;
    }
    *(char **)out = te;
}

char *probe_parse_entra_discovery(long status, const char *body, size_t len, probe_answer *a)
{
    char *te = NULL;
    json_answer(status, body, len, discovery_ok, entra_error, &te, a);
    return te;
}
