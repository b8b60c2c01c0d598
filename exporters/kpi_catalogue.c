/* kpi_catalogue.c - the KPI catalogue: one row per KPI (docs/kpi.md has the formulas). */
#include "exporters/kpi_catalogue.h"

#include <string.h>

#include "common/sbuf.h"

static const char *const w_adoption[] = {"7d", "28d", "90d", NULL};
static const char *const w_load[] = {"28d", "90d", NULL};
static const char *const w_retention[] = {"90d", "365d", NULL};
static const char *const w_literacy[] = {"28d", NULL};
static const char *const w_drift[] = {"7d", NULL};
static const char *const w_loadoff[] = {"365d", NULL};
static const char *const w_licence[] = {"28d", "90d", NULL};
const char *const kpi_metric_windows[] = {"7d", "28d", "90d", "365d", NULL};

#define ORG KPI_BY_BIT(KPI_BY_ORG)
#define STD                                                                                        \
    (ORG | KPI_BY_BIT(KPI_BY_SITE) | KPI_BY_BIT(KPI_BY_DEPARTMENT) | KPI_BY_BIT(KPI_BY_ROLE))
#define TOOL KPI_BY_BIT(KPI_BY_TOOL)
#define HYBRID KPI_BY_BIT(KPI_BY_HYBRID_ROLE)
#define COHORT KPI_BY_BIT(KPI_BY_ADOPTION_COHORT)

/* Shorthands for the columns most rows share. */
#define ADOPTION KPI_FAM_ADOPTION, KPI_UNIT_RATIO
#define LOAD_RATIO KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_UP_BAD, STD | COHORT, w_load
#define LOAD_SECONDS KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_UP_BAD, STD | COHORT, w_load
#define RETENTION KPI_FAM_RETENTION, KPI_UNIT_RATIO
#define CELLS KPI_SUPPRESS_CELLS

/* Every KPI, in the order of the KPI table of docs/kpi.md. */
static const struct kpi_def catalogue[] = {
    /* ---- adoption ---- */
    {"adoption_ratio", ADOPTION, KPI_UP_GOOD, STD, w_adoption, CELLS, true, "population",
     "Share of the population with at least one AI-tool usage event in the window.", "AI adoption",
     "Staff employed in the quarter who used an AI tool at least once, over all staff employed "
     "in the quarter (each counted in the group of their last employed day).",
     NULL},
    {"engaged_ratio", ADOPTION, KPI_UP_GOOD, STD, w_adoption, CELLS, true, "population",
     "Share of the population active on at least ceil(days/7) distinct days of the window.",
     "Regular AI use",
     "Staff active with AI tools on at least one day per week of the quarter (days &#247; 7, "
     "rounded up, distinct days), over all staff employed in the quarter.",
     NULL},
    {"tool_adoption_ratio", ADOPTION, KPI_UP_GOOD, TOOL, w_adoption, CELLS, true, "org population",
     "Share of the org population active with the tool in the window.", NULL, NULL, NULL},
    {"ai_output_accepted_ratio", ADOPTION, KPI_NEUTRAL, STD | TOOL, w_adoption, CELLS, true,
     "staff with outcome events", "AI-output events accepted over events with any outcome.",
     "AI output accepted",
     "AI outputs accepted as they were, over AI outputs with a recorded outcome.", NULL},
    {"ai_output_edited_ratio", ADOPTION, KPI_NEUTRAL, STD | TOOL, w_adoption, CELLS, true,
     "staff with outcome events", "AI-output events edited over events with any outcome.",
     "AI output edited", "AI outputs edited before use, over AI outputs with a recorded outcome.",
     NULL},
    {"ai_output_rejected_ratio", ADOPTION, KPI_NEUTRAL, STD | TOOL, w_adoption, CELLS, true,
     "staff with outcome events", "AI-output events rejected over events with any outcome.",
     "AI output rejected", "AI outputs rejected, over AI outputs with a recorded outcome.", NULL},
    /* licences: access and the use of what is paid for */
    {"ai_access_ratio", ADOPTION, KPI_UP_GOOD, STD, w_licence, CELLS, true, "population",
     "Share of the population with a licence of an AI tool on some day of the window they were "
     "employed.",
     "AI access (licensed)",
     "Staff employed in the quarter who held a licence of an AI tool on a day they were "
     "employed, over all staff employed in the quarter.",
     NULL},
    {"ai_licence_utilisation_ratio", ADOPTION, KPI_UP_GOOD, STD | TOOL, w_licence, CELLS, true,
     "members with access",
     "Share of the members with a licence in the window who used a licensed tool on a day they "
     "held the licence (by tool: that tool's licence holders).",
     "Licence utilisation",
     "Staff holding an AI-tool licence in the quarter who used a licensed tool while they held "
     "the licence, over all staff holding one (active &#247; licensed).",
     NULL},
    /* drift of AI output against the drift_baseline_days before the window (by tool) */
    {"ai_output_accepted_drift_z", KPI_FAM_ADOPTION, KPI_UNIT_Z, KPI_NEUTRAL, TOOL, w_drift,
     KPI_SUPPRESS_FOLLOW, false, "staff with outcome events of the tool in the window",
     "Two-proportion z score of the tool's accepted share in the window against the "
     "drift_baseline_days before it.",
     NULL, NULL, .follows = "ai_output_accepted_ratio"},
    {"ai_output_edited_drift_z", KPI_FAM_ADOPTION, KPI_UNIT_Z, KPI_NEUTRAL, TOOL, w_drift,
     KPI_SUPPRESS_FOLLOW, false, "staff with outcome events of the tool in the window",
     "Two-proportion z score of the tool's edited share in the window against the "
     "drift_baseline_days before it.",
     NULL, NULL, .follows = "ai_output_edited_ratio"},
    {"ai_output_rejected_drift_z", KPI_FAM_ADOPTION, KPI_UNIT_Z, KPI_NEUTRAL, TOOL, w_drift,
     KPI_SUPPRESS_FOLLOW, false, "staff with outcome events of the tool in the window",
     "Two-proportion z score of the tool's rejected share in the window against the "
     "drift_baseline_days before it.",
     NULL, NULL, .follows = "ai_output_rejected_ratio"},
    /* ---- workload (burnout proxies) ---- */
    {"overtime_ratio", LOAD_RATIO, CELLS, true, "staff with contracted hours",
     "Overtime hours over contracted hours (a workload proxy, not a diagnosis).", "Overtime",
     "Overtime hours over contracted hours (FTE &#215; contract hours per week &#247; 7 for "
     "each employed day).",
     NULL},
    {"long_shift_ratio", LOAD_RATIO, CELLS, true, "staff with shifts",
     "Shifts lasting 12 h or more over all shifts (proxy).", "Long shifts (12 h or more)",
     "Shifts lasting 12 hours or more, over all shifts.", NULL},
    {"extended_shift_ratio", LOAD_RATIO, CELLS, true, "staff with shifts",
     "Shifts lasting more than 13 h over all shifts (proxy).", "Extended shifts (over 13 h)",
     "Shifts lasting more than 13 hours, over all shifts.", NULL},
    {"short_rest_ratio", LOAD_RATIO, CELLS, true, "staff with shifts",
     "Shifts starting less than 11 h after the previous one ended (proxy).",
     "Short rests (under 11 h)",
     "Shifts starting less than 11 hours after the same person's previous shift ended, over "
     "all shifts.",
     NULL},
    {"sickness_absence_ratio", LOAD_RATIO, CELLS, true, "staff with contracted hours",
     "Sick hours over contracted hours (proxy).", "Sickness absence",
     "Sick hours over contracted hours.", NULL},
    {"wow8_seconds", LOAD_SECONDS, CELLS, true, "staff with EHR rows",
     "EHR work outside scheduled time per 8 scheduled patient hours, pooled (proxy).",
     "After-hours EHR work per 8 h",
     "EHR time outside scheduled hours per 8 scheduled patient hours, pooled: total "
     "minutes of everyone in the group over their total scheduled hours (note 3).",
     NULL},
    {"ehr_time8_seconds", LOAD_SECONDS, CELLS, true, "staff with EHR rows",
     "EHR time per 8 scheduled patient hours, pooled (proxy).", "EHR time per 8 h",
     "All EHR time per 8 scheduled patient hours, pooled (note 3).", NULL},
    {"inbox_time8_seconds", LOAD_SECONDS, CELLS, true, "staff with EHR rows",
     "EHR inbox time per 8 scheduled patient hours, pooled (proxy).", "EHR inbox time per 8 h",
     "EHR inbox time per 8 scheduled patient hours, pooled (note 3).", NULL},
    {"burnout_risk_ratio", LOAD_RATIO, CELLS, true, "population members with shifts or EHR rows",
     "Share of members with shifts or EHR rows raising at least burnout_min_flags workload flags "
     "(proxy, never a diagnosis).",
     "Workload risk",
     "Staff with shifts or EHR records in the quarter who raise several of five workload "
     "flags (own overtime, share of long shifts, short rests, after-hours EHR work, sickness; "
     "thresholds and the number of flags, 2 by default, are set in the aggregator's "
     "configuration), over those staff. A proxy, never a diagnosis (note 2).",
     NULL},
    /* ---- load-off: difference in differences of adopters against colleagues ---- */
    {"loadoff_wow8_change", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_UP_BAD, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "Mean change in after-hours EHR time per 8 scheduled hours (s) after AI adoption, against "
     "not-yet-adopted colleagues of the same department and role (difference in differences).",
     NULL, NULL, NULL},
    {"loadoff_wow8_change_stderr", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, KPI_SUPPRESS_FOLLOW, false, "as loadoff_wow8_change",
     "Standard error of loadoff_wow8_change (the square root of its numerator over its "
     "denominator).",
     NULL, NULL, "loadoff_wow8_change"},
    {"loadoff_wow8_pretrend", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "The same estimator over the two periods before adoption: near 0 when adopters and their "
     "controls were comparable.",
     NULL, NULL, NULL},
    {"loadoff_ehr_time8_change", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_UP_BAD, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "Mean change in EHR time per 8 scheduled hours (s) after AI adoption, against not-yet-adopted "
     "colleagues of the same department and role (difference in differences).",
     NULL, NULL, NULL},
    {"loadoff_ehr_time8_change_stderr", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, KPI_SUPPRESS_FOLLOW, false, "as loadoff_ehr_time8_change",
     "Standard error of loadoff_ehr_time8_change (the square root of its numerator over its "
     "denominator).",
     NULL, NULL, "loadoff_ehr_time8_change"},
    {"loadoff_ehr_time8_pretrend", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, CELLS, false, "min(adopters, distinct controls used)",
     "The same estimator over the two periods before adoption: near 0 when adopters and their "
     "controls were comparable.",
     NULL, NULL, NULL},
    {"loadoff_inbox_time8_change", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_UP_BAD, STD | TOOL,
     w_loadoff, CELLS, false, "min(adopters, distinct controls used)",
     "Mean change in inbox time per 8 scheduled hours (s) after AI adoption, against "
     "not-yet-adopted colleagues of the same department and role (difference in differences).",
     NULL, NULL, NULL},
    {"loadoff_inbox_time8_change_stderr", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, KPI_SUPPRESS_FOLLOW, false, "as loadoff_inbox_time8_change",
     "Standard error of loadoff_inbox_time8_change (the square root of its numerator over its "
     "denominator).",
     NULL, NULL, "loadoff_inbox_time8_change"},
    {"loadoff_inbox_time8_pretrend", KPI_FAM_LOAD, KPI_UNIT_SECONDS, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, CELLS, false, "min(adopters, distinct controls used)",
     "The same estimator over the two periods before adoption: near 0 when adopters and their "
     "controls were comparable.",
     NULL, NULL, NULL},
    {"loadoff_overtime_change", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_UP_BAD, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "Mean change in overtime over contracted hours after AI adoption, against not-yet-adopted "
     "colleagues of the same department and role (difference in differences).",
     NULL, NULL, NULL},
    {"loadoff_overtime_change_stderr", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, KPI_SUPPRESS_FOLLOW, false, "as loadoff_overtime_change",
     "Standard error of loadoff_overtime_change (the square root of its numerator over its "
     "denominator).",
     NULL, NULL, "loadoff_overtime_change"},
    {"loadoff_overtime_pretrend", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_NEUTRAL, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "The same estimator over the two periods before adoption: near 0 when adopters and their "
     "controls were comparable.",
     NULL, NULL, NULL},
    {"loadoff_sickness_change", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_UP_BAD, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "Mean change in sick hours over contracted hours after AI adoption, against not-yet-adopted "
     "colleagues of the same department and role (difference in differences).",
     NULL, NULL, NULL},
    {"loadoff_sickness_change_stderr", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_NEUTRAL, STD | TOOL,
     w_loadoff, KPI_SUPPRESS_FOLLOW, false, "as loadoff_sickness_change",
     "Standard error of loadoff_sickness_change (the square root of its numerator over its "
     "denominator).",
     NULL, NULL, "loadoff_sickness_change"},
    {"loadoff_sickness_pretrend", KPI_FAM_LOAD, KPI_UNIT_RATIO, KPI_NEUTRAL, STD | TOOL, w_loadoff,
     CELLS, false, "min(adopters, distinct controls used)",
     "The same estimator over the two periods before adoption: near 0 when adopters and their "
     "controls were comparable.",
     NULL, NULL, NULL},
    /* ---- retention and hybrid roles ---- */
    {"retention_ratio", RETENTION, KPI_UP_GOOD, STD, w_retention, CELLS, true,
     "headcount on the first day",
     "Share of the headcount on the window's first day employed on every day of it.",
     "Staff retention",
     "Staff employed on the quarter's first day who stayed employed every day of it, over "
     "the first day's headcount.",
     NULL},
    {"leaver_ratio", RETENTION, KPI_UP_BAD, STD, w_retention, CELLS, true,
     "mean of the first and last day headcounts, rounded down",
     "Leaving episodes in the window over the mean of the first and last day headcounts.",
     "Leavers",
     "Employment episodes ending in the quarter (voluntary, involuntary, retirement or "
     "other), over the mean of the first and last days' headcounts.",
     NULL},
    {"voluntary_leaver_ratio", RETENTION, KPI_UP_BAD, STD, w_retention, CELLS, true,
     "mean of the first and last day headcounts, rounded down",
     "Voluntary leaving episodes in the window over the mean headcount.", "Voluntary leavers",
     "The same, voluntary endings only.", NULL},
    {"hybrid_role_retention_ratio", RETENTION, KPI_UP_GOOD, ORG | HYBRID, w_retention, CELLS, true,
     "first-day holders (cohort)",
     "Holders of a hybrid role on the first day holding it every day of the window.",
     "Hybrid-role retention",
     "Staff holding a hybrid role (clinical translator, model governance lead, data "
     "strategist, ethics steward, AI champion) on the quarter's first day who held one every "
     "day of it, over those holders.",
     NULL},
    {"hybrid_role_org_retention_ratio", RETENTION, KPI_UP_GOOD, ORG | HYBRID, w_retention, CELLS,
     true, "first-day holders (cohort)",
     "Holders of a hybrid role on the first day employed every day of the window.",
     "Hybrid-role staff kept",
     "The same first-day holders who stayed employed every day, in any role, over those "
     "holders.",
     NULL},
    {"hybrid_role_leaver_ratio", RETENTION, KPI_UP_BAD, ORG | HYBRID, w_retention, CELLS, true,
     "mean of the first and last day holders, rounded down",
     "Exits from a hybrid role in the window over its mean number of holders.", "Hybrid-role exits",
     "Exits from hybrid roles in the quarter (the next day the person is not employed or "
     "holds no hybrid role), over the mean number of holders on the first and last days.",
     NULL},
    /* ---- literacy and champions ---- */
    {"ai_literacy_ratio", KPI_FAM_LITERACY, KPI_UNIT_RATIO, KPI_UP_GOOD, STD, w_literacy, CELLS,
     true, "headcount on the last day",
     "Share of the last day's headcount with an AI-literacy course completed.", "AI literacy",
     "Staff employed on the quarter's last day who had completed an AI-literacy course by "
     "then, over that day's headcount.",
     NULL},
    {"ai_champion_coverage_ratio", KPI_FAM_LITERACY, KPI_UNIT_RATIO, KPI_UP_GOOD, ORG, w_literacy,
     KPI_SUPPRESS_NEVER, false, "not suppressed (counts departments)",
     "Share of departments with an ai_champion on the window's last day.", "AI champion coverage",
     "Departments with an AI champion on the quarter's last day, over departments with "
     "staff that day. Counts departments, not people, so it is never suppressed.",
     NULL},
};
#define NCAT (sizeof catalogue / sizeof *catalogue)

static const char *const by_names[KPI_BY_COUNT] = {
    "org", "site", "department", "role", "tool", "hybrid_role", "adoption_cohort",
};

static const char *const family_titles[KPI_FAM_COUNT] = {
    "Adoption",
    "Hybrid roles &amp; retention",
    "Workforce load (burnout proxies)",
    "AI literacy &amp; champions",
};

const struct kpi_def *kpi_catalogue(size_t *n)
{
    *n = NCAT;
    return catalogue;
}

const struct kpi_def *kpi_catalogue_find(const char *name)
{
    for (size_t i = 0; i < NCAT; i++)
        if (strcmp(catalogue[i].name, name) == 0)
            return &catalogue[i];
    return NULL;
}

const char *kpi_by_name(enum kpi_by by)
{
    return (unsigned)by < KPI_BY_COUNT ? by_names[by] : NULL;
}

int kpi_by_parse(const char *name)
{
    for (int b = 0; b < KPI_BY_COUNT; b++)
        if (strcmp(by_names[b], name) == 0)
            return b;
    return -1;
}

const char *kpi_family_title(enum kpi_family f)
{
    return (unsigned)f < KPI_FAM_COUNT ? family_titles[f] : NULL;
}

bool kpi_def_has_window(const struct kpi_def *def, const char *w)
{
    for (const char *const *p = def->windows; p && *p; p++)
        if (strcmp(*p, w) == 0)
            return true;
    return false;
}

void kpi_catalogue_tsv(struct sbuf *b)
{
    static const char *const fam[KPI_FAM_COUNT] = {"adoption", "retention", "load", "literacy"};
    static const char *const pol[] = {"neutral", "up_good", "up_bad"};
    static const char *const unit[] = {"ratio", "seconds", "z"};
    static const char *const sup[] = {"cells", "never", "follows"};
    sbuf_adds(b, "kpi\tfamily\tunit\tpolarity\tby\tmetrics_windows\tsuppression\tadditive\t"
                 "persons\thelp\n");
    for (size_t i = 0; i < NCAT; i++) {
        const struct kpi_def *d = &catalogue[i];
        sbuf_printf(b, "%s\t%s\t%s\t%s\t", d->name, fam[d->family], unit[d->unit],
                    pol[d->polarity]);
        const char *sep = "";
        for (int by = 0; by < KPI_BY_COUNT; by++)
            if (d->by & KPI_BY_BIT(by)) {
                sbuf_printf(b, "%s%s", sep, by_names[by]);
                sep = ",";
            }
        sbuf_adds(b, "\t");
        for (const char *const *w = d->windows; *w; w++)
            sbuf_printf(b, "%s%s", w == d->windows ? "" : ",", *w);
        sbuf_printf(b, "\t%s%s%s\t%s\t%s\t%s\n", sup[d->suppression], d->follows ? " " : "",
                    d->follows ? d->follows : "", d->additive ? "yes" : "no", d->persons, d->help);
    }
}
