/* kpi_burnout.c - workload proxies: overtime, long/extended shifts, short rests, sickness,
 * EHR time per 8 scheduled hours, and the burnout-risk flag count. Proxies, never a
 * diagnosis of a person.
 *
 * Sums are kept in exact integer units while accumulating (millionths of hours or minutes,
 * fte-millionths x days) and turned into hours and seconds when emitted; the per-person
 * flags compare exactly in 128-bit integers (docs/kpi.md, "Burnout flags, exactly").
 */
#include "aggregator/kpi_family.h"
#include "common/decimal.h"
#include "common/timeutil.h"

#define H12 (12 * US_PER_HOUR)
#define H13 (13 * US_PER_HOUR)
#define H11 (11 * US_PER_HOUR)

typedef __int128 i128;

struct burnout {
    struct kpi_groups overtime, sickness, lng, ext, rest, wow8, ehr8, inbox8, risk;
};

/* One person's totals over W, for the flags. */
struct own {
    int64_t fte_days; /* sum of fte_micro over employed days of W */
    int64_t overtime; /* micro-hours */
    int64_t sick;     /* micro-hours */
    int64_t n_shifts, n_long, n_short;
    int64_t sched, outside; /* micro-hours, micro-minutes */
    int has_ehr;
};

struct seg_ctx {
    struct burnout *b;
    struct own *own;
    uint32_t person;
    int adopter;
};

static void on_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    struct seg_ctx *c = ud;
    int64_t fd = ep->fte_micro * ((int64_t)to - from + 1);
    c->own->fte_days += fd;
    /* Contracted hours are the denominator of overtime and sickness. */
    kpi_groups_add(&c->b->overtime, ep, 0, (double)fd, c->person);
    kpi_groups_add_cohort(&c->b->overtime, c->adopter, 0, (double)fd, c->person);
    kpi_groups_add(&c->b->sickness, ep, 0, (double)fd, c->person);
    kpi_groups_add_cohort(&c->b->sickness, c->adopter, 0, (double)fd, c->person);
}

static void both(struct kpi_groups *g, const struct episode *ep, int adopter, double num,
                 double den, uint32_t person)
{
    kpi_groups_add(g, ep, num, den, person);
    kpi_groups_add_cohort(g, adopter, num, den, person);
}

static int flags_raised(const struct kpi_params *p, const struct own *o)
{
    const i128 M = 1000000;
    i128 hf = (i128)p->contract_hours_micro * o->fte_days; /* H x F, in 1e-12 units */
    int flags = 0;
    if (o->fte_days > 0 && 7 * (i128)o->overtime * M * M > (i128)p->burnout_overtime_ratio * hf)
        flags++;
    if (o->n_shifts > 0 && (i128)o->n_long * M >= (i128)p->burnout_long_shift_share * o->n_shifts)
        flags++;
    if (o->n_shifts > 0 && o->n_short >= p->burnout_short_rests)
        flags++;
    if (o->sched > 0 && 480 * (i128)o->outside * M > (i128)p->burnout_wow8_seconds * o->sched)
        flags++;
    if (o->fte_days > 0 && 7 * (i128)o->sick * M * M > (i128)p->burnout_sickness_ratio * hf)
        flags++;
    return flags;
}

static void load_compute(const struct kpi_window *w)
{
    const struct kpi_model *m = w->m;
    struct burnout b;
    struct kpi_groups *all[] = {&b.overtime, &b.sickness, &b.lng,    &b.ext, &b.rest,
                                &b.wow8,     &b.ehr8,     &b.inbox8, &b.risk};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        kpi_groups_init(all[i], m, 1);

    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        const struct episode *g = kpi_population_group(p, w->s, w->e);
        if (!g)
            continue; /* never employed in W: nothing of theirs counts */
        uint32_t who = pi + 1;
        int adopter = kpi_person_active(p, w->s, w->e);
        struct own own = {0};
        struct seg_ctx c = {.b = &b, .own = &own, .person = who, .adopter = adopter};
        kpi_segments(p, w->s, w->e, on_segment, &c);

        /* A shift's previous one is the matched shift with the latest start before it;
         * shifts outside W are looked at only to find that one, walking back from a
         * shift in W to the first matched (unmatched: in no KPI, and no one's previous
         * shift). prev is the last matched shift of [0, seen). */
        const struct shift *prev = NULL;
        uint32_t seen = 0;
        for (uint32_t i = 0; i < p->nshifts; i++) {
            const struct shift *sh = &p->shifts[i];
            if (sh->day < w->s || sh->day > w->e)
                continue;
            for (uint32_t k = i; k-- > seen;)
                if (kpi_episode_on(p, p->shifts[k].day)) {
                    prev = &p->shifts[k];
                    break;
                }
            seen = i + 1;
            const struct episode *ep = kpi_episode_on(p, sh->day);
            if (!ep)
                continue;
            const struct shift *before = prev;
            prev = sh;
            /* In 128 bits: ingest bounds instants, but a store written before it did may
             * hold any int64 (docs/wire.md, "What ingest accepts"). */
            i128 dur = (i128)sh->end_us - sh->start_us;
            /* The previous shift is the matched one with the latest start before this. */
            int is_short = before && (i128)sh->start_us - before->end_us < H11;
            own.n_shifts++;
            own.n_long += dur >= H12;
            own.n_short += is_short;
            own.overtime += sh->overtime_micro;
            both(&b.lng, ep, adopter, dur >= H12, 1, who);
            both(&b.ext, ep, adopter, dur > H13, 1, who);
            both(&b.rest, ep, adopter, is_short, 1, who);
            kpi_groups_add_part(&b.overtime, ep, adopter, (double)sh->overtime_micro, who);
        }
        for (uint32_t i = kpi_absence_from(p, w->s); i < p->nabsences; i++) {
            const struct absence *a = &p->absences[i];
            if (a->day > w->e)
                break;
            if (a->kind != 1 /* sick */)
                continue;
            const struct episode *ep = kpi_episode_on(p, a->day);
            if (!ep)
                continue;
            own.sick += a->hours_micro;
            kpi_groups_add_part(&b.sickness, ep, adopter, (double)a->hours_micro, who);
        }
        for (uint32_t i = kpi_ehr_from(p, w->s); i < p->nehr && p->ehr[i].day <= w->e; i++) {
            const struct ehr_day *e = &p->ehr[i];
            const struct episode *ep = kpi_episode_on(p, e->day);
            if (!ep)
                continue;
            own.has_ehr = 1;
            own.sched += e->sched_micro;
            own.outside += e->outside_micro;
            both(&b.wow8, ep, adopter, 0, (double)e->sched_micro, who);
            both(&b.ehr8, ep, adopter, 0, (double)e->sched_micro, who);
            both(&b.inbox8, ep, adopter, 0, (double)e->sched_micro, who);
            kpi_groups_add_part(&b.wow8, ep, adopter, (double)e->outside_micro, who);
            kpi_groups_add_part(&b.ehr8, ep, adopter, (double)e->ehr_micro, who);
            kpi_groups_add_part(&b.inbox8, ep, adopter, (double)e->inbox_micro, who);
        }
        if (own.n_shifts || own.has_ehr) {
            int at_risk = flags_raised(w->p, &own) >= w->p->burnout_min_flags;
            both(&b.risk, g, adopter, at_risk, 1, who);
        }
    }

    /* Dominance on the magnitude KPIs, in their exact micro units (before scaling). */
    struct kpi_groups *magnitude[] = {&b.overtime, &b.sickness, &b.wow8, &b.ehr8, &b.inbox8};
    for (size_t i = 0; i < sizeof magnitude / sizeof *magnitude; i++)
        kpi_groups_dominance(magnitude[i], m, w->p);

    /* Units: overtime and sick hours are micro-hours over fte-micro-days x H / 7; EHR sums
     * are micro-minutes x 60 (seconds) over micro-hours / 8. */
    double h = (double)w->p->contract_hours_micro;
    kpi_groups_scale(&b.overtime, m, 1, 1e6, h, 7e12);
    kpi_groups_scale(&b.sickness, m, 1, 1e6, h, 7e12);
    kpi_groups_scale(&b.wow8, m, 60, 1e6, 1, 8e6);
    kpi_groups_scale(&b.ehr8, m, 60, 1e6, 1, 8e6);
    kpi_groups_scale(&b.inbox8, m, 60, 1e6, 1, 8e6);
    kpi_groups_emit(&b.overtime, w, "overtime_ratio");
    kpi_groups_emit(&b.lng, w, "long_shift_ratio");
    kpi_groups_emit(&b.ext, w, "extended_shift_ratio");
    kpi_groups_emit(&b.rest, w, "short_rest_ratio");
    kpi_groups_emit(&b.sickness, w, "sickness_absence_ratio");
    kpi_groups_emit(&b.wow8, w, "wow8_seconds");
    kpi_groups_emit(&b.ehr8, w, "ehr_time8_seconds");
    kpi_groups_emit(&b.inbox8, w, "inbox_time8_seconds");
    kpi_groups_emit(&b.risk, w, "burnout_risk_ratio");
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        kpi_groups_free(all[i]);
}

const struct kpi_family kpi_family_load = {.name = "load", .compute = load_compute};
