/* kind backend: the generated config and every command line from data
 * (fixtures/kind/), `kind get clusters` and gateway parsing, the cluster
 * name rule, and "unavailable" detection (exit 3 with the reason). */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/backends.h"

static char *slurp(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s: %s", p, e ? wih_err_str(e) : "");
    free(p);
    return t;
}

START_TEST(config_from_fixtures)
{
    const char *cases[] = {"default", "node-image"};
    for (size_t i = 0; i < 2; i++) {
        char *rel = wih_asprintf("kind/%s/cfg.json", cases[i]);
        char *t = slurp(rel);
        cJSON *j = cJSON_Parse(t);
        kind_cfg c = {.name = cJSON_GetStringValue(cJSON_GetObjectItem(j, "name")),
                      .host_address = cJSON_GetStringValue(cJSON_GetObjectItem(j, "host_address")),
                      .node_image = cJSON_GetStringValue(cJSON_GetObjectItem(j, "node_image"))};
        char *got = kind_config_yaml(&c);
        char *xrel = wih_asprintf("kind/%s/expect.yaml", cases[i]);
        char *want = slurp(xrel);
        ck_assert_msg(!strcmp(got, want), "%s:\n--- got\n%s--- want\n%s", cases[i], got, want);
        /* No port mappings: the host serves the cluster, not the other way round. */
        ck_assert_ptr_null(strstr(got, "extraPortMappings:"));
        free(got);
        free(want);
        free(xrel);
        free(rel);
        free(t);
        cJSON_Delete(j);
    }
}
END_TEST

static char **build(const char *b, const cJSON *a)
{
#define S(i) cJSON_GetStringValue(cJSON_GetArrayItem(a, i))
    if (!strcmp(b, "create")) return kind_argv_create(S(0), S(1), S(2), S(3));
    if (!strcmp(b, "get-clusters")) return kind_argv_get_clusters(S(0));
    if (!strcmp(b, "load")) return kind_argv_load_archive(S(0), S(1), S(2));
    if (!strcmp(b, "delete")) return kind_argv_delete(S(0), S(1), S(2));
    if (!strcmp(b, "kubeconfig")) return kind_argv_kubeconfig(S(0), S(1));
    if (!strcmp(b, "gateway")) return kind_argv_network_gateway(S(0));
    if (!strcmp(b, "docker-info")) return kind_argv_docker_info(S(0));
#undef S
    ck_abort_msg("unknown builder %s", b);
    return NULL;
}

START_TEST(command_lines_from_fixtures)
{
    char *t = slurp("kind/argv.json");
    cJSON *all = cJSON_Parse(t);
    ck_assert_ptr_nonnull(all);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, all) {
        const char *b = cJSON_GetStringValue(cJSON_GetObjectItem(c, "builder"));
        char **argv = build(b, cJSON_GetObjectItem(c, "args"));
        const cJSON *want = cJSON_GetObjectItem(c, "argv");
        int i = 0;
        for (; argv[i]; i++) {
            ck_assert_msg(i < cJSON_GetArraySize(want), "%s: extra argument %s", b, argv[i]);
            ck_assert_str_eq(argv[i], cJSON_GetStringValue(cJSON_GetArrayItem(want, i)));
        }
        ck_assert_msg(i == cJSON_GetArraySize(want), "%s: %d arguments, want %d", b, i, cJSON_GetArraySize(want));
        wih_argv_free(argv);
        n++;
    }
    ck_assert_int_eq(n, 7);
    cJSON_Delete(all);
    free(t);
}
END_TEST

START_TEST(parsing_and_names)
{
    ck_assert(kind_clusters_has("kind\nwiharness\n", "wiharness"));
    ck_assert(kind_clusters_has("wiharness", "wiharness"));
    ck_assert(!kind_clusters_has("wiharness-2\nkind\n", "wiharness"));
    ck_assert(!kind_clusters_has("", "wiharness"));
    char *g = kind_parse_gateway("172.18.0.1 fc00:f853:ccd:e793::1 \n");
    ck_assert_str_eq(g, "172.18.0.1");
    free(g);
    g = kind_parse_gateway("fc00:f853:ccd:e793::1 10.89.0.1 ");
    ck_assert_str_eq(g, "10.89.0.1");
    free(g);
    ck_assert_ptr_null(kind_parse_gateway("fc00::1 \n"));
    ck_assert_ptr_null(kind_parse_gateway("300.1.1.1 "));
    ck_assert(kind_name_ok("wiharness"));
    ck_assert(kind_name_ok("ci-1.nightly"));
    ck_assert(!kind_name_ok("Upper"));
    ck_assert(!kind_name_ok("-x"));
    ck_assert(!kind_name_ok(""));
    ck_assert(!kind_name_ok("a_b"));
}
END_TEST

START_TEST(unavailable_is_exit_3_with_the_reason)
{
    setenv("WIH_KIND", "/nonexistent/kind", 1);
    wih_err *e = kind_available(NULL, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "kind is not on PATH"));
    wih_err_free(e);
    /* kind present (any executable stands in), the engine not: docker info fails. */
    setenv("WIH_KIND", "/bin/true", 1);
    setenv("WIH_DOCKER", "/bin/false", 1);
    e = kind_available(NULL, NULL);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert_msg(strstr(wih_err_str(e), "no Docker engine"), "%s", wih_err_str(e));
    wih_err_free(e);
    /* kind_up refuses before running anything when unavailable; a bad name is exit 2. */
    kind_state st;
    kind_cfg c = {.name = "Bad_Name"};
    e = kind_up(&c, "/tmp/x", NULL, &st);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    c.name = "ok";
    e = kind_up(&c, "/tmp/x", NULL, &st);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INFRA);
    ck_assert(!st.created);
    wih_err_free(e);
    kind_state_clear(&st);
    /* Reused (not created): down never deletes it. */
    kind_state reused = {.name = "ok", .created = false};
    ck_assert_ptr_null(kind_down(&reused));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kind");
    TCase *tc = tcase_create("kind");
    tcase_add_test(tc, config_from_fixtures);
    tcase_add_test(tc, command_lines_from_fixtures);
    tcase_add_test(tc, parsing_and_names);
    tcase_add_test(tc, unavailable_is_exit_3_with_the_reason);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
