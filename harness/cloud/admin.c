/* The admin API (/admin/v1/…, Bearer = the per-run admin token) and the
 * registry operations behind it: providers, roles (each with its MinIO
 * policy; set and deleted), buckets. Not pure: roles and buckets are made in MinIO. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cloud_srv.h"

static void admin_error(cloud_result *out, int status, const char *msg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    cl_json_reply(out, status, j);
}

static bool admin_authorized(const cloud *c, const cloud_request *rq)
{
    const char *authz = wih_json_member_str(rq->headers, "authorization");
    const char *tok = authz && !strncasecmp(authz, "Bearer ", 7) ? authz + 7 : NULL;
    if (!tok || !c->admin_token || strlen(c->admin_token) < CLOUD_ADMIN_TOKEN_MIN) return false;
    /* constant time, length included: compare the digests */
    char *a = cloud_sha256_hex(tok, strlen(tok)), *b = cloud_sha256_hex(c->admin_token, strlen(c->admin_token));
    bool ok = CRYPTO_memcmp(a, b, 64) == 0;
    free(a);
    free(b);
    return ok;
}

static void put_role(cloud *c, const char *name, const cloud_request *rq, cloud_result *out)
{
    wih_err *e = NULL;
    cJSON *role = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    int rc = role ? cloud_role_set(c, name, role, &e) : -1;
    cJSON_Delete(role);
    if (rc == 0) return cl_json_reply(out, 200, cloud_role_list(c));
    admin_error(out, e && wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : e ? 502 : 400,
                e ? wih_err_str(e) : "the body is not JSON");
    wih_err_free(e);
}

static void delete_role(cloud *c, const char *name, cloud_result *out)
{
    wih_err *e = NULL;
    if (cloud_role_delete(c, name, &e) != 0) {
        admin_error(out, e->http_status == 404 ? 404 : 502, wih_err_str(e));
        wih_err_free(e);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "deleted", name);
    cl_json_reply(out, 200, j);
}

static void put_bucket(cloud *c, const char *bucket, cloud_result *out)
{
    wih_err *e = NULL;
    if (cloud_bucket_create(c, bucket, &e) != 0) {
        admin_error(out, wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : e->http_status == 409 ? 409 : 502, wih_err_str(e));
        wih_err_free(e);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "bucket", bucket);
    cl_json_reply(out, 200, j);
}

static void put_provider(cloud *c, const cloud_request *rq, cloud_result *out)
{
    wih_err *e = NULL;
    cJSON *j = cJSON_ParseWithLength(rq->body ? rq->body : "", rq->len);
    const char *iss = wih_json_member_str(j, "issuer");
    const cJSON *jwks = cJSON_GetObjectItemCaseSensitive(j, "jwks");
    const char *ca = wih_json_member_str(j, "ca_file");
    int rc = !iss ? -1 : jwks ? cloud_provider_add(c, iss, jwks, &e) : cloud_provider_discover(c, iss, ca, &e);
    cJSON_Delete(j);
    if (rc != 0) {
        admin_error(out, e ? (wih_err_exit(e) == WIH_EXIT_INPUT ? 400 : 502) : 400,
                    e ? wih_err_str(e) : "body must be {\"issuer\", \"jwks\" | \"ca_file\"}");
        wih_err_free(e);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "issuer", "registered");
    cl_json_reply(out, 200, o);
}

void cl_admin(cloud *c, const cloud_request *rq, cloud_result *out)
{
    out->provider = "admin";
    if (!admin_authorized(c, rq)) return admin_error(out, 401, "admin token required");
    const char *m = rq->method, *rest = rq->path + strlen("/admin/v1/");
    bool put = !strcmp(m, "PUT");
    if (!strcmp(m, "GET") && !strcmp(rest, "roles")) return cl_json_reply(out, 200, cloud_role_list(c));
    if (put && !strncmp(rest, "roles/", 6)) return put_role(c, rest + 6, rq, out);
    if (!strcmp(m, "DELETE") && !strncmp(rest, "roles/", 6)) return delete_role(c, rest + 6, out);
    if ((put || !strcmp(m, "POST")) && !strncmp(rest, "buckets/", 8)) return put_bucket(c, rest + 8, out);
    if (put && !strcmp(rest, "providers")) return put_provider(c, rq, out);
    admin_error(out, 404, "no such admin endpoint");
}

/* ------------------------------------------------------------ registry */
static s3_client *root_client(cloud *c, wih_err **err)
{
    pthread_mutex_lock(&c->mu);
    s3_client *s = NULL;
    if (c->minio_endpoint) {
        s3_creds cr = {.access_key = c->minio_user, .secret_key = c->minio_pass};
        s = s3_client_new(c->minio_endpoint, &cr, NULL);
    }
    pthread_mutex_unlock(&c->mu);
    if (!s) *err = wih_err_new(WIH_EXIT_INFRA, "the mock cloud has no MinIO behind it");
    return s;
}

int cloud_provider_add(cloud *c, const char *issuer, const cJSON *jwks, wih_err **err)
{
    if (!issuer || strncmp(issuer, "https://", 8)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "an OIDC provider's issuer must be an https:// URL");
        return -1;
    }
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(jwks, "keys"))) {
        *err = wih_err_new(WIH_EXIT_INPUT, "provider %s: the JWKS has no \"keys\" list", issuer);
        return -1;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "jwks", cJSON_Duplicate(jwks, true));
    pthread_mutex_lock(&c->mu);
    cJSON *provs = cJSON_GetObjectItemCaseSensitive(c->reg, "providers");
    cJSON_DeleteItemFromObjectCaseSensitive(provs, issuer);
    cJSON_AddItemToObject(provs, issuer, p);
    cl_save_registry_locked(c);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void log_role_action(cloud *c, const char *action, const char *name)
{
    cJSON *line = cJSON_CreateObject();
    cJSON_AddStringToObject(line, "provider", "admin");
    cJSON_AddStringToObject(line, "action", action);
    cJSON_AddStringToObject(line, "role", name);
    cl_log_decision(c, line);
}

int cloud_role_set(cloud *c, const char *name, const cJSON *role, wih_err **err)
{
    if (!cloud_role_valid(name, role, err)) return -1;
    cJSON *pol = s3_policy_for_grants(cJSON_GetObjectItemCaseSensitive(role, "grants"), err);
    if (!pol) return -1;
    s3_client *root = root_client(c, err);
    if (!root) {
        cJSON_Delete(pol);
        return -1;
    }
    char *pname = cloud_minio_policy_name(name);
    int rc = s3_admin_add_policy(root, pname, pol, err);
    free(pname);
    s3_client_free(root);
    cJSON_Delete(pol);
    if (rc != 0) return -1;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "trust", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(role, "trust"), true));
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(role, "grants");
    cJSON_AddItemToObject(r, "grants", g ? cJSON_Duplicate(g, true) : cJSON_CreateObject());
    pthread_mutex_lock(&c->mu);
    cJSON *roles = cJSON_GetObjectItemCaseSensitive(c->reg, "roles");
    cJSON_DeleteItemFromObjectCaseSensitive(roles, name);
    cJSON_AddItemToObject(roles, name, r);
    cl_save_registry_locked(c);
    pthread_mutex_unlock(&c->mu);
    log_role_action(c, "role-set", name);
    return 0;
}

/* The role out of the registry and its MinIO policy out of MinIO (a policy
 * MinIO no longer has is not an error: the role is what is asked about).
 * Sessions already minted keep their MinIO credentials, which from now on
 * match no policy, so MinIO refuses what they ask. */
int cloud_role_delete(cloud *c, const char *name, wih_err **err)
{
    pthread_mutex_lock(&c->mu);
    bool known = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->reg, "roles"), name) != NULL;
    pthread_mutex_unlock(&c->mu);
    if (!known) {
        *err = wih_err_http(404, NULL, "no role %s", name);
        (*err)->kind = WIH_EXIT_INPUT;
        return -1;
    }
    s3_client *root = root_client(c, err);
    if (!root) return -1;
    char *pname = cloud_minio_policy_name(name);
    wih_err *e = NULL;
    int rc = s3_admin_remove_policy(root, pname, &e);
    free(pname);
    s3_client_free(root);
    if (rc != 0 && e->http_status != 404) {
        *err = wih_err_wrap(e, "deleting role %s", name);
        return -1;
    }
    wih_err_free(e);
    pthread_mutex_lock(&c->mu);
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->reg, "roles"), name);
    cl_save_registry_locked(c);
    pthread_mutex_unlock(&c->mu);
    log_role_action(c, "role-delete", name);
    return 0;
}

static void add_owned(cJSON *o, const char *name, char *s)
{
    cJSON_AddStringToObject(o, name, s);
    free(s);
}

cJSON *cloud_role_list(cloud *c)
{
    cJSON *out = cJSON_CreateArray();
    pthread_mutex_lock(&c->mu);
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(c->reg, "roles"))
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->string);
        cJSON_AddItemToObject(o, "trust", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "trust"), true));
        cJSON_AddItemToObject(o, "grants", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(r, "grants"), true));
        add_owned(o, "aws_role_arn", cloud_aws_role_arn(r->string));
        add_owned(o, "entra_client_id", cloud_entra_client_id(r->string));
        add_owned(o, "google_service_account", cloud_google_sa_email(r->string));
        add_owned(o, "minio_policy", cloud_minio_policy_name(r->string));
        cJSON_AddItemToArray(out, o);
    }
    pthread_mutex_unlock(&c->mu);
    return out;
}

cJSON *cloud_registry(cloud *c)
{
    pthread_mutex_lock(&c->mu);
    cJSON *r = cJSON_Duplicate(c->reg, true);
    pthread_mutex_unlock(&c->mu);
    return r;
}

int cloud_bucket_create(cloud *c, const char *bucket, wih_err **err)
{
    s3_client *root = root_client(c, err);
    if (!root) return -1;
    int rc = s3_make_bucket(root, bucket, err);
    s3_client_free(root);
    return rc;
}
