/* src_ehr.c - ehr_csv: EHR activity per clinician-day, keyed by (staff, date). */
#include "agent/src_csv.h"

enum { C_STAFF, C_DATE, C_SCHED, C_EHR, C_OUTSIDE, C_INBOX, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT},
    {"date", CSV_DATE},
    {"scheduled_patient_hours", CSV_NUMBER},
    {"ehr_minutes", CSV_MINUTES},
    {"outside_scheduled_minutes", CSV_MINUTES},
    {"inbox_minutes", CSV_MINUTES},
};

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Ehr *e = &o->body.ehr;
    cadre__ehr__init(e);
    int32_t day;
    int64_t v[4];
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_date(f, C_DATE, NULL, &day))
        return false;
    for (int i = 0; i < 4; i++)
        if (!csvf_decimal(f, C_SCHED + i, NULL, &v[i], 0, false, INT64_MAX))
            return false;
    e->staff.data = o->staff;
    e->staff.len = STAFF_KEY_LEN;
    e->day = day;
    e->scheduled_hours_micro = v[0];
    e->ehr_minutes_micro = v[1];
    e->outside_minutes_micro = v[2];
    e->inbox_minutes_micro = v[3];
    o->rec.body_case = CADRE__RECORD__BODY_EHR;
    o->rec.ehr = e;
    csv_out_key(o, reckey_ehr(o->key, o->staff, day));
    return true;
}

static const struct csv_type ehr = {REC_EHR, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &ehr, o, env);
}

const struct source_type source_ehr_csv = {
    .name = "ehr_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &ehr,
};
