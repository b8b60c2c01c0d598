/* licences.h - licences.csv: AI-tool seats that agree with the usage logs. */
#ifndef CADRE_GEN_LICENCES_H
#define CADRE_GEN_LICENCES_H

#include "tools/gen/badrows.h"
#include "tools/gen/emit.h"
#include "tools/gen/world.h"

/* Writes every person's and ghost's seats as the export of --to would hold them (and the
 * planned invalid rows) to the licences files: each day a person may log a tool lies in one
 * of their seats of that tool (docs/generator.md). Needs no state beyond the world; runs in
 * person order like staffing_write(). */
void licences_write(const struct world *w, struct emit *e, struct badplan *bp);

#endif
