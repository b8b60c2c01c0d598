/* snapshot.c - background KPI refresh and reference-counted snapshots. */
#include "aggregator/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exporters/prom.h"

/* Whether w is a /metrics window of the KPI (rows of KPIs outside the catalogue: no). */
static int on_metrics(const char *kpi, const char *w)
{
    const struct kpi_def *d = kpi_catalogue_find(kpi);
    return d && kpi_def_has_window(d, w);
}

uint64_t snapshot_suppressed_cells(const struct snapshot *s, const char *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->table.n; i++) {
        const struct kpi_row *r = &s->table.rows[i];
        if (r->suppressed && strcmp(r->window, w) == 0 && on_metrics(r->kpi, w))
            n++;
    }
    return n;
}

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void snapshot_resolve_params(struct kpi_params *p)
{
    if (p->as_of_auto)
        p->as_of = today_local() - 1;
}

struct snapshot *snapshot_build(struct kpi_model *model, const struct kpi_params *params)
{
    /* Batches stored but not yet applied to the model are applied first; the refresh's
     * duration is its own work, not that wait (after a long delivery the model thread may
     * be seconds behind the store). */
    kpi_model_sync(model);
    double t0 = mono_seconds();
    struct snapshot *s = xcalloc(1, sizeof *s);
    s->params = *params;
    snapshot_resolve_params(&s->params);
    s->table.as_of = s->params.as_of;
    size_t nw = 0;
    while (kpi_metric_windows[nw])
        nw++;
    struct kpi_table win[SNAPSHOT_MAX_WINDOWS];
    memset(win, 0, sizeof win);
    kpi_model_rdlock(model);
    kpi_compute_windows(model, &s->params, kpi_metric_windows, nw, win);
    kpi_model_unmatched(model, s->unmatched);
    kpi_model_unlock(model);
    for (size_t i = 0; i < nw; i++) { /* the rows now belong to s->table */
        struct kpi_table *t = &s->table;
        if (win[i].n) {
            xgrow((void **)&t->rows, &t->cap, t->n + win[i].n, sizeof *t->rows);
            memcpy(t->rows + t->n, win[i].rows, win[i].n * sizeof *win[i].rows);
            t->n += win[i].n;
        }
        xfree(win[i].rows);
    }
    kpi_table_sort(&s->table);
    struct sbuf b = {0};
    size_t ndefs;
    const struct kpi_def *defs = kpi_catalogue(&ndefs);
    prom_render_kpis(&b, &s->table, defs, ndefs);
    s->kpi_text = sbuf_take(&b, &s->kpi_len);
    s->refresh_seconds = mono_seconds() - t0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->refreshed_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    for (size_t w = 0; w < SNAPSHOT_MAX_WINDOWS && kpi_metric_windows[w]; w++)
        s->suppressed[w] = snapshot_suppressed_cells(s, kpi_metric_windows[w]);
    s->stats = (struct refresh_stats){
        .kpi_text = s->kpi_text,
        .kpi_len = s->kpi_len,
        .windows = kpi_metric_windows,
        .suppressed = s->suppressed,
        .refresh_seconds = s->refresh_seconds,
        .refreshed_at_us = s->refreshed_at_us,
    };
    memcpy(s->stats.unmatched, s->unmatched, sizeof s->unmatched);
    return s;
}

void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    kpi_table_clear(&s->table);
    xfree(s->kpi_text);
    xfree(s);
}

struct refresher {
    struct kpi_model *model;
    struct kpi_params params;
    int64_t interval_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
    int dirty; /* data arrived since the last refresh began */
    struct snapshot *current;
};

static void install(struct refresher *r, struct snapshot *s)
{
    pthread_mutex_lock(&r->lock);
    struct snapshot *old = r->current;
    s->refs = 1;
    r->current = s;
    int free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (free_old)
        snapshot_free(old);
}

void refresher_refresh_now(struct refresher *r)
{
    struct snapshot *s = snapshot_build(r->model, &r->params);
    log_debug("KPI refresh took %.3f s (%zu rows)", s->refresh_seconds, s->table.n);
    install(r, s);
}

static void add_seconds(struct timespec *ts, double sec)
{
    ts->tv_sec += (time_t)sec;
    ts->tv_nsec += (long)((sec - (double)(time_t)sec) * 1e9);
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Waits, under r->lock, until the clock passes t or the refresher stops. */
static void wait_until(struct refresher *r, const struct timespec *t)
{
    while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, t) != ETIMEDOUT)
        ;
}

static void *refresh_main(void *arg)
{
    struct refresher *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        r->dirty = 0; /* what arrives from now on needs the next refresh */
        pthread_mutex_unlock(&r->lock);
        struct timespec began;
        clock_gettime(CLOCK_REALTIME, &began);
        refresher_refresh_now(r);
        pthread_mutex_lock(&r->lock);
        struct timespec deadline = began;
        add_seconds(&deadline, (double)r->interval_s);
        while (!r->stop && !r->dirty &&
               pthread_cond_timedwait(&r->cond, &r->lock, &deadline) != ETIMEDOUT)
            ;
        /* New data: refresh once none has arrived for a second, so a burst lands first;
         * while data keeps arriving (a bulk load, an agent catching up), refresh every
         * interval_s, not back to back: a refresh takes the cores for most of a second at
         * 50,000 staff, which the load itself needs. */
        while (!r->stop && r->dirty) {
            r->dirty = 0;
            struct timespec soon, now;
            clock_gettime(CLOCK_REALTIME, &soon);
            add_seconds(&soon, 1.0);
            if (before(&deadline, &soon))
                soon = deadline;
            wait_until(r, &soon);
            clock_gettime(CLOCK_REALTIME, &now);
            if (!before(&now, &deadline))
                break;
        }
        int stop = r->stop;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return NULL;
    }
}

int refresher_start(struct refresher **out, struct kpi_model *model,
                    const struct kpi_params *params, int64_t interval_s)
{
    struct refresher *r = xcalloc(1, sizeof *r);
    r->model = model;
    r->params = *params;
    r->interval_s = interval_s;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    if (pthread_create(&r->thread, NULL, refresh_main, r)) {
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        xfree(r);
        return -EAGAIN;
    }
    *out = r;
    return 0;
}

void refresher_stop(struct refresher *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    if (r->current && --r->current->refs == 0)
        snapshot_free(r->current);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    xfree(r);
}

void refresher_notify(void *arg)
{
    struct refresher *r = arg;
    pthread_mutex_lock(&r->lock);
    r->dirty = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

struct snapshot *snapshot_acquire(struct refresher *r)
{
    pthread_mutex_lock(&r->lock);
    struct snapshot *s = r->current;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&r->lock);
    return s;
}

void snapshot_release(struct refresher *r, struct snapshot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&r->lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last)
        snapshot_free(s);
}

int snapshot_query(struct refresher *r, struct kpi_model *model, const char *window,
                   struct kpi_table *out, char *err, size_t errlen)
{
    struct snapshot *s = snapshot_acquire(r);
    if (!s)
        return -EAGAIN;
    int32_t ws, we;
    if (kpi_window_parse(window, s->params.as_of, &ws, &we, err, errlen)) {
        snapshot_release(r, s);
        return -EINVAL;
    }
    *out = (struct kpi_table){.as_of = s->params.as_of};
    int from_snapshot = 0;
    for (const char *const *w = kpi_metric_windows; *w; w++)
        from_snapshot |= strcmp(*w, window) == 0;
    if (from_snapshot) {
        for (size_t i = 0; i < s->table.n; i++) {
            const struct kpi_row *row = &s->table.rows[i];
            if (strcmp(row->window, window) != 0)
                continue;
            struct kpi_row *r =
                kpi_table_add(out, row->kpi, row->window, row->by, row->group, row->numerator,
                              row->denominator, row->persons, row->window_start, row->window_end);
            r->suppressed = row->suppressed;
            r->dominated = row->dominated;
            r->sqrt_value = row->sqrt_value;
            r->controls = row->controls;
        }
    } else {
        kpi_model_rdlock(model);
        kpi_compute_window(model, &s->params, window, out);
        kpi_model_unlock(model);
    }
    snapshot_release(r, s);
    return 0;
}
