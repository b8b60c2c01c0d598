/* kpi_model.h - the in-memory model the KPI engine reads, loaded from the store at refresh.
 *
 * Persons are sorted by staff key; each owns a run of episodes (sorted by start), a run of
 * activity cells (matched usage per day and tool, sorted by day then tool) and runs of
 * matched shifts, absences, EHR days and course completions. A usage, shift, absence or
 * EHR record whose staff member is not employed on its day, and a completion whose staff
 * member has no episode, is unmatched: counted, kept out of every KPI.
 */
#ifndef CADRE_KPI_MODEL_H
#define CADRE_KPI_MODEL_H

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
    uint32_t tool;            /* strtab id */
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

/* A run [first, first + count) in one of the model's arrays. */
struct run {
    uint32_t first, count;
};

struct person {
    uint8_t staff[STAFF_KEY_LEN];
    uint32_t ep_first, ep_count;
    uint32_t act_first, act_count;
    struct run shifts, absences, ehr, completions; /* matched records, in time order */
};

struct kpi_model {
    struct person *persons;
    uint32_t npersons;
    struct episode *eps;
    uint32_t neps;
    struct activity *act;
    uint32_t nact;
    struct shift *shifts;
    uint32_t nshifts;
    struct absence *absences;
    uint32_t nabsences;
    struct ehr_day *ehr;
    uint32_t nehr;
    struct completion *completions;
    uint32_t ncompletions;
    struct strtab sites, depts, roles, tools, courses;
    uint64_t unmatched[REC_TYPE_MAX + 1];
};

/* Loads the model from the store (a consistent view per family). Returns 0 or -EIO.
 * Caller frees with kpi_model_free(). */
int kpi_model_load(struct kpi_model **out, struct store *s);
void kpi_model_free(struct kpi_model *m);

/* Index of the person with this staff key, or -1. */
int64_t kpi_person_find(const struct kpi_model *m, const uint8_t *staff);

/* The episode giving the person's group on day d (of those covering d, the one with the
 * latest start), or NULL when not employed on d. */
const struct episode *kpi_episode_on(const struct kpi_model *m, const struct person *p,
                                     int32_t d);

/* Calls fn for each maximal run of days [from, to] within [s, e] over which the person is
 * employed in one episode's group (ep), in day order. */
void kpi_segments(const struct kpi_model *m, const struct person *p, int32_t s, int32_t e,
                  void (*fn)(void *ud, int32_t from, int32_t to, const struct episode *ep),
                  void *ud);

#endif
