/* report_html.c - the quarterly executive report (first cut: the org-level table). */
#include "exporters/report_html.h"

#include <string.h>

#include "common/timeutil.h"

static void esc(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': sbuf_adds(b, "&lt;"); break;
        case '>': sbuf_adds(b, "&gt;"); break;
        case '&': sbuf_adds(b, "&amp;"); break;
        case '"': sbuf_adds(b, "&quot;"); break;
        default: sbuf_add(b, s, 1);
        }
    }
}

void report_html(struct sbuf *b, const struct report_input *in)
{
    char asof[11];
    format_date(in->as_of, asof);
    sbuf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<title>Cadre workforce KPIs ");
    esc(b, in->quarter[0]);
    sbuf_adds(b, "</title></head><body><h1>Workforce KPIs ");
    esc(b, in->quarter[0]);
    sbuf_printf(b, "</h1><p>As of %s.</p><table><tr><th>KPI</th><th>Value</th></tr>\n", asof);
    const struct kpi_table *t = in->table[0];
    for (size_t i = 0; i < t->n; i++) {
        const struct kpi_row *r = &t->rows[i];
        if (strcmp(r->by, "org") || r->suppressed)
            continue;
        char v[32];
        kpi_format_double(r->numerator / r->denominator, v);
        sbuf_adds(b, "<tr><td>");
        esc(b, r->kpi);
        sbuf_printf(b, "</td><td>%s</td></tr>\n", v);
    }
    sbuf_adds(b, "</table></body></html>\n");
}
