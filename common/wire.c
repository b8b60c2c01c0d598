/* wire.c - cadre.Batch framing, envelope, splitting and decoding (docs/wire.md). */
#include "common/wire.h"

#include <errno.h>
#include <string.h>

#include "common/arena.h"
#include "common/xalloc.h"

/* cadre.Batch field 7 (records), wire type 2 (length-delimited). */
#define RECORDS_TAG ((7u << 3) | 2u)

static size_t put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        out[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            out[n] |= 0x80;
        n++;
    } while (v);
    return n;
}

static int get_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*off >= len)
            return -EINVAL;
        uint8_t c = p[(*off)++];
        *v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80))
            return 0;
    }
    return -EINVAL;
}

void wire_recs_append(struct wire_recs *r, const uint8_t *rec, size_t len)
{
    uint8_t head[1 + 10];
    size_t h = put_varint(head, RECORDS_TAG);
    h += put_varint(head + h, len);
    xgrow((void **)&r->p, &r->cap, r->len + h + len, 1);
    memcpy(r->p + r->len, head, h);
    memcpy(r->p + r->len + h, rec, len);
    r->len += h + len;
    r->n++;
}

void wire_recs_reset(struct wire_recs *r)
{
    r->len = 0;
    r->n = 0;
}

void wire_recs_free(struct wire_recs *r)
{
    xfree(r->p);
    *r = (struct wire_recs){0};
}

uint8_t *wire_encode(const struct wire_envelope *e, const uint8_t *recs, size_t len, size_t *outlen)
{
    Cadre__Batch b;
    cadre__batch__init(&b);
    b.agent_id = (char *)e->agent_id;
    b.spool_id.data = (uint8_t *)e->spool_id;
    b.spool_id.len = 16;
    b.has_seq = e->has_seq;
    b.seq = e->seq;
    b.sent_us = e->sent_us;
    b.has_spool_bytes = 1;
    b.spool_bytes = e->spool_bytes;
    b.has_dropped_records = 1;
    b.dropped_records = e->dropped_records;
    /* Field order does not matter in protobuf: the envelope's fields, then the records
     * exactly as framed (they are the repeated field 7). */
    size_t n = cadre__batch__get_packed_size(&b);
    uint8_t *out = xmalloc(n + len);
    cadre__batch__pack(&b, out);
    if (len)
        memcpy(out + n, recs, len);
    *outlen = n + len;
    return out;
}

/* Steps over one framed record at *off. */
static int skip_record(const uint8_t *recs, size_t len, size_t *off)
{
    uint64_t tag, l;
    if (get_varint(recs, len, off, &tag) || tag != RECORDS_TAG || get_varint(recs, len, off, &l) ||
        l > len - *off)
        return -EINVAL;
    *off += (size_t)l;
    return 0;
}

int wire_split_point(const uint8_t *recs, size_t len, uint32_t n, size_t *cut)
{
    size_t off = 0;
    for (uint32_t i = 0; i < n / 2; i++)
        if (skip_record(recs, len, &off))
            return -EINVAL;
    *cut = off;
    return 0;
}

int wire_count(const uint8_t *recs, size_t len, uint32_t *n)
{
    size_t off = 0;
    uint32_t k = 0;
    while (off < len) {
        if (skip_record(recs, len, &off) || k == UINT32_MAX)
            return -EINVAL;
        k++;
    }
    *n = k;
    return 0;
}

enum wire_error wire_decode(const uint8_t *body, size_t len, struct arena *ar, Cadre__Batch **out)
{
    ProtobufCAllocator pa;
    if (ar)
        pa = arena_protobuf(ar);
    *out = cadre__batch__unpack(ar ? &pa : NULL, len, body);
    if (*out)
        return WIRE_OK;
    if (ar && ar->over)
        return WIRE_TOO_COSTLY;
    return ar && ar->oom ? WIRE_NO_MEMORY : WIRE_NOT_PROTOBUF;
}

enum wire_error wire_check_envelope(const Cadre__Batch *b)
{
    if (b->spool_id.len != 16)
        return WIRE_BAD_SPOOL_ID;
    if (!b->has_seq && b->n_records)
        return WIRE_NO_SEQ;
    return WIRE_OK;
}

const char *wire_error_text(enum wire_error e)
{
    switch (e) {
    case WIRE_OK: return "ok";
    case WIRE_NOT_PROTOBUF: return "body is not a valid cadre.Batch protobuf message";
    case WIRE_BAD_SPOOL_ID: return "spool_id must be 16 bytes";
    case WIRE_NO_SEQ: return "a batch with records needs a seq";
    case WIRE_NO_MEMORY: return "the aggregator is out of memory for this batch; retry later";
    case WIRE_TOO_COSTLY:
        return "batch too costly to decode (too many records for its size); split it";
    }
    return "?";
}
