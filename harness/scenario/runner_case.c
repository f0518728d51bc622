/* One scenario × profile case: set up, render, change, create, assert. */
#include <stdlib.h>
#include <string.h>

#include "runner_int.h"
#include "runner_case.h"
#include "runner_real.h"
#include "wiharness/cloud.h"
#include "wiharness/report.h"

/* ------------------------------------------------------------ names */
static void res_add(char ***v, size_t *n, const char *s)
{
    *v = realloc(*v, (*n + 1) * sizeof **v);
    if (!*v) abort();
    (*v)[(*n)++] = wih_strdup(s);
}

/* A DNS label: lower-case [a-z0-9-], ≤ max, no leading/trailing '-'. */
static void dns_clip(char *s, size_t max)
{
    for (char *p = s; *p; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') *p = (char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) *p = '-';
    }
    if (strlen(s) > max) s[max] = 0;
    size_t n = strlen(s);
    while (n && s[n - 1] == '-') s[--n] = 0;
}

static char *case_ns(const scn_case *cs, const runner_opts *o, const char *hex)
{
    if (o && o->namespace_) return wih_strdup(o->namespace_);
    if (cs->scn->namespace_) return wih_strdup(cs->scn->namespace_);
    char *base = wih_asprintf("%s", cs->scn->name);
    dns_clip(base, 28);
    char *p = wih_strdup(cs->profile);
    dns_clip(p, 10);
    char *ns = wih_asprintf("wih-%s-%s-%s", base, p, hex);
    free(base);
    free(p);
    return ns;
}

/* ------------------------------------------------------------ setup */
static wih_err *make_buckets(rcase *k)
{
    s3_client *s3 = s3_client_new(k->ch->minio_url, &k->ch->root, k->ch->ca_file);
    wih_err *e = NULL;
    for (size_t i = 0; i < k->cs->scn->nbuckets && !e; i++) {
        char *b = wih_asprintf("%s%s", k->vars.bucket_prefix, k->cs->scn->buckets[i]);
        res_add(&k->res->buckets, &k->res->nbuckets, b);
        if (s3_make_bucket(s3, b, &e)) e = wih_err_wrap(e, "MinIO at %s", k->ch->minio_url);
        free(b);
    }
    s3_client_free(s3);
    return e;
}

static cJSON *role_doc(rcase *k, const scn_role *r, wih_err **err)
{
    cJSON *role = cJSON_CreateObject();
    cJSON *trust = cJSON_AddObjectToObject(role, "trust");
    cJSON_AddStringToObject(trust, "issuer", k->ch->issuer ? k->ch->issuer : "");
    cJSON *subs = cJSON_AddArrayToObject(trust, "subjects");
    for (size_t i = 0; i < r->ntrust; i++) {
        char *s = scn_expand(r->trust[i], &k->vars, err);
        if (!s) {
            cJSON_Delete(role);
            return NULL;
        }
        cJSON_AddItemToArray(subs, cJSON_CreateString(s));
        free(s);
    }
    cJSON *g = cJSON_AddObjectToObject(role, "grants");
    const cJSON *x;
    cJSON_ArrayForEach(x, r->grants)
    {
        char *b = wih_asprintf("%s%s", k->vars.bucket_prefix, x->string);
        cJSON_AddStringToObject(g, b, cJSON_GetStringValue(x));
        free(b);
    }
    return role;
}

static wih_err *make_roles(rcase *k)
{
    wih_err *e = NULL;
    for (size_t i = 0; i < k->cs->scn->nroles && !e; i++) {
        const scn_role *r = &k->cs->scn->roles[i];
        char *real = wih_asprintf("%s%s", k->vars.bucket_prefix, r->name);
        cJSON *doc = role_doc(k, r, &e);
        if (doc) {
            res_add(&k->res->roles, &k->res->nroles, real);
            char *path = wih_asprintf("roles/%s", real);
            cJSON *reply = chain_admin(k->ch, "PUT", path, doc, NULL, &e);
            cJSON_Delete(reply);
            free(path);
        }
        cJSON_Delete(doc);
        free(real);
    }
    return e;
}

char *rcase_real_role(const rcase *k, const char *logical)
{
    return wih_asprintf("%s%s", k->vars.bucket_prefix, logical);
}

static cJSON *sa_manifest(rcase *k, wih_err **err)
{
    const scn_scenario *s = k->cs->scn;
    if (k->o->real) return real_sa_manifest(k, err); /* the real principal from the map */
    if (!s->sa_role) {
        return kube_obj_new("v1", "ServiceAccount", k->res->ns, s->sa_name);
    }
    char *real = rcase_real_role(k, s->sa_role);
    char *arn = cloud_aws_role_arn(real), *cid = cloud_entra_client_id(real), *gsa = cloud_google_sa_email(real);
    const char *p = k->cs->profile;
    osmo_sa_opts o = {.profile = p, .name = s->sa_name, .namespace_ = k->res->ns,
                      .role_arn = !strcmp(p, "aws-irsa") ? arn : NULL,
                      .client_id = !strcmp(p, "azure-wi") ? cid : NULL,
                      .gcp_service_account = !strcmp(p, "gcp-fleet") ? gsa : NULL};
    cJSON *sa = osmo_sa_manifest(&o, err);
    free(real);
    free(arn);
    free(cid);
    free(gsa);
    return sa;
}

static wih_err *make_sa(rcase *k)
{
    wih_err *e = NULL;
    cJSON *sa = sa_manifest(k, &e);
    if (!sa) return wih_err_wrap(e, "the ServiceAccount");
    if (!k->o->namespace_) {
        cJSON *got = kube_apply(k->kc, sa, &e);
        k->sa = sa;
        cJSON_Delete(got);
        return e ? wih_err_wrap(e, "creating ServiceAccount %s", k->cs->scn->sa_name) : NULL;
    }
    /* a shared namespace: created (never applied over one that is there), then ours to delete */
    cJSON *got = kube_create(k->kc, sa, &e);
    k->sa = sa;
    cJSON_Delete(got);
    if (e && e->http_status == 409) {
        wih_err_free(e);
        return wih_err_new(WIH_EXIT_INFRA, "ServiceAccount %s already exists in namespace %s and was not created "
                           "by this run: the runner leaves it alone", k->cs->scn->sa_name, k->res->ns);
    }
    if (!e) k->res->sa = wih_strdup(k->cs->scn->sa_name);
    return e ? wih_err_wrap(e, "creating ServiceAccount %s", k->cs->scn->sa_name) : NULL;
}

static wih_err *make_namespace_and_sa(rcase *k)
{
    if (k->o->namespace_) return make_sa(k); /* the run's --namespace: never made or deleted per case */
    cJSON *ns = kube_obj_new("v1", "Namespace", NULL, k->res->ns);
    cJSON *lb = cJSON_AddObjectToObject(cJSON_GetObjectItem(ns, "metadata"), "labels");
    cJSON_AddStringToObject(lb, "wiharness.io/runner", "true");
    wih_err *e = NULL;
    k->res->ns_made = true;
    /* created, never applied: a namespace the run did not make is never touched */
    cJSON *got = kube_create(k->kc, ns, &e);
    cJSON_Delete(ns);
    cJSON_Delete(got);
    if (e && e->http_status == 409) {
        k->res->ns_made = false;
        wih_err_free(e);
        return wih_err_new(WIH_EXIT_INFRA, "namespace %s already exists and was not created by this run: "
                           "the runner leaves it alone", k->res->ns);
    }
    if (e) return wih_err_wrap(e, "creating namespace %s", k->res->ns);
    return make_sa(k);
}

wih_err *rcase_setup(rcase *k)
{
    char *hex = wih_random_hex(3);
    k->res = calloc(1, sizeof *k->res);
    if (!k->res) abort();
    k->res->ns = case_ns(k->cs, k->o, hex);
    k->prefix = wih_asprintf("w%s-", hex);
    free(hex);
    k->vars = (scn_vars){.namespace_ = k->res->ns, .service_account = k->cs->scn->sa_name,
                         .profile = k->cs->profile, .scenario = k->cs->scn->name, .bucket_prefix = k->prefix};
    k->register_res(k);
    if (k->o->real) { /* --identity real: the operator's roles and buckets, named by the map */
        wih_err *re = real_setup(k);
        return re ? re : make_namespace_and_sa(k);
    }
    wih_err *e = make_buckets(k);
    if (!e) e = make_roles(k);
    if (!e) e = make_namespace_and_sa(k);
    return e;
}
