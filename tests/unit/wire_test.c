/* wire_test.c - batch framing, envelope, splitting and decoding against protobuf-c's own
 * packing of the same cadre.Batch. */
#include "tests/unit/testutil.h"

#include <errno.h>

#include "common/arena.h"
#include "common/wire.h"
#include "common/xalloc.h"

/* Record i: an EHR tombstone whose 20-byte key is 'a' + i repeated (i = 0..n-1), packed
 * into rec; returns its length. */
static size_t make_record(int i, uint8_t *rec, uint8_t key[20])
{
    Cadre__Record r;
    cadre__record__init(&r);
    r.type = CADRE__RECORD_TYPE__RECORD_TYPE_EHR;
    memset(key, 'a' + i, 20);
    r.key.data = key;
    r.key.len = 20;
    return cadre__record__pack(&r, rec);
}

static const uint8_t sid[16] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

/* The body is byte for byte what protobuf-c packs for the same batch with the records
 * last (protobuf-c writes fields in number order: 1 agent_id, 2 spool_id, 3 seq,
 * 4 sent_us, 5 spool_bytes, 6 dropped_records, then 7 records). */
static void test_encode_equals_protobuf_c(void **state)
{
    (void)state;
    struct wire_recs wr = {0};
    uint8_t keys[3][20], rec[64];
    Cadre__Record *rp[3];
    for (int i = 0; i < 3; i++) {
        size_t n = make_record(i, rec, keys[i]);
        wire_recs_append(&wr, rec, n);
        rp[i] = cadre__record__unpack(NULL, n, rec);
    }
    assert_int_equal(wr.n, 3);
    /* Each framed record: tag 0x3a (field 7, type 2), length 1 byte, the record. */
    assert_int_equal(wr.p[0], 0x3a);
    struct wire_envelope e = {.agent_id = "north-1",
                              .spool_id = sid,
                              .has_seq = true,
                              .seq = 42,
                              .sent_us = 1700000000000000,
                              .spool_bytes = 1000,
                              .dropped_records = 5};
    size_t blen;
    uint8_t *body = wire_encode(&e, wr.p, wr.len, &blen);
    Cadre__Batch b;
    cadre__batch__init(&b);
    b.agent_id = "north-1";
    b.spool_id.data = (uint8_t *)sid;
    b.spool_id.len = 16;
    b.has_seq = 1, b.seq = 42;
    b.sent_us = 1700000000000000;
    b.has_spool_bytes = 1, b.spool_bytes = 1000;
    b.has_dropped_records = 1, b.dropped_records = 5;
    b.n_records = 3;
    b.records = rp;
    size_t want_len = cadre__batch__get_packed_size(&b);
    uint8_t *want = xmalloc(want_len);
    cadre__batch__pack(&b, want);
    assert_int_equal(blen, want_len);
    assert_memory_equal(body, want, blen);
    /* And it decodes, envelope and records. */
    Cadre__Batch *d;
    assert_int_equal(wire_decode(body, blen, NULL, &d), WIRE_OK);
    assert_int_equal(wire_check_envelope(d), WIRE_OK);
    assert_string_equal(d->agent_id, "north-1");
    assert_int_equal(d->seq, 42);
    assert_int_equal(d->n_records, 3);
    assert_int_equal(d->records[2]->key.data[0], 'c');
    cadre__batch__free_unpacked(d, NULL);
    for (int i = 0; i < 3; i++)
        cadre__record__free_unpacked(rp[i], NULL);
    xfree(want);
    xfree(body);
    /* A heartbeat: no seq, no records. */
    e.has_seq = false;
    body = wire_encode(&e, NULL, 0, &blen);
    assert_int_equal(wire_decode(body, blen, NULL, &d), WIRE_OK);
    assert_false(d->has_seq);
    assert_int_equal(d->n_records, 0);
    assert_int_equal(wire_check_envelope(d), WIRE_OK);
    cadre__batch__free_unpacked(d, NULL);
    xfree(body);
    wire_recs_free(&wr);
}

/* Splitting in halves: the cut is after n / 2 records, the halves count n / 2 and the
 * rest, and they decode to the records of the whole. */
static void test_split(void **state)
{
    (void)state;
    struct wire_recs wr = {0};
    uint8_t key[20], rec[64];
    for (int i = 0; i < 5; i++)
        wire_recs_append(&wr, rec, make_record(i, rec, key));
    size_t cut;
    assert_int_equal(wire_split_point(wr.p, wr.len, wr.n, &cut), 0);
    assert_int_equal(cut, wr.len / 5 * 2); /* 5 records of equal size: 2 in the first half */
    uint32_t n1, n2;
    assert_int_equal(wire_count(wr.p, cut, &n1), 0);
    assert_int_equal(wire_count(wr.p + cut, wr.len - cut, &n2), 0);
    assert_int_equal(n1, 2);
    assert_int_equal(n2, 3);
    /* A truncated sequence does not split or count; one record alone splits at 0. */
    assert_int_equal(wire_split_point(wr.p, 5, 5, &cut), -EINVAL);
    assert_int_equal(wire_count(wr.p, wr.len - 1, &n1), -EINVAL);
    assert_int_equal(wire_split_point(wr.p, wr.len / 5, 1, &cut), 0);
    assert_int_equal(cut, 0);
    /* A wrong tag (field 6 instead of 7) is refused. */
    uint8_t bad[] = {0x32, 0x01, 0x00};
    assert_int_equal(wire_count(bad, sizeof bad, &n1), -EINVAL);
    wire_recs_reset(&wr);
    assert_int_equal(wr.n, 0);
    assert_int_equal(wr.len, 0);
    wire_recs_free(&wr);
}

/* Decoding errors: not protobuf, a bad spool id, records without a seq, and an arena that
 * runs out of memory (told apart from a malformed body by the arena's flag). */
static void test_decode_errors(void **state)
{
    (void)state;
    Cadre__Batch *d;
    assert_int_equal(wire_decode((const uint8_t *)"\xff\xff\xff", 3, NULL, &d), WIRE_NOT_PROTOBUF);
    assert_null(d);
    uint8_t short_sid[4] = {1, 2, 3, 4};
    Cadre__Batch b;
    cadre__batch__init(&b);
    b.agent_id = "a";
    b.spool_id.data = short_sid;
    b.spool_id.len = 4;
    assert_int_equal(wire_check_envelope(&b), WIRE_BAD_SPOOL_ID);
    b.spool_id.data = (uint8_t *)sid;
    b.spool_id.len = 16;
    Cadre__Record r, *rp = &r;
    cadre__record__init(&r);
    b.n_records = 1;
    b.records = &rp;
    assert_int_equal(wire_check_envelope(&b), WIRE_NO_SEQ);
    b.has_seq = 1;
    assert_int_equal(wire_check_envelope(&b), WIRE_OK);
    /* Out of memory while decoding a good body. */
    uint8_t buf[256];
    size_t n = cadre__batch__pack(&b, buf);
    struct arena ar = {.block = 64};
    xalloc_fail_after(1); /* the first block the arena asks for */
    enum wire_error e = wire_decode(buf, n, &ar, &d);
    xalloc_fail_reset();
    assert_int_equal(e, WIRE_NO_MEMORY);
    arena_release(&ar);
    assert_int_equal(wire_decode(buf, n, &ar, &d), WIRE_OK);
    arena_release(&ar);
    /* Past the arena's limit: too costly, not out of memory (64-byte blocks, limit 128). */
    ar.limit = 128;
    assert_int_equal(wire_decode(buf, n, &ar, &d), WIRE_TOO_COSTLY);
    assert_true(ar.over);
    arena_release(&ar);
    assert_false(ar.over);
    assert_string_equal(wire_error_text(WIRE_NOT_PROTOBUF),
                        "body is not a valid cadre.Batch protobuf message");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_equals_protobuf_c),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_decode_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
