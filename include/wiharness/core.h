/* core — errors with context, logging, capped buffers, child processes,
 * temp/state directories, the cleanup stack and the clock.
 *
 * Ownership rule for the whole project (jq's rule, written once):
 *   - a function returning a pointer transfers ownership to the caller unless
 *     its comment says "borrowed";
 *   - a `const T *` argument is borrowed for the duration of the call;
 *   - a `wih_err **err` out-argument receives a new error on failure (the
 *     caller frees it with wih_err_free) and is untouched on success.
 */
#ifndef WIHARNESS_CORE_H
#define WIHARNESS_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---------------------------------------------------------------- exit codes */
enum {
    WIH_EXIT_OK = 0,      /* all passed */
    WIH_EXIT_FAIL = 1,    /* a scenario/check failed, or a webhook denied */
    WIH_EXIT_INPUT = 2,   /* usage or invalid input (file:line:col) */
    WIH_EXIT_INFRA = 3,   /* cluster, webhook, MinIO, RBAC, I/O */
    WIH_EXIT_INTERRUPTED = 130,
};

/* -------------------------------------------------------------------- memory */
/* The one OOM rule: these never return NULL; a failed allocation prints
 * "wiharness: out of memory" and aborts. Use them (or wih_strdup/wih_asprintf,
 * which follow it) for every allocation. cJSON allocates through the same rule
 * (hooks installed when the library loads): its constructors never return NULL
 * for want of memory, so only parse results need a NULL check. */
void wih_oom(size_t n) __attribute__((noreturn));
void *wih_xmalloc(size_t n);
void *wih_xcalloc(size_t nmemb, size_t size);
void *wih_xrealloc(void *p, size_t n); /* p is gone afterwards: assign the result */
char *wih_xstrdup(const char *s);      /* NULL-safe */
char *wih_xstrndup(const char *s, size_t n);
/* Wipe a secret string (token, key, password) and free it; NULL-safe. */
void wih_free_secret(char *s);

/* -------------------------------------------------------------------- errors */
/* An error says what failed, where in the input (file:line:col), and for HTTP
 * the status and the server's own message (an admission denial's text must
 * survive). `kind` is the exit code it maps to. Context is added outward with
 * wih_err_wrap ("starting etcd: waiting for /health: connection refused"). */
typedef struct wih_err {
    int kind;          /* WIH_EXIT_INPUT, WIH_EXIT_INFRA, WIH_EXIT_FAIL, ... */
    char *msg;         /* the full message with context prefixes */
    char *file;        /* input file, or NULL */
    int line, col;     /* 1-based; 0 when unknown */
    long http_status;  /* 0 when not an HTTP error */
    char *server_msg;  /* the server's message (Status.message, S3 <Message>), or NULL */
    char *full_;       /* private: cache for wih_err_str */
} wih_err;

wih_err *wih_err_new(int kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
wih_err *wih_err_newv(int kind, const char *fmt, va_list ap);
/* An input error at file:line:col (line/col 0 = unknown). */
wih_err *wih_err_at(int kind, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An HTTP error: status and the server's message are kept verbatim. */
wih_err *wih_err_http(long status, const char *server_msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefix context: "<what>: <previous message>". Returns e (NULL-safe). */
wih_err *wih_err_wrap(wih_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "file:line:col: msg" (or just msg), borrowed until the error is freed. */
const char *wih_err_str(const wih_err *e);
int wih_err_exit(const wih_err *e); /* exit code; WIH_EXIT_INFRA if e has none */
void wih_err_free(wih_err *e);
/* Print "wiharness: error: ..." to stderr and free; returns the exit code. */
int wih_err_report(wih_err *e);

/* ---------------------------------------------------------------------- text */
/* Levenshtein distance, for "did you mean" (flags, option keys, profiles). */
size_t wih_edit_distance(const char *a, const char *b);
/* The word of a NULL-terminated list nearest to given (a prefix counts as
 * nearest); borrowed from words, NULL when the list is empty. */
const char *wih_nearest(const char *given, const char *const *words);

/* -------------------------------------------------------------------- base64 */
/* The one base64 (RFC 4648). Encode: standard alphabet with '=' padding, or
 * WIH_B64_URL (-_) and/or WIH_B64_NOPAD. Decode (NUL-terminated result, NULL
 * when malformed): strict by default (the flags' alphabet only, no white
 * space; with NOPAD no '=' and the unused low bits must be zero — a JWT's
 * rule), or WIH_B64_LENIENT (either alphabet, white space skipped, optional
 * '=' padding — kubeconfig *-data, as client-go accepts it). */
enum { WIH_B64_URL = 1, WIH_B64_NOPAD = 2, WIH_B64_LENIENT = 4 };
char *wih_b64_encode(const void *data, size_t n, unsigned flags);
unsigned char *wih_b64_decode(const char *s, size_t len, unsigned flags, size_t *outlen);

/* ------------------------------------------------------------------- logging */
typedef enum { WIH_LOG_DEBUG, WIH_LOG_INFO, WIH_LOG_WARN, WIH_LOG_ERROR, WIH_LOG_QUIET } wih_log_level;
void wih_log_set_level(wih_log_level lvl);
wih_log_level wih_log_get_level(void);
/* Colour is used only when stderr is a TTY and NO_COLOR is unset/empty;
 * force = 1 on, 0 off, -1 auto. */
void wih_log_set_color(int force);
bool wih_log_color(void);
void wih_log(wih_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define wih_debug(...) wih_log(WIH_LOG_DEBUG, __VA_ARGS__)
#define wih_info(...) wih_log(WIH_LOG_INFO, __VA_ARGS__)
#define wih_warn(...) wih_log(WIH_LOG_WARN, __VA_ARGS__)
#define wih_error(...) wih_log(WIH_LOG_ERROR, __VA_ARGS__)

/* ------------------------------------------------------------ capped buffers */
/* A growable byte buffer with a hard cap; always NUL-terminated after any
 * successful append. An append past `max` fails (returns -1, sets overrun)
 * and leaves the contents as they were — an overrun is an error, never a crash. */
typedef struct wih_buf {
    char *data;
    size_t len, cap, max;
    bool overrun;
} wih_buf;
#define WIH_BUF_DEFAULT_MAX ((size_t)64 << 20)
void wih_buf_init(wih_buf *b, size_t max);
int wih_buf_add(wih_buf *b, const void *p, size_t n);
int wih_buf_adds(wih_buf *b, const char *s);
int wih_buf_addf(wih_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wih_buf_reset(wih_buf *b);
char *wih_buf_take(wih_buf *b); /* returns data (caller frees), buffer emptied */
void wih_buf_free(wih_buf *b);

/* --------------------------------------------------------------------- clock */
int64_t wih_now_ms(void);      /* monotonic */
int64_t wih_wall_ms(void);     /* realtime, ms since the epoch */
void wih_sleep_ms(int64_t ms); /* returns early on interrupt */

/* ----------------------------------------------- signals and the cleanup stack */
/* wih_signals_install() makes SIGINT/SIGTERM set a flag that long operations
 * poll (wih_interrupted); main() then unwinds and runs the cleanup stack. A
 * second signal runs the stack from the handler's side and exits 130. The
 * stack also runs at exit(). Entries run last-pushed first, once. */
typedef void (*wih_cleanup_fn)(void *ctx);
void wih_signals_install(void);
bool wih_interrupted(void);
int wih_interrupt_signal(void); /* 0 when none */
/* `what` (copied) says what the entry undoes, as a user reads it after an
 * interrupt: "cleanup: stopping kube-apiserver (pid 123)". Returns a handle for
 * wih_cleanup_pop: stable, never reused, never -1 (there is no fixed capacity).
 * Pop what finishes; popping a handle that already ran or was popped is a no-op
 * and never touches another entry. */
int wih_cleanup_push(const char *what, wih_cleanup_fn fn, void *ctx);
/* Remove the entry; run it first when run is true. Negative handles: no-op. */
void wih_cleanup_pop(int handle, bool run);
void wih_cleanup_run_all(void);
size_t wih_cleanup_pending(void); /* entries on the stack (for tests, leaks) */

/* ------------------------------------------------------- PEM checks (pem.c) */
typedef enum { WIH_PEM_CERT, WIH_PEM_KEY } wih_pem_kind;
/* NULL when pem holds a parseable certificate (CERT) or unencrypted private key
 * (KEY); else why not, e.g. "is not a PEM certificate (...)" (caller frees). */
char *wih_pem_problem(const char *pem, size_t len, wih_pem_kind kind);
/* Read path and check it: NULL, or an input error (exit 2) "<what> <path>: <why>";
 * what names the field, e.g. "--cert". Call before handing PEM to a TLS library. */
wih_err *wih_pem_check_file(const char *path, wih_pem_kind kind, const char *what);

/* ------------------------------------------------------- files and directories */
/* mkdtemp under $TMPDIR (or /tmp) with the given prefix; removed by the
 * cleanup stack unless keep is true. wih_rm_rf of exactly that path pops its
 * cleanup entry, so a long run that makes and removes many does not pile up. */
char *wih_tmpdir(const char *prefix, bool keep, wih_err **err);
/* ${XDG_STATE_HOME:-$HOME/.local/state}/wiharness[/sub] */
char *wih_state_dir_default(const char *sub);
/* ${XDG_CACHE_HOME:-$HOME/.cache}/wiharness[/sub] */
char *wih_cache_dir_default(const char *sub);
int wih_mkdir_p(const char *path, mode_t mode);
int wih_rm_rf(const char *path);
/* Read a whole file (capped at max bytes); NUL-terminated. */
char *wih_read_file(const char *path, size_t max, size_t *len, wih_err **err);
/* Write atomically (tmp + rename) with the given mode. */
int wih_write_file(const char *path, const void *data, size_t len, mode_t mode, wih_err **err);
char *wih_strdup(const char *s); /* NULL-safe; aborts on OOM (= wih_xstrdup) */
char *wih_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *wih_path_join(const char *a, const char *b);
/* Last n lines of a file (for quoting a failed server's log), or NULL. */
char *wih_file_tail(const char *path, int n);

/* ---------------------------------------------------------- child processes */
/* The supervisor starts a program with stdout/stderr appended to log files,
 * waits for readiness (a callback polled until a deadline; an early exit fails
 * at once, quoting the log's tail), and stops it with SIGTERM then SIGKILL
 * after a grace period. It always reaps, and it only ever signals the PID it
 * started. A started process is on the cleanup stack until stopped. */
typedef struct wih_proc wih_proc;
typedef struct wih_proc_opts {
    const char *name;         /* for messages: "etcd" */
    char *const *argv;        /* argv[0] is the program path */
    char *const *env_add;     /* "K=V" entries added to (or replacing in) environ */
    const char *log_dir;      /* <log_dir>/<name>.log gets stdout+stderr; NULL = /dev/null */
    const char *cwd;
    bool die_with_parent;     /* PR_SET_PDEATHSIG SIGTERM */
} wih_proc_opts;
/* Readiness: return 1 ready, 0 not yet, -1 failed for good (err may be set). */
typedef int (*wih_ready_fn)(void *ctx, wih_err **err);

wih_proc *wih_proc_spawn(const wih_proc_opts *o, wih_err **err);
wih_err *wih_proc_wait_ready(wih_proc *p, wih_ready_fn fn, void *ctx, int64_t timeout_ms);
pid_t wih_proc_pid(const wih_proc *p);
const char *wih_proc_name(const wih_proc *p);
const char *wih_proc_log_path(const wih_proc *p); /* borrowed; NULL if none */
bool wih_proc_running(wih_proc *p);               /* reaps if it exited */
int wih_proc_exit_status(const wih_proc *p);      /* raw wait status, -1 while running */
/* SIGTERM, wait up to grace_ms, then SIGKILL; always reaped. Returns 0 if it
 * ended on SIGTERM (or had already exited), 1 if it had to be killed. */
int wih_proc_stop(wih_proc *p, int64_t grace_ms);
/* Forget the process without stopping it (it keeps running; the caller takes
 * over its PID, e.g. a daemonised chain recorded in a state file). */
void wih_proc_detach(wih_proc *p);
void wih_proc_free(wih_proc *p); /* stops it first if still running (5 s grace) */

/* Stop a process known only by a recorded PID (from a state file), but only
 * after checking that /proc/<pid>/exe still is `exe` and its start time still
 * is `start_ticks` — never a recycled PID. Waits up to grace_ms, then SIGKILL.
 * Returns 0 stopped/already gone, -1 on error. */
int wih_pid_stop_checked(pid_t pid, unsigned long long start_ticks, const char *exe,
                         int64_t grace_ms);
/* Start time of a PID in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long wih_pid_start_ticks(pid_t pid);
bool wih_pid_alive(pid_t pid);

/* A free TCP port on 127.0.0.1 (bound with port 0 and released). */
int wih_free_port(wih_err **err);
/* true if something accepts TCP connections on 127.0.0.1:port */
bool wih_port_listening(int port);

/* Run a command to completion, capturing stdout (capped) — for `--version`
 * probes and exec credential plugins. stdin is /dev/null unless stdin_data.
 * The command runs in its own process group; on timeout (err exit 3) or
 * interrupt (err exit 130) the whole group is killed, so what it started dies too.
 * Returns the exit status (0..255), or -1 with err set. */
int wih_run_capture(char *const *argv, char *const *env_add, const char *stdin_data,
                    int64_t timeout_ms, char **out, char **errout, wih_err **err);

/* nbytes of OpenSSL's CSPRNG as lowercase hex (a new string; aborts if the
 * CSPRNG fails — nothing secret may be made without it). nbytes ≤ 64. */
char *wih_random_hex(size_t nbytes);

/* Fingerprint for secrets: "sha256:" + first 12 hex of sha256(s). Never print
 * a token, key or credential; print this. */
char *wih_fingerprint(const char *secret);

/* ------------------------------------------------- the real programs we drive */
/* kube-apiserver, etcd and MinIO (built by ci/setup), kubectl (optional).
 * Looked up in this order (domain/control-plane.md):
 *   1. the environment variable (WIH_KUBE_APISERVER, WIH_ETCD, WIH_MINIO, WIH_KUBECTL);
 *   2. $KUBEBUILDER_ASSETS/<name> (kube-apiserver and etcd only: envtest's convention);
 *   3. the cache: <cache>/bin/<name>-<pinned version>, then the newest <name>-*;
 *   4. PATH. */
/* The node's programs (local backend with a node) come after kubectl:
 * kube-controller-manager, kube-scheduler, kubelet (ci/setup builds them,
 * WIH_KUBE_CONTROLLER_MANAGER / WIH_KUBE_SCHEDULER / WIH_KUBELET), containerd
 * and runc (Debian's, from PATH or WIH_CONTAINERD / WIH_RUNC). */
typedef enum {
    WIH_TOOL_KUBE_APISERVER,
    WIH_TOOL_ETCD,
    WIH_TOOL_MINIO,
    WIH_TOOL_KUBECTL,
    WIH_TOOL_KUBE_CONTROLLER_MANAGER,
    WIH_TOOL_KUBE_SCHEDULER,
    WIH_TOOL_KUBELET,
    WIH_TOOL_CONTAINERD,
    WIH_TOOL_RUNC,
    WIH_TOOL_COUNT
} wih_tool;
typedef struct wih_tool_info {
    const char *name;    /* "kube-apiserver" */
    const char *env;     /* "WIH_KUBE_APISERVER" */
    const char *pinned;  /* pinned version from ci/versions.env, or NULL */
    char *path;          /* NULL when not found */
    const char *source;  /* "WIH_ETCD", "KUBEBUILDER_ASSETS", "cache", "PATH" */
    char *version;       /* from the program's own --version, or NULL */
} wih_tool_info;
/* Find a tool; with_version also runs it to read its version (up to 10 s). */
void wih_tool_find(wih_tool t, bool with_version, wih_tool_info *out);
void wih_tool_info_free(wih_tool_info *ti);
/* Path of a tool or an infrastructure error that says how to get it. */
char *wih_tool_path(wih_tool t, wih_err **err);

#endif
