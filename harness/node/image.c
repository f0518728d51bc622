/* The two images the node needs, from files on this machine: the sandbox
 * (pause) image and the probe image (the wiharness binary + what it links).
 * The libraries are the ones `ldd` lists at build time: the dynamic loader's
 * own answer, so the image holds exactly what this build of wiharness loads. */
#include <stdlib.h>
#include <string.h>
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

wih_err *node_image_probe(const char *bin, const char *extra_ca, const char *out_path, char **ref)
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
    err = node_image_write(&s, out_path, ref);
    free(files);
    free(ca);
    cJSON_Delete(libs);
    free(self);
    return err ? wih_err_wrap(err, "building the probe image") : NULL;
}
