/* Static rules over the values file: what OSMO reads, the pool templates it
 * merges, the label, env and volumes they give the pod, and the workflow's data
 * URLs. Each rule also reads the runtime facts that prove the same cause. */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

#define AZ "azure.workload.identity/"
#define USE_LABEL AZ "use"

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
                           state, diag_values_file(c)),
              wih_asprintf("set services.configs.enabled: true in %s (or apply the templates and pools with "
                           "`osmo config update`)",
                           diag_values_file(c)));
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

/* -------------------------------------------------- template-unknown-name */
static void unknown_in(diag_ctx *c, const diag_rule *r, const char *pool, const cJSON *list, const char *lp)
{
    const cJSON *n;
    int i = 0;
    cJSON_ArrayForEach(n, list)
    {
        if (cJSON_IsString(n) && !diag_tpl(c, n->valuestring)) {
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
    cJSON *names = diag_pool_names(c, pool), *n;
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
        cJSON *names = diag_pool_names(c, pool);
        char *ls = cJSON_PrintUnformatted(names);
        cJSON_Delete(names);
        const char *sa = diag_str(diag_obj(t, "spec"), "serviceAccountName");
        diag_emit(c, r, diag_tpl_where(c, t->string, NULL),
                  wih_asprintf("pod template \"%s\" is defined, but pool \"%s\" does not list it (common_pod_template "
                               "%s)%s%s%s",
                               t->string, pool, ls, sa ? ": its pods run as the namespace's `default` ServiceAccount, not \"" : "",
                               sa ? sa : "", sa ? "\"" : ""),
                  wih_asprintf("add \"- %s\" to pools.%s.common_pod_template in %s, after the chart's default_ctrl and "
                               "default_user",
                               t->string, pool, diag_values_file(c)));
        free(ls);
    }
}

/* ----------------------------------------------------- template-sa-unset */
void diag_r_template_sa_unset(diag_ctx *c, const diag_rule *r)
{
    if (!c->cfg || !diag_has_sa(c) || diag_emitted(c, "template-not-in-pool")) return;
    const cJSON *p;
    FOR_POOLS(c, p)
    {
        const char *sa;
        if (diag_sa_setter(c, p->valuestring, &sa)) continue;
        const cJSON *first = NULL, *s;
        cJSON_ArrayForEach(s, diag_sa_list(c)) if (!first && diag_is_sa(s)) first = s;
        char *pp = diag_ptr_join(c->pbase, p->valuestring);
        diag_emit(c, r, diag_where(c->values, pp),
                  wih_asprintf("no pod template of pool \"%s\" sets spec.serviceAccountName: its pods run as the "
                               "namespace's `default` ServiceAccount, not \"%s\"",
                               p->valuestring, diag_obj_name(first)),
                  wih_asprintf("add a pod template with spec: {serviceAccountName: %s} and list it in "
                               "pools.%s.common_pod_template",
                               diag_obj_name(first), p->valuestring));
        free(pp);
    }
}

/* ------------------------------------------------- azure-use-label-missing */
static char *label_misplaced(diag_ctx *c, const char *pool, char **where)
{
    cJSON *names = diag_pool_names(c, pool), *n;
    char *why = NULL;
    cJSON_ArrayForEach(n, names)
    {
        if (why || !diag_annotation(diag_tpl(c, n->valuestring), USE_LABEL)) continue;
        char *sub = diag_ann_ptr("annotations", USE_LABEL);
        *where = diag_tpl_where(c, n->valuestring, sub);
        free(sub);
        why = wih_asprintf("pod template \"%s\" sets it under metadata.annotations; the webhook's objectSelector "
                           "matches labels only",
                           n->valuestring);
    }
    cJSON_Delete(names);
    const cJSON *s;
    cJSON_ArrayForEach(s, diag_sa_list(c))
    {
        if (why) break;
        for (int k = 0; k < 2 && !why; k++) {
            const char *kind = k ? "annotations" : "labels";
            if (!diag_str(diag_obj(diag_obj(diag_obj(s, "tree"), "metadata"), kind), USE_LABEL)) continue;
            *where = diag_sa_where(s, kind, USE_LABEL);
            why = wih_asprintf("it is on ServiceAccount \"%s\" (metadata.%s); since v1.0 the webhook selects pods by "
                               "their own label",
                               diag_obj_name(s), kind);
        }
    }
    return why;
}

/* The label is there with a wrong value: why, and where it is set (last wins). */
static char *label_wrong_value(diag_ctx *c, const char *pool, const cJSON *v, char **where)
{
    cJSON *names = diag_pool_names(c, pool), *n;
    cJSON_ArrayForEach(n, names)
    {
        if (!cJSON_GetObjectItemCaseSensitive(diag_obj(diag_obj(diag_tpl(c, n->valuestring), "metadata"), "labels"), USE_LABEL))
            continue;
        char *sub = diag_ann_ptr("labels", USE_LABEL);
        free(*where);
        *where = diag_tpl_where(c, n->valuestring, sub);
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
        cJSON *m = diag_merged(c, p->valuestring);
        if (!m) continue;
        /* the label's value, kept past the merged tree */
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)diag_obj(diag_obj(m, "metadata"), "labels"), USE_LABEL);
        cJSON_Delete(m);
        if (cJSON_IsString(v) && !strcmp(v->valuestring, "true")) {
            cJSON_Delete(v);
            continue;
        }
        const char *sa;
        const char *who = diag_sa_setter(c, p->valuestring, &sa);
        char *where = NULL;
        char *why = v ? label_wrong_value(c, p->valuestring, v, &where) : label_misplaced(c, p->valuestring, &where);
        if (!where) where = who ? diag_tpl_where(c, who, NULL) : diag_where(c->values, c->pbase);
        diag_emit(c, r, where,
                  wih_asprintf("pods of pool \"%s\" do not carry the label azure.workload.identity/use: \"true\"%s%s; "
                               "Azure Workload Identity mutates only labelled pods, so no AZURE_* variables or token "
                               "are injected and the SDK falls back to other credentials (IMDS)",
                               p->valuestring, why ? ": " : "", why ? why : ""),
                  wih_asprintf("add to pod template \"%s\" in %s:\n      metadata:\n        labels:\n          "
                               "azure.workload.identity/use: \"true\"",
                               who ? who : "the identity pod template", diag_values_file(c)));
        free(why);
        cJSON_Delete(v);
    }
}

void diag_r_azure_use_label(diag_ctx *c, const diag_rule *r)
{
    if (!c->profile || strcmp(c->profile, "azure-wi")) return;
    use_label_pools(c, r);
    /* runtime: a pod without the label never reaches the webhook (objectSelector) */
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
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
        cJSON *names = diag_pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, names)
        {
            const cJSON *spec = diag_obj(diag_tpl(c, n->valuestring), "spec");
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
        diag_emit(c, r, diag_tpl_where(c, tname, sub),
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
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
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
    if (!diag_sa_setter(c, pool, &sa)) return false;
    const cJSON *s = diag_sa_named(c, sa);
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
    bool breaks = aws && diag_has_sa(c) && !pool_sa_annotated(c, pool, "eks.amazonaws.com/role-arn");
    if (breaks != !strcmp(r->id, "env-preset-breaks-mount")) return;
    if (breaks)
        diag_emit(c, r, diag_tpl_where(c, tname, sub),
                  wih_asprintf("pod template \"%s\" sets %s by hand, and the pool's ServiceAccount has no "
                               "eks.amazonaws.com/role-arn: the webhook does not fire, so no aws-iam-token volume is "
                               "mounted and the SDK fails on a token file that does not exist",
                               tname, name),
                  wih_asprintf("remove %s from pod template \"%s\" and annotate the ServiceAccount with "
                               "eks.amazonaws.com/role-arn instead",
                               name, tname));
    else
        diag_emit(c, r, diag_tpl_where(c, tname, sub),
                  wih_asprintf("pod template \"%s\" sets %s itself: the %s webhook never overwrites it%s", tname, name,
                               aws ? "aws-irsa" : "azure-wi",
                               aws ? " and then adds neither AWS_ROLE_ARN nor AWS_WEB_IDENTITY_TOKEN_FILE"
                                   : ", so the pod keeps the template's value"),
                  wih_asprintf("remove %s from pod template \"%s\"; the webhook injects it", name, tname));
}

void diag_r_env_preset(diag_ctx *c, const diag_rule *r)
{
    scan_env(c, r, preset_env);
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
    /* runtime: the admitted pod's AWS_ROLE_ARN is not the ServiceAccount's role */
    const cJSON *pod = diag_obj(c->facts, "admitted_pod"), *ct, *e;
    const char *san = diag_str(diag_obj(pod, "spec"), "serviceAccountName");
    const cJSON *sa = san ? diag_sa_named(c, san) : NULL;
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
    if (!c->runtime_phase || diag_emitted(c, r->id)) return;
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
        cJSON *tn = diag_pool_names(c, p->valuestring), *n;
        cJSON_ArrayForEach(n, tn)
        {
            const cJSON *v;
            int vi = 0;
            cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(diag_obj(diag_tpl(c, n->valuestring), "spec"), "volumes"))
            {
                const char *vn = diag_str(v, "name");
                for (size_t i = 0; vn && i < sizeof names / sizeof *names; i++) {
                    if (strcmp(vn, names[i])) continue;
                    char *sub = wih_asprintf("/spec/volumes/%d", vi);
                    diag_emit(c, r, diag_tpl_where(c, n->valuestring, sub),
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

