/* arena.h - a bump allocator for the many small, short-lived pieces of one request. */
#ifndef CADRE_ARENA_H
#define CADRE_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct arena_block;

/* Memory handed out in blocks of at least block bytes; everything goes at once with
 * arena_release. Initialise with a zeroed struct, setting block if 64 KiB does not suit. */
struct arena {
    struct arena_block *head; /* newest block */
    size_t block;             /* preferred block size (0: 64 KiB) */
    bool oom;                 /* an arena_try_alloc failed since the last release */
    size_t limit;             /* arena_try_alloc stops past this many bytes of blocks (0: no
                                 limit); set it to bound what input may make it hold */
    size_t held;              /* bytes of blocks held */
    bool over;                /* an arena_try_alloc failed on the limit (oom is set too) */
};

/* n bytes aligned for any type; never NULL (xmalloc underneath). Valid until
 * arena_release. Not thread-safe. */
void *arena_alloc(struct arena *a, size_t n);
/* As arena_alloc, but NULL (and a->oom set) when a new block cannot be had: for sizes
 * that input decides (xtry_malloc underneath, so xalloc_fail_after() reaches it). */
void *arena_try_alloc(struct arena *a, size_t n);
/* Frees every block and clears oom; the arena can be used again. */
void arena_release(struct arena *a);
/* An allocator for protobuf-c's unpack that takes from a with arena_try_alloc (frees are
 * no-ops): unpacked messages then die with arena_release, without
 * protobuf_c_message_free_unpacked. When memory runs out the unpack returns NULL and
 * a->oom tells that apart from a malformed message. */
ProtobufCAllocator arena_protobuf(struct arena *a);

#endif
