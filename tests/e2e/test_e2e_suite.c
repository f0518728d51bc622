/* End to end: `wiharness up` with the real node in a fresh state dir, then
 *  1. the bundled suite (scenarios/, every profile) passes; its JUnit file
 *     reads back with one testcase per scenario × profile and no failure;
 *  2. tests/e2e/scenarios/static-keys.yaml.in: a pool template also sets
 *     another user's AWS keys (session credentials of a role the test makes,
 *     pasted as they would be): access is allowed, the identity check fails
 *     and says the static key won; the keys never appear in any output.
 * Skips (77) when the chain cannot have a node here. */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <openssl/crypto.h>

#include "nodechain.h"
#include "testutil.h"
#include "wiharness/cluster.h"
#include "wiharness/kube.h"
#include "wiharness/probe.h"

static char *g_base, *g_dir;

static int xcount(xmlDocPtr d, const char *q)
{
    xmlXPathContextPtr x = xmlXPathNewContext(d);
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)q, x);
    int n = o && o->nodesetval ? o->nodesetval->nodeNr : -1;
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(x);
    return n;
}

static int count_lines(const char *text, const char *prefix)
{
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, prefix, strlen(prefix))) n++;
    return n;
}

START_TEST(bundled_suite_passes)
{
    char *junit = wih_path_join(g_base, "junit.xml"), *rep = wih_asprintf("junit=%s", junit);
    char *suite = wih_path_join(WIH_SOURCE_DIR, "scenarios");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, "--report", rep, suite, NULL);
    ck_assert_msg(rc == 0, "the bundled suite: exit %d\n%s\n%s", rc, out, err);
    int pass = count_lines(out, "PASS  ");
    ck_assert_msg(pass >= 12, "expected every case to pass, saw %d PASS lines:\n%s", pass, out);
    xmlDocPtr d = xmlReadFile(junit, NULL, XML_PARSE_NONET);
    ck_assert_msg(d, "%s does not parse", junit);
    ck_assert_int_eq(xcount(d, "//testcase"), pass);
    ck_assert_int_eq(xcount(d, "//failure"), 0);
    ck_assert_int_eq(xcount(d, "//testsuite[@name='guide-azure']/testcase[@name='azure-wi']"), 1);
    xmlFreeDoc(d);
    free(out);
    free(err);
    free(suite);
    free(rep);
    free(junit);
}
END_TEST

/* Session credentials of role `leftover-user` (trusting SA minter in ns
 * wih-e2e-keys, granted bucket): what someone pasted into a pod template. */
static void leftover_creds(const cJSON *st, const char *bucket, s3_creds *out)
{
    char *grant = wih_asprintf("%s=readwrite", bucket);
    ck_assert_int_eq(wih_test_cli(NULL, NULL, NULL, "cloud", "bucket", "create", bucket, "--state-dir", g_dir, NULL), 0);
    ck_assert_int_eq(wih_test_cli(NULL, NULL, NULL, "cloud", "role", "set", "leftover-user", "--trust",
                                  "system:serviceaccount:wih-e2e-keys:minter", "--grant", grant, "--state-dir", g_dir,
                                  NULL),
                     0);
    free(grant);
    kube_config_opts ko = {.kubeconfig = kube_obj_str(st, "kubeconfig")};
    wih_err *e = NULL;
    kube_client *kc = kube_client_new(&ko, &e);
    ck_assert_msg(kc, "%s", e ? wih_err_str(e) : "");
    cJSON *ns = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"wih-e2e-keys\"}}");
    cJSON *sa = cJSON_Parse("{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                            "\"metadata\":{\"name\":\"minter\",\"namespace\":\"wih-e2e-keys\"}}");
    cJSON_Delete(kube_apply(kc, ns, &e));
    cJSON_Delete(kube_apply(kc, sa, &e));
    ck_assert_msg(!e, "%s", e ? wih_err_str(e) : "");
    const char *auds[] = {"sts.amazonaws.com", NULL};
    kube_token_req tr = {.ns = "wih-e2e-keys", .service_account = "minter", .audiences = auds, .expiration_seconds = 1200};
    char *tok = kube_token_request(kc, &tr, NULL, &e);
    ck_assert_msg(tok, "%s", e ? wih_err_str(e) : "");
    char *sts = wih_strdup(kube_obj_str(st, "cloud.url"));
    probe_req *q = probe_req_aws_web_identity(sts, "arn:aws:iam::000000000000:role/leftover-user", "left-in-template",
                                              tok, 0);
    long status = 0;
    wih_buf body;
    ck_assert_msg(probe_send(q, kube_obj_str(st, "cloud.ca_file"), 30000, &status, &body, &e) == 0, "%s",
                  wih_err_str(e));
    probe_answer a;
    ck_assert_msg(probe_parse_sts(status, body.data, body.len, &a) == 0, "STS: HTTP %ld", status);
    *out = a.creds;
    memset(&a.creds, 0, sizeof a.creds);
    probe_answer_clear(&a);
    OPENSSL_cleanse(body.data, body.len);
    wih_buf_free(&body);
    probe_req_free(q);
    OPENSSL_cleanse(tok, strlen(tok));
    free(tok);
    free(sts);
    kube_ref nr = {"v1", "Namespace", NULL, "wih-e2e-keys"};
    kube_delete(kc, &nr, -1, 0, &e);
    cJSON_Delete(ns);
    cJSON_Delete(sa);
    kube_client_free(kc);
}

/* The fixture with @AK@ @SK@ @ST@ @BUCKET@ replaced, written 0600. */
static char *write_fixture(const s3_creds *c, const char *bucket)
{
    char *in = wih_path_join(WIH_SOURCE_DIR, "tests/e2e/scenarios/static-keys.yaml.in");
    char *t = wih_read_file(in, 1 << 20, NULL, NULL);
    ck_assert(t);
    const char *keys[] = {"@AK@", "@SK@", "@ST@", "@BUCKET@"}, *vals[] = {c->access_key, c->secret_key,
                                                                           c->session_token, bucket};
    for (int i = 0; i < 4; i++) {
        char *p;
        while ((p = strstr(t, keys[i]))) {
            char *n = wih_asprintf("%.*s%s%s", (int)(p - t), t, vals[i], p + strlen(keys[i]));
            free(t);
            t = n;
        }
    }
    char *path = wih_path_join(g_base, "static-keys.yaml");
    wih_err *e = NULL;
    ck_assert(wih_write_file(path, t, strlen(t), 0600, &e) == 0);
    OPENSSL_cleanse(t, strlen(t));
    free(t);
    free(in);
    return path;
}

START_TEST(static_key_wins_and_is_named)
{
    wih_err *e = NULL;
    cJSON *st = cluster_local_state(g_dir, &e);
    ck_assert(st);
    s3_creds c;
    leftover_creds(st, "wih-e2e-leftover", &c);
    char *f = write_fixture(&c, "wih-e2e-leftover");
    char *rep = wih_asprintf("json=%s/static.json", g_base), *arts = wih_path_join(g_base, "artifacts");
    char *out = NULL, *err = NULL;
    int rc = wih_test_cli(&out, &err, NULL, "run", "--state-dir", g_dir, "--report", rep, "--artifacts", arts, f, NULL);
    ck_assert_msg(rc == 1, "exit %d\n%s\n%s", rc, out, err);
    ck_assert_msg(strstr(out, "identity: expected team-a"), "no identity mismatch:\n%s", out);
    ck_assert_msg(strstr(out, "assumed-role/leftover-user/left-in-template"), "the winning principal is not named:\n%s",
                  out);
    ck_assert_msg(strstr(out, "credential used: static-env"), "the winning credential is not named:\n%s", out);
    ck_assert_msg(!strstr(out, "result: expected allowed"), "access was not allowed:\n%s", out);
    ck_assert_msg(strstr(out, "diagnosis static-credential-wins"), "the diagnosis does not name it:\n%s", out);
    /* no secret in anything the run wrote */
    char *report = wih_asprintf("%s/static.json", g_base);
    char *rj = wih_read_file(report, 4 << 20, NULL, NULL);
    char *cmd = wih_asprintf("grep -rl -e '%s' -e '%s' %s || true", c.secret_key, c.session_token, arts);
    char *hits = NULL;
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    wih_run_capture(argv, NULL, NULL, 30000, &hits, NULL, &e);
    const char *texts[] = {out, err, rj ? rj : "", hits ? hits : ""};
    for (int i = 0; i < 4; i++) {
        ck_assert_msg(!strstr(texts[i], c.secret_key) && !strstr(texts[i], c.session_token),
                      "a secret leaked into output %d", i);
    }
    ck_assert_msg(!hits || !*hits, "secrets in artifacts: %s", hits);
    OPENSSL_cleanse(cmd, strlen(cmd));
    free(cmd);
    free(hits);
    free(rj);
    free(report);
    s3_creds_clear(&c);
    cJSON_Delete(st);
    free(out);
    free(err);
    free(rep);
    free(arts);
    free(f);
}
END_TEST

int main(void)
{
    wih_test_chain ch;
    wih_test_chain_up(&ch, "wih-e2e-");
    g_base = ch.base;
    g_dir = ch.dir;
    int rc;
    Suite *s = suite_create("e2e");
    TCase *tc = tcase_create("e2e");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, bundled_suite_passes);
    tcase_add_test(tc, static_key_wins_and_is_named);
    suite_add_tcase(s, tc);
    rc = wih_test_run(s);
    wih_test_chain_down(&ch);
    return rc;
}
