/* core: errors, capped buffers, the supervisor (stop, kill after grace, reap),
 * the cleanup stack, run_capture, fingerprints, ports. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* ASan's allocator dies on an impossible size before malloc can return NULL */
#if defined(__SANITIZE_ADDRESS__)
#define WIH_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WIH_TEST_ASAN 1
#endif
#endif
#ifndef WIH_TEST_ASAN
#define WIH_TEST_ASAN 0
#endif

static bool is_zombie_or_gone(pid_t pid)
{
    return wih_pid_start_ticks(pid) == 0;
}

START_TEST(err_formats)
{
    wih_err *e = wih_err_at(WIH_EXIT_INPUT, "scenarios/x.yaml", 12, 5, "expected a list");
    ck_assert_str_eq(wih_err_str(e), "scenarios/x.yaml:12:5: expected a list");
    wih_err_wrap(e, "loading scenario %s", "x");
    ck_assert_str_eq(wih_err_str(e), "scenarios/x.yaml:12:5: loading scenario x: expected a list");
    ck_assert_int_eq(wih_err_exit(e), 2);
    wih_err_free(e);
    e = wih_err_http(403, "pods is forbidden: User \"x\" cannot create", "creating pod %s", "p");
    ck_assert_int_eq(e->http_status, 403);
    ck_assert_str_eq(e->server_msg, "pods is forbidden: User \"x\" cannot create");
    ck_assert_int_eq(wih_err_exit(e), 3);
    wih_err_free(e);
    ck_assert_ptr_null(wih_err_wrap(NULL, "nothing"));
}
END_TEST

START_TEST(buf_cap_is_an_error)
{
    wih_buf b;
    wih_buf_init(&b, 10);
    ck_assert_int_eq(wih_buf_adds(&b, "12345"), 0);
    ck_assert_int_eq(wih_buf_addf(&b, "%d", 6789), 0);
    ck_assert_str_eq(b.data, "123456789");
    ck_assert_int_eq(wih_buf_adds(&b, "ab"), -1);
    ck_assert(b.overrun);
    ck_assert_str_eq(b.data, "123456789"); /* unchanged */
    ck_assert_int_eq(wih_buf_adds(&b, "x"), -1); /* sticky */
    wih_buf_reset(&b);
    ck_assert_int_eq(wih_buf_adds(&b, "0123456789"), 0);
    ck_assert_uint_eq(b.len, 10);
    char *t = wih_buf_take(&b);
    ck_assert_str_eq(t, "0123456789");
    ck_assert_uint_eq(b.len, 0);
    free(t);
    wih_buf_free(&b);
}
END_TEST

static int ready_after_file(void *ctx, wih_err **err)
{
    (void)err;
    return access(ctx, F_OK) == 0 ? 1 : 0;
}

START_TEST(supervisor_stops_and_reaps)
{
    wih_err *err = NULL;
    char *dir = wih_tmpdir("wih-test", false, &err);
    char *flag = wih_path_join(dir, "ready");
    char *script = wih_asprintf("echo started; touch %s; exec sleep 60", flag);
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    wih_proc_opts o = {.name = "sleeper", .argv = argv, .log_dir = dir};
    wih_proc *p = wih_proc_spawn(&o, &err);
    ck_assert_msg(p != NULL, "%s", wih_err_str(err));
    pid_t pid = wih_proc_pid(p);
    err = wih_proc_wait_ready(p, ready_after_file, flag, 10000);
    ck_assert_msg(err == NULL, "%s", wih_err_str(err));
    ck_assert(wih_proc_running(p));
    int64_t t0 = wih_now_ms();
    ck_assert_int_eq(wih_proc_stop(p, 5000), 0); /* ended on SIGTERM */
    ck_assert(wih_now_ms() - t0 < 4000);
    ck_assert(!wih_proc_running(p));
    ck_assert(WIFSIGNALED(wih_proc_exit_status(p)));
    ck_assert_int_eq(WTERMSIG(wih_proc_exit_status(p)), SIGTERM);
    /* reaped: not even a zombie */
    ck_assert(is_zombie_or_gone(pid));
    ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
    char *log = wih_file_tail(wih_proc_log_path(p), 5);
    ck_assert_str_eq(log, "started");
    free(log);
    wih_proc_free(p);
    free(flag);
    free(script);
    free(dir);
}
END_TEST

START_TEST(supervisor_kills_after_grace)
{
    wih_err *err = NULL;
    char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo ignoring; while :; do sleep 0.05; done", NULL};
    wih_proc_opts o = {.name = "stubborn", .argv = argv};
    wih_proc *p = wih_proc_spawn(&o, &err);
    ck_assert_ptr_nonnull(p);
    pid_t pid = wih_proc_pid(p);
    wih_sleep_ms(200); /* let it install the trap */
    int64_t t0 = wih_now_ms();
    ck_assert_int_eq(wih_proc_stop(p, 500), 1); /* had to be killed */
    int64_t took = wih_now_ms() - t0;
    ck_assert_msg(took >= 450, "stopped after %lld ms, before the grace period", (long long)took);
    ck_assert(WIFSIGNALED(wih_proc_exit_status(p)));
    ck_assert_int_eq(WTERMSIG(wih_proc_exit_status(p)), SIGKILL);
    ck_assert(is_zombie_or_gone(pid));
    wih_proc_free(p);
}
END_TEST

static int never_ready(void *ctx, wih_err **err)
{
    (void)ctx;
    (void)err;
    return 0;
}

START_TEST(supervisor_early_exit_quotes_log)
{
    wih_err *err = NULL;
    char *dir = wih_tmpdir("wih-test", false, &err);
    char *argv[] = {"/bin/sh", "-c", "echo 'bind: address already in use' >&2; exit 7", NULL};
    wih_proc_opts o = {.name = "crasher", .argv = argv, .log_dir = dir};
    wih_proc *p = wih_proc_spawn(&o, &err);
    ck_assert_ptr_nonnull(p);
    err = wih_proc_wait_ready(p, never_ready, NULL, 10000);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err->msg, "exited with status 7 before it was ready") &&
                      strstr(err->msg, "bind: address already in use"),
                  "%s", err->msg);
    ck_assert_int_eq(wih_err_exit(err), WIH_EXIT_INFRA);
    wih_err_free(err);
    wih_proc_free(p);
    free(dir);
}
END_TEST

START_TEST(supervisor_deadline)
{
    wih_err *err = NULL;
    char *argv[] = {"/bin/sleep", "30", NULL};
    wih_proc_opts o = {.name = "slow", .argv = argv};
    wih_proc *p = wih_proc_spawn(&o, &err);
    ck_assert_ptr_nonnull(p);
    err = wih_proc_wait_ready(p, never_ready, NULL, 300);
    ck_assert_ptr_nonnull(err);
    ck_assert_msg(strstr(err->msg, "was not ready within 300 ms"), "%s", err->msg);
    wih_err_free(err);
    pid_t pid = wih_proc_pid(p);
    wih_proc_free(p); /* free stops a running child */
    ck_assert(is_zombie_or_gone(pid));
}
END_TEST

START_TEST(spawn_missing_program)
{
    wih_err *err = NULL;
    char *argv[] = {"/nonexistent/etcd", NULL};
    wih_proc_opts o = {.name = "etcd", .argv = argv};
    wih_proc *p = wih_proc_spawn(&o, &err);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err->msg, "No such file or directory"), "%s", err->msg);
    wih_err_free(err);
}
END_TEST

static int g_order[4], g_n;
static void rec(void *ctx)
{
    g_order[g_n++] = (int)(intptr_t)ctx;
}

START_TEST(cleanup_stack_order)
{
    g_n = 0;
    wih_cleanup_push("1", rec, (void *)1);
    int h2 = wih_cleanup_push("2", rec, (void *)2);
    wih_cleanup_push("3", rec, (void *)3);
    wih_cleanup_pop(h2, false);
    wih_cleanup_run_all();
    ck_assert_int_eq(g_n, 2);
    ck_assert_int_eq(g_order[0], 3);
    ck_assert_int_eq(g_order[1], 1);
    wih_cleanup_run_all(); /* entries run once */
    ck_assert_int_eq(g_n, 2);
}
END_TEST

/* Handles stay stable: popping B after the stack had to make room for more
 * entries removes B (and only B) — issue 9, bug 1. */
static int g_ran_a, g_ran_b;
static void mark_a(void *ctx) { (void)ctx; g_ran_a++; }
static void mark_b(void *ctx) { (void)ctx; g_ran_b++; }
static void nop(void *ctx) { (void)ctx; }

START_TEST(cleanup_handles_are_stable)
{
    g_ran_a = g_ran_b = 0;
    int ha = wih_cleanup_push("A", mark_a, NULL);
    int hole = wih_cleanup_push("hole", nop, NULL);
    int hb = wih_cleanup_push("B", mark_b, NULL);
    ck_assert_int_ge(ha, 0);
    ck_assert_int_ge(hb, 0);
    enum { N = 300 };
    int fill[N];
    for (int i = 0; i < N; i++) {
        fill[i] = wih_cleanup_push("filler", nop, NULL);
        if (i == 10) wih_cleanup_pop(hole, false); /* a hole below B */
    }
    wih_cleanup_pop(hb, false);
    for (int i = N - 1; i >= 0; i--) wih_cleanup_pop(fill[i], false);
    wih_cleanup_pop(hb, false); /* a second pop of a gone handle is a no-op */
    wih_cleanup_run_all();
    ck_assert_int_eq(g_ran_b, 0);
    ck_assert_int_eq(g_ran_a, 1);
}
END_TEST

/* A removed temp dir leaves the stack: hundreds of them do not fill it, and a
 * later directory at the same path is not removed by the stale entry. */
START_TEST(tmpdirs_are_popped_when_removed)
{
    g_ran_a = 0;
    char *last = NULL;
    for (int i = 0; i < 400; i++) {
        wih_err *err = NULL;
        char *d = wih_tmpdir("wih-test-many", false, &err);
        ck_assert_msg(d, "%s", err ? wih_err_str(err) : "?");
        ck_assert_int_eq(wih_rm_rf(d), 0);
        free(last);
        last = d;
    }
    ck_assert_int_ge(wih_cleanup_push("A", mark_a, NULL), 0);
    ck_assert_int_eq(mkdir(last, 0700), 0); /* someone else's dir, same name */
    wih_cleanup_run_all();
    ck_assert_int_eq(g_ran_a, 1);
    ck_assert_msg(access(last, F_OK) == 0, "a stale temp-dir entry removed %s", last);
    rmdir(last);
    free(last);
}
END_TEST

/* An interrupt prints what each entry undoes. */
START_TEST(cleanup_after_interrupt_says_what)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t child = fork();
    if (child == 0) {
        dup2(pfd[1], STDERR_FILENO);
        close(pfd[0]);
        wih_signals_install();
        char *argv[] = {"/bin/sleep", "60", NULL};
        wih_proc_opts o = {.name = "sleeper", .argv = argv};
        wih_err *err = NULL;
        wih_proc *p = wih_proc_spawn(&o, &err);
        if (!p) _exit(9);
        raise(SIGINT);
        exit(WIH_EXIT_INTERRUPTED); /* atexit runs the stack */
    }
    close(pfd[1]);
    char out[4096];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof out - 1 && (r = read(pfd[0], out + n, sizeof out - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(pfd[0]);
    int st;
    waitpid(child, &st, 0);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), WIH_EXIT_INTERRUPTED);
    ck_assert_msg(strstr(out, "cleanup: stopping sleeper (pid "), "stderr was: %s", out);
}
END_TEST

/* The one OOM rule: a failed allocation aborts with a message, never NULL. */
START_TEST(oom_aborts_with_a_message)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t child = fork();
    if (child == 0) {
        dup2(pfd[1], STDERR_FILENO);
#if WIH_TEST_ASAN
        wih_oom(SIZE_MAX / 2);
#else
        volatile size_t huge = SIZE_MAX / 2;
        void *p = wih_xmalloc(huge);
        _exit(p ? 0 : 1); /* not reached */
#endif
    }
    close(pfd[1]);
    char out[512];
    ssize_t n = read(pfd[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = 0;
    close(pfd[0]);
    int st;
    waitpid(child, &st, 0);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "wait status %d", st);
    ck_assert_msg(strstr(out, "wiharness: out of memory"), "stderr: %s", out);
}
END_TEST

/* The one base64: RFC 4648 section 10 vectors in every mode. */
START_TEST(base64_modes)
{
    static const char *const v[][3] = {{"", "", ""},         {"f", "Zg==", "Zg"},         {"fo", "Zm8=", "Zm8"},
                                       {"foo", "Zm9v", "Zm9v"}, {"foob", "Zm9vYg==", "Zm9vYg"}, {"fooba", "Zm9vYmE=", "Zm9vYmE"},
                                       {"foobar", "Zm9vYmFy", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *e = wih_b64_encode(v[i][0], strlen(v[i][0]), 0);
        ck_assert_str_eq(e, v[i][1]);
        free(e);
        e = wih_b64_encode(v[i][0], strlen(v[i][0]), WIH_B64_URL | WIH_B64_NOPAD);
        ck_assert_str_eq(e, v[i][2]);
        free(e);
        size_t n = 0;
        unsigned char *d = wih_b64_decode(v[i][1], strlen(v[i][1]), 0, &n);
        ck_assert_msg(d && n == strlen(v[i][0]) && !memcmp(d, v[i][0], n), "strict padded %s", v[i][1]);
        free(d);
        d = wih_b64_decode(v[i][2], strlen(v[i][2]), WIH_B64_URL | WIH_B64_NOPAD, &n);
        ck_assert_msg(d && n == strlen(v[i][0]) && !memcmp(d, v[i][0], n), "strict url %s", v[i][2]);
        free(d);
    }
    const unsigned char bin[] = {0xfb, 0xff, 0xfe};
    char *e = wih_b64_encode(bin, 3, 0);
    ck_assert_str_eq(e, "+//+");
    free(e);
    e = wih_b64_encode(bin, 3, WIH_B64_URL);
    ck_assert_str_eq(e, "-__-");
    free(e);
    size_t n;
    unsigned char *d = wih_b64_decode(" -_/+\n", 6, WIH_B64_LENIENT, &n); /* both alphabets, white space */
    ck_assert_msg(d && n == 3 && !memcmp(d, bin, 3), "lenient");
    free(d);
    ck_assert_ptr_null(wih_b64_decode("Zh", 2, WIH_B64_URL | WIH_B64_NOPAD, &n)); /* non-zero low bits */
    ck_assert_ptr_null(wih_b64_decode("Zg==", 4, WIH_B64_URL | WIH_B64_NOPAD, &n)); /* padding in JWT mode */
    ck_assert_ptr_null(wih_b64_decode("Zg", 2, 0, &n));                             /* strict padded: partial */
    ck_assert_ptr_null(wih_b64_decode("Zg=a", 4, WIH_B64_LENIENT, &n));             /* after padding */
    ck_assert_ptr_null(wih_b64_decode("-__-", 4, 0, &n));                           /* URL chars in std mode */
}
END_TEST

static void touch_file(void *ctx)
{
    FILE *f = fopen(ctx, "w");
    if (f) fclose(f);
}

START_TEST(forked_child_does_not_run_parents_cleanup)
{
    wih_err *err = NULL;
    char *dir = wih_tmpdir("wih-test", true, &err);
    char *mark = wih_path_join(dir, "ran");
    int h = wih_cleanup_push("mark", touch_file, mark);
    pid_t child = fork();
    if (child == 0) exit(0); /* atexit runs the inherited stack */
    int st;
    waitpid(child, &st, 0);
    ck_assert_msg(access(mark, F_OK) != 0, "a forked child ran its parent's cleanup entry");
    wih_cleanup_pop(h, true); /* the owner does run it */
    ck_assert_int_eq(access(mark, F_OK), 0);
    wih_rm_rf(dir);
    free(mark);
    free(dir);
}
END_TEST

START_TEST(cleanup_on_sigterm)
{
    /* A child process installs the handlers, starts a sleeper through the
     * supervisor, gets SIGTERM, unwinds: the sleeper must be gone. */
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t child = fork();
    if (child == 0) {
        wih_signals_install();
        wih_err *err = NULL;
        char *argv[] = {"/bin/sleep", "60", NULL};
        wih_proc_opts o = {.name = "sleeper", .argv = argv};
        wih_proc *p = wih_proc_spawn(&o, &err);
        pid_t sp = p ? wih_proc_pid(p) : -1;
        ssize_t w = write(pfd[1], &sp, sizeof sp);
        (void)w;
        while (!wih_interrupted()) wih_sleep_ms(20);
        exit(WIH_EXIT_INTERRUPTED); /* atexit runs the cleanup stack */
    }
    pid_t sleeper = -1;
    ck_assert_int_eq(read(pfd[0], &sleeper, sizeof sleeper), (ssize_t)sizeof sleeper);
    ck_assert_int_gt(sleeper, 0);
    ck_assert(wih_pid_alive(sleeper));
    kill(child, SIGTERM);
    int st;
    waitpid(child, &st, 0);
    ck_assert(WIFEXITED(st));
    ck_assert_int_eq(WEXITSTATUS(st), WIH_EXIT_INTERRUPTED);
    /* the sleeper was our grandchild: its parent reaped it before exiting */
    ck_assert(!wih_pid_alive(sleeper));
}
END_TEST

START_TEST(run_capture_works)
{
    wih_err *err = NULL;
    char *out = NULL, *eo = NULL;
    char *argv[] = {"/bin/sh", "-c", "cat; echo err >&2; exit 3", NULL};
    int rc = wih_run_capture(argv, NULL, "hello", 5000, &out, &eo, &err);
    ck_assert_int_eq(rc, 3);
    ck_assert_str_eq(out, "hello");
    ck_assert_str_eq(eo, "err\n");
    free(out);
    free(eo);
    char *argv2[] = {"/bin/sleep", "10", NULL};
    rc = wih_run_capture(argv2, NULL, NULL, 200, NULL, NULL, &err);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err->msg, "no result within 200 ms"), "%s", err->msg);
    wih_err_free(err);
}
END_TEST

START_TEST(fingerprint_hides_secret)
{
    char *f = wih_fingerprint("s3cr3t-token");
    ck_assert_int_eq(strncmp(f, "sha256:", 7), 0);
    ck_assert_uint_eq(strlen(f), 7 + 12);
    ck_assert_ptr_null(strstr(f, "s3cr3t"));
    char *g = wih_fingerprint("s3cr3t-tokem");
    ck_assert_str_ne(f, g);
    free(f);
    free(g);
}
END_TEST

START_TEST(free_port_is_free)
{
    wih_err *err = NULL;
    int p = wih_free_port(&err);
    ck_assert_int_gt(p, 1024);
    ck_assert(!wih_port_listening(p));
}
END_TEST

START_TEST(tool_lookup_honours_env)
{
    setenv("WIH_ETCD", "/bin/true", 1);
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_ETCD, false, &ti);
    ck_assert_str_eq(ti.path, "/bin/true");
    ck_assert_str_eq(ti.source, "WIH_ETCD");
    wih_tool_info_free(&ti);
    setenv("WIH_ETCD", "/nonexistent/etcd", 1);
    wih_err *err = NULL;
    ck_assert_ptr_null(wih_tool_path(WIH_TOOL_ETCD, &err));
    ck_assert_msg(strstr(err->msg, "WIH_ETCD=/nonexistent/etcd is not an executable"), "%s", err->msg);
    wih_err_free(err);
    unsetenv("WIH_ETCD");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, err_formats);
    tcase_add_test(tc, buf_cap_is_an_error);
    tcase_add_test(tc, supervisor_stops_and_reaps);
    tcase_add_test(tc, supervisor_kills_after_grace);
    tcase_add_test(tc, supervisor_early_exit_quotes_log);
    tcase_add_test(tc, supervisor_deadline);
    tcase_add_test(tc, spawn_missing_program);
    tcase_add_test(tc, cleanup_stack_order);
    tcase_add_test(tc, base64_modes);
    tcase_add_test(tc, oom_aborts_with_a_message);
    tcase_add_test(tc, cleanup_handles_are_stable);
    tcase_add_test(tc, tmpdirs_are_popped_when_removed);
    tcase_add_test(tc, cleanup_after_interrupt_says_what);
    tcase_add_test(tc, cleanup_on_sigterm);
    tcase_add_test(tc, forked_child_does_not_run_parents_cleanup);
    tcase_add_test(tc, run_capture_works);
    tcase_add_test(tc, fingerprint_hides_secret);
    tcase_add_test(tc, free_port_is_free);
    tcase_add_test(tc, tool_lookup_honours_env);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
