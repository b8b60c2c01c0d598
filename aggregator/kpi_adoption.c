/* kpi_adoption.c - adoption, engagement, per-tool adoption and AI-output outcome ratios. */
#include <string.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

/* Per-tool tallies of one person in W. */
struct tool_tally {
    uint32_t outcome[OUT_COUNT];
    int active;
};

static void adoption_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    struct kpi_groups adopt, engaged, acc, edit, rej;
    kpi_groups_init(&adopt, m, 0);
    kpi_groups_init(&engaged, m, 0);
    kpi_groups_init(&acc, m, 0);
    kpi_groups_init(&edit, m, 0);
    kpi_groups_init(&rej, m, 0);
    size_t nt = m->tools.n;
    struct kpi_cell *tool_adopt = xcalloc(nt + 1, sizeof *tool_adopt);
    struct kpi_cell *tool_acc = xcalloc(nt + 1, sizeof *tool_acc);
    struct kpi_cell *tool_edit = xcalloc(nt + 1, sizeof *tool_edit);
    struct kpi_cell *tool_rej = xcalloc(nt + 1, sizeof *tool_rej);
    struct tool_tally *tally = xcalloc(nt + 1, sizeof *tally);
    int64_t population = 0;
    /* Engaged: active on at least ceil(days(W) / 7) distinct days. */
    int64_t need_days = ((int64_t)w->e - w->s + 1 + 6) / 7;

    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        const struct episode *g = kpi_population_group(p, w->s, w->e);
        if (!g)
            continue;
        population++;
        memset(tally, 0, (nt + 1) * sizeof *tally);
        int64_t days = 0, any[OUT_COUNT] = {0};
        int32_t last_day = INT32_MIN;
        for (uint32_t i = kpi_act_from(p, w->s); i < p->nact && p->act[i].day <= w->e; i++) {
            const struct activity *a = &p->act[i];
            if (!kpi_episode_on(p, a->day))
                continue; /* unmatched */
            if (a->day != last_day) {
                days++;
                last_day = a->day;
            }
            tally[a->tool].active = 1;
            for (int o = 0; o < OUT_COUNT; o++) {
                tally[a->tool].outcome[o] += a->events[o];
                any[o] += a->events[o];
            }
        }
        kpi_groups_add(&adopt, g, days > 0, 1, pi + 1);
        kpi_groups_add(&engaged, g, days >= need_days, 1, pi + 1);
        int64_t with_outcome = any[OUT_ACCEPTED] + any[OUT_EDITED] + any[OUT_REJECTED];
        if (with_outcome) {
            kpi_groups_add(&acc, g, (double)any[OUT_ACCEPTED], (double)with_outcome, pi + 1);
            kpi_groups_add(&edit, g, (double)any[OUT_EDITED], (double)with_outcome, pi + 1);
            kpi_groups_add(&rej, g, (double)any[OUT_REJECTED], (double)with_outcome, pi + 1);
        }
        for (size_t t = 0; t < nt; t++) {
            if (!tally[t].active)
                continue;
            tool_adopt[t].num += 1;
            const uint32_t *o = tally[t].outcome;
            double n = (double)o[OUT_ACCEPTED] + o[OUT_EDITED] + o[OUT_REJECTED];
            if (n > 0) {
                tool_acc[t].num += o[OUT_ACCEPTED], tool_acc[t].den += n, tool_acc[t].persons++;
                tool_edit[t].num += o[OUT_EDITED], tool_edit[t].den += n, tool_edit[t].persons++;
                tool_rej[t].num += o[OUT_REJECTED], tool_rej[t].den += n, tool_rej[t].persons++;
            }
        }
    }
    /* Per-tool adoption: every tool with an event in W from the population, over the org
     * population (whose size is the person count of each cell). */
    for (size_t t = 0; t < nt; t++) {
        if (tool_adopt[t].num > 0) {
            tool_adopt[t].den = (double)population;
            tool_adopt[t].persons = population;
        }
    }
    kpi_groups_emit(&adopt, w, "adoption_ratio");
    kpi_groups_emit(&engaged, w, "engaged_ratio");
    kpi_cells_emit(tool_adopt, nt, &m->tools, w, "tool_adoption_ratio", "tool");
    kpi_groups_emit(&acc, w, "ai_output_accepted_ratio");
    kpi_cells_emit(tool_acc, nt, &m->tools, w, "ai_output_accepted_ratio", "tool");
    kpi_groups_emit(&edit, w, "ai_output_edited_ratio");
    kpi_cells_emit(tool_edit, nt, &m->tools, w, "ai_output_edited_ratio", "tool");
    kpi_groups_emit(&rej, w, "ai_output_rejected_ratio");
    kpi_cells_emit(tool_rej, nt, &m->tools, w, "ai_output_rejected_ratio", "tool");
    kpi_groups_free(&adopt);
    kpi_groups_free(&engaged);
    kpi_groups_free(&acc);
    kpi_groups_free(&edit);
    kpi_groups_free(&rej);
    xfree(tool_adopt);
    xfree(tool_acc);
    xfree(tool_edit);
    xfree(tool_rej);
    xfree(tally);
}

const struct kpi_family kpi_family_adoption = {.name = "adoption", .compute = adoption_compute};
