/* metrics.h - the whole GET /metrics page, rendered in one place (docs/prometheus.md).
 *
 * The KPI gauges come pre-rendered from the snapshot (exporters/prom.h renders them from
 * the catalogue at each refresh); everything else, the aggregator's self-metrics, is
 * rendered here from plain counters, so this module reads no store and no model.
 */
#ifndef CADRE_METRICS_H
#define CADRE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "aggregator/ingest.h"
#include "common/sbuf.h"

/* The remote_write pusher's counters. */
struct rw_stats {
    uint64_t ok, retry, error; /* requests by result */
    uint64_t samples;          /* KPI samples delivered */
    int64_t last_ok_us;        /* last delivery, Unix microseconds; 0: never */
};

/* What one refresh left for /metrics. */
struct refresh_stats {
    const char *kpi_text; /* the KPI gauge families, rendered */
    size_t kpi_len;
    uint64_t unmatched[REC_TYPE_MAX + 1];
    const char *const *windows; /* the /metrics windows, NULL-terminated */
    const uint64_t *suppressed; /* suppressed cells per window of windows */
    double refresh_seconds;
    int64_t refreshed_at_us;
};

/* Everything the page shows; refresh (before the first refresh) and rw (remote_write
 * off) may be NULL. All borrowed. */
struct metrics_inputs {
    const struct refresh_stats *refresh;
    const struct ingest_stats *ingest;
    const struct rw_stats *rw;
    uint64_t oversize_scrapes; /* scrapes whose body passed the warning size */
    uint64_t inflight_bytes;   /* bytes held now for request bodies and their decoding */
    uint64_t busy_refusals;    /* ingest requests refused for max_inflight_bytes */
};

/* Appends the page: KPI gauges, then ingest, fleet, refresh, build, remote_write and
 * scrape self-metrics. */
void metrics_render(struct sbuf *b, const struct metrics_inputs *in);

#endif
