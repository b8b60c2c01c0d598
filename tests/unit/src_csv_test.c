/* src_csv_test.c - the CSV snapshot machinery with sort runs forced small: diffing across
 * many runs, the map file (restart, flush failure, damage), version-1 conversion, dry run.
 *
 * Every expected figure follows from a model kept by the test: each staff member P0000..
 * has a department (or is absent) per snapshot; a record is expected when the department
 * differs from the one last shipped for that key (docs/agent.md, "CSV snapshot sources").
 */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/pseudonym.h"
#include "agent/source.h"
#include "agent/src_csv.h"
#include "cadre.pb-c.h"
#include "common/log.h"
#include "common/reckey.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define ORG_KEY "0123456789abcdef0123456789abcdef"
#define NSTAFF 700 /* rows per snapshot at most */
#define RUN_BYTES                                                                                  \
    1024 /* ~10 rows a run: a snapshot makes ~70 runs, more than the 64 merged at once */
#define CKPT_NAME "src1.staffing.ckpt"

static const char *const depts[] = {NULL, "ICU", "ER", "OR"};

/* One snapshot: dept[i] is the department index of staff i (0: no row). */
struct model {
    int dept[NSTAFF];
};

struct fx {
    char dir[64];
    char ckpt[96];
    char csv[128];
    struct pseudonym *p;
    uint8_t staff[NSTAFF][16]; /* pseudonymous staff keys of P0000.. */
    struct source_opts opts;
    struct source_stats stats;
    struct source_env env;
    void *ctx;
    size_t run_bytes;
    /* captured this poll: per staff, the department shipped (0: none) and tombstones */
    int got[NSTAFF];
    int tomb[NSTAFF];
    size_t nrec;
    uint8_t *raw[NSTAFF]; /* last packed bytes seen per staff (for the v1 checkpoint) */
    size_t rawlen[NSTAFF];
    int flush_rc;
};

static int staff_index(const struct fx *f, const uint8_t *k)
{
    for (int i = 0; i < NSTAFF; i++)
        if (memcmp(f->staff[i], k, 16) == 0)
            return i;
    fail_msg("unknown staff key");
    return -1;
}

static int dept_index(const char *d)
{
    for (int i = 1; i < 4; i++)
        if (strcmp(d, depts[i]) == 0)
            return i;
    fail_msg("unknown department %s", d);
    return -1;
}

static int cap_emit(void *ud, const uint8_t *buf, size_t len)
{
    struct fx *f = ud;
    Cadre__Record *r = cadre__record__unpack(NULL, len, buf);
    assert_non_null(r);
    f->nrec++;
    if (r->body_case == CADRE__RECORD__BODY__NOT_SET) {
        /* A staffing key is the staff key (16 bytes) and the start day (4). */
        assert_int_equal(r->type, CADRE__RECORD_TYPE__RECORD_TYPE_STAFFING);
        assert_int_equal(r->key.len, 20);
        f->tomb[staff_index(f, r->key.data)]++;
    } else {
        int i = staff_index(f, r->staffing->staff.data);
        assert_int_equal(f->got[i], 0); /* one record per key and poll */
        f->got[i] = dept_index(r->staffing->department);
        xfree(f->raw[i]);
        f->raw[i] = xmemdup(buf, len);
        f->rawlen[i] = len;
    }
    cadre__record__free_unpacked(r, NULL);
    return 0;
}

static int cap_flush(void *ud)
{
    return ((struct fx *)ud)->flush_rc;
}

/* Writes the model as the CSV (a new inode each time). Staff with dup_of_later set get an
 * earlier row with another department first, so the later row must win. */
static void write_model(struct fx *f, const struct model *m)
{
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->csv);
    FILE *fp = fopen(tmp, "w");
    assert_non_null(fp);
    fputs("staff_id,start_date,department,role\n", fp);
    for (int i = 0; i < NSTAFF; i++) {
        if (!m->dept[i])
            continue;
        if (i % 7 == 0) /* an earlier row of the same key, many runs before the later one */
            fprintf(fp, "P%04d,2025-01-01,%s,nurse\n", i, depts[m->dept[i] % 3 + 1]);
    }
    for (int i = 0; i < NSTAFF; i++)
        if (m->dept[i])
            fprintf(fp, "P%04d,2025-01-01,%s,nurse\n", i, depts[m->dept[i]]);
    fclose(fp);
    assert_int_equal(rename(tmp, f->csv), 0);
}

static void start(struct fx *f, bool authoritative, bool with_ckpt)
{
    xfree(f->opts.path);
    f->opts.path = xstrdup(f->csv);
    f->opts.authoritative = authoritative;
    f->env = (struct source_env){.name = "src1",
                                 .pseudo = f->p,
                                 .ckpt_dir = with_ckpt ? f->ckpt : NULL,
                                 .dry_run = f->env.dry_run,
                                 .emit = cap_emit,
                                 .flush = cap_flush,
                                 .ud = f,
                                 .stats = &f->stats};
    assert_int_equal(source_staffing_csv.init(&f->ctx, &f->opts, &f->env), 0);
    src_csv_set_run_bytes(f->ctx, f->run_bytes);
}

static void stop(struct fx *f)
{
    if (f->ctx)
        source_staffing_csv.fini(f->ctx);
    f->ctx = NULL;
}

static int poll(struct fx *f)
{
    memset(f->got, 0, sizeof f->got);
    memset(f->tomb, 0, sizeof f->tomb);
    f->nrec = 0;
    return source_staffing_csv.poll(f->ctx, &f->env);
}

/* Asserts this poll shipped exactly what `now` changed against `shipped` (updated), with
 * tombstones for keys gone when authoritative. Returns the number of records. */
static size_t expect_diff(struct fx *f, struct model *shipped, const struct model *now,
                          bool authoritative)
{
    size_t want = 0;
    for (int i = 0; i < NSTAFF; i++) {
        int g = now->dept[i] && now->dept[i] != shipped->dept[i] ? now->dept[i] : 0;
        int t = authoritative && !now->dept[i] && shipped->dept[i] ? 1 : 0;
        if (f->got[i] != g || f->tomb[i] != t)
            fail_msg("staff %d: shipped dept %d and %d tombstones, expected %d and %d", i,
                     f->got[i], f->tomb[i], g, t);
        want += (size_t)(g != 0) + (size_t)t;
        if (now->dept[i])
            shipped->dept[i] = now->dept[i];
        else if (authoritative)
            shipped->dept[i] = 0;
    }
    assert_int_equal(f->nrec, want);
    return want;
}

/* Gives the CSV a new mtime, so the same bytes are a new snapshot. */
static void touch_later(struct fx *f, int seconds)
{
    struct timespec t[2] = {{.tv_sec = time(NULL) + seconds}, {.tv_sec = time(NULL) + seconds}};
    assert_int_equal(utimensat(AT_FDCWD, f->csv, t, 0), 0);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Reads the whole checkpoint file (caller frees). */
static uint8_t *read_ckpt(struct fx *f, size_t *len)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->ckpt, CKPT_NAME);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t *buf = xmalloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    return buf;
}

static void write_ckpt_bytes(struct fx *f, const uint8_t *p, size_t len)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", f->ckpt, CKPT_NAME);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, len, fp), len);
    fclose(fp);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-csv.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->ckpt, sizeof f->ckpt, "%s/ckpt", f->dir);
    mkdir(f->ckpt, 0700);
    snprintf(f->csv, sizeof f->csv, "%s/staff.csv", f->dir);
    f->p = pseudonym_new(ORG_KEY, 32);
    for (int i = 0; i < NSTAFF; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%04d", i);
        assert_int_equal(pseudonym_staff_key(f->p, id, strlen(id), f->staff[i]), 0);
    }
    f->run_bytes = RUN_BYTES;
    log_set_level(LOG_ERROR);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    stop(f);
    for (int i = 0; i < NSTAFF; i++)
        xfree(f->raw[i]);
    xfree(f->opts.path);
    pseudonym_free(f->p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    xfree(f);
    return rc;
}

/* Snapshot 1: staff 0..599 in department (i % 3) + 1. Snapshot 2 from it: every 10th of
 * 0..299 changes department, 500..549 are gone, 600..649 are new. */
static void model_1(struct model *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < 600; i++)
        m->dept[i] = i % 3 + 1;
}

static void model_2(struct model *m)
{
    model_1(m);
    for (int i = 0; i < 300; i += 10)
        m->dept[i] = m->dept[i] % 3 + 1;
    for (int i = 500; i < 550; i++)
        m->dept[i] = 0;
    for (int i = 600; i < 650; i++)
        m->dept[i] = 2;
}

/* The diff across many runs, with and without authoritative; later duplicates win. */
static void diff_case(struct fx *f, bool authoritative, bool with_ckpt)
{
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, authoritative, with_ckpt);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, authoritative), 600);
    /* Same file: not read again. */
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    /* 30 changed + 50 new; 50 tombstones when authoritative. */
    model_2(&m);
    write_model(f, &m);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, authoritative), authoritative ? 130 : 80);
    /* The gone ones come back unchanged: shipped again only if they were deleted. */
    for (int i = 500; i < 550; i++)
        m.dept[i] = i % 3 + 1;
    write_model(f, &m);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, authoritative), authoritative ? 50 : 0);
    assert_int_equal(atomic_load(&f->stats.records), authoritative ? 600 + 130 + 50 : 680);
}

static void test_diff_many_runs(void **state)
{
    diff_case(*state, false, true);
}

static void test_diff_many_runs_authoritative(void **state)
{
    diff_case(*state, true, true);
}

static void test_diff_without_ckpt_dir(void **state)
{
    struct fx *f = *state;
    diff_case(f, true, false);
    assert_int_equal(count_files(f->ckpt), 0);
}

/* One big run buffer (the default) gives the same answers as many small runs. */
static void test_diff_one_run(void **state)
{
    struct fx *f = *state;
    f->run_bytes = (size_t)8 << 20;
    diff_case(f, true, true);
}

/* A restarted source reads the map file: nothing is shipped again, a touched file is read
 * and still ships nothing, a change ships only itself. */
static void test_restart_reads_map(void **state)
{
    struct fx *f = *state;
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    expect_diff(f, &shipped, &m, true);
    size_t len;
    uint8_t *b = read_ckpt(f, &len);
    assert_memory_equal(b, "CADRECSV", 8);
    /* 600 entries of 1 + 20 + 8 bytes (staffing key: staff, start day), header
     * 8 + 4 + 8 + path + 5 x 8, trailer 1 + 8 + 4. */
    assert_int_equal(len, 8 + 4 + 8 + strlen(f->csv) + 40 + 600 * 29 + 13);
    xfree(b);
    assert_int_equal(count_files(f->ckpt), 1); /* no temporary file left */
    stop(f);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    touch_later(f, 10);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    m.dept[123] = m.dept[123] % 3 + 1;
    write_model(f, &m);
    stop(f);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, true), 1);
}

/* A failed flush leaves the map file byte for byte; the records come again. */
static void test_flush_failure_keeps_map(void **state)
{
    struct fx *f = *state;
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    expect_diff(f, &shipped, &m, true);
    size_t len0, len1;
    uint8_t *before = read_ckpt(f, &len0);
    model_2(&m);
    write_model(f, &m);
    f->flush_rc = -ENOSPC;
    assert_int_equal(poll(f), -ENOSPC);
    struct model scratch = shipped;
    assert_int_equal(expect_diff(f, &scratch, &m, true), 130); /* emitted, not flushed */
    uint8_t *after = read_ckpt(f, &len1);
    assert_int_equal(len1, len0);
    assert_memory_equal(after, before, len0);
    assert_int_equal(count_files(f->ckpt), 1);
    xfree(before);
    xfree(after);
    /* Again in this instance, then (after another failure) in a restarted one. */
    assert_int_equal(poll(f), -ENOSPC);
    assert_int_equal(f->nrec, 130);
    stop(f);
    start(f, true, true);
    f->flush_rc = 0;
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, true), 130);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
}

/* When temporary files cannot be made (the checkpoint folder is gone) nothing is shipped
 * and the snapshot is read again later: first while a run is written, then (with a buffer
 * the snapshot fits in) when the new map file is started. */
static void test_temp_files_fail(void **state)
{
    struct fx *f = *state;
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    expect_diff(f, &shipped, &m, true);
    model_2(&m);
    write_model(f, &m);
    char away[160];
    snprintf(away, sizeof away, "%s.away", f->ckpt);
    assert_int_equal(rename(f->ckpt, away), 0);
    assert_int_equal(poll(f), -ENOENT);
    assert_int_equal(f->nrec, 0);
    src_csv_set_run_bytes(f->ctx, (size_t)8 << 20);
    assert_int_equal(poll(f), -ENOENT);
    assert_int_equal(f->nrec, 0);
    assert_int_equal(rename(away, f->ckpt), 0);
    src_csv_set_run_bytes(f->ctx, RUN_BYTES);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, true), 130);
    assert_int_equal(count_files(f->ckpt), 1);
}

/* A damaged map file is not trusted: the whole snapshot is shipped again. */
static void test_damaged_map(void **state)
{
    struct fx *f = *state;
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    expect_diff(f, &shipped, &m, false);
    stop(f);
    size_t len;
    uint8_t *b = read_ckpt(f, &len);
    /* One flipped bit in an entry's hash (the CRC catches it), then a cut file. */
    b[len / 2] ^= 0x10;
    write_ckpt_bytes(f, b, len);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 600);
    stop(f);
    xfree(b);
    b = read_ckpt(f, &len);
    write_ckpt_bytes(f, b, len - 5);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 600);
    /* ... and the map written then is good again. */
    stop(f);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    xfree(b);
}

/* Builds a version-1 checkpoint as the agent wrote it before map files: u64 version 1,
 * bytes path, dev, ino, size, mtime s and ns, count, then (bytes key, u64 hash) sorted;
 * keys of staff skip (absent) and wrong (hash off by one) are falsified. */
static void write_v1(struct fx *f, int skip, int wrong)
{
    struct stat st;
    assert_int_equal(stat(f->csv, &st), 0);
    struct ckpt_buf b = {0};
    ckpt_put_u64(&b, 1);
    ckpt_put_bytes(&b, f->csv, strlen(f->csv));
    ckpt_put_u64(&b, (uint64_t)st.st_dev);
    ckpt_put_u64(&b, (uint64_t)st.st_ino);
    ckpt_put_u64(&b, (uint64_t)st.st_size);
    ckpt_put_u64(&b, (uint64_t)st.st_mtim.tv_sec);
    ckpt_put_u64(&b, (uint64_t)st.st_mtim.tv_nsec);
    /* Keys sorted: collect and sort them (insertion sort over 600). */
    uint8_t keys[NSTAFF][RECKEY_MAX];
    int who[NSTAFF];
    size_t kl = 0, n = 0;
    for (int i = 0; i < NSTAFF; i++) {
        if (!f->raw[i] || i == skip)
            continue;
        Cadre__Record *r = cadre__record__unpack(NULL, f->rawlen[i], f->raw[i]);
        kl = r->key.len;
        memcpy(keys[n], r->key.data, kl);
        cadre__record__free_unpacked(r, NULL);
        who[n++] = i;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && memcmp(keys[j - 1], keys[j], kl) > 0; j--) {
            uint8_t t[RECKEY_MAX];
            memcpy(t, keys[j], kl);
            memcpy(keys[j], keys[j - 1], kl);
            memcpy(keys[j - 1], t, kl);
            int w = who[j];
            who[j] = who[j - 1];
            who[j - 1] = w;
        }
    ckpt_put_u64(&b, n);
    for (size_t i = 0; i < n; i++) {
        ckpt_put_bytes(&b, keys[i], kl);
        uint64_t h = source_hash(f->raw[who[i]], f->rawlen[who[i]]);
        ckpt_put_u64(&b, who[i] == wrong ? h + 1 : h);
    }
    assert_int_equal(ckpt_write(f->ckpt, CKPT_NAME, b.p, b.len, false), 0);
    ckpt_buf_free(&b);
}

/* An upgraded agent converts its version-1 checkpoint and ships only real changes. */
static void test_v1_conversion(void **state)
{
    struct fx *f = *state;
    struct model m;
    model_1(&m);
    write_model(f, &m);
    start(f, false, false); /* in memory: learns the packed records */
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 600);
    stop(f);
    write_v1(f, 42, 77);
    /* A dry run converts in a temporary file only: the v1 file stays as it was. */
    f->env.dry_run = true;
    start(f, false, true);
    size_t len;
    uint8_t *b = read_ckpt(f, &len);
    assert_memory_equal(b, "CADRECK1", 8);
    xfree(b);
    assert_int_equal(poll(f), 0); /* same snapshot identity: nothing */
    assert_int_equal(f->nrec, 0);
    touch_later(f, 10);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    assert_int_equal(f->got[42], m.dept[42]);
    assert_int_equal(f->got[77], m.dept[77]);
    b = read_ckpt(f, &len);
    assert_memory_equal(b, "CADRECK1", 8);
    xfree(b);
    assert_int_equal(count_files(f->ckpt), 1);
    stop(f);
    /* The real start converts the file in place; the touched snapshot ships the two. */
    f->env.dry_run = false;
    touch_later(f, -10);
    write_v1(f, 42, 77);
    start(f, false, true);
    b = read_ckpt(f, &len);
    assert_memory_equal(b, "CADRECSV", 8);
    xfree(b);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
    touch_later(f, 20);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 2);
    assert_int_equal(f->got[42], m.dept[42]);
    assert_int_equal(f->got[77], m.dept[77]);
    stop(f);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 0);
}

/* A damaged version-1 checkpoint is not converted: everything is shipped again. */
static void test_v1_damaged(void **state)
{
    struct fx *f = *state;
    struct model m;
    model_1(&m);
    write_model(f, &m);
    start(f, false, false);
    assert_int_equal(poll(f), 0);
    stop(f);
    write_v1(f, -1, -1);
    size_t len;
    uint8_t *b = read_ckpt(f, &len);
    b[100] ^= 1;
    write_ckpt_bytes(f, b, len);
    xfree(b);
    touch_later(f, 10);
    start(f, false, true);
    assert_int_equal(poll(f), 0);
    assert_int_equal(f->nrec, 600);
}

/* A dry run writes nothing to the checkpoint folder but keeps its state in between. */
static void test_dry_run_writes_nothing(void **state)
{
    struct fx *f = *state;
    f->env.dry_run = true;
    struct model shipped = {0}, m;
    model_1(&m);
    write_model(f, &m);
    start(f, true, true);
    assert_int_equal(poll(f), 0);
    expect_diff(f, &shipped, &m, true);
    model_2(&m);
    write_model(f, &m);
    assert_int_equal(poll(f), 0);
    assert_int_equal(expect_diff(f, &shipped, &m, true), 130);
    assert_int_equal(count_files(f->ckpt), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_diff_many_runs),         T(test_diff_many_runs_authoritative),
        T(test_diff_without_ckpt_dir),  T(test_diff_one_run),
        T(test_restart_reads_map),      T(test_flush_failure_keeps_map),
        T(test_temp_files_fail),        T(test_damaged_map),
        T(test_v1_conversion),          T(test_v1_damaged),
        T(test_dry_run_writes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
