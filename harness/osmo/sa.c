/* The guide's step-2 ServiceAccount, annotated for one identity profile.
 * Annotation names (domain/webhooks.md, upstream webhooks):
 *   aws-irsa  eks.amazonaws.com/role-arn, eks.amazonaws.com/audience,
 *             eks.amazonaws.com/token-expiration (aws/amazon-eks-pod-identity-webhook)
 *   azure-wi  azure.workload.identity/client-id, azure.workload.identity/tenant-id,
 *             azure.workload.identity/service-account-token-expiration
 *             (Azure/azure-workload-identity)
 *   gcp-fleet iam.gke.io/gcp-service-account */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/osmo.h"
#include "wiharness/kube.h"

static bool is_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-')) return false;
    return true;
}

static bool is_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 253 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.')) return false;
    return true;
}

static bool is_seconds(const char *s)
{
    if (!s || !*s) return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    return strtol(s, NULL, 10) > 0;
}

static bool is_guid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    const char *p = s;
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, p++)
            if (!isxdigit((unsigned char)*p)) return false;
        if (g < 4 && *p++ != '-') return false;
    }
    return *p == '\0';
}

#define BAD(...)                                             \
    do {                                                     \
        *err = wih_err_new(WIH_EXIT_INPUT, __VA_ARGS__);    \
        cJSON_Delete(sa);                                    \
        return NULL;                                         \
    } while (0)

cJSON *osmo_sa_manifest(const osmo_sa_opts *o, wih_err **err)
{
    cJSON *sa = NULL;
    if (!o->profile) BAD("--profile is required (aws-irsa, azure-wi or gcp-fleet)");
    bool aws = !strcmp(o->profile, "aws-irsa"), az = !strcmp(o->profile, "azure-wi"),
         gcp = !strcmp(o->profile, "gcp-fleet");
    if (!aws && !az && !gcp) BAD("unknown --profile \"%s\" (aws-irsa, azure-wi, gcp-fleet)", o->profile);
    if (!o->name || !is_subdomain(o->name))
        BAD("--name must be a ServiceAccount name (lower-case DNS subdomain), got \"%s\"", o->name ? o->name : "");
    if (!o->namespace_ || !is_dns_label(o->namespace_))
        BAD("--namespace must be a namespace name (lower-case DNS label), got \"%s\"",
            o->namespace_ ? o->namespace_ : "");
    /* an annotation value is one line: a newline or control character makes a
     * different (and wrong) ARN / id than the one on screen */
    const char *const vals[] = {o->role_arn, o->audience, o->client_id, o->tenant_id, o->gcp_service_account,
                                o->token_expiration};
    const char *const flags[] = {"role-arn", "audience", "client-id", "tenant-id", "gcp-service-account",
                                 "token-expiration"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        for (const char *p = vals[i]; p && *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == ' ')
                BAD("--%s must be one word on one line; it holds %s", flags[i],
                    *p == '\n' ? "a newline" : *p == ' ' ? "a space" : "a control character");
    if (!aws && o->role_arn) BAD("--role-arn is for aws-irsa only");
    if (!az && (o->client_id || o->tenant_id)) BAD("--client-id/--tenant-id are for azure-wi only");
    if (!gcp && o->gcp_service_account) BAD("--gcp-service-account is for gcp-fleet only");
    if (!aws && o->audience)
        BAD("--audience is an aws-irsa annotation (azure-wi and gcp-fleet have no ServiceAccount audience annotation)");
    if (gcp && o->token_expiration) BAD("--token-expiration has no gcp-fleet ServiceAccount annotation");
    if (o->token_expiration && !is_seconds(o->token_expiration))
        BAD("--token-expiration must be a whole number of seconds, got \"%s\"", o->token_expiration);

    sa = kube_obj_new("v1", "ServiceAccount", o->namespace_, o->name);
    cJSON *md = cJSON_GetObjectItem(sa, "metadata");
    cJSON *an = cJSON_AddObjectToObject(md, "annotations");
    if (aws) {
        if (!o->role_arn) BAD("aws-irsa needs --role-arn arn:aws:iam::<account-id>:role/<role-name>");
        if (strncmp(o->role_arn, "arn:", 4) || !strstr(o->role_arn, ":iam::") || !strstr(o->role_arn, ":role/"))
            BAD("--role-arn \"%s\" is not an IAM role ARN (arn:aws:iam::<account-id>:role/<role-name>)", o->role_arn);
        cJSON_AddStringToObject(an, "eks.amazonaws.com/role-arn", o->role_arn);
        if (o->audience) cJSON_AddStringToObject(an, "eks.amazonaws.com/audience", o->audience);
        if (o->token_expiration) cJSON_AddStringToObject(an, "eks.amazonaws.com/token-expiration", o->token_expiration);
    } else if (az) {
        if (!o->client_id) BAD("azure-wi needs --client-id <managed-identity-client-id>");
        if (!is_guid(o->client_id)) BAD("--client-id \"%s\" is not a GUID", o->client_id);
        if (o->tenant_id && !is_guid(o->tenant_id)) BAD("--tenant-id \"%s\" is not a GUID", o->tenant_id);
        cJSON_AddStringToObject(an, "azure.workload.identity/client-id", o->client_id);
        if (o->tenant_id) cJSON_AddStringToObject(an, "azure.workload.identity/tenant-id", o->tenant_id);
        if (o->token_expiration)
            cJSON_AddStringToObject(an, "azure.workload.identity/service-account-token-expiration", o->token_expiration);
    } else {
        if (!o->gcp_service_account) BAD("gcp-fleet needs --gcp-service-account <gsa>@<project>.iam.gserviceaccount.com");
        const char *at = strchr(o->gcp_service_account, '@');
        if (!at || at == o->gcp_service_account || !strstr(at, ".iam.gserviceaccount.com"))
            BAD("--gcp-service-account \"%s\" is not <gsa>@<project>.iam.gserviceaccount.com", o->gcp_service_account);
        cJSON_AddStringToObject(an, "iam.gke.io/gcp-service-account", o->gcp_service_account);
    }
    return sa;
}
