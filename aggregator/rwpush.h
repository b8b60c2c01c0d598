/* rwpush.h - the remote_write thread: pushes each new KPI snapshot to [remote_write] url.
 *
 * Every interval_s the thread takes the current snapshot and, when it is newer than the
 * last one delivered, sends its KPI series (exporters/remote_write.h) stamped with the
 * refresh time. EXP_RETRY answers back off exponentially (1 s doubling to 5 min, with
 * jitter) and then send the snapshot current at that time; EXP_ERROR answers are logged,
 * counted and dropped. Nothing is spooled: KPIs are gauges, the next snapshot supersedes.
 */
#ifndef CADRE_RWPUSH_H
#define CADRE_RWPUSH_H

#include "aggregator/config.h"
#include "aggregator/metrics.h"
#include "aggregator/snapshot.h"
#include "common/sbuf.h"

struct rwpush;

/* Starts the thread when cfg->rw_url is set (else sets *out to NULL and returns 0). Copies
 * what it needs from cfg; the refresher is borrowed and must outlive rwpush_stop().
 * curl_global_init() must have run. Returns 0 or -EAGAIN. */
int rwpush_start(struct rwpush **out, const struct agg_config *cfg, struct refresher *ref);
/* Stops the thread (waits for a POST in flight, at most RW_TIMEOUT_S) and frees p. NULL is
 * a no-op. */
void rwpush_stop(struct rwpush *p);
/* Copies the pusher's counters into out and returns 1; returns 0 (out untouched) when p
 * is NULL (remote_write off). Thread-safe. */
int rwpush_stats(struct rwpush *p, struct rw_stats *out);

#endif
