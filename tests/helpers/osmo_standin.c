/* The loopback OSMO stand-in (osmo_standin.h): NOT OSMO — recorded answer
 * shapes + the harness's own OSMO render, pods on the real API server. */
#include "osmo_standin.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/kube.h"
#include "wiharness/osmo.h"
#include "wiharness/yamljson.h"

struct wih_osmo_standin {
    struct MHD_Daemon *d;
    char *url, *ns, *ctrl_image, *token;
    osmo_config *cfg;
    kube_client *kc;
    cJSON *shapes;
    cJSON *workflows; /* name → {"pool", "uuid", "cancelled", "pods": [names]} */
    cJSON *requests;
    pthread_mutex_t mu;
    unsigned long seq;
};

typedef struct answer {
    int status;
    cJSON *body;
} answer;

/* ------------------------------------------------------------ shapes */
/* Each "{key}" in every string of t replaced from kv (NULL-ended pairs). */
static void fill(cJSON *t, const char *const *kv)
{
    for (cJSON *c = t ? t->child : NULL; c; c = c->next) {
        if (!cJSON_IsString(c)) {
            fill(c, kv);
            continue;
        }
        char *s = wih_strdup(c->valuestring);
        for (const char *const *p = kv; p[0]; p += 2) {
            char *key = wih_asprintf("{%s}", p[0]), *at;
            while ((at = strstr(s, key))) {
                *at = 0;
                char *n = wih_asprintf("%s%s%s", s, p[1] ? p[1] : "", at + strlen(key));
                free(s);
                s = n;
            }
            free(key);
        }
        cJSON_SetValuestring(c, s);
        free(s);
    }
}

static answer shape(const wih_osmo_standin *s, const char *which, const char *const *kv)
{
    const cJSON *sh = cJSON_GetObjectItem(s->shapes, which);
    answer a = {cJSON_GetObjectItem(sh, "status") ? cJSON_GetObjectItem(sh, "status")->valueint : 500,
                cJSON_Duplicate(cJSON_GetObjectItem(sh, "body"), true)};
    fill(a.body, kv);
    return a;
}

static answer message(int status, const char *m)
{
    answer a = {status, cJSON_CreateObject()};
    cJSON_AddStringToObject(a.body, "message", m);
    return a;
}

/* ------------------------------------------------------------ pods */
static void drop_env_refs(cJSON *c)
{
    cJSON *env = cJSON_GetObjectItem(c, "env");
    for (int i = cJSON_GetArraySize(env) - 1; i >= 0; i--) {
        const cJSON *vf = cJSON_GetObjectItem(cJSON_GetArrayItem(env, i), "valueFrom");
        if (cJSON_GetObjectItem(vf, "secretKeyRef") || cJSON_GetObjectItem(vf, "configMapKeyRef"))
            cJSON_DeleteItemFromArray(env, i);
    }
    cJSON_DeleteItemFromObject(c, "envFrom");
    cJSON_DeleteItemFromObject(c, "resources");
}

/* The task container runs what follows osmo_exec's "--"; OSMO's own
 * containers run ctrl_image with [version] (osmo_standin.h says why). */
static void standin_container(cJSON *c, const char *ctrl_image, bool osmo_own)
{
    cJSON_DeleteItemFromObject(c, "imagePullPolicy");
    cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
    drop_env_refs(c);
    cJSON *args = cJSON_DetachItemFromObject(c, "args");
    cJSON_DeleteItemFromObject(c, "command");
    if (osmo_own) {
        cJSON_DeleteItemFromObject(c, "image");
        cJSON_AddStringToObject(c, "image", ctrl_image);
        cJSON_AddItemToObject(c, "args", cJSON_CreateStringArray((const char *[]){"version"}, 1));
    } else {
        cJSON *cmd = cJSON_AddArrayToObject(c, "command");
        bool after = false;
        const cJSON *a;
        cJSON_ArrayForEach(a, args)
        {
            if (after) cJSON_AddItemToArray(cmd, cJSON_Duplicate(a, true));
            after = after || (cJSON_IsString(a) && !strcmp(a->valuestring, "--"));
        }
    }
    cJSON_Delete(args);
}

static void standin_pod(cJSON *pod, const char *ctrl_image)
{
    cJSON *spec = cJSON_GetObjectItem(pod, "spec"), *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(spec, "initContainers")) standin_container(c, ctrl_image, true);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(spec, "containers"))
        standin_container(c, ctrl_image, !strcmp(kube_obj_str(c, "name") ? kube_obj_str(c, "name") : "", "osmo-ctrl"));
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(pod, "metadata"), "finalizers");
    cJSON_DeleteItemFromObject(spec, "imagePullSecrets");
}

static const char *wf_label(const cJSON *pod)
{
    const cJSON *lb = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels");
    return cJSON_GetStringValue(cJSON_GetObjectItem(lb, "osmo.workflow_id"));
}

static void delete_pods(wih_osmo_standin *s, const cJSON *names, int64_t wait_ms)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, names)
    {
        kube_ref r = {"v1", "Pod", s->ns, n->valuestring};
        wih_err *e = NULL;
        if (kube_delete(s->kc, &r, 0, wait_ms, &e)) fprintf(stderr, "osmo stand-in: %s\n", wih_err_str(e));
        wih_err_free(e);
    }
}

/* ------------------------------------------------------------ routes */
static answer submit(wih_osmo_standin *s, const char *pool, const char *body)
{
    const char *kv[] = {"pool", pool, "url", s->url, NULL};
    if (!cJSON_IsObject(cJSON_GetObjectItem(s->cfg->pools, pool))) return shape(s, "no_pool", kv);
    cJSON *b = cJSON_Parse(body ? body : "");
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(b, "file"));
    if (!file) {
        cJSON_Delete(b);
        answer a = {422, cJSON_Parse("{\"detail\": [{\"loc\": [\"body\", \"file\"], \"msg\": \"field required\", "
                                     "\"type\": \"value_error.missing\"}]}")};
        return a;
    }
    wih_err *e = NULL;
    wih_ydocs *d = wih_yaml_load_string("workflow.yaml", file, strlen(file), &e);
    osmo_render_opts ro = {.pool = pool, .namespace_ = s->ns, .submitted_by = "wiharness", .seed = s->seq++};
    cJSON *pods = d ? osmo_render(s->cfg, wih_ydocs_root(d, 0), d, &ro, &e) : NULL;
    wih_ydocs_free(d);
    cJSON_Delete(b);
    if (!pods) {
        const char *bk[] = {"message", wih_err_str(e), NULL};
        answer a = shape(s, "bad_spec", bk);
        wih_err_free(e);
        return a;
    }
    char *name = wih_strdup(wf_label(cJSON_GetArrayItem(pods, 0)) ? wf_label(cJSON_GetArrayItem(pods, 0)) : "?");
    char uuid[33];
    osmo_uuid(ro.seed, "workflow", uuid);
    cJSON *wf = cJSON_CreateObject(), *made = cJSON_AddArrayToObject(wf, "pods");
    cJSON_AddStringToObject(wf, "pool", pool);
    cJSON_AddStringToObject(wf, "uuid", uuid);
    cJSON_AddFalseToObject(wf, "cancelled");
    cJSON_AddItemToObject(s->workflows, name, wf);
    cJSON *p;
    answer a = {0};
    cJSON_ArrayForEach(p, pods)
    {
        standin_pod(p, s->ctrl_image);
        cJSON *got = kube_create(s->kc, p, &e);
        if (!got) {
            char *m = wih_asprintf("Internal server error: %s", wih_err_str(e));
            a = message(500, m);
            free(m);
            wih_err_free(e);
            e = NULL;
            break;
        }
        cJSON_AddItemToArray(made, cJSON_CreateString(kube_obj_str(got, "metadata.name")));
        cJSON_Delete(got);
    }
    cJSON_Delete(pods);
    if (!a.body) {
        const char *ok[] = {"name", name, "url", s->url, NULL};
        a = shape(s, "submit", ok);
    }
    free(name);
    return a;
}

static bool waiting_on_image(const cJSON *pod)
{
    const cJSON *cs;
    const cJSON *st = cJSON_GetObjectItem(pod, "status");
    for (int k = 0; k < 2; k++)
        cJSON_ArrayForEach(cs, cJSON_GetObjectItem(st, k ? "containerStatuses" : "initContainerStatuses"))
        {
            const char *r = kube_obj_str(cs, "state.waiting.reason");
            if (r && (!strcmp(r, "ErrImagePull") || !strcmp(r, "ImagePullBackOff") || !strcmp(r, "ErrImageNeverPull")))
                return true;
        }
    return false;
}

/* What OSMO's backend listener would report, from the pods' phases. */
static const char *status_of(wih_osmo_standin *s, const char *name, const cJSON *wf, wih_err **e)
{
    if (cJSON_IsTrue(cJSON_GetObjectItem(wf, "cancelled"))) return "FAILED_CANCELED";
    char *sel = wih_asprintf("osmo.workflow_id=%s", name);
    cJSON *list = kube_list(s->kc, "v1", "Pod", s->ns, sel, e);
    free(sel);
    if (!list) return NULL;
    int n = 0, done = 0, failed = 0, running = 0, image = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(list, "items"))
    {
        const char *ph = kube_obj_str(p, "status.phase");
        n++;
        done += ph && !strcmp(ph, "Succeeded");
        failed += ph && !strcmp(ph, "Failed");
        running += ph && !strcmp(ph, "Running");
        image += waiting_on_image(p);
    }
    cJSON_Delete(list);
    return image ? "FAILED_IMAGE_PULL" : failed ? "FAILED" : n && done == n ? "COMPLETED" : running ? "RUNNING" : "PENDING";
}

static answer query(wih_osmo_standin *s, const char *name)
{
    const cJSON *wf = cJSON_GetObjectItem(s->workflows, name);
    const char *nk[] = {"name", name, NULL};
    if (!wf) return shape(s, "not_found", nk);
    wih_err *e = NULL;
    const char *st = status_of(s, name, wf, &e);
    if (!st) {
        char *m = wih_asprintf("Internal server error: %s", wih_err_str(e));
        answer a = message(500, m);
        free(m);
        wih_err_free(e);
        return a;
    }
    const char *kv[] = {"name", name, "status", st, "pool", kube_obj_str(wf, "pool"), "uuid", kube_obj_str(wf, "uuid"),
                        "url", s->url, NULL};
    return shape(s, "query", kv);
}

static answer cancel(wih_osmo_standin *s, const char *name)
{
    cJSON *wf = cJSON_GetObjectItem(s->workflows, name);
    const char *nk[] = {"name", name, NULL};
    if (!wf) return shape(s, "not_found", nk);
    wih_err *e = NULL;
    const char *st = status_of(s, name, wf, &e);
    wih_err_free(e);
    if (st && strcmp(st, "PENDING") && strcmp(st, "RUNNING") && strcmp(st, "WAITING")) return shape(s, "finished", nk);
    delete_pods(s, cJSON_GetObjectItem(wf, "pods"), 0);
    cJSON_ReplaceItemInObject(wf, "cancelled", cJSON_CreateTrue());
    return shape(s, "cancel", nk);
}

static answer route(wih_osmo_standin *s, const char *method, const char *url, const char *body, bool auth)
{
    if (!strcmp(method, "GET") && !strcmp(url, "/api/version")) return shape(s, "version", (const char *[]){NULL});
    if (!auth) return shape(s, "bad_token", (const char *[]){NULL});
    char name[256];
    size_t n = strlen(url);
    if (!strcmp(method, "POST") && !strncmp(url, "/api/pool/", 10) && n > 19 && !strcmp(url + n - 9, "/workflow")) {
        snprintf(name, sizeof name, "%.*s", (int)(n - 19), url + 10);
        return submit(s, name, body);
    }
    if (!strncmp(url, "/api/workflow/", 14) && !strcmp(method, "POST") && n > 21 && !strcmp(url + n - 7, "/cancel")) {
        snprintf(name, sizeof name, "%.*s", (int)(n - 21), url + 14);
        return cancel(s, name);
    }
    if (!strncmp(url, "/api/workflow/", 14) && !strcmp(method, "GET") && !strchr(url + 14, '/'))
        return query(s, url + 14);
    answer a = {404, cJSON_CreateObject()};
    cJSON_AddStringToObject(a.body, "detail", "Not Found");
    return a;
}

/* ------------------------------------------------------------ the server */
static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *ver, const char *data, size_t *size, void **state)
{
    (void)ver;
    wih_osmo_standin *s = cls;
    if (!*state) { /* the first call: headers only */
        wih_buf *b = wih_xcalloc(1, sizeof *b);
        wih_buf_init(b, 1 << 20);
        wih_buf_adds(b, "");
        *state = b;
        return MHD_YES;
    }
    wih_buf *b = *state;
    if (*size) {
        wih_buf_add(b, data, *size);
        *size = 0;
        return MHD_YES;
    }
    const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-osmo-auth");
    bool auth = tok && !strcmp(tok, s->token);
    pthread_mutex_lock(&s->mu);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "method", method);
    cJSON_AddStringToObject(r, "path", url);
    cJSON_AddBoolToObject(r, "auth", auth);
    cJSON_AddItemToArray(s->requests, r);
    answer a = route(s, method, url, b->data, auth);
    pthread_mutex_unlock(&s->mu);
    char *text = cJSON_PrintUnformatted(a.body);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)a.status, resp);
    MHD_destroy_response(resp);
    cJSON_Delete(a.body);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
    (void)cls;
    (void)c;
    (void)t;
    if (!*state) return;
    wih_buf_free(*state);
    free(*state);
    *state = NULL;
}

static wih_err *load(wih_osmo_standin *s, const wih_osmo_standin_opts *o)
{
    wih_err *e = NULL;
    char *path = wih_fixture("osmo-api/standin.json");
    char *t = wih_read_file(path, 1 << 20, NULL, &e);
    free(path);
    if (!t) return e;
    s->shapes = cJSON_Parse(t);
    free(t);
    if (!s->shapes) return wih_err_new(WIH_EXIT_INFRA, "fixtures/osmo-api/standin.json: not JSON");
    if (!(s->cfg = osmo_config_load_file(o->values_file, OSMO_MODE_AUTO, &e))) return e;
    kube_config_opts ko = {.kubeconfig = o->kubeconfig};
    if (!(s->kc = kube_client_new(&ko, &e))) return e;
    return NULL;
}

wih_osmo_standin *wih_osmo_standin_start(const wih_osmo_standin_opts *o, wih_err **err)
{
    wih_osmo_standin *s = wih_xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->ns = wih_strdup(o->namespace_ ? o->namespace_ : "osmo-workflows");
    s->ctrl_image = wih_strdup(o->ctrl_image);
    s->token = wih_strdup(o->token);
    s->workflows = cJSON_CreateObject();
    s->requests = cJSON_CreateArray();
    if ((*err = load(s, o))) {
        wih_osmo_standin_stop(s);
        return NULL;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_req, s, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_done, s, MHD_OPTION_END);
    if (!s->d) {
        *err = wih_err_new(WIH_EXIT_INFRA, "osmo stand-in: cannot listen on 127.0.0.1");
        wih_osmo_standin_stop(s);
        return NULL;
    }
    s->url = wih_asprintf("http://127.0.0.1:%d", MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port);
    return s;
}

const char *wih_osmo_standin_url(const wih_osmo_standin *s)
{
    return s->url;
}

cJSON *wih_osmo_standin_requests(wih_osmo_standin *s)
{
    pthread_mutex_lock(&s->mu);
    cJSON *r = cJSON_Duplicate(s->requests, true);
    pthread_mutex_unlock(&s->mu);
    return r;
}

int wih_osmo_standin_count(wih_osmo_standin *s, const char *m, const char *needle)
{
    cJSON *all = wih_osmo_standin_requests(s);
    int n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, all) n += !strcmp(kube_obj_str(r, "method"), m) && strstr(kube_obj_str(r, "path"), needle);
    cJSON_Delete(all);
    return n;
}

void wih_osmo_standin_stop(wih_osmo_standin *s)
{
    if (!s) return;
    if (s->d) MHD_stop_daemon(s->d);
    const cJSON *wf;
    if (s->kc) cJSON_ArrayForEach(wf, s->workflows) delete_pods(s, cJSON_GetObjectItem(wf, "pods"), 60000);
    kube_client_free(s->kc);
    osmo_config_free(s->cfg);
    cJSON_Delete(s->shapes);
    cJSON_Delete(s->workflows);
    cJSON_Delete(s->requests);
    pthread_mutex_destroy(&s->mu);
    free(s->url);
    free(s->ns);
    free(s->ctrl_image);
    free(s->token);
    free(s);
}
