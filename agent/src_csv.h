/* src_csv.h - what the five CSV snapshot sources share: columns, field checks, diffing.
 *
 * A CSV type is a column list and a build callback that turns one row into a record. The
 * machinery finds the newest file of the glob, reads it when its identity (inode, size,
 * mtime) changed, keeps the later of two rows with one key, ships the rows whose packed
 * record differs from what was shipped for that key before (checkpoint: a map file of
 * key -> hash) and, for an authoritative source, a tombstone for every key shipped before
 * and gone now. Rows are sorted in bounded memory (extsort.h) and merged with the map file
 * as streams, so memory does not grow with the snapshot.
 */
#ifndef CADRE_AGENT_SRC_CSV_H
#define CADRE_AGENT_SRC_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/source.h"
#include "cadre.pb-c.h"
#include "common/reckey.h"

#define CSV_MAX_COLS 12
struct pseudonym_cache;

/* What a column holds, for the vendor mappings that rewrite it (csvmap.h). */
enum csv_kind {
    CSV_TEXT,    /* ids, labels, enums */
    CSV_DATE,    /* YYYY-MM-DD; date_format applies */
    CSV_INSTANT, /* RFC 3339; timestamp_format and timezone apply */
    CSV_NUMBER,  /* a decimal */
    CSV_MINUTES, /* a decimal of minutes; minutes_from_hours applies */
};

struct csv_col {
    const char *name;   /* header name, matched trimmed and case-insensitively */
    enum csv_kind kind; /* CSV_TEXT when not given */
};

/* One row's fields in the type's column order, trimmed. s[i] is NULL when the header has
 * no such column; an empty field has len 0. The helpers below record why a row fails. */
struct csv_fields {
    const char *s[CSV_MAX_COLS];
    size_t len[CSV_MAX_COLS];
    const struct csv_col *cols;
    int reason;      /* SRC_* of the first failure */
    const char *bad; /* column named in the rejection */
};

/* Where a build callback puts the record: rec points at one of the bodies, key at key. */
struct csv_out {
    Cadre__Record rec;
    union {
        Cadre__Staffing staffing;
        Cadre__Shift shift;
        Cadre__Absence absence;
        Cadre__Ehr ehr;
        Cadre__Training training;
        Cadre__Licence licence;
    } body;
    uint8_t staff[STAFF_KEY_LEN];
    uint8_t key[RECKEY_MAX];
};

struct csv_type {
    int rec_type; /* REC_* */
    const struct csv_col *cols;
    size_t ncols;
    /* Checks a row and fills out (rec.body and rec.key; type is set by the caller).
     * Returns true, or false after a helper recorded the reason in f. */
    bool (*build)(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *out);
};

/* Shared source callbacks; the type's struct source_type passes its csv_type through
 * src_csv_init. */
int src_csv_init(void **ctx, const struct csv_type *t, const struct source_opts *opts,
                 const struct source_env *env);
int src_csv_poll(void *ctx, const struct source_env *env);
void src_csv_fini(void *ctx);

/* Sets the sort buffer of the instance ctx (from src_csv_init) to about bytes: rows past it
 * go to sorted runs in temporary files (docs/agent.md). The default is 8 MiB; tests make
 * it small. Between polls only. */
void src_csv_set_run_bytes(void *ctx, size_t bytes);

/* For --check: reads the header of the newest file the source's path matches and prints
 * to f, for each column whose mapped header (csvmap.h) is not in it, a line
 * "[source NAME] FILE has no column 'HEADER' (CANONICAL)". Canonical headers are not
 * listed: an optional column may be left out. Returns how many are missing (0 also when no file
 * matches or it cannot be read: the source may not have its first export yet). */
int src_csv_check_header(const struct csv_type *t, const char *name, const struct source_opts *o,
                         FILE *f);

/* The config table of every CSV type: path, authoritative. */
extern const struct opt src_csv_config[];

/* Field helpers. Each returns true when the field is good; otherwise it records
 * (reason, column) in f and returns false. With present == NULL the field is required (an
 * empty one is missing_field); otherwise an empty field sets *present = false. */
bool csvf_fail(struct csv_fields *f, int col, int reason);
bool csvf_staff(struct csv_fields *f, int col, struct pseudonym_cache *p, uint8_t out[16]);
bool csvf_date(struct csv_fields *f, int col, bool *present, int32_t *day);
bool csvf_instant(struct csv_fields *f, int col, int64_t *us, int32_t *day);
/* A decimal in millionths within [min, max]; min_open makes the lower bound exclusive. */
bool csvf_decimal(struct csv_fields *f, int col, bool *present, int64_t *v, int64_t min,
                  bool min_open, int64_t max);
/* One of names[0..n) (case-insensitive); *val = index + 1, or 0 when absent. */
bool csvf_enum(struct csv_fields *f, int col, bool *present, const char *const *names, int n,
               int *val);
/* 1..max bytes of printable UTF-8; *s points at the field (NUL-terminated). */
bool csvf_label(struct csv_fields *f, int col, bool *present, size_t max, const char **s);

/* Sets out->rec.key to the first len bytes of out->key. */
void csv_out_key(struct csv_out *out, size_t len);

#endif
