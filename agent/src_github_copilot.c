/* src_github_copilot.c - github_copilot: the seats of an organisation's Copilot plan
 * (GET /orgs/{org}/copilot/billing/seats), paged by the Link header (docs/sources.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/src_poll.h"
#include "common/log.h"
#include "common/xalloc.h"

#define PER_PAGE 100 /* the documented maximum */

struct gh {
    char *token;
    char *auth; /* "Authorization: Bearer TOKEN" */
};

static void gh_forget(struct gh *g)
{
    poll_secret_free(g->token);
    poll_secret_free(g->auth);
    g->token = g->auth = NULL;
}

static int gh_read(struct poll_src *ps)
{
    struct gh *g = ps->vd;
    char *tok = NULL;
    int rc = poll_read_secret(ps, ps->o->token_file, "token_file", &tok);
    if (rc)
        return rc;
    gh_forget(g);
    g->token = tok;
    size_t n = strlen(tok) + 32;
    g->auth = xmalloc(n);
    snprintf(g->auth, n, "Authorization: Bearer %s", tok);
    return 0;
}

static int gh_open(struct poll_src *ps)
{
    ps->vd = xcalloc(1, sizeof(struct gh));
    return gh_read(ps);
}

static const char *gh_auth(struct poll_src *ps, bool renew)
{
    /* After a 401 the token file is read again: a rotated token is picked up. */
    if (renew && gh_read(ps)) {
        poll_fail(ps, SRC_ERR_SECRET, -1, "token_file cannot be read");
        return NULL;
    }
    return ((struct gh *)ps->vd)->auth;
}

static void gh_close(struct poll_src *ps)
{
    if (ps->vd)
        gh_forget(ps->vd);
    xfree(ps->vd);
    ps->vd = NULL;
}

static int gh_fetch(struct poll_src *ps)
{
    char accept[] = "Accept: application/vnd.github+json";
    char version[96];
    snprintf(version, sizeof version, "X-GitHub-Api-Version: %s", ps->o->api_version);
    const char *const headers[] = {accept, version, NULL};
    size_t n = strlen(ps->base_url) + strlen(ps->o->org) + 64;
    char *url = xmalloc(n);
    snprintf(url, n, "%s/orgs/%s/copilot/billing/seats?per_page=%d", ps->base_url, ps->o->org,
             PER_PAGE);
    unsigned pages = 0;
    int rc = 0;
    while (url && !rc) {
        struct api_resp r;
        if (poll_next_page(ps, &pages, NULL) || poll_get(ps, url, headers, &r)) {
            rc = -1;
            break;
        }
        if (pages == 1 && r.has_date)
            ps->today = r.date_day; /* the API's day: seats seen "today" */
        int prc = r.body ? apipage_github_seats(r.body, r.len, poll_take, ps) : -EBADMSG;
        char *next = r.link_next;
        r.link_next = NULL;
        if (prc || r.link_bad) {
            poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "page %u is not the documented %s", pages,
                      prc ? "JSON" : "Link header");
            rc = -1;
        } else if (next && pages >= (unsigned)ps->o->max_pages) {
            rc = poll_next_page(ps, &pages, next);
        } else if (next && !apipage_same_origin(ps->base_url, next)) {
            rc = poll_next_page(ps, &pages, next);
        } else if (next && r.ratelimit_remaining == 0 && r.ratelimit_reset > 0) {
            int64_t wait = r.ratelimit_reset - (int64_t)time(NULL) + 1;
            if (wait > ps->o->retry_wait_max_s) {
                poll_fail(ps, SRC_ERR_RATE_LIMITED, wait, "the rate limit is used up for %lld s",
                          (long long)wait);
                rc = -1;
            } else if (wait > 0) {
                log_info("[source %s] rate limit used up: waiting %lld s", ps->env->name,
                         (long long)wait);
                struct timespec t = {.tv_sec = (time_t)wait};
                while (nanosleep(&t, &t) && errno == EINTR)
                    ;
            }
        }
        api_resp_free(&r);
        xfree(url);
        url = rc ? NULL : next;
        if (rc)
            xfree(next);
    }
    xfree(url);
    return rc;
}

static const struct poll_vendor github = {
    .tool = "github-copilot",
    .base_url = "https://api.github.com",
    .per_app = false,
    .assigned_from_api = true,
    .open = gh_open,
    .auth = gh_auth,
    .fetch = gh_fetch,
    .close = gh_close,
};

static const struct opt gh_config[] = {
    {"base_url", OPT_URL, NULL, PO(base_url), 0, 0, false,
     .help = "the REST API's root (default https://api.github.com; GitHub Enterprise "
             "Server: https://HOST/api/v3)"},
    {"org", OPT_NONEMPTY, NULL, PO(org), 0, 0, true, .help = "the organisation's login"},
    {"token_file", OPT_NONEMPTY, NULL, PO(token_file), 0, 0, true,
     .help = "bearer token (manage_billing:copilot or read:org) on its first line, mode 600"},
    {"api_version", OPT_NONEMPTY, "2022-11-28", PO(api_version), 0, 0, false,
     .help = "X-GitHub-Api-Version header"},
    POLL_COMMON_ROWS,
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};

static int gh_check(const struct source_opts *o, char *err, size_t errlen)
{
    const char *org = o->poll.org;
    size_t n = org ? strlen(org) : 0;
    bool ok = n > 0 && n <= 100;
    for (size_t i = 0; ok && i < n; i++)
        ok = (org[i] >= 'a' && org[i] <= 'z') || (org[i] >= 'A' && org[i] <= 'Z') ||
             (org[i] >= '0' && org[i] <= '9') || org[i] == '-' || org[i] == '_' || org[i] == '.';
    if (!ok) {
        snprintf(err, errlen, "org must be 1 to 100 characters of [A-Za-z0-9._-]");
        return -EINVAL;
    }
    for (const char *p = o->poll.api_version; p && *p; p++)
        if (*p < 0x21 || *p > 0x7e) {
            snprintf(err, errlen, "api_version must be visible ASCII");
            return -EINVAL;
        }
    return src_poll_check(o, "token_file", o->poll.token_file, err, errlen);
}

static int gh_init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    char err[512];
    if (gh_check(o, err, sizeof err)) {
        log_error("[source %s] %s", env->name, err);
        return -EINVAL;
    }
    return src_poll_init(ctx, &github, o, env);
}

const struct source_type source_github_copilot = {
    .name = "github_copilot",
    .init = gh_init,
    .poll = src_poll_poll,
    .fini = src_poll_fini,
    .config = gh_config,
    .check = gh_check,
};
