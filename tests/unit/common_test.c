/* common_test.c - dates, instants, decimals, trimming, labels, CSV reading, record keys. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/csvread.h"
#include "common/log.h"
#include "common/decimal.h"
#include "common/reckey.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

static void test_dates(void **state)
{
    (void)state;
    int32_t d;
    assert_int_equal(parse_date("1970-01-01", 10, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(parse_date("2026-09-30", 10, &d), 0);
    /* 2026-09-30: 56 years from 1970 with 14 leap days (1972..2024) = 20454 days to
     * 2026-01-01, plus 31+28+31+30+31+30+31+31 = 243 days to 09-01, plus 29. */
    assert_int_equal(d, 20454 + 243 + 29);
    assert_int_equal(parse_date("2024-02-29", 10, &d), 0);
    assert_int_equal(parse_date("2023-02-29", 10, &d), -EINVAL);
    assert_int_equal(parse_date("2026-13-01", 10, &d), -EINVAL);
    assert_int_equal(parse_date("2026-9-30", 9, &d), -EINVAL);
    assert_int_equal(parse_date("2026-09-30x", 11, &d), -EINVAL);
    char buf[11];
    format_date(20454 + 243 + 29, buf);
    assert_string_equal(buf, "2026-09-30");
    for (int32_t x = -800; x < 30000; x += 7) {
        int y, m, dd;
        civil_from_day(x, &y, &m, &dd);
        assert_int_equal(day_from_civil(y, m, dd), x);
    }
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t t;
    int32_t day;
    const char *s = "2026-03-01T23:30:00-05:00";
    assert_int_equal(parse_rfc3339(s, strlen(s), &t, &day), 0);
    /* Local day is March 1st as written; the instant is 2026-03-02T04:30:00Z. */
    int32_t mar1 = day_from_civil(2026, 3, 1);
    assert_int_equal(day, mar1);
    assert_int_equal(t, ((int64_t)(mar1 + 1) * 86400 + 4 * 3600 + 30 * 60) * US_PER_SEC);
    s = "2026-03-01T00:00:00.123456789Z";
    assert_int_equal(parse_rfc3339(s, strlen(s), &t, &day), 0);
    assert_int_equal(t, (int64_t)mar1 * 86400 * US_PER_SEC + 123456);
    s = "2026-03-01 00:00:01+01:30";
    assert_int_equal(parse_rfc3339(s, strlen(s), &t, &day), 0);
    assert_int_equal(t, ((int64_t)mar1 * 86400 + 1 - 5400) * US_PER_SEC);
    assert_int_equal(day, mar1);
    const char *bad[] = {"2026-03-01T00:00:00",   "2026-03-01T24:00:00Z",
                         "2026-03-01T00:00:00.Z", "2026-03-01T00:00:00+0500",
                         "2026-02-30T00:00:00Z",  "garbage"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(parse_rfc3339(bad[i], strlen(bad[i]), &t, &day), -EINVAL);
}

static int64_t dec(const char *s)
{
    int64_t v = -1;
    int rc = decimal_parse(s, strlen(s), &v);
    if (rc)
        fail_msg("decimal_parse(\"%s\") = %d", s, rc);
    return v;
}

static void test_decimal(void **state)
{
    (void)state;
    assert_int_equal(dec("0"), 0);
    assert_int_equal(dec("12.5"), 12500000);
    assert_int_equal(dec("-3"), -3000000);
    assert_int_equal(dec(".5"), 500000);
    assert_int_equal(dec("5."), 5000000);
    assert_int_equal(dec("0.0000005"), 1); /* half rounds away from zero */
    assert_int_equal(dec("-0.0000005"), -1);
    assert_int_equal(dec("0.00000049"), 0);
    assert_int_equal(dec("1.2345675"), 1234568);
    assert_int_equal(dec("1e2"), 100000000);
    assert_int_equal(dec("1.5E-3"), 1500);
    assert_int_equal(dec("000123.000"), 123000000);
    int64_t v;
    const char *bad[] = {"", "-", ".", "1.2.3", "1e", "abc", "1 ", "0x10", "nan", "inf"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(decimal_parse(bad[i], strlen(bad[i]), &v), -EINVAL);
    assert_int_equal(decimal_parse("1e30", 4, &v), -ERANGE);
    char out[24];
    decimal_format(12500000, out);
    assert_string_equal(out, "12.5");
    decimal_format(-1, out);
    assert_string_equal(out, "-0.000001");
    decimal_format(3000000, out);
    assert_string_equal(out, "3");
}

static void test_strutil(void **state)
{
    (void)state;
    const char *s = " \t Ab C\r\n";
    size_t n = strlen(s);
    str_trim(&s, &n);
    assert_bytes_equal(s, n, "Ab C");
    char id[] = "N12345ABC";
    str_lower(id, strlen(id));
    assert_string_equal(id, "n12345abc");
    assert_true(str_ieq("Voluntary", 9, "voluntary"));
    assert_false(str_ieq("Voluntar", 8, "voluntary"));
    assert_true(str_is_label("Intensive Care – Nord", strlen("Intensive Care – Nord"), 64));
    assert_false(str_is_label("a\tb", 3, 64));
    assert_false(str_is_label("\xC3\x28", 2, 64)); /* broken UTF-8 */
    assert_false(str_is_label("", 0, 64));
    assert_true(str_is_ident("ambient-scribe_2.0", 18));
    assert_false(str_is_ident("Scribe", 6));
    uint64_t b;
    assert_int_equal(str_parse_size("16MiB", &b), 0);
    assert_int_equal(b, 16u << 20);
    assert_int_equal(str_parse_size("1GiB", &b), 0);
    assert_int_equal(b, 1ull << 30);
    assert_int_equal(str_parse_size("4096", &b), 0);
    assert_int_equal(b, 4096);
    assert_int_equal(str_parse_size("-1", &b), -EINVAL);
    assert_int_equal(str_parse_size(" 1", &b), -EINVAL);
    assert_int_equal(str_parse_size("1 MiB", &b), -EINVAL);
    assert_int_equal(str_parse_size("1MB", &b), -EINVAL);
    assert_int_equal(str_parse_size("99999999999999999999GiB", &b), -EINVAL);
    assert_int_equal(str_parse_size("17179869184GiB", &b), -ERANGE);
}

struct collected {
    int headers, rows, malformed;
    char text[1024]; /* "line:field|field;" per row */
};

static int collect(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct collected *c = ud;
    size_t n = strlen(c->text);
    if (ev == CSV_EV_HEADER)
        c->headers++;
    else if (ev == CSV_EV_ROW)
        c->rows++;
    else
        c->malformed++;
    n += (size_t)snprintf(c->text + n, sizeof c->text - n,
                          "%c%lu:", ev == CSV_EV_MALFORMED ? '!' : ' ', row->line);
    for (size_t i = 0; i < row->nfields; i++)
        n += (size_t)snprintf(c->text + n, sizeof c->text - n, "%s%s", i ? "|" : "", row->field[i]);
    snprintf(c->text + n, sizeof c->text - n, ";");
    return 0;
}

static void csv_case(const char *input, size_t chunk, const char *expect, int rows, int malformed)
{
    struct collected c = {0};
    struct csvread *r = csvread_new(collect, &c);
    size_t len = strlen(input);
    for (size_t i = 0; i < len; i += chunk)
        csvread_feed(r, input + i, len - i < chunk ? len - i : chunk);
    csvread_finish(r);
    csvread_free(r);
    assert_string_equal(c.text, expect);
    assert_int_equal(c.headers, 1);
    assert_int_equal(c.rows, rows);
    assert_int_equal(c.malformed, malformed);
}

static void test_csvread(void **state)
{
    (void)state;
    /* BOM, CRLF, a quoted field with a comma, a doubled quote and a newline, trimming of
     * quoted and unquoted fields, a blank line, a short row and a last row without newline. */
    const char *in = "\xEF\xBB\xBF"
                     "Staff_ID , dept\r\n"
                     "A1, \"Ward, \"\"B\"\"\nnorth\" \r\n"
                     "\r\n"
                     "   \n"
                     "A2\n"
                     "A3,\"x\"\"\"\n"
                     "a4 ,c";
    const char *expect = " 1:Staff_ID|dept; 2:A1|Ward, \"B\"\nnorth;!6:; 7:A3|x\"; 8:a4|c;";
    csv_case(in, strlen(in), expect, 3, 1);
    for (size_t chunk = 1; chunk < 9; chunk++)
        csv_case(in, chunk, expect, 3, 1);
    /* Broken quoting is malformed on its own; the next line reads normally. */
    csv_case("a,b\n1,x\"y\"z\n2,ok\n", 64, " 1:a|b;!2:; 3:2|ok;", 1, 1);
    /* An unterminated quote at the end is malformed. */
    csv_case("a,b\n1,\"open\n", 64, " 1:a|b;!2:;", 0, 1);
}

static void test_header_map(void **state)
{
    (void)state;
    const char *f[] = {"Date", "STAFF_ID", "extra", "staff_id"};
    size_t len[] = {4, 8, 5, 8};
    struct csv_row h = {.nfields = 4, .field = f, .len = len, .line = 1};
    const char *names[] = {"staff_id", "date", "hours"};
    int idx[3];
    csv_header_map(&h, names, 3, idx);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 0);
    assert_int_equal(idx[2], -1);
}

static void test_reckey_order(void **state)
{
    (void)state;
    uint8_t staff[16] = {1, 2, 3};
    uint8_t a[RECKEY_MAX], b[RECKEY_MAX];
    /* Keys sort by time, negative before positive. */
    int64_t times[] = {INT64_MIN, -5, -1, 0, 1, 1700000000000000, INT64_MAX};
    for (size_t i = 0; i + 1 < sizeof times / sizeof *times; i++) {
        size_t la = reckey_shift(a, staff, times[i]);
        size_t lb = reckey_shift(b, staff, times[i + 1]);
        assert_int_equal(la, 24);
        assert_true(memcmp(a, b, la < lb ? la : lb) < 0);
        assert_int_equal(be_get_i64(a + 16), times[i]);
    }
    int32_t days[] = {INT32_MIN, -1, 0, 20000, INT32_MAX};
    for (size_t i = 0; i + 1 < sizeof days / sizeof *days; i++) {
        reckey_staffing(a, staff, days[i]);
        reckey_staffing(b, staff, days[i + 1]);
        assert_true(memcmp(a, b, 20) < 0);
        assert_int_equal(be_get_i32(a + 16), days[i]);
    }
    size_t n = reckey_usage(a, "scribe", 0x0102030405060708u, 4096);
    assert_int_equal(n, 1 + 6 + 8 + 8);
    assert_int_equal(reckey_check(REC_USAGE, a, n), 0);
    assert_int_equal(reckey_check(REC_USAGE, a, n - 1), -EINVAL);
    assert_int_equal(be_get_u64(a + 7), 0x0102030405060708u);
    assert_int_equal(be_get_u64(a + 15), 4096);
    assert_int_equal(reckey_check(REC_ABSENCES, a, 21), a[20] >= 1 && a[20] <= 3 ? 0 : -EINVAL);
    assert_string_equal(rec_type_name(REC_EHR), "ehr");
    assert_null(rec_type_name(0));
}

/* Log lines in both formats, read back from a file standing in for stderr: logfmt quotes
 * the message and escapes its quotes and backslashes; a newline in a message never splits
 * the line; the level filter holds. */
static void test_log_formats(void **state)
{
    (void)state;
    char path[] = "/tmp/cadre-log-test.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    assert_true(dup2(fd, 2) == 2);
    log_set_prog("cadre-test");
    log_set_format(LOG_TEXT);
    log_warn("plain %s", "text");
    log_set_format(LOG_LOGFMT);
    log_error("said \"hi\" in C:\\tmp\nnext");
    log_debug("dropped: below the level");
    log_set_format(LOG_TEXT);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fdopen(fd, "r");
    rewind(f);
    char a[256] = "", b[256] = "", c[256] = "";
    assert_non_null(fgets(a, sizeof a, f));
    assert_non_null(fgets(b, sizeof b, f));
    assert_null(fgets(c, sizeof c, f));
    fclose(f);
    unlink(path);
    /* "YYYY-MM-DDTHH:MM:SSZ " is 21 bytes. */
    assert_true(strlen(a) > 21 && a[4] == '-' && a[19] == 'Z');
    assert_string_equal(a + 21, "cadre-test warn: plain text\n");
    assert_memory_equal(b, "ts=", 3);
    assert_true(b[7] == '-' && b[22] == 'Z');
    assert_string_equal(b + 24,
                        "level=error prog=cadre-test msg=\"said \\\"hi\\\" in C:\\\\tmp next\"\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dates),        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_decimal),      cmocka_unit_test(test_strutil),
        cmocka_unit_test(test_csvread),      cmocka_unit_test(test_header_map),
        cmocka_unit_test(test_reckey_order), cmocka_unit_test(test_log_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
