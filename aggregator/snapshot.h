/* snapshot.h - the KPI snapshot /metrics and /api read, rebuilt by a background thread.
 *
 * A refresh computes the /metrics windows from the in-memory model (under its read lock)
 * and renders their text; readers take a reference to the current snapshot and never wait
 * on RocksDB or on a refresh.
 */
#ifndef CADRE_SNAPSHOT_H
#define CADRE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "aggregator/kpi.h"
#include "aggregator/metrics.h"
#include "exporters/kpi_catalogue.h"
#include "exporters/kpi_table.h"
#include "exporters/prom.h"

#define SNAPSHOT_MAX_WINDOWS 8 /* room for kpi_metric_windows */

struct snapshot {
    struct kpi_params params; /* as used, as_of resolved */
    struct kpi_table table;   /* rows of the /metrics windows, sorted */
    char *kpi_text;           /* the KPI families of /metrics, rendered */
    size_t kpi_len;
    uint64_t unmatched[REC_TYPE_MAX + 1];
    double refresh_seconds;
    int64_t refreshed_at_us;
    uint64_t suppressed[SNAPSHOT_MAX_WINDOWS]; /* per window of kpi_metric_windows */
    struct refresh_stats stats;                /* what /metrics shows of it (points here) */
    int refs;                                  /* guarded by the refresher's lock */
};

struct refresher;

/* Starts the refresh thread: a refresh at once, then every interval_s seconds, and after
 * refresher_notify() once no notify came for a second (at the latest interval_s after the
 * last refresh began). The model is borrowed; params is copied (its literacy
 * list is borrowed). Both must outlive the refresher. Caller stops with refresher_stop(). */
int refresher_start(struct refresher **out, struct kpi_model *model,
                    const struct kpi_params *params, int64_t interval_s);
void refresher_stop(struct refresher *r);
/* New data arrived. Thread-safe; cheap. */
void refresher_notify(void *r);
/* Runs a refresh now, in the caller's thread (tests and the export command). */
void refresher_refresh_now(struct refresher *r);

/* The current snapshot (NULL before the first refresh ends), with a reference the caller
 * drops with snapshot_release(). */
struct snapshot *snapshot_acquire(struct refresher *r);
void snapshot_release(struct refresher *r, struct snapshot *s);

/* Builds a snapshot synchronously, taking the model's read lock. Caller frees with
 * snapshot_free(). */
struct snapshot *snapshot_build(struct kpi_model *model, const struct kpi_params *params);
/* Resolves the as-of day of params (yesterday when not configured). */
void snapshot_resolve_params(struct kpi_params *p);
void snapshot_free(struct snapshot *s);

/* Answers a KPI query: the rows of window (sorted) into out, from the current snapshot for
 * a /metrics window (so the API agrees with /metrics to the bit) and computed now from the
 * model, under its read lock, for any other window. *as_of gets the as-of day used.
 * Returns 0; -EAGAIN before the first refresh; -EINVAL for a window that does not parse
 * (reason in err). Caller frees out's rows with kpi_table_clear(). Thread-safe. */
int snapshot_query(struct refresher *r, struct kpi_model *model, const char *window,
                   struct kpi_table *out, char *err, size_t errlen);

/* Suppressed cells among the /metrics cells of window w. */
uint64_t snapshot_suppressed_cells(const struct snapshot *s, const char *w);

#endif
