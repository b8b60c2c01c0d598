/* out.c - buffered writes with write(2) and allocation-free number and date formatting. */
#include "tools/gen/out.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

int out_open(struct out *o, const char *path, size_t cap)
{
    memset(o, 0, sizeof *o);
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        int rc = -errno;
        o->fd = -1;
        return rc;
    }
    o->cap = cap < 4 * OUT_ROW_MAX ? 4 * OUT_ROW_MAX : cap;
    o->buf = xmalloc(o->cap);
    return 0;
}

void out_flush(struct out *o)
{
    size_t off = 0;
    while (off < o->len && !o->err) {
        ssize_t n = write(o->fd, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            o->err = -errno;
        else
            off += (size_t)n;
    }
    o->len = 0;
}

int out_close(struct out *o)
{
    if (o->fd < 0)
        return o->err;
    out_flush(o);
    if (close(o->fd) && !o->err)
        o->err = -errno;
    o->fd = -1;
    xfree(o->buf);
    o->buf = NULL;
    o->cap = 0;
    return o->err;
}

void out_put(struct out *o, const void *p, size_t n)
{
    while (n) {
        if (o->len == o->cap)
            out_flush(o);
        size_t k = o->cap - o->len < n ? o->cap - o->len : n;
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        o->bytes += k;
        p = (const char *)p + k;
        n -= k;
    }
}

char *fmt_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

char *fmt_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

char *fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

char *fmt_dec(char *p, int64_t v, int scale)
{
    uint64_t a = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (v < 0)
        *p++ = '-';
    uint64_t pow = 1;
    for (int i = 0; i < scale; i++)
        pow *= 10;
    p = fmt_u64(p, a / pow);
    uint64_t f = a % pow;
    if (f) {
        int digits = scale;
        while (f % 10 == 0) {
            f /= 10;
            digits--;
        }
        *p++ = '.';
        for (int i = digits - 1; i >= 0; i--) {
            p[i] = (char)('0' + f % 10);
            f /= 10;
        }
        p += digits;
    }
    return p;
}

static char *two(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

char *fmt_date(char *p, int32_t day)
{
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    p = two(p, (unsigned)y / 100);
    p = two(p, (unsigned)y % 100);
    *p++ = '-';
    p = two(p, (unsigned)m);
    *p++ = '-';
    return two(p, (unsigned)d);
}

char *fmt_ts(char *p, int64_t us, int offset_min, int frac, int zulu, int32_t *local_day)
{
    if (zulu)
        offset_min = 0;
    int64_t secs = us / 1000000 + (int64_t)offset_min * 60;
    unsigned sub = (unsigned)(us % 1000000);
    int32_t day = (int32_t)(secs / 86400);
    unsigned sod = (unsigned)(secs % 86400);
    *local_day = day;
    p = fmt_date(p, day);
    *p++ = 'T';
    p = two(p, sod / 3600);
    *p++ = ':';
    p = two(p, sod / 60 % 60);
    *p++ = ':';
    p = two(p, sod % 60);
    if (frac == 3) {
        *p++ = '.';
        unsigned ms = sub / 1000;
        *p++ = (char)('0' + ms / 100);
        p = two(p, ms % 100);
    } else if (frac == 6) {
        *p++ = '.';
        p = two(p, sub / 10000);
        p = two(p, sub / 100 % 100);
        p = two(p, sub % 100);
    }
    if (zulu) {
        *p++ = 'Z';
    } else {
        unsigned a = (unsigned)(offset_min < 0 ? -offset_min : offset_min);
        *p++ = offset_min < 0 ? '-' : '+';
        p = two(p, a / 60);
        *p++ = ':';
        p = two(p, a % 60);
    }
    return p;
}

char *fmt_csv(char *p, const char *s, size_t n, int force)
{
    int quote = force || (n && (s[0] == ' ' || s[n - 1] == ' '));
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote)
        return fmt_mem(p, s, n);
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *p++ = '"';
        *p++ = s[i];
    }
    *p++ = '"';
    return p;
}
