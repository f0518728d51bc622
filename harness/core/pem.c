/* Is this PEM what it claims to be? Checked before a TLS library sees it, so a
 * garbage certificate or key is bad input naming the file and field (exit 2),
 * not a raw GnuTLS/curl error blaming the listener or the connection
 * (issue 13 finding 4). */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/core.h"

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static char *openssl_why(const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? wih_asprintf("%s (%s)", what, r) : wih_strdup(what);
}

char *wih_pem_problem(const char *pem, size_t len, wih_pem_kind kind)
{
    if (!pem || !len) return wih_strdup("is empty");
    ERR_clear_error();
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b) abort();
    char *why = NULL;
    if (kind == WIH_PEM_CERT) {
        X509 *x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
        if (!x)
            why = strstr(pem, "-----BEGIN CERTIFICATE-----")
                      ? openssl_why("holds a CERTIFICATE block that does not parse")
                      : wih_strdup("is not a PEM certificate (no -----BEGIN CERTIFICATE----- block)");
        X509_free(x);
    } else {
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
        if (!k)
            why = strstr(pem, "ENCRYPTED")      ? wih_strdup("is an encrypted private key (give it unencrypted)")
                  : strstr(pem, "PRIVATE KEY-----") ? openssl_why("holds a PRIVATE KEY block that does not parse")
                                                    : wih_strdup("is not a PEM private key (no -----BEGIN ... "
                                                                 "PRIVATE KEY----- block)");
        EVP_PKEY_free(k);
    }
    BIO_free(b);
    ERR_clear_error();
    return why;
}

wih_err *wih_pem_check_file(const char *path, wih_pem_kind kind, const char *what)
{
    wih_err *e = NULL;
    size_t len = 0;
    char *pem = wih_read_file(path, (size_t)4 << 20, &len, &e);
    if (!pem) return wih_err_wrap(e, "%s", what);
    char *why = wih_pem_problem(pem, len, kind);
    free(pem);
    if (!why) return NULL;
    e = wih_err_new(WIH_EXIT_INPUT, "%s %s: %s", what, path, why);
    free(why);
    return e;
}
