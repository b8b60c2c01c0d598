/* suppress_test.c - primary, complementary and linked suppression on adoption_ratio cells,
 * worked through by hand in each test's comment (min_group_size 5). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linked_published_site),
        cmocka_unit_test(test_linked_suppressed_site),
        cmocka_unit_test(test_not_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
