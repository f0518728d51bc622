/* Shared helpers of the mutation functions: pod accessors, results, Go-style
 * number parsing (the upstream webhooks are Go; their error texts reach the
 * API server verbatim, so we reproduce strconv's messages). */
#include "webhook_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *k_names[WEBHOOK_NPROFILES] = {"aws-irsa", "azure-wi", "gcp-fleet"};

const char *webhook_profile_name(webhook_profile p)
{
    return (unsigned)p < WEBHOOK_NPROFILES ? k_names[p] : "?";
}

int webhook_profile_parse(const char *s, webhook_profile *out)
{
    for (int i = 0; i < WEBHOOK_NPROFILES; i++)
        if (s && !strcmp(s, k_names[i])) {
            *out = (webhook_profile)i;
            return 0;
        }
    return -1;
}

const char *wh_annotation(const cJSON *obj, const char *key)
{
    return wih_json_member_str(wih_json_get(obj, "metadata.annotations"), key);
}

const char *wh_label(const cJSON *obj, const char *key)
{
    return wih_json_member_str(wih_json_get(obj, "metadata.labels"), key);
}

bool wh_has_annotation(const cJSON *obj, const char *key)
{
    return wih_json_member(wih_json_get(obj, "metadata.annotations"), key) != NULL;
}

const char *webhook_pod_sa_name(const cJSON *pod)
{
    const char *s = wih_json_get_str(pod, "spec.serviceAccountName");
    return s && *s ? s : "default";
}

char *webhook_pod_display_name(const cJSON *pod)
{
    const char *n = wih_json_get_str(pod, "metadata.name");
    if (n && *n) return wih_strdup(n);
    const char *g = wih_json_get_str(pod, "metadata.generateName");
    return wih_asprintf("%s (prefix)", g ? g : "");
}

const char *wh_namespace(const cJSON *pod, const char *ns)
{
    if (ns && *ns) return ns;
    const char *n = wih_json_get_str(pod, "metadata.namespace");
    return n && *n ? n : "default";
}

void webhook_result_free(webhook_result *r)
{
    if (!r) return;
    free(r->message);
    free(r->reason);
    cJSON_Delete(r->patch);
    cJSON_Delete(r->configmap);
    memset(r, 0, sizeof *r);
}

void wh_skip(webhook_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    r->verdict = WEBHOOK_SKIP;
    free(r->reason);
    r->reason = wih_strdup(tmp);
}

void wh_deny(webhook_result *r, int code, const char *msg, const char *why)
{
    r->verdict = WEBHOOK_DENY;
    r->code = code;
    free(r->message);
    r->message = wih_strdup(msg);
    free(r->reason);
    r->reason = wih_strdup(why ? why : msg);
}

/* Go's strconv.Quote for the common case: escapes " and \ and control bytes. */
static char *go_quote(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            wih_buf_addf(&b, "\\%c", *p);
        else if (*p == '\n')
            wih_buf_adds(&b, "\\n");
        else if (*p == '\t')
            wih_buf_adds(&b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            wih_buf_addf(&b, "\\x%02x", *p);
        else
            wih_buf_add(&b, p, 1);
    }
    wih_buf_adds(&b, "\"");
    return wih_buf_take(&b);
}

int wh_parse_int(const char *s, int bits, long long *out, char **errmsg)
{
    /* strconv.ParseInt(s, 10, bits): optional sign, decimal digits only. */
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    bool ok = *p != 0;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') ok = false;
    if (!ok) {
        if (errmsg) {
            char *q = go_quote(s);
            *errmsg = wih_asprintf("strconv.ParseInt: parsing %s: invalid syntax", q);
            free(q);
        }
        return -1;
    }
    unsigned long long lim = bits == 64 ? (unsigned long long)LLONG_MAX : (1ULL << (bits - 1)) - 1;
    unsigned long long v = 0;
    bool range = false;
    for (; *p; p++) {
        if (v > (ULLONG_MAX - 9) / 10) {
            range = true;
            break;
        }
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (range || v > lim + (neg ? 1 : 0)) {
        if (errmsg) {
            char *q = go_quote(s);
            *errmsg = wih_asprintf("strconv.ParseInt: parsing %s: value out of range", q);
            free(q);
        }
        return -1;
    }
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

int wh_parse_bool(const char *s, bool *out)
{
    static const char *t[] = {"1", "t", "T", "TRUE", "true", "True"};
    static const char *f[] = {"0", "f", "F", "FALSE", "false", "False"};
    for (size_t i = 0; i < 6; i++) {
        if (!strcmp(s, t[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(s, f[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

bool wh_env_has(const cJSON *container, const char *name)
{
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(container, "env");
    const cJSON *e;
    cJSON_ArrayForEach(e, env)
    {
        const char *n = wih_json_member_str(e, "name");
        if (n && !strcmp(n, name)) return true;
    }
    return false;
}

cJSON *wh_env_array(cJSON *container)
{
    cJSON *env = cJSON_GetObjectItemCaseSensitive(container, "env");
    if (!cJSON_IsArray(env)) {
        if (env) cJSON_DeleteItemFromObjectCaseSensitive(container, "env");
        env = cJSON_AddArrayToObject(container, "env");
    }
    return env;
}

void wh_env_append(cJSON *container, const char *name, const char *value)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "value", value);
    cJSON_AddItemToArray(wh_env_array(container), e);
}

cJSON *wh_named(const cJSON *arr, const char *name, int *index)
{
    int i = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const char *n = wih_json_member_str(e, "name");
        if (n && !strcmp(n, name)) {
            if (index) *index = i;
            return e;
        }
        i++;
    }
    return NULL;
}

cJSON *wh_mount(const char *name, const char *path)
{
    /* field order as Go marshals corev1.VolumeMount */
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddTrueToObject(m, "readOnly");
    cJSON_AddStringToObject(m, "mountPath", path);
    return m;
}

cJSON *wh_array_field(cJSON *obj, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsArray(a)) {
        if (a) cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        a = cJSON_AddArrayToObject(obj, key);
    }
    return a;
}

cJSON *webhook_result_json(const webhook_result *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "allowed", r->verdict != WEBHOOK_DENY);
    if (r->verdict == WEBHOOK_DENY) {
        cJSON *st = cJSON_AddObjectToObject(o, "status");
        cJSON_AddNumberToObject(st, "code", r->code ? r->code : 400);
        cJSON_AddStringToObject(st, "message", r->message ? r->message : "");
    }
    /* like PatchResponseFromRaw: no patchType without operations */
    if (r->verdict == WEBHOOK_PATCH && cJSON_GetArraySize(r->patch) > 0) {
        cJSON_AddStringToObject(o, "patchType", "JSONPatch");
        cJSON_AddItemToObject(o, "patch", cJSON_Duplicate(r->patch, 1));
    }
    if (r->configmap) cJSON_AddItemToObject(o, "configMap", cJSON_Duplicate(r->configmap, 1));
    return o;
}

void webhook_mutate(webhook_profile p, const cJSON *pod, const cJSON *sa, const char *ns, const webhook_opts *o,
                    webhook_result *out)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(pod)) {
        wh_deny(out, 400, "the object is not a Pod (expected a JSON object)", NULL);
        return;
    }
    char *bad = NULL;
    if (webhook_pod_invalid(pod, &bad)) { /* the typed decode would fail */
        char *m = wih_asprintf("cannot decode the Pod: %s", bad);
        wh_deny(out, 400, m, NULL);
        free(m);
        free(bad);
        return;
    }
    webhook_opts defaults;
    if (!o) {
        webhook_opts_defaults(&defaults);
        o = &defaults;
    }
    switch (p) {
    case WEBHOOK_AWS_IRSA: wh_aws_mutate(pod, sa, &o->aws, out); break;
    case WEBHOOK_AZURE_WI: wh_azure_mutate(pod, sa, &o->azure, out); break;
    case WEBHOOK_GCP_FLEET: wh_gcp_mutate(pod, sa, wh_namespace(pod, ns), &o->gcp, out); break;
    default: wh_deny(out, 500, "unknown webhook profile", NULL);
    }
    if (o == &defaults) webhook_opts_free(&defaults);
    if (!out->reason) out->reason = wih_strdup(out->verdict == WEBHOOK_PATCH ? "patched" : "skipped");
}
