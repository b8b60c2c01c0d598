/* emit.h - the per-site output files, the row formats of each export, and their tallies. */
#ifndef CADRE_GEN_EMIT_H
#define CADRE_GEN_EMIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/reckey.h"
#include "tools/gen/keyset.h"
#include "tools/gen/out.h"
#include "tools/gen/world.h"

#define NTYPES (REC_TYPE_MAX + 1) /* indexed by enum rec_type; 0 unused */
/* The last type the generator writes (every type: the per-type tables and loops of tools/gen
 * stop here). */
#define GEN_TYPE_MAX REC_LICENCE

enum bad_reason { BAD_MALFORMED, BAD_MISSING_FIELD, BAD_INVALID_VALUE, BAD_COUNT };

extern const char *const bad_reason_names[BAD_COUNT];

/* What one file received. */
struct tally {
    uint64_t rows; /* data rows written (header and blank lines aside) */
    uint64_t keys; /* distinct valid record keys */
    uint64_t bad[BAD_COUNT];
    uint64_t unmatched; /* of keys: staff not employed on the record's day (training:
                           staff with no episode at all; licence: on none of its days) */
};

struct emit {
    const struct world *w;
    struct out file[MAX_SITES][NTYPES];
    struct tally tally[MAX_SITES][NTYPES];
    struct keyset keys; /* keys seen today (cleared by the day loop) */
};

/* Creates dir, dir/<site>/ and every export with its header. Returns 0 or -errno with a
 * message in err. Caller ends with emit_close() either way. */
int emit_open(struct emit *e, const struct world *w, const char *dir, char *err, size_t errlen);

/* Closes every file. Returns 0 or the first -errno, with the path in err. */
int emit_close(struct emit *e, const char *dir, char *err, size_t errlen);

/* Writes dir/summary.txt (format in docs/generator.md). `args` goes into its first line.
 * Returns 0 or -errno. */
int emit_summary(const struct emit *e, const char *dir, const char *args);

/* A deliberately invalid row of `type` for `reason`, written as given (with its line end). */
void emit_bad(struct emit *e, int site, int type, int reason, const char *row, size_t len);

/* An empty line (skipped by readers, not counted). */
void emit_blank(struct emit *e, int site, int type);

/* Valid rows. `who` is the person index (ghosts follow the people) and `matched` whether
 * the staff member is employed on the record's day as written. ids are passed spelt as the
 * file should carry them. */
void emit_shift(struct emit *e, int site, uint32_t who, const char *id, size_t idlen,
                int64_t start_us, int start_off, int64_t end_us, int end_off, int zulu,
                int overtime_cents, int matched);
void emit_absence(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int32_t day,
                  int kind, const char *kind_text, int hours_tenths, const char *note, int matched);
void emit_ehr(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int32_t day,
              int sched_tenths, int ehr_tenths, int outside_tenths, int inbox_tenths, int matched);
void emit_training(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int course,
                   const char *course_text, int32_t day, int score, int matched);
/* A licence row: `tool` as the file spells it (tool_id is its enum tool, for the key),
 * removed DAY_NONE for a seat still assigned, `by` the unknown assigned_by column. */
void emit_licence(struct emit *e, int site, uint32_t who, const char *id, size_t idlen,
                  const char *tool, int tool_id, int32_t assigned, int32_t removed, const char *by,
                  int matched);
/* One JSON line, already formatted without its newline. */
void emit_usage(struct emit *e, int site, const char *line, size_t len, int matched);

/* Counts a valid staffing row keyed (who, start). */
void emit_count_staffing(struct emit *e, int site, uint32_t who, int32_t start);

/* The day of an instant written at offset_min. */
static inline int32_t ts_day(int64_t us, int offset_min)
{
    return (int32_t)((us / 1000000 + (int64_t)offset_min * 60) / 86400);
}

/* Absence kinds as in the key. */
enum { KIND_SICK = 1, KIND_PTO, KIND_OTHER };

#endif
