/* application/x-www-form-urlencoded parsing (pure). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode one component; NULL on a bad escape or a decoded NUL. */
static char *decode(const char *s, size_t n, const char **why)
{
    char *out = wih_xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= n) {
                free(out);
                *why = "a truncated %-escape";
                return NULL;
            }
            int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
            if (a < 0 || b < 0) {
                free(out);
                *why = "an invalid %-escape";
                return NULL;
            }
            char d = (char)(a << 4 | b);
            if (d == 0) {
                free(out);
                *why = "a NUL byte";
                return NULL;
            }
            out[o++] = d;
            i += 2;
        } else if (c == 0) {
            free(out);
            *why = "a NUL byte";
            return NULL;
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    return out;
}

cJSON *cloud_form_parse(const char *body, size_t len, wih_err **err)
{
    if (len > CLOUD_FORM_MAX_BODY) {
        *err = wih_err_new(WIH_EXIT_INPUT, "form body of %zu bytes is over the %d-byte limit", len,
                           CLOUD_FORM_MAX_BODY);
        return NULL;
    }
    cJSON *form = cJSON_CreateObject();
    int fields = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && body[j] != '&') j++;
        if (j > i) {
            const char *eq = memchr(body + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (body + i)) : j - i;
            const char *why = NULL;
            char *k = decode(body + i, kl, &why);
            char *v = k ? (eq ? decode(eq + 1, (size_t)(body + j - eq - 1), &why) : wih_strdup("")) : NULL;
            if (!k || !v) {
                *err = wih_err_new(WIH_EXIT_INPUT, "form field %d (at byte %zu) has %s", fields + 1, i + 1, why);
                free(k);
                cJSON_Delete(form);
                return NULL;
            }
            wih_err *e = NULL;
            if (!*k) {
                e = wih_err_new(WIH_EXIT_INPUT, "form field %d (at byte %zu) has an empty name", fields + 1, i + 1);
            } else if (cJSON_GetObjectItemCaseSensitive(form, k)) {
                e = wih_err_new(WIH_EXIT_INPUT, "form field \"%.64s\" is repeated", k);
            } else if (++fields > CLOUD_FORM_MAX_FIELDS) {
                e = wih_err_new(WIH_EXIT_INPUT, "more than %d form fields", CLOUD_FORM_MAX_FIELDS);
            } else {
                cJSON_AddItemToObject(form, k, cJSON_CreateString(v));
            }
            free(k);
            free(v);
            if (e) {
                *err = e;
                cJSON_Delete(form);
                return NULL;
            }
        }
        i = j + 1;
    }
    return form;
}
