/* The workflow spec and the pod OSMO renders for each task.
 *
 * Upstream (NVIDIA/OSMO src/utils/job/task.py TaskGroup.convert_to_pod_spec,
 * src/utils/job/kb_objects.py):
 *   - pod name  kb_objects.construct_pod_name: workflow_uuid[:16]-task_uuid[:16];
 *   - labels    _task_labels: osmo.workflow_id/workflow_uuid/group_name/group_uuid/
 *               submitted_by/task_name go through shorten_name_to_fit_kb (cut to 63
 *               and trailing '-'/'_' stripped); osmo.task_uuid, retry_id, pool,
 *               platform, priority are NOT cut (osmo.md says all are — upstream
 *               wins); osmo.lead_container: "true" for a lead task; then the
 *               platform's `labels` are added (labels.update);
 *   - variables default_variables = common_default_variables ⊕ platform
 *               default_variables (platform wins), the task's resources
 *               (USER_CPU ...), USER_CONTAINER_NAME = k8s_name(task), then the
 *               osmo.* labels as WF_* (osmo.workflow_id → WF_ID, osmo.pool → WF_POOL);
 *   - the platform's merged template is rendered and applied with
 *     recursive_dict_update OVER the generated pod (so it wins, also over the
 *     user's env of the same name);
 *   - KAI factory: annotation pod-group-name = group uuid (after the template).
 * The osmo.* labels are re-asserted after the template as osmo.md says; at the
 * upstream commit we read, convert_to_pod_spec itself does not re-assert them
 * (only the KAI factory re-sets osmo.priority), so a template that sets an
 * osmo.* label is worth a diagnosis — render reports it as a warning.
 * Parts of the generated pod that the identity chain does not depend on
 * (osmo-ctrl's exact args, images, secret file volumes) are approximations. */
#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/jsonpath.h"
#include "wiharness/osmo.h"

void osmo_uuid(unsigned long seed, const char *what, char out[33])
{
    char *in = wih_asprintf("wiharness-osmo:%lu:%s", seed, what);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(in, strlen(in), md, &n, EVP_sha256(), NULL);
    free(in);
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[32] = '\0';
}

/* ------------------------------------------------------------------ URLs */
char *osmo_url_check(const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep) return wih_asprintf("\"%s\" is not a storage URL (scheme://...; OSMO accepts s3, gs, azure, tos, swift)", url);
    size_t sl = (size_t)(sep - url);
    const char *rest = sep + 3;
    /* split the rest on '/' */
    size_t segl[3] = {0};
    int nseg = 0;
    const char *p = rest;
    while (*p && nseg < 3) {
        const char *s = strchr(p, '/');
        size_t l = s ? (size_t)(s - p) : strlen(p);
        segl[nseg] = l;
        nseg++;
        p = s ? s + 1 : p + l;
        if (!s) break;
    }
#define SCHEME(x) (sl == strlen(x) && !strncmp(url, x, sl))
    if (SCHEME("s3") || SCHEME("gs")) {
        if (nseg < 1 || !segl[0]) return wih_asprintf("\"%s\": %.*s:// needs a bucket (%.*s://<bucket>/<path>)", url, (int)sl, url, (int)sl, url);
        return NULL;
    }
    if (SCHEME("azure")) {
        if (nseg < 1 || !segl[0]) return wih_asprintf("\"%s\": azure:// needs a storage account (azure://<account>/<container>/<path>)", url);
        if (nseg < 2 || !segl[1])
            return wih_asprintf("\"%s\": azure:// needs a container after the account (azure://<account>/<container>/<path>)", url);
        return NULL;
    }
    if (SCHEME("tos") || SCHEME("swift")) {
        if (nseg < 1 || !segl[0]) return wih_asprintf("\"%s\": %.*s:// needs an endpoint", url, (int)sl, url);
        if (nseg < 2 || !segl[1]) return wih_asprintf("\"%s\": %.*s:// needs <endpoint>/<%s>", url, (int)sl, url, SCHEME("tos") ? "bucket" : "namespace");
        return NULL;
    }
#undef SCHEME
    return wih_asprintf("unknown URL scheme \"%.*s\" in \"%s\" (OSMO accepts s3://, gs://, azure://, tos://, swift://)", (int)sl, url, url);
}

/* ------------------------------------------------------------ spec checks */
static int check_str_list(const cJSON *l, const wih_ydocs *d, const char *what, wih_err **err)
{
    if (!l) return 0;
    if (!cJSON_IsArray(l)) {
        *err = wih_ydocs_err(d, l, "%s must be a list of strings", what);
        return -1;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, l) if (!cJSON_IsString(x) && !cJSON_IsNumber(x))
    {
        *err = wih_ydocs_err(d, x, "%s items must be strings", what);
        return -1;
    }
    return 0;
}

static int check_io(const cJSON *l, const wih_ydocs *d, bool input, wih_err **err)
{
    const char *what = input ? "inputs" : "outputs";
    if (!l) return 0;
    if (!cJSON_IsArray(l)) {
        *err = wih_ydocs_err(d, l, "%s must be a list", what);
        return -1;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, l)
    {
        if (!cJSON_IsObject(it)) {
            *err = wih_ydocs_err(d, it, "each of %s is a map ({url: ...}, {task: ...} or {dataset: ...})", what);
            return -1;
        }
        const cJSON *u = wih_json_member(it, "url"), *t = wih_json_member(it, "task"),
                    *ds = wih_json_member(it, "dataset"), *ud = wih_json_member(it, "update_dataset");
        int kinds = !!u + !!t + !!ds + !!ud;
        if (kinds != 1) {
            *err = wih_ydocs_err(d, it, "each of %s needs exactly one of url, task, dataset%s", what,
                                 input ? "" : ", update_dataset");
            return -1;
        }
        if (t && !input) {
            *err = wih_ydocs_err(d, t, "outputs cannot be a task");
            return -1;
        }
        if (ud && input) {
            *err = wih_ydocs_err(d, ud, "update_dataset is an output only");
            return -1;
        }
        for (const cJSON *k = it->child; k; k = k->next)
            if (strcmp(k->string, "url") && strcmp(k->string, "task") && strcmp(k->string, "dataset") &&
                strcmp(k->string, "update_dataset") && strcmp(k->string, "regex")) {
                *err = wih_ydocs_err(d, k, "unknown key \"%s\" in %s (OSMO forbids extra keys here)", k->string, what);
                return -1;
            }
        if (u) {
            if (!cJSON_IsString(u)) {
                *err = wih_ydocs_err(d, u, "url must be a string");
                return -1;
            }
            char *m = osmo_url_check(u->valuestring);
            if (m) {
                *err = wih_ydocs_err(d, u, "%s", m);
                free(m);
                return -1;
            }
        }
        if (t && !cJSON_IsString(t)) {
            *err = wih_ydocs_err(d, t, "task must be a task name");
            return -1;
        }
        if (ds && (!cJSON_IsObject(ds) || !cJSON_IsString(wih_json_member(ds, "name")))) {
            *err = wih_ydocs_err(d, ds, "dataset needs a name");
            return -1;
        }
    }
    return 0;
}

static int check_task(const cJSON *t, const wih_ydocs *d, const cJSON *resources, wih_err **err)
{
    if (!cJSON_IsObject(t)) {
        *err = wih_ydocs_err(d, t, "a task must be a map");
        return -1;
    }
    const cJSON *n = wih_json_member(t, "name"), *img = wih_json_member(t, "image");
    if (!cJSON_IsString(n) || !*n->valuestring) {
        *err = wih_ydocs_err(d, n ? n : t, "a task needs a name");
        return -1;
    }
    if (!cJSON_IsString(img) || !*img->valuestring) {
        *err = wih_ydocs_err(d, img ? img : t, "task \"%s\" needs an image", n->valuestring);
        return -1;
    }
    if (check_str_list(wih_json_member(t, "command"), d, "command", err) ||
        check_str_list(wih_json_member(t, "args"), d, "args", err))
        return -1;
    const cJSON *env = wih_json_member(t, "environment");
    if (env) {
        if (!cJSON_IsObject(env)) {
            *err = wih_ydocs_err(d, env, "environment must be a map of NAME: value");
            return -1;
        }
        for (const cJSON *e = env->child; e; e = e->next)
            if (cJSON_IsObject(e) || cJSON_IsArray(e)) {
                *err = wih_ydocs_err(d, e, "environment value of %s must be a scalar", e->string);
                return -1;
            }
    }
    const cJSON *r = wih_json_member(t, "resources");
    if (r && !cJSON_IsString(r)) {
        *err = wih_ydocs_err(d, r, "a task's resources names an entry of workflow.resources");
        return -1;
    }
    if (r && !wih_json_member(resources, r->valuestring)) {
        *err = wih_ydocs_err(d, r, "task \"%s\" uses resources \"%s\", which workflow.resources does not define",
                             n->valuestring, r->valuestring);
        return -1;
    }
    if (check_io(wih_json_member(t, "inputs"), d, true, err) || check_io(wih_json_member(t, "outputs"), d, false, err))
        return -1;
    return 0;
}

int osmo_workflow_check(const cJSON *root, const wih_ydocs *d, wih_err **err)
{
    const cJSON *wf = wih_json_member(root, "workflow");
    if (!cJSON_IsObject(wf)) {
        *err = wih_ydocs_err(d, wf ? wf : root, "a workflow spec is a map with a `workflow:` map");
        return -1;
    }
    const cJSON *name = wih_json_member(wf, "name");
    if (!cJSON_IsString(name) || !*name->valuestring) {
        *err = wih_ydocs_err(d, name ? name : wf, "workflow.name must be a non-empty string");
        return -1;
    }
    const cJSON *labels = wih_json_member(wf, "labels");
    if (labels) {
        if (!cJSON_IsObject(labels)) {
            *err = wih_ydocs_err(d, labels, "workflow.labels must be a map");
            return -1;
        }
        for (const cJSON *l = labels->child; l; l = l->next)
            if (cJSON_IsObject(l) || cJSON_IsArray(l)) {
                *err = wih_ydocs_err(d, l, "label %s must be a scalar", l->string);
                return -1;
            }
    }
    const cJSON *res = wih_json_member(wf, "resources");
    if (res) {
        if (!cJSON_IsObject(res)) {
            *err = wih_ydocs_err(d, res, "workflow.resources must be a map of name → {cpu, memory, storage, gpu}");
            return -1;
        }
        for (const cJSON *r = res->child; r; r = r->next) {
            if (!cJSON_IsObject(r)) {
                *err = wih_ydocs_err(d, r, "workflow.resources.%s must be a map", r->string);
                return -1;
            }
            for (const cJSON *k = r->child; k; k = k->next)
                if (cJSON_IsObject(k) && strcmp(k->string, "nodesExcluded")) {
                    *err = wih_ydocs_err(d, k, "resources.%s.%s must be a scalar", r->string, k->string);
                    return -1;
                }
        }
    }
    const cJSON *tasks = wih_json_member(wf, "tasks"), *groups = wih_json_member(wf, "groups");
    if (!!tasks == !!groups) {
        *err = wih_ydocs_err(d, wf, "workflow needs either tasks: or groups: (not both)");
        return -1;
    }
    if (tasks) {
        if (!cJSON_IsArray(tasks) || !tasks->child) {
            *err = wih_ydocs_err(d, tasks, "workflow.tasks must be a non-empty list");
            return -1;
        }
        const cJSON *t;
        cJSON_ArrayForEach(t, tasks) if (check_task(t, d, res, err)) return -1;
    } else {
        if (!cJSON_IsArray(groups) || !groups->child) {
            *err = wih_ydocs_err(d, groups, "workflow.groups must be a non-empty list");
            return -1;
        }
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
        {
            const cJSON *gn = wih_json_member(g, "name"), *gt = wih_json_member(g, "tasks");
            if (!cJSON_IsString(gn)) {
                *err = wih_ydocs_err(d, gn ? gn : g, "a group needs a name");
                return -1;
            }
            if (!cJSON_IsArray(gt) || !gt->child) {
                *err = wih_ydocs_err(d, gt ? gt : g, "group \"%s\" needs a non-empty tasks list", gn->valuestring);
                return -1;
            }
            const cJSON *t;
            cJSON_ArrayForEach(t, gt) if (check_task(t, d, res, err)) return -1;
        }
    }
    /* task names are unique across the workflow (pods, labels and
     * {task: name} inputs refer to them) */
    const cJSON *lists[64];
    int nl = 0;
    if (tasks)
        lists[nl++] = tasks;
    else {
        const cJSON *g;
        cJSON_ArrayForEach(g, groups) if (nl < 64) lists[nl++] = wih_json_member(g, "tasks");
    }
    for (int a = 0; a < nl; a++)
        for (const cJSON *t = lists[a]->child; t; t = t->next)
            for (int b = 0; b <= a; b++)
                for (const cJSON *u = lists[b]->child; u && u != t; u = u->next)
                    if (!strcmp(wih_json_member(u, "name")->valuestring, wih_json_member(t, "name")->valuestring)) {
                        *err = wih_ydocs_err(d, wih_json_member(t, "name"), "duplicate task name \"%s\"",
                                             wih_json_member(t, "name")->valuestring);
                        return -1;
                    }
    return 0;
}

/* ------------------------------------------------------------------ render */
static char *shorten63(const char *s)
{
    size_t n = strlen(s);
    if (n <= 63) return wih_strdup(s);
    char *r = wih_asprintf("%.63s", s);
    n = 63;
    while (n && (r[n - 1] == '-' || r[n - 1] == '_')) r[--n] = '\0';
    return r;
}

static char *k8s_name(const char *s)
{
    char *r = wih_strdup(s);
    for (char *p = r; *p; p++) *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
    return r;
}

static char *scalar_str(const cJSON *v)
{
    if (cJSON_IsString(v)) return wih_strdup(v->valuestring);
    if (cJSON_IsBool(v)) return wih_strdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) return wih_asprintf("%lld", (long long)d);
        return wih_asprintf("%.15g", d);
    }
    return wih_strdup("");
}

static void put_str(cJSON *o, const char *k, const char *v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(o, k);
    if (old)
        cJSON_ReplaceItemInObjectCaseSensitive(o, k, cJSON_CreateString(v));
    else
        cJSON_AddStringToObject(o, k, v);
}

/* {{input:N}} / {{output}} in command and args (OSMO's own tokens). */
static char *io_tokens(const char *s)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 20);
    for (const char *p = s; *p;) {
        if (!strncmp(p, "{{output}}", 10)) {
            wih_buf_adds(&b, "/osmo/data/output");
            p += 10;
        } else if (!strncmp(p, "{{input:", 8) && isdigit((unsigned char)p[8])) {
            const char *q = p + 8;
            while (isdigit((unsigned char)*q)) q++;
            if (q[0] == '}' && q[1] == '}') {
                wih_buf_addf(&b, "/osmo/data/input/%.*s", (int)(q - p - 8), p + 8);
                p = q + 2;
            } else
                wih_buf_add(&b, p++, 1);
        } else
            wih_buf_add(&b, p++, 1);
    }
    if (!b.data) wih_buf_adds(&b, "");
    return wih_buf_take(&b);
}

static cJSON *mount(const char *name, const char *path, const char *sub, bool ro)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "mountPath", path);
    if (sub) cJSON_AddStringToObject(m, "subPath", sub);
    if (ro) cJSON_AddTrueToObject(m, "readOnly");
    return m;
}

static cJSON *env_kv(const char *k, const char *v)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", k);
    cJSON_AddStringToObject(e, "value", v);
    return e;
}

/* RESOURCE_REGEX (\d+(?:\.\d+)?)([a-zA-Z]*) and common.MEASUREMENTS */
static bool split_quantity(const char *s, double *val, char *unit, size_t un)
{
    const char *p = s;
    if (!isdigit((unsigned char)*p)) return false;
    while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    const char *u = p;
    while (isalpha((unsigned char)*p)) p++;
    if (*p) return false;
    *val = strtod(s, NULL);
    snprintf(unit, un, "%s", u);
    return true;
}

static int meas(const char *u)
{
    static const struct { const char *u; int p; } t[] = {
        {"T", 10}, {"Ti", 10}, {"TiB", 10}, {"G", 0},    {"Gi", 0},    {"GiB", 0},   {"M", -10},
        {"Mi", -10}, {"MiB", -10}, {"K", -20}, {"Ki", -20}, {"KiB", -20}, {"B", -30}, {"m", -40}};
    if (!*u) u = "B";
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].u, u)) return t[i].p;
    return 1000;
}

static void add_quantity_vars(cJSON *vars, const char *base)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(vars, base);
    if (!v) return;
    char *s = scalar_str(v);
    double val;
    char unit[16];
    if (split_quantity(s, &val, unit, sizeof unit)) {
        char *k = wih_asprintf("%s_VAL", base);
        cJSON_DeleteItemFromObjectCaseSensitive(vars, k);
        cJSON_AddNumberToObject(vars, k, val);
        free(k);
        k = wih_asprintf("%s_UNIT", base);
        cJSON_DeleteItemFromObjectCaseSensitive(vars, k);
        cJSON_AddStringToObject(vars, k, unit);
        free(k);
        int from = meas(unit);
        static const char *const targets[] = {"B", "Ki", "Mi", "Gi", "Ti"};
        if (from != 1000 && (!strcmp(base, "USER_MEMORY") || !strcmp(base, "USER_STORAGE")))
            for (int i = 0; i < 5; i++) {
                k = wih_asprintf("%s_%s", base, targets[i]);
                cJSON_DeleteItemFromObjectCaseSensitive(vars, k);
                cJSON_AddNumberToObject(vars, k, val * pow(2, from - meas(targets[i])));
                free(k);
            }
    }
    free(s);
}

typedef struct {
    osmo_config *c;
    const cJSON *wf;
    const wih_ydocs *wd;
    const osmo_render_opts *o;
    const char *pool, *ns, *user, *prio;
    char wf_id[300], wf_uuid[33];
} rctx;

static cJSON *task_pod(rctx *R, const cJSON *task, const char *group, const char *group_uuid, bool multi,
                       wih_err **err)
{
    const cJSON *wf = wih_json_member(R->wf, "workflow");
    const char *tname = wih_json_member(task, "name")->valuestring;
    char *what = wih_asprintf("task:%s:%s", group, tname);
    char task_uuid[33];
    osmo_uuid(R->o->seed, what, task_uuid);
    free(what);
    bool lead = cJSON_IsTrue(wih_json_member(task, "lead"));

    /* resources: the task's named entry, else "default" */
    const cJSON *resname = wih_json_member(task, "resources");
    const cJSON *res = wih_json_member(wih_json_member(wf, "resources"), resname ? resname->valuestring : "default");

    /* platform: --platform, else the resource spec's, else the pool's default */
    const cJSON *pool = cJSON_GetObjectItemCaseSensitive(R->c->pools, R->pool);
    if (!pool) {
        *err = wih_err_new(WIH_EXIT_INPUT, "no pool \"%s\" in the values", R->pool);
        return NULL;
    }
    const char *platform = R->o->platform;
    if (!platform && cJSON_IsString(wih_json_member(res, "platform")))
        platform = wih_json_member(res, "platform")->valuestring;
    if (!platform) {
        const cJSON *dp = wih_json_member(pool, "default_platform");
        platform = cJSON_IsString(dp) ? dp->valuestring : "default";
    }

    cJSON *tmpl = osmo_pool_template(R->c, R->pool, platform, err);
    if (!tmpl) return NULL;
    const cJSON *plat = wih_json_member(wih_json_member(pool, "platforms"), platform);

    /* labels */
    cJSON *osmo_labels = cJSON_CreateObject();
    char *s;
#define LBL(k, v) cJSON_AddStringToObject(osmo_labels, k, v)
#define LBLS(k, v) (s = shorten63(v), LBL(k, s), free(s))
    LBLS("osmo.workflow_id", R->wf_id);
    LBLS("osmo.workflow_uuid", R->wf_uuid);
    LBLS("osmo.group_name", group);
    LBLS("osmo.group_uuid", group_uuid);
    LBLS("osmo.submitted_by", R->user);
    LBLS("osmo.task_name", tname);
    LBL("osmo.task_uuid", task_uuid);
    LBL("osmo.retry_id", "0");
    if (lead) LBL("osmo.lead_container", "true");
    LBL("osmo.pool", R->pool);
    LBL("osmo.platform", platform);
    LBL("osmo.priority", R->prio);
#undef LBL
#undef LBLS

    /* variables */
    cJSON *vars = cJSON_CreateObject();
    const cJSON *cdv = wih_json_member(pool, "common_default_variables");
    const cJSON *pdv = wih_json_member(plat, "default_variables");
    if ((cdv && osmo_merge(vars, cdv, R->c->pm, err)) || (pdv && osmo_merge(vars, pdv, R->c->pm, err))) {
        cJSON_Delete(vars);
        cJSON_Delete(tmpl);
        cJSON_Delete(osmo_labels);
        return NULL;
    }
    static const char *const rk[][2] = {{"cpu", "USER_CPU"}, {"gpu", "USER_GPU"}, {"memory", "USER_MEMORY"},
                                        {"storage", "USER_STORAGE"}};
    for (int i = 0; i < 4; i++) {
        const cJSON *v = wih_json_member(res, rk[i][0]);
        if (v && !cJSON_IsNull(v)) {
            cJSON_DeleteItemFromObjectCaseSensitive(vars, rk[i][1]);
            cJSON_AddItemToObject(vars, rk[i][1], cJSON_Duplicate(v, 1));
        }
        add_quantity_vars(vars, rk[i][1]);
    }
    s = shorten63(tname);
    char *cname = k8s_name(s);
    free(s);
    put_str(vars, "USER_CONTAINER_NAME", cname);
    for (const cJSON *l = osmo_labels->child; l; l = l->next) {
        const char *k = l->string + 5;
        char *up = wih_strdup(k);
        for (char *p = up; *p; p++) *p = (char)toupper((unsigned char)*p);
        char *vn = !strncmp(up, "WORKFLOW_", 9) ? wih_asprintf("WF_%s", up + 9) : wih_asprintf("WF_%s", up);
        put_str(vars, vn, l->valuestring);
        free(vn);
        free(up);
    }

    /* the pod OSMO generates */
    cJSON *pod = cJSON_CreateObject();
    cJSON_AddStringToObject(pod, "kind", "Pod");
    cJSON_AddStringToObject(pod, "apiVersion", "v1");
    cJSON *md = cJSON_AddObjectToObject(pod, "metadata");
    char *pname = wih_asprintf("%.16s-%.16s", R->wf_uuid, task_uuid);
    cJSON_AddStringToObject(md, "name", pname);
    free(pname);
    cJSON *labels = cJSON_AddObjectToObject(md, "labels");
    const cJSON *wl = wih_json_member(wf, "labels");
    for (const cJSON *l = wl ? wl->child : NULL; l; l = l->next) {
        char *v = scalar_str(l);
        put_str(labels, l->string, v);
        free(v);
    }
    for (const cJSON *l = osmo_labels->child; l; l = l->next) put_str(labels, l->string, l->valuestring);
    const cJSON *pl = wih_json_member(plat, "labels");
    for (const cJSON *l = cJSON_IsObject(pl) ? pl->child : NULL; l; l = l->next) {
        char *v = scalar_str(l);
        put_str(labels, l->string, v);
        free(v);
    }
    cJSON_AddItemToArray(cJSON_AddArrayToObject(md, "finalizers"), cJSON_CreateString("osmo.nvidia.com/cleanup"));

    cJSON *spec = cJSON_AddObjectToObject(pod, "spec");
    cJSON_AddStringToObject(spec, "restartPolicy", "Never");
    cJSON *ips = cJSON_AddArrayToObject(spec, "imagePullSecrets");
    char *ipn = wih_asprintf("%s-user", group_uuid);
    cJSON *ip = cJSON_CreateObject();
    cJSON_AddStringToObject(ip, "name", ipn);
    cJSON_AddItemToArray(ips, ip);
    free(ipn);
    cJSON_AddBoolToObject(spec, "hostNetwork", cJSON_IsTrue(wih_json_member(task, "hostNetwork")));
    cJSON *containers = cJSON_AddArrayToObject(spec, "containers");

    /* user container */
    cJSON *uc = cJSON_CreateObject();
    cJSON_AddStringToObject(uc, "name", cname);
    free(cname);
    cJSON_AddStringToObject(uc, "image", wih_json_member(task, "image")->valuestring);
    cJSON_AddStringToObject(uc, "imagePullPolicy", "Always");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(uc, "command"), cJSON_CreateString("/osmo/bin/osmo_exec"));
    cJSON *uargs = cJSON_AddArrayToObject(uc, "args");
    static const char *const ua[] = {"-socketPath", "/osmo/data/socket/data.sock", "-userBinPath", "/osmo/usr/bin", "--"};
    for (int i = 0; i < 5; i++) cJSON_AddItemToArray(uargs, cJSON_CreateString(ua[i]));
    for (int k = 0; k < 2; k++) {
        const cJSON *l = wih_json_member(task, k ? "args" : "command");
        const cJSON *x;
        cJSON_ArrayForEach(x, l)
        {
            char *v = scalar_str(x), *r = io_tokens(v);
            cJSON_AddItemToArray(uargs, cJSON_CreateString(r));
            free(v);
            free(r);
        }
    }
    cJSON_AddFalseToObject(cJSON_AddObjectToObject(uc, "securityContext"), "privileged");
    cJSON *uenv = cJSON_AddArrayToObject(uc, "env");
    const cJSON *tenv = wih_json_member(task, "environment");
    for (const cJSON *e = tenv ? tenv->child : NULL; e; e = e->next) {
        char *v = scalar_str(e);
        cJSON_AddItemToArray(uenv, env_kv(e->string, v));
        free(v);
    }
    const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(vars, "USER_GPU");
    char *gs = gpu ? scalar_str(gpu) : wih_strdup("0");
    if (!strcmp(gs, "0")) cJSON_AddItemToArray(uenv, env_kv("NVIDIA_VISIBLE_DEVICES", ""));
    free(gs);
    cJSON *um = cJSON_AddArrayToObject(uc, "volumeMounts");
    cJSON_AddItemToArray(um, mount("osmo", "/osmo/bin/osmo_exec", "osmo/osmo_exec", true));
    cJSON_AddItemToArray(um, mount("osmo-data", "/osmo/data/socket", "socket", false));
    cJSON_AddItemToArray(um, mount("osmo-data", "/osmo/data/input", "input", false));
    cJSON_AddItemToArray(um, mount("osmo-data", "/osmo/data/output", "output", false));
    cJSON_AddItemToArray(um, mount("osmo-usr-bin", "/osmo/usr/bin", NULL, false));
    cJSON_AddItemToArray(um, mount("osmo-run", "/osmo/run", NULL, false));
    cJSON_AddItemToArray(um, mount("osmo-login", "/osmo/login/config", "user/config", false));
    cJSON_AddItemToArray(containers, uc);

    /* osmo-ctrl (kb_objects.create_control_container) */
    cJSON *cc = cJSON_CreateObject();
    cJSON_AddStringToObject(cc, "imagePullPolicy", "Always");
    cJSON_AddStringToObject(cc, "name", "osmo-ctrl");
    cJSON_AddStringToObject(cc, "image", "nvcr.io/nvidia/osmo/client:placeholder");
    cJSON_AddFalseToObject(cJSON_AddObjectToObject(cc, "securityContext"), "privileged");
    cJSON *cm = cJSON_AddArrayToObject(cc, "volumeMounts");
    cJSON_AddItemToArray(cm, mount("osmo", "/osmo/bin/osmo_ctrl", "osmo/osmo_ctrl", true));
    cJSON_AddItemToArray(cm, mount("osmo-data", "/osmo/data/socket", "socket", false));
    cJSON_AddItemToArray(cm, mount("osmo-data", "/osmo/data/benchmarks", "benchmarks", false));
    cJSON_AddItemToArray(cm, mount("osmo-data", "/osmo/data/input", "input", false));
    cJSON_AddItemToArray(cm, mount("osmo-data", "/osmo/data/output", "output", true));
    cJSON_AddItemToArray(cm, mount("osmo-login", "/osmo/login/config", "ctrl/config", false));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(cc, "command"), cJSON_CreateString("/osmo/bin/osmo_ctrl"));
    cJSON *cargs = cJSON_AddArrayToObject(cc, "args");
    static const char *const ca[] = {"-socketPath", "/osmo/data/socket/data.sock", "-inputPath", "/osmo/data/input/",
                                     "-outputPath", "/osmo/data/output/", "-metadataFile",
                                     "/osmo/data/default_metadata.yaml", "-downloadType", "download"};
    for (size_t i = 0; i < sizeof ca / sizeof ca[0]; i++) cJSON_AddItemToArray(cargs, cJSON_CreateString(ca[i]));
    const char *ctrl_more[] = {"-workflow", R->wf_id, "-groupName", group, "-retryId", "0", "-logSource", tname};
    for (size_t i = 0; i < 8; i++) cJSON_AddItemToArray(cargs, cJSON_CreateString(ctrl_more[i]));
    const cJSON *io;
    int idx = 0;
    cJSON_ArrayForEach(io, wih_json_member(task, "inputs"))
    {
        char *a = NULL;
        const cJSON *rx = wih_json_member(io, "regex");
        const char *re = cJSON_IsString(rx) ? rx->valuestring : "";
        if (wih_json_member(io, "url"))
            a = wih_asprintf("url:%d,%s,%s", idx, wih_json_member(io, "url")->valuestring, re);
        else if (wih_json_member(io, "task"))
            a = wih_asprintf("task:%d,<workflow_data>/%s/%s,%s", idx, R->wf_id,
                             wih_json_member(io, "task")->valuestring, re);
        else
            a = wih_asprintf("dataset:%d,%s,%s", idx,
                             wih_json_member(wih_json_member(io, "dataset"), "name")->valuestring, re);
        cJSON_AddItemToArray(cargs, cJSON_CreateString("-inputs"));
        cJSON_AddItemToArray(cargs, cJSON_CreateString(a));
        free(a);
        idx++;
    }
    const cJSON *outs = wih_json_member(task, "outputs");
    if (!outs || !outs->child) {
        char *a = wih_asprintf("task:<workflow_data>/%s/%s", R->wf_id, tname);
        cJSON_AddItemToArray(cargs, cJSON_CreateString("-outputs"));
        cJSON_AddItemToArray(cargs, cJSON_CreateString(a));
        free(a);
    }
    cJSON_ArrayForEach(io, outs)
    {
        if (!wih_json_member(io, "url")) continue;
        const cJSON *rx = wih_json_member(io, "regex");
        char *a = wih_asprintf("url:%s,%s", wih_json_member(io, "url")->valuestring,
                               cJSON_IsString(rx) ? rx->valuestring : "");
        cJSON_AddItemToArray(cargs, cJSON_CreateString("-outputs"));
        cJSON_AddItemToArray(cargs, cJSON_CreateString(a));
        free(a);
    }
    cJSON *cenv = cJSON_AddArrayToObject(cc, "env");
    cJSON *e1 = cJSON_CreateObject();
    cJSON_AddStringToObject(e1, "name", "OSMO_CONFIG_FILE_DIR");
    cJSON *skr = cJSON_AddObjectToObject(cJSON_AddObjectToObject(e1, "valueFrom"), "secretKeyRef");
    char *fd = wih_asprintf("%s-file-dir", group_uuid);
    cJSON_AddStringToObject(skr, "name", fd);
    free(fd);
    cJSON_AddStringToObject(skr, "key", "fileDir");
    cJSON_AddItemToArray(cenv, e1);
    cJSON *e2 = cJSON_CreateObject();
    cJSON_AddStringToObject(e2, "name", "OSMO_NODE_NAME");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(cJSON_AddObjectToObject(e2, "valueFrom"), "fieldRef"), "fieldPath",
                            "spec.nodeName");
    cJSON_AddItemToArray(cenv, e2);
    const cJSON *cpu = wih_json_member(res, "cpu");
    if (cpu && !cJSON_IsNull(cpu)) {
        char *v = scalar_str(cpu);
        cJSON_AddItemToArray(cenv, env_kv("CPU_COUNT", v));
        free(v);
    }
    cJSON_AddItemToArray(containers, cc);

    /* osmo-init (kb_objects.create_init_container) */
    cJSON *ic = cJSON_CreateObject();
    cJSON_AddStringToObject(ic, "imagePullPolicy", "Always");
    cJSON_AddStringToObject(ic, "name", "osmo-init");
    cJSON_AddStringToObject(ic, "image", "nvcr.io/nvidia/osmo/init:placeholder");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(ic, "command"), cJSON_CreateString("osmo_init"));
    cJSON *iargs = cJSON_AddArrayToObject(ic, "args");
    static const char *const ia[] = {"--data_location", "/osmo/data", "--login_location", "/osmo/login",
                                     "--user_bin_location", "/osmo/usr/bin", "--run_location", "/osmo/run"};
    for (int i = 0; i < 8; i++) cJSON_AddItemToArray(iargs, cJSON_CreateString(ia[i]));
    cJSON *im = cJSON_AddArrayToObject(ic, "volumeMounts");
    cJSON_AddItemToArray(im, mount("osmo", "/osmo_binaries", NULL, false));
    cJSON_AddItemToArray(im, mount("osmo-data", "/osmo/data", NULL, false));
    cJSON_AddItemToArray(im, mount("osmo-login", "/osmo/login", NULL, false));
    cJSON_AddItemToArray(im, mount("osmo-usr-bin", "/osmo/usr/bin", NULL, false));
    cJSON_AddItemToArray(im, mount("osmo-run", "/osmo/run", NULL, false));
    cJSON *ir = cJSON_AddObjectToObject(ic, "resources");
    cJSON *rq = cJSON_AddObjectToObject(ir, "requests");
    cJSON_AddStringToObject(rq, "cpu", "250m");
    cJSON_AddStringToObject(rq, "ephemeral-storage", "1Gi");
    cJSON *rl = cJSON_AddObjectToObject(ir, "limits");
    cJSON_AddStringToObject(rl, "cpu", "500m");
    cJSON_AddStringToObject(rl, "ephemeral-storage", "1Gi");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(spec, "initContainers"), ic);

    cJSON *vols = cJSON_AddArrayToObject(spec, "volumes");
    static const char *const vn[] = {"osmo", "osmo-data", "osmo-login", "osmo-usr-bin", "osmo-run"};
    for (int i = 0; i < 5; i++) {
        cJSON *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "name", vn[i]);
        cJSON_AddItemToArray(vols, v);
    }
    if (multi) cJSON_AddStringToObject(spec, "hostname", task_uuid);

    /* the template, rendered, OVER the pod */
    int rc = osmo_substitute(tmpl, vars, R->c->pm, err);
    if (!rc) {
        rc = osmo_merge(pod, tmpl, R->c->pm, err);
        if (rc) *err = wih_err_wrap(*err, "applying the pool template over task \"%s\"'s pod", tname);
    }
    cJSON_Delete(tmpl);
    cJSON_Delete(vars);
    if (rc) {
        cJSON_Delete(pod);
        cJSON_Delete(osmo_labels);
        return NULL;
    }
    /* re-assert osmo.* labels; other template labels survive */
    md = cJSON_GetObjectItem(pod, "metadata");
    if (!cJSON_IsObject(md)) {
        *err = wih_err_new(WIH_EXIT_INPUT, "the pod template replaced metadata with a non-map");
        cJSON_Delete(pod);
        cJSON_Delete(osmo_labels);
        return NULL;
    }
    labels = cJSON_GetObjectItem(md, "labels");
    if (!cJSON_IsObject(labels)) {
        cJSON_DeleteItemFromObject(md, "labels");
        labels = cJSON_AddObjectToObject(md, "labels");
    }
    for (const cJSON *l = osmo_labels->child; l; l = l->next) {
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(labels, l->string);
        if (now && !(cJSON_IsString(now) && !strcmp(now->valuestring, l->valuestring)))
            wih_warn("the pool template sets label %s on task \"%s\"'s pod; OSMO's own value is kept here (osmo.md), "
                     "but upstream's convert_to_pod_spec does not re-assert it",
                     l->string, tname);
        put_str(labels, l->string, l->valuestring);
    }
    cJSON_Delete(osmo_labels);
    cJSON *ann = cJSON_GetObjectItem(md, "annotations");
    if (!cJSON_IsObject(ann)) {
        cJSON_DeleteItemFromObject(md, "annotations");
        ann = cJSON_AddObjectToObject(md, "annotations");
    }
    put_str(ann, "pod-group-name", group_uuid);
    put_str(md, "namespace", R->ns);
    return pod;
}

cJSON *osmo_render(osmo_config *c, const cJSON *root, const wih_ydocs *wfdocs, const osmo_render_opts *o,
                   wih_err **err)
{
    if (osmo_workflow_check(root, wfdocs, err)) return NULL;
    rctx R = {.c = c, .wf = root, .wd = wfdocs, .o = o};
    R.pool = o->pool ? o->pool : "default";
    R.ns = o->namespace_ ? o->namespace_ : "osmo-workflows";
    R.user = o->submitted_by ? o->submitted_by : "wiharness";
    R.prio = o->priority ? o->priority : "normal";
    const cJSON *wf = wih_json_member(root, "workflow");
    snprintf(R.wf_id, sizeof R.wf_id, "%.280s-%lu", wih_json_member(wf, "name")->valuestring, o->seed + 1);
    osmo_uuid(o->seed, "workflow", R.wf_uuid);

    cJSON *pods = cJSON_CreateArray();
    const cJSON *tasks = wih_json_member(wf, "tasks"), *groups = wih_json_member(wf, "groups");
    if (tasks) {
        const cJSON *t;
        cJSON_ArrayForEach(t, tasks)
        {
            /* a workflow written with tasks: gives each task its own group */
            const char *g = wih_json_member(t, "name")->valuestring;
            char *what = wih_asprintf("group:%s", g);
            char gu[33];
            osmo_uuid(o->seed, what, gu);
            free(what);
            cJSON *p = task_pod(&R, t, g, gu, false, err);
            if (!p) goto fail;
            cJSON_AddItemToArray(pods, p);
        }
    } else {
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
        {
            const char *gn = wih_json_member(g, "name")->valuestring;
            char *what = wih_asprintf("group:%s", gn);
            char gu[33];
            osmo_uuid(o->seed, what, gu);
            free(what);
            const cJSON *gt = wih_json_member(g, "tasks"), *t;
            bool multi = cJSON_GetArraySize(gt) > 1;
            cJSON_ArrayForEach(t, gt)
            {
                cJSON *p = task_pod(&R, t, gn, gu, multi, err);
                if (!p) goto fail;
                cJSON_AddItemToArray(pods, p);
            }
        }
    }
    return pods;
fail:
    cJSON_Delete(pods);
    return NULL;
}
