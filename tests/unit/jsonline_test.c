/* jsonline_test.c - common/jsonline: values, escapes, numbers, rejections, depth, scratch.
 *
 * Every line is copied into a heap buffer of exactly its length (no NUL after it) and
 * scratch is exactly len bytes, so the ASan build catches any read or write past either.
 */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/jsonline.h"
#include "common/xalloc.h"

static const char *const usage_names[] = {"ts", "user", "tool", "event", "minutes", "outcome"};
enum { TS, USER, TOOL, EVENT, MINUTES, OUTCOME, NUSAGE };

#define MAXV 8

struct scanned {
    char *line, *scratch; /* exactly len bytes each */
    size_t len;
    struct jsonline_value v[MAXV];
    int rc;
};

/* Scans text[0..len) for names[0..n); values stay valid until scanned_free(r). */
static int scan_n(struct scanned *r, const char *text, size_t len, const char *const *names,
                  size_t n)
{
    assert_true(n <= MAXV);
    r->len = len;
    r->line = xmalloc(len ? len : 1);
    r->scratch = xmalloc(len ? len : 1);
    memcpy(r->line, text, len);
    memset(r->scratch, 0x5A, len);
    for (size_t i = 0; i < MAXV; i++)
        r->v[i] = (struct jsonline_value){.type = (enum jsonline_type)99};
    r->rc = jsonline_scan(r->line, len, names, n, r->v, r->scratch);
    return r->rc;
}

static void scanned_free(struct scanned *r)
{
    xfree(r->line);
    xfree(r->scratch);
    r->line = r->scratch = NULL;
}

/* Scans a NUL-terminated line for the six usage names. */
static int scan_usage(struct scanned *r, const char *text)
{
    return scan_n(r, text, strlen(text), usage_names, NUSAGE);
}

static bool in_line(const struct scanned *r, const struct jsonline_value *v)
{
    return v->s >= r->line && v->s + v->len <= r->line + r->len;
}

static bool in_scratch(const struct scanned *r, const struct jsonline_value *v)
{
    return v->s >= r->scratch && v->s + v->len <= r->scratch + r->len;
}

#define assert_str(r, i, want)                                                                     \
    do {                                                                                           \
        assert_int_equal((r)->v[i].type, JSONLINE_STRING);                                         \
        assert_bytes_equal((r)->v[i].s, (r)->v[i].len, (want));                                    \
    } while (0)

#define assert_num(r, i, want)                                                                     \
    do {                                                                                           \
        assert_int_equal((r)->v[i].type, JSONLINE_NUMBER);                                         \
        assert_bytes_equal((r)->v[i].s, (r)->v[i].len, (want));                                    \
        assert_true(in_line((r), &(r)->v[i]));                                                     \
    } while (0)

/* A line that must be refused, given with its length (it may hold NUL bytes). */
static void expect_refused(const char *text, size_t len)
{
    struct scanned r;
    int rc = scan_n(&r, text, len, usage_names, NUSAGE);
    if (rc != -EINVAL)
        fail_msg("accepted (rc %d): \"%.*s\"", rc, (int)len, text);
    scanned_free(&r);
}
#define REFUSED(lit) expect_refused((lit), sizeof(lit) - 1)

static void test_usage_members(void **state)
{
    (void)state;
    struct scanned r;
    assert_int_equal(scan_usage(&r, "{\"ts\":\"2026-03-01T09:00:00Z\",\"user\":\"U1\",\"tool\":"
                                    "\"copilot\",\"event\":\"use\",\"minutes\":12.5,\"outcome\":"
                                    "\"accepted\"}"),
                     0);
    assert_str(&r, TS, "2026-03-01T09:00:00Z");
    assert_str(&r, USER, "U1");
    assert_str(&r, TOOL, "copilot");
    assert_str(&r, EVENT, "use");
    assert_num(&r, MINUTES, "12.5");
    assert_str(&r, OUTCOME, "accepted");
    /* Strings without an escape point into the line, right after their opening quote. */
    for (int i = TS; i < NUSAGE; i++)
        assert_true(in_line(&r, &r.v[i]));
    assert_ptr_equal(r.v[TS].s, r.line + 7);
    scanned_free(&r);

    /* Order does not matter; the caller's names need not all be there. */
    assert_int_equal(scan_usage(&r, "{\"minutes\":0,\"user\":\"x\",\"ts\":\"t\"}"), 0);
    assert_str(&r, TS, "t");
    assert_str(&r, USER, "x");
    assert_num(&r, MINUTES, "0");
    assert_int_equal(r.v[TOOL].type, JSONLINE_ABSENT);
    assert_int_equal(r.v[EVENT].type, JSONLINE_ABSENT);
    assert_int_equal(r.v[OUTCOME].type, JSONLINE_ABSENT);
    scanned_free(&r);

    /* No names asked: the line is still checked. */
    assert_int_equal(scan_n(&r, "{\"a\":1}", 7, NULL, 0), 0);
    scanned_free(&r);
    assert_int_equal(scan_n(&r, "{\"a\":01}", 8, NULL, 0), -EINVAL);
    scanned_free(&r);
}

static void test_escapes(void **state)
{
    (void)state;
    struct scanned r;
    /* Every escape, a surrogate pair (U+1F600) and raw UTF-8 (é U+00E9, € U+20AC, 😀). */
    const char *line = "{\"ts\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t"
                       "\\u0041\\u00e9\\u00C9\\u20AC\\ud83d\\ude00 "
                       "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}";
    assert_int_equal(scan_usage(&r, line), 0);
    assert_str(&r, TS,
               "q\"b\\s/b\bf\fn\nr\rt\t"
               "A\xc3\xa9\xc3\x89\xe2\x82\xac\xf0\x9f\x98\x80 "
               "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_true(in_scratch(&r, &r.v[TS]));
    scanned_free(&r);

    /* Escapes at the very start and end; a string that is one escape; U+10FFFF; U+FFFF;
     * U+07FF and U+0800 (the 2/3-byte boundary); U+007F; U+0080. */
    assert_int_equal(scan_usage(&r, "{\"ts\":\"\\nx\\t\",\"user\":\"\\\"\","
                                    "\"tool\":\"\\udbff\\udfff\\uffff\",\"event\":"
                                    "\"\\u07ff\\u0800\\u007f\\u0080\",\"outcome\":\"\"}"),
                     0);
    assert_str(&r, TS, "\nx\t");
    assert_str(&r, USER, "\"");
    assert_str(&r, TOOL, "\xf4\x8f\xbf\xbf\xef\xbf\xbf");
    assert_str(&r, EVENT, "\xdf\xbf\xe0\xa0\x80\x7f\xc2\x80");
    assert_str(&r, OUTCOME, "");
    for (int i = TS; i <= EVENT; i++)
        assert_true(in_scratch(&r, &r.v[i]));
    assert_true(in_line(&r, &r.v[OUTCOME]));
    /* Kept strings do not overlap in scratch. */
    for (int i = TS; i <= EVENT; i++)
        for (int j = i + 1; j <= EVENT; j++)
            assert_true(r.v[i].s + r.v[i].len <= r.v[j].s || r.v[j].s + r.v[j].len <= r.v[i].s);
    scanned_free(&r);

    /* A raw DEL and raw non-ASCII are fine as they are. */
    assert_int_equal(scan_usage(&r, "{\"user\":\"\x7f\xc3\xa9t\xc3\xa9\"}"), 0);
    assert_str(&r, USER, "\x7f\xc3\xa9t\xc3\xa9");
    assert_true(in_line(&r, &r.v[USER]));
    scanned_free(&r);
}

static void test_escaped_names(void **state)
{
    (void)state;
    struct scanned r;
    assert_int_equal(scan_usage(&r, "{\"t\\u0073\":\"a\",\"\\u0075ser\":\"b\",\"\\u0074\\u006F"
                                    "\\u006f\\u006c\":\"c\",\"ev\\/ent\":\"d\"}"),
                     0);
    assert_str(&r, TS, "a");
    assert_str(&r, USER, "b");
    assert_str(&r, TOOL, "c");
    assert_int_equal(r.v[EVENT].type, JSONLINE_ABSENT); /* "ev/ent" is not "event" */
    scanned_free(&r);

    /* A name is compared whole: no prefix, no suffix, case matters. */
    assert_int_equal(scan_usage(&r, "{\"t\":1,\"tss\":2,\"TS\":3,\"ts \":4,\"t\\u0073s\":5}"), 0);
    assert_int_equal(r.v[TS].type, JSONLINE_ABSENT);
    scanned_free(&r);

    /* An empty member name is a name like any other (never asked: names are non-empty). */
    assert_int_equal(scan_usage(&r, "{\"\":1,\"ts\":\"a\",\"\":\"\\n\"}"), 0);
    assert_str(&r, TS, "a");
    scanned_free(&r);

    /* A name that needed scratch does not use it up: the value after it still fits. */
    assert_int_equal(scan_usage(&r, "{\"\\u0074s\":\"\\n\"}"), 0);
    assert_str(&r, TS, "\n");
    assert_ptr_equal(r.v[TS].s, r.scratch);
    scanned_free(&r);

    /* Non-ASCII names match byte for byte, raw or escaped. */
    static const char *const names[] = {"caf\xc3\xa9", "\xf0\x9f\x98\x80"};
    const char *line = "{\"caf\\u00e9\":1,\"\\ud83d\\ude00\":2}";
    assert_int_equal(scan_n(&r, line, strlen(line), names, 2), 0);
    assert_num(&r, 0, "1");
    assert_num(&r, 1, "2");
    scanned_free(&r);
}

static void test_twice(void **state)
{
    (void)state;
    struct scanned r;
    assert_int_equal(scan_usage(&r, "{\"ts\":\"a\",\"user\":\"u\",\"ts\":\"b\"}"), 0);
    assert_str(&r, TS, "b");
    assert_str(&r, USER, "u");
    scanned_free(&r);

    /* The last one wins whatever the types, escaped or not, and through an escaped name. */
    assert_int_equal(scan_usage(&r, "{\"ts\":\"\\n1\",\"ts\":2,\"t\\u0073\":\"x\\ty\","
                                    "\"minutes\":1,\"minutes\":null,\"tool\":[1],\"tool\":\"t\"}"),
                     0);
    assert_str(&r, TS, "x\ty");
    assert_true(in_scratch(&r, &r.v[TS]));
    assert_int_equal(r.v[MINUTES].type, JSONLINE_NULL);
    assert_str(&r, TOOL, "t");
    scanned_free(&r);
}

static void test_skipped(void **state)
{
    (void)state;
    struct scanned r;
    assert_int_equal(
        scan_usage(&r, "{\"x\":[1,[2,{\"a\":[]}],{},\"s\\\"]}\",-0.5e+7,true,false,null],"
                       "\"y\":{\"z\":{\"w\":null,\"v\":[[[]]]},\"ts\":\"inner\"},"
                       "\"n\":-1.5e3,\"t\":true,\"f\":false,\"nul\":null,\"e\":\"\\u00e9\","
                       "\"ts\":\"ok\",\"o\":{}}"),
        0);
    assert_str(&r, TS, "ok"); /* "ts" inside "y" is not a top-level member */
    for (int i = USER; i < NUSAGE; i++)
        assert_int_equal(r.v[i].type, JSONLINE_ABSENT);
    scanned_free(&r);

    /* Asked members that are arrays or objects get their type. */
    assert_int_equal(scan_usage(&r, "{\"ts\":[],\"user\":{\"a\":[1]},\"tool\":[{}]}"), 0);
    assert_int_equal(r.v[TS].type, JSONLINE_ARRAY);
    assert_int_equal(r.v[USER].type, JSONLINE_OBJECT);
    assert_int_equal(r.v[TOOL].type, JSONLINE_ARRAY);
    scanned_free(&r);

    /* Skipped parts are checked all the same. */
    REFUSED("{\"x\":[1,2,],\"ts\":\"a\"}");
    REFUSED("{\"x\":{\"a\" 1},\"ts\":\"a\"}");
    REFUSED("{\"x\":[01],\"ts\":\"a\"}");
    REFUSED("{\"x\":\"\\x\",\"ts\":\"a\"}");
    REFUSED("{\"x\":\"\\ud800\",\"ts\":\"a\"}");
    REFUSED("{\"x\":{\"a\":1,},\"ts\":\"a\"}");
    REFUSED("{\"x\":{1:1},\"ts\":\"a\"}");
    REFUSED("{\"x\":[1}");
    REFUSED("{\"x\":{\"a\":1]}");
}

static void test_numbers(void **state)
{
    (void)state;
    static const char *const nums[] = {
        "-0",       "1.5e-3", "1E+2",       "0.1234567", "0",   "-1",
        "10",       "0e0",    "-0.0",       "2E-0",      "1e5", "123456789012345678901234567890",
        "1.0E+308", "1e999",  "-12.34e+56",
    };
    static const char *const name[] = {"n"};
    struct scanned r;
    char line[128];
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
        int k = snprintf(line, sizeof line, "{\"n\":%s}", nums[i]);
        assert_int_equal(scan_n(&r, line, (size_t)k, name, 1), 0);
        assert_num(&r, 0, nums[i]);
        assert_ptr_equal(r.v[0].s, r.line + 5);
        scanned_free(&r);
        /* The same number with white space after it, inside an array and at the end. */
        k = snprintf(line, sizeof line, "{\"n\" : %s ,\"a\":[%s]}", nums[i], nums[i]);
        assert_int_equal(scan_n(&r, line, (size_t)k, name, 1), 0);
        assert_num(&r, 0, nums[i]);
        scanned_free(&r);
    }
    static const char *const bad[] = {
        "01",   "-01", "00",    "1.",   "-1.",  ".5",       "+1",  "-",         "1e",  "1e+", "1E-",
        "1.e5", "--1", "1.5.2", "0x10", "1e5e", "Infinity", "NaN", "-Infinity", "1 2", "0.",  "- 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int k = snprintf(line, sizeof line, "{\"n\":%s}", bad[i]);
        expect_refused(line, (size_t)k);
        k = snprintf(line, sizeof line, "{\"a\":[%s]}", bad[i]);
        expect_refused(line, (size_t)k);
    }
}

static void test_empty_and_ws(void **state)
{
    (void)state;
    struct scanned r;
    static const char *const empty[] = {"{}", " { } ", "\t{\r\n}\r", "{}\r\n", "\n\n{}"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        assert_int_equal(scan_usage(&r, empty[i]), 0);
        for (int j = TS; j < NUSAGE; j++)
            assert_int_equal(r.v[j].type, JSONLINE_ABSENT);
        scanned_free(&r);
    }

    /* White space wherever the grammar allows it, and a CRLF line. */
    assert_int_equal(scan_usage(&r, " \t{ \"ts\" \t:\r\n \"a\" , \"user\" : [ 1 , { \"k\" : "
                                    "[ ] } ] , \"minutes\"\t:\t-2.5\t, \"outcome\" :null }\t \r"),
                     0);
    assert_str(&r, TS, "a");
    assert_int_equal(r.v[USER].type, JSONLINE_ARRAY);
    assert_num(&r, MINUTES, "-2.5");
    assert_int_equal(r.v[OUTCOME].type, JSONLINE_NULL);
    scanned_free(&r);
    assert_int_equal(scan_usage(&r, "{\"ts\":\"a\",\"tool\":\"b\"}\r"), 0);
    assert_str(&r, TOOL, "b");
    scanned_free(&r);

    /* Only space, tab, LF and CR are white space. */
    REFUSED("{}\f");
    REFUSED("\v{}");
    REFUSED("{\xc2\xa0}");
    REFUSED("{} \x00");
    REFUSED("\xef\xbb\xbf{}"); /* a BOM */
}

static void test_literals(void **state)
{
    (void)state;
    struct scanned r;
    assert_int_equal(
        scan_usage(&r, "{\"ts\":null,\"user\":true,\"tool\":false,\"event\":[null,true,false]}"),
        0);
    assert_int_equal(r.v[TS].type, JSONLINE_NULL);
    assert_int_equal(r.v[USER].type, JSONLINE_TRUE);
    assert_int_equal(r.v[TOOL].type, JSONLINE_FALSE);
    assert_int_equal(r.v[EVENT].type, JSONLINE_ARRAY);
    assert_int_equal(r.v[MINUTES].type, JSONLINE_ABSENT);
    assert_int_equal(r.v[OUTCOME].type, JSONLINE_ABSENT);
    scanned_free(&r);
    static const char *const bad[] = {"nul", "nulll", "tru", "True",  "FALSE",     "NULL", "nil",
                                      "t",   "fals",  "abc", "truex", "undefined", "'a'"};
    char line[64];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int k = snprintf(line, sizeof line, "{\"ts\":%s}", bad[i]);
        expect_refused(line, (size_t)k);
    }
    REFUSED("{\"ts\":\"a\",x:1}");
    REFUSED("{ts:\"a\"}");
}

static void test_refused(void **state)
{
    (void)state;
    REFUSED("{\"ts\":\"a\",}");             /* trailing comma in the object */
    REFUSED("{\"a\":[1,2,],\"ts\":\"a\"}"); /* and in an array */
    REFUSED("{\"a\":[,]}");
    REFUSED("{\"a\":[,1]}");
    REFUSED("{,}");
    REFUSED("{,\"a\":1}");
    REFUSED("{\"a\":1,,\"b\":2}");
    REFUSED("{\"a\" 1}"); /* missing colon */
    REFUSED("{\"a\"}");
    REFUSED("{\"a\":}");
    REFUSED("{\"a\"::1}");
    REFUSED("{\"a\":1 \"b\":2}"); /* missing comma */
    REFUSED("{\"ts\":\"abc}");    /* unterminated string */
    REFUSED("{\"ts\":\"abc");
    REFUSED("{\"ts\":\"abc\\\"}");
    REFUSED("{\"ts\":\"a\\");
    REFUSED("{\"ts");
    REFUSED("{\"ts\":\"a\tb\"}"); /* raw control characters */
    REFUSED("{\"ts\":\"a\nb\"}");
    REFUSED("{\"ts\":\"a\x1f\"}");
    REFUSED("{\"ts\":\"a\x00\"}");
    REFUSED("{\"t\ts\":\"a\"}");
    REFUSED("{\"ts\":\"\\ud800\"}"); /* lone high surrogate */
    REFUSED("{\"ts\":\"\\ud800x\"}");
    REFUSED("{\"ts\":\"\\udbff\\u0041\"}"); /* high then not a low */
    REFUSED("{\"ts\":\"\\ud800\\ud800\"}");
    REFUSED("{\"ts\":\"\\ud800\\n\"}");
    REFUSED("{\"ts\":\"\\ud800\\u\"}");
    REFUSED("{\"ts\":\"\\udc00\"}"); /* lone low surrogate */
    REFUSED("{\"ts\":\"\\udfff\\ud800\"}");
    REFUSED("{\"ts\":\"\\u0000\"}"); /* never a NUL */
    REFUSED("{\"t\\u0000s\":1}");
    REFUSED("{\"ts\":\"\\x41\"}"); /* bad escapes */
    REFUSED("{\"ts\":\"\\a\"}");
    REFUSED("{\"ts\":\"\\U0041\"}");
    REFUSED("{\"ts\":\"\\'\"}");
    REFUSED("{\"ts\":\"\\ \"}");
    REFUSED("{\"ts\":\"\\u41\"}"); /* short \u escapes */
    REFUSED("{\"ts\":\"\\u004\"}");
    REFUSED("{\"ts\":\"\\u004g\"}");
    REFUSED("{\"ts\":\"\\u");
    REFUSED("{\"ts\":\"\\u00");
    REFUSED("{\"ts\":\"\\ud83d\\ude0\"}");
    REFUSED("{\"ts\":\"\\ud83d\\ude0");
    REFUSED("{\"ts\":\"\\ud83d\\");
    REFUSED("{\"ts\":\"\\u+041\"}");
    REFUSED("{\"ts\":\"\xc3\x28\"}"); /* invalid UTF-8, in a string and outside */
    REFUSED("{\"ts\":\"\xc0\x80\"}"); /* overlong NUL */
    REFUSED("{\"ts\":\"\xc1\xbf\"}"); /* overlong */
    REFUSED("{\"ts\":\"\xe0\x80\xaf\"}");
    REFUSED("{\"ts\":\"\xf0\x80\x80\xaf\"}");
    REFUSED("{\"ts\":\"\xed\xa0\x80\"}"); /* the UTF-8 form of U+D800 */
    REFUSED("{\"ts\":\"\xed\xbf\xbf\"}");
    REFUSED("{\"ts\":\"\xf4\x90\x80\x80\"}"); /* past U+10FFFF */
    REFUSED("{\"ts\":\"\xf8\x88\x80\x80\x80\"}");
    REFUSED("{\"ts\":\"\x80\"}");
    REFUSED("{\"ts\":\"\xff\"}");
    REFUSED("{\"ts\":\"\xc3\"}");
    REFUSED("{\"ts\":\"\xe2\x82\"}");
    REFUSED("{\"ts\":\"a\"}\xc3");
    REFUSED("{\"ts\":\"a\"} \xff");
    REFUSED("{\"a\":1\x00}"); /* a NUL byte after a number or literal (jansson takes these) */
    REFUSED("{\"a\":true\x00}");
    REFUSED("{\"ts\":\"a\"}x"); /* trailing garbage */
    REFUSED("{\"ts\":\"a\"},");
    REFUSED("{\"ts\":\"a\"}}");
    REFUSED("{\"ts\":\"a\"}]");
    REFUSED("{\"ts\":\"a\"} 1");
    REFUSED("{}{}"); /* two objects on one line */
    REFUSED("{\"ts\":\"a\"} {\"ts\":\"b\"}");
    REFUSED("{\"ts\":\"a\"}\n{\"ts\":\"b\"}");
    REFUSED("[]"); /* not an object */
    REFUSED("[{\"ts\":\"a\"}]");
    REFUSED("\"ts\"");
    REFUSED("1");
    REFUSED("null");
    REFUSED(""); /* empty and blank lines */
    REFUSED(" ");
    REFUSED("\r");
    REFUSED("{");
    REFUSED("}");
    REFUSED("{\"ts\":\"a\"");
    REFUSED("{\"ts\":\"a\",");
    REFUSED("{\"ts\":");
    REFUSED("{\"ts\":[");
    REFUSED("{\"ts\":[1");
    REFUSED("{\"ts\":{");
    REFUSED("{\"ts\":{\"a\"");
    REFUSED("{\"ts\":-");
    REFUSED("{\"ts\":1.");
    REFUSED("{\"ts\":1e");
    REFUSED("{\"ts\":tr");
    REFUSED("{'ts':'a'}");
    REFUSED("{\"ts\":\"a\"/*c*/}");
}

/* "{\"a\":" + depth (>= 1) levels of nesting + "}": the member value is at depth 1, so depth
 * counts the arrays and objects from the member value inwards (the top-level object is
 * not counted). Objects when obj, else arrays; the innermost holds 1 when leaf. */
static char *nested(size_t depth, bool obj, bool leaf, size_t *len)
{
    char *s = xmalloc(16 + depth * 6);
    size_t n = 0;
    memcpy(s + n, "{\"a\":", 5);
    n += 5;
    for (size_t i = 0; i + 1 < depth; i++) {
        if (obj) {
            memcpy(s + n, "{\"a\":", 5);
            n += 5;
        } else {
            s[n++] = '[';
        }
    }
    s[n++] = obj ? '{' : '[';
    if (leaf) {
        memcpy(s + n, obj ? "\"a\":1" : "1", obj ? 5 : 1);
        n += obj ? 5 : 1;
    }
    for (size_t i = 0; i < depth; i++)
        s[n++] = obj ? '}' : ']';
    s[n++] = '}';
    *len = n;
    return s;
}

static void test_depth(void **state)
{
    (void)state;
    struct scanned r;
    static const char *const name[] = {"a"};
    size_t len;
    char *s;
    for (int obj = 0; obj < 2; obj++) {
        for (int leaf = 0; leaf < 2; leaf++) {
            for (size_t d = 1; d <= JSONLINE_MAX_DEPTH + 2; d++) {
                s = nested(d, obj, leaf, &len);
                int want = d <= JSONLINE_MAX_DEPTH ? 0 : -EINVAL;
                if (scan_n(&r, s, len, name, 1) != want)
                    fail_msg("depth %zu (%s, leaf %d): rc %d, want %d: %.*s", d,
                             obj ? "objects" : "arrays", leaf, r.rc, want, (int)len, s);
                if (!want)
                    assert_int_equal(r.v[0].type, obj ? JSONLINE_OBJECT : JSONLINE_ARRAY);
                scanned_free(&r);
                xfree(s);
            }
        }
    }
    /* Spot checks by hand: depth 2 is [[1]] or {"a":{"a":1}} as the member value. */
    s = nested(2, false, true, &len);
    assert_bytes_equal(s, len, "{\"a\":[[1]]}");
    xfree(s);
    s = nested(2, true, true, &len);
    assert_bytes_equal(s, len, "{\"a\":{\"a\":{\"a\":1}}}");
    xfree(s);
    s = nested(1, true, false, &len);
    assert_bytes_equal(s, len, "{\"a\":{}}");
    xfree(s);

    /* Mixed nesting: 64 levels alternating, then one more; depth is not reset by siblings. */
    char buf[512];
    for (size_t extra = 0; extra < 2; extra++) {
        size_t d = JSONLINE_MAX_DEPTH + extra, n = 0;
        n += (size_t)sprintf(buf + n, "{\"x\":[[]],\"a\":");
        for (size_t i = 0; i < d; i++)
            n += (size_t)sprintf(buf + n, i % 2 ? "{\"k\":" : "[");
        buf[n++] = '0';
        for (size_t i = d; i-- > 0;)
            buf[n++] = i % 2 ? '}' : ']';
        n += (size_t)sprintf(buf + n, ",\"y\":{}}");
        assert_int_equal(scan_n(&r, buf, n, name, 1), extra ? -EINVAL : 0);
        scanned_free(&r);
    }

    /* Far too deep must not overflow the stack either. */
    s = nested(100000, false, true, &len);
    assert_int_equal(scan_n(&r, s, len, name, 1), -EINVAL);
    scanned_free(&r);
    xfree(s);
}

/* A line of nothing but long escaped strings, asked for (twice over) and not: every
 * decoded copy is kept and all must fit in len bytes of scratch (ASan checks the bound). */
static void test_scratch_bound(void **state)
{
    (void)state;
    static const char *const esc[] = {"\\n", "\\u00e9", "\\u20ac", "\\ud83d\\ude00",
                                      "\\/", "\\u0041"};
    static const char *const dec[] = {"\n", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                      "/",  "A"};
    static const char *const names[] = {"\xc3\xa9", "ts", "user", "tool", "event", "outcome"};
    const size_t reps = 300;
    size_t cap = 64 + 2 * 6 * (reps * 12 + 32);
    char *line = xmalloc(cap);
    char *want = xmalloc(reps * 4 + 1);
    size_t n = 0;
    line[n++] = '{';
    for (int round = 0; round < 2; round++) {
        for (size_t k = 0; k < 6; k++) {
            /* Names are escaped too: "\u00e9", "\u0074s", ... */
            static const char *const ename[] = {"\\u00e9",    "\\u0074s",    "\\u0075ser",
                                                "t\\u006fol", "\\u0065vent", "outcom\\u0065"};
            n += (size_t)sprintf(line + n, "%s\"%s\":\"", n > 1 ? "," : "", ename[k]);
            for (size_t i = 0; i < reps; i++) {
                size_t l = strlen(esc[(k + i + round) % 6]);
                memcpy(line + n, esc[(k + i + round) % 6], l);
                n += l;
            }
            line[n++] = '"';
        }
    }
    line[n++] = '}';
    assert_true(n <= cap);

    struct scanned r;
    assert_int_equal(scan_n(&r, line, n, names, 6), 0);
    for (size_t k = 0; k < 6; k++) {
        size_t m = 0;
        for (size_t i = 0; i < reps; i++) {
            const char *d = dec[(k + i + 1) % 6]; /* the second round wins */
            memcpy(want + m, d, strlen(d));
            m += strlen(d);
        }
        want[m] = '\0';
        assert_int_equal(r.v[k].type, JSONLINE_STRING);
        assert_true(in_scratch(&r, &r.v[k]));
        assert_bytes_equal(r.v[k].s, r.v[k].len, want);
    }
    scanned_free(&r);

    /* The tightest case: one string whose decoded form is as long as it can be. */
    const char *tight = "{\"ts\":\"\\\"\"}";
    assert_int_equal(scan_n(&r, tight, strlen(tight), names + 1, 1), 0);
    assert_str(&r, 0, "\"");
    assert_ptr_equal(r.v[0].s, r.scratch);
    scanned_free(&r);
    xfree(line);
    xfree(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_members), cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_escaped_names), cmocka_unit_test(test_twice),
        cmocka_unit_test(test_skipped),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_empty_and_ws),  cmocka_unit_test(test_literals),
        cmocka_unit_test(test_refused),       cmocka_unit_test(test_depth),
        cmocka_unit_test(test_scratch_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
