/* A throwaway control plane for integration tests: certificates made with
 * the OpenSSL 3 C API at test time, etcd and kube-apiserver started with the
 * core supervisor on free loopback ports, a kubeconfig written, everything
 * stopped and removed at the end. (The product's own backend is
 * harness/cluster/local; this fixture lets the kube client be tested on its
 * own.) */
#ifndef WIH_MINICLUSTER_H
#define WIH_MINICLUSTER_H

#include "wiharness/core.h"

typedef struct wih_minicluster {
    char *dir;        /* temp dir holding certs, data, logs */
    char *kubeconfig; /* contexts: admin (current), nobody, wrongca, unreachable */
    char *server;     /* https://127.0.0.1:<api_port> */
    int etcd_port, etcd_peer_port, api_port, dead_port;
    pid_t etcd_pid, api_pid;
    wih_proc *etcd, *api;
} wih_minicluster;

/* Start etcd + kube-apiserver; NULL + err when a binary is missing or a
 * process does not become ready (the error quotes the log tail). */
wih_minicluster *wih_minicluster_start(wih_err **err);
/* Stop both processes (apiserver first) and remove the directory. */
void wih_minicluster_stop(wih_minicluster *m);

/* Make a key + certificate. ca_cert/ca_key NULL = self-signed CA. sans like
 * "IP:127.0.0.1,DNS:localhost" (or NULL); org may be NULL; client/server set
 * extendedKeyUsage. Writes <path>.crt and <path>.key. */
int wih_mc_make_cert(const char *path, const char *cn, const char *org, const char *sans, bool is_ca,
                     bool server, const char *ca_path, wih_err **err);

#endif
