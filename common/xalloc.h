/* xalloc.h - the one allocator of Cadre: abort on exhaustion, injectable failures in tests. */
#ifndef CADRE_XALLOC_H
#define CADRE_XALLOC_H

#include <stddef.h>

/* The rule: an allocation whose size a peer or a file decides (a request body, a batch
 * unpacked into an arena, a decoded buffer, a line of a CSV or JSON file) uses the
 * fallible xtry_* variants and its caller returns -ENOMEM (the aggregator then answers
 * 503), so a hostile or broken input cannot abort the process. Everything else - sizes
 * the program decides itself, bounded by configuration - uses the infallible x* calls. */

/* xmalloc, xcalloc, xrealloc and xstrdup never return NULL: out of memory is fatal
 * (logged, then abort()). The caller frees the result with xfree(). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);
void xfree(void *p);

/* Grows *buf (capacity *cap, in elements of size elem) to hold at least need elements,
 * doubling. Takes ownership of the old *buf. */
void xgrow(void **buf, size_t *cap, size_t need, size_t elem);

/* Fallible variants: NULL (xtry_grow: -ENOMEM) when memory is exhausted, when the size
 * overflows, or when a failure injected by xalloc_fail_after() is due. xtry_realloc leaves
 * p untouched on failure and xtry_grow leaves *buf and *cap untouched. The caller frees
 * the result with xfree(). Thread-safe. */
void *xtry_malloc(size_t n);
void *xtry_calloc(size_t nmemb, size_t size);
void *xtry_realloc(void *p, size_t n);
int xtry_grow(void **buf, size_t *cap, size_t need, size_t elem);

/* Test hook: the nth fallible allocation from now (n >= 1) fails, and every later one too,
 * until xalloc_fail_reset(); n == 0 is the same as xalloc_fail_reset(). Only the xtry_*
 * calls count; the infallible x* calls never fail this way. Compiled into every build:
 * it costs one atomic load per fallible allocation, and tests then link the very library
 * the programs use. Process-wide (a counter shared by all threads). */
void xalloc_fail_after(unsigned long n);
/* Stops injecting failures. Returns the number of fallible allocations attempted since the
 * last xalloc_fail_after() (the failed ones included), so a test learns a path's count. */
unsigned long xalloc_fail_reset(void);

#endif
