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
    int64_t persons; /* distinct persons counted into the cell */
    uint32_t stamp;  /* the last person counted (index + 1) */
};

/* Cells of the org, site, department and role breakdowns of one KPI, and of the
 * adoption cohorts (adopter, non_adopter) for the burnout family. */
struct groups {
    struct cell org;
    struct cell *site, *dept, *role; /* indexed by strtab id */
    struct cell cohort[2];           /* [1] adopter, [0] non_adopter */
    int with_cohort;
};

/* Adds num and den to c and counts person (index + 1) once; person 0 counts nobody. */
void cell_add(struct cell *c, double num, double den, uint32_t person);

void groups_init(struct groups *g, const struct kpi_model *m, int with_cohort);
void groups_free(struct groups *g);
/* Adds to the org cell and to the cells of ep's site, department and role. */
void groups_add(struct groups *g, const struct episode *ep, double num, double den,
                uint32_t person);
/* Adds to the cohort cell (adopter or not). */
void groups_add_cohort(struct groups *g, int adopter, double num, double den, uint32_t person);
/* Sets every cell's numerator to num * nmul / ndiv and denominator to den * dmul / ddiv
 * (sums kept in exact integer units while accumulating become hours or seconds). */
void groups_scale(struct groups *g, const struct kpi_model *m, double nmul, double ndiv,
                  double dmul, double ddiv);
/* Emits a row for every cell with den > 0 of the org, site, department and role
 * breakdowns (and adoption_cohort when kept). */
void groups_emit(const struct groups *g, const struct kwin *w, const char *kpi);
/* Emits rows for an array of n cells labelled by tab (by = by_name). */
void cells_emit(const struct cell *c, size_t n, const struct strtab *tab, const struct kwin *w,
                const char *kpi, const char *by);

/* The episode of the person's group on their last employed day in W, or NULL when the
 * person is not in Population(W). */
const struct episode *population_group(const struct kwin *w, const struct person *p);

/* Active (matched usage) on some day of W. */
int person_active(const struct kwin *w, const struct person *p);

void kpi_adoption(const struct kwin *w);
void kpi_burnout(const struct kwin *w);
void kpi_retention(const struct kwin *w);
void kpi_literacy(const struct kwin *w);

/* Primary, complementary and linked suppression of the window's rows w->t (sorted). */
void kpi_suppress(const struct kwin *w);

#endif
