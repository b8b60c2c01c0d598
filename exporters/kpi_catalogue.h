/* kpi_catalogue.h - the one list of KPIs: names, units, help, windows, breakdowns, rules.
 *
 * Every part of Cadre that names a KPI reads this table: the KPI engine checks the rows it
 * emits against it, suppression takes each KPI's rule from it, /metrics and remote_write
 * take their families, help texts and windows from it, the API validates `by` with it and
 * the HTML report takes its titles, definitions and polarity from it. A new KPI is one row
 * here plus its compute code (docs/architecture.md). The formulas are in docs/kpi.md.
 */
#ifndef CADRE_KPI_CATALOGUE_H
#define CADRE_KPI_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>

/* KPI families, in the order the HTML report shows them. */
enum kpi_family {
    KPI_FAM_ADOPTION,
    KPI_FAM_RETENTION,
    KPI_FAM_LOAD,
    KPI_FAM_LITERACY,
    KPI_FAM_COUNT
};

enum kpi_unit {
    KPI_UNIT_RATIO,   /* a share, 0..1 (or above for overtime) */
    KPI_UNIT_SECONDS, /* seconds per 8 scheduled hours */
    KPI_UNIT_Z,       /* a z score: standard errors */
};

/* Whether a rise is good news (the report's "better" / "worse"). */
enum kpi_polarity { KPI_NEUTRAL, KPI_UP_GOOD, KPI_UP_BAD };

/* Breakdowns, as bits of kpi_def.by; the names are kpi_by_name(). */
enum kpi_by {
    KPI_BY_ORG,
    KPI_BY_SITE,
    KPI_BY_DEPARTMENT,
    KPI_BY_ROLE,
    KPI_BY_TOOL,
    KPI_BY_HYBRID_ROLE,
    KPI_BY_ADOPTION_COHORT,
    KPI_BY_COUNT
};
#define KPI_BY_BIT(b) (1u << (b))

/* How small groups are kept from being published (docs/privacy.md). */
enum kpi_suppression {
    KPI_SUPPRESS_CELLS,  /* primary on the person count, then complementary and linked */
    KPI_SUPPRESS_NEVER,  /* counts departments, not people */
    KPI_SUPPRESS_FOLLOW, /* not a sum: primary on the person count, and suppressed whenever
                          * the `follows` KPI's cell (same window, by, group) is; no
                          * complementary or linked rule of its own */
};

struct kpi_def {
    const char *name; /* "adoption_ratio"; the gauge is cadre_<name> */
    enum kpi_family family;
    enum kpi_unit unit;
    enum kpi_polarity polarity;
    unsigned by;                /* KPI_BY_BIT() of each breakdown it has */
    const char *const *windows; /* /metrics windows, NULL-terminated */
    enum kpi_suppression suppression;
    bool additive;          /* numerator and denominator add up across regions */
    const char *persons;    /* the person count used for suppression, in words */
    const char *help;       /* /metrics HELP text */
    const char *title;      /* report label (HTML); NULL: not in the report tables */
    const char *definition; /* report definition in plain words (HTML) */
    const char *follows;    /* KPI_SUPPRESS_FOLLOW: the KPI whose cell it follows */
};

/* The catalogue, in the order /metrics lists the families; *n gets its length. */
const struct kpi_def *kpi_catalogue(size_t *n);

/* The row of a KPI, or NULL when name is not in the catalogue. */
const struct kpi_def *kpi_catalogue_find(const char *name);

/* "org", "site", "department", "role", "tool", "hybrid_role", "adoption_cohort". */
const char *kpi_by_name(enum kpi_by by);

/* The breakdown called name, or -1. */
int kpi_by_parse(const char *name);

/* The report's heading of a family (HTML). */
const char *kpi_family_title(enum kpi_family f);

/* Whether w is one of def's /metrics windows. */
bool kpi_def_has_window(const struct kpi_def *def, const char *w);

struct sbuf;
/* Appends the catalogue as tab-separated text with a header row: kpi, family, unit,
 * polarity, by (comma-separated), metrics_windows, suppression, additive, persons, help
 * (`cadre-aggregator kpis`; tests and docs read it). */
void kpi_catalogue_tsv(struct sbuf *b);

/* The windows /metrics carries for some KPI, NULL-terminated and in increasing length. */
extern const char *const kpi_metric_windows[];

#endif
