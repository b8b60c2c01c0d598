/* wire.h - the cadre.Batch on the wire: framing records, the envelope, splitting, decoding.
 *
 * The only module that knows how a batch is laid out (docs/wire.md). The agent frames
 * packed records as they come (what the spool stores), wraps them in the envelope when it
 * sends, and splits them in halves on a 413; the aggregator decodes a body into a batch.
 * protobuf-c does the message encoding; this module owns the field numbers and the byte
 * layout around it, so a batch built by hand here and one packed by protobuf-c are the
 * same bytes.
 */
#ifndef CADRE_WIRE_H
#define CADRE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cadre.pb-c.h"

/* Framed records: each one as cadre.Batch field 7 (tag, length, packed cadre.Record). */
struct wire_recs {
    uint8_t *p;
    size_t len, cap;
    uint32_t n; /* records framed */
};

/* Appends one packed cadre.Record of len bytes (copied). */
void wire_recs_append(struct wire_recs *r, const uint8_t *rec, size_t len);
/* Empties r, keeping its memory for the next batch. */
void wire_recs_reset(struct wire_recs *r);
/* Frees r's memory. */
void wire_recs_free(struct wire_recs *r);

/* The envelope of a batch (docs/wire.md, "The batch"). */
struct wire_envelope {
    const char *agent_id;
    const uint8_t *spool_id; /* 16 bytes */
    bool has_seq;            /* false: a heartbeat */
    uint64_t seq;
    int64_t sent_us;
    uint64_t spool_bytes;
    uint64_t dropped_records;
};

/* Builds a request body: the envelope followed by len bytes of framed records (NULL and 0
 * for none). Caller frees the result with xfree(); *outlen gets its length. */
uint8_t *wire_encode(const struct wire_envelope *e, const uint8_t *recs, size_t len,
                     size_t *outlen);

/* Finds where the first half of n framed records ends: *cut is the byte offset of record
 * n / 2. Returns 0, or -EINVAL when recs does not hold n / 2 well-framed records. */
int wire_split_point(const uint8_t *recs, size_t len, uint32_t n, size_t *cut);

/* Counts the framed records of recs into *n. Returns 0, or -EINVAL when recs is not a
 * whole number of well-framed records. */
int wire_count(const uint8_t *recs, size_t len, uint32_t *n);

/* Why a body is not a batch the aggregator can take. */
enum wire_error {
    WIRE_OK,
    WIRE_NOT_PROTOBUF, /* not a cadre.Batch */
    WIRE_BAD_SPOOL_ID, /* spool_id is not 16 bytes */
    WIRE_NO_SEQ,       /* records without a seq */
    WIRE_NO_MEMORY,    /* the allocator failed */
    WIRE_TOO_COSTLY,   /* decoding needs more memory than the arena's limit allows */
};

struct arena;
/* Decodes body into *out in arena ar (the whole batch dies with arena_release; with ar
 * NULL, malloc'd: free with cadre__batch__free_unpacked). Returns WIRE_OK, or with *out
 * NULL: WIRE_TOO_COSTLY when decoding would pass ar->limit (a batch of many tiny records;
 * smaller batches fit), WIRE_NO_MEMORY when memory ran out, WIRE_NOT_PROTOBUF otherwise. */
enum wire_error wire_decode(const uint8_t *body, size_t len, struct arena *ar, Cadre__Batch **out);

/* Checks a decoded batch's envelope: WIRE_OK, WIRE_BAD_SPOOL_ID or WIRE_NO_SEQ. */
enum wire_error wire_check_envelope(const Cadre__Batch *b);

/* A sentence saying what the error means ("body is not a valid cadre.Batch ..."). */
const char *wire_error_text(enum wire_error e);

#endif
