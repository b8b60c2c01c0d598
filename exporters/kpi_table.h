/* kpi_table.h - the KPI rows every exporter reads; filled by the aggregator's KPI engine.
 *
 * Exporters include only this header for KPI data: they can be tested on a hand-built
 * table and never touch RocksDB.
 */
#ifndef CADRE_KPI_TABLE_H
#define CADRE_KPI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kpi_row {
    const char *kpi;    /* static name, e.g. "adoption_ratio" */
    char window[16];    /* "28d", "2026Q3" */
    const char *by;     /* static breakdown name: "org", "department", ... */
    char *group;        /* owned; "all" for org */
    double numerator;   /* the two sides of the formula as written */
    double denominator; /* > 0 for every row */
    int64_t persons;    /* person count used for suppression */
    bool suppressed;
    bool dominated;   /* primary-suppressed by the dominance rule (set by the KPI engine) */
    bool sqrt_value;  /* the value is sqrt(numerator / denominator) (a standard error) */
    int64_t controls; /* load-off change and pretrend: distinct controls used */
    int32_t window_start, window_end; /* days s and e */
};

struct kpi_table {
    struct kpi_row *rows;
    size_t n, cap;
    int32_t as_of;
};

/* Appends a row; copies group. Returns the new row (valid until the next add). */
struct kpi_row *kpi_table_add(struct kpi_table *t, const char *kpi, const char *window,
                              const char *by, const char *group, double num, double den,
                              int64_t persons, int32_t s, int32_t e);
/* A row's value: numerator / denominator, or its square root for a sqrt_value row. */
double kpi_row_value(const struct kpi_row *r);
/* Frees the rows (not t itself). */
void kpi_table_clear(struct kpi_table *t);
/* Sorts rows by (kpi, window, by, group) in byte order. */
void kpi_table_sort(struct kpi_table *t);
/* Finds the row of a cell, or NULL. The table must be sorted. */
const struct kpi_row *kpi_table_find(const struct kpi_table *t, const char *kpi, const char *window,
                                     const char *by, const char *group);

/* Formats v as the shortest decimal that reads back to the same double (at least 9
 * significant digits are kept where the value has them). out holds 32 bytes. */
void kpi_format_double(double v, char *out);

#endif
