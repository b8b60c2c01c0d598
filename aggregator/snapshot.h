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
#include "exporters/kpi_table.h"
#include "exporters/prom.h"

struct snapshot {
    struct kpi_params params; /* as used, as_of resolved */
    struct kpi_table table;   /* rows of the /metrics windows, sorted */
    char *kpi_text;           /* the KPI families of /metrics, rendered */
    size_t kpi_len;
    uint64_t unmatched[REC_TYPE_MAX + 1];
    double refresh_seconds;
    int64_t refreshed_at_us;
    int refs; /* guarded by the refresher's lock */
};

struct refresher;

/* Starts the refresh thread: a refresh at once, then every interval_s seconds and about a
 * second after refresher_notify(). The model is borrowed; params is copied (its literacy
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

/* The KPI families of /metrics with their windows (static; *n gets their number), for
 * exporters that must send exactly the series /metrics shows (remote_write). */
const struct prom_kpi *snapshot_families(size_t *n);
/* The windows /metrics carries for a KPI (NULL-terminated), or NULL for an unknown KPI. */
const char *const *snapshot_metric_windows(const char *kpi);
/* Suppressed cells among the /metrics cells of window w. */
uint64_t snapshot_suppressed_cells(const struct snapshot *s, const char *w);
/* The /metrics windows, NULL-terminated. */
extern const char *const snapshot_windows[];

#endif
