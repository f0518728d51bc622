/* --identity real (docs/backends.md): the runner owns no cloud. Roles and
 * buckets are the operator's, named by the real map; the ServiceAccount
 * carries the real principal; the pods get the map's endpoints and reach
 * the store through the realstorage builders (WIH_PROBE_STORE=real). The
 * runner's own static S3 credentials seed read objects and delete what the
 * run wrote — only keys that held no object before the run. */
#include <stdlib.h>
#include <string.h>

#include "runner_real.h"
#include "wiharness/realstorage.h"

#define REAL_TEMPLATE "wih-real-endpoints"
#define REAL_TIMEOUT_MS 15000

wih_err *real_chain_load(const runner_opts *o, rchain *c)
{
    memset(c, 0, sizeof *c);
    c->real = true;
    c->has_kcm = true; /* a real cluster finishes namespace deletions */
    if (!o->probe_image)
        return wih_err_new(WIH_EXIT_INPUT, "--identity real needs --probe-image IMAGE (the cluster pulls it)");
    if (!o->namespace_)
        return wih_err_new(WIH_EXIT_INPUT, "--identity real needs --namespace N: the operator's trust policies "
                                           "name the namespace");
    c->probe_image = wih_strdup(o->probe_image);
    c->kubeconfig = o->kubeconfig ? wih_strdup(o->kubeconfig) : NULL;
    return NULL;
}

/* ------------------------------------------------------------ names */
static char *bucket_of(void *ctx, const char *logical)
{
    const rcase *k = ctx;
    return realmap_bucket(k->res->real, k->cs->scn->name, logical);
}

wih_err *real_setup(rcase *k)
{
    const scn_scenario *s = k->cs->scn;
    const realmap_profile *p = realmap_profile_get(k->o->real, k->cs->profile);
    if (!p)
        return wih_err_new(WIH_EXIT_INPUT, "%s: the real map %s has no profile %s", s->name, k->o->real->file,
                           k->cs->profile);
    k->res->real = p;
    k->vars.bucket_of = bucket_of;
    k->vars.bucket_ctx = k;
    const char **roles = wih_xcalloc(s->nroles + 1, sizeof *roles);
    size_t n = 0;
    for (size_t i = 0; i < s->nroles; i++) roles[n++] = s->roles[i].name;
    if (s->sa_role) roles[n++] = s->sa_role;
    wih_err *e = NULL;
    realmap_check(p, s->name, roles, n, (const char *const *)s->buckets, s->nbuckets, &e);
    free(roles);
    return e ? wih_err_wrap(e, "%s", k->o->real->file) : NULL;
}

const char *real_role_of(const rcase *k, const char *principal)
{
    return realmap_role_of(k->res ? k->res->real : NULL, k->cs->scn->name, principal);
}

cJSON *real_sa_manifest(rcase *k, wih_err **err)
{
    const scn_scenario *s = k->cs->scn;
    const realmap_profile *p = k->res->real;
    if (!s->sa_role) return kube_obj_new("v1", "ServiceAccount", k->res->ns, s->sa_name);
    const char *pr = realmap_role(p, s->name, s->sa_role), *prof = k->cs->profile;
    osmo_sa_opts o = {.profile = prof, .name = s->sa_name, .namespace_ = k->res->ns,
                      .role_arn = !strcmp(prof, "aws-irsa") ? pr : NULL,
                      .client_id = !strcmp(prof, "azure-wi") ? pr : NULL,
                      .tenant_id = !strcmp(prof, "azure-wi") ? p->tenant_id : NULL,
                      .gcp_service_account = !strcmp(prof, "gcp-fleet") ? pr : NULL};
    return osmo_sa_manifest(&o, err);
}

/* ------------------------------------------------------------ pods */
static void env_add(cJSON *env, const char *name, const char *value)
{
    if (!value) return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "value", value);
    cJSON_AddItemToArray(env, e);
}

static void profile_env(cJSON *env, const realmap_profile *p)
{
    env_add(env, "WIH_PROBE_STORE", "real");
    if (!strcmp(p->profile, "aws-irsa")) {
        /* the regional STS endpoint (AWS_STS_REGIONAL_ENDPOINTS=regional) unless the map names one */
        char *sts = p->sts_endpoint ? wih_strdup(p->sts_endpoint) : wih_asprintf("https://sts.%s.amazonaws.com", p->region);
        env_add(env, "AWS_ENDPOINT_URL_STS", sts);
        env_add(env, "AWS_ENDPOINT_URL_S3", p->s3_endpoint);
        env_add(env, "AWS_REGION", p->region);
        env_add(env, "AWS_DEFAULT_REGION", p->region);
        free(sts);
    } else if (!strcmp(p->profile, "azure-wi")) {
        env_add(env, "WIH_BLOB_ACCOUNT_URL", p->blob_account_url);
    } else {
        env_add(env, "WIH_GCS_ENDPOINT", p->gcs_endpoint);
    }
}

int real_add_template(rcase *k, osmo_config *cfg, wih_err **err)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *cs = cJSON_AddArrayToObject(cJSON_AddObjectToObject(t, "spec"), "containers");
    static const char *const names[] = {"{{USER_CONTAINER_NAME}}", "osmo-ctrl"};
    for (int i = 0; i < 2; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "name", names[i]);
        profile_env(cJSON_AddArrayToObject(c, "env"), k->res->real);
        cJSON_AddItemToArray(cs, c);
    }
    const char *pool = k->cs->scn->pool ? k->cs->scn->pool : "default";
    int rc = runner_config_add_template(cfg, pool, REAL_TEMPLATE, t, k->changes, err);
    cJSON_Delete(t);
    cJSON *last = cJSON_GetArrayItem(k->changes, cJSON_GetArraySize(k->changes) - 1);
    if (!rc && last) {
        char *what = wih_asprintf("+ pool template %s in pool %s: the real map's region and store endpoints, "
                                  "WIH_PROBE_STORE=real (the probe uses the real store's REST API)",
                                  REAL_TEMPLATE, pool);
        cJSON_ReplaceItemInObject(last, "what", cJSON_CreateString(what));
        free(what);
    }
    return rc;
}

/* ------------------------------------------------------------ objects */
static const char *s3_op(const realmap_profile *p, const char *op, const char *bucket, const char *key,
                         const void *body, size_t len, long *status, char **code, wih_err **err)
{
    probe_req *r = rs_s3_request(op, p->s3_endpoint, p->region, bucket, key, &p->creds, body, len, err);
    if (!r) return NULL;
    char *msg = NULL;
    const char *res = rs_do(r, "s3", p->ca_file, REAL_TIMEOUT_MS, status, code, &msg, err);
    free(msg);
    probe_req_free(r);
    return res;
}

/* 1 the object is there, 0 it is not, -1 cannot tell (warned). A list with
 * the key as prefix (no download of a large object). */
static int object_there(const realmap_profile *p, const char *bucket, const char *key)
{
    wih_err *e = NULL;
    probe_req *r = rs_s3_request("list", p->s3_endpoint, p->region, bucket, key, &p->creds, NULL, 0, &e);
    long st = 0;
    wih_buf body = {0};
    int there = -1;
    if (r && !probe_send(r, p->ca_file, REAL_TIMEOUT_MS, &st, &body, &e) && st == 200) {
        cJSON *l = s3_parse_list_xml(body.data, body.len);
        const cJSON *o;
        there = l ? 0 : -1;
        cJSON_ArrayForEach(o, l) if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(o, "key")), key)) there = 1;
        cJSON_Delete(l);
    }
    if (there < 0)
        wih_warn("--identity real: cannot list s3://%s/%s with the runner's credentials (%s): left alone", bucket, key,
                 e ? wih_err_str(e) : st ? "HTTP error" : "?");
    wih_buf_free(&body);
    probe_req_free(r);
    wih_err_free(e);
    return there;
}

static void remember(rcase_res *res, const char *bucket, const char *key)
{
    res->objects = wih_xrealloc(res->objects, (res->nobjects + 1) * sizeof *res->objects);
    res->objects[res->nobjects++] = wih_asprintf("%s/%s", bucket, key);
}

/* Is bucket one of the case's mapped buckets? */
static bool case_bucket(const rcase *k, const char *bucket)
{
    for (size_t i = 0; i < k->cs->scn->nbuckets; i++) {
        char *b = realmap_bucket(k->res->real, k->cs->scn->name, k->cs->scn->buckets[i]);
        bool hit = b && !strcmp(b, bucket);
        free(b);
        if (hit) return true;
    }
    return false;
}

static void prepare_one(rcase *k, const char *spec)
{
    const realmap_profile *p = k->res->real;
    bool seed = !strncmp(spec, "read:s3://", 10) || !strncmp(spec, "list:s3://", 10);
    bool write = !strncmp(spec, "write:s3://", 11);
    if (!seed && !write) return;
    char *b = wih_strdup(strstr(spec, "s3://") + 5), *key = strchr(b, '/');
    if (key) *key++ = 0;
    if (key && *key && case_bucket(k, b) && object_there(p, b, key) == 0) {
        long st = 0;
        char *code = NULL;
        wih_err *e = NULL;
        const char *res = seed ? s3_op(p, "write", b, key, "seeded by wiharness run\n", 24, &st, &code, &e) : "allowed";
        if (res && !strcmp(res, "allowed"))
            remember(k->res, b, key);
        else
            wih_warn("--identity real: seeding s3://%s/%s with the runner's credentials: %s", b, key,
                     e ? wih_err_str(e) : code ? code : "?");
        free(code);
        wih_err_free(e);
    }
    free(b);
}

void real_prepare_objects(rcase *k, const cJSON *access)
{
    const realmap_profile *p = k->res->real;
    if (!p || strcmp(p->profile, "aws-irsa") || !p->creds.access_key) return;
    const cJSON *a;
    cJSON_ArrayForEach(a, access)
    {
        bool dup = false;
        const char *url = strstr(a->valuestring, "s3://");
        for (size_t i = 0; url && i < k->res->nobjects && !dup; i++) dup = !strcmp(url + 5, k->res->objects[i]);
        if (!dup) prepare_one(k, a->valuestring);
    }
}

wih_err *real_cleanup(rcase_res *res)
{
    wih_err *first = NULL;
    for (size_t i = res->nobjects; i-- > 0;) {
        char *b = wih_strdup(res->objects[i]), *key = strchr(b, '/');
        *key++ = 0;
        long st = 0;
        char *code = NULL;
        wih_err *e = NULL;
        const char *r = s3_op(res->real, "delete", b, key, NULL, 0, &st, &code, &e);
        if (!e && r && strcmp(r, "allowed") && st != 404)
            e = wih_err_new(WIH_EXIT_INFRA, "HTTP %ld %s", st, code ? code : "");
        if (e && !first) first = wih_err_wrap(e, "deleting s3://%s/%s with the runner's credentials", b, key);
        else wih_err_free(e);
        free(code);
        free(b);
        free(res->objects[i]);
    }
    free(res->objects);
    res->objects = NULL;
    res->nobjects = 0;
    return first;
}
