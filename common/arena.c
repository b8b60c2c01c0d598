/* arena.c - bump allocation in blocks; see arena.h. */
#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>

#include "common/xalloc.h"

struct arena_block {
    struct arena_block *next; /* older block */
    size_t used, size;        /* bytes of data */
    alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) & ~(align - 1);
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t size = a->block ? a->block : 64 << 10;
        if (size < n)
            size = n;
        b = xmalloc(sizeof *b + size);
        b->used = 0;
        b->size = size;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

void arena_release(struct arena *a)
{
    for (struct arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        xfree(b);
    }
    a->head = NULL;
}

static void *pb_alloc(void *ud, size_t n)
{
    return arena_alloc(ud, n ? n : 1);
}

static void pb_free(void *ud, void *p)
{
    (void)ud, (void)p;
}

ProtobufCAllocator arena_protobuf(struct arena *a)
{
    return (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = a};
}
