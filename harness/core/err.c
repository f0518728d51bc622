/* Errors with context: what failed, where in the input, and the server's word. */
#include "wiharness/core.h"

#include <stdlib.h>
#include <string.h>

static char *vfmt(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return wih_strdup("(unformattable message)");
    char *s = wih_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

wih_err *wih_err_newv(int kind, const char *fmt, va_list ap)
{
    wih_err *e = wih_xcalloc(1, sizeof *e);
    e->kind = kind;
    e->msg = vfmt(fmt, ap);
    return e;
}

wih_err *wih_err_new(int kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(kind, fmt, ap);
    va_end(ap);
    return e;
}

wih_err *wih_err_at(int kind, const char *file, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(kind, fmt, ap);
    va_end(ap);
    e->file = wih_strdup(file);
    e->line = line;
    e->col = col;
    return e;
}

wih_err *wih_err_http(long status, const char *server_msg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wih_err *e = wih_err_newv(WIH_EXIT_INFRA, fmt, ap);
    va_end(ap);
    e->http_status = status;
    e->server_msg = wih_strdup(server_msg);
    return e;
}

wih_err *wih_err_wrap(wih_err *e, const char *fmt, ...)
{
    if (!e) return NULL;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = vfmt(fmt, ap);
    va_end(ap);
    char *m = wih_asprintf("%s: %s", ctx, e->msg);
    free(ctx);
    free(e->msg);
    e->msg = m;
    return e;
}

const char *wih_err_str(const wih_err *e)
{
    if (!e) return "(no error)";
    if (!e->file) return e->msg;
    wih_err *me = (wih_err *)e; /* the cache is not part of the value */
    free(me->full_);
    if (e->line > 0 && e->col > 0)
        me->full_ = wih_asprintf("%s:%d:%d: %s", e->file, e->line, e->col, e->msg);
    else if (e->line > 0)
        me->full_ = wih_asprintf("%s:%d: %s", e->file, e->line, e->msg);
    else
        me->full_ = wih_asprintf("%s: %s", e->file, e->msg);
    return me->full_;
}

int wih_err_exit(const wih_err *e)
{
    if (!e) return WIH_EXIT_OK;
    return e->kind ? e->kind : WIH_EXIT_INFRA;
}

void wih_err_free(wih_err *e)
{
    if (!e) return;
    free(e->msg);
    free(e->file);
    free(e->server_msg);
    free(e->full_);
    free(e);
}

int wih_err_report(wih_err *e)
{
    if (!e) return WIH_EXIT_OK;
    int code = wih_err_exit(e);
    const char *s = wih_err_str(e);
    bool col = wih_log_color();
    fprintf(stderr, "%swiharness: error:%s %s", col ? "\033[1;31m" : "", col ? "\033[0m" : "", s);
    if (e->http_status) {
        fprintf(stderr, " (HTTP %ld", e->http_status);
        if (e->server_msg && *e->server_msg && !strstr(s, e->server_msg))
            fprintf(stderr, ": %s", e->server_msg);
        fputc(')', stderr);
    }
    fputc('\n', stderr);
    wih_err_free(e);
    return code;
}
