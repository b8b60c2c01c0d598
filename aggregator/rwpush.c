/* rwpush.c - the remote_write thread: snapshot, build, POST, back off; counters for /metrics. */
#include "aggregator/rwpush.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common/version.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "exporters/prom.h"
#include "exporters/remote_write.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000
#define NOTHING_NEW (-1) /* push_once: no snapshot newer than the last one delivered */

struct rwpush {
    char *url, *token_file, *labels;
    int64_t interval_ms;
    unsigned flags; /* rw_build flags */
    struct refresher *ref;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;            /* under mu */
    int64_t last_done_us; /* refreshed_at_us of the last snapshot delivered or dropped */
    unsigned failures;    /* consecutive EXP_RETRY */
    unsigned rnd;
    /* Counters for /metrics, under mu. */
    uint64_t requests[3]; /* by enum exp_result */
    uint64_t samples;     /* samples in delivered requests */
    int64_t last_ok_us;
};

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Waits ms milliseconds or until stopped. Called and returns with mu held. */
static void nap(struct rwpush *p, int64_t ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += (time_t)(ms / 1000);
    t.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    while (!p->stop && pthread_cond_timedwait(&p->cv, &p->mu, &t) != ETIMEDOUT)
        ;
}

/* Sends the current snapshot if it is new. Returns an exp_result or NOTHING_NEW. */
static int push_once(struct rwpush *p)
{
    struct snapshot *s = snapshot_acquire(p->ref);
    if (!s || s->refreshed_at_us == p->last_done_us) {
        snapshot_release(p->ref, s);
        return NOTHING_NEW;
    }
    int64_t at = s->refreshed_at_us;
    size_t ndefs;
    const struct kpi_def *defs = kpi_catalogue(&ndefs);
    uint8_t *body = NULL;
    size_t len = 0;
    int n = rw_build(&s->table, defs, ndefs, p->labels, p->flags, at / 1000, &body, &len);
    snapshot_release(p->ref, s);
    char err[768];
    int rc;
    if (n <= 0) { /* nothing published yet, or labels refused (checked at start) */
        if (n < 0)
            log_error("remote_write: cannot build the request (%d)", n);
        rc = n < 0 ? EXP_ERROR : NOTHING_NEW;
    } else {
        char *token = NULL;
        if (p->token_file && rw_read_token(p->token_file, &token, err, sizeof err) == 0)
            rc = rw_send(p->url, token, "cadre-aggregator/" CADRE_VERSION, body, len, err,
                         sizeof err);
        else if (p->token_file)
            rc = EXP_RETRY; /* a token file being rotated; err says why */
        else
            rc = rw_send(p->url, NULL, "cadre-aggregator/" CADRE_VERSION, body, len, err,
                         sizeof err);
        xfree(token);
    }
    xfree(body);

    pthread_mutex_lock(&p->mu);
    if (rc != NOTHING_NEW)
        p->requests[rc]++;
    if (rc != EXP_RETRY)
        p->last_done_us = at;
    if (rc == EXP_OK) {
        p->samples += (uint64_t)n;
        p->last_ok_us = now_us();
    }
    unsigned failures = p->failures;
    p->failures = rc == EXP_RETRY ? failures + 1 : 0;
    pthread_mutex_unlock(&p->mu);

    if (rc == EXP_OK && failures)
        log_info("remote_write: delivered again after %u failed attempts (%d series)", failures, n);
    else if (rc == EXP_OK)
        log_debug("remote_write: delivered %d series", n);
    else if (rc == EXP_RETRY && (failures & (failures + 1)) == 0) /* 1st, 2nd, 4th, 8th ... */
        log_warn("remote_write: %s (retrying with backoff)", err);
    else if (rc == EXP_ERROR && n > 0)
        log_error("remote_write: %s (dropped; the next refresh is sent at the next interval)", err);
    return rc;
}

static int64_t backoff_ms(struct rwpush *p, unsigned failures)
{
    int64_t d = BACKOFF_MIN_MS;
    for (unsigned i = 1; i < failures && d < BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > BACKOFF_MAX_MS)
        d = BACKOFF_MAX_MS;
    return d / 2 + (int64_t)(rand_r(&p->rnd) % (unsigned)(d / 2 + 1)); /* jitter: [d/2, d] */
}

static void *push_main(void *arg)
{
    struct rwpush *p = arg;
    int64_t wait_ms = BACKOFF_MIN_MS; /* the first snapshot is built right after start */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        nap(p, wait_ms);
        if (p->stop)
            break;
        pthread_mutex_unlock(&p->mu);
        int rc = push_once(p);
        pthread_mutex_lock(&p->mu);
        wait_ms = rc == EXP_RETRY ? backoff_ms(p, p->failures) : p->interval_ms;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int rwpush_start(struct rwpush **out, const struct agg_config *cfg, struct refresher *ref)
{
    *out = NULL;
    if (!cfg->rw_url || !*cfg->rw_url)
        return 0;
    struct rwpush *p = xcalloc(1, sizeof *p);
    p->url = xstrdup(cfg->rw_url);
    p->token_file = cfg->rw_token_file ? xstrdup(cfg->rw_token_file) : NULL;
    p->labels = cfg->rw_external_labels ? xstrdup(cfg->rw_external_labels) : NULL;
    p->interval_ms = cfg->rw_interval_s * 1000;
    p->flags = cfg->rw_send_counts ? RW_SEND_COUNTS : 0;
    p->ref = ref;
    p->rnd = (unsigned)now_us();
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->thread, NULL, push_main, p)) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        xfree(p->url);
        xfree(p->token_file);
        xfree(p->labels);
        xfree(p);
        return -EAGAIN;
    }
    log_info("remote_write: pushing KPIs%s to %s every %lld s",
             cfg->rw_send_counts ? " with their numerators and denominators" : "", p->url,
             (long long)cfg->rw_interval_s);
    *out = p;
    return 0;
}

void rwpush_stop(struct rwpush *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    xfree(p->url);
    xfree(p->token_file);
    xfree(p->labels);
    xfree(p);
}

int rwpush_stats(struct rwpush *p, struct rw_stats *out)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    *out = (struct rw_stats){
        .ok = p->requests[EXP_OK],
        .retry = p->requests[EXP_RETRY],
        .error = p->requests[EXP_ERROR],
        .samples = p->samples,
        .last_ok_us = p->last_ok_us,
    };
    pthread_mutex_unlock(&p->mu);
    return 1;
}
