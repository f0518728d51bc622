#define _GNU_SOURCE /* pipe2 */
/* The child-process supervisor: spawn with logs, wait for readiness, stop by
 * our own PID only (SIGTERM, then SIGKILL after a grace period), always reap. */
#include "wiharness/core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct wih_proc {
    char *name;
    char *log_path;
    pid_t pid;
    int status; /* raw wait status once reaped, -1 before */
    bool reaped;
    int cleanup;
};

static void close_from(int lowfd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = lowfd; fd < (max > 0 ? max : 1024); fd++) close((int)fd);
}

/* environ with env_add applied (same key replaced). Caller frees the array only. */
static char **merged_env(char *const *add)
{
    size_t n = 0, na = 0;
    while (environ[n]) n++;
    while (add && add[na]) na++;
    char **env = wih_xcalloc(n + na + 1, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < na; j++)
            if (!strncmp(add[j], environ[i], kl) && add[j][kl] == '=') replaced = true;
        if (!replaced) env[k++] = environ[i];
    }
    for (size_t j = 0; j < na; j++) env[k++] = add[j];
    env[k] = NULL;
    return env;
}

static void proc_cleanup(void *ctx)
{
    wih_proc *p = ctx;
    p->cleanup = -1;
    wih_proc_stop(p, 5000);
}

/* In a forked child before exec (async-signal-safe): the default dispositions. */
static void child_default_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

wih_proc *wih_proc_spawn(const wih_proc_opts *o, wih_err **err)
{
    const char *name = o->name ? o->name : o->argv[0];
    char *log_path = NULL;
    int logfd = -1;
    if (o->log_dir) {
        if (wih_mkdir_p(o->log_dir, 0700) != 0) {
            *err = wih_err_new(WIH_EXIT_INFRA, "starting %s: creating log dir %s: %s", name, o->log_dir,
                               strerror(errno));
            return NULL;
        }
        char *base = wih_asprintf("%s.log", name);
        log_path = wih_path_join(o->log_dir, base);
        free(base);
        logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    } else {
        logfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    }
    if (logfd < 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "starting %s: opening %s: %s", name,
                           log_path ? log_path : "/dev/null", strerror(errno));
        free(log_path);
        return NULL;
    }
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "starting %s: pipe: %s", name, strerror(errno));
        close(logfd);
        free(log_path);
        return NULL;
    }
    char **env = merged_env(o->env_add);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "starting %s: fork: %s", name, strerror(errno));
        free(env);
        close(logfd);
        close(pipefd[0]);
        close(pipefd[1]);
        free(log_path);
        return NULL;
    }
    if (pid == 0) {
        /* child: only async-signal-safe calls until exec */
        child_default_signals();
        setpgid(0, 0); /* a terminal's Ctrl-C reaches us, and we stop it ourselves */
        if (o->die_with_parent) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) _exit(127);
        }
        int nullfd = open("/dev/null", O_RDONLY);
        if (nullfd >= 0) dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        int errfd = pipefd[1];
        /* close every other inherited descriptor (sockets of libcurl/microhttpd) */
        for (int fd = 3; fd < errfd; fd++) close(fd);
        close_from(errfd + 1);
        if (o->cwd && chdir(o->cwd) != 0) {
            int e = errno;
            ssize_t w = write(errfd, &e, sizeof e);
            (void)w;
            _exit(127);
        }
        execve(o->argv[0], o->argv, env);
        int e = errno;
        ssize_t w = write(errfd, &e, sizeof e);
        (void)w;
        _exit(127);
    }
    free(env);
    close(logfd);
    close(pipefd[1]);
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(pipefd[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    wih_proc *p = wih_xcalloc(1, sizeof *p);
    p->name = wih_strdup(name);
    p->log_path = log_path;
    p->pid = pid;
    p->status = -1;
    p->cleanup = -1;
    if (n == (ssize_t)sizeof child_errno) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        *err = wih_err_new(WIH_EXIT_INFRA, "starting %s: %s: %s", name, o->argv[0], strerror(child_errno));
        free(p->name);
        free(p->log_path);
        free(p);
        return NULL;
    }
    char *what = wih_asprintf("stopping %s (pid %d)", p->name, (int)pid);
    p->cleanup = wih_cleanup_push(what, proc_cleanup, p);
    free(what);
    return p;
}

static bool reap_nohang(wih_proc *p)
{
    if (p->reaped) return true;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid || (r < 0 && errno == ECHILD)) {
        p->reaped = true;
        p->status = r == p->pid ? st : 0;
    }
    return p->reaped;
}

bool wih_proc_running(wih_proc *p)
{
    return !reap_nohang(p);
}

int wih_proc_exit_status(const wih_proc *p)
{
    return p->reaped ? p->status : -1;
}

pid_t wih_proc_pid(const wih_proc *p)
{
    return p->pid;
}

const char *wih_proc_name(const wih_proc *p)
{
    return p->name;
}

const char *wih_proc_log_path(const wih_proc *p)
{
    return p->log_path;
}

static char *describe_exit(int st)
{
    if (WIFEXITED(st)) return wih_asprintf("exited with status %d", WEXITSTATUS(st));
    if (WIFSIGNALED(st)) return wih_asprintf("was killed by signal %d", WTERMSIG(st));
    return wih_asprintf("ended (wait status %d)", st);
}

static wih_err *with_log_tail(wih_err *e, const wih_proc *p)
{
    if (!p->log_path) return e;
    char *tail = wih_file_tail(p->log_path, 15);
    if (tail && *tail) {
        char *m = wih_asprintf("%s\n--- last lines of %s ---\n%s", e->msg, p->log_path, tail);
        free(e->msg);
        e->msg = m;
    }
    free(tail);
    return e;
}

wih_err *wih_proc_wait_ready(wih_proc *p, wih_ready_fn fn, void *ctx, int64_t timeout_ms)
{
    int64_t deadline = wih_now_ms() + timeout_ms;
    int64_t delay = 20;
    for (;;) {
        wih_err *e = NULL;
        int r = fn(ctx, &e);
        if (r > 0) return NULL;
        if (r < 0) {
            if (!e) e = wih_err_new(WIH_EXIT_INFRA, "not ready");
            return with_log_tail(wih_err_wrap(e, "waiting for %s", p->name), p);
        }
        wih_err_free(e);
        if (!wih_proc_running(p)) {
            char *how = describe_exit(p->status);
            wih_err *x = wih_err_new(WIH_EXIT_INFRA, "%s (pid %d) %s before it was ready", p->name, (int)p->pid, how);
            free(how);
            return with_log_tail(x, p);
        }
        if (wih_interrupted())
            return wih_err_new(WIH_EXIT_INTERRUPTED, "interrupted while waiting for %s", p->name);
        if (wih_now_ms() >= deadline)
            return with_log_tail(wih_err_new(WIH_EXIT_INFRA, "%s (pid %d) was not ready within %lld ms",
                                             p->name, (int)p->pid, (long long)timeout_ms),
                                 p);
        wih_sleep_ms(delay);
        if (delay < 200) delay *= 2;
    }
}

int wih_proc_stop(wih_proc *p, int64_t grace_ms)
{
    if (p->cleanup >= 0) {
        int h = p->cleanup;
        p->cleanup = -1;
        wih_cleanup_pop(h, false);
    }
    if (reap_nohang(p)) return 0;
    kill(p->pid, SIGTERM);
    int64_t deadline = wih_now_ms() + grace_ms;
    while (wih_now_ms() < deadline) {
        if (reap_nohang(p)) return 0;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (reap_nohang(p)) return 0;
    kill(p->pid, SIGKILL);
    int st;
    pid_t r;
    while ((r = waitpid(p->pid, &st, 0)) < 0 && errno == EINTR) {
    }
    p->reaped = true;
    p->status = r == p->pid ? st : 0;
    return 1;
}

void wih_proc_detach(wih_proc *p)
{
    if (p->cleanup >= 0) {
        wih_cleanup_pop(p->cleanup, false);
        p->cleanup = -1;
    }
    p->reaped = true;
    p->status = 0;
}

void wih_proc_free(wih_proc *p)
{
    if (!p) return;
    if (!p->reaped) wih_proc_stop(p, 5000);
    if (p->cleanup >= 0) wih_cleanup_pop(p->cleanup, false);
    free(p->name);
    free(p->log_path);
    free(p);
}

/* ------------------------------------------------------ recorded PIDs */
unsigned long long wih_pid_start_ticks(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = wih_read_file(path, 65536, NULL, NULL);
    if (!s) return 0;
    char *rp = strrchr(s, ')'); /* comm may contain spaces and parens */
    unsigned long long start = 0;
    if (rp) {
        char state = 0;
        /* after ")": state(3) ppid(4) ... starttime is field 22 */
        char *q = rp + 2;
        state = *q;
        int field = 3;
        while (*q && field < 22) {
            if (*q == ' ') field++;
            q++;
        }
        if (field == 22) start = strtoull(q, NULL, 10);
        if (state == 'Z' || state == 'X') start = 0;
    }
    free(s);
    return start;
}

bool wih_pid_alive(pid_t pid)
{
    if (pid <= 0) return false;
    if (kill(pid, 0) != 0 && errno == ESRCH) return false;
    return wih_pid_start_ticks(pid) != 0;
}

int wih_pid_stop_checked(pid_t pid, unsigned long long start_ticks, const char *exe, int64_t grace_ms)
{
    if (pid <= 0) return -1;
    unsigned long long now = wih_pid_start_ticks(pid);
    if (now == 0 || now != start_ticks) return 0; /* gone, or the PID was reused */
    if (exe) {
        char path[64], target[4096];
        snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            /* a deleted-and-replaced binary reads "<path> (deleted)" */
            if (strncmp(target, exe, strlen(exe)) != 0) return 0;
        }
    }
    kill(pid, SIGTERM);
    int64_t deadline = wih_now_ms() + grace_ms;
    while (wih_now_ms() < deadline) {
        if (wih_pid_start_ticks(pid) != start_ticks) return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) return 0; /* our own child after all */
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    if (wih_pid_start_ticks(pid) != start_ticks) return 0;
    kill(pid, SIGKILL);
    deadline = wih_now_ms() + 5000;
    while (wih_now_ms() < deadline) {
        if (wih_pid_start_ticks(pid) != start_ticks) return 0;
        if (waitpid(pid, NULL, WNOHANG) == pid) return 0;
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* -------------------------------------------------------------- ports */
int wih_free_port(wih_err **err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        close(fd);
        goto fail;
    }
    close(fd);
    return ntohs(a.sin_port);
fail:
    if (err) *err = wih_err_new(WIH_EXIT_INFRA, "finding a free loopback port: %s", strerror(errno));
    return -1;
}

bool wih_port_listening(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* ---------------------------------------------------- run to completion */
int wih_run_capture(char *const *argv, char *const *env_add, const char *stdin_data, int64_t timeout_ms,
                    char **out, char **errout, wih_err **err)
{
    int po[2], pe[2], pi[2];
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC) || pipe2(pi, O_CLOEXEC)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "running %s: pipe: %s", argv[0], strerror(errno));
        return -1;
    }
    int ep[2];
    if (pipe2(ep, O_CLOEXEC)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "running %s: pipe: %s", argv[0], strerror(errno));
        return -1;
    }
    char **env = merged_env(env_add);
    pid_t pid = fork();
    if (pid < 0) {
        free(env);
        *err = wih_err_new(WIH_EXIT_INFRA, "running %s: fork: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        child_default_signals();
        setpgid(0, 0); /* its own group: a timeout or interrupt kills its children too */
        dup2(pi[0], 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (strchr(argv[0], '/'))
            execve(argv[0], argv, env);
        else {
            environ = env;
            execvp(argv[0], argv);
        }
        int e = errno;
        ssize_t w = write(ep[1], &e, sizeof e);
        (void)w;
        _exit(127);
    }
    free(env);
    setpgid(pid, pid); /* also here: no race with the kill below */
    close(po[1]);
    close(pe[1]);
    close(pi[0]);
    close(ep[1]);
    int child_errno = 0;
    ssize_t en;
    do {
        en = read(ep[0], &child_errno, sizeof child_errno);
    } while (en < 0 && errno == EINTR);
    close(ep[0]);
    size_t in_left = stdin_data ? strlen(stdin_data) : 0;
    const char *in_p = stdin_data;
    if (!in_left) {
        close(pi[1]);
        pi[1] = -1;
    } else {
        fcntl(pi[1], F_SETFL, O_NONBLOCK);
    }
    wih_buf bo, be;
    wih_buf_init(&bo, 16 << 20);
    wih_buf_init(&be, 1 << 20);
    int64_t deadline = wih_now_ms() + timeout_ms;
    bool timed_out = false, interrupted = false;
    int open_fds = 2;
    while (open_fds > 0 || pi[1] >= 0) {
        struct pollfd fds[3];
        int nf = 0;
        if (po[0] >= 0) fds[nf++] = (struct pollfd){po[0], POLLIN, 0};
        if (pe[0] >= 0) fds[nf++] = (struct pollfd){pe[0], POLLIN, 0};
        if (pi[1] >= 0) fds[nf++] = (struct pollfd){pi[1], POLLOUT, 0};
        int64_t left = deadline - wih_now_ms();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        int r = poll(fds, (nfds_t)nf, (int)(left > 100 ? 100 : left));
        if (r < 0 && errno != EINTR) break;
        if (wih_interrupted()) {
            timed_out = interrupted = true;
            break;
        }
        for (int i = 0; i < nf; i++) {
            if (!fds[i].revents) continue;
            if (fds[i].fd == pi[1]) {
                ssize_t w = write(pi[1], in_p, in_left);
                if (w > 0) {
                    in_p += w;
                    in_left -= (size_t)w;
                }
                if (w < 0 && errno != EAGAIN) in_left = 0;
                if (!in_left) {
                    close(pi[1]);
                    pi[1] = -1;
                }
                continue;
            }
            char chunk[8192];
            ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
            if (n > 0) {
                wih_buf_add(fds[i].fd == po[0] ? &bo : &be, chunk, (size_t)n);
            } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                if (fds[i].fd == po[0]) {
                    close(po[0]);
                    po[0] = -1;
                } else {
                    close(pe[0]);
                    pe[0] = -1;
                }
                open_fds--;
            }
        }
    }
    if (po[0] >= 0) close(po[0]);
    if (pe[0] >= 0) close(pe[0]);
    if (pi[1] >= 0) close(pi[1]);
    if (timed_out) kill(-pid, SIGKILL); /* the group we made: the command and what it started */
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (en == (ssize_t)sizeof child_errno) {
        *err = wih_err_new(WIH_EXIT_INFRA, "running %s: %s", argv[0], strerror(child_errno));
        wih_buf_free(&bo);
        wih_buf_free(&be);
        return -1;
    }
    if (timed_out) {
        *err = interrupted ? wih_err_new(WIH_EXIT_INTERRUPTED, "running %s: interrupted", argv[0])
                           : wih_err_new(WIH_EXIT_INFRA, "running %s: no result within %lld ms", argv[0],
                                         (long long)timeout_ms);
        wih_buf_free(&bo);
        wih_buf_free(&be);
        return -1;
    }
    if (out)
        *out = wih_buf_take(&bo);
    if (errout)
        *errout = wih_buf_take(&be);
    wih_buf_free(&bo);
    wih_buf_free(&be);
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}
