/* hmap.c - open-addressing hash table with linear probing; see hmap.h. */
#include "common/hmap.h"

#include <string.h>

#include "common/xalloc.h"

struct hmap_slot {
    uint64_t hash; /* 0: empty (hashes are forced non-zero) */
    const void *key;
    size_t klen;
    void *val;
};

uint64_t hmap_hash(const void *key, size_t len, uint64_t seed)
{
    const unsigned char *p = key;
    uint64_t h = seed;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    h ^= h >> 29;
    return h ? h : 1;
}

/* Hash 0 marks empty slots, so a caller's 0 is stored as 1. */
static uint64_t fix(uint64_t h)
{
    return h ? h : 1;
}

/* The slot holding key, or the empty slot where it would go. m->cap > 0. */
static size_t find(const struct hmap *m, uint64_t h, const void *key, size_t klen)
{
    size_t mask = m->cap - 1, i = h & mask;
    for (;; i = (i + 1) & mask) {
        const struct hmap_slot *s = &m->slots[i];
        if (!s->hash)
            return i;
        if (s->hash == h && s->klen == klen && (!klen || memcmp(s->key, key, klen) == 0))
            return i;
    }
}

static void grow(struct hmap *m)
{
    struct hmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 16;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < old.cap; i++) {
        const struct hmap_slot *s = &old.slots[i];
        if (s->hash)
            m->slots[find(m, s->hash, s->key, s->klen)] = *s;
    }
    xfree(old.slots);
}

void *hmap_get(const struct hmap *m, uint64_t h, const void *key, size_t klen)
{
    if (!m->cap)
        return NULL;
    return m->slots[find(m, fix(h), key, klen)].val;
}

void *hmap_put(struct hmap *m, uint64_t h, const void *key, size_t klen, void *val)
{
    h = fix(h);
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    struct hmap_slot *s = &m->slots[find(m, h, key, klen)];
    void *old = s->val;
    if (!s->hash)
        m->n++;
    *s = (struct hmap_slot){.hash = h, .key = key, .klen = klen, .val = val};
    return old;
}

void *hmap_del(struct hmap *m, uint64_t h, const void *key, size_t klen)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1, i = find(m, fix(h), key, klen);
    void *val = m->slots[i].val;
    if (!val)
        return NULL;
    /* Backward shift: move up every later entry of the run that may no longer be reached
     * across the hole, so lookups need no tombstones. */
    for (size_t j = (i + 1) & mask; m->slots[j].hash; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        /* j's entry stays when its home lies cyclically in (i, j]. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
            continue;
        m->slots[i] = m->slots[j];
        i = j;
    }
    m->slots[i] = (struct hmap_slot){0};
    m->n--;
    return val;
}

void *hmap_next(const struct hmap *m, size_t *pos, const void **key, size_t *klen)
{
    for (; *pos < m->cap; (*pos)++) {
        const struct hmap_slot *s = &m->slots[*pos];
        if (!s->hash)
            continue;
        (*pos)++;
        if (key)
            *key = s->key;
        if (klen)
            *klen = s->klen;
        return s->val;
    }
    return NULL;
}

void hmap_free(struct hmap *m)
{
    xfree(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}
