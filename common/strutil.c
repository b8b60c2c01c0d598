/* strutil.c - trimming, case folding and label validation on byte strings. */
#include "common/strutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

void str_trim(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n && is_ascii_space((unsigned char)p[0])) {
        p++;
        n--;
    }
    while (n && is_ascii_space((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

void str_lower(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
}

bool str_ieq(const char *s, size_t len, const char *word)
{
    size_t i = 0;
    for (; i < len; i++) {
        char a = s[i], b = word[i];
        if (!b)
            return false;
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return word[i] == '\0';
}

/* Length of the UTF-8 sequence at s (at most n bytes), or 0 when invalid. Rejects
 * overlong forms, surrogates and code points past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xE0) == 0xC0) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

bool str_is_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        /* ASCII eight bytes at a time: most text is, and this runs on every log line. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & UINT64_C(0x8080808080808080))
                break;
            i += 8;
        }
        if (i == len)
            break;
        unsigned cp;
        size_t l = utf8_seq(p + i, len - i, &cp);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

bool str_is_label(const char *s, size_t len, size_t max)
{
    if (len < 1 || len > max)
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = utf8_seq(p + i, len - i, &cp);
        if (!l || cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
            return false;
        i += l;
    }
    return true;
}

bool str_is_ident(const char *s, size_t len)
{
    if (len < 1 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

int str_parse_size(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v < '0' || *v > '9') /* strtoull would take a sign or white space */
        return -EINVAL;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || errno)
        return -EINVAL;
    uint64_t mult;
    if (*end == '\0')
        mult = 1;
    else if (strcmp(end, "KiB") == 0)
        mult = 1024;
    else if (strcmp(end, "MiB") == 0)
        mult = 1024 * 1024;
    else if (strcmp(end, "GiB") == 0)
        mult = 1024ull * 1024 * 1024;
    else
        return -EINVAL;
    if (n > UINT64_MAX / mult)
        return -ERANGE;
    *out = n * mult;
    return 0;
}
