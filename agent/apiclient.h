/* apiclient.h - bounded HTTP GETs and token POSTs to the vendors' admin APIs (libcurl).
 *
 * One client per polling source, used from the poll thread only. Every request has a
 * connect timeout of 10 s and a whole-request timeout; a body past max_bytes is cut off
 * (too_big); redirects are not followed and only http and https are spoken, so a server
 * cannot send the bearer token elsewhere. Nothing here logs a header or a body.
 */
#ifndef CADRE_AGENT_APICLIENT_H
#define CADRE_AGENT_APICLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct api_client;

/* What one request got back. Free with api_resp_free. */
struct api_resp {
    long status; /* HTTP status; 0 when no answer came (network, timeout) */
    char *body;  /* NUL-terminated, len bytes; NULL when empty */
    size_t len;
    bool too_big;                /* the body passed max_bytes and was cut off */
    char *link_next;             /* the Link header's rel="next" target, or NULL */
    bool link_bad;               /* a Link header that cannot be read */
    int64_t retry_after_s;       /* Retry-After in seconds; -1 when absent */
    int64_t ratelimit_remaining; /* x-ratelimit-remaining; -1 when absent */
    int64_t ratelimit_reset;     /* x-ratelimit-reset (Unix seconds); -1 when absent */
    bool has_date;               /* a Date header: */
    int32_t date_day;            /* its UTC calendar day */
    char err[256];               /* libcurl's message when status is 0 */
};

/* A client with a whole-request timeout and a cap on a body. Returns 0 and *out (free
 * with api_client_free) or -ENOMEM. */
int api_client_new(struct api_client **out, int64_t timeout_s, uint64_t max_bytes);
void api_client_free(struct api_client *c);

/* GET url with the extra headers (an array of "Name: value" ending with NULL). Fills *r
 * (zeroed first). Returns 0 when an HTTP answer came (any status), -EIO otherwise (r->err
 * says why; status 0). */
int api_get(struct api_client *c, const char *url, const char *const *headers, struct api_resp *r);

/* POSTs form (application/x-www-form-urlencoded, already encoded) to url. As api_get. */
int api_post_form(struct api_client *c, const char *url, const char *form, struct api_resp *r);

/* Appends "name=value" (value percent-encoded) to a form being built in *form (xmalloc'd,
 * NULL to start; caller frees with xfree). */
void api_form_add(char **form, const char *name, const char *value);

void api_resp_free(struct api_resp *r);

#endif
