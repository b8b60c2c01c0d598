/* decimal.c - exact decimal parsing into integer millionths. */
#include "common/decimal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Past this many significant digits the value is out of range anyway (|v| < 9.2e12 with
 * 6 fractional digits needs at most 19). */
#define MAX_DIGITS 40

int decimal_parse(const char *s, size_t len, int64_t *micros)
{
    size_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    /* Collect the digits of the mantissa with the position of the decimal point. */
    char dig[MAX_DIGITS];
    int nd = 0, point = -1, ndigits_seen = 0;
    long exp10 = 0; /* decimal exponent adjustment from dropped leading digits */
    for (; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (point >= 0)
                return -EINVAL;
            point = ndigits_seen;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        ndigits_seen++;
        if (nd == 0 && c == '0') { /* leading zero: shifts nothing */
            if (point >= 0)
                exp10--;
            continue;
        }
        if (nd < MAX_DIGITS) {
            dig[nd++] = c;
            if (point >= 0)
                exp10--;
        } else if (point < 0) {
            exp10++; /* dropped integer digit */
        }
    }
    if (ndigits_seen == 0)
        return -EINVAL;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= len)
            return -EINVAL;
        long e = 0;
        for (; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -EINVAL;
            if (e < 100000)
                e = e * 10 + (s[i] - '0');
        }
        exp10 += eneg ? -e : e;
    }
    if (i != len)
        return -EINVAL;
    if (nd == 0) {
        *micros = 0;
        return 0;
    }
    /* value = 0.dig * 10^(nd + exp10); in millionths scale by 10^6. */
    long shift = exp10 + 6; /* value_micros = digits_as_int * 10^shift */
    if (nd + shift > 19)
        return -ERANGE;
    /* Integer part of digits * 10^shift, and the first dropped digit for rounding. */
    unsigned long long v = 0;
    int keep = (int)(nd + shift); /* number of leading digits that stay */
    for (int k = 0; k < keep && k < nd; k++)
        v = v * 10 + (unsigned)(dig[k] - '0');
    for (int k = nd; k < keep; k++)
        v = v * 10;
    if (keep >= 0 && keep < nd && dig[keep] >= '5')
        v++; /* half away from zero: the magnitude rounds up */
    if (v >= 9200000000000000000ULL)
        return -ERANGE;
    *micros = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int decimal_format(int64_t micros, char *out)
{
    unsigned long long a = micros < 0 ? -(unsigned long long)micros : (unsigned long long)micros;
    unsigned long long ip = a / 1000000, fp = a % 1000000;
    int n = snprintf(out, 24, "%s%llu", micros < 0 ? "-" : "", ip);
    if (fp) {
        char f[8];
        snprintf(f, sizeof f, "%06llu", fp);
        int fl = 6;
        while (f[fl - 1] == '0')
            fl--;
        n += snprintf(out + n, 24 - (size_t)n, ".%.*s", fl, f);
    }
    return n;
}
