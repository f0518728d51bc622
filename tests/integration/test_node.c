/* The real node of the local backend (root): `up` → one Ready node; per
 * profile the guide's SA and the pod `render` produces are admitted by the
 * API server (mock webhook), scheduled, and the kubelet mounts the projected
 * token where the webhook said; a container from the probe image (`node
 * selftest`) reports the token's claims and the injected env in its
 * termination message, checked against the stored pod and the JWKS.
 * Non-root readers with and without fsGroup; `kubectl logs`. After `down`,
 * and after SIGINT 1 s, 3 s and 6 s into `up`: no process, mount, netns,
 * bridge, IPAM lease, cgroup of the run left. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leftovers.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/node.h"
#include "wiharness/yamljson.h"

static char *g_tmp, *g_dir;
static kube_client *g_kc;
static cJSON *g_state;
static char *g_jwks;

static const char *sget(const cJSON *o, const char *path)
{
    /* "a.b.c" */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && cur; k = strtok_r(NULL, ".", &save))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    return cJSON_GetStringValue(cur);
}

static char *cli_out(const char *what, ...) __attribute__((sentinel));
static char *cli_out(const char *what, ...)
{
    /* wih_test_cli with up to 16 args */
    const char *a[17] = {0};
    va_list ap;
    va_start(ap, what);
    int n = 0;
    a[n++] = what;
    const char *x;
    while (n < 16 && (x = va_arg(ap, const char *))) a[n++] = x;
    va_end(ap);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11],
                          a[12], a[13], a[14], a[15], (char *)NULL);
    ck_assert_msg(rc == 0, "wiharness %s %s exited %d: %.600s", what, a[1] ? a[1] : "", rc, err);
    free(err);
    return out;
}

/* ----------------------------------------------------------- pods */
static cJSON *wait_pod_done(const char *ns, const char *name, int64_t ms)
{
    kube_ref r = {"v1", "Pod", ns, name};
    int64_t end = wih_now_ms() + ms;
    for (;;) {
        wih_err *e = NULL;
        cJSON *p = kube_get(g_kc, &r, &e);
        wih_err_free(e);
        const char *ph = sget(p, "status.phase");
        if (ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"))) return p;
        if (wih_now_ms() > end) {
            char *s = p ? cJSON_PrintUnformatted(cJSON_GetObjectItem(p, "status")) : wih_strdup("(no pod)");
            ck_abort_msg("pod %s/%s not finished within %lld ms: %.1500s", ns, name, (long long)ms, s);
        }
        cJSON_Delete(p);
        wih_sleep_ms(200);
    }
}

static cJSON *termination_json(const cJSON *pod, const char *container)
{
    const cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "status"), "containerStatuses");
    for (const cJSON *c = cs ? cs->child : NULL; c; c = c->next) {
        if (strcmp(sget(c, "name"), container)) continue;
        const char *msg = sget(c, "state.terminated.message");
        ck_assert_msg(msg, "container %s has no termination message", container);
        cJSON *j = cJSON_Parse(msg);
        ck_assert_msg(j, "termination message is not JSON: %s", msg);
        return j;
    }
    ck_abort_msg("no status for container %s", container);
    return NULL;
}

static void apply_obj(cJSON *o)
{
    wih_err *e = NULL;
    cJSON *r = kube_apply(g_kc, o, &e);
    ck_assert_msg(r, "%s", wih_err_str(e));
    cJSON_Delete(r);
}

static void make_ns(const char *ns)
{
    char *t = wih_asprintf("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", ns);
    cJSON *o = cJSON_Parse(t);
    apply_obj(o);
    cJSON_Delete(o);
    free(t);
    /* the controller-manager creates the default SA (ServiceAccount admission is on) */
    kube_ref r = {"v1", "ServiceAccount", ns, "default"};
    int64_t end = wih_now_ms() + 30000;
    for (;;) {
        wih_err *e = NULL;
        cJSON *sa = kube_get(g_kc, &r, &e);
        wih_err_free(e);
        if (sa) {
            cJSON_Delete(sa);
            return;
        }
        ck_assert_msg(wih_now_ms() < end, "no default ServiceAccount in %s after 30 s", ns);
        wih_sleep_ms(100);
    }
}

/* every container: the probe image running `node selftest` (or args) */
static void to_probe(cJSON *pod, const char *const *args)
{
    const char *img = sget(g_state, "node.probe_image");
    cJSON *spec = cJSON_GetObjectItem(pod, "spec");
    cJSON_DeleteItemFromObject(spec, "imagePullSecrets");
    const char *lists[] = {"initContainers", "containers"};
    for (int l = 0; l < 2; l++) {
        cJSON *cs = cJSON_GetObjectItem(spec, lists[l]);
        for (cJSON *c = cs ? cs->child : NULL; c; c = c->next) {
            cJSON_DeleteItemFromObject(c, "image");
            cJSON_AddStringToObject(c, "image", img);
            cJSON_DeleteItemFromObject(c, "imagePullPolicy");
            cJSON_AddStringToObject(c, "imagePullPolicy", "IfNotPresent");
            static const char *const drop[] = {"command", "args", "resources", "ports", "readinessProbe",
                                               "livenessProbe", "startupProbe", "workingDir", NULL};
            for (const char *const *d = drop; *d; d++) cJSON_DeleteItemFromObject(c, *d);
            cJSON *a = cJSON_AddArrayToObject(c, "args");
            if (l == 0)
                cJSON_AddItemToArray(a, cJSON_CreateString("version"));
            else
                for (const char *const *x = args; *x; x++) cJSON_AddItemToArray(a, cJSON_CreateString(*x));
            cJSON *env = cJSON_GetObjectItem(c, "env");
            if (!env) env = cJSON_AddArrayToObject(c, "env");
            /* OSMO's per-workflow secrets do not exist here: drop what reads them */
            for (cJSON *x = env->child, *nx; x; x = nx) {
                nx = x->next;
                if (cJSON_GetObjectItem(cJSON_GetObjectItem(x, "valueFrom"), "secretKeyRef"))
                    cJSON_Delete(cJSON_DetachItemViaPointer(env, x));
            }
            cJSON_DeleteItemFromObject(c, "envFrom");
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", "WIH_SELFTEST_JWKS");
            cJSON_AddStringToObject(e, "value", g_jwks);
            cJSON_AddItemToArray(env, e);
        }
    }
}

/* the projected token the stored pod mounts at `path`: its audience and expiry */
static bool token_source(const cJSON *pod, const char *container, const char *path, const char **aud, double *exp)
{
    const cJSON *spec = cJSON_GetObjectItem(pod, "spec");
    const cJSON *cs = cJSON_GetObjectItem(spec, "containers");
    for (const cJSON *c = cs ? cs->child : NULL; c; c = c->next) {
        if (strcmp(sget(c, "name"), container)) continue;
        const cJSON *vms = cJSON_GetObjectItem(c, "volumeMounts");
        for (const cJSON *vm = vms ? vms->child : NULL; vm; vm = vm->next) {
            const char *mp = sget(vm, "mountPath");
            size_t ml = strlen(mp);
            if (strncmp(path, mp, ml) || path[ml] != '/') continue;
            const cJSON *vols = cJSON_GetObjectItem(spec, "volumes");
            for (const cJSON *v = vols ? vols->child : NULL; v; v = v->next) {
                if (strcmp(sget(v, "name"), sget(vm, "name"))) continue;
                const cJSON *srcs = cJSON_GetObjectItem(cJSON_GetObjectItem(v, "projected"), "sources");
                for (const cJSON *s = srcs ? srcs->child : NULL; s; s = s->next) {
                    const cJSON *t = cJSON_GetObjectItem(s, "serviceAccountToken");
                    if (!t || strcmp(sget(t, "path"), path + ml + 1)) continue;
                    *aud = sget(t, "audience");
                    *exp = cJSON_GetNumberValue(cJSON_GetObjectItem(t, "expirationSeconds"));
                    return true;
                }
            }
        }
    }
    return false;
}

/* every literal identity env value of the stored container is what the process saw */
static void check_env(const cJSON *pod, const char *container, const cJSON *seen)
{
    const cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "spec"), "containers");
    int n = 0;
    for (const cJSON *c = cs ? cs->child : NULL; c; c = c->next) {
        if (strcmp(sget(c, "name"), container)) continue;
        const cJSON *env = cJSON_GetObjectItem(c, "env");
        for (const cJSON *e = env ? env->child : NULL; e; e = e->next) {
            const char *k = sget(e, "name"), *v = sget(e, "value");
            if (!v || (strncmp(k, "AWS_", 4) && strncmp(k, "AZURE_", 6) && strncmp(k, "GOOGLE_", 7))) continue;
            const char *got = sget(seen, k);
            ck_assert_msg(got && !strcmp(got, v), "env %s: stored pod says '%s', the container saw '%s'", k, v,
                          got ? got : "(unset)");
            n++;
        }
    }
    ck_assert_msg(n > 0, "the webhook injected no identity env into %s", container);
}

static const char *const k_profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet"};

START_TEST(profile_pod_reads_its_projected_token)
{
    const char *prof = k_profiles[_i];
    char *ns = wih_asprintf("node-%s", prof), *work = wih_path_join(g_tmp, prof);
    wih_mkdir_p(work, 0700);
    make_ns(ns);
    const char *idf = !strcmp(prof, "aws-irsa") ? "--role-arn" : !strcmp(prof, "azure-wi") ? "--client-id" : "--gcp-service-account";
    const char *idv = !strcmp(prof, "aws-irsa")   ? "arn:aws:iam::123456789012:role/team-a"
                      : !strcmp(prof, "azure-wi") ? "00000000-0000-0000-0000-000000000001"
                                                  : "team-a@wiharness-project.iam.gserviceaccount.com";
    /* guide step 2: the ServiceAccount; steps 3-4: values; the pod OSMO creates */
    char *sa = cli_out("gen", "sa", "--profile", prof, "--name", "osmo-workflow", "--namespace", ns, idf, idv, "-o",
                       "json", NULL);
    cJSON *saj = cJSON_Parse(sa);
    apply_obj(saj);
    char *vals = !strcmp(prof, "azure-wi")
                     ? cli_out("gen", "values", "--template", "workflow_workload_identity", "--service-account",
                               "osmo-workflow", "--pool", "default", "--profile", "azure-wi", NULL)
                     : cli_out("gen", "values", "--template", "workflow_workload_identity", "--service-account",
                               "osmo-workflow", "--pool", "default", NULL);
    char *vf = wih_path_join(work, "values.yaml"), *wf = wih_asprintf("%s/fixtures/demo/workflow.yaml", WIH_SOURCE_DIR);
    wih_err *e = NULL;
    ck_assert(wih_write_file(vf, vals, strlen(vals), 0600, &e) == 0);
    char *pods = cli_out("render", "--values", vf, "--workflow", wf, "--namespace", ns, "--seed", "7", "-o", "json", NULL);
    cJSON *list = cJSON_Parse(pods);
    cJSON *pod = cJSON_Duplicate(cJSON_GetArrayItem(list, 0), 1);
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(pod, "metadata"), "namespace");
    cJSON_AddStringToObject(cJSON_GetObjectItem(pod, "metadata"), "namespace", ns);
    static const char *const st[] = {"node", "selftest", NULL};
    to_probe(pod, st);
    int64_t t0 = wih_now_ms();
    cJSON *created = kube_create(g_kc, pod, &e);
    ck_assert_msg(created, "%s: creating the rendered pod: %s", prof, wih_err_str(e));
    const char *name = sget(created, "metadata.name");
    cJSON *done = wait_pod_done(ns, name, 90000);
    printf("%s: pod %s/%s create → %s in %lld ms\n", prof, ns, name, sget(done, "status.phase"),
           (long long)(wih_now_ms() - t0));
    ck_assert_str_eq(sget(done, "spec.nodeName"), sget(g_state, "node.name"));
    cJSON *v = termination_json(done, "osmo-ctrl");
    char *vs = cJSON_PrintUnformatted(v);
    printf("%s: osmo-ctrl reported %s\n", prof, vs);
    const cJSON *tok = cJSON_GetObjectItem(v, "token");
    const char *path = sget(tok, "path");
    ck_assert_msg(path, "%s: no token path: %s", prof, vs);
    const char *aud = NULL;
    double exp = 0;
    ck_assert_msg(token_source(done, "osmo-ctrl", path, &aud, &exp), "%s: %s is not a projected token of the pod", prof,
                  path);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(tok, "readable")), "%s: token not readable: %s", prof, vs);
    const cJSON *auds = cJSON_GetObjectItem(tok, "aud");
    bool has = cJSON_IsString(auds) ? !strcmp(auds->valuestring, aud) : false;
    for (const cJSON *a = cJSON_IsArray(auds) ? auds->child : NULL; a; a = a->next) has = has || !strcmp(a->valuestring, aud);
    ck_assert_msg(has, "%s: token aud %s, the webhook asked for %s", prof, vs, aud);
    char *sub = wih_asprintf("system:serviceaccount:%s:osmo-workflow", ns);
    ck_assert_str_eq(sget(tok, "sub"), sub);
    ck_assert_str_eq(sget(tok, "pod"), name);
    ck_assert_str_eq(sget(tok, "iss"), sget(g_state, "issuer"));
    ck_assert_msg(cJSON_GetNumberValue(cJSON_GetObjectItem(tok, "lifetime_s")) == exp, "%s: exp-iat %g, expirationSeconds %g",
                  prof, cJSON_GetNumberValue(cJSON_GetObjectItem(tok, "lifetime_s")), exp);
    ck_assert_msg(sget(tok, "verified") && !strcmp(sget(tok, "verified"), "ok"), "%s: signature vs JWKS: %s", prof, vs);
    check_env(done, "osmo-ctrl", cJSON_GetObjectItem(v, "env"));
    free(vs);
    free(sub);
    cJSON_Delete(v);
    cJSON_Delete(done);
    cJSON_Delete(created);
    cJSON_Delete(pod);
    cJSON_Delete(list);
    cJSON_Delete(saj);
    free(pods);
    free(vals);
    free(sa);
    free(vf);
    free(wf);
    free(ns);
    free(work);
}
END_TEST

/* runAsUser 1000, with and without fsGroup: the catalog's non-root-token-perms row */
START_TEST(non_root_reads_the_token)
{
    bool fsg = _i == 1;
    char *ns = wih_strdup("node-nonroot");
    make_ns(ns);
    char *pj = wih_asprintf(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"nonroot-%s\",\"namespace\":\"%s\"},"
        "\"spec\":{\"restartPolicy\":\"Never\",\"securityContext\":{\"runAsUser\":1000,\"runAsGroup\":1000%s},"
        "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"env\":[{\"name\":\"AWS_WEB_IDENTITY_TOKEN_FILE\",\"value\":"
        "\"/var/run/secrets/eks.amazonaws.com/serviceaccount/token\"}],\"volumeMounts\":[{\"name\":\"aws-iam-token\","
        "\"mountPath\":\"/var/run/secrets/eks.amazonaws.com/serviceaccount\",\"readOnly\":true}]}],"
        "\"volumes\":[{\"name\":\"aws-iam-token\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"audience\":"
        "\"sts.amazonaws.com\",\"expirationSeconds\":86400,\"path\":\"token\"}}]}}]}}",
        fsg ? "fsgroup" : "plain", ns, fsg ? ",\"fsGroup\":2000" : "");
    cJSON *pod = cJSON_Parse(pj);
    static const char *const st[] = {"node", "selftest", NULL};
    to_probe(pod, st);
    wih_err *e = NULL;
    cJSON *created = kube_create(g_kc, pod, &e);
    ck_assert_msg(created, "%s", wih_err_str(e));
    cJSON *done = wait_pod_done(ns, sget(created, "metadata.name"), 60000);
    cJSON *v = termination_json(done, "c");
    char *vs = cJSON_PrintUnformatted(cJSON_GetObjectItem(v, "token"));
    printf("runAsUser 1000%s: the kubelet wrote the token as %s\n", fsg ? " fsGroup 2000" : " (no fsGroup)", vs);
    const cJSON *tok = cJSON_GetObjectItem(v, "token");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "uid")), 1000);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(tok, "readable")), "uid 1000 cannot read the token: %s", vs);
    if (fsg)
        ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(tok, "gid")), 2000);
    else
        ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(tok, "uid")), 1000);
    free(vs);
    cJSON_Delete(v);
    cJSON_Delete(done);
    cJSON_Delete(created);
    cJSON_Delete(pod);
    free(pj);
    free(ns);
}
END_TEST

/* `kubectl logs`: the API server reaches the kubelet on the node IP */
START_TEST(logs_through_the_api_server)
{
    make_ns("node-logs");
    cJSON *pod = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"version\",\"namespace\":"
                             "\"node-logs\"},\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                             "\"image\":\"x\"}]}}");
    static const char *const args[] = {"version", NULL};
    to_probe(pod, args);
    wih_err *e = NULL;
    cJSON *created = kube_create(g_kc, pod, &e);
    ck_assert_msg(created, "%s", wih_err_str(e));
    cJSON *done = wait_pod_done("node-logs", "version", 60000);
    ck_assert_str_eq(sget(done, "status.phase"), "Succeeded");
    char *ca = wih_path_join(sget(g_state, "pki"), "ca.crt"), *crt = wih_path_join(sget(g_state, "pki"), "admin.crt"),
         *key = wih_path_join(sget(g_state, "pki"), "admin.key");
    char *url = wih_asprintf("%s/api/v1/namespaces/node-logs/pods/version/log", sget(g_state, "server"));
    char *body = NULL;
    e = NULL;
    long code = cluster_http_get(url, ca, crt, key, &body, &e);
    ck_assert_msg(code == 200, "logs: %ld %s", code, body ? body : wih_err_str(e));
    ck_assert_msg(strstr(body, "wiharness "), "logs lack the version line: %s", body);
    free(body);
    free(url);
    free(ca);
    free(crt);
    free(key);
    cJSON_Delete(done);
    cJSON_Delete(created);
    cJSON_Delete(pod);
}
END_TEST

/* ------------------------------------------------------------- leftovers */
/* wih_test_check_clean, wih_test_procs_naming: tests/helpers/leftovers.c */
static const int k_sigint_ms[] = {1000, 3000, 6000};

START_TEST(sigint_during_up_leaves_nothing)
{
    char *dir = wih_asprintf("%s/sigint-%d", g_tmp, k_sigint_ms[_i]);
    char *logs = wih_path_join(g_tmp, "logs");
    char *argv[] = {WIH_BINARY, "up", "--state-dir", dir, NULL};
    wih_err *e = NULL;
    wih_proc_opts o = {.name = "up", .argv = argv, .log_dir = logs};
    wih_proc *up = wih_proc_spawn(&o, &e);
    ck_assert_msg(up, "%s", wih_err_str(e));
    wih_sleep_ms(k_sigint_ms[_i]);
    char *sf = wih_path_join(dir, "state.json");
    char *t = wih_read_file(sf, 1 << 20, NULL, NULL);
    cJSON *snap = t ? cJSON_Parse(t) : NULL;
    free(t);
    node_plan p;
    cJSON *recs = NULL;
    if (snap && node_plan_from_json(cJSON_GetObjectItem(snap, "node"), &p) == 0) {
        recs = node_records(&p);
        node_plan_free(&p);
    }
    kill(wih_proc_pid(up), SIGINT);
    int64_t end = wih_now_ms() + 90000;
    while (wih_proc_running(up) && wih_now_ms() < end) wih_sleep_ms(50);
    ck_assert_msg(!wih_proc_running(up), "up still running 90 s after SIGINT");
    int st = wih_proc_exit_status(up);
    printf("SIGINT at %d ms: up exited %d\n", k_sigint_ms[_i], WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 130 || WEXITSTATUS(st) == 0), "up exit status %d", st);
    if (WEXITSTATUS(st) == 0) {
        /* it finished before the signal: down must clean it */
        char *out, *err;
        ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "down", "--state-dir", dir, NULL), 0);
        free(out);
        free(err);
    }
    wih_test_check_clean(dir, snap, recs);
    cJSON_Delete(snap);
    cJSON_Delete(recs);
    wih_proc_free(up);
    free(sf);
    free(dir);
    free(logs);
}
END_TEST

int main(void)
{
    char *missing = node_preflight();
    if (missing) wih_test_skip("the node needs %s", missing);
    wih_err *err = NULL;
    for (int t = 0; t < WIH_TOOL_COUNT; t++) {
        if (t == WIH_TOOL_KUBECTL) continue;
        char *p = wih_tool_path((wih_tool)t, &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    g_tmp = wih_tmpdir("wih-node-test", false, &err);
    g_dir = wih_path_join(g_tmp, "state");
    char *out = NULL, *errs = NULL;
    int64_t t0 = wih_now_ms();
    int rc = wih_test_cli(&out, &errs, NULL, "up", "--state-dir", g_dir, NULL);
    if (rc != 0) {
        fprintf(stderr, "up exited %d:\n%s\n", rc, errs);
        cluster_local_opts o = {.state_dir = g_dir};
        wih_err_free(cluster_local_down(&o, false));
        return 1;
    }
    printf("up with the node: %lld ms\n", (long long)(wih_now_ms() - t0));
    free(out);
    free(errs);
    g_state = cluster_local_state(g_dir, &err);
    const char *must[] = {"node.name", "node.ip", "node.probe_image", "node.pause_image", "pod_urls.cloud",
                          "pod_urls.minio"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        if (!sget(g_state, must[i])) {
            fprintf(stderr, "state.json lacks %s\n", must[i]);
            cluster_local_opts o = {.state_dir = g_dir};
            wih_err_free(cluster_local_down(&o, false));
            return 1;
        }
    kube_config_opts ko = {.kubeconfig = sget(g_state, "kubeconfig")};
    g_kc = kube_client_new(&ko, &err);
    char *jurl = wih_asprintf("%s/openid/v1/jwks", sget(g_state, "server")),
         *jca = wih_path_join(sget(g_state, "pki"), "ca.crt"), *jbody = NULL;
    cJSON *jwks = cluster_http_get(jurl, jca, NULL, NULL, &jbody, &err) == 200 ? cJSON_Parse(jbody) : NULL;
    free(jurl);
    free(jca);
    free(jbody);
    if (!g_kc || !jwks) {
        fprintf(stderr, "JWKS: %s\n", err ? wih_err_str(err) : "not JSON");
        cluster_local_opts o = {.state_dir = g_dir};
        wih_err_free(cluster_local_down(&o, false));
        return 1;
    }
    g_jwks = cJSON_PrintUnformatted(jwks);
    cJSON_Delete(jwks);

    Suite *s = suite_create("node");
    TCase *tc = tcase_create("pods");
    tcase_set_timeout(tc, 180);
    tcase_add_loop_test(tc, profile_pod_reads_its_projected_token, 0, 3);
    tcase_add_loop_test(tc, non_root_reads_the_token, 0, 2);
    tcase_add_test(tc, logs_through_the_api_server);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);

    /* down: everything the node made goes */
    node_plan p;
    node_plan_from_json(cJSON_GetObjectItem(g_state, "node"), &p);
    cJSON *recs = node_records(&p);
    node_plan_free(&p);
    t0 = wih_now_ms();
    int drc = wih_test_cli(&out, &errs, NULL, "down", "--state-dir", g_dir, NULL);
    printf("down with the node: %lld ms (exit %d)\n", (long long)(wih_now_ms() - t0), drc);
    printf("%s\n", errs ? errs : "");
    free(out);
    free(errs);
    Suite *s2 = suite_create("node-cleanup");
    TCase *tc2 = tcase_create("cleanup");
    tcase_set_timeout(tc2, 240);
    suite_add_tcase(s2, tc2);
    tcase_add_loop_test(tc2, sigint_during_up_leaves_nothing, 0, 3);
    int rc2 = wih_test_run(s2);
    /* after down (checked here, in the parent: the records were read before it) */
    bool clean = drc == 0 && wih_test_procs_naming(g_dir) == 0 && access(g_dir, F_OK) != 0;
    node_plan_from_json(cJSON_GetObjectItem(g_state, "node"), &p);
    cJSON *lo = node_leftovers(&p, recs);
    char *los = cJSON_PrintUnformatted(lo);
    if (cJSON_GetArraySize(lo)) clean = false;
    printf("after down: %s, leftovers %s\n", clean ? "clean" : "NOT clean", los);
    free(los);
    cJSON_Delete(lo);
    cJSON_Delete(recs);
    node_plan_free(&p);
    kube_client_free(g_kc);
    cJSON_Delete(g_state);
    free(g_jwks);
    free(g_dir);
    free(g_tmp);
    return rc || rc2 || !clean ? 1 : 0;
}
