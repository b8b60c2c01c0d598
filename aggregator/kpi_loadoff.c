/* kpi_loadoff.c - did AI take load off the floor? A difference in differences of each
 * adopter's workload against not-yet-adopted colleagues of the same department and role
 * (docs/kpi.md, "Load-off").
 *
 * For a tool set T (every tool, or one tool), a member's adoption day a is their first day
 * with matched usage of T, when they used T on at least M distinct days of [a, a + 27].
 * The change compares pre = [a - P, a - 1] with post = [a + G, a + G + P - 1]; the pretrend
 * compares [a - 2P, a - P - 1] with [a - P, a - 1]. An adopter counts when employed in one
 * department and role on every day of the span; its controls are the other members
 * employed in that department and role on every day of it, without usage of T up to the
 * span's last day. e(p) = (y(p, post) - y(p, pre)) - mean over controls of the same.
 *
 * Work is done per (department, role): each member's daily sums over the days the group's
 * spans cover are built once as prefix sums, so every period sum is two reads.
 */
#include <stdlib.h>
#include <string.h>

#include "aggregator/kpi_family.h"
#include "common/xalloc.h"

#define NONE_DAY INT32_MAX
enum { Y_WOW8, Y_EHR8, Y_INBOX8, Y_OVERTIME, Y_SICKNESS, NY };
enum { K_CHANGE, K_PRETREND, NK };
/* Daily sums kept per member: fte, scheduled, outside, EHR, inbox minutes, overtime and
 * sick hours (micro units). */
enum { S_FTE, S_SCHED, S_OUTSIDE, S_EHR, S_INBOX, S_OVERTIME, S_SICK, NS };

static const char *const kpi_name[NK][NY] = {
    {"loadoff_wow8_change", "loadoff_ehr_time8_change", "loadoff_inbox_time8_change",
     "loadoff_overtime_change", "loadoff_sickness_change"},
    {"loadoff_wow8_pretrend", "loadoff_ehr_time8_pretrend", "loadoff_inbox_time8_pretrend",
     "loadoff_overtime_pretrend", "loadoff_sickness_pretrend"},
};
static const char *const stderr_name[NY] = {
    "loadoff_wow8_change_stderr", "loadoff_ehr_time8_change_stderr",
    "loadoff_inbox_time8_change_stderr", "loadoff_overtime_change_stderr",
    "loadoff_sickness_change_stderr"};

/* One adopter's estimate to make: person, tool set, kind, adoption day, group. */
struct job {
    uint32_t pi;
    uint32_t t; /* 0 every tool, else tool id + 1 */
    uint8_t k;
    int32_t a;
    uint32_t dept, role, site; /* the span's department and role; the cell's site */
    uint64_t key;              /* dept, role: the group being worked */
    size_t set;                /* index of its (a, k, t) set in the group */
    uint64_t wins;             /* bit i: its post period ends in window i of the batch */
};

/* One (a, k, t) of a group and its controls: for each outcome y, the sum of the controls'
 * deltas y (those defined), how many, and which (a bitset over the group's members, in
 * work_group's ctl array). */
struct set {
    int32_t a;
    uint8_t k;
    uint32_t t;
    uint32_t ti; /* index of t among the group's tool sets (work_group's ts) */
    double csum[NY];
    int64_t ccount[NY];
};

/* Running sums of one cell for one kind and outcome. */
struct acc {
    double sum, sum2;
    int64_t n;
};

/* (cell, kind, outcome, person) of a control used, for the distinct-control counts. */
struct used {
    uint32_t cell;
    uint8_t k, y;
    uint32_t pi;
};

/* A person's first matched usage of a tool set T, and their adoption day for it. */
struct tool_use {
    uint32_t t;
    int32_t first, adopt; /* adopt NONE_DAY: no adoption day */
};

/* Marks are bitsets over a group's members, one per (slot, kind, outcome). */
typedef uint64_t word;
#define WORD_BITS 64
#ifndef CTL_BYTES                    /* a build may set it lower to try the chunks */
#define CTL_BYTES ((size_t)64 << 20) /* work_group's control bitsets at most */
#endif
#define WORDS(n) (((n) + WORD_BITS - 1) / WORD_BITS)

/* One window's cells: running sums and the controls used, then its rows. */
struct lwin {
    struct kpi_span span;
    struct acc *acc; /* [(cell * NK + k) * NY + y] */
    struct used *used;
    size_t nused, capused;
    uint32_t slot_cell[64]; /* work_group's mark slots: the cell of each */
    size_t nslots;
    word *mark; /* work_group's marks: [((slot * NK + k) * NY + y) * nwords + word] */
    struct kpi_table t;
};

struct ctx {
    const struct kpi_params *p;
    const struct kpi_model *m;
    int32_t P, G;
    int32_t gap; /* loadoff_pre_gap_days: days before a left out of the change's pre period */
    const struct tool_use *use; /* the uses of prepare() */
    const size_t *off;
    uint32_t ncells;  /* org, sites, departments, roles, tools */
    struct lwin *win; /* the windows of the batch */
    size_t nwin;
};

static int64_t sday(int32_t d)
{
    return (int64_t)d;
}

/* ---- adoption days ---- */

/* Each person's tool sets with matched usage, sorted by t (0 every tool, else tool id + 1):
 * use[off[pi] .. off[pi + 1]). Kept per person, not per (person, tool), so a store holding
 * many tool names costs no more than its usage. The same for every window: prepare()
 * builds it once per refresh. */
struct uses {
    struct tool_use *use;
    size_t *off;
};

/* A tool set's usage being tallied for one person. */
struct tally {
    uint32_t t;
    int32_t first, last, days; /* days: distinct days of use in [first, first + 27] */
};

static int by_t(const void *x, const void *y)
{
    const struct tally *a = x, *b = y;
    return a->t < b->t ? -1 : a->t > b->t;
}

static void tally_day(struct tally *u, int32_t day)
{
    if (sday(day) <= sday(u->first) + 27 && day != u->last) {
        u->days++;
        u->last = day;
    }
}

static struct uses *adoption_days(const struct kpi_model *m, const struct kpi_params *p)
{
    int32_t M = (int32_t)p->loadoff_min_active_days;
    struct uses *c = xcalloc(1, sizeof *c);
    size_t nt = 1 + m->tools.n;
    c->off = xmalloc(((size_t)m->npersons + 1) * sizeof *c->off);
    /* slot[t]: the index of tool set t in tl while a person is tallied, else SIZE_MAX */
    size_t *slot = xmalloc(nt * sizeof *slot);
    for (size_t t = 0; t < nt; t++)
        slot[t] = SIZE_MAX;
    struct tally *tl = NULL;
    size_t n = 0, cap = 0, tcap = 0;
    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        c->off[pi] = n;
        size_t ntl = 0;
        for (uint32_t i = 0; i < p->nact; i++) { /* sorted by day */
            const struct activity *a = &p->act[i];
            uint64_t ev = 0;
            for (int o = 0; o < OUT_COUNT; o++)
                ev += a->events[o];
            if (!ev || !kpi_episode_on(p, a->day))
                continue;
            const uint32_t ts[2] = {0, a->tool + 1};
            for (int j = 0; j < 2; j++) {
                if (slot[ts[j]] == SIZE_MAX) {
                    if (ntl == tcap)
                        xgrow((void **)&tl, &tcap, ntl + 1, sizeof *tl);
                    tl[ntl] = (struct tally){ts[j], a->day, NONE_DAY, 0};
                    slot[ts[j]] = ntl++;
                }
                tally_day(&tl[slot[ts[j]]], a->day);
            }
        }
        if (ntl > 1)
            qsort(tl, ntl, sizeof *tl, by_t);
        for (size_t k = 0; k < ntl; k++) {
            slot[tl[k].t] = SIZE_MAX;
            if (n == cap)
                xgrow((void **)&c->use, &cap, n + 1, sizeof *c->use);
            c->use[n++] =
                (struct tool_use){tl[k].t, tl[k].first, tl[k].days >= M ? tl[k].first : NONE_DAY};
        }
    }
    c->off[m->npersons] = n;
    xfree(slot);
    xfree(tl);
    return c;
}

static void release_uses(struct uses *u)
{
    xfree(u->use);
    xfree(u->off);
    xfree(u);
}

/* Person pi's first matched usage day of tool set t, or NONE_DAY. */
static int32_t first_use(const struct ctx *c, uint32_t pi, uint32_t t)
{
    size_t lo = c->off[pi], hi = c->off[pi + 1];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->use[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->off[pi + 1] && c->use[lo].t == t ? c->use[lo].first : NONE_DAY;
}

/* ---- spans ---- */

struct span_check {
    int64_t days;
    uint32_t dept, role;
    int mixed;
};

static void on_span_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    struct span_check *s = ud;
    if (s->days == 0) {
        s->dept = ep->dept;
        s->role = ep->role;
    } else if (ep->dept != s->dept || ep->role != s->role) {
        s->mixed = 1;
    }
    s->days += (int64_t)to - from + 1;
}

/* Whether p is employed in one department and role on every day of [from, to]; sets them. */
static int one_group(const struct person *p, int64_t from, int64_t to, uint32_t *dept,
                     uint32_t *role)
{
    if (from < INT32_MIN + 1 || to > INT32_MAX - 1)
        return 0;
    struct span_check s = {0};
    kpi_segments(p, (int32_t)from, (int32_t)to, on_span_segment, &s);
    if (s.mixed || s.days != to - from + 1)
        return 0;
    *dept = s.dept;
    *role = s.role;
    return 1;
}

/* The periods of kind k for adoption day a: pre [b0, b1], post [b2, b3]; the span is
 * [b0, b3] and the controls' usage cut-off is b3. The change's pre period ends gap days
 * before a (0 by default, as defined). */
static void periods(const struct ctx *c, int k, int32_t a, int64_t b[4])
{
    int64_t P = c->P, G = c->G, gap = c->gap;
    if (k == K_CHANGE) {
        b[0] = sday(a) - P - gap, b[1] = sday(a) - 1 - gap, b[2] = sday(a) + G,
        b[3] = sday(a) + G + P - 1;
    } else {
        b[0] = sday(a) - 2 * P, b[1] = sday(a) - P - 1, b[2] = sday(a) - P, b[3] = sday(a) - 1;
    }
}

static int by_group(const void *x, const void *y)
{
    const struct job *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return a->t < b->t ? -1 : a->t > b->t;
}

/* ---- a member's days in the group ---- */

/* The runs of consecutive days on which a member is employed in the group (dept, role). */
struct runs {
    uint32_t dept, role;
    int64_t (*r)[2]; /* [first, last] */
    size_t n, cap;
};

static void on_run_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    struct runs *g = ud;
    if (ep->dept != g->dept || ep->role != g->role)
        return;
    if (g->n && g->r[g->n - 1][1] + 1 == from) {
        g->r[g->n - 1][1] = to;
        return;
    }
    if (g->n == g->cap)
        xgrow((void **)&g->r, &g->cap, g->n + 1, sizeof *g->r);
    g->r[g->n][0] = from;
    g->r[g->n++][1] = to;
}

/* Whether every day of [from, to] is in one run. */
static int covered(const struct runs *g, int64_t from, int64_t to)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->r[i][0] <= from && to <= g->r[i][1])
            return 1;
    return 0;
}

/* ---- a member's daily sums ---- */

struct member_sums {
    int64_t d0;       /* day of index 0 */
    size_t len;       /* days */
    int64_t (*s)[NS]; /* prefix sums: s[i][x] = sum over days d0 .. d0 + i - 1 (a period's
                       * sums of every series are two rows) */
};

static void add_day(struct member_sums *ms, int x, int64_t day, int64_t v)
{
    if (day < ms->d0 || day >= ms->d0 + (int64_t)ms->len)
        return;
    ms->s[day - ms->d0 + 1][x] += v;
}

static void on_fill_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    for (int64_t d = from; d <= to; d++)
        add_day(ud, S_FTE, d, ep->fte_micro);
}

/* Fills ms (sized for [d0, d0 + len - 1]) with p's daily sums, as prefix sums. */
static void member_fill(struct member_sums *ms, const struct person *p)
{
    memset(ms->s, 0, (ms->len + 1) * sizeof *ms->s);
    kpi_segments(p, (int32_t)ms->d0, (int32_t)(ms->d0 + (int64_t)ms->len - 1), on_fill_segment, ms);
    int64_t last = ms->d0 + (int64_t)ms->len - 1;
    for (uint32_t i = kpi_ehr_from(p, (int32_t)ms->d0); i < p->nehr && p->ehr[i].day <= last; i++) {
        const struct ehr_day *e = &p->ehr[i];
        add_day(ms, S_SCHED, e->day, e->sched_micro);
        add_day(ms, S_OUTSIDE, e->day, e->outside_micro);
        add_day(ms, S_EHR, e->day, e->ehr_micro);
        add_day(ms, S_INBOX, e->day, e->inbox_micro);
    }
    for (uint32_t i = 0; i < p->nshifts; i++)
        add_day(ms, S_OVERTIME, p->shifts[i].day, p->shifts[i].overtime_micro);
    for (uint32_t i = kpi_absence_from(p, (int32_t)ms->d0);
         i < p->nabsences && p->absences[i].day <= last; i++)
        if (p->absences[i].kind == 1 /* sick */)
            add_day(ms, S_SICK, p->absences[i].day, p->absences[i].hours_micro);
    for (size_t i = 1; i <= ms->len; i++)
        for (int x = 0; x < NS; x++)
            ms->s[i][x] += ms->s[i - 1][x];
}

static int64_t sum(const struct member_sums *ms, int x, int64_t from, int64_t to)
{
    return ms->s[to - ms->d0 + 1][x] - ms->s[from - ms->d0][x];
}

/* y of every outcome over [from, to]; bit y of the result set when defined. */
static unsigned outcomes(const struct ctx *c, const struct member_sums *ms, int64_t from,
                         int64_t to, double y[NY])
{
    unsigned def = 0;
    int64_t sched = sum(ms, S_SCHED, from, to), fte = sum(ms, S_FTE, from, to);
    if (sched > 0) {
        /* minutes x 60 / (hours / 8): 480 x micro-minutes / micro-hours seconds */
        y[Y_WOW8] = 480.0 * (double)sum(ms, S_OUTSIDE, from, to) / (double)sched;
        y[Y_EHR8] = 480.0 * (double)sum(ms, S_EHR, from, to) / (double)sched;
        y[Y_INBOX8] = 480.0 * (double)sum(ms, S_INBOX, from, to) / (double)sched;
        def |= 1u << Y_WOW8 | 1u << Y_EHR8 | 1u << Y_INBOX8;
    }
    if (fte > 0) {
        /* hours / (sum of fte x H / 7): micro-hours x 7e6 / (fte-micro-days x H micro) */
        double contracted = (double)fte * (double)c->p->contract_hours_micro / 7e6;
        y[Y_OVERTIME] = (double)sum(ms, S_OVERTIME, from, to) / contracted;
        y[Y_SICKNESS] = (double)sum(ms, S_SICK, from, to) / contracted;
        def |= 1u << Y_OVERTIME | 1u << Y_SICKNESS;
    }
    return def;
}

/* Deltas post - pre of every outcome for kind k and day a; bit y set when both defined. */
static unsigned deltas(const struct ctx *c, const struct member_sums *ms, int k, int32_t a,
                       double d[NY])
{
    int64_t b[4];
    periods(c, k, a, b);
    double pre[NY], post[NY];
    unsigned def = outcomes(c, ms, b[0], b[1], pre) & outcomes(c, ms, b[2], b[3], post);
    for (int y = 0; y < NY; y++)
        d[y] = (def >> y & 1) ? post[y] - pre[y] : 0;
    return def;
}

/* ---- cells ---- */

static struct acc *acc_of(struct lwin *c, uint32_t cell, int k, int y)
{
    return &c->acc[((size_t)cell * NK + (size_t)k) * NY + (size_t)y];
}

/* The cells a job's estimate goes to: org, site, department, role for every tool; the
 * tool's cell for one tool. Returns how many. */
static int cells_of(const struct ctx *c, const struct job *j, uint32_t out[4])
{
    const struct kpi_model *m = c->m;
    if (j->t > 0) {
        out[0] = 1 + (uint32_t)(m->sites.n + m->depts.n + m->roles.n) + (j->t - 1);
        return 1;
    }
    out[0] = 0;
    out[1] = 1 + j->site;
    out[2] = 1 + (uint32_t)m->sites.n + j->dept;
    out[3] = 1 + (uint32_t)(m->sites.n + m->depts.n) + j->role;
    return 4;
}

static void use(struct lwin *c, uint32_t cell, int k, int y, uint32_t pi)
{
    if (c->nused == c->capused)
        xgrow((void **)&c->used, &c->capused, c->nused + 1, sizeof *c->used);
    c->used[c->nused++] = (struct used){cell, (uint8_t)k, (uint8_t)y, pi};
}

/* ---- one (department, role) group ---- */

static int bit(const word *b, size_t i)
{
    return (int)(b[i / WORD_BITS] >> (i % WORD_BITS) & 1);
}

/* Lists the window's marked controls of each slot's cell into its used list and clears
 * the marks and slots. */
static void flush_marks(struct lwin *c, const uint32_t *members, size_t nwords)
{
    word *mark = c->mark;
    const uint32_t *slot_cell = c->slot_cell;
    size_t nslots = c->nslots;
    c->nslots = 0;
    for (size_t sl = 0; sl < nslots; sl++)
        for (int k = 0; k < NK; k++)
            for (int y = 0; y < NY; y++) {
                word *mk = &mark[((sl * NK + (size_t)k) * NY + (size_t)y) * nwords];
                for (size_t i = 0; i < nwords; i++) {
                    for (word v = mk[i]; v; v &= v - 1)
                        use(c, slot_cell[sl], k, y,
                            members[i * WORD_BITS + (size_t)__builtin_ctzll(v)]);
                    mk[i] = 0;
                }
            }
}

static void work_group(struct ctx *c, struct job *jobs, size_t nj, const uint32_t *members,
                       size_t nm)
{
    const struct kpi_model *m = c->m;
    /* The (a, k, t) sets and the days they cover. */
    struct set *sets = NULL;
    size_t nsets = 0, capsets = 0;
    int64_t d0 = INT64_MAX, d1 = INT64_MIN;
    for (size_t i = 0; i < nj; i++) {
        struct job *j = &jobs[i];
        if (!nsets || sets[nsets - 1].a != j->a || sets[nsets - 1].k != j->k ||
            sets[nsets - 1].t != j->t) {
            if (nsets == capsets)
                xgrow((void **)&sets, &capsets, nsets + 1, sizeof *sets);
            sets[nsets++] = (struct set){.a = j->a, .k = j->k, .t = j->t};
        }
        j->set = nsets - 1;
        int64_t b[4];
        periods(c, j->k, j->a, b);
        d0 = b[0] < d0 ? b[0] : d0;
        d1 = b[3] > d1 ? b[3] : d1;
    }
    struct member_sums ms = {.d0 = d0, .len = (size_t)(d1 - d0 + 1)};
    ms.s = xmalloc((ms.len + 1) * sizeof *ms.s);

    /* Every member against every set: a control when in the group on every day of the
     * span and without usage of T up to its last day. An adopter that passes as a control
     * of its own set (it can, for its pretrend) is counted there and taken out again when
     * its own estimate is made. */
    double *own = xcalloc(nj * NY + 1, sizeof *own); /* each job's own deltas */
    uint8_t *own_def = xcalloc(nj + 1, 1);
    /* Each member's own jobs, as chains (members are sorted by person index; an adopter
     * is a member of its span's group): head[member], next[job], SIZE_MAX ends. */
    size_t *head = xmalloc((nm + 1) * sizeof *head), *next = xmalloc((nj + 1) * sizeof *next);
    size_t *job_member = xmalloc((nj + 1) * sizeof *job_member);
    for (size_t mi = 0; mi < nm; mi++)
        head[mi] = SIZE_MAX;
    for (size_t i = 0; i < nj; i++) {
        size_t lo = 0, hi = nm;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (members[mid] < jobs[i].pi)
                lo = mid + 1;
            else
                hi = mid;
        }
        next[i] = SIZE_MAX;
        job_member[i] = SIZE_MAX;
        if (lo < nm && members[lo] == jobs[i].pi) {
            next[i] = head[lo];
            head[lo] = i;
            job_member[i] = lo;
        }
    }
    /* The tool sets the group's estimates use, so that each member's first use of each is
     * looked up once, not once per set. */
    uint32_t *ts = xmalloc((nsets + 1) * sizeof *ts);
    size_t nts = 0;
    for (size_t si = 0; si < nsets; si++) {
        size_t k = 0;
        while (k < nts && ts[k] != sets[si].t)
            k++;
        if (k == nts)
            ts[nts++] = sets[si].t;
        sets[si].ti = (uint32_t)k;
    }
    int32_t *fq = xmalloc((nts + 1) * sizeof *fq);
    /* The sets' control bitsets take nsets x NY x nwords words: past CTL_BYTES (a
     * department and role of tens of thousands over years of adoption days) the sets are
     * worked a chunk at a time, each member's sums made again for each chunk. */
    size_t nwords = WORDS(nm);
    size_t chunk = CTL_BYTES / (NY * nwords * sizeof(word));
    chunk = chunk < 1 ? 1 : chunk > nsets ? nsets : chunk;
    word *ctl = xmalloc((chunk * NY * nwords + 1) * sizeof *ctl);
    /* Each adopter's e(p), into its cells. The controls it used are marked per cell,
     * kind and outcome (slot), then listed once each for the distinct-control counts.
     * Jobs of one set are adjacent (sorted by a, k, t): the set's controls defined for
     * each outcome (a bitset over members) and their sum are made once for all of them. */
    size_t maxslots = sizeof c->win->slot_cell / sizeof *c->win->slot_cell;
    for (size_t wi = 0; wi < c->nwin; wi++)
        c->win[wi].mark = xcalloc(maxslots * NK * NY * nwords + 1, sizeof(word));
    size_t ji = 0; /* the next job to estimate (jobs are in set order) */
    struct runs g = {.dept = jobs[0].dept, .role = jobs[0].role};
    for (size_t c0 = 0; c0 < nsets; c0 += chunk) {
        size_t c1 = c0 + chunk < nsets ? c0 + chunk : nsets;
        memset(ctl, 0, (chunk * NY * nwords + 1) * sizeof *ctl);
        for (size_t mi = 0; mi < nm; mi++) {
            uint32_t q = members[mi];
            for (size_t k = 0; k < nts; k++)
                fq[k] = first_use(c, q, ts[k]);
            const struct person *per = &m->persons[q];
            g.n = 0;
            kpi_segments(per, (int32_t)ms.d0, (int32_t)(ms.d0 + (int64_t)ms.len - 1),
                         on_run_segment, &g);
            /* Its daily sums are made when first needed: many members are no control of
             * any set (in another group for part of the span, users of T already). */
            int filled = 0;
            /* Sets of one (a, k) are adjacent and differ only in T: whether the member is in
             * the group over the span, and its deltas, are found once for all of them. */
            int64_t b[4];
            int in_group = 0, known = 0;
            double delta[NY];
            unsigned defined = 0;
            for (size_t si = c0; si < c1; si++) {
                struct set *st = &sets[si];
                if (si == c0 || st->a != sets[si - 1].a || st->k != sets[si - 1].k) {
                    periods(c, st->k, st->a, b);
                    in_group = covered(&g, b[0], b[3]);
                    known = 0;
                }
                if (!in_group || sday(fq[st->ti]) <= b[3])
                    continue;
                if (!known) {
                    if (!filled)
                        member_fill(&ms, per);
                    filled = 1;
                    defined = deltas(c, &ms, st->k, st->a, delta);
                    known = 1;
                }
                word *bits = &ctl[(si - c0) * NY * nwords];
                for (int y = 0; y < NY; y++)
                    if (defined >> y & 1) {
                        st->csum[y] += delta[y];
                        st->ccount[y]++;
                        bits[(size_t)y * nwords + mi / WORD_BITS] |= (word)1 << (mi % WORD_BITS);
                    }
            }
            /* The member's own deltas as an adopter (once). */
            for (size_t i = c0 ? SIZE_MAX : head[mi]; i != SIZE_MAX; i = next[i]) {
                if (!filled)
                    member_fill(&ms, per);
                filled = 1;
                own_def[i] = (uint8_t)deltas(c, &ms, jobs[i].k, jobs[i].a, &own[i * NY]);
            }
        }

        for (; ji < nj && jobs[ji].set < c1; ji++) {
            size_t i = ji;
            const struct job *j = &jobs[i];
            const struct set *st = &sets[j->set];
            uint32_t cells[4];
            int ncell = cells_of(c, j, cells);
            size_t self = job_member[i]; /* the adopter's member index, or SIZE_MAX */
            for (int y = 0; y < NY; y++) {
                if (!(own_def[i] >> y & 1))
                    continue;
                const word *cy = &ctl[((j->set - c0) * NY + (size_t)y) * nwords];
                /* The adopter's delta as a control of its own set (it can be one for its
                 * pretrend) is its own delta: left out of the mean. */
                int self_ctl = self != SIZE_MAX && bit(cy, self);
                double cs = st->csum[y] - (self_ctl ? own[i * NY + (size_t)y] : 0);
                int64_t cn = st->ccount[y] - self_ctl;
                if (!cn)
                    continue;
                double e = own[i * NY + (size_t)y] - cs / (double)cn;
                for (uint64_t wm = j->wins; wm; wm &= wm - 1) {
                    struct lwin *lw = &c->win[__builtin_ctzll(wm)];
                    for (int ci = 0; ci < ncell; ci++) {
                        struct acc *a = acc_of(lw, cells[ci], j->k, y);
                        a->sum += e;
                        a->sum2 += e * e;
                        a->n++;
                        size_t sl = 0;
                        while (sl < lw->nslots && lw->slot_cell[sl] != cells[ci])
                            sl++;
                        if (sl == lw->nslots) {
                            if (lw->nslots == maxslots) { /* flush the marks to make room */
                                flush_marks(lw, members, nwords);
                                sl = 0;
                            }
                            lw->slot_cell[lw->nslots++] = cells[ci];
                        }
                        /* Its controls, itself left out unless another estimate used it. */
                        word *mk = &lw->mark[((sl * NK + j->k) * NY + (size_t)y) * nwords];
                        int self_marked = self_ctl && bit(mk, self);
                        for (size_t w = 0; w < nwords; w++)
                            mk[w] |= cy[w];
                        if (self_ctl && !self_marked)
                            mk[self / WORD_BITS] &= ~((word)1 << (self % WORD_BITS));
                    }
                }
            }
        }
    }
    for (size_t wi = 0; wi < c->nwin; wi++) {
        flush_marks(&c->win[wi], members, nwords);
        xfree(c->win[wi].mark);
    }
    xfree(ctl);
    xfree(sets);
    xfree(own);
    xfree(own_def);
    xfree(head);
    xfree(next);
    xfree(job_member);
    xfree(ts);
    xfree(fq);
    xfree(ms.s);
    xfree(g.r);
}

/* ---- the family ---- */

struct member {
    uint64_t key;
    uint32_t pi;
};

static int by_member(const void *x, const void *y)
{
    const struct member *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->pi < b->pi ? -1 : a->pi > b->pi;
}

/* The (cell, kind, outcome) index of a used entry, as acc_of's. */
static size_t used_idx(const struct used *u)
{
    return ((size_t)u->cell * NK + u->k) * NY + u->y;
}

/* Makes the window's rows into lw->t. */
static void emit(const struct ctx *cx, struct lwin *c)
{
    const struct kpi_model *m = cx->m;
    const struct kpi_span *w = &c->span;
    struct kpi_table *t = &c->t;
    /* Distinct controls per (cell, kind, outcome): the used entries bucketed by it, and
     * in each bucket a person counted when not yet stamped with it. */
    size_t nidx = (size_t)cx->ncells * NK * NY;
    int64_t *controls = xcalloc(nidx + 1, sizeof *controls);
    size_t *start = xcalloc(nidx + 2, sizeof *start);
    uint32_t *pis = xmalloc((c->nused + 1) * sizeof *pis);
    uint32_t *stamp = xcalloc((size_t)m->npersons + 1, sizeof *stamp);
    for (size_t i = 0; i < c->nused; i++)
        start[used_idx(&c->used[i]) + 2]++;
    for (size_t b = 2; b <= nidx + 1; b++)
        start[b] += start[b - 1];
    for (size_t i = 0; i < c->nused; i++)
        pis[start[used_idx(&c->used[i]) + 1]++] = c->used[i].pi;
    for (size_t b = 0; b < nidx; b++) /* bucket b is pis[start[b] .. start[b + 1]) */
        for (size_t i = start[b]; i < start[b + 1]; i++)
            if (stamp[pis[i]] != b + 1) {
                stamp[pis[i]] = (uint32_t)(b + 1);
                controls[b]++;
            }
    xfree(start);
    xfree(pis);
    xfree(stamp);
    for (uint32_t cell = 0; cell < cx->ncells; cell++) {
        const char *by, *group;
        uint32_t x = cell;
        if (x == 0) {
            by = "org", group = "all";
        } else if ((x -= 1) < m->sites.n) {
            by = "site", group = m->sites.str[x];
        } else if ((x -= (uint32_t)m->sites.n) < m->depts.n) {
            by = "department", group = m->depts.str[x];
        } else if ((x -= (uint32_t)m->depts.n) < m->roles.n) {
            by = "role", group = m->roles.str[x];
        } else {
            by = "tool", group = m->tools.str[x - m->roles.n];
        }
        for (int k = 0; k < NK; k++)
            for (int y = 0; y < NY; y++) {
                const struct acc *a = acc_of(c, cell, k, y);
                if (!a->n)
                    continue;
                int64_t ctl = controls[((size_t)cell * NK + (size_t)k) * NY + (size_t)y];
                int64_t persons = a->n < ctl ? a->n : ctl;
                kpi_table_add(t, kpi_name[k][y], w->name, by, group, a->sum, (double)a->n, persons,
                              w->s, w->e)
                    ->controls = ctl;
                if (k != K_CHANGE || a->n < 2)
                    continue;
                /* Σ (e - ē)² over n(n - 1); the value is the square root of the ratio. */
                double n = (double)a->n, ss = a->sum2 - a->sum * a->sum / n;
                kpi_table_add(t, stderr_name[y], w->name, by, group, ss > 0 ? ss : 0, n * (n - 1),
                              persons, w->s, w->e)
                    ->sqrt_value = true;
            }
    }
    xfree(controls);
}

/* The rows of each window of a batch, made by loadoff_prepare. */
struct lprep {
    struct lwin *win;
    size_t n;
};

/* Load-off of up to 64 windows in one pass: an adopter's estimate is the same whichever
 * window its post period ends in, so each group is worked once for all of them. */
static void batch(const struct kpi_model *m, const struct kpi_params *p, const struct uses *uses,
                  struct lwin *win, size_t nwin)
{
    struct ctx c = {.p = p,
                    .m = m,
                    .P = (int32_t)p->loadoff_period_days,
                    .G = (int32_t)p->loadoff_ramp_days,
                    .gap = (int32_t)p->loadoff_pre_gap_days,
                    .use = uses->use,
                    .off = uses->off,
                    .win = win,
                    .nwin = nwin};

    /* The estimates to make: adopters whose post period ends in a window, each kind. */
    struct job *jobs = NULL;
    size_t nj = 0, capj = 0;
    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *per = &m->persons[pi];
        for (size_t u = c.off[pi]; u < c.off[pi + 1]; u++) {
            uint32_t t = c.use[u].t;
            int32_t a = c.use[u].adopt;
            if (a == NONE_DAY)
                continue;
            int64_t end = sday(a) + c.G + c.P - 1;
            uint64_t wins = 0;
            for (size_t i = 0; i < nwin; i++)
                if (end >= win[i].span.s && end <= win[i].span.e)
                    wins |= (uint64_t)1 << i;
            if (!wins)
                continue;
            for (int k = 0; k < NK; k++) {
                int64_t b[4];
                periods(&c, k, a, b);
                struct job j = {.pi = pi, .t = t, .k = (uint8_t)k, .a = a, .wins = wins};
                if (!one_group(per, b[0], b[3], &j.dept, &j.role))
                    continue;
                /* The cell's group: day a for the change, day a - 1 for the pretrend
                 * (the last day of its span). */
                const struct episode *g = kpi_episode_on(per, k == K_CHANGE ? a : a - 1);
                if (!g)
                    continue;
                j.site = g->site;
                j.key = (uint64_t)j.dept << 32 | j.role;
                if (nj == capj)
                    xgrow((void **)&jobs, &capj, nj + 1, sizeof *jobs);
                jobs[nj++] = j;
            }
        }
    }
    if (nj) {
        qsort(jobs, nj, sizeof *jobs, by_group);
        /* Members of each (department, role): anyone with an episode in it. */
        size_t nmem = 0;
        for (uint32_t pi = 0; pi < m->npersons; pi++)
            nmem += m->persons[pi].neps;
        struct member *mem = xmalloc((nmem + 1) * sizeof *mem);
        nmem = 0;
        for (uint32_t pi = 0; pi < m->npersons; pi++) {
            const struct person *per = &m->persons[pi];
            for (uint32_t i = 0; i < per->neps; i++)
                mem[nmem++] =
                    (struct member){(uint64_t)per->eps[i].dept << 32 | per->eps[i].role, pi};
        }
        qsort(mem, nmem, sizeof *mem, by_member);
        size_t u = 0;
        for (size_t i = 0; i < nmem; i++) /* one entry per (group, person) */
            if (!u || by_member(&mem[i], &mem[u - 1]))
                mem[u++] = mem[i];
        nmem = u;
        uint32_t *ids = xmalloc((nmem + 1) * sizeof *ids);
        c.ncells = 1 + (uint32_t)(m->sites.n + m->depts.n + m->roles.n + m->tools.n);
        for (size_t i = 0; i < nwin; i++)
            win[i].acc = xcalloc((size_t)c.ncells * NK * NY, sizeof *win[i].acc);
        size_t mi = 0;
        for (size_t i = 0; i < nj;) {
            size_t e = i;
            while (e < nj && jobs[e].key == jobs[i].key)
                e++;
            while (mi < nmem && mem[mi].key < jobs[i].key)
                mi++;
            size_t n = 0;
            for (size_t k = mi; k < nmem && mem[k].key == jobs[i].key; k++)
                ids[n++] = mem[k].pi;
            work_group(&c, &jobs[i], e - i, ids, n);
            i = e;
        }
        for (size_t i = 0; i < nwin; i++) {
            emit(&c, &win[i]);
            xfree(win[i].acc);
            xfree(win[i].used);
        }
        xfree(ids);
        xfree(mem);
    }
    xfree(jobs);
}

static void *loadoff_prepare(const struct kpi_model *m, const struct kpi_params *p,
                             const struct kpi_span *windows, size_t n)
{
    struct lprep *lp = xcalloc(1, sizeof *lp);
    lp->win = xcalloc(n + 1, sizeof *lp->win);
    lp->n = n;
    for (size_t i = 0; i < n; i++) {
        lp->win[i].span = windows[i];
        lp->win[i].t.as_of = p->as_of;
    }
    if (p->loadoff_period_days <= 0 || !m->npersons)
        return lp;
    struct uses *uses = adoption_days(m, p);
    for (size_t i = 0; i < n; i += 64)
        batch(m, p, uses, &lp->win[i], n - i < 64 ? n - i : 64);
    release_uses(uses);
    return lp;
}

/* Hands the window's rows made by loadoff_prepare over to w->t. */
static void loadoff_compute(const struct kpi_window *w)
{
    struct lprep *lp = w->prep;
    for (size_t i = 0; i < lp->n; i++) {
        struct lwin *lw = &lp->win[i];
        if (lw->span.s != w->s || lw->span.e != w->e || strcmp(lw->span.name, w->name) != 0)
            continue;
        struct kpi_table *t = w->t;
        if (lw->t.n) {
            xgrow((void **)&t->rows, &t->cap, t->n + lw->t.n, sizeof *t->rows);
            memcpy(t->rows + t->n, lw->t.rows, lw->t.n * sizeof *lw->t.rows);
            t->n += lw->t.n;
        }
        xfree(lw->t.rows); /* the groups now belong to w->t */
        lw->t.rows = NULL;
        lw->t.n = lw->t.cap = 0;
        return;
    }
}

static void loadoff_release(void *prep)
{
    struct lprep *lp = prep;
    for (size_t i = 0; i < lp->n; i++)
        kpi_table_clear(&lp->win[i].t);
    xfree(lp->win);
    xfree(lp);
}

const struct kpi_family kpi_family_loadoff = {.name = "loadoff",
                                              .compute = loadoff_compute,
                                              .prepare = loadoff_prepare,
                                              .release = loadoff_release};
