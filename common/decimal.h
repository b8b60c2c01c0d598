/* decimal.h - exact decimal numbers kept as integer millionths ("micros"). */
#ifndef CADRE_DECIMAL_H
#define CADRE_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define MICRO INT64_C(1000000)

/* Parses a decimal number (optional sign, digits with an optional '.', an optional
 * exponent e[+-]N) of len bytes into millionths, rounding past the sixth fractional
 * digit half away from zero. No white space, no hex, no inf/nan. Returns 0, or -EINVAL for
 * text that is not a number, or -ERANGE when |value| >= 9.2e12. */
int decimal_parse(const char *s, size_t len, int64_t *micros);

/* Formats millionths as the shortest exact decimal ("12.5", "-0.000001", "3") into out,
 * which holds at least 24 bytes. Returns the length. */
int decimal_format(int64_t micros, char *out);

#endif
