/* Profile options: defaults mirroring the upstream flags, and the YAML
 * options file (camelCase keys). docs/webhook.md documents every key. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_int.h"
#include "wiharness/core.h" /* wih_edit_distance */
#include "wiharness/yamljson.h"

void webhook_opts_defaults(webhook_opts *o)
{
    memset(o, 0, sizeof *o);
    /* amazon-eks-pod-identity-webhook main.go flags */
    o->aws.annotation_prefix = wih_strdup("eks.amazonaws.com");
    o->aws.token_audience = wih_strdup("sts.amazonaws.com");
    o->aws.default_region = wih_strdup("");
    o->aws.sts_regional_endpoint = false;
    o->aws.token_expiration = 86400;
    o->aws.token_mount_path = wih_strdup("/var/run/secrets/eks.amazonaws.com/serviceaccount");
    /* azure-workload-identity: config (AZURE_TENANT_ID, AZURE_ENVIRONMENT →
     * AzurePublicCloud ActiveDirectoryEndpoint), DefaultAudience, proxy images */
    o->azure.tenant_id = wih_strdup("");
    o->azure.authority_host = wih_strdup("https://login.microsoftonline.com/");
    o->azure.layout = WEBHOOK_AZ_V16;
    o->azure.audience = wih_strdup("api://AzureADTokenExchange");
    o->azure.proxy_image = wih_strdup("mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0");
    o->azure.proxy_init_image = wih_strdup("mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0");
    o->azure.proxy_log_level = wih_strdup("info");
    o->azure.native_sidecar = false;
    o->gcp.project_id = wih_strdup("wiharness-project");
    o->gcp.workload_identity_pool = wih_strdup("");
    o->gcp.identity_provider = wih_strdup("");
    o->gcp.token_url = wih_strdup("https://sts.googleapis.com/v1/token");
    o->gcp.impersonation_url = wih_strdup("https://iamcredentials.googleapis.com");
}

void webhook_opts_free(webhook_opts *o)
{
    char **s[] = {&o->aws.annotation_prefix, &o->aws.token_audience,  &o->aws.default_region,
                  &o->aws.token_mount_path,  &o->azure.tenant_id,     &o->azure.authority_host,
                  &o->azure.audience,        &o->azure.proxy_image,   &o->azure.proxy_init_image,
                  &o->azure.proxy_log_level, &o->gcp.project_id,      &o->gcp.workload_identity_pool,
                  &o->gcp.identity_provider, &o->gcp.token_url,       &o->gcp.impersonation_url};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

typedef enum { K_STR, K_BOOL, K_INT, K_LAYOUT } ktype;
typedef struct okey {
    const char *name;
    ktype type;
    size_t off; /* offset in webhook_opts */
} okey;

#define A(f) offsetof(webhook_opts, aws.f)
#define Z(f) offsetof(webhook_opts, azure.f)
#define G(f) offsetof(webhook_opts, gcp.f)
static const okey k_aws[] = {
    {"annotationPrefix", K_STR, A(annotation_prefix)},   {"tokenAudience", K_STR, A(token_audience)},
    {"defaultRegion", K_STR, A(default_region)},         {"stsRegionalEndpoint", K_BOOL, A(sts_regional_endpoint)},
    {"tokenExpiration", K_INT, A(token_expiration)},     {"tokenMountPath", K_STR, A(token_mount_path)},
};
static const okey k_azure[] = {
    {"tenantId", K_STR, Z(tenant_id)},           {"authorityHost", K_STR, Z(authority_host)},
    {"layout", K_LAYOUT, Z(layout)},             {"audience", K_STR, Z(audience)},
    {"proxyImage", K_STR, Z(proxy_image)},       {"proxyInitImage", K_STR, Z(proxy_init_image)},
    {"proxyLogLevel", K_STR, Z(proxy_log_level)}, {"nativeSidecar", K_BOOL, Z(native_sidecar)},
};
static const okey k_gcp[] = {
    {"projectId", K_STR, G(project_id)},         {"workloadIdentityPool", K_STR, G(workload_identity_pool)},
    {"identityProvider", K_STR, G(identity_provider)}, {"tokenUrl", K_STR, G(token_url)},
    {"impersonationUrl", K_STR, G(impersonation_url)},
};
static const struct {
    const okey *k;
    size_t n;
} k_tables[WEBHOOK_NPROFILES] = {
    {k_aws, sizeof k_aws / sizeof k_aws[0]},
    {k_azure, sizeof k_azure / sizeof k_azure[0]},
    {k_gcp, sizeof k_gcp / sizeof k_gcp[0]},
};

static const char *nearest(const okey *k, size_t n, const char *given)
{
    const char *best = k[0].name;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = wih_edit_distance(given, k[i].name);
        if (d < bd) {
            bd = d;
            best = k[i].name;
        }
    }
    return best;
}

static int load_map(webhook_opts *o, webhook_profile p, const wih_ydocs *docs, const cJSON *map, wih_err **err)
{
    if (!cJSON_IsObject(map)) {
        *err = wih_ydocs_err(docs, map, "%s options must be a map of camelCase keys", webhook_profile_name(p));
        return -1;
    }
    const okey *k = k_tables[p].k;
    size_t n = k_tables[p].n;
    for (const cJSON *e = map->child; e; e = e->next) {
        const okey *hit = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(k[i].name, e->string)) hit = &k[i];
        if (!hit) {
            *err = wih_ydocs_err(docs, e, "unknown %s option \"%s\" (did you mean \"%s\"?)", webhook_profile_name(p),
                                 e->string, nearest(k, n, e->string));
            return -1;
        }
        void *field = (char *)o + hit->off;
        switch (hit->type) {
        case K_STR:
            if (!cJSON_IsString(e)) {
                *err = wih_ydocs_err(docs, e, "%s: expected a string (quote it)", e->string);
                return -1;
            }
            free(*(char **)field);
            *(char **)field = wih_strdup(e->valuestring);
            break;
        case K_BOOL:
            if (!cJSON_IsBool(e)) {
                *err = wih_ydocs_err(docs, e, "%s: expected true or false", e->string);
                return -1;
            }
            *(bool *)field = cJSON_IsTrue(e);
            break;
        case K_INT:
            if (!cJSON_IsNumber(e) || e->valuedouble != (double)(long long)e->valuedouble || e->valuedouble <= 0) {
                *err = wih_ydocs_err(docs, e, "%s: expected a positive integer (seconds)", e->string);
                return -1;
            }
            *(long long *)field = (long long)e->valuedouble;
            break;
        case K_LAYOUT:
            if (cJSON_IsString(e) && !strcmp(e->valuestring, "v1.5"))
                *(webhook_az_layout *)field = WEBHOOK_AZ_V15;
            else if (cJSON_IsString(e) && !strcmp(e->valuestring, "v1.6"))
                *(webhook_az_layout *)field = WEBHOOK_AZ_V16;
            else {
                *err = wih_ydocs_err(docs, e, "layout: expected \"v1.5\" or \"v1.6\" (quote it)");
                return -1;
            }
            break;
        }
    }
    /* the upstream AWS flag value is clamped like the annotations are */
    if (o->aws.token_expiration < 600) o->aws.token_expiration = 600;
    return 0;
}

int webhook_opts_from_yaml(webhook_opts *o, webhook_profile profile, const wih_ydocs *docs, const cJSON *root,
                           wih_err **err)
{
    if (cJSON_IsNull(root)) return 0; /* empty file: defaults */
    if (!cJSON_IsObject(root)) {
        *err = wih_ydocs_err(docs, root, "webhook options must be a map");
        return -1;
    }
    webhook_profile p;
    bool sectioned = root->child && !webhook_profile_parse(root->child->string, &p);
    if (!sectioned) {
        if (profile == WEBHOOK_NPROFILES) {
            *err = wih_ydocs_err(docs, root->child ? root->child : root,
                                 "expected sections aws-irsa, azure-wi, gcp-fleet at the top level");
            return -1;
        }
        return load_map(o, profile, docs, root, err);
    }
    for (const cJSON *e = root->child; e; e = e->next) {
        if (webhook_profile_parse(e->string, &p)) {
            const char *best = "aws-irsa";
            size_t bd = (size_t)-1;
            for (int i = 0; i < WEBHOOK_NPROFILES; i++) {
                size_t d = wih_edit_distance(e->string, webhook_profile_name((webhook_profile)i));
                if (d < bd) bd = d, best = webhook_profile_name((webhook_profile)i);
            }
            *err = wih_ydocs_err(docs, e, "unknown profile section \"%s\" (did you mean \"%s\"?)", e->string, best);
            return -1;
        }
        if (!cJSON_IsNull(e) && load_map(o, p, docs, e, err)) return -1;
    }
    return 0;
}

int webhook_opts_load(webhook_opts *o, webhook_profile profile, const char *path, wih_err **err)
{
    wih_ydocs *docs = wih_yaml_load_file(path, err);
    if (!docs) return -1;
    int rc = 0;
    size_t n = wih_ydocs_count(docs);
    if (n > 1) {
        *err = wih_err_at(WIH_EXIT_INPUT, path, 0, 0, "expected one YAML document, found %zu", n);
        rc = -1;
    } else if (n == 1)
        rc = webhook_opts_from_yaml(o, profile, docs, wih_ydocs_root(docs, 0), err);
    wih_ydocs_free(docs);
    return rc;
}
