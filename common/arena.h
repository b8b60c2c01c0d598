/* arena.h - a bump allocator for the many small, short-lived pieces of one request. */
#ifndef CADRE_ARENA_H
#define CADRE_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_block;

/* Memory handed out in blocks of at least block bytes; everything goes at once with
 * arena_release. Initialise with ARENA_INIT or a zeroed struct plus block. */
struct arena {
    struct arena_block *head; /* newest block */
    size_t block;             /* preferred block size (0: 64 KiB) */
};

/* n bytes aligned for any type; never NULL (xmalloc underneath). Valid until
 * arena_release. Not thread-safe. */
void *arena_alloc(struct arena *a, size_t n);
/* Frees every block; the arena can be used again. */
void arena_release(struct arena *a);
/* An allocator for protobuf-c's unpack that takes from a (frees are no-ops): unpacked
 * messages then die with arena_release, without protobuf_c_message_free_unpacked. */
ProtobufCAllocator arena_protobuf(struct arena *a);

#endif
