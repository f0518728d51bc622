/* The node's pure parts from fixtures (fixtures/node/<case>/): the plan, the
 * containerd config, the CNI conflist and the KubeletConfiguration generated
 * from plan.json must equal the expected files; and the OCI image-layout
 * writer: the tar parsed back holds a consistent index → manifest → config →
 * layer chain (digests = SHA-256 of the blobs), the same files give the same
 * tag, a changed file a new one. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/node.h"

static char *fx(const char *c, const char *f)
{
    char *rel = wih_asprintf("node/%s/%s", c, f);
    char *p = wih_fixture(rel);
    free(rel);
    char *t = wih_read_file(p, 1 << 20, NULL, NULL);
    ck_assert_msg(t, "fixture %s missing", p);
    free(p);
    return t;
}

static void plan_of(node_plan *p)
{
    char *t = fx("default", "plan.json");
    cJSON *j = cJSON_Parse(t);
    ck_assert_int_eq(node_plan_from_json(j, p), 0);
    cJSON_Delete(j);
    free(t);
}

static void same(const char *file, char *got)
{
    char *want = fx("default", file);
    if (strcmp(want, got)) {
        char *p = wih_asprintf("/tmp/wih-node-%s.got", file);
        wih_err *e = NULL;
        wih_write_file(p, got, strlen(got), 0644, &e);
        wih_err_free(e);
        ck_abort_msg("%s differs from the fixture (got written to %s)", file, p);
    }
    free(want);
    free(got);
}

START_TEST(configs_match_fixtures)
{
    node_plan p;
    plan_of(&p);
    same("containerd.toml", node_containerd_config(&p, "wiharness.local/pause:0123456789ab"));
    same("conflist.json", node_cni_conflist(&p));
    same("kubelet.yaml", node_kubelet_config(&p, "/pki/ca.crt", "/pki/k.crt", "/pki/k.key", 10250, 10248));
    cJSON *j = node_plan_json(&p);
    node_plan q;
    ck_assert_int_eq(node_plan_from_json(j, &q), 0);
    ck_assert_str_eq(q.bridge, p.bridge);
    ck_assert_str_eq(q.gateway, p.gateway);
    cJSON_Delete(j);
    node_plan_free(&q);
    node_plan_free(&p);
}
END_TEST

/* ------------------------------------------------------------ tar reader */
typedef struct {
    char name[256];
    const char *data;
    size_t size;
} entry;

static int tar_read(const char *buf, size_t len, entry *out, int max)
{
    int n = 0;
    for (size_t off = 0; off + 512 <= len && n < max;) {
        const char *h = buf + off;
        if (!h[0]) break;
        ck_assert_msg(!memcmp(h + 257, "ustar", 5), "entry %d is not ustar", n);
        unsigned sum = 0;
        for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (unsigned char)h[i];
        ck_assert_int_eq(sum, (unsigned)strtoul(h + 148, NULL, 8));
        size_t size = strtoull(h + 124, NULL, 8);
        snprintf(out[n].name, sizeof out[n].name, "%s%s%.100s", h[345] ? h + 345 : "", h[345] ? "/" : "", h);
        out[n].data = h + 512;
        out[n].size = size;
        n++;
        off += 512 + (size + 511) / 512 * 512;
    }
    return n;
}

static const entry *find(const entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].name, name)) return &e[i];
    return NULL;
}

static char *hex(const void *d, size_t n)
{
    unsigned char md[32];
    unsigned int l;
    EVP_Digest(d, n, md, &l, EVP_sha256(), NULL);
    char *h = malloc(72);
    strcpy(h, "sha256:");
    for (int i = 0; i < 32; i++) sprintf(h + 7 + 2 * i, "%02x", md[i]);
    return h;
}

static const entry *blob(const entry *e, int n, const char *digest)
{
    char *name = wih_asprintf("blobs/sha256/%s", digest + 7);
    const entry *b = find(e, n, name);
    ck_assert_msg(b, "no blob %s", name);
    char *h = hex(b->data, b->size);
    ck_assert_str_eq(h, digest);
    free(h);
    free(name);
    return b;
}

static char *write_image(const char *dir, const char *content, char **ref)
{
    node_file files[] = {{.path = "/bin/hello", .data = content, .len = strlen(content), .mode = 0755},
                         {.path = "/etc/deep/dir/x.conf", .data = "x=1\n", .len = 4, .mode = 0644},
                         {.path = "/tmp/", .mode = 01777}};
    static const char *const ep[] = {"/bin/hello", NULL};
    static const char *const env[] = {"A=B", NULL};
    node_image_spec s = {.repo = "wiharness.local/t", .files = files, .nfiles = 3, .entrypoint = ep, .env = env};
    char *out = wih_path_join(dir, "img.tar");
    wih_err *e = node_image_write(&s, out, ref);
    ck_assert_msg(!e, "%s", wih_err_str(e));
    return out;
}

START_TEST(oci_layout_is_consistent_and_deterministic)
{
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-oci-test", false, &e);
    char *ref1 = NULL, *ref2 = NULL, *ref3 = NULL;
    char *path = write_image(dir, "hello v1\n", &ref1);
    size_t len = 0;
    char *tar = wih_read_file(path, 64 << 20, &len, &e);
    entry ents[64];
    int n = tar_read(tar, len, ents, 64);
    const entry *idx = find(ents, n, "index.json"), *lay = find(ents, n, "oci-layout");
    ck_assert_ptr_nonnull(idx);
    ck_assert_ptr_nonnull(lay);
    cJSON *ix = cJSON_ParseWithLength(idx->data, idx->size);
    cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(ix, "manifests"), 0);
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(m0, "annotations"), "io.containerd.image.name"));
    ck_assert_str_eq(name, ref1);
    ck_assert_int_eq(strncmp(ref1, "wiharness.local/t:", 18), 0);
    const char *mdig = cJSON_GetStringValue(cJSON_GetObjectItem(m0, "digest"));
    ck_assert_int_eq(strncmp(ref1 + 18, mdig + 7, 12), 0); /* tag = manifest digest */
    const entry *mb = blob(ents, n, mdig);
    cJSON *man = cJSON_ParseWithLength(mb->data, mb->size);
    const cJSON *ld = cJSON_GetArrayItem(cJSON_GetObjectItem(man, "layers"), 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ld, "mediaType")), "application/vnd.oci.image.layer.v1.tar");
    const char *ldig = cJSON_GetStringValue(cJSON_GetObjectItem(ld, "digest"));
    const entry *lb = blob(ents, n, ldig);
    const entry *cb = blob(ents, n, cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(man, "config"), "digest")));
    cJSON *cfg = cJSON_ParseWithLength(cb->data, cb->size);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "rootfs"), "diff_ids"), 0)), ldig);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cfg, "config"), "Entrypoint"), 0)), "/bin/hello");
    /* the layer: parents first, then the files, with their modes */
    entry le[16];
    int nl = tar_read(lb->data, lb->size, le, 16);
    const char *want[] = {"bin/", "bin/hello", "etc/", "etc/deep/", "etc/deep/dir/", "etc/deep/dir/x.conf", "tmp/"};
    ck_assert_int_eq(nl, 7);
    for (int i = 0; i < nl; i++) ck_assert_str_eq(le[i].name, want[i]);
    ck_assert_int_eq(le[1].size, 9);
    ck_assert_int_eq(memcmp(le[1].data, "hello v1\n", 9), 0);
    ck_assert_int_eq((int)strtol(lb->data + 512 + 100, NULL, 8), 0755); /* bin/hello's mode */
    /* same content → same tag; changed content → new tag */
    free(write_image(dir, "hello v1\n", &ref2));
    free(write_image(dir, "hello v2\n", &ref3));
    ck_assert_str_eq(ref1, ref2);
    ck_assert_str_ne(ref1, ref3);
    cJSON_Delete(cfg);
    cJSON_Delete(man);
    cJSON_Delete(ix);
    free(tar);
    free(path);
    free(ref1);
    free(ref2);
    free(ref3);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("node_config");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, configs_match_fixtures);
    tcase_add_test(tc, oci_layout_is_consistent_and_deterministic);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
