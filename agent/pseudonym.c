/* pseudonym.c - HMAC-SHA256 staff keys through OpenSSL 3, a per-thread memo, org key loading. */
/* The staff key takes SHA-256 states made once from the org key (below): OpenSSL 3 keeps
 * that for its low-level SHA256_* calls, which it marks deprecated. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "agent/pseudonym.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/reckey.h"
#include "common/strutil.h"
#include "common/xalloc.h"

/* HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' the key (hashed when longer
 * than a block) padded to one block. The states after the first block of each hash
 * depend on the key alone: kept here, a staff key costs two SHA-256 blocks and no
 * allocation or lock (OpenSSL's one-shot HMAC() fetched the digest under a lock on every
 * call, which made it the agent's largest cost on CSV snapshots). */
struct pseudonym {
    uint8_t *key;
    size_t len;
    SHA256_CTX inner, outer;
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
    uint8_t block[SHA256_CBLOCK] = {0}, ipad[SHA256_CBLOCK], opad[SHA256_CBLOCK];
    if (len > SHA256_CBLOCK)
        SHA256(key, len, block);
    else
        memcpy(block, key, len);
    for (size_t i = 0; i < SHA256_CBLOCK; i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }
    SHA256_Init(&p->inner);
    SHA256_Update(&p->inner, ipad, sizeof ipad);
    SHA256_Init(&p->outer);
    SHA256_Update(&p->outer, opad, sizeof opad);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(ipad, sizeof ipad);
    OPENSSL_cleanse(opad, sizeof opad);
    return p;
}

void pseudonym_free(struct pseudonym *p)
{
    if (!p)
        return;
    OPENSSL_cleanse(p->key, p->len);
    xfree(p->key);
    OPENSSL_cleanse(p, sizeof *p);
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
/* HMAC-SHA256(org key, msg) from the states kept in p. */
static void keyed_mac(const struct pseudonym *p, const void *msg, size_t len,
                      uint8_t mac[SHA256_DIGEST_LENGTH])
{
    SHA256_CTX c = p->inner;
    SHA256_Update(&c, msg, len);
    SHA256_Final(mac, &c);
    c = p->outer;
    SHA256_Update(&c, mac, SHA256_DIGEST_LENGTH);
    SHA256_Final(mac, &c);
    OPENSSL_cleanse(&c, sizeof c);
}

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
    uint8_t mac[SHA256_DIGEST_LENGTH];
    keyed_mac(p, norm, len, mac);
    if (norm != stackbuf)
        xfree(norm);
    memcpy(out, mac, STAFF_KEY_LEN);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* ---- memo ---- */

/* Two ways per set, the one used less lately replaced: ids that follow a cycle (a snapshot
 * sorted by date walks every person each day) keep hitting as long as no set holds more
 * than two of them, about 96% of sets at 50,000 staff. 65,536 sets x 2 x 56 bytes. */
#define CACHE_SETS 65536 /* power of two */

struct cache_slot {
    uint8_t len; /* 0: empty */
    char id[PSEUDONYM_CACHE_ID_MAX];
    uint8_t key[STAFF_KEY_LEN];
};

struct pseudonym_cache {
    const struct pseudonym *p;
    struct cache_slot *slots; /* set i: slots[2i], slots[2i + 1] */
    uint8_t *recent;          /* per set: the way used last */
};

struct pseudonym_cache *pseudonym_cache_new(const struct pseudonym *p)
{
    struct pseudonym_cache *c = xcalloc(1, sizeof *c);
    c->p = p;
    c->slots = xcalloc(2 * (size_t)CACHE_SETS, sizeof *c->slots);
    c->recent = xcalloc(CACHE_SETS, 1);
    return c;
}

void pseudonym_cache_free(struct pseudonym_cache *c)
{
    if (!c)
        return;
    OPENSSL_cleanse(c->slots, 2 * (size_t)CACHE_SETS * sizeof *c->slots);
    xfree(c->slots);
    xfree(c->recent);
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
    size_t set = (size_t)((h ^ h >> 32) & (CACHE_SETS - 1));
    struct cache_slot *w = &c->slots[2 * set];
    for (int i = 0; i < 2; i++) {
        if (w[i].len == len && memcmp(w[i].id, norm, len) == 0) {
            memcpy(out, w[i].key, STAFF_KEY_LEN);
            c->recent[set] = (uint8_t)i;
            return 0;
        }
    }
    uint8_t mac[SHA256_DIGEST_LENGTH];
    keyed_mac(c->p, norm, len, mac);
    memcpy(out, mac, STAFF_KEY_LEN);
    int way = !c->recent[set]; /* the one not used last */
    w[way].len = (uint8_t)len;
    memcpy(w[way].id, norm, len);
    memcpy(w[way].key, mac, STAFF_KEY_LEN);
    c->recent[set] = (uint8_t)way;
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}
