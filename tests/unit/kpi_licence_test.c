/* kpi_licence_test.c - licence records through ingest into the model, and the two licence
 * KPIs against values worked by hand from docs/kpi.md ("Licences").
 *
 * As-of 2026-09-30; 28d = 09-03..09-30. S1..S6 are ICU nurses at north from 2025-01-01, S7
 * from 2026-09-20; S8 has no episode. Licences and usage:
 *   S1 m365-copilot from 2026-01-01; uses m365-copilot.teams on 09-10 (covered: "t.<sub>").
 *   S2 github-copilot 09-01..09-02 (removed before W); uses github-copilot 09-10: no access.
 *   S3 github-copilot from 09-15; uses it on 09-10 only, before the licence: not used.
 *   S4 m365-copilot 09-01..09-30; uses m365-copilotx 09-12: another tool, not covered.
 *   S5 no licence; uses m365-copilot 09-12.
 *   S6 m365-copilot from 2026-10-05: no day of W.
 *   S7 m365-copilot from 09-01 (before S7 is employed); uses it 09-25.
 *   S8 m365-copilot from 2026-01-01, never employed: unmatched.
 * Population 7 (S1..S7). With access in W: S1, S3, S4, S7 -> ai_access_ratio 4/7.
 * Utilisation: used while licensed S1, S7 -> 2/4; by tool: m365-copilot holders S1, S4, S7,
 * used S1, S7 -> 2/3; github-copilot holder S3, used none -> 0/1.
 * Ingest: a licence removed before it was assigned is invalid_value; a tombstone deletes. */
#include "tests/unit/testutil.h"

#include "aggregator/ingest.h"
#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

static void test_licences(void **state)
{
    (void)state;
    char *dir = fx_tmpdir(), err[256];
    struct store *store;
    assert_int_equal(store_open(&store, dir, false, false, err, sizeof err), 0);
    struct ingest *ing;
    ingest_new(&ing, store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    for (uint32_t s = 1; s <= 6; s++)
        fx_staffing(&fb, s, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, MICRO);
    fx_staffing(&fb, 7, "2026-09-20", NULL, 0, "north", "ICU", "nurse", 0, MICRO);
    fx_licence(&fb, 1, "m365-copilot", "2026-01-01", NULL);
    fx_licence(&fb, 2, "github-copilot", "2026-09-01", "2026-09-02");
    fx_licence(&fb, 3, "github-copilot", "2026-09-15", NULL);
    fx_licence(&fb, 4, "m365-copilot", "2026-09-01", "2026-09-30");
    fx_licence(&fb, 6, "m365-copilot", "2026-10-05", NULL);
    fx_licence(&fb, 7, "m365-copilot", "2026-09-01", NULL);
    fx_licence(&fb, 8, "m365-copilot", "2026-01-01", NULL);
    Cadre__Record *bad = fx_licence(&fb, 5, "m365-copilot", "2026-09-10", "2026-09-09");
    (void)bad;
    uint64_t off = 0;
    fx_usage(&fb, 1, "2026-09-10", "m365-copilot.teams", 0, off++);
    fx_usage(&fb, 2, "2026-09-10", "github-copilot", 0, off++);
    fx_usage(&fb, 3, "2026-09-10", "github-copilot", 0, off++);
    fx_usage(&fb, 4, "2026-09-12", "m365-copilotx", 0, off++);
    fx_usage(&fb, 5, "2026-09-12", "m365-copilot", 0, off++);
    fx_usage(&fb, 7, "2026-09-25", "m365-copilot", 0, off++);
    assert_true(fx_ingest(ing, &fb, 1));
    struct ingest_stats st;
    ingest_stats(ing, &st);
    assert_int_equal(st.stored[REC_LICENCE], 7);
    assert_int_equal(st.rejected[REJ_INVALID_VALUE], 1); /* removed before assigned */
    ingest_stats_free(&st);

    struct kpi_model *m;
    assert_int_equal(kpi_model_load(&m, store), 0);
    uint64_t un[REC_TYPE_MAX + 1];
    kpi_model_unmatched(m, un);
    assert_int_equal(un[REC_LICENCE], 1); /* S8's */
    struct kpi_params p = {
        .as_of = fx_day("2026-09-30"), .min_group_size = 1, .contract_hours_micro = 40 * MICRO};
    struct kpi_table t = {0};
    kpi_compute_window(m, &p, "28d", &t);
    const struct kpi_row *r = kpi_table_find(&t, "ai_access_ratio", "28d", "org", "all");
    assert_non_null(r);
    assert_double_exact(r->numerator, 4);
    assert_double_exact(r->denominator, 7);
    assert_int_equal(r->persons, 7);
    r = kpi_table_find(&t, "ai_licence_utilisation_ratio", "28d", "department", "ICU");
    assert_non_null(r);
    assert_double_exact(r->numerator, 2);
    assert_double_exact(r->denominator, 4);
    assert_int_equal(r->persons, 4);
    r = kpi_table_find(&t, "ai_licence_utilisation_ratio", "28d", "tool", "m365-copilot");
    assert_non_null(r);
    assert_double_exact(r->numerator, 2);
    assert_double_exact(r->denominator, 3);
    r = kpi_table_find(&t, "ai_licence_utilisation_ratio", "28d", "tool", "github-copilot");
    assert_non_null(r);
    assert_double_exact(r->numerator, 0);
    assert_double_exact(r->denominator, 1);
    assert_null(kpi_table_find(&t, "ai_licence_utilisation_ratio", "28d", "tool",
                               "m365-copilot.teams")); /* nobody holds that licence */
    kpi_table_clear(&t);
    kpi_model_free(m);

    /* A tombstone removes S1's licence: access 3/7, utilisation 1/3. */
    uint8_t key[RECKEY_MAX];
    uint8_t staff[STAFF_KEY_LEN];
    fx_staff(staff, 1);
    size_t klen = reckey_licence(key, staff, "m365-copilot", 12, fx_day("2026-01-01"));
    fx_tombstone(&fb, REC_LICENCE, key, klen);
    assert_true(fx_ingest(ing, &fb, 2));
    assert_int_equal(kpi_model_load(&m, store), 0);
    kpi_compute_window(m, &p, "28d", &t);
    r = kpi_table_find(&t, "ai_access_ratio", "28d", "org", "all");
    assert_double_exact(r->numerator, 3);
    r = kpi_table_find(&t, "ai_licence_utilisation_ratio", "28d", "org", "all");
    assert_double_exact(r->numerator, 1);
    assert_double_exact(r->denominator, 3);
    kpi_table_clear(&t);
    kpi_model_free(m);
    ingest_free(ing);
    store_close(store);
    fx_rmdb(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_licences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
