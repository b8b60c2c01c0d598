/* kpi_cells.c - cell accumulators of the KPI families and the rows they emit. */
#include "aggregator/kpi_cells.h"

#include <string.h>

#include "common/xalloc.h"

void kpi_groups_init(struct kpi_groups *g, const struct kpi_model *m, int with_cohort)
{
    memset(g, 0, sizeof *g);
    g->site = xcalloc(m->sites.n + 1, sizeof *g->site);
    g->dept = xcalloc(m->depts.n + 1, sizeof *g->dept);
    g->role = xcalloc(m->roles.n + 1, sizeof *g->role);
    g->with_cohort = with_cohort;
}

void kpi_groups_free(struct kpi_groups *g)
{
    xfree(g->site);
    xfree(g->dept);
    xfree(g->role);
}

void kpi_cell_add(struct kpi_cell *c, double num, double den, uint32_t person)
{
    c->num += num;
    c->den += den;
    if (person && c->stamp != person) {
        c->stamp = person;
        c->persons++;
    }
}

void kpi_groups_add(struct kpi_groups *g, const struct episode *ep, double num, double den,
                    uint32_t person)
{
    kpi_cell_add(&g->org, num, den, person);
    kpi_cell_add(&g->site[ep->site], num, den, person);
    kpi_cell_add(&g->dept[ep->dept], num, den, person);
    kpi_cell_add(&g->role[ep->role], num, den, person);
}

void kpi_groups_add_cohort(struct kpi_groups *g, int adopter, double num, double den,
                           uint32_t person)
{
    kpi_cell_add(&g->cohort[adopter ? 1 : 0], num, den, person);
}

static void part_add(struct kpi_cell *c, double num, uint32_t who)
{
    if (c->part_who != who) {
        if (c->part > 0) {
            c->contributors++;
            if (c->part > c->max_part)
                c->max_part = c->part;
        }
        c->part_who = who;
        c->part = 0;
    }
    c->part += num;
    c->num += num;
}

void kpi_groups_add_part(struct kpi_groups *g, const struct episode *ep, int adopter, double num,
                         uint32_t who)
{
    part_add(&g->org, num, who);
    part_add(&g->site[ep->site], num, who);
    part_add(&g->dept[ep->dept], num, who);
    part_add(&g->role[ep->role], num, who);
    part_add(&g->cohort[adopter ? 1 : 0], num, who);
}

static void dominance_cells(struct kpi_cell *c, size_t n, const struct kpi_params *p)
{
    for (size_t i = 0; i < n; i++) {
        part_add(&c[i], 0, 0); /* finishes the last person's part */
        if (!(c[i].num > 0))
            continue;
        /* Parts and numerators are sums of micro units, exact integers in a double. */
        __int128 max = (__int128)(int64_t)c[i].max_part, num = (__int128)(int64_t)c[i].num;
        c[i].dominated = c[i].contributors < p->dominance_min_contributors ||
                         max * 1000000 > (__int128)p->dominance_max_share * num;
    }
}

void kpi_groups_dominance(struct kpi_groups *g, const struct kpi_model *m,
                          const struct kpi_params *p)
{
    if (p->dominance_min_contributors <= 0)
        return;
    dominance_cells(&g->org, 1, p);
    dominance_cells(g->site, m->sites.n, p);
    dominance_cells(g->dept, m->depts.n, p);
    dominance_cells(g->role, m->roles.n, p);
    dominance_cells(g->cohort, 2, p);
}

static void scale_cells(struct kpi_cell *c, size_t n, const double *f)
{
    for (size_t i = 0; i < n; i++) {
        c[i].num = c[i].num * f[0] / f[1];
        c[i].den = c[i].den * f[2] / f[3];
    }
}

void kpi_groups_scale(struct kpi_groups *g, const struct kpi_model *m, double nmul, double ndiv,
                      double dmul, double ddiv)
{
    const double f[] = {nmul, ndiv, dmul, ddiv};
    scale_cells(&g->org, 1, f);
    scale_cells(g->site, m->sites.n, f);
    scale_cells(g->dept, m->depts.n, f);
    scale_cells(g->role, m->roles.n, f);
    scale_cells(g->cohort, 2, f);
}

void kpi_cell_emit(const struct kpi_cell *c, const struct kpi_window *w, const char *kpi,
                   const char *by, const char *group)
{
    if (c->den > 0)
        kpi_table_add(w->t, kpi, w->name, by, group, c->num, c->den, c->persons, w->s, w->e)
            ->dominated = c->dominated;
}

void kpi_cells_emit(const struct kpi_cell *c, size_t n, const struct strtab *tab,
                    const struct kpi_window *w, const char *kpi, const char *by)
{
    for (size_t i = 0; i < n; i++)
        kpi_cell_emit(&c[i], w, kpi, by, tab ? tab->str[i] : "all");
}

void kpi_groups_emit(const struct kpi_groups *g, const struct kpi_window *w, const char *kpi)
{
    kpi_cells_emit(&g->org, 1, NULL, w, kpi, "org");
    kpi_cells_emit(g->site, w->m->sites.n, &w->m->sites, w, kpi, "site");
    kpi_cells_emit(g->dept, w->m->depts.n, &w->m->depts, w, kpi, "department");
    kpi_cells_emit(g->role, w->m->roles.n, &w->m->roles, w, kpi, "role");
    if (g->with_cohort) {
        kpi_cell_emit(&g->cohort[0], w, kpi, "adoption_cohort", "non_adopter");
        kpi_cell_emit(&g->cohort[1], w, kpi, "adoption_cohort", "adopter");
    }
}
