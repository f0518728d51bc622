/* source — git+URL#REF:PATH through libgit2 (a bare cache, blobs read from
 * the tree at REF, no checkout) and the provenance of plain files. */
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/source.h"

#define SRC_MAX_BLOB ((size_t)64 << 20)

static const char *git_msg(void)
{
    const git_error *ge = git_error_last();
    return ge && ge->message ? ge->message : "unknown libgit2 error";
}

bool src_is_git(const char *spec)
{
    return spec && !strncmp(spec, "git+", 4);
}

int src_git_parse(const char *spec, char **url, char **ref, char **path, wih_err **err)
{
    const char *hash = src_is_git(spec) ? strrchr(spec, '#') : NULL;
    const char *colon = hash ? strchr(hash, ':') : NULL;
    if (!hash || !colon || hash == spec + 4 || colon == hash + 1 || !colon[1]) {
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: expected git+URL#REF:PATH (e.g. git+file:///srv/gitops#main:pools/values.yaml)",
                           spec ? spec : "(null)");
        return -1;
    }
    *url = wih_xstrndup(spec + 4, (size_t)(hash - spec - 4));
    *ref = wih_xstrndup(hash + 1, (size_t)(colon - hash - 1));
    const char *p = colon + 1;
    while (*p == '/') p++;
    *path = wih_strdup(p);
    return 0;
}

/* A local repository path for URL (a path or file://), or NULL for a remote URL. */
static char *local_path(const char *url)
{
    if (!strncmp(url, "file://", 7)) return wih_strdup(url + 7);
    if (strstr(url, "://") || (strchr(url, ':') && !strchr(url, '/'))) return NULL;
    if (strchr(url, '@') && strchr(url, ':')) return NULL; /* user@host:path (ssh) */
    return wih_strdup(url);
}

/* The URL libgit2 fetches and the cache key: local paths made absolute. */
static char *canonical_url(const char *url, wih_err **err)
{
    char *lp = local_path(url);
    if (!lp) return wih_strdup(url);
    char real[PATH_MAX];
    if (!realpath(lp, real)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "git source %s: no repository at %s: %s", url, lp, strerror(errno));
        free(lp);
        return NULL;
    }
    free(lp);
    return wih_strdup(real);
}

typedef struct gsrc {
    char *spec, *url, *ref, *path, *cache;
    int lock_fd;
    git_repository *repo;
    git_commit *commit;
    char commit_hex[GIT_OID_HEXSZ + 1];
} gsrc;

static void gsrc_close(gsrc *g)
{
    git_commit_free(g->commit);
    git_repository_free(g->repo);
    if (g->lock_fd >= 0) close(g->lock_fd);
    free(g->spec);
    free(g->url);
    free(g->ref);
    free(g->path);
    free(g->cache);
    git_libgit2_shutdown();
}

/* Open (or create) the bare cache for g->url and hold its lock. */
static wih_err *cache_open(gsrc *g, const char *cache_dir)
{
    const char *env = getenv("WIH_GIT_CACHE");
    char *base = cache_dir ? wih_path_join(cache_dir, "git")
                 : env && *env ? wih_strdup(env)
                               : wih_cache_dir_default("git");
    char *fp = wih_fingerprint(g->url); /* "sha256:<12 hex>" */
    g->cache = wih_path_join(base, fp + 7);
    char *lock = wih_asprintf("%s.lock", g->cache);
    free(fp);
    wih_err *e = NULL;
    if (wih_mkdir_p(base, 0700)) e = wih_err_new(WIH_EXIT_INFRA, "git cache %s: %s", base, strerror(errno));
    if (!e && ((g->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || flock(g->lock_fd, LOCK_EX)))
        e = wih_err_new(WIH_EXIT_INFRA, "git cache lock %s: %s", lock, strerror(errno));
    if (!e && git_repository_open_bare(&g->repo, g->cache) && git_repository_init(&g->repo, g->cache, 1))
        e = wih_err_new(WIH_EXIT_INFRA, "git cache %s: %s", g->cache, git_msg());
    free(lock);
    free(base);
    return e;
}

static wih_err *fetch(gsrc *g)
{
    git_remote *r = NULL;
    if (git_remote_lookup(&r, g->repo, "origin") && git_remote_create(&r, g->repo, "origin", g->url))
        return wih_err_new(WIH_EXIT_INFRA, "git cache %s: origin %s: %s", g->cache, g->url, git_msg());
    char *specs[] = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
    git_strarray rs = {specs, 2};
    git_fetch_options fo;
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
    fo.prune = GIT_FETCH_PRUNE;
    wih_err *e = NULL;
    if (git_remote_fetch(r, &rs, &fo, "wiharness fetch"))
        e = wih_err_new(WIH_EXIT_INFRA, "git fetch %s: %s", g->url, git_msg());
    git_remote_free(r);
    return e;
}

/* REF as a branch of origin, a tag, then any revision (a commit id). */
static wih_err *resolve(gsrc *g)
{
    const char *forms[] = {"refs/remotes/origin/%s", "refs/tags/%s", "%s"};
    for (size_t i = 0; i < 3 && !g->commit; i++) {
        char *rs = wih_asprintf(forms[i], g->ref);
        git_object *o = NULL, *c = NULL;
        if (!git_revparse_single(&o, g->repo, rs) && !git_object_peel(&c, o, GIT_OBJECT_COMMIT))
            g->commit = (git_commit *)c;
        git_object_free(o);
        free(rs);
    }
    if (!g->commit)
        return wih_err_new(WIH_EXIT_INPUT, "%s: no branch, tag or commit '%s' in %s", g->spec, g->ref, g->url);
    git_oid_tostr(g->commit_hex, sizeof g->commit_hex, git_commit_id(g->commit));
    return NULL;
}

static wih_err *gsrc_open(gsrc *g, const char *spec, const char *cache_dir)
{
    memset(g, 0, sizeof *g);
    g->lock_fd = -1;
    git_libgit2_init();
    g->spec = wih_strdup(spec);
    char *url = NULL;
    wih_err *e = NULL;
    if (src_git_parse(spec, &url, &g->ref, &g->path, &e)) return e;
    g->url = canonical_url(url, &e);
    free(url);
    if (!e) e = cache_open(g, cache_dir);
    if (!e) e = fetch(g);
    if (!e) e = resolve(g);
    return e;
}

static cJSON *provenance(const char *spec, const char *repo, const char *ref, const char *commit,
                         const char *path, bool dirty)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "source", spec);
    cJSON_AddItemToObject(p, "repository", repo ? cJSON_CreateString(repo) : cJSON_CreateNull());
    cJSON_AddItemToObject(p, "ref", ref ? cJSON_CreateString(ref) : cJSON_CreateNull());
    cJSON_AddItemToObject(p, "commit", commit ? cJSON_CreateString(commit) : cJSON_CreateNull());
    cJSON_AddStringToObject(p, "path", path);
    cJSON_AddBoolToObject(p, "dirty", dirty);
    return p;
}

/* The tree entry at g->path (caller frees), or an input error. */
static git_tree_entry *entry_at(gsrc *g, wih_err **err)
{
    git_tree *t = NULL;
    git_tree_entry *te = NULL;
    if (git_commit_tree(&t, g->commit)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "%s: tree of %s: %s", g->spec, g->commit_hex, git_msg());
        return NULL;
    }
    if (git_tree_entry_bypath(&te, t, g->path))
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: no '%s' in %s at %s (commit %.12s)", g->spec, g->path, g->url,
                           g->ref, g->commit_hex);
    git_tree_free(t);
    return te;
}

static char *read_blob(gsrc *g, const git_oid *id, size_t *len, wih_err **err)
{
    git_blob *b = NULL;
    if (git_blob_lookup(&b, g->repo, id)) {
        *err = wih_err_new(WIH_EXIT_INFRA, "%s: blob: %s", g->spec, git_msg());
        return NULL;
    }
    size_t n = (size_t)git_blob_rawsize(b);
    char *out = NULL;
    if (n > SRC_MAX_BLOB) {
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: '%s' is %zu bytes (limit %zu)", g->spec, g->path, n, SRC_MAX_BLOB);
    } else {
        out = wih_xmalloc(n + 1);
        memcpy(out, git_blob_rawcontent(b), n);
        out[n] = 0;
        if (len) *len = n;
    }
    git_blob_free(b);
    return out;
}

static char *git_read(const char *spec, const char *cache_dir, size_t *len, cJSON **prov, wih_err **err)
{
    gsrc g;
    wih_err *e = gsrc_open(&g, spec, cache_dir);
    git_tree_entry *te = e ? NULL : entry_at(&g, &e);
    char *out = NULL;
    if (te && git_tree_entry_type(te) != GIT_OBJECT_BLOB)
        e = wih_err_new(WIH_EXIT_INPUT, "%s: '%s' at %s is a directory, not a file", spec, g.path, g.ref);
    else if (te)
        out = read_blob(&g, git_tree_entry_id(te), len, &e);
    if (out && prov) *prov = provenance(spec, g.url, g.ref, g.commit_hex, g.path, false);
    git_tree_entry_free(te);
    gsrc_close(&g);
    if (e) *err = e;
    return out;
}

char *src_read(const char *spec, const char *cache_dir, size_t *len, cJSON **prov, wih_err **err)
{
    if (src_is_git(spec)) return git_read(spec, cache_dir, len, prov, err);
    char *out = wih_read_file(spec, SRC_MAX_BLOB, len, err);
    if (out && prov) *prov = src_file_provenance(spec);
    return out;
}

/* ------------------------------------------------------------ export */
typedef struct exp_ctx {
    gsrc *g;
    const char *dest;
    wih_err *e;
} exp_ctx;

static int write_entry(exp_ctx *x, const char *rel, const git_tree_entry *te)
{
    char *file = wih_path_join(x->dest, rel);
    char *dir = wih_strdup(file);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    size_t n = 0;
    char *data = wih_mkdir_p(dir, 0700) ? NULL : read_blob(x->g, git_tree_entry_id(te), &n, &x->e);
    mode_t mode = git_tree_entry_filemode(te) == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
    if (!data && !x->e) x->e = wih_err_new(WIH_EXIT_INFRA, "exporting %s: %s: %s", x->g->spec, dir, strerror(errno));
    if (data) wih_write_file(file, data, n, mode, &x->e);
    free(data);
    free(dir);
    free(file);
    return x->e ? -1 : 0;
}

static int walk_cb(const char *root, const git_tree_entry *te, void *payload)
{
    exp_ctx *x = payload;
    const char *name = git_tree_entry_name(te);
    if (!strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')) return 1; /* never outside dest */
    git_filemode_t m = git_tree_entry_filemode(te);
    if (m != GIT_FILEMODE_BLOB && m != GIT_FILEMODE_BLOB_EXECUTABLE) return 0; /* trees, links, submodules */
    char *rel = wih_asprintf("%s%s", root, name);
    int rc = write_entry(x, rel, te);
    free(rel);
    return rc;
}

int src_git_export(const char *spec, const char *cache_dir, const char *dest, cJSON **prov, wih_err **err)
{
    gsrc g;
    wih_err *e = gsrc_open(&g, spec, cache_dir);
    git_tree_entry *te = e ? NULL : entry_at(&g, &e);
    if (te && git_tree_entry_type(te) == GIT_OBJECT_BLOB) {
        exp_ctx x = {&g, dest, NULL};
        const char *base = strrchr(g.path, '/');
        write_entry(&x, base ? base + 1 : g.path, te);
        e = x.e;
    } else if (te) {
        git_tree *sub = NULL;
        exp_ctx x = {&g, dest, NULL};
        if (git_tree_lookup(&sub, g.repo, git_tree_entry_id(te)) || wih_mkdir_p(dest, 0700))
            x.e = wih_err_new(WIH_EXIT_INFRA, "exporting %s: %s", spec, git_msg());
        else if (git_tree_walk(sub, GIT_TREEWALK_PRE, walk_cb, &x) && !x.e)
            x.e = wih_err_new(WIH_EXIT_INFRA, "exporting %s: %s", spec, git_msg());
        git_tree_free(sub);
        e = x.e;
    }
    if (!e && prov) *prov = provenance(spec, g.url, g.ref, g.commit_hex, g.path, false);
    git_tree_entry_free(te);
    gsrc_close(&g);
    if (e) *err = e;
    return e ? -1 : 0;
}

/* ------------------------------------------------------- plain files */
static bool work_tree_dirty(git_repository *r, const char *rel)
{
    git_status_options so;
    git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
    so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    so.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    git_status_list *sl = NULL;
    bool dirty = true; /* unknown counts as dirty: never claim a clean tree we did not see */
    if (!git_status_list_new(&sl, r, &so)) dirty = git_status_list_entrycount(sl) > 0;
    git_status_list_free(sl);
    unsigned int fl = 0;
    if (!dirty && rel && !git_status_file(&fl, r, rel)) dirty = (fl & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED)) != 0;
    return dirty;
}

cJSON *src_file_provenance(const char *path)
{
    char real[PATH_MAX];
    git_libgit2_init();
    git_repository *r = NULL;
    cJSON *p = NULL;
    if (realpath(path, real)) {
        char *dir = wih_strdup(real);
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = 0;
        else if (slash) *slash = 0;
        if (!git_repository_open_ext(&r, dir, 0, NULL) && !git_repository_is_bare(r)) {
            const char *wd = git_repository_workdir(r); /* ends in '/' */
            size_t wl = strlen(wd);
            const char *rel = !strncmp(real, wd, wl) ? real + wl : NULL;
            git_oid head;
            char hex[GIT_OID_HEXSZ + 1] = "";
            bool has_head = !git_reference_name_to_id(&head, r, "HEAD");
            if (has_head) git_oid_tostr(hex, sizeof hex, &head);
            char *wdn = wih_xstrndup(wd, wl > 1 ? wl - 1 : wl);
            p = provenance(path, wdn, NULL, has_head ? hex : NULL, rel ? rel : path, !has_head || work_tree_dirty(r, rel));
            free(wdn);
        }
        free(dir);
    }
    if (!p) p = provenance(path, NULL, NULL, NULL, path, false);
    git_repository_free(r);
    git_libgit2_shutdown();
    return p;
}
