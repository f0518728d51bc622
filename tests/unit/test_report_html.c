/* The HTML report from data (fixtures/report-html/, see its README.md): the
 * page is parsed back with libxml2's HTML parser and its structure checked —
 * the matrix, one section per failing case with exactly one link marked
 * broken (the expected one), the findings beside it, the facts in <details>,
 * no script or external asset, user input escaped, no secret. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "testutil.h"
#include "wiharness/report.h"
#include "wiharness/yamljson.h"

static cJSON *load_json(const char *path)
{
    wih_err *e = NULL;
    char *t = wih_read_file(path, 1 << 20, NULL, &e);
    ck_assert_msg(t, "%s", e ? wih_err_str(e) : path);
    cJSON *j = wih_json_parse(path, t, &e);
    ck_assert_msg(j, "%s", e ? wih_err_str(e) : path);
    free(t);
    return j;
}

static int xcount(xmlXPathContextPtr x, const char *expr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, x);
    ck_assert_msg(o, "bad xpath %s", expr);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

static char *xattr(xmlXPathContextPtr x, const char *expr, const char *attr)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, x);
    char *v = NULL;
    if (o && o->nodesetval && o->nodesetval->nodeNr == 1) {
        xmlChar *a = xmlGetProp(o->nodesetval->nodeTab[0], (const xmlChar *)attr);
        v = a ? wih_strdup((const char *)a) : NULL;
        xmlFree(a);
    }
    xmlXPathFreeObject(o);
    return v;
}

static void check_sections(xmlXPathContextPtr x, const cJSON *exp, const char *name)
{
    const cJSON *s;
    ck_assert_int_eq(xcount(x, "//section[contains(@class,'case')]"), cJSON_GetArraySize(cJSON_GetObjectItem(exp, "sections")));
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(exp, "sections"))
    {
        char *q = wih_asprintf("//section[@id='%s']//li[contains(concat(' ',@class,' '),' broken ')]", s->string);
        ck_assert_msg(xcount(x, q) == 1, "%s: %s has %d broken links, want 1", name, s->string, xcount(x, q));
        char *link = xattr(x, q, "data-link");
        ck_assert_msg(link && !strcmp(link, s->valuestring), "%s: %s broken link %s, want %s", name, s->string,
                      link ? link : "(none)", s->valuestring);
        free(q);
        free(link);
        q = wih_asprintf("//section[@id='%s']//li[contains(@class,'link')]", s->string);
        ck_assert_int_eq(xcount(x, q), REPORT_NLINKS);
        free(q);
        q = wih_asprintf("//section[@id='%s']/details/summary[text()='facts']", s->string);
        ck_assert_msg(xcount(x, q) == 1, "%s: %s has no facts <details>", name, s->string);
        free(q);
        q = wih_asprintf("//td/a[@href='#%s']", s->string);
        ck_assert_msg(xcount(x, q) == 1, "%s: the matrix does not link to %s", name, s->string);
        free(q);
    }
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(exp, "findings"))
    {
        const cJSON *id;
        cJSON_ArrayForEach(id, s)
        {
            char *q = wih_asprintf("//section[@id='%s']//div[@class='finding']/code[@class='id' and text()='%s']", s->string,
                                   id->valuestring);
            ck_assert_msg(xcount(x, q) == 1, "%s: %s does not show finding %s", name, s->string, id->valuestring);
            free(q);
        }
    }
}

static void check_case(const char *name)
{
    char *rel = wih_asprintf("report-html/%s/run.json", name), *p = wih_fixture(rel);
    cJSON *run = load_json(p);
    free(rel);
    free(p);
    rel = wih_asprintf("report-html/%s/expect.json", name);
    p = wih_fixture(rel);
    cJSON *exp = load_json(p);
    free(rel);
    free(p);
    char *html = report_html(run);
    htmlDocPtr doc = htmlReadMemory(html, (int)strlen(html), "report.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    ck_assert(doc);
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    /* self-contained, inert */
    ck_assert_int_eq(xcount(x, "//script | //link | //iframe | //img | //object | //embed"), 0);
    ck_assert_int_eq(xcount(x, "//*[@src] | //*[@href and not(starts-with(@href,'#'))] | //*[starts-with(name(@*),'on')]"), 0);
    ck_assert_int_eq(xcount(x, "//style"), 1);
    const cJSON *m = cJSON_GetObjectItem(exp, "matrix");
    ck_assert_int_eq(xcount(x, "//table[@class='matrix']/tr[td]"), cJSON_GetObjectItem(m, "rows")->valueint);
    ck_assert_int_eq(xcount(x, "//table[@class='matrix']/tr[1]/th") - 1, cJSON_GetObjectItem(m, "cols")->valueint);
    check_sections(x, exp, name);
    xmlChar *text = xmlNodeGetContent(xmlDocGetRootElement(doc));
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(exp, "text"))
        ck_assert_msg(strstr((const char *)text, s->valuestring), "%s: page text lacks %s", name, s->valuestring);
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(exp, "absent"))
        ck_assert_msg(!strstr(html, s->valuestring), "%s: page contains %s", name, s->valuestring);
    xmlFree(text);
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);
    free(html);
    cJSON_Delete(run);
    cJSON_Delete(exp);
}

START_TEST(fixtures)
{
    char *dir = wih_fixture("report-html");
    DIR *d = opendir(dir);
    ck_assert_msg(d, "%s", dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && strcmp(de->d_name, "README.md")) {
            check_case(de->d_name);
            n++;
        }
    closedir(d);
    free(dir);
    ck_assert_int_gt(n, 0);
}
END_TEST

/* the same findings reach the console and JUnit text */
START_TEST(diagnosis_in_failure_text)
{
    char *p = wih_fixture("report-html/mixed/run.json");
    cJSON *run = load_json(p);
    free(p);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "cases"), 1);
    char *t = report_failure_text(c);
    ck_assert_msg(strstr(t, "diagnosis azure-use-label-missing: "), "%s", t);
    ck_assert_msg(strstr(t, " Fix: add to pod template"), "%s", t);
    free(t);
    ck_assert_int_eq(report_broken_link(cJSON_GetArrayItem(cJSON_GetObjectItem(run, "cases"), 0)), -1);
    ck_assert_str_eq(report_link_name(report_broken_link(c)), "template");
    cJSON_Delete(run);
}
END_TEST

START_TEST(spec)
{
    report_kind k;
    const char *path;
    wih_err *e = NULL;
    ck_assert_int_eq(report_parse_spec("html=out.html", &k, &path, &e), 0);
    ck_assert_int_eq(k, REPORT_HTML);
    ck_assert_str_eq(path, "out.html");
    ck_assert_int_eq(report_parse_spec("htm=x", &k, &path, &e), -1);
    ck_assert_msg(strstr(wih_err_str(e), "html=FILE"), "%s", wih_err_str(e));
    wih_err_free(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_html");
    TCase *t = tcase_create("html");
    tcase_add_test(t, fixtures);
    tcase_add_test(t, diagnosis_in_failure_text);
    tcase_add_test(t, spec);
    suite_add_tcase(s, t);
    return wih_test_run(s);
}
