/* The harness PKI, generated with the OpenSSL 3 API (never the openssl CLI). */
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/cluster.h"

static wih_err *ossl_err(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown OpenSSL error";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return wih_err_new(WIH_EXIT_INFRA, "%s: %s", what, buf);
}

static EVP_PKEY *gen_ec(void)
{
    return EVP_EC_gen("P-256");
}

static EVP_PKEY *gen_rsa(unsigned bits)
{
    return EVP_RSA_gen(bits);
}

static wih_err *write_key(const char *dir, const char *name, EVP_PKEY *k)
{
    char *path = wih_path_join(dir, name);
    char *tmp = wih_asprintf("%s.tmp", path);
    wih_err *err = NULL;
    FILE *f = NULL;
    int fd = -1;
    unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        err = wih_err_new(WIH_EXIT_INFRA, "writing %s", path);
        if (fd >= 0) close(fd);
        goto out;
    }
    if (!PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) err = ossl_err(path);
    if (fclose(f) != 0 && !err) err = wih_err_new(WIH_EXIT_INFRA, "writing %s", path);
    if (!err && rename(tmp, path) != 0) err = wih_err_new(WIH_EXIT_INFRA, "renaming %s", tmp);
out:
    if (err) unlink(tmp);
    free(tmp);
    free(path);
    return err;
}

/* A public PEM file (a public key, or a certificate when c is set), mode 0644. */
static wih_err *write_public(const char *dir, const char *name, EVP_PKEY *k, X509 *c)
{
    char *path = wih_path_join(dir, name);
    FILE *f = fopen(path, "w");
    wih_err *err = NULL;
    if (!f)
        err = wih_err_new(WIH_EXIT_INFRA, "writing %s", path);
    else {
        if (!(c ? PEM_write_X509(f, c) : PEM_write_PUBKEY(f, k))) err = ossl_err(path);
        if (fclose(f) != 0 && !err) err = wih_err_new(WIH_EXIT_INFRA, "writing %s", path);
    }
    free(path);
    return err;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex) return false;
    int ok = X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
    return ok == 1;
}

/* Build and sign a certificate. issuer == NULL → self-signed CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
                       int kind /* 0 CA, 1 server, 2 client, 3 self-signed server */, const char *san, long days)
{
    X509 *c = X509_new();
    if (!c) return NULL;
    X509_set_version(c, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L);
    X509_set_pubkey(c, key);
    X509_NAME *n = X509_get_subject_name(c);
    if (org) X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : n);
    X509 *iss = issuer ? issuer : c;
    /* per kind: basic constraints, key usage, extended key usage */
    static const char *const ext[4][3] = {
        {"critical,CA:TRUE", "critical,keyCertSign,cRLSign,digitalSignature", NULL},
        {"critical,CA:FALSE", "critical,digitalSignature,keyEncipherment", "serverAuth"},
        {"critical,CA:FALSE", "critical,digitalSignature,keyEncipherment", "clientAuth"},
        /* a throwaway serving certificate that is its own CA (clients trust it directly) */
        {"critical,CA:TRUE", "critical,digitalSignature,keyEncipherment,keyCertSign", "serverAuth"},
    };
    bool ca = kind == 0 || kind == 3;
    bool ok = kind >= 0 && kind < 4 && add_ext(c, iss, NID_basic_constraints, ext[kind][0]) &&
              add_ext(c, iss, NID_key_usage, ext[kind][1]);
    if (ok && ext[kind][2]) ok = add_ext(c, iss, NID_ext_key_usage, ext[kind][2]);
    if (ok) ok = ca ? add_ext(c, iss, NID_subject_key_identifier, "hash")
                    : add_ext(c, iss, NID_authority_key_identifier, "keyid:always");
    if (ok && san && kind != 0) ok = add_ext(c, iss, NID_subject_alt_name, san);
    if (!ok || !X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static bool exists(const char *dir, const char *name)
{
    char *p = wih_path_join(dir, name);
    bool ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

static EVP_PKEY *key_of_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

static X509 *cert_of_pem(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return c;
}

static char *read_pem(const char *dir, const char *name)
{
    char *p = wih_path_join(dir, name);
    char *pem = wih_read_file(p, 1 << 20, NULL, NULL);
    free(p);
    return pem;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
    char *pem = read_pem(dir, name);
    EVP_PKEY *k = pem ? key_of_pem(pem) : NULL;
    wih_free_secret(pem);
    return k;
}

static X509 *read_cert(const char *dir, const char *name)
{
    char *pem = read_pem(dir, name);
    X509 *c = pem ? cert_of_pem(pem) : NULL;
    free(pem);
    return c;
}

wih_err *cluster_pki_issue(const char *dir, const char *name, const char *cn, const char *org, bool server,
                           const char *const *extra_dns)
{
    EVP_PKEY *cakey = read_key(dir, "ca.key");
    X509 *ca = read_cert(dir, "ca.crt");
    wih_err *err = NULL;
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    char *san = NULL;
    if (!cakey || !ca) {
        err = wih_err_new(WIH_EXIT_INFRA, "issuing %s: no CA in %s", name, dir);
        goto out;
    }
    k = gen_ec();
    if (!k) {
        err = ossl_err("generating a key");
        goto out;
    }
    if (server) {
        wih_buf b;
        wih_buf_init(&b, 8192);
        wih_buf_adds(&b, "IP:127.0.0.1,DNS:localhost");
        for (const char *const *d = extra_dns; d && *d; d++)
            wih_buf_addf(&b, strncmp(*d, "IP:", 3) ? ",DNS:%s" : ",%s", *d);
        san = wih_buf_take(&b);
    }
    c = make_cert(k, cn, org, ca, cakey, server ? 1 : 2, san, 3650);
    if (!c) {
        err = ossl_err("signing a certificate");
        goto out;
    }
    char *crt = wih_asprintf("%s.crt", name), *key = wih_asprintf("%s.key", name);
    err = write_key(dir, key, k);
    if (!err) err = write_public(dir, crt, NULL, c);
    free(crt);
    free(key);
out:
    free(san);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(k);
    X509_free(ca);
    X509_free(c);
    return err ? wih_err_wrap(err, "creating the %s certificate", name) : NULL;
}

wih_err *cluster_pki_create(const char *dir, bool force)
{
    if (wih_mkdir_p(dir, 0700) != 0) return wih_err_new(WIH_EXIT_INFRA, "creating %s", dir);
    wih_err *err = NULL;
    if (force || !exists(dir, "ca.crt") || !exists(dir, "ca.key")) {
        EVP_PKEY *k = gen_ec();
        X509 *c = k ? make_cert(k, "wiharness-ca", "wiharness", NULL, NULL, 0, NULL, 3650) : NULL;
        if (!c)
            err = ossl_err("creating the CA");
        else {
            err = write_key(dir, "ca.key", k);
            if (!err) err = write_public(dir, "ca.crt", NULL, c);
        }
        EVP_PKEY_free(k);
        X509_free(c);
        if (err) return err;
        force = true; /* a new CA invalidates every certificate */
    }
    if (force || !exists(dir, "apiserver.crt")) {
        static const char *const dns[] = {"kubernetes", "kubernetes.default", "kubernetes.default.svc", NULL};
        if ((err = cluster_pki_issue(dir, "apiserver", "kube-apiserver", NULL, true, dns))) return err;
    }
    if (force || !exists(dir, "admin.crt")) {
        if ((err = cluster_pki_issue(dir, "admin", "wiharness-admin", "system:masters", false, NULL))) return err;
    }
    if (force || !exists(dir, "sa.key")) {
        EVP_PKEY *k = gen_rsa(2048);
        if (!k) return ossl_err("generating the service-account key");
        err = write_key(dir, "sa.key", k);
        if (!err) err = write_public(dir, "sa.pub", k, NULL);
        EVP_PKEY_free(k);
        if (err) return err;
    }
    return NULL;
}

wih_err *cluster_kubeconfig_write(const char *path, const char *server, const char *ca, const char *crt,
                                  const char *key, const char *user)
{
    char *y = wih_asprintf("apiVersion: v1\n"
                           "kind: Config\n"
                           "clusters:\n"
                           "- name: wiharness-local\n"
                           "  cluster:\n"
                           "    server: %s\n"
                           "    certificate-authority: %s\n"
                           "users:\n"
                           "- name: \"%s\"\n"
                           "  user:\n"
                           "    client-certificate: %s\n"
                           "    client-key: %s\n"
                           "contexts:\n"
                           "- name: wiharness-local\n"
                           "  context:\n"
                           "    cluster: wiharness-local\n"
                           "    user: \"%s\"\n"
                           "current-context: wiharness-local\n",
                           server, ca, user, crt, key, user);
    wih_err *err = NULL;
    wih_write_file(path, y, strlen(y), 0600, &err);
    free(y);
    return err ? wih_err_wrap(err, "writing the kubeconfig %s", path) : NULL;
}

/* ------------------------------------------------------- in memory */
static char *pem_of(X509 *c, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) wih_oom(0);
    int ok = c ? PEM_write_bio_X509(b, c) : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    char *p = NULL;
    long n = ok ? BIO_get_mem_data(b, &p) : 0;
    char *s = ok ? wih_xstrndup(p, (size_t)n) : NULL;
    if (s && k) OPENSSL_cleanse(p, (size_t)n);
    BIO_free(b);
    return s;
}

wih_err *cluster_pki_make(const cluster_cert_req *r, char **cert_pem, char **key_pem)
{
    *cert_pem = *key_pem = NULL;
    X509 *ca = r->ca_cert_pem ? cert_of_pem(r->ca_cert_pem) : NULL;
    EVP_PKEY *cakey = r->ca_key_pem ? key_of_pem(r->ca_key_pem) : NULL;
    wih_err *err = NULL;
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    if (r->ca_cert_pem && (!ca || !cakey)) {
        err = ossl_err("reading the issuing CA");
        goto out;
    }
    if (!(k = gen_ec())) {
        err = ossl_err("generating a key");
        goto out;
    }
    c = make_cert(k, r->cn, r->org, ca, cakey, r->kind, r->san, r->days > 0 ? r->days : 3650);
    if (!c) {
        err = ossl_err("signing a certificate");
        goto out;
    }
    *cert_pem = pem_of(c, NULL);
    *key_pem = pem_of(NULL, k);
    if (!*cert_pem || !*key_pem) err = ossl_err("encoding PEM");
out:
    if (err) {
        free(*cert_pem);
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
    }
    X509_free(ca);
    X509_free(c);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(k);
    return err ? wih_err_wrap(err, "making the certificate for %s", r->cn) : NULL;
}
