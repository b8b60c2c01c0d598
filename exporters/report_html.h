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
    const char *org_name; /* shown in the title; may be NULL */
};

/* Renders the page into b: overview of org-level KPIs with quarter-on-quarter change,
 * adoption by department as bars, four-quarter trends (inline SVG), department tables,
 * definitions and footnotes. No external references; prints on A4 and Letter. */
void report_html(struct sbuf *b, const struct report_input *in);

#endif
