/* OSMO service API: submit a workflow, query its status, find its pods
 * (osmo_api.h). Shapes from NVIDIA/OSMO's REST API (domain/osmo.md). */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/osmo_api.h"

static probe_req *req_new(const char *what, const char *method, const char *url)
{
    probe_req *r = wih_xcalloc(1, sizeof *r);
    r->what = what;
    r->method = wih_strdup(method);
    r->url = wih_strdup(url);
    return r;
}

static void req_header(probe_req *r, const char *name, const char *value, bool secret)
{
    probe_kv *h = wih_xrealloc(r->headers, (r->nheaders + 1) * sizeof *h);
    r->headers = h;
    h[r->nheaders++] = (probe_kv){wih_strdup(name), wih_strdup(value), secret};
}

/* base URL without trailing '/', or NULL + input error */
static char *base_url(const char *url, wih_err **err)
{
    if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--osmo-url %s: expected http(s)://host[:port]", url ? url : "(none)");
        return NULL;
    }
    size_t n = strlen(url);
    while (n && url[n - 1] == '/') n--;
    return wih_xstrndup(url, n);
}

static bool name_ok(const char *s)
{
    if (!s || !*s) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') return false;
    return true;
}

probe_req *osmo_api_submit_req(const char *url, const char *pool, const char *workflow_yaml, const char *token,
                               bool dry_run, wih_err **err)
{
    if (!name_ok(pool)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "pool '%s': expected letters, digits, '-', '_' or '.'", pool ? pool : "");
        return NULL;
    }
    if (!workflow_yaml || !token) {
        *err = wih_err_new(WIH_EXIT_INPUT, "OSMO submit needs a workflow spec and a token");
        return NULL;
    }
    char *base = base_url(url, err);
    if (!base) return NULL;
    char *u = wih_asprintf("%s/api/pool/%s/workflow%s", base, pool, dry_run ? "?dry_run=true" : "");
    probe_req *r = req_new("OSMO submit workflow", "POST", u);
    req_header(r, "Content-Type", "application/json", false);
    req_header(r, "x-osmo-auth", token, true);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "file", workflow_yaml);
    cJSON_AddArrayToObject(b, "set_variables");
    cJSON_AddArrayToObject(b, "set_string_variables");
    r->body = cJSON_PrintUnformatted(b);
    r->body_len = strlen(r->body);
    r->body_shown = wih_strdup(r->body); /* the spec is not secret */
    cJSON_Delete(b);
    free(u);
    free(base);
    return r;
}

/* OSMO's (FastAPI's) message: {"message"} or {"detail": "…" | [{"msg"}]}. */
static char *server_message(const char *body)
{
    cJSON *j = cJSON_Parse(body ? body : "");
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "message"));
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
    if (!m) m = cJSON_GetStringValue(d);
    if (!m) m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(d, 0), "msg"));
    char *out = wih_strdup(m ? m : body && *body && strlen(body) < 300 ? body : "(no message)");
    cJSON_Delete(j);
    return out;
}

static wih_err *http_error(const char *what, long status, const char *body)
{
    char *m = server_message(body);
    wih_err *e = wih_err_http(status, m, "OSMO %s: HTTP %ld: %s", what, status, m);
    e->kind = status == 400 || status == 422 ? WIH_EXIT_INPUT : WIH_EXIT_INFRA;
    if (status == 401 || status == 403) e = wih_err_wrap(e, "the OSMO token was refused");
    free(m);
    return e;
}

char *osmo_api_parse_submit(long status, const char *body, wih_err **err)
{
    if (status < 200 || status >= 300) {
        *err = http_error("submit", status, body);
        return NULL;
    }
    cJSON *j = cJSON_Parse(body ? body : "");
    const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "name"));
    char *out = n && *n ? wih_strdup(n) : NULL;
    if (!out) *err = wih_err_new(WIH_EXIT_INFRA, "OSMO submit: HTTP %ld without a workflow name", status);
    cJSON_Delete(j);
    return out;
}

probe_req *osmo_api_query_req(const char *url, const char *name, const char *token, wih_err **err)
{
    if (!name_ok(name)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "workflow '%s': not a workflow id", name ? name : "");
        return NULL;
    }
    char *base = base_url(url, err);
    if (!base) return NULL;
    char *u = wih_asprintf("%s/api/workflow/%s", base, name);
    probe_req *r = req_new("OSMO query workflow", "GET", u);
    req_header(r, "x-osmo-auth", token ? token : "", true);
    free(u);
    free(base);
    return r;
}

char *osmo_api_parse_status(long status, const char *body, bool *terminal, bool *ok, wih_err **err)
{
    *terminal = *ok = false;
    if (status < 200 || status >= 300) {
        *err = http_error("query", status, body);
        return NULL;
    }
    cJSON *j = cJSON_Parse(body ? body : "");
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    char *out = s ? wih_strdup(s) : NULL;
    cJSON_Delete(j);
    if (!out) {
        *err = wih_err_new(WIH_EXIT_INFRA, "OSMO query: HTTP %ld without a status", status);
        return NULL;
    }
    bool going = !strcmp(out, "PENDING") || !strcmp(out, "RUNNING") || !strcmp(out, "WAITING");
    *terminal = !going;
    *ok = !strcmp(out, "COMPLETED");
    if (*terminal && !*ok && strncmp(out, "FAILED", 6)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "OSMO query: unknown workflow status '%s'", out);
        free(out);
        return NULL;
    }
    return out;
}

probe_req *osmo_api_cancel_req(const char *url, const char *name, const char *token, wih_err **err)
{
    if (!name_ok(name)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "workflow '%s': not a workflow id", name ? name : "");
        return NULL;
    }
    char *base = base_url(url, err);
    if (!base) return NULL;
    char *u = wih_asprintf("%s/api/workflow/%s/cancel?force=false", base, name);
    probe_req *r = req_new("OSMO cancel workflow", "POST", u);
    req_header(r, "x-osmo-auth", token ? token : "", true);
    free(u);
    free(base);
    return r;
}

int osmo_api_parse_cancel(long status, const char *body, wih_err **err)
{
    if (status >= 200 && status < 300) return 0;
    char *m = server_message(body);
    bool finished = status == 400 && strstr(m, "already finished");
    free(m);
    if (finished) return 1;
    *err = http_error("cancel", status, body);
    (*err)->kind = WIH_EXIT_INFRA;
    return -1;
}

probe_req *osmo_api_version_req(const char *url, wih_err **err)
{
    char *base = base_url(url, err);
    if (!base) return NULL;
    char *u = wih_asprintf("%s/api/version", base);
    probe_req *r = req_new("OSMO version", "GET", u);
    free(u);
    free(base);
    return r;
}

char *osmo_api_pod_selector(const char *name)
{
    return wih_asprintf("osmo.workflow_id=%s", name);
}

char *osmo_api_token(const char *token_file, wih_err **err)
{
    const char *env = getenv("OSMO_TOKEN");
    if (env && *env) return wih_strdup(env);
    if (!token_file) {
        *err = wih_err_new(WIH_EXIT_INPUT, "no OSMO token: set OSMO_TOKEN or pass --osmo-token-file FILE");
        return NULL;
    }
    char *t = wih_read_file(token_file, 1 << 16, NULL, err);
    if (!t) return NULL;
    size_t n = strcspn(t, "\r\n");
    while (n && isspace((unsigned char)t[n - 1])) n--;
    if (!n) {
        OPENSSL_cleanse(t, strlen(t));
        free(t);
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: empty OSMO token file", token_file);
        return NULL;
    }
    t[n] = 0;
    return t;
}

char *osmo_api_wait(const char *url, const char *name, const char *token, const char *ca_file, int64_t timeout_ms,
                    int64_t poll_ms, wih_err **err)
{
    int64_t end = wih_now_ms() + timeout_ms;
    for (;;) {
        probe_req *r = osmo_api_query_req(url, name, token, err);
        if (!r) return NULL;
        long st = 0;
        wih_buf body;
        int rc = probe_send(r, ca_file, 15000, &st, &body, err);
        probe_req_free(r);
        bool term = false, ok = false;
        char *s = rc ? NULL : osmo_api_parse_status(st, body.data, &term, &ok, err);
        wih_buf_free(&body);
        if (rc || !s || term) return s;
        free(s);
        if (wih_interrupted()) {
            *err = wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted waiting for OSMO workflow %s", name);
            return NULL;
        }
        if (wih_now_ms() >= end) {
            *err = wih_err_new(WIH_EXIT_INFRA, "OSMO workflow %s did not end within %lld s", name,
                               (long long)(timeout_ms / 1000));
            return NULL;
        }
        wih_sleep_ms(poll_ms);
    }
}
