/* strtab.c - FNV-1a hashed open-addressing label table. */
#include "aggregator/strtab.h"

#include <string.h>

#include "common/xalloc.h"

static uint64_t hash(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static size_t probe(const struct strtab *t, const char *s, size_t len)
{
    size_t mask = t->nslots - 1, i = hash(s, len) & mask;
    while (t->slots[i]) {
        const char *o = t->str[t->slots[i] - 1];
        if (strlen(o) == len && memcmp(o, s, len) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

int64_t strtab_find(const struct strtab *t, const char *s, size_t len)
{
    if (!t->nslots)
        return -1;
    size_t i = probe(t, s, len);
    return t->slots[i] ? (int64_t)t->slots[i] - 1 : -1;
}

uint32_t strtab_intern(struct strtab *t, const char *s, size_t len)
{
    if ((t->n + 1) * 2 > t->nslots) {
        size_t old = t->nslots;
        uint32_t *olds = t->slots;
        t->nslots = old ? old * 2 : 16;
        t->slots = xcalloc(t->nslots, sizeof *t->slots);
        for (size_t i = 0; i < old; i++) {
            if (olds[i]) {
                const char *o = t->str[olds[i] - 1];
                t->slots[probe(t, o, strlen(o))] = olds[i];
            }
        }
        xfree(olds);
    }
    size_t i = probe(t, s, len);
    if (!t->slots[i]) {
        xgrow((void **)&t->str, &t->cap, t->n + 1, sizeof *t->str);
        t->str[t->n++] = xstrndup(s, len);
        t->slots[i] = (uint32_t)t->n;
    }
    return t->slots[i] - 1;
}

void strtab_free(struct strtab *t)
{
    for (size_t i = 0; i < t->n; i++)
        xfree(t->str[i]);
    xfree(t->str);
    xfree(t->slots);
    memset(t, 0, sizeof *t);
}
