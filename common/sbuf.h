/* sbuf.h - a growing byte buffer for building response bodies and lines. */
#ifndef CADRE_SBUF_H
#define CADRE_SBUF_H

#include <stddef.h>

struct sbuf {
    char *p; /* NUL-terminated contents (NULL while empty and never grown) */
    size_t len;
    size_t cap;
};

void sbuf_add(struct sbuf *b, const void *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
/* Makes room for n more bytes: b->p + b->len then has n writable bytes plus one for the
 * NUL. A caller that writes there adds what it wrote to b->len and stores the NUL. */
void sbuf_reserve(struct sbuf *b, size_t n);
/* As sbuf_add and sbuf_reserve, for lengths that input decides: 0, or -ENOMEM with b
 * unchanged when memory runs out (xtry_grow underneath). */
int sbuf_try_add(struct sbuf *b, const void *data, size_t len);
int sbuf_try_reserve(struct sbuf *b, size_t n);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the contents to the caller (free with xfree; never NULL) and empties b. */
char *sbuf_take(struct sbuf *b, size_t *len);
void sbuf_free(struct sbuf *b);

#endif
