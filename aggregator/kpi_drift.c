/* kpi_drift.c - drift of AI output as the people who review it see it: per tool and
 * outcome, a two-proportion z score of the outcome's share in the window against the
 * drift_baseline_days before it (docs/kpi.md, "Drift of AI output").
 *
 * The shares are those of ai_output_<o>_ratio by tool: matched usage events with an
 * outcome, over the window [s, e] and over the baseline [s - B, s - 1].
 */
#include <math.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

struct drift_tally {
    uint64_t win[OUT_COUNT], base[OUT_COUNT]; /* events by outcome in W and in B */
    int64_t persons;                          /* staff with outcome events in W */
    uint32_t stamp;                           /* the last person counted (index + 1) */
};

static const char *const drift_kpi[OUT_COUNT] = {
    [OUT_ACCEPTED] = "ai_output_accepted_drift_z",
    [OUT_EDITED] = "ai_output_edited_drift_z",
    [OUT_REJECTED] = "ai_output_rejected_drift_z",
};

static uint64_t with_outcome(const uint64_t *n)
{
    return n[OUT_ACCEPTED] + n[OUT_EDITED] + n[OUT_REJECTED];
}

static void drift_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    int64_t days = w->p->drift_baseline_days;
    if (days <= 0)
        return;
    int32_t bs = (int32_t)(w->s - days); /* the baseline [bs, w->s - 1] */
    size_t nt = m->tools.n;
    struct drift_tally *tt = xcalloc(nt + 1, sizeof *tt);
    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        uint32_t lo = 0, hi = p->nact; /* the first activity on or after bs */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (p->act[mid].day < bs)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint32_t i = lo; i < p->nact; i++) {
            const struct activity *a = &p->act[i];
            if (a->day > w->e)
                break; /* sorted by day */
            uint32_t n = a->events[OUT_ACCEPTED] + a->events[OUT_EDITED] + a->events[OUT_REJECTED];
            if (!n || !kpi_episode_on(p, a->day))
                continue; /* no outcome, or unmatched */
            struct drift_tally *d = &tt[a->tool];
            uint64_t *into = a->day >= w->s ? d->win : d->base;
            for (int o = OUT_ACCEPTED; o < OUT_COUNT; o++)
                into[o] += a->events[o];
            if (a->day >= w->s && d->stamp != pi + 1) {
                d->stamp = pi + 1;
                d->persons++;
            }
        }
    }
    for (size_t t = 0; t < nt; t++) {
        const struct drift_tally *d = &tt[t];
        uint64_t nw = with_outcome(d->win), nb = with_outcome(d->base);
        if (!nw || !nb)
            continue;
        for (int o = OUT_ACCEPTED; o < OUT_COUNT; o++) {
            uint64_t k = d->win[o] + d->base[o];
            if (k == 0 || k == nw + nb)
                continue; /* pooled share 0 or 1: no variance */
            double pw = (double)d->win[o] / (double)nw, pb = (double)d->base[o] / (double)nb;
            double ph = (double)k / (double)(nw + nb);
            double se = sqrt(ph * (1 - ph) * (1 / (double)nw + 1 / (double)nb));
            kpi_table_add(w->t, drift_kpi[o], w->name, "tool", m->tools.str[t], pw - pb, se,
                          d->persons, w->s, w->e);
        }
    }
    xfree(tt);
}

const struct kpi_family kpi_family_drift = {.name = "drift", .compute = drift_compute};
