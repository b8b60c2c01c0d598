/* tz.h - the time zones of the generated sites: fixed offsets with US or EU summer time. */
#ifndef CADRE_GEN_TZ_H
#define CADRE_GEN_TZ_H

#include <stdint.h>

#define TZ_MAX_YEARS 64

/* A zone's summer-time switches are worked out once per year of the run, in UTC seconds,
 * so a lookup is a table read. */
struct zone {
    int std_min;    /* standard offset in minutes east of UTC */
    int rule;       /* ZONE_FIXED, ZONE_US or ZONE_EU */
    int first_year; /* year of dst_on[0] */
    int nyears;
    int64_t dst_on[TZ_MAX_YEARS];  /* UTC second summer time starts, per year */
    int64_t dst_off[TZ_MAX_YEARS]; /* UTC second it ends */
};

enum { ZONE_FIXED, ZONE_US, ZONE_EU };

/* Sets up the zone of site number `site` (a fixed cycle: -05:00 US, +01:00 EU, +00:00,
 * -08:00 US, -06:00 US, +02:00 EU, +05:30, +10:00) for the years first..last. */
void zone_init(struct zone *z, int site, int first_year, int last_year);

/* Offset in minutes east of UTC in force at the UTC second t. */
int zone_offset_at(const struct zone *z, int64_t t);

/* The UTC second of local wall time sec (may exceed a day) on local day `day`. A wall
 * time skipped or repeated by a switch resolves to one of its candidates. */
int64_t zone_to_utc(const struct zone *z, int32_t day, int32_t sec);

/* Day of the week, 0 = Monday. */
static inline int weekday(int32_t day)
{
    int w = (int)((day + 3) % 7);
    return w < 0 ? w + 7 : w;
}

#endif
