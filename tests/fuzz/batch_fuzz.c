/* batch_fuzz.c - libFuzzer target for the aggregator's ingest path (aggregator/ingest.h).
 *
 * One RocksDB store (sync_writes off, in a mkdtemp folder under $TMPDIR) and one KPI model
 * serve many inputs (tests/fuzz/fuzz_store.h); both are made afresh every RECREATE_EVERY
 * inputs so the database stays small. Each input goes in twice:
 *  1. as the HTTP body, from agent "a1": ingest_batch must give one of its results with a
 *     message;
 *  2. when it decodes as a cadre.Batch, re-packed as agent "a1" with a 16-byte spool id and,
 *     when it has records or a seq, a seq made from a hash of the input, so its records
 *     reach the record checks. A batch so accepted is sent again: the second delivery must
 *     be a 200 duplicate that changes no counter.
 * After every call the distinct-record counters must not be negative.
 * A crash found this way reproduces on a fresh store: run the target on the one file
 * (BATCH_FUZZ_VERBOSE=1 prints every result and message).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_store.h"

#define RECREATE_EVERY 2000

static void fail(const char *what, int status, const char *msg)
{
    fprintf(stderr, "batch_fuzz: %s (result %d, \"%s\")\n", what, status, msg);
    abort();
}

/* Ingests body as agent "a1" and checks the answer; returns the ingest result. */
static int ingest(const uint8_t *body, size_t len, char *msg, size_t msglen)
{
    memset(msg, 0x7f, msglen);
    int status = (int)ingest_batch(fz.ing, "a1", NULL, body, len, msg, msglen);
    if (getenv("BATCH_FUZZ_VERBOSE"))
        fprintf(stderr, "batch_fuzz: %zu bytes -> %d %s\n", len, status, msg);
    if (status < INGEST_STORED || status > INGEST_TOO_COSTLY)
        fail("result outside enum ingest_result", status, "");
    if (!memchr(msg, '\0', msglen) || msg[0] == '\0')
        fail("no message", status, "");
    struct ingest_stats st;
    ingest_stats(fz.ing, &st);
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        if (st.stored[t] < 0)
            fail("negative count of stored records", status, msg);
    ingest_stats_free(&st);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_tick(RECREATE_EVERY);
    char msg[256];
    ingest(data, size, msg, sizeof msg);

    Cadre__Batch *b = cadre__batch__unpack(NULL, size, data);
    if (!b)
        return 0;
    size_t len;
    uint8_t *body = fz_repack(b, data, size, &len);
    int records = b->has_seq || b->n_records;
    cadre__batch__free_unpacked(b, NULL);
    int status = ingest(body, len, msg, sizeof msg);
    if (status == INGEST_STORED && records) {
        struct ingest_stats before, after;
        ingest_stats(fz.ing, &before);
        status = ingest(body, len, msg, sizeof msg);
        ingest_stats(fz.ing, &after);
        if (status != INGEST_DUPLICATE || strncmp(msg, "duplicate", 9) != 0)
            fail("a stored batch sent again is not a duplicate", status, msg);
        if (memcmp(before.stored, after.stored, sizeof before.stored) ||
            memcmp(before.records, after.records, sizeof before.records) ||
            memcmp(before.rejected, after.rejected, sizeof before.rejected))
            fail("a duplicate changed the counters", status, msg);
        ingest_stats_free(&before);
        ingest_stats_free(&after);
    }
    free(body);
    return 0;
}
