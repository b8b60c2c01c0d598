/* world.c - builds people's careers: hires, transfers, promotions, hybrid roles, exits. */
#include "tools/gen/world.h"

#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "tools/gen/rng.h"

const char *const role_names[ROLE_COUNT] = {
    "nurse",   "physician", "nurse_practitioner", "pharmacist", "technician", "therapist", "admin",
    "manager", "analyst",
};

const char *const hybrid_names[HY_COUNT] = {
    "",
    "clinical_translator",
    "model_governance_lead",
    "data_strategist",
    "ethics_steward",
    "ai_champion",
};

const char *const end_reason_names[ER_COUNT] = {
    "", "transfer", "role_change", "voluntary", "involuntary", "retirement", "other",
};

const char *const tool_names[TOOL_COUNT] = {
    "ambient-scribe",
    "chat-assistant",
    "coding-assistant",
    "imaging-triage",
};

/* The last name is exactly 128 bytes, the longest course name allowed (the test checks). */
const char *const course_names[C_COUNT] = {
    "ai-literacy-101",
    "ai-safety",
    "ai-literacy-201",
    "hand-hygiene",
    "Fire & Life Safety, Annual",
    "Pr\xc3\xa9vention des infections \xe2\x80\x94 niveau 2",
    "Sepsis Recognition and Early Management",
    "Clinical Decision Support Governance: Evaluating Bias, Drift and Safety of "
    "Machine-Learning Models in Acute Care (Module 3 of 4)",
};

/* Uneven sizes; some departments exist at one site only. */
static const struct dept depts[] = {
    {"Medicine", DK_CLINICAL, 100, 0, -1, -1, 160},
    {"Surgery", DK_SURGICAL, 60, 0, -1, -1, 110},
    {"Emergency", DK_EMERGENCY, 140, 0, -1, -1, 95},
    {"ICU", DK_CRITICAL, 90, 0, -1, 0, 55},
    {"Soins intensifs \xe2\x80\x93 Nord", DK_CRITICAL, 80, 0, 0, -1, 45},
    {"Pediatrics", DK_CLINICAL, 110, 0, 1, -1, 50},
    {"Neonatal ICU", DK_CRITICAL, 70, 0, 1, -1, 22},
    {"Oncology", DK_CLINICAL, 120, 0, -1, -1, 50},
    {"Obstetrics & Gynecology", DK_CLINICAL, 75, 0, -1, -1, 45},
    {"Cardiology, Interventional", DK_SURGICAL, 95, 0, 0, -1, 35},
    {"Psychiatry", DK_CLINICAL, 45, 0, 2, -1, 30},
    {"Radiology", DK_RADIOLOGY, 170, 1, -1, -1, 50},
    {"Pharmacy", DK_PHARMACY, 110, 0, -1, -1, 32},
    {"Laboratory", DK_LAB, 80, 1, -1, -1, 45},
    {"Rehabilitation", DK_REHAB, 50, 0, -1, -1, 28},
    {"Administration", DK_ADMIN, 130, 0, -1, -1, 70},
    {"Informatics & Digital Health", DK_INFORMATICS, 220, 0, 0, -1, 18},
};
#define NDEPT ((int)(sizeof depts / sizeof depts[0]))

static const char *const site_names[MAX_SITES] = {
    "north",  "south",     "east",      "west",    "central", "harbor",   "valley",  "lakeside",
    "summit", "riverside", "hillcrest", "bayview", "meadow",  "parkside", "coastal", "highland",
};

/* Role mix per department kind: nurse, physician, np, pharmacist, technician, therapist,
 * admin, manager, analyst. */
static const uint16_t role_mix[DK_COUNT][ROLE_COUNT] = {
    [DK_CLINICAL] = {58, 16, 5, 1, 8, 3, 7, 2, 0},
    [DK_CRITICAL] = {64, 15, 4, 0, 8, 3, 4, 2, 0},
    [DK_EMERGENCY] = {58, 18, 6, 0, 8, 1, 7, 2, 0},
    [DK_SURGICAL] = {50, 22, 3, 0, 15, 0, 8, 2, 0},
    [DK_RADIOLOGY] = {10, 18, 0, 0, 55, 0, 14, 3, 0},
    [DK_PHARMACY] = {0, 0, 0, 50, 38, 0, 9, 3, 0},
    [DK_LAB] = {0, 5, 0, 0, 72, 0, 16, 3, 4},
    [DK_REHAB] = {15, 5, 0, 0, 0, 60, 15, 5, 0},
    [DK_ADMIN] = {0, 0, 0, 0, 0, 0, 70, 15, 15},
    [DK_INFORMATICS] = {15, 5, 0, 0, 0, 0, 15, 10, 55},
};

/* Yearly chance of leaving, per role. */
static const double leave_rate[ROLE_COUNT] = {0.13, 0.07, 0.10, 0.08, 0.12, 0.11, 0.12, 0.08, 0.14};
#define TRANSFER_RATE 0.045
#define PROMOTION_RATE 0.02
#define HYBRID_EXIT_RATE 0.15

static const int promotion[ROLE_COUNT] = {
    ROLE_NP,      ROLE_MANAGER, ROLE_MANAGER, ROLE_MANAGER, ROLE_MANAGER,
    ROLE_MANAGER, ROLE_MANAGER, ROLE_ANALYST, ROLE_MANAGER,
};

static const uint8_t fte_values[] = {5, 6, 8, 9, 10, 12};
static const uint16_t fte_clinical[] = {8, 10, 15, 10, 55, 2};
static const uint16_t fte_physician[] = {5, 5, 15, 0, 70, 5};
static const uint16_t fte_office[] = {8, 7, 10, 0, 75, 0};

/* Tools: adoption by role (percent), by department kind (percent) and intensity (events
 * per working day, tenths), and the adoption curve in fractions of the run's range. */
static const uint8_t tool_role_aff[TOOL_COUNT][ROLE_COUNT] = {
    [TOOL_SCRIBE] = {15, 100, 100, 0, 0, 30, 0, 0, 0},
    [TOOL_CHAT] = {35, 60, 60, 70, 30, 35, 80, 90, 100},
    [TOOL_CODING] = {0, 0, 0, 0, 0, 0, 25, 10, 100},
    [TOOL_IMAGING] = {0, 40, 10, 0, 35, 0, 0, 0, 0},
};
static const uint16_t tool_kind_aff[TOOL_COUNT][DK_COUNT] = {
    [TOOL_SCRIBE] = {100, 80, 120, 70, 40, 0, 0, 60, 0, 50},
    [TOOL_CHAT] = {100, 100, 100, 100, 100, 100, 100, 100, 100, 120},
    [TOOL_CODING] = {0, 0, 0, 0, 0, 0, 50, 0, 100, 120},
    [TOOL_IMAGING] = {10, 70, 150, 20, 250, 0, 0, 0, 0, 0},
};
static const uint8_t tool_intensity[TOOL_COUNT][ROLE_COUNT] = {
    [TOOL_SCRIBE] = {15, 55, 45, 0, 0, 20, 0, 0, 0},
    [TOOL_CHAT] = {12, 15, 15, 20, 10, 10, 25, 20, 30},
    [TOOL_CODING] = {0, 0, 0, 0, 0, 0, 30, 10, 60},
    [TOOL_IMAGING] = {0, 40, 10, 0, 30, 0, 0, 0, 0},
};
static const struct {
    double launch, mid, tau, cap;
} tool_curve[TOOL_COUNT] = {
    [TOOL_SCRIBE] = {0.06, 0.50, 0.12, 0.85},
    [TOOL_CHAT] = {-0.30, 0.40, 0.20, 0.90},
    [TOOL_CODING] = {0.20, 0.60, 0.10, 0.70},
    [TOOL_IMAGING] = {-0.40, 0.20, 0.15, 0.90},
};

char world_role_prefix(int role)
{
    static const char prefix[ROLE_COUNT] = {'N', 'P', 'N', 'R', 'T', 'H', 'A', 'A', 'A'};
    return prefix[role];
}

/* A (site, department) pair people can be hired into, with its weight. */
struct cell {
    uint8_t site, dept;
    uint32_t weight;
};

struct build {
    struct world *w;
    struct cell cell[MAX_SITES * NDEPT];
    int ncell;
    uint32_t total_weight;
};

static int dept_at_site(int d, int site, int nsites)
{
    if (depts[d].only_site >= 0)
        return depts[d].only_site % nsites == site;
    if (depts[d].not_site >= 0 && nsites > 1)
        return depts[d].not_site != site;
    return 1;
}

static void make_cells(struct build *b)
{
    for (int s = 0; s < b->w->nsites; s++) {
        uint32_t sw = s < 5 ? 100 - 12 * (uint32_t)s : 40;
        for (int d = 0; d < NDEPT; d++) {
            if (!dept_at_site(d, s, b->w->nsites))
                continue;
            b->cell[b->ncell++] = (struct cell){(uint8_t)s, (uint8_t)d, sw * depts[d].weight};
            b->total_weight += sw * depts[d].weight;
        }
    }
}

static const struct cell *pick_cell(struct build *b, struct rng *r)
{
    uint32_t x = rng_below(r, b->total_weight);
    for (int i = 0; i < b->ncell; i++) {
        if (x < b->cell[i].weight)
            return &b->cell[i];
        x -= b->cell[i].weight;
    }
    return &b->cell[b->ncell - 1];
}

static int pick_role(struct rng *r, int dept)
{
    return rng_pick(r, role_mix[depts[dept].kind], ROLE_COUNT);
}

static uint8_t pick_fte(struct rng *r, int role)
{
    const uint16_t *w = role == ROLE_PHYSICIAN                          ? fte_physician
                        : role >= ROLE_ADMIN || role == ROLE_PHARMACIST ? fte_office
                                                                        : fte_clinical;
    return fte_values[rng_pick(r, w, 6)];
}

/* Days until an event of the given yearly rate. */
static int32_t exp_days(struct rng *r, double per_year)
{
    double d = -det_log(1.0 - rng_unit(r)) / (per_year / 365.0);
    return d > 1e6 ? 1000000 : (int32_t)d + 1;
}

static uint8_t leave_reason(struct rng *r, int32_t tenure_days)
{
    uint16_t w[4] = {60, 10, (uint16_t)(4 + (tenure_days > 0 ? tenure_days / 365 * 3 : 0)), 8};
    if (w[2] > 90)
        w[2] = 90;
    static const uint8_t reasons[4] = {ER_VOLUNTARY, ER_INVOLUNTARY, ER_RETIREMENT, ER_OTHER};
    return reasons[rng_pick(r, w, 4)];
}

static void push_ep(struct person *p, const struct episode *e)
{
    if (p->nep < MAX_EP)
        p->ep[p->nep++] = *e;
}

/* Moves e to another department (or, now and then, another site) where its role exists. */
static void transfer_cell(struct build *b, struct rng *r, struct episode *e)
{
    int want_site_change = b->w->nsites > 1 && rng_chance(r, 0.3);
    for (int tries = 0; tries < 50; tries++) {
        const struct cell *c = pick_cell(b, r);
        if (c->dept == e->dept && c->site == e->site)
            continue;
        if ((c->site != e->site) != want_site_change && tries < 40)
            continue;
        if (!role_mix[depts[c->dept].kind][e->role] && tries < 45)
            continue;
        e->site = c->site;
        e->dept = c->dept;
        if (!role_mix[depts[c->dept].kind][e->role])
            e->role = (uint8_t)pick_role(r, c->dept);
        return;
    }
}

/* The person's primary episodes: a hire, then transfers, promotions and exits (some
 * followed by a rehire) until the end of the run. */
static void career(struct build *b, struct person *p, struct rng *r)
{
    struct world *w = b->w;
    int32_t range = w->to - w->from + 1;
    int32_t hire;
    if (rng_chance(r, 0.78)) {
        double u = rng_unit(r);
        hire = w->from - 1 - (int32_t)(u * u * 365.0 * 28);
    } else {
        hire = w->from + (int32_t)rng_below(r, (uint32_t)range);
    }
    const struct cell *c = pick_cell(b, r);
    struct episode e = {.start = hire, .end = DAY_NONE, .site = c->site, .dept = c->dept};
    e.role = (uint8_t)pick_role(r, c->dept);
    e.fte10 = pick_fte(r, e.role);
    int32_t clock = hire > w->from - 400 ? hire : w->from - 400;
    int32_t first_hire = hire;
    for (;;) {
        double leave = leave_rate[e.role], total = leave + TRANSFER_RATE + PROMOTION_RATE;
        int32_t t = clock + exp_days(r, total);
        if (t > w->to || p->nep >= MAX_EP - 5) {
            /* Ongoing, or a termination already on file for shortly after the run. */
            if (t > w->to && t <= w->to + 45 && rng_chance(r, 0.3)) {
                e.end = t;
                e.reason = leave_reason(r, t - first_hire);
            }
            push_ep(p, &e);
            return;
        }
        double x = rng_unit(r) * total;
        e.end = t;
        if (x < leave) {
            e.reason = leave_reason(r, t - first_hire);
            push_ep(p, &e);
            if (e.reason == ER_RETIREMENT || !rng_chance(r, 0.2))
                return;
            int32_t again = t + rng_range(r, 45, 600);
            if (again > w->to)
                return;
            if (rng_chance(r, 0.4)) {
                c = pick_cell(b, r);
                e.site = c->site;
                e.dept = c->dept;
                if (!role_mix[depts[e.dept].kind][e.role])
                    e.role = (uint8_t)pick_role(r, e.dept);
            }
            e.start = again;
            e.fte10 = pick_fte(r, e.role);
        } else if (x < leave + TRANSFER_RATE) {
            e.reason = ER_TRANSFER;
            push_ep(p, &e);
            transfer_cell(b, r, &e);
            e.start = t + 1;
        } else {
            e.reason = ER_ROLE_CHANGE;
            push_ep(p, &e);
            int to_role = promotion[e.role];
            if (!role_mix[depts[e.dept].kind][to_role])
                to_role = ROLE_MANAGER;
            e.role = (uint8_t)to_role;
            if (rng_chance(r, 0.3))
                e.fte10 = pick_fte(r, e.role);
            e.start = t + 1;
        }
        e.end = DAY_NONE;
        e.reason = ER_NONE;
        clock = e.start;
    }
}

static int has_start(const struct person *p, int32_t day)
{
    for (int i = 0; i < p->nep; i++)
        if (p->ep[i].start == day)
            return 1;
    return 0;
}

static int has_hybrid(const struct person *p)
{
    for (int i = 0; i < p->nep; i++)
        if (p->ep[i].hybrid)
            return 1;
    return 0;
}

/* Index of the primary episode covering day d, or -1. */
static int primary_on(const struct person *p, int32_t d)
{
    for (int i = 0; i < p->nep; i++)
        if (!p->ep[i].secondary && p->ep[i].start <= d && d <= p->ep[i].end)
            return i;
    return -1;
}

static void insert_ep(struct person *p, int at, const struct episode *e)
{
    memmove(&p->ep[at + 1], &p->ep[at], (size_t)(p->nep - at) * sizeof *e);
    p->ep[at] = *e;
    p->nep++;
}

struct hybrid_rule {
    uint16_t roles; /* bit per enum role */
    uint16_t kinds; /* bit per enum dept_kind; 0 = any */
};

#define BIT(x) (1u << (x))
static const struct hybrid_rule hybrid_rules[HY_COUNT] = {
    [HY_CLINICAL_TRANSLATOR] = {BIT(ROLE_NURSE) | BIT(ROLE_PHYSICIAN) | BIT(ROLE_NP),
                                BIT(DK_CLINICAL) | BIT(DK_CRITICAL) | BIT(DK_EMERGENCY) |
                                    BIT(DK_SURGICAL)},
    [HY_MODEL_GOVERNANCE_LEAD] = {BIT(ROLE_PHYSICIAN) | BIT(ROLE_MANAGER) | BIT(ROLE_ANALYST),
                                  BIT(DK_RADIOLOGY) | BIT(DK_INFORMATICS) | BIT(DK_ADMIN) |
                                      BIT(DK_LAB) | BIT(DK_EMERGENCY)},
    [HY_DATA_STRATEGIST] = {BIT(ROLE_ANALYST) | BIT(ROLE_MANAGER) | BIT(ROLE_ADMIN),
                            BIT(DK_ADMIN) | BIT(DK_INFORMATICS) | BIT(DK_LAB) | BIT(DK_PHARMACY)},
    [HY_ETHICS_STEWARD] = {BIT(ROLE_PHYSICIAN) | BIT(ROLE_NURSE) | BIT(ROLE_MANAGER) |
                               BIT(ROLE_PHARMACIST),
                           0},
    [HY_AI_CHAMPION] = {BIT(ROLE_NURSE) | BIT(ROLE_PHYSICIAN) | BIT(ROLE_NP) |
                            BIT(ROLE_PHARMACIST) | BIT(ROLE_TECHNICIAN) | BIT(ROLE_THERAPIST) |
                            BIT(ROLE_ADMIN) | BIT(ROLE_ANALYST),
                        0},
};

/* Appoints someone to hybrid role h (in cell `only`, when given): their primary episode is
 * split by a role_change on the appointment day, and perhaps again when they step down.
 * Returns 1, or 0 when no candidate turned up. */
static int appoint(struct build *b, struct rng *r, int h, const struct cell *only)
{
    struct world *w = b->w;
    int32_t range = w->to - w->from + 1;
    for (int tries = 0; tries < 6000; tries++) {
        int32_t a = rng_chance(r, 0.45) ? w->from - 1 - (int32_t)rng_below(r, 500)
                                        : w->from + (int32_t)rng_below(r, (uint32_t)range - 30);
        struct person *p = &w->person[rng_below(r, w->nperson)];
        if (p->nep > MAX_EP - 3 || has_hybrid(p) || has_start(p, a))
            continue;
        int k = primary_on(p, a);
        if (k < 0 || p->ep[k].start >= a)
            continue;
        struct episode e = p->ep[k];
        if (!(hybrid_rules[h].roles & BIT(e.role)))
            continue;
        if (only ? e.site != only->site || e.dept != only->dept
                 : hybrid_rules[h].kinds && !(hybrid_rules[h].kinds & BIT(depts[e.dept].kind)))
            continue;
        struct episode held = e;
        p->ep[k].end = a - 1;
        p->ep[k].reason = ER_ROLE_CHANGE;
        held.start = a;
        held.hybrid = (uint8_t)h;
        int32_t x = a + exp_days(r, HYBRID_EXIT_RATE);
        int32_t last = e.end == DAY_NONE ? w->to : (e.end < w->to ? e.end : w->to);
        if (x < last) {
            struct episode after = e;
            held.end = x;
            held.reason = ER_ROLE_CHANGE;
            after.start = x + 1;
            insert_ep(p, k + 1, &held);
            insert_ep(p, k + 2, &after);
        } else {
            insert_ep(p, k + 1, &held);
        }
        return 1;
    }
    return 0;
}

static void hybrid_roles(struct build *b)
{
    struct world *w = b->w;
    struct rng r = rng_at(w->seed, RP_WORLD, 1, 0);
    /* AI champions: about one per 50 staff of a (site, department); most have one. */
    for (int i = 0; i < b->ncell; i++) {
        double size = (double)w->nperson * b->cell[i].weight / b->total_weight;
        if (size < 6 || rng_chance(&r, 0.12))
            continue;
        int n = 1 + (int)(size / 50);
        for (int k = 0; k < n; k++)
            appoint(b, &r, HY_AI_CHAMPION, &b->cell[i]);
    }
    /* The other four: 0.8 % of staff each, so their cohorts can pass k = 10 at 2000. */
    uint32_t each = w->nperson * 16 / 2000;
    if (each < 2)
        each = 2;
    for (int h = HY_CLINICAL_TRANSLATOR; h <= HY_ETHICS_STEWARD; h++)
        for (uint32_t k = 0; k < each; k++)
            appoint(b, &r, h, NULL);
}

/* A part-time second appointment in another department, inside one primary episode. */
static void secondary(struct build *b, struct person *p, struct rng *r)
{
    struct world *w = b->w;
    int k = (int)rng_below(r, p->nep);
    struct episode e = p->ep[k];
    int32_t last = e.end == DAY_NONE ? w->to : e.end;
    if (e.secondary || last - e.start < 90 || p->nep > MAX_EP - 2)
        return;
    struct episode s = e;
    s.start = e.start + rng_range(r, 1, last - e.start - 60);
    s.end = s.start + rng_range(r, 30, 200);
    s.reason = ER_OTHER;
    if (s.end >= e.end) {
        s.end = e.end;
        s.reason = e.reason == ER_NONE ? ER_NONE : ER_OTHER;
    }
    if (s.end > w->to + 45 && s.end != DAY_NONE) {
        s.end = DAY_NONE;
        s.reason = ER_NONE;
    }
    if (has_start(p, s.start))
        return;
    transfer_cell(b, r, &s);
    s.role = e.role;
    if (!role_mix[depts[s.dept].kind][s.role])
        return;
    s.hybrid = HY_NONE;
    s.fte10 = 2;
    s.secondary = 1;
    int at = k + 1;
    while (at < p->nep && p->ep[at].start < s.start)
        at++;
    insert_ep(p, at, &s);
}

double world_tool_fit(int tool, const struct episode *e)
{
    return tool_role_aff[tool][e->role] / 100.0 * tool_kind_aff[tool][depts[e->dept].kind] / 100.0 *
           depts[e->dept].adopt / 100.0;
}

/* Adoption curves: the day a person with threshold u in (0, 1) starts using tool t. */
static void tools(struct world *w, struct person *p, struct rng *r)
{
    const struct episode *e = world_episode_on(p, w->from);
    if (!e)
        e = &p->ep[0];
    double range = w->to - w->from + 1;
    for (int t = 0; t < TOOL_COUNT; t++) {
        double aff = world_tool_fit(t, e);
        double cap = tool_curve[t].cap * aff;
        if (cap > 0.97)
            cap = 0.97;
        double u = rng_unit(r);
        p->adopt[t] = p->lapse[t] = DAY_NONE;
        p->intensity[t] = 0;
        if (u >= cap)
            continue;
        double q = u / cap;
        double x = q <= 1e-9 ? -50 : det_log(q / (1 - q));
        double day = tool_curve[t].mid * range + tool_curve[t].tau * range * x;
        if (day < tool_curve[t].launch * range)
            day = tool_curve[t].launch * range;
        if (day > 1e6)
            continue;
        p->adopt[t] = w->from + (int32_t)floor(day);
        if (rng_chance(r, 0.12))
            p->lapse[t] = p->adopt[t] + 20 + exp_days(r, 365.0 / (0.35 * range));
        double k = tool_intensity[t][e->role] * (0.4 + 1.2 * rng_unit(r));
        if (t == TOOL_IMAGING && depts[e->dept].kind == DK_RADIOLOGY)
            k *= 2.5;
        p->intensity[t] = (uint8_t)(k > 250 ? 250 : k < 1 ? 1 : k);
    }
}

/* Moves a completion onto a day the person is employed (onboarding for those hired after
 * it), or returns 0 to drop it. */
static int employed_day(const struct world *w, const struct person *p, struct rng *r, int32_t *day)
{
    if (world_episode_on(p, *day))
        return 1;
    for (int i = 0; i < p->nep; i++) {
        if (p->ep[i].start > *day) {
            int32_t d = p->ep[i].start + rng_range(r, 0, 20);
            if (d > w->to || !world_episode_on(p, d))
                return 0;
            *day = d;
            return 1;
        }
    }
    return 0;
}

static void add_completion(struct person *p, struct completion *buf, int32_t day, int course,
                           struct rng *r)
{
    buf[p->ncomp++] = (struct completion){day, (uint8_t)course, (uint8_t)rng_chance(r, 0.015)};
}

/* A campaign course: logistic uptake from `launch` (fractions of the range). */
static int32_t campaign_day(const struct world *w, struct rng *r, double launch, double mid,
                            double tau, double cap)
{
    double u = rng_unit(r), range = w->to - w->from + 1;
    if (u >= cap)
        return DAY_NONE;
    double q = u / cap;
    double x = q <= 1e-9 ? -50 : det_log(q / (1 - q));
    double d = (mid + tau * x) * range;
    if (d < launch * range)
        d = launch * range + rng_unit(r) * 14;
    if (d >= range)
        return DAY_NONE;
    return w->from + (int32_t)d;
}

static void courses(struct world *w, struct person *p, struct rng *r)
{
    int32_t range = w->to - w->from + 1;
    struct completion *buf = xmalloc((size_t)(8 + 2 * (range / 365 + 1)) * sizeof *buf);
    p->ncomp = 0;
    const struct episode *e = world_episode_on(p, w->from);
    if (!e)
        e = &p->ep[0];
    int clinical = e->role <= ROLE_THERAPIST;
    double f = depts[e->dept].adopt / 100.0;
    int32_t d101 = campaign_day(w, r, 0.15, 0.45, 0.12, f > 1.2 ? 0.92 : 0.75 * (0.6 + 0.4 * f));
    if (d101 != DAY_NONE && employed_day(w, p, r, &d101)) {
        add_completion(p, buf, d101, C_AI_LITERACY_101, r);
        if (rng_chance(r, 0.3)) {
            int32_t d201 = d101 + 60 + exp_days(r, 365.0 / 200);
            if (d201 <= w->to && employed_day(w, p, r, &d201))
                add_completion(p, buf, d201, C_AI_LITERACY_201, r);
        }
    }
    int32_t dsafe = campaign_day(w, r, 0.40, 0.65, 0.10, 0.6);
    if (dsafe != DAY_NONE && employed_day(w, p, r, &dsafe))
        add_completion(p, buf, dsafe, C_AI_SAFETY, r);
    for (int32_t y = w->from; y <= w->to; y += 365) {
        int32_t len = w->to - y + 1 < 365 ? w->to - y + 1 : 365;
        int32_t d = y + (int32_t)rng_below(r, (uint32_t)len);
        if (rng_chance(r, 0.85) && world_episode_on(p, d))
            add_completion(p, buf, d, C_HAND_HYGIENE, r);
        d = y + (int32_t)rng_below(r, (uint32_t)len);
        if (rng_chance(r, 0.75) && world_episode_on(p, d))
            add_completion(p, buf, d, C_FIRE_SAFETY, r);
    }
    int32_t d = w->from + (int32_t)rng_below(r, (uint32_t)range);
    if (e->site == 0 && clinical && rng_chance(r, 0.35) && world_episode_on(p, d))
        add_completion(p, buf, d, C_INFECTION_FR, r);
    d = w->from + (int32_t)rng_below(r, (uint32_t)range);
    if (e->role <= ROLE_NP && rng_chance(r, 0.3) && world_episode_on(p, d))
        add_completion(p, buf, d, C_SEPSIS, r);
    d = w->from + (int32_t)rng_below(r, (uint32_t)range);
    if ((depts[e->dept].kind == DK_INFORMATICS || has_hybrid(p)) && rng_chance(r, 0.25) &&
        world_episode_on(p, d))
        add_completion(p, buf, d, C_LONG_128, r);
    /* Insertion sort by day; (course, day) pairs are distinct by construction. */
    for (int i = 1; i < p->ncomp; i++)
        for (int j = i; j > 0 && buf[j].day < buf[j - 1].day; j--) {
            struct completion t = buf[j];
            buf[j] = buf[j - 1];
            buf[j - 1] = t;
        }
    p->comp = p->ncomp ? xmemdup(buf, p->ncomp * sizeof *buf) : NULL;
    xfree(buf);
}

static void traits(struct person *p, struct rng *r)
{
    static const uint16_t strain_w[4] = {40, 45, 11, 4};
    static const uint16_t rota_w[3] = {62, 20, 18};
    p->strain = (uint8_t)rng_pick(r, strain_w, 4);
    p->rota = (uint8_t)rng_pick(r, rota_w, 3);
    p->long_shifts = (uint8_t)rng_chance(r, 0.5);
    p->pajama = (uint8_t)rng_range(r, 1, 12);
    p->unsched_pct = (uint8_t)rng_range(r, 10, 60);
}

static void ghosts(struct world *w)
{
    w->nghost = w->nperson / 250 < 3 ? 3 : w->nperson / 250;
    w->ghost = xcalloc(w->nghost, sizeof *w->ghost);
    for (uint32_t g = 0; g < w->nghost; g++) {
        struct rng r = rng_at(w->seed, RP_GHOST, g, 0);
        struct ghost *h = &w->ghost[g];
        h->site = (uint8_t)(g % (uint32_t)w->nsites);
        uint32_t kind = g < 2 ? 2 : rng_below(&r, 10);
        if (kind == 2) { /* a service account testing a tool */
            h->tool = g % 2 ? TOOL_IMAGING : TOOL_SCRIBE;
            snprintf(h->id, sizeof h->id, "svc-%s-qa%u", g % 2 ? "triage" : "scribe", (unsigned)g);
            h->rate = (uint8_t)rng_range(&r, 10, 40);
        } else if (kind < 4) { /* a student */
            snprintf(h->id, sizeof h->id, "STU%05u", (unsigned)(g * 37 % 100000));
            h->tool = TOOL_CHAT;
            h->rate = (uint8_t)rng_range(&r, 5, 20);
            h->trains = 1;
        } else { /* a contractor or locum */
            snprintf(h->id, sizeof h->id, "C%06u", (unsigned)((g * 7919u + 99) % 1000000));
            h->tool = rng_chance(&r, 0.4) ? TOOL_SCRIBE : TOOL_CHAT;
            h->rate = (uint8_t)rng_range(&r, 5, 30);
            h->trains = (uint8_t)rng_chance(&r, 0.5);
        }
    }
}

void world_build(struct world *w, uint64_t seed, uint32_t staff, int sites, int32_t from,
                 int32_t to)
{
    memset(w, 0, sizeof *w);
    w->seed = seed;
    w->from = from;
    w->to = to;
    w->nsites = sites;
    w->dept = depts;
    w->ndept = NDEPT;
    int y0, y1, m, d;
    civil_from_day(from, &y0, &m, &d);
    civil_from_day(to, &y1, &m, &d);
    for (int s = 0; s < sites; s++) {
        snprintf(w->site[s].name, sizeof w->site[s].name, "%s", site_names[s]);
        zone_init(&w->site[s].zone, s, y0 - 1, y1 + 1);
    }
    struct build *b = xcalloc(1, sizeof *b);
    b->w = w;
    make_cells(b);
    w->nperson = staff;
    w->person = xcalloc(staff, sizeof *w->person);
    for (uint32_t i = 0; i < staff; i++) {
        struct rng r = rng_at(seed, RP_PERSON, i, 0);
        struct person *p = &w->person[i];
        career(b, p, &r);
        snprintf(p->id, sizeof p->id, "%c%06u", world_role_prefix(p->ep[0].role),
                 (unsigned)((i * 7919u + 4321) % 1000000));
    }
    hybrid_roles(b);
    for (uint32_t i = 0; i < staff; i++) {
        struct rng r = rng_at(seed, RP_PERSON, i, 1);
        struct person *p = &w->person[i];
        int r0 = p->ep[0].role;
        if ((r0 == ROLE_PHYSICIAN || r0 == ROLE_NP || r0 == ROLE_TECHNICIAN ||
             r0 == ROLE_PHARMACIST) &&
            rng_chance(&r, 0.012))
            secondary(b, p, &r);
        for (int k = 0; k < p->nep; k++)
            p->ep[k].restated = (uint8_t)rng_chance(&r, 0.006);
        traits(p, &r);
        tools(w, p, &r);
        courses(w, p, &r);
    }
    ghosts(w);
    xfree(b);
}

void world_free(struct world *w)
{
    for (uint32_t i = 0; i < w->nperson; i++)
        xfree(w->person[i].comp);
    xfree(w->person);
    xfree(w->ghost);
    memset(w, 0, sizeof *w);
}

const struct episode *world_episode_on(const struct person *p, int32_t d)
{
    for (int i = p->nep - 1; i >= 0; i--)
        if (p->ep[i].start <= d && d <= p->ep[i].end)
            return &p->ep[i];
    return NULL;
}

int world_site_of(const struct person *p, int32_t d)
{
    const struct episode *e = world_episode_on(p, d);
    if (e)
        return e->site;
    int best = 0;
    int64_t gap = INT64_MAX;
    for (int i = 0; i < p->nep; i++) {
        int64_t g = d < p->ep[i].start ? (int64_t)p->ep[i].start - d : (int64_t)d - p->ep[i].end;
        if (g < gap) {
            gap = g;
            best = i;
        }
    }
    return p->ep[best].site;
}
