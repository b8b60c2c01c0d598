/* export_test.c - the quarterly export: rows equal the API's rows for the quarter, and
 * prev_value equals the previous quarter's value of the same cell. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <jansson.h>

#include "aggregator/export_cmd.h"
#include "common/decimal.h"
#include "exporters/rows.h"
#include "tests/unit/fixtures.h"

struct env {
    char *dir;
    struct store *store;
    struct kpi_model *model;
    struct kpi_params params;
};

/* Ten ICU nurses from 2026-01-01; persons 1..4 use AI in Q2, persons 1..7 in Q3. */
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
    for (uint32_t p = 1; p <= 10; p++)
        fx_staffing(&fb, p, "2026-01-01", NULL, 0, "north", "ICU", "nurse", 0, 1000000);
    uint64_t off = 0;
    for (uint32_t p = 1; p <= 4; p++)
        fx_usage(&fb, p, "2026-05-05", "ambient-scribe", 0, off++);
    for (uint32_t p = 1; p <= 7; p++)
        fx_usage(&fb, p, "2026-08-05", "ambient-scribe", 0, off++);
    assert_true(fx_ingest(ing, &fb, 1));
    ingest_free(ing);
    assert_int_equal(kpi_model_load(&e->model, e->store), 0);
    e->params.as_of = fx_day("2026-09-30");
    e->params.min_group_size = 5;
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

static void test_json_prev(void **state)
{
    struct env *e = *state;
    struct sbuf out = {0};
    char err[200];
    assert_int_equal(export_render(e->model, &e->params, "2026Q3", "json", &out, err, sizeof err),
                     0);
    json_error_t jerr;
    json_t *root = json_loads(out.p, 0, &jerr);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "as_of")), "2026-09-30");
    json_t *rows = json_object_get(root, "rows");
    /* The same rows as the API's window=2026Q3. */
    struct kpi_table api = {.as_of = e->params.as_of};
    kpi_compute_window(e->model, &e->params, "2026Q3", &api);
    assert_int_equal(json_array_size(rows), api.n);
    int found = 0;
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        const char *kpi = json_string_value(json_object_get(r, "kpi"));
        const char *by = json_string_value(json_object_get(r, "by"));
        if (strcmp(kpi, "adoption_ratio") || strcmp(by, "org"))
            continue;
        found = 1;
        /* Q3: 7 of 10 active; Q2: 4 of 10. delta = 0.7 - 0.4. */
        assert_double_exact(json_number_value(json_object_get(r, "value")), 0.7);
        assert_double_exact(json_number_value(json_object_get(r, "prev_value")), 0.4);
        assert_double_exact(json_number_value(json_object_get(r, "delta")), 0.7 - 0.4);
        assert_string_equal(json_string_value(json_object_get(r, "window_start")), "2026-07-01");
        assert_true(json_is_false(json_object_get(r, "suppressed")));
    }
    assert_true(found);
    json_decref(root);
    kpi_table_clear(&api);
    sbuf_free(&out);
}

static void test_csv_and_errors(void **state)
{
    struct env *e = *state;
    struct sbuf out = {0};
    char err[200];
    assert_int_equal(export_render(e->model, &e->params, "2026Q3", "csv", &out, err, sizeof err),
                     0);
    assert_non_null(strstr(out.p, "window,kpi,by,group,value,numerator,denominator,suppressed,"
                                  "window_start,window_end,prev_value,delta\n"));
    assert_non_null(strstr(out.p, "2026Q3,adoption_ratio,org,all,0.7,7,10,false,2026-07-01,"
                                  "2026-09-30,0.4,0.29999999999999993\n"));
    sbuf_free(&out);
    assert_int_equal(export_render(e->model, &e->params, "2026Q4", "csv", &out, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "after the as-of day"));
    assert_int_equal(export_render(e->model, &e->params, "2025Q3", "csv", &out, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "no data"));
    assert_int_equal(export_render(e->model, &e->params, "2026Q3", "xml", &out, err, sizeof err),
                     -EINVAL);
    assert_int_equal(export_render(e->model, &e->params, "28d", "csv", &out, err, sizeof err),
                     -EINVAL);
    sbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_prev),
        cmocka_unit_test(test_csv_and_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
