/* prom.h - Prometheus text exposition format 0.0.4. */
#ifndef CADRE_PROM_H
#define CADRE_PROM_H

#include <stddef.h>

#include "common/sbuf.h"
#include "exporters/kpi_catalogue.h"
#include "exporters/kpi_table.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes "# HELP name help" and "# TYPE name type" (help escaped). */
void prom_family(struct sbuf *b, const char *name, const char *type, const char *help);
/* Writes one sample: name{k1="v1",...} value. labels is k1, v1, k2, v2, ..., NULL; values
 * are escaped (backslash, double quote, newline). */
void prom_sample(struct sbuf *b, const char *name, double value, ...);

/* Renders gauges cadre_<name>{window,by,group} for the published (unsuppressed) rows of t
 * (sorted) of each KPI of defs (normally the whole catalogue) in one of its /metrics
 * windows, HELP and TYPE once per KPI even when it has no rows. When defs has load-off
 * change KPIs, also cadre_loadoff_adopters and cadre_loadoff_controls{window,by,group,
 * outcome} for their published cells (the dashboards' "how many" panels). */
void prom_render_kpis(struct sbuf *b, const struct kpi_table *t, const struct kpi_def *defs,
                      size_t ndefs);

#endif
