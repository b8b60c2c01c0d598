/* seqfile.c - buffered sequential file reads and writes with a running CRC32C. */
#include "agent/seqfile.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/reckey.h"
#include "common/xalloc.h"

int seqfile_tmp(const char *dir)
{
    if (!dir || !*dir)
        dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/.cadre-tmp.XXXXXX", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    unlink(path);
    return fd;
}

/* ---- writing ---- */

void seqw_init(struct seqw *w, int fd, size_t cap)
{
    *w = (struct seqw){.fd = fd, .buf = xmalloc(cap), .cap = cap, .crc = 0xFFFFFFFFu};
}

/* The CRC is taken over the buffer as it goes out, not at every seqw_put: most puts are
 * a few bytes, and a call per put cost 3% of the agent's time on large snapshots. */
int seqw_flush(struct seqw *w)
{
    if (!w->err && w->len)
        w->crc = crc32_iscsi(w->buf, (int)w->len, w->crc);
    size_t off = 0;
    while (!w->err && off < w->len) {
        ssize_t n = write(w->fd, w->buf + off, w->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            w->err = -errno;
        else
            off += (size_t)n;
    }
    w->len = 0;
    return w->err;
}

void seqw_put(struct seqw *w, const void *p, size_t n)
{
    if (w->err || !n)
        return;
    w->written += n;
    const uint8_t *b = p;
    while (n && !w->err) {
        if (w->len == w->cap)
            seqw_flush(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, b, k);
        w->len += k;
        b += k;
        n -= k;
    }
}

void seqw_u8(struct seqw *w, uint8_t v)
{
    seqw_put(w, &v, 1);
}

void seqw_u32(struct seqw *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    seqw_put(w, b, 4);
}

void seqw_u64(struct seqw *w, uint64_t v)
{
    uint8_t b[8];
    be_put_u64(b, v);
    seqw_put(w, b, 8);
}

uint32_t seqw_crc(const struct seqw *w)
{
    return w->len ? crc32_iscsi(w->buf, (int)w->len, w->crc) : w->crc;
}

void seqw_free(struct seqw *w)
{
    xfree(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

/* ---- reading ---- */

void seqr_init(struct seqr *r, int fd, size_t cap)
{
    *r = (struct seqr){.fd = fd, .buf = xmalloc(cap), .cap = cap, .crc = 0xFFFFFFFFu};
}

/* Reads until n bytes are buffered from pos on, or the file ends. */
static void fill(struct seqr *r, size_t n)
{
    if (r->pos + n > r->cap) {
        /* What was returned leaves the buffer: into the CRC first (see seqw_flush). */
        if (r->pos > r->crc_pos)
            r->crc = crc32_iscsi(r->buf + r->crc_pos, (int)(r->pos - r->crc_pos), r->crc);
        r->crc_pos = 0;
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        if (n > r->cap)
            xgrow((void **)&r->buf, &r->cap, n, 1);
    }
    while (r->len - r->pos < n) {
        ssize_t k = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            r->err = -errno;
            return;
        }
        if (k == 0)
            return;
        r->len += (size_t)k;
    }
}

const uint8_t *seqr_get(struct seqr *r, size_t n)
{
    if (r->err)
        return NULL;
    if (r->len - r->pos < n)
        fill(r, n);
    if (r->err)
        return NULL;
    size_t have = r->len - r->pos;
    if (have < n) {
        if (have)
            r->err = -EBADMSG;
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    r->consumed += n;
    return p;
}

/* seqr_get for the fixed-size helpers: the end of the file is an error there. */
static const uint8_t *get_fixed(struct seqr *r, size_t n)
{
    const uint8_t *p = seqr_get(r, n);
    if (!p && !r->err)
        r->err = -EBADMSG;
    return p;
}

uint8_t seqr_u8(struct seqr *r)
{
    const uint8_t *p = get_fixed(r, 1);
    return p ? p[0] : 0;
}

uint32_t seqr_u32(struct seqr *r)
{
    const uint8_t *p = get_fixed(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t seqr_u64(struct seqr *r)
{
    const uint8_t *p = get_fixed(r, 8);
    return p ? be_get_u64(p) : 0;
}

uint32_t seqr_crc(const struct seqr *r)
{
    return r->pos > r->crc_pos
               ? crc32_iscsi(r->buf + r->crc_pos, (int)(r->pos - r->crc_pos), r->crc)
               : r->crc;
}

void seqr_free(struct seqr *r)
{
    xfree(r->buf);
    r->buf = NULL;
    r->pos = r->len = r->cap = 0;
}
