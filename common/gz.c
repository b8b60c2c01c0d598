/* gz.c - gzip compression and bounded decompression with ISA-L igzip. */
#include "common/gz.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>

#include "common/sbuf.h"
#include "common/xalloc.h"

uint8_t *gz_deflate(const void *in, size_t len, size_t *outlen)
{
    if (len > UINT32_MAX / 2)
        return NULL;
    struct isal_zstream z;
    isal_deflate_stateless_init(&z);
    size_t cap = len + len / 16 + 1024; /* stored blocks of incompressible input fit */
    uint8_t *out = xtry_malloc(cap);
    uint8_t *lvl = xtry_malloc(ISAL_DEF_LVL1_DEFAULT);
    if (!out || !lvl) {
        xfree(out);
        xfree(lvl);
        return NULL;
    }
    z.level = 1;
    z.level_buf = lvl;
    z.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    z.gzip_flag = IGZIP_GZIP;
    z.end_of_stream = 1;
    z.next_in = (uint8_t *)in;
    z.avail_in = (uint32_t)len;
    z.next_out = out;
    z.avail_out = (uint32_t)cap;
    int rc = isal_deflate_stateless(&z);
    xfree(lvl);
    if (rc != COMP_OK) {
        xfree(out);
        return NULL;
    }
    *outlen = z.total_out;
    return out;
}

int gz_inflate(const void *in, size_t len, uint64_t max, char **out, size_t *outlen)
{
    if (len > UINT32_MAX)
        return -E2BIG;
    struct inflate_state *z = xtry_malloc(sizeof *z);
    if (!z)
        return -ENOMEM;
    isal_inflate_init(z);
    z->crc_flag = ISAL_GZIP;
    z->next_in = (uint8_t *)in;
    z->avail_in = (uint32_t)len;
    struct sbuf b = {0};
    static const size_t chunk = 1 << 18;
    int ret = 0;
    while (z->block_state != ISAL_BLOCK_FINISH) {
        if (sbuf_try_reserve(&b, chunk)) {
            ret = -ENOMEM;
            break;
        }
        z->next_out = (uint8_t *)b.p + b.len;
        z->avail_out = (uint32_t)chunk;
        int rc = isal_inflate(z);
        b.len += chunk - z->avail_out;
        b.p[b.len] = '\0';
        if (rc != ISAL_DECOMP_OK) {
            ret = -EINVAL;
            break;
        }
        if (b.len > max) {
            ret = -E2BIG;
            break;
        }
        if (z->block_state != ISAL_BLOCK_FINISH && z->avail_in == 0 && z->avail_out != 0) {
            ret = -EINVAL; /* truncated stream */
            break;
        }
    }
    xfree(z);
    if (ret) {
        sbuf_free(&b);
        return ret;
    }
    *out = sbuf_take(&b, outlen);
    if (!*out) { /* an empty member: sbuf never grew */
        *out = xstrdup("");
        *outlen = 0;
    }
    return 0;
}
