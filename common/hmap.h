/* hmap.h - one hash table: byte-string keys, caller-supplied 64-bit hashes, pointer values. */
#ifndef CADRE_HMAP_H
#define CADRE_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot;

/* Open addressing with linear probing, at most half full; a zeroed struct is an empty map
 * (the slot array is allocated on the first insert). The map does not copy keys: a key's
 * bytes must stay valid and unchanged while it is in the map (keep them in the value).
 * Values are non-NULL pointers the map does not own. Not thread-safe. */
struct hmap {
    struct hmap_slot *slots; /* cap of them; hash 0 marks an empty slot */
    size_t cap, n;           /* cap is 0 or a power of two */
};

/* FNV-1a over len bytes from seed (pass HMAP_SEED to start); mixed so that the low bits
 * used for the slot index depend on every byte. Never returns 0. */
#define HMAP_SEED UINT64_C(14695981039346656037)
uint64_t hmap_hash(const void *key, size_t len, uint64_t seed);

/* The value stored under key (klen bytes, hash h), or NULL when absent. */
void *hmap_get(const struct hmap *m, uint64_t h, const void *key, size_t klen);
/* Stores val (non-NULL) under key, replacing any value there (the key pointer is then
 * replaced too, so it may point into val). Returns the value replaced, or NULL. */
void *hmap_put(struct hmap *m, uint64_t h, const void *key, size_t klen, void *val);
/* Removes key; returns its value, or NULL when absent. */
void *hmap_del(struct hmap *m, uint64_t h, const void *key, size_t klen);
/* Iteration in slot order: start with *pos = 0; each call returns the next value (setting
 * *key and *klen when not NULL) or NULL at the end. The map must not change meanwhile. */
void *hmap_next(const struct hmap *m, size_t *pos, const void **key, size_t *klen);
/* Frees the slots (not keys or values); the map is empty and usable again. */
void hmap_free(struct hmap *m);

#endif
