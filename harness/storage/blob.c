/* Azure Blob REST requests with a bearer token (pure), and the helpers the
 * three real-cloud builders share (docs/backends.md). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "rs_int.h"

probe_req *rs_req_new(const char *what, const char *method, const char *url)
{
    probe_req *r = wih_xcalloc(1, sizeof *r);
    r->what = what;
    r->method = wih_strdup(method);
    r->url = wih_strdup(url);
    return r;
}

void rs_req_header(probe_req *r, const char *name, const char *value, bool secret)
{
    probe_kv *h = wih_xrealloc(r->headers, (r->nheaders + 1) * sizeof *h);
    r->headers = h;
    h[r->nheaders++] = (probe_kv){wih_strdup(name), wih_strdup(value), secret};
}

void rs_req_body(probe_req *r, const void *body, size_t len)
{
    r->body = wih_xmalloc(len + 1);
    r->body_shown = wih_xmalloc(len + 1);
    if (len) memcpy(r->body, body, len);
    if (len) memcpy(r->body_shown, body, len);
    r->body[len] = r->body_shown[len] = 0;
    r->body_len = len;
}

void rs_pct(wih_buf *b, const char *s, bool keep_slash)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/'))
            wih_buf_add(b, p, 1);
        else
            wih_buf_addf(b, "%%%02X", *p);
    }
}

char *rs_trim(const char *endpoint)
{
    size_t n = strlen(endpoint);
    while (n && endpoint[n - 1] == '/') n--;
    return wih_xstrndup(endpoint, n);
}

bool rs_op_ok(const char *op, const char *who, wih_err **err)
{
    if (op && (!strcmp(op, "read") || !strcmp(op, "write") || !strcmp(op, "list") || !strcmp(op, "delete")))
        return true;
    *err = wih_err_new(WIH_EXIT_INPUT, "%s: operation '%s': expected read, write, list or delete", who,
                       op ? op : "(null)");
    return false;
}

probe_req *rs_blob_request(const char *op, const char *account_url, const char *container, const char *blob,
                           const char *bearer, const char *date, const void *body, size_t len, wih_err **err)
{
    if (!rs_op_ok(op, "Azure Blob", err)) return NULL;
    if (!account_url || !container || !*container || (strcmp(op, "list") && (!blob || !*blob)) || !bearer ||
        !date) {
        *err = wih_err_new(WIH_EXIT_INPUT, "Azure Blob %s: needs the account URL, container%s, token and date", op,
                           strcmp(op, "list") ? ", blob" : "");
        return NULL;
    }
    wih_buf u;
    wih_buf_init(&u, 1 << 16);
    char *base = rs_trim(account_url);
    wih_buf_addf(&u, "%s/", base);
    rs_pct(&u, container, false);
    const char *method = "GET";
    if (!strcmp(op, "list")) {
        wih_buf_adds(&u, "?restype=container&comp=list");
        if (blob && *blob) {
            wih_buf_adds(&u, "&prefix=");
            rs_pct(&u, blob, false);
        }
    } else {
        wih_buf_adds(&u, "/");
        rs_pct(&u, blob, true);
        method = !strcmp(op, "write") ? "PUT" : !strcmp(op, "delete") ? "DELETE" : "GET";
    }
    probe_req *r = rs_req_new("Azure Blob", method, u.data);
    char *auth = wih_asprintf("Bearer %s", bearer);
    rs_req_header(r, "Authorization", auth, true);
    free(auth);
    rs_req_header(r, "x-ms-version", RS_AZURE_VERSION, false);
    rs_req_header(r, "x-ms-date", date, false);
    if (!strcmp(op, "write")) {
        rs_req_header(r, "x-ms-blob-type", "BlockBlob", false);
        rs_req_header(r, "Content-Type", "application/octet-stream", false);
        rs_req_body(r, body ? body : "", body ? len : 0);
    }
    free(base);
    wih_buf_free(&u);
    return r;
}
