/* `wiharness reproduce` on a real local chain with a node (its own state dir):
 * the guide's literal Azure values (no azure.workload.identity/use label) and
 * an annotated Azure ServiceAccount → exit 1, the describe-style output shows
 * no AZURE_* variable in the pod's environment, the diagnosis is
 * azure-use-label-missing at the values file's line; the same values with the
 * label → exit 0 with AZURE_CLIENT_ID injected; --save writes a scenario that
 * `wiharness run` loads and that fails the same way; --output json gives the
 * same as one object (result, pod env, token mounts, diagnosis). Bad input → exit 2
 * before any chain is touched. Skips (77) when the chain can have no node. */
#include <stdlib.h>
#include <string.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"

static char *g_base, *g_dir;

static char *fx(const char *c, const char *f)
{
    return wih_asprintf("%s/fixtures/diagnosis/explain/%s/%s", WIH_SOURCE_DIR, c, f);
}

/* The lines of the "Environment (identity):" block. */
static char *env_block(const char *out)
{
    const char *a = strstr(out, "Environment (identity):"), *b = a ? strstr(a, "Mounts (tokens):") : NULL;
    return a && b ? wih_asprintf("%.*s", (int)(b - a), a) : wih_strdup("");
}

START_TEST(literal_azure_is_broken_labelled_works)
{
    char *v = fx("guide-azure-literal", "values.yaml"), *sa = fx("guide-azure-literal", "sa.yaml");
    char *save = wih_path_join(g_base, "saved.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", v, "--sa", sa, "--profile", "azure-wi",
                          "--state-dir", g_dir, "--save", save, NULL);
    ck_assert_msg(rc == 1, "literal: exit %d\n%s\n%s", rc, out, err);
    char *env = env_block(out);
    ck_assert_msg(*env && !strstr(env, "AZURE_"), "literal: AZURE_* env shown:\n%s", out);
    ck_assert_msg(strstr(out, "Service Account:  osmo-workflow"), "%s", out);
    ck_assert_msg(strstr(out, "values.yaml:6:9: [azure-use-label-missing]"), "literal: no diagnosis:\n%s", out);
    ck_assert_msg(strstr(out, "broken:"), "%s", out);
    free(env);
    free(out);
    free(err);

    /* the saved scenario joins a suite: `run` fails it the same way */
    rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, save, NULL);
    ck_assert_msg(rc == 1, "run of the saved scenario: exit %d\n%s\n%s", rc, out, err);
    ck_assert_msg(strstr(out, "diagnosis azure-use-label-missing: "), "%s", out);
    free(out);
    free(err);

    char *lv = fx("guide-azure-labelled-clean", "values.yaml");
    rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", lv, "--sa", sa, "--profile", "azure-wi", "--state-dir",
                      g_dir, NULL);
    ck_assert_msg(rc == 0, "labelled: exit %d\n%s\n%s", rc, out, err);
    env = env_block(out);
    ck_assert_msg(strstr(env, "AZURE_CLIENT_ID") && strstr(env, "AZURE_FEDERATED_TOKEN_FILE"), "labelled:\n%s", out);
    ck_assert_msg(strstr(out, "no known misconfiguration found") && strstr(out, "works:"), "%s", out);
    ck_assert_msg(strstr(out, "audience api://AzureADTokenExchange"), "no Azure token mount shown:\n%s", out);
    free(env);
    free(out);
    free(err);
    free(lv);
    free(v);
    free(sa);
    free(save);
}
END_TEST

static bool env_has(const cJSON *pod, const char *prefix)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(pod, "identity_env"))
    {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
        if (n && !strncmp(n, prefix, strlen(prefix))) return true;
    }
    return false;
}

/* --output json: one object with what the text shows. */
START_TEST(json_output)
{
    char *v = fx("guide-azure-literal", "values.yaml"), *sa = fx("guide-azure-literal", "sa.yaml");
    char *lv = fx("guide-azure-labelled-clean", "values.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", v, "--sa", sa, "--profile", "azure-wi",
                          "--state-dir", g_dir, "--output", "json", NULL);
    ck_assert_msg(rc == 1, "literal: exit %d\n%s\n%s", rc, out, err);
    cJSON *j = cJSON_Parse(out);
    ck_assert_msg(cJSON_IsObject(j), "not one JSON object:\n%s", out);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "result")), "broken");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "exit")), 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "service_account"), "name")),
                     "osmo-workflow");
    const cJSON *pod = cJSON_GetObjectItem(j, "pod");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(pod, "service_account")), "osmo-workflow");
    ck_assert_msg(!env_has(pod, "AZURE_"), "literal: AZURE_* env:\n%s", out);
    const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "diagnosis"), 0);
    ck_assert_msg(d0 && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(d0, "id")), "azure-use-label-missing"),
                  "literal: diagnosis:\n%s", out);
    ck_assert_msg(strstr(out, "values.yaml:6:9"), "the finding's place is missing:\n%s", out);
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(j, "access")), 1);
    cJSON_Delete(j);
    free(out);
    free(err);

    rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", lv, "--sa", sa, "--profile", "azure-wi", "--state-dir",
                      g_dir, "-o", "json", NULL);
    ck_assert_msg(rc == 0, "labelled: exit %d\n%s\n%s", rc, out, err);
    j = cJSON_Parse(out);
    ck_assert_msg(cJSON_IsObject(j), "not one JSON object:\n%s", out);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "result")), "works");
    pod = cJSON_GetObjectItem(j, "pod");
    ck_assert_msg(env_has(pod, "AZURE_CLIENT_ID") && env_has(pod, "AZURE_FEDERATED_TOKEN_FILE"), "labelled:\n%s", out);
    ck_assert_msg(strstr(out, "\"audience\":\t\"api://AzureADTokenExchange\""), "no Azure token mount:\n%s", out);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "diagnosis")), 0);
    const cJSON *a0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "access"), 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(a0, "result")), "allowed");
    cJSON_Delete(j);
    free(out);
    free(err);
    free(lv);
    free(v);
    free(sa);
}
END_TEST

START_TEST(bad_input_exit_2)
{
    char *v = fx("guide-azure-literal", "values.yaml"), *sa = fx("guide-azure-literal", "sa.yaml");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", v, "--sa", sa, "--profile", "gcp-pfnet", NULL);
    ck_assert_msg(rc == 2 && strstr(err, "--profile"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", sa, "--sa", v, "--profile", "azure-wi", "--state-dir",
                      g_dir, NULL);
    ck_assert_msg(rc == 2, "values/sa swapped: exit %d: %s", rc, err);
    free(out);
    free(err);
    rc = wih_test_cli(&out, &err, NULL, "reproduce", "--values", v, "--sa", sa, "--profile", "azure-wi", "--output",
                      "yaml", NULL);
    ck_assert_msg(rc == 2 && strstr(err, "text or json") && !*out, "--output yaml: exit %d: %s", rc, err);
    free(out);
    free(err);
    free(v);
    free(sa);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-repro-");
    g_base = ch.base;
    g_dir = ch.dir;
    int rc;
    Suite *s = suite_create("reproduce");
    TCase *tc = tcase_create("reproduce");
    tcase_set_timeout(tc, 400);
    tcase_add_test(tc, bad_input_exit_2);
    tcase_add_test(tc, literal_azure_is_broken_labelled_works);
    tcase_add_test(tc, json_output);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
