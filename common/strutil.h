/* strutil.h - small byte-string helpers shared by the agent's parsers. */
#ifndef CADRE_STRUTIL_H
#define CADRE_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trims ASCII white space (space, \t, \n, \v, \f, \r) from both ends of [*s, *s + *len). */
void str_trim(const char **s, size_t *len);
/* ASCII-lowercases len bytes in place. */
void str_lower(char *s, size_t len);
/* True when [s, s+len) equals the NUL-terminated word ignoring ASCII case. */
bool str_ieq(const char *s, size_t len, const char *word);
/* True when s is 1..max bytes of printable UTF-8 (no control characters, valid sequences). */
bool str_is_label(const char *s, size_t len, size_t max);
/* True when s is 1..64 characters of [a-z0-9._-] (tool names, agent ids). */
bool str_is_ident(const char *s, size_t len);
/* True when len bytes are valid UTF-8. */
bool str_is_utf8(const char *s, size_t len);

/* Parses a byte size: decimal digits with an optional KiB, MiB or GiB suffix (no sign, no
 * space). Returns 0, -EINVAL for other text or -ERANGE past 2^64 - 1. */
int str_parse_size(const char *v, uint64_t *out);

#endif
