/* shard — stable split of the case list and rerun of a report's failures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/shard.h"
#include "wiharness/yamljson.h"

int shard_parse(const char *spec, int *index, int *count, wih_err **err)
{
    char *end = NULL;
    errno = 0;
    long i = spec ? strtol(spec, &end, 10) : 0;
    long n = 0;
    bool ok = spec && end != spec && *end == '/' && !errno;
    if (ok) {
        const char *p = end + 1;
        n = strtol(p, &end, 10);
        ok = end != p && *end == 0 && !errno;
    }
    if (!ok || n < 1 || n > 1000 || i < 1 || i > n) {
        *err = wih_err_new(WIH_EXIT_INPUT, "--shard %s: expected I/N with 1 <= I <= N <= 1000 (e.g. 2/3)",
                           spec ? spec : "(null)");
        return -1;
    }
    *index = (int)i;
    *count = (int)n;
    return 0;
}

uint64_t shard_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return h;
}

bool shard_selects(const char *case_id, int index, int count)
{
    return count >= 1 && shard_hash(case_id) % (uint64_t)count == (uint64_t)(index - 1);
}

/* Drop the cases keep() refuses, compacting in place (their ids are freed). */
static void filter(scn_matrix *m, bool (*keep)(const scn_case *, const void *), const void *ctx)
{
    size_t w = 0;
    for (size_t r = 0; r < m->n; r++) {
        if (keep(&m->cases[r], ctx)) {
            m->cases[w++] = m->cases[r];
        } else {
            free(m->cases[r].id);
        }
    }
    m->n = w;
}

typedef struct { int index, count; } shard_sel;

static bool keep_shard(const scn_case *c, const void *ctx)
{
    const shard_sel *s = ctx;
    return shard_selects(c->id, s->index, s->count);
}

void shard_filter(scn_matrix *m, int index, int count)
{
    shard_sel s = {index, count};
    filter(m, keep_shard, &s);
}

static bool keep_listed(const scn_case *c, const void *ctx)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, (const cJSON *)ctx)
        if (cJSON_IsString(it) && !strcmp(it->valuestring, c->id)) return true;
    return false;
}

void shard_keep_ids(scn_matrix *m, const cJSON *ids)
{
    filter(m, keep_listed, ids);
}

cJSON *shard_failed_ids_doc(const cJSON *report, const char *file, wih_err **err)
{
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(report, "cases");
    if (!cJSON_IsObject(report) || !cJSON_IsArray(cases)) {
        *err = wih_err_at(WIH_EXIT_INPUT, file, 0, 0, "not a wiharness JSON report (no \"cases\" array)");
        return NULL;
    }
    cJSON *ids = cJSON_CreateArray();
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const char *scn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "scenario"));
        const char *prof = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "profile"));
        const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "status"));
        if (!scn || !prof || !st) {
            cJSON_Delete(ids);
            *err = wih_err_at(WIH_EXIT_INPUT, file, 0, 0,
                              "cases[%d]: a case needs string \"scenario\", \"profile\" and \"status\"", i);
            return NULL;
        }
        if (!strcmp(st, "failed") || !strcmp(st, "error")) {
            char *id = wih_asprintf("%s/%s", scn, prof);
            cJSON_AddItemToArray(ids, cJSON_CreateString(id));
            free(id);
        }
        i++;
    }
    return ids;
}

cJSON *shard_failed_ids(const char *report_path, wih_err **err)
{
    char *text = wih_read_file(report_path, (size_t)64 << 20, NULL, err);
    if (!text) {
        *err = wih_err_wrap(*err, "--rerun-failed");
        return NULL;
    }
    cJSON *doc = wih_json_parse(report_path, text, err);
    free(text);
    if (!doc) return NULL;
    cJSON *ids = shard_failed_ids_doc(doc, report_path, err);
    cJSON_Delete(doc);
    return ids;
}
