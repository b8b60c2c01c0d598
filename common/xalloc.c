/* xalloc.c - allocation wrappers: infallible ones that abort, fallible ones for input sizes. */
#include "common/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_bool fail_armed;           /* xalloc_fail_after() is in force */
static atomic_ulong fail_seen;           /* fallible allocations since it was armed */
static atomic_ulong fail_at = ULONG_MAX; /* the first of them that fails (1-based) */

static void oom(size_t n)
{
    fprintf(stderr, "cadre: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom(nmemb * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
    char *d = xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void *xmemdup(const void *p, size_t n)
{
    void *d = xmalloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

void xfree(void *p)
{
    free(p);
}

void xgrow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    *buf = xrealloc(*buf, c * elem);
    *cap = c;
}

/* 1 when the injected failure is due for this fallible allocation. */
static int injected(void)
{
    if (!atomic_load_explicit(&fail_armed, memory_order_relaxed))
        return 0;
    unsigned long k = atomic_fetch_add(&fail_seen, 1) + 1;
    return k >= atomic_load(&fail_at);
}

void *xtry_malloc(size_t n)
{
    return injected() ? NULL : malloc(n ? n : 1);
}

void *xtry_calloc(size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size)
        return NULL;
    return injected() ? NULL : calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *xtry_realloc(void *p, size_t n)
{
    return injected() ? NULL : realloc(p, n ? n : 1);
}

int xtry_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return -ENOMEM;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return -ENOMEM;
    void *p = xtry_realloc(*buf, c * elem);
    if (!p)
        return -ENOMEM;
    *buf = p;
    *cap = c;
    return 0;
}

void xalloc_fail_after(unsigned long n)
{
    if (!n) {
        xalloc_fail_reset();
        return;
    }
    atomic_store(&fail_seen, 0);
    atomic_store(&fail_at, n);
    atomic_store(&fail_armed, true);
}

unsigned long xalloc_fail_reset(void)
{
    atomic_store(&fail_armed, false);
    atomic_store(&fail_at, ULONG_MAX);
    return atomic_exchange(&fail_seen, 0);
}
