/* tokens_fuzz.c - libFuzzer target for aggregator/tokens: bearer tokens files.
 *
 * Byte 0 picks the kind (odd: agent tokens "id token", even: reader tokens "token"); the
 * rest is the file. A reference reading of the same text (lines split at '\n', cut at a
 * NUL byte, words split at space, tab and CR, '#' first word = comment) decides whether the
 * file is valid (for agent tokens, no token given to two different ids); tokens_load must
 * agree (an agent line with options after the token, types=.. sites=.. inherits=.., is
 * left to tokens_load: the unit test checks those rules), and then tokens_lookup of every token
 * must give the id of its first line ("" for readers), and of a token with one more byte nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/tokens.h"
#include "common/strutil.h"
#include "tests/fuzz/fuzz_file.h"

#define MAXW 3

struct line {
    const char *w[MAXW]; /* words, not NUL-terminated */
    size_t wl[MAXW];
    int nw; /* up to MAXW (MAXW means "too many") */
};

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "tokens_fuzz: %s: %s\n", what, detail);
    abort();
}

static int is_sep(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void split(const char *p, size_t n, struct line *l)
{
    const char *z = memchr(p, '\0', n);
    if (z)
        n = (size_t)(z - p);
    l->nw = 0;
    size_t i = 0;
    while (i < n && l->nw < MAXW) {
        while (i < n && is_sep(p[i]))
            i++;
        if (i == n)
            break;
        size_t s = i;
        while (i < n && !is_sep(p[i]))
            i++;
        l->w[l->nw] = p + s;
        l->wl[l->nw++] = i - s;
    }
}

/* The first line of text[0..end) (a comment or blank line never) whose token is tok; 1 and
 * *out when there is one. */
static int first_with_token(const char *text, size_t end, int with_ids, const char *tok, size_t tl,
                            struct line *out)
{
    for (size_t off = 0; off < end;) {
        const char *nl = memchr(text + off, '\n', end - off);
        size_t n = (nl ? (size_t)(nl - text) : end) - off;
        split(text + off, n, out);
        off += n + 1;
        if (out->nw == 0 || out->w[0][0] == '#' || out->nw <= with_ids)
            continue;
        if (out->wl[with_ids] == tl && memcmp(out->w[with_ids], tok, tl) == 0)
            return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    int with_ids = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *path = fz_file_write(data + 1, len);
    char err[512] = "";
    struct tokens *t = tokens_load(path, with_ids, err, sizeof err);

    /* The reference reading. */
    int valid = 1, decided = 1;
    for (size_t off = 0; off < len && valid;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = (nl ? (size_t)(nl - text) : len) - off;
        struct line l;
        split(text + off, n, &l);
        off += n + 1;
        if (l.nw == 0 || l.w[0][0] == '#')
            continue;
        if (with_ids && l.nw > 2 && l.nw == MAXW && str_is_ident(l.w[0], l.wl[0]))
            decided = 0; /* options after the token */
        else if (with_ids ? l.nw != 2 || !str_is_ident(l.w[0], l.wl[0]) : l.nw != 1)
            valid = 0;
        /* An agent token given before to another agent. */
        struct line o;
        if (valid && with_ids && first_with_token(text, off - n - 1, 1, l.w[1], l.wl[1], &o) &&
            (o.wl[0] != l.wl[0] || memcmp(o.w[0], l.w[0], l.wl[0])))
            valid = 0;
    }
    if (!t) {
        if (valid && decided)
            fail("a valid file refused", err);
        if (strncmp(err, path, strlen(path)) != 0)
            fail("error message does not start with the path", err);
        return 0;
    }
    if (!valid && decided)
        fail("an invalid file accepted", with_ids ? "agent tokens" : "reader tokens");
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = (nl ? (size_t)(nl - text) : len) - off;
        struct line l;
        split(text + off, n, &l);
        off += n + 1;
        if (l.nw == 0 || l.w[0][0] == '#')
            continue;
        const char *tok = l.w[with_ids], *want = with_ids ? l.w[0] : "";
        size_t tl = l.wl[with_ids], wl = with_ids ? l.wl[0] : 0;
        /* The first line with this token wins (for agents, the same agent's). */
        struct line l2;
        if (first_with_token(text, off - n - 1, with_ids, tok, tl, &l2))
            want = with_ids ? l2.w[0] : "", wl = with_ids ? l2.wl[0] : 0;
        const char *id = tokens_lookup(t, tok, tl);
        if (!id || strlen(id) != wl || memcmp(id, want, wl))
            fail("a token of the file does not give its id", id ? id : "(not found)");
        char longer[8200];
        memcpy(longer, tok, tl);
        longer[tl] = 'x';
        const char *id2 = tokens_lookup(t, longer, tl + 1);
        if (id2) {
            /* Only right when that longer token is itself in the file. */
            const char *p = memmem(text, len, longer, tl + 1);
            if (!p)
                fail("a token one byte too long is accepted", id2);
        }
    }
    tokens_free(t);
    return 0;
}
