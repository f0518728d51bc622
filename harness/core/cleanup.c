/* SIGINT/SIGTERM handling and the cleanup stack (run at exit and on signal). */
#include "wiharness/core.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_CLEANUPS 256

struct entry {
    const char *what;
    wih_cleanup_fn fn;
    void *ctx;
    bool used;
    pid_t owner; /* only the process that pushed an entry runs it */
};

static struct entry g_stack[MAX_CLEANUPS];
static int g_top; /* one past the highest used slot */
static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_running;
static bool g_atexit;

static void run_entry(int i)
{
    if (!g_stack[i].used) return;
    g_stack[i].used = false;
    /* A forked child (Check's test forks, a child before exec) inherits the
     * stack but owns none of it: it must not stop its parent's processes or
     * remove its parent's directories when it exits. */
    if (g_stack[i].owner != getpid()) return;
    g_stack[i].fn(g_stack[i].ctx);
}

void wih_cleanup_run_all(void)
{
    if (g_running) return;
    g_running = 1;
    for (int i = g_top - 1; i >= 0; i--) run_entry(i);
    g_top = 0;
    g_running = 0;
}

static void at_exit(void)
{
    wih_cleanup_run_all();
}

int wih_cleanup_push(const char *what, wih_cleanup_fn fn, void *ctx)
{
    if (!g_atexit) {
        atexit(at_exit);
        g_atexit = true;
    }
    if (g_top >= MAX_CLEANUPS) {
        /* compact */
        int j = 0;
        for (int i = 0; i < g_top; i++)
            if (g_stack[i].used) g_stack[j++] = g_stack[i];
        g_top = j;
        if (g_top >= MAX_CLEANUPS) return -1;
    }
    g_stack[g_top] = (struct entry){what, fn, ctx, true, getpid()};
    return g_top++;
}

void wih_cleanup_pop(int handle, bool run)
{
    if (handle < 0 || handle >= g_top || !g_stack[handle].used) return;
    if (run)
        run_entry(handle);
    else
        g_stack[handle].used = false;
    while (g_top > 0 && !g_stack[g_top - 1].used) g_top--;
}

static void on_signal(int sig)
{
    if (g_signal) {
        /* Second signal: the user insists. Clean up from here and leave. */
        static const char m[] = "\nwiharness: interrupted again, cleaning up and exiting\n";
        ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
        (void)w;
        wih_cleanup_run_all();
        _exit(WIH_EXIT_INTERRUPTED);
    }
    g_signal = sig;
}

void wih_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (!g_atexit) {
        atexit(at_exit);
        g_atexit = true;
    }
}

bool wih_interrupted(void)
{
    return g_signal != 0;
}

int wih_interrupt_signal(void)
{
    return g_signal;
}
