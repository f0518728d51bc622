/* A throwaway self-signed certificate for 127.0.0.1 (tests, benchmarks),
 * made with the OpenSSL 3 API. The private key only ever lives in memory. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"

static char *bio_str(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *s = wih_xmalloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    return s;
}

static int add_ext(X509 *x, int nid, const char *val)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, val);
    if (!e) return -1;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

int webhook_selfsigned(char **cert_pem, char **key_pem, wih_err **err)
{
    *cert_pem = *key_pem = NULL;
    EVP_PKEY *k = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    int rc = -1;
    unsigned char serial[16];
    if (!k || !x || !cb || !kb || RAND_bytes(serial, sizeof serial) != 1) goto out;
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(bn, NULL);
    X509_set_serialNumber(x, ai);
    ASN1_INTEGER_free(ai);
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -300);
    X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400L);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"wiharness", -1, -1, 0);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"wiharness webhook 127.0.0.1", -1, -1,
                               0);
    X509_set_issuer_name(x, nm);
    X509_set_pubkey(x, k);
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign") ||
        add_ext(x, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") ||
        add_ext(x, NID_subject_key_identifier, "hash"))
        goto out;
    if (!X509_sign(x, k, EVP_sha256())) goto out;
    if (!PEM_write_bio_X509(cb, x) || !PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL)) goto out;
    *cert_pem = bio_str(cb);
    *key_pem = bio_str(kb);
    rc = 0;
out:
    if (rc) *err = wih_err_new(WIH_EXIT_INFRA, "generating a self-signed certificate with OpenSSL failed");
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}
