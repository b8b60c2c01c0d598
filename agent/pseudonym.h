/* pseudonym.h - keyed staff pseudonyms: HMAC-SHA256(org key, normalised id), 16 bytes. */
#ifndef CADRE_AGENT_PSEUDONYM_H
#define CADRE_AGENT_PSEUDONYM_H

#include <stddef.h>
#include <stdint.h>

#define PSEUDONYM_MIN_KEY 32

struct pseudonym; /* the org key; opaque */

/* Reads the org key file: its bytes with one trailing newline dropped. Refuses a file that
 * is group or world readable (or writable) or a key shorter than PSEUDONYM_MIN_KEY bytes.
 * Returns 0 and *out (free with pseudonym_free), or -errno with a message in err that
 * names the file but never quotes the key. */
int pseudonym_load(struct pseudonym **out, const char *path, char *err, size_t errlen);
/* Makes a pseudonym context from len key bytes (copied; no length check). */
struct pseudonym *pseudonym_new(const void *key, size_t len);
void pseudonym_free(struct pseudonym *p);

/* HMAC-SHA256 of msg under key into out (32 bytes). Returns 0 or -EIO. */
int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, uint8_t out[32]);

/* The staff key of a raw id: the id is trimmed of ASCII white space and ASCII-lowercased,
 * then out = first 16 bytes of HMAC-SHA256(org key, id). Returns 0, -ENOENT when the id is
 * empty after trimming, -EIO on a crypto failure. Thread-safe. */
int pseudonym_staff_key(const struct pseudonym *p, const char *id, size_t len, uint8_t out[16]);

/* A memo of recent ids for one thread: the same staff key as pseudonym_staff_key, without
 * the HMAC when the normalised id (up to PSEUDONYM_CACHE_ID_MAX bytes) was seen lately.
 * Holds about 7 MiB; wiped on free. Not thread-safe: one per thread (the agent shares one
 * between its sources, all polled on one thread). */
#define PSEUDONYM_CACHE_ID_MAX 39
struct pseudonym_cache;
/* p must outlive the cache. Free with pseudonym_cache_free. */
struct pseudonym_cache *pseudonym_cache_new(const struct pseudonym *p);
void pseudonym_cache_free(struct pseudonym_cache *c);
/* As pseudonym_staff_key. */
int pseudonym_cache_key(struct pseudonym_cache *c, const char *id, size_t len, uint8_t out[16]);

#endif
