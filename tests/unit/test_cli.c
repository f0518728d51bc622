/* cli: exit codes, nearest-flag hints, generated help, version output. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/cli.h"

START_TEST(unknown_flag_names_nearest)
{
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "--bogus", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "unknown option '--bogus'; did you mean '--"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "version", "--outptu", "json", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "did you mean '--output'?"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "version", "--verbos", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "did you mean '--verbose'?"), "%s", err);
    free(out);
    free(err);
}
END_TEST

/* A choice option: a wrong value is exit 2 naming the nearest valid one, and
 * --help lists the values (issue 9, bug 2: --log-level bogus was exit 0). */
START_TEST(choice_options_reject_unknown_values)
{
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "--log-level", "bogus", "version", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "--log-level must be debug, info, warn, error or quiet, not 'bogus'"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "version", "--log-level=inf", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "did you mean 'info'?"), "%s", err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "version", "-o", "jsno", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "--output must be text or json, not 'jsno'; did you mean 'json'?"), "%s", err);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "version", "--log-level", "warn", "-o", "json", NULL);
    ck_assert_int_eq(rc, 0);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "gen", "sa", "--help", NULL);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(strstr(out, "--profile aws-irsa|azure-wi|gcp-fleet"), "%s", out);
    ck_assert_msg(strstr(out, "--log-level debug|info|warn|error|quiet"), "%s", out);
    free(out);
    free(err);
}
END_TEST

/* Every --output, --log-level and --profile of every command is a choice. */
START_TEST(every_output_and_profile_is_a_choice)
{
    for (size_t i = 0; i < wih_ncommands; i++) {
        const wih_cmd *c = wih_commands[i];
        for (size_t j = 0; j < c->nopts; j++) {
            const wih_opt *o = &c->opts[j];
            if (strcmp(o->name, "output") && strcmp(o->name, "log-level") && strcmp(o->name, "profile")) continue;
            ck_assert_msg(o->type == WIH_OPT_CHOICE && o->metavar && strchr(o->metavar, '|'),
                          "wiharness %s --%s is not a choice option", c->name, o->name);
        }
    }
}
END_TEST

START_TEST(unknown_command)
{
    char *out, *err;
    int rc = wih_test_cli(&out, &err, NULL, "versoin", NULL);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "did you mean 'version'?"), "%s", err);
    free(out);
    free(err);
}
END_TEST

START_TEST(help_is_generated_from_tables)
{
    char *out, *err;
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "help", NULL), 0);
    for (size_t i = 0; i < wih_ncommands; i++)
        ck_assert_msg(strstr(out, wih_commands[i]->name), "help lacks %s", wih_commands[i]->name);
    free(out);
    free(err);
    for (size_t i = 0; i < wih_ncommands; i++) {
        /* every option of every command shows in its --help */
        char *cmd = wih_strdup(wih_commands[i]->name);
        char *words[8];
        int n = 0;
        for (char *t = strtok(cmd, " "); t && n < 6; t = strtok(NULL, " ")) words[n++] = t;
        char *o2 = NULL, *e2 = NULL;
        int rc;
        switch (n) {
        case 1: rc = wih_test_cli(&o2, &e2, NULL, words[0], "--help", NULL); break;
        case 2: rc = wih_test_cli(&o2, &e2, NULL, words[0], words[1], "--help", NULL); break;
        default: rc = wih_test_cli(&o2, &e2, NULL, words[0], words[1], words[2], "--help", NULL); break;
        }
        ck_assert_msg(rc == 0, "%s --help exit %d: %s", wih_commands[i]->name, rc, e2);
        for (size_t j = 0; j < wih_commands[i]->nopts; j++) {
            char *flag = wih_asprintf("--%s", wih_commands[i]->opts[j].name);
            ck_assert_msg(strstr(o2, flag), "%s --help lacks %s", wih_commands[i]->name, flag);
            free(flag);
        }
        free(o2);
        free(e2);
        free(cmd);
    }
}
END_TEST

START_TEST(version_lists_programs)
{
    char *out, *err;
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "version", "--output", "json", NULL), 0);
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(j != NULL, "not JSON: %s", out);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "wiharness")->valuestring, WIH_VERSION);
    cJSON *p = cJSON_GetObjectItem(j, "programs");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(p, "kube-apiserver"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(p, "etcd"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(p, "minio"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(p, "kubectl"));
    cJSON_Delete(j);
    free(out);
    free(err);
    ck_assert_int_eq(wih_test_cli(&out, &err, NULL, "version", "-o", "xml", NULL), 2);
    free(out);
    free(err);
}
END_TEST

START_TEST(option_forms)
{
    typedef struct {
        bool flag;
        const char *s;
        long n;
        wih_strlist l;
    } cfg_t;
    static const wih_opt opts[] = {
        {"flag", 'f', WIH_OPT_FLAG, offsetof(cfg_t, flag), NULL, "a flag", false},
        {"str", 's', WIH_OPT_STR, offsetof(cfg_t, s), "S", "a string", false},
        {"num", 'n', WIH_OPT_INT, offsetof(cfg_t, n), "N", "a number", false},
        {"list", 'l', WIH_OPT_LIST, offsetof(cfg_t, l), "X", "a list", true},
    };
    wih_cmd c = {.name = "t", .summary = "t", .opts = opts, .nopts = 4, .cfg_size = sizeof(cfg_t)};
    cfg_t cfg = {0};
    wih_global_opts g = {0};
    char *argv[] = {"pos1", "-f", "--str=a", "-n", "42", "--list", "a,b", "-lc", "--", "--pos2", NULL};
    int np = 0;
    char **pos = NULL;
    ck_assert_int_eq(wih_cli_parse(&c, 10, argv, &cfg, &g, &np, &pos), 0);
    ck_assert(cfg.flag);
    ck_assert_str_eq(cfg.s, "a");
    ck_assert_int_eq(cfg.n, 42);
    ck_assert_uint_eq(cfg.l.n, 3);
    ck_assert_str_eq(cfg.l.v[2], "c");
    ck_assert_int_eq(np, 2);
    ck_assert_str_eq(pos[1], "--pos2");
    free(pos);
    wih_strlist_free(&cfg.l);
    char *bad[] = {"--num", "4x", NULL};
    ck_assert_int_eq(wih_cli_parse(&c, 2, bad, &cfg, &g, &np, &pos), 2);
    char *missing[] = {"--str", NULL};
    ck_assert_int_eq(wih_cli_parse(&c, 1, missing, &cfg, &g, &np, &pos), 2);
    ck_assert_uint_eq(wih_edit_distance("kitten", "sitting"), 3);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, unknown_flag_names_nearest);
    tcase_add_test(tc, unknown_command);
    tcase_add_test(tc, choice_options_reject_unknown_values);
    tcase_add_test(tc, every_output_and_profile_is_a_choice);
    tcase_add_test(tc, help_is_generated_from_tables);
    tcase_add_test(tc, version_lists_programs);
    tcase_add_test(tc, option_forms);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
