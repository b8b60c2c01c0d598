/* sbuf.c - growing byte buffer. */
#include "common/sbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/xalloc.h"

void sbuf_add(struct sbuf *b, const void *data, size_t len)
{
    xgrow((void **)&b->p, &b->cap, b->len + len + 1, 1);
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void sbuf_reserve(struct sbuf *b, size_t n)
{
    xgrow((void **)&b->p, &b->cap, b->len + n + 1, 1);
}

int sbuf_try_reserve(struct sbuf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return -ENOMEM;
    return xtry_grow((void **)&b->p, &b->cap, b->len + n + 1, 1);
}

int sbuf_try_add(struct sbuf *b, const void *data, size_t len)
{
    int rc = sbuf_try_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
    return 0;
}

void sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    xgrow((void **)&b->p, &b->cap, b->len + (size_t)n + 1, 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sbuf_take(struct sbuf *b, size_t *len)
{
    char *p = b->p ? b->p : xcalloc(1, 1);
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void sbuf_free(struct sbuf *b)
{
    xfree(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
