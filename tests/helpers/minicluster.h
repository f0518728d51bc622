/* A throwaway control plane for the kube client's integration test: the
 * PKI, etcd and kube-apiserver of harness/cluster (cluster_pki_*,
 * cluster_etcd_start, cluster_apiserver_start) in a temp dir, plus what the
 * error-path tests need: a client certificate in no group ("nobody"), a
 * second unrelated CA ("wrongca") and a free port with nothing on it
 * ("unreachable"), tls-server-name localhost ("sni") and a name the serving
 * certificate lacks ("sni-bad"), all as contexts of one kubeconfig. */
#ifndef WIH_MINICLUSTER_H
#define WIH_MINICLUSTER_H

#include "wiharness/cluster.h"
#include "wiharness/core.h"

typedef struct wih_minicluster {
    char *dir;        /* temp dir holding pki/, etcd data, logs */
    char *kubeconfig; /* contexts: admin (current), nobody, wrongca, unreachable, sni, sni-bad */
    char *server;     /* https://127.0.0.1:<api_port> */
    int etcd_port, etcd_peer_port, api_port, dead_port;
    pid_t etcd_pid, api_pid;
    cluster_svc etcd, api;
} wih_minicluster;

/* Start etcd + kube-apiserver; NULL + err when a binary is missing or a
 * process does not become ready (the error quotes the log tail). */
wih_minicluster *wih_minicluster_start(wih_err **err);
/* Stop both processes (apiserver first) and remove the directory. */
void wih_minicluster_stop(wih_minicluster *m);

#endif
