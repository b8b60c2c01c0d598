/* checkpoint_test.c - agent/checkpoint: atomic write, reload, torn and corrupt files.
 *
 * The file layout checked here is the one ckpt_write documents: "CADRECK1", the length as
 * a big-endian u64, the data, then a 4-byte CRC32C. A damaged file must read as -EBADMSG,
 * so every single-byte flip and every truncation is tried.
 */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "common/xalloc.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/cadre-ckpt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* The whole file dir/name; caller frees with xfree. */
static uint8_t *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = xmalloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    return buf;
}

static void spill(const char *name, const uint8_t *p, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void assert_reads(const char *name, const char *want)
{
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(ckpt_read(dir, name, &data, &len), 0);
    assert_bytes_equal(data, len, want);
    xfree(data);
}

static void test_write_reload(void **state)
{
    (void)state;
    assert_int_equal(ckpt_write(dir, "state", "hello", 5, true), 0);
    size_t len;
    uint8_t *raw = slurp("state", &len);
    assert_int_equal(len, 16 + 5 + 4);
    assert_memory_equal(raw, "CADRECK1", 8);
    assert_memory_equal(raw + 8, "\0\0\0\0\0\0\0\5", 8);
    assert_memory_equal(raw + 16, "hello", 5);
    xfree(raw);
    assert_reads("state", "hello");

    /* Rewriting replaces; an empty checkpoint is a valid one. */
    assert_int_equal(ckpt_write(dir, "state", "second", 6, false), 0);
    assert_reads("state", "second");
    assert_int_equal(ckpt_write(dir, "empty", "", 0, true), 0);
    assert_reads("empty", "");

    /* No temporary file is left behind. */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/.state.tmp", dir);
    assert_int_equal(access(tmp, F_OK), -1);

    uint8_t *data = NULL;
    size_t n = 0;
    assert_int_equal(ckpt_read(dir, "absent", &data, &n), -ENOENT);
    assert_null(data);

    /* Plain files hold exactly the bytes. */
    assert_int_equal(ckpt_write_plain(dir, "plain", "abc", 3, true), 0);
    raw = slurp("plain", &len);
    assert_bytes_equal(raw, len, "abc");
    xfree(raw);
}

/* A write that cannot finish leaves the old file as it was. */
static void test_failed_write_keeps_old(void **state)
{
    (void)state;
    assert_int_equal(ckpt_write(dir, "keep", "old", 3, true), 0);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s/.keep.tmp", dir);
    assert_int_equal(mkdir(tmp, 0700), 0); /* the temporary file cannot be created */
    assert_int_equal(ckpt_write(dir, "keep", "new", 3, true), -EISDIR);
    assert_reads("keep", "old");
    assert_int_equal(rmdir(tmp), 0);

    /* A stale temporary file from a crash is overwritten by the next write. */
    spill(".keep.tmp", (const uint8_t *)"garbage", 7);
    assert_reads("keep", "old");
    assert_int_equal(ckpt_write(dir, "keep", "new", 3, true), 0);
    assert_reads("keep", "new");

    char missing[256];
    snprintf(missing, sizeof missing, "%s/no-such-dir", dir);
    assert_int_equal(ckpt_write(missing, "x", "y", 1, true), -ENOENT);
}

static void test_torn_and_corrupt(void **state)
{
    (void)state;
    static const char payload[] = "checkpoint payload, 33 bytes long";
    assert_int_equal(ckpt_write(dir, "good", payload, sizeof payload - 1, true), 0);
    size_t len;
    uint8_t *raw = slurp("good", &len);
    assert_int_equal(len, 16 + 33 + 4);
    uint8_t *data = NULL;
    size_t n = 0;
    /* Every single-byte flip: magic, length, data and CRC are all covered. */
    for (size_t i = 0; i < len; i++) {
        raw[i] ^= 0x01;
        spill("bad", raw, len);
        raw[i] ^= 0x01;
        assert_int_equal(ckpt_read(dir, "bad", &data, &n), -EBADMSG);
    }
    /* Every torn write (a prefix of the file), the empty file included. */
    for (size_t cut = 0; cut < len; cut++) {
        spill("bad", raw, cut);
        assert_int_equal(ckpt_read(dir, "bad", &data, &n), -EBADMSG);
    }
    /* Trailing bytes after a whole checkpoint are damage too. */
    uint8_t longer[128];
    memcpy(longer, raw, len);
    longer[len] = 0;
    spill("bad", longer, len + 1);
    assert_int_equal(ckpt_read(dir, "bad", &data, &n), -EBADMSG);
    assert_null(data);
    /* The intact copy still reads. */
    spill("bad", raw, len);
    assert_reads("bad", payload);
    xfree(raw);
}

static void test_buf_helpers(void **state)
{
    (void)state;
    struct ckpt_buf b = {0};
    ckpt_put_u64(&b, UINT64_C(0x0102030405060708));
    ckpt_put_bytes(&b, "key", 3);
    ckpt_put_u64(&b, 7);
    assert_int_equal(b.len, 8 + 8 + 3 + 8);
    struct ckpt_in in = {.p = b.p, .len = b.len};
    assert_int_equal(ckpt_get_u64(&in), UINT64_C(0x0102030405060708));
    const uint8_t *p;
    assert_int_equal(ckpt_get_bytes(&in, &p), 3);
    assert_memory_equal(p, "key", 3);
    assert_int_equal(ckpt_get_u64(&in), 7);
    assert_false(in.bad);
    /* Reading past the end sets bad and yields zero. */
    assert_int_equal(ckpt_get_u64(&in), 0);
    assert_true(in.bad);
    /* A length that claims more than is left is a short read too. */
    struct ckpt_in cut = {.p = b.p, .len = 8 + 8 + 2};
    ckpt_get_u64(&cut);
    assert_int_equal(ckpt_get_bytes(&cut, &p), 0);
    assert_true(cut.bad);
    ckpt_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_keeps_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_and_corrupt, setup, teardown),
        cmocka_unit_test(test_buf_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
