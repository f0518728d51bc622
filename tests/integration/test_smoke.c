/* Each real program (etcd, kube-apiserver, MinIO) starts through the
 * supervisor on free loopback ports, answers its health endpoint, and stops
 * with nothing left running or listening.
 *
 * The test asks each health endpoint itself and checks the status and body it
 * received (not a line cluster_smoke prints); then `cluster_smoke`, which
 * asks them again, must report the statuses it really got. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/http.h"

static void expect_health(const char *base, const char *path, const char *pki, const char *want)
{
    char *url = wih_asprintf("%s%s", base, path);
    char *ca = pki ? wih_path_join(pki, "ca.crt") : NULL, *crt = pki ? wih_path_join(pki, "admin.crt") : NULL;
    char *key = pki ? wih_path_join(pki, "admin.key") : NULL;
    char *body = NULL;
    wih_err *e = NULL;
    long st = wih_http_get_status(url, ca, crt, key, 10000, &body, &e);
    ck_assert_msg(st == 200, "GET %s answered %ld: %s", url, st, e ? wih_err_str(e) : body ? body : "");
    if (want) ck_assert_msg(body && strstr(body, want), "GET %s: body lacks %s: %s", url, want, body ? body : "");
    free(body);
    free(url);
    free(ca);
    free(crt);
    free(key);
}

static void stop_and_check_gone(cluster_svc *s, const char *name)
{
    pid_t pid = wih_proc_pid(s->proc);
    int p1 = s->port, p2 = s->port2;
    cluster_svc_stop(s);
    ck_assert_msg(!wih_pid_alive(pid), "%s (pid %d) still alive after stop", name, (int)pid);
    ck_assert_msg(!wih_port_listening(p1) && !(p2 && wih_port_listening(p2)), "a port of %s still listens", name);
}

START_TEST(each_program_answers_its_health_endpoint)
{
    wih_err *err = NULL;
    char *dir = wih_tmpdir("wih-smoke-test", false, &err);
    ck_assert_msg(dir, "%s", wih_err_str(err));
    char *pki = wih_path_join(dir, "pki");
    err = cluster_pki_create(pki, false);
    ck_assert_msg(!err, "%s", wih_err_str(err));
    cluster_svc etcd = {0}, api = {0}, minio = {0};
    err = cluster_etcd_start(dir, &etcd, 30000, 0);
    ck_assert_msg(!err, "%s", wih_err_str(err));
    expect_health(etcd.url, "/health", NULL, "\"health\":\"true\"");
    err = cluster_apiserver_start(dir, pki, &etcd, &api, 60000, 0);
    ck_assert_msg(!err, "%s", wih_err_str(err));
    expect_health(api.url, "/readyz", pki, "ok");
    err = cluster_minio_start(dir, &minio, 30000, 0);
    ck_assert_msg(!err, "%s", wih_err_str(err));
    expect_health(minio.url, "/minio/health/live", NULL, NULL);
    stop_and_check_gone(&minio, "minio");
    stop_and_check_gone(&api, "kube-apiserver");
    stop_and_check_gone(&etcd, "etcd");
    wih_rm_rf(dir);
    free(pki);
    free(dir);
}
END_TEST

/* The status after "GET <url>" on the row that names path, or -2 if none. */
static long reported_status(const char *out, const char *path)
{
    char *needle = wih_asprintf("%s ", path);
    const char *p = strstr(out, needle);
    long st = p ? strtol(p + strlen(needle), NULL, 10) : -2;
    free(needle);
    return st;
}

START_TEST(smoke_reports_the_statuses_it_received)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    wih_err *err = cluster_smoke(out);
    fclose(out);
    fputs(buf, stdout);
    ck_assert_msg(err == NULL, "%s", wih_err_str(err));
    ck_assert_int_eq(reported_status(buf, "/health"), 200);
    ck_assert_int_eq(reported_status(buf, "/readyz"), 200);
    ck_assert_int_eq(reported_status(buf, "/minio/health/live"), 200);
    ck_assert_msg(strstr(buf, "no process left alive, no port left listening"), "stop check missing");
    free(buf);
}
END_TEST

int main(void)
{
    wih_err *err = NULL;
    for (int t = 0; t < WIH_TOOL_KUBECTL; t++) {
        char *p = wih_tool_path((wih_tool)t, &err);
        if (!p) wih_test_skip("%s", wih_err_str(err));
        free(p);
    }
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("smoke");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, each_program_answers_its_health_endpoint);
    tcase_add_test(tc, smoke_reports_the_statuses_it_received);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
