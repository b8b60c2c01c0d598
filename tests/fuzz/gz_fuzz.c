/* gz_fuzz.c - libFuzzer target for common/gz.c: bounded gzip inflation of any bytes.
 *
 * gz_inflate of the input with a 1 MiB bound answers 0, -E2BIG or -EINVAL (never more
 * output than the bound, never a crash); what it inflates deflates and inflates back to
 * the same bytes. The input is also deflated and inflated back as it is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/gz.h"
#include "common/xalloc.h"

#define MAX (1u << 20)

static void fail(const char *what)
{
    fprintf(stderr, "gz_fuzz: %s\n", what);
    abort();
}

static void round_trip(const uint8_t *data, size_t size)
{
    size_t zlen;
    uint8_t *z = gz_deflate(data, size, &zlen);
    if (!z)
        fail("deflate failed");
    char *back;
    size_t blen;
    if (gz_inflate(z, zlen, size, &back, &blen) || blen != size || memcmp(back, data, size))
        fail("round trip differs");
    xfree(back);
    xfree(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = NULL;
    size_t olen = 0;
    int rc = gz_inflate(data, size, MAX, &out, &olen);
    if (rc == 0) {
        if (olen > MAX || out[olen] != '\0')
            fail("output past the bound or not terminated");
        round_trip((const uint8_t *)out, olen);
        xfree(out);
    } else if (rc != -E2BIG && rc != -EINVAL) {
        fail("unexpected error");
    } else if (out) {
        fail("output set on error");
    }
    round_trip(data, size);
    return 0;
}
