/* The probe's HTTP transport: one request as its SDK sends it → status +
 * capped body, through core's one client (include/wiharness/http.h). The
 * request's header lines go out as built, in order, Content-Type among them;
 * no User-Agent (the wire shapes of docs/probe.md). */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/probe.h"
#include "wiharness/http.h"

#define PROBE_MAX_BODY ((size_t)1 << 20)

/* "Name: value" lines, NULL-terminated; secret ones are wiped by free_lines. */
static char **header_lines(const probe_req *r)
{
    char **l = wih_xcalloc(r->nheaders + 1, sizeof *l);
    for (size_t i = 0; i < r->nheaders; i++) l[i] = wih_asprintf("%s: %s", r->headers[i].name, r->headers[i].value);
    return l;
}

static void free_lines(char **l)
{
    for (char **p = l; *p; p++) wih_free_secret(*p);
    free(l);
}

int probe_send(const probe_req *r, const char *ca_file, int64_t timeout_ms, long *status, wih_buf *body,
               wih_err **err)
{
    *status = 0;
    wih_buf_init(body, PROBE_MAX_BODY);
    char **lines = header_lines(r);
    /* sigv4_user is "AK:SK" (split as libcurl splits USERPWD: the key id has no ':') */
    char *user = r->sigv4 && r->sigv4_user ? wih_strdup(r->sigv4_user) : NULL;
    size_t user_len = user ? strlen(user) : 0;
    char *secret = user ? strchr(user, ':') : NULL;
    if (secret) *secret++ = '\0';
    wih_http_req rq = {.method = r->method, .url = r->url, .headers = (const char *const *)lines,
                       .body = r->body, .body_len = r->body_len, .ca_file = ca_file,
                       .aws_sigv4 = user ? r->sigv4 : NULL, .aws_access_key = user,
                       .aws_secret_key = secret ? secret : "", .protocols = "http,https", .user_agent = "",
                       .timeout_ms = timeout_ms > 0 ? (long)timeout_ms : 15000,
                       /* the connect shares the request's budget: a fixed 5 s failed runs
                        * on a loaded 2-core machine although the cloud answered */
                       .connect_timeout_ms = timeout_ms > 0 ? (long)timeout_ms : 15000,
                       .max_body = PROBE_MAX_BODY};
    wih_http_resp rs;
    wih_err *e = NULL;
    int ret = wih_http_do(NULL, &rq, &rs, &e);
    if (user) OPENSSL_cleanse(user, user_len); /* both halves: the split put a NUL between them */
    free(user);
    free_lines(lines);
    if (ret != 0) {
        /* "<what> <url>: <libcurl's words>": the step names the exchange */
        *err = wih_err_new(WIH_EXIT_INFRA, "%s %s: %s", r->what, r->url,
                           rs.fail == WIH_HTTP_E_TOO_BIG ? "answer over 1 MiB"
                           : rs.fail == WIH_HTTP_E_OPTION ? wih_err_str(e)
                                                          : rs.detail);
        wih_err_free(e);
        wih_http_resp_free(&rs);
        return -1;
    }
    *status = rs.status;
    if (!rs.body.data) wih_buf_adds(&rs.body, "");
    *body = rs.body;
    return 0;
}
