/* libFuzzer: the form parser never crashes, and what it accepts re-parses
 * to the same fields after re-encoding. */
#include <stdlib.h>
#include <string.h>

#include "wiharness/cloud.h"

static void enc(wih_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) wih_buf_addf(b, "%%%02X", *p);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    wih_err *e = NULL;
    cJSON *f = cloud_form_parse((const char *)data, size, &e);
    if (!f) {
        if (!e || e->kind != WIH_EXIT_INPUT) abort();
        wih_err_free(e);
        return 0;
    }
    wih_buf b;
    wih_buf_init(&b, (size_t)16 << 20);
    const cJSON *it;
    cJSON_ArrayForEach(it, f)
    {
        if (!cJSON_IsString(it) || !*it->string) abort();
        enc(&b, it->string);
        wih_buf_adds(&b, "=");
        enc(&b, it->valuestring);
        wih_buf_adds(&b, "&");
    }
    if (b.len <= CLOUD_FORM_MAX_BODY) {
        cJSON *g = cloud_form_parse(b.data ? b.data : "", b.len, &e);
        if (!g || !cJSON_Compare(f, g, true)) abort();
        cJSON_Delete(g);
    }
    wih_buf_free(&b);
    cJSON_Delete(f);
    return 0;
}
