/* See minicluster.h. Flags follow domain/control-plane.md (the envtest set). */
#include "minicluster.h"

#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ex) return -1;
    int ok = X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *k, bool pub)
{
    BIO *b = BIO_new_file(path, "w");
    if (!b) return -1;
    int ok = x ? PEM_write_bio_X509(b, x)
               : (pub ? PEM_write_bio_PUBKEY(b, k) : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
    BIO_free(b);
    return ok ? 0 : -1;
}

int wih_mc_make_cert(const char *path, const char *cn, const char *org, const char *sans, bool is_ca, bool server,
                     const char *ca_path, wih_err **err)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new(), *ca = NULL;
    EVP_PKEY *ca_key = NULL;
    int rc = -1;
    char *crt = wih_asprintf("%s.crt", path), *kp = wih_asprintf("%s.key", path);
    if (!key || !x) goto out;
    if (ca_path) {
        char *cc = wih_asprintf("%s.crt", ca_path), *ck = wih_asprintf("%s.key", ca_path);
        BIO *b = BIO_new_file(cc, "r");
        if (b) ca = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        b = BIO_new_file(ck, "r");
        if (b) ca_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
        free(cc);
        free(ck);
        if (!ca || !ca_key) goto out;
    }
    X509_set_version(x, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 2);
    X509_NAME *n = X509_get_subject_name(x);
    if (org) X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)org, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : n);
    X509_set_pubkey(x, key);
    X509 *issuer = ca ? ca : x;
    if (add_ext(x, issuer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        add_ext(x, issuer, NID_key_usage,
                is_ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature,keyEncipherment") ||
        add_ext(x, issuer, NID_subject_key_identifier, "hash"))
        goto out;
    if (!is_ca && add_ext(x, issuer, NID_ext_key_usage, server ? "serverAuth" : "clientAuth")) goto out;
    if (ca && add_ext(x, issuer, NID_authority_key_identifier, "keyid:always")) goto out;
    if (sans && add_ext(x, issuer, NID_subject_alt_name, sans)) goto out;
    if (!X509_sign(x, ca_key ? ca_key : key, EVP_sha256())) goto out;
    if (write_pem(crt, x, NULL, false) || write_pem(kp, NULL, key, false)) goto out;
    rc = 0;
out:
    if (rc) *err = wih_err_new(WIH_EXIT_INFRA, "minicluster: making certificate %s failed", crt);
    free(crt);
    free(kp);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    return rc;
}

static int make_sa_key(const char *dir, wih_err **err)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    char *priv = wih_path_join(dir, "sa.key"), *pub = wih_path_join(dir, "sa.pub");
    int rc = (k && !write_pem(priv, NULL, k, false) && !write_pem(pub, NULL, k, true)) ? 0 : -1;
    if (rc) *err = wih_err_new(WIH_EXIT_INFRA, "minicluster: making the service-account key failed");
    EVP_PKEY_free(k);
    free(priv);
    free(pub);
    return rc;
}

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

typedef struct {
    const char *url, *ca;
} probe;

static int http_ok(void *ctx, wih_err **err)
{
    (void)err;
    probe *p = ctx;
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, p->url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (p->ca) curl_easy_setopt(h, CURLOPT_CAINFO, p->ca);
    long code = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    return rc == CURLE_OK && code == 200;
}

static char *kubeconfig_text(wih_minicluster *m)
{
    const char *d = m->dir;
    return wih_asprintf(
        "apiVersion: v1\nkind: Config\ncurrent-context: admin\n"
        "clusters:\n"
        "- name: mini\n  cluster:\n    server: %s\n    certificate-authority: %s/ca.crt\n"
        "- name: mini-wrongca\n  cluster:\n    server: %s\n    certificate-authority: %s/otherca.crt\n"
        "- name: mini-dead\n  cluster:\n    server: https://127.0.0.1:%d\n    certificate-authority: %s/ca.crt\n"
        "users:\n"
        "- name: admin\n  user:\n    client-certificate: %s/admin.crt\n    client-key: %s/admin.key\n"
        "- name: nobody\n  user:\n    client-certificate: %s/nobody.crt\n    client-key: %s/nobody.key\n"
        "contexts:\n"
        "- name: admin\n  context: {cluster: mini, user: admin}\n"
        "- name: nobody\n  context: {cluster: mini, user: nobody}\n"
        "- name: wrongca\n  context: {cluster: mini-wrongca, user: admin}\n"
        "- name: unreachable\n  context: {cluster: mini-dead, user: admin}\n",
        m->server, d, m->server, d, m->dead_port, d, d, d, d, d);
}

wih_minicluster *wih_minicluster_start(wih_err **err)
{
    char *etcd_bin = wih_tool_path(WIH_TOOL_ETCD, err);
    if (!etcd_bin) return NULL;
    char *api_bin = wih_tool_path(WIH_TOOL_KUBE_APISERVER, err);
    if (!api_bin) {
        free(etcd_bin);
        return NULL;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wih_minicluster *m = calloc(1, sizeof *m);
    m->dir = wih_tmpdir("wih-minicluster", false, err);
    if (!m->dir) goto fail;
    char *d = m->dir;
    char *ca = wih_path_join(d, "ca"), *oca = wih_path_join(d, "otherca"), *srv = wih_path_join(d, "serving");
    char *adm = wih_path_join(d, "admin"), *nob = wih_path_join(d, "nobody");
    int crc = wih_mc_make_cert(ca, "wih-mini-ca", NULL, NULL, true, false, NULL, err);
    if (!crc) crc = wih_mc_make_cert(oca, "wih-other-ca", NULL, NULL, true, false, NULL, err);
    if (!crc) crc = wih_mc_make_cert(srv, "kube-apiserver", NULL, "IP:127.0.0.1,DNS:localhost", false, true, ca, err);
    if (!crc) crc = wih_mc_make_cert(adm, "wih-admin", "system:masters", NULL, false, false, ca, err);
    if (!crc) crc = wih_mc_make_cert(nob, "wih-nobody", NULL, NULL, false, false, ca, err);
    free(ca);
    free(oca);
    free(srv);
    free(adm);
    free(nob);
    if (crc || make_sa_key(d, err)) goto fail;
    if ((m->etcd_port = wih_free_port(err)) < 0 || (m->etcd_peer_port = wih_free_port(err)) < 0 ||
        (m->api_port = wih_free_port(err)) < 0 || (m->dead_port = wih_free_port(err)) < 0)
        goto fail;
    m->server = wih_asprintf("https://127.0.0.1:%d", m->api_port);
    char *logs = wih_path_join(d, "logs");

    /* etcd */
    char *a_data = wih_asprintf("--data-dir=%s/etcd", d);
    char *a_lc = wih_asprintf("--listen-client-urls=http://127.0.0.1:%d", m->etcd_port);
    char *a_ac = wih_asprintf("--advertise-client-urls=http://127.0.0.1:%d", m->etcd_port);
    char *a_lp = wih_asprintf("--listen-peer-urls=http://127.0.0.1:%d", m->etcd_peer_port);
    char *a_ip = wih_asprintf("--initial-advertise-peer-urls=http://127.0.0.1:%d", m->etcd_peer_port);
    char *a_ic = wih_asprintf("--initial-cluster=default=http://127.0.0.1:%d", m->etcd_peer_port);
    char *etcd_argv[] = {etcd_bin, "--name=default", a_data, a_lc, a_ac, a_lp, a_ip, a_ic, "--unsafe-no-fsync", NULL};
    wih_proc_opts eo = {.name = "etcd", .argv = etcd_argv, .log_dir = logs, .die_with_parent = true};
    m->etcd = wih_proc_spawn(&eo, err);
    free(a_data);
    free(a_lc);
    free(a_ac);
    free(a_lp);
    free(a_ip);
    free(a_ic);
    if (!m->etcd) {
        free(logs);
        goto fail;
    }
    m->etcd_pid = wih_proc_pid(m->etcd);
    char *eurl = wih_asprintf("http://127.0.0.1:%d/health", m->etcd_port);
    probe ep = {eurl, NULL};
    *err = wih_proc_wait_ready(m->etcd, http_ok, &ep, 30000);
    free(eurl);
    if (*err) {
        free(logs);
        goto fail;
    }

    /* kube-apiserver */
    char *b_etcd = wih_asprintf("--etcd-servers=http://127.0.0.1:%d", m->etcd_port);
    char *b_port = wih_asprintf("--secure-port=%d", m->api_port);
    char *b_certdir = wih_asprintf("--cert-dir=%s/apiserver", d);
    char *b_tls = wih_asprintf("--tls-cert-file=%s/serving.crt", d);
    char *b_tlsk = wih_asprintf("--tls-private-key-file=%s/serving.key", d);
    char *b_cca = wih_asprintf("--client-ca-file=%s/ca.crt", d);
    char *b_iss = wih_asprintf("--service-account-issuer=https://127.0.0.1:%d", m->api_port);
    char *b_sak = wih_asprintf("--service-account-key-file=%s/sa.pub", d);
    char *b_sas = wih_asprintf("--service-account-signing-key-file=%s/sa.key", d);
    char *api_argv[] = {api_bin,
                        b_etcd,
                        b_port,
                        "--bind-address=127.0.0.1",
                        "--advertise-address=127.0.0.1",
                        b_certdir,
                        b_tls,
                        b_tlsk,
                        b_cca,
                        "--authorization-mode=RBAC",
                        "--service-cluster-ip-range=10.0.0.0/24",
                        b_iss,
                        b_sak,
                        b_sas,
                        "--disable-admission-plugins=ServiceAccount",
                        "--allow-privileged=true",
                        NULL};
    wih_proc_opts ao = {.name = "kube-apiserver", .argv = api_argv, .log_dir = logs, .die_with_parent = true};
    m->api = wih_proc_spawn(&ao, err);
    free(b_etcd);
    free(b_port);
    free(b_certdir);
    free(b_tls);
    free(b_tlsk);
    free(b_cca);
    free(b_iss);
    free(b_sak);
    free(b_sas);
    free(logs);
    if (!m->api) goto fail;
    m->api_pid = wih_proc_pid(m->api);
    char *rurl = wih_asprintf("%s/readyz", m->server);
    char *cap = wih_path_join(d, "ca.crt");
    probe ap = {rurl, cap};
    *err = wih_proc_wait_ready(m->api, http_ok, &ap, 120000);
    free(rurl);
    free(cap);
    if (*err) goto fail;

    m->kubeconfig = wih_path_join(d, "kubeconfig");
    char *kc = kubeconfig_text(m);
    int wrc = wih_write_file(m->kubeconfig, kc, strlen(kc), 0600, err);
    free(kc);
    if (wrc) goto fail;
    free(etcd_bin);
    free(api_bin);
    return m;
fail:
    free(etcd_bin);
    free(api_bin);
    wih_minicluster_stop(m);
    return NULL;
}

void wih_minicluster_stop(wih_minicluster *m)
{
    if (!m) return;
    if (m->api) {
        wih_proc_stop(m->api, 10000);
        wih_proc_free(m->api);
    }
    if (m->etcd) {
        wih_proc_stop(m->etcd, 10000);
        wih_proc_free(m->etcd);
    }
    if (m->dir) wih_rm_rf(m->dir);
    free(m->dir);
    free(m->kubeconfig);
    free(m->server);
    free(m);
}
