/* seqfile_test.c - buffered sequential reads and writes: round trips, CRC32C, the end of a
 * file, reads larger than the buffer, anonymous temporary files. */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/seqfile.h"
#include "common/xalloc.h"

struct fx {
    char dir[64];
    int fd;
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-sf.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->fd = seqfile_tmp(f->dir);
    if (f->fd < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    close(f->fd);
    int rc = rmdir(f->dir); /* fails if a temporary file was left behind */
    xfree(f);
    return rc;
}

/* CRC32C of "123456789" is the standard check value 0xE3069283; the running value kept
 * here is before the final inversion, so it is ~0xE3069283 = 0x1CF96D7C. */
static void test_crc_check_value(void **state)
{
    struct fx *f = *state;
    struct seqw w;
    seqw_init(&w, f->fd, 4); /* smaller than the data: two flushes on the way */
    seqw_put(&w, "123456789", 9);
    assert_int_equal(seqw_crc(&w), 0x1CF96D7Cu);
    assert_int_equal(w.written, 9);
    assert_int_equal(seqw_flush(&w), 0);
    seqw_free(&w);
    assert_int_equal(lseek(f->fd, 0, SEEK_SET), 0);
    struct seqr r;
    seqr_init(&r, f->fd, 4);
    const uint8_t *p = seqr_get(&r, 9); /* more than the buffer: it grows */
    assert_non_null(p);
    assert_bytes_equal(p, 9, "123456789");
    assert_int_equal(seqr_crc(&r), 0x1CF96D7Cu);
    assert_null(seqr_get(&r, 1)); /* the end, exactly */
    assert_int_equal(r.err, 0);
    seqr_free(&r);
    /* Byte by byte through a 2-byte buffer: the CRC follows what was returned, across
     * refills, and matches a writer's after the same first 4 bytes. */
    struct seqw w4;
    seqw_init(&w4, -1, 64); /* never flushed */
    seqw_put(&w4, "1234", 4);
    assert_int_equal(lseek(f->fd, 0, SEEK_SET), 0);
    seqr_init(&r, f->fd, 2);
    for (int i = 0; i < 9; i++) {
        assert_int_equal(seqr_u8(&r), "123456789"[i]);
        if (i == 3)
            assert_int_equal(seqr_crc(&r), seqw_crc(&w4));
    }
    assert_int_equal(seqr_crc(&r), 0x1CF96D7Cu);
    seqr_free(&r);
    seqw_free(&w4);
}

static void test_integers_and_end(void **state)
{
    struct fx *f = *state;
    struct seqw w;
    seqw_init(&w, f->fd, 64);
    seqw_u8(&w, 0xAB);
    seqw_u32(&w, 0x01020304u);
    seqw_u64(&w, 0x1122334455667788ull);
    seqw_put(&w, "xy", 2);
    assert_int_equal(seqw_flush(&w), 0);
    seqw_free(&w);
    /* The bytes on disk are big-endian. */
    uint8_t raw[15];
    assert_int_equal(pread(f->fd, raw, sizeof raw, 0), 15);
    const uint8_t want[15] = {0xAB, 1,    2,    3,    4,    0x11, 0x22, 0x33,
                              0x44, 0x55, 0x66, 0x77, 0x88, 'x',  'y'};
    assert_memory_equal(raw, want, 15);
    assert_int_equal(lseek(f->fd, 0, SEEK_SET), 0);
    struct seqr r;
    seqr_init(&r, f->fd, 3);
    assert_int_equal(seqr_u8(&r), 0xAB);
    assert_int_equal(seqr_u32(&r), 0x01020304u);
    assert_int_equal(seqr_u64(&r), 0x1122334455667788ull);
    assert_int_equal(r.consumed, 13);
    assert_null(seqr_get(&r, 3)); /* only 2 bytes are left */
    assert_int_equal(r.err, -EBADMSG);
    assert_int_equal(seqr_u8(&r), 0); /* errors stick */
    seqr_free(&r);
}

/* A write error sticks: a read-only descriptor cannot be written. */
static void test_write_error_sticks(void **state)
{
    struct fx *f = *state;
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    struct seqw w;
    seqw_init(&w, fd, 2);
    seqw_put(&w, "abcdef", 6);
    assert_int_equal(w.err, -EBADF);
    assert_int_equal(seqw_flush(&w), -EBADF);
    seqw_free(&w);
    close(fd);
    (void)f;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_crc_check_value),
        T(test_integers_and_end),
        T(test_write_error_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
