/* opttab_test.c - option tables: defaults, every kind with its limits, messages, help. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>

#include "common/decimal.h"
#include "common/opttab.h"
#include "common/xalloc.h"

struct demo {
    char *str, *nonempty, *ident, *url, *listen;
    int64_t count, ratio;
    uint64_t size;
    bool flag;
    int mode;
    char **list;
    int custom; /* set by set_custom: the length of the text */
};

static int set_custom(void *obj, const char *v, const char **why)
{
    if (strlen(v) > 3) {
        *why = "must be at most 3 bytes";
        return -EINVAL;
    }
    ((struct demo *)obj)->custom = (int)strlen(v);
    return 0;
}

static const struct opt_choice modes[] = {{"fast", 7}, {"safe", 8}, {"slow", 9}, {NULL, 0}};

#define O(f) offsetof(struct demo, f)
static const struct opt rows[] = {
    {"str", OPT_STR, NULL, O(str), 0, 0, true, .help = "any text"},
    {"nonempty", OPT_NONEMPTY, "x", O(nonempty), 0, 0, false, .help = "not empty"},
    {"ident", OPT_IDENT, "a-1", O(ident), 0, 0, false, .help = "an id"},
    {"url", OPT_URL, NULL, O(url), 0, 0, false, .help = "a URL"},
    {"listen", OPT_LISTEN, "off", O(listen), 0, 0, false, .help = "host:port"},
    {"count", OPT_INT, "5", O(count), -3, 10, false, .help = "a count"},
    {"ratio", OPT_DEC, "0.25", O(ratio), 0, MICRO, false, .help = "a ratio"},
    {"size", OPT_BYTES, "2KiB", O(size), 1024, 1 << 20, false, .help = "a size"},
    {"flag", OPT_BOOL, "true", O(flag), 0, 0, false, .help = "a flag"},
    {"mode", OPT_CHOICE, "safe", O(mode), 0, 0, false, .help = "fast, safe or slow",
     .choices = modes},
    {"list", OPT_LIST, "", O(list), 0, 0, false, .help = "comma-separated"},
    {"custom", OPT_FUNC, NULL, 0, 0, 0, false, .help = "three bytes", .set = set_custom},
    {"size2", OPT_BYTES, NULL, O(size), 1024, INT64_MAX, false, .help = "own message",
     .why = "must be a size such as 16MiB"},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};
#undef O

static const struct opttab tab = {.section = "demo", .rows = rows, .repeat_cites_first = true};

/* Sets key to value on d; returns the result and leaves the message in err. */
static int set1(struct demo *d, const char *key, const char *value, char *err, size_t errlen)
{
    const struct opt *o = opttab_find(rows, key);
    assert_non_null(o);
    err[0] = '\0';
    return opttab_set_value(o, d, value, err, errlen);
}

static void test_defaults(void **state)
{
    (void)state;
    struct demo d = {0};
    assert_int_equal(opttab_defaults(rows, &d), 0);
    assert_null(d.str);
    assert_string_equal(d.nonempty, "x");
    assert_string_equal(d.ident, "a-1");
    assert_null(d.url);
    assert_null(d.listen); /* "off" */
    assert_int_equal(d.count, 5);
    assert_int_equal(d.ratio, 250000); /* 0.25 in millionths */
    assert_int_equal(d.size, 2048);    /* 2 * 1024 */
    assert_true(d.flag);
    assert_int_equal(d.mode, 8);
    assert_non_null(d.list);
    assert_null(d.list[0]);
    assert_int_equal(d.custom, 0);
    opttab_free(rows, &d);
    assert_null(d.nonempty);
    assert_null(d.list);
    opttab_free(rows, &d); /* twice is harmless */
}

/* Every kind: accepted texts with the value kept, refused texts with the message. */
static void test_kinds(void **state)
{
    (void)state;
    struct demo d = {0};
    char err[256];
    assert_int_equal(opttab_defaults(rows, &d), 0);

    assert_int_equal(set1(&d, "str", "hello world", err, sizeof err), 0);
    assert_string_equal(d.str, "hello world");
    assert_int_equal(set1(&d, "str", "", err, sizeof err), 0);
    assert_null(d.str);

    assert_int_equal(set1(&d, "nonempty", "", err, sizeof err), -EINVAL);
    assert_string_equal(err, "nonempty must not be empty");
    assert_string_equal(d.nonempty, "x");

    assert_int_equal(set1(&d, "ident", "web-01.a_b", err, sizeof err), 0);
    assert_string_equal(d.ident, "web-01.a_b");
    assert_int_equal(set1(&d, "ident", "Web", err, sizeof err), -EINVAL);
    assert_string_equal(err, "ident must be 1 to 64 characters of [a-z0-9._-]");
    assert_int_equal(set1(&d, "ident", "", err, sizeof err), -EINVAL);

    assert_int_equal(set1(&d, "url", "https://agg:9470//", err, sizeof err), 0);
    assert_string_equal(d.url, "https://agg:9470");
    assert_int_equal(set1(&d, "url", "http://h", err, sizeof err), 0);
    assert_string_equal(d.url, "http://h");
    assert_int_equal(set1(&d, "url", "ftp://h", err, sizeof err), -EINVAL);
    assert_string_equal(err, "url must start with http:// or https://");

    assert_int_equal(set1(&d, "listen", "127.0.0.1:9101", err, sizeof err), 0);
    assert_string_equal(d.listen, "127.0.0.1:9101");
    assert_int_equal(set1(&d, "listen", "[::1]:65535", err, sizeof err), 0);
    assert_int_equal(set1(&d, "listen", "", err, sizeof err), 0);
    assert_null(d.listen);
    static const char *const bad_listen[] = {"host", "h:", "h:0", "h:65536", "h:8x"};
    for (size_t i = 0; i < sizeof bad_listen / sizeof *bad_listen; i++) {
        assert_int_equal(set1(&d, "listen", bad_listen[i], err, sizeof err), -EINVAL);
        assert_string_equal(err, "listen must be host:port or off");
    }

    /* Ints: both ends of [-3, 10] and one past each. */
    assert_int_equal(set1(&d, "count", "-3", err, sizeof err), 0);
    assert_int_equal(d.count, -3);
    assert_int_equal(set1(&d, "count", "10", err, sizeof err), 0);
    assert_int_equal(d.count, 10);
    static const char *const bad_int[] = {"11", "-4", "", "5x", "1.0", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_int / sizeof *bad_int; i++) {
        assert_int_equal(set1(&d, "count", bad_int[i], err, sizeof err), -EINVAL);
        assert_string_equal(err, "count must be a whole number from -3 to 10");
    }
    assert_int_equal(d.count, 10);

    /* Decimals in millionths, [0, 1]. */
    assert_int_equal(set1(&d, "ratio", "1", err, sizeof err), 0);
    assert_int_equal(d.ratio, MICRO);
    assert_int_equal(set1(&d, "ratio", "0.0000005", err, sizeof err), 0);
    assert_int_equal(d.ratio, 1); /* half a millionth rounds away from zero */
    assert_int_equal(set1(&d, "ratio", "1.000001", err, sizeof err), -EINVAL);
    assert_string_equal(err, "ratio must be a decimal number in range");
    assert_int_equal(set1(&d, "ratio", "-0.1", err, sizeof err), -EINVAL);

    /* Sizes: 1KiB = 1024 is the floor, 1MiB = 1048576 the ceiling. */
    assert_int_equal(set1(&d, "size", "1KiB", err, sizeof err), 0);
    assert_int_equal(d.size, 1024);
    assert_int_equal(set1(&d, "size", "1MiB", err, sizeof err), 0);
    assert_int_equal(d.size, 1048576);
    static const char *const bad_size[] = {"1023", "1048577", "1GiB", "1 KiB", "1kb", "-1"};
    for (size_t i = 0; i < sizeof bad_size / sizeof *bad_size; i++) {
        assert_int_equal(set1(&d, "size", bad_size[i], err, sizeof err), -EINVAL);
        assert_string_equal(err, "size must be a size (suffixes KiB, MiB, GiB)");
    }
    assert_int_equal(set1(&d, "size2", "1", err, sizeof err), -EINVAL);
    assert_string_equal(err, "size2 must be a size such as 16MiB");

    static const struct {
        const char *text;
        bool want;
    } bools[] = {{"true", true},   {"YES", true}, {"On", true},   {"1", true},
                 {"false", false}, {"no", false}, {"OFF", false}, {"0", false}};
    for (size_t i = 0; i < sizeof bools / sizeof *bools; i++) {
        d.flag = !bools[i].want;
        assert_int_equal(set1(&d, "flag", bools[i].text, err, sizeof err), 0);
        assert_int_equal(d.flag, bools[i].want);
    }
    assert_int_equal(set1(&d, "flag", "y", err, sizeof err), -EINVAL);
    assert_string_equal(err, "flag must be true or false");

    assert_int_equal(set1(&d, "mode", "slow", err, sizeof err), 0);
    assert_int_equal(d.mode, 9);
    assert_int_equal(set1(&d, "mode", "Fast", err, sizeof err), -EINVAL);
    assert_string_equal(err, "mode must be fast, safe or slow");
    assert_int_equal(d.mode, 9);

    assert_int_equal(set1(&d, "list", " a , ,b c,, d ", err, sizeof err), 0);
    assert_string_equal(d.list[0], "a");
    assert_string_equal(d.list[1], "b c");
    assert_string_equal(d.list[2], "d");
    assert_null(d.list[3]);
    assert_int_equal(set1(&d, "list", ",", err, sizeof err), 0);
    assert_null(d.list[0]);

    assert_int_equal(set1(&d, "custom", "abc", err, sizeof err), 0);
    assert_int_equal(d.custom, 3);
    assert_int_equal(set1(&d, "custom", "abcd", err, sizeof err), -EINVAL);
    assert_string_equal(err, "custom must be at most 3 bytes");
    opttab_free(rows, &d);
}

static void test_set_messages(void **state)
{
    (void)state;
    struct demo d = {0};
    struct opttab_seen seen = {0};
    char err[256];
    assert_int_equal(opttab_set(&tab, &d, &seen, "count", "7", 4, err, sizeof err), 0);
    assert_int_equal(d.count, 7);
    assert_int_equal(seen.line[5], 4); /* count is row 5 */
    assert_int_equal(opttab_set(&tab, &d, &seen, "count", "8", 9, err, sizeof err), -EEXIST);
    assert_string_equal(err, "key 'count' repeated in [demo] (first on line 4)");
    assert_int_equal(d.count, 7);
    const struct opttab terse = {.section = "demo", .rows = rows};
    assert_int_equal(opttab_set(&terse, &d, &seen, "count", "8", 9, err, sizeof err), -EEXIST);
    assert_string_equal(err, "key 'count' repeated in [demo]");
    assert_int_equal(opttab_set(&tab, &d, &seen, "cuont", "8", 9, err, sizeof err), -ENOENT);
    assert_string_equal(err, "unknown key 'cuont' in [demo]");
    assert_int_equal(opttab_set(&tab, &d, &seen, "flag", "maybe", 10, err, sizeof err), -EINVAL);
    assert_string_equal(err, "flag must be true or false");
    /* A refused value still counts as given: the next one is a repeat. */
    assert_int_equal(opttab_set(&tab, &d, &seen, "flag", "true", 11, err, sizeof err), -EEXIST);
    assert_string_equal(err, "key 'flag' repeated in [demo] (first on line 10)");

    assert_int_equal(opttab_check_required(&tab, &d, "f.ini", err, sizeof err), -EINVAL);
    assert_string_equal(err, "f.ini: [demo] str is required");
    d.str = xstrdup("s");
    assert_int_equal(opttab_check_required(&tab, &d, "f.ini", err, sizeof err), 0);
    opttab_free(rows, &d);
    assert_null(d.str);
}

/* The help names every key, once, with its default and its help. */
static void test_help(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    opttab_print_help(f, &tab);
    fclose(f);
    assert_memory_equal(text, "  [demo]\n", 9);
    assert_non_null(strstr(text, "\n    str                                           any text "
                                 "(required)\n"));
    assert_non_null(strstr(text, "\n    count                      5                  a count\n"));
    assert_non_null(strstr(text, "\n    mode                       safe               fast, safe "
                                 "or slow\n"));
    size_t nlines = 0;
    for (const char *p = text; *p; p++)
        nlines += *p == '\n';
    assert_int_equal(nlines, 1 + sizeof rows / sizeof *rows - 1);
    for (const struct opt *o = rows; o->key; o++) {
        char want[96];
        snprintf(want, sizeof want, "\n    %-26s %-18s %s", o->key, o->def ? o->def : "", o->help);
        assert_non_null(strstr(text, want));
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_set_messages),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
