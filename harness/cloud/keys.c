/* Persistence of a running cloud: the token-signing key (MinIO fetched the
 * JWKS once, at its start, so a restarted cloud must keep kid and modulus)
 * and the registry (providers and roles). Both 0600. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud_srv.h"

/* Loaded from path when it exists, else generated (and written 0600 when
 * path is given). The kid is derived from the public key: stable across restarts. */
int cl_load_or_make_key(cloud *c, const char *path, wih_err **err)
{
    wih_jwk_key *k = NULL;
    if (path && access(path, F_OK) == 0) {
        k = wih_jwk_load_pem(path, NULL, err);
    } else {
        k = wih_jwk_generate(2048, NULL, err);
        char *pem = k ? wih_jwk_private_pem(k) : NULL;
        if (k && path && (!pem || wih_write_file(path, pem, strlen(pem), 0600, err) != 0)) {
            wih_jwk_free(k);
            k = NULL;
        }
        if (pem) OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
    if (!k) return -1;
    cJSON *pub = wih_jwk_public(k);
    char *fp = wih_fingerprint(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pub, "n")));
    cJSON_Delete(pub);
    char *kid = wih_strdup(strchr(fp, ':') ? strchr(fp, ':') + 1 : fp);
    free(fp);
    wih_jwk_set_kid(k, kid);
    c->key = k;
    free(kid);
    return 0;
}

int cl_load_registry(cloud *c, const char *path, wih_err **err)
{
    c->registry_file = wih_strdup(path);
    if (access(path, F_OK) != 0) return 0;
    wih_err *e = NULL;
    char *txt = wih_read_file(path, 16 << 20, NULL, &e);
    cJSON *r = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "providers")) ||
        !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r, "roles"))) {
        cJSON_Delete(r);
        *err = e ? e : wih_err_new(WIH_EXIT_INPUT, "%s: not a mock cloud registry ({\"providers\",\"roles\"})", path);
        return -1;
    }
    cJSON_Delete(c->reg);
    c->reg = r;
    return 0;
}

/* Errors are logged: the in-memory state stays authoritative. */
void cl_save_registry_locked(cloud *c)
{
    if (!c->registry_file) return;
    char *s = cJSON_Print(c->reg);
    wih_err *e = NULL;
    if (wih_write_file(c->registry_file, s, strlen(s), 0600, &e) != 0) {
        wih_warn("saving the mock cloud registry: %s", wih_err_str(e));
        wih_err_free(e);
    }
    free(s);
}
