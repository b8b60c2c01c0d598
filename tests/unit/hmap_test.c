/* hmap_test.c - common/hmap: insert, find, replace, grow, delete, colliding hashes.
 *
 * Keys are the decimal strings "k0", "k1", ...; each value is a struct holding its key, so
 * the map's key pointers stay valid as the contract asks.
 */
#include "tests/unit/testutil.h"

#include <stdint.h>

#include "common/hmap.h"
#include "common/xalloc.h"

enum { N = 5000 }; /* 16 slots doubled past 2 * N: nine resizes (16 -> 16384) */

struct item {
    char key[16];
    size_t klen;
    int v;
};

static struct item *items(void)
{
    struct item *it = xcalloc(N, sizeof *it);
    for (int i = 0; i < N; i++) {
        it[i].klen = (size_t)snprintf(it[i].key, sizeof it[i].key, "k%d", i);
        it[i].v = i;
    }
    return it;
}

static uint64_t h_of(const struct item *it)
{
    return hmap_hash(it->key, it->klen, HMAP_SEED);
}

static void test_insert_find_grow(void **state)
{
    (void)state;
    struct hmap m = {0};
    struct item *it = items();
    assert_null(hmap_get(&m, 1, "k0", 2)); /* empty map, no slots yet */
    for (int i = 0; i < N; i++) {
        assert_null(hmap_put(&m, h_of(&it[i]), it[i].key, it[i].klen, &it[i]));
        assert_int_equal(m.n, i + 1);
    }
    assert_int_equal(m.cap, 16384); /* smallest power of two >= 2 * 5000 */
    for (int i = 0; i < N; i++) {
        struct item *got = hmap_get(&m, h_of(&it[i]), it[i].key, it[i].klen);
        assert_ptr_equal(got, &it[i]);
    }
    assert_null(hmap_get(&m, hmap_hash("k5000", 5, HMAP_SEED), "k5000", 5));
    /* A prefix of a key is another key. */
    assert_null(hmap_get(&m, hmap_hash("k1", 1, HMAP_SEED), "k1", 1));

    /* Iteration visits every value once. */
    int *seen = xcalloc(N, sizeof *seen);
    size_t pos = 0, count = 0, klen;
    const void *key;
    for (struct item *v; (v = hmap_next(&m, &pos, &key, &klen)); count++) {
        assert_ptr_equal(key, v->key);
        assert_int_equal(klen, v->klen);
        seen[v->v]++;
    }
    assert_int_equal(count, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(seen[i], 1);
    xfree(seen);
    hmap_free(&m);
    assert_int_equal(m.n, 0);
    assert_null(hmap_get(&m, h_of(&it[0]), it[0].key, it[0].klen));
    xfree(it);
}

static void test_replace(void **state)
{
    (void)state;
    struct hmap m = {0};
    struct item a = {"same", 4, 1}, b = {"same", 4, 2};
    uint64_t h = hmap_hash("same", 4, HMAP_SEED);
    assert_null(hmap_put(&m, h, a.key, a.klen, &a));
    assert_ptr_equal(hmap_put(&m, h, b.key, b.klen, &b), &a);
    assert_int_equal(m.n, 1);
    assert_ptr_equal(hmap_get(&m, h, "same", 4), &b);
    /* The key pointer moved to b's copy: a's may now change. */
    memcpy(a.key, "XXXX", 4);
    assert_ptr_equal(hmap_get(&m, h, "same", 4), &b);
    /* Empty keys are keys too. */
    struct item e = {"", 0, 3};
    assert_null(hmap_put(&m, hmap_hash("", 0, HMAP_SEED), e.key, 0, &e));
    assert_ptr_equal(hmap_get(&m, hmap_hash("", 0, HMAP_SEED), "", 0), &e);
    hmap_free(&m);
}

/* Every key gets the same hash (and hash 0, stored as 1): all probe one run, so lookups
 * and deletions rest on the key comparison and the backward shift alone. */
static void test_collisions_and_delete(void **state)
{
    (void)state;
    for (uint64_t h = 0; h <= 7; h += 7) {
        struct hmap m = {0};
        struct item *it = items();
        enum { C = 300 };
        for (int i = 0; i < C; i++)
            assert_null(hmap_put(&m, h, it[i].key, it[i].klen, &it[i]));
        for (int i = 0; i < C; i++)
            assert_ptr_equal(hmap_get(&m, h, it[i].key, it[i].klen), &it[i]);
        /* Delete every third key, from the middle of the run outwards. */
        for (int i = 0; i < C; i += 3)
            assert_ptr_equal(hmap_del(&m, h, it[i].key, it[i].klen), &it[i]);
        assert_null(hmap_del(&m, h, it[0].key, it[0].klen)); /* already gone */
        assert_int_equal(m.n, C - C / 3);
        for (int i = 0; i < C; i++) {
            void *want = i % 3 ? &it[i] : NULL;
            assert_ptr_equal(hmap_get(&m, h, it[i].key, it[i].klen), want);
        }
        /* Reinsert them; all are found again. */
        for (int i = 0; i < C; i += 3)
            assert_null(hmap_put(&m, h, it[i].key, it[i].klen, &it[i]));
        for (int i = 0; i < C; i++)
            assert_ptr_equal(hmap_get(&m, h, it[i].key, it[i].klen), &it[i]);
        hmap_free(&m);
        xfree(it);
    }
}

/* Deletions with real hashes across a wrapped table: delete half of N keys in a
 * scattered order and check every key, present or not. */
static void test_delete_many(void **state)
{
    (void)state;
    struct hmap m = {0};
    struct item *it = items();
    for (int i = 0; i < N; i++)
        hmap_put(&m, h_of(&it[i]), it[i].key, it[i].klen, &it[i]);
    for (int i = 0; i < N; i++) {
        int j = (int)(((unsigned)i * 7919u) % N); /* 7919 is prime, so j runs over all */
        if (j % 2)
            assert_ptr_equal(hmap_del(&m, h_of(&it[j]), it[j].key, it[j].klen), &it[j]);
    }
    assert_int_equal(m.n, N / 2);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(hmap_get(&m, h_of(&it[i]), it[i].key, it[i].klen), i % 2 ? NULL : &it[i]);
    hmap_free(&m);
    xfree(it);
}

static void test_hash(void **state)
{
    (void)state;
    /* FNV-1a of "" is the offset basis 14695981039346656037 = 0xcbf29ce484222325;
     * then h ^= h >> 29, where 0xcbf29ce484222325 >> 29 = 0x65f94e724 (Python). */
    assert_int_equal(hmap_hash("", 0, HMAP_SEED), UINT64_C(0xcbf29ce484222325) ^ 0x65f94e724);
    assert_true(hmap_hash("a", 1, HMAP_SEED) != hmap_hash("b", 1, HMAP_SEED));
    assert_true(hmap_hash("ab", 2, HMAP_SEED) != hmap_hash("ab", 2, 5)); /* seed counts */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_find_grow),
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_collisions_and_delete),
        cmocka_unit_test(test_delete_many),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
