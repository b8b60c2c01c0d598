/* suppress.h - small-group suppression of a window's KPI rows (docs/privacy.md). */
#ifndef CADRE_SUPPRESS_H
#define CADRE_SUPPRESS_H

#include "aggregator/kpi_cells.h"

/* Marks the rows of w->t (sorted, all of window w) that must not be published: primary
 * (person count below min_group_size, unless the KPI's catalogue rule says never), then
 * complementary and linked rounds until a round adds nothing. */
void suppress_window(const struct kpi_window *w);

#endif
