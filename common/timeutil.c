/* timeutil.c - Gregorian day arithmetic and RFC 3339 parsing, no libc time zones involved. */
#include "common/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days. */
int32_t day_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

void civil_from_day(int32_t z, int *y, int *m, int *d)
{
    z += 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)yoe + era * 400 + (*m <= 2);
}

int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dim[m - 1];
}

/* Reads n decimal digits at s into *v; 0 or -EINVAL. */
static int digits(const char *s, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 0;
}

static int parse_ymd(const char *s, int *y, int *m, int *d)
{
    if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) || s[7] != '-' || digits(s + 8, 2, d))
        return -EINVAL;
    if (*m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
        return -EINVAL;
    return 0;
}

int parse_date(const char *s, size_t len, int32_t *day)
{
    int y, m, d;
    if (len != 10 || parse_ymd(s, &y, &m, &d))
        return -EINVAL;
    *day = day_from_civil(y, m, d);
    return 0;
}

int parse_rfc3339(const char *s, size_t len, int64_t *instant, int32_t *local_day)
{
    int y, mo, d, hh, mm, ss;
    if (len < 20 || parse_ymd(s, &y, &mo, &d))
        return -EINVAL;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return -EINVAL;
    if (digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm) || s[16] != ':' ||
        digits(s + 17, 2, &ss))
        return -EINVAL;
    /* ss == 60 is an RFC 3339 leap second; it is read as the next second. */
    if (hh > 23 || mm > 59 || ss > 60)
        return -EINVAL;
    size_t i = 19;
    int64_t frac_us = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t start = i;
        int64_t scale = 100000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_us += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return -EINVAL;
    }
    int offset_min;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        offset_min = 0;
        i++;
    } else if (i + 6 <= len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 ||
            om > 59)
            return -EINVAL;
        offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != len)
        return -EINVAL;
    int32_t day = day_from_civil(y, mo, d);
    int64_t secs = (int64_t)day * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)offset_min * 60;
    *instant = secs * US_PER_SEC + frac_us;
    *local_day = day;
    return 0;
}

void format_date(int32_t day, char *out)
{
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000);
    out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10);
    out[4] = '-';
    out[5] = (char)('0' + um / 10);
    out[6] = (char)('0' + um % 10);
    out[7] = '-';
    out[8] = (char)('0' + ud / 10);
    out[9] = (char)('0' + ud % 10);
    out[10] = '\0';
}

int32_t today_local(void)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    return day_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}
