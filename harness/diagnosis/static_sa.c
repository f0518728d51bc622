/* Static rules over the ServiceAccount manifests: the objects, the annotation
 * keys and values, the namespace, the name the pools use. Each rule also reads
 * the runtime facts that prove the same cause, when the static ones do not. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

#define AZ "azure.workload.identity/"

/* ----------------------------------------------------- sa-on-wrong-object */
static bool is_identity_key(const char *k)
{
    size_t n;
    const diag_key *keys = diag_known_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (keys[i].kind == DK_SA_ANNOTATION && !strcmp(keys[i].key, k)) return true;
    return false;
}

void diag_r_sa_on_wrong_object(diag_ctx *c, const diag_rule *r)
{
    const cJSON *s, *a;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (diag_is_sa(s)) continue;
        cJSON_ArrayForEach(a, diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), "annotations"))
        {
            if (!is_identity_key(a->string)) continue;
            const cJSON *sa = diag_sa_named(c, diag_obj_name(s));
            if (sa && diag_annotation(diag_obj(sa, "tree"), a->string)) continue;
            diag_emit(c, r, diag_sa_where(s, "annotations", a->string),
                      wih_asprintf("%s is on a %s named \"%s\", not on a ServiceAccount: the webhook reads only the "
                                   "pod's ServiceAccount, so nothing is injected",
                                   a->string, diag_str(diag_obj(s, "tree"), "kind"), diag_obj_name(s)),
                      wih_asprintf("put %s under metadata.annotations of ServiceAccount \"%s\" (kind: "
                                   "ServiceAccount) in the workflow namespace",
                                   a->string, diag_obj_name(s)));
        }
    }
}

/* ----------------------------------------------------- sa-annotation-typo */
static void typo_scan(diag_ctx *c, const diag_rule *r, const cJSON *src, const char *base, const char *what)
{
    static const char *const kinds[] = {"annotations", "labels"};
    for (int k = 0; k < 2; k++) {
        char *bp = wih_asprintf("%s/metadata/%s", base, kinds[k]);
        const cJSON *m = diag_ptr_get(diag_obj(src, "tree"), bp), *a;
        cJSON_ArrayForEach(a, (cJSON_IsObject(m) ? m : NULL))
        {
            const diag_key *near = diag_near_key(a->string);
            if (!near) continue;
            char *p = diag_ptr_join(bp, a->string);
            diag_emit(c, r, diag_where(src, p),
                      wih_asprintf("%s key \"%s\" on %s is not a key the %s webhook reads; the nearest known key "
                                   "is \"%s\"",
                                   k ? "label" : "annotation", a->string, what, near->profile, near->key),
                      wih_asprintf("rename \"%s\" to \"%s\"", a->string, near->key));
            free(p);
        }
        free(bp);
    }
}

void diag_r_annotation_typo(diag_ctx *c, const diag_rule *r)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        char *what = wih_asprintf("%s \"%s\"", diag_str(diag_obj(s, "tree"), "kind"), diag_obj_name(s));
        typo_scan(c, r, s, "", what);
        free(what);
    }
    const cJSON *ut = c->values ? diag_ptr_get(diag_obj(c->values, "tree"), c->tbase) : NULL, *t;
    cJSON_ArrayForEach(t, (cJSON_IsObject(ut) ? ut : NULL))
    {
        char *base = diag_ptr_join(c->tbase, t->string);
        char *what = wih_asprintf("pod template \"%s\"", t->string);
        typo_scan(c, r, c->values, base, what);
        free(what);
        free(base);
    }
}

/* -------------------------------------------------- sa-annotation-missing */
static bool near_of(const cJSON *an, const char *key)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, an)
    {
        const diag_key *k = diag_near_key(a->string);
        if (k && !strcmp(k->key, key)) return true;
    }
    return false;
}

static const char *required_key(const char *profile)
{
    size_t n;
    const diag_key *keys = diag_known_keys(&n);
    for (size_t i = 0; i < n; i++)
        if (keys[i].required && !strcmp(keys[i].profile, profile)) return keys[i].key;
    return NULL;
}

static const char *example_value(const char *profile)
{
    if (!strcmp(profile, "aws-irsa")) return "arn:aws:iam::<account-id>:role/<role-name>";
    if (!strcmp(profile, "azure-wi")) return "<managed-identity-client-id>";
    if (!strcmp(profile, "gcp-fleet")) return "<gsa>@<project>.iam.gserviceaccount.com";
    return "projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>";
}

void diag_r_annotation_missing(diag_ctx *c, const diag_rule *r)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (!diag_is_sa(s) || !diag_sa_relevant(c, s)) continue;
        const cJSON *an = diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), "annotations");
        if (c->profile) {
            const char *k = required_key(c->profile);
            bool pf = !strcmp(c->profile, "gcp-pfnet");
            bool have = cJSON_GetObjectItemCaseSensitive(an, k) ||
                        (pf && cJSON_GetObjectItemCaseSensitive(an, "cloud.google.com/service-account-email"));
            if (have || near_of(an, k)) continue;
            const char *other = NULL;
            size_t nk;
            const diag_key *keys = diag_known_keys(&nk);
            for (size_t i = 0; i < nk && !other; i++)
                if (keys[i].required && cJSON_GetObjectItemCaseSensitive(an, keys[i].key)) other = keys[i].profile;
            diag_emit(c, r, diag_sa_where(s, an ? "annotations" : NULL, NULL),
                      wih_asprintf("ServiceAccount \"%s\" has no %s annotation: the %s webhook injects nothing "
                                   "into its pods%s%s%s",
                                   diag_obj_name(s), k, c->profile, other ? " (it is annotated for " : "",
                                   other ? other : "", other ? ": is the profile right?)" : ""),
                      wih_asprintf("add metadata.annotations: {%s: %s}%s to ServiceAccount \"%s\"", k,
                                   example_value(c->profile),
                                   pf ? " and cloud.google.com/service-account-email" : "", diag_obj_name(s)));
            continue;
        }
        size_t n;
        const diag_key *keys = diag_known_keys(&n);
        bool any = false;
        for (size_t i = 0; i < n; i++)
            if (keys[i].required &&
                (cJSON_GetObjectItemCaseSensitive(an, keys[i].key) || near_of(an, keys[i].key)))
                any = true;
        if (any) continue;
        diag_emit(c, r, diag_sa_where(s, an ? "annotations" : NULL, NULL),
                  wih_asprintf("ServiceAccount \"%s\" carries no workload identity annotation of any profile: no "
                               "webhook will inject anything",
                               diag_obj_name(s)),
                  wih_asprintf("add ONE of eks.amazonaws.com/role-arn (AWS), azure.workload.identity/client-id "
                               "(Azure), iam.gke.io/gcp-service-account (GCP) to ServiceAccount \"%s\"",
                               diag_obj_name(s)));
    }
    /* runtime: the webhook said so */
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
    cJSON *lines = diag_wlog(c);
    int i;
    const cJSON *l = diag_wlog_find(lines, "skipped", " annotation", &i);
    if (l)
        diag_emit(c, r, diag_wl_where(i),
                  wih_asprintf("the %s webhook skipped the pod: %s", diag_str(l, "profile") ? diag_str(l, "profile") : "identity",
                               diag_str(l, "reason")),
                  NULL);
    cJSON_Delete(lines);
}

/* ------------------------------------------------------ malformed values */
static bool re_match(const char *re, const char *s)
{
    regex_t rx;
    if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB)) abort(); /* a constant */
    bool ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

static void check_value(diag_ctx *c, const diag_rule *r, const char *key, const char *re, const char *shape)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (!diag_is_sa(s)) continue;
        const char *v = diag_annotation(diag_obj(s, "tree"), key);
        if (!v || re_match(re, v)) continue;
        diag_emit(c, r, diag_sa_where(s, "annotations", key),
                  wih_asprintf("%s of ServiceAccount \"%s\" is \"%s\", which is not %s", key, diag_obj_name(s), v, shape),
                  wih_asprintf("set %s to %s", key, shape));
    }
}

void diag_r_malformed_role_arn(diag_ctx *c, const diag_rule *r)
{
    check_value(c, r, "eks.amazonaws.com/role-arn",
                "^arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::[0-9]{12}:role/([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$",
                "an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<role-name>)");
}

#define GUID_RE "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
void diag_r_malformed_client_id(diag_ctx *c, const diag_rule *r)
{
    check_value(c, r, AZ "client-id", GUID_RE, "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
    check_value(c, r, AZ "tenant-id", GUID_RE, "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
}

#define GSA_RE "^[A-Za-z0-9_-]{1,30}@[a-z][a-z0-9-]{4,28}[a-z0-9]\\.iam\\.gserviceaccount\\.com$"
void diag_r_malformed_gsa_email(diag_ctx *c, const diag_rule *r)
{
    check_value(c, r, "iam.gke.io/gcp-service-account", GSA_RE, "<name>@<project-id>.iam.gserviceaccount.com");
    check_value(c, r, "cloud.google.com/service-account-email", GSA_RE, "<name>@<project-id>.iam.gserviceaccount.com");
}

void diag_r_malformed_wi_provider(diag_ctx *c, const diag_rule *r)
{
    check_value(c, r, "cloud.google.com/workload-identity-provider",
                "^projects/[0-9]+/locations/[a-z0-9-]+/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$",
                "projects/<project-number>/locations/<location>/workloadIdentityPools/<pool>/providers/<provider>");
}

/* --------------------------------------------------- pfnet-half-annotated */
void diag_r_pfnet_half(diag_ctx *c, const diag_rule *r)
{
    static const char *const k[2] = {"cloud.google.com/workload-identity-provider",
                                     "cloud.google.com/service-account-email"};
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (!diag_is_sa(s)) continue;
        bool h0 = diag_annotation(diag_obj(s, "tree"), k[0]) != NULL, h1 = diag_annotation(diag_obj(s, "tree"), k[1]) != NULL;
        if (h0 == h1) continue;
        const char *have = h0 ? k[0] : k[1], *miss = h0 ? k[1] : k[0];
        diag_emit(c, r, diag_sa_where(s, "annotations", have),
                  wih_asprintf("ServiceAccount \"%s\" has %s but not %s: the gcp-pfnet webhook denies every pod "
                               "that uses it",
                               diag_obj_name(s), have, miss),
                  wih_asprintf("add %s to ServiceAccount \"%s\" (or remove %s)", miss, diag_obj_name(s), have));
    }
}

/* ---------------------------------------------- azure-expiration-out-of-range */
static bool exp_bad(const char *v, long long *out)
{
    char *end;
    if (!v || !*v) return false;
    long long x = strtoll(v, &end, 10);
    *out = x;
    return *end || x < 3600 || x > 86400;
}

void diag_r_azure_expiration(diag_ctx *c, const diag_rule *r)
{
    const char *key = AZ "service-account-token-expiration";
    const cJSON *s, *p;
    long long x;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        const char *v = diag_annotation(diag_obj(s, "tree"), key);
        if (!diag_is_sa(s) || !exp_bad(v, &x)) continue;
        diag_emit(c, r, diag_sa_where(s, "annotations", key),
                  wih_asprintf("%s of ServiceAccount \"%s\" is \"%s\": azure-wi denies the pod (\"token expiration "
                               "%s not valid. Expected value to be between 3600 and 86400\")",
                               key, diag_obj_name(s), v, v),
                  wih_asprintf("set %s to a whole number of seconds from 3600 to 86400, or remove it (default 3600)",
                               key));
    }
    FOR_POOLS(c, p)
    {
        cJSON *names = diag_pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, names)
        {
            const char *v = diag_annotation(diag_tpl(c, n->valuestring), key);
            if (!exp_bad(v, &x)) continue;
            char *sub = diag_ann_ptr("annotations", key);
            diag_emit(c, r, diag_tpl_where(c, n->valuestring, sub),
                      wih_asprintf("pod template \"%s\" sets %s: \"%s\": azure-wi denies the pod", n->valuestring,
                                   key, v),
                      wih_asprintf("set it between 3600 and 86400, or remove it"));
            free(sub);
        }
        cJSON_Delete(names);
    }
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
    cJSON *lines = diag_wlog(c);
    int i;
    const cJSON *l = diag_wlog_find(lines, "denied", "token expiration", &i);
    if (l) diag_emit(c, r, diag_wl_where(i), wih_asprintf("azure-wi denied the pod: %s", diag_str(l, "message")), NULL);
    cJSON_Delete(lines);
}

/* ---------------------------------------------------- sa-wrong-namespace */
void diag_r_sa_wrong_namespace(diag_ctx *c, const diag_rule *r)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (!diag_is_sa(s) || !diag_sa_relevant(c, s)) continue;
        const char *ns = diag_str(diag_obj(diag_obj(s, "tree"), "metadata"), "namespace");
        if (!ns || !strcmp(ns, c->ns)) continue;
        diag_emit(c, r, diag_where(s, "/metadata/namespace"),
                  wih_asprintf("ServiceAccount \"%s\" is in namespace \"%s\", but workflow pods run in \"%s\": "
                               "their ServiceAccount \"%s/%s\" does not exist",
                               diag_obj_name(s), ns, c->ns, c->ns, diag_obj_name(s)),
                  wih_asprintf("set metadata.namespace: %s (the backend's workflow namespace) and apply it there",
                               c->ns));
    }
}

/* ------------------------------------------ azure-sa-missing / sa-name-mismatch */
static bool sa_exists_in_ns(const diag_ctx *c, const char *name)
{
    const cJSON *s = diag_sa_named(c, name);
    const char *ns = s ? diag_str(diag_obj(diag_obj(s, "tree"), "metadata"), "namespace") : NULL;
    return s && (!ns || !strcmp(ns, c->ns));
}

void diag_r_sa_missing(diag_ctx *c, const diag_rule *r)
{
    bool azure_id = !strcmp(r->id, "azure-sa-missing");
    bool is_azure = c->profile && !strcmp(c->profile, "azure-wi");
    if (azure_id != is_azure) return;
    if (c->cfg && diag_has_sa(c)) {
        const cJSON *p;
        FOR_POOLS(c, p)
        {
            const char *sa;
            const char *who = diag_sa_setter(c, p->valuestring, &sa);
            if (!who || diag_sa_named(c, sa)) continue;
            wih_buf b;
            wih_buf_init(&b, 4096);
            const cJSON *s;
            cJSON_ArrayForEach(s, diag_sa_list(c)) if (diag_is_sa(s)) wih_buf_addf(&b, "%s\"%s\"", b.len ? ", " : "", diag_obj_name(s));
            diag_emit(c, r, diag_tpl_where(c, who, "/spec/serviceAccountName"),
                      wih_asprintf("pool \"%s\" runs its pods as ServiceAccount \"%s\" (pod template \"%s\"), but the "
                                   "manifests define %s%s",
                                   p->valuestring, sa, who, b.data,
                                   azure_id ? ": azure-wi denies the pod (serviceaccounts \"…\" not found)"
                                            : ": the webhook finds no annotated ServiceAccount and injects nothing"),
                      wih_asprintf("make spec.serviceAccountName in pod template \"%s\" and the ServiceAccount's "
                                   "metadata.name the same",
                                   who));
            wih_buf_free(&b);
        }
    }
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
    cJSON *lines = diag_wlog(c);
    int i;
    const cJSON *l = azure_id ? diag_wlog_find(lines, "denied", "not found", &i) : diag_wlog_find(lines, "skipped", "not found", &i);
    const char *san = l ? diag_str(l, "serviceAccount") : NULL;
    /* an SA that does exist (in the facts) was a race, not a wrong name */
    if (l && !(san && !azure_id && sa_exists_in_ns(c, san)))
        diag_emit(c, r, diag_wl_where(i),
                  wih_asprintf("the %s webhook found no ServiceAccount \"%s\" in namespace \"%s\": %s",
                               diag_str(l, "profile") ? diag_str(l, "profile") : "identity", san ? san : "?",
                               diag_str(l, "namespace") ? diag_str(l, "namespace") : c->ns,
                               diag_str(l, "message") ? diag_str(l, "message") : diag_str(l, "reason")),
                  NULL);
    cJSON_Delete(lines);
}

void diag_rt_aws_sa_race(diag_ctx *c, const diag_rule *r)
{
    cJSON *lines = diag_wlog(c);
    int i;
    const cJSON *l = diag_wlog_find(lines, "skipped", "not found", &i);
    const char *san = l ? diag_str(l, "serviceAccount") : NULL;
    const char *prof = l ? diag_str(l, "profile") : NULL;
    if (l && san && prof && strcmp(prof, "azure-wi") && sa_exists_in_ns(c, san))
        diag_emit(c, r, diag_wl_where(i),
                  wih_asprintf("the %s webhook did not find ServiceAccount \"%s/%s\" when the pod was created, yet it "
                               "exists: the pod was created before the webhook's cache saw the ServiceAccount",
                               prof, c->ns, san),
                  NULL);
    cJSON_Delete(lines);
}

