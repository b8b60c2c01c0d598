/* prom.c - text exposition: families, escaped labels, KPI gauges. */
#include "exporters/prom.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void escape(struct sbuf *b, const char *s, int help)
{
    for (; *s; s++) {
        if (*s == '\\')
            sbuf_adds(b, "\\\\");
        else if (*s == '\n')
            sbuf_adds(b, "\\n");
        else if (*s == '"' && !help)
            sbuf_adds(b, "\\\"");
        else
            sbuf_add(b, s, 1);
    }
}

void prom_family(struct sbuf *b, const char *name, const char *type, const char *help)
{
    sbuf_printf(b, "# HELP %s ", name);
    escape(b, help, 1);
    sbuf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void sample_va(struct sbuf *b, const char *name, double value, va_list ap)
{
    sbuf_adds(b, name);
    const char *k = va_arg(ap, const char *);
    if (k) {
        sbuf_adds(b, "{");
        for (int first = 1; k; k = va_arg(ap, const char *), first = 0) {
            const char *v = va_arg(ap, const char *);
            sbuf_printf(b, "%s%s=\"", first ? "" : ",", k);
            escape(b, v, 0);
            sbuf_adds(b, "\"");
        }
        sbuf_adds(b, "}");
    }
    char num[32];
    kpi_format_double(value, num);
    sbuf_printf(b, " %s\n", num);
}

void prom_sample(struct sbuf *b, const char *name, double value, ...)
{
    va_list ap;
    va_start(ap, value);
    sample_va(b, name, value, ap);
    va_end(ap);
}

/* The outcome of a load-off change KPI ("wow8" of "loadoff_wow8_change") into out, or 0. */
static int loadoff_outcome(const char *kpi, char *out, size_t n)
{
    size_t len = strlen(kpi);
    if (strncmp(kpi, "loadoff_", 8) != 0 || len < 8 + 7 || strcmp(kpi + len - 7, "_change") != 0 ||
        len - 15 >= n)
        return 0;
    memcpy(out, kpi + 8, len - 15);
    out[len - 15] = '\0';
    return 1;
}

/* cadre_loadoff_adopters or _controls{window,by,group,outcome} of the published change
 * cells, when defs has load-off change KPIs. */
static void render_loadoff_counts(struct sbuf *b, const struct kpi_table *t,
                                  const struct kpi_def *defs, size_t ndefs, const char *name,
                                  const char *help)
{
    char outcome[32];
    int any = 0;
    for (size_t f = 0; f < ndefs && !any; f++)
        any = loadoff_outcome(defs[f].name, outcome, sizeof outcome);
    if (!any)
        return;
    prom_family(b, name, "gauge", help);
    int adopters = strcmp(name, "cadre_loadoff_adopters") == 0;
    for (size_t f = 0; f < ndefs; f++) {
        if (!loadoff_outcome(defs[f].name, outcome, sizeof outcome))
            continue;
        for (size_t i = 0; i < t->n; i++) {
            const struct kpi_row *r = &t->rows[i];
            if (!r->suppressed && strcmp(r->kpi, defs[f].name) == 0 &&
                kpi_def_has_window(&defs[f], r->window))
                prom_sample(b, name, adopters ? r->denominator : (double)r->controls, "window",
                            r->window, "by", r->by, "group", r->group, "outcome", outcome,
                            (const char *)NULL);
        }
    }
}

void prom_render_kpis(struct sbuf *b, const struct kpi_table *t, const struct kpi_def *defs,
                      size_t ndefs)
{
    char name[96];
    for (size_t f = 0; f < ndefs; f++) {
        snprintf(name, sizeof name, "cadre_%s", defs[f].name);
        prom_family(b, name, "gauge", defs[f].help);
        for (size_t i = 0; i < t->n; i++) {
            const struct kpi_row *r = &t->rows[i];
            if (!r->suppressed && strcmp(r->kpi, defs[f].name) == 0 &&
                kpi_def_has_window(&defs[f], r->window))
                prom_sample(b, name, kpi_row_value(r), "window", r->window, "by", r->by, "group",
                            r->group, (const char *)NULL);
        }
    }
    render_loadoff_counts(b, t, defs, ndefs, "cadre_loadoff_adopters",
                          "Adopters counted in a published load-off change cell (its "
                          "denominator), by outcome.");
    render_loadoff_counts(b, t, defs, ndefs, "cadre_loadoff_controls",
                          "Distinct controls used by the adopters of a published load-off change "
                          "cell, by outcome.");
}
