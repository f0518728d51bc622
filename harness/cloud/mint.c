/* A role session becomes MinIO credentials: the cloud mints its own JWT for
 * MinIO (iss = the cloud, policy = the role's) and calls MinIO's STS
 * AssumeRoleWithWebIdentity with it. MinIO decides what they may touch. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "cloud_srv.h"

int cl_minio_session(cloud *c, const cloud_result *r, s3_creds *out, wih_err **err)
{
    pthread_mutex_lock(&c->mu);
    char *ep = wih_strdup(c->minio_endpoint);
    cloud_env e = cl_env_locked(c, wih_wall_ms() / 1000);
    char *jwt = ep ? cl_mint_for_minio(&e, r->role, r->sub, "aws", r->duration + 300, NULL, NULL, err) : NULL;
    pthread_mutex_unlock(&c->mu);
    if (!ep) {
        *err = wih_err_new(WIH_EXIT_INFRA, "the mock cloud has no MinIO behind it");
        return -1;
    }
    int rc = -1;
    if (jwt) {
        rc = s3_sts_web_identity(ep, NULL, jwt, r->duration, out, err);
        OPENSSL_cleanse(jwt, strlen(jwt));
        free(jwt);
    }
    free(ep);
    return rc;
}
