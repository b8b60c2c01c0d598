/* kpi_catalogue_test.c - the KPI catalogue is complete and consistent: every row has what
 * /metrics, the API, suppression and the report read from it. */
#include "tests/unit/testutil.h"

#include <string.h>

#include "exporters/kpi_catalogue.h"

static void test_rows_complete(void **state)
{
    (void)state;
    size_t n;
    const struct kpi_def *cat = kpi_catalogue(&n);
    assert_true(n >= 23);
    for (size_t i = 0; i < n; i++) {
        const struct kpi_def *d = &cat[i];
        assert_non_null(d->name);
        assert_non_null(d->help);
        assert_non_null(d->persons);
        assert_true(strlen(d->help) > 10);
        assert_true(d->by != 0);
        assert_true(d->by < KPI_BY_BIT(KPI_BY_COUNT));
        assert_true((unsigned)d->family < KPI_FAM_COUNT);
        /* A titled KPI is defined in words too. */
        assert_true(!d->title == !d->definition);
        /* Every /metrics window is one of the windows the snapshot computes. */
        assert_non_null(d->windows);
        assert_non_null(d->windows[0]);
        for (const char *const *w = d->windows; *w; w++) {
            int known = 0;
            for (const char *const *m = kpi_metric_windows; *m; m++)
                known |= strcmp(*m, *w) == 0;
            if (!known)
                fail_msg("%s: window %s is not computed for /metrics", d->name, *w);
            assert_true(kpi_def_has_window(d, *w));
        }
        assert_false(kpi_def_has_window(d, "2026Q3"));
        /* Names are unique and found. */
        assert_ptr_equal(kpi_catalogue_find(d->name), d);
        /* A Prometheus metric name: [a-z0-9_] after "cadre_". */
        for (const char *c = d->name; *c; c++)
            assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
    }
    assert_null(kpi_catalogue_find("no_such_ratio"));
}

static void test_rules_of_the_kpi_table(void **state)
{
    (void)state;
    /* From docs/kpi.md: ratios and seconds, breakdowns and the one never-suppressed KPI. */
    const struct kpi_def *d = kpi_catalogue_find("wow8_seconds");
    assert_int_equal(d->unit, KPI_UNIT_SECONDS);
    assert_true(d->by & KPI_BY_BIT(KPI_BY_ADOPTION_COHORT));
    d = kpi_catalogue_find("tool_adoption_ratio");
    assert_int_equal(d->by, KPI_BY_BIT(KPI_BY_TOOL));
    d = kpi_catalogue_find("hybrid_role_leaver_ratio");
    assert_int_equal(d->by, KPI_BY_BIT(KPI_BY_ORG) | KPI_BY_BIT(KPI_BY_HYBRID_ROLE));
    d = kpi_catalogue_find("ai_champion_coverage_ratio");
    assert_int_equal(d->suppression, KPI_SUPPRESS_NEVER);
    assert_int_equal(d->by, KPI_BY_BIT(KPI_BY_ORG));
    size_t n, never = 0;
    const struct kpi_def *cat = kpi_catalogue(&n);
    for (size_t i = 0; i < n; i++)
        never += cat[i].suppression == KPI_SUPPRESS_NEVER;
    assert_int_equal(never, 1);
    /* /metrics windows per family. */
    assert_true(kpi_def_has_window(kpi_catalogue_find("adoption_ratio"), "7d"));
    assert_false(kpi_def_has_window(kpi_catalogue_find("overtime_ratio"), "7d"));
    assert_true(kpi_def_has_window(kpi_catalogue_find("retention_ratio"), "365d"));
    assert_false(kpi_def_has_window(kpi_catalogue_find("ai_literacy_ratio"), "90d"));
}

static void test_breakdown_names(void **state)
{
    (void)state;
    static const char *const names[] = {"org",  "site",        "department",     "role",
                                        "tool", "hybrid_role", "adoption_cohort"};
    for (int b = 0; b < KPI_BY_COUNT; b++) {
        assert_string_equal(kpi_by_name(b), names[b]);
        assert_int_equal(kpi_by_parse(names[b]), b);
    }
    assert_int_equal(kpi_by_parse("Org"), -1);
    assert_int_equal(kpi_by_parse(""), -1);
    assert_null(kpi_by_name(KPI_BY_COUNT));
    for (int f = 0; f < KPI_FAM_COUNT; f++)
        assert_non_null(kpi_family_title(f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_complete),
        cmocka_unit_test(test_rules_of_the_kpi_table),
        cmocka_unit_test(test_breakdown_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
