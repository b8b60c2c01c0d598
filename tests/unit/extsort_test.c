/* extsort_test.c - the external sort: one key once with its last value, across many runs,
 * more runs than are merged at once, and the buffer alone. Expected output is computed by
 * a plain in-memory model (last value per key, keys in byte order). */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/extsort.h"
#include "common/xalloc.h"

#define NKEYS 500

struct fx {
    char dir[64];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-xs.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    int rc = system(cmd);
    xfree(f);
    return rc;
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

/* Round r (0..rounds-1) adds key "k%03d" for every i with i % (r + 1) == 0, in the order
 * j * 7919 % NKEYS (not sorted), with the value "v<r>-<i>" and pad spaces. last[i] (the
 * model) gets each value as it is added, so it ends with the value added last. */
static void add_rounds(struct extsort *s, int rounds, size_t pad, char last[NKEYS][64])
{
    for (int r = 0; r < rounds; r++) {
        for (int j = 0; j < NKEYS; j++) {
            int i = j * 7919 % NKEYS;
            if (i % (r + 1))
                continue;
            char k[16], v[64];
            snprintf(k, sizeof k, "k%03d", i);
            snprintf(v, sizeof v, "v%d-%d%*s", r, i, (int)pad, "");
            assert_int_equal(extsort_add(s, k, strlen(k), v, strlen(v)), 0);
            strcpy(last[i], v);
        }
    }
}

/* Reads everything and checks it against the model: keys k000..k499 in order, once each. */
static void check_output(struct extsort *s, char last[NKEYS][64])
{
    const uint8_t *k, *v;
    size_t kl, vl;
    int i = 0, rc;
    while ((rc = extsort_next(s, &k, &kl, &v, &vl)) == 1) {
        char want[16];
        snprintf(want, sizeof want, "k%03d", i);
        assert_bytes_equal(k, kl, want);
        assert_bytes_equal(v, vl, last[i]);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, NKEYS);
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), 0);
}

/* Everything fits the buffer: no run is written. */
static void test_buffer_only(void **state)
{
    struct fx *f = *state;
    static char last[NKEYS][64];
    struct extsort *s = extsort_new(1 << 20, f->dir);
    add_rounds(s, 3, 0, last);
    assert_int_equal(extsort_finish(s), 0);
    assert_int_equal(extsort_runs(s), 0);
    check_output(s, last);
    extsort_free(s);
}

/* A 512-byte buffer holds about 19 entries (8 bytes of lengths, 4 of key, ~6 of value, 8
 * of index): 3 rounds add 500 + 250 + 167 = 917 pairs, some 48 runs, merged at once. */
static void test_runs_merged_at_once(void **state)
{
    struct fx *f = *state;
    static char last[NKEYS][64];
    struct extsort *s = extsort_new(512, f->dir);
    add_rounds(s, 3, 0, last);
    assert_int_equal(extsort_finish(s), 0);
    assert_true(extsort_runs(s) > 40 && extsort_runs(s) < EXTSORT_FANIN);
    assert_int_equal(count_files(f->dir), 0); /* anonymous files */
    check_output(s, last);
    extsort_free(s);
}

/* Values padded to ~60 bytes and a 256-byte buffer: ~3 pairs a run, several hundred runs,
 * merged in groups of 64 first (more runs written than read at the end). */
static void test_more_runs_than_fanin(void **state)
{
    struct fx *f = *state;
    static char last[NKEYS][64];
    struct extsort *s = extsort_new(256, f->dir);
    add_rounds(s, 4, 50, last);
    size_t before = extsort_runs(s);
    assert_true(before > 4 * EXTSORT_FANIN);
    assert_int_equal(extsort_finish(s), 0);
    /* One grouping pass writes a merged run per group of 64 (a last group of one run is
     * kept as it is); fewer than 64 runs are then left with the buffer. */
    size_t groups = before / EXTSORT_FANIN + (before % EXTSORT_FANIN > 1);
    assert_true(before / EXTSORT_FANIN + 2 <= EXTSORT_FANIN);
    assert_int_equal(extsort_runs(s), before + groups);
    check_output(s, last);
    extsort_free(s);
}

static void test_limits(void **state)
{
    struct fx *f = *state;
    struct extsort *s = extsort_new(1024, f->dir);
    const uint8_t *k, *v;
    size_t kl, vl;
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), -EINVAL); /* before finish */
    static uint8_t big[EXTSORT_MAX_KEY + 1];
    assert_int_equal(extsort_add(s, big, sizeof big, "v", 1), -EINVAL);
    /* A pair larger than the whole buffer still goes through. */
    assert_int_equal(extsort_add(s, "a", 1, big, 4000), 0);
    assert_int_equal(extsort_add(s, "b", 1, "x", 1), 0);
    assert_int_equal(extsort_finish(s), 0);
    assert_int_equal(extsort_runs(s), 1);
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), 1);
    assert_bytes_equal(k, kl, "a");
    assert_int_equal(vl, 4000);
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), 1);
    assert_bytes_equal(k, kl, "b");
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), 0);
    assert_int_equal(extsort_add(s, "c", 1, "x", 1), -EINVAL); /* after finish */
    extsort_free(s);
    /* Empty. */
    s = extsort_new(1024, NULL);
    assert_int_equal(extsort_finish(s), 0);
    assert_int_equal(extsort_next(s, &k, &kl, &v, &vl), 0);
    extsort_free(s);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_buffer_only),
        T(test_runs_merged_at_once),
        T(test_more_runs_than_fanin),
        T(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
