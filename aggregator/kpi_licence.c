/* kpi_licence.c - AI-tool licences: who has access, and how many of the licensed use them
 * (docs/kpi.md, "Licences").
 *
 * A member has access to tool t on day d when employed on d and a licence of t covers d. A
 * licence of t covers t and every tool named "t.<sub>". Members with access are grouped as
 * the population (their group on their last employed day in W); a licence never puts
 * anyone in the population.
 */
#include <string.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

/* Whether a licence of tool `lic` covers usage of tool `use`. */
static bool covers(const struct strtab *tools, uint32_t lic, uint32_t use)
{
    if (lic == use)
        return true;
    const char *l = tools->str[lic], *u = tools->str[use];
    size_t n = strlen(l);
    return strncmp(l, u, n) == 0 && u[n] == '.';
}

/* The days of [s, e] a licence covers on which the person is employed: is there one? */
static bool licence_in(const struct person *p, const struct licence *l, int32_t s, int32_t e)
{
    int32_t a = l->start > s ? l->start : s, b = l->end < e ? l->end : e;
    return a <= b && kpi_employed_some_day(p, a, b);
}

static void licence_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    size_t nt = m->tools.n;
    struct kpi_groups access, util;
    kpi_groups_init(&access, m, 0);
    kpi_groups_init(&util, m, 0);
    struct kpi_cell *tool_util = xcalloc(nt + 1, sizeof *tool_util);
    uint8_t *has = xcalloc(nt + 1, 1), *used = xcalloc(nt + 1, 1);

    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        const struct episode *g = kpi_population_group(p, w->s, w->e);
        if (!g)
            continue;
        bool any = false;
        for (uint32_t i = 0; i < p->nlicences; i++)
            if (licence_in(p, &p->licences[i], w->s, w->e)) {
                has[p->licences[i].tool] = 1;
                any = true;
            }
        kpi_groups_add(&access, g, any, 1, pi + 1);
        if (!any)
            continue;
        /* Usage of a covered tool on a day with access to it (matched: employed that day). */
        bool any_used = false;
        for (uint32_t i = kpi_act_from(p, w->s); i < p->nact && p->act[i].day <= w->e; i++) {
            const struct activity *a = &p->act[i];
            if (!kpi_episode_on(p, a->day))
                continue;
            for (uint32_t j = 0; j < p->nlicences; j++) {
                const struct licence *l = &p->licences[j];
                if (a->day >= l->start && a->day <= l->end && covers(&m->tools, l->tool, a->tool)) {
                    used[l->tool] = 1;
                    any_used = true;
                }
            }
        }
        kpi_groups_add(&util, g, any_used, 1, pi + 1);
        for (uint32_t i = 0; i < p->nlicences; i++) { /* each licensed tool once */
            uint32_t t = p->licences[i].tool;
            if (has[t]) {
                tool_util[t].num += used[t];
                tool_util[t].den += 1;
                tool_util[t].persons++;
            }
            has[t] = used[t] = 0;
        }
    }
    kpi_groups_emit(&access, w, "ai_access_ratio");
    kpi_groups_emit(&util, w, "ai_licence_utilisation_ratio");
    kpi_cells_emit(tool_util, nt, &m->tools, w, "ai_licence_utilisation_ratio", "tool");
    kpi_groups_free(&access);
    kpi_groups_free(&util);
    xfree(tool_util);
    xfree(has);
    xfree(used);
}

const struct kpi_family kpi_family_licence = {.name = "licence", .compute = licence_compute};
