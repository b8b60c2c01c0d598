/* ingest.c - one batch at a time: decode, check, dedupe on (agent, spool, seq), store. */
#include "aggregator/ingest.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aggregator/kpi_model.h"
#include "cadre.pb-c.h"
#include "common/arena.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/wire.h"
#include "common/xalloc.h"

/* Bounds that keep every KPI sum far from overflow: a shift's overtime is at most the
 * longest shift (36 h), an EHR day holds at most 24 scheduled hours and 1440 minutes of
 * each kind. Values past them are rejected as invalid_value. */
#define MICRO_HOURS INT64_C(1000000)
#define DAY_MINUTES (1440 * INT64_C(1000000))

/* Time bounds (docs/wire.md, "What ingest accepts"): every day and instant lies after
 * 1900-01-01; events (usage, shifts, absences, EHR days, completions) at most
 * EVENT_AHEAD_DAYS after the aggregator's today, staffing dates (planned starts and
 * contract ends) at most PLAN_AHEAD_DAYS after it. A record's day must be the day of its
 * instant in some UTC offset (within a day of the instant's UTC day). */
#define DAY_1900 (-25567)
#define EVENT_AHEAD_DAYS 2
#define PLAN_AHEAD_DAYS 3660
#define US_PER_DAY (86400 * US_PER_SEC)
#define LABEL_MAX 64 /* tool, event, site, department, role: bytes */

struct bounds {
    int32_t day_min, event_day_max, plan_day_max;
    int64_t us_min, us_max; /* instants of events */
};

static struct bounds bounds_at(int64_t now_us)
{
    int32_t today = (int32_t)(now_us / US_PER_DAY);
    return (struct bounds){
        .day_min = DAY_1900,
        .event_day_max = today + EVENT_AHEAD_DAYS,
        .plan_day_max = today + PLAN_AHEAD_DAYS,
        .us_min = (int64_t)DAY_1900 * US_PER_DAY,
        .us_max = ((int64_t)today + EVENT_AHEAD_DAYS + 1) * US_PER_DAY - 1,
    };
}

static int event_day_ok(const struct bounds *bd, int32_t d)
{
    return d >= bd->day_min && d <= bd->event_day_max;
}

/* An instant in range whose day is its calendar day in an offset of less than 24 h. */
static int instant_ok(const struct bounds *bd, int64_t us, int32_t day)
{
    if (us < bd->us_min || us > bd->us_max)
        return 0;
    int64_t utc_day = us >= 0 ? us / US_PER_DAY : -((-us + US_PER_DAY - 1) / US_PER_DAY);
    return day >= utc_day - 1 && day <= utc_day + 1;
}

#define META_COUNT "count/"   /* + type name: u64 distinct records */
#define META_NEWEST "newest/" /* + type name: i64 Unix seconds */
#define META_AGENT "agent/"   /* + agent id: last_seen_us, spool_bytes, dropped (3 x 8) */

struct ingest {
    struct store *store;
    struct kpi_model *model;
    pthread_mutex_t lock; /* one batch at a time; guards everything below */
    uint64_t batches[BATCH_RESULT_COUNT];
    uint64_t records[REC_TYPE_MAX + 1];
    uint64_t rejected[REJ_COUNT];
    int64_t stored[REC_TYPE_MAX + 1];
    int64_t newest_s[REC_TYPE_MAX + 1];
    struct agent_state *agents;
    size_t nagents, capagents;
    void (*notify)(void *);
    void *notify_ud;
    int64_t min_free;       /* store_min_free_bytes; 0: no check */
    uint64_t disk_refusals; /* batches refused for it */
    int64_t disk_warned_s;  /* monotonic second of the last warning */
    /* Batches being handled per agent, for batches that follow one (ingest_batch_after);
     * under order_mu, not lock, so that a waiting batch never holds up the others. */
    pthread_mutex_t order_mu;
    pthread_cond_t order_cv; /* broadcast by ingest_leave */
    struct handling *handling;
    size_t nhandling, caphandling;
    /* Per record type, a bound on the greatest key stored (bytewise; NULL with 0: none
     * stored, or not known when last_bad): a key past it is new without a lookup. A
     * first load (a snapshot's rows in key order, a log's lines by offset) then looks
     * nothing up. It only grows: a deletion leaves it an upper bound. */
    uint8_t *last[REC_TYPE_MAX + 1];
    size_t lastlen[REC_TYPE_MAX + 1];
    bool last_bad[REC_TYPE_MAX + 1];
};

/* Bytewise order of keys, RocksDB's: memcmp, then the shorter first. */
static int keycmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = al && bl ? memcmp(a, b, al < bl ? al : bl) : 0;
    return c ? c : (al > bl) - (al < bl);
}

/* An agent's requests between ingest_enter and ingest_leave, and how many of them wait
 * for the batch they follow. Agents come from the tokens file: the list stays short. */
struct handling {
    char agent[65];
    unsigned active, waiting;
};

void ingest_set_min_free(struct ingest *ing, int64_t bytes)
{
    ing->min_free = bytes;
}

/* Whether the database has its reserve of free space; logs (at most once a minute) when
 * not. Lock held. */
static bool disk_ok(struct ingest *ing)
{
    if (!ing->min_free)
        return true;
    int64_t free_bytes = store_free_bytes(ing->store);
    if (free_bytes < 0 || free_bytes >= ing->min_free)
        return true;
    ing->disk_refusals++;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!ing->disk_warned_s || now.tv_sec - ing->disk_warned_s >= 60) {
        ing->disk_warned_s = now.tv_sec;
        log_error("the database's disk has %lld bytes free, under store_min_free_bytes (%lld): "
                  "batches are refused with 503 until there is room (agents keep them)",
                  (long long)free_bytes, (long long)ing->min_free);
    }
    return false;
}

const char *batch_result_name(int r)
{
    static const char *n[] = {"accepted", "duplicate", "rejected"};
    return r >= 0 && r < BATCH_RESULT_COUNT ? n[r] : "?";
}

const char *reject_reason_name(int r)
{
    static const char *n[] = {"malformed", "missing_field", "invalid_value", "not_permitted"};
    return r >= 0 && r < REJ_COUNT ? n[r] : "?";
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * US_PER_SEC + ts.tv_nsec / 1000;
}

static size_t meta_key(char *out, size_t cap, const char *prefix, const char *name)
{
    return (size_t)snprintf(out, cap, "%s%s", prefix, name);
}

static struct agent_state *agent_find(struct ingest *ing, const char *id, int create)
{
    for (size_t i = 0; i < ing->nagents; i++)
        if (strcmp(ing->agents[i].id, id) == 0)
            return &ing->agents[i];
    if (!create)
        return NULL;
    xgrow((void **)&ing->agents, &ing->capagents, ing->nagents + 1, sizeof *ing->agents);
    struct agent_state *a = &ing->agents[ing->nagents++];
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    return a;
}

static void load_meta(struct ingest *ing)
{
    char k[128];
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++) {
        char *v;
        size_t vl;
        size_t kl = meta_key(k, sizeof k, META_COUNT, rec_type_name(t));
        if (store_get(ing->store, CF_META, k, kl, &v, &vl) == 1) {
            if (vl == 8)
                ing->stored[t] = (int64_t)be_get_u64((uint8_t *)v);
            xfree(v);
        }
        kl = meta_key(k, sizeof k, META_NEWEST, rec_type_name(t));
        if (store_get(ing->store, CF_META, k, kl, &v, &vl) == 1) {
            if (vl == 8)
                ing->newest_s[t] = be_get_i64((uint8_t *)v);
            xfree(v);
        }
    }
    struct store_iter *it = store_iter_new(ing->store, CF_META);
    for (; store_iter_valid(it); store_iter_next(it)) {
        size_t kl, vl;
        const char *key = store_iter_key(it, &kl);
        const uint8_t *val = store_iter_value(it, &vl);
        size_t pl = strlen(META_AGENT);
        if (kl <= pl || kl - pl > 64 || memcmp(key, META_AGENT, pl) || vl != 24)
            continue;
        char id[65];
        memcpy(id, key + pl, kl - pl);
        id[kl - pl] = '\0';
        struct agent_state *a = agent_find(ing, id, 1);
        a->last_seen_us = be_get_i64(val);
        a->spool_bytes = be_get_u64(val + 8);
        a->dropped_records = be_get_u64(val + 16);
    }
    store_iter_free(it);
}

int ingest_new(struct ingest **out, struct store *store, struct kpi_model *model,
               void (*notify)(void *), void *ud)
{
    struct ingest *ing = xcalloc(1, sizeof *ing);
    ing->store = store;
    ing->model = model;
    ing->notify = notify;
    ing->notify_ud = ud;
    pthread_mutex_init(&ing->lock, NULL);
    pthread_mutex_init(&ing->order_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ing->order_cv, &ca);
    pthread_condattr_destroy(&ca);
    load_meta(ing);
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        ing->last_bad[t] =
            store_last_key(store, (enum store_cf)t, &ing->last[t], &ing->lastlen[t]) < 0;
    *out = ing;
    return 0;
}

void ingest_free(struct ingest *ing)
{
    if (!ing)
        return;
    pthread_mutex_destroy(&ing->lock);
    pthread_mutex_destroy(&ing->order_mu);
    pthread_cond_destroy(&ing->order_cv);
    xfree(ing->handling);
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        xfree(ing->last[t]);
    xfree(ing->agents);
    xfree(ing);
}

/* --- record checks ------------------------------------------------------------------ */

static int staff_ok(ProtobufCBinaryData b)
{
    return b.len == STAFF_KEY_LEN;
}

static int label_ok(const char *s)
{
    return s && str_is_label(s, strnlen(s, LABEL_MAX + 1), LABEL_MAX);
}

/* Checks one record's body and computes its canonical key into key/klen. Returns -1 when
 * valid, else the rejection reason. */
static int check_record(const Cadre__Record *r, const struct bounds *bd, uint8_t *key, size_t *klen)
{
    int type = r->type;
    if (type < REC_TYPE_MIN || type > REC_TYPE_MAX)
        return REJ_MALFORMED;
    static const int body_of[] = {
        [REC_USAGE] = CADRE__RECORD__BODY_USAGE,     [REC_STAFFING] = CADRE__RECORD__BODY_STAFFING,
        [REC_SHIFTS] = CADRE__RECORD__BODY_SHIFT,    [REC_ABSENCES] = CADRE__RECORD__BODY_ABSENCE,
        [REC_EHR] = CADRE__RECORD__BODY_EHR,         [REC_TRAINING] = CADRE__RECORD__BODY_TRAINING,
        [REC_LICENCE] = CADRE__RECORD__BODY_LICENCE,
    };
    if (reckey_check(type, r->key.data, r->key.len))
        return REJ_INVALID_VALUE;
    if (r->body_case == CADRE__RECORD__BODY__NOT_SET) { /* tombstone */
        if (type == REC_USAGE)
            return REJ_INVALID_VALUE; /* log lines are never retracted */
        memcpy(key, r->key.data, r->key.len);
        *klen = r->key.len;
        return -1;
    }
    if ((int)r->body_case != body_of[type])
        return REJ_MALFORMED;
    switch (type) {
    case REC_USAGE: {
        const Cadre__Usage *u = r->usage;
        size_t tl = strnlen(u->tool, LABEL_MAX + 1);
        if (!staff_ok(u->staff) || tl > LABEL_MAX || !str_is_ident(u->tool, tl) ||
            (u->event && !label_ok(u->event)) || !instant_ok(bd, u->ts_us, u->day) ||
            (u->has_minutes_micro && u->minutes_micro < 0) || u->outcome < 0 ||
            u->outcome > CADRE__OUTCOME__OUTCOME_REJECTED)
            return REJ_INVALID_VALUE;
        memcpy(key, r->key.data, r->key.len); /* where the line was read: as sent */
        *klen = r->key.len;
        return -1;
    }
    case REC_STAFFING: {
        const Cadre__Staffing *s = r->staffing;
        if (!staff_ok(s->staff) || !label_ok(s->site) || !label_ok(s->department) ||
            !label_ok(s->role) || s->fte_micro <= 0 || s->fte_micro > 1500000 ||
            s->has_end_day != (s->end_reason != CADRE__END_REASON__END_REASON_NONE) ||
            (s->has_end_day && s->end_day < s->start_day) || s->start_day < bd->day_min ||
            s->start_day > bd->plan_day_max || (s->has_end_day && s->end_day > bd->plan_day_max) ||
            s->end_reason < 0 || s->end_reason > CADRE__END_REASON__END_REASON_OTHER ||
            s->hybrid_role < 0 || s->hybrid_role > CADRE__HYBRID_ROLE__HYBRID_ROLE_AI_CHAMPION)
            return REJ_INVALID_VALUE;
        *klen = reckey_staffing(key, s->staff.data, s->start_day);
        break;
    }
    case REC_SHIFTS: {
        const Cadre__Shift *s = r->shift;
        if (!staff_ok(s->staff) || !instant_ok(bd, s->start_us, s->day) ||
            s->end_us <= s->start_us ||
            (uint64_t)s->end_us - (uint64_t)s->start_us > (uint64_t)(36 * US_PER_HOUR) ||
            s->overtime_micro < 0 || s->overtime_micro > 36 * MICRO_HOURS)
            return REJ_INVALID_VALUE;
        *klen = reckey_shift(key, s->staff.data, s->start_us);
        break;
    }
    case REC_ABSENCES: {
        const Cadre__Absence *a = r->absence;
        if (!staff_ok(a->staff) || !event_day_ok(bd, a->day) || a->hours_micro <= 0 ||
            a->hours_micro > 24 * 1000000 || a->kind < CADRE__ABSENCE_KIND__ABSENCE_KIND_SICK ||
            a->kind > CADRE__ABSENCE_KIND__ABSENCE_KIND_OTHER)
            return REJ_INVALID_VALUE;
        *klen = reckey_absence(key, a->staff.data, a->day, a->kind);
        break;
    }
    case REC_EHR: {
        const Cadre__Ehr *e = r->ehr;
        if (!staff_ok(e->staff) || !event_day_ok(bd, e->day) || e->scheduled_hours_micro < 0 ||
            e->scheduled_hours_micro > 24 * MICRO_HOURS || e->ehr_minutes_micro < 0 ||
            e->ehr_minutes_micro > DAY_MINUTES || e->outside_minutes_micro < 0 ||
            e->outside_minutes_micro > DAY_MINUTES || e->inbox_minutes_micro < 0 ||
            e->inbox_minutes_micro > DAY_MINUTES)
            return REJ_INVALID_VALUE;
        *klen = reckey_ehr(key, e->staff.data, e->day);
        break;
    }
    case REC_TRAINING: {
        const Cadre__Training *t = r->training;
        size_t cl = strnlen(t->course, 129);
        if (!staff_ok(t->staff) || !event_day_ok(bd, t->day) || cl < 1 || cl > 128 ||
            !str_is_utf8(t->course, cl))
            return REJ_INVALID_VALUE;
        *klen = reckey_training(key, t->staff.data, t->day, t->course, cl);
        break;
    }
    case REC_LICENCE: {
        const Cadre__Licence *l = r->licence;
        size_t tl = strnlen(l->tool, LABEL_MAX + 1);
        if (!staff_ok(l->staff) || tl > LABEL_MAX || !str_is_ident(l->tool, tl) ||
            l->assigned_day < bd->day_min || l->assigned_day > bd->plan_day_max ||
            (l->has_removed_day &&
             (l->removed_day < l->assigned_day || l->removed_day > bd->plan_day_max)))
            return REJ_INVALID_VALUE;
        *klen = reckey_licence(key, l->staff.data, l->tool, tl, l->assigned_day);
        break;
    }
    }
    if (*klen != r->key.len || memcmp(key, r->key.data, *klen))
        return REJ_INVALID_VALUE; /* the key must be the one its fields give */
    return -1;
}

/* The record's time in Unix seconds, for cadre_newest_record_timestamp_seconds. */
static int64_t record_time_s(const Cadre__Record *r)
{
    switch (r->body_case) {
    case CADRE__RECORD__BODY_USAGE: return r->usage->ts_us / US_PER_SEC;
    case CADRE__RECORD__BODY_STAFFING: return (int64_t)r->staffing->start_day * 86400;
    case CADRE__RECORD__BODY_SHIFT: return r->shift->start_us / US_PER_SEC;
    case CADRE__RECORD__BODY_ABSENCE: return (int64_t)r->absence->day * 86400;
    case CADRE__RECORD__BODY_EHR: return (int64_t)r->ehr->day * 86400;
    case CADRE__RECORD__BODY_TRAINING: return (int64_t)r->training->day * 86400;
    case CADRE__RECORD__BODY_LICENCE: return (int64_t)r->licence->assigned_day * 86400;
    default: return INT64_MIN;
    }
}

/* The body message of r, or NULL (a tombstone). */
static const ProtobufCMessage *record_body(const Cadre__Record *r)
{
    switch (r->body_case) {
    case CADRE__RECORD__BODY_USAGE: return &r->usage->base;
    case CADRE__RECORD__BODY_STAFFING: return &r->staffing->base;
    case CADRE__RECORD__BODY_SHIFT: return &r->shift->base;
    case CADRE__RECORD__BODY_ABSENCE: return &r->absence->base;
    case CADRE__RECORD__BODY_EHR: return &r->ehr->base;
    case CADRE__RECORD__BODY_TRAINING: return &r->training->base;
    case CADRE__RECORD__BODY_LICENCE: return &r->licence->base;
    default: return NULL;
    }
}

/* Packs the body of r into memory of ar, after room for pre bytes (the writer prefix);
 * returns the body. */
static uint8_t *pack_body(struct arena *ar, const Cadre__Record *r, size_t pre, size_t *len)
{
    const ProtobufCMessage *m = record_body(r);
    if (!m) {
        *len = 0;
        return NULL;
    }
    /* Fields this version does not know are not stored (a body is flat: no nested
     * messages to clear). */
    ((ProtobufCMessage *)m)->n_unknown_fields = 0;
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = (uint8_t *)arena_alloc(ar, pre + *len) + pre;
    protobuf_c_message_pack(m, buf);
    return buf;
}

/* --- batches ------------------------------------------------------------------------ */

static void put_agent(struct store_txn *txn, const struct agent_state *a)
{
    char k[128];
    uint8_t v[24];
    size_t kl = meta_key(k, sizeof k, META_AGENT, a->id);
    be_put_i64(v, a->last_seen_us);
    be_put_u64(v + 8, a->spool_bytes);
    be_put_u64(v + 16, a->dropped_records);
    store_txn_put(txn, CF_META, k, kl, v, sizeof v);
}

/* What the store held under a record's key before the batch. */
struct prior {
    const uint8_t *key; /* NULL: the record is rejected */
    size_t klen;
    uint8_t found;
    const char *val; /* when found */
    size_t vlen;
    const uint8_t *okey; /* (type, key): its CF_OWNERS key, for a value without its writer */
    size_t oklen;
    const char *owner; /* when found: the agent that wrote it (NULL: written before owners
                          were kept) */
    size_t ownerlen;
    bool legacy; /* found, and its writer is in CF_OWNERS (or nowhere), not in the value */
};

/* Checks and keys every record of b into pr (n_records entries), counting rejections,
 * then looks each family's keys up in one MultiGet. Memory comes from ar. 0 or -EIO. */
static int prefetch(struct ingest *ing, struct arena *ar, const Cadre__Batch *b, struct prior *pr,
                    uint64_t *rejected)
{
    size_t n = b->n_records;
    uint64_t types = 0;
    struct bounds bd = bounds_at(now_us());
    for (size_t i = 0; i < n; i++) {
        uint8_t key[RECKEY_MAX];
        pr[i] = (struct prior){0};
        int why = check_record(b->records[i], &bd, key, &pr[i].klen);
        if (why >= 0) {
            rejected[why]++;
            continue;
        }
        uint8_t *k = arena_alloc(ar, pr[i].klen);
        memcpy(k, key, pr[i].klen);
        pr[i].key = k;
        types |= UINT64_C(1) << b->records[i]->type;
    }
    const uint8_t **keys = arena_alloc(ar, (n + 1) * sizeof *keys);
    size_t *klens = arena_alloc(ar, (n + 1) * sizeof *klens),
           *idx = arena_alloc(ar, (n + 1) * sizeof *idx);
    uint8_t *found = arena_alloc(ar, n + 1);
    const char **vals = arena_alloc(ar, (n + 1) * sizeof *vals);
    size_t *vlens = arena_alloc(ar, (n + 1) * sizeof *vlens);
    for (int type = REC_TYPE_MIN; type <= REC_TYPE_MAX; type++) {
        if (!(types & UINT64_C(1) << type))
            continue;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (pr[i].key && (int)b->records[i]->type == type) {
                if (!ing->last_bad[type] &&
                    keycmp(pr[i].key, pr[i].klen, ing->last[type], ing->lastlen[type]) > 0)
                    continue; /* past every stored key: new (found stays 0) */
                keys[m] = pr[i].key;
                klens[m] = pr[i].klen;
                idx[m++] = i;
            }
        }
        if (store_multi_get(ing->store, (enum store_cf)type, m, keys, klens, ar, found, vals,
                            vlens))
            return -EIO;
        for (size_t j = 0; j < m; j++) {
            struct prior *p = &pr[idx[j]];
            p->found = found[j];
            if (!found[j])
                continue;
            size_t pre = type == REC_USAGE
                             ? 0
                             : store_value_writer(vals[j], vlens[j], &p->owner, &p->ownerlen);
            p->val = vals[j] + pre;
            p->vlen = vlens[j] - pre;
            p->legacy = type != REC_USAGE && !pre;
        }
    }
    /* Who wrote the records stored before writers were kept in values: one more MultiGet,
     * for those only. Usage lines keep no writer: they never change. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pr[i].legacy)
            continue;
        uint8_t *ok = arena_alloc(ar, pr[i].klen + 1);
        ok[0] = (uint8_t)b->records[i]->type;
        memcpy(ok + 1, pr[i].key, pr[i].klen);
        pr[i].okey = ok;
        pr[i].oklen = pr[i].klen + 1;
        keys[m] = ok;
        klens[m] = pr[i].oklen;
        idx[m++] = i;
    }
    if (m && store_multi_get(ing->store, CF_OWNERS, m, keys, klens, ar, found, vals, vlens))
        return -EIO;
    for (size_t j = 0; j < m; j++) {
        pr[idx[j]].owner = found[j] ? vals[j] : NULL;
        pr[idx[j]].ownerlen = found[j] ? vlens[j] : 0;
    }
    return 0;
}

/* Whether a key may repeat in b: false when each type's keys (of the records not rejected)
 * are strictly increasing in batch order, which is how agents send them (a CSV snapshot's
 * rows sorted by key, a log's lines by offset). Then the write batch needs no index of its
 * own writes (store_txn_new_unindexed), which cost about a tenth of ingest. */
static bool keys_may_repeat(const Cadre__Batch *b, const struct prior *pr)
{
    const struct prior *last[REC_TYPE_MAX + 1] = {0};
    for (size_t i = 0; i < b->n_records; i++) {
        if (!pr[i].key)
            continue;
        int t = b->records[i]->type; /* checked by check_record */
        const struct prior *l = last[t];
        if (l && keycmp(l->key, l->klen, pr[i].key, pr[i].klen) >= 0)
            return true;
        last[t] = &pr[i];
    }
    return false;
}

static int in_list(const char *const *list, const char *s, size_t len)
{
    for (; list && *list; list++)
        if (strlen(*list) == len && memcmp(*list, s, len) == 0)
            return 1;
    return 0;
}

/* The site of a packed staffing body, or NULL. */
static const char *staffing_site(struct arena *ar, const char *body, size_t len)
{
    ProtobufCAllocator pa = arena_protobuf(ar);
    Cadre__Staffing *s = cadre__staffing__unpack(&pa, len, (const uint8_t *)body);
    return s ? s->site : NULL;
}

/* Whether agent may replace or delete the stored record (old, oldlen) that owner wrote
 * (NULL: written before owners were kept, so anyone may): its own, one it inherits, or
 * one of a type its scope names (for staffing, within its sites: the old episode's and
 * the new one's, r's). */
static int permitted(struct arena *ar, const char *agent, const struct ingest_scope *scope,
                     const char *owner, size_t ownerlen, const Cadre__Record *r, const char *old,
                     size_t oldlen)
{
    /* A usage line (a log line at a file's offset) never changes, so usage keeps no
     * owners: a different body under a stored key is taken only with types=usage. */
    if ((int)r->type == REC_USAGE)
        return scope && (scope->types & (1u << REC_USAGE));
    if (!owner || (strlen(agent) == ownerlen && memcmp(agent, owner, ownerlen) == 0))
        return 1;
    if (!scope)
        return 0;
    if (in_list(scope->inherits, owner, ownerlen))
        return 1;
    if (!(scope->types & (1u << r->type)))
        return 0;
    if ((int)r->type != REC_STAFFING || !scope->sites)
        return 1;
    const char *was = staffing_site(ar, old, oldlen);
    return was && in_list(scope->sites, was, strlen(was)) &&
           (r->body_case != CADRE__RECORD__BODY_STAFFING ||
            in_list(scope->sites, r->staffing->site, strlen(r->staffing->site)));
}

/* Applies the records of b in one atomic write; *changed tells whether the store changed.
 * Returns INGEST_STORED or INGEST_UNAVAILABLE. Lock held. */
static enum ingest_result apply_batch(struct ingest *ing, struct arena *ar, const Cadre__Batch *b,
                                      const struct ingest_scope *scope, const uint8_t *bkey,
                                      size_t bklen, struct agent_state *agent, bool *changed,
                                      char *msg, size_t msglen)
{
    int64_t stored[REC_TYPE_MAX + 1], newest[REC_TYPE_MAX + 1];
    uint64_t records[REC_TYPE_MAX + 1] = {0}, rejected[REJ_COUNT] = {0};
    memcpy(stored, ing->stored, sizeof stored);
    memcpy(newest, ing->newest_s, sizeof newest);
    int64_t newest_cap = now_us() / US_PER_SEC + 86400;
    enum ingest_result rc = INGEST_STORED;
    size_t n = b->n_records, idlen = strlen(b->agent_id), nchg = 0;
    /* What the model gets once the batch is durable: bodies before and after, in ar. */
    struct kpi_change *chg = arena_alloc(ar, (n + 1) * sizeof *chg);
    struct prior *pr = arena_alloc(ar, (n + 1) * sizeof *pr);
    const uint8_t *top[REC_TYPE_MAX + 1] = {0}; /* the greatest key written, per type */
    size_t toplen[REC_TYPE_MAX + 1] = {0};
    if (prefetch(ing, ar, b, pr, rejected))
        rc = INGEST_UNAVAILABLE;
    struct store_txn *txn = rc == INGEST_STORED && !keys_may_repeat(b, pr)
                                ? store_txn_new_unindexed(ing->store)
                                : store_txn_new(ing->store);
    for (size_t i = 0; i < n && rc == INGEST_STORED; i++) {
        const Cadre__Record *r = b->records[i];
        if (!pr[i].key)
            continue; /* rejected */
        int type = r->type;
        const uint8_t *key = pr[i].key;
        size_t klen = pr[i].klen;
        const char *old;
        size_t oldlen;
        int found = store_txn_own(txn, (enum store_cf)type, key, klen, &old, &oldlen);
        int ours = 1;           /* written earlier in this batch: by this agent */
        bool legacy = false;    /* its writer is in CF_OWNERS */
        if (found == -ENOENT) { /* not written before in this batch: what the store held */
            found = pr[i].found;
            old = pr[i].val;
            oldlen = pr[i].vlen;
            legacy = pr[i].legacy;
            ours = !found || (pr[i].owner && pr[i].ownerlen == idlen &&
                              memcmp(pr[i].owner, b->agent_id, idlen) == 0);
            if (type == REC_USAGE)
                ours = !found; /* a stored log line is nobody's to change (see permitted) */
        } else if (found) {    /* the txn's copy dies with it; the model needs it later */
            const char *w;
            size_t wl, pre = type == REC_USAGE ? 0 : store_value_writer(old, oldlen, &w, &wl);
            char *copy = arena_alloc(ar, oldlen - pre);
            memcpy(copy, old + pre, oldlen - pre);
            old = copy;
            oldlen -= pre;
        }
        /* (Agent ids are 1..64 characters: the tokens file checks them.) */
        size_t pre = type == REC_USAGE || !idlen || idlen > STORE_WRITER_MAX
                         ? 0
                         : STORE_WRITER_PREFIX(idlen);
        uint8_t *val = NULL;
        size_t vlen = 0;
        if (r->body_case != CADRE__RECORD__BODY__NOT_SET)
            val = pack_body(ar, r, pre, &vlen);
        /* Another agent's record: the same body again changes nothing (and is taken); a
         * change or a deletion needs the agent's scope (docs/wire.md). */
        if (found && !ours && !(val && oldlen == vlen && memcmp(old, val, vlen) == 0) &&
            !permitted(ar, b->agent_id, scope, pr[i].owner, pr[i].ownerlen, r, old, oldlen)) {
            rejected[REJ_NOT_PERMITTED]++;
            continue;
        }
        records[type]++;
        if (r->body_case == CADRE__RECORD__BODY__NOT_SET) {
            if (!found)
                continue;
            store_txn_delete(txn, (enum store_cf)type, key, klen);
            if (legacy)
                store_txn_delete(txn, CF_OWNERS, pr[i].okey, pr[i].oklen);
            stored[type]--;
        } else {
            /* A staffing episode that starts in the future says nothing about how fresh
             * the export is: only dates up to tomorrow count as the newest record. */
            int64_t t = record_time_s(r);
            if (t <= newest_cap && (t > newest[type] || newest[type] == 0))
                newest[type] = t;
            if (found && oldlen == vlen && memcmp(old, val, vlen) == 0)
                continue; /* delivered again: nothing changes */
            /* The writer goes in front of the body: new, changed or taken over, the
             * record is this agent's now. */
            if (pre)
                store_put_writer(val - pre, b->agent_id, idlen);
            store_txn_put(txn, (enum store_cf)type, key, klen, val - pre, pre + vlen);
            if (keycmp(key, klen, top[type], toplen[type]) > 0) {
                top[type] = key;
                toplen[type] = klen;
            }
            if (legacy)
                store_txn_delete(txn, CF_OWNERS, pr[i].okey, pr[i].oklen);
            stored[type] += !found;
        }
        chg[nchg++] = (struct kpi_change){
            type,          found ? (const uint8_t *)old : NULL, found ? oldlen : 0, val, vlen,
            record_body(r)};
    }
    if (rc == INGEST_STORED) {
        char k[128];
        uint8_t v[8];
        for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++) {
            if (stored[t] != ing->stored[t]) {
                be_put_u64(v, (uint64_t)stored[t]);
                store_txn_put(txn, CF_META, k, meta_key(k, sizeof k, META_COUNT, rec_type_name(t)),
                              v, 8);
            }
            if (newest[t] != ing->newest_s[t]) {
                be_put_i64(v, newest[t]);
                store_txn_put(txn, CF_META, k, meta_key(k, sizeof k, META_NEWEST, rec_type_name(t)),
                              v, 8);
            }
        }
        be_put_i64(v, b->sent_us);
        store_txn_put(txn, CF_BATCHES, bkey, bklen, v, 8);
        put_agent(txn, agent);
        if (store_txn_commit(txn))
            rc = INGEST_UNAVAILABLE;
    }
    store_txn_free(txn);
    if (rc != INGEST_STORED) {
        snprintf(msg, msglen, "the store cannot write; retry later");
        return rc;
    }
    memcpy(ing->stored, stored, sizeof stored);
    memcpy(ing->newest_s, newest, sizeof newest);
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++) {
        if (toplen[t] && keycmp(top[t], toplen[t], ing->last[t], ing->lastlen[t]) > 0) {
            xfree(ing->last[t]);
            ing->last[t] = xmemdup(top[t], toplen[t]);
            ing->lastlen[t] = toplen[t];
        }
    }
    size_t nrej = 0;
    for (int t = 0; t <= REC_TYPE_MAX; t++)
        ing->records[t] += records[t];
    for (int r = 0; r < REJ_COUNT; r++) {
        ing->rejected[r] += rejected[r];
        nrej += rejected[r];
    }
    ing->batches[BATCH_ACCEPTED]++;
    snprintf(msg, msglen, "accepted %zu records, rejected %zu", b->n_records - nrej, nrej);
    if (nrej)
        log_warn("[agent %s] batch %llu: %zu records rejected", b->agent_id,
                 (unsigned long long)b->seq, nrej);
    *changed = nchg > 0;
    /* Last, as the model's thread takes ar over (b with it), and under the ingest lock,
     * so that the model gets the batches in the order they were stored. */
    if (ing->model && nchg)
        kpi_model_apply_later(ing->model, chg, nchg, ar);
    return INGEST_STORED;
}

/* The agent's entry of ing->handling; order_mu held. */
static struct handling *handling_of(struct ingest *ing, const char *agent, bool create)
{
    for (size_t i = 0; i < ing->nhandling; i++)
        if (strcmp(ing->handling[i].agent, agent) == 0)
            return &ing->handling[i];
    if (!create)
        return NULL;
    xgrow((void **)&ing->handling, &ing->caphandling, ing->nhandling + 1, sizeof *ing->handling);
    struct handling *h = &ing->handling[ing->nhandling++];
    memset(h, 0, sizeof *h);
    snprintf(h->agent, sizeof h->agent, "%s", agent);
    return h;
}

void ingest_enter(struct ingest *ing, const char *agent)
{
    pthread_mutex_lock(&ing->order_mu);
    handling_of(ing, agent, true)->active++;
    pthread_mutex_unlock(&ing->order_mu);
}

void ingest_leave(struct ingest *ing, const char *agent)
{
    pthread_mutex_lock(&ing->order_mu);
    struct handling *h = handling_of(ing, agent, false);
    if (h && h->active)
        h->active--;
    pthread_cond_broadcast(&ing->order_cv);
    pthread_mutex_unlock(&ing->order_mu);
}

/* The CF_BATCHES key of batch seq of b's spool into k (64 + 1 + 16 + 8 bytes); its length. */
static size_t batch_key(uint8_t *k, const Cadre__Batch *b, uint64_t seq)
{
    size_t idlen = strlen(b->agent_id);
    memcpy(k, b->agent_id, idlen);
    k[idlen] = 0;
    memcpy(k + idlen + 1, b->spool_id.data, 16);
    be_put_u64(k + idlen + 17, seq);
    return idlen + 25;
}

/* Whether batch seq of b's spool is stored, waiting for it while another batch of the
 * agent is being handled and not waiting itself (two that wait for each other give up at
 * once), at most INGEST_FOLLOW_WAIT_MS. 1 stored, 0 not, -EIO. */
static int wait_stored(struct ingest *ing, const Cadre__Batch *b, uint64_t seq)
{
    uint8_t k[64 + 1 + 16 + 8];
    size_t kl = batch_key(k, b, seq);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += INGEST_FOLLOW_WAIT_MS / 1000;
    pthread_mutex_lock(&ing->order_mu);
    struct handling *h = handling_of(ing, b->agent_id, true);
    h->waiting++;
    int rc;
    for (;;) {
        rc = store_get(ing->store, CF_BATCHES, k, kl, NULL, NULL);
        if (rc != 0)
            break;
        /* h stays put while order_mu is held; handling_of may move it between waits. */
        h = handling_of(ing, b->agent_id, true);
        if (h->active <= h->waiting ||
            pthread_cond_timedwait(&ing->order_cv, &ing->order_mu, &end) == ETIMEDOUT) {
            rc = store_get(ing->store, CF_BATCHES, k, kl, NULL, NULL);
            break;
        }
    }
    handling_of(ing, b->agent_id, true)->waiting--;
    pthread_mutex_unlock(&ing->order_mu);
    return rc < 0 ? -EIO : rc;
}

enum ingest_result ingest_batch(struct ingest *ing, const char *token_agent,
                                const struct ingest_scope *scope, const uint8_t *body, size_t len,
                                char *msg, size_t msglen)
{
    return ingest_batch_after(ing, token_agent, scope, NULL, body, len, msg, msglen);
}

enum ingest_result ingest_batch_after(struct ingest *ing, const char *token_agent,
                                      const struct ingest_scope *scope, const uint64_t *follows,
                                      const uint8_t *body, size_t len, char *msg, size_t msglen)
{
    /* The batch's messages and packed bodies live in one arena, freed at the end. */
    struct arena ar = {.block = len + (64 << 10), .limit = INGEST_DECODE_BYTES(len)};
    Cadre__Batch *b;
    enum wire_error we = wire_decode(body, len, &ar, &b);
    if (we == WIRE_OK)
        log_debug("[agent %s] batch of %zu bytes decoded into %zu bytes", b->agent_id, len,
                  ar.held);
    enum ingest_result res = INGEST_STORED;
    if (we == WIRE_OK && strcmp(b->agent_id, token_agent) != 0) {
        snprintf(msg, msglen, "agent id of the batch does not match the token");
        res = INGEST_WRONG_AGENT;
    } else if (we == WIRE_OK && (we = wire_check_envelope(b)) != WIRE_OK) {
        res = INGEST_MALFORMED;
    } else if (we != WIRE_OK) {
        res = we == WIRE_NO_MEMORY    ? INGEST_UNAVAILABLE
              : we == WIRE_TOO_COSTLY ? INGEST_TOO_COSTLY
                                      : INGEST_MALFORMED;
    }
    if (we != WIRE_OK)
        snprintf(msg, msglen, "%s", wire_error_text(we));
    /* A batch that follows another one waits for it here, outside the lock: its decoding
     * overlapped the other's writing, and its turn comes once that one is stored. */
    if (res == INGEST_STORED && follows && b->has_seq) {
        int st = wait_stored(ing, b, *follows);
        if (st <= 0) {
            if (st < 0)
                snprintf(msg, msglen, "the store cannot read; retry later");
            else
                snprintf(msg, msglen,
                         "batch %llu, which this one follows, is not stored; send again",
                         (unsigned long long)*follows);
            arena_release(&ar);
            return st < 0 ? INGEST_UNAVAILABLE : INGEST_OUT_OF_ORDER;
        }
        log_debug("[agent %s] batch %llu follows batch %llu, which is stored", b->agent_id,
                  (unsigned long long)b->seq, (unsigned long long)*follows);
    }
    pthread_mutex_lock(&ing->lock);
    if (res != INGEST_STORED) {
        ing->batches[BATCH_REJECTED]++;
        goto out;
    }
    if (!disk_ok(ing)) {
        snprintf(msg, msglen, "the database's disk is nearly full; retry later");
        res = INGEST_UNAVAILABLE;
        goto out;
    }
    struct agent_state *agent = agent_find(ing, b->agent_id, 1);
    agent->last_seen_us = now_us();
    if (b->has_spool_bytes)
        agent->spool_bytes = b->spool_bytes;
    if (b->has_dropped_records)
        agent->dropped_records = b->dropped_records;
    if (!b->has_seq) { /* heartbeat */
        struct store_txn *txn = store_txn_new(ing->store);
        put_agent(txn, agent);
        if (store_txn_commit(txn)) {
            snprintf(msg, msglen, "the store cannot write; retry later");
            res = INGEST_UNAVAILABLE;
        } else {
            snprintf(msg, msglen, "heartbeat");
            res = INGEST_HEARTBEAT;
        }
        store_txn_free(txn);
        goto out;
    }
    uint8_t bkey[64 + 1 + 16 + 8];
    size_t bklen = batch_key(bkey, b, b->seq);
    int seen = store_get(ing->store, CF_BATCHES, bkey, bklen, NULL, NULL);
    bool changed = false;
    if (seen < 0) {
        snprintf(msg, msglen, "the store cannot read; retry later");
        res = INGEST_UNAVAILABLE;
    } else if (seen) {
        ing->batches[BATCH_DUPLICATE]++;
        snprintf(msg, msglen, "duplicate batch %llu, already stored", (unsigned long long)b->seq);
        res = INGEST_DUPLICATE;
    } else {
        res = apply_batch(ing, &ar, b, scope, bkey, bklen, agent, &changed, msg, msglen);
    }
out:
    pthread_mutex_unlock(&ing->lock);
    arena_release(&ar);
    if (res == INGEST_STORED && changed && ing->notify)
        ing->notify(ing->notify_ud);
    return res;
}

void ingest_stats(struct ingest *ing, struct ingest_stats *st)
{
    pthread_mutex_lock(&ing->lock);
    memcpy(st->batches, ing->batches, sizeof st->batches);
    memcpy(st->records, ing->records, sizeof st->records);
    memcpy(st->rejected, ing->rejected, sizeof st->rejected);
    memcpy(st->stored, ing->stored, sizeof st->stored);
    memcpy(st->newest_s, ing->newest_s, sizeof st->newest_s);
    st->store_free = store_free_bytes(ing->store);
    st->disk_refusals = ing->disk_refusals;
    st->nagents = ing->nagents;
    st->agents = xmemdup(ing->agents, ing->nagents * sizeof *ing->agents);
    pthread_mutex_unlock(&ing->lock);
}

void ingest_stats_free(struct ingest_stats *st)
{
    xfree(st->agents);
    st->agents = NULL;
}
