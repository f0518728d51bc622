/* The real map (include/wiharness/realmap.h) from fixtures/realmap/<case>/:
 *   map.yaml    the map (the runner's keys come from WIH_TEST_RM_AK/SK/TOKEN,
 *               set here to test values);
 *   error.txt   when the map is bad: the message after the fixture's
 *               directory, "map.yaml:LINE:COL: …" (exit 2);
 *   expect.json otherwise: {"describe": realmap_describe (the secret as its
 *               fingerprint), "lookups": [{"profile","scenario"?, then
 *               "role"+"principal" | "bucket"+"real" | "answered"+"role_of"}]}.
 * Plus the credentials file: mode 0600 accepted (relative to the map),
 * 0644 refused at the key's position; no secret in any message. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "wiharness/realmap.h"

#define TEST_SECRET "test-secret-value-not-a-real-key"

static const char *str_or_null(const cJSON *o, const char *k)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static bool eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

/* One lookup; NULL when it matches. */
static char *lookup(const realmap *m, const cJSON *l)
{
    const realmap_profile *p = realmap_profile_get(m, str_or_null(l, "profile"));
    const char *scn = str_or_null(l, "scenario") ? str_or_null(l, "scenario") : "any";
    if (!p) return wih_asprintf("no profile %s", str_or_null(l, "profile"));
    if (cJSON_GetObjectItem(l, "role")) {
        const char *got = realmap_role(p, scn, str_or_null(l, "role"));
        if (!eq(got, str_or_null(l, "principal")))
            return wih_asprintf("role %s (%s): got %s", str_or_null(l, "role"), scn, got ? got : "null");
    } else if (cJSON_GetObjectItem(l, "bucket")) {
        char *got = realmap_bucket(p, scn, str_or_null(l, "bucket"));
        char *why = eq(got, str_or_null(l, "real")) ? NULL
                                                    : wih_asprintf("bucket %s (%s): got %s", str_or_null(l, "bucket"),
                                                                   scn, got ? got : "null");
        free(got);
        return why;
    } else {
        const char *got = realmap_role_of(p, scn, str_or_null(l, "answered"));
        if (!eq(got, str_or_null(l, "role_of")))
            return wih_asprintf("role_of %s (%s): got %s", str_or_null(l, "answered"), scn, got ? got : "null");
    }
    return NULL;
}

static char *expect_ok(const char *dir, realmap *m)
{
    char *p = wih_path_join(dir, "expect.json");
    char *t = wih_read_file(p, 1 << 20, NULL, NULL);
    free(p);
    cJSON *want = t ? cJSON_Parse(t) : NULL;
    free(t);
    if (!want) return wih_strdup("expect.json missing or not JSON");
    cJSON *got = realmap_describe(m);
    char *why = NULL;
    if (!cJSON_Compare(got, cJSON_GetObjectItem(want, "describe"), true)) {
        char *g = cJSON_Print(got);
        why = wih_asprintf("describe differs; got:\n%s", g);
        free(g);
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, cJSON_GetObjectItem(want, "lookups")) if (!why) why = lookup(m, l);
    cJSON_Delete(got);
    cJSON_Delete(want);
    return why;
}

static char *one_case(const char *dir, void *ctx)
{
    (void)ctx;
    char *path = wih_path_join(dir, "map.yaml"), *ep = wih_path_join(dir, "error.txt");
    char *want = wih_read_file(ep, 1 << 16, NULL, NULL);
    wih_err *e = NULL;
    realmap *m = realmap_load(path, &e);
    char *why = NULL;
    if (want) {
        want[strcspn(want, "\n")] = 0;
        char *full = wih_asprintf("%s/%s", dir, want);
        if (m) why = wih_asprintf("loaded; expected %s", want);
        else if (wih_err_exit(e) != WIH_EXIT_INPUT) why = wih_asprintf("exit %d, not 2: %s", wih_err_exit(e), wih_err_str(e));
        else if (strcmp(wih_err_str(e), full)) why = wih_asprintf("error\n  got:  %s\n  want: %s", wih_err_str(e), full);
        free(full);
    } else if (!m) {
        why = wih_asprintf("did not load: %s", wih_err_str(e));
    } else {
        why = expect_ok(dir, m);
    }
    if (!why && e && strstr(wih_err_str(e), TEST_SECRET)) why = wih_strdup("the message holds the secret");
    realmap_free(m);
    wih_err_free(e);
    free(want);
    free(ep);
    free(path);
    return why;
}

START_TEST(fixtures)
{
    setenv("WIH_TEST_RM_AK", "AKIATESTEXAMPLE", 1);
    setenv("WIH_TEST_RM_SK", TEST_SECRET, 1);
    setenv("WIH_TEST_RM_TOKEN", "test-session-token", 1);
    unsetenv("WIH_TEST_RM_UNSET_AK");
    wih_cases_run("realmap", "realmap", 10, one_case, NULL);
}
END_TEST

static realmap *load_with_file(const char *dir, mode_t mode, wih_err **e)
{
    char *cp = wih_path_join(dir, "creds.yaml"), *mp = wih_path_join(dir, "map.yaml");
    const char *creds = "accessKeyId: AKIAFILE\nsecretAccessKey: " TEST_SECRET "\n";
    const char *map = "apiVersion: wiharness/v1\nkind: RealMap\nprofiles:\n  aws-irsa:\n"
                      "    roles: {team-a: \"arn:aws:iam::123456789012:role/team-a\"}\n    bucketPrefix: acme-\n"
                      "    credentials:\n      file: creds.yaml\n";
    ck_assert(!wih_write_file(cp, creds, strlen(creds), mode, NULL));
    ck_assert(!chmod(cp, mode));
    ck_assert(!wih_write_file(mp, map, strlen(map), 0644, NULL));
    realmap *m = realmap_load(mp, e);
    free(cp);
    free(mp);
    return m;
}

START_TEST(credentials_file_mode)
{
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-realmap-", false, &e);
    ck_assert_ptr_nonnull(dir);
    realmap *m = load_with_file(dir, 0600, &e);
    ck_assert_msg(m, "%s", e ? wih_err_str(e) : "");
    const realmap_profile *p = realmap_profile_get(m, "aws-irsa");
    ck_assert_str_eq(p->creds.access_key, "AKIAFILE");
    ck_assert_str_eq(p->creds.secret_key, TEST_SECRET);
    ck_assert_ptr_null(p->creds.session_token);
    cJSON *dj = realmap_describe(m);
    char *d = cJSON_PrintUnformatted(dj);
    cJSON_Delete(dj);
    ck_assert_msg(!strstr(d, TEST_SECRET), "describe shows the secret: %s", d);
    free(d);
    realmap_free(m);
    m = load_with_file(dir, 0644, &e);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "map.yaml:8:13: credentials.file") && strstr(wih_err_str(e), "mode 0644"),
                  "%s", wih_err_str(e));
    ck_assert(!strstr(wih_err_str(e), TEST_SECRET));
    wih_err_free(e);
    wih_rm_rf(dir);
    free(dir);
}
END_TEST

/* docs/realmap.schema.json lists exactly the keys the loader takes per
 * profile: the loader's unknown-key message names them ("expected a, b"). */
START_TEST(schema_matches_loader)
{
    char *sp = wih_path_join(WIH_SOURCE_DIR, "docs/realmap.schema.json");
    char *t = wih_read_file(sp, 1 << 20, NULL, NULL);
    cJSON *schema = t ? cJSON_Parse(t) : NULL;
    ck_assert_msg(schema, "docs/realmap.schema.json is not JSON");
    const char *profiles[][2] = {{"aws-irsa", "aws"}, {"azure-wi", "azure"}, {"gcp-fleet", "gcp"}};
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-realmap-schema-", false, &e);
    for (size_t i = 0; i < 3; i++) {
        char *mp = wih_path_join(dir, "m.yaml");
        char *m = wih_asprintf("apiVersion: wiharness/v1\nkind: RealMap\nprofiles:\n  %s:\n    zzz: 1\n", profiles[i][0]);
        ck_assert(!wih_write_file(mp, m, strlen(m), 0644, NULL));
        realmap *rm = realmap_load(mp, &e);
        ck_assert_ptr_null(rm);
        const char *ex = strstr(wih_err_str(e), "(expected ");
        ck_assert_ptr_nonnull(ex);
        char *list = wih_strdup(ex + 10);
        list[strcspn(list, ")")] = 0;
        const cJSON *props = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "$defs"), profiles[i][1]),
                                                 "properties");
        int n = 0;
        char *save = NULL;
        for (char *k = strtok_r(list, ", ", &save); k; k = strtok_r(NULL, ", ", &save), n++)
            ck_assert_msg(cJSON_GetObjectItem(props, k), "%s: the schema lacks %s", profiles[i][0], k);
        ck_assert_int_eq(n, cJSON_GetArraySize(props));
        free(list);
        wih_err_free(e);
        e = NULL;
        free(m);
        free(mp);
    }
    wih_rm_rf(dir);
    free(dir);
    cJSON_Delete(schema);
    free(t);
    free(sp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("realmap");
    TCase *tc = tcase_create("realmap");
    tcase_add_test(tc, fixtures);
    tcase_add_test(tc, credentials_file_mode);
    tcase_add_test(tc, schema_matches_loader);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
