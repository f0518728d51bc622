/* The in-cluster Job's pure parts: the objects from fixtures/incluster/
 * (spec.json → expect.json), the log sections and console (log/<case>/),
 * the scenario files with nested paths (tree/), the kube client's in-cluster
 * config (KUBERNETES_SERVICE_HOST/PORT + the ServiceAccount dir), and the
 * configmap report target. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/backends.h"
#include "wiharness/incluster.h"
#include "wiharness/kube.h"
#include "wiharness/report.h"

static char *slurp_opt(const char *path)
{
    return access(path, R_OK) == 0 ? wih_read_file(path, 1 << 20, NULL, NULL) : NULL;
}

static incluster_file *files_of(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    incluster_file *f = wih_xcalloc(*n + 1, sizeof *f);
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        f[i].key = wih_strdup(kube_obj_str(x, "key"));
        f[i].path = wih_strdup(kube_obj_str(x, "path"));
        f[i].data = wih_strdup(kube_obj_str(x, "data"));
        f[i].len = strlen(f[i].data);
        i++;
    }
    return f;
}

static char *objects_case(const char *dir, void *ctx)
{
    (void)ctx;
    char *sp = wih_path_join(dir, "spec.json"), *ep = wih_path_join(dir, "expect.json");
    char *st = slurp_opt(sp), *et = slurp_opt(ep);
    cJSON *spec = st ? cJSON_Parse(st) : NULL, *want = et ? cJSON_Parse(et) : NULL;
    char *why = NULL;
    if (!spec) why = wih_asprintf("%s: missing or not JSON", sp);
    size_t ns = 0, nsec = 0;
    incluster_file *scn = spec ? files_of(cJSON_GetObjectItem(spec, "scenarios"), &ns) : NULL;
    incluster_file *sec = spec ? files_of(cJSON_GetObjectItem(spec, "secrets"), &nsec) : NULL;
    const cJSON *args = cJSON_GetObjectItem(spec, "args");
    const char **argv = wih_xcalloc((size_t)cJSON_GetArraySize(args) + 1, sizeof *argv);
    int k = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) argv[k++] = a->valuestring;
    cJSON *got = NULL;
    if (!why) {
        incluster_spec s = {.id = kube_obj_str(spec, "id"), .image = kube_obj_str(spec, "image"),
                            .api_host = kube_obj_str(spec, "api_host"), .api_port = kube_obj_str(spec, "api_port"),
                            .scenarios = scn, .nscenarios = ns, .secrets = sec, .nsecrets = nsec, .args = argv,
                            .deadline_s = (long)cJSON_GetNumberValue(cJSON_GetObjectItem(spec, "deadline_s"))};
        got = incluster_objects(&s);
        if (getenv("WIH_WRITE_EXPECT")) { /* regenerate, then review the diff */
            char *g = cJSON_Print(got);
            wih_write_file(ep, g, strlen(g), 0644, NULL);
            free(g);
        }
        char *d = want ? wih_json_diff(want, got) : NULL;
        if (!want || d) {
            char *g = cJSON_Print(got);
            why = wih_asprintf("%.2000s\n--- got\n%.1500s", d ? d : "no expect.json", g);
            free(g);
        }
        free(d);
    }
    cJSON_Delete(got);
    free(argv);
    incluster_files_free(scn, ns);
    incluster_files_free(sec, nsec);
    cJSON_Delete(spec);
    cJSON_Delete(want);
    free(st);
    free(et);
    free(sp);
    free(ep);
    return why;
}

START_TEST(objects_from_fixtures)
{
    const char *names[] = {"mock", "real-no-secret"};
    for (size_t i = 0; i < 2; i++) {
        char *rel = wih_asprintf("incluster/%s", names[i]);
        char *d = wih_fixture(rel);
        char *why = objects_case(d, NULL);
        ck_assert_msg(!why, "%s: %s", names[i], why ? why : "");
        free(d);
        free(rel);
    }
}
END_TEST

/* The RBAC is exactly existing_perms (+ the results ConfigMap), never more. */
START_TEST(rbac_is_existing_perms)
{
    incluster_spec s = {.id = "000000", .image = "i"};
    cJSON *all = incluster_objects(&s);
    const cJSON *o, *cr = NULL, *role = NULL;
    cJSON_ArrayForEach(o, all)
    {
        if (!strcmp(kube_obj_str(o, "kind"), "ClusterRole")) cr = o;
        if (!strcmp(kube_obj_str(o, "kind"), "Role")) role = o;
        ck_assert_msg(strcmp(kube_obj_str(o, "kind"), "Secret"), "a Secret without secret files");
    }
    ck_assert_ptr_nonnull(cr);
    int verbs = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(cr, "rules")) verbs += cJSON_GetArraySize(cJSON_GetObjectItem(r, "verbs"));
    int want = 0;
    for (const existing_perm *p = existing_perms; p->verb; p++) want++;
    ck_assert_int_eq(verbs, want);
    const cJSON *rr = cJSON_GetArrayItem(cJSON_GetObjectItem(role, "rules"), 0);
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(rr, "resources"), 0)->valuestring, "configmaps");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(rr, "verbs")), 2);
    cJSON_Delete(all);
}
END_TEST

static bool same_or_absent(const char *want_path, const char *got)
{
    char *want = slurp_opt(want_path);
    bool ok = want ? got && !strcmp(want, got) : got == NULL;
    free(want);
    return ok;
}

static char *log_case(const char *dir, void *ctx)
{
    (void)ctx;
    char *lp = wih_path_join(dir, "log.txt");
    char *log = slurp_opt(lp);
    char *junit = incluster_log_section(log, "junit"), *json = incluster_log_section(log, "json");
    char *console = incluster_log_console(log);
    char *jp = wih_path_join(dir, "junit.xml"), *sp = wih_path_join(dir, "report.json"),
         *cp = wih_path_join(dir, "console.txt");
    char *why = NULL;
    if (!log) why = wih_asprintf("%s missing", lp);
    else if (!same_or_absent(jp, junit)) why = wih_asprintf("junit section: got %s", junit ? junit : "(none)");
    else if (!same_or_absent(sp, json)) why = wih_asprintf("json section: got %s", json ? json : "(none)");
    else if (!same_or_absent(cp, console)) why = wih_asprintf("console: got\n%s", console);
    free(junit);
    free(json);
    free(console);
    free(log);
    free(lp);
    free(jp);
    free(sp);
    free(cp);
    return why;
}

START_TEST(log_sections_from_fixtures)
{
    wih_cases_run("incluster-log", "incluster/log", 2, log_case, NULL);
}
END_TEST

START_TEST(collect_nested_paths)
{
    char *tree = wih_fixture("incluster/tree"), *file = wih_fixture("incluster/tree/a.yaml");
    const char *paths[] = {tree, file};
    size_t n = 0;
    char **where = NULL;
    wih_err *e = NULL;
    incluster_file *f = incluster_collect(paths, 2, 1 << 20, &n, &where, &e);
    ck_assert_msg(f, "%s", e ? wih_err_str(e) : "");
    /* the tree recursively (no dot file), the file with its directory's files (not below) */
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(f[0].path, "0/a.yaml");
    ck_assert_str_eq(f[1].path, "0/sub/b.yaml");
    ck_assert_str_eq(f[2].path, "1/a.yaml");
    for (size_t i = 0; i < n; i++) ck_assert_msg(strspn(f[i].key, "abcdefghijklmnopqrstuvwxyz0123456789-._") ==
                                                     strlen(f[i].key), "bad key %s", f[i].key);
    ck_assert_str_eq(where[0], "/wih/scenarios/0");
    ck_assert_str_eq(where[1], "/wih/scenarios/1/a.yaml");
    incluster_files_free(f, n);
    for (int i = 0; i < 2; i++) free(where[i]);
    free(where);
    /* more than a ConfigMap holds: input error */
    f = incluster_collect(paths, 1, 8, &n, &where, &e);
    ck_assert_ptr_null(f);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "1 MiB"), "%s", wih_err_str(e));
    wih_err_free(e);
    free(tree);
    free(file);
}
END_TEST

static char *sa_dir(const char *ns)
{
    wih_err *e = NULL;
    char *d = wih_tmpdir("wih-sa", false, &e);
    ck_assert_ptr_nonnull(d);
    char *t = wih_path_join(d, "token"), *c = wih_path_join(d, "ca.crt"), *n = wih_path_join(d, "namespace");
    ck_assert_int_eq(wih_write_file(t, "tok-1\n", 6, 0600, &e), 0);
    ck_assert_int_eq(wih_write_file(c, "-----BEGIN CERTIFICATE-----\n", 28, 0644, &e), 0);
    if (ns) ck_assert_int_eq(wih_write_file(n, ns, strlen(ns), 0644, &e), 0);
    free(t);
    free(c);
    free(n);
    return d;
}

START_TEST(in_cluster_config)
{
    char *d = sa_dir("team-ns\n");
    unsetenv("KUBERNETES_SERVICE_HOST");
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    wih_err *e = NULL;
    kube_config_opts ko = {.in_cluster = true, .sa_dir = d, .kubeconfig = "/nonexistent"};
    ck_assert_ptr_null(kube_config_load(&ko, &e));
    ck_assert_msg(e && strstr(wih_err_str(e), "KUBERNETES_SERVICE_HOST"), "%s", e ? wih_err_str(e) : "");
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    wih_err_free(e);
    e = NULL;
    setenv("KUBERNETES_SERVICE_HOST", "10.244.7.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    kube_config *c = kube_config_load(&ko, &e);
    ck_assert_msg(c, "%s", e ? wih_err_str(e) : "");
    ck_assert_str_eq(kube_config_server(c), "https://10.244.7.1:6443");
    ck_assert_str_eq(kube_config_namespace(c), "team-ns");
    size_t len = 0;
    ck_assert_ptr_nonnull(kube_config_ca_pem(c, &len));
    ck_assert_int_eq(len, 28);
    kube_creds cr;
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "tok-1");
    /* the token is re-read (rotated by the kubelet) */
    char *t = wih_path_join(d, "token");
    ck_assert_int_eq(wih_write_file(t, "tok-2", 5, 0600, &e), 0);
    ck_assert_int_eq(kube_config_creds(c, &cr, &e), 0);
    ck_assert_str_eq(cr.token, "tok-2");
    kube_config_free(c);
    /* IPv6 in brackets; a bad port is named */
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    c = kube_config_load(&ko, &e);
    ck_assert_str_eq(kube_config_server(c), "https://[fd00::1]:6443");
    kube_config_free(c);
    setenv("KUBERNETES_SERVICE_PORT", "http", 1);
    ck_assert_ptr_null(kube_config_load(&ko, &e));
    ck_assert_msg(strstr(wih_err_str(e), "not a port"), "%s", wih_err_str(e));
    wih_err_free(e);
    e = NULL;
    /* no token: named */
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    unlink(t);
    ck_assert_ptr_null(kube_config_load(&ko, &e));
    ck_assert_msg(strstr(wih_err_str(e), "ServiceAccount token"), "%s", wih_err_str(e));
    wih_err_free(e);
    free(t);
    wih_rm_rf(d);
    free(d);
    /* no namespace file: "default" */
    d = sa_dir(NULL);
    ko.sa_dir = d;
    c = kube_config_load(&ko, &e);
    ck_assert_str_eq(kube_config_namespace(c), "default");
    kube_config_free(c);
    wih_rm_rf(d);
    free(d);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

START_TEST(configmap_report_target)
{
    ck_assert_str_eq(report_configmap_name("configmap:wih-results"), "wih-results");
    ck_assert_ptr_null(report_configmap_name("configmap:"));
    ck_assert_ptr_null(report_configmap_name("out/configmap:x.xml"));
    ck_assert_str_eq(report_configmap_key(REPORT_JUNIT), "junit.xml");
    ck_assert_str_eq(report_configmap_key(REPORT_JSON), "report.json");
    cJSON *d = cJSON_Parse("{\"junit.xml\":\"<testsuites/>\"}");
    cJSON *cm = report_configmap_doc("wih-job-1", "wih-results", d);
    ck_assert_str_eq(kube_obj_str(cm, "metadata.namespace"), "wih-job-1");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "data"), "junit.xml")->valuestring, "<testsuites/>");
    cJSON_Delete(cm);
    cJSON_Delete(d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("incluster");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, objects_from_fixtures);
    tcase_add_test(tc, rbac_is_existing_perms);
    tcase_add_test(tc, log_sections_from_fixtures);
    tcase_add_test(tc, collect_nested_paths);
    tcase_add_test(tc, in_cluster_config);
    tcase_add_test(tc, configmap_report_target);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
