/* snapshot_test.c - the KPI snapshot: what a refresh computes and renders, reference
 * counting, and the one query function /api uses (snapshot windows vs. live windows). */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <unistd.h>

#include "aggregator/kpi.h"
#include "aggregator/kpi_model.h"
#include "aggregator/snapshot.h"
#include "common/decimal.h"
#include "tests/unit/fixtures.h"

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_params params;
};

/* Employed from 2025-01-01: ICU nurses 1..12 (site north; 1..6 used a tool on 2026-09-20,
 * 7 on 2026-07-15), ER nurses 20..31 (north; 20 used a tool on 2026-09-20) and Lab
 * physicians 40, 41 (south; no use). As of 2026-09-30 with k = 10: adoption 28d org 7/26
 * (1..6 and 20); Lab (2 people) is suppressed, and so, by the complementary rule, is the
 * next smallest department: ER and ICU tie at 12, "ER" comes first in byte order. ICU is
 * published: 28d 6/12 = 0.5, 90d 7/12. */
static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    e->dir = fx_tmpdir();
    char err[256];
    if (store_open(&e->store, e->dir, false, false, err, sizeof err))
        return -1;
    struct ingest *ing;
    ingest_new(&ing, e->store, NULL, NULL, NULL);
    struct fx_batch fb = {0};
    for (uint32_t p = 1; p <= 12; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    for (uint32_t p = 20; p <= 31; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "north", "ER", "nurse", 0, 1000000);
    for (uint32_t p = 40; p <= 41; p++)
        fx_staffing(&fb, p, "2025-01-01", NULL, 0, "south", "Lab", "physician", 0, 1000000);
    for (uint32_t p = 1; p <= 6; p++)
        fx_usage(&fb, p, "2026-09-20", "scribe", 0, p);
    fx_usage(&fb, 7, "2026-07-15", "scribe", 0, 7);
    fx_usage(&fb, 20, "2026-09-20", "scribe", 0, 20);
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    e->params.as_of = fx_day("2026-09-30");
    e->params.min_group_size = 10;
    e->params.contract_hours_micro = 40 * MICRO;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    kpi_model_free(e->model);
    store_close(e->store);
    fx_rmdb(e->dir);
    xfree(e);
    return 0;
}

static const struct kpi_row *row(const struct kpi_table *t, const char *kpi, const char *w,
                                 const char *by, const char *group)
{
    const struct kpi_row *r = kpi_table_find(t, kpi, w, by, group);
    if (!r)
        fail_msg("no row %s %s %s %s", kpi, w, by, group);
    return r;
}

static void test_build(void **state)
{
    struct env *e = *state;
    struct snapshot *s = snapshot_build(e->model, &e->params);
    assert_int_equal(s->params.as_of, fx_day("2026-09-30"));
    /* The /metrics windows are computed, nothing else. */
    for (size_t i = 0; i < s->table.n; i++) {
        const char *w = s->table.rows[i].window;
        assert_true(!strcmp(w, "7d") || !strcmp(w, "28d") || !strcmp(w, "90d") ||
                    !strcmp(w, "365d"));
    }
    const struct kpi_row *r = row(&s->table, "adoption_ratio", "28d", "org", "all");
    assert_double_exact(r->numerator, 7); /* persons 1..6 and 20 */
    assert_double_exact(r->denominator, 26);
    r = row(&s->table, "adoption_ratio", "90d", "department", "ICU");
    assert_double_exact(r->numerator, 7);
    assert_double_exact(r->denominator, 12);
    assert_false(r->suppressed);
    assert_true(row(&s->table, "adoption_ratio", "28d", "department", "Lab")->suppressed);
    assert_true(row(&s->table, "adoption_ratio", "28d", "department", "ER")->suppressed);
    /* The rendered text: published cells as gauges (6 / 12 = 0.5), suppressed ones not. */
    char *text = xstrndup(s->kpi_text, s->kpi_len);
    assert_non_null(strstr(text, "# TYPE cadre_adoption_ratio gauge\n"));
    assert_non_null(
        strstr(text, "cadre_adoption_ratio{window=\"28d\",by=\"department\",group=\"ICU\"} 0.5\n"));
    assert_null(strstr(text, "group=\"ER\""));
    assert_null(strstr(text, "group=\"Lab\""));
    /* adoption_ratio is not a 365d /metrics window: computed, not rendered. */
    assert_non_null(kpi_table_find(&s->table, "adoption_ratio", "365d", "org", "all"));
    assert_null(strstr(text, "cadre_adoption_ratio{window=\"365d\""));
    xfree(text);
    /* The suppressed-cell counts are those of the rendered windows and KPIs. */
    uint64_t n28 = 0;
    for (size_t i = 0; i < s->table.n; i++) {
        const struct kpi_row *x = &s->table.rows[i];
        const struct kpi_def *d = kpi_catalogue_find(x->kpi);
        n28 += x->suppressed && !strcmp(x->window, "28d") && kpi_def_has_window(d, "28d");
    }
    assert_true(n28 > 0);
    assert_int_equal(snapshot_suppressed_cells(s, "28d"), n28);
    assert_int_equal(s->stats.suppressed[1], n28); /* kpi_metric_windows[1] is 28d */
    assert_ptr_equal(s->stats.kpi_text, s->kpi_text);
    snapshot_free(s);
}

/* The refresher publishes a snapshot; snapshot_query answers /metrics windows from it and
 * any other window live, with the same rows where they overlap in definition. */
static void test_refresher_and_query(void **state)
{
    struct env *e = *state;
    struct refresher *r;
    assert_int_equal(refresher_start(&r, e->model, &e->params, 3600), 0);
    struct snapshot *s = NULL;
    for (int i = 0; i < 200 && !(s = snapshot_acquire(r)); i++)
        usleep(10000);
    assert_non_null(s);
    struct snapshot *again = snapshot_acquire(r);
    assert_ptr_equal(again, s);
    snapshot_release(r, again);
    snapshot_release(r, s);

    struct kpi_table t;
    char err[160];
    assert_int_equal(snapshot_query(r, e->model, "28d", &t, err, sizeof err), 0);
    const struct kpi_row *q = row(&t, "adoption_ratio", "28d", "org", "all");
    assert_double_exact(q->numerator, 7);
    for (size_t i = 0; i < t.n; i++)
        assert_string_equal(t.rows[i].window, "28d");
    kpi_table_clear(&t);
    /* 2026Q3 (2026-07-01 .. 09-30) is computed live: persons 1..7 and 20 used a tool. */
    assert_int_equal(snapshot_query(r, e->model, "2026Q3", &t, err, sizeof err), 0);
    q = row(&t, "adoption_ratio", "2026Q3", "org", "all");
    assert_double_exact(q->numerator, 8);
    assert_double_exact(q->denominator, 26);
    assert_int_equal(q->window_start, fx_day("2026-07-01"));
    kpi_table_clear(&t);
    assert_int_equal(snapshot_query(r, e->model, "2027Q1", &t, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "starts after the as-of day"));
    refresher_stop(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_build, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresher_and_query, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
