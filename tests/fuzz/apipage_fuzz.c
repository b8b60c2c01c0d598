/* apipage_fuzz.c - libFuzzer target for agent/apipage: the vendors' API pages, Link headers,
 * OAuth token answers and origins.
 *
 * Byte 0 picks the parser (mod 5): a GitHub seats page, a Graph report page, a Link header,
 * a token answer, or two URLs split at the first NUL for apipage_same_origin. Beyond "no
 * crash, no UB, no leak": an item refused has a reason in range, an accepted one an
 * account without a NUL; at most APIPAGE_MAX_APPS apps, each 1..APIPAGE_APP_MAX bytes of
 * [a-z0-9] (GitHub's one app is ""), each app once; a next link (Graph or Link) is non-empty
 * and NUL-free, and for a Link header it is a substring of the input; a token is visible
 * ASCII with a lifetime in (0, 366 days]; same_origin is symmetric and true of a URL with
 * itself whenever it is true of any pair.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/apipage.h"
#include "agent/source.h"
#include "common/xalloc.h"

static void fail(const char *what)
{
    fprintf(stderr, "apipage_fuzz: %s\n", what);
    abort();
}

static int check_item(void *ud, const struct apipage_item *it)
{
    bool github = *(bool *)ud;
    if (it->reason >= SRC_NREASONS || it->reason < -1)
        fail("reason out of range");
    if (it->reason < 0 && (!it->account || !it->account_len))
        fail("an accepted item without an account");
    if (it->account && memchr(it->account, '\0', it->account_len))
        fail("an account with a NUL");
    if (it->nact > APIPAGE_MAX_APPS)
        fail("too many apps");
    for (size_t i = 0; i < it->nact; i++) {
        const char *a = it->act[i].app;
        size_t n = strlen(a);
        if (github ? n != 0 : (n == 0 || n > APIPAGE_APP_MAX))
            fail("app name length");
        for (size_t k = 0; k < n; k++)
            if (!((a[k] >= 'a' && a[k] <= 'z') || (a[k] >= '0' && a[k] <= '9')))
                fail("app name outside [a-z0-9]");
        for (size_t j = 0; j < i; j++)
            if (strcmp(it->act[j].app, a) == 0)
                fail("an app twice");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int which = data[0] % 5;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    char *next = NULL;
    switch (which) {
    case 0: {
        bool github = true;
        apipage_github_seats(s, n, check_item, &github);
        break;
    }
    case 1: {
        bool github = false;
        int rc = apipage_graph_users(s, n, check_item, &github, &next);
        if (rc && next)
            fail("a next link from a refused page");
        if (next && (!*next))
            fail("an empty next link");
        break;
    }
    case 2: {
        int rc = apipage_link_next(s, n, &next);
        if (rc && next)
            fail("a next link from a refused header");
        if (next) {
            size_t k = strlen(next);
            if (!k)
                fail("an empty Link target");
            bool found = false;
            for (size_t i = 0; i + k <= n && !found; i++)
                found = memcmp(s + i, next, k) == 0;
            if (!found)
                fail("a Link target that is not in the header");
        }
        break;
    }
    case 3: {
        char *tok = NULL;
        int64_t exp = 0;
        if (apipage_token(s, n, &tok, &exp) == 0) {
            if (!tok || !*tok)
                fail("an empty token");
            for (const char *p = tok; *p; p++)
                if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                    fail("a token byte a header cannot carry");
            if (exp <= 0 || exp > 86400 * 366)
                fail("a token lifetime out of range");
            xfree(tok);
        }
        break;
    }
    default: {
        const char *nul = memchr(s, '\0', n);
        if (!nul)
            return 0;
        char *a = strndup(s, (size_t)(nul - s));
        char *b = strndup(nul + 1, n - (size_t)(nul - s) - 1);
        bool ab = apipage_same_origin(a, b), ba = apipage_same_origin(b, a);
        if (ab != ba)
            fail("same_origin is not symmetric");
        if (ab && (!apipage_same_origin(a, a) || !apipage_same_origin(b, b)))
            fail("same_origin not reflexive where it holds");
        free(a);
        free(b);
        break;
    }
    }
    xfree(next);
    return 0;
}
