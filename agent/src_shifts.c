/* src_shifts.c - shifts_csv: worked shifts, keyed by (staff, start instant). */
#include "agent/src_csv.h"

#include "common/timeutil.h"

enum { C_STAFF, C_START, C_END, C_OVERTIME, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT},
    {"start", CSV_INSTANT},
    {"end", CSV_INSTANT},
    {"overtime_hours", CSV_NUMBER},
};

#define MAX_SHIFT (36 * US_PER_HOUR)

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Shift *s = &o->body.shift;
    cadre__shift__init(s);
    int64_t start, end, overtime = 0;
    int32_t day, end_day;
    bool has_ot;
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_instant(f, C_START, &start, &day) ||
        !csvf_instant(f, C_END, &end, &end_day) ||
        !csvf_decimal(f, C_OVERTIME, &has_ot, &overtime, 0, false, INT64_MAX))
        return false;
    if (end <= start || end - start > MAX_SHIFT)
        return csvf_fail(f, C_END, SRC_INVALID_VALUE);
    s->staff.data = o->staff;
    s->staff.len = STAFF_KEY_LEN;
    s->start_us = start;
    s->end_us = end;
    s->day = day;
    s->overtime_micro = overtime;
    o->rec.body_case = CADRE__RECORD__BODY_SHIFT;
    o->rec.shift = s;
    csv_out_key(o, reckey_shift(o->key, o->staff, start));
    return true;
}

static const struct csv_type shifts = {REC_SHIFTS, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &shifts, o, env);
}

const struct source_type source_shifts_csv = {
    .name = "shifts_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &shifts,
};
