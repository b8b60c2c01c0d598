/* ingest_test.c - batches into a real RocksDB folder: dedupe, replacement, tombstones,
 * rejected records, persisted counters. */
#include "tests/unit/testutil.h"

#include <pthread.h>
#include <time.h>

#include "aggregator/kpi.h"
#include "aggregator/kpi_model.h"
#include "common/decimal.h"
#include "common/timeutil.h"
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
    ingest_new(&e->ing, e->store, NULL, NULL, NULL);
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
    fx_staffing(&fb, 1, "2025-01-01", "2025-06-30", CADRE__END_REASON__END_REASON_TRANSFER, "north",
                "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 1, "2025-07-01", NULL, 0, "north", "ER", "nurse", 0, 1000000);
    fx_staffing(&fb, 2, "2025-01-01", NULL, 0, "south", "ER", "nurse", 0, 800000);
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 0);
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 100);
    assert_true(fx_ingest(e->ing, &fb, 1));
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 3);
    assert_int_equal(st.stored[REC_USAGE], 2);
    assert_int_equal(st.batches[BATCH_ACCEPTED], 1);

    /* The same (agent, spool, seq) again is a duplicate, whatever it holds. */
    fx_usage(&fb, 1, "2026-09-02", "ambient-scribe", 0, 200);
    assert_true(fx_ingest(e->ing, &fb, 1));
    stats(e, &st);
    assert_int_equal(st.batches[BATCH_DUPLICATE], 1);
    assert_int_equal(st.stored[REC_USAGE], 2);

    /* A new seq re-delivering the same usage key stores nothing new; an HR export filling
     * in person 2's end date replaces the episode (same key). */
    fx_usage(&fb, 1, "2026-09-01", "ambient-scribe", 0, 100);
    fx_staffing(&fb, 2, "2025-01-01", "2026-03-31", CADRE__END_REASON__END_REASON_VOLUNTARY,
                "south", "ER", "nurse", 0, 800000);
    assert_true(fx_ingest(e->ing, &fb, 2));
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
    assert_true(fx_ingest(e->ing, &fb, 3));
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
    Cadre__Record *r =
        fx_staffing(&fb, 3, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    r->key.data[17] ^= 1;                                 /* key does not match its fields */
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
    assert_true(fx_ingest(e->ing, &fb, 7));
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 1);
    assert_int_equal(st.rejected[REJ_INVALID_VALUE], 3);
    assert_int_equal(st.rejected[REJ_MALFORMED], 1);
    assert_int_equal(st.records[REC_STAFFING], 1);

    /* Not protobuf at all: malformed; a batch whose agent is not the token's. */
    char msg[128];
    assert_int_equal(
        ingest_batch(e->ing, "a1", NULL, (const uint8_t *)"\xff\xff\xff", 3, msg, sizeof msg),
        INGEST_MALFORMED);
    size_t len;
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    uint8_t *buf = fx_pack(&fb, "a1", 8, &len);
    assert_int_equal(ingest_batch(e->ing, "other", NULL, buf, len, msg, sizeof msg),
                     INGEST_WRONG_AGENT);
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
    assert_true(fx_ingest(e->ing, &fb, 1));
    ingest_free(e->ing);
    store_close(e->store);
    char err[256];
    assert_int_equal(store_open(&e->store, e->dir, false, false, err, sizeof err), 0);
    ingest_new(&e->ing, e->store, NULL, NULL, NULL);
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
    assert_true(fx_ingest(e->ing, &fb, 1));
    ingest_stats(e->ing, &st);
    assert_int_equal(st.batches[BATCH_DUPLICATE], 1);
    assert_int_equal(st.stored[REC_USAGE], 1);
    ingest_stats_free(&st);
}

/* Compares two tables cell by cell. */
static void tables_equal(const struct kpi_table *a, const struct kpi_table *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct kpi_row *x = &a->rows[i], *y = &b->rows[i];
        assert_string_equal(x->kpi, y->kpi);
        assert_string_equal(x->by, y->by);
        assert_string_equal(x->group, y->group);
        assert_double_exact(x->numerator, y->numerator);
        assert_double_exact(x->denominator, y->denominator);
        assert_int_equal(x->persons, y->persons);
        assert_int_equal(x->suppressed, y->suppressed);
    }
}

/* The model ingest keeps current equals the model loaded from the store afterwards,
 * through replacements, tombstones and re-deliveries. */
static void test_model_follows_store(void **state)
{
    struct env *e = *state;
    struct kpi_model *live = kpi_model_new();
    ingest_free(e->ing);
    ingest_new(&e->ing, e->store, live, NULL, NULL);
    struct fx_batch fb = {0};
    for (uint32_t p = 1; p <= 12; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", p <= 6 ? "ICU" : "ER", "nurse", 0,
                    1000000);
    for (uint32_t p = 1; p <= 9; p++) {
        fx_usage(&fb, p, "2026-09-10", "ambient-scribe", p % 4, p);
        fx_shift(&fb, p, "2026-09-10T07:00:00Z", "2026-09-10T20:00:00Z", 1500000);
        fx_ehr(&fb, p, "2026-09-11", 8, 60, 20, 10);
    }
    assert_true(fx_ingest(e->ing, &fb, 1));
    /* Person 3 leaves (end date filled in), person 4's shift is retracted, usage lines are
     * re-delivered, person 5's usage line is rewritten with another tool. */
    fx_staffing(&fb, 3, "2025-01-01", "2026-09-05", CADRE__END_REASON__END_REASON_VOLUNTARY,
                "north", "ICU", "nurse", 0, 1000000);
    uint8_t staff[16], key[RECKEY_MAX];
    fx_staff(staff, 4);
    int64_t t4;
    int32_t d4;
    parse_rfc3339("2026-09-10T07:00:00Z", 20, &t4, &d4);
    fx_tombstone(&fb, REC_SHIFTS, key, reckey_shift(key, staff, t4));
    for (uint32_t p = 1; p <= 4; p++)
        fx_usage(&fb, p, "2026-09-10", "ambient-scribe", p % 4, p);
    fx_usage(&fb, 5, "2026-09-12", "chat-assistant", 1, 5);
    assert_true(fx_ingest(e->ing, &fb, 2));

    struct kpi_model *loaded;
    assert_int_equal(kpi_model_load(&loaded, e->store), 0);
    struct kpi_params p = {.as_of = fx_day("2026-09-30"),
                           .min_group_size = 5,
                           .contract_hours_micro = 40 * MICRO,
                           .burnout_min_flags = 2,
                           .burnout_short_rests = 2,
                           .burnout_long_shift_share = 250000};
    struct kpi_table a = {0}, b = {0};
    kpi_model_sync(live); /* the model's thread has applied every stored batch */
    kpi_compute_window(live, &p, "28d", &a);
    kpi_compute_window(loaded, &p, "28d", &b);
    assert_true(a.n > 20);
    tables_equal(&a, &b);
    /* And the changes are in: all 12 are in the 28d population (person 3 was employed
     * 09-03..09-05); active are persons 1, 2, 4..9 = 8, since person 3's 09-10 usage came
     * after leaving (unmatched). */
    const struct kpi_row *r = kpi_table_find(&a, "adoption_ratio", "28d", "org", "all");
    assert_non_null(r);
    assert_double_exact(r->numerator, 8);
    assert_double_exact(r->denominator, 12);
    uint64_t u1[REC_TYPE_MAX + 1], u2[REC_TYPE_MAX + 1];
    kpi_model_unmatched(live, u1);
    kpi_model_unmatched(loaded, u2);
    assert_memory_equal(u1, u2, sizeof u1);
    assert_int_equal(u1[REC_USAGE], 1); /* person 3 used AI on 09-10, after leaving */
    kpi_table_clear(&a);
    kpi_table_clear(&b);
    kpi_model_free(loaded);
    ingest_free(e->ing);
    e->ing = NULL;
    kpi_model_free(live);
}

/* The model's own thread applies stored batches in order; a reader taking the read lock
 * sees every batch stored before (no explicit sync), and freeing the model with sets still
 * waiting applies and frees them (ASan and LeakSanitizer watch SANITIZE=1 runs). 60 batches
 * of episodes, usage and corrections for 30 people: the live model equals one loaded from
 * the store. */
static void test_model_thread_order(void **state)
{
    struct env *e = *state;
    struct kpi_model *live = kpi_model_new();
    ingest_free(e->ing);
    ingest_new(&e->ing, e->store, live, NULL, NULL);
    struct fx_batch fb = {0};
    for (uint32_t seq = 1; seq <= 60; seq++) {
        uint32_t who = 1 + seq % 30;
        /* Odd batches hire, even ones end the episode a batch before wrote: the model must
         * see them in this order to end with the store's episodes. */
        if (seq % 2)
            fx_staffing(&fb, who, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
        else
            fx_staffing(&fb, 1 + (seq - 1) % 30, "2025-01-01", "2026-09-10",
                        CADRE__END_REASON__END_REASON_VOLUNTARY, "north", "ICU", "nurse", 0,
                        1000000);
        for (uint32_t i = 0; i < 20; i++)
            fx_usage(&fb, who, "2026-09-08", "ambient-scribe", 1, seq * 1000 + i);
        assert_true(fx_ingest(e->ing, &fb, seq));
    }
    struct kpi_model *loaded;
    assert_int_equal(kpi_model_load(&loaded, e->store), 0);
    struct kpi_params p = {.as_of = fx_day("2026-09-30"),
                           .min_group_size = 5,
                           .contract_hours_micro = 40 * MICRO,
                           .burnout_min_flags = 2,
                           .burnout_short_rests = 2,
                           .burnout_long_shift_share = 250000};
    struct kpi_table a = {0}, b = {0};
    kpi_model_rdlock(live);
    kpi_compute_window(live, &p, "90d", &a);
    kpi_model_unlock(live);
    kpi_compute_window(loaded, &p, "90d", &b);
    tables_equal(&a, &b);
    const struct kpi_row *r = kpi_table_find(&a, "adoption_ratio", "90d", "org", "all");
    assert_non_null(r);
    /* Odd batches hire person 1 + seq % 30: the even-numbered 2..30, 15 people, each
     * employed in the window until the end an even batch gave (09-10). */
    assert_double_exact(r->denominator, 15);
    kpi_table_clear(&a);
    kpi_table_clear(&b);
    kpi_model_free(loaded);
    /* More batches, then the model is freed at once. */
    for (uint32_t seq = 61; seq <= 70; seq++) {
        fx_usage(&fb, 1, "2026-09-09", "ambient-scribe", 1, seq * 1000);
        assert_true(fx_ingest(e->ing, &fb, seq));
    }
    ingest_free(e->ing);
    e->ing = NULL;
    kpi_model_free(live);
}

/* One batch that writes some keys twice: a staffing row and then its correction, a row and
 * then its tombstone, a usage line twice. The later write wins, each key counts once, and
 * the live model (which saw both writes) equals one loaded from the store. */
static void test_same_key_twice_in_batch(void **state)
{
    struct env *e = *state;
    struct kpi_model *live = kpi_model_new();
    ingest_free(e->ing);
    ingest_new(&e->ing, e->store, live, NULL, NULL);
    struct fx_batch fb = {0};
    for (uint32_t p = 1; p <= 6; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 1, "2025-01-01", "2026-09-05", CADRE__END_REASON__END_REASON_VOLUNTARY,
                "north", "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 7, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    uint8_t staff[16], key[RECKEY_MAX];
    fx_staff(staff, 7);
    fx_tombstone(&fb, REC_STAFFING, key, reckey_staffing(key, staff, fx_day("2025-01-01")));
    fx_usage(&fb, 2, "2026-09-10", "ambient-scribe", 1, 42);
    fx_usage(&fb, 2, "2026-09-10", "ambient-scribe", 1, 42);
    assert_true(fx_ingest(e->ing, &fb, 1));
    struct ingest_stats st;
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 6); /* persons 1..6; 7 put then deleted */
    assert_int_equal(st.stored[REC_USAGE], 1);
    fx_staff(staff, 1);
    size_t kl = reckey_staffing(key, staff, fx_day("2025-01-01"));
    char *val;
    size_t vlen;
    assert_int_equal(store_get(e->store, CF_STAFFING, key, kl, &val, &vlen), 1);
    Cadre__Staffing *s1 = cadre__staffing__unpack(NULL, vlen, (uint8_t *)val);
    assert_non_null(s1);
    assert_true(s1->has_end_day); /* the correction, written second, won */
    assert_int_equal(s1->end_day, fx_day("2026-09-05"));
    cadre__staffing__free_unpacked(s1, NULL);
    xfree(val);
    fx_staff(staff, 7);
    kl = reckey_staffing(key, staff, fx_day("2025-01-01"));
    assert_int_equal(store_get(e->store, CF_STAFFING, key, kl, NULL, NULL), 0);

    struct kpi_model *loaded;
    assert_int_equal(kpi_model_load(&loaded, e->store), 0);
    struct kpi_params p = {.as_of = fx_day("2026-09-30"),
                           .min_group_size = 5,
                           .contract_hours_micro = 40 * MICRO,
                           .burnout_min_flags = 2,
                           .burnout_short_rests = 2,
                           .burnout_long_shift_share = 250000};
    struct kpi_table a = {0}, b = {0};
    kpi_model_sync(live); /* the model's thread has applied every stored batch */
    kpi_compute_window(live, &p, "28d", &a);
    kpi_compute_window(loaded, &p, "28d", &b);
    tables_equal(&a, &b);
    /* 28d = 09-03..09-30: person 1 (left 09-05) and persons 2..6 are the 6 employed; only
     * person 2 used AI. Person 7 is gone, not a seventh. */
    const struct kpi_row *r = kpi_table_find(&a, "adoption_ratio", "28d", "org", "all");
    assert_non_null(r);
    assert_double_exact(r->numerator, 1);
    assert_double_exact(r->denominator, 6);
    kpi_table_clear(&a);
    kpi_table_clear(&b);
    kpi_model_free(loaded);
    ingest_free(e->ing);
    e->ing = NULL;
    kpi_model_free(live);
}

/* Instants, days and strings outside sane bounds are rejected one by one as invalid_value
 * (docs/wire.md, "What ingest accepts"); fields this version does not know are not stored;
 * a future staffing start is stored but does not move the newest-record time. */
static void test_bounds(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    struct ingest_stats st;
    int64_t today = time(NULL) / 86400;
    /* 1. A shift near the int64 limits (would overflow start - previous end). */
    Cadre__Record *r = fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 0);
    r->shift->start_us = INT64_MAX - 1000;
    r->shift->end_us = INT64_MAX;
    /* 2. A shift whose day is not its start's day in any offset. */
    r = fx_shift(&fb, 1, "2026-09-02T07:00:00Z", "2026-09-02T19:00:00Z", 0);
    r->shift->day += 2;
    /* 3. A usage event in year 9999 (its day matching). */
    r = fx_usage(&fb, 1, "9999-12-30", "scribe", 0, 1);
    /* 4. A usage event with a 1 MiB event string. */
    r = fx_usage(&fb, 1, "2026-09-01", "scribe", 0, 2);
    r->usage->event = xmalloc(1 << 20);
    memset(r->usage->event, 'e', (1 << 20) - 1);
    r->usage->event[(1 << 20) - 1] = 0;
    /* 5. An absence dated 10 days ahead, 6. a completion in 1850. */
    char ahead[11];
    format_date((int32_t)today + 10, ahead);
    fx_absence(&fb, 1, ahead, 8000000, CADRE__ABSENCE_KIND__ABSENCE_KIND_SICK);
    fx_training(&fb, 1, "ai-101", "1850-01-01");
    /* 7. A staffing end 20 years ahead. */
    char far[11];
    format_date((int32_t)today + 20 * 366, far);
    fx_staffing(&fb, 1, "2025-01-01", far, CADRE__END_REASON__END_REASON_OTHER, "north", "ICU",
                "nurse", 0, 1000000);
    /* Good ones: a shift at -05:00 whose day is the day before in UTC terms, an episode
     * starting in 30 days, a usage event with an unknown field 99 (varint 1). */
    fx_shift(&fb, 2, "2026-09-01T21:00:00-05:00", "2026-09-02T07:00:00-05:00", 0);
    char soon[11];
    format_date((int32_t)today + 30, soon);
    fx_staffing(&fb, 2, soon, NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    r = fx_usage(&fb, 2, "2026-09-01", "scribe", 0, 3);
    static uint8_t one = 1;
    r->usage->base.n_unknown_fields = 1;
    r->usage->base.unknown_fields = xcalloc(1, sizeof *r->usage->base.unknown_fields);
    r->usage->base.unknown_fields[0] = (ProtobufCMessageUnknownField){
        .tag = 99, .wire_type = PROTOBUF_C_WIRE_TYPE_VARINT, .len = 1, .data = xmemdup(&one, 1)};
    uint8_t staff[16], key[RECKEY_MAX];
    fx_staff(staff, 2);
    size_t kl = reckey_usage(key, "scribe", 0x1234, 3);
    assert_true(fx_ingest(e->ing, &fb, 1));
    stats(e, &st);
    assert_int_equal(st.rejected[REJ_INVALID_VALUE], 7);
    assert_int_equal(st.stored[REC_SHIFTS], 1);
    assert_int_equal(st.stored[REC_STAFFING], 1);
    assert_int_equal(st.stored[REC_USAGE], 1);
    /* The newest shift is the good one (2026-09-02 02:00Z); staffing's future start does
     * not count, so no staffing time is published yet. */
    assert_int_equal(st.newest_s[REC_SHIFTS], (int64_t)(fx_day("2026-09-02") * 86400 + 7200));
    assert_int_equal(st.newest_s[REC_STAFFING], 0);
    /* The stored usage body is the event without its unknown field. */
    char *val = NULL;
    size_t vlen = 0;
    assert_int_equal(store_get(e->store, CF_USAGE, key, kl, &val, &vlen), 1);
    Cadre__Usage *u = cadre__usage__unpack(NULL, vlen, (const uint8_t *)val);
    assert_non_null(u);
    assert_int_equal(u->base.n_unknown_fields, 0);
    assert_memory_equal(u->staff.data, staff, 16);
    cadre__usage__free_unpacked(u, NULL);
    xfree(val);
}

/* A batch of many empty records costs far more to decode than its size: past
 * INGEST_DECODE_BYTES it is refused as too costly (the agent splits it), not decoded. Its
 * halves are fine. */
static void test_too_costly(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    size_t hlen;
    uint8_t *head = fx_pack(&fb, "a1", 1, &hlen); /* the envelope alone */
    size_t n = 2u << 20;                          /* 2 MiB: a million empty records */
    uint8_t *body = xmalloc(hlen + n);
    memcpy(body, head, hlen);
    for (size_t i = 0; i < n; i += 2)
        body[hlen + i] = 0x3a, body[hlen + i + 1] = 0x00; /* field 7, length 0 */
    char msg[256];
    assert_int_equal(ingest_batch(e->ing, "a1", NULL, body, hlen + n, msg, sizeof msg),
                     INGEST_TOO_COSTLY);
    assert_non_null(strstr(msg, "too costly"));
    /* 1,000 small records (type EHR, empty key: 6 bytes each) decode within the 1 MiB
     * slack; each is then rejected on its own (a key must be the one its fields give) and
     * the batch is stored. */
    for (size_t i = 0; i < 6000; i += 6)
        memcpy(body + hlen + i, "\x3a\x04\x08\x05\x12\x00", 6);
    assert_int_equal(ingest_batch(e->ing, "a1", NULL, body, hlen + 6000, msg, sizeof msg),
                     INGEST_STORED);
    struct ingest_stats st;
    stats(e, &st);
    assert_int_equal(st.rejected[REJ_INVALID_VALUE], 1000);
    xfree(body);
    xfree(head);
    fx_clear(&fb);
}

/* Packs fb as agent, ingests it with scope and clears it. */
static enum ingest_result as_agent(struct env *e, struct fx_batch *fb, const char *agent,
                                   const struct ingest_scope *scope, uint64_t seq)
{
    size_t len;
    uint8_t *buf = fx_pack(fb, agent, seq, &len);
    char msg[256];
    enum ingest_result r = ingest_batch(e->ing, agent, scope, buf, len, msg, sizeof msg);
    xfree(buf);
    fx_clear(fb);
    return r;
}

static uint64_t not_permitted(struct env *e)
{
    struct ingest_stats st;
    stats(e, &st);
    return st.rejected[REJ_NOT_PERMITTED];
}

/* An agent may replace or delete only the records it wrote, those of agents it inherits,
 * and those of the types (and, for staffing, sites) its scope names; the same body again
 * is harmless from anyone. The last writer owns a record. */
static void test_ownership(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    uint8_t staff[16], skey[RECKEY_MAX];
    fx_staff(staff, 1);
    int64_t start_us = (int64_t)fx_day("2026-09-01") * 86400 * US_PER_SEC + 7 * US_PER_HOUR;
    size_t sklen = reckey_shift(skey, staff, start_us);
    /* a1 writes person 1's episode (north) and a shift. */
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 0);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 1), INGEST_STORED);
    /* b2, without a scope: a change and a deletion are refused; the same episode again is
     * taken (it changes nothing). */
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "physician", 0, 1000000);
    fx_tombstone(&fb, REC_SHIFTS, skey, sklen);
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    assert_int_equal(as_agent(e, &fb, "b2", NULL, 1), INGEST_STORED);
    assert_int_equal(not_permitted(e), 2);
    struct ingest_stats st;
    stats(e, &st);
    assert_int_equal(st.stored[REC_SHIFTS], 1);
    /* hr, scoped to staffing at north: may change a1's episode within north, not move it
     * to south, and may not touch the shift. */
    static const char *const north[] = {"north", NULL};
    struct ingest_scope hr = {.types = 1u << REC_STAFFING, .sites = north};
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "south", "ICU", "physician", 0, 1000000);
    fx_tombstone(&fb, REC_SHIFTS, skey, sklen);
    assert_int_equal(as_agent(e, &fb, "hr", &hr, 1), INGEST_STORED);
    assert_int_equal(not_permitted(e), 4);
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "physician", 0, 1000000);
    assert_int_equal(as_agent(e, &fb, "hr", &hr, 2), INGEST_STORED);
    assert_int_equal(not_permitted(e), 4);
    /* The episode is hr's now (the last writer owns it, and its scope limits only what it
     * takes from others): a1 may not change it back. */
    fx_staffing(&fb, 1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 2), INGEST_STORED);
    assert_int_equal(not_permitted(e), 5);
    /* a1's successor, inheriting a1, deletes a1's shift. */
    static const char *const from_a1[] = {"a1", NULL};
    struct ingest_scope succ = {.inherits = from_a1};
    fx_tombstone(&fb, REC_SHIFTS, skey, sklen);
    assert_int_equal(as_agent(e, &fb, "a1-new", &succ, 1), INGEST_STORED);
    assert_int_equal(not_permitted(e), 5);
    stats(e, &st);
    assert_int_equal(st.stored[REC_SHIFTS], 0);
    assert_int_equal(st.stored[REC_STAFFING], 1);
    /* A usage line never changes: another body under a stored usage key is refused, even
     * from the agent that sent it, unless the scope names usage; the same body is fine. */
    fx_usage(&fb, 1, "2026-09-01", "scribe", 0, 77);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 3), INGEST_STORED);
    fx_usage(&fb, 1, "2026-09-01", "other-tool", 0, 77);
    fx_usage(&fb, 1, "2026-09-01", "scribe", 0, 77);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 4), INGEST_STORED);
    assert_int_equal(not_permitted(e), 6);
    struct ingest_scope usage_fix = {.types = 1u << REC_USAGE};
    fx_usage(&fb, 1, "2026-09-01", "other-tool", 0, 77);
    assert_int_equal(as_agent(e, &fb, "fixer", &usage_fix, 1), INGEST_STORED);
    assert_int_equal(not_permitted(e), 6);
    /* The stored episode is hr's physician one. */
    uint8_t key[RECKEY_MAX];
    size_t kl = reckey_staffing(key, staff, fx_day("2025-01-01"));
    char *val = NULL;
    size_t vlen = 0;
    assert_int_equal(store_get(e->store, CF_STAFFING, key, kl, &val, &vlen), 1);
    /* ... and names hr in front of its body (docs/store.md); no owners entry is kept. */
    const char *w;
    size_t wl, pre = store_value_writer(val, vlen, &w, &wl);
    assert_int_equal(pre, 5);
    assert_memory_equal(w, "hr", 2);
    Cadre__Staffing *s = cadre__staffing__unpack(NULL, vlen - pre, (const uint8_t *)val + pre);
    assert_string_equal(s->role, "physician");
    assert_string_equal(s->site, "north");
    cadre__staffing__free_unpacked(s, NULL);
    xfree(val);
    uint8_t okey[1 + RECKEY_MAX];
    okey[0] = REC_STAFFING;
    memcpy(okey + 1, key, kl);
    assert_int_equal(store_get(e->store, CF_OWNERS, okey, kl + 1, NULL, NULL), 0);
}

/* Rewrites a stored record as an older aggregator kept it: the body alone, its writer in
 * the owners family. */
static void make_legacy(struct env *e, int type, const uint8_t *key, size_t kl, const char *writer)
{
    char *val = NULL;
    size_t vlen = 0;
    assert_int_equal(store_get(e->store, (enum store_cf)type, key, kl, &val, &vlen), 1);
    const char *w;
    size_t wl, pre = store_value_writer(val, vlen, &w, &wl);
    assert_int_equal(wl, strlen(writer));
    uint8_t okey[1 + RECKEY_MAX];
    okey[0] = (uint8_t)type;
    memcpy(okey + 1, key, kl);
    struct store_txn *t = store_txn_new(e->store);
    store_txn_put(t, (enum store_cf)type, key, kl, val + pre, vlen - pre);
    store_txn_put(t, CF_OWNERS, okey, kl + 1, writer, strlen(writer));
    assert_int_equal(store_txn_commit(t), 0);
    store_txn_free(t);
    xfree(val);
}

/* A database written before writers were kept in values: the owners family still decides,
 * and a change by the owner moves the writer into the value and drops the owners entry. */
static void test_legacy_owners(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    uint8_t staff[16], skey[RECKEY_MAX], okey[1 + RECKEY_MAX];
    fx_staff(staff, 1);
    int64_t start_us = (int64_t)fx_day("2026-09-01") * 86400 * US_PER_SEC + 7 * US_PER_HOUR;
    size_t sklen = reckey_shift(skey, staff, start_us);
    okey[0] = REC_SHIFTS;
    memcpy(okey + 1, skey, sklen);
    fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 0);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 1), INGEST_STORED);
    make_legacy(e, REC_SHIFTS, skey, sklen, "a1");
    /* b2 may not change or delete a1's legacy shift; the same body again is taken. */
    fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 2000000);
    fx_tombstone(&fb, REC_SHIFTS, skey, sklen);
    fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 0);
    assert_int_equal(as_agent(e, &fb, "b2", NULL, 1), INGEST_STORED);
    assert_int_equal(not_permitted(e), 2);
    assert_int_equal(store_get(e->store, CF_OWNERS, okey, sklen + 1, NULL, NULL), 1);
    /* a1 changes it: the value now names a1, the owners entry is gone. */
    fx_shift(&fb, 1, "2026-09-01T07:00:00Z", "2026-09-01T19:00:00Z", 2000000);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 2), INGEST_STORED);
    assert_int_equal(not_permitted(e), 2);
    assert_int_equal(store_get(e->store, CF_OWNERS, okey, sklen + 1, NULL, NULL), 0);
    char *val = NULL;
    size_t vlen = 0;
    const char *w;
    size_t wl;
    assert_int_equal(store_get(e->store, CF_SHIFTS, skey, sklen, &val, &vlen), 1);
    assert_int_equal(store_value_writer(val, vlen, &w, &wl), 5);
    assert_memory_equal(w, "a1", 2);
    xfree(val);
    /* Legacy again, then a1 deletes it: the shift and its owners entry both go. */
    make_legacy(e, REC_SHIFTS, skey, sklen, "a1");
    fx_tombstone(&fb, REC_SHIFTS, skey, sklen);
    assert_int_equal(as_agent(e, &fb, "a1", NULL, 3), INGEST_STORED);
    assert_int_equal(store_get(e->store, CF_SHIFTS, skey, sklen, NULL, NULL), 0);
    assert_int_equal(store_get(e->store, CF_OWNERS, okey, sklen + 1, NULL, NULL), 0);
    struct ingest_stats st;
    stats(e, &st);
    assert_int_equal(st.stored[REC_SHIFTS], 0);
}

/* Ingests fb as agent a1 with seq, following *follows (NULL: none); clears fb. */
static enum ingest_result after(struct env *e, struct fx_batch *fb, uint64_t seq,
                                const uint64_t *follows)
{
    size_t len;
    uint8_t *buf = fx_pack(fb, "a1", seq, &len);
    char msg[256];
    enum ingest_result r =
        ingest_batch_after(e->ing, "a1", NULL, follows, buf, len, msg, sizeof msg);
    xfree(buf);
    fx_clear(fb);
    return r;
}

/* Person 1's one staffing episode, in department dept. */
static void episode(struct fx_batch *fb, const char *dept)
{
    fx_staffing(fb, 1, "2025-01-01", NULL, 0, "north", dept, "nurse", 0, 1000000);
}

static const char *stored_dept(struct env *e)
{
    static char dept[65];
    uint8_t staff[16], key[RECKEY_MAX];
    fx_staff(staff, 1);
    size_t kl = reckey_staffing(key, staff, fx_day("2025-01-01"));
    char *val;
    size_t vlen;
    if (store_get(e->store, CF_STAFFING, key, kl, &val, &vlen) != 1)
        return NULL;
    const char *w;
    size_t wl, pre = store_value_writer(val, vlen, &w, &wl);
    Cadre__Staffing *s = cadre__staffing__unpack(NULL, vlen - pre, (uint8_t *)val + pre);
    snprintf(dept, sizeof dept, "%s", s ? s->department : "?");
    cadre__staffing__free_unpacked(s, NULL);
    xfree(val);
    return dept;
}

struct sender {
    struct env *e;
    int started;
    enum ingest_result r;
};

/* Batch 5 (department ER), sent before batch 6 follows it but handled slowly: the
 * request is counted as being handled (ingest_enter) before batch 6 arrives, and its
 * body is ingested 300 ms later. */
static void *slow_sender(void *arg)
{
    struct sender *sd = arg;
    struct timespec t = {0, 300 * 1000000L};
    nanosleep(&t, NULL);
    struct fx_batch fb = {0};
    episode(&fb, "ER");
    sd->r = after(sd->e, &fb, 5, NULL);
    ingest_leave(sd->e->ing, "a1");
    return NULL;
}

static void test_follows(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    struct ingest_stats st;
    uint64_t one = 1, three = 3, five = 5;
    /* Batch 2 follows batch 1, which was never stored and is not being handled: refused
     * at once, nothing written. */
    episode(&fb, "ICU");
    assert_int_equal(after(e, &fb, 2, &one), INGEST_OUT_OF_ORDER);
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 0);
    assert_int_equal(st.batches[BATCH_ACCEPTED], 0);
    /* Once batch 1 is stored, batch 2 goes through (sent again, as an agent does). */
    episode(&fb, "ICU");
    assert_int_equal(after(e, &fb, 1, NULL), INGEST_STORED);
    episode(&fb, "ICU");
    assert_int_equal(after(e, &fb, 2, &one), INGEST_STORED);
    /* A batch that follows a duplicate (stored earlier) goes through too. */
    episode(&fb, "ICU");
    assert_int_equal(after(e, &fb, 1, NULL), INGEST_DUPLICATE);
    episode(&fb, "OR");
    assert_int_equal(after(e, &fb, 4, &one), INGEST_STORED);
    assert_string_equal(stored_dept(e), "OR");
    /* Another agent's batch being handled is no reason to wait: refused at once. */
    ingest_enter(e->ing, "a2");
    episode(&fb, "ICU");
    assert_int_equal(after(e, &fb, 7, &three), INGEST_OUT_OF_ORDER);
    ingest_leave(e->ing, "a2");
    assert_string_equal(stored_dept(e), "OR");

    /* Batch 6 (department PICU) follows batch 5 (ER), whose request is being handled
     * but whose body is applied 300 ms later: batch 6 waits for it, so the store ends
     * with batch 6's episode. Applied in arrival order instead, ER would win. */
    struct sender sd = {.e = e};
    ingest_enter(e->ing, "a1"); /* batch 5's request */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_sender, &sd), 0);
    ingest_enter(e->ing, "a1"); /* batch 6's request */
    episode(&fb, "PICU");
    assert_int_equal(after(e, &fb, 6, &five), INGEST_STORED);
    ingest_leave(e->ing, "a1");
    pthread_join(th, NULL);
    assert_int_equal(sd.r, INGEST_STORED);
    assert_string_equal(stored_dept(e), "PICU");
    stats(e, &st);
    assert_int_equal(st.batches[BATCH_ACCEPTED], 5); /* 1, 2, 4, 5 and 6 */
}

/* Keys past the greatest stored key are taken as new without a lookup: a record whose key
 * is stored must still be found, after a restart too (the bound is read back from the
 * store), or it would be counted twice. */
static void test_new_key_bound(void **state)
{
    struct env *e = *state;
    struct fx_batch fb = {0};
    struct ingest_stats st;
    for (int i = 1; i <= 40; i++)
        fx_staffing(&fb, i, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    assert_true(fx_ingest(e->ing, &fb, 1));
    /* The same 40 keys again, moved to ER, in a second batch and after a restart. */
    for (int round = 0; round < 2; round++) {
        if (round) {
            ingest_free(e->ing);
            ingest_new(&e->ing, e->store, NULL, NULL, NULL);
        }
        for (int i = 40; i >= 1; i--)
            fx_staffing(&fb, i, "2025-01-01", NULL, 0, "north", round ? "OR" : "ER", "nurse",
                        0, 1000000);
        assert_true(fx_ingest(e->ing, &fb, 2 + (uint64_t)round));
        stats(e, &st);
        assert_int_equal(st.stored[REC_STAFFING], 40);
    }
    /* 40 more people, half of whose keys fall before the greatest stored one: 80. */
    for (int i = 41; i <= 80; i++)
        fx_staffing(&fb, i, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    assert_true(fx_ingest(e->ing, &fb, 4));
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 80);
    /* Every one of them again: still 80. */
    for (int i = 1; i <= 80; i++)
        fx_staffing(&fb, i, "2025-01-01", NULL, 0, "north", "PICU", "nurse", 0, 1000000);
    assert_true(fx_ingest(e->ing, &fb, 5));
    stats(e, &st);
    assert_int_equal(st.stored[REC_STAFFING], 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dedupe_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counts_survive_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_follows_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_key_twice_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_thread_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_costly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_owners, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_key_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
