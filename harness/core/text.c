/* Small text helpers shared by every module: edit distance and "did you mean". */
#include "wiharness/core.h"

#include <stdlib.h>
#include <string.h>

size_t wih_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = wih_xmalloc((lb + 1) * sizeof *row);
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t sub = prev + (a[i - 1] != b[j - 1]);
            size_t del = row[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            prev = cur;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

const char *wih_nearest(const char *given, const char *const *words)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1;
    for (size_t i = 0; words && words[i]; i++) {
        size_t d = wih_edit_distance(given, words[i]);
        /* a prefix of a real word is the likeliest intent */
        if (*given && strncmp(words[i], given, strlen(given)) == 0) d = 0;
        if (d < bestd) {
            bestd = d;
            best = words[i];
        }
    }
    return best;
}
