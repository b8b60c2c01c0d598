/* gz.h - gzip in and out of memory with ISA-L: the one gzip path of both binaries. */
#ifndef CADRE_GZ_H
#define CADRE_GZ_H

#include <stddef.h>
#include <stdint.h>

/* Compresses len bytes as one gzip member (ISA-L level 1: a few hundred MB/s a core, so
 * compression never holds delivery or a scrape back). Returns the result (caller frees
 * with xfree) with *outlen, or NULL when it cannot (the caller then sends the bytes as
 * they are). */
uint8_t *gz_deflate(const void *in, size_t len, size_t *outlen);

/* Inflates one gzip member of len bytes, checksum verified, into at most max bytes.
 * Returns 0 with *out (NUL-terminated; caller frees with xfree) and *outlen; -E2BIG when
 * the output would pass max (a gzip bomb stops there); -EINVAL when the data is not gzip
 * or is cut short; -ENOMEM when the output cannot be allocated. */
int gz_inflate(const void *in, size_t len, uint64_t max, char **out, size_t *outlen);

#endif
