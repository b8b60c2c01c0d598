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

/* A window of a refresh or export, for prepare(). */
struct kpi_span {
    const char *name; /* as kpi_window's */
    int32_t s, e;
};

struct kpi_family {
    const char *name; /* "adoption", ... (logs and benchmarks) */
    /* Appends the family's rows of window w to w->t (unsorted, unsuppressed). Holds no
     * state between calls; the caller holds the model's read lock. Windows of one refresh
     * are computed at the same time on several threads: compute only reads the model and
     * the params. */
    void (*compute)(const struct kpi_window *w);
    /* Optional, for a family whose work is shared by the windows: prepare computes every
     * window of the call at once (on one of the threads, beside the other families'
     * windows) and returns the result, which reaches compute as w->prep (compute then
     * runs on the caller's thread, one window after the other, and may take rows out of
     * it); release frees it. */
    void *(*prepare)(const struct kpi_model *m, const struct kpi_params *p,
                     const struct kpi_span *windows, size_t n);
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
