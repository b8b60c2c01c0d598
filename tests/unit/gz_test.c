/* gz_test.c - gzip round trips, the output bound, damaged input and allocation failure. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <zlib.h>

#include "common/gz.h"
#include "common/xalloc.h"

/* Round trips: empty, short, 3 MiB of a repeating pattern (many inflate chunks). */
static void test_round_trip(void **state)
{
    (void)state;
    size_t sizes[] = {0, 5, 3 << 20};
    for (size_t k = 0; k < 3; k++) {
        size_t n = sizes[k];
        uint8_t *in = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
            in[i] = (uint8_t)("cadre"[i % 5] + i / 4096);
        size_t zlen;
        uint8_t *z = gz_deflate(in, n, &zlen);
        assert_non_null(z);
        assert_int_equal(z[0], 0x1f); /* gzip magic */
        assert_int_equal(z[1], 0x8b);
        char *out;
        size_t olen;
        assert_int_equal(gz_inflate(z, zlen, n, &out, &olen), 0);
        assert_int_equal(olen, n);
        assert_memory_equal(out, in, n);
        assert_int_equal(out[n], '\0');
        /* zlib reads what ISA-L wrote (other gzip readers agree). */
        uint8_t *back = xmalloc(n + 1);
        z_stream s = {0};
        assert_int_equal(inflateInit2(&s, 16 + MAX_WBITS), Z_OK);
        s.next_in = z, s.avail_in = (uInt)zlen, s.next_out = back, s.avail_out = (uInt)n + 1;
        assert_int_equal(inflate(&s, Z_FINISH), Z_STREAM_END);
        assert_int_equal(s.total_out, n);
        inflateEnd(&s);
        xfree(back);
        xfree(out);
        xfree(z);
        xfree(in);
    }
}

/* A bomb: 64 MiB of zeros compress to about 64 KiB; with max 1 MiB inflation stops there
 * (-E2BIG) instead of filling memory. The exact max is still fine. */
static void test_bound(void **state)
{
    (void)state;
    size_t n = 64u << 20;
    uint8_t *in = xcalloc(1, n);
    size_t zlen;
    uint8_t *z = gz_deflate(in, n, &zlen);
    assert_non_null(z);
    assert_true(zlen < n / 100);
    char *out = NULL;
    size_t olen;
    assert_int_equal(gz_inflate(z, zlen, 1 << 20, &out, &olen), -E2BIG);
    assert_null(out);
    assert_int_equal(gz_inflate(z, zlen, n, &out, &olen), 0);
    assert_int_equal(olen, n);
    xfree(out);
    xfree(z);
    xfree(in);
}

/* Not gzip, cut short, a flipped byte (checksum) and out of memory. */
static void test_bad_input(void **state)
{
    (void)state;
    char *out = NULL;
    size_t olen;
    assert_int_equal(gz_inflate("plain text", 10, 100, &out, &olen), -EINVAL);
    const char text[] = "the same sentence, again and again; the same sentence, again";
    size_t zlen;
    uint8_t *z = gz_deflate(text, sizeof text, &zlen);
    assert_int_equal(gz_inflate(z, zlen - 4, 1000, &out, &olen), -EINVAL);
    z[zlen - 6] ^= 0x55; /* inside the CRC32 of the trailer */
    assert_int_equal(gz_inflate(z, zlen, 1000, &out, &olen), -EINVAL);
    z[zlen - 6] ^= 0x55;
    xalloc_fail_after(1);
    assert_int_equal(gz_inflate(z, zlen, 1000, &out, &olen), -ENOMEM);
    xalloc_fail_after(2); /* the state is had, the output is not */
    assert_int_equal(gz_inflate(z, zlen, 1000, &out, &olen), -ENOMEM);
    xalloc_fail_after(1);
    assert_null(gz_deflate(text, sizeof text, &zlen));
    xalloc_fail_reset();
    assert_int_equal(gz_inflate(z, zlen, 1000, &out, &olen), 0);
    assert_string_equal(out, text);
    xfree(out);
    xfree(z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
