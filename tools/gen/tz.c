/* tz.c - summer-time rules for the generated sites, without the C library's time zones. */
#include "tools/gen/tz.h"

#include "common/timeutil.h"

static const struct {
    int std_min;
    int rule;
} zone_cycle[] = {
    {-300, ZONE_US}, {60, ZONE_EU},  {0, ZONE_FIXED},   {-480, ZONE_US},
    {-360, ZONE_US}, {120, ZONE_EU}, {330, ZONE_FIXED}, {600, ZONE_FIXED},
};

/* The day of the n-th (1-based) Sunday of month m, or of the last one when n is 0. */
static int32_t sunday(int y, int m, int n)
{
    if (n == 0) {
        int32_t last = day_from_civil(y, m + 1, 1) - 1;
        return last - (weekday(last) + 1) % 7;
    }
    int32_t first = day_from_civil(y, m, 1);
    return first + (6 - weekday(first)) + 7 * (n - 1);
}

void zone_init(struct zone *z, int site, int first_year, int last_year)
{
    int n = (int)(sizeof zone_cycle / sizeof zone_cycle[0]);
    z->std_min = zone_cycle[site % n].std_min;
    z->rule = zone_cycle[site % n].rule;
    z->first_year = first_year;
    z->nyears = last_year - first_year + 1;
    if (z->nyears > TZ_MAX_YEARS)
        z->nyears = TZ_MAX_YEARS;
    int64_t std_s = (int64_t)z->std_min * 60;
    for (int i = 0; i < z->nyears; i++) {
        int y = first_year + i;
        if (z->rule == ZONE_US) {
            /* 02:00 standard time on the second Sunday of March; 02:00 summer time
             * (01:00 standard) on the first Sunday of November. */
            z->dst_on[i] = (int64_t)sunday(y, 3, 2) * 86400 + 7200 - std_s;
            z->dst_off[i] = (int64_t)sunday(y, 11, 1) * 86400 + 3600 - std_s;
        } else if (z->rule == ZONE_EU) {
            /* 01:00 UTC on the last Sundays of March and October. */
            z->dst_on[i] = (int64_t)sunday(y, 3, 0) * 86400 + 3600;
            z->dst_off[i] = (int64_t)sunday(y, 10, 0) * 86400 + 3600;
        } else {
            z->dst_on[i] = z->dst_off[i] = 0;
        }
    }
}

int zone_offset_at(const struct zone *z, int64_t t)
{
    if (z->rule == ZONE_FIXED)
        return z->std_min;
    int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int y, m, d;
    civil_from_day((int32_t)day, &y, &m, &d);
    int i = y - z->first_year;
    if (i < 0 || i >= z->nyears)
        return z->std_min;
    return t >= z->dst_on[i] && t < z->dst_off[i] ? z->std_min + 60 : z->std_min;
}

int64_t zone_to_utc(const struct zone *z, int32_t day, int32_t sec)
{
    int64_t t = (int64_t)day * 86400 + sec - (int64_t)z->std_min * 60;
    if (z->rule != ZONE_FIXED && zone_offset_at(z, t - 3600) != z->std_min)
        t -= 3600;
    return t;
}
