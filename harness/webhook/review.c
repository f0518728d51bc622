/* AdmissionReview v1 handling (pure apart from the SA lookup callback and the
 * decision log), and the MutatingWebhookConfiguration per profile. */
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "webhook_int.h"
#include "wiharness/kube.h"

static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;

static char *b64(const char *s, size_t n)
{
    return wih_b64_encode(s, n, 0); /* core's one base64 */
}

typedef struct logctx {
    const char *uid, *ns, *sa;
    char *pod;
} logctx;

static void log_line(FILE *f, const logctx *c, const char *profile, const char *decision, const char *reason,
                     const char *message, int nops)
{
    if (!f) return;
    cJSON *o = cJSON_CreateObject();
    int64_t ms = wih_wall_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[80];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "uid", c->uid ? c->uid : "");
    cJSON_AddStringToObject(o, "namespace", c->ns ? c->ns : "");
    cJSON_AddStringToObject(o, "pod", c->pod ? c->pod : "");
    cJSON_AddStringToObject(o, "serviceAccount", c->sa ? c->sa : "");
    if (profile)
        cJSON_AddStringToObject(o, "profile", profile);
    else
        cJSON_AddNullToObject(o, "profile");
    cJSON_AddStringToObject(o, "decision", decision);
    cJSON_AddStringToObject(o, "reason", reason ? reason : "");
    if (message) cJSON_AddStringToObject(o, "message", message);
    if (nops >= 0) cJSON_AddNumberToObject(o, "operations", nops);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    pthread_mutex_lock(&g_log_mu);
    fprintf(f, "%s\n", s);
    fflush(f);
    pthread_mutex_unlock(&g_log_mu);
    free(s);
}

static char *review_json(const char *api, const char *uid, bool allowed, int code, const char *msg,
                         const cJSON *patch)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "apiVersion", api);
    cJSON_AddStringToObject(o, "kind", "AdmissionReview");
    cJSON *r = cJSON_AddObjectToObject(o, "response");
    cJSON_AddStringToObject(r, "uid", uid);
    cJSON_AddBoolToObject(r, "allowed", allowed);
    if (msg) {
        cJSON *st = cJSON_AddObjectToObject(r, "status");
        cJSON_AddNumberToObject(st, "code", code);
        cJSON_AddStringToObject(st, "message", msg);
    }
    if (patch && cJSON_GetArraySize(patch) > 0) {
        char *p = cJSON_PrintUnformatted(patch);
        char *e = b64(p, strlen(p));
        cJSON_AddStringToObject(r, "patchType", "JSONPatch");
        cJSON_AddStringToObject(r, "patch", e);
        free(p);
        free(e);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Duplicate object keys: keep the last one, as Go's encoding/json (and so the
 * upstream webhooks) does; cJSON would keep both and look up the first. */
static void dedupe_keys(cJSON *j, int depth)
{
    if (depth > 512) return;
    if (cJSON_IsObject(j) && cJSON_GetArraySize(j) <= 4096) { /* bounded: quadratic scan */
        for (cJSON *c = j->child; c;) {
            cJSON *next = c->next;
            bool later = false;
            for (cJSON *d = next; d && !later; d = d->next) later = d->string && c->string && !strcmp(d->string, c->string);
            if (later)
                cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
            else
                dedupe_keys(c, depth + 1);
            c = next;
        }
    } else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        for (cJSON *c = j->child; c; c = c->next) dedupe_keys(c, depth + 1);
    }
}

static bool json_ctype(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ') ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n)) return false;
    const char *rest = ct + n;
    while (*rest == ' ') rest++;
    return !*rest || *rest == ';';
}

int webhook_review(const webhook_handler *h, const char *body, size_t len, const char *content_type, char **resp,
                   const char **resp_ctype, webhook_outcome *outcome, cJSON **configmaps)
{
    *outcome = WEBHOOK_OUT_ERROR;
    if (configmaps) *configmaps = NULL;
    if (!json_ctype(content_type)) {
        *resp_ctype = "text/plain";
        *resp = wih_strdup("invalid Content-Type, expected `application/json`\n");
        logctx c = {0};
        log_line(h->log, &c, NULL, "error", "invalid Content-Type", content_type ? content_type : "(none)", -1);
        return 400;
    }
    *resp_ctype = "application/json";
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    dedupe_keys(root, 0);
    const char *api = "admission.k8s.io/v1";
    const cJSON *av = cJSON_GetObjectItemCaseSensitive(root, "apiVersion");
    if (cJSON_IsString(av) && !strncmp(av->valuestring, "admission.k8s.io/", 17)) api = av->valuestring;
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(root, "request");
    const char *uid = wih_json_member_str(req, "uid");
    logctx c = {.uid = uid};
    const char *err = NULL;
    if (!root)
        err = "malformed AdmissionReview: the body is not JSON";
    else if (!cJSON_IsObject(root))
        err = "malformed AdmissionReview: expected a JSON object";
    else if (!cJSON_IsObject(req))
        err = "malformed AdmissionReview: missing \"request\"";
    else if (!uid)
        err = "malformed AdmissionReview: missing request.uid";
    const cJSON *pod = cJSON_GetObjectItemCaseSensitive(req, "object");
    const char *kind = wih_json_get_str(req, "kind.kind");
    const char *op = wih_json_member_str(req, "operation");
    bool other = (kind && strcmp(kind, "Pod")) || (op && strcmp(op, "CREATE"));
    /* a DELETE carries no object: only a Pod CREATE needs one */
    if (!err && !other && !cJSON_IsObject(pod)) err = "malformed AdmissionReview: request.object is not an object";
    if (err) {
        log_line(h->log, &c, NULL, "error", err, NULL, -1);
        *resp = review_json(api, uid ? uid : "", false, 400, err, NULL);
        cJSON_Delete(root);
        return 200;
    }
    c.ns = wh_namespace(pod, wih_json_member_str(req, "namespace"));
    c.sa = webhook_pod_sa_name(pod);
    c.pod = webhook_pod_display_name(pod);
    if (other) {
        char *why = wih_asprintf("not a Pod CREATE (%s %s)", op ? op : "?", kind ? kind : "?");
        log_line(h->log, &c, NULL, "skipped", why, NULL, -1);
        free(why);
        *resp = review_json(api, uid, true, 0, NULL, NULL);
        *outcome = WEBHOOK_OUT_ALLOWED;
        free(c.pod);
        cJSON_Delete(root);
        return 200;
    }

    /* one SA lookup per request, shared by the profiles */
    cJSON *sa = NULL;
    char *lookup_err = NULL;
    int found = 0;
    if (h->sa_lookup) found = h->sa_lookup(h->sa_ctx, c.ns, c.sa, &sa, &lookup_err);
    if (found != 1) {
        cJSON_Delete(sa);
        sa = NULL;
    }

    cJSON *cur = cJSON_Duplicate(pod, 1);
    cJSON *all = cJSON_CreateArray();
    cJSON *cms = cJSON_CreateArray();
    bool denied = false, patched = false;
    int code = 0;
    char *deny_msg = NULL;
    for (int p = 0; p < WEBHOOK_NPROFILES && !denied; p++) {
        if (!h->enabled[p]) continue;
        webhook_result r;
        webhook_mutate((webhook_profile)p, cur, sa, c.ns, &h->opts, &r);
        const char *pname = webhook_profile_name((webhook_profile)p);
        if (r.verdict == WEBHOOK_DENY && found == -1 && lookup_err) {
            /* the lookup failed for another reason: the client error is what
             * upstream (azure-wi) returns */
            free(r.message);
            r.message = wih_strdup(lookup_err);
        }
        if (r.verdict == WEBHOOK_DENY) {
            denied = true;
            code = r.code ? r.code : 400;
            deny_msg = wih_strdup(r.message);
            log_line(h->log, &c, pname, "denied", r.reason, r.message, -1);
        } else if (r.verdict == WEBHOOK_PATCH) {
            char *em = NULL;
            if (webhook_patch_apply(cur, r.patch, &em)) {
                /* our own patch did not apply: an internal error, never a crash */
                denied = true;
                code = 500;
                deny_msg = wih_asprintf("internal error: %s patch does not apply: %s", pname, em);
                log_line(h->log, &c, pname, "denied", deny_msg, deny_msg, -1);
                free(em);
            } else {
                int n = cJSON_GetArraySize(r.patch);
                cJSON *x;
                cJSON_ArrayForEach(x, r.patch) cJSON_AddItemToArray(all, cJSON_Duplicate(x, 1));
                if (r.configmap) cJSON_AddItemToArray(cms, cJSON_Duplicate(r.configmap, 1));
                log_line(h->log, &c, pname, "patched", r.reason, NULL, n);
                patched = patched || n > 0;
            }
        } else
            log_line(h->log, &c, pname, "skipped", r.reason, NULL, -1);
        webhook_result_free(&r);
    }
    if (denied) {
        *resp = review_json(api, uid, false, code, deny_msg, NULL);
        *outcome = WEBHOOK_OUT_DENIED;
    } else {
        *resp = review_json(api, uid, true, 0, NULL, all);
        *outcome = patched ? WEBHOOK_OUT_PATCHED : WEBHOOK_OUT_ALLOWED;
        if (configmaps && cJSON_GetArraySize(cms) > 0) {
            *configmaps = cms;
            cms = NULL;
        }
    }
    free(deny_msg);
    free(lookup_err);
    cJSON_Delete(cms);
    cJSON_Delete(all);
    cJSON_Delete(cur);
    cJSON_Delete(sa);
    free(c.pod);
    cJSON_Delete(root);
    return 200;
}

/* ------------------------------------------------------------ registration */
cJSON *webhook_mwc_json(webhook_profile p, const char *url, const char *ca_pem)
{
    static const char *names[] = {"pod-identity-webhook.amazonaws.com", "mutation.azure-workload-identity.io",
                                  "gcp-fleet.wiharness.io"};
    char *n = wih_asprintf("wiharness-%s", webhook_profile_name(p));
    cJSON *o = kube_obj_new("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", NULL, n);
    free(n);
    cJSON *md = cJSON_GetObjectItem(o, "metadata");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "app.kubernetes.io/managed-by", "wiharness");
    cJSON *w = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "webhooks"), w);
    cJSON_AddStringToObject(w, "name", names[p]);
    cJSON *cc = cJSON_AddObjectToObject(w, "clientConfig");
    size_t ul = strlen(url);
    while (ul && url[ul - 1] == '/') ul--;
    char *u = wih_asprintf("%.*s/mutate/%s", (int)ul, url, webhook_profile_name(p));
    cJSON_AddStringToObject(cc, "url", u);
    free(u);
    char *ca = b64(ca_pem ? ca_pem : "", ca_pem ? strlen(ca_pem) : 0);
    cJSON_AddStringToObject(cc, "caBundle", ca);
    free(ca);
    cJSON *rules = cJSON_AddArrayToObject(w, "rules");
    cJSON *rule = cJSON_CreateObject();
    cJSON_AddItemToArray(rules, rule);
    cJSON_AddItemToObject(rule, "operations", cJSON_CreateStringArray((const char *[]){"CREATE"}, 1));
    cJSON_AddItemToObject(rule, "apiGroups", cJSON_CreateStringArray((const char *[]){""}, 1));
    cJSON_AddItemToObject(rule, "apiVersions", cJSON_CreateStringArray((const char *[]){"v1"}, 1));
    cJSON_AddItemToObject(rule, "resources", cJSON_CreateStringArray((const char *[]){"pods"}, 1));
    cJSON_AddStringToObject(w, "sideEffects", "None");
    cJSON_AddItemToObject(w, "admissionReviewVersions", cJSON_CreateStringArray((const char *[]){"v1"}, 1));
    cJSON_AddNumberToObject(w, "timeoutSeconds", 10);
    switch (p) {
    case WEBHOOK_AWS_IRSA: {
        /* deploy/mutatingwebhook.yaml: Ignore + skip label DoesNotExist */
        cJSON_AddStringToObject(w, "failurePolicy", "Ignore");
        cJSON *me = cJSON_AddArrayToObject(cJSON_AddObjectToObject(w, "objectSelector"), "matchExpressions");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "key", "eks.amazonaws.com/skip-pod-identity-webhook");
        cJSON_AddStringToObject(e, "operator", "DoesNotExist");
        cJSON_AddItemToArray(me, e);
        cJSON_AddStringToObject(w, "reinvocationPolicy", "Never");
        break;
    }
    case WEBHOOK_AZURE_WI:
        /* kubebuilder marker in webhook.go + the chart's objectSelector */
        cJSON_AddStringToObject(w, "failurePolicy", "Fail");
        cJSON_AddStringToObject(w, "matchPolicy", "Equivalent");
        cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(w, "objectSelector"), "matchLabels"),
                                "azure.workload.identity/use", "true");
        cJSON_AddStringToObject(w, "reinvocationPolicy", "IfNeeded");
        break;
    default:
        cJSON_AddStringToObject(w, "failurePolicy", "Ignore");
        cJSON_AddStringToObject(w, "reinvocationPolicy", "Never");
        break;
    }
    return o;
}
