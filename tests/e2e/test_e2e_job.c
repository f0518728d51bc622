/* End to end, --in-cluster-job: `wiharness up` with the real node in a fresh
 * state dir stands in for a cluster the CI machine reaches only through its
 * API. The runner itself runs as a Job there (the probe image's wiharness,
 * the pod's ServiceAccount with exactly the runner's RBAC, the API server
 * through the relay on the bridge address):
 *  1. the core suite (scenarios/ without misconfig/, every profile) passes
 *     through the Job; the JUnit and JSON come back from the results
 *     ConfigMap and agree with the console; afterwards nothing of the Job is
 *     left (its namespace, ClusterRole/Binding, the case namespaces);
 *  2. a failed case comes back as exit 1 with its failure in the JUnit (the
 *     Job's exit code is the host's), and is cleaned up too;
 *  3. SIGINT to the host while a case runs in the Job: exit 130, the Job's
 *     namespace and RBAC gone, the case namespaces gone or Terminating (the
 *     in-cluster runner removed them on its pod's SIGTERM).
 * Skips (77) when the chain cannot have a node here. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "chainfault.h"
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

static int xcount(const char *file, const char *q)
{
    xmlDocPtr d = xmlReadFile(file, NULL, XML_PARSE_NONET);
    if (!d) return -1;
    xmlXPathContextPtr x = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)q, x);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : -1;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(x);
    xmlFreeDoc(d);
    return n;
}

static kube_client *admin(void)
{
    return wih_test_chain_client(g_dir);
}

static int count(kube_client *kc, const char *api, const char *kind, const char *sel, const char *name_prefix)
{
    wih_err *e = NULL;
    cJSON *l = kube_list(kc, api, kind, NULL, sel, &e);
    ck_assert_msg(l, "listing %s: %s", kind, e ? wih_err_str(e) : "");
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(l, "items"))
    {
        const char *nm = kube_obj_str(it, "metadata.name");
        if (!name_prefix || (nm && !strncmp(nm, name_prefix, strlen(name_prefix)))) {
            printf("left: %s %s\n", kind, nm ? nm : "?");
            n++;
        }
    }
    cJSON_Delete(l);
    return n;
}

/* Nothing of any Job run nor of its cases is left in the cluster. */
static void check_nothing_left(void)
{
    kube_client *kc = admin();
    ck_assert_int_eq(count(kc, "v1", "Namespace", "wiharness.io/in-cluster-job", NULL), 0);
    ck_assert_int_eq(count(kc, "v1", "Namespace", "wiharness.io/runner=true", NULL), 0);
    ck_assert_int_eq(count(kc, "rbac.authorization.k8s.io/v1", "ClusterRole", NULL, "wiharness-job-"), 0);
    ck_assert_int_eq(count(kc, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", NULL, "wiharness-job-"), 0);
    kube_client_free(kc);
}

/* The host's run, stdout+stderr to a file (wih_test_cli's 120 s is short for
 * a suite on a loaded machine); *out and *err both get what it printed. */
static int run_job(char **out, char **err, const char *junit, const char *json, const char *label, const char *path)
{
    char *kc = wih_path_join(g_dir, "kubeconfig"), *log = wih_path_join(g_base, "run.log");
    char *rj = wih_asprintf("junit=%s", junit), *rs = wih_asprintf("json=%s", json);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NO_COLOR", "1", 1);
        execl(WIH_BINARY, WIH_BINARY, "run", "--backend", "existing", "--context", "wiharness-local", "--kubeconfig",
              kc, "--state-dir", g_dir, "--in-cluster-job", "--report", rj, "--report", rs, "-l", label, path,
              (char *)NULL);
        _exit(127);
    }
    int rc = wih_test_wait_exit(pid, 900000);
    ck_assert_msg(rc >= 0, "the host's run did not end in 900 s");
    *out = wih_read_file(log, 1 << 24, NULL, NULL);
    if (!*out) *out = wih_strdup("");
    *err = wih_strdup(*out);
    unlink(log);
    free(log);
    free(rj);
    free(rs);
    free(kc);
    return rc;
}

START_TEST(core_suite_passes_through_the_job)
{
    char *junit = wih_path_join(g_base, "job.xml"), *json = wih_path_join(g_base, "job.json");
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *out = NULL, *err = NULL;
    int rc = run_job(&out, &err, junit, json, "suite!=misconfig", suite);
    ck_assert_msg(rc == 0, "the core suite via --in-cluster-job: exit %d\n%s\n%s", rc, out, err);
    ck_assert_msg(strstr(err, "reports from the configmap"), "%s", err);
    ck_assert_msg(strstr(err, "Job wih-runner"), "%s", err);
    int pass = count_lines(out, "PASS  ");
    ck_assert_msg(pass >= 8, "expected the core cases to pass, saw %d PASS lines:\n%s", pass, out);
    ck_assert_msg(!strstr(out, "misconfig"), "a misconfig case ran:\n%s", out);
    /* the JUnit came back: one testcase per case, none failed */
    ck_assert_int_eq(xcount(junit, "//testcase"), pass);
    ck_assert_int_eq(xcount(junit, "//failure"), 0);
    ck_assert_int_eq(xcount(junit, "//error"), 0);
    wih_err *e = NULL;
    char *t = wih_read_file(json, 1 << 24, NULL, &e);
    ck_assert_msg(t, "%s", e ? wih_err_str(e) : "");
    cJSON *doc = cJSON_Parse(t);
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "passed")->valueint, pass);
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "failed")->valueint, 0);
    /* the probe ran in pods the in-cluster runner made */
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
    {
        ck_assert_msg(cJSON_GetObjectItem(c, "verdict"), "%s has no probe verdict", kube_obj_str(c, "scenario"));
        ck_assert_msg(!strncmp(kube_obj_str(c, "file"), "/wih/scenarios/0/", 17), "%s", kube_obj_str(c, "file"));
    }
    /* no secret of the Job's Secret reached the output */
    char *tokp = wih_path_join(g_dir, "cloud/admin.token");
    char *tok = wih_read_file(tokp, 4096, NULL, &e);
    ck_assert_ptr_nonnull(tok);
    tok[strcspn(tok, "\n")] = 0;
    ck_assert_msg(!strstr(out, tok) && !strstr(err, tok) && !strstr(t, tok), "the admin token leaked");
    check_nothing_left();
    free(tok);
    free(tokp);
    cJSON_Delete(doc);
    free(t);
    free(out);
    free(err);
    free(suite);
    free(junit);
    free(json);
}
END_TEST

START_TEST(failed_case_comes_back_as_exit_1)
{
    char *junit = wih_path_join(g_base, "fail.xml"), *json = wih_path_join(g_base, "fail.json");
    char *f = wih_path_join(WIH_SOURCE_DIR, "tests/e2e/scenarios/wrong-expectation.yaml");
    char *out = NULL, *err = NULL;
    int rc = run_job(&out, &err, junit, json, "fixture=fail", f);
    ck_assert_msg(rc == 1, "a wrong expectation via --in-cluster-job: exit %d\n%s\n%s", rc, out, err);
    ck_assert_msg(strstr(out, "FAIL  "), "%s", out);
    ck_assert_int_ge(xcount(junit, "//failure"), 1);
    check_nothing_left();
    free(out);
    free(err);
    free(f);
    free(junit);
    free(json);
}
END_TEST

START_TEST(bad_job_options_are_input_errors)
{
    char *kc = wih_path_join(g_dir, "kubeconfig");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--in-cluster-job", NULL);
    ck_assert_msg(rc == 2 && strstr(err, "--backend existing"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "existing", "--context", "wiharness-local", "--kubeconfig",
                      kc, "--state-dir", g_dir, "--in-cluster-job", "--job-api-url", "http://10.0.0.1", NULL);
    ck_assert_msg(rc == 2 && strstr(err, "expected https://HOST:PORT"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    check_nothing_left();
    free(kc);
}
END_TEST

/* The host's run in the background, stdout+stderr to log. */
static pid_t spawn_job(const char *log, const char *scenario)
{
    char *kc = wih_path_join(g_dir, "kubeconfig");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NO_COLOR", "1", 1);
        execl(WIH_BINARY, WIH_BINARY, "run", "--backend", "existing", "--context", "wiharness-local", "--kubeconfig",
              kc, "--state-dir", g_dir, "--in-cluster-job", scenario, (char *)NULL);
        _exit(127);
    }
    free(kc);
    return pid;
}

START_TEST(sigint_cleans_up_the_job)
{
    char *f = wih_path_join(WIH_SOURCE_DIR, "tests/e2e/scenarios/slow.yaml"), *log = wih_path_join(g_base, "int.log");
    pid_t pid = spawn_job(log, f);
    /* until the in-cluster runner has made a case namespace */
    kube_client *kc = wih_test_wait_first_namespace(g_dir, 120000);
    kill(pid, SIGINT);
    int rc = wih_test_wait_exit(pid, 300000);
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    ck_assert_msg(rc == 130, "exit %d\n%s", rc, text);
    ck_assert_int_eq(count(kc, "v1", "Namespace", "wiharness.io/in-cluster-job", NULL), 0);
    ck_assert_int_eq(count(kc, "rbac.authorization.k8s.io/v1", "ClusterRole", NULL, "wiharness-job-"), 0);
    ck_assert_int_eq(count(kc, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding", NULL, "wiharness-job-"), 0);
    wih_err *e = NULL;
    cJSON *l = kube_list(kc, "v1", "Namespace", NULL, "wiharness.io/runner=true", &e);
    const cJSON *ns;
    cJSON_ArrayForEach(ns, cJSON_GetObjectItem(l, "items"))
    {
        const char *phase = kube_obj_str(ns, "status.phase");
        ck_assert_msg(phase && !strcmp(phase, "Terminating"), "case namespace %s survived (%s)\n%s",
                      kube_obj_str(ns, "metadata.name"), phase ? phase : "?", text);
    }
    cJSON_Delete(l);
    /* give the namespace controller its time, so the next test starts clean */
    for (int i = 0; i < 600; i++) {
        l = kube_list(kc, "v1", "Namespace", NULL, "wiharness.io/runner=true", &e);
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(l, "items"));
        cJSON_Delete(l);
        if (!n) break;
        wih_sleep_ms(100);
    }
    kube_client_free(kc);
    free(text);
    free(log);
    free(f);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-job-");
    g_base = ch.base;
    g_dir = ch.dir;
    Suite *s = suite_create("e2e_job");
    TCase *tc = tcase_create("job");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, bad_job_options_are_input_errors);
    tcase_add_test(tc, core_suite_passes_through_the_job);
    tcase_add_test(tc, failed_case_comes_back_as_exit_1);
    tcase_add_test(tc, sigint_cleans_up_the_job);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
