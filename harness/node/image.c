/* The two images the node needs, from files on this machine: the sandbox
 * (pause) image and the probe image (the wiharness binary + what it links).
 * The libraries are the ones `ldd` lists at build time: the dynamic loader's
 * own answer, so the image holds exactly what this build of wiharness loads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/node.h"

#ifndef WIH_PAUSE_PATH
#define WIH_PAUSE_PATH ""
#endif

static char *self_exe(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return NULL;
    buf[n] = '\0';
    return wih_strdup(buf);
}

static char *find_pause(wih_err **err)
{
    const char *ev = getenv("WIH_PAUSE_BIN");
    if (ev && *ev) {
        if (access(ev, X_OK) == 0) return wih_strdup(ev);
        *err = wih_err_new(WIH_EXIT_INFRA, "WIH_PAUSE_BIN=%s is not executable", ev);
        return NULL;
    }
    char *self = self_exe();
    if (self) {
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            char *p = wih_path_join(self, "wiharness-pause");
            free(self);
            if (access(p, X_OK) == 0) return p;
            free(p);
        } else
            free(self);
    }
    if (*WIH_PAUSE_PATH && access(WIH_PAUSE_PATH, X_OK) == 0) return wih_strdup(WIH_PAUSE_PATH);
    *err = wih_err_new(WIH_EXIT_INFRA,
                       "the static pause program (wiharness-pause) is not next to wiharness nor at %s: build it "
                       "(cmake --build build) or set WIH_PAUSE_BIN",
                       *WIH_PAUSE_PATH ? WIH_PAUSE_PATH : "(no build path)");
    return NULL;
}

wih_err *node_image_pause(const char *out_path, char **ref)
{
    wih_err *err = NULL;
    char *bin = find_pause(&err);
    if (!bin) return err;
    node_file files[] = {{.path = "/pause", .src = bin, .mode = 0755}};
    static const char *const ep[] = {"/pause", NULL};
    node_image_spec s = {.repo = "wiharness.local/pause", .files = files, .nfiles = 1, .entrypoint = ep};
    err = node_image_write(&s, out_path, ref);
    free(bin);
    return err;
}

/* The absolute paths in `ldd` output: "libx.so => /lib/.../libx.so (0x…)" and
 * the loader's "/lib64/ld-linux-x86-64.so.2 (0x…)". A new array of strings. */
static cJSON *ldd_paths(const char *bin, wih_err **err)
{
    char *argv[] = {"ldd", (char *)bin, NULL};
    char *out = NULL, *eout = NULL;
    int rc = wih_run_capture(argv, NULL, NULL, 20000, &out, &eout, err);
    if (rc != 0) {
        if (rc > 0)
            *err = wih_err_new(WIH_EXIT_INFRA, "ldd %s exited %d: %s", bin, rc, eout ? eout : "");
        free(out);
        free(eout);
        return NULL;
    }
    cJSON *arr = cJSON_CreateArray();
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *arrow = strstr(l, "=> ");
        char *p = arrow ? arrow + 3 : l;
        while (*p == ' ' || *p == '\t') p++;
        if (*p != '/') continue;
        size_t n = strcspn(p, " (");
        p[n] = '\0';
        cJSON_AddItemToArray(arr, cJSON_CreateString(p));
    }
    free(out);
    free(eout);
    return arr;
}

static char *ca_bundle(const char *extra_ca, size_t *len, wih_err **err)
{
    wih_buf b;
    wih_buf_init(&b, (size_t)16 << 20);
    static const char *const sys[] = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", NULL};
    for (const char *const *s = sys; *s; s++) {
        char *t = wih_read_file(*s, (size_t)8 << 20, NULL, NULL);
        if (t) {
            wih_buf_adds(&b, t);
            free(t);
            break;
        }
    }
    if (extra_ca) {
        char *t = wih_read_file(extra_ca, 1 << 20, NULL, err);
        if (!t) {
            wih_buf_free(&b);
            return NULL;
        }
        if (b.len && b.data[b.len - 1] != '\n') wih_buf_adds(&b, "\n");
        wih_buf_adds(&b, t);
        free(t);
    }
    *len = b.len;
    char *r = wih_buf_take(&b);
    wih_buf_free(&b);
    return r ? r : wih_strdup("");
}

/* ------------------------------------------------------------ the cache */
/* Bump when node_image_write's output changes for the same files. */
#define IMAGE_CACHE_FORMAT "wiharness-oci-1"
#define IMAGE_CACHE_KEEP 3

static void md_str(EVP_MD_CTX *md, const char *s)
{
    EVP_DigestUpdate(md, s ? s : "", s ? strlen(s) + 1 : 1);
}

static int md_file(EVP_MD_CTX *md, const char *path, wih_err **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = wih_err_new(WIH_EXIT_INFRA, "image file %s: %s", path, strerror(errno));
        return -1;
    }
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(md, buf, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) *err = wih_err_new(WIH_EXIT_INFRA, "image file %s: read error", path);
    return bad ? -1 : 0;
}

/* sha256 (hex) over everything the tar is made of: repo, entrypoint, env,
 * each file's path, mode and content, and the program that writes the tar
 * (its code decides the bytes too). */
static char *image_key(const node_image_spec *s, wih_err **err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) abort();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    md_str(md, IMAGE_CACHE_FORMAT);
    md_str(md, s->repo);
    for (const char *const *e = s->entrypoint; e && *e; e++) md_str(md, *e);
    md_str(md, "--env");
    for (const char *const *e = s->env; e && *e; e++) md_str(md, *e);
    int rc = md_file(md, "/proc/self/exe", err);
    for (size_t i = 0; i < s->nfiles && !rc; i++) {
        const node_file *f = &s->files[i];
        char mode[16];
        snprintf(mode, sizeof mode, "%o", f->mode);
        md_str(md, f->path);
        md_str(md, mode);
        if (f->src)
            rc = md_file(md, f->src, err);
        else {
            char n[24];
            snprintf(n, sizeof n, "%zu", f->len);
            md_str(md, n);
            EVP_DigestUpdate(md, f->data ? f->data : "", f->len);
        }
    }
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_DigestFinal_ex(md, d, &dl);
    EVP_MD_CTX_free(md);
    if (rc) return NULL;
    char *hex = wih_xmalloc(2 * dl + 1);
    for (unsigned i = 0; i < dl; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return hex;
}

/* out_path as a hard link to the cached tar (a copy across file systems). */
static wih_err *place(const char *cached, const char *out_path)
{
    unlink(out_path);
    if (link(cached, out_path) == 0) return NULL;
    wih_err *err = NULL;
    size_t len = 0;
    char *t = wih_read_file(cached, (size_t)1 << 30, &len, &err);
    if (t) wih_write_file(out_path, t, len, 0444, &err);
    free(t);
    return err;
}

static int newest_first(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;
    double d = cJSON_GetNumberValue(cJSON_GetArrayItem(y, 1)) - cJSON_GetNumberValue(cJSON_GetArrayItem(x, 1));
    return (d > 0) - (d < 0);
}

/* Keep the IMAGE_CACHE_KEEP most recently used <repo-name>-*.tar (and .ref). */
static void evict(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d) return;
    cJSON *all = cJSON_CreateArray();
    struct dirent *de;
    size_t pl = strlen(prefix);
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, prefix, pl) || n < 4 || strcmp(de->d_name + n - 4, ".tar")) continue;
        char *p = wih_path_join(dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0) {
            cJSON *e = cJSON_CreateArray();
            cJSON_AddItemToArray(e, cJSON_CreateString(p));
            cJSON_AddItemToArray(e, cJSON_CreateNumber((double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9));
            cJSON_AddItemToArray(all, e);
        }
        free(p);
    }
    closedir(d);
    size_t n = (size_t)cJSON_GetArraySize(all);
    cJSON **v = wih_xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (cJSON *e = all->child; e; e = e->next) v[k++] = e;
    qsort(v, n, sizeof *v, newest_first);
    for (size_t i = IMAGE_CACHE_KEEP; i < n; i++) {
        const char *tar = cJSON_GetStringValue(cJSON_GetArrayItem(v[i], 0));
        char *ref = wih_asprintf("%.*s.ref", (int)(strlen(tar) - 4), tar);
        unlink(tar); /* a chain that linked it keeps its own link */
        unlink(ref);
        free(ref);
    }
    free(v);
    cJSON_Delete(all);
}

/* The entry for key: both files there → ref read, tar touched (recently used). */
static char *cache_lookup(const char *tar, const char *refp)
{
    char *ref = wih_read_file(refp, 4096, NULL, NULL);
    if (!ref || access(tar, R_OK) != 0 || !*ref) {
        free(ref);
        return NULL;
    }
    utimensat(AT_FDCWD, tar, NULL, 0);
    return ref;
}

/* Written to unique temp names and renamed: concurrent `up`s never see half a tar. */
static wih_err *cache_store(const node_image_spec *s, const char *tar, const char *refp, char **ref)
{
    char *tt = wih_asprintf("%s.tmp.%ld", tar, (long)getpid()), *rt = wih_asprintf("%s.tmp.%ld", refp, (long)getpid());
    wih_err *err = node_image_write(s, tt, ref);
    if (!err) chmod(tt, 0444); /* linked into state dirs: nobody writes it in place */
    if (!err && rename(tt, tar) != 0) err = wih_err_new(WIH_EXIT_INFRA, "caching %s: %s", tar, strerror(errno));
    if (!err && wih_write_file(rt, *ref, strlen(*ref), 0644, &err) == 0 && rename(rt, refp) != 0)
        err = wih_err_new(WIH_EXIT_INFRA, "caching %s: %s", refp, strerror(errno));
    if (err) {
        unlink(tt);
        unlink(rt);
        free(*ref);
        *ref = NULL;
    }
    free(tt);
    free(rt);
    return err;
}

char *node_image_cache_dir(void)
{
    const char *ev = getenv("WIH_IMAGE_CACHE");
    if (ev) return *ev && strcmp(ev, "off") ? wih_strdup(ev) : NULL;
    return wih_cache_dir_default("images");
}

wih_err *node_image_write_cached(const node_image_spec *s, const char *cache_dir, const char *out_path, char **ref,
                                 bool *hit)
{
    *ref = NULL;
    if (hit) *hit = false;
    if (!cache_dir) return node_image_write(s, out_path, ref);
    wih_err *err = NULL;
    char *key = image_key(s, &err);
    if (!key) return err;
    if (wih_mkdir_p(cache_dir, 0700) != 0) {
        free(key);
        return wih_err_new(WIH_EXIT_INFRA, "the image cache %s: %s", cache_dir, strerror(errno));
    }
    const char *slash = strrchr(s->repo, '/');
    char *name = wih_asprintf("%s-%s", slash ? slash + 1 : s->repo, key);
    char *tf = wih_asprintf("%s.tar", name), *rf = wih_asprintf("%s.ref", name);
    char *tar = wih_path_join(cache_dir, tf), *refp = wih_path_join(cache_dir, rf);
    *ref = cache_lookup(tar, refp);
    if (*ref && hit) *hit = true;
    if (!*ref) err = cache_store(s, tar, refp, ref);
    if (!err) err = place(tar, out_path);
    if (!err && !(hit && *hit)) {
        char *prefix = wih_asprintf("%s-", slash ? slash + 1 : s->repo);
        evict(cache_dir, prefix);
        free(prefix);
    }
    if (err) {
        free(*ref);
        *ref = NULL;
    }
    free(tar);
    free(refp);
    free(tf);
    free(rf);
    free(name);
    free(key);
    return err;
}

wih_err *node_image_probe(const char *bin, const char *extra_ca, const char *out_path, char **ref)
{
    return node_image_probe_cached(bin, extra_ca, NULL, out_path, ref, NULL);
}

wih_err *node_image_probe_cached(const char *bin, const char *extra_ca, const char *cache_dir, const char *out_path,
                                 char **ref, bool *hit)
{
    wih_err *err = NULL;
    char *self = bin ? wih_strdup(bin) : self_exe();
    if (!self) return wih_err_new(WIH_EXIT_INFRA, "cannot find the wiharness binary");
    cJSON *libs = ldd_paths(self, &err);
    size_t calen = 0;
    char *ca = libs ? ca_bundle(extra_ca, &calen, &err) : NULL;
    if (!ca) {
        cJSON_Delete(libs);
        free(self);
        return wih_err_wrap(err, "building the probe image");
    }
    static const char passwd[] = "root:x:0:0:root:/:/wiharness\nprobe:x:1000:1000:probe:/tmp:/wiharness\n"
                                 "nobody:x:65534:65534:nobody:/:/wiharness\n";
    static const char group[] = "root:x:0:\nprobe:x:1000:\nnogroup:x:65534:\n";
    static const char nsswitch[] = "passwd: files\ngroup: files\nhosts: files dns\n";
    static const char hosts[] = "127.0.0.1 localhost\n";
    size_t n = (size_t)cJSON_GetArraySize(libs) + 8, k = 0;
    node_file *files = calloc(n, sizeof *files);
    if (!files) abort();
    files[k++] = (node_file){.path = "/wiharness", .src = self, .mode = 0755};
    for (cJSON *l = libs->child; l; l = l->next) files[k++] = (node_file){.path = l->valuestring, .src = l->valuestring, .mode = 0755};
    files[k++] = (node_file){.path = "/etc/ssl/certs/ca-certificates.crt", .data = ca, .len = calen, .mode = 0644};
    files[k++] = (node_file){.path = "/etc/passwd", .data = passwd, .len = strlen(passwd), .mode = 0644};
    files[k++] = (node_file){.path = "/etc/group", .data = group, .len = strlen(group), .mode = 0644};
    files[k++] = (node_file){.path = "/etc/nsswitch.conf", .data = nsswitch, .len = strlen(nsswitch), .mode = 0644};
    files[k++] = (node_file){.path = "/etc/hosts", .data = hosts, .len = strlen(hosts), .mode = 0644};
    files[k++] = (node_file){.path = "/tmp/", .mode = 01777};
    static const char *const ep[] = {"/wiharness", NULL};
    static const char *const env[] = {"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "NO_COLOR=1", NULL};
    node_image_spec s = {.repo = "wiharness.local/probe", .files = files, .nfiles = k, .entrypoint = ep, .env = env};
    err = node_image_write_cached(&s, cache_dir, out_path, ref, hit);
    free(files);
    free(ca);
    cJSON_Delete(libs);
    free(self);
    return err ? wih_err_wrap(err, "building the probe image") : NULL;
}
