/* days.h - the day loop: shifts, absences, EHR days, AI-tool usage and course completions. */
#ifndef CADRE_GEN_DAYS_H
#define CADRE_GEN_DAYS_H

#include "tools/gen/badrows.h"
#include "tools/gen/emit.h"
#include "tools/gen/world.h"

/* Generates every dated record from w->from to w->to, day by day, into e (usage lines of a
 * day sorted by instant), with the planned invalid rows. Progress goes to stderr unless
 * quiet. */
void days_run(const struct world *w, struct emit *e, struct badplan *bp, int quiet);

#endif
