/* strtab.c - label table: an array of labels indexed by a common/hmap. */
#include "aggregator/strtab.h"

#include <string.h>

#include "common/xalloc.h"

int64_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
    uintptr_t v = (uintptr_t)hmap_get(&t->ids, hmap_hash(s, len, HMAP_SEED), s, len);
    return v ? (int64_t)v - 1 : -1;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
    uint64_t h = hmap_hash(s, len, HMAP_SEED);
    uintptr_t v = (uintptr_t)hmap_get(&t->ids, h, s, len);
    if (v)
        return (uint32_t)(v - 1);
    xgrow((void **)&t->str, &t->cap, t->n + 1, sizeof *t->str);
    char *copy = xstrndup(s, len);
    t->str[t->n++] = copy;
    hmap_put(&t->ids, h, copy, len, (void *)(uintptr_t)t->n);
    return (uint32_t)(t->n - 1);
}

void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        xfree(t->str[i]);
    xfree(t->str);
    hmap_free(&t->ids);
    memset(t, 0, sizeof *t);
}
