/* kpi_internal.h - what the KPI family files share: the window and group accumulators. */
#ifndef CADRE_KPI_INTERNAL_H
#define CADRE_KPI_INTERNAL_H

#include "aggregator/kpi.h"

/* One window being computed. */
struct kwin {
    const struct kpi_model *m;
    const struct kpi_params *p;
    const char *name;
    int32_t s, e;
    struct kpi_table *t;
};

/* One cell's running sums. */
struct cell {
    double num, den;
    int64_t persons;
};

/* Cells of the org, site, department and role breakdowns of one KPI. */
struct groups {
    struct cell org;
    struct cell *site, *dept, *role; /* indexed by strtab id */
};

void groups_init(struct groups *g, const struct kpi_model *m);
void groups_free(struct groups *g);
/* Adds to the org cell and to the cells of ep's site, department and role. */
void groups_add(struct groups *g, const struct episode *ep, double num, double den,
                int64_t persons);
/* Emits a row for every cell with den > 0 of the org, site, department and role
 * breakdowns. */
void groups_emit(const struct groups *g, const struct kwin *w, const char *kpi);
/* Emits rows for an array of n cells labelled by tab (by = by_name). */
void cells_emit(const struct cell *c, size_t n, const struct strtab *tab, const struct kwin *w,
                const char *kpi, const char *by);

/* The episode of the person's group on their last employed day in W, or NULL when the
 * person is not in Population(W). */
const struct episode *population_group(const struct kwin *w, const struct person *p);

void kpi_adoption(const struct kwin *w);

/* Primary, complementary and linked suppression of the window's rows w->t (sorted). */
void kpi_suppress(const struct kwin *w);

#endif
