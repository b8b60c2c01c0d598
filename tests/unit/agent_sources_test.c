/* agent_sources_test.c - every source type on small files: values, rejections, diffing. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pseudonym.h"
#include "agent/source.h"
#include "cadre.pb-c.h"
#include "common/log.h"
#include "common/reckey.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define ORG_KEY "0123456789abcdef0123456789abcdef"

/* A source instance on a temp folder, with every emitted record captured. */
struct fx {
    char dir[64];
    char ckpt[96];
    struct pseudonym *p;
    const struct source_type *t;
    struct source_opts opts;
    struct source_stats stats;
    struct source_env env;
    void *ctx;
    Cadre__Record **rec;
    size_t nrec, cap;
    int flush_rc;
    int flushes;
};

static int cap_emit(void *ud, const uint8_t *buf, size_t len)
{
    struct fx *f = ud;
    Cadre__Record *r = cadre__record__unpack(NULL, len, buf);
    assert_non_null(r);
    xgrow((void **)&f->rec, &f->cap, f->nrec + 1, sizeof *f->rec);
    f->rec[f->nrec++] = r;
    return 0;
}

static int cap_flush(void *ud)
{
    struct fx *f = ud;
    f->flushes++;
    return f->flush_rc;
}

static void clear_records(struct fx *f)
{
    for (size_t i = 0; i < f->nrec; i++)
        cadre__record__free_unpacked(f->rec[i], NULL);
    f->nrec = 0;
}

static void reset_stats(struct fx *f)
{
    memset(&f->stats, 0, sizeof f->stats);
}

static void path_of(const struct fx *f, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->dir, name);
}

/* Writes a file atomically (a new inode every time, so a rewrite is always seen). */
static void write_file(struct fx *f, const char *name, const char *text)
{
    char path[160], tmp[170];
    path_of(f, name, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(rename(tmp, path), 0);
}

static void append_file(struct fx *f, const char *name, const char *text)
{
    char path[160];
    path_of(f, name, path, sizeof path);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Starts type t on dir/pattern; with_ckpt keeps checkpoints in dir/ckpt. */
static void fx_start(struct fx *f, const struct source_type *t, const char *pattern,
                     bool authoritative, bool with_ckpt)
{
    char path[160];
    path_of(f, pattern, path, sizeof path);
    xfree(f->opts.path);
    f->opts.path = xstrdup(path);
    f->opts.authoritative = authoritative;
    f->t = t;
    f->env = (struct source_env){.name = "src1",
                                 .pseudo = f->p,
                                 .ckpt_dir = with_ckpt ? f->ckpt : NULL,
                                 .fsync = false,
                                 .emit = cap_emit,
                                 .flush = cap_flush,
                                 .ud = f,
                                 .stats = &f->stats};
    assert_int_equal(t->init(&f->ctx, &f->opts, &f->env), 0);
}

static void fx_stop(struct fx *f)
{
    if (f->ctx)
        f->t->fini(f->ctx);
    f->ctx = NULL;
}

static int poll(struct fx *f)
{
    clear_records(f);
    return f->t->poll(f->ctx, &f->env);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-src.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->ckpt, sizeof f->ckpt, "%s/ckpt", f->dir);
    mkdir(f->ckpt, 0700);
    f->p = pseudonym_new(ORG_KEY, 32);
    log_set_level(LOG_ERROR); /* rejections are asserted through the counters */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fx_stop(f);
    clear_records(f);
    xfree(f->rec);
    xfree(f->opts.path);
    pseudonym_free(f->p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    xfree(f);
    return rc;
}

static void staff(const struct fx *f, const char *id, uint8_t out[16])
{
    assert_int_equal(pseudonym_staff_key(f->p, id, strlen(id), out), 0);
}

static int32_t day(const char *s)
{
    int32_t d;
    assert_int_equal(parse_date(s, strlen(s), &d), 0);
    return d;
}

static int64_t instant(const char *s)
{
    int64_t t;
    int32_t d;
    assert_int_equal(parse_rfc3339(s, strlen(s), &t, &d), 0);
    return t;
}

#define REJ(f, r) ((unsigned long long)atomic_load(&(f)->stats.rejected[r]))
#define SHIPPED(f) ((unsigned long long)atomic_load(&(f)->stats.records))

/* The captured record with this staff id (and start day when >= 0); fails when absent. */
static const Cadre__Staffing *find_staffing(struct fx *f, const char *id, int32_t start)
{
    uint8_t k[16];
    staff(f, id, k);
    for (size_t i = 0; i < f->nrec; i++) {
        const Cadre__Staffing *s = f->rec[i]->staffing;
        if (s && memcmp(s->staff.data, k, 16) == 0 && (start < 0 || s->start_day == start))
            return s;
    }
    fail_msg("no staffing record for %s", id);
    return NULL;
}

/* ---- staffing ---- */

static void test_staffing_good_rows(void **state)
{
    struct fx *f = *state;
    /* BOM, CRLF, columns in another order, an unknown column with a comma and a newline
     * in quotes, padded header names in other case, padded and lower/upper-case ids. */
    write_file(f, "staffing.csv",
               "\xEF\xBB\xBFnotes,Staff_ID , FTE,department,role,start_date,end_date,"
               "End_Reason,site,hybrid_role\r\n"
               "\"free, text\nover two lines\", N001 ,0.80,ICU,nurse,2025-01-01,,,north,\r\n"
               "x,n002,,ER,physician,2024-03-01,2026-08-31,Voluntary,,AI_CHAMPION\r\n"
               "y,N003,1.5,\"Intensive, Care\",nurse,2025-01-01,,,main,clinical_translator\r\n");
    fx_start(f, &source_staffing_csv, "staffing.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 3);
    assert_int_equal(SHIPPED(f), 3);
    for (int r = 0; r < SRC_NREASONS; r++)
        assert_int_equal(REJ(f, r), 0);
    assert_int_equal(f->flushes, 1);

    const Cadre__Staffing *s = find_staffing(f, "n001", -1);
    assert_int_equal(s->start_day, day("2025-01-01"));
    assert_false(s->has_end_day);
    assert_int_equal(s->end_reason, CADRE__END_REASON__END_REASON_NONE);
    assert_string_equal(s->site, "north");
    assert_string_equal(s->department, "ICU");
    assert_string_equal(s->role, "nurse");
    assert_int_equal(s->hybrid_role, CADRE__HYBRID_ROLE__HYBRID_ROLE_NONE);
    assert_int_equal(s->fte_micro, 800000);

    s = find_staffing(f, "N002", -1);
    assert_true(s->has_end_day);
    assert_int_equal(s->end_day, day("2026-08-31"));
    assert_int_equal(s->end_reason, CADRE__END_REASON__END_REASON_VOLUNTARY);
    assert_string_equal(s->site, "main"); /* the default */
    assert_int_equal(s->hybrid_role, CADRE__HYBRID_ROLE__HYBRID_ROLE_AI_CHAMPION);
    assert_int_equal(s->fte_micro, 1000000); /* the default */

    s = find_staffing(f, "n003", -1);
    assert_string_equal(s->department, "Intensive, Care");
    assert_int_equal(s->fte_micro, 1500000);
    assert_int_equal(s->hybrid_role, CADRE__HYBRID_ROLE__HYBRID_ROLE_CLINICAL_TRANSLATOR);

    /* The record key is (staff, start_date) in the encoding of reckey.h. */
    uint8_t k[16], want[RECKEY_MAX];
    staff(f, "n003", k);
    size_t wl = reckey_staffing(want, k, day("2025-01-01"));
    bool found = false;
    for (size_t i = 0; i < f->nrec; i++)
        found |= f->rec[i]->key.len == wl && memcmp(f->rec[i]->key.data, want, wl) == 0;
    assert_true(found);
    for (size_t i = 0; i < f->nrec; i++)
        assert_int_equal(f->rec[i]->type, CADRE__RECORD_TYPE__RECORD_TYPE_STAFFING);
}

static void test_staffing_bad_rows(void **state)
{
    struct fx *f = *state;
    write_file(f, "staffing.csv",
               "staff_id,start_date,department,role,end_date,end_reason,site,hybrid_role,fte\n"
               "N001,2025-01-01,ICU,nurse,,,,,1\n"               /* good */
               "N002,2025-01-01,ICU,nurse,,voluntary,,,\n"       /* reason, no end: invalid */
               "N003,2025-01-01,ICU,nurse,2025-06-01,,,,\n"      /* end, no reason: missing */
               "N004,2025-06-01,ICU,nurse,2025-05-31,other,,,\n" /* end before start: invalid */
               "N005,2025-06-01,ICU,nurse,2025-06-01,other,,,\n" /* end on start: good */
               "N006,2025-01-01,ICU,nurse,,,,,0\n"               /* fte 0: invalid */
               "N007,2025-01-01,ICU,nurse,,,,,1.500001\n"        /* fte > 1.5: invalid */
               "N008,2025-01-01,ICU,nurse,,,,,-1\n"              /* invalid */
               "N009,2025-13-01,ICU,nurse,,,,,\n"                /* month 13: invalid */
               "N010,2025-01-01,,nurse,,,,,\n"                   /* missing_field */
               "   ,2025-01-01,ICU,nurse,,,,,\n"                 /* blank id: missing */
               "N011,2025-01-01,ICU\n"                           /* malformed */
               "N012,2025-01-01,ICU,nurse,,,,,1,extra\n"         /* malformed */
               "N013,2025-01-01,ICU,nurse,,,,ai_evangelist,\n"   /* invalid */
               "N014,2025-01-01,ICU,nurse,,resigned,,,\n"        /* invalid */
               "N015,2025-01-01,ICU,nu\x01rse,,,,,\n"            /* control char: invalid */
               "\n"                                              /* blank: skipped */
               "N016,31/01/2025,ICU,nurse,,,,,\n");              /* invalid */
    fx_start(f, &source_staffing_csv, "staffing.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    find_staffing(f, "N001", -1);
    const Cadre__Staffing *s = find_staffing(f, "N005", -1);
    assert_int_equal(s->end_day, s->start_day);
    assert_int_equal(REJ(f, SRC_MALFORMED), 2);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 3);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 10);
}

static void test_staffing_missing_column(void **state)
{
    struct fx *f = *state;
    /* No role column at all: every row misses a required field. */
    write_file(f, "staffing.csv",
               "staff_id,start_date,department\nN1,2025-01-01,ICU\n"
               "N2,2025-01-01,ICU\n");
    fx_start(f, &source_staffing_csv, "staffing.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 2);
}

static void test_later_duplicate_wins(void **state)
{
    struct fx *f = *state;
    write_file(f, "staffing.csv",
               "staff_id,start_date,department,role\n"
               "N001,2025-01-01,ICU,nurse\n"
               "N002,2025-01-01,ER,nurse\n"
               " n001 ,2025-01-01,ER,physician\n"); /* same key as the first row */
    fx_start(f, &source_staffing_csv, "staffing.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    const Cadre__Staffing *s = find_staffing(f, "N001", -1);
    assert_string_equal(s->department, "ER");
    assert_string_equal(s->role, "physician");
}

/* Only changed rows are shipped again; a missing row is kept unless authoritative. */
static void test_snapshot_diff(void **state)
{
    struct fx *f = *state;
    const char *head = "staff_id,start_date,department,role,end_date,end_reason\n";
    char buf[512];
    snprintf(buf, sizeof buf,
             "%sA1,2025-01-01,ICU,nurse,,\nA2,2025-01-01,ICU,nurse,,\n"
             "A3,2025-01-01,ICU,nurse,,\n",
             head);
    write_file(f, "staff-1.csv", buf);
    fx_start(f, &source_staffing_csv, "staff-*.csv", false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 3);
    /* Unchanged file: not even read again. */
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(f->flushes, 1);
    /* A newer export (the glob's newest file): A1 ends, A3 is gone, A4 is new. */
    snprintf(buf, sizeof buf,
             "%sA1,2025-01-01,ICU,nurse,2026-01-31,transfer\n"
             "A2,2025-01-01,ICU,nurse,,\nA4,2025-02-01,ER,nurse,,\n",
             head);
    write_file(f, "staff-2.csv", buf);
    struct timespec later[2] = {{.tv_sec = time(NULL) + 10}, {.tv_sec = time(NULL) + 10}};
    char p2[160];
    path_of(f, "staff-2.csv", p2, sizeof p2);
    assert_int_equal(utimensat(AT_FDCWD, p2, later, 0), 0);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2); /* A1 changed, A4 new; no tombstone for A3 */
    assert_true(find_staffing(f, "A1", -1)->has_end_day);
    find_staffing(f, "A4", -1);
    /* A restarted source reads its checkpoint: nothing is shipped twice. */
    fx_stop(f);
    fx_start(f, &source_staffing_csv, "staff-*.csv", false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    /* A3 comes back unchanged in a rewrite of the newest file: it was never deleted, so
     * it is not shipped again either. */
    snprintf(buf, sizeof buf,
             "%sA1,2025-01-01,ICU,nurse,2026-01-31,transfer\n"
             "A2,2025-01-01,ICU,nurse,,\nA3,2025-01-01,ICU,nurse,,\n",
             head);
    write_file(f, "staff-2.csv", buf);
    assert_int_equal(utimensat(AT_FDCWD, p2, later, 0), 0);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
}

static void test_authoritative_tombstone(void **state)
{
    struct fx *f = *state;
    write_file(f, "s.csv",
               "staff_id,start_date,department,role\n"
               "A1,2025-01-01,ICU,nurse\nA2,2025-01-01,ICU,nurse\n");
    fx_start(f, &source_staffing_csv, "s.csv", true, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    /* HR corrects A2's start_date: the old key is deleted, the new one shipped. */
    write_file(f, "s.csv",
               "staff_id,start_date,department,role\n"
               "A1,2025-01-01,ICU,nurse\nA2,2025-01-15,ICU,nurse\n");
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    uint8_t k[16], old[RECKEY_MAX];
    staff(f, "a2", k);
    size_t ol = reckey_staffing(old, k, day("2025-01-01"));
    int tombstones = 0, bodies = 0;
    for (size_t i = 0; i < f->nrec; i++) {
        if (f->rec[i]->body_case == CADRE__RECORD__BODY__NOT_SET) {
            tombstones++;
            assert_int_equal(f->rec[i]->type, CADRE__RECORD_TYPE__RECORD_TYPE_STAFFING);
            assert_int_equal(f->rec[i]->key.len, ol);
            assert_memory_equal(f->rec[i]->key.data, old, ol);
        } else {
            bodies++;
            assert_int_equal(f->rec[i]->staffing->start_day, day("2025-01-15"));
        }
    }
    assert_int_equal(tombstones, 1);
    assert_int_equal(bodies, 1);
    /* The deletion is remembered: the next snapshot does not ship it again. */
    write_file(f, "s.csv",
               "staff_id,start_date,department,role\n"
               "A1,2025-01-01,ICU,nurse\nA2,2025-01-15,ICU,nurse\n");
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
}

/* When the records cannot be spooled the checkpoint stays, so they come again. */
static void test_flush_failure_keeps_checkpoint(void **state)
{
    struct fx *f = *state;
    write_file(f, "s.csv", "staff_id,start_date,department,role\nA1,2025-01-01,ICU,nurse\n");
    fx_start(f, &source_staffing_csv, "s.csv", false, true);
    f->flush_rc = -ENOSPC;
    assert_int_equal(poll(f), -ENOSPC);
    assert_int_equal(f->nrec, 1);
    f->flush_rc = 0;
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
}

/* ---- shifts ---- */

static void test_shifts(void **state)
{
    struct fx *f = *state;
    write_file(f, "shifts.csv",
               "overtime_hours,end,start,staff_id\n"
               "1.5,2026-09-10T19:00:00Z,2026-09-10T07:00:00Z,S1\n"
               ",2026-09-11T07:30:00-05:00,2026-09-10T19:00:00-05:00,S2\n" /* day of start */
               "0,2026-09-13T19:00:00Z,2026-09-12T07:00:00Z,S3\n"          /* 36 h: good */
               "0,2026-09-13T19:00:01Z,2026-09-12T07:00:00Z,S4\n"          /* > 36 h */
               "0,2026-09-12T07:00:00Z,2026-09-12T07:00:00Z,S5\n"          /* zero */
               "0,2026-09-12T06:00:00Z,2026-09-12T07:00:00Z,S6\n"          /* negative */
               "-1,2026-09-12T08:00:00Z,2026-09-12T07:00:00Z,S7\n"         /* overtime < 0 */
               "0,2026-09-12T08:00:00Z,not-a-time,S8\n"
               "0,2026-09-12T08:00:00Z,,S9\n"
               "0,2026-09-12T08:00:00.5+01:00,2026-09-12T07:00:00.25+01:00,S10\n");
    fx_start(f, &source_shifts_csv, "shifts.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 4);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 5);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 1);
    uint8_t k[16];
    for (size_t i = 0; i < f->nrec; i++) {
        const Cadre__Shift *s = f->rec[i]->shift;
        assert_non_null(s);
        staff(f, "s2", k);
        if (memcmp(s->staff.data, k, 16) == 0) {
            assert_int_equal(s->start_us, instant("2026-09-11T00:00:00Z"));
            assert_int_equal(s->end_us, instant("2026-09-11T12:30:00Z"));
            assert_int_equal(s->day, day("2026-09-10"));
            assert_int_equal(s->overtime_micro, 0);
        }
        staff(f, "s1", k);
        if (memcmp(s->staff.data, k, 16) == 0)
            assert_int_equal(s->overtime_micro, 1500000);
        staff(f, "s10", k);
        if (memcmp(s->staff.data, k, 16) == 0) {
            assert_int_equal(s->start_us, instant("2026-09-12T06:00:00.25Z"));
            assert_int_equal(s->end_us - s->start_us, 3600 * US_PER_SEC + 250000);
            uint8_t want[RECKEY_MAX];
            size_t wl = reckey_shift(want, k, s->start_us);
            assert_int_equal(f->rec[i]->key.len, wl);
            assert_memory_equal(f->rec[i]->key.data, want, wl);
        }
    }
}

/* ---- absences ---- */

static void test_absences(void **state)
{
    struct fx *f = *state;
    write_file(f, "abs.csv",
               "\"date\",\"staff_id\",\"hours\",\"kind\",\"note\"\n"
               "\"2026-09-15\",\"N1\",\"8\",\"sick\",\"a, \"\"b\"\"\"\n"
               "2026-09-15,N1,4,PTO,\n" /* same day, other kind: another key */
               "2026-09-16,N1,24,Other,\n"
               "2026-09-16,N2,0,sick,\n"
               "2026-09-16,N3,24.000001,sick,\n"
               "2026-09-16,N4,-4,sick,\n"
               "2026-09-16,N5,8,holiday,\n"
               "2026-09-16,N6,8,,\n"
               "2026-09-15,N1,6,SICK,\n"); /* restates the first row: later wins */
    fx_start(f, &source_absences_csv, "abs.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 3);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 4);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 1);
    int seen = 0;
    for (size_t i = 0; i < f->nrec; i++) {
        const Cadre__Absence *a = f->rec[i]->absence;
        if (a->kind == CADRE__ABSENCE_KIND__ABSENCE_KIND_SICK) {
            assert_int_equal(a->hours_micro, 6000000);
            assert_int_equal(a->day, day("2026-09-15"));
            seen |= 1;
        } else if (a->kind == CADRE__ABSENCE_KIND__ABSENCE_KIND_PTO) {
            assert_int_equal(a->hours_micro, 4000000);
            seen |= 2;
        } else {
            assert_int_equal(a->kind, CADRE__ABSENCE_KIND__ABSENCE_KIND_OTHER);
            assert_int_equal(a->hours_micro, 24000000);
            seen |= 4;
        }
    }
    assert_int_equal(seen, 7);
}

/* ---- ehr ---- */

static void test_ehr(void **state)
{
    struct fx *f = *state;
    write_file(f, "ehr.csv",
               "staff_id,date,scheduled_patient_hours,ehr_minutes,outside_scheduled_minutes,"
               "inbox_minutes\n"
               "N5,2026-09-14,8,95.5,30,12.0000005\n"
               "N5,2026-09-15,0,0,0,0\n"
               "N6,2026-09-15,8,100,40,\n"
               "N7,2026-09-15,8,-1,40,1\n"
               "N8,2026-09-15,8,1e2,40,1\n"
               "N9,2026-09-15,8,abc,40,1\n");
    fx_start(f, &source_ehr_csv, "ehr.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 3);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 1);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 2);
    uint8_t k[16];
    staff(f, "n5", k);
    bool found = false;
    for (size_t i = 0; i < f->nrec; i++) {
        const Cadre__Ehr *e = f->rec[i]->ehr;
        if (memcmp(e->staff.data, k, 16) == 0 && e->day == day("2026-09-14")) {
            assert_int_equal(e->scheduled_hours_micro, 8000000);
            assert_int_equal(e->ehr_minutes_micro, 95500000);
            assert_int_equal(e->outside_minutes_micro, 30000000);
            assert_int_equal(e->inbox_minutes_micro, 12000001); /* half rounds up */
            found = true;
        }
        if (e->ehr_minutes_micro == 100000000)
            assert_int_equal(e->outside_minutes_micro, 40000000); /* the 1e2 row */
    }
    assert_true(found);
}

/* ---- training ---- */

static void test_training(void **state)
{
    struct fx *f = *state;
    char course129[130];
    memset(course129, 'c', 129);
    course129[129] = '\0';
    char buf[1024];
    snprintf(buf, sizeof buf,
             "\xEF\xBB\xBF"
             "course,completed_date,staff_id,score\n"
             "\"ai-literacy-101\",2026-03-01,n1,99\n"
             "\"  AI, safety  \",2026-04-01,N1,80\n"
             "ai-literacy-101,2026-02-30,N2,1\n"
             "%s,2026-04-01,N3,1\n"
             ",2026-04-01,N4,1\n",
             course129);
    write_file(f, "tr.csv", buf);
    fx_start(f, &source_training_csv, "tr.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 2);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 1);
    bool saw_safety = false;
    for (size_t i = 0; i < f->nrec; i++) {
        const Cadre__Training *t = f->rec[i]->training;
        if (strcmp(t->course, "AI, safety") == 0) { /* trimmed, case kept */
            saw_safety = true;
            assert_int_equal(t->day, day("2026-04-01"));
            uint8_t k[16], want[RECKEY_MAX];
            staff(f, "n1", k);
            size_t wl = reckey_training(want, k, t->day, "AI, safety", 10);
            assert_int_equal(f->rec[i]->key.len, wl);
            assert_memory_equal(f->rec[i]->key.data, want, wl);
        }
    }
    assert_true(saw_safety);
}

/* ---- usage ---- */

static const Cadre__Usage *usage_at(struct fx *f, size_t i)
{
    assert_true(i < f->nrec);
    assert_int_equal(f->rec[i]->type, CADRE__RECORD_TYPE__RECORD_TYPE_USAGE);
    return f->rec[i]->usage;
}

static void test_usage(void **state)
{
    struct fx *f = *state;
    const char *first = "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\" N001 \",\"tool\":\"ambient-"
                        "scribe\",\"event\":\"note\",\"minutes\":12.5,\"outcome\":\"accepted\"}";
    char buf[4096];
    snprintf(
        buf, sizeof buf,
        "%s\n"
        "{\"ts\":\"2026-09-10T23:30:00-05:00\",\"user\":\"n001\",\"tool\":\"chat\","
        "\"minutes\":3,\"outcome\":\"Edited\",\"session\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00.250Z\",\"user\":\"n2\",\"tool\":\"a.b_c-d\","
        "\"minutes\":0.1,\"outcome\":null}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n2\",\"tool\":\"x\",\"minutes\":1e-7,"
        "\"outcome\":\"\",\"event\":null}\n"
        "\n"
        "this is not json\n"
        "[1,2]\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\",\"tool\":\"ambient-scr\n"
        "{\"user\":\"n3\",\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"  \",\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":12345,\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\",\"tool\":\"Ambient Scribe\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\",\"tool\":\"x\",\"minutes\":-1}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\",\"tool\":\"x\",\"minutes\":\"5\"}\n"
        "{\"ts\":\"2026-09-11T25:00:00Z\",\"user\":\"n3\",\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00Z\",\"user\":\"n3\",\"tool\":\"x\",\"outcome\":\"maybe\"}\n"
        "{\"ts\":\"2026-09-11T10:00:00\",\"user\":\"n3\",\"tool\":\"x\"}\n"
        "{\"ts\":\"2026-09-12T10:00:00Z\",\"user\":\"n3\",\"tool\":\"x\"", /* partial */
        first);
    write_file(f, "a.jsonl", buf);
    fx_start(f, &source_usage_jsonl, "*.jsonl", false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 4);
    assert_int_equal(REJ(f, SRC_MALFORMED), 3);
    assert_int_equal(REJ(f, SRC_MISSING_FIELD), 4);
    assert_int_equal(REJ(f, SRC_INVALID_VALUE), 7);

    uint8_t n001[16], n2[16];
    staff(f, "n001", n001);
    staff(f, "N2", n2);
    const Cadre__Usage *u = usage_at(f, 0);
    assert_memory_equal(u->staff.data, n001, 16);
    assert_int_equal(u->ts_us, instant("2026-09-10T08:00:00Z"));
    assert_int_equal(u->day, day("2026-09-10"));
    assert_string_equal(u->tool, "ambient-scribe");
    assert_string_equal(u->event, "note");
    assert_true(u->has_minutes_micro);
    assert_int_equal(u->minutes_micro, 12500000);
    assert_int_equal(u->outcome, CADRE__OUTCOME__OUTCOME_ACCEPTED);
    /* Key: source name, fingerprint of the first line, offset 0. */
    uint8_t want[RECKEY_MAX];
    size_t wl = reckey_usage(want, "src1", source_hash(first, strlen(first)), 0);
    assert_int_equal(f->rec[0]->key.len, wl);
    assert_memory_equal(f->rec[0]->key.data, want, wl);
    wl = reckey_usage(want, "src1", source_hash(first, strlen(first)), strlen(first) + 1);
    assert_memory_equal(f->rec[1]->key.data, want, wl);

    u = usage_at(f, 1); /* the day is the date in the timestamp's own offset */
    assert_memory_equal(u->staff.data, n001, 16);
    assert_int_equal(u->day, day("2026-09-10"));
    assert_int_equal(u->ts_us, instant("2026-09-11T04:30:00Z"));
    assert_string_equal(u->event, "use");
    assert_int_equal(u->minutes_micro, 3000000);
    assert_int_equal(u->outcome, CADRE__OUTCOME__OUTCOME_EDITED);
    u = usage_at(f, 2);
    assert_memory_equal(u->staff.data, n2, 16);
    assert_int_equal(u->ts_us, instant("2026-09-11T10:00:00Z") + 250000);
    assert_int_equal(u->minutes_micro, 100000); /* 0.1 exactly, not 0.1000000000000000055 */
    assert_int_equal(u->outcome, CADRE__OUTCOME__OUTCOME_NONE);
    u = usage_at(f, 3);
    assert_true(u->has_minutes_micro);
    assert_int_equal(u->minutes_micro, 0); /* 1e-7 rounds to 0 millionths */
    assert_int_equal(u->outcome, CADRE__OUTCOME__OUTCOME_NONE);
    assert_string_equal(u->event, "use");

    /* Nothing new: nothing shipped, nothing counted again. */
    reset_stats(f);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(REJ(f, SRC_MALFORMED), 0);
    /* The partial line completes: it is read now, once. */
    append_file(f, "a.jsonl", "}\n");
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(usage_at(f, 0)->day, day("2026-09-12"));
    /* A restart continues from the checkpoint. */
    fx_stop(f);
    fx_start(f, &source_usage_jsonl, "*.jsonl", false, true);
    append_file(f, "a.jsonl", "{\"ts\":\"2026-09-13T10:00:00Z\",\"user\":\"n3\",\"tool\":\"y\"}\n");
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_string_equal(usage_at(f, 0)->tool, "y");
}

static void test_usage_rotation(void **state)
{
    struct fx *f = *state;
    const char *l1 = "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\"a\",\"tool\":\"t\"}\n";
    const char *l2 = "{\"ts\":\"2026-09-10T09:00:00Z\",\"user\":\"b\",\"tool\":\"t\"}\n";
    write_file(f, "app.jsonl", l1);
    fx_start(f, &source_usage_jsonl, "app*.jsonl", false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    uint8_t key1[RECKEY_MAX];
    size_t k1 = f->rec[0]->key.len;
    memcpy(key1, f->rec[0]->key.data, k1);
    /* Renamed (rotation), then appended to: only the new line is read, and a fresh file
     * under the old name is read from its start. */
    char a[160], b[160];
    path_of(f, "app.jsonl", a, sizeof a);
    path_of(f, "app-1.jsonl", b, sizeof b);
    assert_int_equal(rename(a, b), 0);
    append_file(f, "app-1.jsonl", l2);
    write_file(f, "app.jsonl", l2);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    /* Copy-truncate: the same first line again after a shrink is read from the start, and
     * its first line gets the key it had before (stored once by the aggregator). */
    write_file(f, "app-1.jsonl", l1);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(f->rec[0]->key.len, k1);
    assert_memory_equal(f->rec[0]->key.data, key1, k1);
}

/* A line longer than the 1 MiB limit is rejected once, even when it arrives over several
 * polls and the agent restarts in the middle of it (the skip state is checkpointed). */
static void test_usage_long_line_counted_once(void **state)
{
    struct fx *f = *state;
    const char *good = "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\"a\",\"tool\":\"t\"}\n";
    size_t big = (1u << 20) + 4096;
    char *chunk = xmalloc(big + 1);
    memset(chunk, 'x', big);
    chunk[big] = 0;
    write_file(f, "long.jsonl", good);
    append_file(f, "long.jsonl", "{\"pad\":\"");
    append_file(f, "long.jsonl", chunk); /* over the limit, no newline yet */
    fx_start(f, &source_usage_jsonl, "long.jsonl", false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(REJ(f, SRC_MALFORMED), 1);
    /* More of the same line, over the limit again on its own. */
    append_file(f, "long.jsonl", chunk);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(REJ(f, SRC_MALFORMED), 1);
    /* A restart in the middle of the line, then its short end and a good line. */
    fx_stop(f);
    fx_start(f, &source_usage_jsonl, "long.jsonl", false, true);
    append_file(f, "long.jsonl", "xx\"}\n");
    append_file(f, "long.jsonl", good);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(REJ(f, SRC_MALFORMED), 1);
    xfree(chunk);
}

/* Files a glob matches but a source cannot read are counted by reason and skipped; the
 * readable ones are read. (Run as root, so the unreadable file is a symlink loop rather
 * than a file without read permission.) */
static void test_usage_skipped_files_counted(void **state)
{
    struct fx *f = *state;
    write_file(f, "mix-a.jsonl",
               "{\"ts\":\"2026-09-10T08:00:00Z\",\"user\":\"a\",\"tool\":\"t\"}\n");
    char p[160];
    path_of(f, "mix-dir.jsonl", p, sizeof p);
    assert_int_equal(mkdir(p, 0755), 0);
    path_of(f, "mix-fifo.jsonl", p, sizeof p);
    assert_int_equal(mkfifo(p, 0644), 0);
    path_of(f, "mix-loop.jsonl", p, sizeof p);
    assert_int_equal(symlink("mix-loop.jsonl", p), 0);
    fx_start(f, &source_usage_jsonl, "mix-*.jsonl", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_UNREADABLE]), 1); /* the loop */
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_NOT_A_FILE]), 2); /* dir, FIFO */
    /* Counted again at every poll while they stay. */
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_UNREADABLE]), 2);
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_NOT_A_FILE]), 4);
    assert_string_equal(source_error_name(SRC_ERR_UNREADABLE), "unreadable");
    assert_string_equal(source_error_name(SRC_ERR_NOT_A_FILE), "not_a_file");
}

/* A CSV source whose glob also matches a folder and a dangling symlink counts them and
 * reads the newest regular file. */
static void test_csv_skipped_files_counted(void **state)
{
    struct fx *f = *state;
    write_file(f, "hr-1.csv", "staff_id,start_date,department,role\nn1,2025-01-01,ICU,nurse\n");
    char p[160];
    path_of(f, "hr-dir.csv", p, sizeof p);
    assert_int_equal(mkdir(p, 0755), 0);
    path_of(f, "hr-gone.csv", p, sizeof p);
    assert_int_equal(symlink("nowhere.csv", p), 0);
    fx_start(f, &source_staffing_csv, "hr-*.csv", false, false);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 1);
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_UNREADABLE]), 1);
    assert_int_equal(atomic_load(&f->stats.errors[SRC_ERR_NOT_A_FILE]), 1);
}

/* source_hash is the first 8 bytes of SHA-256 (FIPS 180-2's "abc" and empty-message
 * examples): map files and usage keys written by earlier versions depend on it. */
static void test_source_hash_known_answers(void **state)
{
    (void)state;
    assert_true(source_hash("abc", 3) == UINT64_C(0xba7816bf8f01cfea));
    assert_true(source_hash("", 0) == UINT64_C(0xe3b0c44298fc1c14));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_staffing_good_rows),
        T(test_staffing_bad_rows),
        T(test_staffing_missing_column),
        T(test_later_duplicate_wins),
        T(test_snapshot_diff),
        T(test_authoritative_tombstone),
        T(test_flush_failure_keeps_checkpoint),
        T(test_shifts),
        T(test_absences),
        T(test_ehr),
        T(test_training),
        T(test_usage),
        T(test_usage_rotation),
        T(test_usage_long_line_counted_once),
        T(test_usage_skipped_files_counted),
        T(test_csv_skipped_files_counted),
        cmocka_unit_test(test_source_hash_known_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
