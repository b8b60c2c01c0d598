/* kpi_cells.h - what a KPI family computes over: the window, its parameters, and the cell
 * accumulators that turn per-person sums into KPI rows (docs/kpi.md).
 *
 * Below the families and above the model: a family adds numerators, denominators and
 * persons into cells of the org, site, department, role (and adoption cohort) breakdowns
 * and emits the cells with a denominator above 0 as rows of the window's table.
 */
#ifndef CADRE_KPI_CELLS_H
#define CADRE_KPI_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregator/kpi_model.h"
#include "exporters/kpi_table.h"

/* The configured parameters every family may read (aggregator config, docs/kpi.md). */
struct kpi_params {
    int32_t as_of;
    bool as_of_auto; /* as_of not configured: yesterday (local time) at each refresh */
    int64_t min_group_size;
    int64_t contract_hours_micro;
    int64_t burnout_overtime_ratio, burnout_long_shift_share, burnout_wow8_seconds,
        burnout_sickness_ratio; /* millionths */
    int64_t burnout_short_rests, burnout_min_flags;
    /* The dominance rule of magnitude cells (docs/privacy.md); 0 contributors: off (the
     * config's minimum is 1, so only callers that leave it unset turn it off). */
    int64_t dominance_min_contributors, dominance_max_share; /* share in millionths */
    int64_t drift_baseline_days;                             /* 0: no drift rows */
    int64_t loadoff_period_days, loadoff_ramp_days, loadoff_min_active_days; /* P 0: none */
    int64_t loadoff_pre_gap_days;
    char **literacy_courses; /* NULL-terminated; empty = every course */
};

/* One window being computed: the days [s, e] and the table its rows go to. */
struct kpi_window {
    const struct kpi_model *m;
    const struct kpi_params *p;
    const char *name; /* "28d", "2026Q3" */
    int32_t s, e;
    struct kpi_table *t;
    void *prep; /* the running family's prepare() result, or NULL */
};

/* One cell's running sums. */
struct kpi_cell {
    double num, den;
    int64_t persons; /* distinct persons counted into the cell */
    uint32_t stamp;  /* the last person counted (index + 1) */
    /* Dominance (kpi_groups_add_part): each person's part of num, in num's exact units. */
    uint32_t part_who;    /* the person whose part is being summed (index + 1) */
    double part;          /* their part so far */
    double max_part;      /* the largest finished part */
    int64_t contributors; /* finished parts above 0 */
    bool dominated;       /* set by kpi_groups_dominance */
};

/* Cells of the org, site, department and role breakdowns of one KPI, and of the
 * adoption cohorts (adopter, non_adopter) when kept. */
struct kpi_groups {
    struct kpi_cell org;
    struct kpi_cell *site, *dept, *role; /* indexed by strtab id; owned */
    struct kpi_cell cohort[2];           /* [1] adopter, [0] non_adopter */
    int with_cohort;
};

/* Adds num and den to c and counts person (index + 1) once in a row of calls; person 0
 * counts nobody. */
void kpi_cell_add(struct kpi_cell *c, double num, double den, uint32_t person);

/* Sizes g for the model's sites, departments and roles. Caller frees with
 * kpi_groups_free(). */
void kpi_groups_init(struct kpi_groups *g, const struct kpi_model *m, int with_cohort);
void kpi_groups_free(struct kpi_groups *g);
/* Adds to the org cell and to the cells of ep's site, department and role. */
void kpi_groups_add(struct kpi_groups *g, const struct episode *ep, double num, double den,
                    uint32_t person);
/* Adds to the cohort cell (adopter or not). */
void kpi_groups_add_cohort(struct kpi_groups *g, int adopter, double num, double den,
                           uint32_t person);
/* Adds num to the numerators of the org, site, department and role cells of ep and of the
 * adoption cohort as person who's (index + 1) part, for the dominance rule; counts no
 * person and adds no denominator. One person's calls must come together (the families
 * take persons in turn), and num must be an exact integer (micro units). */
void kpi_groups_add_part(struct kpi_groups *g, const struct episode *ep, int adopter, double num,
                         uint32_t who);
/* The dominance rule (docs/privacy.md) on every cell of g: dominated when the numerator is
 * above 0 and fewer than p->dominance_min_contributors people have a part above 0, or the
 * largest part exceeds p->dominance_max_share of the numerator (exactly, in 128 bits). Does
 * nothing when p->dominance_min_contributors is 0. Call after the last add, before
 * kpi_groups_scale(); only parts added with kpi_groups_add_part() count. */
void kpi_groups_dominance(struct kpi_groups *g, const struct kpi_model *m,
                          const struct kpi_params *p);
/* Sets every cell's numerator to num * nmul / ndiv and denominator to den * dmul / ddiv
 * (sums kept in exact integer units while accumulating become hours or seconds). */
void kpi_groups_scale(struct kpi_groups *g, const struct kpi_model *m, double nmul, double ndiv,
                      double dmul, double ddiv);
/* Emits a row of kpi for every cell with den > 0 of the org, site, department and role
 * breakdowns (and adoption_cohort when kept). kpi must be a catalogue name. */
void kpi_groups_emit(const struct kpi_groups *g, const struct kpi_window *w, const char *kpi);
/* Emits rows for an array of n cells labelled by tab (by = by_name; tab NULL: group
 * "all"). */
void kpi_cells_emit(const struct kpi_cell *c, size_t n, const struct strtab *tab,
                    const struct kpi_window *w, const char *kpi, const char *by);
/* Emits one cell as the row (kpi, by, group) when its denominator is above 0; the row is
 * marked dominated when the cell is. */
void kpi_cell_emit(const struct kpi_cell *c, const struct kpi_window *w, const char *kpi,
                   const char *by, const char *group);

#endif
