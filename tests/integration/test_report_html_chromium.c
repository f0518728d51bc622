/* The HTML report in a real browser: the page of fixtures/report-html/mixed is
 * opened by headless Chromium (Debian's `chromium`, installed by ci/setup).
 * The DOM Chromium built must mark exactly the expected link of each failing
 * case (class "broken", data-link), and the screenshot must be a real
 * rendering of the page: a PNG of the window's size, clearly larger than the
 * screenshot of an empty page (a page that failed to render, or rendered
 * nothing, compresses to almost nothing). Skips (77) without chromium. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>

#include "testutil.h"
#include "wiharness/report.h"
#include "wiharness/yamljson.h"

static char *g_tmp;

static const char *chromium(void)
{
    static const char *const c[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser", NULL};
    for (const char *const *p = c; *p; p++)
        if (access(*p, X_OK) == 0) return *p;
    return NULL;
}

/* Run chromium with args on url; its stdout+stderr in <tmp>/<name>.log. */
static char *run_chromium(const char *name, const char *arg, const char *url)
{
    char *profile = wih_asprintf("--user-data-dir=%s/profile-%s", g_tmp, name);
    char *argv[] = {(char *)chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--hide-scrollbars", "--window-size=1200,1400", profile, (char *)arg, (char *)url, NULL};
    wih_proc_opts o = {.name = name, .argv = argv, .log_dir = g_tmp, .die_with_parent = true};
    wih_err *e = NULL;
    wih_proc *p = wih_proc_spawn(&o, &e);
    ck_assert_msg(p, "%s", e ? wih_err_str(e) : "spawn");
    int64_t end = wih_now_ms() + 90000;
    while (wih_proc_running(p) && wih_now_ms() < end) wih_sleep_ms(100);
    bool timed_out = wih_proc_running(p);
    char *log = wih_read_file(wih_proc_log_path(p), 64 << 20, NULL, NULL);
    wih_proc_stop(p, 2000);
    wih_proc_free(p);
    free(profile);
    ck_assert_msg(!timed_out, "chromium %s did not finish in 90 s", name);
    return log ? log : wih_strdup("");
}

static long png_size(const char *path, unsigned *w, unsigned *h)
{
    size_t n = 0;
    char *d = wih_read_file(path, 64 << 20, &n, NULL);
    ck_assert_msg(d, "no screenshot at %s", path);
    ck_assert_msg(n > 24 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8) && !memcmp(d + 12, "IHDR", 4), "%s is not a PNG", path);
    const unsigned char *u = (const unsigned char *)d;
    *w = (unsigned)u[16] << 24 | (unsigned)u[17] << 16 | (unsigned)u[18] << 8 | u[19];
    *h = (unsigned)u[20] << 24 | (unsigned)u[21] << 16 | (unsigned)u[22] << 8 | u[23];
    free(d);
    return (long)n;
}

START_TEST(chromium_shows_the_broken_link)
{
    if (!chromium()) wih_test_skip("chromium is not installed (apt-get install chromium; ci/setup does)");
    wih_err *e = NULL;
    g_tmp = wih_tmpdir("wih-html-", false, &e);
    ck_assert_msg(g_tmp, "%s", e ? wih_err_str(e) : "tmpdir");
    char *p = wih_fixture("report-html/mixed/run.json");
    char *text = wih_read_file(p, 1 << 20, NULL, &e);
    cJSON *run = text ? wih_json_parse(p, text, &e) : NULL;
    ck_assert_msg(run, "%s", e ? wih_err_str(e) : p);
    char *html = report_html(run);
    char *page = wih_path_join(g_tmp, "report.html"), *blank = wih_path_join(g_tmp, "blank.html");
    ck_assert_int_eq(wih_write_file(page, html, strlen(html), 0644, &e), 0);
    const char *empty = "<!DOCTYPE html><html><body></body></html>";
    ck_assert_int_eq(wih_write_file(blank, empty, strlen(empty), 0644, &e), 0);
    char *url = wih_asprintf("file://%s", page), *burl = wih_asprintf("file://%s", blank);

    /* the DOM chromium built from the page */
    char *dom = run_chromium("dom", "--dump-dom", url);
    htmlDocPtr doc = htmlReadMemory(dom, (int)strlen(dom), "dom.html", "UTF-8",
                                    HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    ck_assert_msg(doc, "chromium's DOM does not parse");
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    static const char *const want[][2] = {{"case-1", "template"}, {"case-2", "bucket"}};
    for (size_t i = 0; i < 2; i++) {
        char *q = wih_asprintf("//section[@id='%s']//li[contains(concat(' ',@class,' '),' broken ')]/@data-link", want[i][0]);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)q, x);
        ck_assert_msg(o && o->nodesetval && o->nodesetval->nodeNr == 1, "chromium's DOM: %s has no single broken link:\n%.2000s",
                      want[i][0], dom);
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        ck_assert_str_eq((const char *)v, want[i][1]);
        xmlFree(v);
        xmlXPathFreeObject(o);
        free(q);
    }
    /* the user input stayed text: no element came out of it */
    xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)"//script | //img", x);
    ck_assert_int_eq(o->nodesetval ? o->nodesetval->nodeNr : 0, 0);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(x);
    xmlFreeDoc(doc);

    /* the screenshots */
    char *shot = wih_path_join(g_tmp, "report.png"), *bshot = wih_path_join(g_tmp, "blank.png");
    char *a1 = wih_asprintf("--screenshot=%s", shot), *a2 = wih_asprintf("--screenshot=%s", bshot);
    free(run_chromium("shot", a1, url));
    free(run_chromium("blank", a2, burl));
    unsigned w, h, bw, bh;
    long n = png_size(shot, &w, &h), bn = png_size(bshot, &bw, &bh);
    ck_assert_msg(w == 1200 && h == 1400, "screenshot is %ux%u, want 1200x1400", w, h);
    ck_assert_msg(n > 4 * bn && n > 20000, "screenshot %ld bytes vs an empty page's %ld: nothing was drawn", n, bn);
    const char *keep = getenv("WIH_KEEP_SCREENSHOT");
    if (keep && *keep) {
        char *png = wih_read_file(shot, 64 << 20, (size_t *)&n, NULL);
        wih_write_file(keep, png, (size_t)n, 0644, NULL);
        free(png);
    }
    printf("screenshot: %ld bytes (empty page: %ld)\n", n, bn);
    free(a1);
    free(a2);
    free(shot);
    free(bshot);
    free(dom);
    free(url);
    free(burl);
    free(page);
    free(blank);
    free(html);
    free(text);
    free(p);
    cJSON_Delete(run);
    wih_rm_rf(g_tmp);
    free(g_tmp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report_html_chromium");
    TCase *t = tcase_create("chromium");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, chromium_shows_the_broken_link);
    suite_add_tcase(s, t);
    return wih_test_run(s);
}
