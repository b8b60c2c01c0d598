/* emit.c - export files per site: headers, row formats, distinct-key tallies, summary.txt. */
#include "tools/gen/emit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/timeutil.h"

const char *const bad_reason_names[BAD_COUNT] = {"malformed", "missing_field", "invalid_value"};

static const char *const file_names[NTYPES] = {
    [REC_USAGE] = "usage.jsonl",    [REC_STAFFING] = "staffing.csv",
    [REC_SHIFTS] = "shifts.csv",    [REC_ABSENCES] = "absences.csv",
    [REC_EHR] = "ehr.csv",          [REC_TRAINING] = "training.csv",
    [REC_LICENCE] = "licences.csv",
};

/* Headers: non-canonical orders, odd spacing and case, unknown columns, a BOM, CRLF. */
static const char *const headers[NTYPES] = {
    [REC_USAGE] = "",
    [REC_STAFFING] = "employee_name,Staff_ID,department,role,start_date,end_date,end_reason,"
                     "site, Hybrid_Role ,FTE\r\n",
    [REC_SHIFTS] = "staff_id,start,end,overtime_hours\n",
    [REC_ABSENCES] = "\"date\",\"staff_id\",\"hours\",\"kind\",\"note\"\n",
    [REC_EHR] = "staff_id,date,scheduled_patient_hours,ehr_minutes,outside_scheduled_minutes,"
                "inbox_minutes\n",
    [REC_TRAINING] = "\xef\xbb\xbf"
                     "course,completed_date,staff_id,score\n",
    [REC_LICENCE] = "tool,Staff_ID, Assigned_Date ,removed_date,assigned_by\n",
};

/* mkdir -p: creates path and any missing parents. */
static int make_dir(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) && errno != EEXIST)
            return -errno;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st))
        return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int emit_open(struct emit *e, const struct world *w, const char *dir, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->w = w;
    for (int s = 0; s < MAX_SITES; s++)
        for (int t = 0; t < NTYPES; t++)
            e->file[s][t].fd = -1;
    keyset_init(&e->keys);
    char path[4096];
    int rc = make_dir(dir);
    if (rc) {
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return rc;
    }
    for (int s = 0; s < w->nsites; s++) {
        snprintf(path, sizeof path, "%s/%s", dir, w->site[s].name);
        if ((rc = make_dir(path))) {
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
            return rc;
        }
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, w->site[s].name, file_names[t]);
            size_t cap = t == REC_USAGE ? 1u << 21 : 1u << 19;
            if ((rc = out_open(&e->file[s][t], path, cap))) {
                snprintf(err, errlen, "%s: %s", path, strerror(-rc));
                return rc;
            }
            out_put(&e->file[s][t], headers[t], strlen(headers[t]));
        }
    }
    return 0;
}

int emit_close(struct emit *e, const char *dir, char *err, size_t errlen)
{
    int first = 0;
    for (int s = 0; s < MAX_SITES; s++) {
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
            int rc = out_close(&e->file[s][t]);
            if (rc && !first) {
                first = rc;
                snprintf(err, errlen, "%s/%s/%s: %s", dir, e->w->site[s].name, file_names[t],
                         strerror(-rc));
            }
        }
    }
    keyset_free(&e->keys);
    return first;
}

static void count_key(struct emit *e, int site, int type, uint32_t who, uint64_t detail,
                      int matched)
{
    struct tally *t = &e->tally[site][type];
    t->rows++;
    uint64_t a = (uint64_t)type << 56 | (uint64_t)site << 48 | who;
    if (keyset_add(&e->keys, a, detail)) {
        t->keys++;
        t->unmatched += !matched;
    }
}

void emit_count_staffing(struct emit *e, int site, uint32_t who, int32_t start)
{
    count_key(e, site, REC_STAFFING, who, (uint32_t)start, 1);
}

void emit_bad(struct emit *e, int site, int type, int reason, const char *row, size_t len)
{
    out_put(&e->file[site][type], row, len);
    e->tally[site][type].rows++;
    e->tally[site][type].bad[reason]++;
}

void emit_blank(struct emit *e, int site, int type)
{
    out_put(&e->file[site][type], type == REC_STAFFING ? "\r\n" : "\n",
            type == REC_STAFFING ? 2 : 1);
}

void emit_shift(struct emit *e, int site, uint32_t who, const char *id, size_t idlen,
                int64_t start_us, int start_off, int64_t end_us, int end_off, int zulu,
                int overtime_cents, int matched)
{
    struct out *o = &e->file[site][REC_SHIFTS];
    char *p = out_room(o);
    int32_t day;
    p = fmt_csv(p, id, idlen, 0);
    *p++ = ',';
    p = fmt_ts(p, start_us, start_off, zulu ? 3 : 0, zulu, &day);
    *p++ = ',';
    p = fmt_ts(p, end_us, end_off, zulu ? 3 : 0, zulu, &day);
    *p++ = ',';
    if (overtime_cents >= 0)
        p = fmt_dec(p, overtime_cents, 2);
    *p++ = '\n';
    out_commit(o, p);
    count_key(e, site, REC_SHIFTS, who, (uint64_t)start_us, matched);
}

void emit_absence(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int32_t day,
                  int kind, const char *kind_text, int hours_tenths, const char *note, int matched)
{
    struct out *o = &e->file[site][REC_ABSENCES];
    char *p = out_room(o);
    *p++ = '"';
    p = fmt_date(p, day);
    *p++ = '"';
    *p++ = ',';
    p = fmt_csv(p, id, idlen, 1);
    p = fmt_str(p, ",\"");
    p = fmt_dec(p, hours_tenths, 1);
    p = fmt_str(p, "\",");
    p = fmt_csv(p, kind_text, strlen(kind_text), 1);
    *p++ = ',';
    p = fmt_csv(p, note, strlen(note), 1);
    *p++ = '\n';
    out_commit(o, p);
    count_key(e, site, REC_ABSENCES, who, (uint64_t)(uint32_t)day << 8 | (unsigned)kind, matched);
}

void emit_ehr(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int32_t day,
              int sched_tenths, int ehr_tenths, int outside_tenths, int inbox_tenths, int matched)
{
    struct out *o = &e->file[site][REC_EHR];
    char *p = out_room(o);
    p = fmt_csv(p, id, idlen, 0);
    *p++ = ',';
    p = fmt_date(p, day);
    *p++ = ',';
    p = fmt_dec(p, sched_tenths, 1);
    *p++ = ',';
    p = fmt_dec(p, ehr_tenths, 1);
    *p++ = ',';
    p = fmt_dec(p, outside_tenths, 1);
    *p++ = ',';
    p = fmt_dec(p, inbox_tenths, 1);
    *p++ = '\n';
    out_commit(o, p);
    count_key(e, site, REC_EHR, who, (uint32_t)day, matched);
}

void emit_training(struct emit *e, int site, uint32_t who, const char *id, size_t idlen, int course,
                   const char *course_text, int32_t day, int score, int matched)
{
    struct out *o = &e->file[site][REC_TRAINING];
    char *p = out_room(o);
    p = fmt_csv(p, course_text, strlen(course_text), 0);
    *p++ = ',';
    p = fmt_date(p, day);
    *p++ = ',';
    p = fmt_csv(p, id, idlen, 0);
    *p++ = ',';
    if (score >= 0)
        p = fmt_u64(p, (uint64_t)score);
    *p++ = '\n';
    out_commit(o, p);
    count_key(e, site, REC_TRAINING, who, (uint64_t)(uint32_t)day << 8 | (unsigned)course, matched);
}

void emit_licence(struct emit *e, int site, uint32_t who, const char *id, size_t idlen,
                  const char *tool, int tool_id, int32_t assigned, int32_t removed, const char *by,
                  int matched)
{
    struct out *o = &e->file[site][REC_LICENCE];
    char *p = out_room(o);
    p = fmt_csv(p, tool, strlen(tool), 0);
    *p++ = ',';
    p = fmt_csv(p, id, idlen, 0);
    *p++ = ',';
    p = fmt_date(p, assigned);
    *p++ = ',';
    if (removed != DAY_NONE)
        p = fmt_date(p, removed);
    *p++ = ',';
    p = fmt_csv(p, by, strlen(by), 0);
    *p++ = '\n';
    out_commit(o, p);
    count_key(e, site, REC_LICENCE, who, (uint64_t)(uint32_t)assigned << 8 | (unsigned)tool_id,
              matched);
}

void emit_usage(struct emit *e, int site, const char *line, size_t len, int matched)
{
    struct out *o = &e->file[site][REC_USAGE];
    char *p = out_room(o);
    p = fmt_mem(p, line, len);
    *p++ = '\n';
    out_commit(o, p);
    struct tally *t = &e->tally[site][REC_USAGE];
    t->rows++;
    t->keys++; /* each line is its own key */
    t->unmatched += !matched;
}

static void put_line(FILE *f, const char *site, int type, const struct tally *t)
{
    fprintf(f,
            "%s %s rows=%llu valid_keys=%llu malformed=%llu missing_field=%llu "
            "invalid_value=%llu\n",
            site, rec_type_name(type), (unsigned long long)t->rows, (unsigned long long)t->keys,
            (unsigned long long)t->bad[BAD_MALFORMED],
            (unsigned long long)t->bad[BAD_MISSING_FIELD],
            (unsigned long long)t->bad[BAD_INVALID_VALUE]);
}

int emit_summary(const struct emit *e, const char *dir, const char *args)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    const struct world *w = e->w;
    fprintf(f, "# cadre-gen %s\n", args);
    fprintf(f, "# site type rows=N valid_keys=N malformed=N missing_field=N invalid_value=N\n");
    struct tally total[NTYPES];
    memset(total, 0, sizeof total);
    for (int s = 0; s < w->nsites; s++) {
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
            const struct tally *c = &e->tally[s][t];
            put_line(f, w->site[s].name, t, c);
            total[t].rows += c->rows;
            total[t].keys += c->keys;
            total[t].unmatched += c->unmatched;
            for (int b = 0; b < BAD_COUNT; b++)
                total[t].bad[b] += c->bad[b];
        }
    }
    for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++)
        put_line(f, "total", t, &total[t]);
    fprintf(f, "# unmatched valid keys (usage, shifts, absences, ehr: staff not employed on the "
               "record's day; training: staff with no episode; licence: staff employed on none "
               "of its days)\n");
    for (int s = 0; s <= w->nsites; s++) {
        const char *name = s < w->nsites ? w->site[s].name : "total";
        fprintf(f, "# unmatched %s", name);
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
            if (t == REC_STAFFING)
                continue;
            uint64_t n = s < w->nsites ? e->tally[s][t].unmatched : total[t].unmatched;
            fprintf(f, " %s=%llu", rec_type_name(t), (unsigned long long)n);
        }
        fputc('\n', f);
    }
    int rc = ferror(f) ? -EIO : 0;
    if (fclose(f) && !rc)
        rc = -errno;
    return rc;
}
