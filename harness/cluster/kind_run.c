/* `run --backend kind`: the kind cluster (created, or reused when one of that
 * name exists), a services-only local chain (webhook, mock cloud, MinIO)
 * serving it on the host's address on the kind network, and the probe image
 * loaded into its nodes (docs/backends.md). Taken down in reverse: the
 * services always, the cluster only when this run created it. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/backends.h"
#include "wiharness/cluster.h"
#include "wiharness/node.h"

static void progress(FILE *f, const char *fmt, const char *a, const char *b)
{
    if (!f) return;
    fprintf(f, fmt, a, b ? b : "");
    fputc('\n', f);
    fflush(f);
}

static wih_err *run_dir(const kind_run_opts *o, const char *name, kind_run *r)
{
    if (o->dir) {
        r->dir = wih_strdup(o->dir);
    } else {
        char *sub = wih_asprintf("kind-%s", name);
        r->dir = wih_state_dir_default(sub);
        free(sub);
    }
    r->made_dir = access(r->dir, F_OK) != 0;
    if (wih_mkdir_p(r->dir, 0700) != 0)
        return wih_err_new(WIH_EXIT_INFRA, "creating %s: %s", r->dir, strerror(errno));
    r->services = wih_path_join(r->dir, "services");
    r->kubeconfig = wih_path_join(r->dir, "kubeconfig");
    r->context = wih_asprintf("kind-%s", name);
    return NULL;
}

/* The probe image with the services' CA (pods trust the mock cloud and
 * MinIO through it), written as an archive and loaded into the nodes. */
static wih_err *load_probe(const kind_run_opts *o, kind_run *r)
{
    char self[4096];
    const char *bin = o->wiharness_bin;
    if (!bin) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) return wih_err_new(WIH_EXIT_INFRA, "cannot find the wiharness binary (/proc/self/exe)");
        self[n] = 0;
        bin = self;
    }
    char *ca = wih_path_join(r->services, "pki/ca.crt"), *tar = wih_path_join(r->dir, "probe.tar");
    wih_err *e = node_image_probe(bin, ca, tar, &r->probe_image);
    if (!e) {
        progress(o->progress, "kind: loading the probe image %s into %s", r->probe_image, r->cluster.name);
        e = kind_load(&r->cluster, tar);
    }
    unlink(tar);
    free(ca);
    free(tar);
    return e ? wih_err_wrap(e, "the probe image") : NULL;
}

wih_err *kind_run_up(const kind_run_opts *o, kind_run *r)
{
    memset(r, 0, sizeof *r);
    const char *name = o->name ? o->name : "wiharness";
    if (!kind_name_ok(name))
        return wih_err_new(WIH_EXIT_INPUT, "--name %s: a kind cluster name is [a-z0-9.-], at most 50 characters", name);
    wih_err *e = run_dir(o, name, r);
    if (e) return e;
    kind_cfg kc = {.name = name, .node_image = o->node_image};
    progress(o->progress, "kind: cluster %s (created unless one of that name exists)%s", name, "");
    if ((e = kind_up(&kc, r->kubeconfig, NULL, &r->cluster))) return e;
    progress(o->progress, "kind: %s cluster %s", r->cluster.created ? "created" : "reusing", name);
    progress(o->progress, "kind: serving the webhook, mock cloud and MinIO on %s (the kind network's gateway)%s",
             r->cluster.host_address, "");
    cluster_local_opts lo = {.state_dir = r->services, .progress = o->progress, .wiharness_bin = o->wiharness_bin,
                             .external_kubeconfig = r->kubeconfig, .serve_address = r->cluster.host_address};
    bool reused = false;
    if ((e = cluster_local_up(&lo, &reused))) return wih_err_wrap(e, "--backend kind: the services");
    return load_probe(o, r);
}

/* Everything of the stopped services but their PKI: the CA stays, so the
 * next run's probe image is the same image (its bundle holds the CA) and a
 * reused cluster does not collect one more ~60 MB image per run. */
static void services_clear(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "pki")) continue;
        char *p = wih_path_join(dir, de->d_name);
        wih_rm_rf(p);
        free(p);
    }
    if (d) closedir(d);
}

wih_err *kind_run_down(kind_run *r, FILE *prog)
{
    wih_err *e = NULL;
    if (r->services && access(r->services, F_OK) == 0) {
        cluster_local_opts lo = {.state_dir = r->services, .progress = prog};
        if (!(e = cluster_local_down(&lo, true))) services_clear(r->services);
    }
    if (r->cluster.created) progress(prog, "kind: deleting cluster %s (this run created it)", r->cluster.name, NULL);
    else if (r->cluster.name) progress(prog, "kind: leaving cluster %s (it was there before)", r->cluster.name, NULL);
    wih_err *ke = r->cluster.name ? kind_down(&r->cluster) : NULL;
    if (ke && !e) e = ke;
    else wih_err_free(ke);
    if (r->kubeconfig) {
        unlink(r->kubeconfig);
        char *cfg = wih_asprintf("%s.kind.yaml", r->kubeconfig);
        unlink(cfg);
        free(cfg);
    }
    if (r->dir && r->made_dir && !e) rmdir(r->dir);
    kind_state_clear(&r->cluster);
    free(r->dir);
    free(r->services);
    free(r->kubeconfig);
    free(r->context);
    free(r->probe_image);
    memset(r, 0, sizeof *r);
    return e;
}
