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

/* One window of a kpi_compute_windows call. */
struct win {
    const char *name;
    int32_t s, e;
    int ok;                /* the window parsed */
    struct kpi_table rows; /* its rows before suppression */
};

/* Runs the families without a prepare() over the window (the part done side by side). */
static void compute_plain(const struct kpi_model *m, const struct kpi_params *p, struct win *wn)
{
    struct kpi_window w = {
        .m = m, .p = p, .name = wn->name, .s = wn->s, .e = wn->e, .t = &wn->rows};
    for (size_t f = 0; f < NFAMILIES; f++)
        if (!families[f]->prepare)
            families[f]->compute(&w);
}

/* Adds the rows of the families with a prepare(), suppresses the window's rows and appends
 * them to t, left sorted. */
static void finish(const struct kpi_model *m, const struct kpi_params *p, void *const *prep,
                   struct win *wn, struct kpi_table *t)
{
    struct kpi_window w = {
        .m = m, .p = p, .name = wn->name, .s = wn->s, .e = wn->e, .t = &wn->rows};
    for (size_t f = 0; f < NFAMILIES; f++)
        if (families[f]->prepare) {
            w.prep = prep[f];
            families[f]->compute(&w);
        }
    kpi_table_sort(&wn->rows);
    suppress_window(&w);
    if (wn->rows.n) {
        xgrow((void **)&t->rows, &t->cap, t->n + wn->rows.n, sizeof *t->rows);
        memcpy(t->rows + t->n, wn->rows.rows, wn->rows.n * sizeof *wn->rows.rows);
        t->n += wn->rows.n;
    }
    xfree(wn->rows.rows); /* the groups now belong to t */
    wn->rows = (struct kpi_table){0};
    kpi_table_sort(t);
}

/* The work of one kpi_compute_windows call as tasks taken one at a time by its threads:
 * first each family's prepare() over all the windows, then each window's other families,
 * longest window first, so that the threads end about together. */
struct batch {
    const struct kpi_model *m;
    const struct kpi_params *p;
    struct win *wins;
    size_t nwins;
    struct kpi_span *spans; /* the windows that parsed, for prepare() */
    size_t nspans;
    void **prep;
    size_t *task; /* f < NFAMILIES: family f's prepare; else window task - NFAMILIES */
    size_t ntasks;
    atomic_size_t next;
};

static void *worker(void *arg)
{
    struct batch *b = arg;
    for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->ntasks;) {
        size_t k = b->task[i];
        if (k < NFAMILIES)
            b->prep[k] = families[k]->prepare(b->m, b->p, b->spans, b->nspans);
        else
            compute_plain(b->m, b->p, &b->wins[k - NFAMILIES]);
    }
    return NULL;
}

void kpi_compute_windows(const struct kpi_model *m, const struct kpi_params *p,
                         const char *const *windows, size_t n, struct kpi_table *t)
{
    struct batch b = {.m = m, .p = p, .nwins = n};
    b.wins = xcalloc(n + 1, sizeof *b.wins);
    b.spans = xcalloc(n + 1, sizeof *b.spans);
    b.task = xmalloc((NFAMILIES + n + 1) * sizeof *b.task);
    void *prep[NFAMILIES] = {0};
    b.prep = prep;
    char err[128];
    for (size_t i = 0; i < n; i++) {
        struct win *wn = &b.wins[i];
        wn->name = windows[i];
        wn->rows.as_of = p->as_of;
        wn->ok = !kpi_window_parse(windows[i], p->as_of, &wn->s, &wn->e, err, sizeof err);
        if (wn->ok)
            b.spans[b.nspans++] = (struct kpi_span){wn->name, wn->s, wn->e};
    }
    for (size_t f = 0; f < NFAMILIES; f++)
        if (families[f]->prepare && b.nspans)
            b.task[b.ntasks++] = f;
    size_t first = b.ntasks;
    for (size_t i = 0; i < n; i++) { /* insertion sort by length: a handful of windows */
        if (!b.wins[i].ok)
            continue;
        size_t j = b.ntasks++;
        int64_t len = (int64_t)b.wins[i].e - b.wins[i].s;
        for (; j > first; j--) {
            const struct win *o = &b.wins[b.task[j - 1] - NFAMILIES];
            if ((int64_t)o->e - o->s >= len)
                break;
            b.task[j] = b.task[j - 1];
        }
        b.task[j] = NFAMILIES + i;
    }
    atomic_init(&b.next, 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nthreads = cores < 1 ? 1 : (size_t)cores;
    if (nthreads > KPI_MAX_THREADS)
        nthreads = KPI_MAX_THREADS;
    if (nthreads > b.ntasks)
        nthreads = b.ntasks;
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
    for (size_t i = 0; i < n; i++)
        if (b.wins[i].ok)
            finish(m, p, prep, &b.wins[i], &t[i]);
    for (size_t f = 0; f < NFAMILIES; f++)
        if (families[f]->release && prep[f])
            families[f]->release(prep[f]);
    xfree(b.wins);
    xfree(b.spans);
    xfree(b.task);
}

void kpi_compute_window(const struct kpi_model *m, const struct kpi_params *p, const char *window,
                        struct kpi_table *t)
{
    kpi_compute_windows(m, p, &window, 1, t);
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
