/* src_poll.h - what the API pollers (m365_copilot, github_copilot) share: scheduling,
 * retries, accounts to staff ids, the seen-state and the records it yields.
 *
 * A vendor file supplies a struct poll_vendor: how to authenticate and how to walk its
 * pages. Each page's items go to poll_take; only when every page is read does the poll
 * compare them with the state of the last complete poll, emit licence and usage records,
 * flush them to the spool and then write the new state (docs/sources.md). A poll that
 * fails part-way emits nothing and advances nothing. Struct poll_src is shared by
 * src_poll.c and the vendor files only.
 */
#ifndef CADRE_AGENT_SRC_POLL_H
#define CADRE_AGENT_SRC_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/apiclient.h"
#include "agent/apipage.h"
#include "agent/source.h"

#define POLL_NO_DAY INT32_MIN

enum poll_account_id { POLL_ACCOUNT_NONE, POLL_ACCOUNT_UPN_LOCAL_PART, POLL_ACCOUNT_UPN };

struct poll_src;
struct poll_entry;
struct poll_map;

struct poll_vendor {
    const char *tool;       /* "m365-copilot": usage tool is tool.<app>; licence tool */
    const char *base_url;   /* the default of the base_url key */
    bool per_app;           /* usage tools name the app */
    bool assigned_from_api; /* licences start on the item's assigned day (seat created_at) */
    /* Reads the secrets at start (and SIGHUP): 0 or -errno after logging. */
    int (*open)(struct poll_src *ps);
    /* The Authorization header line, a new one when renew (after a 401); NULL after
     * poll_fail. */
    const char *(*auth)(struct poll_src *ps, bool renew);
    /* Walks every page, handing items to poll_take: 0, or -1 after poll_fail. */
    int (*fetch)(struct poll_src *ps);
    void (*close)(struct poll_src *ps); /* frees vd */
};

struct poll_src {
    const struct poll_vendor *v;
    const struct source_poll_opts *o; /* the instance's options (the config outlives it) */
    const char *base_url;             /* o->base_url, or the vendor's default */
    const struct source_env *env;     /* of the poll in progress */
    void *vd;                         /* the vendor's data */
    struct api_client *http;
    char ckpt_name[128];
    int64_t next_due_ms;         /* monotonic; 0: poll at once */
    unsigned failures;           /* polls failed in a row */
    int fail_err;                /* SRC_ERR_* of the failed poll in progress; -1: none */
    int64_t fail_retry_s;        /* the wait the API asked for; -1: none */
    char fail_msg[256];          /* why, without URLs, secrets or accounts */
    int32_t today;               /* the API's day of this poll; INT32_MIN: unknown */
    struct poll_entry *cur;      /* items of the poll in progress */
    size_t ncur, capcur, items;  /* items: how many poll_take saw */
    unsigned long long unmapped; /* accounts without a staff id in this poll */
    struct poll_entry *st;       /* state of the last complete poll, sorted by account */
    size_t nst;
    int64_t last_ok_us;
    char *apps[APIPAGE_MAX_APPS]; /* app names by index (state and records) */
    size_t napps;
    struct poll_map *map; /* account_map, or NULL */
    struct pseudonym_cache *keys, *own_keys;
};

/* GETs url with headers (NULL-ended) and the vendor's Authorization, retrying within the
 * poll what the API asks to retry: a 401 once with a new token, 429/503 after Retry-After
 * and 5xx or network errors after 1, 2, 4 s, as long as each wait is at most
 * retry_wait_max_s and there are at most 4 retries. Returns 0 with *r holding a 2xx answer
 * (within max_page_bytes), or -1 after poll_fail (r freed). */
int poll_get(struct poll_src *ps, const char *url, const char *const *headers, struct api_resp *r);

/* Records why the poll fails: err (SRC_ERR_*), the wait the API asked for (-1: none) and a
 * message. The first call of a poll wins. */
void poll_fail(struct poll_src *ps, int err, int64_t retry_s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts a page against max_pages and checks that next stays on base_url's origin. 0, or
 * -1 after poll_fail. */
int poll_next_page(struct poll_src *ps, unsigned *pages, const char *next);

/* An apipage_item_fn: takes one item of a page into the poll in progress (ud is ps). */
int poll_take(void *ud, const struct apipage_item *it);

/* Reads a secret file's first line (mode must deny group and world). 0 with *out (caller
 * wipes and frees with poll_secret_free), or -errno after logging; counted as a secret
 * error. */
int poll_read_secret(struct poll_src *ps, const char *path, const char *key, char **out);
void poll_secret_free(char *s);

/* The source callbacks; the vendor's struct source_type passes its poll_vendor through
 * src_poll_init. */
int src_poll_init(void **ctx, const struct poll_vendor *v, const struct source_opts *opts,
                  const struct source_env *env);
int src_poll_poll(void *ctx, const struct source_env *env);
void src_poll_fini(void *ctx);

/* The checks both types share (account_map or account_id; the secret file at key's path
 * and its mode; the account_map file). 0 or -EINVAL with err. */
int src_poll_check(const struct source_opts *o, const char *secret_key, const char *secret_path,
                   char *err, size_t errlen);

/* Rows every poller's table has (account_map, account_id, poll_interval_s, timeout_s,
 * max_pages, max_page_bytes, retry_wait_max_s), spliced in with POLL_COMMON_ROWS. */
#define PO(f) offsetof(struct source_opts, poll.f)
extern const struct opt_choice poll_account_id_choices[];
#define POLL_COMMON_ROWS                                                                           \
    {"account_map",                                                                                \
     OPT_STR,                                                                                      \
     NULL,                                                                                         \
     PO(account_map),                                                                              \
     0,                                                                                            \
     0,                                                                                            \
     false,                                                                                        \
     .help = "CSV account,staff_id: the staff id of each account (re-read when it changes)"},      \
        {"account_id",                                                                             \
         OPT_CHOICE,                                                                               \
         NULL,                                                                                     \
         PO(account_id),                                                                           \
         0,                                                                                        \
         0,                                                                                        \
         false,                                                                                    \
         .help = "upn_local_part or upn: the staff id an account not in account_map names",        \
         .choices = poll_account_id_choices},                                                      \
        {"poll_interval_s",                                                                        \
         OPT_INT,                                                                                  \
         "3600",                                                                                   \
         PO(poll_interval_s),                                                                      \
         1,                                                                                        \
         7 * 86400,                                                                                \
         false,                                                                                    \
         .help = "seconds between polls of the API"},                                              \
        {"timeout_s", OPT_INT, "60",  PO(timeout_s),                                               \
         1,           3600,    false, .help = "longest one HTTP request may take"},                \
        {"max_pages", OPT_INT,                                                                     \
         "10000",     PO(max_pages),                                                               \
         1,           1000000,                                                                     \
         false,       .help = "pages one poll reads at most (more fails the poll)"},               \
        {"max_page_bytes",                                                                         \
         OPT_BYTES,                                                                                \
         "16MiB",                                                                                  \
         PO(max_page_bytes),                                                                       \
         1024,                                                                                     \
         1 << 30,                                                                                  \
         false,                                                                                    \
         .help = "largest page body (KiB/MiB/GiB); a larger one fails the poll"},                  \
    {                                                                                              \
        "retry_wait_max_s", OPT_INT, "30", PO(retry_wait_max_s), 0, 600, false,                    \
            .help = "longest wait within a poll for Retry-After or a backoff; longer ends the "    \
                    "poll and the next attempt comes after that wait"                              \
    }

#endif
