/* src_absences.c - absences_csv: hours absent per day and kind, keyed by (staff, date, kind). */
#include "agent/src_csv.h"

#include "common/decimal.h"

enum { C_STAFF, C_DATE, C_HOURS, C_KIND, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT},
    {"date", CSV_DATE},
    {"hours", CSV_NUMBER},
    {"kind", CSV_TEXT},
};

/* In the order of cadre.proto's AbsenceKind (value = index + 1). */
static const char *const kinds[] = {"sick", "pto", "other"};

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Absence *a = &o->body.absence;
    cadre__absence__init(a);
    int32_t day;
    int64_t hours;
    int kind;
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_date(f, C_DATE, NULL, &day) ||
        !csvf_decimal(f, C_HOURS, NULL, &hours, 0, true, 24 * MICRO) ||
        !csvf_enum(f, C_KIND, NULL, kinds, 3, &kind))
        return false;
    a->staff.data = o->staff;
    a->staff.len = STAFF_KEY_LEN;
    a->day = day;
    a->hours_micro = hours;
    a->kind = (Cadre__AbsenceKind)kind;
    o->rec.body_case = CADRE__RECORD__BODY_ABSENCE;
    o->rec.absence = a;
    csv_out_key(o, reckey_absence(o->key, o->staff, day, kind));
    return true;
}

static const struct csv_type absences = {REC_ABSENCES, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &absences, o, env);
}

const struct source_type source_absences_csv = {
    .name = "absences_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &absences,
};
