/* `run --backend kind` on this machine, which has no kind and no Docker engine.
 * Only the two CLIs are stood in for, by the scripts in
 * tests/fixtures/kind-fake/ ($WIH_KIND, $WIH_DOCKER; see their headers): the
 * "kind cluster" they hand back is a local real-node chain brought up with
 * `up --no-webhook --no-cloud` (real etcd, kube-apiserver, controller-manager,
 * scheduler, kubelet, containerd/runc and nothing of ours), the "kind
 * network's gateway" is that node's bridge address, and `kind load
 * image-archive` imports into its containerd with ctr. Everything else is
 * the real path: the services-only chain serving the webhook, the mock cloud
 * and MinIO on that address (relay + certificates naming it), the webhook
 * registered in the cluster at that address, the issuer and JWKS read through
 * the cluster's API, the probe image built and loaded, the runner through the
 * cluster's kubeconfig, the teardown.
 *  1. the bundled suite passes through --backend kind; the cluster the run
 *     created is deleted, the services are gone, no registration is left;
 *  2. a cluster of that name that was there before is reused and kept;
 *  3. a failing `kind create cluster` is exit 3 with kind's stderr, nothing left;
 *  4. SIGINT mid-run: exit 130, the services stop, the created cluster is deleted.
 * Skips (77) when the chain cannot have a node here. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "leftovers.h"
#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"

static char *g_base, *g_dir, *g_fake;

/* The built wiharness with a long timeout (the suite runs pods). */
static int cli(char **out, char **err, const char *const *args)
{
    char *argv[40] = {(char *)WIH_BINARY};
    int n = 1;
    for (const char *const *a = args; *a && n < 39; a++) argv[n++] = (char *)*a;
    argv[n] = NULL;
    char *env[] = {"NO_COLOR=1", NULL};
    wih_err *e = NULL;
    int rc = wih_run_capture(argv, env, NULL, 900000, out, err, &e);
    if (rc < 0) fprintf(stderr, "%s\n", wih_err_str(e));
    wih_err_free(e);
    if (!*out) *out = wih_strdup("");
    if (!*err) *err = wih_strdup("");
    return rc;
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, strlen(prefix))) n++;
    return n;
}

static char *calls(void)
{
    char *p = wih_path_join(g_fake, "calls.log");
    char *t = wih_read_file(p, 1 << 20, NULL, NULL);
    unlink(p);
    free(p);
    return t ? t : wih_strdup("");
}

static bool cluster_recorded(const char *name)
{
    char *p = wih_asprintf("%s/clusters/%s", g_fake, name);
    bool there = access(p, F_OK) == 0;
    free(p);
    return there;
}

static kube_client *chain_client(void)
{
    return wih_test_chain_client(g_dir);
}

/* No MutatingWebhookConfiguration is left in the cluster (the chain has
 * none of its own: --no-webhook). */
static void assert_no_registrations(void)
{
    kube_client *kc = chain_client();
    wih_err *e = NULL;
    cJSON *l = kube_list(kc, "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", NULL, NULL, &e);
    ck_assert_msg(l, "%s", e ? wih_err_str(e) : "");
    ck_assert_msg(cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")) == 0, "webhook registrations left behind");
    cJSON_Delete(l);
    kube_client_free(kc);
}

/* Nothing of the run is left but the services' PKI (kept so the next
 * run's probe image is the same image): no process, no state, no
 * registration, no kubeconfig. */
static void assert_run_gone(const char *rundir)
{
    ck_assert_int_eq(wih_test_procs_naming(rundir), 0);
    char *svc = wih_path_join(rundir, "services");
    DIR *d = opendir(svc);
    for (struct dirent *de; d && (de = readdir(d));)
        ck_assert_msg(!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "pki"),
                      "%s/%s is still there", svc, de->d_name);
    if (d) closedir(d);
    char *kc = wih_path_join(rundir, "kubeconfig");
    ck_assert_msg(access(kc, F_OK) != 0, "%s is still there", kc);
    free(kc);
    free(svc);
    assert_no_registrations();
}

START_TEST(bundled_suite_passes_through_kind)
{
    char *rundir = wih_path_join(g_base, "kind-run"), *json = wih_path_join(g_base, "kind-report.json");
    char *rep = wih_asprintf("json=%s", json), *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    const char *args[] = {"run", "--backend", "kind", "--name", "wih-kind", "--state-dir", rundir, "--report", rep,
                          suite, NULL};
    char *out = NULL, *err = NULL;
    int rc = cli(&out, &err, args);
    if (rc != 0) fprintf(stderr, "the bundled suite via --backend kind: exit %d\n%s\n%s\n", rc, out, err);
    ck_assert_msg(rc == 0, "the bundled suite via --backend kind: exit %d (output above)", rc);
    int pass = count_lines(out, "PASS  ");
    ck_assert_msg(pass >= 12, "expected every case to pass, saw %d PASS lines:\n%s", pass, out);
    char *t = wih_read_file(json, 1 << 24, NULL, NULL);
    cJSON *doc = cJSON_Parse(t);
    const cJSON *sum = cJSON_GetObjectItem(doc, "summary");
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "passed")->valueint, pass);
    ck_assert_int_eq(cJSON_GetObjectItem(sum, "failed")->valueint + cJSON_GetObjectItem(sum, "errors")->valueint, 0);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases"))
        ck_assert_msg(cJSON_GetObjectItem(c, "verdict"), "%s/%s has no probe verdict",
                      cJSON_GetStringValue(cJSON_GetObjectItem(c, "scenario")),
                      cJSON_GetStringValue(cJSON_GetObjectItem(c, "profile")));
    /* what ran: the cluster created, the gateway read, the image loaded, the cluster deleted */
    char *log = calls();
    ck_assert_msg(strstr(log, "kind create cluster --name wih-kind --config "), "%s", log);
    ck_assert_msg(strstr(log, "docker network inspect kind"), "%s", log);
    ck_assert_msg(strstr(log, "kind load image-archive ") && strstr(log, "--name wih-kind"), "%s", log);
    ck_assert_msg(strstr(log, "kind delete cluster --name wih-kind"), "the created cluster was not deleted:\n%s", log);
    ck_assert_msg(!cluster_recorded("wih-kind"), "the stand-in still knows wih-kind");
    /* the services served the cluster on the gateway, and named it */
    ck_assert_msg(strstr(err, "serving the webhook, mock cloud and MinIO on "), "%s", err);
    assert_run_gone(rundir);
    cJSON_Delete(doc);
    free(t);
    free(log);
    free(out);
    free(err);
    free(suite);
    free(rep);
    free(json);
    free(rundir);
}
END_TEST

START_TEST(existing_cluster_is_reused_and_kept)
{
    char *mark = wih_asprintf("%s/clusters/wih-before", g_fake);
    char *cdir = wih_path_join(g_fake, "clusters");
    wih_mkdir_p(cdir, 0700);
    wih_err *e = NULL;
    ck_assert_msg(wih_write_file(mark, "", 0, 0600, &e) == 0, "%s", e ? wih_err_str(e) : "");
    char *rundir = wih_path_join(g_base, "kind-reuse"), *guide = wih_path_join(WIH_SOURCE_DIR, "scenarios/guide.yaml");
    const char *args[] = {"run", "--backend", "kind", "--name", "wih-before", "--state-dir", rundir, "-l",
                          "name=guide-aws", guide, NULL};
    char *out = NULL, *err = NULL;
    int rc = cli(&out, &err, args);
    ck_assert_msg(rc == 0 && strstr(out, "PASS  guide-aws"), "exit %d\n%s\n%s", rc, out, err);
    char *log = calls();
    ck_assert_msg(strstr(log, "kind get kubeconfig --name wih-before"), "%s", log);
    ck_assert_msg(!strstr(log, "create cluster"), "a cluster was created although one existed:\n%s", log);
    ck_assert_msg(!strstr(log, "delete cluster"), "a cluster this run did not create was deleted:\n%s", log);
    ck_assert_msg(cluster_recorded("wih-before"), "the reused cluster is gone");
    ck_assert_msg(strstr(err, "leaving cluster wih-before"), "%s", err);
    assert_run_gone(rundir);
    /* again: the kept CA makes it the same probe image (the node is not
     * handed a new ~60 MB image per run) */
    char *out2 = NULL, *err2 = NULL;
    rc = cli(&out2, &err2, args);
    ck_assert_msg(rc == 0, "exit %d\n%s\n%s", rc, out2, err2);
    const char *l1 = strstr(err, "loading the probe image "), *l2 = strstr(err2, "loading the probe image ");
    ck_assert_msg(l1 && l2 && strcspn(l1, "\n") == strcspn(l2, "\n") && !strncmp(l1, l2, strcspn(l1, "\n")),
                  "a new probe image per run:\n%s\n%s", err, err2);
    free(calls());
    assert_run_gone(rundir);
    free(out2);
    free(err2);
    unlink(mark);
    free(log);
    free(out);
    free(err);
    free(guide);
    free(rundir);
    free(cdir);
    free(mark);
}
END_TEST

START_TEST(failed_create_keeps_kinds_stderr)
{
    setenv("WIH_FAKE_KIND_FAIL", "create", 1);
    char *rundir = wih_path_join(g_base, "kind-fail"), *guide = wih_path_join(WIH_SOURCE_DIR, "scenarios/guide.yaml");
    const char *args[] = {"run", "--backend", "kind", "--name", "wih-fail", "--state-dir", rundir, guide, NULL};
    char *out = NULL, *err = NULL;
    int rc = cli(&out, &err, args);
    unsetenv("WIH_FAKE_KIND_FAIL");
    ck_assert_msg(rc == 3, "exit %d\n%s", rc, err);
    ck_assert_msg(strstr(err, "create cluster") && strstr(err, "failed to pull image"), "%s", err);
    ck_assert_msg(!strstr(out, "PASS") && !strstr(out, "FAIL"), "cases ran: %s", out);
    char *log = calls();
    ck_assert_msg(!strstr(log, "delete cluster"), "deleted a cluster kind never made:\n%s", log);
    ck_assert_msg(!strstr(log, "load image-archive"), "%s", log);
    assert_run_gone(rundir);
    free(log);
    free(out);
    free(err);
    free(guide);
    free(rundir);
}
END_TEST

/* Until the run has made a case namespace (cluster, services, image are up). */
static bool wait_case_namespace(kube_client *kc, pid_t pid)
{
    for (int i = 0; i < 1200; i++) {
        wih_err *e = NULL;
        cJSON *l = kube_list(kc, "v1", "Namespace", NULL, "wiharness.io/runner=true", &e);
        int n = l ? cJSON_GetArraySize(cJSON_GetObjectItem(l, "items")) : 0;
        cJSON_Delete(l);
        wih_err_free(e);
        if (n) return true;
        if (waitpid(pid, NULL, WNOHANG) == pid) return false;
        wih_sleep_ms(100);
    }
    return false;
}

START_TEST(sigint_deletes_the_created_cluster)
{
    char *rundir = wih_path_join(g_base, "kind-int"), *log = wih_path_join(g_base, "kind-int.log");
    char *slow = wih_path_join(WIH_SOURCE_DIR, "tests/e2e/scenarios/slow.yaml");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        setenv("NO_COLOR", "1", 1);
        execl(WIH_BINARY, WIH_BINARY, "run", "--backend", "kind", "--name", "wih-int", "--state-dir", rundir, slow,
              (char *)NULL);
        _exit(127);
    }
    kube_client *kc = chain_client();
    bool started = wait_case_namespace(kc, pid);
    kill(pid, SIGINT);
    int st = 0;
    for (int i = 0; i < 1200 && waitpid(pid, &st, WNOHANG) != pid; i++) wih_sleep_ms(100);
    char *text = wih_read_file(log, 1 << 20, NULL, NULL);
    ck_assert_msg(started, "the run made no case namespace:\n%s", text);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d\n%s", st, text);
    char *calls_log = calls();
    ck_assert_msg(strstr(calls_log, "kind delete cluster --name wih-int"), "not deleted:\n%s\n%s", calls_log, text);
    ck_assert_msg(!cluster_recorded("wih-int"), "the stand-in still knows wih-int");
    assert_run_gone(rundir);
    kube_client_free(kc);
    free(calls_log);
    free(text);
    free(slow);
    free(log);
    free(rundir);
}
END_TEST

/* `up --no-webhook --no-cloud` with the node: a bare real-node cluster. */
static void chain_up(void)
{
    wih_err *e = NULL;
    for (int t = WIH_TOOL_KUBE_APISERVER; t <= WIH_TOOL_MINIO; t++) {
        char *p = wih_tool_path((wih_tool)t, &e);
        if (!p) wih_test_skip("%s", wih_err_str(e));
        free(p);
    }
    if (!(g_base = wih_tmpdir("wih-kind-run-", false, &e))) {
        fprintf(stderr, "%s\n", wih_err_str(e));
        exit(1);
    }
    g_dir = wih_path_join(g_base, "state");
    g_fake = wih_path_join(g_base, "fake");
    char *err = NULL;
    int rc = wih_test_cli(NULL, &err, NULL, "up", "--no-webhook", "--no-cloud", "--state-dir", g_dir, NULL);
    cJSON *st = rc == 0 ? cluster_local_state(g_dir, &e) : NULL;
    const cJSON *node = cJSON_GetObjectItem(st, "node");
    if (rc != 0 || !node) {
        wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", g_dir, NULL);
        wih_rm_rf(g_base);
        if (rc == 0) wih_test_skip("the local chain came up without a node (no root, containerd or kubelet here)");
        fprintf(stderr, "wiharness up failed (exit %d):\n%s\n", rc, err);
        exit(1);
    }
    free(err);
    char *kind = wih_path_join(WIH_SOURCE_DIR, "tests/fixtures/kind-fake/kind"),
         *docker = wih_path_join(WIH_SOURCE_DIR, "tests/fixtures/kind-fake/docker"),
         *kc = wih_path_join(g_dir, "kubeconfig"),
         *sock = wih_path_join(kube_obj_str(node, "dir"), "containerd/containerd.sock");
    wih_mkdir_p(g_fake, 0700);
    setenv("WIH_KIND", kind, 1);
    setenv("WIH_DOCKER", docker, 1);
    setenv("WIH_FAKE_KIND_DIR", g_fake, 1);
    setenv("WIH_FAKE_KIND_KUBECONFIG", kc, 1);
    setenv("WIH_FAKE_KIND_GATEWAY", kube_obj_str(node, "ip"), 1);
    setenv("WIH_FAKE_KIND_CTR", sock, 1);
    free(kind);
    free(docker);
    free(kc);
    free(sock);
    cJSON_Delete(st);
}

int main(void)
{
    chain_up();
    Suite *s = suite_create("kind_run");
    TCase *tc = tcase_create("kind");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, failed_create_keeps_kinds_stderr);
    tcase_add_test(tc, existing_cluster_is_reused_and_kept);
    tcase_add_test(tc, sigint_deletes_the_created_cluster);
    tcase_add_test(tc, bundled_suite_passes_through_kind);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    wih_test_cli(NULL, NULL, NULL, "down", "--state-dir", g_dir, NULL);
    wih_rm_rf(g_base);
    free(g_dir);
    free(g_fake);
    free(g_base);
    return rc;
}
