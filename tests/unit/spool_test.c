/* spool_test.c - append and read back, order and acks, CRC, torn tails, the byte cap. */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/ship.h"
#include "agent/spool.h"
#include "cadre.pb-c.h"
#include "common/xalloc.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cadre-spool.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static struct spool *open_spool(uint64_t max_bytes, uint64_t segment_bytes)
{
    struct spool_opts o = {
        .max_bytes = max_bytes, .fsync = SPOOL_FSYNC_ALWAYS, .segment_bytes = segment_bytes};
    struct spool *sp = NULL;
    assert_int_equal(spool_open(&sp, dir, &o), 0);
    return sp;
}

/* A payload of n bytes whose content names i. */
static void payload(uint8_t *buf, size_t n, int i)
{
    for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)(i * 31 + (int)k);
}

static uint64_t append(struct spool *sp, int i, size_t n)
{
    uint8_t buf[4096];
    payload(buf, n, i);
    uint64_t seq = 0;
    assert_int_equal(spool_append(sp, buf, n, (uint32_t)i, &seq), 0);
    return seq;
}

static void expect_oldest(struct spool *sp, uint64_t seq, int i, size_t n)
{
    struct spool_batch b;
    uint8_t want[4096];
    payload(want, n, i);
    assert_int_equal(spool_peek(sp, &b), 0);
    assert_int_equal(b.seq, seq);
    assert_int_equal(b.nrec, (uint32_t)i);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.recs, want, n);
    xfree(b.recs);
}

/* The only segment file's path (the tests below keep to one). */
static void last_segment(char *out, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char best[256] = "";
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "seg-", 4) == 0 && strcmp(de->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", de->d_name);
    closedir(d);
    assert_true(best[0]);
    snprintf(out, n, "%s/%s", dir, best);
}

static void test_append_read_back(void **state)
{
    (void)state;
    struct spool *sp = open_spool(0, 0);
    struct spool_batch b;
    assert_int_equal(spool_peek(sp, &b), -ENOENT);
    uint64_t s1 = append(sp, 1, 100), s2 = append(sp, 2, 200), s3 = append(sp, 3, 0);
    assert_int_equal(s1, 1);
    assert_int_equal(s2, 2);
    assert_int_equal(s3, 3);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.pending_batches, 3);
    assert_int_equal(st.bytes, 3 * (8 + 12) + 300);
    expect_oldest(sp, s1, 1, 100);
    /* Only the oldest can be done; a later seq is refused and changes nothing. */
    assert_int_equal(spool_done(sp, s2), -EINVAL);
    assert_int_equal(spool_done(sp, s1), 0);
    assert_int_equal(spool_done(sp, s1), 0); /* again: no longer pending, ignored */
    expect_oldest(sp, s2, 2, 200);
    spool_close(sp);

    /* Reopened: batch 1 stays done, 2 and 3 come back with their seqs; numbering goes on. */
    sp = open_spool(0, 0);
    expect_oldest(sp, s2, 2, 200);
    assert_int_equal(spool_done(sp, s2), 0);
    expect_oldest(sp, s3, 3, 0);
    assert_int_equal(append(sp, 4, 10), 4);
    assert_int_equal(spool_done(sp, s3), 0);
    assert_int_equal(spool_done(sp, 4), 0);
    assert_int_equal(spool_peek(sp, &b), -ENOENT);
    /* Reserved seqs are never handed out again, even after a restart with an empty spool. */
    uint64_t first;
    assert_int_equal(spool_reserve_seq(sp, 2, &first), 0);
    assert_int_equal(first, 5);
    spool_close(sp);
    sp = open_spool(0, 0);
    assert_int_equal(spool_peek(sp, &b), -ENOENT);
    assert_int_equal(append(sp, 5, 10), 7);
    spool_close(sp);
}

/* fsync = interval and never change when appends reach the disk, not what the spool holds:
 * the same batches come back after a close and reopen (close syncs what is dirty). */
static void test_sync_modes(void **state)
{
    (void)state;
    for (int mode = SPOOL_FSYNC_INTERVAL; mode <= SPOOL_FSYNC_NEVER; mode++) {
        struct spool_opts o = {.fsync = (enum spool_fsync)mode, .fsync_interval_ms = 20};
        struct spool *sp = NULL;
        assert_int_equal(spool_open(&sp, dir, &o), 0);
        uint64_t s1 = append(sp, 1, 100);
        assert_int_equal(spool_tick(sp), 0); /* not due yet, or nothing to do */
        usleep(30 * 1000);
        assert_int_equal(spool_tick(sp), 0); /* due: syncs the dirty segment */
        uint64_t s2 = append(sp, 2, 50);
        assert_int_equal(spool_sync(sp), 0);
        uint64_t s3 = append(sp, 3, 70);
        spool_close(sp);
        sp = NULL;
        assert_int_equal(spool_open(&sp, dir, &o), 0);
        expect_oldest(sp, s1, 1, 100);
        assert_int_equal(spool_done(sp, s1), 0);
        expect_oldest(sp, s2, 2, 50);
        assert_int_equal(spool_done(sp, s2), 0);
        expect_oldest(sp, s3, 3, 70);
        assert_int_equal(spool_done(sp, s3), 0);
        struct spool_batch b;
        assert_int_equal(spool_peek(sp, &b), -ENOENT);
        spool_close(sp);
    }
}

/* Interval mode under load: a reader thread appends, a timer thread ticks every moment
 * (so syncs run with the lock released while appends, acks and segment removals go on),
 * and the test, as the sender, takes every batch in order. Nothing may be lost, repeated
 * or reordered, no call may fail, and a reopened spool is empty. */
#define CONC_BATCHES 1500

struct conc {
    struct spool *sp;
    atomic_int failures;
    atomic_bool done;
};

static void *conc_append(void *arg)
{
    struct conc *c = arg;
    uint8_t buf[512];
    for (int i = 1; i <= CONC_BATCHES; i++) {
        size_t n = 100 + (size_t)(i % 200);
        payload(buf, n, i);
        uint64_t seq;
        if (spool_append(c->sp, buf, n, (uint32_t)i, &seq) || seq != (uint64_t)i)
            atomic_fetch_add(&c->failures, 1);
    }
    return NULL;
}

static void *conc_tick(void *arg)
{
    struct conc *c = arg;
    while (!atomic_load(&c->done))
        if (spool_tick(c->sp))
            atomic_fetch_add(&c->failures, 1);
    return NULL;
}

static void test_interval_concurrent(void **state)
{
    (void)state;
    struct spool_opts o = {
        .fsync = SPOOL_FSYNC_INTERVAL, .fsync_interval_ms = 1, .segment_bytes = 1024};
    struct conc c = {0};
    assert_int_equal(spool_open(&c.sp, dir, &o), 0);
    pthread_t ta, tt;
    assert_int_equal(pthread_create(&ta, NULL, conc_append, &c), 0);
    assert_int_equal(pthread_create(&tt, NULL, conc_tick, &c), 0);
    uint8_t want[512];
    for (int i = 1; i <= CONC_BATCHES;) {
        struct spool_batch b;
        int rc = spool_peek(c.sp, &b);
        if (rc == -ENOENT) {
            usleep(100);
            continue;
        }
        assert_int_equal(rc, 0);
        size_t n = 100 + (size_t)(i % 200);
        payload(want, n, i);
        assert_int_equal(b.seq, (uint64_t)i);
        assert_int_equal(b.nrec, (uint32_t)i);
        assert_int_equal(b.len, n);
        assert_memory_equal(b.recs, want, n);
        xfree(b.recs);
        assert_int_equal(spool_done(c.sp, b.seq), 0);
        i++;
    }
    pthread_join(ta, NULL);
    atomic_store(&c.done, true);
    pthread_join(tt, NULL);
    assert_int_equal(atomic_load(&c.failures), 0);
    struct spool_batch b;
    assert_int_equal(spool_peek(c.sp, &b), -ENOENT);
    spool_close(c.sp);
    assert_int_equal(spool_open(&c.sp, dir, &o), 0);
    assert_int_equal(spool_peek(c.sp, &b), -ENOENT);
    spool_close(c.sp);
}

static void test_segments_removed(void **state)
{
    (void)state;
    struct spool *sp = open_spool(0, 256); /* a new segment every ~1 entry of 300 bytes */
    for (int i = 1; i <= 5; i++)
        append(sp, i, 300);
    int nseg = 0;
    DIR *d = opendir(dir);
    struct dirent *de;
    while ((de = readdir(d)))
        nseg += strncmp(de->d_name, "seg-", 4) == 0;
    closedir(d);
    assert_int_equal(nseg, 5);
    for (uint64_t s = 1; s <= 5; s++)
        assert_int_equal(spool_done(sp, s), 0);
    nseg = 0;
    d = opendir(dir);
    while ((de = readdir(d)))
        nseg += strncmp(de->d_name, "seg-", 4) == 0;
    closedir(d);
    assert_int_equal(nseg, 0);
    assert_int_equal(append(sp, 6, 10), 6);
    spool_close(sp);
    sp = open_spool(0, 256);
    expect_oldest(sp, 6, 6, 10);
    spool_close(sp);
}

static void test_crc_catches_corruption(void **state)
{
    (void)state;
    struct spool *sp = open_spool(0, 0);
    append(sp, 1, 100);
    append(sp, 2, 100);
    append(sp, 3, 100);
    spool_close(sp);
    /* Flip one payload byte of the second entry (entries are 8 + 12 + 100 bytes). */
    char path[256];
    last_segment(path, sizeof path);
    int fd = open(path, O_RDWR);
    uint8_t c;
    off_t at = 120 + 8 + 12 + 50;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    sp = open_spool(0, 0);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.corrupt_entries, 1);
    assert_int_equal(st.pending_batches, 1); /* the first entry; the damaged rest is cut */
    expect_oldest(sp, 1, 1, 100);
    /* The next append does not reuse a seq that was on disk. */
    assert_true(append(sp, 9, 10) >= 4);
    spool_close(sp);
}

static void test_torn_tail(void **state)
{
    (void)state;
    struct spool *sp = open_spool(0, 0);
    append(sp, 1, 100);
    append(sp, 2, 100);
    append(sp, 3, 100);
    spool_close(sp);
    char path[256];
    last_segment(path, sizeof path);
    /* Cut the file in the middle of the third entry, as a crash mid-write would. */
    assert_int_equal(truncate(path, 2 * 120 + 30), 0);
    sp = open_spool(0, 0);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.pending_batches, 2);
    expect_oldest(sp, 1, 1, 100);
    assert_int_equal(spool_done(sp, 1), 0);
    expect_oldest(sp, 2, 2, 100);
    /* The torn bytes are gone: a new entry is appended after the second one. */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 2 * 120);
    uint64_t s = append(sp, 4, 100);
    spool_close(sp);
    sp = open_spool(0, 0);
    expect_oldest(sp, 2, 2, 100);
    assert_int_equal(spool_done(sp, 2), 0);
    expect_oldest(sp, s, 4, 100);
    spool_close(sp);
}

static void test_cap_drops_oldest(void **state)
{
    (void)state;
    /* Entries of 8 + 12 + 1000 bytes; a cap of 3500 holds three. */
    struct spool *sp = open_spool(3500, 0);
    for (int i = 1; i <= 3; i++)
        append(sp, i, 1000);
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 0);
    append(sp, 4, 1000); /* drops batch 1 (1 record) */
    append(sp, 5, 1000); /* drops batch 2 (2 records) */
    spool_get_stats(sp, &st);
    assert_int_equal(st.pending_batches, 3);
    assert_int_equal(st.dropped_batches, 2);
    assert_int_equal(st.dropped_records, 1 + 2);
    assert_int_equal(st.bytes, 3 * 1020);
    expect_oldest(sp, 3, 3, 1000);
    /* A done for a dropped batch (one in flight when it was dropped) is ignored. */
    assert_int_equal(spool_done(sp, 1), 0);
    spool_close(sp);
    /* The dropped count survives a restart (it goes into every batch envelope). */
    sp = open_spool(3500, 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 3);
    assert_int_equal(st.pending_batches, 3);
    expect_oldest(sp, 3, 3, 1000);
    /* Batch 3 is in flight (peeked) when the cap drops it: not counted while the sender
     * may still deliver it, counted when the spool closes without that happening. */
    append(sp, 6, 1000);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 3);
    spool_close(sp);
    sp = open_spool(3500, 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 3 + 3);
    /* Delivered after all: its done arrives for a seq no longer pending; nothing counted. */
    expect_oldest(sp, 4, 4, 1000);
    append(sp, 7, 1000); /* drops batch 4 while in flight */
    assert_int_equal(spool_done(sp, 4), 0);
    spool_close(sp);
    sp = open_spool(3500, 0);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 6);
    assert_int_equal(st.pending_batches, 3); /* 5, 6, 7 */
    expect_oldest(sp, 5, 5, 1000);
    spool_close(sp);
}

/* Two batches in flight: the one after the oldest is held too (spool_peek_next). The cap
 * drops both while they are in flight: the first is delivered (counted nowhere), the
 * second is given back undelivered (counted as dropped then, 5 records). */
static void test_two_held(void **state)
{
    (void)state;
    struct spool *sp = open_spool(3500, 0); /* holds three entries of 1000 bytes */
    for (int i = 1; i <= 3; i++)
        append(sp, i, 1000);
    struct spool_batch a, b, c;
    assert_int_equal(spool_peek(sp, &a), 0);
    assert_int_equal(spool_peek_next(sp, a.seq, &b), 0);
    assert_int_equal(b.seq, 2);
    assert_int_equal(b.nrec, 2);
    uint8_t want[1000];
    payload(want, sizeof want, 2);
    assert_memory_equal(b.recs, want, sizeof want);
    /* Nothing after the newest, nor after a seq that is not pending. */
    assert_int_equal(spool_peek_next(sp, 3, &c), -ENOENT);
    assert_int_equal(spool_peek_next(sp, 9, &c), -ENOENT);
    append(sp, 5, 1000); /* drops batch 1, in flight */
    append(sp, 6, 1000); /* drops batch 2, in flight */
    struct spool_stats st;
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 0);
    assert_int_equal(spool_done(sp, a.seq), 0); /* delivered after all */
    spool_unpeek(sp, b.seq);                    /* not delivered */
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_batches, 1);
    assert_int_equal(st.dropped_records, 2);
    /* A batch held and given back while still pending is simply sent again. */
    expect_oldest(sp, 3, 3, 1000);
    assert_int_equal(spool_peek_next(sp, 3, &c), 0);
    spool_unpeek(sp, c.seq);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 2);
    assert_int_equal(st.pending_batches, 3);
    /* Peeking the oldest again gives back a batch held after it that the cap dropped. */
    xfree(a.recs);
    xfree(c.recs);
    assert_int_equal(spool_peek(sp, &a), 0);
    xfree(a.recs);
    assert_int_equal(spool_peek_next(sp, 3, &c), 0); /* batch 4, 5 records */
    assert_int_equal(c.nrec, 5);
    append(sp, 7, 1000);                     /* drops 3 (held) */
    append(sp, 8, 1000);                     /* drops 4 (held) */
    assert_int_equal(spool_peek(sp, &a), 0); /* the oldest is 5 now: 3 and 4 given back */
    assert_int_equal(a.seq, 5);
    spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_records, 2 + 3 + 5);
    spool_close(sp);
    xfree(a.recs);
    xfree(b.recs);
    xfree(c.recs);
}

/* How the shipper takes each answer (the body's encoding is tested in wire_test). */
static void test_classify(void **state)
{
    (void)state;
    assert_int_equal(ship_classify(200), SHIP_ACK);
    assert_int_equal(ship_classify(204), SHIP_ACK);
    assert_int_equal(ship_classify(400), SHIP_REJECT);
    assert_int_equal(ship_classify(413), SHIP_SPLIT);
    long retry[] = {0, 401, 403, 404, 429, 500, 503};
    for (size_t i = 0; i < sizeof retry / sizeof *retry; i++)
        assert_int_equal(ship_classify(retry[i]), SHIP_RETRY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interval_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_segments_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_catches_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_held, setup, teardown),
        cmocka_unit_test(test_classify),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
