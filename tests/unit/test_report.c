/* Reports from data (fixtures/report/, see its README.md): the console text,
 * the summary and exit code, the JUnit XML read back with libxml2, the JSON
 * document, redaction, artifacts. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "testutil.h"
#include "wiharness/report.h"
#include "wiharness/yamljson.h"

static char *slurp(const char *path)
{
    wih_err *e = NULL;
    char *s = wih_read_file(path, 1 << 20, NULL, &e);
    ck_assert_msg(s, "%s", e ? wih_err_str(e) : path);
    return s;
}

static cJSON *load_json(const char *path)
{
    char *t = slurp(path);
    wih_err *e = NULL;
    cJSON *j = wih_json_parse(path, t, &e);
    ck_assert_msg(j, "%s", e ? wih_err_str(e) : path);
    free(t);
    return j;
}

/* the run of a fixture case, rebuilt through the API (cases added one by one) */
static cJSON *load_run(const char *name, int *rc)
{
    char *rel = wih_asprintf("report/%s/run.json", name), *p = wih_fixture(rel);
    cJSON *in = load_json(p);
    cJSON *run = report_run_new();
    cJSON *c;
    cJSON *cases = cJSON_GetObjectItem(in, "cases");
    while ((c = cJSON_DetachItemFromArray(cases, 0))) report_add_case(run, c);
    *rc = report_summarize(run, cJSON_GetObjectItem(in, "duration_s")->valuedouble);
    cJSON_Delete(in);
    free(rel);
    free(p);
    return run;
}

static const char *const k_cases[] = {"mixed", "all-pass", NULL};

START_TEST(console_and_summary)
{
    for (const char *const *n = k_cases; *n; n++) {
        int rc;
        cJSON *run = load_run(*n, &rc);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItem(run, "cases")) report_console_case(f, c, false);
        report_console_summary(f, run);
        report_console_progress(f, false, 1, 2, "not on a pipe");
        fclose(f);
        char *rel = wih_asprintf("report/%s/expect.console", *n), *p = wih_fixture(rel);
        char *want = slurp(p);
        ck_assert_msg(!strcmp(buf, want), "%s console:\n--- got\n%s--- want\n%s", *n, buf, want);
        free(want);
        free(p);
        free(rel);
        rel = wih_asprintf("report/%s/expect-summary.json", *n);
        p = wih_fixture(rel);
        cJSON *es = load_json(p);
        char *d = wih_json_diff(cJSON_GetObjectItem(es, "summary"), cJSON_GetObjectItem(run, "summary"));
        ck_assert_msg(!d, "%s summary: %s", *n, d);
        ck_assert_int_eq(rc, cJSON_GetObjectItem(es, "exit_code")->valueint);
        cJSON_Delete(es);
        free(p);
        free(rel);
        free(buf);
        cJSON_Delete(run);
    }
}
END_TEST

static xmlXPathObjectPtr xq(xmlXPathContextPtr x, const char *q)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)q, x);
    ck_assert_msg(o, "xpath %s", q);
    return o;
}

static int xcount(xmlXPathContextPtr x, const char *q)
{
    xmlXPathObjectPtr o = xq(x, q);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

static char *xtext(xmlXPathContextPtr x, const char *q)
{
    xmlXPathObjectPtr o = xq(x, q);
    ck_assert_msg(o->nodesetval && o->nodesetval->nodeNr == 1, "xpath %s: not exactly one node", q);
    xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
    char *s = wih_strdup((const char *)t);
    xmlFree(t);
    xmlXPathFreeObject(o);
    return s;
}

/* Every failed case's <failure> holds each mismatch path and failed access. */
static void check_failure_text(xmlXPathContextPtr x, const cJSON *c)
{
    const char *scn = cJSON_GetObjectItem(c, "scenario")->valuestring;
    const char *prof = cJSON_GetObjectItem(c, "profile")->valuestring;
    const char *st = cJSON_GetObjectItem(c, "status")->valuestring;
    char *q = wih_asprintf("/testsuites/testsuite[@name='%s']/testcase[@name='%s']/failure", scn, prof);
    ck_assert_int_eq(xcount(x, q), !strcmp(st, "failed"));
    if (strcmp(st, "failed")) {
        free(q);
        return;
    }
    char *text = xtext(x, q);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(c, "mismatches"))
    {
        const char *path = cJSON_GetObjectItem(m, "path")->valuestring;
        ck_assert_msg(strstr(text, path), "<failure> of %s/%s lacks mismatch %s:\n%s", scn, prof, path, text);
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(c, "access"))
    {
        if (!cJSON_IsFalse(cJSON_GetObjectItem(m, "ok"))) continue;
        const char *msg = cJSON_GetObjectItem(m, "message")->valuestring;
        ck_assert_msg(strstr(text, msg), "<failure> of %s/%s lacks access check %s:\n%s", scn, prof, msg, text);
    }
    free(text);
    free(q);
}

START_TEST(junit_reads_back)
{
    for (const char *const *n = k_cases; *n; n++) {
        int rc;
        cJSON *run = load_run(*n, &rc);
        wih_err *e = NULL;
        char *xml = report_junit(run, &e);
        ck_assert_msg(xml, "%s", e ? wih_err_str(e) : "");
        xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "junit.xml", NULL, XML_PARSE_NONET);
        ck_assert_msg(doc, "%s: the JUnit file does not parse:\n%s", *n, xml);
        xmlXPathContextPtr x = xmlXPathNewContext(doc);
        const cJSON *cases = cJSON_GetObjectItem(run, "cases"), *c;
        ck_assert_int_eq(xcount(x, "//testcase"), cJSON_GetArraySize(cases));
        cJSON *scns = cJSON_CreateObject();
        cJSON_ArrayForEach(c, cases)
        {
            const char *scn = cJSON_GetObjectItem(c, "scenario")->valuestring;
            if (!cJSON_GetObjectItem(scns, scn)) cJSON_AddTrueToObject(scns, scn);
            char *q = wih_asprintf("/testsuites/testsuite[@name='%s']/testcase[@name='%s']", scn,
                                   cJSON_GetObjectItem(c, "profile")->valuestring);
            ck_assert_int_eq(xcount(x, q), 1);
            free(q);
            check_failure_text(x, c);
        }
        ck_assert_int_eq(xcount(x, "/testsuites/testsuite"), cJSON_GetArraySize(scns));
        cJSON_Delete(scns);
        char *q = wih_asprintf("/testsuites[@tests='%d']", cJSON_GetArraySize(cases));
        ck_assert_int_eq(xcount(x, q), 1);
        free(q);
        xmlXPathFreeContext(x);
        xmlFreeDoc(doc);
        free(xml);
        cJSON_Delete(run);
    }
}
END_TEST

START_TEST(json_document)
{
    int rc;
    cJSON *run = load_run("mixed", &rc);
    char *text = report_json(run);
    wih_err *e = NULL;
    cJSON *back = wih_json_parse("report.json", text, &e);
    ck_assert_msg(back, "%s", e ? wih_err_str(e) : "");
    char *d = wih_json_diff(run, back);
    ck_assert_msg(!d, "%s", d);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(back, "cases"), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "status")->valuestring, "failed");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "mismatches")), 2);
    ck_assert(cJSON_GetArraySize(cJSON_GetObjectItem(c, "changes")) == 2);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(run);
}
END_TEST

START_TEST(spec_parsing)
{
    report_kind k;
    const char *p;
    wih_err *e = NULL;
    ck_assert_int_eq(report_parse_spec("junit=out.xml", &k, &p, &e), 0);
    ck_assert(k == REPORT_JUNIT && !strcmp(p, "out.xml"));
    ck_assert_int_eq(report_parse_spec("json=r.json", &k, &p, &e), 0);
    ck_assert(k == REPORT_JSON && !strcmp(p, "r.json"));
    static const char *const bad[] = {"junit", "junit=", "xml=a", "=a", "jsonx=a", NULL};
    for (const char *const *b = bad; *b; b++) {
        ck_assert_int_eq(report_parse_spec(*b, &k, &p, &e), -1);
        ck_assert_int_eq(e->kind, WIH_EXIT_INPUT);
        ck_assert_msg(strstr(wih_err_str(e), *b), "%s", wih_err_str(e));
        wih_err_free(e);
        e = NULL;
    }
}
END_TEST

static void assert_clean(const char *text, const cJSON *in, const char *what, bool kept)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(in, "secrets"))
        ck_assert_msg(!strstr(text, s->valuestring), "%s still holds secret %s:\n%s", what, s->valuestring, text);
    if (kept)
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(in, "kept"))
        ck_assert_msg(strstr(text, s->valuestring), "%s lost %s:\n%s", what, s->valuestring, text);
}

/* A JWT-shaped string (header {"alg":"RS256","kid":"abc"}, payload
 * {"sub":"system:serviceaccount:a:b"}, signature "signature-bytes") built at run
 * time: tokens are never committed, so the fixture holds the placeholder @JWT@. */
static char *jwt_shaped(void)
{
    const char *part[3] = {"{\"alg\":\"RS256\",\"kid\":\"abc\"}", "{\"sub\":\"system:serviceaccount:a:b\"}",
                           "signature-bytes"};
    wih_buf b;
    wih_buf_init(&b, 0);
    for (int i = 0; i < 3; i++) {
        char *x = wih_b64_encode(part[i], strlen(part[i]), WIH_B64_URL | WIH_B64_NOPAD);
        wih_buf_addf(&b, "%s%s", i ? "." : "", x);
        free(x);
    }
    return wih_buf_take(&b);
}

/* fixtures/report/redact/in.json with @JWT@ replaced by jwt_shaped() */
static cJSON *load_redact_input(void)
{
    char *p = wih_fixture("report/redact/in.json");
    char *t = slurp(p), *jwt = jwt_shaped(), *at = strstr(t, "@JWT@");
    ck_assert_msg(at, "%s: no @JWT@ placeholder", p);
    *at = '\0';
    char *text = wih_asprintf("%s%s%s", t, jwt, at + 5);
    wih_err *e = NULL;
    cJSON *j = wih_json_parse(p, text, &e);
    ck_assert_msg(j, "%s", e ? wih_err_str(e) : p);
    free(text);
    free(jwt);
    free(t);
    free(p);
    return j;
}

START_TEST(redaction_and_artifacts)
{
    cJSON *in = load_redact_input();
    cJSON *tree = cJSON_Duplicate(cJSON_GetObjectItem(in, "tree"), 1);
    ck_assert_int_ge(report_redact(tree), 7);
    char *text = cJSON_Print(tree);
    assert_clean(text, in, "the redacted tree", true);
    free(text);
    ck_assert_int_eq(report_redact(tree), 0); /* fingerprints are not re-fingerprinted */
    cJSON_Delete(tree);
    /* artifacts: the same tree as files, redacted on the way out */
    wih_err *e = NULL;
    char *dir = wih_tmpdir("wih-report-", false, &e);
    ck_assert(dir);
    cJSON *kase = cJSON_Parse("{\"scenario\":\"static keys/x\",\"profile\":\"aws-irsa\",\"status\":\"failed\"}");
    cJSON *files = cJSON_CreateObject();
    const cJSON *t = cJSON_GetObjectItem(in, "tree");
    cJSON_AddItemToObject(files, "pod.json", cJSON_Duplicate(cJSON_GetObjectItem(t, "pod"), 1));
    cJSON_AddItemToObject(files, "verdict.json", cJSON_Duplicate(cJSON_GetObjectItem(t, "verdict"), 1));
    /* a log is free text: JWT-looking words are what can leak there */
    cJSON_AddStringToObject(files, "decisions.jsonl", cJSON_GetArrayItem(cJSON_GetObjectItem(t, "log"), 0)->valuestring);
    ck_assert_msg(report_artifacts_write(dir, kase, files, &e) == 0, "%s", e ? wih_err_str(e) : "");
    char *adir = wih_path_join(dir, "static_keys_x/aws-irsa");
    ck_assert_str_eq(cJSON_GetObjectItem(kase, "artifacts")->valuestring, adir);
    wih_buf all;
    wih_buf_init(&all, WIH_BUF_DEFAULT_MAX);
    static const char *const names[] = {"pod.json", "verdict.json", "decisions.jsonl", "case.json", NULL};
    for (const char *const *n = names; *n; n++) {
        char *fp = wih_path_join(adir, *n);
        char *s = slurp(fp);
        wih_buf_adds(&all, s);
        free(s);
        free(fp);
    }
    assert_clean(all.data, in, "the artifacts", false);
    ck_assert(strstr(all.data, "arn:aws:iam::000000000000:role/team-a"));
    wih_buf_free(&all);
    free(adir);
    cJSON_Delete(files);
    cJSON_Delete(kase);
    cJSON_Delete(in);
    wih_rm_rf(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("report");
    tcase_add_test(tc, console_and_summary);
    tcase_add_test(tc, junit_reads_back);
    tcase_add_test(tc, json_document);
    tcase_add_test(tc, spec_parsing);
    tcase_add_test(tc, redaction_and_artifacts);
    suite_add_tcase(s, tc);
    return wih_test_run(s);
}
