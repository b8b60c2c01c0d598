/* pseudonym_test.c - HMAC-SHA256 (RFC 4231), id normalisation, staff key, org key files. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/pseudonym.h"

static void from_hex(const char *h, uint8_t *out)
{
    for (size_t i = 0; h[2 * i]; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void check_hmac(const uint8_t *key, size_t klen, const void *msg, size_t mlen,
                       const char *want_hex)
{
    uint8_t got[32], want[32];
    from_hex(want_hex, want);
    assert_int_equal(hmac_sha256(key, klen, msg, mlen, got), 0);
    assert_memory_equal(got, want, 32);
}

static void test_rfc4231(void **state)
{
    (void)state;
    uint8_t key[131], data[160];
    /* Test case 1 */
    memset(key, 0x0b, 20);
    check_hmac(key, 20, "Hi There", 8,
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2 */
    check_hmac((const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28,
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 3 */
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    check_hmac(key, 20, data, 50,
               "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    /* Test case 4 */
    for (int i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    memset(data, 0xcd, 50);
    check_hmac(key, 25, data, 50,
               "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    /* Test case 6: a key longer than the block size */
    memset(key, 0xaa, 131);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    check_hmac(key, 131, m6, strlen(m6),
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* Test case 7: key and data longer than the block size */
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    check_hmac(key, 131, m7, strlen(m7),
               "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_staff_key(void **state)
{
    (void)state;
    const char *k = "0123456789abcdef0123456789abcdef";
    struct pseudonym *p = pseudonym_new(k, 32);
    uint8_t a[16], b[16], c[16], full[32];
    assert_int_equal(pseudonym_staff_key(p, " N123 ", 6, a), 0);
    assert_int_equal(pseudonym_staff_key(p, "n123", 4, b), 0);
    assert_int_equal(pseudonym_staff_key(p, "\tN123\r\n", 7, c), 0);
    assert_memory_equal(a, b, 16);
    assert_memory_equal(a, c, 16);
    /* The key is the first 16 bytes of HMAC-SHA256(org key, "n123"). */
    assert_int_equal(hmac_sha256(k, 32, "n123", 4, full), 0);
    assert_memory_equal(a, full, 16);
    /* Another id, or the same id under another key, gives another pseudonym. */
    assert_int_equal(pseudonym_staff_key(p, "n124", 4, c), 0);
    assert_memory_not_equal(a, c, 16);
    struct pseudonym *q = pseudonym_new("another key of thirty-two bytes!", 32);
    assert_int_equal(pseudonym_staff_key(q, "n123", 4, c), 0);
    assert_memory_not_equal(a, c, 16);
    /* Only ASCII folds: a non-ASCII id is kept as its bytes. */
    assert_int_equal(pseudonym_staff_key(p,
                                         "\xc3\x89"
                                         "1",
                                         3, b),
                     0);
    assert_int_equal(pseudonym_staff_key(p,
                                         "\xc3\xa9"
                                         "1",
                                         3, c),
                     0);
    assert_memory_not_equal(b, c, 16);
    assert_int_equal(pseudonym_staff_key(p, "   ", 3, c), -ENOENT);
    assert_int_equal(pseudonym_staff_key(p, "", 0, c), -ENOENT);
    pseudonym_free(p);
    pseudonym_free(q);
}

/* The staff key's SHA-256 states made once from the org key agree with OpenSSL's HMAC()
 * (checked against RFC 4231 above) for keys shorter than, equal to and longer than one
 * SHA-256 block (64 bytes: a longer key is hashed first), and for ids of every length up
 * to past the 256-byte stack buffer. */
static void test_staff_key_matches_hmac(void **state)
{
    (void)state;
    uint8_t key[131], full[32], got[16];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    char id[300];
    for (size_t i = 0; i < sizeof id; i++)
        id[i] = (char)('a' + i % 26);
    static const size_t klens[] = {32, 63, 64, 65, 131};
    for (size_t k = 0; k < sizeof klens / sizeof *klens; k++) {
        struct pseudonym *p = pseudonym_new(key, klens[k]);
        for (size_t n = 1; n <= sizeof id; n += n < 70 ? 1 : 37) {
            assert_int_equal(hmac_sha256(key, klens[k], id, n, full), 0);
            assert_int_equal(pseudonym_staff_key(p, id, n, got), 0);
            assert_memory_equal(got, full, 16);
        }
        pseudonym_free(p);
    }
}

/* The memo gives exactly pseudonym_staff_key's answer: for ids seen first, seen again
 * (hits), evicted by others that share their set (400,000 ids over 65,536 sets of two),
 * written in other case or with padding, longer than the memo keeps, and empty. */
static void test_cache_matches(void **state)
{
    (void)state;
    struct pseudonym *p = pseudonym_new("0123456789abcdef0123456789abcdef", 32);
    struct pseudonym_cache *c = pseudonym_cache_new(p);
    char id[80];
    uint8_t want[16], got[16];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 400000; i += round == 1 ? 7 : 1) {
            int n = snprintf(id, sizeof id, round == 2 ? " T%06d\t" : "t%06d", i);
            assert_int_equal(pseudonym_staff_key(p, id, (size_t)n, want), 0);
            assert_int_equal(pseudonym_cache_key(c, id, (size_t)n, got), 0);
            assert_memory_equal(got, want, 16);
        }
    }
    /* 39 bytes is the longest id the memo keeps; 40 goes straight to the HMAC. */
    for (int len = 38; len <= 41; len++) {
        memset(id, 'X', (size_t)len);
        for (int k = 0; k < 2; k++) {
            assert_int_equal(pseudonym_staff_key(p, id, (size_t)len, want), 0);
            assert_int_equal(pseudonym_cache_key(c, id, (size_t)len, got), 0);
            assert_memory_equal(got, want, 16);
        }
    }
    assert_int_equal(pseudonym_cache_key(c, " \t ", 3, got), -ENOENT);
    assert_int_equal(pseudonym_cache_key(c, "", 0, got), -ENOENT);
    pseudonym_cache_free(c);
    pseudonym_free(p);
}

static void write_key(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-pseudo.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/org.key", dir);
    char err[256];
    struct pseudonym *p = NULL;
    const char *k = "0123456789abcdef0123456789abcdef";

    /* One trailing newline is dropped: the key is the 32 bytes. */
    write_key(path, "0123456789abcdef0123456789abcdef\n", 0600);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), 0);
    struct pseudonym *q = pseudonym_new(k, 32);
    uint8_t a[16], b[16];
    pseudonym_staff_key(p, "x1", 2, a);
    pseudonym_staff_key(q, "x1", 2, b);
    assert_memory_equal(a, b, 16);
    pseudonym_free(p);
    pseudonym_free(q);

    /* 31 bytes (plus the newline) is too short. */
    write_key(path, "0123456789abcdef0123456789abcde\n", 0600);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "31 bytes"));
    /* Group or world readable: refused, and the message never quotes the key. */
    write_key(path, k, 0644);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "chmod 600"));
    assert_null(strstr(err, "0123456789abcdef"));
    write_key(path, k, 0640);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), -EINVAL);
    write_key(path, k, 0400);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), 0);
    pseudonym_free(p);
    unlink(path);
    assert_int_equal(pseudonym_load(&p, path, err, sizeof err), -ENOENT);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231),
        cmocka_unit_test(test_staff_key),
        cmocka_unit_test(test_staff_key_matches_hmac),
        cmocka_unit_test(test_cache_matches),
        cmocka_unit_test(test_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
