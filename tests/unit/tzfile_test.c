/* tzfile_test.c - common/tzfile against glibc's own reading of the same tz database.
 *
 * glibc's localtime_r (with TZ set in this single-threaded test) is the reference: for
 * every zone below, offsets at instants every 37 hours from 1900 to 2100 (past the last
 * transition of the files, where the footer's rule takes over) must agree, and each
 * instant's wall time must map back to it (or to the earlier of two instants). The
 * DST cases are worked by hand from the US rule (second Sunday of March, first Sunday of
 * November, 02:00 local).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "common/tzfile.h"

static const char *const zones[] = {
    "America/Chicago",   "Europe/Berlin",     "Europe/Dublin",
    "Australia/Sydney",  "Asia/Kolkata",      "Pacific/Chatham",
    "America/Nuuk",      "Africa/Casablanca", "UTC",
    "America/Sao_Paulo", "Asia/Tehran",       "Australia/Lord_Howe",
    "America/St_Johns",  "Antarctica/Troll",
};

static long glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    assert_non_null(localtime_r(&tt, &tm));
    return tm.tm_gmtoff;
}

static void test_offsets_match_glibc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        struct tzinfo *z;
        char err[256];
        assert_int_equal(tz_load(zones[i], &z, err, sizeof err), 0);
        setenv("TZ", zones[i], 1);
        tzset();
        int64_t from = (int64_t)day_from_civil(1900, 1, 1) * 86400;
        int64_t to = (int64_t)day_from_civil(2100, 1, 1) * 86400;
        for (int64_t t = from; t < to; t += 37 * 3600 + 11) {
            long want = glibc_offset(t);
            if (tz_offset_at(z, t) != want)
                fail_msg("%s at %lld: %d, glibc %ld", zones[i], (long long)t, tz_offset_at(z, t),
                         want);
            /* each instant's own wall time maps back to it, unless it is the later of two */
            int64_t back;
            int32_t off;
            assert_int_equal(tz_from_local(z, t + want, &back, &off), 0);
            if (back != t && !(back < t && off != want))
                fail_msg("%s: wall time of %lld maps to %lld", zones[i], (long long)t,
                         (long long)back);
        }
        tz_free(z);
    }
    unsetenv("TZ");
    tzset();
}

static void test_us_dst_by_hand(void **state)
{
    (void)state;
    struct tzinfo *z;
    char err[256];
    assert_int_equal(tz_load("America/Chicago", &z, err, sizeof err), 0);
    /* 2026-03-08 is the second Sunday of March: 02:00 CST becomes 03:00 CDT, so 02:30 does
     * not exist, 01:59 is -06:00 and 03:00 is -05:00. */
    int64_t d = (int64_t)day_from_civil(2026, 3, 8) * 86400;
    int64_t t;
    int32_t off;
    assert_int_equal(tz_from_local(z, d + 2 * 3600 + 30 * 60, &t, &off), -ENOENT);
    assert_int_equal(tz_from_local(z, d + 3600 + 59 * 60, &t, &off), 0);
    assert_int_equal(off, -6 * 3600);
    assert_int_equal(t, d + 7 * 3600 + 59 * 60);
    assert_int_equal(tz_from_local(z, d + 3 * 3600, &t, &off), 0);
    assert_int_equal(off, -5 * 3600);
    assert_int_equal(t, d + 8 * 3600);
    /* 2026-11-01, the first Sunday of November: 01:30 happens twice (CDT, then CST); the
     * earlier instant, 06:30Z, is taken. */
    d = (int64_t)day_from_civil(2026, 11, 1) * 86400;
    assert_int_equal(tz_from_local(z, d + 3600 + 30 * 60, &t, &off), 0);
    assert_int_equal(off, -5 * 3600);
    assert_int_equal(t, d + 6 * 3600 + 30 * 60);
    /* 2050, past the file's transitions: the footer rule says 2050-03-13 (second Sunday). */
    d = (int64_t)day_from_civil(2050, 3, 13) * 86400;
    assert_int_equal(tz_offset_at(z, d + 8 * 3600 - 1), -6 * 3600);
    assert_int_equal(tz_offset_at(z, d + 8 * 3600), -5 * 3600);
    tz_free(z);
}

static void test_names_and_files(void **state)
{
    (void)state;
    struct tzinfo *z = NULL;
    char err[256];
    const char *bad[] = {"",     "/etc/passwd", "../etc/passwd", "America/../../etc",
                         "a//b", "Amer ica",    "America/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tz_load(bad[i], &z, err, sizeof err), -EINVAL);
    assert_int_equal(tz_load("Mars/Olympus_Mons", &z, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "Mars/Olympus_Mons"));
    assert_int_equal(tz_load("America", &z, err, sizeof err), -ENOENT); /* a folder */
    /* Not TZif, truncated, a transition out of order. */
    assert_int_equal(tz_parse((const uint8_t *)"hello", 5, &z), -EINVAL);
    uint8_t v1[44 + 2 * 4 + 2 + 6 + 4] = {'T', 'Z', 'i', 'f', 0};
    v1[35] = 2;   /* timecnt */
    v1[39] = 1;   /* typecnt */
    v1[43] = 4;   /* charcnt */
    v1[47] = 100; /* transitions 100, then 50 */
    v1[51] = 50;
    assert_int_equal(tz_parse(v1, sizeof v1, &z), -EINVAL);
    v1[51] = 200; /* in order: parses, one type of offset 0 */
    assert_int_equal(tz_parse(v1, sizeof v1, &z), 0);
    assert_int_equal(tz_offset_at(z, 150), 0);
    tz_free(z);
    assert_int_equal(tz_parse(v1, sizeof v1 - 1, &z), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_match_glibc),
        cmocka_unit_test(test_us_dst_by_hand),
        cmocka_unit_test(test_names_and_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
