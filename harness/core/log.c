/* Levelled logging to stderr; colour only on a TTY and never with NO_COLOR. */
#include "wiharness/core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static wih_log_level g_level = WIH_LOG_INFO;
static int g_color_force = -1;

void wih_log_set_level(wih_log_level lvl)
{
    g_level = lvl;
}

wih_log_level wih_log_get_level(void)
{
    return g_level;
}

void wih_log_set_color(int force)
{
    g_color_force = force;
}

bool wih_log_color(void)
{
    if (g_color_force >= 0) return g_color_force == 1;
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) return false;
    return isatty(STDERR_FILENO) == 1;
}

void wih_log(wih_log_level lvl, const char *fmt, ...)
{
    if (lvl < g_level || lvl >= WIH_LOG_QUIET) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    static const char *colors[] = {"\033[2m", "\033[36m", "\033[33m", "\033[31m"};
    bool c = wih_log_color();
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c)
        fprintf(stderr, "%s%-5s\033[0m %s\n", colors[lvl], names[lvl], line);
    else
        fprintf(stderr, "%-5s %s\n", names[lvl], line);
}
