/* kpi.h - the KPI engine's driver: windows, the families run over them, suppression.
 *
 * Callers (snapshot, the API, the export) see this header only; the families
 * (kpi_family.h) and their accumulators (kpi_cells.h) sit below it (docs/architecture.md).
 */
#ifndef CADRE_KPI_H
#define CADRE_KPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregator/kpi_cells.h"
#include "aggregator/kpi_model.h"
#include "exporters/kpi_table.h"

struct agg_config;
/* Fills p from the configuration (the literacy list is borrowed from cfg). */
void kpi_params_init(struct kpi_params *p, const struct agg_config *cfg);

/* Parses a window ("Nd" with 1 <= N <= 730, or "YYYYQn") against the as-of day into the
 * inclusive days [*s, *e]. A quarter is cut at the as-of day; one starting after it is an
 * error. Returns 0 or -EINVAL with a message in err. */
int kpi_window_parse(const char *w, int32_t as_of, int32_t *s, int32_t *e, char *err,
                     size_t errlen);

/* Computes every KPI row of the window, suppresses them (docs/privacy.md) and appends them
 * to t, which is left sorted. A window that does not parse adds nothing. */
void kpi_compute_window(const struct kpi_model *m, const struct kpi_params *p, const char *window,
                        struct kpi_table *t);
/* As kpi_compute_window for each of n windows into t[i] (n tables), sharing the work that
 * does not depend on the window and computing windows side by side on up to one thread per
 * online core (at most KPI_MAX_THREADS). The caller holds the model's read lock. */
#define KPI_MAX_THREADS 4
void kpi_compute_windows(const struct kpi_model *m, const struct kpi_params *p,
                         const char *const *windows, size_t n, struct kpi_table *t);

#endif
