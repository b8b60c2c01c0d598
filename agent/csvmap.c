/* csvmap.c - vendor export mappings: headers, formats, value maps and units. */
#include "agent/csvmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/csvread.h"
#include "common/decimal.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/tzfile.h"
#include "common/xalloc.h"

#define FMT_MAX 128 /* bytes of a date_format or timestamp_format */

struct vmap_entry {
    char *from, *to;
    size_t flen;
    unsigned long line;
};

struct csvmap_vmap {
    struct vmap_entry *e; /* sorted by from (bytes, then length) */
    size_t n, cap;
    char *err; /* parsing: the first problem */
    size_t errlen;
    int from_col, to_col;
    bool header;
};

struct csvmap {
    size_t ncols;
    char *header[CSV_MAX_COLS]; /* NULL: the canonical name */
    int hline[CSV_MAX_COLS];
    struct csvmap_vmap *vmap[CSV_MAX_COLS];
    bool hours[CSV_MAX_COLS];
    enum csv_kind kind[CSV_MAX_COLS];
    char *date_fmt, *ts_fmt; /* NULL: canonical text */
    bool ts_offset;          /* ts_fmt has %z: each time carries its offset */
    struct tzinfo *tz;       /* otherwise: the zone of its wall times */
};

static const struct {
    const char *key, *help;
} keys[] = {
    {"columns", "canonical=Header Name, ...: the export's header of each canonical column"},
    {"column.FIELD", "Header Name: the same for one column (for long mappings)"},
    {"date_format", "strptime pattern of the date columns, e.g. %m/%d/%Y"},
    {"timestamp_format", "strptime pattern of the timestamp columns, e.g. %m/%d/%Y %I:%M %p"},
    {"timezone", "tz database zone of timestamps without an offset, e.g. America/Chicago"},
    {"value_map.FIELD", "CSV file from,to: the canonical value of each export value"},
    {"minutes_from_hours", "FIELD,...: minute columns the export gives in hours"},
};

bool csvmap_is_key(const char *key)
{
    return strcmp(key, "columns") == 0 || strcmp(key, "date_format") == 0 ||
           strcmp(key, "timestamp_format") == 0 || strcmp(key, "timezone") == 0 ||
           strcmp(key, "minutes_from_hours") == 0 || strncmp(key, "column.", 7) == 0 ||
           strncmp(key, "value_map.", 10) == 0;
}

void csvmap_usage(FILE *f)
{
    fprintf(f, "   every CSV type (vendor exports, docs/sources.md):\n");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        fprintf(f, "    %-26s %-18s %s\n", keys[i].key, "", keys[i].help);
}

/* ---- value maps ---- */

static int vmap_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int entry_cmp(const void *x, const void *y)
{
    const struct vmap_entry *a = x, *b = y;
    int c = vmap_cmp(a->from, a->flen, b->from, b->flen);
    return c ? c : (a->line > b->line) - (a->line < b->line);
}

static int vmap_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct csvmap_vmap *v = ud;
    if (ev == CSV_EV_HEADER) {
        static const char *const names[] = {"from", "to"};
        int idx[2];
        csv_header_map(row, names, 2, idx);
        if (idx[0] < 0 || idx[1] < 0) {
            snprintf(v->err, v->errlen, "line %lu: the header must name the columns from,to",
                     row->line);
            return -1;
        }
        v->from_col = idx[0];
        v->to_col = idx[1];
        v->header = true;
        return 0;
    }
    if (ev == CSV_EV_MALFORMED) {
        snprintf(v->err, v->errlen, "line %lu: not a CSV row of the header's columns", row->line);
        return -1;
    }
    size_t fl = row->len[v->from_col], tl = row->len[v->to_col];
    if (fl == 0) {
        snprintf(v->err, v->errlen, "line %lu: empty from value", row->line);
        return -1;
    }
    if (fl >= CSVMAP_FIELD_MAX * 16 || tl >= CSVMAP_FIELD_MAX) {
        snprintf(v->err, v->errlen,
                 "line %lu: a value longer than the limit (from %d, to %d bytes)", row->line,
                 CSVMAP_FIELD_MAX * 16 - 1, CSVMAP_FIELD_MAX - 1);
        return -1;
    }
    xgrow((void **)&v->e, &v->cap, v->n + 1, sizeof *v->e);
    v->e[v->n++] = (struct vmap_entry){.from = xstrndup(row->field[v->from_col], fl),
                                       .to = xstrndup(row->field[v->to_col], tl),
                                       .flen = fl,
                                       .line = row->line};
    return 0;
}

void csvmap_vmap_free(struct csvmap_vmap *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        xfree(v->e[i].from);
        xfree(v->e[i].to);
    }
    xfree(v->e);
    xfree(v);
}

int csvmap_vmap_parse(const char *buf, size_t len, struct csvmap_vmap **out, char *err,
                      size_t errlen)
{
    struct csvmap_vmap *v = xcalloc(1, sizeof *v);
    v->err = err;
    v->errlen = errlen;
    err[0] = 0;
    struct csvread *r = csvread_new(vmap_row, v);
    int rc = csvread_feed(r, buf, len);
    if (!rc)
        rc = csvread_finish(r);
    csvread_free(r);
    if (!rc && !v->header) {
        snprintf(err, errlen, "empty: the header from,to and one row per value are needed");
        rc = -1;
    }
    if (!rc && v->n)
        qsort(v->e, v->n, sizeof *v->e, entry_cmp);
    for (size_t i = 1; !rc && i < v->n; i++) { /* repeats must agree */
        const struct vmap_entry *a = &v->e[i - 1], *b = &v->e[i];
        if (vmap_cmp(a->from, a->flen, b->from, b->flen) == 0 && strcmp(a->to, b->to) != 0) {
            snprintf(err, errlen, "line %lu maps the from value of line %lu to another value",
                     b->line, a->line);
            rc = -1;
        }
    }
    v->err = NULL;
    if (rc) {
        if (!err[0])
            snprintf(err, errlen, "not a value map");
        csvmap_vmap_free(v);
        return -EINVAL;
    }
    size_t keep = 0; /* sorted: a repeat follows its first row */
    for (size_t i = 0; i < v->n; i++) {
        struct vmap_entry *e = &v->e[i];
        if (keep && vmap_cmp(v->e[keep - 1].from, v->e[keep - 1].flen, e->from, e->flen) == 0) {
            xfree(e->from);
            xfree(e->to);
            continue;
        }
        v->e[keep++] = *e;
    }
    v->n = keep;
    *out = v;
    return 0;
}

const char *csvmap_vmap_get(const struct csvmap_vmap *v, const char *s, size_t len)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = vmap_cmp(v->e[mid].from, v->e[mid].flen, s, len);
        if (c == 0)
            return v->e[mid].to;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t csvmap_vmap_count(const struct csvmap_vmap *v)
{
    return v->n;
}

/* ---- building a mapping from the config ---- */

void csvmap_free(struct csvmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < CSV_MAX_COLS; i++) {
        xfree(m->header[i]);
        csvmap_vmap_free(m->vmap[i]);
    }
    xfree(m->date_fmt);
    xfree(m->ts_fmt);
    tz_free(m->tz);
    xfree(m);
}

/* What a build reports errors against. */
struct where {
    const struct csv_type *t;
    const char *tname, *sname, *cfg;
    char *err;
    size_t errlen;
};

static int fail(const struct where *w, const struct csvmap_kv *kv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct where *w, const struct csvmap_kv *kv, const char *fmt, ...)
{
    int n =
        snprintf(w->err, w->errlen, "%s:%d: [source %s] %s: ", w->cfg, kv->line, w->sname, kv->key);
    if (n < 0 || (size_t)n >= w->errlen)
        return -EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err + n, w->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* The column of t called name (len bytes, case-insensitive), or -1. */
static int column_of(const struct csv_type *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (str_ieq(name, len, t->cols[i].name))
            return (int)i;
    return -1;
}

/* Appends "(a, b, c)": the type's columns, or those of one kind. */
static const char *column_list(const struct csv_type *t, int kind, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = 0;
    for (size_t i = 0; i < t->ncols && at < len; i++) {
        if (kind >= 0 && (int)t->cols[i].kind != kind)
            continue;
        int n = snprintf(buf + at, len - at, "%s%s", at ? ", " : "", t->cols[i].name);
        at += n > 0 ? (size_t)n : 0;
    }
    return buf;
}

static int set_header(struct csvmap *m, const struct where *w, const struct csvmap_kv *kv,
                      const char *name, size_t nlen, const char *hdr, size_t hlen)
{
    char list[512];
    int c = column_of(w->t, name, nlen);
    if (c < 0)
        return fail(w, kv, "'%.*s' is not a column of %s (%s)", (int)nlen, name, w->tname,
                    column_list(w->t, -1, list, sizeof list));
    if (hlen == 0)
        return fail(w, kv, "no header name given for %s", w->t->cols[c].name);
    if (m->header[c])
        return fail(w, kv, "%s is mapped twice (first on line %d)", w->t->cols[c].name,
                    m->hline[c]);
    m->header[c] = xstrndup(hdr, hlen);
    m->hline[c] = kv->line;
    return 0;
}

static int parse_columns(struct csvmap *m, const struct where *w, const struct csvmap_kv *kv)
{
    const char *s = kv->value;
    if (!*s)
        return fail(w, kv, "empty; give canonical=Header Name pairs separated by commas");
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (!eq)
            return fail(w, kv, "'%.*s' is not canonical=Header Name", (int)len, s);
        const char *name = s, *hdr = eq + 1;
        size_t nlen = (size_t)(eq - s), hlen = len - nlen - 1;
        str_trim(&name, &nlen);
        str_trim(&hdr, &hlen);
        int rc = set_header(m, w, kv, name, nlen, hdr, hlen);
        if (rc)
            return rc;
        s = end ? end + 1 : s + len;
    }
    return 0;
}

/* Checks a strptime pattern: printable ASCII, at most FMT_MAX bytes, and conversions
 * among those that make sense for the kind of column. */
static int check_format(const struct where *w, const struct csvmap_kv *kv, bool time, bool *offset)
{
    /* A date column may carry a time of day too: it is read and dropped. */
    const char *allowed = time ? "YmdbBhyejHMSIpTzZ%nt" : "YmdbBhyejHMSIpT%nt";
    size_t len = strlen(kv->value);
    if (len == 0 || len >= FMT_MAX)
        return fail(w, kv, "must be a strptime pattern of 1 to %d bytes", FMT_MAX - 1);
    *offset = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)kv->value[i];
        if (c < 0x20 || c > 0x7e)
            return fail(w, kv, "must be printable ASCII");
        if (c != '%')
            continue;
        char conv = kv->value[++i];
        if (!conv || !strchr(allowed, conv))
            return fail(w, kv, "%%%c is not a conversion it supports (%s)", conv ? conv : ' ',
                        time ? "%Y %m %d %b %B %h %y %e %j %H %M %S %I %p %T %z %Z"
                             : "%Y %m %d %b %B %h %y %e %j %H %M %S %I %p %T");
        if (conv == 'z')
            *offset = true;
    }
    return 0;
}

static int has_kind(const struct csv_type *t, enum csv_kind k)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].kind == k)
            return 1;
    return 0;
}

static int read_vmap(struct csvmap *m, const struct where *w, const struct csvmap_kv *kv)
{
    const char *field = kv->key + 10;
    char list[512];
    int c = column_of(w->t, field, strlen(field));
    if (c < 0)
        return fail(w, kv, "'%s' is not a column of %s (%s)", field, w->tname,
                    column_list(w->t, -1, list, sizeof list));
    if (m->vmap[c])
        return fail(w, kv, "%s has a value map already", w->t->cols[c].name);
    int fd = open(kv->value, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return fail(w, kv, "cannot read %s: %s", kv->value, strerror(e));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CSVMAP_FILE_MAX) {
        close(fd);
        return fail(w, kv, "%s must be a file of at most %u MiB", kv->value, CSVMAP_FILE_MAX >> 20);
    }
    char *buf = xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    char why[256];
    int rc = csvmap_vmap_parse(buf, got, &m->vmap[c], why, sizeof why);
    xfree(buf);
    return rc ? fail(w, kv, "%s: %s", kv->value, why) : 0;
}

static int parse_hours(struct csvmap *m, const struct where *w, const struct csvmap_kv *kv)
{
    char list[512];
    const char *s = kv->value;
    bool any = false;
    while (*s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *name = s;
        str_trim(&name, &len);
        if (len) {
            int c = column_of(w->t, name, len);
            if (c < 0 || w->t->cols[c].kind != CSV_MINUTES)
                return fail(w, kv, "'%.*s' is not a minutes column of %s (%s)", (int)len, name,
                            w->tname, column_list(w->t, CSV_MINUTES, list, sizeof list));
            m->hours[c] = true;
            any = true;
        }
        s = end ? end + 1 : s + strlen(s);
    }
    return any ? 0 : fail(w, kv, "empty; name the minute columns given in hours");
}

int csvmap_build(const struct csv_type *t, const char *tname, const char *sname,
                 const struct csvmap_kv *kv, size_t n, const char *cfgpath, struct csvmap **out,
                 char *err, size_t errlen)
{
    struct where w = {t, tname, sname, cfgpath, err, errlen};
    struct csvmap *m = xcalloc(1, sizeof *m);
    m->ncols = t->ncols;
    for (size_t i = 0; i < t->ncols; i++)
        m->kind[i] = t->cols[i].kind;
    const struct csvmap_kv *ts = NULL, *tz = NULL;
    bool any = false;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const struct csvmap_kv *k = &kv[i];
        if (!csvmap_is_key(k->key))
            continue;
        any = true;
        for (size_t j = 0; j < i; j++) /* the config loader refuses these too */
            if (strcmp(kv[j].key, k->key) == 0) {
                rc = fail(&w, k, "given twice (first on line %d)", kv[j].line);
                break;
            }
        if (rc)
            break;
        bool off;
        if (strcmp(k->key, "columns") == 0) {
            rc = parse_columns(m, &w, k);
        } else if (strncmp(k->key, "column.", 7) == 0) {
            const char *hdr = k->value;
            size_t hl = strlen(hdr);
            str_trim(&hdr, &hl);
            rc = set_header(m, &w, k, k->key + 7, strlen(k->key + 7), hdr, hl);
        } else if (strcmp(k->key, "date_format") == 0) {
            if (!has_kind(t, CSV_DATE))
                rc = fail(&w, k, "%s has no date column", tname);
            else if (!(rc = check_format(&w, k, false, &off)))
                m->date_fmt = xstrdup(k->value);
        } else if (strcmp(k->key, "timestamp_format") == 0) {
            if (!has_kind(t, CSV_INSTANT))
                rc = fail(&w, k, "%s has no timestamp column", tname);
            else if (!(rc = check_format(&w, k, true, &m->ts_offset)))
                m->ts_fmt = xstrdup(k->value);
            ts = k;
        } else if (strcmp(k->key, "timezone") == 0) {
            char why[512];
            if (tz_load(k->value, &m->tz, why, sizeof why))
                rc = fail(&w, k, "%s", why);
            tz = k;
        } else if (strncmp(k->key, "value_map.", 10) == 0) {
            rc = read_vmap(m, &w, k);
        } else {
            rc = parse_hours(m, &w, k);
        }
    }
    if (!rc && tz && !ts)
        rc = fail(&w, tz,
                  "applies to timestamp_format, which is not set (RFC 3339 times carry "
                  "their offset)");
    if (!rc && ts && m->ts_offset && tz)
        rc = fail(&w, tz, "timestamp_format on line %d reads each time's offset (%%z); drop one",
                  ts->line);
    if (!rc && ts && !m->ts_offset && !tz)
        rc = fail(&w, ts,
                  "has no %%z: set timezone (e.g. America/Chicago) to say which zone its "
                  "times are in");
    if (rc || !any) {
        csvmap_free(m);
        *out = NULL;
        return rc;
    }
    *out = m;
    return 0;
}

const char *csvmap_header(const struct csvmap *m, const struct csv_type *t, size_t col)
{
    return m && m->header[col] ? m->header[col] : t->cols[col].name;
}

int csvmap_header_line(const struct csvmap *m, size_t col)
{
    return m && m->header[col] ? m->hline[col] : 0;
}

/* ---- rewriting a row ---- */

/* strptime of the whole field; a valid calendar date (and time) in years 1..9999. */
static bool scan(const char *s, size_t len, const char *fmt, struct tm *tm)
{
    char buf[CSVMAP_FIELD_MAX];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(tm, 0, sizeof *tm);
    tm->tm_mday = 1;
    const char *end = strptime(buf, fmt, tm);
    if (!end || *end)
        return false;
    int y = tm->tm_year + 1900, mon = tm->tm_mon + 1;
    return y >= 1 && y <= 9999 && mon >= 1 && mon <= 12 && tm->tm_mday >= 1 &&
           tm->tm_mday <= days_in_month(y, mon) && tm->tm_hour >= 0 && tm->tm_hour <= 23 &&
           tm->tm_min >= 0 && tm->tm_min <= 59 && tm->tm_sec >= 0 && tm->tm_sec <= 59;
}

static bool rewrite_date(const struct csvmap *m, const char *s, size_t len, char *out)
{
    struct tm tm;
    if (!scan(s, len, m->date_fmt, &tm))
        return false;
    format_date(day_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday), out);
    return true;
}

static bool rewrite_instant(const struct csvmap *m, const char *s, size_t len, char *out)
{
    struct tm tm;
    if (!scan(s, len, m->ts_fmt, &tm))
        return false;
    int32_t day = day_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    int64_t local = (int64_t)day * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    int32_t off;
    if (m->ts_offset) {
        off = (int32_t)tm.tm_gmtoff;
    } else {
        int64_t t;
        if (tz_from_local(m->tz, local, &t, &off))
            return false; /* a wall time the clocks skipped */
    }
    if (off % 60 || off <= -24 * 3600 || off >= 24 * 3600)
        return false;
    int a = off < 0 ? -off : off;
    format_date(day, out);
    snprintf(out + 10, CSVMAP_FIELD_MAX - 10, "T%02d:%02d:%02d%c%02d:%02d", tm.tm_hour, tm.tm_min,
             tm.tm_sec, off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
    return true;
}

static bool rewrite_hours(const char *s, size_t len, char *out)
{
    int64_t x;
    if (decimal_parse(s, len, &x) || x > INT64_MAX / 60 || x < -(INT64_MAX / 60))
        return false;
    decimal_format(x * 60, out);
    return true;
}

bool csvmap_apply(const struct csvmap *m, struct csv_fields *f, struct csvmap_row *row)
{
    for (size_t i = 0; i < m->ncols; i++) {
        if (!f->s[i])
            continue;
        if (m->vmap[i] && f->len[i]) {
            const char *to = csvmap_vmap_get(m->vmap[i], f->s[i], f->len[i]);
            if (!to)
                return csvf_fail(f, (int)i, SRC_INVALID_VALUE);
            f->s[i] = to;
            f->len[i] = strlen(to);
        }
        if (!f->len[i])
            continue;
        bool ok = true, done = false;
        if (m->kind[i] == CSV_DATE && m->date_fmt) {
            ok = rewrite_date(m, f->s[i], f->len[i], row->buf[i]);
            done = true;
        } else if (m->kind[i] == CSV_INSTANT && m->ts_fmt) {
            ok = rewrite_instant(m, f->s[i], f->len[i], row->buf[i]);
            done = true;
        } else if (m->hours[i]) {
            ok = rewrite_hours(f->s[i], f->len[i], row->buf[i]);
            done = true;
        }
        if (!ok)
            return csvf_fail(f, (int)i, SRC_INVALID_VALUE);
        if (done) {
            f->s[i] = row->buf[i];
            f->len[i] = strlen(row->buf[i]);
        }
    }
    return true;
}
