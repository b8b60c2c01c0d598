/* keyset.c - open-addressing key set with generation stamps. */
#include "tools/gen/keyset.h"

#include <string.h>

#include "common/xalloc.h"
#include "tools/gen/rng.h"

static void alloc_table(struct keyset *k, size_t cap)
{
    k->cap = cap;
    k->a = xmalloc(cap * sizeof *k->a);
    k->b = xmalloc(cap * sizeof *k->b);
    k->stamp = xcalloc(cap, sizeof *k->stamp);
}

void keyset_init(struct keyset *k)
{
    memset(k, 0, sizeof *k);
    alloc_table(k, 1024);
    k->gen = 1;
}

void keyset_free(struct keyset *k)
{
    xfree(k->a);
    xfree(k->b);
    xfree(k->stamp);
    memset(k, 0, sizeof *k);
}

void keyset_clear(struct keyset *k)
{
    k->n = 0;
    if (++k->gen == 0) { /* wrapped: stamps from 2^32 generations ago would look live */
        memset(k->stamp, 0, k->cap * sizeof *k->stamp);
        k->gen = 1;
    }
}

static size_t slot_of(const struct keyset *k, uint64_t a, uint64_t b)
{
    return (size_t)(rng_mix(a ^ rng_mix(b)) & (k->cap - 1));
}

static void grow(struct keyset *k)
{
    uint64_t *oa = k->a, *ob = k->b;
    uint32_t *os = k->stamp;
    size_t ocap = k->cap;
    alloc_table(k, ocap * 2);
    for (size_t i = 0; i < ocap; i++) {
        if (os[i] != k->gen)
            continue;
        size_t j = slot_of(k, oa[i], ob[i]);
        while (k->stamp[j] == k->gen)
            j = (j + 1) & (k->cap - 1);
        k->a[j] = oa[i];
        k->b[j] = ob[i];
        k->stamp[j] = k->gen;
    }
    xfree(oa);
    xfree(ob);
    xfree(os);
}

int keyset_add(struct keyset *k, uint64_t a, uint64_t b)
{
    if ((k->n + 1) * 2 > k->cap)
        grow(k);
    size_t j = slot_of(k, a, b);
    while (k->stamp[j] == k->gen) {
        if (k->a[j] == a && k->b[j] == b)
            return 0;
        j = (j + 1) & (k->cap - 1);
    }
    k->a[j] = a;
    k->b[j] = b;
    k->stamp[j] = k->gen;
    k->n++;
    return 1;
}
