/* kpi_families_test.c - burnout, retention, hybrid-role, literacy and champion-coverage
 * KPIs against values computed by hand from the formulas of docs/kpi.md (each expectation says
 * how).
 *
 * As-of 2026-09-30. 28d = 2026-09-03..09-30 (28 days); 2026Q3 = 07-01..09-30 (92 days).
 * H = 40 h/week, so one fte-day is 40/7 contracted hours. Everyone is site north.
 *
 * B1 ICU nurse fte 1.0 from 2025-01-01.
 *   shifts (-05:00): S4 09-02 20:00 -> 09-03 08:00 (local day 09-02: outside W, though it
 *   starts 09-03 01:00Z); S1 09-04 19:00 -> 09-05 07:00 (12 h, ot 1.5); S2 09-05 18:00 ->
 *   09-06 07:30 (13.5 h, ot 2, rest exactly 11 h: not short); S3 09-06 15:00 -> 23:00 (8 h,
 *   rest 7.5 h: short). Sick 09-10 8 h and 09-11 8 h, pto 09-12 8 h.
 *   EHR 09-04: sched 8, ehr 120, outside 30, inbox 20; 09-07 (unscheduled): 0, 45, 45, 10.
 * B2 ICU fte 0.5: one 8 h shift 09-10, ot 0.5.
 * B3 ICU fte 1.0 2025-01-01..09-10 voluntary, rehired ICU 09-21: 18 employed days in W;
 *   a shift on 09-15 (not employed: unmatched), an 8 h shift on 09-22.
 * B4 ICU 2025-01-01..09-15 transfer, ER from 09-16: 8 h shift 09-10 (ot 1) in ICU, exactly
 *   13 h shift 09-20 (ot 2) in ER.
 * B5 ICU fte 1.0 from 2025-01-01 and Radiology fte 0.2 from 09-01 (overlap: the latest
 *   start wins, so Radiology at fte 0.2 all of W): 10 h shift 09-05 (ot 4), sick 09-06 4 h.
 * Informatics (role analyst), fte 1.0:
 *   H1 ai_champion from 2025-01-01.
 *   H2 clinical_translator ..08-10 role_change, none 08-11..08-31 role_change,
 *      clinical_translator again from 09-01.
 *   H3 data_strategist ..08-20 voluntary.
 *   H4 ethics_steward ..07-31 role_change, model_governance_lead from 08-01.
 * Completions: B1 ai-literacy-101 05-01; B2 ai-safety 10-15 (after e); H1 excel-basics;
 *   H2 ai-safety 09-30 (on e); person 99 (no episode) ai-safety: unmatched.
 */
#include "tests/unit/testutil.h"

#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

enum { B1 = 1, B2, B3, B4, B5, H1 = 11, H2, H3, H4 };
#define M6 1000000
#define TRANSFER CADRE__END_REASON__END_REASON_TRANSFER
#define ROLE_CHANGE CADRE__END_REASON__END_REASON_ROLE_CHANGE
#define VOLUNTARY CADRE__END_REASON__END_REASON_VOLUNTARY

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_params params;
    struct kpi_table t;
};

static void load(struct ingest *ing)
{
    struct fx_batch fb = {0};
    fx_staffing(&fb, B1, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, M6);
    fx_staffing(&fb, B2, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, M6 / 2);
    fx_staffing(&fb, B3, "2025-01-01", "2026-09-10", VOLUNTARY, "north", "ICU", "nurse", 0, M6);
    fx_staffing(&fb, B3, "2026-09-21", NULL, 0, "north", "ICU", "nurse", 0, M6);
    fx_staffing(&fb, B4, "2025-01-01", "2026-09-15", TRANSFER, "north", "ICU", "nurse", 0, M6);
    fx_staffing(&fb, B4, "2026-09-16", NULL, 0, "north", "ER", "nurse", 0, M6);
    fx_staffing(&fb, B5, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, M6);
    fx_staffing(&fb, B5, "2026-09-01", NULL, 0, "north", "Radiology", "nurse", 0, M6 / 5);
    fx_staffing(&fb, H1, "2025-01-01", NULL, 0, "north", "Informatics", "analyst", 5, M6);
    fx_staffing(&fb, H2, "2025-01-01", "2026-08-10", ROLE_CHANGE, "north", "Informatics", "analyst",
                1, M6);
    fx_staffing(&fb, H2, "2026-08-11", "2026-08-31", ROLE_CHANGE, "north", "Informatics", "analyst",
                0, M6);
    fx_staffing(&fb, H2, "2026-09-01", NULL, 0, "north", "Informatics", "analyst", 1, M6);
    fx_staffing(&fb, H3, "2025-01-01", "2026-08-20", VOLUNTARY, "north", "Informatics", "analyst",
                3, M6);
    fx_staffing(&fb, H4, "2025-01-01", "2026-07-31", ROLE_CHANGE, "north", "Informatics", "analyst",
                4, M6);
    fx_staffing(&fb, H4, "2026-08-01", NULL, 0, "north", "Informatics", "analyst", 2, M6);
    assert_true(fx_ingest(ing, &fb, 1));

    fx_shift(&fb, B1, "2026-09-02T20:00:00-05:00", "2026-09-03T08:00:00-05:00", 0);
    fx_shift(&fb, B1, "2026-09-04T19:00:00-05:00", "2026-09-05T07:00:00-05:00", 1500000);
    fx_shift(&fb, B1, "2026-09-05T18:00:00-05:00", "2026-09-06T07:30:00-05:00", 2000000);
    fx_shift(&fb, B1, "2026-09-06T15:00:00-05:00", "2026-09-06T23:00:00-05:00", 0);
    fx_absence(&fb, B1, "2026-09-10", 8 * M6, 1);
    fx_absence(&fb, B1, "2026-09-11", 8 * M6, 1);
    fx_absence(&fb, B1, "2026-09-12", 8 * M6, 2);
    fx_ehr(&fb, B1, "2026-09-04", 8, 120, 30, 20);
    fx_ehr(&fb, B1, "2026-09-07", 0, 45, 45, 10);
    fx_shift(&fb, B2, "2026-09-10T07:00:00Z", "2026-09-10T15:00:00Z", 500000);
    fx_shift(&fb, B3, "2026-09-15T07:00:00Z", "2026-09-15T15:00:00Z", 0);
    fx_shift(&fb, B3, "2026-09-22T12:00:00Z", "2026-09-22T20:00:00Z", 0);
    fx_shift(&fb, B4, "2026-09-10T07:00:00Z", "2026-09-10T15:00:00Z", 1000000);
    fx_shift(&fb, B4, "2026-09-20T07:00:00Z", "2026-09-20T20:00:00Z", 2000000);
    fx_shift(&fb, B5, "2026-09-05T05:00:00Z", "2026-09-05T15:00:00Z", 4000000);
    fx_absence(&fb, B5, "2026-09-06", 4 * M6, 1);
    fx_training(&fb, B1, "ai-literacy-101", "2026-05-01");
    fx_training(&fb, B2, "ai-safety", "2026-10-15");
    fx_training(&fb, H1, "excel-basics", "2026-01-01");
    fx_training(&fb, H2, "ai-safety", "2026-09-30");
    fx_training(&fb, 99, "ai-safety", "2026-09-01");
    assert_true(fx_ingest(ing, &fb, 2));
}

static char *courses[] = {"ai-literacy-101", "ai-safety", NULL};

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256];
    if (store_open(&e->store, e->dir, false, false, err, sizeof err))
        return -1;
    struct ingest *ing;
    ingest_new(&ing, e->store, NULL, NULL, NULL);
    load(ing);
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    struct kpi_params *p = &e->params;
    p->as_of = fx_day("2026-09-30");
    p->min_group_size = 5;
    p->contract_hours_micro = 40 * MICRO;
    p->burnout_overtime_ratio = 100000;
    p->burnout_long_shift_share = 250000;
    p->burnout_short_rests = 2;
    p->burnout_wow8_seconds = 3600 * MICRO;
    p->burnout_sickness_ratio = 50000;
    p->burnout_min_flags = 2;
    p->literacy_courses = courses;
    kpi_compute_window(e->model, p, "28d", &e->t);
    kpi_compute_window(e->model, p, "2026Q3", &e->t);
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

/* Asserts a cell's numerator, denominator and person count (suppressed or not). */
static void cell(const struct env *e, const char *kpi, const char *w, const char *by,
                 const char *group, double num, double den, int64_t persons)
{
    const struct kpi_row *r = kpi_table_find(&e->t, kpi, w, by, group);
    if (!r)
        fail_msg("no row %s %s %s %s", kpi, w, by, group);
    if (r->numerator != num || r->denominator != den || r->persons != persons)
        fail_msg("%s %s %s %s: %.17g / %.17g (%lld persons), expected %.17g / %.17g (%lld)", kpi, w,
                 by, group, r->numerator, r->denominator, (long long)r->persons, num, den,
                 (long long)persons);
}

static void no_row(const struct env *e, const char *kpi, const char *w, const char *by,
                   const char *group)
{
    if (kpi_table_find(&e->t, kpi, w, by, group))
        fail_msg("unexpected row %s %s %s %s", kpi, w, by, group);
}

static void test_unmatched(void **state)
{
    struct env *e = *state;
    uint64_t un[REC_TYPE_MAX + 1];
    kpi_model_unmatched(e->model, un);
    assert_int_equal(un[REC_SHIFTS], 1);   /* B3 on 09-15 */
    assert_int_equal(un[REC_TRAINING], 1); /* person 99 */
    assert_int_equal(un[REC_ABSENCES], 0);
}

static void test_overtime_and_sickness(void **state)
{
    struct env *e = *state;
    /* Contracted fte-days: ICU B1 28, B2 0.5 x 28 = 14, B3 18, B4 13 (09-03..09-15) = 73;
     * ER B4 15; Radiology B5 0.2 x 28 = 5.6; Informatics H1, H2, H4 3 x 28 = 84.
     * Overtime: ICU 1.5 + 2 + 0.5 + 1 = 5 (S4 lies before W); ER 2; Radiology 4. */
    cell(e, "overtime_ratio", "28d", "department", "ICU", 5, 73.0 * 40 / 7, 4);
    cell(e, "overtime_ratio", "28d", "department", "ER", 2, 15.0 * 40 / 7, 1);
    cell(e, "overtime_ratio", "28d", "department", "Radiology", 4, 32, 1);
    cell(e, "overtime_ratio", "28d", "department", "Informatics", 0, 84.0 * 40 / 7, 3);
    cell(e, "overtime_ratio", "28d", "org", "all", 11, 177.6 * 40 / 7, 8);
    /* Nobody used AI: everyone is a non_adopter and there is no adopter cell. */
    cell(e, "overtime_ratio", "28d", "adoption_cohort", "non_adopter", 11, 177.6 * 40 / 7, 8);
    no_row(e, "overtime_ratio", "28d", "adoption_cohort", "adopter");
    /* Sick hours: ICU 16 (pto not counted), Radiology 4, ER 0 (a row with value 0). */
    cell(e, "sickness_absence_ratio", "28d", "department", "ICU", 16, 73.0 * 40 / 7, 4);
    cell(e, "sickness_absence_ratio", "28d", "department", "ER", 0, 15.0 * 40 / 7, 1);
    cell(e, "sickness_absence_ratio", "28d", "org", "all", 20, 177.6 * 40 / 7, 8);
}

static void test_shifts(void **state)
{
    struct env *e = *state;
    /* ICU shifts in W: S1 12 h, S2 13.5 h, S3 8 h, B2 8 h, B3 09-22 8 h, B4 09-10 8 h = 6;
     * long (>= 12 h) S1, S2; extended (> 13 h) S2; short rest S3 only (S2 rests exactly
     * 11 h). ER: B4's exactly 13 h shift is long, not extended. */
    cell(e, "long_shift_ratio", "28d", "department", "ICU", 2, 6, 4);
    cell(e, "extended_shift_ratio", "28d", "department", "ICU", 1, 6, 4);
    cell(e, "short_rest_ratio", "28d", "department", "ICU", 1, 6, 4);
    cell(e, "long_shift_ratio", "28d", "department", "ER", 1, 1, 1);
    cell(e, "extended_shift_ratio", "28d", "department", "ER", 0, 1, 1);
    cell(e, "long_shift_ratio", "28d", "org", "all", 3, 8, 5);
    cell(e, "extended_shift_ratio", "28d", "org", "all", 1, 8, 5);
    cell(e, "short_rest_ratio", "28d", "org", "all", 1, 8, 5);
    /* Informatics has no shifts: no row (denominator 0). */
    no_row(e, "long_shift_ratio", "28d", "department", "Informatics");
}

static void test_ehr(void **state)
{
    struct env *e = *state;
    /* B1 only, both rows (the unscheduled day counts): outside 75 min x 60 = 4500 s over
     * 8 h / 8 = 1; EHR (120 + 45) x 60 = 9900; inbox 30 x 60 = 1800. */
    cell(e, "wow8_seconds", "28d", "department", "ICU", 4500, 1, 1);
    cell(e, "ehr_time8_seconds", "28d", "org", "all", 9900, 1, 1);
    cell(e, "inbox_time8_seconds", "28d", "role", "nurse", 1800, 1, 1);
    no_row(e, "wow8_seconds", "28d", "department", "ER");
}

static void test_burnout_risk(void **state)
{
    struct env *e = *state;
    /* Flags: B1 long share 2/3 >= 0.25, sick 16/160 > 0.05, wow8 4500 > 3600 (overtime
     * 3.5/160 and 1 short rest do not) = 3: at risk. B5 overtime 4/32 > 0.10 and sick 4/32 >
     * 0.05 = 2: at risk. B4 long share 1/2 only; B2, B3 none. Members (shifts or EHR): B1,
     * B2, B3 in ICU, B4 in ER (its last group), B5 in Radiology. */
    cell(e, "burnout_risk_ratio", "28d", "department", "ICU", 1, 3, 3);
    cell(e, "burnout_risk_ratio", "28d", "department", "ER", 0, 1, 1);
    cell(e, "burnout_risk_ratio", "28d", "department", "Radiology", 1, 1, 1);
    cell(e, "burnout_risk_ratio", "28d", "org", "all", 2, 5, 5);
    no_row(e, "burnout_risk_ratio", "28d", "department", "Informatics");
}

static void test_retention(void **state)
{
    struct env *e = *state;
    /* Headcount(07-01): ICU B1..B5 = 5, Informatics H1..H4 = 4. Employed every day of Q3:
     * all but B3 (gap 09-11..09-20) and H3 (left 08-20). B4's transfer keeps them. */
    cell(e, "retention_ratio", "2026Q3", "department", "ICU", 4, 5, 5);
    cell(e, "retention_ratio", "2026Q3", "department", "Informatics", 3, 4, 4);
    cell(e, "retention_ratio", "2026Q3", "org", "all", 7, 9, 9);
    /* Leavers (voluntary, involuntary, retirement, other): B3 (ICU), H3 (Informatics), both
     * voluntary. Headcount(09-30): ICU B1, B2, B3 = 3; ER 1; Radiology 1; Informatics 3.
     * Means: ICU (5 + 3) / 2 = 4; Informatics 3.5 (persons 3); ER 0.5 (persons 0); org
     * (9 + 8) / 2 = 8.5 (persons 8). B4's transfer is no leaver. */
    cell(e, "leaver_ratio", "2026Q3", "department", "ICU", 1, 4, 4);
    cell(e, "leaver_ratio", "2026Q3", "department", "Informatics", 1, 3.5, 3);
    cell(e, "leaver_ratio", "2026Q3", "department", "ER", 0, 0.5, 0);
    cell(e, "leaver_ratio", "2026Q3", "org", "all", 2, 8.5, 8);
    cell(e, "voluntary_leaver_ratio", "2026Q3", "org", "all", 2, 8.5, 8);
}

static void test_hybrid(void **state)
{
    struct env *e = *state;
    /* Holders on 07-01: H1 ai_champion, H2 clinical_translator, H3 data_strategist, H4
     * ethics_steward. In role every day: H1 only (H2 had a gap, H3 left, H4 switched). The
     * family (some hybrid role every day): H1, H4. */
    cell(e, "hybrid_role_retention_ratio", "2026Q3", "hybrid_role", "ai_champion", 1, 1, 1);
    cell(e, "hybrid_role_retention_ratio", "2026Q3", "hybrid_role", "clinical_translator", 0, 1, 1);
    cell(e, "hybrid_role_retention_ratio", "2026Q3", "hybrid_role", "ethics_steward", 0, 1, 1);
    cell(e, "hybrid_role_retention_ratio", "2026Q3", "org", "all", 2, 4, 4);
    no_row(e, "hybrid_role_retention_ratio", "2026Q3", "hybrid_role", "model_governance_lead");
    /* Employed every day: H1, H2, H4. */
    cell(e, "hybrid_role_org_retention_ratio", "2026Q3", "hybrid_role", "clinical_translator", 1, 1,
         1);
    cell(e, "hybrid_role_org_retention_ratio", "2026Q3", "hybrid_role", "data_strategist", 0, 1, 1);
    cell(e, "hybrid_role_org_retention_ratio", "2026Q3", "org", "all", 3, 4, 4);
    /* Exits: clinical_translator (H2 08-10, next day no hybrid role), data_strategist (H3),
     * ethics_steward (H4, next day model_governance_lead). Family exits: H2, H3. Holders on
     * 09-30: H1 ai_champion, H2 clinical_translator, H4 model_governance_lead. */
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "hybrid_role", "clinical_translator", 1, 1, 1);
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "hybrid_role", "data_strategist", 1, 0.5, 0);
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "hybrid_role", "ethics_steward", 1, 0.5, 0);
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "hybrid_role", "model_governance_lead", 0, 0.5,
         0);
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "hybrid_role", "ai_champion", 0, 1, 1);
    cell(e, "hybrid_role_leaver_ratio", "2026Q3", "org", "all", 2, 3.5, 3);
}

static void test_literacy_and_coverage(void **state)
{
    struct env *e = *state;
    /* Headcount(09-30) = 8: ICU B1, B2, B3; ER B4; Radiology B5; Informatics H1, H2, H4.
     * Literate by 09-30: B1 (ai-literacy-101), H2 (ai-safety on 09-30). B2's completion is
     * after e; H1's course is not a literacy course. */
    cell(e, "ai_literacy_ratio", "28d", "org", "all", 2, 8, 8);
    cell(e, "ai_literacy_ratio", "28d", "department", "ICU", 1, 3, 3);
    cell(e, "ai_literacy_ratio", "28d", "department", "Informatics", 1, 3, 3);
    cell(e, "ai_literacy_ratio", "28d", "department", "ER", 0, 1, 1);
    /* Departments staffed on 09-30: ICU, ER, Radiology, Informatics; with an ai_champion:
     * Informatics (H1). Never suppressed. */
    const struct kpi_row *r =
        kpi_table_find(&e->t, "ai_champion_coverage_ratio", "28d", "org", "all");
    assert_non_null(r);
    assert_double_exact(r->numerator, 1);
    assert_double_exact(r->denominator, 4);
    assert_false(r->suppressed);
}

static void test_suppression_here(void **state)
{
    struct env *e = *state;
    /* k = 5: ICU long shifts (4 staff) is primary; org (5) published. */
    const struct kpi_row *r = kpi_table_find(&e->t, "long_shift_ratio", "28d", "department", "ICU");
    assert_true(r->suppressed);
    r = kpi_table_find(&e->t, "long_shift_ratio", "28d", "org", "all");
    assert_false(r->suppressed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unmatched),        cmocka_unit_test(test_overtime_and_sickness),
        cmocka_unit_test(test_shifts),           cmocka_unit_test(test_ehr),
        cmocka_unit_test(test_burnout_risk),     cmocka_unit_test(test_retention),
        cmocka_unit_test(test_hybrid),           cmocka_unit_test(test_literacy_and_coverage),
        cmocka_unit_test(test_suppression_here),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
