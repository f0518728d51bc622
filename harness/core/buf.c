/* Growable buffers with a hard cap (curl's dynbuf idea): overrun is an error. */
#include "wiharness/core.h"

#include <stdlib.h>
#include <string.h>

void wih_buf_init(wih_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max ? max : WIH_BUF_DEFAULT_MAX;
}

int wih_buf_add(wih_buf *b, const void *p, size_t n)
{
    if (b->overrun) return -1;
    if (n > b->max || b->len > b->max - n) {
        b->overrun = true;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1) nc *= 2;
        if (nc > b->max + 1) nc = b->max + 1;
        char *d = wih_xrealloc(b->data, nc);
        b->data = d;
        b->cap = nc;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int wih_buf_adds(wih_buf *b, const char *s)
{
    return wih_buf_add(b, s, strlen(s));
}

int wih_buf_addf(wih_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(ap2);
        return -1;
    }
    char stackbuf[512];
    char *tmp = (size_t)n < sizeof stackbuf ? stackbuf : wih_xmalloc((size_t)n + 1);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    int rc = wih_buf_add(b, tmp, (size_t)n);
    if (tmp != stackbuf) free(tmp);
    return rc;
}

void wih_buf_reset(wih_buf *b)
{
    b->len = 0;
    b->overrun = false;
    if (b->data) b->data[0] = '\0';
}

char *wih_buf_take(wih_buf *b)
{
    char *d = b->data;
    if (!d) d = wih_strdup("");
    size_t max = b->max;
    wih_buf_init(b, max);
    return d;
}

void wih_buf_free(wih_buf *b)
{
    free(b->data);
    size_t max = b->max;
    wih_buf_init(b, max);
}
