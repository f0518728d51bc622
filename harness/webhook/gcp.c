/* gcp-fleet: Google's Fleet Workload Identity pod spec, injected by a webhook.
 *
 * There is no upstream webhook for this shape (GKE's own Workload Identity
 * injects nothing; a node metadata server answers). Google documents the pod
 * spec to write by hand for fleet clusters; we inject exactly it for pods whose
 * service account carries iam.gke.io/gcp-service-account (the annotation the
 * OSMO guide uses):
 *   volume gcp-ksa: projected, defaultMode 420, sources
 *     serviceAccountToken {audience: <workload identity pool>, expirationSeconds: 172800, path: token}
 *     configMap {name: <cm>, optional: false, items: [{key: config, path: google-application-credentials.json}]}
 *   mount gcp-ksa read-only at /var/run/secrets/tokens/gcp-ksa (every container,
 *     init containers included; a mount of that NAME is kept);
 *   env GOOGLE_APPLICATION_CREDENTIALS=/var/run/secrets/tokens/gcp-ksa/google-application-credentials.json
 *     (only when no env entry of that name exists);
 *   an existing volume named gcp-ksa is kept as is.
 * The credential ConfigMap "gcp-ksa-<service account name>" in the pod's
 * namespace holds key `config`: an external_account credential configuration
 *   {type: external_account, audience: //iam.googleapis.com/<identityProvider>,
 *    subject_token_type: urn:ietf:params:oauth:token-type:jwt, token_url,
 *    service_account_impersonation_url: <impersonationUrl>/v1/projects/-/serviceAccounts/<GSA>:generateAccessToken,
 *    credential_source: {file: /var/run/secrets/tokens/gcp-ksa/token}}.
 * Google's fleet page writes the audience as identitynamespace:<pool>:<provider>;
 * an identityProvider option that already starts with "identitynamespace:" or
 * "//" is used verbatim, so both forms can be exercised.
 * The patch is a JSON diff (same algorithm as azure-wi).
 */
#include "webhook_int.h"
#include "wiharness/kube.h"

#include <stdlib.h>
#include <string.h>

#define GCP_MOUNT "/var/run/secrets/tokens/gcp-ksa"

static void mutate_list(cJSON *list, const char *creds)
{
    cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (!cJSON_IsObject(c)) continue;
        if (!wh_env_has(c, "GOOGLE_APPLICATION_CREDENTIALS")) wh_env_append(c, "GOOGLE_APPLICATION_CREDENTIALS", creds);
        if (!wh_named(cJSON_GetObjectItemCaseSensitive(c, "volumeMounts"), "gcp-ksa", NULL))
            cJSON_AddItemToArray(wh_array_field(c, "volumeMounts"), wh_mount("gcp-ksa", GCP_MOUNT));
    }
}

void wh_gcp_mutate(const cJSON *pod, const cJSON *sa, const char *ns, const webhook_gcp_opts *o, webhook_result *r)
{
    const char *sa_name = webhook_pod_sa_name(pod);
    if (!sa) {
        wh_skip(r, "service account \"%s\" not found", sa_name);
        return;
    }
    const char *gsa = wh_annotation(sa, "iam.gke.io/gcp-service-account");
    if (!gsa || !*gsa) {
        wh_skip(r, "service account \"%s\" has no iam.gke.io/gcp-service-account annotation", sa_name);
        return;
    }
    char *pool = o->workload_identity_pool && *o->workload_identity_pool
                     ? wih_strdup(o->workload_identity_pool)
                     : wih_asprintf("%s.svc.id.goog", o->project_id);
    char *provider = o->identity_provider && *o->identity_provider
                         ? wih_strdup(o->identity_provider)
                         : wih_asprintf("projects/%s/locations/global/workloadIdentityPools/%s/providers/kubernetes",
                                        o->project_id, pool);
    char *aud = (!strncmp(provider, "//", 2) || !strncmp(provider, "identitynamespace:", 18))
                    ? wih_strdup(provider)
                    : wih_asprintf("//iam.googleapis.com/%s", provider);
    char *cm_name = wih_asprintf("gcp-ksa-%.245s", sa_name);

    cJSON *mut = cJSON_Duplicate(pod, 1);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(mut, "spec");
    if (!spec) spec = cJSON_AddObjectToObject(mut, "spec");
    const char *creds = GCP_MOUNT "/google-application-credentials.json";
    mutate_list(cJSON_GetObjectItemCaseSensitive(spec, "initContainers"), creds);
    mutate_list(cJSON_GetObjectItemCaseSensitive(spec, "containers"), creds);
    if (!wh_named(cJSON_GetObjectItemCaseSensitive(spec, "volumes"), "gcp-ksa", NULL)) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", "gcp-ksa");
        cJSON *pj = cJSON_AddObjectToObject(v, "projected");
        cJSON_AddNumberToObject(pj, "defaultMode", 420);
        cJSON *src = cJSON_AddArrayToObject(pj, "sources");
        cJSON *s1 = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(s1, "serviceAccountToken");
        cJSON_AddStringToObject(t, "audience", pool);
        cJSON_AddNumberToObject(t, "expirationSeconds", 172800);
        cJSON_AddStringToObject(t, "path", "token");
        cJSON_AddItemToArray(src, s1);
        cJSON *s2 = cJSON_CreateObject();
        cJSON *cm = cJSON_AddObjectToObject(s2, "configMap");
        cJSON_AddStringToObject(cm, "name", cm_name);
        cJSON_AddFalseToObject(cm, "optional");
        cJSON *items = cJSON_AddArrayToObject(cm, "items");
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "key", "config");
        cJSON_AddStringToObject(it, "path", "google-application-credentials.json");
        cJSON_AddItemToArray(items, it);
        cJSON_AddItemToArray(src, s2);
        cJSON_AddItemToArray(wh_array_field(spec, "volumes"), v);
    }

    cJSON *cfg = cJSON_CreateObject();
    cJSON_AddStringToObject(cfg, "type", "external_account");
    cJSON_AddStringToObject(cfg, "audience", aud);
    cJSON_AddStringToObject(cfg, "subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    cJSON_AddStringToObject(cfg, "token_url", o->token_url);
    size_t il = strlen(o->impersonation_url);
    while (il && o->impersonation_url[il - 1] == '/') il--;
    char *imp = wih_asprintf("%.*s/v1/projects/-/serviceAccounts/%s:generateAccessToken", (int)il,
                             o->impersonation_url, gsa);
    cJSON_AddStringToObject(cfg, "service_account_impersonation_url", imp);
    free(imp);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cfg, "credential_source"), "file", GCP_MOUNT "/token");
    char *cfgs = cJSON_Print(cfg);
    cJSON_Delete(cfg);

    cJSON *cmap = kube_obj_new("v1", "ConfigMap", ns, cm_name);
    cJSON *md = cJSON_GetObjectItem(cmap, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "app.kubernetes.io/managed-by", "wiharness");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cmap, "data"), "config", cfgs);
    free(cfgs);

    r->verdict = WEBHOOK_PATCH;
    r->patch = webhook_patch_diff(pod, mut);
    r->configmap = cmap;
    r->reason = wih_asprintf("injected gcp-ksa for %s (ConfigMap %s/%s)", gsa, ns, cm_name);
    cJSON_Delete(mut);
    free(pool);
    free(provider);
    free(aud);
    free(cm_name);
}
