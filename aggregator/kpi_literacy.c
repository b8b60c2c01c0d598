/* kpi_literacy.c - AI-literacy coverage and AI-champion coverage of departments. */
#include <string.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

#define HYBRID_AI_CHAMPION 5

/* Which course ids count as AI literacy (every course when the list is empty). */
static uint8_t *literacy_courses(const struct kpi_model *m, char **list)
{
    uint8_t *ok = xcalloc(m->courses.n + 1, 1);
    for (size_t c = 0; c < m->courses.n; c++) {
        if (!list || !list[0]) {
            ok[c] = 1;
            continue;
        }
        for (char **l = list; *l; l++)
            if (strcmp(*l, m->courses.str[c]) == 0)
                ok[c] = 1;
    }
    return ok;
}

static void literacy_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    struct kpi_groups lit;
    kpi_groups_init(&lit, m, 0);
    uint8_t *counts = literacy_courses(m, w->p->literacy_courses);
    uint8_t *staffed = xcalloc(m->depts.n + 1, 1), *champion = xcalloc(m->depts.n + 1, 1);
    int64_t headcount = 0;
    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        const struct episode *ge = kpi_episode_on(p, w->e);
        if (!ge)
            continue;
        headcount++;
        int literate = 0;
        for (uint32_t i = 0; i < p->ncompletions && !literate; i++) {
            const struct completion *c = &p->completions[i];
            literate = c->day <= w->e && counts[c->course];
        }
        kpi_groups_add(&lit, ge, literate, 1, pi + 1);
        staffed[ge->dept] = 1;
        if (ge->hybrid == HYBRID_AI_CHAMPION)
            champion[ge->dept] = 1;
    }
    kpi_groups_emit(&lit, w, "ai_literacy_ratio");
    int64_t nd = 0, nc = 0;
    for (size_t d = 0; d < m->depts.n; d++) {
        nd += staffed[d];
        nc += staffed[d] && champion[d];
    }
    /* Not suppressed (a count of departments); its person count is the headcount. */
    struct kpi_cell cover = {.num = (double)nc, .den = (double)nd, .persons = headcount};
    kpi_cell_emit(&cover, w, "ai_champion_coverage_ratio", "org", "all");
    kpi_groups_free(&lit);
    xfree(counts);
    xfree(staffed);
    xfree(champion);
}

const struct kpi_family kpi_family_literacy = {.name = "literacy", .compute = literacy_compute};
