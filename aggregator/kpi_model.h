/* kpi_model.h - the in-memory model the KPI engine reads, kept current by ingest.
 *
 * Every stored record is in the model, per staff key: episodes (sorted by start), usage
 * folded to activity cells (sorted by day then tool), shifts, absences, EHR days and
 * course completions, each sorted by its key. The model is loaded from the store once at
 * start and then changed record by record as batches are stored, so a refresh reads
 * memory, never RocksDB.
 *
 * Matching is decided when KPIs are computed: a usage, shift, absence or EHR record counts
 * only when its staff member is employed on its day, a completion when the staff member
 * has any episode. The rest are unmatched (kpi_model_unmatched()).
 *
 * Thread safety: one writer (ingest, directly or through kpi_model_apply_later's thread)
 * and many readers (refresh, API) through kpi_model_rdlock()/kpi_model_wrlock().
 */
#ifndef CADRE_KPI_MODEL_H
#define CADRE_KPI_MODEL_H

#include <protobuf-c/protobuf-c.h>
#include <pthread.h>
#include <stdint.h>

#include "aggregator/store.h"
#include "aggregator/strtab.h"
#include "common/reckey.h"

#define DAY_MAX INT32_MAX /* end of an ongoing episode */

enum { OUT_NONE, OUT_ACCEPTED, OUT_EDITED, OUT_REJECTED, OUT_COUNT };

struct episode {
    int32_t start, end;        /* inclusive days; end DAY_MAX while ongoing */
    uint32_t site, dept, role; /* strtab ids */
    uint8_t hybrid;            /* 0 none, else cadre.proto HybridRole */
    uint8_t end_reason;        /* 0 none, else cadre.proto EndReason */
    int64_t fte_micro;
};

struct activity {
    int32_t day;
    uint32_t tool;              /* strtab id */
    uint32_t events[OUT_COUNT]; /* usage events by outcome */
};

struct shift {
    int64_t start_us, end_us;
    int64_t overtime_micro;
    int32_t day; /* calendar date of start in its own offset */
};

struct absence {
    int32_t day;
    uint8_t kind; /* cadre.proto AbsenceKind */
    int64_t hours_micro;
};

struct ehr_day {
    int32_t day;
    int64_t sched_micro, ehr_micro, outside_micro, inbox_micro;
};

struct completion {
    int32_t day;
    uint32_t course; /* strtab id */
};

/* A licence of a tool: covers the tool and its "tool.<sub>" tools on [start, end]. */
struct licence {
    int32_t start, end; /* inclusive days; end DAY_MAX while assigned */
    uint32_t tool;      /* strtab id of the licensed tool */
};

struct person {
    uint8_t staff[STAFF_KEY_LEN];
    struct episode *eps;
    struct activity *act;
    struct shift *shifts;
    struct absence *absences;
    struct ehr_day *ehr;
    struct completion *completions;
    struct licence *licences;
    uint32_t neps, nact, nshifts, nabsences, nehr, ncompletions, nlicences;
    uint32_t cap[7]; /* capacities of the seven arrays, in that order */
};

struct kpi_model {
    struct person *persons; /* every staff key with a record, in no particular order */
    uint32_t npersons, cappersons;
    uint32_t *slots; /* open-addressing index: person index + 1, 0 = empty */
    uint32_t nslots;
    struct strtab sites, depts, roles, tools, courses;
    pthread_rwlock_t lock;
    struct kpi_applier *applier; /* kpi_model_apply_later's thread; NULL until first used */
};

/* One record's change for kpi_model_apply_later: as kpi_model_apply's arguments. */
struct kpi_change {
    int type;
    const uint8_t *old;
    size_t oldlen;
    const uint8_t *new;
    size_t newlen;
    /* new, decoded (the body message of the batch's record, in the same memory), or
     * NULL: then new is unpacked. Saves decoding every record twice. */
    const ProtobufCMessage *newmsg;
};

/* An empty model. Caller frees with kpi_model_free(). */
struct kpi_model *kpi_model_new(void);
/* Loads every record of the store into a new model. Returns 0 or -EIO. */
int kpi_model_load(struct kpi_model **out, struct store *s);
void kpi_model_free(struct kpi_model *m);

/* Takes the read lock once every change set handed to kpi_model_apply_later before the
 * call is in the model: what a reader sees includes every batch acknowledged before. */
void kpi_model_rdlock(struct kpi_model *m);
void kpi_model_wrlock(struct kpi_model *m);
void kpi_model_unlock(struct kpi_model *m);

/* Replaces the record of family type with key: old (the packed body stored before, or
 * NULL) leaves the model, new (packed body, or NULL for a deletion) enters it. Unreadable
 * bodies are ignored. Caller holds the write lock. */
void kpi_model_apply(struct kpi_model *m, int type, const uint8_t *old, size_t oldlen,
                     const uint8_t *new, size_t newlen);

/* Hands n changes to the model's own thread, which applies them under the write lock in
 * the order of the calls, so that ingest answers an agent without waiting for the model.
 * The model takes over *mem (it holds c and the bodies; *mem is left empty) and releases
 * it once applied. Blocks while KPI_APPLY_BACKLOG change sets wait. */
#define KPI_APPLY_BACKLOG 4
struct arena;
void kpi_model_apply_later(struct kpi_model *m, const struct kpi_change *c, size_t n,
                           struct arena *mem);
/* Waits until every change set handed over so far is in the model (no lock held after). */
void kpi_model_sync(struct kpi_model *m);

/* The person with this staff key, or NULL. */
const struct person *kpi_person_find(const struct kpi_model *m, const uint8_t *staff);

/* The episode giving the person's group on day d (of those covering d, the one with the
 * latest start), or NULL when not employed on d. */
const struct episode *kpi_episode_on(const struct person *p, int32_t d);

/* Calls fn for each maximal run of days [from, to] within [s, e] over which the person is
 * employed in one episode's group (ep), in day order. */
void kpi_segments(const struct person *p, int32_t s, int32_t e,
                  void (*fn)(void *ud, int32_t from, int32_t to, const struct episode *ep),
                  void *ud);

/* The episode of the person's group on their last employed day in [s, e], or NULL when
 * the person is employed on no day of it (not in Population of that window). */
const struct episode *kpi_population_group(const struct person *p, int32_t s, int32_t e);

/* Whether the person is employed on some day of [s, e]. */
int kpi_employed_some_day(const struct person *p, int32_t s, int32_t e);

/* The index of the person's first activity, EHR day or absence on or after day d (the
 * arrays are sorted by day): a window's loop starts there and stops past its last day. */
uint32_t kpi_act_from(const struct person *p, int32_t d);
uint32_t kpi_ehr_from(const struct person *p, int32_t d);
uint32_t kpi_absence_from(const struct person *p, int32_t d);

/* Whether the person has matched usage (employed on its day) on some day of [s, e]. */
int kpi_person_active(const struct person *p, int32_t s, int32_t e);

/* Counts the stored records that match no employment, by type (out[REC_USAGE] counts
 * usage events). Caller holds a lock. */
void kpi_model_unmatched(const struct kpi_model *m, uint64_t out[REC_TYPE_MAX + 1]);

#endif
