/* tzfile_fuzz.c - libFuzzer target for common/tzfile: TZif files (RFC 8536) and the POSIX
 * TZ rule of their footer.
 *
 * The whole input is the file. tz_parse must accept or refuse it without a crash, a leak or
 * UB, and twice alike. When it accepts, at many instants t:
 *   - fixed ones, far off too (+-2^40 s, +-2^62 s: the rule's clamp);
 *   - a sweep from 1900 to 2100 about monthly, and one year of the footer rule's era
 *     (2040 + size % 8) every 53 minutes; where the offset changed between two steps, the
 *     change itself, found by bisection;
 *   - the instants read at every byte offset of the input as big-endian 64-bit and 32-bit
 *     numbers (the file's own transition times among them);
 * and the second before each of the last two kinds:
 *   - the offset is within +-26 hours;
 *   - the wall time t + offset maps back (tz_from_local returns 0) to an instant u <= t
 *     (the earlier of two, as tz_from_local promises) with offset o in force at u and
 *     u + o == t + offset.
 * Wall times around those instants, as the clock read just before and at them (so a
 * transition gives the gap or the overlap it makes), are checked against the offsets seen:
 * when one of them, o, is in force at wall - o, the wall time occurs, so tz_from_local must
 * not say -ENOENT, and the instant it gives must be the earliest such one.
 *
 * Seeds: UTC, America/Chicago, Europe/Dublin (negative summer time) and Australia/Lord_Howe
 * (30 minutes of summer time) from the tz database, and small hand-made files: footer rules
 * only (US default dates, Jn and zero-based n days, all-year summer time, a time past 24 h),
 * a jump across the date line, a version 1 file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/tzfile.h"

#define MAX_OFF (26 * 3600)
#define T_FAR (INT64_C(1) << 40) /* instants tried: within +-35,000 years */
#define MAX_WINDOWS 1024         /* byte offsets read as instants */
#define MAX_SEEN 64              /* distinct offsets remembered */

struct seen {
    int32_t off[MAX_SEEN];
    int n;
};

static _Noreturn void fail(const char *what, int64_t t, int64_t a, int64_t b)
{
    fprintf(stderr, "tzfile_fuzz: %s (t %lld: %lld, %lld)\n", what, (long long)t, (long long)a,
            (long long)b);
    abort();
}

static void remember(struct seen *s, int32_t off)
{
    for (int i = 0; i < s->n; i++)
        if (s->off[i] == off)
            return;
    if (s->n < MAX_SEEN)
        s->off[s->n++] = off;
}

/* The earliest instant among the remembered offsets whose wall time is local, or 0. */
static int earliest(const struct tzinfo *z, const struct seen *s, int64_t local, int64_t *u)
{
    int found = 0;
    for (int i = 0; i < s->n; i++) {
        int64_t c = local - s->off[i];
        if (tz_offset_at(z, c) == s->off[i] && (!found || c < *u)) {
            *u = c;
            found = 1;
        }
    }
    return found;
}

static void check_instant(const struct tzinfo *z, struct seen *s, int64_t t)
{
    int32_t off = tz_offset_at(z, t);
    if (off < -MAX_OFF || off > MAX_OFF)
        fail("offset beyond 26 hours", t, off, 0);
    remember(s, off);
    int64_t local = t + off, u = 0;
    int32_t o = 0;
    int rc = tz_from_local(z, local, &u, &o);
    if (rc != 0)
        fail("the wall time of an instant does not map back", t, off, rc);
    if (u + o != local || tz_offset_at(z, u) != o)
        fail("tz_from_local gives an instant of another wall time", t, u, o);
    if (u > t)
        fail("tz_from_local gives a later instant than one with that wall time", t, u, o);
}

/* A wall time that may or may not occur: -ENOENT only when no offset seen explains it,
 * else the earliest instant. */
static void check_wall(const struct tzinfo *z, const struct seen *s, int64_t local)
{
    int64_t u = 0, want = 0;
    int32_t o = 0;
    int rc = tz_from_local(z, local, &u, &o);
    int occurs = earliest(z, s, local, &want);
    if (rc != 0 && rc != -ENOENT)
        fail("tz_from_local returns neither 0 nor -ENOENT", local, rc, 0);
    if (rc == -ENOENT && occurs)
        fail("a wall time that occurs is said to be skipped", local, want, 0);
    if (rc == 0 && (u + o != local || tz_offset_at(z, u) != o))
        fail("tz_from_local gives an instant of another wall time", local, u, o);
    if (rc == 0 && occurs && u > want)
        fail("tz_from_local does not give the earlier of two instants", local, u, want);
}

static int64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return n == 8 ? (int64_t)v : (int64_t)(int32_t)(uint32_t)v;
}

/* An instant that may be a transition: it and the second before, and the wall times
 * around it as read on either side (the gap or the overlap a transition makes). */
static void check_edge(const struct tzinfo *z, struct seen *s, int64_t t)
{
    check_instant(z, s, t);
    check_instant(z, s, t - 1);
    int64_t before = t + tz_offset_at(z, t - 1), after = t + tz_offset_at(z, t);
    for (int k = -2; k <= 2; k++) {
        check_wall(z, s, before + k * 1800);
        if (after != before)
            check_wall(z, s, after + k * 1800);
    }
}

/* The first instant in (a, b] whose offset differs from a's (one of them, when the offset
 * changes more than once in between), by bisection. */
static int64_t change_in(const struct tzinfo *z, int64_t a, int64_t b)
{
    int32_t oa = tz_offset_at(z, a);
    while (b - a > 1) {
        int64_t mid = a + (b - a) / 2;
        if (tz_offset_at(z, mid) == oa)
            a = mid;
        else
            b = mid;
    }
    return b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tzinfo *z = NULL, *z2 = NULL;
    int rc = tz_parse(data, size, &z);
    if (rc != 0 && rc != -EINVAL)
        fail("tz_parse returns neither 0 nor -EINVAL", 0, rc, 0);
    int rc2 = tz_parse(data, size, &z2);
    if (rc2 != rc)
        fail("tz_parse answers twice differently", 0, rc, rc2);
    tz_free(z2);
    if (rc)
        return 0;

    struct seen s = {.n = 0};
    static const int64_t fixed[] = {-(INT64_C(1) << 62),
                                    -T_FAR,
                                    -(INT64_C(1) << 35),
                                    -INT64_C(2208988800),
                                    -1,
                                    0,
                                    1,
                                    INT64_C(1) << 31,
                                    INT64_C(4102444800),
                                    INT64_C(1) << 35,
                                    T_FAR,
                                    INT64_C(1) << 62};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_instant(z, &s, fixed[i]);
    /* A sweep; where the offset changed since the last step, the change itself. */
    int64_t from = (int64_t)day_from_civil(1900, 1, 1) * 86400;
    int64_t to = (int64_t)day_from_civil(2100, 1, 1) * 86400;
    int64_t step = 29 * 86400 + 7 * 3600 + 13;
    for (int64_t t = from; t < to; t += step) {
        check_instant(z, &s, t);
        if (t > from && tz_offset_at(z, t - step) != tz_offset_at(z, t))
            check_edge(z, &s, change_in(z, t - step, t));
    }
    /* One year in the footer rule's era, finely: a rule may keep an offset for hours. */
    int64_t y = (int64_t)day_from_civil(2040 + (int)(size % 8), 1, 1) * 86400;
    for (int64_t t = y + 3180; t < y + 366 * 86400; t += 3180)
        if (tz_offset_at(z, t - 3180) != tz_offset_at(z, t))
            check_edge(z, &s, change_in(z, t - 3180, t));
    /* Instants read from the bytes: the file's transitions are among them. */
    size_t windows = 0;
    for (size_t i = 0; i + 4 <= size && windows < MAX_WINDOWS; i++) {
        for (int n = 4; n <= 8 && i + (size_t)n <= size; n += 4) {
            int64_t t = be(data + i, n);
            if (t < -T_FAR || t > T_FAR)
                continue;
            windows++;
            check_edge(z, &s, t);
        }
    }
    tz_free(z);
    return 0;
}
