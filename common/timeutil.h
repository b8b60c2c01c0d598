/* timeutil.h - calendar days and instants: the two kinds of time in Cadre's inputs. */
#ifndef CADRE_TIMEUTIL_H
#define CADRE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* A day is the number of days since 1970-01-01 (negative before). An instant is
 * microseconds since 1970-01-01T00:00:00Z. */

#define US_PER_SEC INT64_C(1000000)
#define US_PER_HOUR (3600 * US_PER_SEC)

/* Days since the epoch of a proleptic Gregorian date (no validation). */
int32_t day_from_civil(int y, int m, int d);
/* Inverse of day_from_civil. */
void civil_from_day(int32_t day, int *y, int *m, int *d);

/* Days in month m (1-12) of Gregorian year y. */
int days_in_month(int y, int m);

/* Parses exactly "YYYY-MM-DD" (len bytes, no NUL needed). Returns 0 and sets *day, or
 * -EINVAL for any other text or an impossible date. */
int parse_date(const char *s, size_t len, int32_t *day);

/* Parses an RFC 3339 timestamp: date, 'T' (or 't' or one space), hh:mm:ss, optional
 * fraction (any number of digits; kept to microseconds, the rest truncated), then 'Z'/'z'
 * or +hh:mm / -hh:mm. Sets *instant (UTC) and *local_day, the calendar date as written in
 * the timestamp's own offset. Returns 0 or -EINVAL. */
int parse_rfc3339(const char *s, size_t len, int64_t *instant, int32_t *local_day);

/* Writes "YYYY-MM-DD" and a NUL into out (at least 11 bytes). */
void format_date(int32_t day, char *out);

/* Today's local date as a day number (the machine's time zone). */
int32_t today_local(void);

#endif
