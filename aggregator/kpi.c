/* kpi.c - the KPI engine's driver: windows, the family table, suppression. */
#include "aggregator/kpi.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aggregator/config.h"
#include "aggregator/kpi_family.h"
#include "aggregator/suppress.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

/* The families, run in this order over each window. */
static const struct kpi_family *const families[] = {
    &kpi_family_adoption, &kpi_family_load,    &kpi_family_retention, &kpi_family_literacy,
    &kpi_family_drift,    &kpi_family_loadoff, &kpi_family_licence,
};
#define NFAMILIES (sizeof families / sizeof *families)

int kpi_window_parse(const char *w, int32_t as_of, int32_t *s, int32_t *e, char *err, size_t errlen)
{
    size_t len = strlen(w);
    if (len >= 2 && len <= 4 && w[len - 1] == 'd') {
        int n = 0;
        size_t i = 0;
        for (; i < len - 1 && w[i] >= '0' && w[i] <= '9'; i++)
            n = n * 10 + (w[i] - '0');
        if (i == len - 1 && w[0] != '0' && n >= 1 && n <= 730) {
            *e = as_of;
            *s = as_of - n + 1;
            return 0;
        }
    } else if (len == 6 && w[4] == 'Q' && w[5] >= '1' && w[5] <= '4') {
        int y = 0, i = 0;
        for (; i < 4 && w[i] >= '0' && w[i] <= '9'; i++)
            y = y * 10 + (w[i] - '0');
        if (i == 4) {
            int q = w[5] - '0';
            int32_t qs = day_from_civil(y, 3 * q - 2, 1);
            int32_t qe =
                (q == 4 ? day_from_civil(y + 1, 1, 1) : day_from_civil(y, 3 * q + 1, 1)) - 1;
            if (qs > as_of) {
                char d[11];
                format_date(as_of, d);
                snprintf(err, errlen, "quarter %s starts after the as-of day %s", w, d);
                return -EINVAL;
            }
            *s = qs;
            *e = qe < as_of ? qe : as_of;
            return 0;
        }
    }
    snprintf(err, errlen, "window '%s' is not Nd (1 <= N <= 730) or YYYYQn (n = 1..4)", w);
    return -EINVAL;
}

/* Computes one window into t with each family's prepare() result from prep. */
static void compute_one(const struct kpi_model *m, const struct kpi_params *p,
                        void *const prep[NFAMILIES], const char *window, struct kpi_table *t)
{
    int32_t s, e;
    char err[128];
    if (kpi_window_parse(window, p->as_of, &s, &e, err, sizeof err))
        return;
    /* The window's rows are built and suppressed on their own, then appended. */
    struct kpi_table win = {.as_of = p->as_of};
    struct kpi_window w = {.m = m, .p = p, .name = window, .s = s, .e = e, .t = &win};
    for (size_t f = 0; f < NFAMILIES; f++) {
        w.prep = prep[f];
        families[f]->compute(&w);
    }
    kpi_table_sort(&win);
    suppress_window(&w);
    if (win.n) {
        xgrow((void **)&t->rows, &t->cap, t->n + win.n, sizeof *t->rows);
        memcpy(t->rows + t->n, win.rows, win.n * sizeof *win.rows);
        t->n += win.n;
    }
    xfree(win.rows); /* the groups now belong to t */
    kpi_table_sort(t);
}

static void prepare_all(const struct kpi_model *m, const struct kpi_params *p,
                        void *prep[NFAMILIES])
{
    for (size_t f = 0; f < NFAMILIES; f++)
        prep[f] = families[f]->prepare ? families[f]->prepare(m, p) : NULL;
}

static void release_all(void *prep[NFAMILIES])
{
    for (size_t f = 0; f < NFAMILIES; f++)
        if (families[f]->release)
            families[f]->release(prep[f]);
}

void kpi_compute_window(const struct kpi_model *m, const struct kpi_params *p, const char *window,
                        struct kpi_table *t)
{
    void *prep[NFAMILIES];
    prepare_all(m, p, prep);
    compute_one(m, p, prep, window, t);
    release_all(prep);
}

/* The windows of one kpi_compute_windows call, taken one at a time by its threads. */
struct batch {
    const struct kpi_model *m;
    const struct kpi_params *p;
    void **prep;
    const char *const *windows;
    struct kpi_table *t;
    size_t n;
    size_t *order; /* the windows by length, longest first: started first, ended about
                    * together */
    atomic_size_t next;
};

static void *worker(void *arg)
{
    struct batch *b = arg;
    for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
        size_t w = b->order[i];
        compute_one(b->m, b->p, b->prep, b->windows[w], &b->t[w]);
    }
    return NULL;
}

/* A window's length in days for scheduling (0 when it does not parse). */
static int64_t window_days(const char *window, int32_t as_of)
{
    int32_t s, e;
    char err[128];
    return kpi_window_parse(window, as_of, &s, &e, err, sizeof err) ? 0 : (int64_t)e - s + 1;
}

void kpi_compute_windows(const struct kpi_model *m, const struct kpi_params *p,
                         const char *const *windows, size_t n, struct kpi_table *t)
{
    void *prep[NFAMILIES];
    prepare_all(m, p, prep);
    size_t *order = xmalloc((n + 1) * sizeof *order);
    int64_t *len = xmalloc((n + 1) * sizeof *len);
    for (size_t i = 0; i < n; i++) { /* insertion sort: a handful of windows */
        int64_t d = window_days(windows[i], p->as_of);
        size_t j = i;
        for (; j > 0 && len[j - 1] < d; j--) {
            len[j] = len[j - 1];
            order[j] = order[j - 1];
        }
        len[j] = d;
        order[j] = i;
    }
    xfree(len);
    struct batch b = {
        .m = m, .p = p, .prep = prep, .windows = windows, .t = t, .n = n, .order = order};
    atomic_init(&b.next, 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cores < 1 ? 1 : (size_t)cores;
    if (nthreads > KPI_MAX_THREADS)
        nthreads = KPI_MAX_THREADS;
    if (nthreads > n)
        nthreads = n;
    /* This thread is one of them; a thread that cannot start leaves its share to the
     * others. */
    pthread_t tid[KPI_MAX_THREADS];
    size_t started = 0;
    for (size_t i = 1; i < nthreads; i++)
        if (pthread_create(&tid[started], NULL, worker, &b) == 0)
            started++;
    worker(&b);
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    xfree(order);
    release_all(prep);
}

void kpi_params_init(struct kpi_params *p, const struct agg_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->as_of = agg_config_as_of(cfg);
    p->as_of_auto = !cfg->has_as_of;
    p->min_group_size = cfg->min_group_size;
    p->contract_hours_micro = cfg->contract_hours_micro;
    p->burnout_overtime_ratio = cfg->burnout_overtime_ratio;
    p->burnout_long_shift_share = cfg->burnout_long_shift_share;
    p->burnout_wow8_seconds = cfg->burnout_wow8_seconds;
    p->burnout_sickness_ratio = cfg->burnout_sickness_ratio;
    p->burnout_short_rests = cfg->burnout_short_rests;
    p->burnout_min_flags = cfg->burnout_min_flags;
    p->dominance_min_contributors = cfg->dominance_min_contributors;
    p->dominance_max_share = cfg->dominance_max_share;
    p->drift_baseline_days = cfg->drift_baseline_days;
    p->loadoff_period_days = cfg->loadoff_period_days;
    p->loadoff_ramp_days = cfg->loadoff_ramp_days;
    p->loadoff_min_active_days = cfg->loadoff_min_active_days;
    p->loadoff_pre_gap_days = cfg->loadoff_pre_gap_days;
    p->literacy_courses = cfg->literacy_courses;
}
