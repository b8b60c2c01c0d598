/* tzfile.c - TZif reading (RFC 8536) and the POSIX TZ rule of its footer. */
#include "common/tzfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

#define DAY 86400
#define MAX_OFF (26 * 3600)        /* the largest offset accepted, either way */
#define MAX_RULE_TIME (167 * 3600) /* a rule's transition time (RFC 8536 extension) */
#define T_CLAMP (INT64_C(1) << 46) /* rule arithmetic is done within +-2.2 million years */

/* One date of a POSIX TZ rule: Jn (1..365, no Feb 29), n (0..365) or Mm.w.d. */
struct tzdate {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight, in the time in force before it */
};

struct tzinfo {
    int64_t *trans; /* transition instants, increasing */
    uint8_t *idx;   /* the type of each transition */
    size_t ntrans;
    int32_t *off; /* seconds east of UTC, per type */
    size_t ntypes;
    bool has_rule; /* the footer's rule applies after the last transition */
    bool has_dst;
    int32_t std_off, dst_off;
    struct tzdate start, end;
};

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

void tz_free(struct tzinfo *z)
{
    if (!z)
        return;
    xfree(z->trans);
    xfree(z->idx);
    xfree(z->off);
    xfree(z);
}

/* ---- the footer: a POSIX TZ string ---- */

/* Reads an unsigned number of at most maxd digits at *s. */
static bool num(const char **s, int maxd, int *v)
{
    int x = 0, n = 0;
    while (**s >= '0' && **s <= '9' && n < maxd) {
        x = x * 10 + (**s - '0');
        (*s)++;
        n++;
    }
    *v = x;
    return n > 0;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h, into seconds (sign applied). */
static bool hms(const char **s, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;
    if (**s == '+' || **s == '-')
        sign = *(*s)++ == '-' ? -1 : 1;
    if (!num(s, 3, &h) || h > max_h)
        return false;
    if (**s == ':') {
        (*s)++;
        if (!num(s, 2, &m) || m > 59)
            return false;
        if (**s == ':') {
            (*s)++;
            if (!num(s, 2, &sec) || sec > 59)
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static bool abbr(const char **s)
{
    const char *p = *s;
    if (*p == '<') {
        p++;
        const char *b = p;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
               *p == '+' || *p == '-')
            p++;
        if (*p != '>' || p - b < 3)
            return false;
        *s = p + 1;
        return true;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

static bool rule_date(const char **s, struct tzdate *d)
{
    d->time = 2 * 3600;
    if (**s == 'M') {
        (*s)++;
        d->kind = 'M';
        if (!num(s, 2, &d->m) || d->m < 1 || d->m > 12 || *(*s)++ != '.' || !num(s, 1, &d->w) ||
            d->w < 1 || d->w > 5 || *(*s)++ != '.' || !num(s, 1, &d->d) || d->d > 6)
            return false;
    } else if (**s == 'J') {
        (*s)++;
        d->kind = 'J';
        if (!num(s, 3, &d->n) || d->n < 1 || d->n > 365)
            return false;
    } else {
        d->kind = 'N';
        if (!num(s, 3, &d->n) || d->n > 365)
            return false;
    }
    if (**s == '/') {
        (*s)++;
        if (!hms(s, 167, &d->time))
            return false;
    }
    return true;
}

/* Parses the footer's TZ string (len bytes, no NUL needed) into z. An empty string
 * leaves z without a rule. */
static bool parse_rule(struct tzinfo *z, const char *str, size_t len)
{
    if (len == 0)
        return true;
    if (len > 255 || memchr(str, 0, len))
        return false;
    char buf[256];
    memcpy(buf, str, len);
    buf[len] = 0;
    const char *s = buf;
    int32_t std_w;
    if (!abbr(&s) || !hms(&s, 24, &std_w))
        return false;
    z->std_off = -std_w; /* POSIX counts west */
    z->has_rule = true;
    if (!*s)
        return true;
    if (!abbr(&s))
        return false;
    z->has_dst = true;
    z->dst_off = z->std_off + 3600;
    if (*s && *s != ',') {
        int32_t dst_w;
        if (!hms(&s, 24, &dst_w))
            return false;
        z->dst_off = -dst_w;
    }
    if (!*s) { /* POSIX leaves the rule to the implementation: US rules, as glibc */
        z->start = (struct tzdate){.kind = 'M', .m = 3, .w = 2, .d = 0, .time = 7200};
        z->end = (struct tzdate){.kind = 'M', .m = 11, .w = 1, .d = 0, .time = 7200};
        return true;
    }
    if (*s++ != ',' || !rule_date(&s, &z->start) || *s++ != ',' || !rule_date(&s, &z->end))
        return false;
    return *s == 0;
}

/* The day (since the epoch) a rule date falls on in year y. */
static int64_t rule_day(const struct tzdate *d, int y)
{
    int64_t jan1 = day_from_civil(y, 1, 1);
    if (d->kind == 'J')
        return jan1 + d->n - 1 + (days_in_month(y, 2) == 29 && d->n >= 60);
    if (d->kind == 'N')
        return jan1 + d->n;
    int64_t first = day_from_civil(y, d->m, 1);
    int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    int64_t day = first + (d->d - wd + 7) % 7 + 7 * (d->w - 1);
    while (day >= first + days_in_month(y, d->m))
        day -= 7;
    return day;
}

static int32_t rule_offset(const struct tzinfo *z, int64_t t)
{
    if (!z->has_dst)
        return z->std_off;
    if (t > T_CLAMP)
        t = T_CLAMP;
    if (t < -T_CLAMP)
        t = -T_CLAMP;
    int64_t lt = t + z->std_off;
    int64_t day = lt >= 0 ? lt / DAY : -((-lt + DAY - 1) / DAY);
    int y, m, d;
    civil_from_day((int32_t)day, &y, &m, &d);
    int64_t s = rule_day(&z->start, y) * DAY + z->start.time - z->std_off;
    int64_t e = rule_day(&z->end, y) * DAY + z->end.time - z->dst_off;
    bool dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
    return dst ? z->dst_off : z->std_off;
}

/* ---- the file ---- */

struct counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static bool header(const uint8_t *p, size_t n, int *version, struct counts *c)
{
    if (n < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    if (*version < 1 || *version > 4)
        return false;
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    return c->type >= 1 && c->type <= 256 && (c->isut == 0 || c->isut == c->type) &&
           (c->isstd == 0 || c->isstd == c->type) && c->time <= TZ_FILE_MAX &&
           c->leap <= TZ_FILE_MAX && c->chars <= TZ_FILE_MAX;
}

static uint64_t block_size(const struct counts *c, int tsize)
{
    return (uint64_t)c->time * (uint64_t)(tsize + 1) + (uint64_t)c->type * 6 + c->chars +
           (uint64_t)c->leap * (uint64_t)(tsize + 4) + c->isstd + c->isut;
}

int tz_parse(const uint8_t *p, size_t n, struct tzinfo **out)
{
    int version;
    struct counts c;
    if (!header(p, n, &version, &c))
        return -EINVAL;
    int tsize = 4;
    size_t at = 44;
    if (version >= 2) { /* skip the 32-bit block: the 64-bit one follows */
        uint64_t skip = block_size(&c, 4);
        if (skip > n - at || !header(p + at + skip, n - at - skip, &version, &c))
            return -EINVAL;
        at += (size_t)skip + 44;
        tsize = 8;
    }
    uint64_t need = block_size(&c, tsize);
    if (need > n - at)
        return -EINVAL;
    struct tzinfo *z = xcalloc(1, sizeof *z);
    z->ntrans = c.time;
    z->ntypes = c.type;
    z->trans = xcalloc(c.time ? c.time : 1, sizeof *z->trans);
    z->idx = xcalloc(c.time ? c.time : 1, 1);
    z->off = xcalloc(c.type, sizeof *z->off);
    const uint8_t *q = p + at;
    for (size_t i = 0; i < c.time; i++, q += tsize) {
        z->trans[i] = tsize == 8 ? be64(q) : (int64_t)(int32_t)be32(q);
        if (i && z->trans[i] <= z->trans[i - 1])
            goto bad;
    }
    for (size_t i = 0; i < c.time; i++, q++) {
        if (*q >= c.type)
            goto bad;
        z->idx[i] = *q;
    }
    for (size_t i = 0; i < c.type; i++, q += 6) {
        int32_t off = (int32_t)be32(q);
        if (off < -MAX_OFF || off > MAX_OFF || q[5] >= (c.chars ? c.chars : 1))
            goto bad;
        z->off[i] = off;
    }
    at += (size_t)need;
    if (version >= 2) { /* footer: "\n" TZ string "\n" */
        if (at >= n || p[at] != '\n')
            goto bad;
        const uint8_t *nl = memchr(p + at + 1, '\n', n - at - 1);
        if (!nl || !parse_rule(z, (const char *)p + at + 1, (size_t)(nl - p - at - 1)))
            goto bad;
        if (z->has_rule && (z->std_off < -MAX_OFF || z->std_off > MAX_OFF ||
                            (z->has_dst && (z->dst_off < -MAX_OFF || z->dst_off > MAX_OFF))))
            goto bad;
    }
    *out = z;
    return 0;
bad:
    tz_free(z);
    return -EINVAL;
}

int32_t tz_offset_at(const struct tzinfo *z, int64_t t)
{
    if (z->ntrans == 0)
        return z->has_rule ? rule_offset(z, t) : z->off[0];
    if (t < z->trans[0])
        return z->off[0];
    if (t >= z->trans[z->ntrans - 1])
        return z->has_rule ? rule_offset(z, t) : z->off[z->idx[z->ntrans - 1]];
    size_t lo = 0, hi = z->ntrans - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[z->idx[lo]];
}

int tz_from_local(const struct tzinfo *z, int64_t local, int64_t *t, int32_t *off)
{
    /* The wall time occurs at local - o exactly when offset o is in force then. Every
     * offset the zone can give is tried (its types, then the footer rule's two; an unset
     * one is 0 and harmless, as each is checked against itself), so gaps and overlaps are
     * found however close together: the offsets around the wall time are not enough when
     * a rule keeps one offset for less than a day (EST5EDT,0/0,J365/5). */
    bool found = false;
    for (size_t i = 0; i < z->ntypes + 2; i++) {
        int32_t o = i < z->ntypes ? z->off[i] : i == z->ntypes ? z->std_off : z->dst_off;
        int64_t u = local - o;
        if ((found && u >= *t) || tz_offset_at(z, u) != o)
            continue;
        *t = u;
        *off = o;
        found = true;
    }
    return found ? 0 : -ENOENT;
}

static bool name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 255 || name[0] == '/')
        return false;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                  (*c >= '0' && *c <= '9') || strchr("/_+-.", *c);
        if (!ok)
            return false;
    }
    for (const char *seg = name; seg;) { /* no empty, "." or ".." component */
        const char *e = strchr(seg, '/');
        size_t l = e ? (size_t)(e - seg) : strlen(seg);
        if (l == 0 || (l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = e ? e + 1 : NULL;
    }
    return true;
}

int tz_load(const char *name, struct tzinfo **out, char *err, size_t errlen)
{
    if (!name_ok(name)) {
        snprintf(err, errlen, "time zone '%s' is not a zone name such as America/Chicago", name);
        return -EINVAL;
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        int e = fd < 0 ? errno : EISDIR;
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "unknown time zone '%s' (%s in the tz database %s; package tzdata)",
                 name, strerror(e), dir);
        return -ENOENT;
    }
    int rc = -EINVAL;
    uint8_t *buf = NULL;
    if (st.st_size > 0 && st.st_size <= TZ_FILE_MAX) {
        buf = xmalloc((size_t)st.st_size);
        ssize_t got = 0;
        while (got < st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)(st.st_size - got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += r;
        }
        if (got == st.st_size)
            rc = tz_parse(buf, (size_t)got, out);
    }
    xfree(buf);
    close(fd);
    if (rc)
        snprintf(err, errlen, "time zone '%s': %s/%s is not a TZif file", name, dir, name);
    return rc;
}
