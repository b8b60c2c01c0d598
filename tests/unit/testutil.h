/* testutil.h - assertions cmocka 1.1.5 lacks: exact doubles and byte strings. */
#ifndef CADRE_TESTUTIL_H
#define CADRE_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* Fails unless a == b exactly (bitwise equal doubles, or both NaN). */
#define assert_double_exact(a, b)                                                       \
    do {                                                                                \
        double a_ = (a), b_ = (b);                                                      \
        if (!(a_ == b_ || (a_ != a_ && b_ != b_)))                                      \
            fail_msg("%s == %.17g, expected %.17g (%s)", #a, a_, b_, #b);               \
    } while (0)

/* Fails unless the NUL-terminated string s equals the first len bytes of p. */
#define assert_bytes_equal(p, len, s)                                                   \
    do {                                                                                \
        size_t l_ = (len);                                                              \
        if (l_ != strlen(s) || memcmp((p), (s), l_) != 0)                               \
            fail_msg("%s is \"%.*s\", expected \"%s\"", #p, (int)l_, (const char *)(p), \
                     (s));                                                              \
    } while (0)

#endif
