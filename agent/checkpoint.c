/* checkpoint.c - atomic state files: temp file, fsync, rename, fsync the folder. */
#include "agent/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <isa-l.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/reckey.h"
#include "common/xalloc.h"

static const char magic[8] = {'C', 'A', 'D', 'R', 'E', 'C', 'K', '1'};

int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes head, data and tail to dir/name atomically (temp file, fsync, rename, fsync dir). */
static int write_atomic(const char *dir, const char *name, const void *head, size_t hlen,
                        const void *data, size_t len, const void *tail, size_t tlen, bool sync)
{
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, head, hlen);
    if (!rc)
        rc = write_all(fd, data, len);
    if (!rc)
        rc = write_all(fd, tail, tlen);
    if (!rc && sync && fsync(fd))
        rc = -errno;
    if (close(fd) && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path))
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return sync ? fsync_dir(dir) : 0;
}

int ckpt_write(const char *dir, const char *name, const void *data, size_t len, bool sync)
{
    uint8_t head[16];
    memcpy(head, magic, 8);
    be_put_u64(head + 8, len);
    uint32_t crc = crc32_iscsi((unsigned char *)head, sizeof head, 0xFFFFFFFFu);
    crc = crc32_iscsi((unsigned char *)data, (int)len, crc);
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                       (uint8_t)crc};
    return write_atomic(dir, name, head, sizeof head, data, len, tail, sizeof tail, sync);
}

int ckpt_write_plain(const char *dir, const char *name, const void *data, size_t len, bool sync)
{
    return write_atomic(dir, name, NULL, 0, data, len, NULL, 0, sync);
}

int ckpt_read(const char *dir, const char *name, uint8_t **data, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = -EBADMSG;
    uint8_t *buf = NULL;
    struct stat st;
    if (fstat(fd, &st)) {
        rc = -errno;
        goto out;
    }
    size_t size = (size_t)st.st_size;
    if (size < 20)
        goto out;
    buf = xmalloc(size);
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            goto out;
        got += (size_t)r;
    }
    uint64_t n = be_get_u64(buf + 8);
    if (memcmp(buf, magic, 8) || n != size - 20)
        goto out;
    uint32_t crc = crc32_iscsi(buf, (int)(size - 4), 0xFFFFFFFFu);
    const uint8_t *t = buf + size - 4;
    if (crc != ((uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3]))
        goto out;
    memmove(buf, buf + 16, n);
    *data = buf;
    *len = n;
    buf = NULL;
    rc = 0;
out:
    xfree(buf);
    close(fd);
    return rc;
}

void ckpt_put_u64(struct ckpt_buf *b, uint64_t v)
{
    xgrow((void **)&b->p, &b->cap, b->len + 8, 1);
    be_put_u64(b->p + b->len, v);
    b->len += 8;
}

void ckpt_put_bytes(struct ckpt_buf *b, const void *p, size_t n)
{
    ckpt_put_u64(b, n);
    xgrow((void **)&b->p, &b->cap, b->len + n, 1);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void ckpt_buf_free(struct ckpt_buf *b)
{
    xfree(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint64_t ckpt_get_u64(struct ckpt_in *in)
{
    if (in->bad || in->len - in->off < 8) {
        in->bad = true;
        return 0;
    }
    uint64_t v = be_get_u64(in->p + in->off);
    in->off += 8;
    return v;
}

size_t ckpt_get_bytes(struct ckpt_in *in, const uint8_t **p)
{
    uint64_t n = ckpt_get_u64(in);
    if (in->bad || n > in->len - in->off) {
        in->bad = true;
        *p = NULL;
        return 0;
    }
    *p = in->p + in->off;
    in->off += n;
    return (size_t)n;
}
