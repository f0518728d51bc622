/* End to end, --identity real against MinIO (issue 12: "against MinIO,
 * --identity real with static S3 credentials gives the same verdicts as the
 * mock mode"). The local real-node chain stands in for a real cloud; the
 * test plays the operator, as one would in AWS before onboarding a team:
 *   - for every role the aws-irsa core scenarios describe (guide, cross-team,
 *     read-only, two-pools) it creates a role in the mock cloud through the
 *     admin API the mock setup uses (PUT /admin/v1/roles/NAME), trusting the
 *     FIXED namespace of the real run, with grants on real buckets it makes
 *     in MinIO with the root credentials;
 *   - the runner's own static S3 credentials are MinIO STS AssumeRole
 *     credentials of the root user restricted by a session policy to those
 *     buckets (MinIO's add-user needs madmin's encrypted body, which this
 *     code base does not speak), written to a 0600 file;
 *   - the real map names those roles (per scenario), buckets, the chain's
 *     pod URLs as STS/S3 endpoints, and that file.
 * Then the same scenarios run in mock mode and with --identity real, and the
 * per-access verdicts (result, reason, code, identity mapped to the logical
 * role) and case results must be equal; the real run made no role and left
 * no object in the operator's buckets; no secret of the runner reached any
 * output. A map with an error is exit 2 with file:line:col. Skips (77) when
 * the chain cannot have a node here. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cloud.h"
#include "wiharness/cluster.h"
#include "wiharness/http.h"
#include "wiharness/kube.h"
#include "wiharness/scenario.h"
#include "wiharness/storage.h"

#define NS "wih-real-ops"

static const char *const k_files[] = {"scenarios/guide.yaml", "scenarios/cross-team.yaml",
                                      "scenarios/read-only.yaml", "scenarios/two-pools.yaml"};
#define NFILES (sizeof k_files / sizeof k_files[0])

static char *g_base, *g_dir, *g_hex;
static cJSON *g_state;
static s3_creds g_root, g_runner;

static const char *st(const char *path)
{
    return kube_obj_str(g_state, path);
}

static char *file_arg(size_t i)
{
    return wih_path_join(WIH_SOURCE_DIR, k_files[i]);
}

/* ------------------------------------------------------------ the operator */
static void load_root(void)
{
    char *p = wih_path_join(g_dir, "cloud/minio-root.json");
    char *t = wih_read_file(p, 1 << 16, NULL, NULL);
    cJSON *j = cJSON_Parse(t);
    g_root.access_key = wih_strdup(kube_obj_str(j, "user"));
    g_root.secret_key = wih_strdup(kube_obj_str(j, "password"));
    ck_assert_msg(g_root.access_key && g_root.secret_key, "no MinIO root credentials in %s", p);
    cJSON_Delete(j);
    wih_free_secret(t);
    free(p);
}

static cJSON *admin(const char *method, const char *path, const cJSON *body)
{
    char *url = wih_asprintf("%s/admin/v1/%s", st("cloud.url"), path);
    char *tok = wih_read_file(st("cloud.admin_token_file"), 4096, NULL, NULL);
    ck_assert_ptr_nonnull(tok);
    tok[strcspn(tok, "\r\n")] = 0;
    char *text = body ? cJSON_PrintUnformatted(body) : NULL, *resp = NULL;
    wih_err *e = NULL;
    long code = cluster_http_auth(method, url, body ? "application/json" : NULL, text, st("cloud.ca_file"), tok,
                                  &resp, &e);
    ck_assert_msg(code >= 200 && code < 300, "%s %s: %ld %s %s", method, path, code, resp ? resp : "",
                  e ? wih_err_str(e) : "");
    cJSON *j = cJSON_Parse(resp ? resp : "null");
    wih_free_secret(tok);
    free(text);
    free(resp);
    free(url);
    return j;
}

static char *real_bucket(const char *logical)
{
    return wih_asprintf("op%s-%s", g_hex, logical);
}

static char *real_role(const scn_scenario *s, const char *logical)
{
    return wih_asprintf("op%s-%s-%s", g_hex, s->name, logical);
}

/* The role a scenario describes, as the operator writes it: trust for the fixed namespace. */
static void make_role(const scn_scenario *s, const scn_role *r)
{
    cJSON *doc = cJSON_CreateObject(), *trust = cJSON_AddObjectToObject(doc, "trust");
    cJSON_AddStringToObject(trust, "issuer", st("issuer"));
    cJSON *subs = cJSON_AddArrayToObject(trust, "subjects");
    scn_vars v = {.namespace_ = NS, .service_account = s->sa_name, .profile = "aws-irsa", .scenario = s->name};
    for (size_t i = 0; i < r->ntrust; i++) {
        wih_err *e = NULL;
        char *x = scn_expand(r->trust[i], &v, &e);
        ck_assert_msg(x, "%s", e ? wih_err_str(e) : "");
        cJSON_AddItemToArray(subs, cJSON_CreateString(x));
        free(x);
    }
    cJSON *g = cJSON_AddObjectToObject(doc, "grants");
    const cJSON *x;
    cJSON_ArrayForEach(x, r->grants)
    {
        char *b = real_bucket(x->string);
        cJSON_AddStringToObject(g, b, x->valuestring);
        free(b);
    }
    char *name = real_role(s, r->name), *path = wih_asprintf("roles/%s", name);
    cJSON_Delete(admin("PUT", path, doc));
    free(path);
    free(name);
    cJSON_Delete(doc);
}

/* STS AssumeRole with the root keys, restricted to the operator's buckets. */
static void runner_creds(void)
{
    char *pol = wih_asprintf("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\"],"
                             "\"Resource\":[\"arn:aws:s3:::op%s-*\"]}]}",
                             g_hex);
    CURL *cu = curl_easy_init();
    char *enc = curl_easy_escape(cu, pol, 0);
    char *form = wih_asprintf("Action=AssumeRole&Version=2011-06-15&DurationSeconds=3600&Policy=%s", enc);
    curl_free(enc);
    curl_easy_cleanup(cu);
    const char *hdr[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    char *url = wih_asprintf("%s/", st("minio.url"));
    wih_http_req rq = {.method = "POST", .url = url, .headers = hdr, .body = form, .body_len = strlen(form),
                       .ca_file = st("cloud.ca_file"), .aws_sigv4 = "aws:amz:us-east-1:sts",
                       .aws_access_key = g_root.access_key, .aws_secret_key = g_root.secret_key};
    wih_http_resp rs;
    wih_err *e = NULL;
    ck_assert_msg(wih_http_do(NULL, &rq, &rs, &e) == 0 && rs.status == 200, "MinIO AssumeRole: %ld %s", rs.status,
                  e ? wih_err_str(e) : "");
    ck_assert_msg(s3_parse_sts_xml(rs.body.data, rs.body.len, &g_runner), "MinIO AssumeRole: no credentials");
    wih_http_resp_free(&rs);
    free(url);
    free(form);
    free(pol);
}

static void write_creds_file(const char *path)
{
    char *t = wih_asprintf("accessKeyId: %s\nsecretAccessKey: %s\nsessionToken: %s\n", g_runner.access_key,
                           g_runner.secret_key, g_runner.session_token);
    wih_err *e = NULL;
    ck_assert_msg(!wih_write_file(path, t, strlen(t), 0600, &e), "%s", e ? wih_err_str(e) : "");
    wih_free_secret(t);
}

/* Roles and buckets of every scenario + the map naming them. */
static char *operator_setup(void)
{
    const char *paths[NFILES];
    char *owned[NFILES];
    for (size_t i = 0; i < NFILES; i++) paths[i] = owned[i] = file_arg(i);
    wih_err *e = NULL;
    scn_list *l = scn_load_paths(paths, NFILES, &e);
    ck_assert_msg(l, "%s", e ? wih_err_str(e) : "");
    s3_client *s3 = s3_client_new(st("minio.url"), &g_root, st("cloud.ca_file"));
    wih_buf m;
    wih_buf_init(&m, 1 << 20);
    char *creds = wih_path_join(g_base, "runner-creds.yaml");
    write_creds_file(creds);
    wih_buf_addf(&m, "apiVersion: wiharness/v1\nkind: RealMap\nprofiles:\n  aws-irsa:\n    region: us-east-1\n"
                     "    endpoints: {sts: \"%s\", s3: \"%s\"}\n    caFile: \"%s\"\n    credentials: {file: \"%s\"}\n"
                     "    roles: {}\n    buckets:\n",
                 kube_obj_str(g_state, "pod_urls.cloud"), kube_obj_str(g_state, "pod_urls.minio"), st("cloud.ca_file"),
                 creds);
    const char *logical[] = {"team-a-data", "team-b-data"};
    for (size_t i = 0; i < 2; i++) {
        char *b = real_bucket(logical[i]);
        ck_assert_msg(!s3_make_bucket(s3, b, &e), "%s", e ? wih_err_str(e) : "");
        wih_buf_addf(&m, "      %s: %s\n", logical[i], b);
        free(b);
    }
    wih_buf_adds(&m, "    scenarios:\n");
    for (size_t i = 0; i < l->n; i++) {
        const scn_scenario *s = l->items[i];
        if (strstr(s->name, "azure") || strstr(s->name, "gcp")) continue;
        wih_buf_addf(&m, "      %s:\n        roles:\n", s->name);
        for (size_t j = 0; j < s->nroles; j++) {
            make_role(s, &s->roles[j]);
            char *rr = real_role(s, s->roles[j].name), *arn = cloud_aws_role_arn(rr);
            wih_buf_addf(&m, "          %s: \"%s\"\n", s->roles[j].name, arn);
            free(arn);
            free(rr);
        }
    }
    char *map = wih_path_join(g_base, "real.yaml");
    ck_assert(!wih_write_file(map, m.data, m.len, 0644, &e));
    wih_buf_free(&m);
    s3_client_free(s3);
    scn_list_free(l);
    free(creds);
    for (size_t i = 0; i < NFILES; i++) free(owned[i]);
    return map;
}

/* ------------------------------------------------------------ the runs */
static cJSON *run_mode(const char *map, const char *tag, char **out, char **err, int *rc)
{
    char *kc = wih_path_join(g_dir, "kubeconfig");
    char *json = wih_asprintf("%s/%s.json", g_base, tag), *rep = wih_asprintf("json=%s", json);
    char *f[NFILES];
    for (size_t i = 0; i < NFILES; i++) f[i] = file_arg(i);
    if (map)
        *rc = wih_test_cli(out, err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                           "--kubeconfig", kc, "--identity", "real", "--real", map, "--namespace", NS,
                           "--probe-image", st("node.probe_image"), "--profile", "aws-irsa", "--report", rep, f[0],
                           f[1], f[2], f[3], NULL);
    else
        *rc = wih_test_cli(out, err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                           "--kubeconfig", kc, "--state-dir", g_dir, "--profile", "aws-irsa", "--report", rep, f[0],
                           f[1], f[2], f[3], NULL);
    char *t = wih_read_file(json, 1 << 24, NULL, NULL);
    cJSON *doc = t ? cJSON_Parse(t) : NULL;
    free(t);
    for (size_t i = 0; i < NFILES; i++) free(f[i]);
    free(rep);
    free(json);
    free(kc);
    return doc;
}

static const cJSON *find_case(const cJSON *doc, const char *scenario)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) if (!strcmp(kube_obj_str(c, "scenario"), scenario))
        return c;
    return NULL;
}

static bool same_str(const cJSON *a, const cJSON *b, const char *path)
{
    const char *x = kube_obj_str(a, path), *y = kube_obj_str(b, path);
    return (!x && !y) || (x && y && !strcmp(x, y));
}

/* Per access: ok, result, reason, code, the identity mapped to its logical role. */
static void compare_case(const cJSON *mock, const cJSON *real)
{
    const char *name = kube_obj_str(mock, "scenario");
    ck_assert_msg(real, "%s: not in the real run's report", name);
    ck_assert_msg(same_str(mock, real, "status"), "%s: mock %s, real %s (%s)", name, kube_obj_str(mock, "status"),
                  kube_obj_str(real, "status"), kube_obj_str(real, "message") ? kube_obj_str(real, "message") : "");
    const cJSON *ma = cJSON_GetObjectItem(mock, "access"), *ra = cJSON_GetObjectItem(real, "access");
    ck_assert_int_eq(cJSON_GetArraySize(ma), cJSON_GetArraySize(ra));
    ck_assert_int_gt(cJSON_GetArraySize(ma), 0);
    for (int i = 0; i < cJSON_GetArraySize(ma); i++) {
        const cJSON *m = cJSON_GetArrayItem(ma, i), *r = cJSON_GetArrayItem(ra, i);
        ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(m, "ok")) == cJSON_IsTrue(cJSON_GetObjectItem(r, "ok")),
                      "%s access[%d]: ok differs", name, i);
        static const char *const keys[] = {"actual.result", "actual.reason", "actual.code", "actual.role", "op"};
        fprintf(stderr, "%s access[%d]: %s %s reason=%s code=%s role=%s (mock and real)\n", name, i,
                kube_obj_str(r, "op"), kube_obj_str(r, "actual.result"),
                kube_obj_str(r, "actual.reason") ? kube_obj_str(r, "actual.reason") : "null",
                kube_obj_str(r, "actual.code") ? kube_obj_str(r, "actual.code") : "null",
                kube_obj_str(r, "actual.role") ? kube_obj_str(r, "actual.role") : "null");
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
            ck_assert_msg(same_str(m, r, keys[k]), "%s access[%d] %s: mock %s, real %s", name, i, keys[k],
                          kube_obj_str(m, keys[k]) ? kube_obj_str(m, keys[k]) : "null",
                          kube_obj_str(r, keys[k]) ? kube_obj_str(r, keys[k]) : "null");
    }
    /* the pods got the map's endpoints and the real store, not the mock's template */
    char *changes = cJSON_PrintUnformatted(cJSON_GetObjectItem(real, "changes"));
    ck_assert_msg(strstr(changes, "\"wih-real-endpoints\"") && !strstr(changes, "\"wih-endpoints\""),
                  "%s: real-mode changes: %s", name, changes);
    free(changes);
    /* the real principal answered, not the mock run's per-case role */
    const char *id = kube_obj_str(real, "verdict.exchange.identity");
    if (id) ck_assert_msg(strstr(id, "assumed-role/op"), "%s: real identity %s is not the operator's role", name, id);
}

static int count_roles(void)
{
    cJSON *r = admin("GET", "roles", NULL);
    const cJSON *items = cJSON_GetObjectItem(r, "roles") ? cJSON_GetObjectItem(r, "roles") : r;
    int n = cJSON_GetArraySize(items);
    cJSON_Delete(r);
    return n;
}

/* The fixed namespace was the run's: deleted at its end. */
static void ns_gone(void)
{
    char *kcp = wih_path_join(g_dir, "kubeconfig");
    kube_config_opts ko = {.kubeconfig = kcp};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    ck_assert_msg(kc, "%s", e ? wih_err_str(e) : "");
    kube_ref r = {"v1", "Namespace", NULL, NS};
    cJSON *got = kube_get(kc, &r, &e);
    ck_assert_msg(!got || !strcmp(kube_obj_str(got, "status.phase"), "Terminating"), "%s survived the run", NS);
    cJSON_Delete(got);
    wih_err_free(e);
    kube_client_free(kc);
    free(kcp);
}

static void assert_no_secret(const char *what, const char *text)
{
    ck_assert_msg(!text || !strstr(text, g_runner.secret_key), "%s holds the runner's secret key", what);
    ck_assert_msg(!text || !strstr(text, g_runner.session_token), "%s holds the runner's session token", what);
}

static void buckets_empty(void)
{
    s3_client *s3 = s3_client_new(st("minio.url"), &g_root, st("cloud.ca_file"));
    const char *logical[] = {"team-a-data", "team-b-data"};
    for (size_t i = 0; i < 2; i++) {
        char *b = real_bucket(logical[i]);
        wih_err *e = NULL;
        cJSON *objs = s3_list_objects(s3, b, NULL, &e);
        ck_assert_msg(objs, "%s", e ? wih_err_str(e) : "");
        char *txt = cJSON_PrintUnformatted(objs);
        ck_assert_msg(cJSON_GetArraySize(objs) == 0, "the real run left objects in %s: %s", b, txt);
        free(txt);
        cJSON_Delete(objs);
        free(b);
    }
    s3_client_free(s3);
}

static void wrong_role_fails(const char *map);

START_TEST(real_identity_matches_mock)
{
    load_root();
    runner_creds();
    char *map = operator_setup();
    char *mout = NULL, *merr = NULL, *rout = NULL, *rerr = NULL;
    int mrc = 0, rrc = 0;
    cJSON *mock = run_mode(NULL, "mock", &mout, &merr, &mrc);
    ck_assert_msg(mrc == 0 && mock, "mock mode: exit %d\n%s\n%s", mrc, mout, merr);
    int roles_before = count_roles();
    cJSON *real = run_mode(map, "real", &rout, &rerr, &rrc);
    ck_assert_msg(rrc == 0 && real, "--identity real: exit %d\n%s\n%s", rrc, rout, rerr);
    fprintf(stderr, "--- mock mode:\n%s--- --identity real:\n%s", mout, rout);
    ck_assert_int_eq(count_roles(), roles_before); /* the runner made no role */
    ns_gone();
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(mock, "cases"))
    {
        compare_case(c, find_case(real, kube_obj_str(c, "scenario")));
        n++;
    }
    ck_assert_msg(n >= 4, "expected the 4 aws-irsa core cases, mock ran %d", n);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(real, "cases")), n);
    buckets_empty();
    wrong_role_fails(map);
    buckets_empty();
    char *rep = wih_asprintf("%s/real.json", g_base);
    char *rt = wih_read_file(rep, 1 << 24, NULL, NULL);
    assert_no_secret("the real run's stdout", rout);
    assert_no_secret("the real run's stderr", rerr);
    assert_no_secret("the real run's report", rt);
    free(rt);
    free(rep);
    cJSON_Delete(mock);
    cJSON_Delete(real);
    free(mout);
    free(merr);
    free(rout);
    free(rerr);
    free(map);
}
END_TEST

/* The control: a map naming the read-only role for guide-aws's team-a makes
 * its write fail — the verdicts come from the operator's roles, through the map. */
static void wrong_role_fails(const char *map)
{
    char *t = wih_read_file(map, 1 << 20, NULL, NULL);
    char *ro = wih_asprintf("role/op%s-read-only-team-a", g_hex), *ga = wih_asprintf("role/op%s-guide-aws-team-a", g_hex);
    char *p = strstr(t, ga);
    ck_assert_msg(p, "%s", t);
    char *nt = wih_asprintf("%.*s%s%s", (int)(p - t), t, ro, p + strlen(ga));
    free(t);
    t = nt;
    char *bad = wih_path_join(g_base, "wrong-role.yaml");
    ck_assert(!wih_write_file(bad, t, strlen(t), 0644, NULL));
    char *kc = wih_path_join(g_dir, "kubeconfig"), *guide = file_arg(0);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                          "--kubeconfig", kc, "--identity", "real", "--real", bad, "--namespace", NS, "--probe-image",
                          st("node.probe_image"), "-l", "name=guide-aws", guide, NULL);
    ck_assert_msg(rc == 1 && strstr(out, "FAIL  guide-aws"), "the read-only role passed guide-aws: exit %d\n%s\n%s",
                  rc, out, err);
    free(out);
    free(err);
    free(guide);
    free(kc);
    free(bad);
    free(ga);
    free(ro);
    free(t);
}

START_TEST(bad_map_is_exit_2_with_position)
{
    char *bad = wih_path_join(g_base, "bad.yaml");
    const char *t = "apiVersion: wiharness/v1\nkind: RealMap\nprofiles:\n  aws-irsa:\n    roles: {team-a: not-an-arn}\n";
    ck_assert(!wih_write_file(bad, t, strlen(t), 0644, NULL));
    char *kc = wih_path_join(g_dir, "kubeconfig"), *guide = file_arg(0);
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--backend", "existing", "--context", "wiharness-local",
                          "--kubeconfig", kc, "--identity", "real", "--real", bad, "--namespace", NS, "--probe-image",
                          st("node.probe_image"), guide, NULL);
    char *at = wih_asprintf("%s:5:", bad);
    ck_assert_msg(rc == 2 && strstr(err, at) && strstr(err, "not a role ARN"), "exit %d\n%s", rc, err);
    free(at);
    free(out);
    free(err);
    free(guide);
    free(kc);
    free(bad);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-real-");
    g_base = ch.base;
    g_dir = ch.dir;
    g_hex = wih_random_hex(3);
    wih_err *e = NULL;
    g_state = cluster_local_state(g_dir, &e);
    if (!g_state || !kube_obj_str(g_state, "pod_urls.cloud") || !kube_obj_str(g_state, "node.probe_image")) {
        fprintf(stderr, "the chain has no pod_urls/probe image: %s\n", e ? wih_err_str(e) : "");
        wih_test_chain_down(&ch);
        return 1;
    }
    Suite *s = suite_create("e2e_real");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, bad_map_is_exit_2_with_position);
    tcase_add_test(tc, real_identity_matches_mock);
    suite_add_tcase(s, tc);
    int rc = wih_test_run(s);
    s3_creds_clear(&g_root);
    s3_creds_clear(&g_runner);
    cJSON_Delete(g_state);
    free(g_hex);
    wih_test_chain_down(&ch);
    return rc;
}
