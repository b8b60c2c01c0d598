/* ingest.h - decode, validate, dedupe and store protobuf batches; ingest self-metrics. */
#ifndef CADRE_INGEST_H
#define CADRE_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "aggregator/store.h"
#include "common/reckey.h"

enum batch_result { BATCH_ACCEPTED, BATCH_DUPLICATE, BATCH_REJECTED, BATCH_RESULT_COUNT };
enum reject_reason {
    REJ_MALFORMED,
    REJ_MISSING_FIELD,
    REJ_INVALID_VALUE,
    REJ_NOT_PERMITTED, /* another agent's record this agent may not replace or delete */
    REJ_COUNT
};

/* What an agent may change besides the records it wrote itself (its line in tokens_file;
 * docs/wire.md, "Who may change a record"). */
struct ingest_scope {
    unsigned types;              /* bits 1 << REC_*: other agents' records of these types */
    const char *const *sites;    /* NULL-terminated; staffing only where old and new site are
                                    in it (NULL: any site) */
    const char *const *inherits; /* NULL-terminated: agents whose records it takes over */
};

/* Names as counted everywhere: "accepted"... and "malformed"... */
const char *batch_result_name(int r);
const char *reject_reason_name(int r);

struct agent_state {
    char id[65];
    int64_t last_seen_us;
    uint64_t spool_bytes;
    uint64_t dropped_records;
};

/* A consistent copy of the ingest counters, for rendering. Caller frees agents. */
struct ingest_stats {
    uint64_t batches[BATCH_RESULT_COUNT];
    uint64_t records[REC_TYPE_MAX + 1]; /* accepted records (puts and tombstones) */
    uint64_t rejected[REJ_COUNT];       /* rejected records by reason */
    int64_t stored[REC_TYPE_MAX + 1];   /* distinct records in the store */
    int64_t newest_s[REC_TYPE_MAX + 1]; /* newest record's day or instant, Unix seconds */
    int64_t store_free;                 /* bytes free for the database, -1: unknown */
    uint64_t disk_refusals;             /* batches refused for store_min_free_bytes */
    struct agent_state *agents;
    size_t nagents;
};

struct ingest;

struct kpi_model;

/* Creates the ingest stage over an open store, loading persisted counters. Every change
 * to the store is also applied to model (when not NULL, under its write lock) once the
 * write is durable. notify (may be NULL) is called after each batch that changed the
 * store. Caller frees with ingest_free(); store and model must outlive it. */
int ingest_new(struct ingest **out, struct store *store, struct kpi_model *model,
               void (*notify)(void *), void *ud);
void ingest_free(struct ingest *ing);

/* Batches are refused (INGEST_UNAVAILABLE, nothing written) while the database's file
 * system has fewer than bytes free: RocksDB must never meet a full disk, which it does not
 * recover from without a restart (docs/store.md, "A full disk"). 0 turns the check off.
 * Call before the first batch. */
void ingest_set_min_free(struct ingest *ing, int64_t bytes);

/* What became of a batch; the HTTP layer maps it to a status (docs/wire.md, "Answers"). */
enum ingest_result {
    INGEST_STORED,       /* its records are durable (or it changed nothing new) */
    INGEST_DUPLICATE,    /* (agent, spool, seq) was stored before: nothing changed */
    INGEST_HEARTBEAT,    /* no records: the agent's state was noted */
    INGEST_MALFORMED,    /* not a batch, or a bad envelope: sending it again cannot help */
    INGEST_WRONG_AGENT,  /* the batch's agent id is not the token's */
    INGEST_UNAVAILABLE,  /* the store cannot read or write, or memory ran out: retry later */
    INGEST_TOO_COSTLY,   /* decoding would pass INGEST_DECODE_BYTES(len): split the batch */
    INGEST_OUT_OF_ORDER, /* the batch it follows is not stored: nothing written, send again */
};

/* The most memory decoding and checking a body of len bytes may take: an agent's batches
 * take 3 to 5 times their size (docs/wire.md, "Memory"); a batch of many tiny records
 * past this bound is refused as too costly, and its halves are not. */
#define INGEST_DECODE_FACTOR 12
#define INGEST_DECODE_BYTES(len) ((size_t)(len)*INGEST_DECODE_FACTOR + ((size_t)1 << 20))

/* Whether the sender may drop the batch (stored, duplicate or heartbeat). */
static inline int ingest_result_acked(enum ingest_result r)
{
    return r == INGEST_STORED || r == INGEST_DUPLICATE || r == INGEST_HEARTBEAT;
}

/* Handles one body (already inflated). token_agent is the agent id the bearer token
 * belongs to; scope (may be NULL: its own records only) what else it may change. Returns the result
 * and writes a one-line reason into msg. Thread-safe (batches are applied one at a time). */
enum ingest_result ingest_batch(struct ingest *ing, const char *token_agent,
                                const struct ingest_scope *scope, const uint8_t *body, size_t len,
                                char *msg, size_t msglen);

/* As ingest_batch, for a batch sent while batch *follows of the same spool was still
 * unanswered (follows NULL: none; docs/wire.md, "Two batches in flight"). It is applied
 * only once that batch is stored: while another batch of the same agent is being handled
 * (between ingest_enter and ingest_leave) it waits for it, at most INGEST_FOLLOW_WAIT_MS;
 * then, or at once when nothing of the agent's is being handled, INGEST_OUT_OF_ORDER. */
#define INGEST_FOLLOW_WAIT_MS 10000
enum ingest_result ingest_batch_after(struct ingest *ing, const char *token_agent,
                                      const struct ingest_scope *scope, const uint64_t *follows,
                                      const uint8_t *body, size_t len, char *msg, size_t msglen);

/* Around the handling of a whole request body of agent (inflating included), so that a
 * batch that follows it knows it is coming. Thread-safe. */
void ingest_enter(struct ingest *ing, const char *agent);
void ingest_leave(struct ingest *ing, const char *agent);

/* Copies the counters. Thread-safe. */
void ingest_stats(struct ingest *ing, struct ingest_stats *st);
void ingest_stats_free(struct ingest_stats *st);

#endif
