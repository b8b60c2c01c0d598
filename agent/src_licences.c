/* src_licences.c - licences_csv: AI-tool licences (seats), keyed by (staff, tool,
 * assigned_date); removed_date empty while still assigned. */
#include "agent/src_csv.h"
#include "common/strutil.h"

enum { C_STAFF, C_TOOL, C_ASSIGNED, C_REMOVED, NCOLS };

static const struct csv_col cols[NCOLS] = {
    {"staff_id", CSV_TEXT},
    {"tool", CSV_TEXT},
    {"assigned_date", CSV_DATE},
    {"removed_date", CSV_DATE},
};

static bool build(struct csv_fields *f, struct pseudonym_cache *p, struct csv_out *o)
{
    Cadre__Licence *l = &o->body.licence;
    cadre__licence__init(l);
    const char *tool;
    int32_t assigned, removed;
    bool has_removed;
    if (!csvf_staff(f, C_STAFF, p, o->staff) || !csvf_label(f, C_TOOL, NULL, 64, &tool) ||
        !csvf_date(f, C_ASSIGNED, NULL, &assigned) ||
        !csvf_date(f, C_REMOVED, &has_removed, &removed))
        return false;
    /* As in usage: 1-64 characters of [a-z0-9._-]. */
    if (!str_is_ident(tool, f->len[C_TOOL]))
        return csvf_fail(f, C_TOOL, SRC_INVALID_VALUE);
    if (has_removed && removed < assigned)
        return csvf_fail(f, C_REMOVED, SRC_INVALID_VALUE);
    l->staff.data = o->staff;
    l->staff.len = STAFF_KEY_LEN;
    l->tool = (char *)tool;
    l->assigned_day = assigned;
    l->has_removed_day = has_removed;
    l->removed_day = has_removed ? removed : 0;
    o->rec.body_case = CADRE__RECORD__BODY_LICENCE;
    o->rec.licence = l;
    csv_out_key(o, reckey_licence(o->key, o->staff, tool, f->len[C_TOOL], assigned));
    return true;
}

static const struct csv_type licences = {REC_LICENCE, cols, NCOLS, build};

static int init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    return src_csv_init(ctx, &licences, o, env);
}

const struct source_type source_licences_csv = {
    .name = "licences_csv",
    .init = init,
    .poll = src_csv_poll,
    .fini = src_csv_fini,
    .config = src_csv_config,
    .csv = &licences,
};
