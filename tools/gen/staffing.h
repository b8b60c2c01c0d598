/* staffing.h - staffing.csv: every episode in its own site's export, spelt like an HR export. */
#ifndef CADRE_GEN_STAFFING_H
#define CADRE_GEN_STAFFING_H

#include "tools/gen/badrows.h"
#include "tools/gen/emit.h"
#include "tools/gen/world.h"

/* Writes every person's episodes (and the planned invalid rows) to the staffing files. */
void staffing_write(const struct world *w, struct emit *e, struct badplan *bp);

#endif
