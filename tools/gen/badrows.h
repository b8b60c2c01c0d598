/* badrows.h - deliberately invalid rows: a few of each rejection reason in every file. */
#ifndef CADRE_GEN_BADROWS_H
#define CADRE_GEN_BADROWS_H

#include <stddef.h>
#include <stdint.h>

#include "tools/gen/emit.h"
#include "tools/gen/world.h"

/* Where each invalid row goes: a day for the daily files, a person's position for
 * staffing.csv and licences.csv (badplan_by_person()). */
struct badslot {
    int32_t at;
    uint8_t type, site, reason, variant;
};

struct badplan {
    struct badslot *slot; /* sorted by (type, at) */
    size_t n;
    size_t next[NTYPES]; /* per type: the next slot to write */
    size_t end[NTYPES];  /* per type: one past its last slot */
};

/* Plans 2 or 3 rows per reason for every (site, file); none when !enabled. Caller frees
 * with badplan_free(). */
void badplan_make(struct badplan *b, const struct world *w, int enabled);
void badplan_free(struct badplan *b);

/* Whether the invalid rows of `type` are placed by person (written in person order, not
 * day by day). */
static inline int badplan_by_person(int type)
{
    return type == REC_STAFFING || type == REC_LICENCE;
}

/* Writes the rows of `type` planned at or before `at`, in plan order. */
void badplan_emit(struct badplan *b, struct emit *e, int type, int32_t at);

#endif
