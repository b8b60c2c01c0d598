/* csvmap_test.c - agent/csvmap: vendor export mappings built from [source] keys, their
 * config errors, value map files, and rows rewritten into canonical text.
 *
 * Every expected value below is worked by hand from docs/sources.md and SPEC section 7:
 * dates by the calendar, instants from the US and EU summer-time rules, minutes as hours
 * times 60 in exact millionths (common/decimal.h). The config is "agent.conf" with the
 * section [source hr] on line 1, "type = ..." on line 2 and the mapping keys from line 3.
 */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/csvmap.h"
#include "agent/source.h"
#include "agent/src_csv.h"
#include "common/decimal.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define CFG "agent.conf"
#define FIRST_LINE 3 /* line of the first mapping key */
#define MAXKV 16

/* A scratch folder with the value map files of the tests. */
struct fx {
    char dir[64];
};

static const char *const files[][2] = {
    /* Fields are trimmed, quoted ones too; "RN II" twice with one value is fine; an
     * empty to is allowed (the field becomes empty). */
    {"roles.csv", "from,to\n RN II ,  nurse\n\"Smith, Jr\",physician\nHospitalist,physician\n"
                  "RN II,nurse\nUnknown,\n"},
    {"contra.csv", "from,to\nRN II,nurse\nHospitalist,physician\nRN II,physician\n"},
    {"empty.csv", ""},
    {"header.csv", "from,value\nRN II,nurse\n"},
    {"days.csv", "to,from\n01/15/2020,Day One\n"}, /* columns in either order */
    {"halves.csv", "from,to\nhalf,0.5\n"},
};

static const char *const missing_file = "none.csv";

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-csvmap-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i][0]);
        FILE *fp = fopen(path, "w");
        if (!fp)
            return -1;
        fputs(files[i][1], fp);
        fclose(fp);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i][0]);
        unlink(path);
    }
    rmdir(f->dir);
    xfree(f);
    return 0;
}

/* Copies s into out with every '@' replaced by the scratch folder. */
static void subst(const struct fx *f, const char *s, char *out, size_t len)
{
    size_t at = 0;
    for (; *s && at + 1 < len; s++) {
        if (*s == '@') {
            int n = snprintf(out + at, len - at, "%s", f->dir);
            at += n > 0 ? (size_t)n : 0;
        } else {
            out[at++] = *s;
        }
    }
    out[at < len ? at : len - 1] = 0;
}

static const struct csv_type *type_of(const char *tname)
{
    const struct source_type *st = source_type_find(tname);
    assert_non_null(st);
    assert_non_null(st->csv);
    return st->csv;
}

/* Builds the mapping of [source hr] of type tname from "key = value" lines (line
 * FIRST_LINE on; '@' in a value is the scratch folder). Returns csvmap_build's code. */
static int build(const struct fx *f, const char *tname, const char *const *lines, size_t n,
                 struct csvmap **m, char *err, size_t errlen)
{
    static char keys[MAXKV][64], vals[MAXKV][256];
    struct csvmap_kv kv[MAXKV];
    assert_true(n <= MAXKV);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strstr(lines[i], " = ");
        assert_non_null(eq);
        snprintf(keys[i], sizeof keys[i], "%.*s", (int)(eq - lines[i]), lines[i]);
        subst(f, eq + 3, vals[i], sizeof vals[i]);
        kv[i] = (struct csvmap_kv){keys[i], vals[i], FIRST_LINE + (int)i};
    }
    err[0] = 0;
    return csvmap_build(type_of(tname), tname, "hr", kv, n, CFG, m, err, errlen);
}

#define LINES(...)                                                                                 \
    (const char *const[]){__VA_ARGS__},                                                            \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)

/* Builds and expects -EINVAL with exactly the message want ('@': the scratch folder). */
static void refused(const struct fx *f, const char *tname, const char *const *lines, size_t n,
                    const char *want)
{
    struct csvmap *m = (struct csvmap *)1;
    char err[1024], w[1024];
    int rc = build(f, tname, lines, n, &m, err, sizeof err);
    subst(f, want, w, sizeof w);
    if (rc != -EINVAL || strcmp(err, w) != 0)
        fail_msg("rc %d, message\n  \"%s\"\nexpected\n  \"%s\"", rc, err, w);
    assert_null(m);
}

static struct csvmap *built(const struct fx *f, const char *tname, const char *const *lines,
                            size_t n)
{
    struct csvmap *m = NULL;
    char err[1024];
    int rc = build(f, tname, lines, n, &m, err, sizeof err);
    if (rc)
        fail_msg("build failed (%d): %s", rc, err);
    assert_non_null(m);
    return m;
}

static int col_of(const struct csv_type *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    fail_msg("no column %s", name);
    return -1;
}

/* Applies m to a row whose only field is col = in. in NULL: the header lacks the column,
 * which must stay absent. want NULL: the row must be refused as invalid_value naming col;
 * else the field must read want afterwards (NUL-terminated, len its length). */
static void map_one(const struct csvmap *m, const struct csv_type *t, const char *col,
                    const char *in, const char *want)
{
    int c = col_of(t, col);
    struct csv_fields fl = {.cols = t->cols, .reason = -1};
    struct csvmap_row row;
    if (in) {
        fl.s[c] = in;
        fl.len[c] = strlen(in);
    }
    bool ok = csvmap_apply(m, &fl, &row);
    if (!in) {
        assert_true(ok);
        assert_null(fl.bad);
        assert_null(fl.s[c]);
        return;
    }
    if (!want) {
        if (ok)
            fail_msg("%s \"%s\" mapped to \"%.*s\", expected a rejection", col, in, (int)fl.len[c],
                     fl.s[c]);
        assert_int_equal(fl.reason, SRC_INVALID_VALUE);
        assert_non_null(fl.bad);
        assert_string_equal(fl.bad, col);
        return;
    }
    if (!ok)
        fail_msg("%s \"%s\" refused, expected \"%s\"", col, in, want);
    assert_null(fl.bad);
    assert_int_equal(fl.reason, -1);
    assert_non_null(fl.s[c]);
    assert_bytes_equal(fl.s[c], fl.len[c], want);
    assert_int_equal(fl.s[c][fl.len[c]], 0);
    for (size_t i = 0; i < t->ncols; i++) /* the other columns stay absent */
        if ((int)i != c)
            assert_null(fl.s[i]);
}

/* ---- building ---- */

static void test_keys_and_headers(void **state)
{
    struct fx *f = *state;
    assert_true(csvmap_is_key("columns"));
    assert_true(csvmap_is_key("column.role"));
    assert_true(csvmap_is_key("value_map.role"));
    assert_true(csvmap_is_key("minutes_from_hours"));
    assert_true(csvmap_is_key("timezone"));
    assert_false(csvmap_is_key("path"));
    assert_false(csvmap_is_key("column"));
    assert_false(csvmap_is_key("Columns"));

    /* No mapping key: 0 and no mapping; the canonical names are looked for. */
    const struct csv_type *t = type_of("staffing_csv");
    struct csvmap *m = (struct csvmap *)1;
    char err[256];
    assert_int_equal(build(f, "staffing_csv", LINES("path = /x.csv", "authoritative = true"), &m,
                           err, sizeof err),
                     0);
    assert_null(m);
    assert_string_equal(csvmap_header(NULL, t, 0), "staff_id");
    assert_int_equal(csvmap_header_line(NULL, 0), 0);

    /* columns on line 4, column.role on line 5 (trimmed); other keys are skipped. */
    m = built(f, "staffing_csv",
              LINES("path = /x.csv", "columns =  staff_id = Employee ID ,Start_Date=Hire Date",
                    "column.role =   Job Title  ", "date_format = %m/%d/%Y"));
    assert_string_equal(csvmap_header(m, t, 0), "Employee ID");
    assert_int_equal(csvmap_header_line(m, 0), 4);
    assert_string_equal(csvmap_header(m, t, 1), "Hire Date"); /* name case-insensitive */
    assert_int_equal(csvmap_header_line(m, 1), 4);
    assert_string_equal(csvmap_header(m, t, col_of(t, "role")), "Job Title");
    assert_int_equal(csvmap_header_line(m, col_of(t, "role")), 5);
    assert_string_equal(csvmap_header(m, t, col_of(t, "department")), "department");
    assert_int_equal(csvmap_header_line(m, col_of(t, "department")), 0);
    csvmap_free(m);
    csvmap_free(NULL);

    /* --help lists every key. */
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_non_null(fp);
    csvmap_usage(fp);
    fclose(fp);
    const char *want[] = {"columns",  "column.FIELD",    "date_format",       "timestamp_format",
                          "timezone", "value_map.FIELD", "minutes_from_hours"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(strstr(buf, want[i]));
    free(buf);
}

#define STAFFING_COLS                                                                              \
    "(staff_id, start_date, department, role, end_date, end_reason, site, hybrid_role, fte)"

static void test_column_errors(void **state)
{
    struct fx *f = *state;
    refused(f, "staffing_csv", LINES("columns = staff_id=Employee ID, salary=Pay"),
            CFG ":3: [source hr] columns: 'salary' is not a column of staffing_csv " STAFFING_COLS);
    refused(
        f, "staffing_csv", LINES("path = /x.csv", "column.salary = Pay"),
        CFG
        ":4: [source hr] column.salary: 'salary' is not a column of staffing_csv " STAFFING_COLS);
    /* Twice: in one columns value (names match case-insensitively), and across keys. */
    refused(f, "staffing_csv", LINES("columns = staff_id=A, STAFF_ID=B"),
            CFG ":3: [source hr] columns: staff_id is mapped twice (first on line 3)");
    refused(f, "staffing_csv", LINES("columns = role=Job Title", "column.role = Position"),
            CFG ":4: [source hr] column.role: role is mapped twice (first on line 3)");
    /* Empty header names, a pair without '=', an empty list. */
    refused(f, "staffing_csv", LINES("columns = staff_id=Employee ID, role= "),
            CFG ":3: [source hr] columns: no header name given for role");
    refused(f, "staffing_csv", LINES("column.role = "),
            CFG ":3: [source hr] column.role: no header name given for role");
    refused(f, "staffing_csv", LINES("columns = staff_id"),
            CFG ":3: [source hr] columns: 'staff_id' is not canonical=Header Name");
    refused(f, "staffing_csv", LINES("columns = "),
            CFG ":3: [source hr] columns: empty; give canonical=Header Name pairs separated by "
                "commas");
}

#define DATE_CONVS "%Y %m %d %b %B %h %y %e %j %H %M %S %I %p %T"

static void test_format_errors(void **state)
{
    struct fx *f = *state;
    /* A conversion outside the list; %z is one only for timestamps; a lone '%' at the end
     * (reported as "% "). */
    refused(f, "staffing_csv", LINES("date_format = %Y-%q"),
            CFG ":3: [source hr] date_format: %q is not a conversion it supports (" DATE_CONVS ")");
    refused(f, "staffing_csv", LINES("date_format = %Y-%m-%d %z"),
            CFG ":3: [source hr] date_format: %z is not a conversion it supports (" DATE_CONVS ")");
    refused(f, "staffing_csv", LINES("date_format = %m/%d/%Y%"),
            CFG ":3: [source hr] date_format: %  is not a conversion it supports (" DATE_CONVS ")");
    refused(f, "shifts_csv", LINES("timestamp_format = %Y-%m-%dT%H:%M:%S%Ez"),
            CFG ":3: [source hr] timestamp_format: %E is not a conversion it supports (" DATE_CONVS
                " %z %Z)");
    refused(f, "staffing_csv", LINES("date_format = %m\t%d"),
            CFG ":3: [source hr] date_format: must be printable ASCII");
    refused(f, "staffing_csv", LINES("date_format = "),
            CFG ":3: [source hr] date_format: must be a strptime pattern of 1 to 127 bytes");
    /* A key given twice (the config loader refuses it first; csvmap_build on its own must
     * not keep one and leak the other). */
    refused(f, "staffing_csv", LINES("date_format = %Y", "date_format = %m"),
            CFG ":4: [source hr] date_format: given twice (first on line 3)");
    char lines[1][160];
    snprintf(lines[0], sizeof lines[0], "date_format = %0128d", 0); /* 128 bytes */
    refused(f, "staffing_csv", (const char *const[]){lines[0]}, 1,
            CFG ":3: [source hr] date_format: must be a strptime pattern of 1 to 127 bytes");

    /* A format for a column kind the type lacks. */
    refused(f, "shifts_csv", LINES("date_format = %m/%d/%Y"),
            CFG ":3: [source hr] date_format: shifts_csv has no date column");
    refused(f, "staffing_csv", LINES("timestamp_format = %m/%d/%Y %H:%M %z"),
            CFG ":3: [source hr] timestamp_format: staffing_csv has no timestamp column");

    /* timestamp_format and timezone: exactly one of %z and timezone. */
    refused(f, "shifts_csv", LINES("path = /x.csv", "timestamp_format = %m/%d/%Y %I:%M %p"),
            CFG ":4: [source hr] timestamp_format: has no %z: set timezone (e.g. America/Chicago) "
                "to say which zone its times are in");
    refused(f, "shifts_csv", LINES("timezone = America/Chicago"),
            CFG ":3: [source hr] timezone: applies to timestamp_format, which is not set (RFC 3339 "
                "times carry their offset)");
    refused(f, "shifts_csv",
            LINES("timestamp_format = %Y-%m-%d %H:%M %z", "path = /x.csv",
                  "timezone = America/Chicago"),
            CFG ":5: [source hr] timezone: timestamp_format on line 3 reads each time's offset "
                "(%z); drop one");
    /* Zones the tz database refuses or lacks (its folder may be moved by TZDIR). */
    refused(f, "shifts_csv", LINES("timestamp_format = %H", "timezone = ../etc/passwd"),
            CFG ":4: [source hr] timezone: time zone '../etc/passwd' is not a zone name such as "
                "America/Chicago");
    struct csvmap *m = NULL;
    char err[512];
    assert_int_equal(build(f, "shifts_csv", LINES("timestamp_format = %H", "timezone = Mars/Base"),
                           &m, err, sizeof err),
                     -EINVAL);
    const char *want = CFG ":4: [source hr] timezone: unknown time zone 'Mars/Base' (";
    assert_memory_equal(err, want, strlen(want));
}

static void test_hours_errors(void **state)
{
    struct fx *f = *state;
    refused(f, "ehr_csv", LINES("minutes_from_hours = ehr_minutes, date"),
            CFG ":3: [source hr] minutes_from_hours: 'date' is not a minutes column of ehr_csv "
                "(ehr_minutes, outside_scheduled_minutes, inbox_minutes)");
    refused(f, "ehr_csv", LINES("minutes_from_hours = wait_minutes"),
            CFG ":3: [source hr] minutes_from_hours: 'wait_minutes' is not a minutes column of "
                "ehr_csv (ehr_minutes, outside_scheduled_minutes, inbox_minutes)");
    /* overtime_hours is a number, not minutes; shifts_csv has no minute column at all. */
    refused(f, "shifts_csv", LINES("minutes_from_hours = overtime_hours"),
            CFG ":3: [source hr] minutes_from_hours: 'overtime_hours' is not a minutes column of "
                "shifts_csv ()");
    refused(f, "ehr_csv", LINES("minutes_from_hours =  , "),
            CFG ":3: [source hr] minutes_from_hours: empty; name the minute columns given in "
                "hours");
}

static void test_value_map_errors(void **state)
{
    struct fx *f = *state;
    char line[128];
    snprintf(line, sizeof line, "value_map.role = @/%s", missing_file);
    refused(f, "staffing_csv", (const char *const[]){line}, 1,
            CFG ":3: [source hr] value_map.role: cannot read @/none.csv: No such file or "
                "directory");
    refused(f, "staffing_csv", LINES("value_map.role = @"),
            CFG ":3: [source hr] value_map.role: @ must be a file of at most 16 MiB");
    refused(f, "staffing_csv", LINES("value_map.role = @/empty.csv"),
            CFG ":3: [source hr] value_map.role: @/empty.csv: empty: the header from,to and one "
                "row per value are needed");
    refused(f, "staffing_csv", LINES("value_map.role = @/header.csv"),
            CFG ":3: [source hr] value_map.role: @/header.csv: line 1: the header must name the "
                "columns from,to");
    /* Lines 2 and 4 give "RN II" two values: named by line, never by value. */
    refused(f, "staffing_csv", LINES("path = /x.csv", "value_map.role = @/contra.csv"),
            CFG ":4: [source hr] value_map.role: @/contra.csv: line 4 maps the from value of line "
                "2 to another value");
    refused(f, "staffing_csv", LINES("value_map.salary = @/roles.csv"),
            CFG ":3: [source hr] value_map.salary: 'salary' is not a column of "
                "staffing_csv " STAFFING_COLS);
    refused(f, "staffing_csv",
            LINES("value_map.role = @/roles.csv", "value_map.ROLE = @/roles.csv"),
            CFG ":4: [source hr] value_map.ROLE: role has a value map already");
    /* The first error wins: the loop stops at line 3. */
    refused(f, "staffing_csv", LINES("value_map.role = @/empty.csv", "columns = x=y"),
            CFG ":3: [source hr] value_map.role: @/empty.csv: empty: the header from,to and one "
                "row per value are needed");
    /* Agreeing repeats load (roles.csv has "RN II" on lines 2 and 5). */
    struct csvmap *m = built(f, "staffing_csv", LINES("value_map.role = @/roles.csv"));
    csvmap_free(m);
}

/* An error message cut short by a small buffer is still terminated. */
static void test_short_error_buffer(void **state)
{
    struct fx *f = *state;
    struct csvmap *m = NULL;
    char err[16];
    memset(err, 'x', sizeof err);
    assert_int_equal(build(f, "staffing_csv", LINES("columns = x=y"), &m, err, sizeof err),
                     -EINVAL);
    assert_int_equal(strlen(err), sizeof err - 1);
    assert_memory_equal(err, CFG ":3: [source hr]", sizeof err - 1);
    assert_null(m);
}

/* ---- value maps on their own ---- */

static struct csvmap_vmap *vmap(const char *text, char *err, size_t errlen, int want_rc)
{
    struct csvmap_vmap *v = NULL;
    assert_int_equal(csvmap_vmap_parse(text, strlen(text), &v, err, errlen), want_rc);
    return v;
}

static void test_vmap_parse(void **state)
{
    (void)state;
    char err[256];
    /* Sorted lookups by bytes then length: "a" < "ab" < "b"; repeats that agree collapse;
     * an extra column is ignored; lookups take a length (no NUL needed). */
    struct csvmap_vmap *v =
        vmap("note,from,to\nx,ab,2\ny,b,3\nz,a,1\nw,ab,2\nq,A,4\n", err, sizeof err, 0);
    assert_int_equal(csvmap_vmap_count(v), 4);
    assert_string_equal(csvmap_vmap_get(v, "a", 1), "1");
    assert_string_equal(csvmap_vmap_get(v, "A", 1), "4"); /* exact: case matters */
    assert_string_equal(csvmap_vmap_get(v, "ab", 2), "2");
    assert_string_equal(csvmap_vmap_get(v, "abc", 2), "2");
    assert_string_equal(csvmap_vmap_get(v, "b", 1), "3");
    assert_null(csvmap_vmap_get(v, "abc", 3));
    assert_null(csvmap_vmap_get(v, "", 0));
    assert_null(csvmap_vmap_get(v, "c", 1));
    csvmap_vmap_free(v);

    /* A header alone is a map with no value (every value then refused). */
    v = vmap("from,to\r\n", err, sizeof err, 0);
    assert_int_equal(csvmap_vmap_count(v), 0);
    assert_null(csvmap_vmap_get(v, "a", 1));
    csvmap_vmap_free(v);

    /* Refusals name lines, never values. */
    assert_null(vmap("from,to\nRN II,nurse,x\n", err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 2: not a CSV row of the header's columns");
    assert_null(vmap("from,to\n,nurse\n", err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 2: empty from value");
    assert_null(vmap("from,to\nSecret,\"unterminated\n", err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 2: not a CSV row of the header's columns");
    assert_null(vmap("\n\n", err, sizeof err, -EINVAL));
    assert_string_equal(err, "empty: the header from,to and one row per value are needed");
    assert_null(vmap("from,to\nSecret,A\n\nSecret,B\n", err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 4 maps the from value of line 2 to another value");
    /* to holds at most 63 bytes (CSVMAP_FIELD_MAX - 1), from 1023. */
    char big[1200];
    snprintf(big, sizeof big, "from,to\nx,%063d\n", 0);
    v = vmap(big, err, sizeof err, 0);
    assert_int_equal(strlen(csvmap_vmap_get(v, "x", 1)), 63);
    csvmap_vmap_free(v);
    snprintf(big, sizeof big, "from,to\nx,%064d\n", 0);
    assert_null(vmap(big, err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 2: a value longer than the limit (from 1023, to 63 bytes)");
    snprintf(big, sizeof big, "from,to\n%01024d,x\n", 0);
    assert_null(vmap(big, err, sizeof err, -EINVAL));
    assert_string_equal(err, "line 2: a value longer than the limit (from 1023, to 63 bytes)");
}

/* ---- rewriting rows ---- */

static void test_dates(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("staffing_csv");
    struct csvmap *m = built(f, "staffing_csv", LINES("date_format = %m/%d/%Y"));
    map_one(m, t, "start_date", "03/01/2026", "2026-03-01");
    map_one(m, t, "end_date", "12/31/2026", "2026-12-31");
    map_one(m, t, "start_date", "2/3/2026", "2026-02-03");   /* strptime takes one digit */
    map_one(m, t, "start_date", "02/29/2024", "2024-02-29"); /* 2024 is a leap year */
    map_one(m, t, "start_date", "02/30/2026", NULL);         /* February has 28 days */
    map_one(m, t, "start_date", "02/29/2026", NULL);         /* 2026 is not a leap year */
    map_one(m, t, "start_date", "02/29/1900", NULL);         /* divisible by 100, not 400 */
    map_one(m, t, "start_date", "13/01/2026", NULL);
    map_one(m, t, "start_date", "03/01/2026x", NULL);  /* the whole field must match */
    map_one(m, t, "start_date", "2026-03-01", NULL);   /* canonical text is not the format */
    map_one(m, t, "start_date", "", "");               /* an empty field stays empty */
    map_one(m, t, "start_date", NULL, NULL);           /* an absent column stays absent */
    map_one(m, t, "role", "03/01/2026", "03/01/2026"); /* text columns are left alone */
    map_one(m, t, "fte", "0.5", "0.5");
    csvmap_free(m);

    /* A date column may carry a time of day, read and dropped (the LMS example). */
    t = type_of("training_csv");
    m = built(f, "training_csv", LINES("date_format = %d-%b-%Y %H:%M"));
    map_one(m, t, "completed_date", "05-Mar-2026 14:30", "2026-03-05");
    map_one(m, t, "completed_date", "05-Mar-2026 24:30", NULL);
    csvmap_free(m);

    /* Day of the year: day 60 of 2024 (a leap year) is 31 + 29 = Feb 29. */
    t = type_of("licences_csv");
    m = built(f, "licences_csv", LINES("date_format = %Y.%j"));
    map_one(m, t, "assigned_date", "2024.060", "2024-02-29");
    map_one(m, t, "removed_date", "2026.060", "2026-03-01");
    map_one(m, t, "removed_date", "2026.366", NULL);
    csvmap_free(m);
}

/* The instant an RFC 3339 text names, in seconds. */
static int64_t instant_of(const char *s)
{
    int64_t us;
    int32_t day;
    assert_int_equal(parse_rfc3339(s, strlen(s), &us, &day), 0);
    return us / US_PER_SEC;
}

static void test_timestamps_with_offset(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("shifts_csv");
    struct csvmap *m = built(f, "shifts_csv", LINES("timestamp_format = %Y-%m-%d %H:%M:%S %z"));
    map_one(m, t, "start", "2026-07-01 09:15:30 +0200", "2026-07-01T09:15:30+02:00");
    map_one(m, t, "end", "2026-07-01 09:15:30 -05:30", "2026-07-01T09:15:30-05:30");
    map_one(m, t, "end", "2026-07-01 09:15:30 Z", "2026-07-01T09:15:30+00:00");
    map_one(m, t, "end", "2026-07-01 09:15:30 +1400", "2026-07-01T09:15:30+14:00");
    map_one(m, t, "end", "2026-07-01 09:15:30", NULL); /* %z must match */
    map_one(m, t, "end", "2026-07-01 09:15:60 +0000", NULL);
    map_one(m, t, "end", "2026-07-01 09:15:30 +2400", NULL); /* RFC 3339 offsets are < 24 h */
    map_one(m, t, "overtime_hours", "1.5", "1.5");
    /* 09:15:30+02:00 is 07:15:30Z. */
    assert_int_equal(instant_of("2026-07-01T09:15:30+02:00"),
                     (int64_t)day_from_civil(2026, 7, 1) * 86400 + 7 * 3600 + 15 * 60 + 30);
    csvmap_free(m);
}

static void test_timestamps_in_a_zone(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("shifts_csv");
    /* US Central: CST (-06:00) until the second Sunday of March (2026-03-08: March 1 is a
     * Sunday) at 02:00, which becomes 03:00 CDT (-05:00); CDT until the first Sunday of
     * November (2026-11-01) at 02:00 CDT, which becomes 01:00 CST. */
    struct csvmap *m =
        built(f, "shifts_csv",
              LINES("timestamp_format = %m/%d/%Y %I:%M %p", "timezone = America/Chicago"));
    map_one(m, t, "start", "01/15/2026 12:00 AM", "2026-01-15T00:00:00-06:00"); /* midnight */
    map_one(m, t, "start", "07/04/2026 12:00 PM", "2026-07-04T12:00:00-05:00"); /* noon, CDT */
    map_one(m, t, "start", "03/08/2026 01:59 AM", "2026-03-08T01:59:00-06:00");
    map_one(m, t, "start", "03/08/2026 02:30 AM", NULL); /* skipped by the clocks */
    map_one(m, t, "end", "03/08/2026 02:00 AM", NULL);
    map_one(m, t, "start", "03/08/2026 03:00 AM", "2026-03-08T03:00:00-05:00");
    /* 01:30 happens twice on 2026-11-01: first in CDT (06:30Z), then in CST (07:30Z); the
     * earlier is read. 02:30 happens once, in CST (08:30Z). */
    map_one(m, t, "end", "11/01/2026 01:30 AM", "2026-11-01T01:30:00-05:00");
    map_one(m, t, "end", "11/01/2026 02:30 AM", "2026-11-01T02:30:00-06:00");
    map_one(m, t, "end", "11/01/2026 13:30 AM", NULL); /* %I is 1..12 */
    map_one(m, t, "end", "", "");
    int64_t nov1 = (int64_t)day_from_civil(2026, 11, 1) * 86400;
    assert_int_equal(instant_of("2026-11-01T01:30:00-05:00"), nov1 + 6 * 3600 + 30 * 60);
    assert_int_equal(instant_of("2026-11-01T02:30:00-06:00"), nov1 + 8 * 3600 + 30 * 60);
    /* Before 1883-11-18 Chicago kept local mean time, -5:50:36: not a whole minute, so
     * RFC 3339 cannot write it and the field is refused. */
    map_one(m, t, "start", "01/01/1850 12:00 PM", NULL);
    csvmap_free(m);

    /* Europe/Dublin: the tz database gives Irish time as winter "negative summer time";
     * the offsets are what matter: +01:00 from the last Sunday of March (2026-03-29) at
     * 01:00Z, +00:00 in winter; 01:30 local on 03-29 never happens. */
    m = built(f, "shifts_csv",
              LINES("timezone = Europe/Dublin", "timestamp_format = %Y-%m-%d %H:%M"));
    map_one(m, t, "start", "2026-07-01 12:00", "2026-07-01T12:00:00+01:00");
    map_one(m, t, "start", "2026-01-15 12:00", "2026-01-15T12:00:00+00:00");
    map_one(m, t, "start", "2026-03-29 00:59", "2026-03-29T00:59:00+00:00");
    map_one(m, t, "start", "2026-03-29 01:30", NULL);
    map_one(m, t, "start", "2026-03-29 02:00", "2026-03-29T02:00:00+01:00");
    csvmap_free(m);
}

static void test_hours(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("ehr_csv");
    struct csvmap *m =
        built(f, "ehr_csv", LINES("minutes_from_hours = EHR_Minutes,inbox_minutes, "));
    /* Exact: 1.25 h = 1 250 000 millionths x 60 = 75 000 000 = 75 min; 0.1 h = 6 min
     * (no binary floating point on the way). */
    map_one(m, t, "ehr_minutes", "1.25", "75");
    map_one(m, t, "ehr_minutes", "0.1", "6");
    map_one(m, t, "inbox_minutes", "0", "0");
    map_one(m, t, "inbox_minutes", "1e2", "6000");
    map_one(m, t, "inbox_minutes", "-0.5", "-30"); /* the type's check refuses it later */
    /* 1.0000005 h rounds to 1.000001 h (half away from zero), x 60 = 60.00006 min. */
    map_one(m, t, "inbox_minutes", "1.0000005", "60.00006");
    map_one(m, t, "inbox_minutes", "0.0000001", "0"); /* rounds to 0 h */
    map_one(m, t, "ehr_minutes", "1,5", NULL);
    map_one(m, t, "ehr_minutes", "abc", NULL);
    /* 9 199 999 999 999 h is a valid decimal, but x 60 does not fit in millionths. */
    map_one(m, t, "ehr_minutes", "9199999999999", NULL);
    map_one(m, t, "ehr_minutes", "153722867280", "9223372036800"); /* fits */
    map_one(m, t, "ehr_minutes", "", "");
    map_one(m, t, "outside_scheduled_minutes", "1.25", "1.25"); /* not listed: left alone */
    map_one(m, t, "scheduled_patient_hours", "7.5", "7.5");
    csvmap_free(m);
}

static void test_value_maps(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("staffing_csv");
    struct csvmap *m = built(f, "staffing_csv", LINES("value_map.role = @/roles.csv"));
    map_one(m, t, "role", "RN II", "nurse"); /* the file's " RN II ,  nurse" trimmed */
    map_one(m, t, "role", "Smith, Jr", "physician");
    map_one(m, t, "role", "Hospitalist", "physician");
    map_one(m, t, "role", "Unknown", ""); /* maps to an empty value */
    map_one(m, t, "role", "rn ii", NULL); /* exact: case matters */
    map_one(m, t, "role", "RN", NULL);
    map_one(m, t, "role", "RN IIx", NULL);
    map_one(m, t, "role", "Nurse Practitioner", NULL); /* not in the map: invalid_value */
    map_one(m, t, "role", "", "");                     /* empty stays empty, not looked up */
    map_one(m, t, "role", NULL, NULL);
    map_one(m, t, "department", "RN II", "RN II"); /* only the mapped column */
    csvmap_free(m);
}

/* A value map runs before the column's format: "Day One" maps to 01/15/2020, which
 * date_format then reads; a date written in the export's format but not in the map is
 * refused (the map is the list of values the export may hold). Likewise for hours. */
static void test_order(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("staffing_csv");
    struct csvmap *m = built(f, "staffing_csv",
                             LINES("date_format = %m/%d/%Y", "value_map.start_date = @/days.csv"));
    map_one(m, t, "start_date", "Day One", "2020-01-15");
    map_one(m, t, "start_date", "01/15/2020", NULL);
    map_one(m, t, "end_date", "01/15/2020", "2020-01-15"); /* no map on end_date */
    csvmap_free(m);

    t = type_of("ehr_csv");
    m = built(f, "ehr_csv",
              LINES("value_map.ehr_minutes = @/halves.csv", "minutes_from_hours = ehr_minutes"));
    map_one(m, t, "ehr_minutes", "half", "30");
    map_one(m, t, "ehr_minutes", "0.5", NULL);
    csvmap_free(m);
}

/* A whole row of a timekeeping export: every field rewritten at once, one bad field names
 * its canonical column, and the first bad column in column order is the one named. */
static void test_whole_row(void **state)
{
    struct fx *f = *state;
    const struct csv_type *t = type_of("staffing_csv");
    struct csvmap *m =
        built(f, "staffing_csv",
              LINES("columns = staff_id=Employee ID, start_date=Hire Date, end_date=Term Date",
                    "date_format = %m/%d/%Y", "value_map.role = @/roles.csv"));
    const char *in[] = {"E1001", "05/30/2023", "ICU", "RN III", "", NULL, "Main", NULL, "1"};
    const char *out[] = {"E1001", "2023-05-30", "ICU", NULL, "", NULL, "Main", NULL, "1"};
    assert_int_equal(t->ncols, 9);
    struct csv_fields fl = {.cols = t->cols, .reason = -1};
    struct csvmap_row row;
    for (size_t i = 0; i < t->ncols; i++) {
        fl.s[i] = in[i];
        fl.len[i] = in[i] ? strlen(in[i]) : 0;
    }
    /* "RN III" is not in roles.csv: refused as role, after start_date was rewritten. */
    assert_false(csvmap_apply(m, &fl, &row));
    assert_string_equal(fl.bad, "role");
    assert_int_equal(fl.reason, SRC_INVALID_VALUE);

    in[3] = "Hospitalist";
    out[3] = "physician";
    fl = (struct csv_fields){.cols = t->cols, .reason = -1};
    for (size_t i = 0; i < t->ncols; i++) {
        fl.s[i] = in[i];
        fl.len[i] = in[i] ? strlen(in[i]) : 0;
    }
    assert_true(csvmap_apply(m, &fl, &row));
    assert_null(fl.bad);
    for (size_t i = 0; i < t->ncols; i++) {
        if (!out[i]) {
            assert_null(fl.s[i]);
            continue;
        }
        assert_bytes_equal(fl.s[i], fl.len[i], out[i]);
    }
    assert_ptr_equal(fl.s[0], in[0]); /* untouched fields are not copied */

    /* Two bad fields: start_date (column 1) is named, not end_date (column 4). */
    fl = (struct csv_fields){.cols = t->cols, .reason = -1};
    fl.s[1] = "02/30/2026";
    fl.len[1] = 10;
    fl.s[4] = "99/99/2026";
    fl.len[4] = 10;
    assert_false(csvmap_apply(m, &fl, &row));
    assert_string_equal(fl.bad, "start_date");
    csvmap_free(m);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_keys_and_headers),
        T(test_column_errors),
        T(test_format_errors),
        T(test_hours_errors),
        T(test_value_map_errors),
        T(test_short_error_buffer),
        T(test_vmap_parse),
        T(test_dates),
        T(test_timestamps_with_offset),
        T(test_timestamps_in_a_zone),
        T(test_hours),
        T(test_value_maps),
        T(test_order),
        T(test_whole_row),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
