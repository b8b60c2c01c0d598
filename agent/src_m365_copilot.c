/* src_m365_copilot.c - m365_copilot: Microsoft Graph's Microsoft 365 Copilot usage report
 * per user (getMicrosoft365CopilotUsageUserDetail, JSON, paged by @odata.nextLink), with an
 * OAuth 2.0 client-credentials token (docs/sources.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/src_poll.h"
#include "common/log.h"
#include "common/xalloc.h"

#define GRAPH_SCOPE "https://graph.microsoft.com/.default"

struct m365 {
    char *secret;
    char *auth;            /* "Authorization: Bearer TOKEN"; NULL: none yet */
    int64_t good_until_ms; /* monotonic: a new token is fetched from then on */
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int m365_open(struct poll_src *ps)
{
    struct m365 *m = xcalloc(1, sizeof *m);
    ps->vd = m;
    return poll_read_secret(ps, ps->o->client_secret_file, "client_secret_file", &m->secret);
}

static void m365_close(struct poll_src *ps)
{
    struct m365 *m = ps->vd;
    if (m) {
        poll_secret_free(m->secret);
        poll_secret_free(m->auth);
    }
    xfree(m);
    ps->vd = NULL;
}

/* Asks the token endpoint for an access token (client credentials). 0 or -1 after
 * poll_fail. */
static int fetch_token(struct poll_src *ps, struct m365 *m)
{
    char *form = NULL;
    api_form_add(&form, "client_id", ps->o->client_id);
    api_form_add(&form, "client_secret", m->secret);
    api_form_add(&form, "scope", ps->o->scope ? ps->o->scope : GRAPH_SCOPE);
    api_form_add(&form, "grant_type", "client_credentials");
    struct api_resp r;
    int rc = api_post_form(ps->http, ps->o->token_url, form, &r);
    explicit_bzero(form, strlen(form));
    xfree(form);
    char *tok = NULL;
    int64_t expires = 0;
    if (rc) {
        poll_fail(ps, SRC_ERR_NETWORK, -1, "token endpoint: %s", r.err);
    } else if (r.status == 429 || r.status == 503) {
        poll_fail(ps, SRC_ERR_RATE_LIMITED, r.retry_after_s, "token endpoint: HTTP %ld", r.status);
    } else if (r.status >= 500) {
        poll_fail(ps, SRC_ERR_SERVER, -1, "token endpoint: HTTP %ld", r.status);
    } else if (r.status != 200) {
        poll_fail(ps, SRC_ERR_AUTH, -1,
                  "token endpoint: HTTP %ld (check client_id, the secret "
                  "and scope)",
                  r.status);
    } else if (r.too_big || !r.body || apipage_token(r.body, r.len, &tok, &expires)) {
        poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "token endpoint: not an OAuth token answer");
    }
    if (r.body)
        explicit_bzero(r.body, r.len);
    api_resp_free(&r);
    if (!tok)
        return -1;
    poll_secret_free(m->auth);
    size_t n = strlen(tok) + 32;
    m->auth = xmalloc(n);
    snprintf(m->auth, n, "Authorization: Bearer %s", tok);
    poll_secret_free(tok);
    /* Kept until shortly before it expires: a quarter of its life, at most a minute. */
    int64_t margin = expires / 4 < 60 ? expires / 4 : 60;
    m->good_until_ms = mono_ms() + (expires - margin) * 1000;
    log_debug("[source %s] new access token for %lld s", ps->env->name, (long long)expires);
    return 0;
}

static const char *m365_auth(struct poll_src *ps, bool renew)
{
    struct m365 *m = ps->vd;
    if ((renew || !m->auth || mono_ms() >= m->good_until_ms) && fetch_token(ps, m))
        return NULL;
    return m->auth;
}

static int m365_fetch(struct poll_src *ps)
{
    const char *const headers[] = {"Accept: application/json", NULL};
    size_t n = strlen(ps->base_url) + strlen(ps->o->period) + 128;
    char *url = xmalloc(n);
    snprintf(url, n,
             "%s/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='%s')"
             "?$format=application/json",
             ps->base_url, ps->o->period);
    unsigned pages = 0;
    int rc = 0;
    int32_t date_day = POLL_NO_DAY;
    while (url && !rc) {
        struct api_resp r;
        if (poll_next_page(ps, &pages, NULL) || poll_get(ps, url, headers, &r)) {
            rc = -1;
            break;
        }
        if (pages == 1 && r.has_date)
            date_day = r.date_day;
        char *next = NULL;
        if (!r.body || apipage_graph_users(r.body, r.len, poll_take, ps, &next)) {
            poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "page %u is not the documented JSON", pages);
            rc = -1;
        } else if (next && (pages >= (unsigned)ps->o->max_pages ||
                            !apipage_same_origin(ps->base_url, next))) {
            rc = poll_next_page(ps, &pages, next);
        }
        api_resp_free(&r);
        xfree(url);
        url = rc ? NULL : next;
        if (rc)
            xfree(next);
    }
    xfree(url);
    /* The report's day is its reportRefreshDate; with no rows, the server's date. */
    if (!rc && ps->today == POLL_NO_DAY)
        ps->today = date_day;
    return rc;
}

static const struct poll_vendor m365 = {
    .tool = "m365-copilot",
    .base_url = "https://graph.microsoft.com/v1.0",
    .per_app = true,
    .assigned_from_api = false,
    .open = m365_open,
    .auth = m365_auth,
    .fetch = m365_fetch,
    .close = m365_close,
};

static const struct opt m365_config[] = {
    {"base_url", OPT_URL, NULL, PO(base_url), 0, 0, false,
     .help = "Microsoft Graph's root with its version (default https://graph.microsoft.com/v1.0)"},
    {"token_url", OPT_URL, NULL, PO(token_url), 0, 0, true,
     .help = "the tenant's OAuth 2.0 token endpoint: login.microsoftonline.com, then "
             "/TENANT_ID/oauth2/v2.0/token"},
    {"client_id", OPT_NONEMPTY, NULL, PO(client_id), 0, 0, true,
     .help = "the app registration's application (client) id"},
    {"client_secret_file", OPT_NONEMPTY, NULL, PO(client_secret_file), 0, 0, true,
     .help = "the client secret on its first line, mode 600"},
    {"scope", OPT_NONEMPTY, NULL, PO(scope), 0, 0, false,
     .help = "the token's scope (default " GRAPH_SCOPE ")"},
    {"period", OPT_NONEMPTY, "D7", PO(period), 0, 0, false,
     .help = "report period: D7, D30, D90, D180 or ALL"},
    POLL_COMMON_ROWS,
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};

static int m365_check(const struct source_opts *o, char *err, size_t errlen)
{
    static const char *const periods[] = {"D7", "D30", "D90", "D180", "ALL"};
    bool ok = false;
    for (size_t i = 0; i < sizeof periods / sizeof *periods; i++)
        ok |= o->poll.period && strcmp(o->poll.period, periods[i]) == 0;
    if (!ok) {
        snprintf(err, errlen, "period must be D7, D30, D90, D180 or ALL");
        return -EINVAL;
    }
    return src_poll_check(o, "client_secret_file", o->poll.client_secret_file, err, errlen);
}

static int m365_init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    char err[512];
    if (m365_check(o, err, sizeof err)) {
        log_error("[source %s] %s", env->name, err);
        return -EINVAL;
    }
    return src_poll_init(ctx, &m365, o, env);
}

const struct source_type source_m365_copilot = {
    .name = "m365_copilot",
    .init = m365_init,
    .poll = src_poll_poll,
    .fini = src_poll_fini,
    .config = m365_config,
    .check = m365_check,
};
