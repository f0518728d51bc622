/* --report html=FILE (issue 14 item 5): one self-contained page — the
 * scenario × profile matrix, and for every case with a diagnosis the chain
 * drawn link by link with the broken link marked, the findings beside it and
 * the facts one click away (<details>). No external assets, no script; every
 * string is escaped; the run is redacted again before it is drawn.
 * Pure. docs/reports.md. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/report.h"
#include "wiharness/jsonpath.h"

static const cJSON *jget(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* ------------------------------------------------------------ the chain */
static const char *const k_links[REPORT_NLINKS] = {"sa", "template", "pool", "pod", "webhook", "token", "exchange", "bucket"};
static const char *const k_titles[REPORT_NLINKS] = {"ServiceAccount", "pod template", "pool",          "pod",
                                                    "webhook",        "projected token", "exchange", "bucket"};

const char *report_link_name(int link)
{
    return link >= 0 && link < REPORT_NLINKS ? k_links[link] : "";
}

/* Which link a diagnosis id names (docs/troubleshooting.md). */
static const struct {
    const char *id;
    int link;
} k_id_link[] = {
    {"sa-on-wrong-object", 0},        {"sa-annotation-typo", 0},          {"sa-annotation-missing", 0},
    {"malformed-role-arn", 0},        {"malformed-client-id", 0},         {"malformed-gsa-email", 0},
    {"malformed-wi-provider", 0},     {"pfnet-half-annotated", 0},        {"sa-wrong-namespace", 0},
    {"azure-sa-missing", 0},          {"sa-name-mismatch", 0},            {"aws-sa-race", 0},
    {"template-sa-unset", 1},         {"azure-use-label-missing", 1},     {"static-credential-wins", 1},
    {"env-preset", 1},                {"env-preset-breaks-mount", 1},     {"volume-name-collision", 1},
    {"azure-expiration-out-of-range", 1},
    {"configs-disabled", 2},          {"helm-list-replaced", 2},          {"template-unknown-name", 2},
    {"template-not-in-pool", 2},      {"gcs-ambient-unsupported", 3},
    {"namespace-not-selected", 4},    {"webhook-cabundle-wrong", 4},      {"webhook-absent", 4},
    {"non-root-token-perms", 5},      {"azure-token-cached", 5},
    {"oidc-provider-missing", 6},     {"issuer-mismatch", 6},             {"azure-issuer-trailing-slash", 6},
    {"audience-mismatch", 6},         {"gcp-fleet-audience-wrong", 6},    {"trust-subject-mismatch", 6},
    {"gcp-wi-user-binding-missing", 6}, {"role-unknown", 6},              {"wrong-identity-answered", 6},
    {"bucket-not-granted", 7},        {"cross-team-leak", 7},
};

/* Where the failure was seen, when no rule named a link: the first access
 * that did not hold (its reason), else a pod mismatch (the webhook's env /
 * volume, else the pod), else the pod. */
static int link_from_failure(const cJSON *kase)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, jget(kase, "access"))
    {
        if (!cJSON_IsFalse(jget(a, "ok"))) continue;
        const char *reason = wih_json_member_str_or(jget(a, "actual"), "reason", ""),
                   *res = wih_json_member_str_or(jget(a, "actual"), "result", "");
        if (!strcmp(reason, "bucket-refused") || !strcmp(res, "allowed")) return 7;
        if (!strcmp(reason, "exchange-refused")) return 6;
        if (!strcmp(reason, "no-credentials")) return 4;
        return 3;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, jget(kase, "mismatches"))
    {
        const char *p = wih_json_member_str_or(m, "path", "");
        if (strstr(p, "env[") || strstr(p, "volume")) return 4;
    }
    return 3;
}

int report_broken_link(const cJSON *kase)
{
    const cJSON *f;
    int best = -1;
    cJSON_ArrayForEach(f, jget(kase, "findings"))
    {
        for (size_t i = 0; i < sizeof k_id_link / sizeof *k_id_link; i++)
            if (!strcmp(wih_json_member_str_or(f, "id", ""), k_id_link[i].id) &&
                (best < 0 || k_id_link[i].link < best))
                best = k_id_link[i].link;
    }
    if (best >= 0) return best;
    const char *st = wih_json_member_str_or(kase, "status", "");
    if (!cJSON_GetArraySize(jget(kase, "findings")) && strcmp(st, "failed")) return -1; /* passed, skipped, infrastructure */
    return link_from_failure(kase);
}

/* ------------------------------------------------------------ escaping */
static void esc(wih_buf *b, const char *s)
{
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&': wih_buf_adds(b, "&amp;"); break;
        case '<': wih_buf_adds(b, "&lt;"); break;
        case '>': wih_buf_adds(b, "&gt;"); break;
        case '"': wih_buf_adds(b, "&quot;"); break;
        case '\'': wih_buf_adds(b, "&#39;"); break;
        default: wih_buf_add(b, p, 1);
        }
    }
}

/* A short description of what the facts say about each link (may be ""). */
static char *link_detail(const cJSON *kase, int link)
{
    const cJSON *f = jget(kase, "facts"), *v = jget(kase, "verdict"), *pod = jget(f, "admitted_pod");
    const cJSON *md = jget(jget(f, "service_account"), "metadata");
    switch (link) {
    case 0:
        return wih_asprintf("%s%s%s", wih_json_member_str_or(md, "name", ""),
                            *wih_json_member_str_or(md, "namespace", "") ? " in " : "",
                            wih_json_member_str_or(md, "namespace", ""));
    case 2:
        return wih_strdup(wih_json_member_str_or(f, "pool", ""));
    case 3:
        return wih_asprintf("%s%s%s", wih_json_member_str_or(pod, "name", ""),
                            *wih_json_member_str_or(pod, "serviceAccountName", "") ? " as " : "",
                            wih_json_member_str_or(pod, "serviceAccountName", ""));
    case 4: {
        const cJSON *l = cJSON_GetArrayItem(jget(f, "webhook_log"), 0);
        return l ? wih_asprintf("%s %s", wih_json_member_str_or(l, "decision", ""),
                                wih_json_member_str_or(l, "reason", ""))
                 : wih_strdup("no decision recorded");
    }
    case 5: {
        const cJSON *t = NULL, *x; /* the identity token, not the API server's kube-api-access-* */
        cJSON_ArrayForEach(
            x,
            jget(pod, "token_volumes")) if (!t && strncmp(wih_json_member_str_or(x, "volume", ""),
                                                          "kube-api-access", 15)) t = x;
        if (!t && cJSON_GetArraySize(jget(pod, "token_volumes"))) return wih_strdup("no identity token (only the API server's own)");
        if (t)
            return wih_asprintf("%s aud %s, %gs", wih_json_member_str_or(t, "path", ""),
                                wih_json_member_str_or(t, "audience", ""),
                                cJSON_GetNumberValue(jget(t, "expirationSeconds")));
        const char *path = wih_json_member_str_or(jget(v, "token"), "path", "");
        return wih_strdup(strncmp(path, "sha256:", 7) ? path : "");
    }
    case 6: {
        const cJSON *x = jget(v, "exchange");
        if (!x) return wih_strdup("");
        return wih_asprintf("%s %s", cJSON_IsTrue(jget(x, "ok")) ? "ok" : "refused",
                            *wih_json_member_str_or(x, "identity", "")
                                ? wih_json_member_str_or(x, "identity", "")
                                : wih_json_member_str_or(x, "error", ""));
    }
    case 7: {
        const cJSON *a = cJSON_GetArrayItem(jget(v, "access"), 0);
        return a ? wih_asprintf("%s %s: %s", wih_json_member_str_or(a, "op", ""),
                                wih_json_member_str_or(a, "url", ""),
                                wih_json_member_str_or(a, "result", ""))
                 : wih_strdup("");
    }
    default: return wih_strdup("");
    }
}

static void draw_chain(wih_buf *b, const cJSON *kase, int broken)
{
    wih_buf_adds(b, "<ol class=\"chain\">\n");
    for (int i = 0; i < REPORT_NLINKS; i++) {
        const char *cls = i < broken ? "ok" : i == broken ? "broken" : "unreached";
        char *d = link_detail(kase, i);
        wih_buf_addf(b, "<li class=\"link %s\" data-link=\"%s\"><span class=\"name\">%s</span>", cls, k_links[i],
                     k_titles[i]);
        if (*d) {
            wih_buf_adds(b, "<span class=\"detail\">");
            esc(b, d);
            wih_buf_adds(b, "</span>");
        }
        if (i == broken) wih_buf_adds(b, "<span class=\"mark\">broken here</span>");
        wih_buf_adds(b, "</li>\n");
        free(d);
    }
    wih_buf_adds(b, "</ol>\n");
}

static void draw_findings(wih_buf *b, const cJSON *kase)
{
    wih_buf_adds(b, "<div class=\"diagnosis\">\n");
    const cJSON *f;
    cJSON_ArrayForEach(f, jget(kase, "findings"))
    {
        wih_buf_adds(b, "<div class=\"finding\"><code class=\"id\">");
        esc(b, wih_json_member_str_or(f, "id", ""));
        wih_buf_adds(b, "</code> <span class=\"where\">");
        esc(b, wih_json_member_str_or(f, "where", ""));
        wih_buf_adds(b, "</span><p class=\"cause\">");
        esc(b, wih_json_member_str_or(f, "cause", ""));
        wih_buf_adds(b, "</p>");
        if (*wih_json_member_str_or(f, "fix", "")) {
            wih_buf_adds(b, "<p class=\"fix\"><b>fix:</b> ");
            esc(b, wih_json_member_str_or(f, "fix", ""));
            wih_buf_adds(b, "</p>");
        }
        wih_buf_adds(b, "</div>\n");
    }
    if (!cJSON_GetArraySize(jget(kase, "findings"))) wih_buf_adds(b, "<p class=\"cause\">no diagnosis was run for this case</p>\n");
    char *t = report_failure_text(kase);
    wih_buf fb;
    wih_buf_init(&fb, WIH_BUF_DEFAULT_MAX);
    wih_buf_adds(&fb, "");
    for (char *l = t, *nl; l && *l; l = nl ? nl + 1 : NULL) { /* up to the findings: drawn above */
        nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        if (!strncmp(l, "diagnosis ", 10)) break;
        wih_buf_addf(&fb, "%.*s\n", (int)n, l);
    }
    if (fb.len) {
        wih_buf_adds(b, "<pre class=\"failure\">");
        esc(b, fb.data);
        wih_buf_adds(b, "</pre>\n");
    }
    wih_buf_free(&fb);
    free(t);
    wih_buf_adds(b, "</div>\n");
}

static void draw_details(wih_buf *b, const char *summary, const cJSON *v)
{
    if (!v) return;
    char *s = cJSON_Print(v);
    wih_buf_addf(b, "<details><summary>%s</summary><pre>", summary);
    esc(b, s);
    wih_buf_adds(b, "</pre></details>\n");
    free(s);
}

static void draw_case(wih_buf *b, const cJSON *kase, int idx)
{
    int broken = report_broken_link(kase);
    wih_buf_addf(b, "<section class=\"case %s\" id=\"case-%d\" data-broken=\"%s\">\n<h2>",
                 wih_json_member_str_or(kase, "status", ""), idx, report_link_name(broken));
    esc(b, wih_json_member_str_or(kase, "scenario", ""));
    wih_buf_adds(b, " <span class=\"profile\">[");
    esc(b, wih_json_member_str_or(kase, "profile", ""));
    wih_buf_addf(b, "]</span> <span class=\"status\">%s</span></h2>\n<div class=\"row\">\n",
                 wih_json_member_str_or(kase, "status", ""));
    draw_chain(b, kase, broken);
    draw_findings(b, kase);
    wih_buf_adds(b, "</div>\n");
    draw_details(b, "facts", jget(kase, "facts"));
    draw_details(b, "probe verdict", jget(kase, "verdict"));
    draw_details(b, "what the runner changed in the pod", jget(kase, "changes"));
    wih_buf_adds(b, "</section>\n");
}

/* ------------------------------------------------------------ the matrix */
static void draw_matrix(wih_buf *b, const cJSON *cases)
{
    cJSON *scns = cJSON_CreateArray(), *profs = cJSON_CreateArray();
    const cJSON *c, *s, *p;
    cJSON_ArrayForEach(c, cases)
    {
        bool hs = false, hp = false;
        cJSON_ArrayForEach(s, scns) hs |=
            !strcmp(s->valuestring, wih_json_member_str_or(c, "scenario", ""));
        cJSON_ArrayForEach(p, profs) hp |=
            !strcmp(p->valuestring, wih_json_member_str_or(c, "profile", ""));
        if (!hs)
            cJSON_AddItemToArray(scns,
                                 cJSON_CreateString(wih_json_member_str_or(c, "scenario", "")));
        if (!hp)
            cJSON_AddItemToArray(profs,
                                 cJSON_CreateString(wih_json_member_str_or(c, "profile", "")));
    }
    wih_buf_adds(b, "<table class=\"matrix\">\n<tr><th>scenario</th>");
    cJSON_ArrayForEach(p, profs)
    {
        wih_buf_adds(b, "<th>");
        esc(b, p->valuestring);
        wih_buf_adds(b, "</th>");
    }
    wih_buf_adds(b, "</tr>\n");
    cJSON_ArrayForEach(s, scns)
    {
        wih_buf_adds(b, "<tr><th>");
        esc(b, s->valuestring);
        wih_buf_adds(b, "</th>");
        cJSON_ArrayForEach(p, profs)
        {
            int i = 0, hit = -1;
            cJSON_ArrayForEach(c, cases)
            {
                if (hit < 0 && !strcmp(wih_json_member_str_or(c, "scenario", ""), s->valuestring) &&
                    !strcmp(wih_json_member_str_or(c, "profile", ""), p->valuestring))
                    hit = i;
                i++;
            }
            const cJSON *k = hit >= 0 ? cJSON_GetArrayItem(cases, hit) : NULL;
            if (!k) {
                wih_buf_adds(b, "<td class=\"none\">–</td>");
            } else if (report_broken_link(k) >= 0) {
                wih_buf_addf(b, "<td class=\"%s\"><a href=\"#case-%d\">%s</a></td>",
                             wih_json_member_str_or(k, "status", ""), hit,
                             wih_json_member_str_or(k, "status", ""));
            } else {
                wih_buf_addf(b, "<td class=\"%s\">%s</td>", wih_json_member_str_or(k, "status", ""),
                             wih_json_member_str_or(k, "status", ""));
            }
        }
        wih_buf_adds(b, "</tr>\n");
    }
    wih_buf_adds(b, "</table>\n");
    cJSON_Delete(scns);
    cJSON_Delete(profs);
}

static const char k_style[] =
    "body{font:14px/1.4 sans-serif;margin:16px;color:#222;background:#fff}"
    "h1{font-size:20px}h2{font-size:16px;margin:0 0 8px}"
    "table.matrix{border-collapse:collapse;margin-bottom:20px}"
    "table.matrix td,table.matrix th{border:1px solid #bbb;padding:4px 10px;text-align:left}"
    "td.passed{background:#c8f0c8}td.failed{background:#f8c0c0}td.error{background:#f8d8a0}td.skipped{background:#e4e4e4}"
    "section.case{border:1px solid #ccc;border-radius:6px;padding:10px;margin:12px 0}"
    ".row{display:flex;gap:16px;align-items:flex-start}"
    "ol.chain{list-style:none;margin:0;padding:0;min-width:260px;flex:0 0 45%;max-width:45%}"
    "li.link{border:2px solid #888;border-radius:4px;margin:0 0 14px;padding:4px 8px;position:relative}"
    "li.link:not(:last-child)::after{content:'\\2193';position:absolute;left:12px;bottom:-15px;color:#666}"
    "li.link .name{font-weight:bold;display:block}li.link .detail{font-size:12px;color:#444;word-break:break-all}"
    "li.ok{background:#c8f0c8;border-color:#2a8a2a}"
    "li.broken{background:#ff2020;border-color:#900;color:#fff}li.broken .detail{color:#fff}"
    "li.unreached{background:#eee;border-color:#bbb;color:#888}"
    ".mark{display:block;font-weight:bold}"
    ".fix{white-space:pre-wrap}.diagnosis{flex:1}.finding{border-left:4px solid #c00;padding:2px 8px;margin-bottom:8px}"
    "code.id{font-weight:bold}.where{color:#666;font-size:12px}"
    "pre{white-space:pre-wrap;word-break:break-all;background:#f6f6f6;padding:6px;font-size:12px}";

char *report_html(const cJSON *run_in)
{
    cJSON *run = cJSON_Duplicate(run_in, true);
    report_redact(run);
    wih_buf b;
    wih_buf_init(&b, 256 << 20);
    wih_buf_addf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                     "<title>wiharness run</title><style>%s</style></head>\n<body>\n<h1>wiharness run</h1>\n",
                 k_style);
    const cJSON *s = jget(run, "summary"), *cases = jget(run, "cases"), *c;
    wih_buf_addf(&b, "<p class=\"summary\">%d passed, %d failed, %d skipped, %d errors</p>\n",
                 (int)cJSON_GetNumberValue(jget(s, "passed")), (int)cJSON_GetNumberValue(jget(s, "failed")),
                 (int)cJSON_GetNumberValue(jget(s, "skipped")), (int)cJSON_GetNumberValue(jget(s, "errors")));
    draw_matrix(&b, cases);
    int i = 0;
    cJSON_ArrayForEach(c, cases)
    {
        if (report_broken_link(c) >= 0) draw_case(&b, c, i);
        i++;
    }
    wih_buf_adds(&b, "</body></html>\n");
    cJSON_Delete(run);
    return wih_buf_take(&b);
}
