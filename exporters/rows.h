/* rows.h - KPI rows as CSV and JSON (the API's and the quarterly export's row format). */
#ifndef CADRE_ROWS_H
#define CADRE_ROWS_H

#include "common/sbuf.h"
#include "exporters/kpi_table.h"

struct rows_opts {
    const char *by;               /* only rows of this breakdown; NULL = every breakdown */
    const struct kpi_table *prev; /* when set, adds prev_value and delta from this table
                                   * (same kpi, by and group; any window) */
};

/* CSV: header row, then one line per row; suppressed rows have empty value, numerator and
 * denominator. */
void rows_csv(struct sbuf *b, const struct kpi_table *t, const struct rows_opts *o);
/* JSON: {"as_of": "YYYY-MM-DD", "rows": [...]}; numbers or null. */
void rows_json(struct sbuf *b, const struct kpi_table *t, const struct rows_opts *o);

/* The previous-period row of r in prev (same kpi, by, group), or NULL. */
const struct kpi_row *rows_prev(const struct kpi_table *prev, const struct kpi_row *r);

#endif
