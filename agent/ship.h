/* ship.h - delivery: a thread that POSTs spooled batches to the aggregator with libcurl.
 *
 * Batches leave in spool order, up to two in flight once the aggregator allows it (the
 * second names the first in Cadre-Follows and is applied after it; docs/wire.md). Answers
 * are taken in order; a second batch whose first was not acked is sent again after it.
 * 2xx acks (the batch leaves the spool); 400 writes the batch and the reason into
 * state_dir/rejected/; 413 splits the batch in halves (fresh seqs) down to one record,
 * which then goes to rejected/; 401, 403, 429, 5xx and connection errors are retried
 * forever with exponential backoff and full jitter capped at retry_max_s, honouring
 * Retry-After on 429 and 503. An idle agent POSTs an empty heartbeat batch (no seq) every
 * heartbeat_s.
 */
#ifndef CADRE_AGENT_SHIP_H
#define CADRE_AGENT_SHIP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spool;
struct ship;

struct ship_opts {
    const char *url;        /* aggregator base URL; /v1/ingest is appended */
    const char *token_file; /* read before every POST, so a rotated token is picked up */
    const char *agent_id;
    uint8_t spool_id[16];
    const char *state_dir; /* rejected/ goes here */
    bool gzip;
    const char *tls_ca_file, *tls_cert_file, *tls_key_file; /* NULL: unset */
    int64_t retry_max_s;
    int64_t heartbeat_s;         /* 0: no heartbeats */
    uint64_t rejected_max_bytes; /* rejected/ keeps at most this much; oldest go first */
};

/* Counters, readable from any thread. */
struct ship_stats {
    atomic_ullong acked_batches;
    atomic_ullong retries;          /* failed attempts that will be retried */
    atomic_ullong rejected_batches; /* written to rejected/ */
    atomic_llong last_ack_us;       /* wall clock of the last 2xx; 0 = never */
};

/* What an HTTP status means for a batch. */
enum ship_verdict { SHIP_ACK, SHIP_REJECT, SHIP_SPLIT, SHIP_RETRY };
enum ship_verdict ship_classify(long status);

/* Starts the delivery thread over sp. Strings in o are copied. Returns 0 and *out (stop
 * with ship_stop) or -errno. */
int ship_start(struct ship **out, const struct ship_opts *o, struct spool *sp,
               struct ship_stats *stats);
/* Tells the thread that batches were spooled (wakes it from an idle wait). */
void ship_kick(struct ship *s);
/* Replaces the options (SIGHUP); the next POST uses them. */
void ship_set_opts(struct ship *s, const struct ship_opts *o);
/* True when nothing is pending in the spool and no POST is in flight. */
bool ship_idle(struct ship *s);
/* Stops the thread: no new POST starts, a POST in flight gets at most grace_ms, then the
 * thread is joined and s freed. What is unsent stays in the spool. */
void ship_stop(struct ship *s, int grace_ms);

#endif
