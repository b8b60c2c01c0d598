/* world.h - the synthetic health system: sites, departments, people, episodes, courses. */
#ifndef CADRE_GEN_WORLD_H
#define CADRE_GEN_WORLD_H

#include <stdint.h>

#include "tools/gen/tz.h"

#define MAX_SITES 16
#define MAX_STAFF 1000000 /* ids have six digits */
#define MAX_EP 16         /* episodes per person */
#define DAY_NONE INT32_MAX
#define LINGER_DAYS 14 /* a leaver's chat account still works this many days (days.c) */

enum role {
    ROLE_NURSE,
    ROLE_PHYSICIAN,
    ROLE_NP, /* nurse practitioner */
    ROLE_PHARMACIST,
    ROLE_TECHNICIAN,
    ROLE_THERAPIST,
    ROLE_ADMIN,
    ROLE_MANAGER,
    ROLE_ANALYST,
    ROLE_COUNT
};

enum hybrid {
    HY_NONE,
    HY_CLINICAL_TRANSLATOR,
    HY_MODEL_GOVERNANCE_LEAD,
    HY_DATA_STRATEGIST,
    HY_ETHICS_STEWARD,
    HY_AI_CHAMPION,
    HY_COUNT
};

enum end_reason {
    ER_NONE,
    ER_TRANSFER,
    ER_ROLE_CHANGE,
    ER_VOLUNTARY,
    ER_INVOLUNTARY,
    ER_RETIREMENT,
    ER_OTHER,
    ER_COUNT
};

enum dept_kind {
    DK_CLINICAL,
    DK_CRITICAL,
    DK_EMERGENCY,
    DK_SURGICAL,
    DK_RADIOLOGY,
    DK_PHARMACY,
    DK_LAB,
    DK_REHAB,
    DK_ADMIN,
    DK_INFORMATICS,
    DK_COUNT
};

enum tool { TOOL_SCRIBE, TOOL_CHAT, TOOL_CODING, TOOL_IMAGING, TOOL_COUNT };

enum course {
    C_AI_LITERACY_101,
    C_AI_SAFETY,
    C_AI_LITERACY_201,
    C_HAND_HYGIENE,
    C_FIRE_SAFETY,
    C_INFECTION_FR,
    C_SEPSIS,
    C_LONG_128,
    C_COUNT
};

enum rota { ROTA_DAY, ROTA_NIGHT, ROTA_ROTATE };

extern const char *const role_names[ROLE_COUNT];
extern const char *const hybrid_names[HY_COUNT];
extern const char *const end_reason_names[ER_COUNT];
extern const char *const tool_names[TOOL_COUNT];
extern const char *const course_names[C_COUNT];

struct dept {
    const char *name;
    uint8_t kind;        /* enum dept_kind */
    uint8_t adopt;       /* AI adoption factor, percent */
    uint8_t roster_zulu; /* its roster system writes shifts in UTC with milliseconds */
    int8_t only_site;    /* exists only at this site (modulo the site count), or -1 */
    int8_t not_site;     /* absent from this site when there are several, or -1 */
    uint16_t weight;     /* relative size */
};

struct site {
    char name[16];
    struct zone zone;
};

struct episode {
    int32_t start; /* first day */
    int32_t end;   /* last day (inclusive); DAY_NONE while ongoing */
    uint8_t site, dept, role, hybrid;
    uint8_t reason;    /* enum end_reason; ER_NONE while ongoing */
    uint8_t fte10;     /* fte in tenths */
    uint8_t secondary; /* an extra appointment overlapping a primary episode */
    uint8_t restated;  /* staffing.csv carries an out-of-date copy of it first */
};

struct completion {
    int32_t day;
    uint8_t course; /* enum course */
    uint8_t dup;    /* written twice */
};

struct person {
    char id[8];                /* e.g. "N001234" */
    struct episode ep[MAX_EP]; /* sorted by start */
    uint8_t nep;
    uint8_t rota;                  /* enum rota */
    uint8_t long_shifts;           /* 12 h shifts where a department has 8 h and 12 h */
    uint8_t strain;                /* 0..3: overtime, short rests, sickness */
    uint8_t pajama;                /* EHR minutes outside schedule per scheduled hour */
    uint8_t unsched_pct;           /* chance of EHR work on a day off, percent */
    int32_t adopt[TOOL_COUNT];     /* first day of use; DAY_NONE never */
    int32_t lapse[TOOL_COUNT];     /* first day no longer used; DAY_NONE never */
    uint8_t intensity[TOOL_COUNT]; /* events per working day, tenths */
    struct completion *comp;       /* sorted by day */
    uint16_t ncomp;
};

/* A user id that no staffing row knows: contractors, students, service accounts. */
struct ghost {
    char id[24];
    uint8_t site;
    uint8_t tool;   /* enum tool */
    uint8_t rate;   /* events per weekday, tenths */
    uint8_t trains; /* completes ai-literacy-101 now and then */
};

struct world {
    uint64_t seed;
    int32_t from, to; /* inclusive days */
    int loadoff_pct;  /* planted load-off effect, percent (main.c sets it; default 10) */
    int nsites;
    struct site site[MAX_SITES];
    const struct dept *dept; /* static table */
    int ndept;
    struct person *person;
    uint32_t nperson;
    struct ghost *ghost;
    uint32_t nghost;
};

/* Builds the world for the given arguments (staff 1..MAX_STAFF, sites 1..MAX_SITES,
 * from <= to). Caller frees with world_free(). */
void world_build(struct world *w, uint64_t seed, uint32_t staff, int sites, int32_t from,
                 int32_t to);
void world_free(struct world *w);

/* The episode that sets p's group on day d (of those covering d, the latest start), or
 * NULL when p is not employed on d. */
const struct episode *world_episode_on(const struct person *p, int32_t d);

/* The site folder of p's record dated d: that of the episode on d, else of the nearest
 * episode in time. */
int world_site_of(const struct person *p, int32_t d);

/* How well tool t fits someone in episode e: role x department kind x department adoption
 * factors, 0 when the role or department never uses it (about 1 for a typical user; more in
 * keen departments). */
double world_tool_fit(int tool, const struct episode *e);

/* Staff id prefix of a role: N nurses, P physicians, R pharmacists, ... */
char world_role_prefix(int role);

#endif
