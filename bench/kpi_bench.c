/* kpi_bench.c - times a KPI refresh and a quarter query on a synthetic in-memory model.
 *
 * usage: kpi_bench [STAFF] [DAYS]   (defaults 50000 and 730)
 *        kpi_bench --db DIR         (a stored data set, as_of 2026-09-30)
 * Builds the model through kpi_model_apply() (the path ingest uses), about 300 usage
 * events, 120 shifts and 80 EHR days per person over DAYS days, or loads it from the
 * aggregator's database at DIR (opened read-only), then reports the median of 5 refreshes
 * (all /metrics windows) and of 5 quarter computations, load-off's share of a refresh (5
 * more refreshes without it), and peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aggregator/kpi.h"
#include "aggregator/snapshot.h"
#include "aggregator/store.h"
#include "cadre.pb-c.h"
#include "common/decimal.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void apply(struct kpi_model *m, int type, const ProtobufCMessage *msg)
{
    uint8_t buf[512];
    size_t n = protobuf_c_message_pack(msg, buf);
    kpi_model_apply(m, type, NULL, 0, buf, n);
}

/* Loads the model from the database at dir. */
static struct kpi_model *load(const char *dir)
{
    struct store *st = NULL;
    struct kpi_model *m = NULL;
    char err[256];
    if (store_open(&st, dir, false, true, err, sizeof err) || store_catch_up(st) ||
        kpi_model_load(&m, st)) {
        fprintf(stderr, "kpi_bench: cannot read the database at %s\n", dir);
        exit(1);
    }
    store_close(st);
    return m;
}

/* A synthetic model of staff people over the days up to as_of; n[] gets the usage events,
 * shifts and EHR days made. */
static struct kpi_model *synth(int staff, int days, int32_t as_of, uint64_t n[3])
{
    int32_t first = as_of - days + 1;
    static const char *depts[] = {"ICU",        "Emergency", "Medicine", "Surgery",    "Radiology",
                                  "Pediatrics", "Oncology",  "Pharmacy", "Laboratory", "Admin"};
    static const char *tools[] = {"ambient-scribe", "chat-assistant", "coding-assistant",
                                  "imaging-triage"};
    struct kpi_model *m = kpi_model_new();
    for (int p = 0; p < staff; p++) {
        uint8_t key[16] = {0};
        memcpy(key, &p, sizeof p);
        key[15] = 0x5a;
        Cadre__Staffing st = CADRE__STAFFING__INIT;
        st.staff = (ProtobufCBinaryData){16, key};
        st.start_day = first - (int32_t)rnd(400);
        if (rnd(10) == 0) {
            st.has_end_day = 1;
            st.end_day = first + (int32_t)rnd((uint32_t)days);
            st.has_end_reason = 1;
            st.end_reason = CADRE__END_REASON__END_REASON_VOLUNTARY;
        }
        st.site = (char *)(p % 3 ? "north" : "south");
        st.department = (char *)depts[p % 10];
        st.role = (char *)(p % 5 ? "nurse" : "physician");
        st.has_hybrid_role = p % 50 == 0;
        st.hybrid_role = (Cadre__HybridRole)(1 + p % 5);
        st.fte_micro = 1000000;
        apply(m, 2, &st.base);
        for (int i = 0; i < 300 * days / 730; i++, n[0]++) {
            Cadre__Usage u = CADRE__USAGE__INIT;
            u.staff = st.staff;
            u.day = first + (int32_t)rnd((uint32_t)days);
            u.ts_us = (int64_t)u.day * 86400 * US_PER_SEC;
            u.tool = (char *)tools[rnd(4)];
            u.has_outcome = 1;
            u.outcome = (Cadre__Outcome)rnd(4);
            apply(m, 1, &u.base);
        }
        for (int i = 0; i < 120 * days / 730; i++, n[1]++) {
            Cadre__Shift s = CADRE__SHIFT__INIT;
            s.staff = st.staff;
            s.day = first + i * 6 + (int32_t)rnd(3);
            s.start_us = ((int64_t)s.day * 86400 + 7 * 3600) * US_PER_SEC;
            s.end_us = s.start_us + (8 + rnd(6)) * US_PER_HOUR;
            s.overtime_micro = rnd(4) == 0 ? 1500000 : 0;
            apply(m, 3, &s.base);
        }
        for (int i = 0; i < 80 * days / 730; i++, n[2]++) {
            Cadre__Ehr e = CADRE__EHR__INIT;
            e.staff = st.staff;
            e.day = first + i * 9;
            e.scheduled_hours_micro = 8000000;
            e.ehr_minutes_micro = 90000000;
            e.outside_minutes_micro = 20000000;
            e.inbox_minutes_micro = 15000000;
            apply(m, 5, &e.base);
        }
    }
    return m;
}

int main(int argc, char **argv)
{
    const char *db = argc > 2 && strcmp(argv[1], "--db") == 0 ? argv[2] : NULL;
    int staff = argc > 1 && !db ? atoi(argv[1]) : 50000;
    int days = argc > 2 && !db ? atoi(argv[2]) : 730;
    int32_t as_of = day_from_civil(2026, 9, 30);
    uint64_t n[3] = {0};
    double t0 = now();
    struct kpi_model *m = db ? load(db) : synth(staff, days, as_of, n);
    double build = now() - t0;
    struct kpi_params p = {.as_of = as_of,
                           .min_group_size = 10,
                           .contract_hours_micro = 40 * MICRO,
                           .burnout_overtime_ratio = 100000,
                           .burnout_long_shift_share = 250000,
                           .burnout_short_rests = 2,
                           .burnout_wow8_seconds = 3600 * MICRO,
                           .burnout_sickness_ratio = 50000,
                           .burnout_min_flags = 2,
                           /* the configuration's defaults for the wave-2 KPIs */
                           .dominance_min_contributors = 3,
                           .dominance_max_share = 500000,
                           .drift_baseline_days = 84,
                           .loadoff_period_days = 56,
                           .loadoff_ramp_days = 28,
                           .loadoff_min_active_days = 4};
    double refresh[5], quarter[5];
    size_t rows = 0, text = 0;
    for (int i = 0; i < 5; i++) {
        double a = now();
        struct snapshot *s = snapshot_build(m, &p);
        refresh[i] = now() - a;
        rows = s->table.n;
        text = s->kpi_len;
        snapshot_free(s);
        a = now();
        struct kpi_table t = {0};
        kpi_compute_window(m, &p, "2026Q3", &t);
        quarter[i] = now() - a;
        kpi_table_clear(&t);
    }
    /* Load-off's own share: the same refreshes without it. */
    struct kpi_params nolo = p;
    nolo.loadoff_period_days = 0;
    double without[5];
    for (int i = 0; i < 5; i++) {
        double a = now();
        struct snapshot *s = snapshot_build(m, &nolo);
        without[i] = now() - a;
        snapshot_free(s);
    }
    qsort(refresh, 5, sizeof *refresh, dcmp);
    qsort(quarter, 5, sizeof *quarter, dcmp);
    qsort(without, 5, sizeof *without, dcmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (db)
        printf("stored database: %u staff (model loaded in %.1f s)\n", m->npersons, build);
    else
        printf("staff %d, days %d: %llu usage events, %llu shifts, %llu EHR days (model built in "
               "%.1f s)\n",
               staff, days, (unsigned long long)n[0], (unsigned long long)n[1],
               (unsigned long long)n[2], build);
    printf("refresh (7d 28d 90d 365d, all KPIs): median %.3f s (min %.3f, max %.3f), %zu rows, %zu "
           "bytes of /metrics\n",
           refresh[2], refresh[0], refresh[4], rows, text);
    printf("of which load-off: %.3f s (median refresh without it %.3f s)\n",
           refresh[2] - without[2], without[2]);
    printf("quarter 2026Q3 (all KPIs and breakdowns): median %.3f s\n", quarter[2]);
    printf("peak RSS %.0f MiB\n", ru.ru_maxrss / 1024.0);
    kpi_model_free(m);
    return 0;
}
