/* The report files: JUnit XML (libxml2's text writer), JSON, and the
 * artifacts of a failed case. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "wiharness/report.h"
#include "wiharness/jsonpath.h"

#define X(s) ((const xmlChar *)(s))

/* Counts of one scenario's cases: tests failures errors skipped time. */
static void suite_counts(const cJSON *cases, const char *scn, int n[4], double *t)
{
    const cJSON *c;
    *t = 0;
    memset(n, 0, 4 * sizeof *n);
    cJSON_ArrayForEach(c, cases)
    {
        if (strcmp(wih_json_member_str_or(c, "scenario", ""), scn)) continue;
        const char *st = wih_json_member_str_or(c, "status", "");
        n[0]++;
        n[1] += !strcmp(st, "failed");
        n[2] += !strcmp(st, "error");
        n[3] += !strcmp(st, "skipped");
        *t += wih_json_member_num(c, "duration_s", 0);
    }
}

static int attr_int(xmlTextWriterPtr w, const char *name, int v)
{
    return xmlTextWriterWriteFormatAttribute(w, X(name), "%d", v);
}

static int write_case(xmlTextWriterPtr w, const cJSON *c)
{
    int rc = xmlTextWriterStartElement(w, X("testcase")) < 0;
    rc |=
        xmlTextWriterWriteAttribute(w, X("name"), X(wih_json_member_str_or(c, "profile", ""))) < 0;
    rc |= xmlTextWriterWriteAttribute(w, X("classname"),
                                      X(wih_json_member_str_or(c, "scenario", ""))) < 0;
    rc |= xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f",
                                            wih_json_member_num(c, "duration_s", 0)) < 0;
    if (*wih_json_member_str_or(c, "file", ""))
        rc |=
            xmlTextWriterWriteAttribute(w, X("file"), X(wih_json_member_str_or(c, "file", ""))) < 0;
    const char *st = wih_json_member_str_or(c, "status", "");
    const char *el = !strcmp(st, "failed") ? "failure" : !strcmp(st, "error") ? "error"
                     : !strcmp(st, "skipped")                                ? "skipped"
                                                                             : NULL;
    if (el) {
        char *text = report_failure_text(c);
        char *first = wih_strdup(text);
        char *nl = strchr(first, '\n');
        if (nl) *nl = 0;
        rc |= xmlTextWriterStartElement(w, X(el)) < 0;
        rc |= xmlTextWriterWriteAttribute(w, X("message"), X(first)) < 0;
        if (strcmp(el, "skipped")) rc |= xmlTextWriterWriteAttribute(w, X("type"), X(st)) < 0;
        rc |= xmlTextWriterWriteString(w, X(text)) < 0;
        rc |= xmlTextWriterEndElement(w) < 0;
        free(text);
        free(first);
    }
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(c, "changes"), *x;
    if (cJSON_GetArraySize(ch)) {
        wih_buf b;
        wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
        wih_buf_adds(&b, "what the runner changed in the pod so it can run here:\n");
        cJSON_ArrayForEach(x, ch) wih_buf_addf(&b, "  %s\n", wih_json_member_str_or(x, "what", ""));
        rc |= xmlTextWriterWriteElement(w, X("system-out"), X(b.data)) < 0;
        wih_buf_free(&b);
    }
    rc |= xmlTextWriterEndElement(w) < 0;
    return rc ? -1 : 0;
}

static int write_suite(xmlTextWriterPtr w, const cJSON *cases, const char *scn)
{
    int n[4];
    double t;
    suite_counts(cases, scn, n, &t);
    int rc = xmlTextWriterStartElement(w, X("testsuite")) < 0;
    rc |= xmlTextWriterWriteAttribute(w, X("name"), X(scn)) < 0;
    rc |= attr_int(w, "tests", n[0]) < 0;
    rc |= attr_int(w, "failures", n[1]) < 0;
    rc |= attr_int(w, "errors", n[2]) < 0;
    rc |= attr_int(w, "skipped", n[3]) < 0;
    rc |= xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f", t) < 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) if (!strcmp(wih_json_member_str_or(c, "scenario", ""), scn)) rc |=
        write_case(w, c) < 0;
    rc |= xmlTextWriterEndElement(w) < 0;
    return rc ? -1 : 0;
}

char *report_junit(const cJSON *run, wih_err **err)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(run, "cases"), *s = cJSON_GetObjectItemCaseSensitive(run, "summary");
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        *err = wih_err_new(WIH_EXIT_INFRA, "junit: libxml2 could not make a writer");
        return NULL;
    }
    xmlTextWriterSetIndent(w, 1);
    int rc = xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
    rc |= xmlTextWriterStartElement(w, X("testsuites")) < 0;
    rc |= xmlTextWriterWriteAttribute(w, X("name"), X("wiharness")) < 0;
    rc |= attr_int(w, "tests", cJSON_GetArraySize(cases)) < 0;
    rc |= attr_int(w, "failures", (int)wih_json_member_num(s, "failed", 0)) < 0;
    rc |= attr_int(w, "errors", (int)wih_json_member_num(s, "errors", 0)) < 0;
    rc |= attr_int(w, "skipped", (int)wih_json_member_num(s, "skipped", 0)) < 0;
    rc |= xmlTextWriterWriteFormatAttribute(w, X("time"), "%.3f",
                                            wih_json_member_num(s, "duration_s", 0)) < 0;
    /* one testsuite per scenario, in first-seen order */
    cJSON *seen = cJSON_CreateObject();
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *scn = wih_json_member_str_or(c, "scenario", "");
        if (cJSON_GetObjectItemCaseSensitive(seen, scn)) continue;
        cJSON_AddTrueToObject(seen, scn);
        rc |= write_suite(w, cases, scn) < 0;
    }
    cJSON_Delete(seen);
    rc |= xmlTextWriterEndDocument(w) < 0;
    xmlFreeTextWriter(w);
    char *out = NULL;
    if (rc)
        *err = wih_err_new(WIH_EXIT_INFRA, "junit: libxml2 failed writing the report");
    else
        out = wih_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    return out;
}

char *report_json(const cJSON *run)
{
    char *s = cJSON_Print(run);
    char *out = wih_asprintf("%s\n", s ? s : "{}");
    free(s);
    return out;
}

int report_parse_spec(const char *spec, report_kind *kind, const char **path, wih_err **err)
{
    const char *eq = strchr(spec, '=');
    size_t n = eq ? (size_t)(eq - spec) : 0;
    if (eq && eq[1] && n == 5 && !strncmp(spec, "junit", 5))
        *kind = REPORT_JUNIT;
    else if (eq && eq[1] && n == 4 && !strncmp(spec, "json", 4))
        *kind = REPORT_JSON;
    else if (eq && eq[1] && n == 4 && !strncmp(spec, "html", 4))
        *kind = REPORT_HTML; /* html.c */
    else {
        *err = wih_err_new(WIH_EXIT_INPUT, "--report '%s': expected junit=FILE, json=FILE or html=FILE", spec);
        return -1;
    }
    *path = eq + 1;
    return 0;
}

int report_write_file(const cJSON *run, report_kind kind, const char *path, wih_err **err)
{
    char *text = kind == REPORT_JUNIT ? report_junit(run, err) : kind == REPORT_HTML ? report_html(run) : report_json(run);
    if (!text) return -1;
    int rc = wih_write_file(path, text, strlen(text), 0644, err);
    free(text);
    if (rc)
        *err = wih_err_wrap(*err, "writing the %s report",
                            kind == REPORT_JUNIT ? "junit" : kind == REPORT_HTML ? "html" : "json");
    return rc;
}

/* A file name safe for a directory: [A-Za-z0-9._-], the rest '_'. */
static char *safe_name(const char *s)
{
    char *o = wih_strdup(*s ? s : "_");
    for (char *p = o; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            *p = '_';
    if (o[0] == '.') o[0] = '_';
    return o;
}

static int write_artifact(const char *dir, const char *name, const cJSON *v, wih_err **err)
{
    char *fn = safe_name(name), *path = wih_path_join(dir, fn), *text;
    if (cJSON_IsString(v)) {
        text = report_redact_text(v->valuestring);
    } else {
        cJSON *copy = cJSON_Duplicate(v, true);
        report_redact(copy);
        char *s = cJSON_Print(copy);
        text = wih_asprintf("%s\n", s ? s : "null");
        free(s);
        cJSON_Delete(copy);
    }
    int rc = wih_write_file(path, text, strlen(text), 0644, err);
    free(text);
    free(fn);
    free(path);
    return rc;
}

int report_artifacts_write(const char *dir, cJSON *kase, const cJSON *files, wih_err **err)
{
    char *scn = safe_name(wih_json_member_str_or(kase, "scenario", "")),
         *prof = safe_name(wih_json_member_str_or(kase, "profile", ""));
    char *d1 = wih_path_join(dir, scn), *d = wih_path_join(d1, prof);
    free(scn);
    free(prof);
    free(d1);
    int rc = 0;
    if (wih_mkdir_p(d, 0755) != 0) {
        *err = wih_err_new(WIH_EXIT_INFRA, "artifacts: creating %s: %s", d, strerror(errno));
        rc = -1;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        if (rc) break;
        rc = write_artifact(d, f->string, f, err);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(kase, "artifacts");
    cJSON_AddStringToObject(kase, "artifacts", d);
    if (!rc) rc = write_artifact(d, "case.json", kase, err);
    free(d);
    return rc;
}
