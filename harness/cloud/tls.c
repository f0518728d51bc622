/* A throwaway CA and a 127.0.0.1/localhost serving certificate (OpenSSL 3
 * X509 API), for the mock cloud's HTTPS until the cluster's CA is wired in. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex) return false;
    bool ok = X509_add_ext(cert, ex, -1) == 1;
    X509_EXTENSION_free(ex);
    return ok;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
    X509 *x = X509_new();
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"wiharness", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : x;
    bool ok = add_ext(x, iss, NID_subject_key_identifier, "hash") &&
              add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (ca)
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE") &&
             add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    else
        ok = ok && add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE") &&
             add_ext(x, iss, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
             add_ext(x, iss, NID_ext_key_usage, "serverAuth") &&
             add_ext(x, iss, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    if (!ok || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key, wih_err **err)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (cert) PEM_write_bio_X509(b, cert);
    if (key) PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *path = wih_path_join(dir, file);
    int r = wih_write_file(path, p, (size_t)n, key ? 0600 : 0644, err);
    free(path);
    BIO_free(b);
    return r;
}

int cloud_tls_generate(const char *dir, wih_err **err)
{
    if (wih_mkdir_p(dir, 0700) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "creating %s", dir);
        return -1;
    }
    EVP_PKEY *cak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *srvk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    X509 *ca = cak ? make_cert(cak, "wiharness mock cloud CA", NULL, NULL, true) : NULL;
    X509 *srv = ca && srvk ? make_cert(srvk, "127.0.0.1", ca, cak, false) : NULL;
    int r = -1;
    if (!srv) {
        *err = wih_err_new(WIH_EXIT_INFRA, "generating the mock cloud's TLS certificates failed");
    } else if (write_pem(dir, "ca.crt", ca, NULL, err) == 0 && write_pem(dir, "server.crt", srv, NULL, err) == 0 &&
               write_pem(dir, "server.key", NULL, srvk, err) == 0) {
        r = 0;
    }
    X509_free(srv);
    X509_free(ca);
    EVP_PKEY_free(srvk);
    EVP_PKEY_free(cak);
    return r;
}
