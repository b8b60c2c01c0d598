/* kpi.h - the KPI engine: windows, breakdowns and the KPI families of SPEC section 5. */
#ifndef CADRE_KPI_H
#define CADRE_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregator/kpi_model.h"
#include "exporters/kpi_table.h"

struct kpi_params {
    int32_t as_of;
    bool as_of_auto; /* as_of not configured: yesterday (local time) at each refresh */
    int64_t min_group_size;
    int64_t contract_hours_micro;
    int64_t burnout_overtime_ratio, burnout_long_shift_share, burnout_wow8_seconds,
        burnout_sickness_ratio; /* millionths */
    int64_t burnout_short_rests, burnout_min_flags;
    char **literacy_courses; /* NULL-terminated; empty = every course */
};

struct agg_config;
/* Fills p from the configuration (the literacy list is borrowed from cfg). */
void kpi_params_init(struct kpi_params *p, const struct agg_config *cfg);

/* Parses a window ("Nd" with 1 <= N <= 730, or "YYYYQn") against the as-of day into the
 * inclusive days [*s, *e]. A quarter is cut at the as-of day; one starting after it is an
 * error. Returns 0 or -EINVAL with a message in err. */
int kpi_window_parse(const char *w, int32_t as_of, int32_t *s, int32_t *e, char *err,
                     size_t errlen);

/* Computes every KPI row of the window, suppresses them as the SPEC says and appends them
 * to t, which is left sorted. A window that does not parse adds nothing. */
void kpi_compute_window(const struct kpi_model *m, const struct kpi_params *p, const char *window,
                        struct kpi_table *t);

/* Names of the breakdowns ("org", "site", ...). */
extern const char *const kpi_breakdowns[];

#endif
