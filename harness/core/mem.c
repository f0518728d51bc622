/* The one out-of-memory rule: an allocation that fails aborts with a message.
 * Nothing in wiharness can do useful work without memory, and a NULL that
 * slips through becomes a crash far away (or a false pass); one helper makes
 * the rule the same everywhere. cJSON allocates through the same rule, so a
 * cJSON_Create*, cJSON_Add*, cJSON_Print* or cJSON_Duplicate never returns
 * NULL for want of memory. */
#include "wiharness/core.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void wih_oom(size_t n)
{
    char m[96];
    int len = snprintf(m, sizeof m, "wiharness: out of memory (allocating %zu bytes), aborting\n", n);
    if (len > 0) {
        ssize_t w = write(STDERR_FILENO, m, (size_t)len < sizeof m ? (size_t)len : sizeof m - 1);
        (void)w;
    }
    abort();
}

void *wih_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) wih_oom(n);
    return p;
}

void *wih_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p) wih_oom(nmemb * size);
    return p;
}

void *wih_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) wih_oom(n);
    return q;
}

char *wih_xstrdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = wih_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

char *wih_xstrndup(const char *s, size_t n)
{
    if (!s) return NULL;
    size_t l = strnlen(s, n);
    char *d = wih_xmalloc(l + 1);
    memcpy(d, s, l);
    d[l] = '\0';
    return d;
}

void wih_free_secret(char *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

static void *cjson_malloc(size_t n)
{
    return wih_xmalloc(n);
}

/* Runs when the library is loaded: every cJSON allocation follows the rule. */
__attribute__((constructor)) static void cjson_hooks(void)
{
    cJSON_Hooks h = {cjson_malloc, free};
    cJSON_InitHooks(&h);
}
