/* The probe's HTTP transport: one request → status + capped body.
 * (When core's shared HTTP client lands, this file is the only one to port.) */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/probe.h"

#define PROBE_MAX_BODY ((size_t)1 << 20)

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    return wih_buf_add(ud, p, sz * n) == 0 ? sz * n : 0;
}

#define SET(opt, val)                                                                                   \
    do {                                                                                                \
        CURLcode rc_ = curl_easy_setopt(h, opt, val);                                                   \
        if (rc_ != CURLE_OK) {                                                                          \
            *err = wih_err_new(WIH_EXIT_INFRA, "%s %s: setting %s: %s", r->what, r->url, #opt,          \
                               curl_easy_strerror(rc_));                                                \
            goto out;                                                                                   \
        }                                                                                               \
    } while (0)

int probe_send(const probe_req *r, const char *ca_file, int64_t timeout_ms, long *status, wih_buf *body,
                    wih_err **err)
{
    *status = 0;
    wih_buf_init(body, PROBE_MAX_BODY);
    CURL *h = curl_easy_init();
    if (!h) abort();
    struct curl_slist *hd = NULL;
    char ebuf[CURL_ERROR_SIZE] = "";
    int ret = -1;
    for (size_t i = 0; i < r->nheaders; i++) {
        char *line = wih_asprintf("%s: %s", r->headers[i].name, r->headers[i].value);
        struct curl_slist *n = curl_slist_append(hd, line);
        if (!n) abort();
        hd = n;
        if (r->headers[i].secret) memset(line, 0, strlen(line));
        free(line);
    }
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_ERRORBUFFER, ebuf);
    SET(CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 15000));
    SET(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, body);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    if (ca_file) SET(CURLOPT_CAINFO, ca_file);
    if (r->sigv4 && r->sigv4_user) {
        SET(CURLOPT_AWS_SIGV4, r->sigv4);
        SET(CURLOPT_USERPWD, r->sigv4_user);
    }
    if (!strcmp(r->method, "POST")) {
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
        SET(CURLOPT_POSTFIELDS, r->body ? r->body : "");
    } else if (strcmp(r->method, "GET")) {
        SET(CURLOPT_CUSTOMREQUEST, r->method);
    }
    SET(CURLOPT_HTTPHEADER, hd);
    CURLcode rc = curl_easy_perform(h);
    if (rc != CURLE_OK) {
        *err = wih_err_new(WIH_EXIT_INFRA, "%s %s: %s", r->what, r->url,
                           body->overrun ? "answer over 1 MiB" : *ebuf ? ebuf : curl_easy_strerror(rc));
        goto out;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status) != CURLE_OK) *status = 0;
    if (!body->data) wih_buf_adds(body, "");
    ret = 0;
out:
    curl_easy_cleanup(h);
    for (struct curl_slist *n = hd; n; n = n->next) memset(n->data, 0, strlen(n->data));
    curl_slist_free_all(hd);
    if (ret != 0) wih_buf_free(body);
    return ret;
}
