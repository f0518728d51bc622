/* S3, MinIO admin and MinIO STS over libcurl's built-in SigV4.
 *
 * Requests are path-style (http://host:port/bucket/key). The payload hash is
 * computed here and sent as x-amz-content-sha256, which curl's aws-sigv4 code
 * takes as the payload hash of the canonical request (S3 requires the header). */
#include "wiharness/storage.h"

#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/http.h"

#define S3_MAX_BODY ((size_t)64 << 20)

struct s3_client {
    char *endpoint; /* no trailing slash */
    s3_creds creds;
    char *ca_file;
};

void s3_creds_clear(s3_creds *c)
{
    if (!c) return;
    free(c->access_key);
    wih_free_secret(c->secret_key);
    wih_free_secret(c->session_token);
    free(c->expiration);
    memset(c, 0, sizeof *c);
}

s3_client *s3_client_new(const char *endpoint, const s3_creds *creds, const char *ca_file)
{
    s3_client *c = wih_xcalloc(1, sizeof *c);
    c->endpoint = wih_strdup(endpoint);
    size_t n = strlen(c->endpoint);
    while (n && c->endpoint[n - 1] == '/') c->endpoint[--n] = 0;
    if (creds) {
        c->creds.access_key = wih_strdup(creds->access_key);
        c->creds.secret_key = wih_strdup(creds->secret_key);
        c->creds.session_token = wih_strdup(creds->session_token);
    }
    c->ca_file = wih_strdup(ca_file);
    return c;
}

void s3_client_free(s3_client *c)
{
    if (!c) return;
    free(c->endpoint);
    s3_creds_clear(&c->creds);
    free(c->ca_file);
    free(c);
}

/* ------------------------------------------------------------------ XML */
static xmlDocPtr xml_parse(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > INT32_MAX) return NULL;
    /* no network, no entity expansion (XXE), no DTD loading */
    return xmlReadMemory(xml, (int)len, "s3.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static xmlNodePtr xml_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) return c;
    return NULL;
}

static char *xml_text(xmlNodePtr n)
{
    if (!n) return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = wih_strdup((const char *)t);
    xmlFree(t);
    return s;
}

bool s3_parse_error_xml(const char *xml, size_t len, char **code, char **message)
{
    *code = *message = NULL;
    xmlDocPtr d = xml_parse(xml, len);
    if (!d) return false;
    xmlNodePtr r = xmlDocGetRootElement(d);
    if (r && !strcmp((const char *)r->name, "ErrorResponse")) r = xml_child(r, "Error");
    bool ok = false;
    if (r && !strcmp((const char *)r->name, "Error")) {
        *code = xml_text(xml_child(r, "Code"));
        *message = xml_text(xml_child(r, "Message"));
        ok = *code && **code;
        if (!ok) {
            free(*code);
            free(*message);
            *code = *message = NULL;
        }
    }
    xmlFreeDoc(d);
    return ok;
}

bool s3_parse_sts_xml(const char *xml, size_t len, s3_creds *out)
{
    memset(out, 0, sizeof *out);
    xmlDocPtr d = xml_parse(xml, len);
    if (!d) return false;
    xmlNodePtr r = xmlDocGetRootElement(d);
    xmlNodePtr res = NULL;
    /* <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials> */
    for (xmlNodePtr c = r ? r->children : NULL; c && !res; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strstr((const char *)c->name, "Result")) res = c;
    xmlNodePtr cr = xml_child(res, "Credentials");
    if (cr) {
        out->access_key = xml_text(xml_child(cr, "AccessKeyId"));
        out->secret_key = xml_text(xml_child(cr, "SecretAccessKey"));
        out->session_token = xml_text(xml_child(cr, "SessionToken"));
        out->expiration = xml_text(xml_child(cr, "Expiration"));
    }
    xmlFreeDoc(d);
    if (!out->access_key || !*out->access_key || !out->secret_key || !*out->secret_key) {
        s3_creds_clear(out);
        return false;
    }
    return true;
}

cJSON *s3_parse_list_xml(const char *xml, size_t len)
{
    xmlDocPtr d = xml_parse(xml, len);
    if (!d) return NULL;
    xmlNodePtr r = xmlDocGetRootElement(d);
    if (!r || strcmp((const char *)r->name, "ListBucketResult")) {
        xmlFreeDoc(d);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    for (xmlNodePtr c = r->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "Contents")) continue;
        char *key = xml_text(xml_child(c, "Key"));
        char *size = xml_text(xml_child(c, "Size"));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "key", key ? key : "");
        cJSON_AddNumberToObject(o, "size", size ? strtod(size, NULL) : 0);
        cJSON_AddItemToArray(arr, o);
        free(key);
        free(size);
    }
    xmlFreeDoc(d);
    return arr;
}

char *s3_err_code(const wih_err *e)
{
    if (!e || !e->server_msg) return NULL;
    const char *c = strstr(e->server_msg, ": ");
    size_t n = c ? (size_t)(c - e->server_msg) : strlen(e->server_msg);
    char *s = wih_xmalloc(n + 1);
    memcpy(s, e->server_msg, n);
    s[n] = 0;
    return s;
}

/* ----------------------------------------------------------------- HTTP */
typedef wih_http_resp s3_resp; /* status, body, content_length */

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;
    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

/* Percent-encode for a path (keep_slash) or a query value (RFC 3986 unreserved kept). */
static char *uri_encode(const char *s, bool keep_slash)
{
    return wih_http_escape(s, keep_slash);
}

/* One signed request (libcurl's SigV4); query must be canonical already
 * (sorted, encoded). 503 (MinIO's "server not initialized" while its IAM
 * loads just after start, S3's SlowDown) is retried with backoff for ~10 s. */
static int s3_do(s3_client *c, const char *method, const char *path, const char *query, const char *ctype,
                 const void *body, size_t blen, s3_resp *r, wih_err **err)
{
    char *url = wih_asprintf("%s%s%s%s", c->endpoint, path, query && *query ? "?" : "", query ? query : "");
    char hash[65];
    sha256_hex(body ? body : "", body ? blen : 0, hash);
    /* no "Expect:" override: curl would sign the empty header it then omits */
    char *hh = wih_asprintf("x-amz-content-sha256: %s", hash);
    char *tok = c->creds.session_token ? wih_asprintf("x-amz-security-token: %s", c->creds.session_token) : NULL;
    const char *hdrs[] = {hh, tok, NULL};
    bool sign = c->creds.access_key && c->creds.secret_key;
    wih_http_req rq = {.method = method, .url = url, .headers = hdrs, .content_type = ctype,
                       .body = body, .body_len = body ? blen : 0, .ca_file = c->ca_file,
                       .aws_sigv4 = sign ? "aws:amz:us-east-1:s3" : NULL,
                       .aws_access_key = c->creds.access_key, .aws_secret_key = c->creds.secret_key,
                       .timeout_ms = 60000, .connect_timeout_ms = 5000, .max_body = S3_MAX_BODY,
                       .retry = WIH_HTTP_RETRY_503, .retry_ms = 10000};
    int ret = wih_http_do(NULL, &rq, r, err);
    if (ret != 0) wih_http_resp_free(r);
    free(hh);
    wih_free_secret(tok);
    free(url);
    return ret;
}

/* Turn a non-2xx answer into an error with status, code and message. */
static wih_err *s3_http_err(const char *what, s3_resp *r)
{
    char *code = NULL, *msg = NULL;
    if (!s3_parse_error_xml(r->body.data, r->body.len, &code, &msg)) {
        code = wih_strdup(r->status == 404 ? "NoSuchKey" : r->status == 403 ? "AccessDenied" : "UnknownError");
        msg = wih_asprintf("HTTP %ld without an error document", r->status);
    }
    char *sm = wih_asprintf("%s: %s", code, msg ? msg : "");
    wih_err *e = wih_err_http(r->status, sm, "%s: HTTP %ld %s: %s", what, r->status, code, msg ? msg : "");
    if (r->status >= 400 && r->status < 500) e->kind = WIH_EXIT_FAIL;
    free(sm);
    free(code);
    free(msg);
    return e;
}

static char *obj_path(const char *bucket, const char *key)
{
    char *k = uri_encode(key ? key : "", true);
    char *p = key ? wih_asprintf("/%s/%s", bucket, k) : wih_asprintf("/%s", bucket);
    free(k);
    return p;
}

static int simple(s3_client *c, const char *method, const char *bucket, const char *key, const char *query,
                  const char *ctype, const void *body, size_t blen, const char *what, s3_resp *r,
                  wih_err **err)
{
    char *path = obj_path(bucket, key);
    wih_err *e = NULL;
    int rc = s3_do(c, method, path, query, ctype, body, blen, r, &e);
    if (rc == 0 && (r->status < 200 || r->status >= 300)) {
        e = s3_http_err(what, r);
        wih_buf_free(&r->body);
        rc = -1;
    } else if (rc != 0) {
        e = wih_err_wrap(e, "%s", what);
    }
    free(path);
    if (rc != 0) *err = e;
    return rc;
}

/* A body-less request on the bucket itself (create, delete). */
static int bucket_op(s3_client *c, const char *method, const char *bucket, const char *verb,
                     wih_err **err)
{
    s3_resp r;
    char *what = wih_asprintf("%s bucket %s", verb, bucket);
    int rc = simple(c, method, bucket, NULL, NULL, NULL, NULL, 0, what, &r, err);
    free(what);
    if (rc == 0) wih_buf_free(&r.body);
    return rc;
}

int s3_make_bucket(s3_client *c, const char *bucket, wih_err **err)
{
    if (!s3_bucket_name_ok(bucket)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "\"%s\" is not a valid bucket name", bucket);
        return -1;
    }
    return bucket_op(c, "PUT", bucket, "creating", err);
}

int s3_put_object(s3_client *c, const char *bucket, const char *key, const void *data, size_t len, wih_err **err)
{
    s3_resp r;
    char *what = wih_asprintf("writing s3://%s/%s", bucket, key);
    int rc = simple(c, "PUT", bucket, key, NULL, "application/octet-stream", data ? data : "", len, what, &r, err);
    free(what);
    if (rc == 0) wih_buf_free(&r.body);
    return rc;
}

char *s3_get_object(s3_client *c, const char *bucket, const char *key, size_t *len, wih_err **err)
{
    s3_resp r;
    char *what = wih_asprintf("reading s3://%s/%s", bucket, key);
    int rc = simple(c, "GET", bucket, key, NULL, NULL, NULL, 0, what, &r, err);
    free(what);
    if (rc != 0) return NULL;
    if (len) *len = r.body.len;
    if (!r.body.data) wih_buf_adds(&r.body, "");
    return wih_buf_take(&r.body);
}

int s3_head_object(s3_client *c, const char *bucket, const char *key, int64_t *size, wih_err **err)
{
    char *path = obj_path(bucket, key);
    s3_resp r;
    wih_err *e = NULL;
    int rc = s3_do(c, "HEAD", path, NULL, NULL, NULL, 0, &r, &e);
    free(path);
    if (rc != 0) {
        *err = wih_err_wrap(e, "HEAD s3://%s/%s", bucket, key);
        return -1;
    }
    wih_buf_free(&r.body);
    if (r.status != 200) {
        char *what = wih_asprintf("HEAD s3://%s/%s", bucket, key);
        *err = s3_http_err(what, &r);
        free(what);
        return -1;
    }
    if (size) *size = (int64_t)r.content_length;
    return 0;
}

int s3_delete_object(s3_client *c, const char *bucket, const char *key, wih_err **err)
{
    s3_resp r;
    char *what = wih_asprintf("deleting s3://%s/%s", bucket, key);
    int rc = simple(c, "DELETE", bucket, key, NULL, NULL, NULL, 0, what, &r, err);
    free(what);
    if (rc == 0) wih_buf_free(&r.body);
    return rc;
}

cJSON *s3_list_objects(s3_client *c, const char *bucket, const char *prefix, wih_err **err)
{
    char *p = uri_encode(prefix ? prefix : "", false);
    char *q = wih_asprintf("list-type=2&prefix=%s", p); /* sorted: the canonical query */
    free(p);
    s3_resp r;
    char *what = wih_asprintf("listing s3://%s/%s", bucket, prefix ? prefix : "");
    int rc = simple(c, "GET", bucket, NULL, q, NULL, NULL, 0, what, &r, err);
    free(q);
    if (rc != 0) {
        free(what);
        return NULL;
    }
    cJSON *arr = s3_parse_list_xml(r.body.data, r.body.len);
    wih_buf_free(&r.body);
    if (!arr) *err = wih_err_new(WIH_EXIT_INFRA, "%s: the answer is not a ListBucketResult", what);
    free(what);
    return arr;
}

/* --------------------------------------------------------------- policies */
bool s3_bucket_name_ok(const char *n)
{
    size_t len = n ? strlen(n) : 0;
    if (len < 3 || len > 63) return false;
    if (!isalnum((unsigned char)n[0]) || !isalnum((unsigned char)n[len - 1])) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)n[i];
        if (!(islower(ch) || isdigit(ch) || ch == '-' || ch == '.')) return false;
        if (ch == '.' && (n[i + 1] == '.' || n[i + 1] == '-' || (i && n[i - 1] == '-'))) return false;
    }
    return true;
}

static cJSON *stmt(const char *const *actions, const char *resource)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "Effect", "Allow");
    cJSON *a = cJSON_AddArrayToObject(s, "Action");
    for (; *actions; actions++) cJSON_AddItemToArray(a, cJSON_CreateString(*actions));
    cJSON *r = cJSON_AddArrayToObject(s, "Resource");
    cJSON_AddItemToArray(r, cJSON_CreateString(resource));
    return s;
}

cJSON *s3_policy_for_grants(const cJSON *grants, wih_err **err)
{
    static const char *const bucket_read[] = {"s3:ListBucket", "s3:GetBucketLocation", NULL};
    static const char *const obj_read[] = {"s3:GetObject", NULL};
    static const char *const bucket_write[] = {"s3:GetBucketLocation", "s3:ListBucketMultipartUploads", NULL};
    static const char *const obj_write[] = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                            "s3:ListMultipartUploadParts", NULL};
    static const char *const bucket_rw[] = {"s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads",
                                            NULL};
    static const char *const obj_rw[] = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                         "s3:ListMultipartUploadParts", NULL};
    if (grants && !cJSON_IsObject(grants)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "grants must be an object of bucket: read|write|readwrite|list");
        return NULL;
    }
    cJSON *pol = cJSON_CreateObject();
    cJSON_AddStringToObject(pol, "Version", "2012-10-17");
    cJSON *sts = cJSON_AddArrayToObject(pol, "Statement");
    const cJSON *g;
    cJSON_ArrayForEach(g, grants)
    {
        const char *b = g->string;
        if (!s3_bucket_name_ok(b)) {
            *err = wih_err_new(WIH_EXIT_INPUT, "grant: \"%s\" is not a valid bucket name", b);
            cJSON_Delete(pol);
            return NULL;
        }
        const char *mode = cJSON_IsString(g) ? g->valuestring : "";
        char *bres = wih_asprintf("arn:aws:s3:::%s", b), *ores = wih_asprintf("arn:aws:s3:::%s/*", b);
        const char *const *ba = NULL, *const *oa = NULL;
        if (!strcmp(mode, "read")) ba = bucket_read, oa = obj_read;
        else if (!strcmp(mode, "write")) ba = bucket_write, oa = obj_write;
        else if (!strcmp(mode, "readwrite")) ba = bucket_rw, oa = obj_rw;
        else if (!strcmp(mode, "list")) ba = bucket_read;
        if (!ba) {
            *err = wih_err_new(WIH_EXIT_INPUT, "grant %s=%s: the access must be read, write, readwrite or list", b,
                               cJSON_IsString(g) ? g->valuestring : "(not a string)");
            free(bres);
            free(ores);
            cJSON_Delete(pol);
            return NULL;
        }
        cJSON_AddItemToArray(sts, stmt(ba, bres));
        if (oa) cJSON_AddItemToArray(sts, stmt(oa, ores));
        free(bres);
        free(ores);
    }
    if (cJSON_GetArraySize(sts) == 0) {
        /* no grants: MinIO refuses an empty statement list, so deny all */
        static const char *const all[] = {"s3:*", NULL};
        cJSON *s = stmt(all, "arn:aws:s3:::*");
        cJSON_ReplaceItemInObject(s, "Effect", cJSON_CreateString("Deny"));
        cJSON_AddItemToArray(sts, s);
    }
    return pol;
}

/* One admin call on the canned policy NAME (body: NULL or JSON text);
 * a non-200 answer is an error saying `what` NAME. */
static int policy_call(s3_client *root, const char *method, const char *path, const char *name, const char *body,
                       const char *what, wih_err **err)
{
    char *n = uri_encode(name, false);
    char *q = wih_asprintf("name=%s", n);
    s3_resp r;
    wih_err *e = NULL;
    int rc = s3_do(root, method, path, q, body ? "application/json" : NULL, body, body ? strlen(body) : 0, &r, &e);
    if (rc == 0 && r.status != 200) {
        char *w = wih_asprintf("%s MinIO policy %s", what, name);
        e = s3_http_err(w, &r);
        free(w);
        rc = -1;
    } else if (rc != 0) {
        e = wih_err_wrap(e, "%s MinIO policy %s", what, name);
    }
    wih_buf_free(&r.body);
    if (rc != 0) *err = e;
    free(n);
    free(q);
    return rc;
}

int s3_admin_add_policy(s3_client *root, const char *name, const cJSON *policy, wih_err **err)
{
    char *body = cJSON_PrintUnformatted(policy);
    int rc = policy_call(root, "PUT", "/minio/admin/v3/add-canned-policy", name, body, "creating", err);
    free(body);
    return rc;
}

int s3_admin_remove_policy(s3_client *root, const char *name, wih_err **err)
{
    return policy_call(root, "DELETE", "/minio/admin/v3/remove-canned-policy", name, NULL, "removing", err);
}

cJSON *s3_admin_info_policy(s3_client *root, const char *name, wih_err **err)
{
    char *n = uri_encode(name, false);
    char *q = wih_asprintf("name=%s", n);
    free(n);
    s3_resp r;
    wih_err *e = NULL;
    int rc = s3_do(root, "GET", "/minio/admin/v3/info-canned-policy", q, NULL, NULL, 0, &r, &e);
    free(q);
    if (rc != 0) {
        *err = wih_err_wrap(e, "reading MinIO policy %s", name);
        return NULL;
    }
    cJSON *j = NULL;
    if (r.status != 200) {
        char *what = wih_asprintf("reading MinIO policy %s", name);
        *err = s3_http_err(what, &r);
        free(what);
    } else if (!(j = cJSON_ParseWithLength(r.body.data ? r.body.data : "", r.body.len))) {
        *err = wih_err_new(WIH_EXIT_INFRA, "reading MinIO policy %s: the answer is not JSON", name);
    }
    wih_buf_free(&r.body);
    return j;
}

int s3_sts_web_identity(const char *endpoint, const char *ca_file, const char *jwt, int duration_s, s3_creds *out,
                        wih_err **err)
{
    memset(out, 0, sizeof *out);
    s3_client *c = s3_client_new(endpoint, NULL, ca_file);
    char *tok = uri_encode(jwt, false);
    char *form = duration_s > 0 ? wih_asprintf("Action=AssumeRoleWithWebIdentity&DurationSeconds=%d&Version=2011-06-15"
                                               "&WebIdentityToken=%s",
                                               duration_s, tok)
                                : wih_asprintf("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=%s",
                                               tok);
    wih_free_secret(tok);
    s3_resp r;
    wih_err *e = NULL;
    int rc = s3_do(c, "POST", "/", NULL, "application/x-www-form-urlencoded", form, strlen(form), &r, &e);
    wih_free_secret(form);
    s3_client_free(c);
    if (rc != 0) {
        *err = wih_err_wrap(e, "MinIO AssumeRoleWithWebIdentity");
        return -1;
    }
    if (r.status != 200) {
        *err = s3_http_err("MinIO AssumeRoleWithWebIdentity", &r);
        rc = -1;
    } else if (!s3_parse_sts_xml(r.body.data, r.body.len, out)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "MinIO AssumeRoleWithWebIdentity: the answer has no credentials");
        rc = -1;
    }
    if (r.body.data) OPENSSL_cleanse(r.body.data, r.body.len);
    wih_buf_free(&r.body);
    return rc;
}

int s3_delete_bucket(s3_client *c, const char *bucket, wih_err **err)
{
    return bucket_op(c, "DELETE", bucket, "deleting", err);
}
