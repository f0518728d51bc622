/* Files, directories, strings, the clock and secret fingerprints. */
#include "wiharness/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *wih_strdup(const char *s)
{
    return wih_xstrdup(s);
}

char *wih_asprintf(const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = wih_xmalloc(n < 0 ? 1 : (size_t)n + 1);
    if (n < 0)
        s[0] = '\0';
    else
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return s;
}

char *wih_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    if (la && a[la - 1] == '/') return wih_asprintf("%s%s", a, b);
    return wih_asprintf("%s/%s", a, b);
}

int64_t wih_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t wih_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wih_sleep_ms(int64_t ms)
{
    int64_t end = wih_now_ms() + ms;
    while (!wih_interrupted()) {
        int64_t left = end - wih_now_ms();
        if (left <= 0) break;
        if (left > 50) left = 50;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

int wih_mkdir_p(const char *path, mode_t mode)
{
    char *p = wih_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, mode) != 0 && errno != EEXIST) {
            free(p);
            return -1;
        }
        *s = '/';
    }
    int rc = mkdir(p, mode);
    free(p);
    return (rc == 0 || errno == EEXIST) ? 0 : -1;
}

static int rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode)) return unlink(path);
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        char *c = wih_path_join(path, de->d_name);
        if (rm_tree(c) != 0) rc = -1;
        free(c);
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc;
}

/* The temp dirs on the cleanup stack, so removing one pops its entry. */
struct tmpdir {
    struct tmpdir *next;
    char *path;
    int handle;
};
static struct tmpdir *g_tmpdirs;

/* Unlink the record for path (or rec itself when path is NULL). */
static struct tmpdir *tmpdir_unlink(const struct tmpdir *rec, const char *path)
{
    for (struct tmpdir **l = &g_tmpdirs; *l; l = &(*l)->next)
        if (*l == rec || (path && !strcmp((*l)->path, path))) {
            struct tmpdir *t = *l;
            *l = t->next;
            return t;
        }
    return NULL;
}

static void tmpdir_free(struct tmpdir *t)
{
    free(t->path);
    free(t);
}

int wih_rm_rf(const char *path)
{
    struct tmpdir *t = tmpdir_unlink(NULL, path);
    if (t) {
        wih_cleanup_pop(t->handle, false);
        tmpdir_free(t);
    }
    return rm_tree(path);
}

static void rm_tmpdir(void *ctx)
{
    struct tmpdir *t = ctx;
    tmpdir_unlink(t, NULL);
    rm_tree(t->path);
    tmpdir_free(t);
}

char *wih_tmpdir(const char *prefix, bool keep, wih_err **err)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char *tmpl = wih_asprintf("%s/%s.XXXXXX", base, prefix ? prefix : "wiharness");
    if (!mkdtemp(tmpl)) {
        if (err) *err = wih_err_new(WIH_EXIT_INFRA, "creating a temp dir in %s: %s", base, strerror(errno));
        free(tmpl);
        return NULL;
    }
    if (!keep) {
        struct tmpdir *t = wih_xmalloc(sizeof *t);
        t->path = wih_strdup(tmpl);
        char *what = wih_asprintf("removing temp dir %s", tmpl);
        t->handle = wih_cleanup_push(what, rm_tmpdir, t);
        free(what);
        t->next = g_tmpdirs;
        g_tmpdirs = t;
    }
    return tmpl;
}

static char *xdg_dir(const char *var, const char *fallback, const char *sub)
{
    const char *x = getenv(var);
    char *base;
    if (x && *x == '/')
        base = wih_strdup(x);
    else {
        const char *home = getenv("HOME");
        base = wih_asprintf("%s/%s", home && *home ? home : "/tmp", fallback);
    }
    char *r = sub && *sub ? wih_asprintf("%s/wiharness/%s", base, sub) : wih_asprintf("%s/wiharness", base);
    free(base);
    return r;
}

char *wih_state_dir_default(const char *sub)
{
    return xdg_dir("XDG_STATE_HOME", ".local/state", sub);
}

char *wih_cache_dir_default(const char *sub)
{
    return xdg_dir("XDG_CACHE_HOME", ".cache", sub);
}

char *wih_read_file(const char *path, size_t max, size_t *len, wih_err **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (err) *err = wih_err_new(errno == ENOENT || errno == EACCES || errno == ENOTDIR ? WIH_EXIT_INPUT : WIH_EXIT_INFRA,
                                    "%s: %s", path, strerror(errno));
        return NULL;
    }
    wih_buf b;
    wih_buf_init(&b, max);
    char chunk[16384];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            /* a directory where a file was wanted is bad input, like a missing file */
            if (err) *err = errno == EISDIR ? wih_err_new(WIH_EXIT_INPUT, "%s: is a directory, not a file", path)
                                            : wih_err_new(WIH_EXIT_INFRA, "reading %s: %s", path, strerror(errno));
            close(fd);
            wih_buf_free(&b);
            return NULL;
        }
        if (n == 0) break;
        if (wih_buf_add(&b, chunk, (size_t)n) != 0) {
            if (err) *err = wih_err_new(WIH_EXIT_INPUT, "%s: larger than the %zu-byte limit", path, b.max);
            close(fd);
            wih_buf_free(&b);
            return NULL;
        }
    }
    close(fd);
    if (len) *len = b.len;
    return wih_buf_take(&b);
}

int wih_write_file(const char *path, const void *data, size_t len, mode_t mode, wih_err **err)
{
    char *tmp = wih_asprintf("%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) goto fail;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            close(fd);
            unlink(tmp);
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    if (err) *err = wih_err_new(WIH_EXIT_INFRA, "writing %s: %s", path, strerror(errno));
    free(tmp);
    return -1;
}

char *wih_file_tail(const char *path, int n)
{
    size_t len = 0;
    char *all = wih_read_file(path, (size_t)256 << 20, &len, NULL);
    if (!all) return NULL;
    while (len && all[len - 1] == '\n') all[--len] = '\0';
    size_t i = len;
    int lines = 0;
    while (i > 0) {
        if (all[i - 1] == '\n' && ++lines >= n) break;
        i--;
    }
    char *r = wih_strdup(all + i);
    free(all);
    return r;
}

char *wih_fingerprint(const char *secret)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(secret ? secret : "", secret ? strlen(secret) : 0, md, &mdlen, EVP_sha256(), NULL);
    char hex[13];
    for (int i = 0; i < 6; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return wih_asprintf("sha256:%s", hex);
}

char *wih_random_hex(size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw) nbytes = sizeof raw;
    if (RAND_bytes(raw, (int)nbytes) != 1) abort();
    char *s = wih_xmalloc(nbytes * 2 + 1);
    for (size_t i = 0; i < nbytes; i++) snprintf(s + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    return s;
}
