/* azure-wi: Azure/azure-workload-identity pkg/webhook (podMutator.Handle).
 *
 * Order of checks, as upstream Handle (v1.5.1 webhook.go read; v1.6 per the
 * post-1.6.0 webhook_test.go and the domain page):
 *   1. (objectSelector) only pods labelled azure.workload.identity/use: "true"
 *      reach the webhook — we evaluate it here and skip otherwise;
 *   2. SA lookup (cache, then a live GET): not found → admission.Errored(400,
 *      err) whose message is the API error text `serviceaccounts "x" not found`;
 *   3. proxy sidecar (annotation azure.workload.identity/inject-proxy-sidecar,
 *      presence): hostNetwork → 400 "hostNetwork is set to true, cannot inject
 *      proxy sidecar"; proxy-sidecar-port parsed with ParseInt(…, 10, 32)
 *      (error → 400 "failed to parse proxy sidecar port: <strconv error>");
 *      azwi-proxy-init appended to initContainers, azwi-proxy PREPENDED to
 *      containers (or to initContainers with restartPolicy Always when native
 *      sidecars are used) unless a container of that name exists;
 *   4. token expiration: pod annotation if non-empty, else SA annotation if
 *      non-empty, else 3600; ParseInt error → 400 with strconv's text;
 *      outside [3600, 86400] → 400 "token expiration N not valid. Expected
 *      value to be between 3600 and 86400" — so the SA lookup comes first;
 *   5. client-id from the SA only; tenant-id annotation if PRESENT (even empty:
 *      then no AZURE_TENANT_ID) else the configured tenant;
 *   6. skip-containers: split on ';', each trimmed;
 *   7. env (init containers first, then containers; each container:
 *      CLIENT_ID, TENANT_ID, FEDERATED_TOKEN_FILE, AUTHORITY_HOST, each only
 *      when no env entry of that NAME exists and the value is non-empty);
 *      volume mount; then the projected volume;
 *   8. the response is PatchResponseFromRaw(original, mutated): a JSON diff
 *      (see webhook_patch_diff), not a wholesale replacement.
 * Layouts:
 *   v1.5: volume/mount name azure-identity-token at /var/run/secrets/azure/tokens,
 *         path azure-identity-token; an existing mount of that NAME is kept;
 *         the volume is skipped when any projected serviceAccountToken source
 *         already has path azure-identity-token (upstream matches the PATH,
 *         not the name — the domain page's "keeps existing ones" is this).
 *   v1.6: name azure-workload-identity-reserved-<first 30 hex of
 *         sha256(pod name, or generateName + " (prefix)")>, mount
 *         /var/run/secrets/azure/wi, path token/azure-identity-token;
 *         a same-named volume/mount is replaced in place.
 *   Upstream PR #1720 (merged 2026-04, shipped in v1.6.0, "Breaking Changes:
 *   Volume path change") confirms the name prefix + <sha256>, the mount path
 *   and the token subpath. v1.6.0's webhook.go (read from the tag, 2026-12-02)
 *   confirms buildVolumeName: sha256 of the pod name (or generateName +
 *   " (prefix)"), hex truncated to 63 - len(prefix) = 30 digits; and
 *   addEnvironmentVariables: a desired env is appended only when
 *   `len(env.Value) > 0` (v1.5.1: `env.Value != ""`), so an SA without a
 *   client-id annotation (or with an empty one) gets every variable but
 *   AZURE_CLIENT_ID and the pod is still mutated and allowed
 *   (fixtures/webhook/azure-wi/upstream-*-client-id*). Upstream's post-1.6.0 tests show a
 *   later fix (TestReinvocationDoesNotProduceDuplicateMountPath: "the v1.6.0
 *   regression where a pod could end up with two volume mounts at the same
 *   mountPath" on reinvocation) that also derives the MOUNT PATH from the pod
 *   identity; v1.6.0 itself used the fixed /var/run/secrets/azure/wi, which is
 *   what we model (and which reproduces that regression on reinvocation).
 * Deviation: upstream's diff is taken after a Go round-trip of the pod, which
 * adds defaults such as "resources":{} to injected containers; our injected
 * proxy containers carry "resources":{} too, the user's containers are not
 * round-tripped.
 */
#include "webhook_int.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define AZ "azure.workload.identity/"

static char *trim_dup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\v' || *s == '\f')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\v' ||
                 s[n - 1] == '\f'))
        n--;
    return wih_asprintf("%.*s", (int)n, s);
}

static bool skipped(const char *list, const char *name)
{
    if (!list || !*list || !name) return false;
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, ';');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char *t = trim_dup(p, n);
        bool hit = !strcmp(t, name);
        free(t);
        if (hit) return true;
        if (!e) return false;
        p = e + 1;
    }
}

static char *sha256_hex30(const char *s)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
    char *hex = wih_xmalloc(65);
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    hex[30] = 0;
    return hex;
}

static cJSON *str_array(const char *const *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *proxy_init(const webhook_azure_opts *o, long long port)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "azwi-proxy-init");
    cJSON_AddStringToObject(c, "image", o->proxy_init_image);
    char ps[32];
    snprintf(ps, sizeof ps, "%lld", port);
    cJSON *env = cJSON_AddArrayToObject(c, "env");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", "PROXY_PORT");
    cJSON_AddStringToObject(e, "value", ps);
    cJSON_AddItemToArray(env, e);
    cJSON_AddObjectToObject(c, "resources");
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    cJSON *sc = cJSON_AddObjectToObject(c, "securityContext");
    cJSON *cap = cJSON_AddObjectToObject(sc, "capabilities");
    const char *add[] = {"NET_ADMIN"}, *drop[] = {"ALL"};
    cJSON_AddItemToObject(cap, "add", str_array(add, 1));
    cJSON_AddItemToObject(cap, "drop", str_array(drop, 1));
    cJSON_AddTrueToObject(sc, "privileged");
    cJSON_AddNumberToObject(sc, "runAsUser", 0);
    cJSON_AddFalseToObject(sc, "runAsNonRoot");
    return c;
}

static cJSON *proxy_sidecar(const webhook_azure_opts *o, long long port, bool native)
{
    char pp[64], ll[128];
    snprintf(pp, sizeof pp, "--proxy-port=%lld", port);
    snprintf(ll, sizeof ll, "--log-level=%s", o->proxy_log_level);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", "azwi-proxy");
    cJSON_AddStringToObject(c, "image", o->proxy_image);
    const char *args[] = {pp, ll};
    cJSON_AddItemToObject(c, "args", str_array(args, 2));
    cJSON *ports = cJSON_AddArrayToObject(c, "ports");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "containerPort", (double)port);
    cJSON_AddItemToArray(ports, p);
    cJSON_AddObjectToObject(c, "resources");
    cJSON *ex = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(c, "lifecycle"), "postStart"),
                                        "exec");
    const char *cmd[] = {"/proxy", pp, "--probe", ll};
    cJSON_AddItemToObject(ex, "command", str_array(cmd, 4));
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    cJSON *sc = cJSON_AddObjectToObject(c, "securityContext");
    const char *drop[] = {"ALL"};
    cJSON_AddItemToObject(cJSON_AddObjectToObject(sc, "capabilities"), "drop", str_array(drop, 1));
    cJSON_AddFalseToObject(sc, "privileged");
    cJSON_AddTrueToObject(sc, "runAsNonRoot");
    cJSON_AddTrueToObject(sc, "readOnlyRootFilesystem");
    cJSON_AddFalseToObject(sc, "allowPrivilegeEscalation");
    if (native) cJSON_AddStringToObject(c, "restartPolicy", "Always");
    return c;
}

typedef struct az_cfg {
    const char *client_id, *tenant_id, *authority, *vol, *mount, *token_file, *skip;
    bool v16;
} az_cfg;

static void mutate_list(cJSON *list, const az_cfg *k)
{
    cJSON *c;
    cJSON_ArrayForEach(c, list)
    {
        if (!cJSON_IsObject(c) || skipped(k->skip, wih_json_member_str(c, "name"))) continue;
        const char *names[4] = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
                                "AZURE_AUTHORITY_HOST"};
        const char *vals[4] = {k->client_id, k->tenant_id, k->token_file, k->authority};
        for (int i = 0; i < 4; i++)
            if (vals[i] && *vals[i] && !wh_env_has(c, names[i])) wh_env_append(c, names[i], vals[i]);
        cJSON *mounts = cJSON_GetObjectItemCaseSensitive(c, "volumeMounts");
        int idx;
        if (wh_named(mounts, k->vol, &idx)) {
            if (k->v16) cJSON_ReplaceItemInArray(mounts, idx, wh_mount(k->vol, k->mount));
        } else
            cJSON_AddItemToArray(wh_array_field(c, "volumeMounts"), wh_mount(k->vol, k->mount));
    }
}

static bool has_token_path_source(const cJSON *vols, const char *path)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, vols)
    {
        const cJSON *s;
        cJSON_ArrayForEach(s, wih_json_get(v, "projected.sources"))
        {
            const char *p = wih_json_get_str(s, "serviceAccountToken.path");
            if (p && !strcmp(p, path)) return true;
        }
    }
    return false;
}

void wh_azure_mutate(const cJSON *pod, const cJSON *sa, const webhook_azure_opts *o, webhook_result *r)
{
    const char *use = wh_label(pod, AZ "use");
    if (!use || strcmp(use, "true")) {
        wh_skip(r, "objectSelector: pod lacks label azure.workload.identity/use: \"true\"");
        return;
    }
    const char *sa_name = webhook_pod_sa_name(pod);
    if (!sa) {
        char *m = wih_asprintf("serviceaccounts \"%s\" not found", sa_name);
        wh_deny(r, 400, m, NULL);
        free(m);
        return;
    }
    cJSON *mut = cJSON_Duplicate(pod, 1);
    cJSON *spec = cJSON_GetObjectItemCaseSensitive(mut, "spec");
    if (!spec) spec = cJSON_AddObjectToObject(mut, "spec");

    if (wh_has_annotation(pod, AZ "inject-proxy-sidecar")) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "hostNetwork"))) {
            wh_deny(r, 400, "hostNetwork is set to true, cannot inject proxy sidecar", NULL);
            cJSON_Delete(mut);
            return;
        }
        long long port = 8000;
        const char *ps = wh_annotation(pod, AZ "proxy-sidecar-port");
        if (wh_has_annotation(pod, AZ "proxy-sidecar-port")) {
            char *em = NULL;
            if (wh_parse_int(ps ? ps : "", 32, &port, &em)) {
                char *m = wih_asprintf("failed to parse proxy sidecar port: %s", em);
                wh_deny(r, 400, m, NULL);
                free(m);
                free(em);
                cJSON_Delete(mut);
                return;
            }
        }
        cJSON *inits = wh_array_field(spec, "initContainers");
        if (!wh_named(inits, "azwi-proxy-init", NULL)) cJSON_AddItemToArray(inits, proxy_init(o, port));
        cJSON *target = o->native_sidecar ? inits : wh_array_field(spec, "containers");
        if (!wh_named(target, "azwi-proxy", NULL)) {
            cJSON *sc = proxy_sidecar(o, port, o->native_sidecar);
            wh_array_insert(target, 0, sc);
        }
    }

    long long exp = 3600;
    const char *es = wh_annotation(pod, AZ "service-account-token-expiration");
    if (!es || !*es) es = wh_annotation(sa, AZ "service-account-token-expiration");
    if (es && *es) {
        char *em = NULL;
        if (wh_parse_int(es, 64, &exp, &em)) {
            wh_deny(r, 400, em, NULL);
            free(em);
            cJSON_Delete(mut);
            return;
        }
    }
    if (exp < 3600 || exp > 86400) {
        char *m = wih_asprintf("token expiration %lld not valid. Expected value to be between 3600 and 86400", exp);
        wh_deny(r, 400, m, NULL);
        free(m);
        cJSON_Delete(mut);
        return;
    }
    const char *client_id = wh_annotation(sa, AZ "client-id");
    const char *tenant = wh_has_annotation(sa, AZ "tenant-id") ? wh_annotation(sa, AZ "tenant-id") : o->tenant_id;

    bool v16 = o->layout == WEBHOOK_AZ_V16;
    char *vol, *mount, *file;
    const char *tpath;
    if (v16) {
        char *id = webhook_pod_display_name(pod);
        char *h = sha256_hex30(id);
        vol = wih_asprintf("azure-workload-identity-reserved-%s", h);
        free(h);
        free(id);
        mount = wih_strdup("/var/run/secrets/azure/wi");
        tpath = "token/azure-identity-token";
    } else {
        vol = wih_strdup("azure-identity-token");
        mount = wih_strdup("/var/run/secrets/azure/tokens");
        tpath = "azure-identity-token";
    }
    file = wih_asprintf("%s/%s", mount, tpath);
    az_cfg k = {.client_id = client_id,
                .tenant_id = tenant,
                .authority = o->authority_host,
                .vol = vol,
                .mount = mount,
                .token_file = file,
                .skip = wh_annotation(pod, AZ "skip-containers"),
                .v16 = v16};
    mutate_list(cJSON_GetObjectItemCaseSensitive(spec, "initContainers"), &k);
    mutate_list(cJSON_GetObjectItemCaseSensitive(spec, "containers"), &k);

    cJSON *nv = cJSON_CreateObject();
    cJSON_AddStringToObject(nv, "name", vol);
    cJSON *src = cJSON_AddArrayToObject(cJSON_AddObjectToObject(nv, "projected"), "sources");
    cJSON *s0 = cJSON_CreateObject();
    cJSON *sat = cJSON_AddObjectToObject(s0, "serviceAccountToken");
    cJSON_AddStringToObject(sat, "audience", o->audience);
    cJSON_AddNumberToObject(sat, "expirationSeconds", (double)exp);
    cJSON_AddStringToObject(sat, "path", tpath);
    cJSON_AddItemToArray(src, s0);
    cJSON *vols = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
    int idx;
    if (v16 && wh_named(vols, vol, &idx))
        cJSON_ReplaceItemInArray(vols, idx, nv);
    else if (!v16 && has_token_path_source(vols, "azure-identity-token"))
        cJSON_Delete(nv);
    else
        cJSON_AddItemToArray(wh_array_field(spec, "volumes"), nv);

    r->verdict = WEBHOOK_PATCH;
    r->patch = webhook_patch_diff(pod, mut);
    r->reason = wih_asprintf("injected client-id %s, volume %s (layout %s, expiration %lld s)",
                             client_id && *client_id ? client_id : "(none)", vol, v16 ? "v1.6" : "v1.5", exp);
    cJSON_Delete(mut);
    free(vol);
    free(mount);
    free(file);
}
