/* keyset.h - a set of 128-bit record keys that empties in O(1), for counting distinct keys. */
#ifndef CADRE_GEN_KEYSET_H
#define CADRE_GEN_KEYSET_H

#include <stddef.h>
#include <stdint.h>

/* Open addressing with a generation stamp per slot: keyset_clear() bumps the generation
 * instead of wiping the table. The generator clears it once per day (every keyed record
 * of a day carries that day or an instant in it, so duplicates meet within the day). */
struct keyset {
    uint64_t *a, *b; /* the two halves of each key */
    uint32_t *stamp; /* generation that filled the slot */
    uint32_t gen;
    size_t cap; /* power of two */
    size_t n;   /* keys of the current generation */
};

/* Sets up an empty set. Caller frees with keyset_free(). */
void keyset_init(struct keyset *k);
void keyset_free(struct keyset *k);
/* Forgets every key. */
void keyset_clear(struct keyset *k);
/* Adds (a, b); returns 1 when it was not there yet, 0 when it was. */
int keyset_add(struct keyset *k, uint64_t a, uint64_t b);

#endif
