/* The one position map: node pointer → (file, line:col), an open-addressing
 * hash table. The YAML loader records every node it makes; the OSMO merge
 * records the copies it makes, so errors point at the file a value came from. */
#include <stdint.h>
#include <stdlib.h>

#include "wiharness/yamljson.h"

typedef struct {
    const cJSON *key;
    const char *file;
    wih_pos pos;
} slot;

struct wih_posmap {
    slot *slots;
    size_t n, used;
};

static size_t hash_ptr(const void *p)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

wih_posmap *wih_posmap_new(void)
{
    return wih_xcalloc(1, sizeof(wih_posmap));
}

void wih_posmap_free(wih_posmap *pm)
{
    if (!pm) return;
    free(pm->slots);
    free(pm);
}

static void grow(wih_posmap *pm)
{
    slot *old = pm->slots;
    size_t oldn = pm->n;
    pm->n = oldn ? oldn * 2 : 1024;
    pm->slots = wih_xcalloc(pm->n, sizeof *pm->slots);
    pm->used = 0;
    for (size_t i = 0; i < oldn; i++)
        if (old[i].key) wih_posmap_put(pm, old[i].key, old[i].file, old[i].pos);
    free(old);
}

void wih_posmap_put(wih_posmap *pm, const cJSON *node, const char *file, wih_pos pos)
{
    if ((pm->used + 1) * 4 >= pm->n * 3) grow(pm);
    size_t m = pm->n - 1, i = hash_ptr(node) & m;
    while (pm->slots[i].key && pm->slots[i].key != node) i = (i + 1) & m;
    if (!pm->slots[i].key) pm->used++;
    pm->slots[i] = (slot){node, file, pos};
}

bool wih_posmap_get(const wih_posmap *pm, const cJSON *node, const char **file, wih_pos *pos)
{
    if (!pm || !node || !pm->n) return false;
    size_t m = pm->n - 1, i = hash_ptr(node) & m;
    while (pm->slots[i].key) {
        if (pm->slots[i].key == node) {
            if (file) *file = pm->slots[i].file;
            if (pos) *pos = pm->slots[i].pos;
            return true;
        }
        i = (i + 1) & m;
    }
    return false;
}
