/* kpi_model.c - loading persons, episodes and matched activity from the store. */
#include "aggregator/kpi_model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cadre.pb-c.h"
#include "common/log.h"
#include "common/xalloc.h"

static int load_staffing(struct kpi_model *m, struct store *s)
{
    size_t cap_p = 0, cap_e = 0;
    struct store_iter *it = store_iter_new(s, CF_STAFFING);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *key = store_iter_key(it, &kl);
        const uint8_t *val = store_iter_value(it, &vl);
        Cadre__Staffing *st = cadre__staffing__unpack(NULL, vl, val);
        if (!st || kl != 20) {
            if (st)
                cadre__staffing__free_unpacked(st, NULL);
            continue;
        }
        struct person *p = m->npersons ? &m->persons[m->npersons - 1] : NULL;
        if (!p || memcmp(p->staff, key, STAFF_KEY_LEN)) {
            xgrow((void **)&m->persons, &cap_p, m->npersons + 1, sizeof *m->persons);
            p = &m->persons[m->npersons++];
            memset(p, 0, sizeof *p);
            memcpy(p->staff, key, STAFF_KEY_LEN);
            p->ep_first = m->neps;
        }
        xgrow((void **)&m->eps, &cap_e, m->neps + 1, sizeof *m->eps);
        struct episode *e = &m->eps[m->neps++];
        p->ep_count++;
        e->start = st->start_day;
        e->end = st->has_end_day ? st->end_day : DAY_MAX;
        e->site = strtab_intern(&m->sites, st->site, strlen(st->site));
        e->dept = strtab_intern(&m->depts, st->department, strlen(st->department));
        e->role = strtab_intern(&m->roles, st->role, strlen(st->role));
        e->hybrid = (uint8_t)st->hybrid_role;
        e->end_reason = (uint8_t)st->end_reason;
        e->fte_micro = st->fte_micro;
        cadre__staffing__free_unpacked(st, NULL);
    }
    store_iter_free(it);
    return 0;
}

struct raw_act {
    uint32_t person;
    int32_t day;
    uint32_t tool;
    uint8_t outcome;
};

static int raw_cmp(const void *x, const void *y)
{
    const struct raw_act *a = x, *b = y;
    if (a->person != b->person)
        return a->person < b->person ? -1 : 1;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->tool != b->tool)
        return a->tool < b->tool ? -1 : 1;
    return 0;
}

static int load_usage(struct kpi_model *m, struct store *s)
{
    struct raw_act *raw = NULL;
    size_t nraw = 0, cap = 0;
    struct store_iter *it = store_iter_new(s, CF_USAGE);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t vl;
        const uint8_t *val = store_iter_value(it, &vl);
        Cadre__Usage *u = cadre__usage__unpack(NULL, vl, val);
        if (!u)
            continue;
        int64_t pi = u->staff.len == STAFF_KEY_LEN ? kpi_person_find(m, u->staff.data) : -1;
        if (pi < 0 || !kpi_episode_on(m, &m->persons[pi], u->day)) {
            m->unmatched[REC_USAGE]++;
        } else {
            xgrow((void **)&raw, &cap, nraw + 1, sizeof *raw);
            raw[nraw++] = (struct raw_act){(uint32_t)pi, u->day,
                                           strtab_intern(&m->tools, u->tool, strlen(u->tool)),
                                           (uint8_t)((int)u->outcome < OUT_COUNT ? (int)u->outcome : 0)};
        }
        cadre__usage__free_unpacked(u, NULL);
    }
    store_iter_free(it);
    if (nraw)
        qsort(raw, nraw, sizeof *raw, raw_cmp);
    size_t capa = 0;
    for (size_t i = 0; i < nraw; i++) {
        struct person *p = &m->persons[raw[i].person];
        struct activity *last = m->nact ? &m->act[m->nact - 1] : NULL;
        if (!p->act_count || last->day != raw[i].day || last->tool != raw[i].tool) {
            xgrow((void **)&m->act, &capa, m->nact + 1, sizeof *m->act);
            if (!p->act_count)
                p->act_first = m->nact;
            last = &m->act[m->nact++];
            memset(last, 0, sizeof *last);
            last->day = raw[i].day;
            last->tool = raw[i].tool;
            p->act_count++;
        }
        last->events[raw[i].outcome]++;
    }
    xfree(raw);
    return 0;
}

/* Capacities of the model's arrays while they grow. */
struct loader {
    struct kpi_model *m;
    size_t cap_shifts, cap_abs, cap_ehr, cap_comp;
};

/* Walks a family whose keys start with the staff key (so in person order), handing each
 * value to add() with the person (or -1 when the staff key has no episode). */
static void walk_keyed(struct loader *l, struct store *s, enum store_cf cf,
                       void (*add)(struct loader *l, int64_t pi, const uint8_t *val,
                                   size_t len))
{
    struct kpi_model *m = l->m;
    struct store_iter *it = store_iter_new(s, cf);
    int64_t pi = -1;
    uint8_t last[STAFF_KEY_LEN];
    int have_last = 0;
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const uint8_t *key = store_iter_key(it, &kl);
        const uint8_t *val = store_iter_value(it, &vl);
        if (kl < STAFF_KEY_LEN)
            continue;
        if (!have_last || memcmp(last, key, STAFF_KEY_LEN)) {
            memcpy(last, key, STAFF_KEY_LEN);
            have_last = 1;
            pi = kpi_person_find(m, key);
        }
        add(l, pi, val, vl);
    }
    store_iter_free(it);
}

/* Opens person pi's run r for a new element at index n (runs are filled in person order). */
static void run_push(struct run *r, uint32_t n)
{
    if (!r->count)
        r->first = n;
    r->count++;
}


static void add_shift(struct loader *l, int64_t pi, const uint8_t *val, size_t len)
{
    struct kpi_model *m = l->m;
    Cadre__Shift *x = cadre__shift__unpack(NULL, len, val);
    if (!x)
        return;
    if (pi < 0 || !kpi_episode_on(m, &m->persons[pi], x->day)) {
        m->unmatched[REC_SHIFTS]++;
    } else {
        xgrow((void **)&m->shifts, &l->cap_shifts, m->nshifts + 1, sizeof *m->shifts);
        m->shifts[m->nshifts] = (struct shift){x->start_us, x->end_us, x->overtime_micro, x->day};
        run_push(&m->persons[pi].shifts, m->nshifts++);
    }
    cadre__shift__free_unpacked(x, NULL);
}

static void add_absence(struct loader *l, int64_t pi, const uint8_t *val, size_t len)
{
    struct kpi_model *m = l->m;
    Cadre__Absence *x = cadre__absence__unpack(NULL, len, val);
    if (!x)
        return;
    if (pi < 0 || !kpi_episode_on(m, &m->persons[pi], x->day)) {
        m->unmatched[REC_ABSENCES]++;
    } else {
        xgrow((void **)&m->absences, &l->cap_abs, m->nabsences + 1, sizeof *m->absences);
        m->absences[m->nabsences] = (struct absence){x->day, (uint8_t)x->kind, x->hours_micro};
        run_push(&m->persons[pi].absences, m->nabsences++);
    }
    cadre__absence__free_unpacked(x, NULL);
}

static void add_ehr(struct loader *l, int64_t pi, const uint8_t *val, size_t len)
{
    struct kpi_model *m = l->m;
    Cadre__Ehr *x = cadre__ehr__unpack(NULL, len, val);
    if (!x)
        return;
    if (pi < 0 || !kpi_episode_on(m, &m->persons[pi], x->day)) {
        m->unmatched[REC_EHR]++;
    } else {
        xgrow((void **)&m->ehr, &l->cap_ehr, m->nehr + 1, sizeof *m->ehr);
        m->ehr[m->nehr] = (struct ehr_day){x->day, x->scheduled_hours_micro, x->ehr_minutes_micro,
                                           x->outside_minutes_micro, x->inbox_minutes_micro};
        run_push(&m->persons[pi].ehr, m->nehr++);
    }
    cadre__ehr__free_unpacked(x, NULL);
}

static void add_completion(struct loader *l, int64_t pi, const uint8_t *val, size_t len)
{
    struct kpi_model *m = l->m;
    Cadre__Training *x = cadre__training__unpack(NULL, len, val);
    if (!x)
        return;
    if (pi < 0) {
        m->unmatched[REC_TRAINING]++;
    } else {
        xgrow((void **)&m->completions, &l->cap_comp, m->ncompletions + 1, sizeof *m->completions);
        m->completions[m->ncompletions] =
            (struct completion){x->day, strtab_intern(&m->courses, x->course, strlen(x->course))};
        run_push(&m->persons[pi].completions, m->ncompletions++);
    }
    cadre__training__free_unpacked(x, NULL);
}

static int comp_cmp(const void *x, const void *y)
{
    const struct completion *a = x, *b = y;
    return a->day < b->day ? -1 : a->day > b->day;
}

int kpi_model_load(struct kpi_model **out, struct store *s)
{
    struct kpi_model *m = xcalloc(1, sizeof *m);
    struct loader l = {.m = m};
    load_staffing(m, s);
    load_usage(m, s);
    /* Shift and EHR keys are (staff, time): each person's run is in time order already.
     * Absence keys are (staff, day, kind), also in day order. Completions are keyed
     * (staff, day, course). */
    walk_keyed(&l, s, CF_SHIFTS, add_shift);
    walk_keyed(&l, s, CF_ABSENCES, add_absence);
    walk_keyed(&l, s, CF_EHR, add_ehr);
    walk_keyed(&l, s, CF_TRAINING, add_completion);
    for (uint32_t i = 0; i < m->npersons; i++) {
        const struct run *r = &m->persons[i].completions;
        if (r->count > 1)
            qsort(m->completions + r->first, r->count, sizeof *m->completions, comp_cmp);
    }
    *out = m;
    return 0;
}

void kpi_model_free(struct kpi_model *m)
{
    if (!m)
        return;
    xfree(m->persons);
    xfree(m->eps);
    xfree(m->act);
    xfree(m->shifts);
    xfree(m->absences);
    xfree(m->ehr);
    xfree(m->completions);
    strtab_free(&m->courses);
    strtab_free(&m->sites);
    strtab_free(&m->depts);
    strtab_free(&m->roles);
    strtab_free(&m->tools);
    xfree(m);
}

int64_t kpi_person_find(const struct kpi_model *m, const uint8_t *staff)
{
    size_t lo = 0, hi = m->npersons;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(staff, m->persons[mid].staff, STAFF_KEY_LEN);
        if (c == 0)
            return (int64_t)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

const struct episode *kpi_episode_on(const struct kpi_model *m, const struct person *p,
                                     int32_t d)
{
    /* Episodes are sorted by start: the first covering one from the end starts latest. */
    for (uint32_t i = p->ep_count; i-- > 0;) {
        const struct episode *e = &m->eps[p->ep_first + i];
        if (e->start <= d && d <= e->end)
            return e;
    }
    return NULL;
}

static int day_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return a < b ? -1 : a > b;
}

void kpi_segments(const struct kpi_model *m, const struct person *p, int32_t s, int32_t e,
                  void (*fn)(void *ud, int32_t from, int32_t to, const struct episode *ep),
                  void *ud)
{
    /* The group can change only where an episode starts or the day after one ends. */
    int32_t stackbuf[32], *cut = stackbuf;
    size_t ncut = 0, need = 2 * (size_t)p->ep_count + 1;
    if (need > 32)
        cut = xmalloc(need * sizeof *cut);
    cut[ncut++] = s;
    for (uint32_t i = 0; i < p->ep_count; i++) {
        const struct episode *ep = &m->eps[p->ep_first + i];
        if (ep->start > s && ep->start <= e)
            cut[ncut++] = ep->start;
        if (ep->end >= s && ep->end < e)
            cut[ncut++] = ep->end + 1;
    }
    qsort(cut, ncut, sizeof *cut, day_cmp);
    const struct episode *run = NULL;
    int32_t run_from = s;
    for (size_t i = 0; i < ncut; i++) {
        if (i && cut[i] == cut[i - 1])
            continue;
        const struct episode *ep = kpi_episode_on(m, p, cut[i]);
        if (ep != run) {
            if (run)
                fn(ud, run_from, cut[i] - 1, run);
            run = ep;
            run_from = cut[i];
        }
    }
    if (run)
        fn(ud, run_from, e, run);
    if (cut != stackbuf)
        xfree(cut);
}
