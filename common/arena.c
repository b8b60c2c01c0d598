/* arena.c - bump allocation in blocks; see arena.h. */
#include "common/arena.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/xalloc.h"

struct arena_block {
    struct arena_block *next; /* older block */
    size_t used, size;        /* bytes of data */
    alignas(max_align_t) unsigned char data[];
};

/* Takes n bytes from a, adding a block from alloc when the newest is full; NULL when
 * the size overflows, alloc fails or (fallible only) the block would pass a->limit. */
static void *take(struct arena *a, size_t n, void *(*alloc)(size_t), bool fallible)
{
    const size_t align = alignof(max_align_t);
    if (n > SIZE_MAX - align - sizeof(struct arena_block))
        return NULL;
    n = (n + align - 1) & ~(align - 1);
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = a->block ? a->block : 64 << 10;
        if (size < n)
            size = n;
        if (size > SIZE_MAX - sizeof *b)
            return NULL;
        if (fallible && a->limit && (a->held > a->limit || size > a->limit - a->held)) {
            a->over = true;
            return NULL;
        }
        if (!(b = alloc(sizeof *b + size)))
            return NULL;
        a->held += size;
        b->used = 0;
        b->size = size;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void *arena_alloc(struct arena *a, size_t n)
{
    void *p = take(a, n, xmalloc, false);
    if (!p) {
        fprintf(stderr, "cadre: arena allocation of %zu bytes overflows\n", n);
        abort();
    }
    return p;
}

void *arena_try_alloc(struct arena *a, size_t n)
{
    void *p = take(a, n, xtry_malloc, true);
    if (!p)
        a->oom = true;
    return p;
}

void arena_release(struct arena *a)
{
    for (struct arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        xfree(b);
    }
    a->head = NULL;
    a->oom = false;
    a->over = false;
    a->held = 0;
}

static void *pb_alloc(void *ud, size_t n)
{
    return arena_try_alloc(ud, n ? n : 1);
}

static void pb_free(void *ud, void *p)
{
    (void)ud, (void)p;
}

ProtobufCAllocator arena_protobuf(struct arena *a)
{
    return (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = a};
}
