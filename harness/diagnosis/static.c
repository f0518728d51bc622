/* The static rules: the values file, the ServiceAccount manifests, the
 * profile and the pool — what `wiharness explain` checks with no cluster.
 * Each rule also reads the runtime facts that prove the same cause (a webhook
 * decision line), when they are there and the static facts are not. */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

#define AZ "azure.workload.identity/"
#define USE_LABEL AZ "use"

/* ---------------------------------------------------------------- helpers */
bool diag_is_sa(const cJSON *src)
{
    const char *k = diag_str(diag_obj(src, "tree"), "kind");
    return k && !strcmp(k, "ServiceAccount");
}

const char *diag_annotation(const cJSON *obj, const char *key)
{
    return diag_str(diag_obj(diag_obj(obj, "metadata"), "annotations"), key);
}

static const cJSON *sa_list(const diag_ctx *c)
{
    return cJSON_GetObjectItemCaseSensitive(c->facts, "service_accounts");
}

static const char *obj_name(const cJSON *src)
{
    const char *n = diag_str(diag_obj(diag_obj(src, "tree"), "metadata"), "name");
    return n ? n : "?";
}

static char *ann_ptr(const char *kind, const char *key)
{
    char *b = wih_asprintf("/metadata/%s", kind);
    char *p = diag_ptr_join(b, key);
    free(b);
    return p;
}

static char *sa_where(const cJSON *src, const char *kind, const char *key)
{
    char *p = key ? ann_ptr(kind, key) : kind ? wih_asprintf("/metadata/%s", kind) : wih_strdup("/metadata");
    char *w = diag_where(src, p);
    free(p);
    return w;
}

static bool has_sa(const diag_ctx *c)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, sa_list(c)) if (diag_is_sa(s)) return true;
    return false;
}

static const cJSON *sa_named(const diag_ctx *c, const char *name)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, sa_list(c)) if (diag_is_sa(s) && !strcmp(obj_name(s), name)) return s;
    return NULL;
}

/* The user's node of template `name` (+ sub pointer), or NULL when the
 * template is the chart's. */
static const cJSON *user_tpl(const diag_ctx *c, const char *name)
{
    if (!c->values) return NULL;
    char *p = diag_ptr_join(c->tbase, name);
    const cJSON *t = diag_ptr_get(diag_obj(c->values, "tree"), p);
    free(p);
    return t;
}

static char *tpl_where(const diag_ctx *c, const char *name, const char *sub)
{
    char *p = diag_ptr_join(c->tbase, name);
    char *full = wih_asprintf("%s%s", p, sub ? sub : "");
    char *w = user_tpl(c, name) ? diag_where(c->values, full)
                                : wih_asprintf("<chart defaults>#/podTemplates/%s%s", name, sub ? sub : "");
    free(p);
    free(full);
    return w;
}

static const char *values_file(const diag_ctx *c)
{
    const char *f = diag_str(c->values, "file");
    return f ? f : "the values file";
}

/* Template names of a pool in merge order (common, then the platform's
 * overrides), as a new array of strings. */
static cJSON *pool_names(const diag_ctx *c, const char *pool)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c->cfg->pools, pool), *n;
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(p, "common_pod_template"))
        if (cJSON_IsString(n)) cJSON_AddItemToArray(out, cJSON_CreateString(n->valuestring));
    const char *plat = c->platform ? c->platform : diag_str(p, "default_platform");
    const cJSON *pl = diag_obj(diag_obj(p, "platforms"), plat ? plat : "default");
    cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(pl, "override_pod_template"))
        if (cJSON_IsString(n)) cJSON_AddItemToArray(out, cJSON_CreateString(n->valuestring));
    return out;
}

static const cJSON *tpl(const diag_ctx *c, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(c->cfg->pod_templates, name);
}

/* The merged (un-rendered) template of a pool; NULL when OSMO's merge fails
 * (the render command reports that error). */
static cJSON *merged(const diag_ctx *c, const char *pool)
{
    cJSON *names = pool_names(c, pool), *n;
    cJSON *acc = cJSON_CreateObject();
    cJSON_ArrayForEach(n, names)
    {
        const cJSON *t = tpl(c, n->valuestring);
        wih_err *e = NULL;
        if (t && osmo_merge(acc, t, NULL, &e)) {
            wih_err_free(e);
            cJSON_Delete(acc);
            acc = NULL;
            break;
        }
    }
    cJSON_Delete(names);
    return acc;
}

/* The template of the pool that sets spec.serviceAccountName last (the one
 * that wins), or NULL. */
static const char *sa_setter(const diag_ctx *c, const char *pool, const char **sa)
{
    cJSON *names = pool_names(c, pool), *n;
    const char *who = NULL;
    *sa = NULL;
    cJSON_ArrayForEach(n, names)
    {
        const char *s = diag_str(diag_obj(tpl(c, n->valuestring), "spec"), "serviceAccountName");
        if (s) {
            *sa = s;
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(c->cfg->pod_templates, n->valuestring);
            who = k ? k->string : NULL;
        }
    }
    cJSON_Delete(names);
    return who;
}

#define FOR_POOLS(c, it) cJSON_ArrayForEach(it, (c)->pools)

/* Whether a ServiceAccount matters: when the evaluated pools name their
 * ServiceAccount(s), only those (a `default` SA in the same List is not a
 * misconfiguration); otherwise every one given. */
static bool sa_relevant(const diag_ctx *c, const cJSON *src)
{
    if (!c->cfg) return true;
    bool named = false;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        const char *sa;
        if (!sa_setter(c, p->valuestring, &sa)) continue;
        named = true;
        if (!strcmp(sa, obj_name(src))) return true;
    }
    return !named;
}

/* Runtime facts: the webhook decision lines as objects (new array). */
static cJSON *wlog(const diag_ctx *c)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(c->facts, "webhook_log"))
    {
        cJSON *o = cJSON_IsString(l) ? cJSON_Parse(l->valuestring) : cJSON_Duplicate(l, 1);
        cJSON_AddItemToArray(out, o ? o : cJSON_CreateObject());
    }
    return out;
}

static bool emitted(const diag_ctx *c, const char *id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, c->findings) if (!strcmp(diag_str(f, "id"), id)) return true;
    return false;
}

/* The first webhook line whose decision is `dec` and whose reason/message
 * contains `needle`; its index in *idx. */
static const cJSON *wlog_find(cJSON *lines, const char *dec, const char *needle, int *idx)
{
    const cJSON *l;
    int i = 0;
    cJSON_ArrayForEach(l, lines)
    {
        const char *d = diag_str(l, "decision"), *r = diag_str(l, "reason"), *m = diag_str(l, "message");
        if (d && !strcmp(d, dec) && ((r && strstr(r, needle)) || (m && strstr(m, needle)))) {
            *idx = i;
            return l;
        }
        i++;
    }
    return NULL;
}

static char *wl_where(int i)
{
    char *p = wih_asprintf("/webhook_log/%d", i);
    char *w = diag_where_facts(p);
    free(p);
    return w;
}

/* ------------------------------------------------------- configs-disabled */
void diag_r_configs_disabled(diag_ctx *c, const diag_rule *r)
{
    const cJSON *svc = diag_obj(diag_obj(diag_obj(c->values, "tree"), "services"), "configs");
    if (!svc) return;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(svc, "enabled");
    if (cJSON_IsTrue(en)) return;
    const char *state = !en ? "unset (the chart's default is false)" : cJSON_IsFalse(en) ? "false" : "not a boolean";
    diag_emit(c, r, diag_where(c->values, en ? "/services/configs/enabled" : "/services/configs"),
              wih_asprintf("services.configs.enabled is %s: the chart renders no config ConfigMap, OSMO keeps its "
                           "configs in the database, and the podTemplates/pools of %s are silently ignored",
                           state, values_file(c)),
              wih_asprintf("set services.configs.enabled: true in %s (or apply the templates and pools with "
                           "`osmo config update`)",
                           values_file(c)));
}

/* ----------------------------------------------------- helm-list-replaced */
/* A dotted Helm path ("services.configs.podTemplates.default_ctrl.spec.containers")
 * to a JSON pointer in tree; keys may hold dots, so the longest key wins. */
static char *dotted_to_ptr(const cJSON *tree, const char *dotted)
{
    char *ptr = wih_strdup("");
    const cJSON *cur = tree;
    const char *p = dotted;
    while (*p && cJSON_IsObject(cur)) {
        const cJSON *best = NULL, *ch;
        size_t bl = 0;
        cJSON_ArrayForEach(ch, cur)
        {
            size_t l = strlen(ch->string);
            if (l > bl && !strncmp(p, ch->string, l) && (p[l] == '.' || !p[l])) best = ch, bl = l;
        }
        if (!best) break;
        char *np = diag_ptr_join(ptr, best->string);
        free(ptr);
        ptr = np;
        cur = best;
        p += bl;
        if (*p == '.') p++;
    }
    return ptr;
}

void diag_r_helm_list_replaced(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg) return;
    const cJSON *n;
    cJSON *chart = osmo_chart_defaults();
    cJSON_ArrayForEach(n, c->cfg->notes)
    {
        if (strcmp(diag_str(n, "code"), "helm-list-replaced") || !diag_str(n, "path")) continue;
        const char *path = diag_str(n, "path");
        char *ptr = dotted_to_ptr(diag_obj(c->values, "tree"), path);
        /* the chart's own list at the same place */
        const char *rest = strstr(path, "podTemplates.");
        if (!rest) rest = strstr(path, "pools.");
        char *cp = rest ? dotted_to_ptr(chart, rest) : NULL;
        const cJSON *orig = cp ? diag_ptr_get(chart, cp) : NULL;
        char *items = orig ? cJSON_PrintUnformatted(orig) : wih_strdup("(see the chart's values.yaml)");
        diag_emit(c, r, diag_where(c->values, ptr), wih_strdup(diag_str(n, "message")),
                  wih_asprintf("keep the chart's items in %s — the chart has %s — and add yours after them", path,
                               items));
        free(items);
        free(cp);
        free(ptr);
    }
    cJSON_Delete(chart);
}

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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (diag_is_sa(s)) continue;
        cJSON_ArrayForEach(a, diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), "annotations"))
        {
            if (!is_identity_key(a->string)) continue;
            const cJSON *sa = sa_named(c, obj_name(s));
            if (sa && diag_annotation(diag_obj(sa, "tree"), a->string)) continue;
            diag_emit(c, r, sa_where(s, "annotations", a->string),
                      wih_asprintf("%s is on a %s named \"%s\", not on a ServiceAccount: the webhook reads only the "
                                   "pod's ServiceAccount, so nothing is injected",
                                   a->string, diag_str(diag_obj(s, "tree"), "kind"), obj_name(s)),
                      wih_asprintf("put %s under metadata.annotations of ServiceAccount \"%s\" (kind: "
                                   "ServiceAccount) in the workflow namespace",
                                   a->string, obj_name(s)));
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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        char *what = wih_asprintf("%s \"%s\"", diag_str(diag_obj(s, "tree"), "kind"), obj_name(s));
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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (!diag_is_sa(s) || !sa_relevant(c, s)) continue;
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
            diag_emit(c, r, sa_where(s, an ? "annotations" : NULL, NULL),
                      wih_asprintf("ServiceAccount \"%s\" has no %s annotation: the %s webhook injects nothing "
                                   "into its pods%s%s%s",
                                   obj_name(s), k, c->profile, other ? " (it is annotated for " : "",
                                   other ? other : "", other ? ": is the profile right?)" : ""),
                      wih_asprintf("add metadata.annotations: {%s: %s}%s to ServiceAccount \"%s\"", k,
                                   example_value(c->profile),
                                   pf ? " and cloud.google.com/service-account-email" : "", obj_name(s)));
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
        diag_emit(c, r, sa_where(s, an ? "annotations" : NULL, NULL),
                  wih_asprintf("ServiceAccount \"%s\" carries no workload identity annotation of any profile: no "
                               "webhook will inject anything",
                               obj_name(s)),
                  wih_asprintf("add ONE of eks.amazonaws.com/role-arn (AWS), azure.workload.identity/client-id "
                               "(Azure), iam.gke.io/gcp-service-account (GCP) to ServiceAccount \"%s\"",
                               obj_name(s)));
    }
    /* runtime: the webhook said so */
    if (!c->runtime_phase || emitted(c, r->id)) return;
    cJSON *lines = wlog(c);
    int i;
    const cJSON *l = wlog_find(lines, "skipped", " annotation", &i);
    if (l)
        diag_emit(c, r, wl_where(i),
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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (!diag_is_sa(s)) continue;
        const char *v = diag_annotation(diag_obj(s, "tree"), key);
        if (!v || re_match(re, v)) continue;
        diag_emit(c, r, sa_where(s, "annotations", key),
                  wih_asprintf("%s of ServiceAccount \"%s\" is \"%s\", which is not %s", key, obj_name(s), v, shape),
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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (!diag_is_sa(s)) continue;
        bool h0 = diag_annotation(diag_obj(s, "tree"), k[0]) != NULL, h1 = diag_annotation(diag_obj(s, "tree"), k[1]) != NULL;
        if (h0 == h1) continue;
        const char *have = h0 ? k[0] : k[1], *miss = h0 ? k[1] : k[0];
        diag_emit(c, r, sa_where(s, "annotations", have),
                  wih_asprintf("ServiceAccount \"%s\" has %s but not %s: the gcp-pfnet webhook denies every pod "
                               "that uses it",
                               obj_name(s), have, miss),
                  wih_asprintf("add %s to ServiceAccount \"%s\" (or remove %s)", miss, obj_name(s), have));
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
    cJSON_ArrayForEach(s, sa_list(c))
    {
        const char *v = diag_annotation(diag_obj(s, "tree"), key);
        if (!diag_is_sa(s) || !exp_bad(v, &x)) continue;
        diag_emit(c, r, sa_where(s, "annotations", key),
                  wih_asprintf("%s of ServiceAccount \"%s\" is \"%s\": azure-wi denies the pod (\"token expiration "
                               "%s not valid. Expected value to be between 3600 and 86400\")",
                               key, obj_name(s), v, v),
                  wih_asprintf("set %s to a whole number of seconds from 3600 to 86400, or remove it (default 3600)",
                               key));
    }
    FOR_POOLS(c, p)
    {
        cJSON *names = pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, names)
        {
            const char *v = diag_annotation(tpl(c, n->valuestring), key);
            if (!exp_bad(v, &x)) continue;
            char *sub = ann_ptr("annotations", key);
            diag_emit(c, r, tpl_where(c, n->valuestring, sub),
                      wih_asprintf("pod template \"%s\" sets %s: \"%s\": azure-wi denies the pod", n->valuestring,
                                   key, v),
                      wih_asprintf("set it between 3600 and 86400, or remove it"));
            free(sub);
        }
        cJSON_Delete(names);
    }
    if (!c->runtime_phase || emitted(c, r->id)) return;
    cJSON *lines = wlog(c);
    int i;
    const cJSON *l = wlog_find(lines, "denied", "token expiration", &i);
    if (l) diag_emit(c, r, wl_where(i), wih_asprintf("azure-wi denied the pod: %s", diag_str(l, "message")), NULL);
    cJSON_Delete(lines);
}

/* ---------------------------------------------------- sa-wrong-namespace */
void diag_r_sa_wrong_namespace(diag_ctx *c, const diag_rule *r)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (!diag_is_sa(s) || !sa_relevant(c, s)) continue;
        const char *ns = diag_str(diag_obj(diag_obj(s, "tree"), "metadata"), "namespace");
        if (!ns || !strcmp(ns, c->ns)) continue;
        diag_emit(c, r, diag_where(s, "/metadata/namespace"),
                  wih_asprintf("ServiceAccount \"%s\" is in namespace \"%s\", but workflow pods run in \"%s\": "
                               "their ServiceAccount \"%s/%s\" does not exist",
                               obj_name(s), ns, c->ns, c->ns, obj_name(s)),
                  wih_asprintf("set metadata.namespace: %s (the backend's workflow namespace) and apply it there",
                               c->ns));
    }
}

/* -------------------------------------------------- template-unknown-name */
static void unknown_in(diag_ctx *c, const diag_rule *r, const char *pool, const cJSON *list, const char *lp)
{
    const cJSON *n;
    int i = 0;
    cJSON_ArrayForEach(n, list)
    {
        if (cJSON_IsString(n) && !tpl(c, n->valuestring)) {
            char *p = wih_asprintf("%s/%d", lp, i);
            wih_buf b;
            wih_buf_init(&b, 4096);
            const cJSON *t;
            cJSON_ArrayForEach(t, c->cfg->pod_templates) wih_buf_addf(&b, "%s%s", b.len ? ", " : "", t->string);
            diag_emit(c, r, diag_where(c->values, p),
                      wih_asprintf("pool \"%s\" lists pod template \"%s\", which is not defined (templates: %s): "
                                   "%s",
                                   pool, n->valuestring, b.len ? b.data : "none",
                                   c->cfg->mode == OSMO_MODE_DATABASE
                                       ? "OSMO rejects the pool"
                                       : "OSMO logs a warning and skips it, so its settings silently do not apply"),
                      wih_asprintf("define podTemplates.%s, or correct the name in the pool's list", n->valuestring));
            wih_buf_free(&b);
            free(p);
        }
        i++;
    }
}

void diag_r_template_unknown(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg) return;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        const char *pool = p->valuestring;
        const cJSON *po = cJSON_GetObjectItemCaseSensitive(c->cfg->pools, pool);
        char *pp = diag_ptr_join(c->pbase, pool);
        char *lp = wih_asprintf("%s/common_pod_template", pp);
        unknown_in(c, r, pool, cJSON_GetObjectItemCaseSensitive(po, "common_pod_template"), lp);
        free(lp);
        const cJSON *pl;
        cJSON_ArrayForEach(pl, diag_obj(po, "platforms"))
        {
            char *a = wih_asprintf("%s/platforms", pp);
            char *b = diag_ptr_join(a, pl->string);
            char *lp2 = wih_asprintf("%s/override_pod_template", b);
            unknown_in(c, r, pool, cJSON_GetObjectItemCaseSensitive(pl, "override_pod_template"), lp2);
            free(a);
            free(b);
            free(lp2);
        }
        free(pp);
    }
}

/* --------------------------------------------------- template-not-in-pool */
static bool pool_lists(const diag_ctx *c, const char *pool, const char *name)
{
    cJSON *names = pool_names(c, pool), *n;
    bool found = false;
    cJSON_ArrayForEach(n, names) found = found || !strcmp(n->valuestring, name);
    cJSON_Delete(names);
    return found;
}

void diag_r_template_not_in_pool(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg) return;
    const cJSON *ut = diag_ptr_get(diag_obj(c->values, "tree"), c->tbase), *t;
    const char *want = diag_str(c->facts, "pool");
    cJSON_ArrayForEach(t, (cJSON_IsObject(ut) ? ut : NULL))
    {
        bool used = false;
        const cJSON *p;
        if (want)
            used = pool_lists(c, want, t->string);
        else
            cJSON_ArrayForEach(p, c->cfg->pools) used = used || pool_lists(c, p->string, t->string);
        if (used) continue;
        const char *pool = want ? want : cJSON_GetArraySize(c->pools) ? cJSON_GetArrayItem(c->pools, 0)->valuestring : "default";
        cJSON *names = pool_names(c, pool);
        char *ls = cJSON_PrintUnformatted(names);
        cJSON_Delete(names);
        const char *sa = diag_str(diag_obj(t, "spec"), "serviceAccountName");
        diag_emit(c, r, tpl_where(c, t->string, NULL),
                  wih_asprintf("pod template \"%s\" is defined, but pool \"%s\" does not list it (common_pod_template "
                               "%s)%s%s%s",
                               t->string, pool, ls, sa ? ": its pods run as the namespace's `default` ServiceAccount, not \"" : "",
                               sa ? sa : "", sa ? "\"" : ""),
                  wih_asprintf("add \"- %s\" to pools.%s.common_pod_template in %s, after the chart's default_ctrl and "
                               "default_user",
                               t->string, pool, values_file(c)));
        free(ls);
    }
}

/* ----------------------------------------------------- template-sa-unset */
void diag_r_template_sa_unset(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg || !has_sa(c) || emitted(c, "template-not-in-pool")) return;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        const char *sa;
        if (sa_setter(c, p->valuestring, &sa)) continue;
        const cJSON *first = NULL, *s;
        cJSON_ArrayForEach(s, sa_list(c)) if (!first && diag_is_sa(s)) first = s;
        char *pp = diag_ptr_join(c->pbase, p->valuestring);
        diag_emit(c, r, diag_where(c->values, pp),
                  wih_asprintf("no pod template of pool \"%s\" sets spec.serviceAccountName: its pods run as the "
                               "namespace's `default` ServiceAccount, not \"%s\"",
                               p->valuestring, obj_name(first)),
                  wih_asprintf("add a pod template with spec: {serviceAccountName: %s} and list it in "
                               "pools.%s.common_pod_template",
                               obj_name(first), p->valuestring));
        free(pp);
    }
}

/* ------------------------------------------ azure-sa-missing / sa-name-mismatch */
static bool sa_exists_in_ns(const diag_ctx *c, const char *name)
{
    const cJSON *s = sa_named(c, name);
    const char *ns = s ? diag_str(diag_obj(diag_obj(s, "tree"), "metadata"), "namespace") : NULL;
    return s && (!ns || !strcmp(ns, c->ns));
}

void diag_r_sa_missing(diag_ctx *c, const diag_rule *r)
{
    bool azure_id = !strcmp(r->id, "azure-sa-missing");
    bool is_azure = c->profile && !strcmp(c->profile, "azure-wi");
    if (azure_id != is_azure) return;
    if (c->cfg && has_sa(c)) {
        const cJSON *p;
        FOR_POOLS(c, p)
        {
            const char *sa;
            const char *who = sa_setter(c, p->valuestring, &sa);
            if (!who || sa_named(c, sa)) continue;
            wih_buf b;
            wih_buf_init(&b, 4096);
            const cJSON *s;
            cJSON_ArrayForEach(s, sa_list(c)) if (diag_is_sa(s)) wih_buf_addf(&b, "%s\"%s\"", b.len ? ", " : "", obj_name(s));
            diag_emit(c, r, tpl_where(c, who, "/spec/serviceAccountName"),
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
    if (!c->runtime_phase || emitted(c, r->id)) return;
    cJSON *lines = wlog(c);
    int i;
    const cJSON *l = azure_id ? wlog_find(lines, "denied", "not found", &i) : wlog_find(lines, "skipped", "not found", &i);
    const char *san = l ? diag_str(l, "serviceAccount") : NULL;
    /* an SA that does exist (in the facts) was a race, not a wrong name */
    if (l && !(san && !azure_id && sa_exists_in_ns(c, san)))
        diag_emit(c, r, wl_where(i),
                  wih_asprintf("the %s webhook found no ServiceAccount \"%s\" in namespace \"%s\": %s",
                               diag_str(l, "profile") ? diag_str(l, "profile") : "identity", san ? san : "?",
                               diag_str(l, "namespace") ? diag_str(l, "namespace") : c->ns,
                               diag_str(l, "message") ? diag_str(l, "message") : diag_str(l, "reason")),
                  NULL);
    cJSON_Delete(lines);
}

void diag_rt_aws_sa_race(diag_ctx *c, const diag_rule *r)
{
    cJSON *lines = wlog(c);
    int i;
    const cJSON *l = wlog_find(lines, "skipped", "not found", &i);
    const char *san = l ? diag_str(l, "serviceAccount") : NULL;
    const char *prof = l ? diag_str(l, "profile") : NULL;
    if (l && san && prof && strcmp(prof, "azure-wi") && sa_exists_in_ns(c, san))
        diag_emit(c, r, wl_where(i),
                  wih_asprintf("the %s webhook did not find ServiceAccount \"%s/%s\" when the pod was created, yet it "
                               "exists: the pod was created before the webhook's cache saw the ServiceAccount",
                               prof, c->ns, san),
                  NULL);
    cJSON_Delete(lines);
}

/* ------------------------------------------------- azure-use-label-missing */
static char *label_misplaced(diag_ctx *c, const char *pool, char **where)
{
    cJSON *names = pool_names(c, pool), *n;
    char *why = NULL;
    cJSON_ArrayForEach(n, names)
    {
        if (why || !diag_annotation(tpl(c, n->valuestring), USE_LABEL)) continue;
        char *sub = ann_ptr("annotations", USE_LABEL);
        *where = tpl_where(c, n->valuestring, sub);
        free(sub);
        why = wih_asprintf("pod template \"%s\" sets it under metadata.annotations; the webhook's objectSelector "
                           "matches labels only",
                           n->valuestring);
    }
    cJSON_Delete(names);
    const cJSON *s;
    cJSON_ArrayForEach(s, sa_list(c))
    {
        if (why) break;
        for (int k = 0; k < 2 && !why; k++) {
            const char *kind = k ? "annotations" : "labels";
            if (!diag_str(diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), kind), USE_LABEL)) continue;
            *where = sa_where(s, kind, USE_LABEL);
            why = wih_asprintf("it is on ServiceAccount \"%s\" (metadata.%s); since v1.0 the webhook selects pods by "
                               "their own label",
                               obj_name(s), kind);
        }
    }
    return why;
}

/* The label is there with a wrong value: why, and where it is set (last wins). */
static char *label_wrong_value(diag_ctx *c, const char *pool, const cJSON *v, char **where)
{
    cJSON *names = pool_names(c, pool), *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_GetObjectItemCaseSensitive(diag_obj(diag_obj(tpl(c, n->valuestring), "metadata"), "labels"), USE_LABEL))
            continue;
        char *sub = ann_ptr("labels", USE_LABEL);
        free(*where);
        *where = tpl_where(c, n->valuestring, sub);
        free(sub);
    }
    cJSON_Delete(names);
    char *s = cJSON_PrintUnformatted(v);
    char *why = wih_asprintf("its value is %s, %s", s,
                             cJSON_IsBool(v) ? "a YAML boolean — a Kubernetes label value is a string, quote it: \"true\""
                                             : "and the objectSelector matches the exact string \"true\"");
    free(s);
    return why;
}

/* Static: the merged template of each pool must carry the label. */
static void use_label_pools(diag_ctx *c, const diag_rule *r)
{
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        cJSON *m = merged(c, p->valuestring);
        if (!m) continue;
        /* the label's value, kept past the merged tree */
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)diag_obj(diag_obj(m, "metadata"), "labels"), USE_LABEL);
        cJSON_Delete(m);
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "true")) {
            cJSON_Delete(v);
            continue;
        }
        const char *sa;
        const char *who = sa_setter(c, p->valuestring, &sa);
        char *where = NULL;
        char *why = v ? label_wrong_value(c, p->valuestring, v, &where) : label_misplaced(c, p->valuestring, &where);
        if (!where) where = who ? tpl_where(c, who, NULL) : diag_where(c->values, c->pbase);
        diag_emit(c, r, where,
                  wih_asprintf("pods of pool \"%s\" do not carry the label azure.workload.identity/use: \"true\"%s%s; "
                               "Azure Workload Identity mutates only labelled pods, so no AZURE_* variables or token "
                               "are injected and the SDK falls back to other credentials (IMDS)",
                               p->valuestring, why ? ": " : "", why ? why : ""),
                  wih_asprintf("add to pod template \"%s\" in %s:\n      metadata:\n        labels:\n          "
                               "azure.workload.identity/use: \"true\"",
                               who ? who : "the identity pod template", values_file(c)));
        free(why);
        cJSON_Delete(v);
    }
}

void diag_r_azure_use_label(diag_ctx *c, const diag_rule *r)
{
    if (!c->profile || strcmp(c->profile, "azure-wi")) return;
    use_label_pools(c, r);
    /* runtime: a pod without the label never reaches the webhook (objectSelector) */
    if (!c->runtime_phase || emitted(c, r->id)) return;
    const cJSON *pod = diag_obj(c->facts, "admitted_pod");
    if (!pod) pod = diag_obj(c->facts, "rendered_pod");
    const char *lv = diag_str(diag_obj(diag_obj(pod, "metadata"), "labels"), USE_LABEL);
    if (pod && (!lv || strcmp(lv, "true")))
        diag_emit(c, r,
                  diag_where_facts(diag_obj(c->facts, "admitted_pod") ? "/admitted_pod/metadata/labels"
                                                                      : "/rendered_pod/metadata/labels"),
                  wih_asprintf("the pod's labels lack azure.workload.identity/use: \"true\"%s%s%s: the API server never "
                               "offered it to Azure Workload Identity",
                               lv ? " (it is \"" : "", lv ? lv : "", lv ? "\")" : ""),
                  NULL);
}

/* ---------------------------------------------- template env / volume scans */
typedef void (*env_fn)(diag_ctx *c, const diag_rule *r, const char *pool, const char *tname, const char *sub,
                       const cJSON *env);

static void scan_env(diag_ctx *c, const diag_rule *r, env_fn fn)
{
    if (!c->cfg) return;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        cJSON *names = pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, names)
        {
            const cJSON *spec = diag_obj(tpl(c, n->valuestring), "spec");
            static const char *const lists[] = {"initContainers", "containers"};
            for (int l = 0; l < 2; l++) {
                const cJSON *ct;
                int ci = 0;
                cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(spec, lists[l]))
                {
                    const cJSON *e;
                    int ei = 0;
                    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ct, "env"))
                    {
                        char *sub = wih_asprintf("/spec/%s/%d/env/%d", lists[l], ci, ei);
                        if (diag_str(e, "name")) fn(c, r, p->valuestring, n->valuestring, sub, e);
                        free(sub);
                        ei++;
                    }
                    ci++;
                }
            }
        }
        cJSON_Delete(names);
    }
}

static void static_env(diag_ctx *c, const diag_rule *r, const char *pool, const char *tname, const char *sub,
                       const cJSON *env)
{
    static const char *const keys[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                       "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_PASSWORD",
                                       "GOOGLE_APPLICATION_CREDENTIALS"};
    const char *name = diag_str(env, "name"), *val = diag_str(env, "value");
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        if (strcmp(name, keys[i])) continue;
        /* the fleet's own credential configuration is workload identity */
        if (i == 6 && val && !strncmp(val, "/var/run/secrets/tokens/gcp-ksa/", 32)) return;
        diag_emit(c, r, tpl_where(c, tname, sub),
                  wih_asprintf("pod template \"%s\" (pool \"%s\") sets %s: the SDK's default credential chain reads "
                               "%s before workload identity, so the pod acts as that key's identity, not the "
                               "ServiceAccount's",
                               tname, pool, name, i == 6 ? "a credential file named by it" : "static keys from the env"),
                  wih_asprintf("remove %s from pod template \"%s\" (and the secret behind it)", name, tname));
    }
}

void diag_r_static_credential(diag_ctx *c, const diag_rule *r)
{
    scan_env(c, r, static_env);
    if (!c->runtime_phase || emitted(c, r->id)) return;
    const cJSON *cred = diag_obj(diag_obj(c->facts, "probe"), "credential");
    const char *src = diag_str(cred, "source");
    if (src && (!strcmp(src, "static-env") || !strcmp(src, "client-secret")))
        diag_emit(c, r, diag_where_facts("/probe/credential"),
                  wih_asprintf("the probe's SDK chain picked a static credential (%s: %s), not workload identity", src,
                               diag_str(cred, "detail") ? diag_str(cred, "detail") : "?"),
                  NULL);
}

/* The pool's ServiceAccount carries the trigger of the profile (webhook fires). */
static bool pool_sa_annotated(diag_ctx *c, const char *pool, const char *key)
{
    const char *sa;
    if (!sa_setter(c, pool, &sa)) return false;
    const cJSON *s = sa_named(c, sa);
    return s && diag_annotation(diag_obj(s, "tree"), key);
}

static bool aws_preset(const char *n)
{
    return !strcmp(n, "AWS_ROLE_ARN") || !strcmp(n, "AWS_WEB_IDENTITY_TOKEN_FILE");
}

static void preset_env(diag_ctx *c, const diag_rule *r, const char *pool, const char *tname, const char *sub,
                       const cJSON *env)
{
    const char *name = diag_str(env, "name");
    bool aws = aws_preset(name);
    bool az = !strcmp(name, "AZURE_CLIENT_ID") || !strcmp(name, "AZURE_TENANT_ID") ||
              !strcmp(name, "AZURE_FEDERATED_TOKEN_FILE");
    if (!aws && !az) return;
    bool breaks = aws && has_sa(c) && !pool_sa_annotated(c, pool, "eks.amazonaws.com/role-arn");
    if (breaks != !strcmp(r->id, "env-preset-breaks-mount")) return;
    if (breaks)
        diag_emit(c, r, tpl_where(c, tname, sub),
                  wih_asprintf("pod template \"%s\" sets %s by hand, and the pool's ServiceAccount has no "
                               "eks.amazonaws.com/role-arn: the webhook does not fire, so no aws-iam-token volume is "
                               "mounted and the SDK fails on a token file that does not exist",
                               tname, name),
                  wih_asprintf("remove %s from pod template \"%s\" and annotate the ServiceAccount with "
                               "eks.amazonaws.com/role-arn instead",
                               name, tname));
    else
        diag_emit(c, r, tpl_where(c, tname, sub),
                  wih_asprintf("pod template \"%s\" sets %s itself: the %s webhook never overwrites it%s", tname, name,
                               aws ? "aws-irsa" : "azure-wi",
                               aws ? " and then adds neither AWS_ROLE_ARN nor AWS_WEB_IDENTITY_TOKEN_FILE"
                                   : ", so the pod keeps the template's value"),
                  wih_asprintf("remove %s from pod template \"%s\"; the webhook injects it", name, tname));
}

void diag_r_env_preset(diag_ctx *c, const diag_rule *r)
{
    scan_env(c, r, preset_env);
    if (!c->runtime_phase || emitted(c, r->id)) return;
    /* runtime: the admitted pod's AWS_ROLE_ARN is not the ServiceAccount's role */
    const cJSON *pod = diag_obj(c->facts, "admitted_pod"), *ct, *e;
    const char *san = diag_str(diag_obj(pod, "spec"), "serviceAccountName");
    const cJSON *sa = san ? sa_named(c, san) : NULL;
    const char *want = sa ? diag_annotation(diag_obj(sa, "tree"), "eks.amazonaws.com/role-arn") : NULL;
    int ci = 0;
    cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(diag_obj(pod, "spec"), "containers"))
    {
        int ei = 0;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ct, "env"))
        {
            const char *n = diag_str(e, "name"), *v = diag_str(e, "value");
            if (want && n && v && !strcmp(n, "AWS_ROLE_ARN") && strcmp(v, want)) {
                char *p = wih_asprintf("/admitted_pod/spec/containers/%d/env/%d", ci, ei);
                diag_emit(c, r, diag_where_facts(p),
                          wih_asprintf("container \"%s\" has AWS_ROLE_ARN=%s, but ServiceAccount \"%s\" names %s: the "
                                       "value was set before the webhook, which never overwrites it",
                                       diag_str(ct, "name") ? diag_str(ct, "name") : "?", v, san, want),
                          NULL);
                free(p);
            }
            ei++;
        }
        ci++;
    }
}

void diag_r_env_breaks_mount(diag_ctx *c, const diag_rule *r)
{
    scan_env(c, r, preset_env);
    if (!c->runtime_phase || emitted(c, r->id)) return;
    /* runtime: the admitted pod points at a token file no volume mount provides */
    const cJSON *pod = diag_obj(c->facts, "admitted_pod"), *ct;
    int ci = 0;
    cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(diag_obj(pod, "spec"), "containers"))
    {
        const cJSON *e;
        const char *file = NULL;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ct, "env"))
            if (diag_str(e, "name") && !strcmp(diag_str(e, "name"), "AWS_WEB_IDENTITY_TOKEN_FILE")) file = diag_str(e, "value");
        bool mounted = false;
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(ct, "volumeMounts"))
        {
            const char *mp = diag_str(m, "mountPath");
            if (file && mp && !strncmp(file, mp, strlen(mp))) mounted = true;
        }
        if (file && !mounted) {
            char *p = wih_asprintf("/admitted_pod/spec/containers/%d/env", ci);
            diag_emit(c, r, diag_where_facts(p),
                      wih_asprintf("container \"%s\" has AWS_WEB_IDENTITY_TOKEN_FILE=%s but no volume is mounted "
                                   "there",
                                   diag_str(ct, "name") ? diag_str(ct, "name") : "?", file),
                      NULL);
            free(p);
        }
        ci++;
    }
}

/* -------------------------------------------------- volume-name-collision */
void diag_r_volume_collision(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg) return;
    static const char *const names[] = {"aws-iam-token", "azure-identity-token", "gcp-ksa"};
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        cJSON *tn = pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, tn)
        {
            const cJSON *v;
            int vi = 0;
            cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(diag_obj(tpl(c, n->valuestring), "spec"), "volumes"))
            {
                const char *vn = diag_str(v, "name");
                for (size_t i = 0; vn && i < sizeof names / sizeof *names; i++) {
                    if (strcmp(vn, names[i])) continue;
                    char *sub = wih_asprintf("/spec/volumes/%d", vi);
                    diag_emit(c, r, tpl_where(c, n->valuestring, sub),
                              wih_asprintf("pod template \"%s\" defines a volume named \"%s\", the name the identity "
                                           "webhook uses for its projected token: the webhook keeps the template's "
                                           "volume, so the SDK reads whatever that volume holds",
                                           n->valuestring, vn),
                              wih_asprintf("rename volume \"%s\" in pod template \"%s\" (and its volumeMounts)", vn,
                                           n->valuestring));
                    free(sub);
                }
                vi++;
            }
        }
        cJSON_Delete(tn);
    }
}

/* ------------------------------------------------- gcs-ambient-unsupported */
static void gs_urls(diag_ctx *c, const diag_rule *r, const cJSON *n, const char *ptr)
{
    const cJSON *ch;
    int i = 0;
    cJSON_ArrayForEach(ch, n)
    {
        char *cp = cJSON_IsArray(n) ? wih_asprintf("%s/%d", ptr, i) : diag_ptr_join(ptr, ch->string);
        if (cJSON_IsString(ch) && ch->string && !strcmp(ch->string, "url") && !strncmp(ch->valuestring, "gs://", 5))
            diag_emit(c, r, diag_where(diag_obj(c->facts, "workflow"), cp),
                      wih_asprintf("the workflow reads or writes %s: OSMO's data layer uses ambient (workload "
                                   "identity) credentials only for s3:// and azure://; for gs:// it raises "
                                   "NotImplementedError unless a credential is stored",
                                   ch->valuestring),
                      wih_strdup("store a credential for the bucket with `osmo credential` (GCS HMAC keys) — "
                                 "workload identity still covers the task's own Google API calls"));
        else if (cJSON_IsObject(ch) || cJSON_IsArray(ch))
            gs_urls(c, r, ch, cp);
        free(cp);
        i++;
    }
}

void diag_r_gcs_ambient(diag_ctx *c, const diag_rule *r)
{
    if (!c->profile || strncmp(c->profile, "gcp-", 4)) return;
    gs_urls(c, r, diag_obj(diag_obj(c->facts, "workflow"), "tree"), "");
}
