/* src_training.c - training_csv: course completions, keyed by (staff, date, course). */
#include "agent/src_csv.h"

enum { C_STAFF, C_COURSE, C_DATE, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT},
    {"course", CSV_TEXT},
    {"completed_date", CSV_DATE},
};

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Training *t = &o->body.training;
    cadre__training__init(t);
    const char *course;
    int32_t day;
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_label(f, C_COURSE, NULL, 128, &course) ||
        !csvf_date(f, C_DATE, NULL, &day))
        return false;
    t->staff.data = o->staff;
    t->staff.len = STAFF_KEY_LEN;
    t->course = (char *)course;
    t->day = day;
    o->rec.body_case = CADRE__RECORD__BODY_TRAINING;
    o->rec.training = t;
    csv_out_key(o, reckey_training(o->key, o->staff, day, course, f->len[C_COURSE]));
    return true;
}

static const struct csv_type training = {REC_TRAINING, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &training, o, env);
}

const struct source_type source_training_csv = {
    .name = "training_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &training,
};
