/* The runtime rules: what the admitted pod, the webhook's and the mock
 * cloud's decision logs and the probe's verdict prove. */
#include <stdlib.h>
#include <string.h>

#include "diag_int.h"

static cJSON *lines_of(const diag_ctx *c, const char *key)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(c->facts, key))
    {
        cJSON *o = cJSON_IsString(l) ? cJSON_Parse(l->valuestring) : cJSON_Duplicate(l, 1);
        cJSON_AddItemToArray(out, o ? o : cJSON_CreateObject());
    }
    return out;
}

static bool has_id(const diag_ctx *c, const char *id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, c->findings) if (!strcmp(diag_str(f, "id"), id)) return true;
    return false;
}

static char *facts_at(const char *fmt, int i)
{
    char *p = wih_asprintf(fmt, i);
    char *w = diag_where_facts(p);
    free(p);
    return w;
}

/* ------------------------------------------- namespace-not-selected and TLS */
/* A Kubernetes LabelSelector against labels: matchLabels and matchExpressions
 * (In, NotIn, Exists, DoesNotExist). An empty selector selects everything. */
static bool selector_matches(const cJSON *sel, const cJSON *labels, char **why)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, diag_obj(sel, "matchLabels"))
    {
        const char *v = diag_str(labels, m->string);
        if (!cJSON_IsString(m) || !v || strcmp(v, m->valuestring)) {
            *why = wih_asprintf("matchLabels %s=%s (it has %s)", m->string, cJSON_IsString(m) ? m->valuestring : "?",
                                v ? v : "no such label");
            return false;
        }
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"))
    {
        const char *key = diag_str(m, "key"), *op = diag_str(m, "operator");
        if (!key || !op) continue;
        const char *v = diag_str(labels, key);
        bool in = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(m, "values")) in = in || (v && cJSON_IsString(x) && !strcmp(x->valuestring, v));
        bool ok = !strcmp(op, "In") ? in : !strcmp(op, "NotIn") ? !in : !strcmp(op, "Exists") ? v != NULL
                                                                                             : !strcmp(op, "DoesNotExist") ? v == NULL : true;
        if (!ok) {
            *why = wih_asprintf("matchExpressions %s %s (it has %s)", key, op, v ? v : "no such label");
            return false;
        }
    }
    return true;
}

void diag_rt_namespace_not_selected(diag_ctx *c, const diag_rule *r)
{
    const cJSON *nsl = diag_obj(c->facts, "namespace_labels");
    const cJSON *pod = diag_obj(c->facts, "admitted_pod");
    if (!pod) pod = diag_obj(c->facts, "rendered_pod");
    const cJSON *podl = diag_obj(diag_obj(pod, "metadata"), "labels");
    const cJSON *cfg, *wh;
    int ci = 0;
    cJSON_ArrayForEach(cfg, cJSON_GetObjectItemCaseSensitive(c->facts, "webhook_configurations"))
    {
        int wi = 0;
        cJSON_ArrayForEach(wh, cJSON_GetObjectItemCaseSensitive(cfg, "webhooks"))
        {
            char *why = NULL;
            const char *what = NULL;
            if (nsl && diag_obj(wh, "namespaceSelector") && !selector_matches(diag_obj(wh, "namespaceSelector"), nsl, &why))
                what = "namespaceSelector";
            else if (pod && diag_obj(wh, "objectSelector") && !selector_matches(diag_obj(wh, "objectSelector"), podl, &why)) {
                what = "objectSelector";
                /* the Azure use label has its own, more precise id */
                if (has_id(c, "azure-use-label-missing") && strstr(why, "azure.workload.identity/use")) what = NULL;
            }
            if (what) {
                char *p = wih_asprintf("/webhook_configurations/%d/webhooks/%d/%s", ci, wi, what);
                diag_emit(c, r, diag_where_facts(p),
                          wih_asprintf("webhook \"%s\" is never called for this pod: its %s requires %s",
                                       diag_str(wh, "name") ? diag_str(wh, "name") : "?", what, why),
                          wih_asprintf("label the %s to match the %s (or widen the selector)",
                                       !strcmp(what, "namespaceSelector") ? "workflow namespace" : "pod template", what));
                free(p);
            }
            free(why);
            wi++;
        }
        ci++;
    }
}

void diag_rt_cabundle(diag_ctx *c, const diag_rule *r)
{
    const char *e = diag_str(c->facts, "webhook_call_error");
    if (!e || !(strstr(e, "x509") || strstr(e, "certificate") || strstr(e, "tls:")))
        return;
    diag_emit(c, r, diag_where_facts("/webhook_call_error"),
              wih_asprintf("the API server could not call the identity webhook over TLS: %s", e), NULL);
}

/* ------------------------------------------------------------ webhook-absent */
static bool pod_has_identity_env(const cJSON *pod)
{
    static const char *const vars[] = {"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE",
                                       "GOOGLE_APPLICATION_CREDENTIALS", "AWS_CONTAINER_CREDENTIALS_FULL_URI"};
    const cJSON *ct, *e;
    cJSON_ArrayForEach(ct, cJSON_GetObjectItemCaseSensitive(diag_obj(pod, "spec"), "containers"))
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ct, "env"))
    {
        const char *n = diag_str(e, "name");
        for (size_t i = 0; n && i < sizeof vars / sizeof *vars; i++)
            if (!strcmp(n, vars[i])) return true;
    }
    return false;
}

void diag_rt_webhook_absent(diag_ctx *c, const diag_rule *r)
{
    const cJSON *pod = diag_obj(c->facts, "admitted_pod");
    if (!pod || pod_has_identity_env(pod) || has_id(c, "azure-use-label-missing") || has_id(c, "namespace-not-selected") ||
        has_id(c, "webhook-cabundle-wrong"))
        return;
    if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c->facts, "webhook_log")) > 0) return;
    const cJSON *reg = cJSON_GetObjectItemCaseSensitive(c->facts, "webhook_registered");
    const char *name = diag_str(diag_obj(pod, "metadata"), "name");
    diag_emit(c, r, diag_where_facts("/webhook_log"),
              wih_asprintf("pod \"%s\" was admitted without identity env or token volume, and the identity webhook "
                           "recorded no decision for it%s",
                           name ? name : "?",
                           cJSON_IsFalse(reg) ? ": no MutatingWebhookConfiguration was registered"
                                              : ": the API server did not call it (registration, selectors, caBundle "
                                                "or service unreachable with failurePolicy: Ignore)"),
              NULL);
}

/* ------------------------------------------------------------ cloud verdicts */
static bool slash_only(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t la = strlen(a), lb = strlen(b);
    if (la == lb + 1) return a[la - 1] == '/' && !strncmp(a, b, lb);
    if (lb == la + 1) return b[lb - 1] == '/' && !strncmp(a, b, la);
    return false;
}

/* The diagnosis id of one denied cloud decision line, or NULL. */
static const char *cloud_id(const cJSON *l)
{
    const char *res = diag_str(l, "result"), *v = diag_str(l, "verdict"), *chk = diag_str(l, "failed_check");
    const char *prov = diag_str(l, "provider"), *act = diag_str(l, "action");
    if (!res || strcmp(res, "deny") || !v) return NULL;
    const char *want = diag_str(diag_obj(l, "expected"), "iss"), *got = diag_str(diag_obj(l, "actual"), "iss");
    bool azure = prov && !strcmp(prov, "azure"), google = prov && !strcmp(prov, "google");
    if (!strcmp(v, "issuer-unknown") || (!strcmp(v, "subject") && chk && !strcmp(chk, "trust-issuer"))) {
        if (slash_only(want, got)) return azure ? "azure-issuer-trailing-slash" : "issuer-mismatch";
        return !strcmp(v, "issuer-unknown") ? "oidc-provider-missing" : "issuer-mismatch";
    }
    if (!strcmp(v, "subject"))
        return google && act && !strcmp(act, "generateAccessToken") ? "gcp-wi-user-binding-missing"
                                                                    : "trust-subject-mismatch";
    if (!strcmp(v, "audience")) return google && act && !strcmp(act, "token") ? "gcp-fleet-audience-wrong" : "audience-mismatch";
    /* Google STS refuses an unknown pool/provider audience before any token check */
    if (!strcmp(v, "audience-parameter")) return "gcp-fleet-audience-wrong";
    if (!strcmp(v, "role-unknown")) return "role-unknown";
    if (!strcmp(v, "expired") && azure) return "azure-token-cached";
    return NULL;
}

static char *jstr(const cJSON *v)
{
    if (!v) return wih_strdup("(none)");
    if (cJSON_IsString(v)) return wih_asprintf("\"%s\"", v->valuestring);
    return cJSON_PrintUnformatted(v);
}

void diag_rt_cloud_verdict(diag_ctx *c, const diag_rule *r)
{
    cJSON *lines = lines_of(c, "cloud_log"), *l;
    int i = 0;
    cJSON_ArrayForEach(l, lines)
    {
        const char *id = cloud_id(l);
        if (id && !strcmp(id, r->id)) {
            const cJSON *exp = diag_obj(l, "expected"), *act = diag_obj(l, "actual");
            bool aud = strstr(r->id, "audience") != NULL, sub = strstr(r->id, "subject") || strstr(r->id, "binding");
            const char *k = aud ? "aud" : sub ? "sub" : "iss";
            char *e = jstr(cJSON_GetObjectItemCaseSensitive(exp, k)), *a = jstr(cJSON_GetObjectItemCaseSensitive(act, k));
            const char *role = diag_str(l, "role");
            diag_emit(c, r, facts_at("/cloud_log/%d", i),
                      sub ? wih_asprintf("%s %s refused%s%s%s: %s (the token's sub is %s)",
                                         diag_str(l, "provider") ? diag_str(l, "provider") : "cloud",
                                         diag_str(l, "action") ? diag_str(l, "action") : "exchange",
                                         role ? " for \"" : "", role ? role : "", role ? "\"" : "",
                                         diag_str(l, "detail") ? diag_str(l, "detail") : "", a)
                          : wih_asprintf("%s %s refused%s%s%s: %s (%s expected %s, token has %s)",
                                         diag_str(l, "provider") ? diag_str(l, "provider") : "cloud",
                                         diag_str(l, "action") ? diag_str(l, "action") : "exchange",
                                         role ? " for \"" : "", role ? role : "", role ? "\"" : "",
                                         diag_str(l, "detail") ? diag_str(l, "detail") : "", k, e, a),
                      NULL);
            free(e);
            free(a);
        }
        i++;
    }
    cJSON_Delete(lines);
}

/* ------------------------------------------------------- non-root-token-perms */
void diag_rt_token_perms(diag_ctx *c, const diag_rule *r)
{
    const cJSON *probe = diag_obj(c->facts, "probe");
    if (!probe) return;
    const char *where = NULL, *msg = NULL;
    const char *cands[][2] = {{"/probe/error", diag_str(probe, "error")},
                              {"/probe/exchange/error", diag_str(diag_obj(probe, "exchange"), "error")},
                              {"/probe/credential/detail", diag_str(diag_obj(probe, "credential"), "detail")}};
    for (size_t i = 0; i < 3 && !msg; i++)
        if (cands[i][1] && strstr(cands[i][1], "ermission denied")) where = cands[i][0], msg = cands[i][1];
    if (!msg) return;
    const cJSON *tok = diag_obj(probe, "token");
    const char *mode = diag_str(tok, "mode");
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(tok, "uid"), *gid = cJSON_GetObjectItemCaseSensitive(tok, "gid");
    diag_emit(c, r, diag_where_facts(where),
              wih_asprintf("the container could not read its projected token (%s)%s%s%s%s%s", msg,
                           mode ? "; the file is mode " : "", mode ? mode : "", cJSON_IsNumber(uid) ? ", owner uid " : "",
                           cJSON_IsNumber(uid) ? (uid->valueint ? "non-root" : "0") : "",
                           cJSON_IsNumber(gid) ? " (a non-root container needs the file's group: fsGroup)" : ""),
              NULL);
}

/* ------------------------------------------- bucket-not-granted / cross-team-leak */
static const char *expected_result(const diag_ctx *c, const char *op, const char *url)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->facts, "expect_access"))
    {
        const char *eo = diag_str(e, "op"), *eu = diag_str(e, "url");
        if (eo && eu && op && url && !strcmp(eo, op) && !strcmp(eu, url)) return diag_str(e, "result");
    }
    return NULL;
}

void diag_rt_bucket(diag_ctx *c, const diag_rule *r)
{
    bool leak = !strcmp(r->id, "cross-team-leak");
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(diag_obj(c->facts, "probe"), "access"))
    {
        const char *op = diag_str(a, "op"), *url = diag_str(a, "url"), *res = diag_str(a, "result");
        const char *reason = diag_str(a, "reason"), *id = diag_str(a, "identity");
        const char *want = expected_result(c, op, url);
        if (!res) {
            i++;
            continue;
        }
        if (!leak && !strcmp(res, "denied") && reason && !strcmp(reason, "bucket-refused") &&
            (!want || !strcmp(want, "allowed")))
            diag_emit(c, r, facts_at("/probe/access/%d", i),
                      wih_asprintf("%s on %s was refused for %s (HTTP %d%s%s): the exchange worked, the role's grants "
                                   "do not cover this bucket operation",
                                   op ? op : "?", url ? url : "?", id ? id : "the pod's identity",
                                   cJSON_GetObjectItemCaseSensitive(a, "status") ? cJSON_GetObjectItemCaseSensitive(a, "status")->valueint : 0,
                                   diag_str(a, "code") ? " " : "", diag_str(a, "code") ? diag_str(a, "code") : ""),
                      wih_asprintf("grant %s on %s to the role (wiharness cloud role set … --grant)", op ? op : "the operation",
                                   url ? url : "the bucket"));
        if (leak && !strcmp(res, "allowed") && want && !strcmp(want, "denied"))
            diag_emit(c, r, facts_at("/probe/access/%d", i),
                      wih_asprintf("%s on %s was allowed for %s, but the scenario requires it to be denied: a grant is "
                                   "too wide",
                                   op ? op : "?", url ? url : "?", id ? id : "the pod's identity"),
                      wih_asprintf("narrow the role's grants so %s is not covered", url ? url : "that bucket"));
        i++;
    }
}

/* ---------------------------------------------------- wrong-identity-answered */
void diag_rt_wrong_identity(diag_ctx *c, const diag_rule *r)
{
    const char *want = diag_str(c->facts, "expected_identity");
    const cJSON *probe = diag_obj(c->facts, "probe");
    if (!want || !probe) return;
    const char *got = diag_str(diag_obj(probe, "exchange"), "identity");
    const char *where = "/probe/exchange/identity";
    char wbuf[64];
    if (!got) {
        const cJSON *a;
        int i = 0;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(probe, "access"))
        {
            if (!got && diag_str(a, "identity")) {
                got = diag_str(a, "identity");
                snprintf(wbuf, sizeof wbuf, "/probe/access/%d/identity", i);
                where = wbuf;
            }
            i++;
        }
    }
    if (!got || !strcmp(got, want)) return;
    const cJSON *cred = diag_obj(probe, "credential");
    diag_emit(c, r, diag_where_facts(where),
              wih_asprintf("the cloud saw \"%s\", not the expected \"%s\" (the SDK used credential source %s%s%s%s)",
                           got, want, diag_str(cred, "source") ? diag_str(cred, "source") : "?",
                           diag_str(cred, "detail") ? ": " : "", diag_str(cred, "detail") ? diag_str(cred, "detail") : "",
                           ""),
              NULL);
}
