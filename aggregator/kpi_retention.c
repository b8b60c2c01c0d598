/* kpi_retention.c - retention, leavers and the hybrid-role KPIs. */
#include <stdio.h>
#include <string.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

#define N_HYBRID 6 /* cadre.proto HybridRole: 0 none, 1..5 the roles */
#define END_VOLUNTARY 3
#define END_INVOLUNTARY 4
#define END_RETIREMENT 5
#define END_OTHER 6

static const char *const hybrid_names[N_HYBRID] = {
    "",
    "clinical_translator",
    "model_governance_lead",
    "data_strategist",
    "ethics_steward",
    "ai_champion",
};

/* How a person spent W, from their day-by-day groups. */
struct cover {
    int64_t days;       /* employed days in W */
    int hybrid_all;     /* holds hybrid role `want` every day of W */
    int any_hybrid_all; /* holds some hybrid role every day of W */
    int want;
};

static void on_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    struct cover *c = ud;
    c->days += (int64_t)to - from + 1;
    if (ep->hybrid != c->want)
        c->hybrid_all = 0;
    if (ep->hybrid == 0)
        c->any_hybrid_all = 0;
}

/* A leaver group: episodes ending in W counted in the ending episode's group, over the
 * mean of the first and last day headcounts of the same group. */
struct leavers {
    struct kpi_groups num, hs, he;
};

static void leavers_emit(struct leavers *l, const struct kpi_window *w, const char *kpi)
{
    /* Fold the two headcounts into the denominator: (Hs + He) / 2, persons rounded down. */
    struct kpi_cell *n[] = {&l->num.org, l->num.site, l->num.dept, l->num.role};
    struct kpi_cell *s[] = {&l->hs.org, l->hs.site, l->hs.dept, l->hs.role};
    struct kpi_cell *e[] = {&l->he.org, l->he.site, l->he.dept, l->he.role};
    size_t len[] = {1, w->m->sites.n, w->m->depts.n, w->m->roles.n};
    for (int b = 0; b < 4; b++) {
        for (size_t i = 0; i < len[b]; i++) {
            double mean = (s[b][i].den + e[b][i].den) / 2;
            n[b][i].den = mean;
            n[b][i].persons = (int64_t)(s[b][i].den + e[b][i].den) / 2;
        }
    }
    kpi_groups_emit(&l->num, w, kpi);
}

static void hybrid_emit(const struct kpi_cell *c, const struct kpi_window *w, const char *kpi)
{
    for (int h = 1; h < N_HYBRID; h++)
        kpi_cell_emit(&c[h], w, kpi, "hybrid_role", hybrid_names[h]);
    kpi_cell_emit(&c[0], w, kpi, "org", "all"); /* index 0 holds the org (the hybrid family) */
}

static void retention_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    struct kpi_groups retention;
    struct leavers all, vol;
    kpi_groups_init(&retention, m, 0);
    kpi_groups_init(&all.num, m, 0), kpi_groups_init(&all.hs, m, 0), kpi_groups_init(&all.he, m, 0);
    kpi_groups_init(&vol.num, m, 0), kpi_groups_init(&vol.hs, m, 0), kpi_groups_init(&vol.he, m, 0);
    /* Hybrid cells: [0] the family (by=org), [1..5] each role. */
    struct kpi_cell in_role[N_HYBRID] = {{0}}, in_org[N_HYBRID] = {{0}}, exits[N_HYBRID] = {{0}};
    int64_t holders_s[N_HYBRID] = {0}, holders_e[N_HYBRID] = {0};
    int64_t span = (int64_t)w->e - w->s + 1;

    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        uint32_t who = pi + 1;
        const struct episode *gs = kpi_episode_on(p, w->s);
        const struct episode *ge = kpi_episode_on(p, w->e);
        struct cover c = {.hybrid_all = 1, .any_hybrid_all = 1, .want = gs ? gs->hybrid : 0};
        kpi_segments(p, w->s, w->e, on_segment, &c);
        int every_day = c.days == span;
        if (gs) {
            kpi_groups_add(&retention, gs, every_day, 1, who);
            kpi_groups_add(&all.hs, gs, 0, 1, 0);
            kpi_groups_add(&vol.hs, gs, 0, 1, 0);
            if (gs->hybrid) {
                holders_s[gs->hybrid]++;
                holders_s[0]++;
                kpi_cell_add(&in_role[gs->hybrid], every_day && c.hybrid_all, 1, who);
                kpi_cell_add(&in_org[gs->hybrid], every_day, 1, who);
                kpi_cell_add(&in_role[0], every_day && c.any_hybrid_all, 1, who);
                kpi_cell_add(&in_org[0], every_day, 1, who);
            }
        }
        if (ge) {
            kpi_groups_add(&all.he, ge, 0, 1, 0);
            kpi_groups_add(&vol.he, ge, 0, 1, 0);
            if (ge->hybrid) {
                holders_e[ge->hybrid]++;
                holders_e[0]++;
            }
        }
        for (uint32_t i = 0; i < p->neps; i++) {
            const struct episode *ep = &p->eps[i];
            if (ep->end < w->s || ep->end > w->e)
                continue;
            int r = ep->end_reason;
            if (r == END_VOLUNTARY || r == END_INVOLUNTARY || r == END_RETIREMENT || r == END_OTHER)
                kpi_groups_add(&all.num, ep, 1, 0, 0);
            if (r == END_VOLUNTARY)
                kpi_groups_add(&vol.num, ep, 1, 0, 0);
            if (ep->hybrid) {
                const struct episode *next =
                    ep->end < DAY_MAX ? kpi_episode_on(p, ep->end + 1) : NULL;
                if (!next || next->hybrid != ep->hybrid)
                    exits[ep->hybrid].num++;
                if (!next || next->hybrid == 0)
                    exits[0].num++;
            }
        }
    }
    for (int h = 0; h < N_HYBRID; h++) {
        exits[h].den = (double)(holders_s[h] + holders_e[h]) / 2;
        exits[h].persons = (holders_s[h] + holders_e[h]) / 2;
    }
    kpi_groups_emit(&retention, w, "retention_ratio");
    leavers_emit(&all, w, "leaver_ratio");
    leavers_emit(&vol, w, "voluntary_leaver_ratio");
    hybrid_emit(in_role, w, "hybrid_role_retention_ratio");
    hybrid_emit(in_org, w, "hybrid_role_org_retention_ratio");
    hybrid_emit(exits, w, "hybrid_role_leaver_ratio");
    kpi_groups_free(&retention);
    kpi_groups_free(&all.num), kpi_groups_free(&all.hs), kpi_groups_free(&all.he);
    kpi_groups_free(&vol.num), kpi_groups_free(&vol.hs), kpi_groups_free(&vol.he);
}

const struct kpi_family kpi_family_retention = {.name = "retention", .compute = retention_compute};
