/* window_fuzz.c - libFuzzer target for kpi_window_parse (the ?window= of /api/v1/kpis).
 *
 * The input (up to 64 bytes, cut at a NUL) is parsed against two as-of days, 2026-09-30 and
 * the first day of a quarter, 2026-07-01. Accepted windows lie within [.., as_of] with
 * s <= e; "Nd" is exactly N days ending on the as-of day; "YYYYQn" starts on the first day
 * of its quarter and ends on its last day or the as-of day. The canonical spellings
 * ("%dd" for 1..730, "%04dQ%d" for a quarter starting by the as-of day) are accepted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/kpi.h"
#include "common/timeutil.h"

static void fail(const char *what, const char *w, int32_t as_of)
{
    char d[11];
    format_date(as_of, d);
    fprintf(stderr, "window_fuzz: %s: \"%s\" as of %s\n", what, w, d);
    abort();
}

static void check(const char *w, int32_t as_of)
{
    int32_t s = 0, e = 0;
    char err[128];
    int rc = kpi_window_parse(w, as_of, &s, &e, err, sizeof err);
    int n = 0, y = 0, q = 0;
    char canon[32] = "";
    size_t len = strlen(w);
    if (len >= 2 && w[len - 1] == 'd' && sscanf(w, "%d", &n) == 1)
        snprintf(canon, sizeof canon, "%dd", n);
    else if (len == 6 && sscanf(w, "%4dQ%1d", &y, &q) == 2)
        snprintf(canon, sizeof canon, "%04dQ%d", y, q);
    int is_canon = canon[0] && strcmp(canon, w) == 0;
    if (rc != 0) {
        if (is_canon && n >= 1 && n <= 730)
            fail("a canonical Nd refused", w, as_of);
        if (is_canon && q >= 1 && q <= 4 && y >= 0 && day_from_civil(y, 3 * q - 2, 1) <= as_of)
            fail("a canonical quarter refused", w, as_of);
        if (!memchr(err, '\0', sizeof err) || !err[0])
            fail("refused without a message", w, as_of);
        return;
    }
    if (s > e || e > as_of)
        fail("window days out of order or after the as-of day", w, as_of);
    if (!is_canon)
        fail("a non-canonical spelling accepted", w, as_of);
    if (n) {
        if (e != as_of || e - s + 1 != n || n > 730)
            fail("Nd is not N days ending on the as-of day", w, as_of);
    } else {
        int32_t qs = day_from_civil(y, 3 * q - 2, 1);
        int32_t qe = (q == 4 ? day_from_civil(y + 1, 1, 1) : day_from_civil(y, 3 * q + 1, 1)) - 1;
        if (s != qs || e != (qe < as_of ? qe : as_of))
            fail("a quarter is not its days cut at the as-of day", w, as_of);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char w[65];
    if (size > 64)
        size = 64;
    memcpy(w, data, size);
    w[size] = '\0';
    int32_t a, b;
    if (parse_date("2026-09-30", 10, &a) || parse_date("2026-07-01", 10, &b))
        abort();
    check(w, a);
    check(w, b);
    return 0;
}
