/* kpi_test.c - KPI golden values computed by hand from the formulas of docs/kpi.md, over records
 * that went through ingest into a real RocksDB folder. */
#include "tests/unit/testutil.h"

#include <errno.h>

#include "aggregator/kpi.h"
#include "aggregator/kpi_model.h"
#include "common/decimal.h"
#include "exporters/kpi_catalogue.h"
#include "tests/unit/fixtures.h"

#define TRANSFER CADRE__END_REASON__END_REASON_TRANSFER
#define VOLUNTARY CADRE__END_REASON__END_REASON_VOLUNTARY
#define ACC CADRE__OUTCOME__OUTCOME_ACCEPTED
#define EDIT CADRE__OUTCOME__OUTCOME_EDITED
#define REJ CADRE__OUTCOME__OUTCOME_REJECTED

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_params params;
    struct kpi_table t;
};

/* The scenario, as-of 2026-09-30 (28d window = 2026-09-03 .. 2026-09-30):
 *  ICU (north, nurse): persons 1..12 from 2025-01-01.
 *    p1: usage 09-03 accepted, 09-10 accepted, 09-17 edited, 09-24 none (ambient-scribe)
 *    p2: 09-05 chat-assistant rejected + none, 09-06 and 09-07 ambient-scribe
 *    p3..p6: 09-15 ambient-scribe;  p7: 2026-08-01 only (outside 28d, inside 90d)
 *  p13: ICU 2025-01-01..2026-09-10 (transfer), then ER (north) from 09-11; usage 09-05
 *  ER (north, nurse): persons 20..30 from 2025-01-01; p20..p22 usage 09-20
 *  Pharmacy (south, pharmacist): persons 40..42; p40 usage 09-20 coding-assistant
 *  p14: usage 09-20, no episode (unmatched)
 *  p31: ICU 2025-01-01..2026-08-31 (voluntary); usage 09-05 (unmatched: not employed) */
static void load_scenario(struct ingest *ing)
{
    struct fx_batch fb = {0};
    uint64_t off = 0;
    for (uint32_t p = 1; p <= 12; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 13, "2025-01-01", "2026-09-10", TRANSFER, "north", "ICU", "nurse", 0, 1000000);
    fx_staffing(&fb, 13, "2026-09-11", NULL, 0, "north", "ER", "nurse", 0, 1000000);
    for (uint32_t p = 20; p <= 30; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", "ER", "nurse", 0, 1000000);
    for (uint32_t p = 40; p <= 42; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "south", "Pharmacy", "pharmacist", 0, 1000000);
    fx_staffing(&fb, 31, "2025-01-01", "2026-08-31", VOLUNTARY, "north", "ICU", "nurse", 0,
                1000000);
    assert_true(fx_ingest(ing, &fb, 1));

    fx_usage(&fb, 1, "2026-09-03", "ambient-scribe", ACC, off++);
    fx_usage(&fb, 1, "2026-09-10", "ambient-scribe", ACC, off++);
    fx_usage(&fb, 1, "2026-09-17", "ambient-scribe", EDIT, off++);
    fx_usage(&fb, 1, "2026-09-24", "ambient-scribe", 0, off++);
    fx_usage(&fb, 2, "2026-09-05", "chat-assistant", REJ, off++);
    fx_usage(&fb, 2, "2026-09-05", "chat-assistant", 0, off++);
    fx_usage(&fb, 2, "2026-09-06", "ambient-scribe", 0, off++);
    fx_usage(&fb, 2, "2026-09-07", "ambient-scribe", 0, off++);
    for (uint32_t p = 3; p <= 6; p++)
        fx_usage(&fb, p, "2026-09-15", "ambient-scribe", 0, off++);
    fx_usage(&fb, 7, "2026-08-01", "ambient-scribe", 0, off++);
    fx_usage(&fb, 13, "2026-09-05", "chat-assistant", 0, off++);
    for (uint32_t p = 20; p <= 22; p++)
        fx_usage(&fb, p, "2026-09-20", "ambient-scribe", 0, off++);
    fx_usage(&fb, 40, "2026-09-20", "coding-assistant", 0, off++);
    fx_usage(&fb, 14, "2026-09-20", "ambient-scribe", 0, off++);
    fx_usage(&fb, 31, "2026-09-05", "ambient-scribe", 0, off++);
    assert_true(fx_ingest(ing, &fb, 2));
}

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256];
    if (store_open(&e->store, e->dir, false, false, err, sizeof err))
        return -1;
    struct ingest *ing;
    ingest_new(&ing, e->store, NULL, NULL, NULL);
    load_scenario(ing);
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    e->params.as_of = fx_day("2026-09-30");
    e->params.min_group_size = 5;
    e->params.contract_hours_micro = 40 * MICRO;
    kpi_compute_window(e->model, &e->params, "28d", &e->t);
    kpi_compute_window(e->model, &e->params, "90d", &e->t);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    kpi_table_clear(&e->t);
    kpi_model_free(e->model);
    store_close(e->store);
    fx_rmdb(e->dir);
    xfree(e);
    return 0;
}

/* Asserts a published cell num/den with its person count. */
static void cell(const struct env *e, const char *kpi, const char *w, const char *by,
                 const char *group, double num, double den, int64_t persons)
{
    const struct kpi_row *r = kpi_table_find(&e->t, kpi, w, by, group);
    if (!r)
        fail_msg("no row %s %s %s %s", kpi, w, by, group);
    if (r->suppressed)
        fail_msg("%s %s %s %s is suppressed", kpi, w, by, group);
    assert_double_exact(r->numerator, num);
    assert_double_exact(r->denominator, den);
    assert_int_equal(r->persons, persons);
}

static void suppressed(const struct env *e, const char *kpi, const char *w, const char *by,
                       const char *group, int64_t persons)
{
    const struct kpi_row *r = kpi_table_find(&e->t, kpi, w, by, group);
    if (!r)
        fail_msg("no row %s %s %s %s", kpi, w, by, group);
    if (!r->suppressed)
        fail_msg("%s %s %s %s is published", kpi, w, by, group);
    assert_int_equal(r->persons, persons);
}

static void test_unmatched(void **state)
{
    struct env *e = *state;
    /* p14 (no episode) and p31 (usage after the episode ended). */
    uint64_t un[REC_TYPE_MAX + 1];
    kpi_model_unmatched(e->model, un);
    assert_int_equal(un[REC_USAGE], 2);
}

static void test_adoption_28d(void **state)
{
    struct env *e = *state;
    /* Population: ICU 1..12, p13 (in ER on its last day), ER 20..30, Pharmacy 40..42 = 27.
     * Active: p1..p6, p13, p20..p22, p40 = 11. */
    cell(e, "adoption_ratio", "28d", "org", "all", 11, 27, 27);
    cell(e, "adoption_ratio", "28d", "department", "ICU", 6, 12, 12);
    /* Pharmacy (3 < 5) is primary; ER ties ICU at 12 and "ER" < "ICU" in byte order, so ER
     * is the complementary cell. p13's ICU usage counts in ER, their last group. */
    suppressed(e, "adoption_ratio", "28d", "department", "ER", 12);
    suppressed(e, "adoption_ratio", "28d", "department", "Pharmacy", 3);
    /* Sites: south (3) primary, north complementary. Roles: pharmacist primary, nurse
     * complementary. */
    suppressed(e, "adoption_ratio", "28d", "site", "north", 24);
    suppressed(e, "adoption_ratio", "28d", "site", "south", 3);
    suppressed(e, "adoption_ratio", "28d", "role", "nurse", 24);
    suppressed(e, "adoption_ratio", "28d", "role", "pharmacist", 3);
}

static void test_engaged_28d(void **state)
{
    struct env *e = *state;
    /* ceil(28 / 7) = 4 distinct days: only p1 (09-03, 09-10, 09-17, 09-24); p2 has 3. */
    cell(e, "engaged_ratio", "28d", "org", "all", 1, 27, 27);
    cell(e, "engaged_ratio", "28d", "department", "ICU", 1, 12, 12);
}

static void test_tools_and_outcomes_28d(void **state)
{
    struct env *e = *state;
    /* Over the org population of 27: ambient-scribe p1..p6 and p20..p22 = 9, chat-assistant
     * p2 and p13 = 2, coding-assistant p40 = 1. p14 and p31 are unmatched. */
    cell(e, "tool_adoption_ratio", "28d", "tool", "ambient-scribe", 9, 27, 27);
    cell(e, "tool_adoption_ratio", "28d", "tool", "chat-assistant", 2, 27, 27);
    cell(e, "tool_adoption_ratio", "28d", "tool", "coding-assistant", 1, 27, 27);
    /* Outcome events: accepted 2, edited 1 (p1), rejected 1 (p2) = 4 from 2 people (< 5). */
    suppressed(e, "ai_output_accepted_ratio", "28d", "org", "all", 2);
    const struct kpi_row *r =
        kpi_table_find(&e->t, "ai_output_accepted_ratio", "28d", "org", "all");
    assert_double_exact(r->numerator, 2);
    assert_double_exact(r->denominator, 4);
    r = kpi_table_find(&e->t, "ai_output_rejected_ratio", "28d", "tool", "chat-assistant");
    assert_non_null(r);
    assert_double_exact(r->numerator, 1);
    assert_double_exact(r->denominator, 1);
    /* A tool with no outcome events has no outcome row (denominator 0). */
    assert_null(
        kpi_table_find(&e->t, "ai_output_accepted_ratio", "28d", "tool", "coding-assistant"));
}

static void test_adoption_90d(void **state)
{
    struct env *e = *state;
    /* 90d starts 2026-07-03: p31 (ICU until 08-31) joins the population, p7's 08-01 event
     * counts. Population 28, active 12; ICU: p1..p12 and p31 = 13, active p1..p7 = 7. */
    cell(e, "adoption_ratio", "90d", "org", "all", 12, 28, 28);
    cell(e, "adoption_ratio", "90d", "department", "ICU", 7, 13, 13);
}

static void test_windows(void **state)
{
    (void)state;
    int32_t s, e;
    char err[128];
    int32_t asof = fx_day("2026-09-30");
    assert_int_equal(kpi_window_parse("28d", asof, &s, &e, err, sizeof err), 0);
    assert_int_equal(s, fx_day("2026-09-03"));
    assert_int_equal(e, asof);
    assert_int_equal(kpi_window_parse("2026Q3", asof, &s, &e, err, sizeof err), 0);
    assert_int_equal(s, fx_day("2026-07-01"));
    assert_int_equal(e, fx_day("2026-09-30"));
    /* A quarter holding the as-of day is cut there. */
    assert_int_equal(kpi_window_parse("2026Q3", fx_day("2026-08-15"), &s, &e, err, sizeof err), 0);
    assert_int_equal(e, fx_day("2026-08-15"));
    assert_int_equal(kpi_window_parse("2025Q4", asof, &s, &e, err, sizeof err), 0);
    assert_int_equal(s, fx_day("2025-10-01"));
    assert_int_equal(e, fx_day("2025-12-31"));
    assert_int_equal(kpi_window_parse("730d", asof, &s, &e, err, sizeof err), 0);
    assert_int_equal(s, asof - 729);
    const char *bad[] = {"2026Q4", "0d", "731d", "07d", "d", "28", "2026Q5", "2026q3", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(kpi_window_parse(bad[i], asof, &s, &e, err, sizeof err), -EINVAL);
}

/* Every row the families emit names a catalogue KPI, in one of its breakdowns, and a KPI
 * the catalogue never suppresses is published whatever its person count. */
static void test_rows_match_catalogue(void **state)
{
    struct env *e = *state;
    assert_true(e->t.n > 0);
    for (size_t i = 0; i < e->t.n; i++) {
        const struct kpi_row *r = &e->t.rows[i];
        const struct kpi_def *d = kpi_catalogue_find(r->kpi);
        if (!d)
            fail_msg("row of %s, which is not in the catalogue", r->kpi);
        int by = kpi_by_parse(r->by);
        if (by < 0 || !(d->by & KPI_BY_BIT(by)))
            fail_msg("%s has a row by %s, not one of its breakdowns", r->kpi, r->by);
        if (d->suppression == KPI_SUPPRESS_NEVER)
            assert_false(r->suppressed);
    }
    /* ai_champion_coverage_ratio counts departments: ICU, ER and Pharmacy are staffed on
     * 2026-09-30 and none has a champion (0/3); 27 staff that day, never suppressed. */
    cell(e, "ai_champion_coverage_ratio", "28d", "org", "all", 0, 3, 27);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unmatched),
        cmocka_unit_test(test_adoption_28d),
        cmocka_unit_test(test_engaged_28d),
        cmocka_unit_test(test_tools_and_outcomes_28d),
        cmocka_unit_test(test_adoption_90d),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_rows_match_catalogue),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
