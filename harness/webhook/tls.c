/* A throwaway self-signed certificate for 127.0.0.1 (tests, benchmarks),
 * from the one certificate generator (cluster_pki_make). The private key only
 * ever lives in memory. */
#include <stdlib.h>

#include "webhook_int.h"
#include "wiharness/cluster.h"

int webhook_selfsigned(char **cert_pem, char **key_pem, wih_err **err)
{
    cluster_cert_req r = {.kind = CLUSTER_CERT_SELF_SERVER, .cn = "wiharness webhook 127.0.0.1", .org = "wiharness",
                          .san = "IP:127.0.0.1,DNS:localhost", .days = 2};
    wih_err *e = cluster_pki_make(&r, cert_pem, key_pem);
    if (!e) return 0;
    *err = wih_err_wrap(e, "generating a self-signed certificate");
    return -1;
}
