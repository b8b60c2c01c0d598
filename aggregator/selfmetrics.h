/* selfmetrics.h - the aggregator's own metrics on /metrics (SPEC section 6). */
#ifndef CADRE_SELFMETRICS_H
#define CADRE_SELFMETRICS_H

#include "aggregator/ingest.h"
#include "aggregator/snapshot.h"
#include "common/sbuf.h"

#define CADRE_VERSION "0.1.0"

/* Renders the self-metrics from the ingest counters and the snapshot (may be NULL before
 * the first refresh). Reads no store. */
void selfmetrics_render(struct sbuf *b, const struct ingest_stats *st, const struct snapshot *snap);

#endif
