/* apipage.h - the vendors' admin API answers as data: pages of seats and report rows, the
 * Link header, OAuth token answers. Pure parsing, no network (docs/sources.md).
 *
 * Pages are parsed with jansson from a bounded buffer. Every string an item hands out is
 * borrowed from the parsed page and valid only during the callback.
 */
#ifndef CADRE_AGENT_APIPAGE_H
#define CADRE_AGENT_APIPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Apps of one account a page can name (Microsoft 365 Copilot has nine today); the longest
 * app name, so that "m365-copilot." and the name fit the 64 bytes of a tool. */
#define APIPAGE_MAX_APPS 16
#define APIPAGE_APP_MAX 51

/* One app's last activity of an account. */
struct apipage_activity {
    char app[APIPAGE_APP_MAX + 1]; /* lower-case [a-z0-9]; "" for GitHub (the tool itself) */
    int32_t day;                   /* the calendar day of the activity */
    int64_t ts_us;                 /* its instant (GitHub); midnight UTC of day (Graph) */
};

/* One seat (GitHub) or one report row (Graph). */
struct apipage_item {
    const char *account; /* login or UPN as the API writes it; NULL when missing */
    size_t account_len;
    bool has_assigned;    /* GitHub: the seat's created_at */
    int32_t assigned_day; /* its calendar day */
    bool has_refresh;     /* Graph: reportRefreshDate */
    int32_t refresh_day;
    size_t nact;
    struct apipage_activity act[APIPAGE_MAX_APPS];
    int reason;        /* -1, or the SRC_* reason why the item is refused */
    const char *field; /* the member named in the refusal (never a value) */
};

/* Called with each item of a page in order; 0 goes on, anything else stops the parse,
 * which then returns it. */
typedef int (*apipage_item_fn)(void *ud, const struct apipage_item *it);

/* A page of GET /orgs/{org}/copilot/billing/seats: {"total_seats": N, "seats": [...]}, each
 * seat with assignee.login, created_at, pending_cancellation_date, last_activity_at,
 * last_activity_editor. A seat whose login is missing or whose dates are bad comes with
 * reason set. Returns 0, -EBADMSG when the page is not such an object, or fn's value. */
int apipage_github_seats(const char *buf, size_t len, apipage_item_fn fn, void *ud);

/* A page of getMicrosoft365CopilotUsageUserDetail as JSON: {"value": [...],
 * "@odata.nextLink": URL}; each row's userPrincipalName, reportRefreshDate and every
 * "<app>LastActivityDate" member but lastActivityDate (empty or null: no activity).
 * *next is set to a copy of the next link (caller frees with xfree) or NULL on the last
 * page. Returns 0, -EBADMSG (not such an object; *next stays NULL), or fn's value. */
int apipage_graph_users(const char *buf, size_t len, apipage_item_fn fn, void *ud, char **next);

/* The app a Graph member names, lower case: "microsoftTeamsCopilotLastActivityDate" ->
 * "teams", "copilotChatLastActivityDate" -> "chat", "wordCopilotLastActivityDate" ->
 * "word". Returns 0 and out (APIPAGE_APP_MAX + 1 bytes), or -ENOENT when the member is
 * not a per-app last-activity date (lastActivityDate, reportRefreshDate, ...). */
int apipage_app_name(const char *member, char out[APIPAGE_APP_MAX + 1]);

/* The rel="next" target of an RFC 8288 Link header value (len bytes): *next is a copy
 * (caller frees with xfree) or NULL when there is none. Returns 0, or -EBADMSG when the
 * value cannot be read as links. */
int apipage_link_next(const char *value, size_t len, char **next);

/* An OAuth 2.0 token answer {"access_token": "...", "token_type": "Bearer",
 * "expires_in": N}: *token is a copy (caller frees with xfree; visible ASCII only, at most
 * 16 KiB) and *expires_in_s the lifetime (3600 when absent). Returns 0 or -EBADMSG. */
int apipage_token(const char *buf, size_t len, char **token, int64_t *expires_in_s);

/* True when url has the scheme, host and port of base (a next link must not send the
 * bearer token anywhere else). */
bool apipage_same_origin(const char *base, const char *url);

#endif
