/* src_staffing.c - staffing_csv: assignment episodes, keyed by (staff, start_date). */
#include "agent/src_csv.h"

#include "common/decimal.h"

enum { C_STAFF, C_START, C_DEPT, C_ROLE, C_END, C_REASON, C_SITE, C_HYBRID, C_FTE, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT}, {"start_date", CSV_DATE},  {"department", CSV_TEXT},
    {"role", CSV_TEXT},     {"end_date", CSV_DATE},    {"end_reason", CSV_TEXT},
    {"site", CSV_TEXT},     {"hybrid_role", CSV_TEXT}, {"fte", CSV_NUMBER},
};

/* In the order of cadre.proto's EndReason and HybridRole (value = index + 1). */
static const char *const end_reasons[] = {"transfer",    "role_change", "voluntary",
                                          "involuntary", "retirement",  "other"};
static const char *const hybrid_roles[] = {"clinical_translator", "model_governance_lead",
                                           "data_strategist", "ethics_steward", "ai_champion"};

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Staffing *s = &o->body.staffing;
    cadre__staffing__init(s);
    const char *dept, *role, *site = "main";
    bool has_end, has_reason, has_site, has_hybrid, has_fte;
    int32_t start, end = 0;
    int reason, hybrid;
    int64_t fte = MICRO;
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_date(f, C_START, NULL, &start) ||
        !csvf_label(f, C_DEPT, NULL, 64, &dept) || !csvf_label(f, C_ROLE, NULL, 64, &role) ||
        !csvf_date(f, C_END, &has_end, &end) ||
        !csvf_enum(f, C_REASON, &has_reason, end_reasons, 6, &reason) ||
        !csvf_label(f, C_SITE, &has_site, 64, &site) ||
        !csvf_enum(f, C_HYBRID, &has_hybrid, hybrid_roles, 5, &hybrid) ||
        !csvf_decimal(f, C_FTE, &has_fte, &fte, 0, true, 1500000))
        return false;
    if (has_end && !has_reason)
        return csvf_fail(f, C_REASON, SRC_MISSING_FIELD);
    if (has_reason && !has_end)
        return csvf_fail(f, C_REASON, SRC_INVALID_VALUE);
    if (has_end && end < start)
        return csvf_fail(f, C_END, SRC_INVALID_VALUE);
    s->staff.data = o->staff;
    s->staff.len = STAFF_KEY_LEN;
    s->start_day = start;
    if (has_end) {
        s->has_end_day = 1;
        s->end_day = end;
        s->has_end_reason = 1;
        s->end_reason = (Cadre__EndReason)reason;
    }
    s->site = (char *)site;
    s->department = (char *)dept;
    s->role = (char *)role;
    if (hybrid) {
        s->has_hybrid_role = 1;
        s->hybrid_role = (Cadre__HybridRole)hybrid;
    }
    s->fte_micro = fte;
    o->rec.body_case = CADRE__RECORD__BODY_STAFFING;
    o->rec.staffing = s;
    csv_out_key(o, reckey_staffing(o->key, o->staff, start));
    return true;
}

static const struct csv_type staffing = {REC_STAFFING, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &staffing, o, env);
}

const struct source_type source_staffing_csv = {
    .name = "staffing_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &staffing,
};
