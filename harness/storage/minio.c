/* The real MinIO on a loopback port, supervised by core's proc supervisor.
 *
 * Facts (domain/control-plane.md, checked against minio/minio): the OpenID
 * provider is configured with MINIO_IDENTITY_OPENID_CONFIG_URL / _CLIENT_ID /
 * _CLAIM_NAME (claim mode: the claim names a canned policy); extra CAs for
 * that HTTPS fetch come from <certs-dir>/CAs/; liveness is
 * GET /minio/health/live. */
#include "wiharness/storage.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wiharness/http.h"

struct minio {
    wih_proc *proc;
    int port, console_port;
    char *endpoint;
    char *root_user;
    char *root_password;
};

/* 1 ready: /minio/health/live answers 200 and /minio/health/ready too (the
 * object layer is up, so S3 calls won't get 503 "server not initialized"). */
static int health_ready(void *ctx, wih_err **err)
{
    (void)err;
    minio *m = ctx;
    static const char *const paths[] = {"/minio/health/live", "/minio/health/ready"};
    for (int i = 0; i < 2; i++) {
        char *url = wih_asprintf("%s%s", m->endpoint, paths[i]);
        wih_err *e = NULL;
        long st = wih_http_get_status(url, NULL, NULL, NULL, 2000, NULL, &e);
        wih_err_free(e); /* not yet: polled again until the deadline */
        free(url);
        if (st != 200) return 0;
    }
    return 1;
}

static void minio_free(minio *m)
{
    if (!m) return;
    free(m->endpoint);
    free(m->root_user);
    wih_free_secret(m->root_password);
    free(m);
}

static int copy_file(const char *from, const char *to, wih_err **err)
{
    size_t n;
    char *data = wih_read_file(from, 1 << 20, &n, err);
    if (!data) return -1;
    int r = wih_write_file(to, data, n, 0644, err);
    free(data);
    return r;
}

minio *minio_start(const minio_opts *o, wih_err **err)
{
    wih_err *e = NULL;
    if (!o || !o->data_dir) {
        *err = wih_err_new(WIH_EXIT_INPUT, "starting MinIO: no data directory given");
        return NULL;
    }
    if (o->openid_config_url && !o->openid_client_id) {
        *err = wih_err_new(WIH_EXIT_INPUT, "starting MinIO: an OpenID config URL needs a client id");
        return NULL;
    }
    char *bin = wih_tool_path(WIH_TOOL_MINIO, &e);
    if (!bin) {
        *err = wih_err_wrap(e, "starting MinIO");
        return NULL;
    }
    minio *m = wih_xcalloc(1, sizeof *m);
    char *certs = NULL, *cas = NULL, *logdir = NULL, *parent = NULL;
    char *argv[12] = {0};
    char *env[12] = {0};
    int ne = 0;

    m->root_user = o->root_user ? wih_strdup(o->root_user) : NULL;
    m->root_password = o->root_password ? wih_strdup(o->root_password) : NULL;
    if (!m->root_user) {
        char *h = wih_random_hex(8);
        m->root_user = wih_asprintf("wih-root-%s", h);
        free(h);
    }
    if (!m->root_password) m->root_password = wih_random_hex(20);
    if (strlen(m->root_user) < 3 || strlen(m->root_password) < 8) {
        e = wih_err_new(WIH_EXIT_INPUT, "MinIO root user needs >= 3 characters and password >= 8");
        goto fail;
    }

    parent = wih_path_join(o->data_dir, "..");
    certs = o->certs_dir ? wih_strdup(o->certs_dir) : wih_path_join(parent, "minio-certs");
    cas = wih_path_join(certs, "CAs");
    logdir = o->log_dir ? wih_strdup(o->log_dir) : wih_strdup(parent);
    if (wih_mkdir_p(o->data_dir, 0700) != 0 || wih_mkdir_p(cas, 0700) != 0) {
        e = wih_err_new(WIH_EXIT_INFRA, "creating MinIO directories under %s: %s", parent, strerror(errno));
        goto fail;
    }
    if (o->ca_file) {
        char *dst = wih_path_join(cas, "wiharness-ca.crt");
        int r = copy_file(o->ca_file, dst, &e);
        free(dst);
        if (r != 0) {
            e = wih_err_wrap(e, "installing the CA for MinIO");
            goto fail;
        }
    }
    if ((m->port = o->port) <= 0 && (m->port = wih_free_port(&e)) <= 0) goto fail;
    if ((m->console_port = wih_free_port(&e)) <= 0) goto fail;
    if (m->console_port == m->port && (m->console_port = wih_free_port(&e)) <= 0) goto fail;
    m->endpoint = wih_asprintf("http://127.0.0.1:%d", m->port);

    int na = 0;
    argv[na++] = bin;
    argv[na++] = "server";
    argv[na++] = "--quiet";
    argv[na++] = "--address";
    argv[na++] = wih_asprintf("127.0.0.1:%d", m->port);
    argv[na++] = "--console-address";
    argv[na++] = wih_asprintf("127.0.0.1:%d", m->console_port);
    argv[na++] = "--certs-dir";
    argv[na++] = certs;
    argv[na++] = (char *)o->data_dir;
    argv[na] = NULL;

    env[ne++] = wih_asprintf("MINIO_ROOT_USER=%s", m->root_user);
    env[ne++] = wih_asprintf("MINIO_ROOT_PASSWORD=%s", m->root_password);
    env[ne++] = wih_strdup("MINIO_BROWSER=off");
    env[ne++] = wih_strdup("MINIO_UPDATE=off");
    env[ne++] = wih_strdup("MINIO_CALLHOME_ENABLE=off");
    if (o->openid_config_url) {
        env[ne++] = wih_asprintf("MINIO_IDENTITY_OPENID_CONFIG_URL=%s", o->openid_config_url);
        env[ne++] = wih_asprintf("MINIO_IDENTITY_OPENID_CLIENT_ID=%s", o->openid_client_id);
        env[ne++] = wih_strdup("MINIO_IDENTITY_OPENID_CLAIM_NAME=policy");
    }
    env[ne] = NULL;

    char *fp = wih_fingerprint(m->root_password);
    wih_info("starting MinIO on %s (root user %s, password %s)", m->endpoint, m->root_user, fp);
    free(fp);
    wih_proc_opts po = {.name = "minio", .argv = argv, .env_add = env, .log_dir = logdir, .die_with_parent = !o->keep_running};
    m->proc = wih_proc_spawn(&po, &e);
    free(argv[4]);
    free(argv[6]);
    if (!m->proc) goto fail;
    e = wih_proc_wait_ready(m->proc, health_ready, m, o->timeout_ms > 0 ? o->timeout_ms : 60000);
    if (e) {
        wih_proc_free(m->proc);
        m->proc = NULL;
        goto fail;
    }
fail:
    for (int i = 0; i < ne; i++) wih_free_secret(env[i]);
    free(bin);
    free(certs);
    free(cas);
    free(logdir);
    free(parent);
    if (!e && m->proc) return m;
    *err = wih_err_wrap(e ? e : wih_err_new(WIH_EXIT_INFRA, "MinIO did not start"), "starting MinIO");
    minio_free(m);
    return NULL;
}

const char *minio_endpoint(const minio *m) { return m->endpoint; }
int minio_port(const minio *m) { return m->port; }
pid_t minio_pid(const minio *m) { return m->proc ? wih_proc_pid(m->proc) : 0; }
const char *minio_root_user(const minio *m) { return m->root_user; }
const char *minio_root_password(const minio *m) { return m->root_password; }
const char *minio_log_path(const minio *m) { return m->proc ? wih_proc_log_path(m->proc) : NULL; }

void minio_stop(minio *m)
{
    if (!m) return;
    if (m->proc) {
        wih_proc_stop(m->proc, 10000);
        wih_proc_free(m->proc);
    }
    minio_free(m);
}

void minio_detach(minio *m)
{
    if (!m) return;
    if (m->proc) {
        wih_proc_detach(m->proc);
        wih_proc_free(m->proc); /* detached: marked reaped, so not stopped */
    }
    m->proc = NULL;
    minio_free(m);
}
