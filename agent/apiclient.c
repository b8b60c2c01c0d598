/* apiclient.c - libcurl requests to the admin APIs, with bounded bodies and timeouts. */
#include "agent/apiclient.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/apipage.h"
#include "common/xalloc.h"

struct api_client {
    CURL *curl;
    int64_t timeout_s;
    uint64_t max_bytes;
};

int api_client_new(struct api_client **out, int64_t timeout_s, uint64_t max_bytes)
{
    struct api_client *c = xcalloc(1, sizeof *c);
    if (!(c->curl = curl_easy_init())) {
        xfree(c);
        return -ENOMEM;
    }
    c->timeout_s = timeout_s;
    c->max_bytes = max_bytes;
    *out = c;
    return 0;
}

void api_client_free(struct api_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    xfree(c);
}

void api_resp_free(struct api_resp *r)
{
    xfree(r->body);
    xfree(r->link_next);
    r->body = r->link_next = NULL;
    r->len = 0;
}

struct xfer {
    struct api_resp *r;
    size_t cap;
    uint64_t max;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    struct api_resp *r = x->r;
    if ((uint64_t)r->len + len > x->max) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (r->len + len + 1 > x->cap) {
        size_t cap = x->cap;
        xgrow((void **)&r->body, &cap, r->len + len + 1, 1);
        x->cap = cap;
    }
    memcpy(r->body + r->len, p, len);
    r->len += len;
    r->body[r->len] = '\0';
    return len;
}

/* The value of header line p (len bytes) when it is name, trimmed, in buf; else NULL. */
static const char *header_value(const char *p, size_t len, const char *name, char *buf,
                                size_t bufsize, size_t *vlen)
{
    size_t nl = strlen(name);
    if (len <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0)
        return NULL;
    const char *v = p + nl + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t k = (size_t)(end - v);
    if (buf) {
        if (k >= bufsize)
            k = bufsize - 1;
        memcpy(buf, v, k);
        buf[k] = '\0';
        *vlen = k;
        return buf;
    }
    *vlen = k;
    return v;
}

static bool whole_number(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 0)
        return false;
    *out = v;
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct api_resp *r = ((struct xfer *)ud)->r;
    size_t len = size * n, vl;
    char buf[128];
    const char *v;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after a 100) */
        xfree(r->link_next);
        r->link_next = NULL;
        r->link_bad = false;
        r->retry_after_s = r->ratelimit_remaining = r->ratelimit_reset = -1;
        r->has_date = false;
    } else if ((v = header_value(p, len, "Link", NULL, 0, &vl))) {
        char *next = NULL;
        if (apipage_link_next(v, vl, &next))
            r->link_bad = true;
        else if (next) {
            xfree(r->link_next);
            r->link_next = next;
        }
    } else if (header_value(p, len, "Retry-After", buf, sizeof buf, &vl)) {
        int64_t s;
        if (whole_number(buf, &s)) {
            r->retry_after_s = s;
        } else {
            time_t t = curl_getdate(buf, NULL);
            if (t > 0)
                r->retry_after_s = t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
        }
    } else if (header_value(p, len, "x-ratelimit-remaining", buf, sizeof buf, &vl)) {
        if (!whole_number(buf, &r->ratelimit_remaining))
            r->ratelimit_remaining = -1;
    } else if (header_value(p, len, "x-ratelimit-reset", buf, sizeof buf, &vl)) {
        if (!whole_number(buf, &r->ratelimit_reset))
            r->ratelimit_reset = -1;
    } else if (header_value(p, len, "Date", buf, sizeof buf, &vl)) {
        time_t t = curl_getdate(buf, NULL);
        if (t > 0) {
            r->has_date = true;
            r->date_day = (int32_t)(t / 86400);
        }
    }
    return len;
}

static int perform(struct api_client *c, const char *url, struct curl_slist *h, struct api_resp *r)
{
    CURL *e = c->curl;
    struct xfer x = {.r = r, .max = c->max_bytes};
    r->retry_after_s = r->ratelimit_remaining = r->ratelimit_reset = -1;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)c->timeout_s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_bytes);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "cadre-agent/" CADRE_AGENT_VERSION);
    CURLcode cc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (cc == CURLE_FILESIZE_EXCEEDED || (cc == CURLE_WRITE_ERROR && r->too_big)) {
        r->too_big = true;
        r->status = status;
        return 0;
    }
    if (cc != CURLE_OK) {
        /* curl_easy_strerror names the kind of failure, never the URL or a header. */
        snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(cc));
        r->status = 0;
        return -EIO;
    }
    r->status = status;
    return 0;
}

int api_get(struct api_client *c, const char *url, const char *const *headers, struct api_resp *r)
{
    memset(r, 0, sizeof *r);
    struct curl_slist *h = NULL;
    for (; headers && *headers; headers++)
        h = curl_slist_append(h, *headers);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    int rc = perform(c, url, h, r);
    curl_slist_free_all(h);
    return rc;
}

int api_post_form(struct api_client *c, const char *url, const char *form, struct api_resp *r)
{
    memset(r, 0, sizeof *r);
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
    int rc = perform(c, url, h, r);
    curl_slist_free_all(h);
    return rc;
}

void api_form_add(char **form, const char *name, const char *value)
{
    char *enc = curl_easy_escape(NULL, value, 0);
    size_t old = *form ? strlen(*form) : 0;
    size_t n = old + strlen(name) + (enc ? strlen(enc) : 0) + 3;
    char *f = xmalloc(n);
    snprintf(f, n, "%s%s%s=%s", *form ? *form : "", old ? "&" : "", name, enc ? enc : "");
    if (enc) {
        /* the encoded value may be a secret: wiped before it goes back to libcurl */
        explicit_bzero(enc, strlen(enc));
        curl_free(enc);
    }
    if (*form) {
        explicit_bzero(*form, old);
        xfree(*form);
    }
    *form = f;
}
