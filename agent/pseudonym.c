/* pseudonym.c - HMAC-SHA256 staff keys through OpenSSL 3, a per-thread memo, org key loading. */
#include "agent/pseudonym.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/reckey.h"
#include "common/strutil.h"
#include "common/xalloc.h"

struct pseudonym {
    uint8_t *key;
    size_t len;
};

#define MAX_KEY_FILE 4096

int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen, uint8_t out[32])
{
    unsigned int n = 0;
    static const uint8_t empty;
    if (!HMAC(EVP_sha256(), keylen ? key : &empty, (int)keylen, msglen ? msg : &empty, msglen, out,
              &n) ||
        n != 32)
        return -EIO;
    return 0;
}

struct pseudonym *pseudonym_new(const void *key, size_t len)
{
    struct pseudonym *p = xcalloc(1, sizeof *p);
    p->key = xmemdup(key, len);
    p->len = len;
    return p;
}

void pseudonym_free(struct pseudonym *p)
{
    if (!p)
        return;
    OPENSSL_cleanse(p->key, p->len);
    xfree(p->key);
    xfree(p);
}

int pseudonym_load(struct pseudonym **out, const char *path, char *err, size_t errlen)
{
    uint8_t buf[MAX_KEY_FILE + 1];
    size_t n = 0;
    int rc = -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "org_key_file %s: cannot open: %s", path, strerror(errno));
        return rc;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "org_key_file %s: not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "org_key_file %s: mode %03o lets group or others read it; chmod 600 it", path,
                 (unsigned)(st.st_mode & 0777));
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, sizeof buf - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            snprintf(err, errlen, "org_key_file %s: read: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > MAX_KEY_FILE) {
            snprintf(err, errlen, "org_key_file %s: longer than %d bytes", path, MAX_KEY_FILE);
            goto out;
        }
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n < PSEUDONYM_MIN_KEY) {
        snprintf(err, errlen, "org_key_file %s: key is %zu bytes, needs at least %d", path, n,
                 PSEUDONYM_MIN_KEY);
        goto out;
    }
    *out = pseudonym_new(buf, n);
    rc = 0;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    close(fd);
    return rc;
}

/* A trimmed id ASCII-lowercased into buf (len bytes). */
static void normalise(const char *id, size_t len, char *buf)
{
    memcpy(buf, id, len);
    str_lower(buf, len);
}

int pseudonym_staff_key(const struct pseudonym *p, const char *id, size_t len, uint8_t out[16])
{
    str_trim(&id, &len);
    if (!len)
        return -ENOENT;
    char stackbuf[256];
    char *norm = len <= sizeof stackbuf ? stackbuf : xmalloc(len);
    normalise(id, len, norm);
    uint8_t mac[32];
    int rc = hmac_sha256(p->key, p->len, norm, len, mac);
    if (norm != stackbuf)
        xfree(norm);
    if (rc)
        return rc;
    memcpy(out, mac, STAFF_KEY_LEN);
    return 0;
}

/* ---- memo ---- */

#define CACHE_SLOTS 16384 /* power of two */

struct cache_slot {
    uint8_t len; /* 0: empty */
    char id[PSEUDONYM_CACHE_ID_MAX];
    uint8_t key[STAFF_KEY_LEN];
};

struct pseudonym_cache {
    const struct pseudonym *p;
    struct cache_slot *slots;
};

struct pseudonym_cache *pseudonym_cache_new(const struct pseudonym *p)
{
    struct pseudonym_cache *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->slots = xcalloc(CACHE_SLOTS, sizeof *c->slots);
    return c;
}

void pseudonym_cache_free(struct pseudonym_cache *c)
{
    if (!c)
        return;
    OPENSSL_cleanse(c->slots, CACHE_SLOTS * sizeof *c->slots);
    xfree(c->slots);
    xfree(c);
}

int pseudonym_cache_key(struct pseudonym_cache *c, const char *id, size_t len, uint8_t out[16])
{
    str_trim(&id, &len);
    if (!len)
        return -ENOENT;
    if (len > PSEUDONYM_CACHE_ID_MAX)
        return pseudonym_staff_key(c->p, id, len, out);
    char norm[PSEUDONYM_CACHE_ID_MAX];
    normalise(id, len, norm);
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)norm[i]) * UINT64_C(1099511628211);
    struct cache_slot *s = &c->slots[(h ^ h >> 32) & (CACHE_SLOTS - 1)];
    if (s->len == len && memcmp(s->id, norm, len) == 0) {
        memcpy(out, s->key, STAFF_KEY_LEN);
        return 0;
    }
    uint8_t mac[32];
    int rc = hmac_sha256(c->p->key, c->p->len, norm, len, mac);
    if (rc)
        return rc;
    memcpy(out, mac, STAFF_KEY_LEN);
    s->len = (uint8_t)len;
    memcpy(s->id, norm, len);
    memcpy(s->key, mac, STAFF_KEY_LEN);
    return 0;
}
