/* fixtures.h - building protobuf batches and a scratch store for aggregator tests. */
#ifndef CADRE_TEST_FIXTURES_H
#define CADRE_TEST_FIXTURES_H

#include <stdint.h>
#include <stdlib.h>

#include "aggregator/ingest.h"
#include "aggregator/store.h"
#include "cadre.pb-c.h"
#include "common/reckey.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

/* A batch under construction; records are owned by it. */
struct fx_batch {
    Cadre__Batch b;
    Cadre__Record **recs;
    size_t n, cap;
    uint8_t spool[16];
};

/* Staff key of test person n: 16 bytes, n big-endian in the first 4. */
static inline void fx_staff(uint8_t *out, uint32_t n)
{
    memset(out, 0xA5, STAFF_KEY_LEN);
    out[0] = (uint8_t)(n >> 24), out[1] = (uint8_t)(n >> 16), out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
}

static inline int32_t fx_day(const char *ymd)
{
    int32_t d;
    if (parse_date(ymd, strlen(ymd), &d))
        abort();
    return d;
}

static inline Cadre__Record *fx_rec(struct fx_batch *fb, int type)
{
    Cadre__Record *r = xcalloc(1, sizeof *r);
    cadre__record__init(r);
    r->type = type;
    r->key.data = xmalloc(RECKEY_MAX);
    xgrow((void **)&fb->recs, &fb->cap, fb->n + 1, sizeof *fb->recs);
    fb->recs[fb->n++] = r;
    return r;
}

static inline ProtobufCBinaryData fx_staff_bin(uint32_t n)
{
    ProtobufCBinaryData b = {STAFF_KEY_LEN, xmalloc(STAFF_KEY_LEN)};
    fx_staff(b.data, n);
    return b;
}

/* An episode; end NULL = ongoing; reason 0 = none; hybrid 0 = none. */
static inline Cadre__Record *fx_staffing(struct fx_batch *fb, uint32_t staff, const char *start,
                                         const char *end, int reason, const char *site,
                                         const char *dept, const char *role, int hybrid,
                                         int64_t fte_micro)
{
    Cadre__Record *r = fx_rec(fb, REC_STAFFING);
    Cadre__Staffing *s = xcalloc(1, sizeof *s);
    cadre__staffing__init(s);
    s->staff = fx_staff_bin(staff);
    s->start_day = fx_day(start);
    if (end) {
        s->has_end_day = 1;
        s->end_day = fx_day(end);
    }
    s->has_end_reason = reason != 0;
    s->end_reason = reason;
    s->site = xstrdup(site);
    s->department = xstrdup(dept);
    s->role = xstrdup(role);
    s->has_hybrid_role = hybrid != 0;
    s->hybrid_role = hybrid;
    s->fte_micro = fte_micro;
    r->body_case = CADRE__RECORD__BODY_STAFFING;
    r->staffing = s;
    r->key.len = reckey_staffing(r->key.data, s->staff.data, s->start_day);
    return r;
}

/* A usage event at noon UTC of day ymd; outcome 0 = none. offset makes the key unique. */
static inline Cadre__Record *fx_usage(struct fx_batch *fb, uint32_t staff, const char *ymd,
                                      const char *tool, int outcome, uint64_t offset)
{
    Cadre__Record *r = fx_rec(fb, REC_USAGE);
    Cadre__Usage *u = xcalloc(1, sizeof *u);
    cadre__usage__init(u);
    u->staff = fx_staff_bin(staff);
    u->day = fx_day(ymd);
    u->ts_us = ((int64_t)u->day * 86400 + 43200) * US_PER_SEC;
    u->tool = xstrdup(tool);
    u->has_outcome = outcome != 0;
    u->outcome = outcome;
    r->body_case = CADRE__RECORD__BODY_USAGE;
    r->usage = u;
    r->key.len = reckey_usage(r->key.data, "scribe", 0x1234, offset);
    return r;
}

/* A shift between two RFC 3339 timestamps; overtime in millionths of hours. */
static inline Cadre__Record *fx_shift(struct fx_batch *fb, uint32_t staff, const char *start,
                                      const char *end, int64_t overtime_micro)
{
    Cadre__Record *r = fx_rec(fb, REC_SHIFTS);
    Cadre__Shift *x = xcalloc(1, sizeof *x);
    cadre__shift__init(x);
    x->staff = fx_staff_bin(staff);
    int32_t end_day;
    if (parse_rfc3339(start, strlen(start), &x->start_us, &x->day) ||
        parse_rfc3339(end, strlen(end), &x->end_us, &end_day))
        abort();
    x->overtime_micro = overtime_micro;
    r->body_case = CADRE__RECORD__BODY_SHIFT;
    r->shift = x;
    r->key.len = reckey_shift(r->key.data, x->staff.data, x->start_us);
    return r;
}

/* An absence of kind (1 sick, 2 pto, 3 other). */
static inline Cadre__Record *fx_absence(struct fx_batch *fb, uint32_t staff, const char *ymd,
                                        int64_t hours_micro, int kind)
{
    Cadre__Record *r = fx_rec(fb, REC_ABSENCES);
    Cadre__Absence *x = xcalloc(1, sizeof *x);
    cadre__absence__init(x);
    x->staff = fx_staff_bin(staff);
    x->day = fx_day(ymd);
    x->hours_micro = hours_micro;
    x->kind = kind;
    r->body_case = CADRE__RECORD__BODY_ABSENCE;
    r->absence = x;
    r->key.len = reckey_absence(r->key.data, x->staff.data, x->day, kind);
    return r;
}

/* An EHR day; scheduled hours and minutes in whole units. */
static inline Cadre__Record *fx_ehr(struct fx_batch *fb, uint32_t staff, const char *ymd,
                                    int64_t sched_h, int64_t ehr_min, int64_t outside_min,
                                    int64_t inbox_min)
{
    Cadre__Record *r = fx_rec(fb, REC_EHR);
    Cadre__Ehr *x = xcalloc(1, sizeof *x);
    cadre__ehr__init(x);
    x->staff = fx_staff_bin(staff);
    x->day = fx_day(ymd);
    x->scheduled_hours_micro = sched_h * 1000000;
    x->ehr_minutes_micro = ehr_min * 1000000;
    x->outside_minutes_micro = outside_min * 1000000;
    x->inbox_minutes_micro = inbox_min * 1000000;
    r->body_case = CADRE__RECORD__BODY_EHR;
    r->ehr = x;
    r->key.len = reckey_ehr(r->key.data, x->staff.data, x->day);
    return r;
}

static inline Cadre__Record *fx_training(struct fx_batch *fb, uint32_t staff, const char *course,
                                         const char *ymd)
{
    Cadre__Record *r = fx_rec(fb, REC_TRAINING);
    Cadre__Training *x = xcalloc(1, sizeof *x);
    cadre__training__init(x);
    x->staff = fx_staff_bin(staff);
    x->course = xstrdup(course);
    x->day = fx_day(ymd);
    r->body_case = CADRE__RECORD__BODY_TRAINING;
    r->training = x;
    r->key.len = reckey_training(r->key.data, x->staff.data, x->day, course, strlen(course));
    return r;
}

/* A licence of tool from ymd to removed (NULL: still assigned). */
static inline Cadre__Record *fx_licence(struct fx_batch *fb, uint32_t staff, const char *tool,
                                        const char *ymd, const char *removed)
{
    Cadre__Record *r = fx_rec(fb, REC_LICENCE);
    Cadre__Licence *x = xcalloc(1, sizeof *x);
    cadre__licence__init(x);
    x->staff = fx_staff_bin(staff);
    x->tool = xstrdup(tool);
    x->assigned_day = fx_day(ymd);
    x->has_removed_day = removed != NULL;
    x->removed_day = removed ? fx_day(removed) : 0;
    r->body_case = CADRE__RECORD__BODY_LICENCE;
    r->licence = x;
    r->key.len = reckey_licence(r->key.data, x->staff.data, tool, strlen(tool), x->assigned_day);
    return r;
}

/* A tombstone for a record key. */
static inline Cadre__Record *fx_tombstone(struct fx_batch *fb, int type, const uint8_t *key,
                                          size_t klen)
{
    Cadre__Record *r = fx_rec(fb, type);
    memcpy(r->key.data, key, klen);
    r->key.len = klen;
    return r;
}

/* Packs the batch as agent `agent`, seq (0 = heartbeat); caller frees with free(). */
static inline uint8_t *fx_pack(struct fx_batch *fb, const char *agent, uint64_t seq, size_t *len)
{
    cadre__batch__init(&fb->b);
    fb->b.agent_id = (char *)agent;
    fb->b.spool_id.len = 16;
    fb->b.spool_id.data = fb->spool;
    fb->b.has_seq = seq != 0;
    fb->b.seq = seq;
    fb->b.sent_us = 1;
    fb->b.n_records = fb->n;
    fb->b.records = fb->recs;
    *len = cadre__batch__get_packed_size(&fb->b);
    uint8_t *buf = xmalloc(*len);
    cadre__batch__pack(&fb->b, buf);
    return buf;
}

/* Frees the records (protobuf-c's free_unpacked works on our xmalloc'd fields). */
static inline void fx_clear(struct fx_batch *fb)
{
    for (size_t i = 0; i < fb->n; i++)
        cadre__record__free_unpacked(fb->recs[i], NULL);
    xfree(fb->recs);
    fb->recs = NULL;
    fb->n = fb->cap = 0;
}

/* Packs, ingests as agent "a1" (its own token) and clears; returns whether the batch
 * was acknowledged (stored, duplicate or heartbeat). */
static inline int fx_ingest(struct ingest *ing, struct fx_batch *fb, uint64_t seq)
{
    size_t len;
    uint8_t *buf = fx_pack(fb, "a1", seq, &len);
    char msg[256];
    enum ingest_result r = ingest_batch(ing, "a1", NULL, buf, len, msg, sizeof msg);
    xfree(buf);
    fx_clear(fb);
    return ingest_result_acked(r);
}

/* A fresh scratch database folder (mkdtemp); caller removes it with fx_rmdb(). */
static inline char *fx_tmpdir(void)
{
    char *d = xstrdup("/tmp/cadre-unit.XXXXXX");
    if (!mkdtemp(d))
        abort();
    return d;
}

static inline void fx_rmdb(char *d)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    if (system(cmd) != 0)
        abort();
    xfree(d);
}

#endif
