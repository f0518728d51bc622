/* Sources from git: a repository built with libgit2 in a temp dir (two
 * commits of a values file: good, then broken; fixtures/source/), read back
 * through git+URL#REF:PATH by branch, tag, commit id, file:// URL; bad refs
 * and missing paths are exit 2; a plain file in a work tree records HEAD and
 * dirty. */
#include <git2.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "wiharness/source.h"

static char *g_dir, *g_repo, *g_cache, *g_good, *g_broken;
static char g_c1[GIT_OID_HEXSZ + 1], g_c2[GIT_OID_HEXSZ + 1];

static char *fixture_text(const char *rel)
{
    char *p = wih_fixture(rel);
    wih_err *e = NULL;
    char *t = wih_read_file(p, 1 << 16, NULL, &e);
    ck_assert_msg(t, "%s", p);
    free(p);
    return t;
}

/* Write rel in the work tree, stage it, commit on HEAD; the id into hex. */
static void commit_file(git_repository *r, const char *rel, const char *text, const char *msg, char *hex)
{
    char *file = wih_path_join(g_repo, rel);
    wih_err *e = NULL;
    char *dir = wih_strdup(file);
    *strrchr(dir, '/') = 0;
    wih_mkdir_p(dir, 0700);
    ck_assert_int_eq(wih_write_file(file, text, strlen(text), 0644, &e), 0);
    git_index *idx;
    git_oid tree_id, id, parent_id;
    git_tree *tree;
    git_signature *sig;
    ck_assert_int_eq(git_repository_index(&idx, r), 0);
    ck_assert_int_eq(git_index_add_bypath(idx, rel), 0);
    ck_assert_int_eq(git_index_write(idx), 0);
    ck_assert_int_eq(git_index_write_tree(&tree_id, idx), 0);
    ck_assert_int_eq(git_tree_lookup(&tree, r, &tree_id), 0);
    ck_assert_int_eq(git_signature_new(&sig, "Test", "test@example.invalid", 1764633600, 0), 0);
    git_commit *parent = NULL;
    if (!git_reference_name_to_id(&parent_id, r, "HEAD")) ck_assert_int_eq(git_commit_lookup(&parent, r, &parent_id), 0);
    const git_commit *parents[] = {parent};
    ck_assert_int_eq(git_commit_create(&id, r, "HEAD", sig, sig, NULL, msg, tree, parent ? 1 : 0, parents), 0);
    git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &id);
    git_commit_free(parent);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    free(dir);
    free(file);
}

static void setup(void)
{
    wih_err *e = NULL;
    g_dir = wih_tmpdir("wih-src", false, &e);
    ck_assert_ptr_nonnull(g_dir);
    g_repo = wih_path_join(g_dir, "gitops");
    g_cache = wih_path_join(g_dir, "cache");
    g_good = fixture_text("source/good-values.yaml");
    g_broken = fixture_text("source/broken-values.yaml");
    git_libgit2_init();
    git_repository *r;
    git_repository_init_options io;
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_MKPATH;
    io.initial_head = "main";
    ck_assert_int_eq(git_repository_init_ext(&r, g_repo, &io), 0);
    commit_file(r, "pools/values.yaml", g_good, "good values", g_c1);
    git_oid id1;
    git_object *o;
    git_oid_fromstr(&id1, g_c1);
    ck_assert_int_eq(git_object_lookup(&o, r, &id1, GIT_OBJECT_COMMIT), 0);
    git_oid tag;
    ck_assert_int_eq(git_tag_create_lightweight(&tag, r, "v1", o, 0), 0);
    git_object_free(o);
    commit_file(r, "pools/values.yaml", g_broken, "broken values", g_c2);
    git_repository_free(r);
    git_libgit2_shutdown();
}

static void teardown(void)
{
    wih_rm_rf(g_dir);
    free(g_dir);
    free(g_repo);
    free(g_cache);
    free(g_good);
    free(g_broken);
}

static void expect_read(const char *spec, const char *want, const char *commit)
{
    wih_err *e = NULL;
    cJSON *prov = NULL;
    size_t n = 0;
    char *got = src_read(spec, g_cache, &n, &prov, &e);
    ck_assert_msg(got, "%s: %s", spec, e ? wih_err_str(e) : "");
    ck_assert_str_eq(got, want);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "commit")), commit);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "path")), "pools/values.yaml");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "source")), spec);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(prov, "dirty")));
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "repository")), "gitops"));
    cJSON_Delete(prov);
    free(got);
}

START_TEST(each_ref_reads_its_commit)
{
    char *s;
    expect_read(s = wih_asprintf("git+%s#main:pools/values.yaml", g_repo), g_broken, g_c2);
    free(s);
    expect_read(s = wih_asprintf("git+%s#v1:pools/values.yaml", g_repo), g_good, g_c1);
    free(s);
    expect_read(s = wih_asprintf("git+%s#%s:pools/values.yaml", g_repo, g_c1), g_good, g_c1);
    free(s);
    expect_read(s = wih_asprintf("git+file://%s#%.10s:/pools/values.yaml", g_repo, g_c2), g_broken, g_c2);
    free(s);
    /* The bare cache, no work tree: nothing checked out. */
    char *cache_git = wih_path_join(g_cache, "git");
    ck_assert_int_eq(access(cache_git, R_OK), 0);
    free(cache_git);
}
END_TEST

START_TEST(fetch_sees_new_commits)
{
    char *s = wih_asprintf("git+%s#main:pools/values.yaml", g_repo);
    expect_read(s, g_broken, g_c2);
    git_libgit2_init();
    git_repository *r;
    ck_assert_int_eq(git_repository_open(&r, g_repo), 0);
    char c3[GIT_OID_HEXSZ + 1];
    commit_file(r, "pools/values.yaml", g_good, "fixed again", c3);
    git_repository_free(r);
    git_libgit2_shutdown();
    expect_read(s, g_good, c3); /* same cache, fetched again */
    free(s);
}
END_TEST

static void expect_input_error(const char *spec, const char *needle)
{
    wih_err *e = NULL;
    cJSON *prov = NULL;
    ck_assert_ptr_null(src_read(spec, g_cache, NULL, &prov, &e));
    ck_assert_ptr_null(prov);
    ck_assert_msg(e && wih_err_exit(e) == WIH_EXIT_INPUT, "%s: %s", spec, e ? wih_err_str(e) : "no error");
    ck_assert_msg(strstr(wih_err_str(e), needle), "%s: '%s' lacks '%s'", spec, wih_err_str(e), needle);
    wih_err_free(e);
}

START_TEST(bad_ref_and_missing_path)
{
    char *s;
    expect_input_error(s = wih_asprintf("git+%s#no-such-branch:pools/values.yaml", g_repo),
                       "no branch, tag or commit 'no-such-branch'");
    free(s);
    expect_input_error(s = wih_asprintf("git+%s#main:pools/missing.yaml", g_repo), "no 'pools/missing.yaml'");
    free(s);
    expect_input_error(s = wih_asprintf("git+%s#v1:pools", g_repo), "is a directory");
    free(s);
    expect_input_error(s = wih_asprintf("git+%s/nope#main:x", g_dir), "no repository at");
    free(s);
    expect_input_error("git+/x/y", "expected git+URL#REF:PATH");
    expect_input_error("git+#main:x", "expected git+URL#REF:PATH");
    expect_input_error("git+/x#:x", "expected git+URL#REF:PATH");
    expect_input_error("git+/x#main:", "expected git+URL#REF:PATH");
}
END_TEST

START_TEST(the_command_exits_2)
{
    /* The same through a CLI path that reads git sources: run on a git+ scenario dir. */
    char *out = NULL, *err = NULL;
    char *s = wih_asprintf("git+%s#no-such-ref:scenarios", g_repo);
    char *env = wih_asprintf("%s/git", g_cache);
    setenv("WIH_GIT_CACHE", env, 1); /* setenv copies (putenv kept the string, lost when replaced) */
    free(env);
    int rc = wih_test_cli(&out, &err, NULL, "run", s, NULL);
    ck_assert_msg(rc == 2, "rc %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(err, "no branch, tag or commit 'no-such-ref'"));
    free(out);
    free(err);
    free(s);
}
END_TEST

START_TEST(export_a_directory)
{
    char *s = wih_asprintf("git+%s#v1:pools", g_repo);
    char *dest = wih_path_join(g_dir, "export");
    wih_err *e = NULL;
    cJSON *prov = NULL;
    ck_assert_msg(!src_git_export(s, g_cache, dest, &prov, &e), "%s", e ? wih_err_str(e) : "");
    char *f = wih_path_join(dest, "values.yaml");
    char *t = wih_read_file(f, 1 << 16, NULL, &e);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, g_good);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "commit")), g_c1);
    cJSON_Delete(prov);
    free(t);
    free(f);
    free(dest);
    free(s);
}
END_TEST

START_TEST(plain_file_in_a_work_tree)
{
    char *file = wih_path_join(g_repo, "pools/values.yaml");
    cJSON *p = src_file_provenance(file);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "commit")), g_c2);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "path")), "pools/values.yaml");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(p, "dirty")));
    cJSON_Delete(p);
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(file, "edited: true\n", 13, 0644, &e), 0);
    p = src_file_provenance(file);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "dirty")));
    cJSON_Delete(p);
    /* Outside any repository: no repository, no commit. */
    char *other = wih_path_join(g_dir, "loose.yaml");
    ck_assert_int_eq(wih_write_file(other, "a: 1\n", 5, 0644, &e), 0);
    p = src_file_provenance(other);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(p, "repository")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(p, "commit")));
    cJSON_Delete(p);
    free(other);
    free(file);
}
END_TEST

START_TEST(explain_each_ref)
{
    char *out = NULL, *err = NULL;
    char *env = wih_asprintf("%s/git", g_cache);
    setenv("WIH_GIT_CACHE", env, 1); /* setenv copies (putenv kept the string, lost when replaced) */
    free(env);
    char *s = wih_asprintf("git+%s#v1:pools/values.yaml", g_repo);
    int rc = wih_test_cli(&out, &err, NULL, "explain", "--values", s, "--profile", "aws-irsa", NULL);
    ck_assert_msg(rc == 0, "v1: exit %d\n%s%s", rc, out, err);
    ck_assert_msg(strstr(out, g_c1) && strstr(out, "no known misconfiguration"), "%s", out);
    free(out);
    free(err);
    free(s);
    s = wih_asprintf("git+%s#main:pools/values.yaml", g_repo);
    rc = wih_test_cli(&out, &err, NULL, "explain", "--values", s, "--profile", "aws-irsa", NULL);
    ck_assert_msg(rc == 1, "main: exit %d\n%s%s", rc, out, err);
    ck_assert_msg(strstr(out, g_c2) && strstr(out, "template-not-in-pool"), "%s", out);
    free(out);
    free(err);
    free(s);
    s = wih_asprintf("git+%s#main:pools/values.yaml", g_repo);
    rc = wih_test_cli(&out, &err, NULL, "explain", "--values", s, "--profile", "aws-irsa", "-o", "json", NULL);
    cJSON *j = cJSON_Parse(out);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "sources"), 0),
                                                              "commit")), g_c2);
    cJSON_Delete(j);
    free(out);
    free(err);
    free(s);
    s = wih_asprintf("git+%s#nope:pools/values.yaml", g_repo);
    rc = wih_test_cli(&out, &err, NULL, "explain", "--values", s, NULL);
    ck_assert_msg(rc == 2 && strstr(err, "no branch, tag or commit 'nope'"), "exit %d: %s", rc, err);
    free(out);
    free(err);
    free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("source_git");
    TCase *tc = tcase_create("git");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, each_ref_reads_its_commit);
    tcase_add_test(tc, fetch_sees_new_commits);
    tcase_add_test(tc, bad_ref_and_missing_path);
    tcase_add_test(tc, export_a_directory);
    tcase_add_test(tc, plain_file_in_a_work_tree);
    tcase_add_test(tc, the_command_exits_2);
    tcase_add_test(tc, explain_each_ref);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
