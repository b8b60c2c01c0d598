/* ingest_test.c - batches into a real RocksDB folder: dedupe, replacement, tombstones,
 * rejected records, persisted counters. */
#include "tests/unit/testutil.h"

#include "tests/unit/fixtures.h"

struct env {
    char *dir;
    struct store *store;
    struct ingest *ing;
};

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256];
    if (store_open(&e->store, e->dir, false, false, err, sizeof err))
        return -1;
    ingest_new(&e->ing, e->store, NULL, NULL);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    ingest_free(e->ing);
    store_close(e->store);
    fx_rmdb(e->dir);
    xfree(e);
    return 0;
}

static void stats(struct env *e, struct ingest_stats *st)
{
    ingest_stats(e->ing, st);
    ingest_stats_free(st);
}

static void test_dedupe_and_replace(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    struct ingest_stats st;
    /* Batch 1: two episodes of person 1, one of person 2, two usage lines. */
    fx_staffing(&fb, 1, "2025-01-01", "2025-06-30", CADRE__END_REASON__END_REASON_TRANSFER,
                "north", "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 1, "2025-07-01", NULL, 0, "north", "ER", "nurse", 0, 1000000);
    fx_staffing(&fb, 2, "2025-01-01", NULL, 0, "south", "ER", "nurse", 0, 800000);
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 0);
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 100);
    assert_int_equal(fx_ingest(e->ing, &fb, 1), 200);
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 3);
    assert_int_equal(st.stored[REC_USAGE], 2);
    assert_int_equal(st.batches[BATCH_ACCEPTED], 1);

    /* The same (agent, spool, seq) again is a duplicate, whatever it holds. */
    fx_usage(&fb, 1, "2026-09-02", "ambient-scribe", 0, 200);
    assert_int_equal(fx_ingest(e->ing, &fb, 1), 200);
    stats(e, &st);
    assert_int_equal(st.batches[BATCH_DUPLICATE], 1);
    assert_int_equal(st.stored[REC_USAGE], 2);

    /* A new seq re-delivering the same usage key stores nothing new; an HR export filling
     * in person 2's end date replaces the episode (same key). */
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 100);
    fx_staffing(&fb, 2, "2025-01-01", "2026-03-31", CADRE__END_REASON__END_REASON_VOLUNTARY,
                "south", "ER", "nurse", 0, 800000);
    assert_int_equal(fx_ingest(e->ing, &fb, 2), 200);
    stats(e, &st);
    assert_int_equal(st.stored[REC_USAGE], 2);
    assert_int_equal(st.stored[REC_STAFFING], 3);
    uint8_t staff[16], key[RECKEY_MAX];
    fx_staff(staff, 2);
    size_t kl = reckey_staffing(key, staff, fx_day("2025-01-01"));
    char *val;
    size_t vlen;
    assert_int_equal(store_get(e->store, CF_STAFFING, key, kl, &val, &vlen), 1);
    Cadre__Staffing *s = cadre__staffing__unpack(NULL, vlen, (uint8_t *)val);
    assert_non_null(s);
    assert_true(s->has_end_day);
    assert_int_equal(s->end_day, fx_day("2026-03-31"));
    cadre__staffing__free_unpacked(s, NULL);
    xfree(val);

    /* A tombstone deletes; a tombstone for a missing key changes nothing. */
    fx_tombstone(&fb, REC_STAFFING, key, kl);
    fx_staff(staff, 99);
    uint8_t key2[RECKEY_MAX];
    size_t kl2 = reckey_staffing(key2, staff, fx_day("2025-01-01"));
    fx_tombstone(&fb, REC_STAFFING, key2, kl2);
    assert_int_equal(fx_ingest(e->ing, &fb, 3), 200);
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 2);
    assert_int_equal(store_get(e->store, CF_STAFFING, key, kl, NULL, NULL), 0);
    assert_int_equal(st.batches[BATCH_ACCEPTED], 3);
}

static void test_rejections(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    struct ingest_stats st;
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000); /* ok */
    fx_staffing(&fb, 2, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1600000); /* fte */
    Cadre__Record *r = fx_staffing(&fb, 3, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0,
                                   1000000);
    r->key.data[17] ^= 1; /* key does not match its fields */
    r = fx_usage(&fb, 4, "2026-09-01", "Bad Tool", 0, 0); /* tool charset */
    r = fx_rec(&fb, REC_EHR); /* an EHR record with a usage body: malformed */
    r->key.len = 20;
    memset(r->key.data, 1, 20);
    Cadre__Usage *u = xcalloc(1, sizeof *u);
    cadre__usage__init(u);
    u->staff = fx_staff_bin(5);
    u->tool = xstrdup("x");
    r->body_case = CADRE__RECORD__BODY_USAGE;
    r->usage = u;
    assert_int_equal(fx_ingest(e->ing, &fb, 7), 200);
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 1);
    assert_int_equal(st.rejected[REJ_INVALID_VALUE], 3);
    assert_int_equal(st.rejected[REJ_MALFORMED], 1);
    assert_int_equal(st.records[REC_STAFFING], 1);

    /* Not protobuf at all: 400; a batch whose agent is not the token's: 401. */
    char msg[128];
    assert_int_equal(ingest_batch(e->ing, "a1", (const uint8_t *)"\xff\xff\xff", 3, msg,
                                  sizeof msg), 400);
    size_t len;
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    uint8_t *buf = fx_pack(&fb, "a1", 8, &len);
    assert_int_equal(ingest_batch(e->ing, "other", buf, len, msg, sizeof msg), 401);
    xfree(buf);
    fx_clear(&fb);
    stats(e, &st);
    assert_int_equal(st.batches[BATCH_REJECTED], 2);
}

static void test_counts_survive_reopen(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    for (uint32_t i = 1; i <= 5; i++)
        fx_staffing(&fb, i, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    fx_usage(&fb, 1, "2026-09-01", "chat-assistant", 1, 0);
    assert_int_equal(fx_ingest(e->ing, &fb, 1), 200);
    ingest_free(e->ing);
    store_close(e->store);
    char err[256];
    assert_int_equal(store_open(&e->store, e->dir, false, false, err, sizeof err), 0);
    ingest_new(&e->ing, e->store, NULL, NULL);
    struct ingest_stats st;
    ingest_stats(e->ing, &st);
    assert_int_equal(st.stored[REC_STAFFING], 5);
    assert_int_equal(st.stored[REC_USAGE], 1);
    /* Newest usage: noon of 2026-09-01. */
    assert_int_equal(st.newest_s[REC_USAGE], (int64_t)fx_day("2026-09-01") * 86400 + 43200);
    assert_int_equal(st.nagents, 1);
    assert_string_equal(st.agents[0].id, "a1");
    ingest_stats_free(&st);
    /* The batch is still known after the reopen. */
    fx_usage(&fb, 2, "2026-09-01", "chat-assistant", 1, 50);
    assert_int_equal(fx_ingest(e->ing, &fb, 1), 200);
    ingest_stats(e->ing, &st);
    assert_int_equal(st.batches[BATCH_DUPLICATE], 1);
    assert_int_equal(st.stored[REC_USAGE], 1);
    ingest_stats_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedupe_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_survive_reopen, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
