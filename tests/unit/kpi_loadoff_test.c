/* kpi_loadoff_test.c - the load-off difference in differences against values worked by
 * hand from the definitions of docs/kpi.md ("Load-off"), with short periods: P = 7, G = 7,
 * M = 1, H = 40 h/week (a 7-day period of fte 1 holds 40 contracted hours).
 *
 * As-of 2026-09-30; 28d = 09-03..09-30. Everyone is a nurse at site north, in ICU from
 * 2025-01-01, except: A3 in ER; A4 in ICU until 09-12 (transfer), Surgery from 09-13; C5
 * in ICU from 09-05. Usage (tool scribe): A1..A4 on 09-10 (adoption day a = 09-10), C4 on
 * 09-20, A5 on 08-01.
 *
 * Change for a = 09-10: pre = 09-03..09-09, post = 09-17..09-23, span 09-03..09-23 (post
 * end 09-23 is in 28d). A1, A2 are eligible; A3 is, but ER has no one else: no control,
 * no estimate; A4 changes department inside the span: not eligible. Controls (ICU on every
 * day of the span, no scribe use up to 09-23): C1, C2, C3 (not C4, who used it on 09-20;
 * not C5, hired 09-05).
 *
 * EHR rows (8 scheduled hours, 60 EHR minutes, no inbox), outside-scheduled minutes on
 * 08-28 / 09-05 / 09-18; wow8 = minutes x 60 s (one row of 8 h per period):
 *          A1 30/30/10  A2 20/20/20  C1 10/10/20  C2 10/10/10  C3 20/20/35  C4 10/20/10
 *          A4 10/10/10  C5 -/10/10
 * wow8 change: d(A1) = (10 - 30) x 60 = -1200, d(A2) = 0; controls +600, 0, +900: c = 500.
 *   e(A1) = -1700, e(A2) = -500: numerator -2200, denominator 2 (value -1100);
 *   stderr: mean -1100, sum of squares 600^2 + 600^2 = 720000 over n(n-1) = 2: sqrt(360000)
 *   = 600. Person count min(2 adopters, 3 controls) = 2.
 * ehr_time8 and inbox_time8 change: every delta 0, so 0 over 2.
 * Overtime (shifts 08:00-16:00Z): A1 4 h on 09-05 and 2 h on 09-18: 0.1 -> 0.05, d = -0.05;
 *   A2 none: 0; C1 2 h on 09-18: +0.05; C2 none: 0; C3 2 h on 09-05, 6 h on 09-18: +0.1.
 *   c = 0.05; e(A1) = -0.1, e(A2) = -0.05: numerator -0.15, denominator 2.
 * wow8 pretrend: pre = 08-27..09-02, post = 09-03..09-09, controls with no use up to 09-09
 *   and ICU on every day of 08-27..09-09: C1, C2, C3, C4 and the other adopters A1, A2, A4
 *   (they adopted on 09-10), never the adopter itself. A4 is eligible here (ICU all of
 *   08-27..09-09) and selected by the change's rule (post end 09-23). Deltas: A1 0, A2 0,
 *   A4 0, C1 0, C2 0, C3 0, C4 +600. For each of A1, A2, A4: six controls, c = 100, e =
 *   -100. Numerator -300, denominator 3; distinct controls 7: person count 3.
 * Selection by post-period end: A5 (a = 08-01, post end 08-14) is not in 28d; in 365d it is,
 *   with no EHR rows (no wow8) and no shifts (overtime 0 -> 0, controls 0: e = 0), so 365d
 *   overtime change has numerator -0.15 over 3.
 */
#include "tests/unit/testutil.h"

#include <math.h>

#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

enum { A1 = 1, A2, A3, A4, A5, C1 = 11, C2, C3, C4, C5 };
#define TRANSFER CADRE__END_REASON__END_REASON_TRANSFER

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_params p;
    struct kpi_table t;
};

static void ehr3(struct fx_batch *fb, uint32_t who, int a, int b, int c)
{
    if (a >= 0)
        fx_ehr(fb, who, "2026-08-28", 8, 60, a, 0);
    fx_ehr(fb, who, "2026-09-05", 8, 60, b, 0);
    fx_ehr(fb, who, "2026-09-18", 8, 60, c, 0);
}

static void shift(struct fx_batch *fb, uint32_t who, const char *ymd, int64_t ot_hours)
{
    char s[32], e[32];
    snprintf(s, sizeof s, "%sT08:00:00Z", ymd);
    snprintf(e, sizeof e, "%sT16:00:00Z", ymd);
    fx_shift(fb, who, s, e, ot_hours * MICRO);
}

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256];
    assert_int_equal(store_open(&e->store, e->dir, false, false, err, sizeof err), 0);
    struct ingest *ing;
    ingest_new(&ing, e->store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    const uint32_t icu[] = {A1, A2, A5, C1, C2, C3, C4};
    for (size_t i = 0; i < sizeof icu / sizeof *icu; i++)
        fx_staffing(&fb, icu[i], "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, MICRO);
    fx_staffing(&fb, A3, "2025-01-01", NULL, 0, "north", "ER", "nurse", 0, MICRO);
    fx_staffing(&fb, A4, "2025-01-01", "2026-09-12", TRANSFER, "north", "ICU", "nurse", 0, MICRO);
    fx_staffing(&fb, A4, "2026-09-13", NULL, 0, "north", "Surgery", "nurse", 0, MICRO);
    fx_staffing(&fb, C5, "2026-09-05", NULL, 0, "north", "ICU", "nurse", 0, MICRO);
    uint64_t off = 0;
    for (uint32_t a = A1; a <= A4; a++)
        fx_usage(&fb, a, "2026-09-10", "scribe", 0, off++);
    fx_usage(&fb, C4, "2026-09-20", "scribe", 0, off++);
    fx_usage(&fb, A5, "2026-08-01", "scribe", 0, off++);
    ehr3(&fb, A1, 30, 30, 10);
    ehr3(&fb, A2, 20, 20, 20);
    ehr3(&fb, C1, 10, 10, 20);
    ehr3(&fb, C2, 10, 10, 10);
    ehr3(&fb, C3, 20, 20, 35);
    ehr3(&fb, C4, 10, 20, 10);
    ehr3(&fb, A4, 10, 10, 10);
    ehr3(&fb, C5, -1, 10, 10);
    shift(&fb, A1, "2026-09-05", 4);
    shift(&fb, A1, "2026-09-18", 2);
    shift(&fb, C1, "2026-09-18", 2);
    shift(&fb, C3, "2026-09-05", 2);
    shift(&fb, C3, "2026-09-18", 6);
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    e->p = (struct kpi_params){.as_of = fx_day("2026-09-30"),
                               .min_group_size = 5,
                               .contract_hours_micro = 40 * MICRO,
                               .loadoff_period_days = 7,
                               .loadoff_ramp_days = 7,
                               .loadoff_min_active_days = 1};
    kpi_compute_window(e->model, &e->p, "28d", &e->t);
    kpi_compute_window(e->model, &e->p, "365d", &e->t);
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

static const struct kpi_row *row(const struct env *e, const char *kpi, const char *w,
                                 const char *by, const char *group)
{
    const struct kpi_row *r = kpi_table_find(&e->t, kpi, w, by, group);
    if (!r)
        fail_msg("no %s %s row for %s %s", kpi, w, by, group);
    return r;
}

static void assert_close(double got, double want)
{
    if (fabs(got - want) > 1e-9 * (1 + fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_change(void **state)
{
    struct env *e = *state;
    const char *cells[][2] = {{"org", "all"},
                              {"site", "north"},
                              {"department", "ICU"},
                              {"role", "nurse"},
                              {"tool", "scribe"}};
    for (size_t i = 0; i < sizeof cells / sizeof *cells; i++) {
        const struct kpi_row *r = row(e, "loadoff_wow8_change", "28d", cells[i][0], cells[i][1]);
        assert_close(r->numerator, -2200);
        assert_close(r->denominator, 2);
        assert_int_equal(r->persons, 2);
        assert_true(r->suppressed); /* 2 < min_group_size */
    }
    const struct kpi_row *r = row(e, "loadoff_wow8_change_stderr", "28d", "org", "all");
    assert_close(r->numerator, 720000);
    assert_close(r->denominator, 2);
    assert_true(r->sqrt_value);
    assert_close(kpi_row_value(r), 600);
    assert_true(r->suppressed); /* follows its change cell */
    r = row(e, "loadoff_ehr_time8_change", "28d", "org", "all");
    assert_close(r->numerator, 0);
    assert_close(r->denominator, 2);
    r = row(e, "loadoff_inbox_time8_change", "28d", "org", "all");
    assert_close(r->numerator, 0);
    r = row(e, "loadoff_overtime_change", "28d", "org", "all");
    assert_close(r->numerator, -0.15);
    assert_close(r->denominator, 2);
    r = row(e, "loadoff_sickness_change", "28d", "org", "all");
    assert_close(r->numerator, 0);
    assert_close(r->denominator, 2);
}

/* A3 has no control (alone in ER): ER has no load-off cell; A4 changed department inside
 * the span: Surgery has none either. */
static void test_not_counted(void **state)
{
    struct env *e = *state;
    assert_null(kpi_table_find(&e->t, "loadoff_wow8_change", "28d", "department", "ER"));
    assert_null(kpi_table_find(&e->t, "loadoff_wow8_change", "28d", "department", "Surgery"));
    assert_null(kpi_table_find(&e->t, "loadoff_wow8_pretrend", "28d", "department", "ER"));
}

static void test_pretrend(void **state)
{
    struct env *e = *state;
    const struct kpi_row *r = row(e, "loadoff_wow8_pretrend", "28d", "org", "all");
    assert_close(r->numerator, -300);
    assert_close(r->denominator, 3);
    assert_int_equal(r->persons, 3);
    r = row(e, "loadoff_wow8_pretrend", "28d", "department", "ICU");
    assert_close(r->numerator, -300);
    /* The pretrend has no stderr row of its own. */
    assert_null(kpi_table_find(&e->t, "loadoff_wow8_pretrend_stderr", "28d", "org", "all"));
}

/* A5 (post end 08-14) is selected in 365d, not in 28d. */
static void test_selection_by_post_end(void **state)
{
    struct env *e = *state;
    const struct kpi_row *r = row(e, "loadoff_overtime_change", "365d", "org", "all");
    assert_close(r->numerator, -0.15);
    assert_close(r->denominator, 3);
    r = row(e, "loadoff_wow8_change", "365d", "org", "all"); /* A5 has no EHR rows */
    assert_close(r->denominator, 2);
}

/* Windows computed together (side by side, load-off's one pass over all of them) give
 * exactly the rows each gives alone: an estimate is counted in every window its post
 * period ends in, and each window's cells, marks and distinct controls are its own. */
static void test_windows_together(void **state)
{
    struct env *e = *state;
    const char *const w[] = {"7d", "28d", "90d", "365d", "2026Q3", "2026Q2"};
    enum { NW = sizeof w / sizeof *w };
    struct kpi_table together[NW], alone[NW];
    memset(together, 0, sizeof together);
    memset(alone, 0, sizeof alone);
    kpi_compute_windows(e->model, &e->p, w, NW, together);
    size_t loadoff_rows = 0;
    for (size_t i = 0; i < NW; i++) {
        kpi_compute_window(e->model, &e->p, w[i], &alone[i]);
        assert_int_equal(together[i].n, alone[i].n);
        for (size_t r = 0; r < alone[i].n; r++) {
            const struct kpi_row *x = &together[i].rows[r], *y = &alone[i].rows[r];
            assert_string_equal(x->kpi, y->kpi);
            assert_string_equal(x->window, y->window);
            assert_string_equal(x->by, y->by);
            assert_string_equal(x->group, y->group);
            assert_true(x->numerator == y->numerator && x->denominator == y->denominator);
            assert_int_equal(x->persons, y->persons);
            assert_int_equal(x->controls, y->controls);
            assert_int_equal(x->suppressed, y->suppressed);
            assert_int_equal(x->dominated, y->dominated);
            loadoff_rows += strncmp(y->kpi, "loadoff_", 8) == 0;
        }
    }
    /* Not vacuous: 28d and 365d hold the estimates of the tests above, and 2026Q2 none. */
    assert_true(loadoff_rows >= 10);
    assert_null(kpi_table_find(&together[5], "loadoff_wow8_change", "2026Q2", "org", "all"));
    for (size_t i = 0; i < NW; i++) {
        kpi_table_clear(&together[i]);
        kpi_table_clear(&alone[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_change),           cmocka_unit_test(test_not_counted),
        cmocka_unit_test(test_pretrend),         cmocka_unit_test(test_selection_by_post_end),
        cmocka_unit_test(test_windows_together),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
