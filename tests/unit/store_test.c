/* store_test.c - aggregator/store on a real RocksDB folder: families, the write batch's own
 * index, tombstones, replacement, MultiGet, iteration, reopening and a secondary reader.
 *
 * The counters are the 8-byte big-endian values docs/store.md gives for count/<type>; the
 * store only keeps bytes, so the test writes and reads them as bytes.
 */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>

#include <rocksdb/c.h>

#include "aggregator/store.h"
#include "common/arena.h"
#include "common/xalloc.h"

static char dir[64], db[96];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/cadre-store.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(db, sizeof db, "%s/db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static struct store *open_db(bool read_only)
{
    struct store *s = NULL;
    char err[256] = "";
    assert_int_equal(store_open(&s, db, true, read_only, err, sizeof err), 0);
    assert_non_null(s);
    return s;
}

/* Fails unless family cf holds exactly want under key (want NULL: absent). */
static void assert_get(struct store *s, enum store_cf cf, const char *key, const char *want)
{
    char *v = NULL;
    size_t vl = 0;
    int rc = store_get(s, cf, key, strlen(key), &v, &vl);
    if (!want) {
        assert_int_equal(rc, 0);
        assert_null(v);
        return;
    }
    assert_int_equal(rc, 1);
    assert_bytes_equal(v, vl, want);
    assert_int_equal(v[vl], '\0'); /* values come back NUL-terminated */
    xfree(v);
}

static void put(struct store_txn *t, enum store_cf cf, const char *k, const char *v)
{
    store_txn_put(t, cf, k, strlen(k), v, strlen(v));
}

static void test_families(void **state)
{
    (void)state;
    struct store *s = open_db(false);
    struct store_txn *t = store_txn_new(s);
    /* The same key in every family holds that family's own value. */
    char val[CF_COUNT][32];
    for (int cf = 0; cf < CF_COUNT; cf++) {
        snprintf(val[cf], sizeof val[cf], "value-%d", cf);
        put(t, (enum store_cf)cf, "k", val[cf]);
    }
    /* Nothing is visible before the commit. */
    assert_get(s, CF_USAGE, "k", NULL);
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    for (int cf = 0; cf < CF_COUNT; cf++)
        assert_get(s, (enum store_cf)cf, "k", val[cf]);

    /* A tombstone in one family leaves the others alone. */
    t = store_txn_new(s);
    store_txn_delete(t, CF_SHIFTS, "k", 1);
    store_txn_delete(t, CF_EHR, "never-written", 13); /* deleting an absent key is fine */
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    assert_get(s, CF_SHIFTS, "k", NULL);
    assert_get(s, CF_ABSENCES, "k", val[CF_ABSENCES]);
    assert_get(s, CF_EHR, "never-written", NULL);
    store_close(s);
}

/* The write batch's own index (store_txn_own/get): the newest write of a key wins, per
 * family, before the commit; afterwards the database holds the same. */
static void test_txn_own(void **state)
{
    (void)state;
    struct store *s = open_db(false);
    struct store_txn *t = store_txn_new(s);
    put(t, CF_STAFFING, "old", "in-db");
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);

    t = store_txn_new(s);
    const char *v;
    size_t vl;
    assert_int_equal(store_txn_own(t, CF_STAFFING, "old", 3, &v, &vl), -ENOENT);
    char *got = NULL;
    size_t gl = 0;
    assert_int_equal(store_txn_get(t, CF_STAFFING, "old", 3, &got, &gl), 1); /* from the db */
    assert_bytes_equal(got, gl, "in-db");
    xfree(got);

    put(t, CF_STAFFING, "row", "v1");
    put(t, CF_STAFFING, "row", "v2-correction"); /* keyed replacement in one batch */
    put(t, CF_TRAINING, "row", "other-family");
    assert_int_equal(store_txn_own(t, CF_STAFFING, "row", 3, &v, &vl), 1);
    assert_bytes_equal(v, vl, "v2-correction");
    assert_int_equal(store_txn_own(t, CF_TRAINING, "row", 3, &v, &vl), 1);
    assert_bytes_equal(v, vl, "other-family");
    assert_int_equal(store_txn_own(t, CF_USAGE, "row", 3, &v, &vl), -ENOENT);

    store_txn_delete(t, CF_STAFFING, "old", 3); /* deleted in the batch: 0, not the db's */
    assert_int_equal(store_txn_own(t, CF_STAFFING, "old", 3, &v, &vl), 0);
    assert_int_equal(store_txn_get(t, CF_STAFFING, "old", 3, &got, &gl), 0);

    put(t, CF_TRAINING, "back", "x");
    store_txn_delete(t, CF_TRAINING, "back", 4);
    put(t, CF_TRAINING, "back", "revived"); /* delete then put: the put wins */
    assert_int_equal(store_txn_own(t, CF_TRAINING, "back", 4, &v, &vl), 1);
    assert_bytes_equal(v, vl, "revived");

    /* Enough keys to grow the index several times; all stay findable. */
    char k[32], want[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "many-%d", i);
        snprintf(want, sizeof want, "val-%d", i * 7);
        put(t, CF_USAGE, k, want);
    }
    for (int i = 0; i < 3000; i++) {
        snprintf(k, sizeof k, "many-%d", i);
        snprintf(want, sizeof want, "val-%d", i * 7);
        assert_int_equal(store_txn_own(t, CF_USAGE, k, strlen(k), &v, &vl), 1);
        assert_bytes_equal(v, vl, want);
    }
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);

    assert_get(s, CF_STAFFING, "row", "v2-correction");
    assert_get(s, CF_STAFFING, "old", NULL);
    assert_get(s, CF_TRAINING, "back", "revived");
    assert_get(s, CF_USAGE, "many-2999", "val-20993");

    /* A batch freed without a commit writes nothing. */
    t = store_txn_new(s);
    put(t, CF_USAGE, "lost", "x");
    store_txn_free(t);
    assert_get(s, CF_USAGE, "lost", NULL);
    store_close(s);
}

static void test_multi_get_and_iter(void **state)
{
    (void)state;
    struct store *s = open_db(false);
    struct store_txn *t = store_txn_new(s);
    char k[32], v[32];
    for (int i = 0; i < 40; i += 2) { /* even keys only */
        snprintf(k, sizeof k, "key-%02d", i);
        snprintf(v, sizeof v, "v%d", i);
        put(t, CF_EHR, k, v);
    }
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);

    /* 40 keys: more than one of MultiGet's 32-key calls. */
    enum { N = 40 };
    char keys[N][32];
    const uint8_t *kp[N];
    size_t kl[N], vlens[N];
    uint8_t found[N];
    const char *vals[N];
    for (int i = 0; i < N; i++) {
        kl[i] = (size_t)snprintf(keys[i], sizeof keys[i], "key-%02d", N - 1 - i);
        kp[i] = (const uint8_t *)keys[i];
    }
    struct arena ar = {0};
    assert_int_equal(store_multi_get(s, CF_EHR, N, kp, kl, &ar, found, vals, vlens), 0);
    for (int i = 0; i < N; i++) {
        int key = N - 1 - i;
        assert_int_equal(found[i], key % 2 == 0);
        if (found[i]) {
            snprintf(v, sizeof v, "v%d", key);
            assert_bytes_equal(vals[i], vlens[i], v);
        }
    }
    arena_release(&ar);

    /* Iteration is in key order and sees only this family. */
    struct store_iter *it = store_iter_new(s, CF_EHR);
    int n = 0;
    for (; store_iter_valid(it); store_iter_next(it), n++) {
        size_t klen, vlen;
        const char *key = store_iter_key(it, &klen), *val = store_iter_value(it, &vlen);
        snprintf(k, sizeof k, "key-%02d", 2 * n);
        snprintf(v, sizeof v, "v%d", 2 * n);
        assert_bytes_equal(key, klen, k);
        assert_bytes_equal(val, vlen, v);
    }
    assert_int_equal(n, N / 2);
    store_iter_free(it);
    it = store_iter_new(s, CF_ABSENCES);
    assert_false(store_iter_valid(it));
    store_iter_free(it);
    store_close(s);
}

/* Counters (8-byte big-endian, as docs/store.md has them) survive a reopen, and a read-only
 * secondary sees the primary's writes after store_catch_up. */
static void test_reopen(void **state)
{
    (void)state;
    static const char count_key[] = "count/usage";
    struct store *s = open_db(false);
    for (uint64_t n = 1; n <= 3; n++) {
        struct store_txn *t = store_txn_new(s);
        uint8_t be[8];
        for (int i = 0; i < 8; i++)
            be[i] = (uint8_t)(n * 1000 >> (56 - 8 * i));
        store_txn_put(t, CF_META, count_key, sizeof count_key - 1, be, 8);
        assert_int_equal(store_txn_commit(t), 0);
        store_txn_free(t);
    }
    store_close(s);

    s = open_db(false);
    char *v = NULL;
    size_t vl = 0;
    assert_int_equal(store_get(s, CF_META, count_key, sizeof count_key - 1, &v, &vl), 1);
    assert_int_equal(vl, 8);
    assert_memory_equal(v, "\0\0\0\0\0\0\x0b\xb8", 8); /* 3000 = 0x0bb8 */
    xfree(v);

    struct store *ro = open_db(true);
    assert_get(ro, CF_USAGE, "late", NULL);
    struct store_txn *t = store_txn_new(s);
    put(t, CF_USAGE, "late", "written after the secondary opened");
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    assert_int_equal(store_catch_up(ro), 0);
    assert_get(ro, CF_USAGE, "late", "written after the secondary opened");
    store_close(ro);
    store_close(s);

    /* A folder that is not a database and cannot become one fails with a message. */
    struct store *bad = NULL;
    char err[256] = "";
    char path[128];
    snprintf(path, sizeof path, "%s/missing/db", dir);
    assert_int_equal(store_open(&bad, path, true, true, err, sizeof err), -EIO);
    assert_null(bad);
    assert_non_null(strstr(err, "cannot open database"));
}

/* A batch without its own index writes the same, but reads past its own writes. */
static void test_txn_unindexed(void **state)
{
    (void)state;
    struct store *s = open_db(false);
    struct store_txn *t = store_txn_new(s);
    put(t, CF_SHIFTS, "k1", "in-db");
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    t = store_txn_new_unindexed(s);
    put(t, CF_SHIFTS, "k1", "new");
    put(t, CF_SHIFTS, "k2", "two");
    store_txn_delete(t, CF_SHIFTS, "k0", 2);
    const char *v;
    size_t vl;
    assert_int_equal(store_txn_own(t, CF_SHIFTS, "k1", 2, &v, &vl), -ENOENT);
    assert_int_equal(store_txn_own(t, CF_SHIFTS, "k2", 2, &v, &vl), -ENOENT);
    char *got = NULL;
    size_t gl = 0;
    assert_int_equal(store_txn_get(t, CF_SHIFTS, "k1", 2, &got, &gl), 1);
    assert_bytes_equal(got, gl, "in-db");
    xfree(got);
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    assert_get(s, CF_SHIFTS, "k1", "new");
    assert_get(s, CF_SHIFTS, "k2", "two");
    store_close(s);
}

/* The writer prefix of a record value: 0xFA 0x7F, a length of 1..64, the id, the body. */
static void test_value_writer(void **state)
{
    (void)state;
    uint8_t v[128];
    size_t pre = store_put_writer(v, "north-agent", 11);
    assert_int_equal(pre, 14);
    assert_memory_equal(v, "\xFA\x7F\x0bnorth-agent", 14);
    memcpy(v + pre, "\x0a\x02hi", 4); /* a body: field 1, "hi" */
    const char *w;
    size_t wl;
    assert_int_equal(store_value_writer((const char *)v, pre + 4, &w, &wl), 14);
    assert_int_equal(wl, 11);
    assert_memory_equal(w, "north-agent", 11);
    /* A prefix with no body after it is a record whose body is empty. */
    assert_int_equal(store_value_writer((const char *)v, pre, &w, &wl), 14);
    /* No prefix: a body stored before writers were kept, or bytes that only look like one
     * (length 0, over 64, or past the value's end). */
    assert_int_equal(store_value_writer("\x0a\x02hi", 4, &w, &wl), 0);
    assert_null(w);
    assert_int_equal(wl, 0);
    assert_int_equal(store_value_writer("", 0, &w, &wl), 0);
    assert_int_equal(store_value_writer("\xFA\x7F", 2, &w, &wl), 0);
    assert_int_equal(store_value_writer("\xFA\x7F\x00", 3, &w, &wl), 0);
    assert_int_equal(store_value_writer("\xFA\x7F\x41", 3, &w, &wl), 0);
    assert_int_equal(store_value_writer((const char *)v, pre - 1, &w, &wl), 0);
    memset(v + 3, 'a', 64);
    v[2] = 64;
    assert_int_equal(store_value_writer((const char *)v, 67, &w, &wl), 67);
    v[2] = 65;
    assert_int_equal(store_value_writer((const char *)v, 68, &w, &wl), 0);
}

/* A database written before the licence family existed (made here with RocksDB's own API,
 * families default and usage only) opens as a secondary reader; iterating the family it
 * lacks finds nothing, the others read as usual. The primary then creates the family. */
static void test_older_database(void **state)
{
    (void)state;
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    rocksdb_options_set_create_missing_column_families(o, 1);
    const char *names[] = {"default", "usage"};
    const rocksdb_options_t *opts[] = {o, o};
    rocksdb_column_family_handle_t *h[2];
    char *err = NULL;
    rocksdb_t *raw = rocksdb_open_column_families(o, db, 2, names, opts, h, &err);
    assert_null(err);
    rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
    rocksdb_put_cf(raw, wo, h[1], "k", 1, "v", 1, &err);
    assert_null(err);
    rocksdb_writeoptions_destroy(wo);
    rocksdb_column_family_handle_destroy(h[0]);
    rocksdb_column_family_handle_destroy(h[1]);
    rocksdb_close(raw);
    rocksdb_options_destroy(o);

    struct store *ro = open_db(true);
    struct store_iter *it = store_iter_new(ro, CF_LICENCE);
    assert_false(store_iter_valid(it));
    store_iter_free(it);
    it = store_iter_new(ro, CF_USAGE);
    assert_true(store_iter_valid(it));
    size_t kl;
    assert_memory_equal(store_iter_key(it, &kl), "k", 1);
    store_iter_free(it);
    store_close(ro);
    struct store *rw = open_db(false); /* creates the missing families */
    it = store_iter_new(rw, CF_LICENCE);
    assert_false(store_iter_valid(it));
    store_iter_free(it);
    store_close(rw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_families, setup, teardown),
        cmocka_unit_test(test_value_writer),
        cmocka_unit_test_setup_teardown(test_txn_unindexed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_get_and_iter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
