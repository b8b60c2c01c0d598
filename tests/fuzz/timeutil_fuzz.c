/* timeutil_fuzz.c - libFuzzer target for common/timeutil: dates and RFC 3339 instants.
 *
 * The whole input is the text. When parse_date accepts it, format_date gives the same 10
 * bytes back, civil_from_day gives back the written year, month and day, and the day agrees
 * with glibc's timegm(). When parse_rfc3339 accepts it, the local day is the date as
 * written and the instant agrees with timegm() of the fields minus the offset plus the
 * fraction (truncated to microseconds). The first 4 bytes, read as a day within 2^29 of the
 * epoch, must also survive civil_from_day then day_from_civil.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"

static void fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "timeutil_fuzz: %s: \"%.*s\"\n", what, (int)(size > 64 ? 64 : size),
            (const char *)data);
    abort();
}

static int num(const uint8_t *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* Seconds since the epoch of a UTC civil time, by glibc (tm_sec 60 rolls over). */
static int64_t utc_seconds(int y, int m, int d, int hh, int mm, int ss)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = m - 1,
                    .tm_mday = d,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss};
    return (int64_t)timegm(&tm);
}

static void check_day_roundtrip(int32_t day)
{
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    if (m < 1 || m > 12 || d < 1 || d > 31 || day_from_civil(y, m, d) != day) {
        fprintf(stderr, "timeutil_fuzz: day %d -> %d-%d-%d -> %d\n", day, y, m, d,
                day_from_civil(y, m, d));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    int32_t day = 0;
    if (parse_date(s, size, &day) == 0) {
        char out[16];
        memset(out, 'x', sizeof out);
        format_date(day, out);
        if (out[10] != '\0' || memcmp(out, data, 10) != 0)
            fail("format_date does not give the parsed text back", data, size);
        int y = num(data, 4), m = num(data + 5, 2), d = num(data + 8, 2);
        int cy, cm, cd;
        civil_from_day(day, &cy, &cm, &cd);
        if (cy != y || cm != m || cd != d || day_from_civil(y, m, d) != day)
            fail("civil_from_day/day_from_civil round trip", data, size);
        if ((int64_t)day * 86400 != utc_seconds(y, m, d, 0, 0, 0))
            fail("day disagrees with timegm", data, size);
    }

    int64_t instant = 0;
    int32_t local_day = 0;
    if (parse_rfc3339(s, size, &instant, &local_day) == 0) {
        int32_t want_day;
        if (size < 20 || parse_date(s, 10, &want_day) != 0 || want_day != local_day)
            fail("local day is not the written date", data, size);
        int hh = num(data + 11, 2), mi = num(data + 14, 2), ss = num(data + 17, 2);
        size_t i = 19;
        int64_t frac = 0, scale = 100000;
        if (data[i] == '.') {
            for (i++; i < size && data[i] >= '0' && data[i] <= '9'; i++, scale /= 10)
                frac += (data[i] - '0') * scale;
        }
        int64_t off_s = 0;
        if (data[i] == '+' || data[i] == '-')
            off_s = (int64_t)(num(data + i + 1, 2) * 3600 + num(data + i + 4, 2) * 60) *
                    (data[i] == '-' ? -1 : 1);
        else if (data[i] != 'Z' && data[i] != 'z')
            fail("accepted without Z or an offset", data, size);
        int64_t secs =
            utc_seconds(num(data, 4), num(data + 5, 2), num(data + 8, 2), hh, mi, ss) - off_s;
        if (instant != secs * US_PER_SEC + frac)
            fail("instant disagrees with timegm", data, size);
    }

    if (size >= 4) {
        uint32_t raw =
            (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
        check_day_roundtrip((int32_t)(raw % ((1u << 30) + 1)) - (1 << 29));
    }
    return 0;
}
