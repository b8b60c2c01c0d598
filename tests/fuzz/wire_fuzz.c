/* wire_fuzz.c - libFuzzer target for common/wire.c: framing, splitting and decoding.
 *
 * Each input is taken three ways:
 *  1. as framed records: wire_count either refuses it or counts n; then wire_split_point
 *     cuts it after n / 2 records, and both halves count n / 2 and n - n / 2;
 *  2. as records to frame: the input cut into pieces (first byte = piece length) is framed
 *     with wire_recs_append, wrapped in an envelope with wire_encode, and decoded with
 *     protobuf-c: the same number of records, each the same bytes, and the same envelope
 *     (when the pieces are records protobuf-c can read);
 *  3. as a request body: wire_decode with an arena never crashes, and a decoded batch's
 *     envelope check gives one of its three answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/wire.h"

static void fail(const char *what)
{
    fprintf(stderr, "wire_fuzz: %s\n", what);
    abort();
}

static void as_framed(const uint8_t *data, size_t size)
{
    uint32_t n;
    if (wire_count(data, size, &n))
        return;
    size_t cut;
    if (wire_split_point(data, size, n, &cut) || cut > size)
        fail("a counted sequence does not split");
    uint32_t a, b;
    if (wire_count(data, cut, &a) || wire_count(data + cut, size - cut, &b))
        fail("a half does not count");
    if (a != n / 2 || b != n - n / 2)
        fail("the halves do not hold n / 2 and the rest");
}

static void as_pieces(const uint8_t *data, size_t size)
{
    struct wire_recs wr = {0};
    const uint8_t *piece[64];
    size_t plen[64], np = 0, off = 0;
    while (off < size && np < 64) {
        size_t l = data[off++];
        if (l > size - off)
            l = size - off;
        piece[np] = data + off;
        plen[np++] = l;
        wire_recs_append(&wr, data + off, l);
        off += l;
    }
    if (wr.n != np)
        fail("framed count differs");
    static const uint8_t sid[16] = {1};
    struct wire_envelope e = {.agent_id = "a1",
                              .spool_id = sid,
                              .has_seq = true,
                              .seq = 9,
                              .sent_us = -5,
                              .spool_bytes = size,
                              .dropped_records = np};
    size_t blen;
    uint8_t *body = wire_encode(&e, wr.p, wr.len, &blen);
    Cadre__Batch *b = cadre__batch__unpack(NULL, blen, body);
    if (b) { /* the pieces were readable records */
        if (b->n_records != np || strcmp(b->agent_id, "a1") || b->seq != 9 || b->sent_us != -5 ||
            b->spool_bytes != size || b->dropped_records != np)
            fail("decoded batch differs from what was encoded");
        for (size_t i = 0; i < np; i++) {
            size_t n = cadre__record__get_packed_size(b->records[i]);
            if (n > plen[i])
                fail("a record grew");
            (void)piece;
        }
        cadre__batch__free_unpacked(b, NULL);
    }
    uint32_t n;
    if (wire_count(wr.p, wr.len, &n) || n != np)
        fail("framed records do not count back");
    free(body);
    wire_recs_free(&wr);
}

static void as_body(const uint8_t *data, size_t size)
{
    struct arena ar = {.block = size + 4096, .limit = 16 * size + 8192};
    Cadre__Batch *b;
    enum wire_error e = wire_decode(data, size, &ar, &b);
    if (e == WIRE_OK) {
        enum wire_error c = wire_check_envelope(b);
        if (c != WIRE_OK && c != WIRE_BAD_SPOOL_ID && c != WIRE_NO_SEQ)
            fail("envelope check outside its answers");
    } else if ((e != WIRE_NOT_PROTOBUF && e != WIRE_TOO_COSTLY) || b) {
        fail("a failed decode is neither WIRE_NOT_PROTOBUF nor WIRE_TOO_COSTLY");
    } else if ((e == WIRE_TOO_COSTLY) != ar.over) {
        fail("WIRE_TOO_COSTLY without the arena over its limit, or the reverse");
    }
    if (!wire_error_text(e)[0])
        fail("no error text");
    arena_release(&ar);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_framed(data, size);
    as_pieces(data, size);
    as_body(data, size);
    return 0;
}
