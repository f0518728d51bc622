/* The probe image's content cache (node_image_probe_cached, what `up` uses):
 * a second build of the same binary + libraries + CA is a hit whose tar is
 * byte-for-byte the one an uncached build writes (same ref); a different CA
 * is a miss with another ref; an entry missing its ref is rebuilt; the cache
 * keeps the 3 most recently used; WIH_IMAGE_CACHE picks or disables it.
 * Real files: the built wiharness, the libraries ldd lists, CAs made at run
 * time. Integration (it reads and writes ~60 MB per build). */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/node.h"

static char *g_tmp;

static char *path(const char *name)
{
    return wih_path_join(g_tmp, name);
}

/* A fresh CA (wih_test_pki) in <tmp>/<name>/ca.crt. */
static char *new_ca(const char *name)
{
    char *d = path(name);
    wih_mkdir_p(d, 0700);
    char *why = wih_test_pki(d);
    ck_assert_msg(!why, "%s", why);
    char *ca = wih_path_join(d, "ca.crt");
    free(d);
    return ca;
}

static int count_tars(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d, "no cache dir %s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        n += l > 4 && !strcmp(de->d_name + l - 4, ".tar");
    }
    closedir(d);
    return n;
}

static char *build(const char *ca, const char *cache, const char *out, bool *hit)
{
    char *ref = NULL;
    wih_err *e = node_image_probe_cached(WIH_BINARY, ca, cache, out, &ref, hit);
    ck_assert_msg(!e, "%s", e ? wih_err_str(e) : "");
    ck_assert(ref && !strncmp(ref, "wiharness.local/probe:", 22));
    return ref;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t la = 0, lb = 0;
    char *x = wih_read_file(a, (size_t)1 << 30, &la, NULL), *y = wih_read_file(b, (size_t)1 << 30, &lb, NULL);
    ck_assert_msg(x && y, "cannot read %s or %s", a, b);
    ck_assert_msg(la == lb && !memcmp(x, y, la), "%s (%zu bytes) differs from %s (%zu bytes)", a, la, b, lb);
    free(x);
    free(y);
}

START_TEST(hit_is_the_uncached_image)
{
    char *ca = new_ca("ca1"), *cache = path("cache"), *o1 = path("p1.tar"), *o2 = path("p2.tar"), *o3 = path("p3.tar");
    bool hit = true;
    char *r1 = build(ca, cache, o1, &hit);
    ck_assert_msg(!hit, "an empty cache answered a hit");
    ck_assert_int_eq(count_tars(cache), 1);
    char *r2 = build(ca, cache, o2, &hit);
    ck_assert_msg(hit, "the same binary, libraries and CA were built again");
    ck_assert_str_eq(r1, r2);
    char *r3 = build(ca, NULL, o3, &hit);
    ck_assert(!hit);
    ck_assert_str_eq(r1, r3);
    assert_same_file(o2, o3);
    ck_assert_int_eq(count_tars(cache), 1);
    /* another CA: another image */
    char *ca2 = new_ca("ca2");
    char *r4 = build(ca2, cache, o1, &hit);
    ck_assert_msg(!hit, "a changed CA was served from the cache");
    ck_assert_str_ne(r1, r4);
    ck_assert_int_eq(count_tars(cache), 2);
    free(r1);
    free(r2);
    free(r3);
    free(r4);
    free(ca);
    free(ca2);
    free(cache);
    free(o1);
    free(o2);
    free(o3);
}
END_TEST

START_TEST(half_entry_is_rebuilt_and_cache_is_bounded)
{
    char *cache = path("cache-b"), *o = path("pb.tar");
    char *ca = new_ca("cab1");
    bool hit = true;
    char *r1 = build(ca, cache, o, &hit);
    ck_assert(!hit);
    /* the ref file gone (an interrupted writer): not a hit, rebuilt */
    DIR *d = opendir(cache);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".ref")) {
            char *p = wih_path_join(cache, de->d_name);
            unlink(p);
            free(p);
        }
    }
    closedir(d);
    char *r2 = build(ca, cache, o, &hit);
    ck_assert_msg(!hit, "an entry without its ref counted as a hit");
    ck_assert_str_eq(r1, r2);
    /* four more CAs: only the 3 most recently used stay */
    for (int i = 0; i < 4; i++) {
        char name[16];
        snprintf(name, sizeof name, "cab%d", i + 2);
        char *c = new_ca(name), *r = build(c, cache, o, &hit);
        ck_assert(!hit);
        free(r);
        free(c);
    }
    ck_assert_int_eq(count_tars(cache), 3);
    free(r1);
    free(r2);
    free(ca);
    free(cache);
    free(o);
}
END_TEST

START_TEST(cache_dir_from_env)
{
    setenv("WIH_IMAGE_CACHE", "off", 1);
    ck_assert_ptr_null(node_image_cache_dir());
    setenv("WIH_IMAGE_CACHE", "", 1);
    ck_assert_ptr_null(node_image_cache_dir());
    setenv("WIH_IMAGE_CACHE", "/some/dir", 1);
    char *d = node_image_cache_dir();
    ck_assert_str_eq(d, "/some/dir");
    free(d);
    unsetenv("WIH_IMAGE_CACHE");
    setenv("XDG_CACHE_HOME", "/x", 1);
    d = node_image_cache_dir();
    ck_assert_str_eq(d, "/x/wiharness/images");
    free(d);
}
END_TEST

int main(void)
{
    if (access("/usr/bin/ldd", X_OK) != 0 && access("/bin/ldd", X_OK) != 0) wih_test_skip("no ldd on this machine");
    wih_err *e = NULL;
    g_tmp = wih_tmpdir("wih-test-imgcache-", false, &e);
    if (!g_tmp) {
        fprintf(stderr, "%s\n", wih_err_str(e));
        return 1;
    }
    Suite *s = suite_create("image_cache");
    TCase *tc = tcase_create("image_cache");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, hit_is_the_uncached_image);
    tcase_add_test(tc, half_entry_is_rebuilt_and_cache_is_bounded);
    tcase_add_test(tc, cache_dir_from_env);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    wih_rm_rf(g_tmp);
    free(g_tmp);
    return rc;
}
