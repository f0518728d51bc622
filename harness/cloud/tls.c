/* The mock cloud's HTTPS: a throwaway CA and a 127.0.0.1/localhost serving
 * certificate, from the one certificate generator (cluster_pki_make). */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"
#include "wiharness/cluster.h"

static int write_pem(const char *dir, const char *file, const char *pem, mode_t mode, wih_err **err)
{
    char *path = wih_path_join(dir, file);
    int r = wih_write_file(path, pem, strlen(pem), mode, err);
    free(path);
    return r;
}

int cloud_tls_generate(const char *dir, wih_err **err)
{
    if (wih_mkdir_p(dir, 0700) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "creating %s", dir);
        return -1;
    }
    char *ca = NULL, *cakey = NULL, *crt = NULL, *key = NULL;
    cluster_cert_req rca = {.kind = CLUSTER_CERT_CA, .cn = "wiharness mock cloud CA", .org = "wiharness", .days = 30};
    wih_err *e = cluster_pki_make(&rca, &ca, &cakey);
    if (!e) {
        cluster_cert_req rs = {.kind = CLUSTER_CERT_SERVER, .cn = "127.0.0.1", .org = "wiharness",
                               .san = "IP:127.0.0.1,DNS:localhost", .days = 30, .ca_cert_pem = ca,
                               .ca_key_pem = cakey};
        e = cluster_pki_make(&rs, &crt, &key);
    }
    int r = -1;
    if (e)
        *err = wih_err_wrap(e, "generating the mock cloud's TLS certificates");
    else if (write_pem(dir, "ca.crt", ca, 0644, err) == 0 && write_pem(dir, "server.crt", crt, 0644, err) == 0 &&
             write_pem(dir, "server.key", key, 0600, err) == 0)
        r = 0;
    free(ca);
    free(crt);
    wih_free_secret(cakey);
    wih_free_secret(key);
    return r;
}
