/* report_html.h - the quarterly executive report: one self-contained HTML page. */
#ifndef CADRE_REPORT_HTML_H
#define CADRE_REPORT_HTML_H

#include "common/sbuf.h"
#include "exporters/kpi_table.h"

#define REPORT_QUARTERS 4

/* What the report shows. quarter[0] is the reported quarter, quarter[1] the one before,
 * and so on (older quarters may be missing: NULL name, empty table). Tables hold the rows
 * of /api/v1/kpis?window=<quarter>, suppression applied. */
struct report_input {
    const char *quarter[REPORT_QUARTERS];
    const struct kpi_table *table[REPORT_QUARTERS];
    int32_t as_of;
    const char *org_name;   /* shown in the title; may be NULL */
    int64_t min_group_size; /* k, quoted in the suppression notes; 0 = not given */
};

/* Renders the page into b (appends; the caller owns b): overview of org-level KPIs with
 * quarter-on-quarter change, adoption by department as bars, four-quarter trends (inline
 * SVG), department tables, definitions and footnotes. The page is valid UTF-8 and
 * well-formed XML (group names are escaped; invalid bytes become U+FFFD), has no external
 * references and prints on A4 and Letter. Suppressed cells are never read for a number.
 * The tables need not be sorted. Thread: any; in is only read. */
void report_html(struct sbuf *b, const struct report_input *in);

#endif
