/* The run document, its summary, redaction and the console lines. Pure. */
#include <ctype.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/report.h"
#include "wiharness/jsonpath.h"

cJSON *report_run_new(void)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "report", 1);
    cJSON_AddArrayToObject(r, "cases");
    return r;
}

cJSON *report_add_case(cJSON *run, cJSON *kase)
{
    report_redact(kase);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(run, "cases"), kase);
    return kase;
}

int report_summarize(cJSON *run, double duration_s)
{
    int n[4] = {0}, input = 0; /* passed failed skipped errors; errors that are bad input */
    static const char *const names[] = {"passed", "failed", "skipped", "error"};
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(run, "cases"))
    {
        for (int i = 0; i < 4; i++)
            if (!strcmp(wih_json_member_str_or(c, "status", ""), names[i])) n[i]++;
        input += !strcmp(wih_json_member_str_or(c, "status", ""), "error") &&
                 !strcmp(wih_json_member_str_or(c, "error_kind", ""), "input");
    }
    int rc = n[3] > input ? WIH_EXIT_INFRA : input ? WIH_EXIT_INPUT : n[1] ? WIH_EXIT_FAIL : WIH_EXIT_OK;
    cJSON_DeleteItemFromObjectCaseSensitive(run, "summary");
    cJSON *s = cJSON_AddObjectToObject(run, "summary");
    cJSON_AddNumberToObject(s, "passed", n[0]);
    cJSON_AddNumberToObject(s, "failed", n[1]);
    cJSON_AddNumberToObject(s, "skipped", n[2]);
    cJSON_AddNumberToObject(s, "errors", n[3]);
    cJSON_AddNumberToObject(s, "total", n[0] + n[1] + n[2] + n[3]);
    cJSON_AddNumberToObject(s, "duration_s", (double)(long)(duration_s * 100 + 0.5) / 100);
    cJSON_AddNumberToObject(s, "exit_code", rc);
    return rc;
}

/* ------------------------------------------------------------ redaction */
static bool b64url(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '=';
}

/* Length of a JWT-looking word at s (eyJ….….…), 0 if none. */
static size_t jwt_len(const char *s)
{
    if (strncmp(s, "eyJ", 3)) return 0;
    size_t i = 0;
    int dots = 0;
    for (;; i++) {
        if (s[i] == '.') {
            if (++dots > 2) break;
        } else if (!b64url(s[i])) {
            break;
        }
    }
    return dots >= 2 && i > 20 ? i : 0;
}

char *report_redact_text(const char *text)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, "");
    for (const char *p = text ? text : ""; *p;) {
        size_t n = (p == text || !b64url(p[-1])) ? jwt_len(p) : 0;
        if (n) {
            char *w = wih_asprintf("%.*s", (int)n, p), *fp = wih_fingerprint(w);
            wih_buf_adds(&b, fp);
            free(w);
            free(fp);
            p += n;
        } else {
            wih_buf_add(&b, p++, 1);
        }
    }
    return wih_buf_take(&b);
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

/* Does a member / env name say its value is a secret? */
static bool secret_name(const char *name)
{
    if (!name || ends_with(name, "_FILE") || ends_with(name, "_PATH") || ends_with(name, "_URL") ||
        ends_with(name, "file") || ends_with(name, "path") || ends_with(name, "fingerprint"))
        return false;
    static const char *const subs[] = {"SECRET", "PASSWORD", "SESSION_TOKEN", "ACCESS_KEY_ID", "ACCESSKEYID",
                                       "SESSIONTOKEN", "ACCESS_TOKEN", "ACCESSTOKEN", "CLIENT_ASSERTION",
                                       "PRIVATE_KEY", "ID_TOKEN", NULL};
    char up[128];
    size_t i = 0;
    for (; name[i] && i < sizeof up - 1; i++) up[i] = (char)toupper((unsigned char)name[i]);
    up[i] = 0;
    if (!strcmp(up, "TOKEN") || !strcmp(up, "AUTHORIZATION")) return true;
    for (const char *const *s = subs; *s; s++)
        if (strstr(up, *s)) return true;
    return false;
}

static int replace_with_fp(cJSON *v)
{
    if (!cJSON_IsString(v) || !v->valuestring[0] || !strncmp(v->valuestring, "sha256:", 7)) return 0;
    char *fp = wih_fingerprint(v->valuestring);
    cJSON_SetValuestring(v, fp);
    free(fp);
    return 1;
}

static int redact_node(cJSON *n, bool secret)
{
    int count = 0;
    if (cJSON_IsString(n)) {
        if (secret) return replace_with_fp(n);
        if (strstr(n->valuestring, "eyJ")) {
            char *r = report_redact_text(n->valuestring);
            if (strcmp(r, n->valuestring)) {
                cJSON_SetValuestring(n, r);
                count++;
            }
            free(r);
        }
        return count;
    }
    /* an env entry {name: AWS_SECRET_ACCESS_KEY, value: …} */
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(n, "name");
    bool env_secret = cJSON_IsObject(n) && cJSON_IsString(nm) && secret_name(nm->valuestring);
    cJSON *c;
    cJSON_ArrayForEach(c, n)
    {
        bool s = secret || (n->type == cJSON_Object && secret_name(c->string)) ||
                 (env_secret && c->string && !strcmp(c->string, "value"));
        count += redact_node(c, s);
    }
    return count;
}

int report_redact(cJSON *tree)
{
    return tree ? redact_node(tree, false) : 0;
}

/* ------------------------------------------------------------ console */
static char *compact(const cJSON *v)
{
    if (!v) return wih_strdup("(nothing)");
    if (cJSON_IsString(v)) return wih_asprintf("\"%s\"", v->valuestring);
    char *s = cJSON_PrintUnformatted(v);
    if (s && strlen(s) > 200) strcpy(s + 195, "…");
    return s ? s : wih_strdup("?");
}

/* One line per mismatch: "path: expected X, got Y (message)". */
static void add_mismatch_line(wih_buf *b, const cJSON *m)
{
    const char *msg = wih_json_member_str_or(m, "message", "");
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(m, "expected");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(m, "actual");
    wih_buf_addf(b, "%s: ",
                 *wih_json_member_str_or(m, "path", "") ? wih_json_member_str_or(m, "path", "")
                                                        : "(root)");
    if (ex || ac) {
        char *e = compact(ex), *a = compact(ac);
        wih_buf_addf(b, "expected %s, got %s", e, a);
        free(e);
        free(a);
        if (*msg) wih_buf_addf(b, " (%s)", msg);
    } else {
        wih_buf_adds(b, *msg ? msg : "mismatch");
    }
    wih_buf_adds(b, "\n");
}

char *report_failure_text(const cJSON *kase)
{
    wih_buf b;
    wih_buf_init(&b, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&b, "");
    if (*wih_json_member_str_or(kase, "message", ""))
        wih_buf_addf(&b, "%s\n", wih_json_member_str_or(kase, "message", ""));
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(kase, "mismatches")) add_mismatch_line(&b, m);
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(kase, "access"))
    {
        if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(m, "ok")))
            wih_buf_addf(&b, "access %s %s: %s\n", wih_json_member_str_or(m, "op", ""),
                         wih_json_member_str_or(m, "url", ""),
                         *wih_json_member_str_or(m, "message", "")
                             ? wih_json_member_str_or(m, "message", "")
                             : "not as expected");
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(kase, "findings"))
    {
        wih_buf_addf(&b, "diagnosis %s: %s", wih_json_member_str_or(m, "id", ""),
                     wih_json_member_str_or(m, "cause", ""));
        if (*wih_json_member_str_or(m, "fix", ""))
            wih_buf_addf(&b, " Fix: %s", wih_json_member_str_or(m, "fix", ""));
        if (*wih_json_member_str_or(m, "where", ""))
            wih_buf_addf(&b, " (%s)", wih_json_member_str_or(m, "where", ""));
        wih_buf_adds(&b, "\n");
    }
    return wih_buf_take(&b);
}

static const char *status_word(const char *st)
{
    return !strcmp(st, "passed") ? "PASS" : !strcmp(st, "failed") ? "FAIL" : !strcmp(st, "skipped") ? "SKIP" : "ERROR";
}

/* "changed so it runs here:" and one line per change */
static void print_changes(FILE *out, const cJSON *kase)
{
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(kase, "changes"), *c;
    if (!cJSON_GetArraySize(ch)) return;
    fputs("      changed so it runs here:\n", out);
    cJSON_ArrayForEach(c, ch) fprintf(out, "        %s\n", wih_json_member_str_or(c, "what", ""));
}

static void print_indented(FILE *out, const char *text)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        fprintf(out, "      %.*s\n", (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

void report_console_case(FILE *out, const cJSON *kase, bool verbose)
{
    const char *st = wih_json_member_str_or(kase, "status", "");
    fprintf(out, "%-5s %s [%s]  %.1f s\n", status_word(st),
            wih_json_member_str_or(kase, "scenario", ""),
            wih_json_member_str_or(kase, "profile", ""),
            wih_json_member_num(kase, "duration_s", 0));
    bool bad = strcmp(st, "passed") != 0, failed = !strcmp(st, "failed") || !strcmp(st, "error");
    if (bad) {
        char *t = report_failure_text(kase);
        print_indented(out, t);
        free(t);
    } else if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(kase, "findings"))) {
        /* a misconfiguration scenario: the failure was the expectation */
        const cJSON *f;
        fputs("      diagnosed as expected:", out);
        const char *last = "";
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(kase, "findings"))
        {
            if (strcmp(wih_json_member_str_or(f, "id", ""), last))
                fprintf(out, " %s", wih_json_member_str_or(f, "id", ""));
            last = wih_json_member_str_or(f, "id", "");
        }
        fputs("\n", out);
    }
    if (failed || verbose) print_changes(out, kase);
    if (*wih_json_member_str_or(kase, "artifacts", ""))
        fprintf(out, "      artifacts: %s\n", wih_json_member_str_or(kase, "artifacts", ""));
    if (*wih_json_member_str_or(kase, "inspect", ""))
        fprintf(out, "      kept for inspection: %s\n",
                wih_json_member_str_or(kase, "inspect", ""));
    fflush(out);
}

void report_console_summary(FILE *out, const cJSON *run)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(run, "summary");
    fprintf(out, "%d passed, %d failed, %d skipped", (int)wih_json_member_num(s, "passed", 0),
            (int)wih_json_member_num(s, "failed", 0), (int)wih_json_member_num(s, "skipped", 0));
    if (wih_json_member_num(s, "errors", 0) > 0)
        fprintf(out, ", %d errors", (int)wih_json_member_num(s, "errors", 0));
    fprintf(out, " in %.1f s\n", wih_json_member_num(s, "duration_s", 0));
    fflush(out);
}

void report_console_progress(FILE *out, bool tty, int done, int total, const char *what)
{
    if (!tty) return;
    fprintf(out, "\r\033[K[%d/%d] %s", done, total, what ? what : "");
    if (!what) fputs("\r\033[K", out);
    fflush(out);
}
