/* Shards: a stable split of scenario × profile (hash of the id, not the list
 * position) and --rerun-failed from a runner JSON report (fixtures/shard/). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "wiharness/shard.h"

#define NCASES 200

static const char *k_profiles[] = {"aws-irsa", "azure-wi", "gcp-fleet"};

/* A generated case list: scenario-<i/3> × the three profiles. */
static scn_matrix *gen_matrix(size_t n, size_t first)
{
    scn_matrix *m = calloc(1, sizeof *m);
    m->cases = calloc(n, sizeof *m->cases);
    for (size_t i = 0; i < n; i++) {
        size_t k = first + i;
        m->cases[i].profile = k_profiles[k % 3];
        m->cases[i].id = wih_asprintf("scenario-%zu/%s", k / 3, k_profiles[k % 3]);
    }
    m->n = n;
    return m;
}

START_TEST(shards_cover_every_case_once)
{
    scn_matrix *all = gen_matrix(NCASES, 0);
    int *seen = calloc(NCASES, sizeof *seen);
    size_t total = 0;
    for (int s = 1; s <= 3; s++) {
        scn_matrix *m = gen_matrix(NCASES, 0);
        shard_filter(m, s, 3);
        ck_assert_msg(m->n > NCASES / 6, "shard %d/3 holds only %zu of %d cases", s, m->n, NCASES);
        total += m->n;
        for (size_t i = 0; i < m->n; i++) {
            size_t j = 0;
            while (j < NCASES && strcmp(all->cases[j].id, m->cases[i].id)) j++;
            ck_assert_msg(j < NCASES, "shard %d/3 invented %s", s, m->cases[i].id);
            seen[j]++;
            if (i) ck_assert_msg(strcmp(m->cases[i - 1].id, m->cases[i].id), "duplicate");
        }
        scn_matrix_free(m);
    }
    ck_assert_uint_eq(total, NCASES);
    for (size_t j = 0; j < NCASES; j++) ck_assert_msg(seen[j] == 1, "%s in %d shards", all->cases[j].id, seen[j]);
    free(seen);
    scn_matrix_free(all);
}
END_TEST

static bool has_id(const scn_matrix *m, const char *id)
{
    for (size_t j = 0; j < m->n; j++)
        if (!strcmp(m->cases[j].id, id)) return true;
    return false;
}

START_TEST(adding_cases_moves_no_other_case)
{
    for (int s = 1; s <= 5; s++) {
        scn_matrix *before = gen_matrix(NCASES, 0);
        /* 50 new cases in front of the old ones (every position shifts). */
        scn_matrix *after = gen_matrix(NCASES + 50, 0);
        for (size_t i = 0; i < NCASES + 50; i++) {
            free(after->cases[i].id);
            after->cases[i].id = i < 50 ? wih_asprintf("new-%zu/aws-irsa", i) : wih_strdup(before->cases[i - 50].id);
        }
        scn_matrix *all = gen_matrix(NCASES, 0);
        shard_filter(before, s, 5);
        shard_filter(after, s, 5);
        for (size_t i = 0; i < NCASES; i++)
            ck_assert_msg(has_id(before, all->cases[i].id) == has_id(after, all->cases[i].id),
                          "%s moved shard when cases were added", all->cases[i].id);
        scn_matrix_free(before);
        scn_matrix_free(after);
        scn_matrix_free(all);
    }
}
END_TEST

START_TEST(parse_specs)
{
    int i = 0, n = 0;
    wih_err *e = NULL;
    ck_assert_int_eq(shard_parse("2/3", &i, &n, &e), 0);
    ck_assert_int_eq(i, 2);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(shard_parse("1/1", &i, &n, &e), 0);
    const char *bad[] = {"0/3", "4/3", "3", "a/b", "1/", "/2", "1/2x", "-1/2", "1/0", ""};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        e = NULL;
        ck_assert_msg(shard_parse(bad[k], &i, &n, &e) == -1, "%s accepted", bad[k]);
        ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
        ck_assert_ptr_nonnull(strstr(wih_err_str(e), "I/N"));
        wih_err_free(e);
    }
    /* The hash is FNV-1a 64 (documented; a CI matrix relies on it). */
    ck_assert(shard_hash("") == 14695981039346656037ULL);
    ck_assert(shard_hash("a") == 0xaf63dc4c8601ec8cULL);
}
END_TEST

START_TEST(rerun_failed_from_report)
{
    char *path = wih_fixture("shard/rerun/report.json");
    char *xpath = wih_fixture("shard/rerun/expect.json");
    wih_err *e = NULL;
    cJSON *ids = shard_failed_ids(path, &e);
    ck_assert_msg(ids, "%s", e ? wih_err_str(e) : "");
    char *xt = wih_read_file(xpath, 1 << 16, NULL, &e);
    cJSON *want = cJSON_Parse(xt);
    ck_assert_msg(cJSON_Compare(ids, want, true), "got %s", cJSON_PrintUnformatted(ids));

    /* Keep only those in a matrix that has them and others. */
    scn_matrix *m = gen_matrix(3, 0);
    free(m->cases[0].id);
    m->cases[0].id = wih_strdup("cross-team/gcp-fleet");
    free(m->cases[2].id);
    m->cases[2].id = wih_strdup("guide/azure-wi");
    shard_keep_ids(m, ids);
    ck_assert_uint_eq(m->n, 2);
    ck_assert_str_eq(m->cases[0].id, "cross-team/gcp-fleet");
    ck_assert_str_eq(m->cases[1].id, "guide/azure-wi");
    scn_matrix_free(m);
    cJSON_Delete(ids);
    cJSON_Delete(want);
    free(xt);
    free(path);
    free(xpath);
}
END_TEST

START_TEST(rerun_failed_bad_input)
{
    wih_err *e = NULL;
    char *path = wih_fixture("shard/not-report/report.json");
    ck_assert_ptr_null(shard_failed_ids(path, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "not-report/report.json"));
    ck_assert_ptr_nonnull(strstr(wih_err_str(e), "cases"));
    wih_err_free(e);
    e = NULL;
    ck_assert_ptr_null(shard_failed_ids("/nonexistent/report.json", &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    wih_err_free(e);
    e = NULL;
    /* Not JSON: file:line:col from the JSON parser. */
    char *dir = wih_tmpdir("wih-shard", false, &e);
    char *bad = wih_path_join(dir, "r.json");
    ck_assert_int_eq(wih_write_file(bad, "{\"cases\": [\n  oops]}", 20, 0600, &e), 0);
    ck_assert_ptr_null(shard_failed_ids(bad, &e));
    ck_assert_int_eq(wih_err_exit(e), WIH_EXIT_INPUT);
    ck_assert_msg(strstr(wih_err_str(e), "r.json:2:"), "%s", wih_err_str(e));
    wih_err_free(e);
    wih_rm_rf(dir);
    free(bad);
    free(dir);
    free(path);
}
END_TEST

/* Nothing to rerun (the report's failed case is not in the bundled suite,
 * fixtures/shard/elsewhere): no chain is
 * started, the reports are written empty, exit 0. */
START_TEST(nothing_to_rerun_starts_nothing)
{
    char *rep = wih_fixture("shard/elsewhere/report.json");
    char *suite = wih_fixture("../scenarios");
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-shard-cli", false, &e);
    char *json = wih_path_join(dir, "r.json"), *spec = wih_asprintf("json=%s", json);
    char *state = wih_path_join(dir, "state");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--rerun-failed", rep, "--report", spec, "--state-dir", state,
                          suite, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(err, "no scenario matches"));
    ck_assert_msg(!strstr(err, "starting one"), "a chain was started: %s", err);
    ck_assert_int_ne(access(state, F_OK), 0);
    char *t = wih_read_file(json, 1 << 20, NULL, &e);
    cJSON *d = cJSON_Parse(t);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "summary"), "total")->valueint, 0);
    cJSON_Delete(d);
    free(t);
    free(out);
    free(err);
    wih_rm_rf(dir);
    free(state);
    free(spec);
    free(json);
    free(dir);
    free(suite);
    free(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("shard");
    TCase *tc = tcase_create("shard");
    tcase_add_test(tc, shards_cover_every_case_once);
    tcase_add_test(tc, adding_cases_moves_no_other_case);
    tcase_add_test(tc, parse_specs);
    tcase_add_test(tc, rerun_failed_from_report);
    tcase_add_test(tc, rerun_failed_bad_input);
    tcase_add_test(tc, nothing_to_rerun_starts_nothing);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
