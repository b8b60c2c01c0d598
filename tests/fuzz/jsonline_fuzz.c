/* jsonline_fuzz.c - libFuzzer target for common/jsonline, differential against jansson.
 *
 * The input is one line. jsonline_scan asks for the usage names, "a" and "t" (names must be
 * distinct and non-empty); json_loadb(data, size, 0) reads the same bytes. Checked:
 *  (a) jansson returns an object: jsonline accepts it, unless the text nests deeper than
 *      JSONLINE_MAX_DEPTH (the top-level object's member values at depth 1), which jsonline
 *      must refuse. Each asked name has the type jansson gives its member (absent, null,
 *      true, false, number, string, array, object); a string is byte-equal to
 *      json_string_value / json_string_length; a number's text, read by strtod, equals
 *      json_number_value.
 *  (b) jsonline accepts: jansson returns an object too, unless jansson refuses an integer
 *      past int64 ("too big integer", "too big negative integer") or a real past a double
 *      ("real number overflow"); jsonline takes those as number text, which is documented.
 *      Both refuse "\u0000" (jansson without JSON_ALLOW_NUL).
 *  (c) a NUL byte is nowhere valid JSON, so a line holding one is refused, and jansson is
 *      not asked: jansson 2.14 skips a NUL byte that directly follows a number or a literal
 *      (its one-byte lookahead buffer takes the NUL as "empty" after an unget) and accepts
 *      {"a":1<NUL>} (tests/fuzz/regress/jsonline_fuzz/nul_after_number).
 * Also: the return is 0 or -EINVAL; a value points into the input or into scratch (exactly
 * size bytes, so ASan catches a scratch overrun) and never past either; a number's text is
 * a JSON number.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/jsonline.h"

static const char *const names[] = {"ts", "user", "tool", "event", "minutes", "outcome", "a", "t"};
#define NNAMES (sizeof names / sizeof *names)

static const char *type_name(enum jsonline_type t)
{
    static const char *const n[] = {"absent", "null",   "false", "true",
                                    "number", "string", "array", "object"};
    return (unsigned)t < sizeof n / sizeof *n ? n[t] : "?";
}

static _Noreturn void fail(const char *what, const char *name, const uint8_t *data, size_t size)
{
    fprintf(stderr, "jsonline_fuzz: %s%s%s%s (line of %zu bytes: \"%.*s\")\n", what,
            name ? " (member \"" : "", name ? name : "", name ? "\")" : "", size,
            size > 200 ? 200 : (int)size, (const char *)data);
    abort();
}

/* The deepest nesting of arrays and objects inside the top-level object of a text that
 * jansson accepted (so brackets inside strings are the only trap). */
static size_t nesting(const uint8_t *p, size_t n)
{
    size_t d = 0, max = 0;
    bool str = false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '[' || c == '{') {
            if (++d > max)
                max = d;
        } else if (c == ']' || c == '}') {
            d--;
        }
    }
    return max ? max - 1 : 0;
}

/* True when p[0..n) is exactly -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool json_number_text(const char *p, size_t n)
{
    size_t i = 0;
    if (i < n && p[i] == '-')
        i++;
    if (i >= n || p[i] < '0' || p[i] > '9')
        return false;
    if (p[i++] != '0')
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    if (i < n && p[i] == '.') {
        if (++i >= n || p[i] < '0' || p[i] > '9')
            return false;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || p[i] < '0' || p[i] > '9')
            return false;
        while (i < n && p[i] >= '0' && p[i] <= '9')
            i++;
    }
    return i == n;
}

static bool within(const char *s, size_t len, const char *base, size_t size)
{
    return s >= base && s <= base + size && len <= (size_t)(base + size - s);
}

/* One asked member: jsonline's value v against jansson's j (NULL: absent). */
static void compare(const struct jsonline_value *v, const json_t *j, const char *name,
                    const uint8_t *data, size_t size)
{
    enum jsonline_type want;
    switch (j ? json_typeof(j) : -1) {
    case -1: want = JSONLINE_ABSENT; break;
    case JSON_OBJECT: want = JSONLINE_OBJECT; break;
    case JSON_ARRAY: want = JSONLINE_ARRAY; break;
    case JSON_STRING: want = JSONLINE_STRING; break;
    case JSON_INTEGER:
    case JSON_REAL: want = JSONLINE_NUMBER; break;
    case JSON_TRUE: want = JSONLINE_TRUE; break;
    case JSON_FALSE: want = JSONLINE_FALSE; break;
    case JSON_NULL: want = JSONLINE_NULL; break;
    default: fail("jansson gave an unknown type", name, data, size);
    }
    if (v->type != want) {
        char msg[96];
        snprintf(msg, sizeof msg, "type %s, jansson has %s", type_name(v->type), type_name(want));
        fail(msg, name, data, size);
    }
    if (want == JSONLINE_STRING) {
        size_t jl = json_string_length(j);
        if (v->len != jl || memcmp(v->s, json_string_value(j), jl) != 0) {
            fprintf(stderr, "jsonline_fuzz: jsonline \"%.*s\" (%zu bytes), jansson \"%s\" (%zu)\n",
                    (int)v->len, v->s, v->len, json_string_value(j), jl);
            fail("string differs from jansson's", name, data, size);
        }
    } else if (want == JSONLINE_NUMBER) {
        char buf[512];
        double mine;
        if (v->len < sizeof buf) {
            memcpy(buf, v->s, v->len);
            buf[v->len] = '\0';
            mine = strtod(buf, NULL);
        } else {
            char *big = malloc(v->len + 1);
            memcpy(big, v->s, v->len);
            big[v->len] = '\0';
            mine = strtod(big, NULL);
            free(big);
        }
        if (mine != json_number_value(j)) {
            fprintf(stderr, "jsonline_fuzz: text \"%.*s\" is %.17g, jansson has %.17g\n",
                    (int)v->len, v->s, mine, json_number_value(j));
            fail("number differs from jansson's", name, data, size);
        }
    }
}

/* jansson's refusals that jsonline may accept: numbers jansson cannot hold. */
static bool known_difference(const json_error_t *err)
{
    return json_error_code(err) == json_error_numeric_overflow &&
           (strstr(err->text, "too big integer") || strstr(err->text, "too big negative integer") ||
            strstr(err->text, "real number overflow"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    char *scratch = malloc(size ? size : 1);
    struct jsonline_value v[NNAMES];
    int rc = jsonline_scan(line, size, names, NNAMES, v, scratch);
    if (rc != 0 && rc != -EINVAL)
        fail("returned neither 0 nor -EINVAL", NULL, data, size);

    if (rc == 0) {
        for (size_t i = 0; i < NNAMES; i++) {
            const struct jsonline_value *x = &v[i];
            if ((unsigned)x->type > JSONLINE_OBJECT)
                fail("type out of range", names[i], data, size);
            if (x->type != JSONLINE_STRING && x->type != JSONLINE_NUMBER)
                continue;
            if (!within(x->s, x->len, line, size) && !within(x->s, x->len, scratch, size))
                fail("value neither in the line nor in scratch", names[i], data, size);
            if (x->type == JSONLINE_NUMBER &&
                (!within(x->s, x->len, line, size) || !json_number_text(x->s, x->len)))
                fail("number text is not a JSON number from the line", names[i], data, size);
            if (x->type == JSONLINE_STRING && memchr(x->s, '\0', x->len))
                fail("string holds a NUL byte", names[i], data, size);
        }
    }

    if (memchr(data, '\0', size)) {
        if (rc == 0)
            fail("accepted a line holding a NUL byte", NULL, data, size);
        free(scratch);
        return 0;
    }

    json_error_t err;
    json_t *root = json_loadb(line, size, 0, &err);
    if (root && json_is_object(root)) {
        bool too_deep = nesting(data, size) > JSONLINE_MAX_DEPTH;
        if (too_deep && rc == 0)
            fail("accepted nesting past JSONLINE_MAX_DEPTH", NULL, data, size);
        if (!too_deep && rc != 0)
            fail("refused an object jansson accepts", NULL, data, size);
        if (rc == 0)
            for (size_t i = 0; i < NNAMES; i++)
                compare(&v[i], json_object_get(root, names[i]), names[i], data, size);
    } else if (rc == 0) {
        if (root)
            fail("accepted what jansson reads as an array", NULL, data, size);
        if (!known_difference(&err)) {
            fprintf(stderr, "jsonline_fuzz: jansson: %s (line %d, column %d, position %d)\n",
                    err.text, err.line, err.column, err.position);
            fail("accepted a line jansson refuses", NULL, data, size);
        }
    }
    json_decref(root);
    free(scratch);
    return 0;
}
