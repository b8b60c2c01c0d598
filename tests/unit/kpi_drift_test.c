/* kpi_drift_test.c - ai_output_<o>_drift_z against values worked by hand from the formula of
 * docs/kpi.md, and how its cells are suppressed.
 *
 * As-of 2026-09-30, window 7d = 09-24..09-30, drift_baseline_days 84: the baseline is
 * 07-02..09-23 (23 + 31 + 30 days back from 09-24). Everyone is an ICU nurse from
 * 2025-01-01. Usage events with an outcome:
 *
 *   scribe, staff 1..6   baseline: 40 events, 30 accepted, 6 edited, 4 rejected (one on
 *                        07-02, the first baseline day); one rejected on 07-01 (before it,
 *                        not counted). Window: 10 events, 5 accepted, 1 edited, 4 rejected,
 *                        every one of the six with one at least; also an event without
 *                        outcome and a rejected one from staff 99 (no episode: unmatched),
 *                        neither counted.
 *   coding, staff 21..23 baseline 10 (5 accepted, 5 rejected), window 6 (3 and 3).
 *   chat, staff 11..     every event accepted, one each in baseline and window.
 *   triage, staff 31..38 window only.
 *
 * scribe, n_W = 10, n_B = 40, so 1/n_W + 1/n_B = 0.125:
 *   rejected: p_W = 4/10 = 0.4, p_B = 4/40 = 0.1, p^ = 8/50 = 0.16,
 *             den = sqrt(0.16 x 0.84 x 0.125) = sqrt(0.0168) = 0.129614814,
 *             z = 0.3 / 0.129614814 = 2.314550
 *   accepted: 0.5 - 0.75 = -0.25, p^ = 35/50 = 0.7, den = sqrt(0.7 x 0.3 x 0.125) =
 *             sqrt(0.02625) = 0.162018517, z = -1.543033
 *   edited:   0.1 - 0.15 = -0.05, p^ = 7/50 = 0.14, den = sqrt(0.14 x 0.86 x 0.125) =
 *             sqrt(0.01505) = 0.122678441, z = -0.407570
 * coding: p_W = p_B = 0.5 for accepted and rejected: z = 0; edited p^ = 0: no row.
 * chat: accepted p^ = 1, edited and rejected p^ = 0: no row. triage: n_B = 0: no row.
 */
#include "tests/unit/testutil.h"

#include <math.h>

#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

enum { ACC = 1, EDIT = 2, REJ = 3 };

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_table t;
};

static char *day(int32_t d, char *buf)
{
    format_date(d, buf);
    return buf;
}

/* Builds the data above with nchat chat users and computes 7d. */
static void build(struct env *e, int nchat)
{
    memset(e, 0, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256], b[11];
    assert_int_equal(store_open(&e->store, e->dir, false, false, err, sizeof err), 0);
    struct ingest *ing;
    ingest_new(&ing, e->store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    uint64_t off = 0;
    uint32_t staff[] = {1, 2, 3, 4, 5, 6, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 38};
    for (size_t i = 0; i < sizeof staff / sizeof *staff; i++)
        fx_staffing(&fb, staff[i], "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, MICRO);
    for (int i = 0; i < nchat; i++)
        fx_staffing(&fb, 11 + (uint32_t)i, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0,
                    MICRO);
    int32_t base0 = fx_day("2026-07-02"), win0 = fx_day("2026-09-24");
    /* scribe */
    for (int i = 0; i < 40; i++)
        fx_usage(&fb, 1 + (uint32_t)(i % 6), day(base0 + i * 2, b), "scribe",
                 i < 30   ? ACC
                 : i < 36 ? EDIT
                          : REJ,
                 off++);
    fx_usage(&fb, 1, "2026-07-01", "scribe", REJ, off++);
    for (int i = 0; i < 10; i++)
        fx_usage(&fb, 1 + (uint32_t)(i % 6), day(win0 + i % 7, b), "scribe",
                 i < 5    ? ACC
                 : i == 5 ? EDIT
                          : REJ,
                 off++);
    fx_usage(&fb, 2, "2026-09-25", "scribe", 0, off++);
    fx_usage(&fb, 99, "2026-09-25", "scribe", REJ, off++);
    /* coding */
    for (int i = 0; i < 10; i++)
        fx_usage(&fb, 21 + (uint32_t)(i % 3), day(base0 + 30 + i, b), "coding", i < 5 ? ACC : REJ,
                 off++);
    for (int i = 0; i < 6; i++)
        fx_usage(&fb, 21 + (uint32_t)(i % 3), day(win0 + i, b), "coding", i < 3 ? ACC : REJ, off++);
    /* chat and triage */
    for (int i = 0; i < nchat; i++) {
        fx_usage(&fb, 11 + (uint32_t)i, "2026-08-10", "chat", ACC, off++);
        fx_usage(&fb, 11 + (uint32_t)i, "2026-09-27", "chat", ACC, off++);
    }
    for (uint32_t s = 31; s <= 38; s++)
        fx_usage(&fb, s, "2026-09-28", "triage", ACC, off++);
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    struct kpi_params p = {.as_of = fx_day("2026-09-30"),
                           .min_group_size = 5,
                           .contract_hours_micro = 40 * MICRO,
                           .drift_baseline_days = 84};
    kpi_compute_window(e->model, &p, "7d", &e->t);
}

static void done(struct env *e)
{
    kpi_table_clear(&e->t);
    kpi_model_free(e->model);
    store_close(e->store);
    fx_rmdb(e->dir);
}

static const struct kpi_row *find(const struct env *e, const char *kpi, const char *tool)
{
    return kpi_table_find(&e->t, kpi, "7d", "tool", tool);
}

static void assert_z(const struct kpi_row *r, double num, double den2, double z)
{
    assert_non_null(r);
    assert_true(fabs(r->numerator - num) < 1e-12);
    assert_true(fabs(r->denominator - sqrt(den2)) < 1e-12);
    assert_true(fabs(r->numerator / r->denominator - z) < 1e-6);
}

/* Five chat users: the per-tool ratio cells of coding (3 people) are primary-suppressed and
 * their complement is chat (5 people, the next smallest), not scribe (6). So scribe's drift
 * cells are published with the values above, coding's are suppressed by their own person
 * count (3 < 5), and the drift breakdown, with one suppressed cell, takes no complementary
 * rule of its own: scribe stays published. */
static void test_drift_values(void **state)
{
    (void)state;
    struct env e;
    build(&e, 5);
    const struct kpi_row *r = find(&e, "ai_output_rejected_drift_z", "scribe");
    assert_z(r, 0.3, 0.0168, 2.314550);
    assert_int_equal(r->persons, 6);
    assert_false(r->suppressed);
    r = find(&e, "ai_output_accepted_drift_z", "scribe");
    assert_z(r, -0.25, 0.02625, -1.543033);
    assert_false(r->suppressed);
    r = find(&e, "ai_output_edited_drift_z", "scribe");
    assert_z(r, -0.05, 0.01505, -0.407570);
    assert_false(r->suppressed);

    r = find(&e, "ai_output_rejected_drift_z", "coding");
    assert_non_null(r);
    assert_double_exact(r->numerator, 0.0);
    assert_int_equal(r->persons, 3);
    assert_true(r->suppressed);
    assert_null(find(&e, "ai_output_edited_drift_z", "coding"));
    assert_true(find(&e, "ai_output_rejected_ratio", "chat")->suppressed); /* complement */
    static const char *const o[] = {"accepted", "edited", "rejected"};
    for (int i = 0; i < 3; i++) {
        char kpi[64];
        snprintf(kpi, sizeof kpi, "ai_output_%s_drift_z", o[i]);
        assert_null(find(&e, kpi, "chat"));
        assert_null(find(&e, kpi, "triage"));
        /* by=tool only */
        assert_null(kpi_table_find(&e.t, kpi, "7d", "org", "all"));
    }
    done(&e);
}

/* Seven chat users: now scribe (6) is the next smallest tool after coding, so the
 * complementary rule suppresses scribe's per-tool ratio cells, and scribe's drift cells
 * follow them although their own person count (6) is above 5. */
static void test_drift_follows_ratio(void **state)
{
    (void)state;
    struct env e;
    build(&e, 7);
    assert_true(find(&e, "ai_output_rejected_ratio", "scribe")->suppressed);
    assert_false(find(&e, "ai_output_rejected_ratio", "chat")->suppressed);
    const struct kpi_row *r = find(&e, "ai_output_rejected_drift_z", "scribe");
    assert_z(r, 0.3, 0.0168, 2.314550);
    assert_int_equal(r->persons, 6);
    assert_true(r->suppressed);
    assert_true(find(&e, "ai_output_accepted_drift_z", "scribe")->suppressed);
    done(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drift_values),
        cmocka_unit_test(test_drift_follows_ratio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
