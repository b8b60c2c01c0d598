/* snapshot.c - background KPI refresh and reference-counted snapshots. */
#include "aggregator/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exporters/prom.h"

static const char *const w_adoption[] = {"7d", "28d", "90d", NULL};
static const char *const w_burnout[] = {"28d", "90d", NULL};
static const char *const w_retention[] = {"90d", "365d", NULL};
static const char *const w_literacy[] = {"28d", NULL};
const char *const snapshot_windows[] = {"7d", "28d", "90d", "365d", NULL};

/* Every KPI of SPEC section 5, in the table's order, with its /metrics windows. */
static const struct prom_kpi families[] = {
    {"adoption_ratio",
     "Share of the population with at least one AI-tool usage event in the window.", w_adoption},
    {"engaged_ratio",
     "Share of the population active on at least ceil(days/7) distinct days of the window.",
     w_adoption},
    {"tool_adoption_ratio", "Share of the org population active with the tool in the window.",
     w_adoption},
    {"ai_output_accepted_ratio", "AI-output events accepted over events with any outcome.",
     w_adoption},
    {"ai_output_edited_ratio", "AI-output events edited over events with any outcome.", w_adoption},
    {"ai_output_rejected_ratio", "AI-output events rejected over events with any outcome.",
     w_adoption},
    {"overtime_ratio", "Overtime hours over contracted hours (a workload proxy, not a diagnosis).",
     w_burnout},
    {"long_shift_ratio", "Shifts lasting 12 h or more over all shifts (proxy).", w_burnout},
    {"extended_shift_ratio", "Shifts lasting more than 13 h over all shifts (proxy).", w_burnout},
    {"short_rest_ratio", "Shifts starting less than 11 h after the previous one ended (proxy).",
     w_burnout},
    {"sickness_absence_ratio", "Sick hours over contracted hours (proxy).", w_burnout},
    {"wow8_seconds",
     "EHR work outside scheduled time per 8 scheduled patient hours, pooled (proxy).", w_burnout},
    {"ehr_time8_seconds", "EHR time per 8 scheduled patient hours, pooled (proxy).", w_burnout},
    {"inbox_time8_seconds", "EHR inbox time per 8 scheduled patient hours, pooled (proxy).",
     w_burnout},
    {"burnout_risk_ratio",
     "Share of members with shifts or EHR rows raising at least burnout_min_flags workload flags "
     "(proxy, never a diagnosis).",
     w_burnout},
    {"retention_ratio",
     "Share of the headcount on the window's first day employed on every day of it.", w_retention},
    {"leaver_ratio",
     "Leaving episodes in the window over the mean of the first and last day headcounts.",
     w_retention},
    {"voluntary_leaver_ratio", "Voluntary leaving episodes in the window over the mean headcount.",
     w_retention},
    {"hybrid_role_retention_ratio",
     "Holders of a hybrid role on the first day holding it every day of the window.", w_retention},
    {"hybrid_role_org_retention_ratio",
     "Holders of a hybrid role on the first day employed every day of the window.", w_retention},
    {"hybrid_role_leaver_ratio",
     "Exits from a hybrid role in the window over its mean number of holders.", w_retention},
    {"ai_literacy_ratio", "Share of the last day's headcount with an AI-literacy course completed.",
     w_literacy},
    {"ai_champion_coverage_ratio",
     "Share of departments with an ai_champion on the window's last day.", w_literacy},
};
#define NFAMILIES (sizeof families / sizeof *families)

const struct prom_kpi *snapshot_families(size_t *n)
{
    *n = NFAMILIES;
    return families;
}

const char *const *snapshot_metric_windows(const char *kpi)
{
    for (size_t i = 0; i < NFAMILIES; i++)
        if (strcmp(families[i].kpi, kpi) == 0)
            return families[i].windows;
    return NULL;
}

static int in_list(const char *const *list, const char *w)
{
    for (; list && *list; list++)
        if (strcmp(*list, w) == 0)
            return 1;
    return 0;
}

uint64_t snapshot_suppressed_cells(const struct snapshot *s, const char *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->table.n; i++) {
        const struct kpi_row *r = &s->table.rows[i];
        if (r->suppressed && strcmp(r->window, w) == 0 &&
            in_list(snapshot_metric_windows(r->kpi), w))
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
    double t0 = mono_seconds();
    struct snapshot *s = xcalloc(1, sizeof *s);
    s->params = *params;
    snapshot_resolve_params(&s->params);
    s->table.as_of = s->params.as_of;
    kpi_model_rdlock(model);
    for (const char *const *w = snapshot_windows; *w; w++)
        kpi_compute_window(model, &s->params, *w, &s->table);
    kpi_model_unmatched(model, s->unmatched);
    kpi_model_unlock(model);
    struct sbuf b = {0};
    prom_render_kpis(&b, &s->table, families, NFAMILIES);
    s->kpi_text = sbuf_take(&b, &s->kpi_len);
    s->refresh_seconds = mono_seconds() - t0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    s->refreshed_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
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

static void *refresh_main(void *arg)
{
    struct refresher *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        r->dirty = 0; /* what arrives from now on needs the next refresh */
        pthread_mutex_unlock(&r->lock);
        refresher_refresh_now(r);
        pthread_mutex_lock(&r->lock);
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        add_seconds(&deadline, (double)r->interval_s);
        while (!r->stop && !r->dirty &&
               pthread_cond_timedwait(&r->cond, &r->lock, &deadline) != ETIMEDOUT)
            ;
        if (!r->stop && r->dirty) {
            /* Let a burst of batches land before refreshing (at most one second). */
            struct timespec soon;
            clock_gettime(CLOCK_REALTIME, &soon);
            add_seconds(&soon, 1.0);
            while (!r->stop && pthread_cond_timedwait(&r->cond, &r->lock, &soon) != ETIMEDOUT)
                ;
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
