/* The mock webhook registered with a real kube-apiserver (wiharness up):
 * every golden case that runs with default options is replayed through the
 * API server — pod created with its ServiceAccount in a fresh namespace —
 * and the stored pod must be what the golden patch says (the API server's
 * own defaults may add fields, nothing else may differ); a golden denial
 * must come back from the API server carrying the webhook's message; an
 * Azure pod without the use label is stored unmutated; gcp-fleet's
 * credential ConfigMap exists after admission. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/webhook.h"
#include "wiharness/yamljson.h"

static char *g_dir;
static kube_client *g_kc;

/* every field of `want` is in `got` with the same value; lists have the same
 * length and match item by item; `got` may have more map keys (defaults). */
static void subset(const cJSON *want, const cJSON *got, const char *path, wih_buf *out)
{
    if (!want) return;
    if (!got) {
        wih_buf_addf(out, "%s: missing\n", path);
        return;
    }
    if (cJSON_IsObject(want)) {
        if (!cJSON_IsObject(got)) {
            wih_buf_addf(out, "%s: not a map\n", path);
            return;
        }
        for (const cJSON *c = want->child; c; c = c->next) {
            char *p = wih_asprintf("%s.%s", path, c->string);
            subset(c, cJSON_GetObjectItemCaseSensitive(got, c->string), p, out);
            free(p);
        }
        return;
    }
    if (cJSON_IsArray(want)) {
        int nw = cJSON_GetArraySize(want), ng = cJSON_GetArraySize(got);
        if (!cJSON_IsArray(got) || nw != ng) {
            char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
            wih_buf_addf(out, "%s: got %s, want %s\n", path, g, w);
            free(g);
            free(w);
            return;
        }
        for (int i = 0; i < nw; i++) {
            char *p = wih_asprintf("%s[%d]", path, i);
            subset(cJSON_GetArrayItem(want, i), cJSON_GetArrayItem(got, i), p, out);
            free(p);
        }
        return;
    }
    if (!cJSON_Compare(want, got, 1)) {
        char *g = cJSON_PrintUnformatted(got), *w = cJSON_PrintUnformatted(want);
        wih_buf_addf(out, "%s: got %s, want %s\n", path, g, w);
        free(g);
        free(w);
    }
}

/* Where the webhooks write, absence counts too: a key the golden pod lacks
 * must be absent from the stored pod (the API server defaults none of these). */
static void same_presence(const cJSON *want, const cJSON *got, const char *const *keys, const char *path,
                          wih_buf *out)
{
    for (const char *const *k = keys; *k; k++) {
        bool w = cJSON_GetObjectItem(want, *k) != NULL, g = cJSON_GetObjectItem(got, *k) != NULL;
        if (w != g) wih_buf_addf(out, "%s.%s: %s in the stored pod\n", path, *k, g ? "unexpectedly present" : "missing");
    }
}

static void footprint(const cJSON *want, const cJSON *got, wih_buf *out)
{
    static const char *const spec_keys[] = {"volumes", "initContainers", NULL};
    static const char *const ctr_keys[] = {"env", "volumeMounts", "envFrom", NULL};
    const cJSON *ws = cJSON_GetObjectItem(want, "spec"), *gs = cJSON_GetObjectItem(got, "spec");
    same_presence(ws, gs, spec_keys, "spec", out);
    const char *lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        const cJSON *wl = cJSON_GetObjectItem(ws, lists[l]), *gl = cJSON_GetObjectItem(gs, lists[l]);
        for (int i = 0; i < cJSON_GetArraySize(wl) && i < cJSON_GetArraySize(gl); i++) {
            char *p = wih_asprintf("spec.%s[%d]", lists[l], i);
            same_presence(cJSON_GetArrayItem(wl, i), cJSON_GetArrayItem(gl, i), ctr_keys, p, out);
            free(p);
        }
    }
}

static cJSON *load(const char *path)
{
    if (access(path, R_OK) != 0) return NULL;
    wih_err *err = NULL;
    cJSON *j = wih_yaml_load_one(path, NULL, &err);
    ck_assert_msg(j != NULL, "%s", wih_err_str(err));
    return j;
}

static void set_ns(cJSON *obj, const char *ns)
{
    cJSON *md = cJSON_GetObjectItem(obj, "metadata");
    if (!md) md = cJSON_AddObjectToObject(obj, "metadata");
    cJSON_DeleteItemFromObject(md, "namespace");
    cJSON_AddStringToObject(md, "namespace", ns);
}

typedef struct {
    char *profile, *name;
} gcase;
static gcase *g_cases;
static int g_ncases;
static int g_checked, g_denied;

START_TEST(golden_case_through_apiserver)
{
    const gcase *gc = &g_cases[_i];
    char *base = wih_asprintf("%s/fixtures/webhook/%s/%s", WIH_SOURCE_DIR, gc->profile, gc->name);
    char *pp = wih_path_join(base, "pod.yaml"), *sp = wih_path_join(base, "sa.yaml"),
         *ep = wih_path_join(base, "expect.json");
    cJSON *pod = load(pp), *sa = load(sp), *expect = load(ep);
    ck_assert_ptr_nonnull(pod);
    ck_assert_ptr_nonnull(expect);
    char *ns = wih_asprintf("wh-%d", _i);
    wih_err *err = NULL;
    cJSON *nsobj = cJSON_CreateObject();
    cJSON_AddStringToObject(nsobj, "apiVersion", "v1");
    cJSON_AddStringToObject(nsobj, "kind", "Namespace");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(nsobj, "metadata"), "name", ns);
    cJSON *r = kube_apply(g_kc, nsobj, &err);
    ck_assert_msg(r != NULL, "%s", wih_err_str(err));
    cJSON_Delete(r);
    if (sa) {
        set_ns(sa, ns);
        r = kube_apply(g_kc, sa, &err);
        ck_assert_msg(r != NULL, "%s/%s: applying the SA: %s", gc->profile, gc->name, wih_err_str(err));
        cJSON_Delete(r);
    }
    set_ns(pod, ns);
    /* A real cluster's ServiceAccount admission plugin sets
     * serviceAccountName "default" before any mutating webhook runs; the local
     * chain runs without that plugin (no controller-manager creates SAs), so
     * do here what it would have done. The webhook reads the same name. */
    cJSON *spec = cJSON_GetObjectItem(pod, "spec");
    if (!cJSON_GetObjectItem(spec, "serviceAccountName")) cJSON_AddStringToObject(spec, "serviceAccountName", "default");
    cJSON *want = cJSON_Duplicate(pod, 1);
    cJSON *stored = kube_create(g_kc, pod, &err);
    if (cJSON_IsFalse(cJSON_GetObjectItem(expect, "allowed"))) {
        const char *msg = cJSON_GetObjectItem(cJSON_GetObjectItem(expect, "status"), "message")->valuestring;
        ck_assert_msg(stored == NULL, "%s/%s: the API server admitted a pod the webhook denies", gc->profile,
                      gc->name);
        ck_assert_msg(err->server_msg && strstr(err->server_msg, msg),
                      "%s/%s: the API server's message '%s' lacks the webhook's '%s'", gc->profile, gc->name,
                      err->server_msg ? err->server_msg : "(none)", msg);
        ck_assert_msg(strstr(err->server_msg, "denied the request"), "%s", err->server_msg);
        wih_err_free(err);
        g_denied++;
    } else {
        ck_assert_msg(stored != NULL, "%s/%s: creating the pod: %s", gc->profile, gc->name, wih_err_str(err));
        const cJSON *patch = cJSON_GetObjectItem(expect, "patch");
        if (patch) {
            char *emsg = NULL;
            ck_assert_msg(webhook_patch_apply(want, patch, &emsg) == 0, "%s", emsg);
        }
        wih_buf diff;
        wih_buf_init(&diff, 1 << 20);
        subset(cJSON_GetObjectItem(want, "spec"), cJSON_GetObjectItem(stored, "spec"), "spec", &diff);
        footprint(want, stored, &diff);
        subset(cJSON_GetObjectItem(cJSON_GetObjectItem(want, "metadata"), "labels"),
               cJSON_GetObjectItem(cJSON_GetObjectItem(stored, "metadata"), "labels"), "labels", &diff);
        ck_assert_msg(diff.len == 0, "%s/%s: stored pod differs from the golden mutation:\n%s", gc->profile,
                      gc->name, diff.data);
        wih_buf_free(&diff);
        const cJSON *cm = cJSON_GetObjectItem(expect, "configMap");
        if (cm) {
            const char *cmname = cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "metadata"), "name")->valuestring;
            kube_ref ref = {"v1", "ConfigMap", ns, cmname};
            cJSON *live = kube_get(g_kc, &ref, &err);
            ck_assert_msg(live != NULL, "%s/%s: credential ConfigMap %s/%s: %s", gc->profile, gc->name, ns, cmname,
                          wih_err_str(err));
            ck_assert_msg(cJSON_Compare(cJSON_GetObjectItem(live, "data"), cJSON_GetObjectItem(cm, "data"), 1),
                          "%s/%s: ConfigMap data differs", gc->profile, gc->name);
            cJSON_Delete(live);
        }
        g_checked++;
    }
    cJSON_Delete(stored);
    cJSON_Delete(want);
    cJSON_Delete(pod);
    cJSON_Delete(sa);
    cJSON_Delete(expect);
    cJSON_Delete(nsobj);
    free(ns);
    free(base);
    free(pp);
    free(sp);
    free(ep);
}
END_TEST

static bool has_label_use_true(const cJSON *pod)
{
    const cJSON *l = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "metadata"), "labels");
    const cJSON *u = cJSON_GetObjectItem(l, "azure.workload.identity/use");
    return cJSON_IsString(u) && !strcmp(u->valuestring, "true");
}

START_TEST(azure_without_label_is_stored_unmutated)
{
    wih_err *err = NULL;
    const char *docs = "apiVersion: v1\nkind: Namespace\nmetadata: {name: wh-az}\n---\n"
                       "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: wi\n  namespace: wh-az\n"
                       "  annotations: {azure.workload.identity/client-id: 00000000-0000-0000-0000-00000000000a}\n"
                       "---\napiVersion: v1\nkind: Pod\nmetadata: {name: nolabel, namespace: wh-az}\n"
                       "spec: {serviceAccountName: wi, containers: [{name: c, image: busybox}]}\n"
                       "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: labelled\n  namespace: wh-az\n"
                       "  labels: {azure.workload.identity/use: \"true\"}\n"
                       "spec: {serviceAccountName: wi, containers: [{name: c, image: busybox}]}\n";
    wih_ydocs *d = wih_yaml_load_string("inline", docs, strlen(docs), &err);
    ck_assert_ptr_nonnull(d);
    cJSON *applied = NULL;
    ck_assert_msg(kube_apply_docs(g_kc, d, &applied, &err) == 0, "%s", wih_err_str(err));
    cJSON *p;
    int seen = 0;
    cJSON_ArrayForEach(p, applied)
    {
        if (strcmp(cJSON_GetObjectItem(p, "kind")->valuestring, "Pod")) continue;
        seen++;
        cJSON *c0 = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "spec"), "containers"), 0);
        bool has_env = cJSON_GetObjectItem(c0, "env") != NULL;
        if (has_label_use_true(p)) {
            ck_assert_msg(has_env, "the labelled pod was not mutated");
        } else {
            ck_assert_msg(!has_env, "the pod without the use label was mutated");
            ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "spec"), "volumes"));
        }
    }
    ck_assert_int_eq(seen, 2);
    cJSON_Delete(applied);
    wih_ydocs_free(d);
}
END_TEST

START_TEST(three_registrations_as_upstream)
{
    wih_err *err = NULL;
    cJSON *list = kube_list(g_kc, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", NULL,
                            "app.kubernetes.io/managed-by=wiharness", &err);
    ck_assert_msg(list != NULL, "%s", wih_err_str(err));
    cJSON *items = cJSON_GetObjectItem(list, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 3);
    cJSON *m;
    cJSON_ArrayForEach(m, items)
    {
        const char *name = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "metadata"), "name")->valuestring;
        cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "webhooks"), 0);
        const char *fp = cJSON_GetObjectItem(w, "failurePolicy")->valuestring;
        if (!strcmp(name, "wiharness-azure-wi")) {
            ck_assert_str_eq(fp, "Fail");
            ck_assert_str_eq(cJSON_GetObjectItem(w, "reinvocationPolicy")->valuestring, "IfNeeded");
        } else {
            ck_assert_str_eq(fp, "Ignore");
        }
    }
    cJSON_Delete(list);
}
END_TEST

static int cmp_case(const void *a, const void *b)
{
    const gcase *x = a, *y = b;
    int c = strcmp(x->profile, y->profile);
    return c ? c : strcmp(x->name, y->name);
}

int main(void)
{
    wih_err *err = NULL;
    for (int t = 0; t < WIH_TOOL_MINIO; t++) {
        char *p = wih_tool_path((wih_tool)t, &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    /* every golden case that runs with the default options */
    const char *profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet"};
    for (int i = 0; i < 3; i++) {
        char *dir = wih_asprintf("%s/fixtures/webhook/%s", WIH_SOURCE_DIR, profiles[i]);
        DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char *opt = wih_asprintf("%s/%s/options.yaml", dir, de->d_name);
            bool has_opts = access(opt, F_OK) == 0;
            free(opt);
            /* skip-containers parsing cases name containers "a,b": no API
             * server accepts such a pod, so they are offline-only cases */
            bool offline_only = strstr(de->d_name, "skip-containers-") && !strcmp(profiles[i], "aws-irsa");
            if (offline_only) printf("offline-only golden case (invalid container names): %s/%s\n", profiles[i], de->d_name);
            if (has_opts || offline_only) continue;
            g_cases = realloc(g_cases, (size_t)(g_ncases + 1) * sizeof *g_cases);
            g_cases[g_ncases++] = (gcase){wih_strdup(profiles[i]), wih_strdup(de->d_name)};
        }
        if (d) closedir(d);
        free(dir);
    }
    qsort(g_cases, (size_t)g_ncases, sizeof *g_cases, cmp_case);
    char *tmp = wih_tmpdir("wih-webhook-live", false, &err);
    g_dir = wih_path_join(tmp, "state");
    char *out = NULL, *errs = NULL;
    /* --no-cloud: with the mock cloud, up points the webhook's authority host and
     * Google endpoints at it (9f4bcbf), while these golden cases are the ones
     * that run with the DEFAULT options */
    int rc = wih_test_cli(&out, &errs, NULL, "up", "--no-node", "--state-dir", g_dir, "--no-cloud", NULL);
    if (rc != 0) {
        fprintf(stderr, "wiharness up failed (%d): %s\n", rc, errs);
        return 1;
    }
    free(out);
    free(errs);
    char *kc = wih_path_join(g_dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kc};
    g_kc = kube_client_new(&ko, &err);
    if (!g_kc) {
        fprintf(stderr, "%s\n", wih_err_str(err));
        return 1;
    }
    Suite *s = suite_create("webhook-live");
    TCase *tc = tcase_create("live");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, three_registrations_as_upstream);
    tcase_add_loop_test(tc, golden_case_through_apiserver, 0, g_ncases);
    tcase_add_test(tc, azure_without_label_is_stored_unmutated);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK); /* one client, one chain */
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    printf("webhook-live: %d golden cases replayed through the API server (%d stored pods compared, %d denials)\n",
           g_ncases, g_checked, g_denied);
    kube_client_free(g_kc);
    rc = wih_test_cli(&out, &errs, NULL, "down", "--state-dir", g_dir, NULL);
    if (rc != 0) fprintf(stderr, "down: %s\n", errs);
    free(out);
    free(errs);
    free(kc);
    free(g_dir);
    free(tmp);
    return failed == 0 && rc == 0 ? 0 : 1;
}
