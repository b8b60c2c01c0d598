/* spool.h - the durable on-disk queue of batches between the sources and the aggregator.
 *
 * A batch is appended as one entry (length, CRC32C, payload) to the newest segment file
 * spool/seg-N.log and gets its sequence number then, so a batch re-sent after a crash
 * carries the same seq. Batches leave in order: the oldest pending one is handed out by
 * spool_peek and removed by spool_done once the aggregator acked (or refused) it. Past
 * max_bytes the oldest batches are dropped and counted. All functions are thread-safe.
 */
#ifndef CADRE_AGENT_SPOOL_H
#define CADRE_AGENT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct spool;

/* When appends reach the disk (docs/agent.md has the loss window of each). */
enum spool_fsync {
    SPOOL_FSYNC_ALWAYS,   /* fdatasync every append and state change */
    SPOOL_FSYNC_INTERVAL, /* fdatasync at most every fsync_interval_ms (spool_tick) */
    SPOOL_FSYNC_NEVER,    /* leave it to the kernel's writeback */
};

struct spool_opts {
    uint64_t max_bytes; /* cap on pending bytes; 0 = no cap */
    enum spool_fsync fsync;
    int64_t fsync_interval_ms; /* SPOOL_FSYNC_INTERVAL; 0 = 1000 */
    uint64_t segment_bytes;    /* start a new segment past this size; 0 = 8 MiB */
};

/* One pending batch, copied out of the spool. */
struct spool_batch {
    uint64_t seq;
    uint32_t nrec;
    uint8_t *recs; /* the records encoded as cadre.Batch field 7; caller frees (xfree) */
    size_t len;
};

struct spool_stats {
    uint64_t pending_batches;
    uint64_t bytes;           /* pending bytes, as counted against max_bytes */
    uint64_t dropped_records; /* dropped by the cap since the spool was made (persisted) */
    uint64_t dropped_batches; /* since this process opened it */
    uint64_t corrupt_entries; /* damaged entries cut off at open */
};

/* Opens (creating when needed) the spool in folder dir: reads every segment, cuts a torn or
 * damaged tail off at the last good entry (logged), forgets entries already done. Returns 0
 * and *out (close with spool_close) or -errno. */
int spool_open(struct spool **out, const char *dir, const struct spool_opts *opts);
/* Syncs and closes; NULL is fine. */
void spool_close(struct spool *sp);

/* Appends a batch of nrec records (recs: the records as Batch field 7, len bytes; copied)
 * and sets *seq to its sequence number. Drops the oldest batches first when the cap would
 * be exceeded. Durable on return with SPOOL_FSYNC_ALWAYS; with SPOOL_FSYNC_INTERVAL when
 * the interval had passed since the last sync. Returns 0 or -errno (nothing appended). */
int spool_append(struct spool *sp, const uint8_t *recs, size_t len, uint32_t nrec, uint64_t *seq);

/* The sender holds at most this many batches at once: one, and the one after it while
 * the first is unanswered (docs/wire.md, "Two batches in flight"). */
#define SPOOL_MAX_HELD 2

/* Copies the oldest pending batch into *b (free b->recs with xfree) and holds it: were
 * the cap to drop it while it is in flight, it is not counted as dropped unless it is
 * given back undelivered. Batches held before are given back. Returns 0, -ENOENT when
 * nothing is pending, or -errno on a read error. */
int spool_peek(struct spool *sp, struct spool_batch *b);
/* The same for the batch right after pending batch `after` (also held). -ENOENT when
 * there is none (yet), or `after` is not pending. */
int spool_peek_next(struct spool *sp, uint64_t after, struct spool_batch *b);
/* Gives back a held batch that was not delivered (it is sent again, from spool_peek). */
void spool_unpeek(struct spool *sp, uint64_t seq);

/* Removes batch seq, which must be the oldest pending one (acked or refused). A seq that
 * is no longer pending (dropped meanwhile) is ignored. Returns 0 or -errno. */
int spool_done(struct spool *sp, uint64_t seq);

/* Reserves n fresh sequence numbers for batches that are never spooled (the halves of a
 * batch split after 413), persisted so they are never used again. 0 or -errno. */
int spool_reserve_seq(struct spool *sp, uint64_t n, uint64_t *first);

void spool_get_stats(struct spool *sp, struct spool_stats *st);

/* fsyncs every segment written since the last sync. 0 or -errno. */
int spool_sync(struct spool *sp);
/* With SPOOL_FSYNC_INTERVAL: syncs when appends are waiting and the interval has passed
 * (call it at least every interval); otherwise does nothing. 0 or -errno. */
int spool_tick(struct spool *sp);

#endif
