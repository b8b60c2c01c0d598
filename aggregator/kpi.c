/* kpi.c - the KPI engine's driver: windows, group accumulators, population groups. */
#include "aggregator/kpi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aggregator/config.h"
#include "aggregator/kpi_internal.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

const char *const kpi_breakdowns[] = {"org",  "site",        "department",      "role",
                                      "tool", "hybrid_role", "adoption_cohort", NULL};

int kpi_window_parse(const char *w, int32_t as_of, int32_t *s, int32_t *e, char *err, size_t errlen)
{
    size_t len = strlen(w);
    if (len >= 2 && len <= 4 && w[len - 1] == 'd') {
        int n = 0;
        size_t i = 0;
        for (; i < len - 1 && w[i] >= '0' && w[i] <= '9'; i++)
            n = n * 10 + (w[i] - '0');
        if (i == len - 1 && w[0] != '0' && n >= 1 && n <= 730) {
            *e = as_of;
            *s = as_of - n + 1;
            return 0;
        }
    } else if (len == 6 && w[4] == 'Q' && w[5] >= '1' && w[5] <= '4') {
        int y = 0, i = 0;
        for (; i < 4 && w[i] >= '0' && w[i] <= '9'; i++)
            y = y * 10 + (w[i] - '0');
        if (i == 4) {
            int q = w[5] - '0';
            int32_t qs = day_from_civil(y, 3 * q - 2, 1);
            int32_t qe =
                (q == 4 ? day_from_civil(y + 1, 1, 1) : day_from_civil(y, 3 * q + 1, 1)) - 1;
            if (qs > as_of) {
                char d[11];
                format_date(as_of, d);
                snprintf(err, errlen, "quarter %s starts after the as-of day %s", w, d);
                return -EINVAL;
            }
            *s = qs;
            *e = qe < as_of ? qe : as_of;
            return 0;
        }
    }
    snprintf(err, errlen, "window '%s' is not Nd (1 <= N <= 730) or YYYYQn (n = 1..4)", w);
    return -EINVAL;
}

void groups_init(struct groups *g, const struct kpi_model *m, int with_cohort)
{
    memset(g, 0, sizeof *g);
    g->site = xcalloc(m->sites.n + 1, sizeof *g->site);
    g->dept = xcalloc(m->depts.n + 1, sizeof *g->dept);
    g->role = xcalloc(m->roles.n + 1, sizeof *g->role);
    g->with_cohort = with_cohort;
}

void groups_free(struct groups *g)
{
    xfree(g->site);
    xfree(g->dept);
    xfree(g->role);
}

void cell_add(struct cell *c, double num, double den, uint32_t person)
{
    c->num += num;
    c->den += den;
    if (person && c->stamp != person) {
        c->stamp = person;
        c->persons++;
    }
}

void groups_add(struct groups *g, const struct episode *ep, double num, double den, uint32_t person)
{
    cell_add(&g->org, num, den, person);
    cell_add(&g->site[ep->site], num, den, person);
    cell_add(&g->dept[ep->dept], num, den, person);
    cell_add(&g->role[ep->role], num, den, person);
}

void groups_add_cohort(struct groups *g, int adopter, double num, double den, uint32_t person)
{
    cell_add(&g->cohort[adopter ? 1 : 0], num, den, person);
}

static void scale_cells(struct cell *c, size_t n, const double *f)
{
    for (size_t i = 0; i < n; i++) {
        c[i].num = c[i].num * f[0] / f[1];
        c[i].den = c[i].den * f[2] / f[3];
    }
}

void groups_scale(struct groups *g, const struct kpi_model *m, double nmul, double ndiv,
                  double dmul, double ddiv)
{
    const double f[] = {nmul, ndiv, dmul, ddiv};
    scale_cells(&g->org, 1, f);
    scale_cells(g->site, m->sites.n, f);
    scale_cells(g->dept, m->depts.n, f);
    scale_cells(g->role, m->roles.n, f);
    scale_cells(g->cohort, 2, f);
}

void cells_emit(const struct cell *c, size_t n, const struct strtab *tab, const struct kwin *w,
                const char *kpi, const char *by)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].den > 0)
            kpi_table_add(w->t, kpi, w->name, by, tab ? tab->str[i] : "all", c[i].num, c[i].den,
                          c[i].persons, w->s, w->e);
}

void groups_emit(const struct groups *g, const struct kwin *w, const char *kpi)
{
    cells_emit(&g->org, 1, NULL, w, kpi, "org");
    cells_emit(g->site, w->m->sites.n, &w->m->sites, w, kpi, "site");
    cells_emit(g->dept, w->m->depts.n, &w->m->depts, w, kpi, "department");
    cells_emit(g->role, w->m->roles.n, &w->m->roles, w, kpi, "role");
    if (g->with_cohort) {
        static const char *const names[] = {"non_adopter", "adopter"};
        for (int i = 0; i < 2; i++)
            if (g->cohort[i].den > 0)
                kpi_table_add(w->t, kpi, w->name, "adoption_cohort", names[i], g->cohort[i].num,
                              g->cohort[i].den, g->cohort[i].persons, w->s, w->e);
    }
}

int person_active(const struct kwin *w, const struct person *p)
{
    for (uint32_t i = 0; i < p->nact; i++) {
        int32_t d = p->act[i].day;
        if (d >= w->s && d <= w->e && kpi_episode_on(p, d))
            return 1;
    }
    return 0;
}

const struct episode *population_group(const struct kwin *w, const struct person *p)
{
    /* Last employed day in W: the latest min(end, e) over episodes overlapping W. */
    int32_t last = INT32_MIN;
    for (uint32_t i = 0; i < p->neps; i++) {
        const struct episode *ep = &p->eps[i];
        if (ep->start <= w->e && ep->end >= w->s) {
            int32_t d = ep->end < w->e ? ep->end : w->e;
            if (d > last)
                last = d;
        }
    }
    return last == INT32_MIN ? NULL : kpi_episode_on(p, last);
}

void kpi_compute_window(const struct kpi_model *m, const struct kpi_params *p, const char *window,
                        struct kpi_table *t)
{
    int32_t s, e;
    char err[128];
    if (kpi_window_parse(window, p->as_of, &s, &e, err, sizeof err))
        return;
    /* The window's rows are built and suppressed on their own, then appended. */
    struct kpi_table win = {.as_of = p->as_of};
    struct kwin w = {.m = m, .p = p, .name = window, .s = s, .e = e, .t = &win};
    kpi_adoption(&w);
    kpi_burnout(&w);
    kpi_retention(&w);
    kpi_literacy(&w);
    kpi_table_sort(&win);
    kpi_suppress(&w);
    if (win.n) {
        xgrow((void **)&t->rows, &t->cap, t->n + win.n, sizeof *t->rows);
        memcpy(t->rows + t->n, win.rows, win.n * sizeof *win.rows);
        t->n += win.n;
    }
    xfree(win.rows); /* the groups now belong to t */
    kpi_table_sort(t);
}

void kpi_params_init(struct kpi_params *p, const struct agg_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->as_of = agg_config_as_of(cfg);
    p->as_of_auto = !cfg->has_as_of;
    p->min_group_size = cfg->min_group_size;
    p->contract_hours_micro = cfg->contract_hours_micro;
    p->burnout_overtime_ratio = cfg->burnout_overtime_ratio;
    p->burnout_long_shift_share = cfg->burnout_long_shift_share;
    p->burnout_wow8_seconds = cfg->burnout_wow8_seconds;
    p->burnout_sickness_ratio = cfg->burnout_sickness_ratio;
    p->burnout_short_rests = cfg->burnout_short_rests;
    p->burnout_min_flags = cfg->burnout_min_flags;
    p->literacy_courses = cfg->literacy_courses;
}
