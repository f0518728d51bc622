/* Each real program (etcd, kube-apiserver, MinIO) starts through the
 * supervisor on free loopback ports, answers its health endpoint, and stops
 * with nothing left running or listening (cluster_smoke checks both; this
 * test also checks the output names each program's health endpoint). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/cluster.h"

START_TEST(smoke_all_programs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    wih_err *err = cluster_smoke(out);
    fclose(out);
    fputs(buf, stdout);
    ck_assert_msg(err == NULL, "%s", wih_err_str(err));
    ck_assert_msg(strstr(buf, "/health 200"), "etcd health missing");
    ck_assert_msg(strstr(buf, "/readyz 200"), "apiserver readyz missing");
    ck_assert_msg(strstr(buf, "/minio/health/live 200"), "minio health missing");
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
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, smoke_all_programs);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
