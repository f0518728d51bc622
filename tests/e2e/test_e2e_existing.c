/* End to end, --backend existing: `wiharness up` with the real node in a
 * fresh state dir stands in for a remote cluster; the runner reaches it only
 * through --kubeconfig/--context (the kube module's loader), as it would an
 * EKS/AKS/GKE context:
 *  1. the whole bundled suite passes with --backend existing --context
 *     wiharness-local (the probe runs from its image in real pods);
 *  2. a user without RBAC (a client certificate of the chain's CA with no
 *     bindings) → exit 3 naming the verb and resource, before any case runs;
 *  3. --namespace N: an existing N is refused unless --reuse-namespace, with
 *     which only the run's own objects are deleted; a fresh N is the run's.
 * Skips (77) when the chain cannot have a node here. */
#include <stdlib.h>
#include <string.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"

static char *g_base, *g_dir;

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, strlen(prefix))) n++;
    return n;
}

START_TEST(bundled_suite_passes_through_existing)
{
    char *kc = wih_path_join(g_dir, "kubeconfig");
    char *json = wih_path_join(g_base, "report.json"), *rep = wih_asprintf("json=%s", json);
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                          "--kubeconfig", kc, "--state-dir", g_dir, "--report", rep, suite, NULL);
    ck_assert_msg(rc == 0, "the bundled suite via --backend existing: exit %d\n%s\n%s", rc, out, err);
    int pass = count_lines(out, "PASS  ");
    ck_assert_msg(pass >= 12, "expected every case to pass, saw %d PASS lines:\n%s", pass, out);
    wih_err *e = NULL;
    char *t = wih_read_file(json, 1 << 24, NULL, &e);
    cJSON *doc = cJSON_Parse(t);
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "passed")->valueint, pass);
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "failed")->valueint, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "errors")->valueint, 0);
    /* the probe really ran in pods: every case has a verdict */
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
        ck_assert_msg(cJSON_GetObjectItem(c, "verdict"), "%s/%s has no probe verdict",
                      cJSON_GetStringValue(cJSON_GetObjectItem(c, "scenario")),
                      cJSON_GetStringValue(cJSON_GetObjectItem(c, "profile")));
    cJSON_Delete(doc);
    free(t);
    free(out);
    free(err);
    free(suite);
    free(rep);
    free(json);
    free(kc);
}
END_TEST

START_TEST(rbac_denial_names_verb_and_resource)
{
    char *pki = wih_path_join(g_dir, "pki");
    ck_assert_ptr_null(cluster_pki_issue(pki, "wih-nobody", "wih-nobody", NULL, false, NULL));
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(g_dir, &e);
    char *kc = wih_path_join(g_base, "nobody.kubeconfig");
    char *ca = wih_path_join(pki, "ca.crt"), *crt = wih_path_join(pki, "wih-nobody.crt"),
         *key = wih_path_join(pki, "wih-nobody.key");
    ck_assert_ptr_null(cluster_kubeconfig_write(kc, kube_obj_str(st, "server"), ca, crt, key, "wih-nobody"));
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                          "--kubeconfig", kc, "--state-dir", g_dir, suite, NULL);
    ck_assert_msg(rc == 3, "exit %d\n%s", rc, err);
    ck_assert_msg(strstr(err, "cannot create namespaces"), "%s", err);
    ck_assert_msg(!strstr(out, "PASS") && !strstr(out, "FAIL"), "cases ran: %s", out);
    free(out);
    free(err);
    free(suite);
    free(ca);
    free(crt);
    free(key);
    free(kc);
    free(pki);
    cJSON_Delete(st);
}
END_TEST

static int run_in_ns(const char *ns, bool reuse, char **out, char **err)
{
    char *kc = wih_path_join(g_dir, "kubeconfig");
    char *guide = wih_path_join(WIH_SOURCE_DIR, "scenarios/guide.yaml");
    int rc = reuse ? wih_test_cli(out, err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                                  "--kubeconfig", kc, "--state-dir", g_dir, "--namespace", ns, "--reuse-namespace",
                                  "-l", "name=guide-aws", guide, NULL)
                   : wih_test_cli(out, err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                                  "--kubeconfig", kc, "--state-dir", g_dir, "--namespace", ns, "-l", "name=guide-aws",
                                  guide, NULL);
    free(guide);
    free(kc);
    return rc;
}

/* --namespace N: an existing N is refused without --reuse-namespace; with it
 * the case runs there and deletes only what it made (a ConfigMap of the
 * namespace's owner and the namespace stay); a fresh N is the run's and goes. */
START_TEST(namespace_and_reuse)
{
    char *kcp = wih_path_join(g_dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kcp};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    ck_assert_msg(kc, "%s", e ? wih_err_str(e) : "");
    cJSON *ns = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"team-ns\"}}");
    cJSON *cm = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"keep-me\","
                            "\"namespace\":\"team-ns\"},\"data\":{\"a\":\"b\"}}");
    cJSON *got = kube_create(kc, ns, &e);
    ck_assert_msg(got, "%s", e ? wih_err_str(e) : "");
    cJSON_Delete(got);
    got = kube_create(kc, cm, &e);
    ck_assert_msg(got, "%s", e ? wih_err_str(e) : "");
    cJSON_Delete(got);
    char *out = NULL, *err = NULL;
    int rc = run_in_ns("team-ns", false, &out, &err);
    ck_assert_msg(rc == 3 && strstr(err, "already exists and this run did not create it"), "exit %d\n%s", rc, err);
    free(out);
    free(err);
    rc = run_in_ns("team-ns", true, &out, &err);
    ck_assert_msg(rc == 0 && strstr(out, "PASS  guide-aws"), "exit %d\n%s\n%s", rc, out, err);
    free(out);
    free(err);
    kube_ref nr = {"v1", "Namespace", NULL, "team-ns"}, cr = {"v1", "ConfigMap", "team-ns", "keep-me"},
             sr = {"v1", "ServiceAccount", "team-ns", "osmo-workflow"};
    got = kube_get(kc, &nr, &e);
    ck_assert_msg(got && !strcmp(kube_obj_str(got, "status.phase"), "Active"), "team-ns is gone or terminating");
    cJSON_Delete(got);
    got = kube_get(kc, &cr, &e);
    ck_assert_msg(got, "the owner's ConfigMap was deleted");
    cJSON_Delete(got);
    got = kube_get(kc, &sr, &e);
    ck_assert_msg(!got && e && e->http_status == 404, "the run's ServiceAccount is still there");
    wih_err_free(e);
    e = NULL;
    cJSON *pods = kube_list(kc, "v1", "Pod", "team-ns", NULL, &e);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(pods, "items")), 0);
    cJSON_Delete(pods);
    /* a fresh namespace is the run's: made, then deleted */
    rc = run_in_ns("wih-fresh-ns", false, &out, &err);
    ck_assert_msg(rc == 0, "exit %d\n%s\n%s", rc, out, err);
    kube_ref fr = {"v1", "Namespace", NULL, "wih-fresh-ns"};
    got = kube_get(kc, &fr, &e);
    ck_assert_msg(!got || !strcmp(kube_obj_str(got, "status.phase"), "Terminating"), "wih-fresh-ns survived the run");
    cJSON_Delete(got);
    wih_err_free(e);
    free(out);
    free(err);
    cJSON_Delete(ns);
    cJSON_Delete(cm);
    kube_client_free(kc);
    free(kcp);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-existing-");
    g_base = ch.base;
    g_dir = ch.dir;
    int rc;
    Suite *s = suite_create("e2e_existing");
    TCase *tc = tcase_create("existing");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, rbac_denial_names_verb_and_resource);
    tcase_add_test(tc, bundled_suite_passes_through_existing);
    tcase_add_test(tc, namespace_and_reuse);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
