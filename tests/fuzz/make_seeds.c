/* make_seeds.c - writes the packed cadre.Batch seeds of tests/fuzz/corpus/batch_fuzz/.
 *
 * Usage: make_seeds DIR. Built by tests/fuzz/build.sh; run it by hand after a change to
 * proto/cadre.proto or to the record checks, then review and commit the files it writes.
 * Every batch is from agent "a1" (the token agent batch_fuzz uses) unless its name says
 * otherwise; record keys are made with common/reckey.h as the agent would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cadre.pb-c.h"
#include "common/reckey.h"
#include "common/timeutil.h"

#define MAXREC 16

static const char *outdir;
static uint8_t spool[16] = {0x5e, 0xed, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
static uint8_t staff_a[STAFF_KEY_LEN], staff_b[STAFF_KEY_LEN];
static uint8_t keys[MAXREC][RECKEY_MAX];

static Cadre__Batch batch;
static Cadre__Record recs[MAXREC], *recp[MAXREC];

static int32_t day(const char *ymd)
{
    int32_t d;
    if (parse_date(ymd, strlen(ymd), &d))
        abort();
    return d;
}

static int64_t instant(const char *ts)
{
    int64_t us;
    int32_t d;
    if (parse_rfc3339(ts, strlen(ts), &us, &d))
        abort();
    return us;
}

static void reset(const char *agent, uint64_t seq)
{
    cadre__batch__init(&batch);
    batch.agent_id = (char *)agent;
    batch.spool_id = (ProtobufCBinaryData){sizeof spool, spool};
    batch.has_seq = seq != 0;
    batch.seq = seq;
    batch.sent_us = instant("2026-07-01T08:00:00Z");
    batch.has_spool_bytes = 1;
    batch.spool_bytes = 4096;
    batch.records = recp;
    batch.n_records = 0;
}

static Cadre__Record *add(int type)
{
    size_t i = batch.n_records++;
    cadre__record__init(&recs[i]);
    recs[i].type = type;
    recs[i].key.data = keys[i];
    recp[i] = &recs[i];
    return &recs[i];
}

static ProtobufCBinaryData bin(uint8_t *p, size_t n)
{
    return (ProtobufCBinaryData){n, p};
}

static void add_usage(const char *ts, const char *tool, int outcome, int64_t minutes)
{
    static Cadre__Usage u[MAXREC];
    Cadre__Record *r = add(REC_USAGE);
    Cadre__Usage *b = &u[batch.n_records - 1];
    cadre__usage__init(b);
    int32_t d;
    parse_rfc3339(ts, strlen(ts), &b->ts_us, &d);
    b->day = d;
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    b->tool = (char *)tool;
    b->event = (char *)"use";
    b->has_minutes_micro = minutes >= 0;
    b->minutes_micro = minutes;
    b->has_outcome = outcome != 0;
    b->outcome = outcome;
    r->key.len =
        reckey_usage(keys[batch.n_records - 1], "scribe", 0x1234abcdULL, 100 * batch.n_records);
    r->body_case = CADRE__RECORD__BODY_USAGE;
    r->usage = b;
}

static void add_staffing(const uint8_t *staff, const char *start, const char *end, int reason,
                         const char *dept, const char *role, int hybrid, int64_t fte)
{
    static Cadre__Staffing s[MAXREC];
    Cadre__Record *r = add(REC_STAFFING);
    Cadre__Staffing *b = &s[batch.n_records - 1];
    cadre__staffing__init(b);
    b->staff = bin((uint8_t *)staff, STAFF_KEY_LEN);
    b->start_day = day(start);
    b->has_end_day = end != NULL;
    b->end_day = end ? day(end) : 0;
    b->has_end_reason = reason != 0;
    b->end_reason = reason;
    b->site = (char *)"main";
    b->department = (char *)dept;
    b->role = (char *)role;
    b->has_hybrid_role = hybrid != 0;
    b->hybrid_role = hybrid;
    b->fte_micro = fte;
    r->key.len = reckey_staffing(keys[batch.n_records - 1], staff, b->start_day);
    r->body_case = CADRE__RECORD__BODY_STAFFING;
    r->staffing = b;
}

static void add_shift(const char *start, const char *end, int64_t overtime)
{
    static Cadre__Shift s[MAXREC];
    Cadre__Record *r = add(REC_SHIFTS);
    Cadre__Shift *b = &s[batch.n_records - 1];
    cadre__shift__init(b);
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    int32_t d;
    parse_rfc3339(start, strlen(start), &b->start_us, &d);
    b->day = d;
    b->end_us = instant(end);
    b->overtime_micro = overtime;
    r->key.len = reckey_shift(keys[batch.n_records - 1], staff_a, b->start_us);
    r->body_case = CADRE__RECORD__BODY_SHIFT;
    r->shift = b;
}

static void add_absence(const char *date, int64_t hours, int kind)
{
    static Cadre__Absence a[MAXREC];
    Cadre__Record *r = add(REC_ABSENCES);
    Cadre__Absence *b = &a[batch.n_records - 1];
    cadre__absence__init(b);
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    b->day = day(date);
    b->hours_micro = hours;
    b->kind = kind;
    r->key.len = reckey_absence(keys[batch.n_records - 1], staff_a, b->day, kind);
    r->body_case = CADRE__RECORD__BODY_ABSENCE;
    r->absence = b;
}

static void add_ehr(const char *date)
{
    static Cadre__Ehr e[MAXREC];
    Cadre__Record *r = add(REC_EHR);
    Cadre__Ehr *b = &e[batch.n_records - 1];
    cadre__ehr__init(b);
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    b->day = day(date);
    b->scheduled_hours_micro = 8000000;
    b->ehr_minutes_micro = 95500000;
    b->outside_minutes_micro = 12000000;
    b->inbox_minutes_micro = 30250000;
    r->key.len = reckey_ehr(keys[batch.n_records - 1], staff_a, b->day);
    r->body_case = CADRE__RECORD__BODY_EHR;
    r->ehr = b;
}

static void add_training(const char *course, const char *date)
{
    static Cadre__Training t[MAXREC];
    Cadre__Record *r = add(REC_TRAINING);
    Cadre__Training *b = &t[batch.n_records - 1];
    cadre__training__init(b);
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    b->course = (char *)course;
    b->day = day(date);
    r->key.len =
        reckey_training(keys[batch.n_records - 1], staff_a, b->day, course, strlen(course));
    r->body_case = CADRE__RECORD__BODY_TRAINING;
    r->training = b;
}

static void add_licence(const char *tool, const char *from, const char *to)
{
    static Cadre__Licence l[MAXREC];
    Cadre__Record *r = add(REC_LICENCE);
    Cadre__Licence *b = &l[batch.n_records - 1];
    cadre__licence__init(b);
    b->staff = bin(staff_a, STAFF_KEY_LEN);
    b->tool = (char *)tool;
    b->assigned_day = day(from);
    b->has_removed_day = to != NULL;
    b->removed_day = to ? day(to) : 0;
    r->key.len =
        reckey_licence(keys[batch.n_records - 1], staff_a, tool, strlen(tool), b->assigned_day);
    r->body_case = CADRE__RECORD__BODY_LICENCE;
    r->licence = b;
}

/* A tombstone: a key without a body. */
static void add_tombstone(int type, const uint8_t *key, size_t len)
{
    Cadre__Record *r = add(type);
    memcpy(keys[batch.n_records - 1], key, len);
    r->key.len = len;
}

static void write_batch(const char *name)
{
    size_t len = cadre__batch__get_packed_size(&batch);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf || cadre__batch__pack(&batch, buf) != len)
        abort();
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        perror(path);
        exit(1);
    }
    printf("  %-28s %5zu bytes, %zu records\n", name, len, batch.n_records);
    free(buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds DIR\n");
        return 2;
    }
    outdir = argv[1];
    memset(staff_a, 0xA5, sizeof staff_a);
    memset(staff_b, 0x5A, sizeof staff_b);
    staff_b[0] = 1;

    reset("a1", 0);
    write_batch("heartbeat");

    reset("a1", 1);
    add_staffing(staff_a, "2026-01-05", NULL, 0, "ICU", "nurse", 1, 1000000);
    add_staffing(staff_b, "2025-03-01", "2026-06-30", 3, "Radiology", "physician", 0, 800000);
    add_usage("2026-07-01T09:15:00.250+02:00", "scribe", 1, 12500000);
    add_usage("2026-07-01T23:59:59Z", "ambient-notes.v2", 0, -1);
    add_shift("2026-07-01T19:00:00-05:00", "2026-07-02T07:30:00-05:00", 500000);
    add_absence("2026-07-03", 8000000, 1);
    add_ehr("2026-07-01");
    add_training("ai-literacy-101", "2026-05-20");
    add_licence("m365-copilot", "2026-01-15", NULL);
    add_licence("github-copilot", "2026-03-01", "2026-06-30");
    write_batch("one_of_each");

    reset("a1", 2);
    uint8_t k[RECKEY_MAX];
    add_tombstone(REC_STAFFING, k, reckey_staffing(k, staff_b, day("2025-03-01")));
    add_tombstone(REC_TRAINING, k,
                  reckey_training(k, staff_a, day("2026-05-20"), "ai-literacy-101", 15));
    add_tombstone(REC_USAGE, k, reckey_usage(k, "scribe", 0x1234abcdULL, 100));
    write_batch("tombstones");

    reset("a1", 3); /* each record breaks one rule */
    add_staffing(staff_a, "2026-02-01", "2026-01-01", 3, "ICU", "nurse", 0, 1000000);
    add_staffing(staff_a, "2026-02-02", NULL, 0, "ICU", "nurse", 9, 0);
    add_staffing(staff_a, "2026-02-03", "2026-03-01", 0, "", "nurse\x01", 0, 1500001);
    add_usage("2026-07-01T09:15:00Z", "Bad Tool", 7, -5);
    add_shift("2026-07-01T00:00:00Z", "2026-07-02T12:00:01Z", -1);
    add_absence("2026-07-03", 25000000, 0);
    add_training("", "2026-05-20");
    add_ehr("2026-07-01");
    recs[batch.n_records - 1].key.len = 19;
    add_usage("2026-07-01T09:15:00Z", "scribe", 0, 0);
    recs[batch.n_records - 1].type = CADRE__RECORD_TYPE__RECORD_TYPE_SHIFTS;
    write_batch("invalid_records");

    reset("a1", 4); /* the same key twice, then deleted and put back within one batch */
    add_absence("2026-07-04", 4000000, 2);
    add_absence("2026-07-04", 6000000, 2);
    add_tombstone(REC_ABSENCES, k, reckey_absence(k, staff_a, day("2026-07-04"), 2));
    add_absence("2026-07-04", 2000000, 2);
    write_batch("same_key_twice");

    reset("b2", 5);
    add_training("ai-safety", "2026-04-01");
    write_batch("other_agent");

    reset("a1", 6);
    batch.spool_id.len = 8;
    add_training("ai-safety", "2026-04-01");
    write_batch("short_spool_id");

    reset("a1", 0);
    add_training("ai-safety", "2026-04-01");
    write_batch("records_without_seq");
    return 0;
}
