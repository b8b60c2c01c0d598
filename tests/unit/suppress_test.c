/* suppress_test.c - primary, complementary and linked suppression on adoption_ratio cells,
 * and the dominance rule on the magnitude KPIs, worked through by hand in each test's
 * comment (min_group_size 5). */
#include "tests/unit/testutil.h"

#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

struct dept {
    const char *site, *name;
    int people;
};

/* Builds a model with the given departments (everyone from 2025-01-01) and computes 28d. */
static void compute(const struct dept *d, size_t n, struct kpi_table *t, char **dir,
                    struct store **store, struct kpi_model **model)
{
    *dir = fx_tmpdir();
    char err[256];
    assert_int_equal(store_open(store, *dir, false, false, err, sizeof err), 0);
    struct ingest *ing;
    ingest_new(&ing, *store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    uint32_t who = 1;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < d[i].people; k++)
            fx_staffing(&fb, who++, "2025-01-01", NULL, 0, d[i].site, d[i].name, "nurse", 0,
                        1000000);
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(model, *store), 0);
    struct kpi_params p = {
        .as_of = fx_day("2026-09-30"), .min_group_size = 5, .contract_hours_micro = 40 * MICRO};
    kpi_compute_window(*model, &p, "28d", t);
}

static void done(struct kpi_table *t, char *dir, struct store *store, struct kpi_model *model)
{
    kpi_table_clear(t);
    kpi_model_free(model);
    store_close(store);
    fx_rmdb(dir);
}

static int sup(const struct kpi_table *t, const char *by, const char *group)
{
    const struct kpi_row *r = kpi_table_find(t, "adoption_ratio", "28d", by, group);
    if (!r)
        fail_msg("no adoption_ratio row for %s %s", by, group);
    return r->suppressed;
}

/* Two primary cells in different sites: the department breakdown has two suppressed cells,
 * so the complementary rule does nothing, but each nested site would give its small
 * department away (north 15 - A 12 = B). The linked rule takes the next department of
 * each site: A in north, D in south. Sites and org stay published. */
static void test_linked_published_site(void **state)
{
    (void)state;
    const struct dept d[] = {
        {"north", "A", 12}, {"north", "B", 3}, {"south", "D", 30}, {"south", "E", 2}};
    struct kpi_table t = {0};
    char *dir;
    struct store *store;
    struct kpi_model *model;
    compute(d, 4, &t, &dir, &store, &model);
    assert_true(sup(&t, "department", "A"));
    assert_true(sup(&t, "department", "B"));
    assert_true(sup(&t, "department", "D"));
    assert_true(sup(&t, "department", "E"));
    assert_false(sup(&t, "site", "north"));
    assert_false(sup(&t, "site", "south"));
    assert_false(sup(&t, "org", "all"));
    done(&t, dir, store, model);
}

/* Departments A 6, C 7 (north), D 30, E 3 (south), G 4 (west). Round 1: complementary
 * on departments does nothing (E and G are suppressed: two cells); on sites, west (4) is
 * alone, so north (13, the next smallest) goes too. Linked: north is a suppressed nested
 * site whose departments are all published, so its smallest, A, goes; south is published
 * with exactly one suppressed department (E), so D goes. Round 2 adds nothing: C, south and
 * org stay published. */
static void test_linked_suppressed_site(void **state)
{
    (void)state;
    const struct dept d[] = {{"north", "A", 6},
                             {"north", "C", 7},
                             {"south", "D", 30},
                             {"south", "E", 3},
                             {"west", "G", 4}};
    struct kpi_table t = {0};
    char *dir;
    struct store *store;
    struct kpi_model *model;
    compute(d, 5, &t, &dir, &store, &model);
    assert_true(sup(&t, "site", "west"));
    assert_true(sup(&t, "site", "north"));
    assert_false(sup(&t, "site", "south"));
    assert_true(sup(&t, "department", "A"));
    assert_false(sup(&t, "department", "C"));
    assert_true(sup(&t, "department", "D"));
    assert_true(sup(&t, "department", "E"));
    assert_true(sup(&t, "department", "G"));
    assert_false(sup(&t, "org", "all"));
    done(&t, dir, store, model);
}

/* A department spread over two sites makes neither site nested: no linked rule. With
 * departments A (north 12 and south 3 people = 15) and B (north 4): B is primary,
 * complementary takes A; sites north 16 and south 3: south primary, complementary takes
 * north. Nothing else. */
static void test_not_nested(void **state)
{
    (void)state;
    const struct dept d[] = {{"north", "A", 12}, {"south", "A", 3}, {"north", "B", 4}};
    struct kpi_table t = {0};
    char *dir;
    struct store *store;
    struct kpi_model *model;
    compute(d, 3, &t, &dir, &store, &model);
    assert_true(sup(&t, "department", "A"));
    assert_true(sup(&t, "department", "B"));
    assert_true(sup(&t, "site", "north"));
    assert_true(sup(&t, "site", "south"));
    assert_false(sup(&t, "org", "all"));
    done(&t, dir, store, model);
}

/* ---- dominance (magnitude KPIs) ---- */

/* One nurse's overtime, sick hours and after-hours EHR time on 2026-09-30.
 * who: staff number; dept: "A" or "B"; overtime, sick in micro-hours; outside in minutes. */
struct load {
    uint32_t who;
    const char *dept;
    int64_t overtime, sick, outside;
};

/* Everyone a nurse at site main since 2025-01-01, one 8 h shift and one EHR day (8
 * scheduled hours, 60 EHR minutes) on 2026-09-30, plus the given loads. Computes window
 * win with the dominance rule given (min_contributors 0: off). */
static void compute_load(const struct load *l, size_t n, int64_t min_contributors, const char *win,
                         struct kpi_table *t, char **dir, struct store **store,
                         struct kpi_model **model)
{
    *dir = fx_tmpdir();
    char err[256];
    assert_int_equal(store_open(store, *dir, false, false, err, sizeof err), 0);
    struct ingest *ing;
    ingest_new(&ing, *store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    for (size_t i = 0; i < n; i++) {
        fx_staffing(&fb, l[i].who, "2025-01-01", NULL, 0, "main", l[i].dept, "nurse", 0, 1000000);
        fx_shift(&fb, l[i].who, "2026-09-30T07:00:00Z", "2026-09-30T15:00:00Z", l[i].overtime);
        if (l[i].sick)
            fx_absence(&fb, l[i].who, "2026-09-30", l[i].sick, 1);
        fx_ehr(&fb, l[i].who, "2026-09-30", 8, 60, l[i].outside, 0);
    }
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(model, *store), 0);
    struct kpi_params p = {.as_of = fx_day("2026-09-30"),
                           .min_group_size = 5,
                           .contract_hours_micro = 40 * MICRO,
                           .dominance_min_contributors = min_contributors,
                           .dominance_max_share = 500000};
    kpi_compute_window(*model, &p, win, t);
}

static const struct kpi_row *row(const struct kpi_table *t, const char *kpi, const char *by,
                                 const char *group)
{
    const struct kpi_row *r = kpi_table_find(t, kpi, "1d", by, group);
    if (!r)
        fail_msg("no %s row for %s %s", kpi, by, group);
    return r;
}

/* A 1-day window whose overtime comes from one nurse. Department A has 6 nurses, B 7;
 * nurse 1 (A) worked 2 h overtime, was 4 h sick and charted 30 min outside schedule; no one
 * else did. Every cell has at least 6 people, so the person count suppresses nothing. With
 * the rule: for overtime, sickness and wow8, the cells holding nurse 1 (A, site main, role
 * nurse, org, adoption_cohort non_adopter) have a numerator above 0 from 1 contributor
 * (< 3), so they are dominated and primary-suppressed; B's numerator is 0, so the rule
 * does not apply to it, but it is then A's complement (the only other department) and is
 * suppressed too. Without the rule (min_contributors 0) nothing is suppressed. Cells of
 * the count KPIs (long_shift_ratio) never take the rule. */
static void test_dominance_one_nurse(void **state)
{
    (void)state;
    struct load l[13];
    for (uint32_t i = 0; i < 13; i++)
        l[i] = (struct load){i + 1, i < 6 ? "A" : "B", 0, 0, 0};
    l[0].overtime = 2 * MICRO;
    l[0].sick = 4 * MICRO;
    l[0].outside = 30;
    static const char *const magnitude[] = {"overtime_ratio", "sickness_absence_ratio",
                                            "wow8_seconds"};
    for (int on = 0; on < 2; on++) {
        struct kpi_table t = {0};
        char *dir;
        struct store *store;
        struct kpi_model *model;
        compute_load(l, 13, on ? 3 : 0, "1d", &t, &dir, &store, &model);
        for (size_t k = 0; k < 3; k++) {
            const char *kpi = magnitude[k];
            assert_int_equal(row(&t, kpi, "department", "A")->persons, 6);
            assert_true(row(&t, kpi, "department", "A")->numerator > 0);
            assert_int_equal(row(&t, kpi, "department", "A")->suppressed, on);
            assert_int_equal(row(&t, kpi, "department", "A")->dominated, on);
            assert_int_equal(row(&t, kpi, "department", "B")->suppressed, on);
            assert_false(row(&t, kpi, "department", "B")->dominated);
            assert_int_equal(row(&t, kpi, "org", "all")->suppressed, on);
            assert_int_equal(row(&t, kpi, "site", "main")->suppressed, on);
            assert_int_equal(row(&t, kpi, "role", "nurse")->suppressed, on);
            assert_int_equal(row(&t, kpi, "adoption_cohort", "non_adopter")->suppressed, on);
        }
        /* The value stays what it was: 2 h overtime over 13 x 40 / 7 contracted hours. */
        assert_double_exact(row(&t, "overtime_ratio", "org", "all")->numerator, 2.0);
        assert_false(row(&t, "long_shift_ratio", "org", "all")->suppressed);
        assert_false(row(&t, "long_shift_ratio", "department", "A")->suppressed);
        done(&t, dir, store, model);
    }
}

/* The share test, exactly. Department B (7 nurses): overtime 2, 1 and 1 h: three
 * contributors and the largest part is exactly 50 % of 4 h, not above it: not dominated.
 * C (8): 2.000001, 1 and 1 h: 2.000001 / 4.000001 > 50 %: dominated. D (9): 1 and 1 h: two
 * contributors (< 3): dominated. Two department cells are suppressed, so the complementary
 * rule adds nothing and B stays published; the linked rule sees site main (nested) with two
 * suppressed departments and adds nothing. Org: 7 contributors, largest 2.000001 of
 * 10.000001 h: published. */
static void test_dominance_share(void **state)
{
    (void)state;
    struct load l[24];
    for (uint32_t i = 0; i < 24; i++)
        l[i] = (struct load){i + 1, i < 7 ? "B" : i < 15 ? "C" : "D", 0, 0, 0};
    l[0].overtime = 2 * MICRO;
    l[1].overtime = MICRO;
    l[2].overtime = MICRO;
    l[7].overtime = 2 * MICRO + 1;
    l[8].overtime = MICRO;
    l[9].overtime = MICRO;
    l[15].overtime = MICRO;
    l[16].overtime = MICRO;
    struct kpi_table t = {0};
    char *dir;
    struct store *store;
    struct kpi_model *model;
    compute_load(l, 24, 3, "1d", &t, &dir, &store, &model);
    const char *kpi = "overtime_ratio";
    assert_false(row(&t, kpi, "department", "B")->dominated);
    assert_false(row(&t, kpi, "department", "B")->suppressed);
    assert_true(row(&t, kpi, "department", "C")->dominated);
    assert_true(row(&t, kpi, "department", "C")->suppressed);
    assert_true(row(&t, kpi, "department", "D")->dominated);
    assert_true(row(&t, kpi, "department", "D")->suppressed);
    assert_false(row(&t, kpi, "org", "all")->suppressed);
    assert_false(row(&t, kpi, "site", "main")->suppressed);
    assert_double_exact(row(&t, kpi, "org", "all")->numerator, 10.000001);
    done(&t, dir, store, model);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked_published_site),
        cmocka_unit_test(test_linked_suppressed_site),
        cmocka_unit_test(test_not_nested),
        cmocka_unit_test(test_dominance_one_nurse),
        cmocka_unit_test(test_dominance_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
