/* csvread_fuzz.c - libFuzzer target for common/csvread: chunking never changes the rows.
 *
 * Input: byte 0 is a control byte, the rest is the CSV file. The file is read twice, once
 * in a single csvread_feed and once in chunks whose sizes come from a generator seeded by
 * the control byte; both readings must deliver the same events. Bits 5..7 of the control
 * byte, when not zero, make the callback stop after that many events, which checks that
 * nothing is delivered after a stop and that the stop value is returned.
 *
 * Checked on every event: a header comes first and once, a row has the header's field
 * count, a malformed row has none, every field is NUL-terminated with len == strlen (no
 * embedded NUL), carries no leading or trailing ASCII white space, and lines never go
 * backwards. CSVREAD_FUZZ_ALLOW_NUL=1 in the environment lets a field hold a NUL byte, to
 * fuzz past that known finding (see tests/fuzz/regress/csvread_fuzz/).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/csvread.h"

#define STOP_VALUE 7

struct run {
    uint64_t digest; /* FNV-1a over every event */
    size_t events;
    size_t stop_after; /* 0: never stop */
    int stopped;
    size_t header_fields;
    unsigned long last_line;
};

static int allow_nul = -1; /* read once from CSVREAD_FUZZ_ALLOW_NUL */

static void fail(const char *what, const struct csv_row *row)
{
    fprintf(stderr, "csvread_fuzz: invariant violated: %s (line %lu, nfields %zu)\n", what,
            row ? row->line : 0, row ? row->nfields : 0);
    abort();
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int on_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct run *r = ud;
    if (r->stopped)
        fail("callback after a stop", row);
    if (row->line < r->last_line || row->line == 0)
        fail("line number went backwards or is 0", row);
    r->last_line = row->line;
    switch (ev) {
    case CSV_EV_HEADER:
        if (r->header_fields)
            fail("second header", row);
        if (row->nfields == 0)
            fail("header without fields", row);
        r->header_fields = row->nfields;
        break;
    case CSV_EV_ROW:
        if (!r->header_fields)
            fail("row before the header", row);
        if (row->nfields != r->header_fields)
            fail("row field count differs from the header's", row);
        break;
    case CSV_EV_MALFORMED:
        if (row->nfields != 0)
            fail("malformed row with fields", row);
        break;
    default: fail("unknown event", row);
    }
    for (size_t i = 0; i < row->nfields; i++) {
        const char *f = row->field[i];
        size_t n = row->len[i];
        if (f[n] != '\0')
            fail("field not NUL-terminated at len", row);
        if (!allow_nul && strlen(f) != n)
            fail("field holds a NUL byte (len != strlen)", row);
        if (n && (is_ws(f[0]) || is_ws(f[n - 1])))
            fail("field not trimmed", row);
    }
    uint64_t h = fnv(r->digest, &ev, sizeof ev);
    h = fnv(h, &row->line, sizeof row->line);
    h = fnv(h, &row->nfields, sizeof row->nfields);
    for (size_t i = 0; i < row->nfields; i++) {
        h = fnv(h, &row->len[i], sizeof row->len[i]);
        h = fnv(h, row->field[i], row->len[i]);
    }
    r->digest = h;
    r->events++;
    if (r->stop_after && r->events == r->stop_after) {
        r->stopped = 1;
        return STOP_VALUE;
    }
    return 0;
}

/* Reads the file with chunk sizes from xorshift seeded by seed (0: in one piece). */
static void read_file(struct run *r, const char *buf, size_t len, uint32_t seed)
{
    struct csvread *cr = csvread_new(on_row, r);
    int rc = 0;
    size_t off = 0;
    uint32_t x = seed * 2654435761u + 1;
    while (off < len && rc == 0) {
        size_t n = len - off;
        if (seed) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t max = (seed & 7) == 0 ? 64 : (size_t)(seed & 7);
            size_t want = 1 + x % max;
            if (want < n)
                n = want;
        }
        rc = csvread_feed(cr, buf + off, n);
        off += n;
    }
    if (rc == 0)
        rc = csvread_finish(cr);
    if (rc != (r->stopped ? STOP_VALUE : 0)) {
        fprintf(stderr, "csvread_fuzz: returned %d, callback stopped %d\n", rc, r->stopped);
        abort();
    }
    if (r->stopped && csvread_finish(cr) != STOP_VALUE)
        fail("finish after a stop does not return the stop value", NULL);
    csvread_free(cr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (allow_nul < 0) {
        const char *e = getenv("CSVREAD_FUZZ_ALLOW_NUL");
        allow_nul = e && *e == '1';
    }
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    struct run whole = {.digest = UINT64_C(0xcbf29ce484222325), .stop_after = ctl >> 5};
    struct run chunked = whole;
    read_file(&whole, buf, len, 0);
    read_file(&chunked, buf, len, ctl | 0x100u);
    if (whole.events != chunked.events || whole.digest != chunked.digest) {
        fprintf(stderr, "csvread_fuzz: chunked reading differs: %zu events vs %zu\n", whole.events,
                chunked.events);
        abort();
    }
    return 0;
}
