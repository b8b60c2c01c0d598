/* out.h - big buffered output files and the hand-written formatters the hot loops use. */
#ifndef CADRE_GEN_OUT_H
#define CADRE_GEN_OUT_H

#include <stddef.h>
#include <stdint.h>

/* Longest row any writer formats in one go; out_room() guarantees this much space. */
#define OUT_ROW_MAX 2048

/* One output file with its own buffer, written with write(2) when the buffer fills. */
struct out {
    int fd; /* -1 while closed */
    char *buf;
    size_t len;
    size_t cap;
    int err;        /* first -errno seen; later writes are dropped */
    uint64_t bytes; /* bytes handed over so far, buffered ones included */
};

/* Creates or truncates path and gives it a cap-byte buffer. Returns 0 or -errno (o is then
 * closed). Caller ends with out_close(). */
int out_open(struct out *o, const char *path, size_t cap);
/* Writes the buffer out. Errors are kept in o->err. */
void out_flush(struct out *o);
/* Flushes, closes and frees the buffer. Returns 0 or the first -errno of the file's life. */
int out_close(struct out *o);
/* Appends n bytes. */
void out_put(struct out *o, const void *p, size_t n);

/* Returns where at least OUT_ROW_MAX bytes may be written; out_commit() says how far. */
static inline char *out_room(struct out *o)
{
    if (o->cap - o->len < OUT_ROW_MAX)
        out_flush(o);
    return o->buf + o->len;
}

static inline void out_commit(struct out *o, char *end)
{
    size_t n = (size_t)(end - (o->buf + o->len));
    o->len += n;
    o->bytes += n;
}

/* Formatters: each writes at p and returns the end; none writes a NUL. */
char *fmt_str(char *p, const char *s);
char *fmt_mem(char *p, const char *s, size_t n);
char *fmt_u64(char *p, uint64_t v);
/* v / 10^scale as the shortest exact decimal: fmt_dec(p, 1250, 2) writes "12.5". */
char *fmt_dec(char *p, int64_t v, int scale);
/* "YYYY-MM-DD". */
char *fmt_date(char *p, int32_t day);
/* RFC 3339 for the instant us (microseconds) seen at offset_min minutes east of UTC, with
 * frac (0, 3 or 6) fractional digits and "Z" when zulu (offset_min is then ignored). Sets
 * *local_day to the date as written. */
char *fmt_ts(char *p, int64_t us, int offset_min, int frac, int zulu, int32_t *local_day);
/* A CSV field, quoted when it holds a comma, quote, CR or LF or starts or ends with a
 * space; force quotes it anyway. */
char *fmt_csv(char *p, const char *s, size_t n, int force);

#endif
