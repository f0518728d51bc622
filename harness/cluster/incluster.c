/* The in-cluster Job's objects and the scenario files it carries: pure
 * builders (incluster.h). The I/O is in incluster_run.c. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "wiharness/backends.h"
#include "wiharness/incluster.h"
#include "wiharness/kube.h"

void incluster_files_free(incluster_file *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].key);
        free(f[i].path);
        if (f[i].data) OPENSSL_cleanse(f[i].data, f[i].len);
        free(f[i].data);
    }
    free(f);
}

/* ------------------------------------------------------- scenario files */
typedef struct {
    incluster_file *v;
    size_t n, bytes, max;
} flist;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A ConfigMap key ([-._a-zA-Z0-9]+): "f<index>-" + the base name, cleaned. */
static char *file_key(size_t i, const char *rel)
{
    const char *base = strrchr(rel, '/');
    char *k = wih_asprintf("f%zu-%s", i, base ? base + 1 : rel);
    for (char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            *p = '_';
    if (strlen(k) > 200) k[200] = 0;
    return k;
}

static int add_file(flist *l, const char *src, const char *rel, wih_err **err)
{
    size_t len = 0;
    char *data = wih_read_file(src, (size_t)16 << 20, &len, err);
    if (!data) return -1;
    if (l->bytes + len > l->max) {
        free(data);
        *err = wih_err_new(WIH_EXIT_INPUT, "--in-cluster-job: the scenario files are more than %zu bytes (a "
                                           "ConfigMap holds 1 MiB); pass fewer or smaller PATHs (at %s)",
                           l->max, src);
        return -1;
    }
    l->v = wih_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n] = (incluster_file){.key = file_key(l->n, rel), .path = wih_strdup(rel), .data = data, .len = len};
    l->n++;
    l->bytes += len;
    return 0;
}

/* Regular files of dir (recursively when deep) as prefix/<name>. */
static int add_dir(flist *l, const char *dir, const char *prefix, bool deep, wih_err **err)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        *err = wih_err_new(WIH_EXIT_INPUT, "%s: cannot read the directory: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(dh));) {
        if (e->d_name[0] == '.') continue;
        names = wih_xrealloc(names, (n + 1) * sizeof *names);
        names[n++] = wih_strdup(e->d_name);
    }
    closedir(dh);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        char *src = wih_path_join(dir, names[i]), *rel = wih_path_join(prefix, names[i]);
        struct stat st;
        if (r == 0 && stat(src, &st) == 0) {
            if (S_ISDIR(st.st_mode) && deep)
                r = add_dir(l, src, rel, true, err);
            else if (S_ISREG(st.st_mode))
                r = add_file(l, src, rel, err);
        }
        free(src);
        free(rel);
        free(names[i]);
    }
    free(names);
    return r;
}

incluster_file *incluster_collect(const char *const *paths, size_t npaths, size_t max_bytes, size_t *n,
                                  char ***where, wih_err **err)
{
    flist l = {.max = max_bytes};
    *where = wih_xcalloc(npaths + 1, sizeof **where);
    int r = 0;
    for (size_t i = 0; i < npaths && r == 0; i++) {
        struct stat st;
        char *prefix = wih_asprintf("%zu", i);
        if (stat(paths[i], &st) != 0) {
            *err = wih_err_new(WIH_EXIT_INPUT, "%s: no such file or directory", paths[i]);
            r = -1;
        } else if (S_ISDIR(st.st_mode)) {
            r = add_dir(&l, paths[i], prefix, true, err);
            (*where)[i] = wih_asprintf("%s/%s", INCLUSTER_SCENARIOS_DIR, prefix);
        } else {
            /* a file: its directory's files too (its suite.yaml, the values it names) */
            char *tmp = wih_strdup(paths[i]), *tmp2 = wih_strdup(paths[i]);
            r = add_dir(&l, dirname(tmp), prefix, false, err);
            (*where)[i] = wih_asprintf("%s/%s/%s", INCLUSTER_SCENARIOS_DIR, prefix, basename(tmp2));
            free(tmp);
            free(tmp2);
        }
        free(prefix);
    }
    if (r) {
        incluster_files_free(l.v, l.n);
        for (size_t i = 0; i < npaths; i++) free((*where)[i]);
        free(*where);
        *where = NULL;
        return NULL;
    }
    *n = l.n;
    return l.v ? l.v : wih_xcalloc(1, sizeof *l.v);
}

/* ------------------------------------------------------------ the objects */
char *incluster_namespace(const char *id)
{
    return wih_asprintf("wih-job-%s", id);
}

static cJSON *obj(const char *api, const char *kind, const char *ns, const char *name, const char *id)
{
    cJSON *o = kube_obj_new(api, kind, ns, name);
    cJSON *lb = cJSON_AddObjectToObject(cJSON_GetObjectItem(o, "metadata"), "labels");
    cJSON_AddStringToObject(lb, "app.kubernetes.io/managed-by", "wiharness");
    cJSON_AddStringToObject(lb, "wiharness.io/in-cluster-job", id);
    return o;
}

static cJSON *strings(const char *const *v)
{
    cJSON *a = cJSON_CreateArray();
    for (; v && *v; v++) cJSON_AddItemToArray(a, cJSON_CreateString(*v));
    return a;
}

/* existing_perms grouped by (group, resource), in first-seen order. */
static cJSON *cluster_rules(void)
{
    cJSON *rules = cJSON_CreateArray();
    for (const existing_perm *p = existing_perms; p->verb; p++) {
        cJSON *hit = NULL, *r;
        cJSON_ArrayForEach(r, rules)
        {
            const char *g = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "apiGroups"), 0)->valuestring;
            const char *res = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "resources"), 0)->valuestring;
            if (!strcmp(g, p->group) && !strcmp(res, p->resource)) hit = r;
        }
        if (!hit) {
            hit = cJSON_CreateObject();
            const char *g[] = {p->group, NULL}, *res[] = {p->resource, NULL};
            cJSON_AddItemToObject(hit, "apiGroups", strings(g));
            cJSON_AddItemToObject(hit, "resources", strings(res));
            cJSON_AddArrayToObject(hit, "verbs");
            cJSON_AddItemToArray(rules, hit);
        }
        cJSON_AddItemToArray(cJSON_GetObjectItem(hit, "verbs"), cJSON_CreateString(p->verb));
    }
    return rules;
}

static cJSON *binding(const char *kind, const char *ns, const char *name, const char *role_kind, const char *sa_ns,
                      const char *id)
{
    cJSON *b = obj("rbac.authorization.k8s.io/v1", kind, ns, name, id);
    cJSON *rr = cJSON_AddObjectToObject(b, "roleRef");
    cJSON_AddStringToObject(rr, "apiGroup", "rbac.authorization.k8s.io");
    cJSON_AddStringToObject(rr, "kind", role_kind);
    cJSON_AddStringToObject(rr, "name", name);
    cJSON *sub = cJSON_CreateObject();
    cJSON_AddStringToObject(sub, "kind", "ServiceAccount");
    cJSON_AddStringToObject(sub, "name", INCLUSTER_NAME);
    cJSON_AddStringToObject(sub, "namespace", sa_ns);
    cJSON *subs = cJSON_AddArrayToObject(b, "subjects");
    cJSON_AddItemToArray(subs, sub);
    return b;
}

static cJSON *rbac_objects(cJSON *all, const char *ns, const char *id)
{
    char *cr = wih_asprintf("wiharness-job-%s", id);
    cJSON *role = obj("rbac.authorization.k8s.io/v1", "ClusterRole", NULL, cr, id);
    cJSON_AddItemToObject(role, "rules", cluster_rules());
    cJSON_AddItemToArray(all, role);
    cJSON_AddItemToArray(all, binding("ClusterRoleBinding", NULL, cr, "ClusterRole", ns, id));
    /* its results: the ConfigMap, in its own namespace only */
    cJSON *r = obj("rbac.authorization.k8s.io/v1", "Role", ns, INCLUSTER_NAME, id);
    cJSON *rule = cJSON_CreateObject();
    const char *g[] = {"", NULL}, *res[] = {"configmaps", NULL}, *verbs[] = {"create", "update", NULL};
    cJSON_AddItemToObject(rule, "apiGroups", strings(g));
    cJSON_AddItemToObject(rule, "resources", strings(res));
    cJSON_AddItemToObject(rule, "verbs", strings(verbs));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "rules"), rule);
    cJSON_AddItemToArray(all, r);
    cJSON_AddItemToArray(all, binding("RoleBinding", ns, INCLUSTER_NAME, "Role", ns, id));
    free(cr);
    return all;
}

/* data (or base64 data) + the volume's items */
static cJSON *files_object(const char *kind, const char *ns, const char *name, const char *id,
                           const incluster_file *f, size_t n, cJSON *items)
{
    bool secret = !strcmp(kind, "Secret");
    cJSON *o = obj("v1", kind, ns, name, id);
    if (secret) cJSON_AddStringToObject(o, "type", "Opaque");
    cJSON *d = cJSON_AddObjectToObject(o, "data");
    for (size_t i = 0; i < n; i++) {
        if (secret) {
            char *b = wih_b64_encode(f[i].data, f[i].len, 0);
            cJSON_AddStringToObject(d, f[i].key, b);
            OPENSSL_cleanse(b, strlen(b));
            free(b);
        } else {
            cJSON_AddStringToObject(d, f[i].key, f[i].data);
        }
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "key", f[i].key);
        cJSON_AddStringToObject(it, "path", f[i].path);
        cJSON_AddItemToArray(items, it);
    }
    return o;
}

static cJSON *volume(cJSON *vols, cJSON *mounts, const char *name, const char *kind, const char *src,
                     const char *path, cJSON *items)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON *s = cJSON_AddObjectToObject(v, !strcmp(kind, "Secret") ? "secret" : "configMap");
    cJSON_AddStringToObject(s, !strcmp(kind, "Secret") ? "secretName" : "name", src);
    if (!strcmp(kind, "Secret")) cJSON_AddNumberToObject(s, "defaultMode", 0400);
    cJSON_AddItemToObject(s, "items", items);
    cJSON_AddItemToArray(vols, v);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "mountPath", path);
    cJSON_AddBoolToObject(m, "readOnly", true);
    cJSON_AddItemToArray(mounts, m);
    return v;
}

static void env(cJSON *a, const char *name, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "value", value);
    cJSON_AddItemToArray(a, e);
}

static cJSON *job(const incluster_spec *s, const char *ns, cJSON *vols, cJSON *mounts)
{
    cJSON *j = obj("batch/v1", "Job", ns, INCLUSTER_NAME, s->id);
    cJSON *sp = cJSON_AddObjectToObject(j, "spec");
    cJSON_AddNumberToObject(sp, "backoffLimit", 0);
    if (s->deadline_s > 0) cJSON_AddNumberToObject(sp, "activeDeadlineSeconds", (double)s->deadline_s);
    cJSON *t = cJSON_AddObjectToObject(sp, "template");
    cJSON *lb = cJSON_AddObjectToObject(cJSON_AddObjectToObject(t, "metadata"), "labels");
    cJSON_AddStringToObject(lb, "wiharness.io/in-cluster-job", s->id);
    cJSON *ps = cJSON_AddObjectToObject(t, "spec");
    cJSON_AddStringToObject(ps, "serviceAccountName", INCLUSTER_NAME);
    cJSON_AddStringToObject(ps, "restartPolicy", "Never");
    /* room for the in-cluster runner's own cleanup when the host stops it */
    cJSON_AddNumberToObject(ps, "terminationGracePeriodSeconds", 120);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", INCLUSTER_NAME);
    cJSON_AddStringToObject(c, "image", s->image);
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    cJSON *args = cJSON_AddArrayToObject(c, "args");
    cJSON_AddItemToArray(args, cJSON_CreateString("--no-color"));
    cJSON_AddItemToArray(args, cJSON_CreateString("run"));
    for (const char *const *a = s->args; a && *a; a++) cJSON_AddItemToArray(args, cJSON_CreateString(*a));
    if (s->api_host && s->api_port) {
        cJSON *e = cJSON_AddArrayToObject(c, "env");
        env(e, "KUBERNETES_SERVICE_HOST", s->api_host);
        env(e, "KUBERNETES_SERVICE_PORT", s->api_port);
    }
    cJSON_AddItemToObject(c, "volumeMounts", mounts);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ps, "containers"), c);
    cJSON_AddItemToObject(ps, "volumes", vols);
    return j;
}

cJSON *incluster_objects(const incluster_spec *s)
{
    char *ns = incluster_namespace(s->id);
    cJSON *all = cJSON_CreateArray();
    cJSON_AddItemToArray(all, obj("v1", "Namespace", NULL, ns, s->id));
    cJSON_AddItemToArray(all, obj("v1", "ServiceAccount", ns, INCLUSTER_NAME, s->id));
    rbac_objects(all, ns, s->id);
    cJSON *vols = cJSON_CreateArray(), *mounts = cJSON_CreateArray(), *items = cJSON_CreateArray();
    cJSON_AddItemToArray(all, files_object("ConfigMap", ns, "wih-scenarios", s->id, s->scenarios, s->nscenarios,
                                           items));
    volume(vols, mounts, "scenarios", "ConfigMap", "wih-scenarios", INCLUSTER_SCENARIOS_DIR, items);
    if (s->nsecrets) {
        items = cJSON_CreateArray();
        cJSON_AddItemToArray(all, files_object("Secret", ns, "wih-runner-state", s->id, s->secrets, s->nsecrets,
                                               items));
        volume(vols, mounts, "state", "Secret", "wih-runner-state", INCLUSTER_STATE_DIR, items);
    }
    cJSON_AddItemToArray(all, job(s, ns, vols, mounts));
    free(ns);
    return all;
}

/* ------------------------------------------------------------- the log */
static const char *section(const char *log, const char *what, const char **end_out, size_t *end_len)
{
    char begin[64], end[64];
    snprintf(begin, sizeof begin, INCLUSTER_MARK_BEGIN, what);
    snprintf(end, sizeof end, INCLUSTER_MARK_END, what);
    const char *b = log ? strstr(log, begin) : NULL;
    const char *e = b ? strstr(b, end) : NULL;
    if (!e) return NULL;
    *end_out = e;
    *end_len = strlen(end);
    return b;
}

char *incluster_log_section(const char *log, const char *what)
{
    const char *e;
    size_t el;
    const char *b = section(log, what, &e, &el);
    if (!b) return NULL;
    b = strchr(b, '\n');
    if (!b || b > e) return wih_strdup("");
    b++;
    return wih_asprintf("%.*s", (int)(e - b), b);
}

char *incluster_log_console(const char *log)
{
    char *out = wih_strdup(log ? log : "");
    static const char *const kinds[] = {"junit", "json", NULL};
    for (const char *const *k = kinds; *k; k++) {
        const char *e;
        size_t el;
        const char *b = section(out, *k, &e, &el);
        if (!b) continue;
        const char *after = e + el;
        if (*after == '\n') after++;
        memmove(out + (b - out), after, strlen(after) + 1);
    }
    return out;
}
