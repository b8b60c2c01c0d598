/* jsonline.c - strict single-pass scanner of one JSON object; see jsonline.h. */
#include "common/jsonline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/strutil.h"

struct scan {
    const char *p, *end;
    char *scratch; /* decoded strings with escapes */
    size_t used;   /* bytes of scratch in use */
};

static void skip_ws(struct scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
        sc->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -EINVAL;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* One escape after the backslash at sc->p: the code point it stands for. */
static int escape(struct scan *sc, unsigned *cp)
{
    if (sc->end - sc->p < 2)
        return -EINVAL;
    char c = sc->p[1];
    sc->p += 2;
    switch (c) {
    case '"': *cp = '"'; return 0;
    case '\\': *cp = '\\'; return 0;
    case '/': *cp = '/'; return 0;
    case 'b': *cp = '\b'; return 0;
    case 'f': *cp = '\f'; return 0;
    case 'n': *cp = '\n'; return 0;
    case 'r': *cp = '\r'; return 0;
    case 't': *cp = '\t'; return 0;
    case 'u': break;
    default: return -EINVAL;
    }
    unsigned hi, lo;
    if (sc->end - sc->p < 4 || hex4(sc->p, &hi))
        return -EINVAL;
    sc->p += 4;
    if (hi == 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
        return -EINVAL;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (sc->end - sc->p < 6 || sc->p[0] != '\\' || sc->p[1] != 'u' || hex4(sc->p + 2, &lo) ||
            lo < 0xDC00 || lo > 0xDFFF)
            return -EINVAL;
        sc->p += 6;
        hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    *cp = hi;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at sc->p (the opening quote). When out is set, *out and *len get its text:
 * a span of the input when it has no escape, else a copy in scratch. */
static int string(struct scan *sc, const char **out, size_t *len)
{
    const char *start = ++sc->p;
    while (sc->p < sc->end) {
        unsigned char c = (unsigned char)*sc->p;
        if (c == '"') {
            if (out) {
                *out = start;
                *len = (size_t)(sc->p - start);
            }
            sc->p++;
            return 0;
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\')
            break;
        sc->p++;
    }
    if (sc->p >= sc->end)
        return -EINVAL;
    /* Escapes: decode from here on (the scratch copy is never longer than the input). */
    char *o = sc->scratch + sc->used;
    size_t n = (size_t)(sc->p - start);
    if (out)
        memcpy(o, start, n);
    while (sc->p < sc->end) {
        unsigned char c = (unsigned char)*sc->p;
        if (c == '"') {
            sc->p++;
            if (out) {
                *out = o;
                *len = n;
                sc->used += n;
            }
            return 0;
        }
        if (c < 0x20)
            return -EINVAL;
        if (c == '\\') {
            unsigned cp;
            if (escape(sc, &cp))
                return -EINVAL;
            if (out)
                n += put_utf8(o + n, cp);
            continue;
        }
        if (out)
            o[n] = (char)c;
        n++;
        sc->p++;
    }
    return -EINVAL;
}

static bool digit(const struct scan *sc)
{
    return sc->p < sc->end && *sc->p >= '0' && *sc->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct scan *sc)
{
    if (sc->p < sc->end && *sc->p == '-')
        sc->p++;
    if (!digit(sc))
        return -EINVAL;
    if (*sc->p++ != '0')
        while (digit(sc))
            sc->p++;
    if (sc->p < sc->end && *sc->p == '.') {
        sc->p++;
        if (!digit(sc))
            return -EINVAL;
        while (digit(sc))
            sc->p++;
    }
    if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
        sc->p++;
        if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
            sc->p++;
        if (!digit(sc))
            return -EINVAL;
        while (digit(sc))
            sc->p++;
    }
    return 0;
}

static int literal(struct scan *sc, const char *word, size_t n)
{
    if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n))
        return -EINVAL;
    sc->p += n;
    return 0;
}

static int value(struct scan *sc, int depth, struct jsonline_value *v);

/* An array or an object at sc->p, checked and skipped. */
static int container(struct scan *sc, int depth)
{
    if (depth > JSONLINE_MAX_DEPTH)
        return -EINVAL;
    bool obj = *sc->p == '{';
    char close = obj ? '}' : ']';
    sc->p++;
    skip_ws(sc);
    if (sc->p < sc->end && *sc->p == close) {
        sc->p++;
        return 0;
    }
    for (;;) {
        if (obj) {
            if (sc->p >= sc->end || *sc->p != '"' || string(sc, NULL, NULL))
                return -EINVAL;
            skip_ws(sc);
            if (sc->p >= sc->end || *sc->p != ':')
                return -EINVAL;
            sc->p++;
            skip_ws(sc);
        }
        if (value(sc, depth, NULL))
            return -EINVAL;
        skip_ws(sc);
        if (sc->p >= sc->end)
            return -EINVAL;
        if (*sc->p == close) {
            sc->p++;
            return 0;
        }
        if (*sc->p != ',')
            return -EINVAL;
        sc->p++;
        skip_ws(sc);
    }
}

/* Any value at sc->p; described in *v when v is set. */
static int value(struct scan *sc, int depth, struct jsonline_value *v)
{
    if (sc->p >= sc->end)
        return -EINVAL;
    const char *start = sc->p;
    enum jsonline_type t;
    int rc;
    switch (*sc->p) {
    case '"':
        if (v) {
            v->type = JSONLINE_STRING;
            return string(sc, &v->s, &v->len);
        }
        return string(sc, NULL, NULL);
    case '{': t = JSONLINE_OBJECT, rc = container(sc, depth + 1); break;
    case '[': t = JSONLINE_ARRAY, rc = container(sc, depth + 1); break;
    case 'n': t = JSONLINE_NULL, rc = literal(sc, "null", 4); break;
    case 't': t = JSONLINE_TRUE, rc = literal(sc, "true", 4); break;
    case 'f': t = JSONLINE_FALSE, rc = literal(sc, "false", 5); break;
    default: t = JSONLINE_NUMBER, rc = number(sc); break;
    }
    if (!rc && v) {
        v->type = t;
        v->s = start;
        v->len = (size_t)(sc->p - start);
    }
    return rc;
}

int jsonline_scan(const char *s, size_t len, const char *const *names, size_t n,
                  struct jsonline_value *vals, char *scratch)
{
    if (!str_is_utf8(s, len))
        return -EINVAL;
    struct scan sc = {.p = s, .end = s + len, .scratch = scratch};
    for (size_t i = 0; i < n; i++)
        vals[i] = (struct jsonline_value){.type = JSONLINE_ABSENT};
    skip_ws(&sc);
    if (sc.p >= sc.end || *sc.p != '{')
        return -EINVAL;
    sc.p++;
    skip_ws(&sc);
    if (sc.p < sc.end && *sc.p == '}') {
        sc.p++;
    } else {
        for (;;) {
            const char *name;
            size_t nlen, mark = sc.used;
            if (sc.p >= sc.end || *sc.p != '"' || string(&sc, &name, &nlen))
                return -EINVAL;
            size_t want = n;
            for (size_t i = 0; i < n && want == n; i++)
                if (nlen && names[i][0] == name[0] && strncmp(names[i], name, nlen) == 0 &&
                    names[i][nlen] == '\0')
                    want = i;
            sc.used = mark; /* the decoded name is not kept */
            skip_ws(&sc);
            if (sc.p >= sc.end || *sc.p != ':')
                return -EINVAL;
            sc.p++;
            skip_ws(&sc);
            if (value(&sc, 0, want < n ? &vals[want] : NULL))
                return -EINVAL;
            skip_ws(&sc);
            if (sc.p < sc.end && *sc.p == '}') {
                sc.p++;
                break;
            }
            if (sc.p >= sc.end || *sc.p != ',')
                return -EINVAL;
            sc.p++;
            skip_ws(&sc);
        }
    }
    skip_ws(&sc);
    return sc.p == sc.end ? 0 : -EINVAL;
}
