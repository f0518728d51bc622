/* Internal to harness/cloud: the running cloud (server.c, admin.c, keys.c,
 * mint.c). The pure handlers never see this struct, only a cloud_env. */
#ifndef WIH_CLOUD_SRV_H
#define WIH_CLOUD_SRV_H

#include <pthread.h>
#include <stdio.h>

#include "cloud_int.h"

struct cloud {
    struct MHD_Daemon *d;
    int port;
    char *url;
    pthread_mutex_t mu; /* guards reg, sessions, minio_* and the decision log */
    cJSON *reg;
    cJSON *sessions; /* AWS sessions issued (secrets: never logged) */
    wih_jwk_key *key;
    cJSON *jwks;
    char *minio_endpoint, *minio_user, *minio_pass;
    char *minio_client_id;
    char *admin_token;
    FILE *dlog;
    char *cert_pem, *key_pem;
    char *registry_file;
};

/* The environment of a pure handler (borrowing c's state: hold c->mu). */
cloud_env cl_env_locked(cloud *c, int64_t now);
void cl_log_decision(cloud *c, cJSON *line /* consumed */);

/* keys.c: the signing key (loaded, or generated and written 0600) and the
 * registry file. */
int cl_load_or_make_key(cloud *c, const char *path, wih_err **err);
int cl_load_registry(cloud *c, const char *path, wih_err **err);
void cl_save_registry_locked(cloud *c);

/* mint.c: a role session → MinIO credentials through MinIO's own STS. */
int cl_minio_session(cloud *c, const cloud_result *r, s3_creds *out, wih_err **err);

/* admin.c: /admin/v1/… (Bearer = the admin token). */
void cl_admin(cloud *c, const cloud_request *rq, cloud_result *out);

#endif
