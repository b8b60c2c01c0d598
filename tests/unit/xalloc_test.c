/* xalloc_test.c - common/xalloc's fallible calls and failure injection, walked through
 * sbuf growth and a protobuf batch unpacked into a common/arena.
 *
 * Each walk fails the 1st, 2nd, ... fallible allocation of a path until the path gets
 * through, asserting the error at every step; the ASan build (make SANITIZE=1) checks that
 * no step leaks or touches freed memory.
 */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "cadre.pb-c.h"
#include "common/arena.h"
#include "common/sbuf.h"
#include "common/xalloc.h"

static void test_fail_after(void **state)
{
    (void)state;
    xalloc_fail_after(3);
    void *a = xtry_malloc(10), *b = xtry_calloc(2, 5);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(xtry_malloc(10));     /* the 3rd fails */
    assert_null(xtry_realloc(a, 20)); /* and every later one; a is untouched */
    void *c = xmalloc(10);            /* infallible calls neither count nor fail */
    assert_int_equal(xalloc_fail_reset(), 4);
    void *d = xtry_malloc(10);
    assert_non_null(d);
    assert_int_equal(xalloc_fail_reset(), 0); /* not armed: nothing counted */
    xfree(a), xfree(b), xfree(c), xfree(d);
}

static void test_overflow(void **state)
{
    (void)state;
    assert_null(xtry_calloc(SIZE_MAX / 2, 4));
    char *buf = NULL;
    size_t cap = 0;
    assert_int_equal(xtry_grow((void **)&buf, &cap, 100, 1), 0);
    assert_int_equal(cap, 128); /* 8 doubled until >= 100 */
    char *before = buf;
    assert_int_equal(xtry_grow((void **)&buf, &cap, SIZE_MAX / 2 + 2, 1), -ENOMEM);
    assert_int_equal(xtry_grow((void **)&buf, &cap, SIZE_MAX / 8, 16), -ENOMEM);
    assert_ptr_equal(buf, before);
    assert_int_equal(cap, 128);
    xfree(buf);
    struct sbuf b = {0};
    sbuf_adds(&b, "x");
    assert_int_equal(sbuf_try_reserve(&b, SIZE_MAX), -ENOMEM);
    assert_bytes_equal(b.p, b.len, "x");
    sbuf_free(&b);
}

/* 100 pieces of 10 bytes into an empty sbuf: the capacity goes 16, 32, ..., 1024 (need is
 * len + 11 each time; xtry_grow starts from 8 and doubles), so 7 allocations. */
enum { PIECES = 100, PIECE = 10, SBUF_ALLOCS = 7 };

static void test_sbuf_walk(void **state)
{
    (void)state;
    static const char piece[PIECE + 1] = "0123456789";
    for (unsigned long n = 1;; n++) {
        struct sbuf b = {0};
        xalloc_fail_after(n);
        int rc = 0;
        size_t added = 0;
        for (; added < PIECES && !(rc = sbuf_try_add(&b, piece, PIECE)); added++)
            ;
        unsigned long seen = xalloc_fail_reset();
        if (n <= SBUF_ALLOCS) {
            assert_int_equal(rc, -ENOMEM);
            assert_int_equal(seen, n);
            /* What was added before the failure is intact. */
            assert_int_equal(b.len, added * PIECE);
            for (size_t i = 0; i < added; i++)
                assert_memory_equal(b.p + i * PIECE, piece, PIECE);
            sbuf_free(&b);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(seen, SBUF_ALLOCS);
        assert_int_equal(b.len, PIECES * PIECE);
        assert_int_equal(b.cap, 1024);
        assert_int_equal(b.p[b.len], '\0');
        sbuf_free(&b);
        break;
    }
}

enum { NREC = 40 };

/* A batch of NREC usage records, packed; caller frees with xfree. */
static uint8_t *packed_batch(size_t *len)
{
    static uint8_t staff[NREC][16], key[NREC][24], spool[16];
    static char tool[NREC][32];
    Cadre__Usage u[NREC];
    Cadre__Record r[NREC], *rp[NREC];
    for (int i = 0; i < NREC; i++) {
        memset(staff[i], 'a' + i % 26, sizeof staff[i]);
        memset(key[i], 'A' + i % 26, sizeof key[i]);
        snprintf(tool[i], sizeof tool[i], "tool-%d", i);
        cadre__usage__init(&u[i]);
        u[i].staff = (ProtobufCBinaryData){sizeof staff[i], staff[i]};
        u[i].ts_us = 1700000000000000 + i;
        u[i].day = 19675 + i;
        u[i].tool = tool[i];
        cadre__record__init(&r[i]);
        r[i].type = CADRE__RECORD_TYPE__RECORD_TYPE_USAGE;
        r[i].key = (ProtobufCBinaryData){sizeof key[i], key[i]};
        r[i].body_case = CADRE__RECORD__BODY_USAGE;
        r[i].usage = &u[i];
        rp[i] = &r[i];
    }
    Cadre__Batch b = CADRE__BATCH__INIT;
    b.agent_id = "agent-7";
    b.spool_id = (ProtobufCBinaryData){sizeof spool, spool};
    b.has_seq = 1;
    b.seq = 42;
    b.n_records = NREC;
    b.records = rp;
    *len = cadre__batch__get_packed_size(&b);
    uint8_t *buf = xmalloc(*len);
    assert_int_equal(cadre__batch__pack(&b, buf), *len);
    return buf;
}

/* The aggregator's unpack path (an arena as protobuf-c's allocator), with blocks of 512
 * bytes so that the arena grows many times: each record takes a Record, a Usage and a
 * tool string, about 250 bytes after alignment. */
static void test_unpack_walk(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = packed_batch(&len);
    unsigned long allocs = 0;
    for (unsigned long n = 1;; n++) {
        struct arena ar = {.block = 512};
        ProtobufCAllocator pa = arena_protobuf(&ar);
        xalloc_fail_after(n);
        Cadre__Batch *b = cadre__batch__unpack(&pa, len, buf);
        unsigned long seen = xalloc_fail_reset();
        if (!b) {
            assert_true(ar.oom); /* out of memory, not a malformed message */
            assert_int_equal(seen, n);
            arena_release(&ar);
            assert_false(ar.oom);
            continue;
        }
        allocs = seen;
        assert_int_equal(allocs, n - 1); /* every N up to the path's count failed */
        assert_false(ar.oom);
        assert_string_equal(b->agent_id, "agent-7");
        assert_int_equal(b->seq, 42);
        assert_int_equal(b->n_records, NREC);
        assert_string_equal(b->records[NREC - 1]->usage->tool, "tool-39");
        assert_int_equal(b->records[NREC - 1]->usage->day, 19675 + NREC - 1);
        arena_release(&ar);
        break;
    }
    /* 40 records of ~250 bytes in 512-byte blocks: well over 10 blocks. */
    assert_true(allocs > 10);

    /* A malformed message fails without oom. */
    struct arena ar = {.block = 512};
    ProtobufCAllocator pa = arena_protobuf(&ar);
    assert_null(cadre__batch__unpack(&pa, len - 1, buf));
    assert_false(ar.oom);
    arena_release(&ar);
    xfree(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_after),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_sbuf_walk),
        cmocka_unit_test(test_unpack_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
