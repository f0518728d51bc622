/* Removing what a node left after its processes stopped. Everything is found
 * through records of our own: containerd's task bundles under our state dir
 * (shim.pid, init.pid, the shim's socket address, config.json's network
 * namespace path and cgroups path), runc's state under our runc root, the
 * mount table filtered by our node dir, and the names in our plan — never a
 * process or an interface picked by a name pattern. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wiharness/node.h"

static void say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(FILE *f, const char *fmt, ...)
{
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fflush(f);
}

static char *read_small(const char *dir, const char *name)
{
    char *p = wih_path_join(dir, name);
    char *t = wih_read_file(p, 1 << 20, NULL, NULL);
    free(p);
    if (t) {
        size_t n = strlen(t);
        while (n && (t[n - 1] == '\n' || t[n - 1] == ' ')) t[--n] = '\0';
    }
    return t;
}

static void add_task(cJSON *arr, const char *ns, const char *id, const char *bundle)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "namespace", ns);
    cJSON_AddStringToObject(t, "id", id);
    char *v;
    if ((v = read_small(bundle, "shim.pid"))) cJSON_AddNumberToObject(t, "shim_pid", atoi(v));
    free(v);
    if ((v = read_small(bundle, "init.pid"))) cJSON_AddNumberToObject(t, "init_pid", atoi(v));
    free(v);
    if ((v = read_small(bundle, "address"))) cJSON_AddStringToObject(t, "address", v);
    free(v);
    char *cfg = read_small(bundle, "config.json");
    cJSON *spec = cfg ? cJSON_Parse(cfg) : NULL;
    free(cfg);
    cJSON *linux_ = cJSON_GetObjectItem(spec, "linux");
    const char *cg = cJSON_GetStringValue(cJSON_GetObjectItem(linux_, "cgroupsPath"));
    if (cg) cJSON_AddStringToObject(t, "cgroup", cg);
    cJSON *nss = cJSON_GetObjectItem(linux_, "namespaces");
    for (cJSON *n = nss ? nss->child : NULL; n; n = n->next) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(n, "type"));
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(n, "path"));
        if (type && path && !strcmp(type, "network") && !strncmp(path, "/var/run/netns/", 15))
            cJSON_AddStringToObject(t, "netns", path);
    }
    cJSON_Delete(spec);
    cJSON_AddItemToArray(arr, t);
}

cJSON *node_records(const node_plan *p)
{
    cJSON *arr = cJSON_CreateArray();
    char *root = wih_path_join(p->dir, "containerd/state/io.containerd.runtime.v2.task");
    DIR *d = opendir(root);
    struct dirent *ns;
    while (d && (ns = readdir(d))) {
        if (ns->d_name[0] == '.') continue;
        char *nsdir = wih_path_join(root, ns->d_name);
        DIR *d2 = opendir(nsdir);
        struct dirent *id;
        while (d2 && (id = readdir(d2))) {
            if (id->d_name[0] == '.') continue;
            char *b = wih_path_join(nsdir, id->d_name);
            add_task(arr, ns->d_name, id->d_name, b);
            free(b);
        }
        if (d2) closedir(d2);
        free(nsdir);
    }
    if (d) closedir(d);
    free(root);
    return arr;
}

/* /proc/<pid>/cmdline mentions our node dir (the shim's -address is our socket) */
static bool pid_is_ours(pid_t pid, const char *dir)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    size_t len = 0;
    char *c = wih_read_file(path, 1 << 16, &len, NULL);
    if (!c) return false;
    for (size_t i = 0; i < len; i++)
        if (!c[i]) c[i] = ' ';
    bool ours = strstr(c, dir) != NULL;
    free(c);
    return ours;
}

static char pid_state(pid_t pid, pid_t *ppid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *s = wih_read_file(path, 1 << 16, NULL, NULL);
    if (!s) return 0;
    char *rp = strrchr(s, ')');
    char st = 0;
    int pp = 0;
    if (rp && sscanf(rp + 1, " %c %d", &st, &pp) == 2 && ppid) *ppid = pp;
    free(s);
    return st;
}

/* alive and not a zombie (a zombie of a reparented process is gone for us) */
static bool pid_running(pid_t pid)
{
    char st = pid_state(pid, NULL);
    return st && st != 'Z' && st != 'X';
}

static void kill_wait(pid_t pid, int64_t grace_ms)
{
    unsigned long long t0 = wih_pid_start_ticks(pid);
    kill(pid, SIGTERM);
    int64_t end = wih_now_ms() + grace_ms;
    while (wih_now_ms() < end && pid_running(pid) && wih_pid_start_ticks(pid) == t0) wih_sleep_ms(20);
    if (pid_running(pid) && wih_pid_start_ticks(pid) == t0) {
        kill(pid, SIGKILL);
        end = wih_now_ms() + 3000;
        while (wih_now_ms() < end && pid_running(pid) && wih_pid_start_ticks(pid) == t0) {
            struct timespec ts = {0, 20 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

static void stop_tasks(const node_plan *p, const cJSON *recs, FILE *progress)
{
    char *runc = NULL;
    wih_tool_info ti;
    wih_tool_find(WIH_TOOL_RUNC, false, &ti);
    runc = ti.path ? wih_strdup(ti.path) : NULL;
    wih_tool_info_free(&ti);
    for (const cJSON *t = recs->child; t; t = t->next) {
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(t, "namespace"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(t, "id"));
        pid_t shim = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "shim_pid"));
        pid_t init = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "init_pid"));
        bool shim_ok = shim > 0 && pid_running(shim) && pid_is_ours(shim, p->dir);
        if (runc && ns && id) {
            /* runc delete --force kills the container and removes its cgroups */
            char *rroot = wih_asprintf("%s/runc/%s", p->dir, ns), *st = wih_asprintf("%s/%s", rroot, id);
            if (access(st, F_OK) == 0) {
                char *a[] = {runc, "--root", rroot, "delete", "--force", (char *)id, NULL};
                char *o = NULL, *e = NULL;
                wih_err *err = NULL;
                wih_run_capture(a, NULL, NULL, 10000, &o, &e, &err);
                wih_err_free(err);
                free(o);
                free(e);
            }
            free(rroot);
            free(st);
        }
        pid_t pp = 0;
        if (init > 0 && shim_ok && pid_running(init) && pid_state(init, &pp) && pp == shim) {
            say(progress, "  killing container %.12s (pid %d, child of our shim %d)", id, (int)init, (int)shim);
            kill_wait(init, 0);
        }
        if (shim_ok) {
            /* its containers are gone and containerd with them: nothing left
             * for it to report (a shim waits on SIGTERM for containerd) */
            say(progress, "  stopping shim of %.12s (pid %d)", id, (int)shim);
            kill_wait(shim, 0);
        }
    }
    free(runc);
}

static int cmp_len_desc(const void *a, const void *b)
{
    size_t x = strlen(*(char *const *)a), y = strlen(*(char *const *)b);
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Mount points at or under prefix, deepest first (a new array of strings). */
static cJSON *mounts_under(const char *prefix)
{
    cJSON *out = cJSON_CreateArray();
    char *mi = wih_read_file("/proc/self/mountinfo", (size_t)16 << 20, NULL, NULL);
    size_t pl = strlen(prefix);
    char *save = NULL;
    size_t n = 0, cap = 64;
    char **v = malloc(cap * sizeof *v);
    for (char *l = mi ? strtok_r(mi, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        char mp[4096];
        if (sscanf(l, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
        /* octal escapes (\040) only for odd names; ours have none */
        if (strncmp(mp, prefix, pl) || (mp[pl] && mp[pl] != '/')) continue;
        if (n == cap) v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = wih_strdup(mp);
    }
    qsort(v, n, sizeof *v, cmp_len_desc);
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(out, cJSON_CreateString(v[i]));
        free(v[i]);
    }
    free(v);
    free(mi);
    return out;
}

static int unmount_under(const char *prefix)
{
    int left = 0;
    for (int pass = 0; pass < 4; pass++) {
        cJSON *m = mounts_under(prefix);
        left = cJSON_GetArraySize(m);
        for (cJSON *x = m->child; x; x = x->next) umount2(x->valuestring, MNT_DETACH);
        cJSON_Delete(m);
        if (!left) break;
    }
    cJSON *m = mounts_under(prefix);
    left = cJSON_GetArraySize(m);
    cJSON_Delete(m);
    return left;
}

static void remove_log_links(const node_plan *p)
{
    char *logs = wih_path_join(p->dir, "pod-logs");
    DIR *d = opendir("/var/log/containers");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *l = wih_path_join("/var/log/containers", e->d_name);
        char t[4096];
        ssize_t n = readlink(l, t, sizeof t - 1);
        if (n > 0) {
            t[n] = '\0';
            if (!strncmp(t, logs, strlen(logs))) unlink(l);
        }
        free(l);
    }
    if (d) closedir(d);
    free(logs);
}

/* The container's cgroup in every hierarchy, then its parents (containerd's
 * "/k8s.io") as far as they are empty: rmdir never removes a cgroup that
 * another chain's containers still use. */
static void remove_cgroup(const char *cg)
{
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = wih_asprintf("/sys/fs/cgroup/%s/%s", e->d_name, cg[0] == '/' ? cg + 1 : cg);
        size_t root = strlen("/sys/fs/cgroup/") + strlen(e->d_name);
        while (strlen(p) > root && rmdir(p) == 0) {
            char *slash = strrchr(p, '/');
            if (!slash) break;
            *slash = '\0';
        }
        free(p);
    }
    if (d) closedir(d);
}

static bool cgroup_present(const char *cg)
{
    DIR *d = opendir("/sys/fs/cgroup");
    struct dirent *e;
    bool found = false;
    while (d && (e = readdir(d)) && !found) {
        if (e->d_name[0] == '.') continue;
        char *p = wih_asprintf("/sys/fs/cgroup/%s/%s", e->d_name, cg[0] == '/' ? cg + 1 : cg);
        struct stat st;
        found = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
        free(p);
    }
    if (d) closedir(d);
    return found;
}

static bool bridge_present(const node_plan *p)
{
    char *sys = wih_asprintf("/sys/class/net/%s", p->bridge);
    bool r = access(sys, F_OK) == 0;
    free(sys);
    return r;
}

static void delete_bridge(const node_plan *p)
{
    if (!bridge_present(p)) return;
    char *a[] = {"ip", "link", "del", p->bridge, NULL};
    char *o = NULL, *e = NULL;
    wih_err *err = NULL;
    char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    wih_run_capture(a, env, NULL, 10000, &o, &e, &err);
    wih_err_free(err);
    free(o);
    free(e);
}

static const char *sock_path(const cJSON *t)
{
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItem(t, "address"));
    if (!a) return NULL;
    return !strncmp(a, "unix://", 7) ? a + 7 : a;
}

wih_err *node_teardown(const node_plan *p, const cJSON *recs, FILE *progress)
{
    say(progress, "node %s: removing containers, mounts, network namespaces, cgroups, bridge", p->name);
    stop_tasks(p, recs, progress);
    int left = unmount_under(p->dir);
    for (const cJSON *t = recs->child; t; t = t->next) {
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(t, "netns"));
        if (ns && access(ns, F_OK) == 0) {
            umount2(ns, MNT_DETACH);
            if (unlink(ns) == 0) say(progress, "  removed network namespace %s", ns);
        }
        const char *cg = cJSON_GetStringValue(cJSON_GetObjectItem(t, "cgroup"));
        if (cg) remove_cgroup(cg);
        const char *s = sock_path(t);
        if (s && s[0] == '/') unlink(s);
    }
    remove_log_links(p);
    /* the shims' socket dir (containerd's fixed /run/containerd/s), if we
     * left it empty */
    if (rmdir("/run/containerd/s") == 0) rmdir("/run/containerd");
    delete_bridge(p);
    cJSON *lo = node_leftovers(p, recs);
    wih_err *err = NULL;
    if (cJSON_GetArraySize(lo) || left) {
        char *s = cJSON_PrintUnformatted(lo);
        err = wih_err_new(WIH_EXIT_INFRA, "node %s: could not remove: %s", p->name, s);
        free(s);
    }
    cJSON_Delete(lo);
    return err;
}

cJSON *node_leftovers(const node_plan *p, const cJSON *recs)
{
    cJSON *out = cJSON_CreateArray();
    for (const cJSON *t = recs ? recs->child : NULL; t; t = t->next) {
        pid_t shim = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "shim_pid"));
        pid_t init = (pid_t)cJSON_GetNumberValue(cJSON_GetObjectItem(t, "init_pid"));
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(t, "id"));
        if (shim > 0 && pid_running(shim) && pid_is_ours(shim, p->dir)) {
            char *s = wih_asprintf("process: shim %d of %s", (int)shim, id);
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
        pid_t pp = 0;
        if (init > 0 && shim > 0 && pid_running(init) && pid_state(init, &pp) && pp == shim) {
            char *s = wih_asprintf("process: container %d of %s", (int)init, id);
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
        const char *ns = cJSON_GetStringValue(cJSON_GetObjectItem(t, "netns"));
        if (ns && access(ns, F_OK) == 0) {
            char *s = wih_asprintf("netns: %s", ns);
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
        const char *cg = cJSON_GetStringValue(cJSON_GetObjectItem(t, "cgroup"));
        if (cg && cgroup_present(cg)) {
            char *s = wih_asprintf("cgroup: %s", cg);
            cJSON_AddItemToArray(out, cJSON_CreateString(s));
            free(s);
        }
    }
    cJSON *m = mounts_under(p->dir);
    for (cJSON *x = m->child; x; x = x->next) {
        char *s = wih_asprintf("mount: %s", x->valuestring);
        cJSON_AddItemToArray(out, cJSON_CreateString(s));
        free(s);
    }
    cJSON_Delete(m);
    if (bridge_present(p)) {
        char *s = wih_asprintf("bridge: %s", p->bridge);
        cJSON_AddItemToArray(out, cJSON_CreateString(s));
        free(s);
    }
    return out;
}
