/* GCS JSON API requests with a bearer access token (pure), and the one
 * answer parser of the three real-cloud stores. */
#include <stdlib.h>
#include <string.h>

#include "rs_int.h"

probe_req *rs_gcs_request(const char *op, const char *endpoint, const char *bucket, const char *object,
                          const char *bearer, const void *body, size_t len, wih_err **err)
{
    if (!rs_op_ok(op, "GCS", err)) return NULL;
    if (!bucket || !*bucket || (strcmp(op, "list") && (!object || !*object)) || !bearer) {
        *err = wih_err_new(WIH_EXIT_INPUT, "GCS %s: needs a bucket%s and an access token", op,
                           strcmp(op, "list") ? ", an object name" : "");
        return NULL;
    }
    char *base = rs_trim(endpoint ? endpoint : "https://storage.googleapis.com");
    wih_buf u;
    wih_buf_init(&u, 1 << 16);
    const char *method = "GET";
    if (!strcmp(op, "write")) {
        wih_buf_addf(&u, "%s/upload/storage/v1/b/", base);
        rs_pct(&u, bucket, false);
        wih_buf_adds(&u, "/o?uploadType=media&name=");
        rs_pct(&u, object, false);
        method = "POST";
    } else {
        wih_buf_addf(&u, "%s/storage/v1/b/", base);
        rs_pct(&u, bucket, false);
        wih_buf_adds(&u, "/o");
        if (!strcmp(op, "list")) {
            if (object && *object) {
                wih_buf_adds(&u, "?prefix=");
                rs_pct(&u, object, false);
            }
        } else {
            wih_buf_adds(&u, "/");
            rs_pct(&u, object, false); /* the whole name is one path segment: '/' as %2F */
            if (!strcmp(op, "read")) wih_buf_adds(&u, "?alt=media");
            else method = "DELETE";
        }
    }
    probe_req *r = rs_req_new("GCS", method, u.data);
    char *auth = wih_asprintf("Bearer %s", bearer);
    rs_req_header(r, "Authorization", auth, true);
    free(auth);
    if (!strcmp(op, "write")) {
        rs_req_header(r, "Content-Type", "application/octet-stream", false);
        rs_req_body(r, body ? body : "", body ? len : 0);
    }
    wih_buf_free(&u);
    free(base);
    return r;
}

/* GCS: {"error": {"code", "message", "status"?, "errors": [{"reason", "message"}]}}. */
static void gcs_error(const char *body, char **code, char **message)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "errors"), 0);
    const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "reason"));
    if (!c) c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "status"));
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
    *code = c ? wih_strdup(c) : NULL;
    *message = m ? wih_strdup(m) : NULL;
    cJSON_Delete(j);
}

const char *rs_parse_result(const char *provider, long status, const char *body, size_t len, char **code,
                            char **message)
{
    *code = *message = NULL;
    if (status >= 200 && status < 300) return "allowed";
    if (body && len) {
        if (!strcmp(provider, "gcs")) gcs_error(body, code, message);
        else s3_parse_error_xml(body, len, code, message); /* S3 and Azure Blob: <Error><Code><Message> */
    }
    return status == 401 || status == 403 ? "denied" : "error";
}
