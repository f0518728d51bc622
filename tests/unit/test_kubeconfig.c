/* kubeconfig loading from fixture files (fixtures/kube/kubeconfig/...):
 * merged KUBECONFIG lists, first definition wins, contexts, data vs file
 * certificates, relative paths, token files, exec plugins through real helper
 * scripts, expiry caching, and malformed files → exit 2 with line:col.
 * The loader checks PEM, so the certificates and the key are real — and made at
 * run time (never committed): main() copies the fixture tree to a temp dir,
 * writes a fresh CA / client certificate / key where the kubeconfigs name them
 * and fills the @CA_DATA@ … placeholders of the *-data fixtures. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/kube.h"

static char *g_root; /* the copy of fixtures/kube/kubeconfig, with the generated PEMs */

static char *fx(const char *rel)
{
    return wih_asprintf("%s/%s", g_root, rel);
}

static kube_config *load(const char *file, const char *context, wih_err **e)
{
    char *p = fx(file);
    kube_config_opts o = {.kubeconfig = p, .context = context};
    kube_config *c = kube_config_load(&o, e);
    free(p);
    return c;
}

static kube_config *load_ok(const char *file, const char *context)
{
    wih_err *e = NULL;
    kube_config *c = load(file, context, &e);
    ck_assert_msg(c != NULL, "%s: %s", file, wih_err_str(e));
    return c;
}

static wih_err *load_fail(const char *file, const char *context)
{
    wih_err *e = NULL;
    kube_config *c = load(file, context, &e);
    ck_assert_msg(c == NULL, "%s loaded but should not have", file);
    ck_assert_ptr_nonnull(e);
    return e;
}

static char *read_all(const char *path)
{
    wih_err *e = NULL;
    size_t n;
    char *s = wih_read_file(path, 1 << 20, &n, &e);
    ck_assert_msg(s != NULL, "%s", wih_err_str(e));
    return s;
}

START_TEST(test_basic_token_and_relative_ca)
{
    kube_config *c = load_ok("basic/config", NULL);
    ck_assert_str_eq(kube_config_context(c), "dev");
    ck_assert_str_eq(kube_config_cluster(c), "dev-cluster");
    ck_assert_str_eq(kube_config_user(c), "dev-user");
    ck_assert_str_eq(kube_config_server(c), "https://127.0.0.1:6443"); /* trailing / dropped */
    ck_assert_str_eq(kube_config_namespace(c), "team-a");
    char *ca = fx("basic/certs/ca.crt");
    ck_assert_str_eq(kube_config_ca_source(c), ca);
    char *want = read_all(ca);
    size_t len = 0;
    ck_assert_str_eq(kube_config_ca_pem(c, &len), want);
    ck_assert_uint_eq(len, strlen(want));
    kube_creds cr;
    wih_err *e = NULL;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "fake-static-token-for-tests");
    ck_assert_ptr_null(cr.cert_pem);
    ck_assert(!cr.from_exec);
    free(ca);
    free(want);
    kube_config_free(c);
    /* --context overrides current-context; a context without namespace → default */
    c = load_ok("basic/config", "other");
    ck_assert_str_eq(kube_config_context(c), "other");
    ck_assert_str_eq(kube_config_namespace(c), "default");
    kube_config_free(c);
}
END_TEST

static kube_config *load_list(const char *list, const char *context, wih_err **e)
{
    /* "a.yaml:b.yaml" relative to fixtures/kube/kubeconfig/merge */
    char *dir = fx("merge");
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    char *copy = wih_strdup(list), *save = NULL;
    for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
        wih_buf_addf(&b, "%s%s/%s", b.len ? ":" : "", dir, t);
    free(copy);
    wih_buf_adds(&b, "::"); /* empty entries are ignored */
    kube_config_opts o = {.kubeconfig_env = b.data, .context = context};
    kube_config *c = kube_config_load(&o, e);
    wih_buf_free(&b);
    free(dir);
    return c;
}

START_TEST(test_merge_first_definition_wins)
{
    wih_err *e = NULL;
    kube_config *c = load_list("a.yaml:b.yaml", NULL, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    /* current-context from b (a sets none); context ctx-b from b; but cluster
     * "shared" and user "shared-user" from a, which defines them first */
    ck_assert_str_eq(kube_config_context(c), "ctx-b");
    ck_assert_str_eq(kube_config_namespace(c), "from-b");
    ck_assert_str_eq(kube_config_server(c), "https://127.0.0.1:1111");
    ck_assert(kube_config_insecure(c));
    ck_assert_str_eq(strrchr(kube_config_source(c), '/'), "/b.yaml");
    kube_creds cr;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "token-from-a");
    kube_config_free(c);
    /* the other order: b's definitions win */
    c = load_list("b.yaml:a.yaml", NULL, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_config_server(c), "https://127.0.0.1:2222");
    ck_assert(!kube_config_insecure(c));
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "token-from-b");
    kube_config_free(c);
}
END_TEST

START_TEST(test_merge_current_context_first_file_that_sets_it)
{
    wih_err *e = NULL;
    /* c.yaml (ctx-only-b) comes first, so its current-context wins over b's */
    kube_config *c = load_list("a.yaml:c.yaml:b.yaml", NULL, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_config_context(c), "ctx-only-b");
    ck_assert_str_eq(kube_config_server(c), "https://127.0.0.1:3333");
    ck_assert_str_eq(kube_config_tls_server_name(c), "api.example.internal");
    kube_config_free(c);
    /* b before c: b's current-context */
    c = load_list("b.yaml:c.yaml", NULL, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_config_context(c), "ctx-b");
    kube_config_free(c);
}
END_TEST

START_TEST(test_merge_missing_files_skipped)
{
    wih_err *e = NULL;
    kube_config *c = load_list("does-not-exist.yaml:b.yaml:also-missing", NULL, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    ck_assert_str_eq(kube_config_context(c), "ctx-b");
    kube_config_free(c);
    /* only missing files → an input error */
    c = load_list("nope1:nope2", NULL, &e);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(e->msg, "no kubeconfig found"));
    wih_err_free(e);
    /* an explicit --kubeconfig must exist */
    e = load_fail("merge/nope.yaml", NULL);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "nope.yaml"));
    wih_err_free(e);
}
END_TEST

START_TEST(test_missing_context)
{
    /* current-context names a context that is not there: error at that line */
    wih_err *e = load_fail("missing/config", NULL);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "missing/config:3:18: context \"gone\" not found"), "%s", wih_err_str(e));
    wih_err_free(e);
    /* --context naming nothing */
    e = load_fail("missing/config", "nope");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "context \"nope\" (from --context) not found"), "%s", wih_err_str(e));
    wih_err_free(e);
}
END_TEST

START_TEST(test_missing_cluster_and_user)
{
    wih_err *e = load_fail("missing/config", "no-cluster");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), ":16:24: cluster \"absent-cluster\" (of context \"no-cluster\") not found"),
                  "%s", wih_err_str(e));
    wih_err_free(e);
    e = load_fail("missing/config", "no-user");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "user \"absent-user\" (of context \"no-user\") not found"), "%s",
                  wih_err_str(e));
    ck_assert_int_gt(e->line, 0);
    wih_err_free(e);
    e = load_fail("missing/config", "missing-ca");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "certificate-authority: cannot read CA file") &&
                      strstr(wih_err_str(e), "missing/nope/ca.crt"),
                  "%s", wih_err_str(e));
    wih_err_free(e);
    kube_config *c = load_ok("missing/config", "ok");
    kube_config_free(c);
}
END_TEST

START_TEST(test_data_vs_file_certs)
{
    kube_config *d = load_ok("data-vs-file/data.yaml", NULL);
    kube_config *f = load_ok("data-vs-file/files.yaml", NULL);
    kube_creds cd, cf;
    wih_err *e = NULL;
    ck_assert_int_eq(kube_config_creds(d, &cd, &e), 0);
    ck_assert_int_eq(kube_config_creds(f, &cf, &e), 0);
    ck_assert_ptr_nonnull(cd.cert_pem);
    ck_assert_ptr_nonnull(cd.key_pem);
    ck_assert_uint_eq(cd.cert_len, cf.cert_len);
    ck_assert_uint_eq(cd.key_len, cf.key_len);
    ck_assert(memcmp(cd.cert_pem, cf.cert_pem, cd.cert_len) == 0);
    ck_assert(memcmp(cd.key_pem, cf.key_pem, cd.key_len) == 0);
    ck_assert_ptr_nonnull(strstr(cd.cert_pem, "BEGIN CERTIFICATE"));
    size_t l1, l2;
    const char *a1 = kube_config_ca_pem(d, &l1), *a2 = kube_config_ca_pem(f, &l2);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(a1, a2, l1) == 0);
    ck_assert_ptr_nonnull(strstr(kube_config_ca_source(d), "certificate-authority-data"));
    ck_assert_ptr_nonnull(strstr(kube_config_ca_source(f), "data-vs-file/ca.crt"));
    kube_config_free(d);
    kube_config_free(f);
}
END_TEST

START_TEST(test_relative_paths_against_kubeconfig_dir)
{
    /* load from another working directory with a relative kubeconfig path */
    char *root = fx("");
    ck_assert_int_eq(chdir(root), 0);
    wih_err *e = NULL;
    kube_config_opts o = {.kubeconfig = "relative/sub/dir/config"};
    kube_config *c = kube_config_load(&o, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    ck_assert_int_eq(chdir("/"), 0); /* the files must not be found through the cwd */
    kube_creds cr;
    ck_assert_msg(kube_config_creds(c, &cr, &e) == 0, "%s", wih_err_str(e));
    ck_assert_str_eq(cr.token, "relative-token-file");
    /* exactly the files under relative/pem (generated by main) */
    char *crt_path = fx("relative/pem/client.crt"), *key_path = fx("relative/pem/client.key");
    char *crt = read_all(crt_path), *key = read_all(key_path);
    ck_assert_uint_eq(cr.cert_len, strlen(crt));
    ck_assert(memcmp(cr.cert_pem, crt, cr.cert_len) == 0);
    ck_assert_uint_eq(cr.key_len, strlen(key));
    ck_assert(memcmp(cr.key_pem, key, cr.key_len) == 0);
    free(crt);
    free(key);
    free(crt_path);
    free(key_path);
    char *ca = wih_asprintf("%srelative/sub/dir/../../../basic/certs/ca.crt", root);
    ck_assert_str_eq(kube_config_ca_source(c), ca);
    free(ca);
    free(root);
    kube_config_free(c);
}
END_TEST

START_TEST(test_token_file_reread_last_good_wins)
{
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-tokenfile", false, &e);
    ck_assert_ptr_nonnull(dir);
    char *kc = wih_path_join(dir, "config"), *tf = wih_path_join(dir, "tok");
    const char *text = "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: t\n  cluster: "
                       "{server: \"https://127.0.0.1:6443\"}\nusers:\n- name: t\n  user: {token: fake-inline, "
                       "tokenFile: tok}\ncontexts:\n- name: t\n  context: {cluster: t, user: t}\n";
    ck_assert_int_eq(wih_write_file(kc, text, strlen(text), 0600, &e), 0);
    ck_assert_int_eq(wih_write_file(tf, "fake-one\n", 9, 0600, &e), 0);
    kube_config_opts o = {.kubeconfig = kc};
    kube_config *c = kube_config_load(&o, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    kube_creds cr;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "fake-one");
    /* rotated on disk: the next use sends the new one */
    ck_assert_int_eq(wih_write_file(tf, "fake-two", 8, 0600, &e), 0);
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "fake-two");
    /* gone: the last successfully read value still wins over token */
    ck_assert_int_eq(unlink(tf), 0);
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "fake-two");
    kube_config_free(c);
    free(kc);
    free(tf);
    free(dir);
}
END_TEST

START_TEST(test_token_file)
{
    kube_config *c = load_ok("tokenfile/config", NULL);
    kube_creds cr;
    wih_err *e = NULL;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    /* tokenFile wins over token; trailing newlines dropped */
    ck_assert_str_eq(cr.token, "fake-token-from-file");
    kube_config_free(c);
    e = load_fail("tokenfile/config", "broken");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "cannot read tokenFile") && strstr(wih_err_str(e), "no-such-token.txt") &&
                      e->line == 15,
                  "%s", wih_err_str(e));
    wih_err_free(e);
}
END_TEST

static char *g_tmp;

static void exec_setup(void)
{
    wih_err *e = NULL;
    if (g_tmp) { /* CK_FORK=no (valgrind): the previous test's dir */
        wih_rm_rf(g_tmp);
        free(g_tmp);
    }
    g_tmp = wih_tmpdir("wih-kubeconfig-test", false, &e);
    ck_assert_ptr_nonnull(g_tmp);
    char *counter = wih_path_join(g_tmp, "runs");
    char *info = wih_path_join(g_tmp, "exec-info.json");
    setenv("WIH_EXEC_COUNTER", counter, 1);
    setenv("WIH_EXEC_INFO_OUT", info, 1);
    unsetenv("WIH_EXEC_EXPIRY");
    free(counter);
    free(info);
}

/* a forked Check test ends with _exit: remove the dir here, not at exit */
static void exec_teardown(void)
{
    if (!g_tmp) return;
    wih_rm_rf(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

static int exec_runs_on_disk(void)
{
    char *p = wih_path_join(g_tmp, "runs");
    size_t n = 0;
    char *s = wih_read_file(p, 1 << 16, &n, NULL);
    free(p);
    int lines = 0;
    for (size_t i = 0; s && i < n; i++) lines += s[i] == '\n';
    free(s);
    return lines;
}

static void rfc3339_in(int64_t secs, char *buf, size_t n)
{
    time_t t = time(NULL) + secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

START_TEST(test_exec_v1_token)
{
    exec_setup();
    kube_config *c = load_ok("exec/config", "v1");
    kube_creds cr;
    wih_err *e = NULL;
    ck_assert_msg(kube_config_creds(c, &cr, &e) == 0, "%s", wih_err_str(e));
    ck_assert(cr.from_exec);
    /* args and exec.env reached the plugin */
    ck_assert_str_eq(cr.token, "fake-exec-v1");
    ck_assert_int_eq(cr.expires_ms, 0);
    /* KUBERNETES_EXEC_INFO as kubectl sets it, with cluster info (provideClusterInfo) */
    char *ip = wih_path_join(g_tmp, "exec-info.json");
    char *info = read_all(ip);
    cJSON *j = cJSON_Parse(info);
    ck_assert_msg(j != NULL, "KUBERNETES_EXEC_INFO not JSON: %s", info);
    ck_assert_str_eq(kube_obj_str(j, "kind"), "ExecCredential");
    ck_assert_str_eq(kube_obj_str(j, "apiVersion"), "client.authentication.k8s.io/v1");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "interactive")));
    ck_assert_str_eq(kube_obj_str(j, "spec.cluster.server"), "https://127.0.0.1:6443");
    ck_assert_str_eq(kube_obj_str(j, "spec.cluster.config.audience"), "wih-test");
    ck_assert_ptr_nonnull(kube_obj_str(j, "spec.cluster.certificate-authority-data"));
    cJSON_Delete(j);
    free(info);
    free(ip);
    /* no expiry: cached for the life of the config */
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_int_eq(kube_config_exec_runs(c), 1);
    ck_assert_int_eq(exec_runs_on_disk(), 1);
    kube_config_free(c);
    /* a plain command name is looked up on PATH (not resolved against the file) */
    c = load_ok("exec/config", "on-path");
    ck_assert_msg(kube_config_creds(c, &cr, &e) == 0, "%s", wih_err_str(e));
    ck_assert_str_eq(cr.token, "fake-from-path");
    kube_config_free(c);
}
END_TEST

START_TEST(test_exec_v1beta1_client_cert)
{
    exec_setup();
    kube_config *c = load_ok("exec/config", "v1beta1-cert");
    kube_creds cr;
    wih_err *e = NULL;
    ck_assert_msg(kube_config_creds(c, &cr, &e) == 0, "%s", wih_err_str(e));
    ck_assert(cr.from_exec);
    ck_assert_ptr_null(cr.token);
    ck_assert_str_eq(cr.cert_pem, "-----BEGIN CERTIFICATE-----\nZXhlYyBjZXJ0\n-----END CERTIFICATE-----\n");
    ck_assert_str_eq(cr.key_pem, "-----BEGIN FAKE TEST KEY-----\nZXhlYyBrZXk=\n-----END FAKE TEST KEY-----\n");
    ck_assert_uint_eq(cr.cert_len, strlen(cr.cert_pem));
    char *ip = wih_path_join(g_tmp, "exec-info.json");
    char *info = read_all(ip);
    cJSON *j = cJSON_Parse(info);
    ck_assert_str_eq(kube_obj_str(j, "apiVersion"), "client.authentication.k8s.io/v1beta1");
    /* no provideClusterInfo → no spec.cluster */
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "spec"), "cluster"));
    cJSON_Delete(j);
    free(info);
    free(ip);
    kube_config_free(c);
}
END_TEST

START_TEST(test_exec_failing_keeps_stderr)
{
    exec_setup();
    kube_config *c = load_ok("exec/config", "failing");
    kube_creds cr;
    wih_err *e = NULL;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "exit status 3") &&
                      strstr(e->msg, "error: getting credentials: AccessDenied: profile wih-test is not allowed") &&
                      strstr(e->msg, "user failing"),
                  "%s", e->msg);
    ck_assert_ptr_null(strstr(e->msg, "some progress on stdout"));
    wih_err_free(e);
    kube_config_free(c);
    /* a plugin answering with the wrong apiVersion */
    c = load_ok("exec/config", "wrong-version");
    e = NULL;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), -1);
    ck_assert_msg(strstr(e->msg, "configured for client.authentication.k8s.io/v1 but printed "
                                 "client.authentication.k8s.io/v1beta1"),
                  "%s", e->msg);
    wih_err_free(e);
    kube_config_free(c);
    /* a plugin that is not installed: the installHint is part of the error */
    c = load_ok("exec/config", "not-installed");
    e = NULL;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), -1);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(e->msg, "wih-no-such-login-plugin") && strstr(e->msg, "install the wih-test login helper"),
                  "%s", e->msg);
    wih_err_free(e);
    kube_config_free(c);
    /* v1 requires interactiveMode: an input error at the exec entry */
    e = load_fail("exec/config", "no-interactive-mode");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "must set interactiveMode") && e->line > 0, "%s", wih_err_str(e));
    wih_err_free(e);
}
END_TEST

START_TEST(test_exec_expiry_caching)
{
    exec_setup();
    char ts[64];
    /* valid for an hour: one run for many uses */
    rfc3339_in(3600, ts, sizeof ts);
    setenv("WIH_EXEC_EXPIRY", ts, 1);
    kube_config *c = load_ok("exec/config", "v1");
    kube_creds cr;
    wih_err *e = NULL;
    for (int i = 0; i < 3; i++) ck_assert_msg(kube_config_creds(c, &cr, &e) == 0, "%s", wih_err_str(e));
    ck_assert_int_eq(exec_runs_on_disk(), 1);
    int64_t want = 0;
    ck_assert(kube_parse_rfc3339(ts, &want));
    ck_assert(cr.expires_ms == want);
    kube_config_free(c);
    /* already expired: every use runs the plugin again */
    rfc3339_in(-60, ts, sizeof ts);
    setenv("WIH_EXEC_EXPIRY", ts, 1);
    c = load_ok("exec/config", "v1");
    for (int i = 0; i < 3; i++) ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_int_eq(exec_runs_on_disk(), 4);
    ck_assert_int_eq(kube_config_exec_runs(c), 3);
    kube_config_free(c);
    /* expires in 3-4 s (the timestamp has whole seconds): cached, then
     * refreshed once it has passed */
    rfc3339_in(4, ts, sizeof ts);
    setenv("WIH_EXEC_EXPIRY", ts, 1);
    ck_assert(kube_parse_rfc3339(ts, &want));
    c = load_ok("exec/config", "v1");
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_msg(wih_wall_ms() < want, "the machine is too slow for this check");
    ck_assert_int_eq(kube_config_exec_runs(c), 1);
    while (wih_wall_ms() <= want) wih_sleep_ms(want - wih_wall_ms() + 20);
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_int_eq(kube_config_exec_runs(c), 2);
    kube_config_free(c);
}
END_TEST

/* gone, or a zombie nobody reaped yet (PID 1 in a container may not reap) */
static bool pid_gone(pid_t pid)
{
    if (kill(pid, 0) != 0) return true;
    char *p = wih_asprintf("/proc/%d/stat", (int)pid);
    char *s = wih_read_file(p, 4096, NULL, NULL);
    free(p);
    const char *rp = s ? strrchr(s, ')') : NULL;
    bool zombie = !s || (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
    free(s);
    return zombie;
}

/* A hanging plugin gets the exec timeout, not 60 s, and its process group is
 * killed: the child it started dies with it (issue 13 finding 7). */
START_TEST(test_exec_hanging_plugin_group_killed)
{
    exec_setup();
    char *pids = wih_path_join(g_tmp, "pids");
    setenv("WIH_EXEC_PIDS", pids, 1);
    char *p = fx("exec/config");
    kube_config_opts o = {.kubeconfig = p, .context = "hanging", .exec_timeout_ms = 1500};
    wih_err *e = NULL;
    kube_config *c = kube_config_load(&o, &e);
    ck_assert_msg(c != NULL, "%s", wih_err_str(e));
    kube_creds cr;
    int64_t t0 = wih_now_ms();
    int rc = kube_config_creds(c, &cr, &e);
    int64_t took = wih_now_ms() - t0;
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(wih_err_str(e), "no result within 1500 ms"), "%s", wih_err_str(e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(took < 15000, "the plugin blocked %lld ms", (long long)took);
    char *txt = wih_read_file(pids, 256, NULL, NULL);
    ck_assert_msg(txt != NULL, "the plugin did not record its pids");
    int child = 0, plugin = 0;
    ck_assert_int_eq(sscanf(txt, "%d %d", &child, &plugin), 2);
    bool gone = false;
    for (int i = 0; i < 50 && !(gone = pid_gone(child) && pid_gone(plugin)); i++) usleep(100000);
    if (!gone) { /* do not leave them behind: these are the PIDs our plugin started */
        kill(child, SIGKILL);
        kill(plugin, SIGKILL);
    }
    ck_assert_msg(gone, "the plugin (%d) or its child (%d) survived the timeout", plugin, child);
    free(txt);
    wih_err_free(e);
    kube_config_free(c);
    free(p);
    free(pids);
    unsetenv("WIH_EXEC_PIDS");
}
END_TEST

START_TEST(test_malformed_yaml_line_col)
{
    wih_err *e = load_fail("malformed/bad-yaml.yaml", NULL);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "bad-yaml.yaml:") && e->line == 7, "%s (line %d)", wih_err_str(e), e->line);
    ck_assert_int_gt(e->col, 0);
    wih_err_free(e);
}
END_TEST

START_TEST(test_malformed_structure_line_col)
{
    wih_err *e = load_fail("malformed/clusters-not-list.yaml", NULL);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "clusters-not-list.yaml:5:3: clusters must be a list"), "%s",
                  wih_err_str(e));
    wih_err_free(e);
    e = load_fail("malformed/bad-base64.yaml", NULL);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "bad-base64.yaml:8:35: certificate-authority-data is not valid base64"), "%s",
                  wih_err_str(e));
    wih_err_free(e);
    e = load_fail("malformed/server-not-string.yaml", NULL);
    ck_assert_msg(strstr(wih_err_str(e), "server-not-string.yaml:7:15: server must be a string"), "%s",
                  wih_err_str(e));
    wih_err_free(e);
}
END_TEST

START_TEST(test_rfc3339)
{
    int64_t ms = 0;
    ck_assert(kube_parse_rfc3339("1970-01-01T00:00:00Z", &ms) && ms == 0);
    ck_assert(kube_parse_rfc3339("2026-11-29T04:00:00Z", &ms) && ms == 1795924800000LL);
    ck_assert(kube_parse_rfc3339("2026-11-29T06:00:00.250+02:00", &ms) && ms == 1795924800250LL);
    ck_assert(kube_parse_rfc3339("2026-11-28T23:30:00-04:30", &ms) && ms == 1795924800000LL);
    ck_assert(!kube_parse_rfc3339("2026-11-29 04:00", &ms));
    ck_assert(!kube_parse_rfc3339("2026-11-29T04:00:00", &ms)); /* no zone */
    ck_assert(!kube_parse_rfc3339("2026-13-29T04:00:00Z", &ms));
    ck_assert(!kube_parse_rfc3339("2026-11-29T04:00:00Zjunk", &ms));
    ck_assert(!kube_parse_rfc3339(NULL, &ms));
}
END_TEST

/* where the kubeconfig fixtures name the generated files */
static const char *const k_placed[][2] = {
    {"ca.crt", "basic/certs/ca.crt"},          {"ca.crt", "data-vs-file/ca.crt"},
    {"client.crt", "data-vs-file/client.crt"}, {"client.key", "data-vs-file/client.key"},
    {"client.crt", "relative/pem/client.crt"}, {"client.key", "relative/pem/client.key"},
};

/* the fixture copy with a fresh PKI in g_root; NULL, or what failed */
static char *fixtures_with_pki(void)
{
    wih_err *e = NULL;
    char *pki = wih_tmpdir("wih-test-pki", false, &e);
    char *why = pki ? wih_test_pki(pki) : wih_strdup(wih_err_str(e));
    static const char *const templates[] = {"data-vs-file/data.yaml", "exec/config", NULL};
    if (!why) g_root = wih_test_fixture_copy("kube/kubeconfig", pki, templates, &why);
    for (size_t i = 0; !why && i < sizeof k_placed / sizeof *k_placed; i++) {
        char *dst = fx(k_placed[i][1]);
        why = wih_test_pki_put(pki, k_placed[i][0], dst);
        free(dst);
    }
    if (pki) wih_rm_rf(pki);
    free(pki);
    wih_err_free(e);
    return why;
}

int main(void)
{
    char *why = fixtures_with_pki();
    if (why) { /* a broken setup fails (exit 3), it is never a skip */
        fprintf(stderr, "test_kubeconfig: setup: %s\n", why);
        free(why);
        return WIH_EXIT_INFRA;
    }
    Suite *s = suite_create("kubeconfig");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, test_basic_token_and_relative_ca);
    tcase_add_test(tc, test_merge_first_definition_wins);
    tcase_add_test(tc, test_merge_current_context_first_file_that_sets_it);
    tcase_add_test(tc, test_merge_missing_files_skipped);
    tcase_add_test(tc, test_missing_context);
    tcase_add_test(tc, test_missing_cluster_and_user);
    tcase_add_test(tc, test_data_vs_file_certs);
    tcase_add_test(tc, test_relative_paths_against_kubeconfig_dir);
    tcase_add_test(tc, test_token_file);
    tcase_add_test(tc, test_token_file_reread_last_good_wins);
    tcase_add_test(tc, test_malformed_yaml_line_col);
    tcase_add_test(tc, test_malformed_structure_line_col);
    tcase_add_test(tc, test_rfc3339);
    suite_add_tcase(s, tc);
    TCase *tx = tcase_create("exec");
    tcase_add_checked_fixture(tx, NULL, exec_teardown);
    tcase_set_timeout(tx, 30);
    tcase_add_test(tx, test_exec_v1_token);
    tcase_add_test(tx, test_exec_v1beta1_client_cert);
    tcase_add_test(tx, test_exec_failing_keeps_stderr);
    tcase_add_test(tx, test_exec_expiry_caching);
    tcase_add_test(tx, test_exec_hanging_plugin_group_killed);
    suite_add_tcase(s, tx);
    int rc = wih_test_run(s);
    wih_rm_rf(g_root);
    free(g_root);
    return rc;
}
