/* csvmap.h - vendor exports: the [source] keys that map an export's own headers, date and
 * time formats, labels and units onto a CSV type's canonical columns (docs/sources.md).
 *
 * A mapping rewrites each field of a row into the canonical text the type's checks read,
 * before they read it: value_map.FIELD first (exact after trimming; a value not in the
 * map is invalid_value, an empty field stays empty), then date_format on date columns,
 * timestamp_format (with timezone when the format has no %z) on timestamp columns, then
 * minutes_from_hours. Rejections name the canonical column, as for canonical files.
 */
#ifndef CADRE_AGENT_CSVMAP_H
#define CADRE_AGENT_CSVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent/src_csv.h"

struct csvmap;

/* Most bytes of a value map file, and of one rewritten field. */
#define CSVMAP_FILE_MAX (16u << 20)
#define CSVMAP_FIELD_MAX 64

/* True when key is a mapping key: columns, column.FIELD, date_format, timestamp_format,
 * timezone, value_map.FIELD or minutes_from_hours. */
bool csvmap_is_key(const char *key);

/* One key = value of a [source] section and the config line it is on. */
struct csvmap_kv {
    const char *key, *value;
    int line;
};

/* Builds the mapping of CSV type t (source type tname, section [source sname]) from the
 * mapping keys among kv[0..n) (other keys are skipped), reading the value map files now.
 * Returns 0 with *out (NULL when no mapping key is given; caller frees with csvmap_free),
 * or -EINVAL with "CFGPATH:LINE: message" in err. */
int csvmap_build(const struct csv_type *t, const char *tname, const char *sname,
                 const struct csvmap_kv *kv, size_t n, const char *cfgpath, struct csvmap **out,
                 char *err, size_t errlen);

void csvmap_free(struct csvmap *m);

/* The header column col is looked for under: the mapped name, or the canonical one. */
const char *csvmap_header(const struct csvmap *m, const struct csv_type *t, size_t col);

/* The config line that names column col's header (0 when the header is canonical). */
int csvmap_header_line(const struct csvmap *m, size_t col);

/* Room for the rewritten fields of one row. */
struct csvmap_row {
    char buf[CSV_MAX_COLS][CSVMAP_FIELD_MAX];
};

/* Rewrites the present fields of f as the mapping says. A rewritten field points into row
 * or into m (NUL-terminated), valid until row is used again. Returns true, or false
 * with f->reason (invalid_value) and f->bad set. Any thread, m is only read. */
bool csvmap_apply(const struct csvmap *m, struct csv_fields *f, struct csvmap_row *row);

/* Prints the mapping keys with their help, as the config tables do (--help). */
void csvmap_usage(FILE *f);

/* Reads a value map from the len bytes at buf (CSV with the header from,to). Returns 0
 * with *out, or -EINVAL with a message (line numbers, never a value) in err. Caller frees
 * with csvmap_vmap_free. Exposed for the fuzz target. */
struct csvmap_vmap;
int csvmap_vmap_parse(const char *buf, size_t len, struct csvmap_vmap **out, char *err,
                      size_t errlen);
/* The value a maps to (NUL-terminated, owned by v), or NULL. */
const char *csvmap_vmap_get(const struct csvmap_vmap *v, const char *s, size_t len);
size_t csvmap_vmap_count(const struct csvmap_vmap *v);
void csvmap_vmap_free(struct csvmap_vmap *v);

#endif
