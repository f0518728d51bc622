/* The rule table, the two entry points and the text format. */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

static void r_no_known_cause(diag_ctx *c, const diag_rule *r);

/* One row per diagnosis id, in report order. cause/fix are the generic texts
 * (docs/troubleshooting.md has one section per id); each function emits the
 * specific cause and fix with the values it found. */
static const diag_rule k_rules[] = {
    {"configs-disabled", "services.configs.enabled is not true: the chart renders no ConfigMap and the podTemplates/pools of the file are ignored",
     "set services.configs.enabled: true (or apply the templates and pools with `osmo config update`)", false, diag_r_configs_disabled},
    {"helm-list-replaced", "the values file re-declares a list of the chart's defaults; Helm replaces lists, so the chart's items are lost",
     "repeat the chart's items in your list (or edit only the item you need through OSMO's merge-by-name)", false, diag_r_helm_list_replaced},
    {"sa-on-wrong-object", "the identity annotations are on an object that is not the ServiceAccount",
     "move the annotations to the ServiceAccount's metadata.annotations", false, diag_r_sa_on_wrong_object},
    {"sa-annotation-typo", "an annotation or label key is a near miss of a key the identity webhook reads",
     "rename the key to the exact key the webhook reads", false, diag_r_annotation_typo},
    {"sa-annotation-missing", "the ServiceAccount lacks the annotation that makes the identity webhook inject anything",
     "add the profile's annotation to the ServiceAccount", false, diag_r_annotation_missing},
    {"malformed-role-arn", "the role ARN annotation is not arn:aws:iam::<12-digit account>:role/<name>",
     "write the role's ARN exactly as IAM shows it", false, diag_r_malformed_role_arn},
    {"malformed-client-id", "the Azure client-id/tenant-id annotation is not a GUID",
     "use the managed identity's client id (a GUID, as `az identity show --query clientId` prints)", false, diag_r_malformed_client_id},
    {"malformed-gsa-email", "the Google service account annotation is not <name>@<project>.iam.gserviceaccount.com",
     "use the service account's email as `gcloud iam service-accounts list` prints it", false, diag_r_malformed_gsa_email},
    {"malformed-wi-provider", "the workload identity provider annotation is not projects/<number>/locations/<loc>/workloadIdentityPools/<pool>/providers/<provider>",
     "use the provider's full resource name", false, diag_r_malformed_wi_provider},
    {"pfnet-half-annotated", "only one of the two required gcp-pfnet annotations is set: the webhook denies the pod",
     "set both cloud.google.com/workload-identity-provider and cloud.google.com/service-account-email", false, diag_r_pfnet_half},
    {"azure-expiration-out-of-range", "the Azure token expiration is outside 3600..86400 seconds (or not a number): the webhook denies the pod",
     "set azure.workload.identity/service-account-token-expiration between 3600 and 86400, or remove it", false, diag_r_azure_expiration},
    {"sa-wrong-namespace", "the ServiceAccount is not in the namespace the workflow pods run in",
     "create the ServiceAccount in the workflow namespace", false, diag_r_sa_wrong_namespace},
    {"template-unknown-name", "a pool lists a pod template that is not defined: OSMO skips it (ConfigMap mode) or rejects the pool (database mode)",
     "define the template, or fix the name in the pool's list", false, diag_r_template_unknown},
    {"template-not-in-pool", "the identity pod template is defined but no pool (or not the pool used) lists it in common_pod_template",
     "add the template's name to the pool's common_pod_template", false, diag_r_template_not_in_pool},
    {"template-sa-unset", "no pod template of the pool sets spec.serviceAccountName: workflow pods run as the namespace's `default` ServiceAccount",
     "set spec.serviceAccountName in the identity pod template", false, diag_r_template_sa_unset},
    {"azure-sa-missing", "the pool's pods name a ServiceAccount that does not exist: azure-wi denies the pod",
     "create the ServiceAccount (or fix spec.serviceAccountName)", false, diag_r_sa_missing},
    {"sa-name-mismatch", "the pool's pods name a ServiceAccount other than the annotated one: the webhook finds no annotation and injects nothing",
     "make spec.serviceAccountName and the ServiceAccount's metadata.name the same", false, diag_r_sa_missing},
    {"aws-sa-race", "the pod was created before the webhook could see its ServiceAccount: nothing was injected",
     "create the ServiceAccount first and wait for it, then resubmit (the webhook retries only within its grace period)", true, diag_rt_aws_sa_race},
    {"azure-use-label-missing", "pods of the pool lack the label azure.workload.identity/use: \"true\"; Azure Workload Identity mutates only labelled pods",
     "add metadata.labels: {azure.workload.identity/use: \"true\"} to the identity pod template", false, diag_r_azure_use_label},
    {"static-credential-wins", "a pod template sets static cloud credentials; the SDK's default chain picks them before workload identity",
     "remove the static credential env from the template", false, diag_r_static_credential},
    {"env-preset", "a pod template sets the variables the webhook injects; the webhook never overwrites them",
     "remove the variables from the template and let the webhook inject them", false, diag_r_env_preset},
    {"env-preset-breaks-mount", "a pod template sets AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE by hand while the webhook does not fire: the env points at a token file no volume provides",
     "remove the variables from the template and annotate the ServiceAccount instead", false, diag_r_env_breaks_mount},
    {"volume-name-collision", "a pod template defines a volume with the name the webhook uses; the webhook keeps the user's volume",
     "rename the template's volume", false, diag_r_volume_collision},
    {"gcs-ambient-unsupported", "OSMO's data layer has no ambient credentials for gs://: a gs:// input/output needs a stored credential even with workload identity",
     "store a credential for the gs:// bucket (HMAC keys); workload identity still covers the task's own Google API calls", false, diag_r_gcs_ambient},
    {"namespace-not-selected", "the webhook's namespaceSelector/objectSelector excludes the workflow namespace or the pod",
     "label the namespace (or pod template) to match, or widen the selector", true, diag_rt_namespace_not_selected},
    {"webhook-cabundle-wrong", "the API server cannot call the webhook: its caBundle does not verify the webhook's certificate",
     "put the CA that signed the webhook's serving certificate in clientConfig.caBundle", true, diag_rt_cabundle},
    {"webhook-absent", "the pod was admitted unmutated and no identity webhook decision was recorded for it",
     "register the identity webhook (check the MutatingWebhookConfiguration, its caBundle and service)", true, diag_rt_webhook_absent},
    {"oidc-provider-missing", "the cloud has no OpenID Connect provider for the token's issuer",
     "register the cluster's issuer with the cloud", true, diag_rt_cloud_verdict},
    {"issuer-mismatch", "the role trusts another issuer than the one that signed the token",
     "make the trust's issuer exactly the cluster's --service-account-issuer", true, diag_rt_cloud_verdict},
    {"azure-issuer-trailing-slash", "the federated credential's issuer and the token's issuer differ only by a trailing '/'",
     "make the federated credential's issuer byte-for-byte the token's iss", true, diag_rt_cloud_verdict},
    {"audience-mismatch", "the token's audience is not the one the cloud trusts",
     "make the ServiceAccount/webhook audience and the trust's audience the same", true, diag_rt_cloud_verdict},
    {"gcp-fleet-audience-wrong", "the credential configuration's audience is not the workload identity pool's provider",
     "use the fleet's identity provider audience in the credential configuration", true, diag_rt_cloud_verdict},
    {"trust-subject-mismatch", "the role's trust (federated credential) names another namespace:ServiceAccount than the token's sub",
     "add system:serviceaccount:<namespace>:<name> of the pod's ServiceAccount to the trust", true, diag_rt_cloud_verdict},
    {"gcp-wi-user-binding-missing", "the Google service account has no roles/iam.workloadIdentityUser binding for the pod's identity",
     "bind roles/iam.workloadIdentityUser to the member the token maps to", true, diag_rt_cloud_verdict},
    {"role-unknown", "the annotation names a role/identity the cloud does not know",
     "annotate the ServiceAccount with an existing role ARN / client id / service account", true, diag_rt_cloud_verdict},
    {"azure-token-cached", "the exchange presented an expired token: the application read the projected token once and kept it",
     "re-read the token file before each exchange (the kubelet rotates it)", true, diag_rt_cloud_verdict},
    {"non-root-token-perms", "the container cannot read the projected token file",
     "set the pod's securityContext.fsGroup (or run as the file's group)", true, diag_rt_token_perms},
    {"bucket-not-granted", "the exchange succeeded but the role's grants do not cover the bucket operation",
     "grant the role the operation on the bucket", true, diag_rt_bucket},
    {"cross-team-leak", "an access the scenario requires to be denied was allowed: a grant is too wide",
     "narrow the role's grants to the team's own buckets", true, diag_rt_bucket},
    {"wrong-identity-answered", "the cloud saw another principal than the one the pool's ServiceAccount maps to",
     "remove the credential that wins over workload identity (see the credential source)", true, diag_rt_wrong_identity},
    {"no-known-cause", "the run failed and no rule matched; the raw facts are attached",
     "read the facts below; if this is a new misconfiguration, add a rule for it", true, r_no_known_cause},
};
#define NRULES (sizeof k_rules / sizeof k_rules[0])

const diag_rule *diag_rules(size_t *n)
{
    *n = NRULES;
    return k_rules;
}

const diag_rule *diag_rule_find(const char *id)
{
    for (size_t i = 0; i < NRULES; i++)
        if (!strcmp(k_rules[i].id, id)) return &k_rules[i];
    return NULL;
}

void diag_emit(diag_ctx *c, const diag_rule *r, char *where, char *cause, char *fix)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, c->findings)
    {
        if (!strcmp(diag_str(f, "id"), r->id) && !strcmp(diag_str(f, "where"), where ? where : "")) {
            free(where);
            free(cause);
            free(fix);
            return;
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "cause", cause ? cause : r->cause);
    cJSON_AddStringToObject(o, "fix", fix ? fix : r->fix);
    cJSON_AddStringToObject(o, "where", where ? where : "");
    cJSON_AddItemToArray(c->findings, o);
    free(where);
    free(cause);
    free(fix);
}

/* ---------------------------------------------------------------- context */
static const char *const k_profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet", "gcp-pfnet"};

static const char *infer_profile(const cJSON *facts)
{
    size_t n;
    const diag_key *keys = diag_known_keys(&n);
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(facts, "service_accounts"))
    {
        const cJSON *an = diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), "annotations");
        for (size_t i = 0; i < n; i++)
            if (keys[i].required && cJSON_GetObjectItemCaseSensitive(an, keys[i].key)) return keys[i].profile;
    }
    /* a near miss of a trigger key still says which webhook was meant */
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(facts, "service_accounts"))
    {
        const cJSON *a;
        cJSON_ArrayForEach(a, diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), "annotations"))
        {
            const diag_key *k = diag_near_key(a->string);
            if (k && k->required) return k->profile;
        }
    }
    return NULL;
}

static void ctx_free(diag_ctx *c)
{
    osmo_config_free(c->cfg);
    free(c->tbase);
    free(c->pbase);
    free(c->ns);
    cJSON_Delete(c->pools);
    cJSON_Delete(c->findings);
}

/* The values tree as OSMO would read it; services.configs.enabled is forced on
 * for the other rules (configs-disabled reports it), so one run shows every
 * problem of the file. */
static int load_values(diag_ctx *c, wih_err **err)
{
    const cJSON *tree = diag_obj(c->values, "tree");
    cJSON *copy = tree ? cJSON_Duplicate(tree, 1) : cJSON_CreateObject();
    cJSON *svc = (cJSON *)diag_obj(diag_obj(copy, "services"), "configs");
    if (svc) {
        cJSON_DeleteItemFromObjectCaseSensitive(svc, "enabled");
        cJSON_AddTrueToObject(svc, "enabled");
    }
    c->cfg = osmo_config_from_tree(copy, NULL, OSMO_MODE_AUTO, err);
    cJSON_Delete(copy);
    if (!c->cfg) {
        *err = wih_err_wrap(*err, "%s", diag_str(c->values, "file") ? diag_str(c->values, "file") : "values");
        return -1;
    }
    switch (c->cfg->shape) {
    case OSMO_SHAPE_SERVICES:
        c->tbase = wih_strdup("/services/configs/podTemplates");
        c->pbase = wih_strdup("/services/configs/pools");
        break;
    case OSMO_SHAPE_CONFIGURATION:
        c->tbase = wih_strdup("/configuration/podTemplates");
        c->pbase = wih_strdup("/configuration/pools");
        break;
    case OSMO_SHAPE_DATABASE:
        c->tbase = wih_strdup(cJSON_GetObjectItemCaseSensitive(tree, "POD_TEMPLATE") ? "/POD_TEMPLATE" : "/pod_templates");
        c->pbase = wih_strdup(cJSON_GetObjectItemCaseSensitive(tree, "POOL") ? "/POOL" : "/pools");
        break;
    default:
        c->tbase = wih_strdup("/podTemplates");
        c->pbase = wih_strdup("/pools");
    }
    return 0;
}

static int pick_pools(diag_ctx *c, wih_err **err)
{
    c->pools = cJSON_CreateArray();
    if (!c->cfg) return 0;
    const char *want = diag_str(c->facts, "pool");
    if (want) {
        if (!cJSON_GetObjectItemCaseSensitive(c->cfg->pools, want)) {
            wih_buf b;
            wih_buf_init(&b, 4096);
            const cJSON *p;
            cJSON_ArrayForEach(p, c->cfg->pools) wih_buf_addf(&b, "%s%s", b.len ? ", " : "", p->string);
            *err = wih_err_new(WIH_EXIT_INPUT, "--pool %s: the values define no such pool (pools: %s)", want,
                               b.len ? b.data : "none");
            wih_buf_free(&b);
            return -1;
        }
        cJSON_AddItemToArray(c->pools, cJSON_CreateString(want));
        return 0;
    }
    const cJSON *user = diag_ptr_get(diag_obj(c->values, "tree"), c->pbase), *p;
    cJSON_ArrayForEach(p, (cJSON_IsObject(user) ? user : NULL))
        if (cJSON_GetObjectItemCaseSensitive(c->cfg->pools, p->string))
            cJSON_AddItemToArray(c->pools, cJSON_CreateString(p->string));
    if (!cJSON_GetArraySize(c->pools) && cJSON_GetObjectItemCaseSensitive(c->cfg->pools, "default"))
        cJSON_AddItemToArray(c->pools, cJSON_CreateString("default"));
    return 0;
}

static int ctx_init(diag_ctx *c, const cJSON *facts, wih_err **err)
{
    memset(c, 0, sizeof *c);
    c->facts = facts;
    c->findings = cJSON_CreateArray();
    if (!cJSON_IsObject(facts)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "diagnosis facts must be a JSON object");
        return -1;
    }
    const char *p = diag_str(facts, "profile");
    if (p) {
        bool ok = false;
        for (size_t i = 0; i < sizeof k_profiles / sizeof *k_profiles; i++) ok = ok || !strcmp(p, k_profiles[i]);
        if (!ok) {
            *err = wih_err_new(WIH_EXIT_INPUT, "unknown profile \"%s\" (aws-irsa, azure-wi, gcp-fleet, gcp-pfnet)", p);
            return -1;
        }
        c->profile = p;
        c->profile_explicit = true;
    } else
        c->profile = infer_profile(facts);
    c->values = diag_obj(facts, "values");
    if (c->values && load_values(c, err)) return -1;
    if (pick_pools(c, err)) return -1;
    c->platform = diag_str(facts, "platform");
    const char *ns = diag_str(facts, "namespace");
    if (!ns) ns = diag_str(diag_obj(diag_obj(c->values, "tree"), "global"), "backendNamespace");
    c->ns = wih_strdup(ns ? ns : "osmo-workflows");
    return 0;
}

static cJSON *run(const cJSON *facts, bool runtime, wih_err **err)
{
    diag_ctx c;
    if (ctx_init(&c, facts, err)) {
        ctx_free(&c);
        return NULL;
    }
    c.runtime_phase = runtime;
    for (size_t i = 0; i < NRULES; i++) {
        if (k_rules[i].fn == r_no_known_cause) continue;
        if (k_rules[i].runtime && !runtime) continue;
        k_rules[i].fn(&c, &k_rules[i]);
    }
    if (runtime && !cJSON_GetArraySize(c.findings)) r_no_known_cause(&c, diag_rule_find("no-known-cause"));
    cJSON *out = c.findings;
    c.findings = NULL;
    ctx_free(&c);
    return out;
}

cJSON *diag_static(const cJSON *facts, wih_err **err)
{
    return run(facts, false, err);
}

cJSON *diag_runtime(const cJSON *facts, wih_err **err)
{
    return run(facts, true, err);
}

/* ---------------------------------------------------------- no known cause */
static cJSON *log_lines(const cJSON *facts, const char *key)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(facts, key))
    {
        cJSON *o = cJSON_IsString(l) ? cJSON_Parse(l->valuestring) : cJSON_Duplicate(l, 1);
        if (o) cJSON_AddItemToArray(out, o);
    }
    return out;
}

static void pick(cJSON *dst, const cJSON *src, const char *const *keys)
{
    for (; *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, *keys);
        if (v) cJSON_AddItemToObject(dst, *keys, cJSON_Duplicate(v, 1));
    }
}

static void r_no_known_cause(diag_ctx *c, const diag_rule *r)
{
    cJSON *sum = cJSON_CreateObject();
    const char *fail = diag_str(c->facts, "failure");
    if (fail) cJSON_AddStringToObject(sum, "failure", fail);
    if (c->profile) cJSON_AddStringToObject(sum, "profile", c->profile);
    static const char *const wk[] = {"profile", "decision", "reason", "message", "serviceAccount", "namespace", NULL};
    static const char *const ck[] = {"provider", "action", "role", "result", "verdict", "failed_check", "detail",
                                     "expected", "actual", NULL};
    static const char *const pk[] = {"credential", "exchange", "access", "error", NULL};
    const char *const *keys[] = {wk, ck};
    const char *names[] = {"webhook_log", "cloud_log"};
    for (int i = 0; i < 2; i++) {
        cJSON *lines = log_lines(c->facts, names[i]), *l;
        cJSON *arr = cJSON_AddArrayToObject(sum, names[i]);
        cJSON_ArrayForEach(l, lines)
        {
            cJSON *o = cJSON_CreateObject();
            pick(o, l, keys[i]);
            cJSON_AddItemToArray(arr, o);
        }
        cJSON_Delete(lines);
    }
    const cJSON *probe = diag_obj(c->facts, "probe");
    if (probe) {
        cJSON *o = cJSON_AddObjectToObject(sum, "probe");
        pick(o, probe, pk);
    }
    char *cause = wih_asprintf("no rule matched this failure%s%s; the raw facts are attached (not a guess)",
                               fail ? ": " : "", fail ? fail : "");
    diag_emit(c, r, wih_strdup("facts"), cause, NULL);
    cJSON *last = cJSON_GetArrayItem(c->findings, cJSON_GetArraySize(c->findings) - 1);
    cJSON_AddItemToObject(last, "facts", sum);
}

/* ------------------------------------------------------------------ output */
char *diag_format_text(const cJSON *findings)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    const cJSON *f;
    cJSON_ArrayForEach(f, findings)
    {
        wih_buf_addf(&b, "%s: [%s] %s\n    fix: %s\n", diag_str(f, "where"), diag_str(f, "id"), diag_str(f, "cause"),
                     diag_str(f, "fix"));
        const cJSON *facts = cJSON_GetObjectItemCaseSensitive(f, "facts");
        if (facts) {
            char *s = cJSON_PrintUnformatted(facts);
            wih_buf_addf(&b, "    facts: %s\n", s);
            free(s);
        }
    }
    if (!b.len) wih_buf_adds(&b, "");
    return wih_buf_take(&b);
}
