/* days.c - what each person does each day, from their episode, traits and the rota. */
#include "tools/gen/days.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "tools/gen/rng.h"

/* A usage event waiting for the day's sort. */
struct uev {
    int64_t us;      /* instant */
    uint32_t seq;    /* creation order: ties sort stably */
    uint32_t who;    /* person index, or nperson + ghost index */
    int32_t minutes; /* hundredths; -1 when the line has none */
    int16_t offset;  /* minutes east of UTC, for tools that log local time */
    uint8_t tool;
    uint8_t outcome; /* 0 none, 1 accepted, 2 edited, 3 rejected */
    uint8_t style;   /* UEV_* spelling choices */
    uint8_t matched;
};

enum {
    UEV_ID_LOWER = 1,    /* user id lower-cased */
    UEV_ID_PADDED = 2,   /* user id with spaces around it */
    UEV_ALT_EVENT = 4,   /* the tool's less common event name */
    UEV_NONE_NULL = 8,   /* no outcome written as null */
    UEV_NONE_EMPTY = 16, /* no outcome written as "" */
};

/* Per person, carried from one day to the next. */
struct pstate {
    int64_t last_end_us; /* end of the last shift worked */
    uint16_t comp_next;  /* next course completion to write */
    uint8_t sick_run;    /* off sick on the last working day */
};

struct day_run {
    const struct world *w;
    struct emit *e;
    struct badplan *bp;
    struct pstate *st;
    struct uev *ev[MAX_SITES];
    size_t nev[MAX_SITES], cap[MAX_SITES];
    uint32_t seq;
    double expneg[256]; /* exp(-k / 10) for Poisson draws */
};

/* Today's duty before absences. */
struct plan {
    int works;     /* on duty */
    int rostered;  /* a roster shift (clinical roles), not an office day */
    int32_t start; /* local wall seconds after midnight */
    int32_t len;   /* seconds */
};

static const double sick_chance[4] = {0.012, 0.025, 0.045, 0.075};
static const double overtime_mult[4] = {0.5, 1.0, 2.5, 6.0};

static int poisson(const struct day_run *c, struct rng *r, unsigned tenths)
{
    if (tenths > 255)
        tenths = 255;
    double limit = c->expneg[tenths], prod = rng_unit(r);
    int n = 0;
    while (prod > limit && n < 200) {
        n++;
        prod *= rng_unit(r);
    }
    return n;
}

/* Shift length in minutes and whether the rota covers all seven days. */
static int shift_minutes(const struct person *p, int role, int kind, int *seven)
{
    int acute = kind == DK_CRITICAL || kind == DK_EMERGENCY;
    *seven = 1;
    switch (role) {
    case ROLE_NURSE:
        if (acute)
            return 720;
        if (kind == DK_CLINICAL || kind == DK_SURGICAL)
            return p->long_shifts ? 720 : 480;
        *seven = 0;
        return 480;
    case ROLE_PHYSICIAN:
    case ROLE_NP:
        if (acute)
            return 720;
        *seven = 0;
        return 600;
    case ROLE_PHARMACIST: return p->long_shifts ? 600 : 480;
    case ROLE_TECHNICIAN:
        if (acute || kind == DK_RADIOLOGY || kind == DK_LAB)
            return p->long_shifts ? 720 : 480;
        *seven = 0;
        return 480;
    default: /* therapists */
        if (kind == DK_CRITICAL)
            return 720;
        *seven = 0;
        return 480;
    }
}

static void plan_day(const struct person *p, const struct episode *ep, int kind, int32_t d,
                     struct rng *r, struct plan *pl)
{
    int weekend = weekday(d) >= 5;
    double fte = ep->fte10 / 10.0;
    memset(pl, 0, sizeof *pl);
    if (ep->role >= ROLE_ADMIN) {
        pl->works = !weekend && rng_chance(r, fte);
        pl->start = 8 * 3600 + 60 * (int32_t)rng_below(r, 4) * 10;
        pl->len = 8 * 3600 + 1800;
        return;
    }
    int seven, minutes = shift_minutes(p, ep->role, kind, &seven);
    pl->rostered = 1;
    if (!seven && weekend) {
        if (ep->role == ROLE_PHYSICIAN && kind == DK_SURGICAL && rng_chance(r, 0.06)) {
            pl->works = 1; /* weekend on call */
            pl->start = 7 * 3600;
            pl->len = 24 * 3600;
        }
        return;
    }
    pl->works = rng_chance(r, fte * 2400.0 / minutes / (seven ? 7 : 5));
    if (!pl->works)
        return;
    int32_t start;
    if (minutes == 720) {
        int night = p->rota == ROTA_NIGHT || (p->rota == ROTA_ROTATE && rng_chance(r, 0.4));
        start = night ? 19 : 7;
        if (ep->role == ROLE_PHYSICIAN && rng_chance(r, 0.08))
            minutes = 840;
    } else if (minutes == 480) {
        static const uint16_t rot[3] = {50, 30, 20};
        static const int8_t at[3] = {7, 15, 23};
        start = p->rota == ROTA_DAY ? 7 : p->rota == ROTA_NIGHT ? 23 : at[rng_pick(r, rot, 3)];
    } else {
        start = 8;
        if (ep->role == ROLE_PHYSICIAN && rng_chance(r, 0.10))
            minutes = rng_chance(r, 0.5) ? 780 : 810;
    }
    static const int16_t jitter[4] = {-15, 15, 30, 0};
    int32_t j = rng_chance(r, 0.2) ? jitter[rng_below(r, 3)] : 0;
    pl->start = start * 3600 + j * 60;
    pl->len = minutes * 60;
}

static void add_event(struct day_run *c, int site, const struct uev *v)
{
    if (c->nev[site] == c->cap[site])
        xgrow((void **)&c->ev[site], &c->cap[site], c->nev[site] + 1, sizeof *v);
    c->ev[site][c->nev[site]++] = *v;
}

/* How each tool logs time: Z with milliseconds, local seconds, Z seconds, local micros. */
static const uint8_t tool_zulu[TOOL_COUNT] = {1, 0, 1, 0};
static const int64_t tool_grain_us[TOOL_COUNT] = {1000, 1000000, 1000000, 1};

/* One usage event of tool t at a random instant of [from_s, from_s + span_s). */
static void usage_event(struct day_run *c, uint32_t who, const struct person *p, int tool,
                        const struct zone *z, int64_t from_s, int32_t span_s, struct rng *r)
{
    static const uint16_t outcome_w[TOOL_COUNT][4] = {
        {8, 50, 38, 4}, {45, 30, 15, 10}, {5, 35, 20, 40}, {15, 70, 0, 15}};
    struct uev v = {0};
    v.who = who;
    v.tool = (uint8_t)tool;
    int64_t grain = tool_grain_us[tool];
    v.us = (from_s + (span_s > 0 ? rng_below(r, (uint32_t)span_s) : 0)) * 1000000 +
           (grain < 1000000 ? (int64_t)rng_below(r, (uint32_t)(1000000 / grain)) * grain : 0);
    v.offset = (int16_t)(tool_zulu[tool] ? 0 : zone_offset_at(z, v.us / 1000000));
    /* In the last 7 days imaging-triage's rejected share jumps from 15 % to 45 % (a model
     * update gone wrong) for the drift KPIs and their alert to find. The weights keep their
     * total, so every random stream stays as it was. */
    static const uint16_t imaging_last_week[4] = {15, 40, 0, 45};
    const uint16_t *ow = outcome_w[tool];
    if (tool == TOOL_IMAGING && ts_day(v.us, v.offset) > c->w->to - 7)
        ow = imaging_last_week;
    v.outcome = (uint8_t)rng_pick(r, ow, 4);
    switch (tool) {
    case TOOL_SCRIBE: v.minutes = 10 * rng_range(r, 10, 250); break;
    case TOOL_CHAT: v.minutes = 25 * rng_range(r, 1, 32); break;
    case TOOL_CODING: v.minutes = rng_range(r, 10, 500); break;
    default: v.minutes = rng_chance(r, 0.3) ? -1 : rng_range(r, 5, 200);
    }
    uint32_t u = rng_below(r, 1000);
    if (tool == TOOL_CHAT)
        v.style |= u < 8 ? UEV_ID_PADDED : UEV_ID_LOWER;
    else if (tool == TOOL_IMAGING && u < 10)
        v.style |= UEV_ID_LOWER;
    if (rng_chance(r, 0.1))
        v.style |= UEV_ALT_EVENT;
    u = rng_below(r, 3);
    v.style |= u == 1 ? UEV_NONE_NULL : u == 2 ? UEV_NONE_EMPTY : 0;
    v.seq = c->seq++;
    int site;
    if (p) {
        int32_t day = ts_day(v.us, v.offset);
        site = world_site_of(p, day);
        v.matched = world_episode_on(p, day) != NULL;
    } else {
        site = c->w->ghost[who - c->w->nperson].site;
    }
    add_event(c, site, &v);
}

static void usage_day(struct day_run *c, uint32_t i, const struct person *p,
                      const struct episode *ep, const struct plan *pl, int on_duty,
                      int64_t duty_start_s, int64_t duty_end_s, int32_t d, struct rng *r)
{
    const struct zone *z = &c->w->site[ep->site].zone;
    for (int t = 0; t < TOOL_COUNT; t++) {
        if (p->adopt[t] > d || p->lapse[t] <= d)
            continue;
        if (on_duty) {
            if (t == TOOL_SCRIBE && !pl->rostered)
                continue;
            int64_t a = duty_start_s + 600, b = duty_end_s - 900;
            int n = poisson(c, r, p->intensity[t]);
            for (int k = 0; k < n; k++)
                usage_event(c, i, p, t, z, a, (int32_t)(b - a), r);
        } else if (t == TOOL_CHAT) {
            int n = poisson(c, r, p->intensity[t] / 12u);
            int64_t a = zone_to_utc(z, d, 19 * 3600);
            for (int k = 0; k < n; k++)
                usage_event(c, i, p, t, z, a, 3 * 3600 + 1800, r);
        }
    }
}

static const char *const notes[] = {
    "Called in, fever",
    "Jury duty, \"civic\" leave",
    "Bereavement",
    "Return expected Monday\nper unit manager",
    "Childcare \xe2\x80\x94 school closed",
    "Approved by manager, see email",
};

static void absence(struct day_run *c, uint32_t i, const struct person *p, const struct episode *ep,
                    int32_t d, int kind, int hours_tenths, struct rng *r)
{
    static const char *const spell[4][2] = {
        {"", ""}, {"sick", "Sick"}, {"pto", "PTO"}, {"other", "Other"}};
    uint32_t u = rng_below(r, 1000);
    const char *text = spell[kind][kind == KIND_PTO ? u < 300 : u < 100];
    const char *note = "";
    if (rng_chance(r, 0.008))
        note = notes[rng_below(r, sizeof notes / sizeof notes[0])];
    emit_absence(c->e, ep->site, i, p->id, 7, d, kind, text, hours_tenths, note, 1);
    if (rng_chance(r, 0.004)) /* corrected later in the same export: the later row wins */
        emit_absence(c->e, ep->site, i, p->id, 7, d, kind, text,
                     hours_tenths > 40 ? hours_tenths - 40 : hours_tenths + 5, "", 1);
}

/* Departments where the ambient scribe takes load off: its users' after-hours EHR time falls
 * by --loadoff-effect percent (w->loadoff_pct) after a LOADOFF_RAMP-day ramp from their
 * first day of use. */
static const char *const loadoff_depts[] = {"Medicine", "Emergency"};
#define LOADOFF_RAMP 28

static int loadoff_dept(const struct world *w, int dept)
{
    for (size_t k = 0; k < sizeof loadoff_depts / sizeof *loadoff_depts; k++)
        if (strcmp(w->dept[dept].name, loadoff_depts[k]) == 0)
            return 1;
    return 0;
}

/* The scribe's effect on a day's after-hours EHR time (docs/generator.md): in
 * loadoff_depts, 1 - loadoff_pct / 100 x ramp while the scribe is in use, the ramp rising
 * from 0 on the first day of use to 1 after LOADOFF_RAMP days; 1 elsewhere. */
static double loadoff_factor(const struct day_run *c, const struct person *p,
                             const struct episode *ep, int32_t d)
{
    int32_t a = p->adopt[TOOL_SCRIBE];
    if (a == DAY_NONE || d < a || d >= p->lapse[TOOL_SCRIBE] || !loadoff_dept(c->w, ep->dept))
        return 1.0;
    int32_t k = d - a < LOADOFF_RAMP ? d - a : LOADOFF_RAMP;
    return 1.0 - c->w->loadoff_pct / 100.0 * (double)k / LOADOFF_RAMP;
}

/* After-hours minutes per scheduled hour that everyone gains on day d: 2 a year since
 * --from, and a winter bump of up to 1.2 in mid-January (90 days either side). Added, not
 * multiplied, so trends are parallel across people of different levels. */
static double outside_drift(const struct day_run *c, int32_t d)
{
    int y, mo, dd;
    civil_from_day(d, &y, &mo, &dd);
    int32_t dist = d - day_from_civil(y, 1, 15);
    if (dist < 0)
        dist = -dist;
    if (365 - dist < dist)
        dist = 365 - dist;
    double f = 2.0 * (double)(d - c->w->from) / 365.0;
    if (dist < 90)
        f += 1.2 * (double)(90 - dist) / 90.0;
    return f;
}

static void ehr_day(struct day_run *c, uint32_t i, const struct person *p, const struct episode *ep,
                    int32_t d, int32_t worked_len, struct rng *r)
{
    int sched, ehr, outside, inbox;
    if (worked_len > 0) {
        int hours2 = worked_len / 1800; /* half hours on duty */
        if (hours2 > 32)
            hours2 = 32;
        int halves = rng_range(r, hours2 * 65 / 100, hours2 * 85 / 100);
        sched = halves * 5;
        ehr = sched * rng_range(r, 25, 55) + rng_range(r, 0, 300);
        /* Own level (x 1.25 for anyone who ever adopts the scribe: adopters start out with
         * more after-hours time), the drift everyone shares, the scribe's effect. */
        double level = p->pajama * (0.5 + rng_unit(r));
        if (p->adopt[TOOL_SCRIBE] != DAY_NONE)
            level *= 1.25;
        outside = (int)(sched * (level + outside_drift(c, d)) * loadoff_factor(c, p, ep, d));
        if (outside > ehr)
            outside = ehr;
        inbox = rng_range(r, 50, 600);
    } else {
        sched = 0;
        ehr = rng_range(r, 50, 900);
        outside = ehr;
        inbox = rng_range(r, 0, ehr / 2);
    }
    if (rng_chance(r, 0.5)) { /* whole minutes */
        ehr -= ehr % 10;
        outside -= outside % 10;
        if (outside > ehr)
            outside = ehr;
        inbox -= inbox % 10;
    }
    emit_ehr(c->e, ep->site, i, p->id, 7, d, sched, ehr, outside, inbox, 1);
    if (rng_chance(r, 0.002)) /* sent twice */
        emit_ehr(c->e, ep->site, i, p->id, 7, d, sched, ehr, outside, inbox, 1);
}

static void shift(struct day_run *c, uint32_t i, const struct person *p, const struct episode *ep,
                  int64_t start_us, int64_t end_us, struct rng *r)
{
    const struct world *w = c->w;
    const struct zone *z = &w->site[ep->site].zone;
    int zulu = w->dept[ep->dept].roster_zulu;
    int kind = w->dept[ep->dept].kind;
    int so = zulu ? 0 : zone_offset_at(z, start_us / 1000000);
    int eo = zulu ? 0 : zone_offset_at(z, end_us / 1000000);
    int32_t day = ts_day(start_us, so);
    int site = world_site_of(p, day), matched = world_episode_on(p, day) != NULL;
    double pot =
        (kind == DK_CRITICAL || kind == DK_EMERGENCY ? 0.09 : 0.05) * overtime_mult[p->strain];
    int ot;
    if (rng_chance(r, pot)) {
        static const int16_t small[7] = {25, 50, 75, 100, 150, 200, 300};
        static const int16_t big[3] = {200, 300, 400};
        ot = p->strain == 3 ? big[rng_below(r, 3)] : small[rng_below(r, 7)];
    } else {
        ot = rng_chance(r, 0.4) ? -1 : 0;
    }
    const char *id = p->id;
    char lower[8];
    if (rng_chance(r, 0.01)) {
        memcpy(lower, p->id, 8);
        lower[0] = (char)(lower[0] - 'A' + 'a');
        id = lower;
    }
    emit_shift(c->e, site, i, id, 7, start_us, so, end_us, eo, zulu, ot, matched);
    if (rng_chance(r, 0.001)) {
        /* Re-sent with a corrected end, the start written in the other notation when it
         * names the same instant on the same day (the key is the instant). */
        int alt = !zulu && ts_day(start_us, 0) == day;
        if (zulu && start_us % 1000000 == 0 &&
            ts_day(start_us, zone_offset_at(z, start_us / 1000000)) == day)
            alt = 1;
        int z2 = alt ? !zulu : zulu;
        int so2 = z2 ? 0 : zone_offset_at(z, start_us / 1000000);
        int64_t end2 = end_us + 60 * 1000000 * (int64_t)rng_range(r, 1, 30);
        int eo2 = z2 ? 0 : zone_offset_at(z, end2 / 1000000);
        if (z2 == 0)
            end2 -= end2 % 1000000;
        emit_shift(c->e, site, i, p->id, 7, start_us, so2, end2, eo2, z2, 50, matched);
    }
}

static void training(struct day_run *c, uint32_t i, const struct person *p,
                     const struct completion *cp)
{
    char id[8];
    memcpy(id, p->id, 8);
    id[0] = (char)(id[0] - 'A' + 'a'); /* the LMS logs people in by lower-case id */
    struct rng r =
        rng_at(c->w->seed, RP_DAY, i, 0x200000000ull + (uint64_t)cp->day * 16 + cp->course);
    int site = world_site_of(p, cp->day);
    const char *name = course_names[cp->course];
    char padded[160];
    if (rng_chance(&r, 0.02)) { /* quoted with spaces around it: trimmed before matching */
        size_t n = strlen(name);
        padded[0] = ' ';
        memcpy(padded + 1, name, n);
        padded[n + 1] = ' ';
        padded[n + 2] = '\0';
        name = padded;
    }
    int score = rng_chance(&r, 0.3) ? -1 : rng_range(&r, 70, 100);
    for (int k = 0; k <= cp->dup; k++)
        emit_training(c->e, site, i, id, 7, cp->course, name, cp->day, score, 1);
}

/* A former employee whose account still works for a couple of weeks (if they used chat
 * before they left: nobody takes up a tool after leaving, and their seat covers these days,
 * licences.c). */
static void lingering(struct day_run *c, uint32_t i, const struct person *p, int32_t d,
                      struct rng *r)
{
    if (p->adopt[TOOL_CHAT] > d || p->lapse[TOOL_CHAT] <= d)
        return;
    for (int k = 0; k < p->nep; k++) {
        const struct episode *ep = &p->ep[k];
        if (ep->end < d && d - ep->end <= LINGER_DAYS) {
            if (p->adopt[TOOL_CHAT] <= ep->end && rng_chance(r, 0.05)) {
                const struct zone *z = &c->w->site[ep->site].zone;
                usage_event(c, i, p, TOOL_CHAT, z, zone_to_utc(z, d, 9 * 3600), 8 * 3600, r);
            }
            return;
        }
    }
}

static void person_day(struct day_run *c, uint32_t i, int32_t d)
{
    const struct world *w = c->w;
    const struct person *p = &w->person[i];
    struct pstate *st = &c->st[i];
    while (st->comp_next < p->ncomp && p->comp[st->comp_next].day <= d)
        training(c, i, p, &p->comp[st->comp_next++]);
    struct rng r = rng_at(w->seed, RP_DAY, i, (uint32_t)d);
    const struct episode *ep = world_episode_on(p, d);
    if (!ep) {
        lingering(c, i, p, d, &r);
        return;
    }
    const struct zone *z = &w->site[ep->site].zone;
    int kind = w->dept[ep->dept].kind;
    struct plan pl;
    plan_day(p, ep, kind, d, &r, &pl);
    int64_t start_s = zone_to_utc(z, d, pl.start);
    int64_t start_us = start_s * 1000000, end_us = 0;
    if (pl.works && pl.rostered) {
        if (w->dept[ep->dept].roster_zulu && rng_chance(&r, 0.05))
            start_us += (int64_t)rng_below(&r, 1000) * 1000;
        end_us = start_us + (int64_t)pl.len * 1000000;
        uint32_t u = rng_below(&r, 100);
        if (u < 10)
            end_us += (int64_t)rng_range(&r, 60, 1500) * 1000000;
        else if (u < 15)
            end_us -= (int64_t)rng_range(&r, 60, 600) * 1000000;
        if (start_us < st->last_end_us + 7 * US_PER_HOUR)
            pl.works = 0; /* too soon after the last shift: someone else covers */
    }
    /* Absences replace a day on duty. */
    int absent = 0;
    int hours_tenths = pl.rostered ? pl.len / 360 : ep->fte10 * 8;
    struct rng rw = rng_at(w->seed, RP_DAY, i, 0x100000000ull + (uint32_t)(d + 3) / 7);
    int pto_week = rng_chance(&rw, 0.055);
    if (pl.works) {
        if (pto_week) {
            absent = KIND_PTO;
        } else if ((st->sick_run && rng_chance(&r, 0.55)) ||
                   rng_chance(&r, sick_chance[p->strain])) {
            absent = KIND_SICK;
            if (rng_chance(&r, 0.08))
                hours_tenths = 40;
        } else if (rng_chance(&r, 0.012)) {
            absent = KIND_PTO;
        } else if (rng_chance(&r, 0.004)) {
            absent = KIND_OTHER;
            hours_tenths = rng_chance(&r, 0.5) ? 40 : 80;
        }
        st->sick_run = absent == KIND_SICK;
        if (absent)
            absence(c, i, p, ep, d, absent, hours_tenths, &r);
    }
    int on_duty = pl.works && !absent;
    if (on_duty && pl.rostered) {
        shift(c, i, p, ep, start_us, end_us, &r);
        st->last_end_us = end_us;
    }
    if (ep->role == ROLE_PHYSICIAN || ep->role == ROLE_NP) {
        if (on_duty)
            ehr_day(c, i, p, ep, d, pl.len, &r);
        else if (absent != KIND_SICK && rng_chance(&r, p->unsched_pct / (pto_week ? 400.0 : 100.0)))
            ehr_day(c, i, p, ep, d, 0, &r);
    }
    int64_t duty_end_s = on_duty && pl.rostered ? end_us / 1000000 : start_s + pl.len;
    usage_day(c, i, p, ep, &pl, on_duty, start_s, duty_end_s, d, &r);
}

static void ghost_day(struct day_run *c, uint32_t g, int32_t d)
{
    const struct world *w = c->w;
    const struct ghost *h = &w->ghost[g];
    struct rng r = rng_at(w->seed, RP_GHOST, g, (uint32_t)d);
    const struct zone *z = &w->site[h->site].zone;
    unsigned rate = h->rate;
    if (weekday(d) >= 5 && h->id[0] != 's')
        rate /= 5;
    int n = poisson(c, &r, rate);
    int64_t a = zone_to_utc(z, d, 8 * 3600);
    for (int k = 0; k < n; k++)
        usage_event(c, w->nperson + g, NULL, h->tool, z, a, 10 * 3600, &r);
    if (h->trains && rng_chance(&r, 0.002))
        emit_training(c->e, h->site, w->nperson + g, h->id, strlen(h->id), C_AI_LITERACY_101,
                      course_names[C_AI_LITERACY_101], d, -1, 0);
}

static int cmp_uev(const void *a, const void *b)
{
    const struct uev *x = a, *y = b;
    if (x->us != y->us)
        return x->us < y->us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *const outcome_text[2][4] = {
    {"", "accepted", "edited", "rejected"},
    {"", "Accepted", "Edited", "Rejected"},
};

/* The user id as the tool spells it. */
static char *put_user(char *q, const struct day_run *c, const struct uev *v)
{
    const struct world *w = c->w;
    if (v->who >= w->nperson)
        return fmt_str(q, w->ghost[v->who - w->nperson].id);
    const char *id = w->person[v->who].id;
    if (v->style & UEV_ID_PADDED) {
        *q++ = ' ';
        q = fmt_mem(q, id, 7);
        *q++ = ' ';
        return q;
    }
    char *s = q;
    q = fmt_mem(q, id, 7);
    if (v->style & UEV_ID_LOWER)
        s[0] = (char)(s[0] - 'A' + 'a');
    return q;
}

static char *put_outcome(char *q, const struct uev *v, int capital)
{
    if (v->outcome) {
        q = fmt_str(q, ",\"outcome\":\"");
        q = fmt_str(q, outcome_text[capital][v->outcome]);
        *q++ = '"';
    } else if (v->style & UEV_NONE_NULL) {
        q = fmt_str(q, ",\"outcome\":null");
    } else if (v->style & UEV_NONE_EMPTY) {
        q = fmt_str(q, ",\"outcome\":\"\"");
    }
    return q;
}

static size_t format_usage(const struct day_run *c, const struct uev *v, char *buf)
{
    char *q = buf;
    int32_t day;
    switch (v->tool) {
    case TOOL_SCRIBE:
        q = fmt_str(q, "{\"ts\":\"");
        q = fmt_ts(q, v->us, 0, 3, 1, &day);
        q = fmt_str(q, "\",\"user\":\"");
        q = put_user(q, c, v);
        q = fmt_str(q, v->style & UEV_ALT_EVENT
                           ? "\",\"tool\":\"ambient-scribe\",\"event\":\"summary\",\"minutes\":"
                           : "\",\"tool\":\"ambient-scribe\",\"event\":\"note\",\"minutes\":");
        q = fmt_dec(q, v->minutes, 2);
        if (v->outcome)
            q = put_outcome(q, v, 0);
        *q++ = '}';
        break;
    case TOOL_CHAT:
        q = fmt_str(q, "{\"user\":\"");
        q = put_user(q, c, v);
        q = fmt_str(q, "\",\"ts\":\"");
        q = fmt_ts(q, v->us, v->offset, 0, 0, &day);
        q = fmt_str(q, v->style & UEV_ALT_EVENT
                           ? "\",\"tool\":\"chat-assistant\",\"event\":\"summarize\",\"minutes\":"
                           : "\",\"tool\":\"chat-assistant\",\"event\":\"prompt\",\"minutes\":");
        q = fmt_dec(q, v->minutes, 2);
        q = put_outcome(q, v, 0);
        *q++ = '}';
        break;
    case TOOL_CODING:
        q = fmt_str(q, "{\"ts\":\"");
        q = fmt_ts(q, v->us, 0, 0, 1, &day);
        q = fmt_str(q, "\",\"tool\":\"coding-assistant\",\"user\":\"");
        q = put_user(q, c, v);
        q = fmt_str(q, "\",\"minutes\":");
        q = fmt_dec(q, v->minutes, 2);
        if (v->outcome)
            q = put_outcome(q, v, 0);
        q = fmt_str(q, ",\"session\":\"c-");
        uint64_t h = rng_mix((uint64_t)v->us ^ v->who);
        for (int k = 0; k < 8; k++)
            *q++ = "0123456789abcdef"[(h >> (4 * k)) & 15];
        q = fmt_str(q, "\"}");
        break;
    default:
        q = fmt_str(q, "{\"ts\":\"");
        q = fmt_ts(q, v->us, v->offset, 6, 0, &day);
        q = fmt_str(q, "\",\"user\":\"");
        q = put_user(q, c, v);
        q = fmt_str(q, "\",\"tool\":\"imaging-triage\",\"event\":\"triage\"");
        if (v->outcome)
            q = put_outcome(q, v, 1);
        else
            q = fmt_str(q, ",\"outcome\":null");
        if (v->minutes >= 0) {
            q = fmt_str(q, ",\"minutes\":");
            q = fmt_dec(q, v->minutes, 2);
        }
        *q++ = '}';
    }
    return (size_t)(q - buf);
}

static void flush_usage(struct day_run *c)
{
    char line[512];
    for (int s = 0; s < c->w->nsites; s++) {
        if (c->nev[s] > 1)
            qsort(c->ev[s], c->nev[s], sizeof *c->ev[s], cmp_uev);
        for (size_t k = 0; k < c->nev[s]; k++) {
            size_t n = format_usage(c, &c->ev[s][k], line);
            emit_usage(c->e, s, line, n, c->ev[s][k].matched);
        }
        c->nev[s] = 0;
    }
}

static uint64_t total_rows(const struct emit *e, int type)
{
    uint64_t n = 0;
    for (int s = 0; s < e->w->nsites; s++)
        n += e->tally[s][type].rows;
    return n;
}

static void progress(const struct day_run *c, int32_t d)
{
    const struct world *w = c->w;
    char date[11];
    *fmt_date(date, d) = '\0';
    int pct = (int)(100.0 * (d - w->from + 1) / (w->to - w->from + 1));
    fprintf(stderr,
            "cadre-gen: %s %3d%%  usage %llu  shifts %llu  absences %llu  ehr %llu  "
            "training %llu\n",
            date, pct, (unsigned long long)total_rows(c->e, REC_USAGE),
            (unsigned long long)total_rows(c->e, REC_SHIFTS),
            (unsigned long long)total_rows(c->e, REC_ABSENCES),
            (unsigned long long)total_rows(c->e, REC_EHR),
            (unsigned long long)total_rows(c->e, REC_TRAINING));
}

void days_run(const struct world *w, struct emit *e, struct badplan *bp, int quiet)
{
    struct day_run *c = xcalloc(1, sizeof *c);
    c->w = w;
    c->e = e;
    c->bp = bp;
    c->st = xcalloc(w->nperson, sizeof *c->st);
    for (int k = 0; k < 256; k++)
        c->expneg[k] = det_exp(-k / 10.0);
    for (uint32_t i = 0; i < w->nperson; i++)
        c->st[i].last_end_us = INT64_MIN / 2;
    /* One blank line somewhere in each shifts.csv: readers skip it. */
    int32_t blank_day = w->from + (w->to - w->from) / 3;
    int32_t step = (w->to - w->from + 1) / 20 > 0 ? (w->to - w->from + 1) / 20 : 1;
    for (int32_t d = w->from; d <= w->to; d++) {
        keyset_clear(&e->keys);
        for (uint32_t i = 0; i < w->nperson; i++)
            person_day(c, i, d);
        for (uint32_t g = 0; g < w->nghost; g++)
            ghost_day(c, g, d);
        flush_usage(c);
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++)
            if (!badplan_by_person(t))
                badplan_emit(bp, e, t, d);
        if (d == blank_day)
            for (int s = 0; s < w->nsites; s++)
                emit_blank(e, s, REC_SHIFTS);
        if (!quiet && ((d - w->from + 1) % step == 0 || d == w->to))
            progress(c, d);
    }
    for (int s = 0; s < MAX_SITES; s++)
        xfree(c->ev[s]);
    xfree(c->st);
    xfree(c);
}
