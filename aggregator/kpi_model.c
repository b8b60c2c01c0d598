/* kpi_model.c - the in-memory model: per-person sorted arrays changed record by record. */
#include "aggregator/kpi_model.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cadre.pb-c.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/xalloc.h"

enum { CAP_EPS, CAP_ACT, CAP_SHIFTS, CAP_ABS, CAP_EHR, CAP_COMP, CAP_LIC };

/* --- persons ------------------------------------------------------------------------ */

static uint32_t staff_hash(const uint8_t *k)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < STAFF_KEY_LEN; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return (uint32_t)(h ^ (h >> 32));
}

static uint32_t slot_of(const struct kpi_model *m, const uint8_t *staff)
{
    uint32_t mask = m->nslots - 1, i = staff_hash(staff) & mask;
    while (m->slots[i] && memcmp(m->persons[m->slots[i] - 1].staff, staff, STAFF_KEY_LEN))
        i = (i + 1) & mask;
    return i;
}

const struct person *kpi_person_find(const struct kpi_model *m, const uint8_t *staff)
{
    if (!m->nslots)
        return NULL;
    uint32_t s = m->slots[slot_of(m, staff)];
    return s ? &m->persons[s - 1] : NULL;
}

static struct person *person_get(struct kpi_model *m, const uint8_t *staff)
{
    if ((m->npersons + 1) * 2 > m->nslots) {
        uint32_t old = m->nslots;
        uint32_t *olds = m->slots;
        m->nslots = old ? old * 2 : 1024;
        m->slots = xcalloc(m->nslots, sizeof *m->slots);
        for (uint32_t i = 0; i < old; i++)
            if (olds[i])
                m->slots[slot_of(m, m->persons[olds[i] - 1].staff)] = olds[i];
        xfree(olds);
    }
    uint32_t s = slot_of(m, staff);
    if (!m->slots[s]) {
        size_t cap = m->cappersons;
        xgrow((void **)&m->persons, &cap, m->npersons + 1, sizeof *m->persons);
        m->cappersons = (uint32_t)cap;
        struct person *p = &m->persons[m->npersons++];
        memset(p, 0, sizeof *p);
        memcpy(p->staff, staff, STAFF_KEY_LEN);
        m->slots[s] = m->npersons;
    }
    return &m->persons[m->slots[s] - 1];
}

/* --- sorted arrays ------------------------------------------------------------------ */

typedef int (*key_cmp)(const void *a, const void *b);

/* Finds item's key in the sorted array; sets *pos to its index or insertion point. */
static int vec_find(const void *arr, uint32_t n, size_t size, const void *item, key_cmp cmp,
                    uint32_t *pos)
{
    uint32_t lo = 0, hi = n;
    /* Most records arrive in key order: try the end first. */
    if (n && cmp((const char *)arr + (size_t)(n - 1) * size, item) < 0) {
        *pos = n;
        return 0;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = cmp((const char *)arr + (size_t)mid * size, item);
        if (c == 0) {
            *pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

/* Inserts or replaces item by key. */
static void vec_put(void **arr, uint32_t *n, uint32_t *cap, size_t size, const void *item,
                    key_cmp cmp)
{
    uint32_t pos;
    if (!vec_find(*arr, *n, size, item, cmp, &pos)) {
        size_t c = *cap;
        xgrow(arr, &c, *n + 1, size);
        *cap = (uint32_t)c;
        char *base = *arr;
        memmove(base + (size_t)(pos + 1) * size, base + (size_t)pos * size,
                (size_t)(*n - pos) * size);
        (*n)++;
    }
    memcpy((char *)*arr + (size_t)pos * size, item, size);
}

static void vec_del(void *arr, uint32_t *n, size_t size, const void *item, key_cmp cmp)
{
    uint32_t pos;
    if (vec_find(arr, *n, size, item, cmp, &pos)) {
        char *base = arr;
        memmove(base + (size_t)pos * size, base + (size_t)(pos + 1) * size,
                (size_t)(*n - pos - 1) * size);
        (*n)--;
    }
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int ep_cmp(const void *a, const void *b)
{
    return CMP(((const struct episode *)a)->start, ((const struct episode *)b)->start);
}

static int act_cmp(const void *a, const void *b)
{
    const struct activity *x = a, *y = b;
    return x->day != y->day ? CMP(x->day, y->day) : CMP(x->tool, y->tool);
}

static int shift_cmp(const void *a, const void *b)
{
    return CMP(((const struct shift *)a)->start_us, ((const struct shift *)b)->start_us);
}

static int abs_cmp(const void *a, const void *b)
{
    const struct absence *x = a, *y = b;
    return x->day != y->day ? CMP(x->day, y->day) : CMP(x->kind, y->kind);
}

static int ehr_cmp(const void *a, const void *b)
{
    return CMP(((const struct ehr_day *)a)->day, ((const struct ehr_day *)b)->day);
}

static int lic_cmp(const void *a, const void *b)
{
    const struct licence *x = a, *y = b;
    return x->tool != y->tool ? CMP(x->tool, y->tool) : CMP(x->start, y->start);
}

static int comp_cmp(const void *a, const void *b)
{
    const struct completion *x = a, *y = b;
    return x->day != y->day ? CMP(x->day, y->day) : CMP(x->course, y->course);
}

/* --- applying records ------------------------------------------------------------------ */

static void usage_count(struct kpi_model *m, const Cadre__Usage *u, int delta)
{
    if (u->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, u->staff.data);
        struct activity a = {.day = u->day,
                             .tool = strtab_intern(&m->tools, u->tool, strlen(u->tool))};
        int o = (int)u->outcome >= 0 && (int)u->outcome < OUT_COUNT ? (int)u->outcome : 0;
        uint32_t pos;
        if (vec_find(p->act, p->nact, sizeof a, &a, act_cmp, &pos)) {
            struct activity *c = &p->act[pos];
            if (delta > 0)
                c->events[o]++;
            else if (c->events[o])
                c->events[o]--;
            if (!c->events[0] && !c->events[1] && !c->events[2] && !c->events[3])
                vec_del(p->act, &p->nact, sizeof a, &a, act_cmp);
        } else if (delta > 0) {
            a.events[o] = 1;
            vec_put((void **)&p->act, &p->nact, &p->cap[CAP_ACT], sizeof a, &a, act_cmp);
        }
    }
}

static void staffing_apply(struct kpi_model *m, const Cadre__Staffing *s, int add)
{
    if (s->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, s->staff.data);
        struct episode e = {.start = s->start_day};
        if (add) {
            e.end = s->has_end_day ? s->end_day : DAY_MAX;
            e.site = strtab_intern(&m->sites, s->site, strlen(s->site));
            e.dept = strtab_intern(&m->depts, s->department, strlen(s->department));
            e.role = strtab_intern(&m->roles, s->role, strlen(s->role));
            e.hybrid = (uint8_t)s->hybrid_role;
            e.end_reason = (uint8_t)s->end_reason;
            e.fte_micro = s->fte_micro;
            vec_put((void **)&p->eps, &p->neps, &p->cap[CAP_EPS], sizeof e, &e, ep_cmp);
        } else {
            vec_del(p->eps, &p->neps, sizeof e, &e, ep_cmp);
        }
    }
}

static void shift_apply(struct kpi_model *m, const Cadre__Shift *x, int add)
{
    if (x->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, x->staff.data);
        struct shift e = {x->start_us, x->end_us, x->overtime_micro, x->day};
        if (add)
            vec_put((void **)&p->shifts, &p->nshifts, &p->cap[CAP_SHIFTS], sizeof e, &e, shift_cmp);
        else
            vec_del(p->shifts, &p->nshifts, sizeof e, &e, shift_cmp);
    }
}

static void absence_apply(struct kpi_model *m, const Cadre__Absence *x, int add)
{
    if (x->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, x->staff.data);
        struct absence e = {x->day, (uint8_t)x->kind, x->hours_micro};
        if (add)
            vec_put((void **)&p->absences, &p->nabsences, &p->cap[CAP_ABS], sizeof e, &e, abs_cmp);
        else
            vec_del(p->absences, &p->nabsences, sizeof e, &e, abs_cmp);
    }
}

static void ehr_apply(struct kpi_model *m, const Cadre__Ehr *x, int add)
{
    if (x->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, x->staff.data);
        struct ehr_day e = {x->day, x->scheduled_hours_micro, x->ehr_minutes_micro,
                            x->outside_minutes_micro, x->inbox_minutes_micro};
        if (add)
            vec_put((void **)&p->ehr, &p->nehr, &p->cap[CAP_EHR], sizeof e, &e, ehr_cmp);
        else
            vec_del(p->ehr, &p->nehr, sizeof e, &e, ehr_cmp);
    }
}

static void training_apply(struct kpi_model *m, const Cadre__Training *x, int add)
{
    if (x->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, x->staff.data);
        struct completion e = {x->day, strtab_intern(&m->courses, x->course, strlen(x->course))};
        if (add)
            vec_put((void **)&p->completions, &p->ncompletions, &p->cap[CAP_COMP], sizeof e, &e,
                    comp_cmp);
        else
            vec_del(p->completions, &p->ncompletions, sizeof e, &e, comp_cmp);
    }
}

static void licence_apply(struct kpi_model *m, const Cadre__Licence *x, int add)
{
    if (x->staff.len == STAFF_KEY_LEN) {
        struct person *p = person_get(m, x->staff.data);
        struct licence e = {x->assigned_day, x->has_removed_day ? x->removed_day : DAY_MAX,
                            strtab_intern(&m->tools, x->tool, strlen(x->tool))};
        if (add)
            vec_put((void **)&p->licences, &p->nlicences, &p->cap[CAP_LIC], sizeof e, &e, lic_cmp);
        else
            vec_del(p->licences, &p->nlicences, sizeof e, &e, lic_cmp);
    }
}

/* Adds (add) or removes a record body of its type, unpacked; the caller keeps msg. */
static void apply_msg(struct kpi_model *m, int type, const ProtobufCMessage *msg, int add)
{
    switch (type) {
    case REC_USAGE: usage_count(m, (const Cadre__Usage *)msg, add ? 1 : -1); break;
    case REC_STAFFING: staffing_apply(m, (const Cadre__Staffing *)msg, add); break;
    case REC_SHIFTS: shift_apply(m, (const Cadre__Shift *)msg, add); break;
    case REC_ABSENCES: absence_apply(m, (const Cadre__Absence *)msg, add); break;
    case REC_EHR: ehr_apply(m, (const Cadre__Ehr *)msg, add); break;
    case REC_TRAINING: training_apply(m, (const Cadre__Training *)msg, add); break;
    case REC_LICENCE: licence_apply(m, (const Cadre__Licence *)msg, add); break;
    default: break;
    }
}

/* The same for a packed body. */
static void apply_one(struct kpi_model *m, int type, const uint8_t *v, size_t len, int add)
{
    static const ProtobufCMessageDescriptor *const desc[] = {
        [REC_USAGE] = &cadre__usage__descriptor,     [REC_STAFFING] = &cadre__staffing__descriptor,
        [REC_SHIFTS] = &cadre__shift__descriptor,    [REC_ABSENCES] = &cadre__absence__descriptor,
        [REC_EHR] = &cadre__ehr__descriptor,         [REC_TRAINING] = &cadre__training__descriptor,
        [REC_LICENCE] = &cadre__licence__descriptor,
    };
    if (type < REC_TYPE_MIN || type > REC_TYPE_MAX)
        return;
    ProtobufCMessage *msg = protobuf_c_message_unpack(desc[type], NULL, len, v);
    if (!msg)
        return;
    apply_msg(m, type, msg, add);
    protobuf_c_message_free_unpacked(msg, NULL);
}

void kpi_model_apply(struct kpi_model *m, int type, const uint8_t *old, size_t oldlen,
                     const uint8_t *new, size_t newlen)
{
    if (old)
        apply_one(m, type, old, oldlen, 0);
    if (new)
        apply_one(m, type, new, newlen, 1);
}

/* A change as ingest hands it over: the new body decoded already when newmsg is set. */
static void apply_change(struct kpi_model *m, const struct kpi_change *c)
{
    if (c->old)
        apply_one(m, c->type, c->old, c->oldlen, 0);
    if (c->newmsg)
        apply_msg(m, c->type, c->newmsg, 1);
    else if (c->new)
        apply_one(m, c->type, c->new, c->newlen, 1);
}

/* --- life cycle --------------------------------------------------------------------- */

struct kpi_model *kpi_model_new(void)
{
    struct kpi_model *m = xcalloc(1, sizeof *m);
    pthread_rwlock_init(&m->lock, NULL);
    return m;
}

int kpi_model_load(struct kpi_model **out, struct store *s)
{
    struct kpi_model *m = kpi_model_new();
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++) {
        struct store_iter *it = store_iter_new(s, (enum store_cf)t);
        for (; store_iter_valid(it); store_iter_next(it)) {
            size_t vl, wl;
            const uint8_t *val = store_iter_value(it, &vl);
            const char *w;
            size_t pre = t == REC_USAGE ? 0 : store_value_writer((const char *)val, vl, &w, &wl);
            apply_one(m, t, val + pre, vl - pre, 1);
        }
        store_iter_free(it);
    }
    *out = m;
    return 0;
}

/* ---- the applier: change sets applied by a thread of the model's own ---- */

struct changeset {
    struct changeset *next;
    struct arena mem; /* holds c and the bodies */
    const struct kpi_change *c;
    size_t n;
};

struct kpi_applier {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work, done; /* a set arrived (or stop); a set was applied */
    struct changeset *head, *tail;
    size_t waiting;           /* sets in the list */
    uint64_t handed, applied; /* sets handed over and applied, ever */
    bool stop;
};

static void *applier_main(void *arg)
{
    struct kpi_model *m = arg;
    struct kpi_applier *ap = m->applier;
    pthread_mutex_lock(&ap->mu);
    for (;;) {
        while (!ap->head && !ap->stop)
            pthread_cond_wait(&ap->work, &ap->mu);
        if (!ap->head)
            break; /* stopping, and nothing left */
        struct changeset *cs = ap->head;
        pthread_mutex_unlock(&ap->mu);
        pthread_rwlock_wrlock(&m->lock);
        for (size_t i = 0; i < cs->n; i++)
            apply_change(m, &cs->c[i]);
        pthread_rwlock_unlock(&m->lock);
        pthread_mutex_lock(&ap->mu);
        ap->head = cs->next;
        if (!ap->head)
            ap->tail = NULL;
        ap->waiting--;
        ap->applied++;
        pthread_cond_broadcast(&ap->done);
        pthread_mutex_unlock(&ap->mu);
        arena_release(&cs->mem);
        xfree(cs);
        pthread_mutex_lock(&ap->mu);
    }
    pthread_mutex_unlock(&ap->mu);
    return NULL;
}

void kpi_model_apply_later(struct kpi_model *m, const struct kpi_change *c, size_t n,
                           struct arena *mem)
{
    struct kpi_applier *ap = m->applier;
    if (!ap) { /* the first set: only ingest hands sets over, so no race here */
        ap = xcalloc(1, sizeof *ap);
        pthread_mutex_init(&ap->mu, NULL);
        pthread_cond_init(&ap->work, NULL);
        pthread_cond_init(&ap->done, NULL);
        m->applier = ap;
        int rc = pthread_create(&ap->thread, NULL, applier_main, m);
        if (rc) { /* then this set, and the next ones, are applied here */
            log_error("cannot start the KPI model's thread (%s): ingest applies changes itself",
                      strerror(rc));
            pthread_mutex_destroy(&ap->mu);
            pthread_cond_destroy(&ap->work);
            pthread_cond_destroy(&ap->done);
            xfree(ap);
            m->applier = NULL;
            pthread_rwlock_wrlock(&m->lock);
            for (size_t i = 0; i < n; i++)
                apply_change(m, &c[i]);
            pthread_rwlock_unlock(&m->lock);
            arena_release(mem);
            return;
        }
    }
    struct changeset *cs = xcalloc(1, sizeof *cs);
    cs->mem = *mem;
    *mem = (struct arena){.block = mem->block, .limit = mem->limit};
    cs->c = c;
    cs->n = n;
    pthread_mutex_lock(&ap->mu);
    while (ap->waiting >= KPI_APPLY_BACKLOG)
        pthread_cond_wait(&ap->done, &ap->mu);
    if (ap->tail)
        ap->tail->next = cs;
    else
        ap->head = cs;
    ap->tail = cs;
    ap->waiting++;
    ap->handed++;
    pthread_cond_signal(&ap->work);
    pthread_mutex_unlock(&ap->mu);
}

/* Waits until the sets handed over before the call are applied. */
static void applier_wait(struct kpi_model *m)
{
    struct kpi_applier *ap = m->applier;
    if (!ap)
        return;
    pthread_mutex_lock(&ap->mu);
    uint64_t want = ap->handed;
    while (ap->applied < want)
        pthread_cond_wait(&ap->done, &ap->mu);
    pthread_mutex_unlock(&ap->mu);
}

void kpi_model_sync(struct kpi_model *m)
{
    applier_wait(m);
}

static void applier_stop(struct kpi_model *m)
{
    struct kpi_applier *ap = m->applier;
    if (!ap)
        return;
    pthread_mutex_lock(&ap->mu);
    ap->stop = true;
    pthread_cond_signal(&ap->work);
    pthread_mutex_unlock(&ap->mu);
    pthread_join(ap->thread, NULL);
    pthread_mutex_destroy(&ap->mu);
    pthread_cond_destroy(&ap->work);
    pthread_cond_destroy(&ap->done);
    xfree(ap);
    m->applier = NULL;
}

void kpi_model_free(struct kpi_model *m)
{
    if (!m)
        return;
    applier_stop(m); /* applies what is left first */
    for (uint32_t i = 0; i < m->npersons; i++) {
        struct person *p = &m->persons[i];
        xfree(p->eps);
        xfree(p->act);
        xfree(p->shifts);
        xfree(p->absences);
        xfree(p->ehr);
        xfree(p->completions);
        xfree(p->licences);
    }
    xfree(m->persons);
    xfree(m->slots);
    strtab_free(&m->sites);
    strtab_free(&m->depts);
    strtab_free(&m->roles);
    strtab_free(&m->tools);
    strtab_free(&m->courses);
    pthread_rwlock_destroy(&m->lock);
    xfree(m);
}

void kpi_model_rdlock(struct kpi_model *m)
{
    applier_wait(m);
    pthread_rwlock_rdlock(&m->lock);
}

void kpi_model_wrlock(struct kpi_model *m)
{
    pthread_rwlock_wrlock(&m->lock);
}

void kpi_model_unlock(struct kpi_model *m)
{
    pthread_rwlock_unlock(&m->lock);
}

/* --- queries ------------------------------------------------------------------------ */

const struct episode *kpi_episode_on(const struct person *p, int32_t d)
{
    /* Episodes are sorted by start: the first covering one from the end starts latest. */
    for (uint32_t i = p->neps; i-- > 0;) {
        const struct episode *e = &p->eps[i];
        if (e->start <= d && d <= e->end)
            return e;
    }
    return NULL;
}

static int day_cmp(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return CMP(a, b);
}

void kpi_segments(const struct person *p, int32_t s, int32_t e,
                  void (*fn)(void *ud, int32_t from, int32_t to, const struct episode *ep),
                  void *ud)
{
    /* The group can change only where an episode starts or the day after one ends. */
    int32_t stackbuf[32], *cut = stackbuf;
    size_t ncut = 0, need = 2 * (size_t)p->neps + 1;
    if (need > 32)
        cut = xmalloc(need * sizeof *cut);
    cut[ncut++] = s;
    for (uint32_t i = 0; i < p->neps; i++) {
        const struct episode *ep = &p->eps[i];
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
        const struct episode *ep = kpi_episode_on(p, cut[i]);
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

void kpi_model_unmatched(const struct kpi_model *m, uint64_t out[REC_TYPE_MAX + 1])
{
    memset(out, 0, sizeof(uint64_t) * (REC_TYPE_MAX + 1));
    for (uint32_t pi = 0; pi < m->npersons; pi++) {
        const struct person *p = &m->persons[pi];
        for (uint32_t i = 0; i < p->nact; i++) {
            if (!kpi_episode_on(p, p->act[i].day)) {
                const uint32_t *ev = p->act[i].events;
                out[REC_USAGE] += (uint64_t)ev[0] + ev[1] + ev[2] + ev[3];
            }
        }
        for (uint32_t i = 0; i < p->nshifts; i++)
            out[REC_SHIFTS] += !kpi_episode_on(p, p->shifts[i].day);
        for (uint32_t i = 0; i < p->nabsences; i++)
            out[REC_ABSENCES] += !kpi_episode_on(p, p->absences[i].day);
        for (uint32_t i = 0; i < p->nehr; i++)
            out[REC_EHR] += !kpi_episode_on(p, p->ehr[i].day);
        if (!p->neps)
            out[REC_TRAINING] += p->ncompletions;
        for (uint32_t i = 0; i < p->nlicences; i++)
            out[REC_LICENCE] += !kpi_employed_some_day(p, p->licences[i].start, p->licences[i].end);
    }
}

int kpi_employed_some_day(const struct person *p, int32_t s, int32_t e)
{
    for (uint32_t i = 0; i < p->neps; i++)
        if (p->eps[i].start <= e && p->eps[i].end >= s)
            return 1;
    return 0;
}

/* The first of n elements of size sz from base, sorted by the int32_t day at offset off,
 * whose day is on or after d (n when none is). */
static uint32_t lower_day(const void *base, uint32_t n, size_t sz, size_t off, int32_t d)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int32_t day;
        memcpy(&day, (const char *)base + (size_t)mid * sz + off, sizeof day);
        if (day < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t kpi_act_from(const struct person *p, int32_t d)
{
    return lower_day(p->act, p->nact, sizeof *p->act, offsetof(struct activity, day), d);
}

uint32_t kpi_ehr_from(const struct person *p, int32_t d)
{
    return lower_day(p->ehr, p->nehr, sizeof *p->ehr, offsetof(struct ehr_day, day), d);
}

uint32_t kpi_absence_from(const struct person *p, int32_t d)
{
    return lower_day(p->absences, p->nabsences, sizeof *p->absences, offsetof(struct absence, day),
                     d);
}

int kpi_person_active(const struct person *p, int32_t s, int32_t e)
{
    for (uint32_t i = kpi_act_from(p, s); i < p->nact && p->act[i].day <= e; i++)
        if (kpi_episode_on(p, p->act[i].day))
            return 1;
    return 0;
}

const struct episode *kpi_population_group(const struct person *p, int32_t s, int32_t e)
{
    /* Last employed day in [s, e]: the latest min(end, e) over episodes overlapping it. */
    int32_t last = INT32_MIN;
    for (uint32_t i = 0; i < p->neps; i++) {
        const struct episode *ep = &p->eps[i];
        if (ep->start <= e && ep->end >= s) {
            int32_t d = ep->end < e ? ep->end : e;
            if (d > last)
                last = d;
        }
    }
    return last == INT32_MIN ? NULL : kpi_episode_on(p, last);
}
