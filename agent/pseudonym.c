/* pseudonym.c - HMAC-SHA256 through OpenSSL 3's one-shot HMAC(); org key file loading. */
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

int pseudonym_staff_key(const struct pseudonym *p, const char *id, size_t len, uint8_t out[16])
{
    str_trim(&id, &len);
    if (!len)
        return -ENOENT;
    char stackbuf[256];
    char *norm = len <= sizeof stackbuf ? stackbuf : xmalloc(len);
    memcpy(norm, id, len);
    str_lower(norm, len);
    uint8_t mac[32];
    int rc = hmac_sha256(p->key, p->len, norm, len, mac);
    if (norm != stackbuf)
        xfree(norm);
    if (rc)
        return rc;
    memcpy(out, mac, STAFF_KEY_LEN);
    return 0;
}
