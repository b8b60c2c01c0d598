/* xalloc.h - the one allocator of Cadre: abort on exhaustion, injectable failures in tests. */
#ifndef CADRE_XALLOC_H
#define CADRE_XALLOC_H

#include <stddef.h>

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

#endif
