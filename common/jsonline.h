/* jsonline.h - a strict, allocation-free scanner for one JSON object per line (RFC 8259).
 *
 * Built for usage logs: it checks the whole text against the JSON grammar and hands back
 * only the top-level members the caller names, without building a tree. Strings come back
 * decoded (escapes and surrogate pairs resolved), numbers as their exact text.
 */
#ifndef CADRE_JSONLINE_H
#define CADRE_JSONLINE_H

#include <stddef.h>

/* Nesting deeper than this (arrays and objects inside the top-level object) is refused. */
#define JSONLINE_MAX_DEPTH 64

enum jsonline_type {
    JSONLINE_ABSENT, /* the member is not in the object */
    JSONLINE_NULL,
    JSONLINE_FALSE,
    JSONLINE_TRUE,
    JSONLINE_NUMBER, /* s/len: the number's text as written, e.g. "-1.5e3" */
    JSONLINE_STRING, /* s/len: the decoded UTF-8 text; never contains a NUL byte */
    JSONLINE_ARRAY,
    JSONLINE_OBJECT,
};

struct jsonline_value {
    enum jsonline_type type;
    const char *s; /* NUMBER and STRING: points into the line or into scratch */
    size_t len;
};

/* Scans s[0..len): exactly one JSON object, with only JSON white space around it. For
 * each top-level member whose (decoded) name equals names[i], i < n (names distinct and
 * non-empty), fills vals[i]; a name given twice in the object takes its last value;
 * members not asked for are checked and skipped. scratch must hold len bytes; decoded
 * strings that contained escapes live there (others point into s), so both must outlive
 * vals.
 * Refused (-EINVAL, vals then undefined): bad grammar, bytes that are not UTF-8, control
 * characters in strings, lone surrogates, "\u0000" (strings never hold NUL), nesting past
 * JSONLINE_MAX_DEPTH. Returns 0 or -EINVAL. Thread-safe; allocates nothing. */
int jsonline_scan(const char *s, size_t len, const char *const *names, size_t n,
                  struct jsonline_value *vals, char *scratch);

#endif
