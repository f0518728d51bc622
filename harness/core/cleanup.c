/* SIGINT/SIGTERM handling and the cleanup stack (run at exit and on signal).
 *
 * The stack is a linked list of heap nodes, newest first. A handle is the
 * node's id: a number that is never reused, so popping a handle whose entry
 * has already run or been popped does nothing, and popping one entry never
 * removes another (there is no renumbering). There is no fixed capacity.
 * A node is fully built before one pointer store links it in, so the second
 * signal's handler always sees a consistent list. */
#include "wiharness/core.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
    struct entry *next; /* the one pushed before */
    int id;
    char *what;
    wih_cleanup_fn fn;
    void *ctx;
    pid_t owner; /* only the process that pushed an entry runs it */
};

static struct entry *volatile g_top;
static struct entry *g_ran; /* entries run by run_all: kept, so their ctx stays reachable (LeakSanitizer) */
static int g_next_id;
static size_t g_count;
static volatile sig_atomic_t g_signal;
static volatile sig_atomic_t g_running;
static volatile sig_atomic_t g_in_handler;
static bool g_atexit;

static void say_what(const char *what)
{
    /* write(2) only: this may run from the signal handler */
    static const char pre[] = "cleanup: ";
    ssize_t w = write(STDERR_FILENO, pre, sizeof pre - 1);
    w = write(STDERR_FILENO, what, strlen(what));
    w = write(STDERR_FILENO, "\n", 1);
    (void)w;
}

static void entry_free(struct entry *e)
{
    if (g_in_handler) return; /* free is not async-signal-safe; we _exit next */
    free(e->what);
    free(e);
}

/* Unlink e (whose predecessor link is *link) and run it if asked; keep it
 * (on g_ran) instead of freeing it when keep. */
static void take(struct entry *volatile *link, struct entry *e, bool run, bool keep)
{
    *link = e->next;
    g_count--;
    /* A forked child (Check's test forks, a child before exec) inherits the
     * stack but owns none of it: it must not stop its parent's processes or
     * remove its parent's directories when it exits. */
    if (run && e->owner == getpid()) {
        if (g_signal) say_what(e->what);
        e->fn(e->ctx);
    }
    if (keep) {
        e->next = g_ran;
        g_ran = e;
    } else {
        entry_free(e);
    }
}

void wih_cleanup_run_all(void)
{
    if (g_running) return;
    g_running = 1;
    /* always take the current top: an entry's function may pop others */
    while (g_top) take(&g_top, g_top, true, true);
    g_running = 0;
}

static void at_exit(void)
{
    wih_cleanup_run_all();
}

static void ensure_atexit(void)
{
    if (!g_atexit) {
        atexit(at_exit);
        g_atexit = true;
    }
}

int wih_cleanup_push(const char *what, wih_cleanup_fn fn, void *ctx)
{
    ensure_atexit();
    struct entry *e = wih_xmalloc(sizeof *e);
    if (g_next_id == INT32_MAX) g_next_id = 0;
    *e = (struct entry){g_top, g_next_id++, wih_xstrdup(what ? what : "cleanup entry"), fn, ctx, getpid()};
    g_count++;
    g_top = e;
    return e->id;
}

void wih_cleanup_pop(int handle, bool run)
{
    if (handle < 0) return;
    for (struct entry *volatile *link = &g_top; *link; link = &(*link)->next)
        if ((*link)->id == handle) {
            take(link, *link, run, false);
            return;
        }
}

size_t wih_cleanup_pending(void)
{
    return g_count;
}

static void on_signal(int sig)
{
    if (g_signal) {
        /* Second signal: the user insists. Clean up from here and leave. */
        static const char m[] = "\nwiharness: interrupted again, cleaning up and exiting\n";
        ssize_t w = write(STDERR_FILENO, m, sizeof m - 1);
        (void)w;
        g_in_handler = 1;
        g_running = 0; /* the interrupted run_all will not resume */
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
    ensure_atexit();
}

bool wih_interrupted(void)
{
    return g_signal != 0;
}

int wih_interrupt_signal(void)
{
    return g_signal;
}
