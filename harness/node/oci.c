/* OCI image-layout tars, written in C (ustar + OpenSSL SHA-256): one
 * uncompressed layer, which `ctr images import` accepts as it is, so no gzip
 * is needed. Deterministic: fixed mtimes, uid/gid 0, sorted-as-given entries. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/node.h"

/* ------------------------------------------------------------------ ustar */
static void octal(char *dst, size_t n, unsigned long long v)
{
    /* n-1 digits, NUL */
    snprintf(dst, n, "%0*llo", (int)(n - 1), v);
}

static int tar_header(wih_buf *b, const char *path, unsigned mode, size_t size, char type)
{
    char h[512];
    memset(h, 0, sizeof h);
    size_t pl = strlen(path);
    if (pl <= 100)
        memcpy(h, path, pl);
    else {
        /* split into prefix (≤155) / name (≤100) at a '/' */
        const char *cut = NULL;
        for (const char *s = path; *s; s++)
            if (*s == '/' && (size_t)(s - path) <= 155 && strlen(s + 1) <= 100 && s != path) {
                cut = s;
                break;
            }
        if (!cut) return -1;
        memcpy(h + 345, path, (size_t)(cut - path));
        memcpy(h, cut + 1, strlen(cut + 1));
    }
    octal(h + 100, 8, mode & 07777);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, size);
    octal(h + 136, 12, 0);
    h[156] = type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "root", 4);
    memcpy(h + 297, "root", 4);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++) sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    return wih_buf_add(b, h, sizeof h);
}

static int tar_pad(wih_buf *b, size_t size)
{
    static const char zero[512];
    size_t r = size % 512;
    return r ? wih_buf_add(b, zero, 512 - r) : 0;
}

static int tar_file(wih_buf *b, const char *path, unsigned mode, const void *data, size_t len)
{
    if (tar_header(b, path, mode, len, '0') || wih_buf_add(b, data, len) || tar_pad(b, len)) return -1;
    return 0;
}

static int tar_dir(wih_buf *b, const char *path, unsigned mode)
{
    return tar_header(b, path, mode, 0, '5');
}

static int tar_end(wih_buf *b)
{
    static const char zero[1024];
    return wih_buf_add(b, zero, sizeof zero);
}

/* ----------------------------------------------------------------- digests */
static char *sha256_hex(const void *data, size_t len)
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    char *hex = malloc(65);
    if (!hex) abort();
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return hex;
}

/* ------------------------------------------------------------------ layer */
static bool seen(cJSON *set, const char *k)
{
    if (cJSON_GetObjectItemCaseSensitive(set, k)) return true;
    cJSON_AddTrueToObject(set, k);
    return false;
}

/* Add every parent directory of path (relative, no leading '/') once. */
static int add_parents(wih_buf *b, cJSON *dirs, const char *rel)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", rel);
    for (char *s = strchr(tmp, '/'); s; s = strchr(s + 1, '/')) {
        if (!s[1]) break;
        char c = s[1];
        s[1] = '\0';
        int rc = seen(dirs, tmp) ? 0 : tar_dir(b, tmp, strcmp(tmp, "tmp/") ? 0755 : 01777);
        s[1] = c;
        if (rc) return -1;
    }
    return 0;
}

static wih_err *build_layer(const node_image_spec *s, wih_buf *layer)
{
    cJSON *dirs = cJSON_CreateObject();
    wih_err *err = NULL;
    for (size_t i = 0; i < s->nfiles && !err; i++) {
        const node_file *f = &s->files[i];
        const char *rel = f->path[0] == '/' ? f->path + 1 : f->path;
        size_t rl = strlen(rel);
        if (!rl || add_parents(layer, dirs, rel)) {
            err = wih_err_new(WIH_EXIT_INFRA, "image layer: bad path or too big: %s", f->path);
            break;
        }
        if (rel[rl - 1] == '/') {
            if (!seen(dirs, rel) && tar_dir(layer, rel, f->mode ? f->mode : 0755))
                err = wih_err_new(WIH_EXIT_INFRA, "image layer too big at %s", f->path);
            continue;
        }
        char *data = NULL;
        size_t len = f->len;
        if (f->src) {
            data = wih_read_file(f->src, (size_t)512 << 20, &len, &err);
            if (!data) {
                err = wih_err_wrap(err, "image file %s", f->path);
                break;
            }
        }
        if (tar_file(layer, rel, f->mode ? f->mode : 0644, data ? data : f->data, len))
            err = wih_err_new(WIH_EXIT_INFRA, "image layer too big at %s", f->path);
        free(data);
    }
    if (!err && tar_end(layer)) err = wih_err_new(WIH_EXIT_INFRA, "image layer too big");
    cJSON_Delete(dirs);
    return err;
}

/* ------------------------------------------------------------ the layout */
static char *config_json(const node_image_spec *s, const char *diff_id)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "created", "1970-01-01T00:00:00Z");
    cJSON_AddStringToObject(c, "architecture", "amd64");
    cJSON_AddStringToObject(c, "os", "linux");
    cJSON *cfg = cJSON_AddObjectToObject(c, "config");
    cJSON *ep = cJSON_AddArrayToObject(cfg, "Entrypoint");
    for (const char *const *e = s->entrypoint; e && *e; e++) cJSON_AddItemToArray(ep, cJSON_CreateString(*e));
    cJSON *env = cJSON_AddArrayToObject(cfg, "Env");
    cJSON_AddItemToArray(env, cJSON_CreateString("PATH=/usr/local/bin:/usr/bin:/bin:/"));
    for (const char *const *e = s->env; e && *e; e++) cJSON_AddItemToArray(env, cJSON_CreateString(*e));
    cJSON_AddStringToObject(cfg, "WorkingDir", "/");
    cJSON *rootfs = cJSON_AddObjectToObject(c, "rootfs");
    cJSON_AddStringToObject(rootfs, "type", "layers");
    cJSON *ids = cJSON_AddArrayToObject(rootfs, "diff_ids");
    char *d = wih_asprintf("sha256:%s", diff_id);
    cJSON_AddItemToArray(ids, cJSON_CreateString(d));
    free(d);
    char *t = cJSON_PrintUnformatted(c);
    cJSON_Delete(c);
    return t;
}

static cJSON *descriptor(const char *media, const char *hex, size_t size)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "mediaType", media);
    char *dg = wih_asprintf("sha256:%s", hex);
    cJSON_AddStringToObject(d, "digest", dg);
    free(dg);
    cJSON_AddNumberToObject(d, "size", (double)size);
    return d;
}

static int add_blob(wih_buf *out, const char *hex, const void *data, size_t len)
{
    char *p = wih_asprintf("blobs/sha256/%s", hex);
    int rc = tar_file(out, p, 0644, data, len);
    free(p);
    return rc;
}

wih_err *node_image_write(const node_image_spec *s, const char *out_path, char **ref)
{
    *ref = NULL;
    wih_buf layer, out;
    wih_buf_init(&layer, (size_t)1 << 30);
    wih_buf_init(&out, (size_t)1 << 30);
    wih_err *err = build_layer(s, &layer);
    char *lhex = NULL, *cfg = NULL, *chex = NULL, *man = NULL, *mhex = NULL, *idx = NULL;
    if (err) goto out;
    lhex = sha256_hex(layer.data, layer.len);
    cfg = config_json(s, lhex);
    chex = sha256_hex(cfg, strlen(cfg));
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "schemaVersion", 2);
    cJSON_AddStringToObject(m, "mediaType", "application/vnd.oci.image.manifest.v1+json");
    cJSON_AddItemToObject(m, "config", descriptor("application/vnd.oci.image.config.v1+json", chex, strlen(cfg)));
    cJSON *layers = cJSON_AddArrayToObject(m, "layers");
    cJSON_AddItemToArray(layers, descriptor("application/vnd.oci.image.layer.v1.tar", lhex, layer.len));
    man = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    mhex = sha256_hex(man, strlen(man));
    char tag[13];
    snprintf(tag, sizeof tag, "%.12s", mhex);
    *ref = wih_asprintf("%s:%s", s->repo, tag);
    cJSON *ix = cJSON_CreateObject();
    cJSON_AddNumberToObject(ix, "schemaVersion", 2);
    cJSON_AddStringToObject(ix, "mediaType", "application/vnd.oci.image.index.v1+json");
    cJSON *ms = cJSON_AddArrayToObject(ix, "manifests");
    cJSON *d = descriptor("application/vnd.oci.image.manifest.v1+json", mhex, strlen(man));
    cJSON *ann = cJSON_AddObjectToObject(d, "annotations");
    cJSON_AddStringToObject(ann, "io.containerd.image.name", *ref);
    cJSON_AddStringToObject(ann, "org.opencontainers.image.ref.name", tag);
    cJSON *plat = cJSON_AddObjectToObject(d, "platform");
    cJSON_AddStringToObject(plat, "architecture", "amd64");
    cJSON_AddStringToObject(plat, "os", "linux");
    cJSON_AddItemToArray(ms, d);
    idx = cJSON_PrintUnformatted(ix);
    cJSON_Delete(ix);
    static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    if (tar_file(&out, "oci-layout", 0644, layout, strlen(layout)) ||
        tar_file(&out, "index.json", 0644, idx, strlen(idx)) || tar_dir(&out, "blobs/", 0755) ||
        tar_dir(&out, "blobs/sha256/", 0755) || add_blob(&out, lhex, layer.data, layer.len) ||
        add_blob(&out, chex, cfg, strlen(cfg)) || add_blob(&out, mhex, man, strlen(man)) || tar_end(&out)) {
        err = wih_err_new(WIH_EXIT_INFRA, "image %s: tar too big", s->repo);
        goto out;
    }
    wih_write_file(out_path, out.data, out.len, 0644, &err);
out:
    if (err) {
        free(*ref);
        *ref = NULL;
    }
    wih_buf_free(&layer);
    wih_buf_free(&out);
    free(lhex);
    free(cfg);
    free(chex);
    free(man);
    free(mhex);
    free(idx);
    return err ? wih_err_wrap(err, "writing the OCI image %s", out_path) : NULL;
}
