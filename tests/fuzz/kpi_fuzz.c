/* kpi_fuzz.c - libFuzzer target: records off the wire through ingest into the KPI engine.
 *
 * An input that decodes as a cadre.Batch is re-packed as agent "a1" (fuzz_store.h) and
 * ingested into a scratch store and model made afresh every RECREATE_EVERY inputs; then
 * every KPI of the windows 2026Q3 and 90d (as of 2026-09-30) is computed from the model,
 * as a refresh or GET /api/v1/kpis would. Any value ingest accepts must be safe for the
 * engine: no crash, no undefined behaviour, and every row has a finite numerator, a
 * denominator > 0 (kpi_table.h), persons >= 0 and its window's days.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/kpi.h"
#include "common/decimal.h"
#include "common/timeutil.h"
#include "tests/fuzz/fuzz_store.h"

#define RECREATE_EVERY 64

static void fail(const char *what, const struct kpi_row *r)
{
    fprintf(stderr, "kpi_fuzz: %s (%s %s %s %s: %g / %g, persons %lld)\n", what, r->kpi, r->window,
            r->by, r->group ? r->group : "(null)", r->numerator, r->denominator,
            (long long)r->persons);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Cadre__Batch *b = cadre__batch__unpack(NULL, size, data);
    if (!b)
        return 0;
    fz_tick(RECREATE_EVERY);
    size_t len;
    uint8_t *body = fz_repack(b, data, size, &len);
    cadre__batch__free_unpacked(b, NULL);
    char msg[256];
    enum ingest_result status = ingest_batch(fz.ing, "a1", NULL, body, len, msg, sizeof msg);
    free(body);
    if (status != INGEST_STORED)
        return 0;

    static char *every_course[] = {NULL};
    struct kpi_params p = {
        .min_group_size = 5,
        .contract_hours_micro = 40 * MICRO,
        .burnout_overtime_ratio = 100000,
        .burnout_long_shift_share = 250000,
        .burnout_wow8_seconds = 3600 * MICRO,
        .burnout_sickness_ratio = 50000,
        .burnout_short_rests = 2,
        .burnout_min_flags = 2,
        .literacy_courses = every_course,
    };
    if (parse_date("2026-09-30", 10, &p.as_of))
        abort();
    struct kpi_table t = {.as_of = p.as_of};
    kpi_model_rdlock(fz.model);
    kpi_compute_window(fz.model, &p, "2026Q3", &t);
    kpi_compute_window(fz.model, &p, "90d", &t);
    kpi_model_unlock(fz.model);
    for (size_t i = 0; i < t.n; i++) {
        const struct kpi_row *r = &t.rows[i];
        if (!isfinite(r->numerator) || !isfinite(r->denominator) || !(r->denominator > 0))
            fail("numerator not finite or denominator not > 0", r);
        if (r->persons < 0 || r->window_start > r->window_end || r->window_end > p.as_of)
            fail("persons or window days out of range", r);
    }
    kpi_table_clear(&t);
    return 0;
}
