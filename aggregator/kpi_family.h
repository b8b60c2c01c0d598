/* kpi_family.h - the KPI family plugin: compute a window's rows into its table.
 *
 * The driver (kpi.c) runs every family of kpi_families over a window, then suppresses the
 * rows. A family reads the model through struct kpi_window and emits rows through the
 * accumulators of kpi_cells.h, by catalogue name (exporters/kpi_catalogue.h); it never
 * calls back into the driver. Adding a KPI: a catalogue row plus its compute code in a
 * family (docs/architecture.md).
 */
#ifndef CADRE_KPI_FAMILY_H
#define CADRE_KPI_FAMILY_H

#include "aggregator/kpi_cells.h"

struct kpi_family {
    const char *name; /* "adoption", ... (logs and benchmarks) */
    /* Appends the family's rows of window w to w->t (unsorted, unsuppressed). Holds no
     * state between calls; the caller holds the model's read lock. Windows of one refresh
     * may be computed at the same time on several threads: compute only reads the model,
     * the params and w->prep. */
    void (*compute)(const struct kpi_window *w);
    /* Optional: work that does not depend on the window, done once for all the windows of
     * a refresh; the result reaches compute as w->prep and is freed with release. */
    void *(*prepare)(const struct kpi_model *m, const struct kpi_params *p);
    void (*release)(void *prep);
};

extern const struct kpi_family kpi_family_adoption;  /* kpi_adoption.c */
extern const struct kpi_family kpi_family_load;      /* kpi_burnout.c */
extern const struct kpi_family kpi_family_retention; /* kpi_retention.c */
extern const struct kpi_family kpi_family_literacy;  /* kpi_literacy.c */
extern const struct kpi_family kpi_family_drift;     /* kpi_drift.c */
extern const struct kpi_family kpi_family_loadoff;   /* kpi_loadoff.c */
extern const struct kpi_family kpi_family_licence;   /* kpi_licence.c */

#endif
