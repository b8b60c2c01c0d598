/* csvread.c - libcsv driven one physical line at a time so that rows know their line. */
#include "common/csvread.h"

#include <csv.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"

struct csvread {
    struct csv_parser p;
    csv_row_fn fn;
    void *ud;
    char *bytes; /* the current row's fields, NUL-separated */
    size_t nbytes, capbytes;
    size_t *off; /* field start offsets into bytes */
    size_t *len;
    const char **ptr;
    size_t nfields, capfields;
    size_t header_fields; /* 0 until the header is seen */
    unsigned long line;   /* physical line being fed (1-based) */
    unsigned long row_line;
    int at_line_start; /* the next byte fed starts a physical line */
    int has_nul;       /* the current row has a field holding a NUL byte */
    int skip_bom;      /* still at the start: a leading BOM is dropped */
    size_t bom_seen;   /* BOM bytes matched so far */
    int stop;          /* callback's non-zero return */
    char *pending;     /* partial physical line carried between feeds */
    size_t npending, cappending;
};

static void on_field(void *s, size_t len, void *data)
{
    struct csvread *r = data;
    if (r->nfields == 0)
        r->nbytes = 0;
    xgrow((void **)&r->bytes, &r->capbytes, r->nbytes + len + 1, 1);
    if (r->nfields + 1 > r->capfields) {
        size_t cap = r->capfields;
        xgrow((void **)&r->off, &cap, r->nfields + 1, sizeof *r->off);
        cap = r->capfields;
        xgrow((void **)&r->len, &cap, r->nfields + 1, sizeof *r->len);
        cap = r->capfields;
        xgrow((void **)&r->ptr, &cap, r->nfields + 1, sizeof *r->ptr);
        r->capfields = cap;
    }
    const char *f = s ? s : "";
    if (len && memchr(f, '\0', len))
        r->has_nul = 1; /* a NUL byte inside a field: the row is malformed */
    size_t flen = len;
    str_trim(&f, &flen);
    memcpy(r->bytes + r->nbytes, f, flen);
    r->bytes[r->nbytes + flen] = '\0';
    r->off[r->nfields] = r->nbytes;
    r->len[r->nfields] = flen;
    r->nfields++;
    r->nbytes += flen + 1;
}

static void deliver(struct csvread *r, enum csv_event ev)
{
    struct csv_row row = {.nfields = ev == CSV_EV_MALFORMED ? 0 : r->nfields,
                          .field = r->ptr,
                          .len = r->len,
                          .line = r->row_line};
    for (size_t i = 0; i < r->nfields; i++)
        r->ptr[i] = r->bytes + r->off[i];
    if (!r->stop)
        r->stop = r->fn(r->ud, ev, &row);
}

static void on_row(int c, void *data)
{
    (void)c;
    struct csvread *r = data;
    size_t n = r->nfields;
    if (n == 1 && r->len[0] == 0 && !r->has_nul) { /* a line of white space only: blank */
        r->nfields = 0;
        return;
    }
    if (r->has_nul) {
        r->has_nul = 0;
        deliver(r, CSV_EV_MALFORMED);
    } else if (!r->header_fields) {
        r->header_fields = n;
        deliver(r, CSV_EV_HEADER);
    } else if (n != r->header_fields) {
        deliver(r, CSV_EV_MALFORMED);
    } else {
        deliver(r, CSV_EV_ROW);
    }
    r->nfields = 0;
}

static void parser_init(struct csvread *r)
{
    csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_realloc_func(&r->p, xrealloc);
    csv_set_free_func(&r->p, xfree);
}

struct csvread *csvread_new(csv_row_fn fn, void *ud)
{
    struct csvread *r = xcalloc(1, sizeof *r);
    r->fn = fn;
    r->ud = ud;
    r->skip_bom = 1;
    r->at_line_start = 1;
    parser_init(r);
    return r;
}

/* Feeds one physical line (with its '\n', except at end of input). */
static void feed_line(struct csvread *r, const char *s, size_t len)
{
    r->line++;
    if (r->p.pstate == 0 && r->nfields == 0) /* no row begun: this line starts one */
        r->row_line = r->line;
    if (csv_parse(&r->p, s, len, on_field, on_row, r) != len) {
        /* Broken quoting: the row is malformed; resume at the next line. */
        r->nfields = 0;
        deliver(r, CSV_EV_MALFORMED);
        csv_free(&r->p);
        parser_init(r);
    }
}

int csvread_feed(struct csvread *r, const char *buf, size_t len)
{
    static const char bom[3] = {'\xEF', '\xBB', '\xBF'};
    while (r->skip_bom && len) { /* a BOM counts only at the very start, maybe split */
        if (buf[0] != bom[r->bom_seen]) {
            /* Not a BOM after all: what was held back is ordinary input. */
            if (r->bom_seen) {
                xgrow((void **)&r->pending, &r->cappending, r->bom_seen, 1);
                memcpy(r->pending, bom, r->bom_seen);
                r->npending = r->bom_seen;
            }
            r->skip_bom = 0;
            break;
        }
        buf++;
        len--;
        if (++r->bom_seen == 3)
            r->skip_bom = 0;
    }
    while (len && !r->stop) {
        const char *nl = memchr(buf, '\n', len);
        if (!nl) {
            xgrow((void **)&r->pending, &r->cappending, r->npending + len, 1);
            memcpy(r->pending + r->npending, buf, len);
            r->npending += len;
            break;
        }
        size_t n = (size_t)(nl - buf) + 1;
        if (r->npending) {
            xgrow((void **)&r->pending, &r->cappending, r->npending + n, 1);
            memcpy(r->pending + r->npending, buf, n);
            feed_line(r, r->pending, r->npending + n);
            r->npending = 0;
        } else {
            feed_line(r, buf, n);
        }
        buf += n;
        len -= n;
    }
    return r->stop;
}

int csvread_finish(struct csvread *r)
{
    if (r->stop)
        return r->stop;
    if (r->npending) {
        feed_line(r, r->pending, r->npending);
        r->npending = 0;
    }
    if (csv_fini(&r->p, on_field, on_row, r) != 0) {
        r->nfields = 0;
        deliver(r, CSV_EV_MALFORMED);
    }
    return r->stop;
}

void csvread_free(struct csvread *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    xfree(r->bytes);
    xfree(r->off);
    xfree(r->len);
    xfree(r->ptr);
    xfree(r->pending);
    xfree(r);
}

void csv_header_map(const struct csv_row *h, const char *const *names, size_t n, int *idx)
{
    for (size_t i = 0; i < n; i++) {
        idx[i] = -1;
        for (size_t f = 0; f < h->nfields; f++) {
            if (str_ieq(h->field[f], h->len[f], names[i])) {
                idx[i] = (int)f;
                break;
            }
        }
    }
}
