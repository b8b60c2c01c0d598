/* csvread.h - RFC 4180 reading on top of libcsv: header row, line numbers, trimming. */
#ifndef CADRE_CSVREAD_H
#define CADRE_CSVREAD_H

#include <stddef.h>

/* One row as handed to the callback: fields trimmed of ASCII white space (quoted or not),
 * NUL-terminated, valid until the callback returns. line is the physical line (1-based)
 * on which the row starts. */
struct csv_row {
    size_t nfields;
    const char **field;
    const size_t *len;
    unsigned long line;
};

enum csv_event {
    CSV_EV_HEADER,    /* the first non-blank row; a BOM before it is removed */
    CSV_EV_ROW,       /* a data row with as many fields as the header */
    CSV_EV_MALFORMED, /* a row with another field count, or broken quoting (row->nfields 0) */
};

/* Return 0 to go on, anything else to stop reading (csvread_feed then returns it). */
typedef int (*csv_row_fn)(void *ud, enum csv_event ev, const struct csv_row *row);

struct csvread;

/* Creates a reader that calls fn(ud, ...) for every row. Caller frees with csvread_free(). */
struct csvread *csvread_new(csv_row_fn fn, void *ud);
/* Feeds len more bytes of the file. Returns 0, or the callback's non-zero value. */
int csvread_feed(struct csvread *r, const char *buf, size_t len);
/* Ends the input: a last row without a newline is delivered, an unterminated quote is
 * malformed. Returns as csvread_feed. */
int csvread_finish(struct csvread *r);
void csvread_free(struct csvread *r);

/* Finds each of the n names among the header's fields (trimmed, ASCII case-insensitive) and
 * sets idx[i] to its field index, or -1 when absent. When a name appears twice the first
 * wins. */
void csv_header_map(const struct csv_row *header, const char *const *names, size_t n, int *idx);

#endif
