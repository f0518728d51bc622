/* Finding kube-apiserver, etcd, MinIO, kubectl and the node's programs
 * (kube-controller-manager, kube-scheduler, kubelet, containerd, runc), and
 * reading their versions. */
#include "wiharness/core.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WIH_PIN_KUBE
#define WIH_PIN_KUBE NULL
#endif
#ifndef WIH_PIN_ETCD
#define WIH_PIN_ETCD NULL
#endif
#ifndef WIH_PIN_MINIO
#define WIH_PIN_MINIO NULL
#endif

static const struct {
    const char *name, *env;
    bool kubebuilder;
    const char *pinned;
} k_tools[WIH_TOOL_COUNT] = {
    {"kube-apiserver", "WIH_KUBE_APISERVER", true, WIH_PIN_KUBE},
    {"etcd", "WIH_ETCD", true, WIH_PIN_ETCD},
    {"minio", "WIH_MINIO", false, WIH_PIN_MINIO},
    {"kubectl", "WIH_KUBECTL", false, NULL},
    {"kube-controller-manager", "WIH_KUBE_CONTROLLER_MANAGER", false, WIH_PIN_KUBE},
    {"kube-scheduler", "WIH_KUBE_SCHEDULER", false, WIH_PIN_KUBE},
    {"kubelet", "WIH_KUBELET", false, WIH_PIN_KUBE},
    {"containerd", "WIH_CONTAINERD", false, NULL},
    {"runc", "WIH_RUNC", false, NULL},
};

/* Debian's containerd and runc are in the cache only if someone put them there. */
static bool from_cache(wih_tool t)
{
    return t != WIH_TOOL_KUBECTL && t != WIH_TOOL_CONTAINERD && t != WIH_TOOL_RUNC;
}

static bool executable(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static char *find_in_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path) return NULL;
    char *copy = wih_strdup(path), *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        char *c = wih_path_join(*dir ? dir : ".", name);
        if (executable(c))
            found = c;
        else
            free(c);
    }
    free(copy);
    return found;
}

static char *find_in_cache(const char *name, const char *pinned)
{
    char *bin = wih_cache_dir_default("bin");
    char *r = NULL;
    if (pinned) {
        char *base = wih_asprintf("%s-%s", name, pinned);
        r = wih_path_join(bin, base);
        free(base);
        if (!executable(r)) {
            free(r);
            r = NULL;
        }
    }
    if (!r) {
        DIR *d = opendir(bin);
        if (d) {
            struct dirent *de;
            char *best = NULL;
            size_t nl = strlen(name);
            while ((de = readdir(d))) {
                if (strncmp(de->d_name, name, nl) || de->d_name[nl] != '-') continue;
                if (strstr(de->d_name, ".tmp")) continue;
                if (!best || strcmp(de->d_name, best) > 0) {
                    free(best);
                    best = wih_strdup(de->d_name);
                }
            }
            closedir(d);
            if (best) {
                r = wih_path_join(bin, best);
                free(best);
                if (!executable(r)) {
                    free(r);
                    r = NULL;
                }
            }
        }
    }
    free(bin);
    return r;
}

static char *first_line_after(const char *out, const char *marker)
{
    const char *p = marker ? strstr(out, marker) : out;
    if (!p) return NULL;
    if (marker) p += strlen(marker);
    while (*p == ' ' || *p == ':') p++;
    size_t n = strcspn(p, "\r\n");
    while (n && p[n - 1] == ' ') n--;
    char *r = wih_xmalloc(n + 1);
    memcpy(r, p, n);
    r[n] = '\0';
    return r;
}

static char *read_version(wih_tool t, const char *path)
{
    char *argv_v[] = {(char *)path, "--version", NULL};
    char *argv_k[] = {(char *)path, "version", "--client", NULL};
    char *out = NULL, *errout = NULL;
    wih_err *e = NULL;
    int rc = wih_run_capture(t == WIH_TOOL_KUBECTL ? argv_k : argv_v, NULL, NULL, 10000, &out, &errout, &e);
    char *v = NULL;
    if (rc == 0 && out) {
        switch (t) {
        case WIH_TOOL_KUBE_CONTROLLER_MANAGER:
        case WIH_TOOL_KUBE_SCHEDULER:
        case WIH_TOOL_KUBELET:
        case WIH_TOOL_KUBE_APISERVER:
            v = first_line_after(out, "Kubernetes");
            break;
        case WIH_TOOL_ETCD:
            v = first_line_after(out, "etcd Version");
            break;
        case WIH_TOOL_MINIO:
            v = first_line_after(out, " version "); /* "<argv0> version RELEASE… (commit-id=…)" */
            break;
        case WIH_TOOL_KUBECTL:
            v = first_line_after(out, "Client Version");
            break;
        case WIH_TOOL_CONTAINERD: {
            /* "containerd github.com/containerd/containerd 1.6.20~ds1 <build>" */
            char *l = first_line_after(out, NULL), *save = NULL;
            strtok_r(l, " ", &save);
            strtok_r(NULL, " ", &save);
            char *ver = strtok_r(NULL, " ", &save);
            v = ver ? wih_strdup(ver) : NULL;
            free(l);
            break;
        }
        case WIH_TOOL_RUNC:
            v = first_line_after(out, "runc version");
            break;
        default:
            break;
        }
    }
    wih_err_free(e);
    free(out);
    free(errout);
    return v;
}

void wih_tool_find(wih_tool t, bool with_version, wih_tool_info *ti)
{
    memset(ti, 0, sizeof *ti);
    ti->name = k_tools[t].name;
    ti->env = k_tools[t].env;
    ti->pinned = k_tools[t].pinned;
    const char *ev = getenv(ti->env);
    if (ev && *ev) {
        ti->source = ti->env;
        ti->path = wih_strdup(ev); /* reported as given, even if it is wrong */
    }
    const char *kb = getenv("KUBEBUILDER_ASSETS");
    if (!ti->path && k_tools[t].kubebuilder && kb && *kb) {
        char *c = wih_path_join(kb, ti->name);
        if (executable(c)) {
            ti->path = c;
            ti->source = "KUBEBUILDER_ASSETS";
        } else
            free(c);
    }
    if (!ti->path && from_cache(t) && (ti->path = find_in_cache(ti->name, ti->pinned))) ti->source = "cache";
    if (!ti->path && (ti->path = find_in_path(ti->name))) ti->source = "PATH";
    if (!ti->path && !from_cache(t) && t != WIH_TOOL_KUBECTL) {
        /* Debian puts runc in /usr/sbin, which a user's PATH may lack */
        static const char *const sys[] = {"/usr/sbin", "/usr/bin", "/sbin", NULL};
        for (const char *const *d = sys; *d && !ti->path; d++) {
            char *c = wih_path_join(*d, ti->name);
            if (executable(c)) {
                ti->path = c;
                ti->source = "system";
            } else
                free(c);
        }
    }
    if (ti->path && with_version && executable(ti->path)) ti->version = read_version(t, ti->path);
}

void wih_tool_info_free(wih_tool_info *ti)
{
    free(ti->path);
    free(ti->version);
    memset(ti, 0, sizeof *ti);
}

char *wih_tool_path(wih_tool t, wih_err **err)
{
    wih_tool_info ti;
    wih_tool_find(t, false, &ti);
    if (ti.path && executable(ti.path)) {
        char *p = ti.path;
        ti.path = NULL;
        wih_tool_info_free(&ti);
        return p;
    }
    if (ti.path)
        *err = wih_err_new(WIH_EXIT_INFRA, "%s: %s=%s is not an executable file", ti.name, ti.source, ti.path);
    else
        *err = wih_err_new(WIH_EXIT_INFRA,
                           "%s not found (looked at $%s%s, the cache, PATH); run ./ci/setup to build it, or set %s",
                           ti.name, ti.env, k_tools[t].kubebuilder ? ", $KUBEBUILDER_ASSETS" : "", ti.env);
    wih_tool_info_free(&ti);
    return NULL;
}
