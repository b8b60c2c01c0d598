/* decimal_fuzz.c - libFuzzer target for common/decimal: parse, format, parse again.
 *
 * The whole input is the text. decimal_parse must return 0, -EINVAL or -ERANGE. On 0 the
 * value is formatted and parsed back to the same value, the text must be what a plain
 * decimal looks like (so strtold reads it too) and agree with strtold within rounding;
 * -ERANGE must only come for magnitudes near or past 9.2e12.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"

static void fail(const char *what, const char *text, int64_t v)
{
    fprintf(stderr, "decimal_fuzz: %s: \"%s\" -> %lld\n", what, text, (long long)v);
    abort();
}

/* The syntax decimal.h promises: [+-] digits with at most one '.', at least one digit,
 * then optionally e/E [+-] digits. */
static int plain_decimal(const char *s, size_t len)
{
    size_t i = 0, nd = 0, np = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < len && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'); i++)
        s[i] == '.' ? np++ : nd++;
    if (nd == 0 || np > 1)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t ne = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            ne++;
        if (ne == 0)
            return 0;
    }
    return i == len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char text[4097];
    memcpy(text, data, size);
    text[size] = '\0';
    int64_t v = INT64_MIN;
    int rc = decimal_parse(text, size, &v);
    int plain = plain_decimal(text, size);
    if (rc != 0 && rc != -EINVAL && rc != -ERANGE)
        fail("unexpected return code", text, rc);
    if ((rc == 0 || rc == -ERANGE) != plain)
        fail(plain ? "plain decimal refused as not a number" : "non-number accepted", text, v);
    if (rc == -EINVAL)
        return 0;
    /* Reference value in millionths. long double keeps 64 bits of mantissa: good to
     * about 1e-19 relative, so allow half a millionth plus that. */
    long double ref = strtold(text, NULL) * 1e6L;
    long double mag = fabsl(ref);
    if (rc == -ERANGE) {
        if (mag < 9.19e18L)
            fail("-ERANGE for a value in range", text, 0);
        return 0;
    }
    if (v <= -INT64_C(9200000000000000000) || v >= INT64_C(9200000000000000000))
        fail("value out of the promised range", text, v);
    long double err = fabsl(ref - (long double)v);
    if (err > 0.5L + mag * 1e-18L)
        fail("value disagrees with strtold", text, v);
    char out[64];
    memset(out, 'x', sizeof out);
    int n = decimal_format(v, out);
    if (n <= 0 || n >= 24 || out[n] != '\0' || strlen(out) != (size_t)n)
        fail("decimal_format length", text, v);
    int64_t back = INT64_MIN;
    if (decimal_parse(out, (size_t)n, &back) != 0 || back != v)
        fail("round trip through decimal_format", out, v);
    /* Shortest: no trailing zero after a point, no leading zero, no "-0". */
    if (strchr(out, '.') && (out[n - 1] == '0' || out[n - 1] == '.'))
        fail("formatted with a trailing zero", out, v);
    const char *mant = out + (out[0] == '-');
    if ((v < 0) != (out[0] == '-') || (v == 0 && strcmp(out, "0") != 0) ||
        (v != 0 && mant[0] == '0' && mant[1] != '.'))
        fail("formatted with a wrong sign or a leading zero", out, v);
    return 0;
}
