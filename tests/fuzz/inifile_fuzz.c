/* inifile_fuzz.c - libFuzzer target for common/inifile: any file, no crash, honest values.
 *
 * The input is written to one scratch file (fuzz_file.h, rewritten for every input) and
 * parsed with a callback that accepts everything. Checked: the return is 0 or -EINVAL with
 * a message naming the path; line numbers are within the file and never go backwards; the
 * key and the value the callback sees are exactly those that inih's rules give for that
 * line of the input (so nothing was cut off); a line of INIFILE_MAX_LINE bytes or less is
 * never refused as too long. INIFILE_FUZZ_ALLOW_CUT=1 in the environment lets a line of
 * 199 or more bytes lose its end, to fuzz past that known finding (tests/fuzz/regress/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/inifile.h"
#include "tests/fuzz/fuzz_file.h"

struct run {
    const uint8_t *data;
    size_t size;
    int last_line;
};

static int allow_cut = -1; /* INIFILE_FUZZ_ALLOW_CUT=1 */

static void fail(const char *what, int line, const char *key, const char *value)
{
    fprintf(stderr, "inifile_fuzz: %s (line %d, key \"%s\", value \"%s\")\n", what, line,
            key ? key : "(null)", value ? value : "(null)");
    abort();
}

/* Finds line n (1-based) of the input; *len excludes the '\n'. NULL when there is none. */
static const char *line_span(const struct run *r, int n, size_t *len)
{
    const char *p = (const char *)r->data, *end = p + r->size;
    for (int i = 1; i < n; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL;
        p = nl + 1;
    }
    if (p == end && n > 1)
        return NULL;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    *len = (size_t)((nl ? nl : end) - p);
    return p;
}

/* As line_span, cut at the first NUL byte (C strings see nothing past it). */
static const char *nth_line(const struct run *r, int n, size_t *len)
{
    const char *p = line_span(r, n, len);
    const char *z = p ? memchr(p, '\0', *len) : NULL;
    if (z)
        *len = (size_t)(z - p);
    return p;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Trims [*p, *p + *n) of white space at both ends. */
static void trim(const char **p, size_t *n)
{
    while (*n && is_space(**p))
        (*p)++, (*n)--;
    while (*n && is_space((*p)[*n - 1]))
        (*n)--;
}

/* The key and value inih's rules give for a "key = value" line (BOM on line 1 skipped,
 * '=' or ':' separates, ';' after white space starts a comment, both sides trimmed).
 * Returns 0 when the line is not such a line. */
static int expect_kv(const char *t, size_t n, int line, const char **k, size_t *kl, const char **v,
                     size_t *vl)
{
    if (line == 1 && n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        t += 3, n -= 3;
    trim(&t, &n);
    size_t i = 0;
    int was_space = 0;
    for (; i < n && t[i] != '=' && t[i] != ':' && !(was_space && t[i] == ';'); i++)
        was_space = is_space(t[i]);
    if (i == n || t[i] == ';')
        return 0;
    *k = t, *kl = i;
    trim(k, kl);
    const char *val = t + i + 1;
    size_t j = 0, rest = n - i - 1;
    was_space = 0;
    for (; j < rest && !(was_space && val[j] == ';'); j++)
        was_space = is_space(val[j]);
    *v = val, *vl = j;
    trim(v, vl);
    return 1;
}

static int on_kv(void *ud, const char *section, const char *key, const char *value, int line,
                 char *err, size_t errlen)
{
    struct run *r = ud;
    (void)err;
    (void)errlen;
    if (!section || !key || !value)
        fail("NULL section, key or value", line, key, value);
    if (line < 1 || line < r->last_line)
        fail("line number out of order", line, key, value);
    r->last_line = line;
    size_t len;
    const char *text = nth_line(r, line, &len);
    if (!text)
        fail("line number past the end of the file", line, key, value);
    const char *k, *v;
    size_t kl, vl;
    if (!expect_kv(text, len, line, &k, &kl, &v, &vl))
        fail("a key and value from a line that has none", line, key, value);
    if (strlen(key) != kl || memcmp(key, k, kl) != 0)
        fail("key differs from its line", line, key, value);
    if (allow_cut && len >= INIFILE_MAX_LINE - 1)
        return 0;
    if (strlen(value) != vl || memcmp(value, v, vl) != 0)
        fail("value differs from its line (cut off?)", line, key, value);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (allow_cut < 0) {
        const char *e = getenv("INIFILE_FUZZ_ALLOW_CUT");
        allow_cut = e && *e == '1';
    }
    const char *path = fz_file_write(data, size);
    struct run r = {.data = data, .size = size};
    char err[512];
    err[0] = '\0';
    int rc = inifile_parse(path, on_kv, &r, err, sizeof err);
    if (rc != 0 && rc != -EINVAL)
        fail("unexpected return code", rc, NULL, NULL);
    if (rc == -EINVAL && strncmp(err, path, strlen(path)) != 0)
        fail("error message does not start with the path", 0, err, NULL);
    if (rc == -EINVAL && strstr(err, "longer than")) {
        /* A line of at most INIFILE_MAX_LINE bytes (less a final '\r') is fine. */
        int line = atoi(err + strlen(path) + 1);
        size_t len;
        const char *text = line_span(&r, line, &len);
        if (text && len && text[len - 1] == '\r')
            len--;
        if (text && len <= INIFILE_MAX_LINE && !memchr(text, '\0', len))
            fail("a line within the limit refused as too long", line, err, NULL);
    }
    return 0;
}
