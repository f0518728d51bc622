/* aws-irsa: amazon-eks-pod-identity-webhook, STS web identity path.
 *
 * Read from upstream pkg/handler/handler.go (buildPodPatchConfig,
 * getPodSpecPatch, addEnvToContainer, parsePodAnnotations,
 * getContainersToSkip) and pkg/cache/cache.go (addSA):
 *  - the SA comes from the informer cache: a missing SA, or one without
 *    <prefix>/role-arn (or with an empty one), means "not mutated", allowed;
 *  - audience: SA <prefix>/audience when PRESENT (even empty) > flag;
 *  - regional STS: SA <prefix>/sts-regional-endpoints parsed with
 *    strconv.ParseBool, invalid → flag value kept;
 *  - token expiration: pod annotation > SA annotation > flag, each parsed with
 *    strconv.ParseInt; invalid → ignored; below 600 → 600 (no upper clamp);
 *  - <prefix>/skip-containers: encoding/csv, first record, no trimming; a
 *    parse error skips nothing;
 *  - per container: AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE are a pair,
 *    AWS_REGION/AWS_DEFAULT_REGION are a pair, AWS_STS_REGIONAL_ENDPOINTS alone;
 *    when all three groups are already present the container is left exactly
 *    as is (not even the volume mount is added) — upstream's early return;
 *    the mount is matched by NAME only;
 *  - windows pods (nodeSelector [beta.]kubernetes.io/os=windows) get the token
 *    path as C:\var\run\...;
 *  - the patch: the volume at /spec/volumes/0 (or /spec/volumes = [vol] when
 *    the pod has no volumes list), unless a volume of that NAME exists; then
 *    /spec/containers wholesale, then /spec/initContainers wholesale when the
 *    pod has init containers. Upstream emits this even when nothing changed.
 * Upstream round-trips containers through Go structs, so every container in
 * the wholesale lists carries "resources":{} — we add it too (the golden cases
 * fixtures/webhook/aws-irsa/upstream-* transcribe upstream testdata goldens); unlike
 * upstream we do not drop fields unknown to corev1.Container.
 * Expiration jitter: since upstream PR #260 (2025) the DEFAULT expiration is
 * randomised in [79200, 86400] (pkg.DefaultMinTokenExpiration); upstream's
 * goldens show 79200 because their test rand source returns 0. A mock must be
 * deterministic, so we use tokenExpiration exactly; real EKS pods that rely on
 * the default get a value in that range.
 * The domain page's EKS Pod Identity (container credentials) path is a later
 * profile and not implemented here.
 */
#include "webhook_int.h"

#include <stdlib.h>
#include <string.h>

/* Go encoding/csv Reader.Read() of the first record. Returns field count or
 * -1 on a parse error / EOF (upstream then skips nothing). */
static int csv_first_record(const char *s, char ***out)
{
    *out = NULL;
    /* blank lines are skipped by encoding/csv */
    while (*s == '\n' || (*s == '\r' && s[1] == '\n')) s += *s == '\r' ? 2 : 1;
    if (!*s) return -1; /* io.EOF */
    int n = 0, cap = 4;
    char **v = wih_xmalloc((size_t)cap * sizeof *v);
    wih_buf f;
    wih_buf_init(&f, WIH_BUF_DEFAULT_MAX);
    const char *p = s;
    for (;;) {
        wih_buf_reset(&f);
        wih_buf_adds(&f, "");
        bool end = false;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) goto fail; /* extraneous or missing " in quoted-field */
                if (*p == '"') {
                    if (p[1] == '"') {
                        wih_buf_add(&f, "\"", 1);
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\r' && p[1] == '\n') {
                    wih_buf_add(&f, "\n", 1);
                    p += 2;
                    continue;
                }
                wih_buf_add(&f, p++, 1);
            }
            if (*p == ',')
                p++;
            else if (!*p || *p == '\n' || (*p == '\r' && p[1] == '\n'))
                end = true;
            else
                goto fail; /* extraneous " in field */
        } else {
            while (*p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n')) {
                if (*p == '"') goto fail; /* bare " in non-quoted-field */
                wih_buf_add(&f, p++, 1);
            }
            if (*p == ',')
                p++;
            else
                end = true;
        }
        if (n == cap) v = wih_xrealloc(v, (size_t)(cap *= 2) * sizeof *v);
        v[n++] = wih_buf_take(&f);
        if (end) break;
    }
    wih_buf_free(&f);
    *out = v;
    return n;
fail:
    wih_buf_free(&f);
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
    return -1;
}

static bool in_list(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v[i], s)) return true;
    return false;
}

typedef struct aws_cfg {
    const char *role, *region, *vol, *mount, *token_file;
    bool regional;
} aws_cfg;

/* upstream addEnvToContainer (web identity branch); returns true if changed */
static bool add_env(cJSON *c, const aws_cfg *k)
{
    bool webid = wh_env_has(c, "AWS_ROLE_ARN") || wh_env_has(c, "AWS_WEB_IDENTITY_TOKEN_FILE");
    bool region = wh_env_has(c, "AWS_REGION") || wh_env_has(c, "AWS_DEFAULT_REGION");
    bool sts = wh_env_has(c, "AWS_STS_REGIONAL_ENDPOINTS");
    if (webid && region && sts) return false;
    bool changed = false;
    if (!sts && k->regional) {
        wh_env_append(c, "AWS_STS_REGIONAL_ENDPOINTS", "regional");
        changed = true;
    }
    if (!region && k->region && *k->region) {
        wh_env_append(c, "AWS_DEFAULT_REGION", k->region);
        wh_env_append(c, "AWS_REGION", k->region);
        changed = true;
    }
    if (!webid) {
        wh_env_append(c, "AWS_ROLE_ARN", k->role);
        wh_env_append(c, "AWS_WEB_IDENTITY_TOKEN_FILE", k->token_file);
        changed = true;
    }
    cJSON *mounts = cJSON_GetObjectItemCaseSensitive(c, "volumeMounts");
    if (!wh_named(mounts, k->vol, NULL)) {
        cJSON_AddItemToArray(wh_array_field(c, "volumeMounts"), wh_mount(k->vol, k->mount));
        changed = true;
    }
    return changed;
}

/* filepath.Clean for the simple absolute paths a mount path is */
static char *clean_join(const char *dir, const char *file)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    return wih_asprintf("%.*s/%s", (int)n, dir, file);
}

void wh_aws_mutate(const cJSON *pod, const cJSON *sa, const webhook_aws_opts *o, webhook_result *r)
{
    const char *prefix = o->annotation_prefix;
    const char *sa_name = webhook_pod_sa_name(pod);
    /* objectSelector of upstream's deploy/mutatingwebhook.yaml (fixed key) */
    if (cJSON_GetObjectItemCaseSensitive(wh_path(pod, "metadata", "labels"),
                                         "eks.amazonaws.com/skip-pod-identity-webhook")) {
        wh_skip(r, "objectSelector: pod has label eks.amazonaws.com/skip-pod-identity-webhook");
        return;
    }
    if (!sa) {
        wh_skip(r, "service account \"%s\" not found (not mutated, as upstream on a cache miss)", sa_name);
        return;
    }
    char key[512];
    snprintf(key, sizeof key, "%s/role-arn", prefix);
    const char *role = wh_annotation(sa, key);
    if (!role || !*role) {
        wh_skip(r, "service account \"%s\" has no %s annotation", sa_name, key);
        return;
    }
    snprintf(key, sizeof key, "%s/audience", prefix);
    const char *aud = wh_annotation(sa, key);
    if (!aud) aud = o->token_audience;
    bool regional = o->sts_regional_endpoint;
    snprintf(key, sizeof key, "%s/sts-regional-endpoints", prefix);
    const char *rs = wh_annotation(sa, key);
    if (rs) (void)wh_parse_bool(rs, &regional); /* invalid → ignored */
    long long exp = o->token_expiration, v;
    snprintf(key, sizeof key, "%s/token-expiration", prefix);
    const char *es = wh_annotation(sa, key);
    if (es && !wh_parse_int(es, 64, &v, NULL)) exp = v < 600 ? 600 : v;
    es = wh_annotation(pod, key);
    if (es && !wh_parse_int(es, 64, &v, NULL)) exp = v < 600 ? 600 : v;

    char **skip = NULL;
    int nskip = 0;
    snprintf(key, sizeof key, "%s/skip-containers", prefix);
    const char *sk = wh_annotation(pod, key);
    if (sk) {
        nskip = csv_first_record(sk, &skip);
        if (nskip < 0) nskip = 0;
    }

    char *token_file = clean_join(o->token_mount_path, "token");
    const cJSON *ns = wh_path(pod, "spec", "nodeSelector");
    const char *os1 = wh_str(ns, "beta.kubernetes.io/os"), *os2 = wh_str(ns, "kubernetes.io/os");
    if ((os1 && !strcmp(os1, "windows")) || (os2 && !strcmp(os2, "windows"))) {
        char *w = wih_asprintf("C:%s", token_file);
        for (char *c = w; *c; c++)
            if (*c == '/') *c = '\\';
        free(token_file);
        token_file = w;
    }
    aws_cfg k = {.role = role,
                 .region = o->default_region,
                 .vol = "aws-iam-token",
                 .mount = o->token_mount_path,
                 .token_file = token_file,
                 .regional = regional};

    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
    bool changed = false;
    cJSON *lists[2] = {NULL, NULL};
    const char *fields[2] = {"initContainers", "containers"};
    for (int f = 0; f < 2; f++) {
        lists[f] = cJSON_CreateArray();
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(spec, fields[f]))
        {
            cJSON *copy = cJSON_Duplicate(c, 1);
            const char *name = wh_str(c, "name");
            if (!(name && in_list(skip, nskip, name)) && cJSON_IsObject(copy) && add_env(copy, &k)) changed = true;
            /* upstream marshals corev1.Container: "resources" is always present */
            if (cJSON_IsObject(copy) && !cJSON_GetObjectItemCaseSensitive(copy, "resources"))
                cJSON_AddObjectToObject(copy, "resources");
            cJSON_AddItemToArray(lists[f], copy);
        }
    }

    cJSON *patch = cJSON_CreateArray();
    const cJSON *vols = cJSON_GetObjectItemCaseSensitive(spec, "volumes");
    if (!wh_named(vols, k.vol, NULL)) {
        cJSON *vol = cJSON_CreateObject();
        cJSON_AddStringToObject(vol, "name", k.vol);
        cJSON *src = cJSON_AddArrayToObject(cJSON_AddObjectToObject(vol, "projected"), "sources");
        cJSON *sat = cJSON_CreateObject();
        cJSON *t = cJSON_AddObjectToObject(sat, "serviceAccountToken");
        cJSON_AddStringToObject(t, "audience", aud);
        cJSON_AddNumberToObject(t, "expirationSeconds", (double)exp);
        cJSON_AddStringToObject(t, "path", "token");
        cJSON_AddItemToArray(src, sat);
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "op", "add");
        if (!vols || cJSON_IsNull(vols)) {
            cJSON_AddStringToObject(op, "path", "/spec/volumes");
            cJSON *arr = cJSON_AddArrayToObject(op, "value");
            cJSON_AddItemToArray(arr, vol);
        } else {
            cJSON_AddStringToObject(op, "path", "/spec/volumes/0");
            cJSON_AddItemToObject(op, "value", vol);
        }
        cJSON_AddItemToArray(patch, op);
        changed = true;
    }
    cJSON *op = cJSON_CreateObject();
    cJSON_AddStringToObject(op, "op", "add");
    cJSON_AddStringToObject(op, "path", "/spec/containers");
    cJSON_AddItemToObject(op, "value", lists[1]);
    cJSON_AddItemToArray(patch, op);
    if (cJSON_GetArraySize(lists[0]) > 0) {
        op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "op", "add");
        cJSON_AddStringToObject(op, "path", "/spec/initContainers");
        cJSON_AddItemToObject(op, "value", lists[0]);
        cJSON_AddItemToArray(patch, op);
    } else
        cJSON_Delete(lists[0]);

    r->verdict = WEBHOOK_PATCH;
    r->patch = patch;
    r->reason = changed ? wih_asprintf("injected role %s (audience %s, expiration %lld s)", role, aud, exp)
                        : wih_strdup("required volume mounts and env variables were already present");
    for (int i = 0; i < nskip; i++) free(skip[i]);
    free(skip);
    free(token_file);
}
