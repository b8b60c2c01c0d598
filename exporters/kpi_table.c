/* kpi_table.c - growing, sorting and searching KPI rows. */
#include "exporters/kpi_table.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"

double kpi_row_value(const struct kpi_row *r)
{
    double v = r->numerator / r->denominator;
    return r->sqrt_value ? sqrt(v) : v;
}

struct kpi_row *kpi_table_add(struct kpi_table *t, const char *kpi, const char *window,
                              const char *by, const char *group, double num, double den,
                              int64_t persons, int32_t s, int32_t e)
{
    xgrow((void **)&t->rows, &t->cap, t->n + 1, sizeof *t->rows);
    struct kpi_row *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    r->kpi = kpi;
    snprintf(r->window, sizeof r->window, "%s", window);
    r->by = by;
    r->group = xstrdup(group);
    r->numerator = num;
    r->denominator = den;
    r->persons = persons;
    r->window_start = s;
    r->window_end = e;
    return r;
}

void kpi_table_clear(struct kpi_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        xfree(t->rows[i].group);
    xfree(t->rows);
    t->rows = NULL;
    t->n = t->cap = 0;
}

static int cell_cmp(const char *ak, const char *aw, const char *ab, const char *ag,
                    const struct kpi_row *b)
{
    int c = strcmp(ak, b->kpi);
    if (!c)
        c = strcmp(aw, b->window);
    if (!c)
        c = strcmp(ab, b->by);
    if (!c)
        c = strcmp(ag, b->group);
    return c;
}

static int row_cmp(const void *x, const void *y)
{
    const struct kpi_row *a = x;
    return cell_cmp(a->kpi, a->window, a->by, a->group, y);
}

void kpi_table_sort(struct kpi_table *t)
{
    if (t->n)
        qsort(t->rows, t->n, sizeof *t->rows, row_cmp);
}

const struct kpi_row *kpi_table_find(const struct kpi_table *t, const char *kpi, const char *window,
                                     const char *by, const char *group)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cell_cmp(kpi, window, by, group, &t->rows[mid]);
        if (c == 0)
            return &t->rows[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void kpi_format_double(double v, char *out)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 9; prec <= 17; prec++) {
        snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}
