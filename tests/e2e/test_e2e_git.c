/* End to end, values from git: a repository built with libgit2 (commit 1:
 * the guide's values, tagged `good`; commit 2 on main: the same template no
 * longer listed in the pool — a common mistake), a scenario whose values are
 * git+REPO#REF:values.yaml, run on the real-node chain at each ref: clean at
 * `good`, broken at `main` (the injected env is missing), and each report
 * names the commit it ran. Skips (77) when the chain cannot have a node. */
#include <git2.h>
#include <stdlib.h>
#include <string.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"

static char *g_base, *g_dir, *g_repo;
static char g_c1[GIT_OID_HEXSZ + 1], g_c2[GIT_OID_HEXSZ + 1];

static const char *k_good =
    "services:\n  configs:\n    enabled: true\n    podTemplates:\n      workflow_workload_identity:\n"
    "        spec:\n          serviceAccountName: osmo-workflow\n    pools:\n      default:\n"
    "        common_pod_template: [default_user, default_ctrl, workflow_workload_identity]\n";
static const char *k_broken =
    "services:\n  configs:\n    enabled: true\n    podTemplates:\n      workflow_workload_identity:\n"
    "        spec:\n          serviceAccountName: osmo-workflow\n    pools:\n      default:\n"
    "        common_pod_template: [default_user, default_ctrl]\n";

static void commit_values(git_repository *r, const char *text, const char *msg, char *hex)
{
    char *file = wih_path_join(g_repo, "values.yaml");
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(file, text, strlen(text), 0644, &e), 0);
    git_index *idx;
    git_oid tree_id, id, parent_id;
    git_tree *tree;
    git_signature *sig;
    git_commit *parent = NULL;
    ck_assert_int_eq(git_repository_index(&idx, r), 0);
    ck_assert_int_eq(git_index_add_bypath(idx, "values.yaml"), 0);
    ck_assert_int_eq(git_index_write(idx), 0);
    ck_assert_int_eq(git_index_write_tree(&tree_id, idx), 0);
    ck_assert_int_eq(git_tree_lookup(&tree, r, &tree_id), 0);
    ck_assert_int_eq(git_signature_new(&sig, "Team A", "team-a@example.invalid", 1764633600, 0), 0);
    if (!git_reference_name_to_id(&parent_id, r, "HEAD")) git_commit_lookup(&parent, r, &parent_id);
    const git_commit *parents[] = {parent};
    ck_assert_int_eq(git_commit_create(&id, r, "HEAD", sig, sig, NULL, msg, tree, parent ? 1 : 0, parents), 0);
    git_oid_tostr(hex, GIT_OID_HEXSZ + 1, &id);
    git_commit_free(parent);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    free(file);
}

static void make_repo(void)
{
    g_repo = wih_path_join(g_base, "gitops");
    git_libgit2_init();
    git_repository *r;
    git_repository_init_options io;
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_MKPATH;
    io.initial_head = "main";
    ck_assert_int_eq(git_repository_init_ext(&r, g_repo, &io), 0);
    commit_values(r, k_good, "pool values", g_c1);
    git_oid id, tag;
    git_object *o;
    git_oid_fromstr(&id, g_c1);
    ck_assert_int_eq(git_object_lookup(&o, r, &id, GIT_OBJECT_COMMIT), 0);
    ck_assert_int_eq(git_tag_create_lightweight(&tag, r, "good", o, 0), 0);
    git_object_free(o);
    commit_values(r, k_broken, "tidy the pool list", g_c2);
    git_repository_free(r);
    git_libgit2_shutdown();
}

/* Run the scenario with values at ref; the JSON report's first case. */
static cJSON *run_at(const char *ref, int want_rc, char **out)
{
    char *scn = wih_asprintf("%s/scn-%s.yaml", g_base, ref);
    char *text = wih_asprintf(
        "apiVersion: wiharness/v1\nkind: Scenario\nmetadata: {name: git-%s}\nspec:\n  profiles: [aws-irsa]\n"
        "  serviceAccount: {name: osmo-workflow, identity: {role: team-a}}\n"
        "  values: \"git+%s#%s:values.yaml\"\n"
        "  cloud:\n    roles:\n      team-a:\n        trust: [\"system:serviceaccount:{{namespace}}:osmo-workflow\"]\n"
        "        grants: {team-a-data: readwrite}\n  buckets: [team-a-data]\n"
        "  expect:\n    pod:\n      spec:\n        serviceAccountName: osmo-workflow\n"
        "        containers[name=osmo-ctrl]:\n          env[name=AWS_ROLE_ARN]: $present\n",
        ref, g_repo, ref);
    wih_err *e = NULL;
    ck_assert_int_eq(wih_write_file(scn, text, strlen(text), 0644, &e), 0);
    char *json = wih_asprintf("%s/report-%s.json", g_base, ref), *rep = wih_asprintf("json=%s", json);
    char *err = NULL;
    int rc = wih_test_cli(out, &err, NULL, "run", "--state-dir", g_dir, "--report", rep, scn, NULL);
    ck_assert_msg(rc == want_rc, "values at %s: exit %d, want %d\n%s\n%s", ref, rc, want_rc, *out, err);
    char *t = wih_read_file(json, 1 << 24, NULL, &e);
    ck_assert_msg(t, "%s", json);
    cJSON *doc = cJSON_Parse(t);
    cJSON *c = cJSON_DetachItemFromArray(cJSON_GetObjectItem(doc, "cases"), 0);
    cJSON_Delete(doc);
    free(t);
    free(err);
    free(rep);
    free(json);
    free(text);
    free(scn);
    return c;
}

static const char *source_commit(const cJSON *c)
{
    return cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "sources"), 0), "commit"));
}

START_TEST(clean_at_good_broken_at_main)
{
    make_repo();
    char *out = NULL;
    cJSON *c = run_at("good", 0, &out);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "passed");
    ck_assert_msg(source_commit(c) && !strcmp(source_commit(c), g_c1), "report names %s, want %s", source_commit(c), g_c1);
    cJSON_Delete(c);
    free(out);
    out = NULL;
    c = run_at("main", 1, &out);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(c, "status")), "failed");
    ck_assert_msg(source_commit(c) && !strcmp(source_commit(c), g_c2), "report names %s, want %s", source_commit(c), g_c2);
    ck_assert_msg(strstr(out, "AWS_ROLE_ARN"), "the mismatch is not shown:\n%s", out);
    cJSON_Delete(c);
    free(out);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-git-");
    g_base = ch.base;
    g_dir = ch.dir;
    char *cache = wih_path_join(g_base, "git-cache");
    setenv("WIH_GIT_CACHE", cache, 1);
    free(cache);
    int rc;
    Suite *s = suite_create("e2e_git");
    TCase *tc = tcase_create("git");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, clean_at_good_broken_at_main);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    free(g_repo);
    return rc;
}
