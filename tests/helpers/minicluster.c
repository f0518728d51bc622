/* See minicluster.h. */
#include "minicluster.h"

#include <stdlib.h>
#include <string.h>

static char *kubeconfig_text(const wih_minicluster *m)
{
    const char *d = m->dir;
    return wih_asprintf(
        "apiVersion: v1\nkind: Config\ncurrent-context: admin\n"
        "clusters:\n"
        "- name: mini\n  cluster:\n    server: %s\n    certificate-authority: %s/pki/ca.crt\n"
        "- name: mini-wrongca\n  cluster:\n    server: %s\n    certificate-authority: %s/otherpki/ca.crt\n"
        "- name: mini-dead\n  cluster:\n    server: https://127.0.0.1:%d\n    certificate-authority: %s/pki/ca.crt\n"
        "- name: mini-sni\n  cluster:\n    server: %s\n    certificate-authority: %s/pki/ca.crt\n"
        "    tls-server-name: localhost\n"
        "- name: mini-sni-bad\n  cluster:\n    server: %s\n    certificate-authority: %s/pki/ca.crt\n"
        "    tls-server-name: nothere.example\n"
        "users:\n"
        "- name: admin\n  user:\n    client-certificate: %s/pki/admin.crt\n    client-key: %s/pki/admin.key\n"
        "- name: nobody\n  user:\n    client-certificate: %s/pki/nobody.crt\n    client-key: %s/pki/nobody.key\n"
        "contexts:\n"
        "- name: admin\n  context: {cluster: mini, user: admin}\n"
        "- name: nobody\n  context: {cluster: mini, user: nobody}\n"
        "- name: wrongca\n  context: {cluster: mini-wrongca, user: admin}\n"
        "- name: unreachable\n  context: {cluster: mini-dead, user: admin}\n"
        "- name: sni\n  context: {cluster: mini-sni, user: admin}\n"
        "- name: sni-bad\n  context: {cluster: mini-sni-bad, user: admin}\n",
        m->server, d, m->server, d, m->dead_port, d, m->server, d, m->server, d, d, d, d, d);
}

wih_minicluster *wih_minicluster_start(wih_err **err)
{
    wih_minicluster *m = calloc(1, sizeof *m);
    if (!m) abort();
    char *pki = NULL, *other = NULL;
    m->dir = wih_tmpdir("wih-minicluster", false, err);
    if (!m->dir) goto fail;
    pki = wih_path_join(m->dir, "pki");
    other = wih_path_join(m->dir, "otherpki");
    if ((*err = cluster_pki_create(pki, false)) || (*err = cluster_pki_create(other, false)) ||
        (*err = cluster_pki_issue(pki, "nobody", "wih-nobody", NULL, false, NULL)))
        goto fail;
    if ((m->dead_port = wih_free_port(err)) < 0) goto fail;
    if ((*err = cluster_etcd_start(m->dir, &m->etcd, 30000, 0))) goto fail;
    m->etcd_pid = wih_proc_pid(m->etcd.proc);
    m->etcd_port = m->etcd.port;
    m->etcd_peer_port = m->etcd.port2;
    if ((*err = cluster_apiserver_start(m->dir, pki, &m->etcd, &m->api, 120000, 0))) goto fail;
    m->api_pid = wih_proc_pid(m->api.proc);
    m->api_port = m->api.port;
    m->server = wih_strdup(m->api.url);
    m->kubeconfig = wih_path_join(m->dir, "kubeconfig");
    char *kc = kubeconfig_text(m);
    int wrc = wih_write_file(m->kubeconfig, kc, strlen(kc), 0600, err);
    free(kc);
    if (wrc) goto fail;
    free(pki);
    free(other);
    return m;
fail:
    free(pki);
    free(other);
    wih_minicluster_stop(m);
    return NULL;
}

void wih_minicluster_stop(wih_minicluster *m)
{
    if (!m) return;
    cluster_svc_stop(&m->api);
    cluster_svc_stop(&m->etcd);
    if (m->dir) wih_rm_rf(m->dir);
    free(m->dir);
    free(m->kubeconfig);
    free(m->server);
    free(m);
}
