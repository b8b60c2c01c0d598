/* apipage.c - parsing the vendors' API pages, Link headers and token answers. */
#include "agent/apipage.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/source.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define TOKEN_MAX (16u << 10)

static json_t *load(const char *buf, size_t len)
{
    json_error_t e;
    return json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
}

/* A string member: 1 with *s and *n, 0 when absent, null or "", -1 when of another type. */
static int str_member(json_t *o, const char *key, const char **s, size_t *n)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *s = json_string_value(v);
    *n = json_string_length(v);
    return *n ? 1 : 0;
}

static void refuse(struct apipage_item *it, int reason, const char *field)
{
    if (it->reason < 0) {
        it->reason = reason;
        it->field = field;
    }
}

/* ---- GitHub ---- */

static void github_seat(json_t *seat, struct apipage_item *it)
{
    const char *s;
    size_t n;
    json_t *assignee = json_object_get(seat, "assignee");
    int r = json_is_object(assignee) ? str_member(assignee, "login", &s, &n) : 0;
    if (r > 0 && memchr(s, '\0', n) == NULL) {
        it->account = s;
        it->account_len = n;
    } else {
        refuse(it, r < 0 ? SRC_INVALID_VALUE : SRC_MISSING_FIELD, "assignee.login");
    }
    int64_t us;
    r = str_member(seat, "created_at", &s, &n);
    if (r <= 0)
        refuse(it, r < 0 ? SRC_INVALID_VALUE : SRC_MISSING_FIELD, "created_at");
    else if (parse_rfc3339(s, n, &us, &it->assigned_day))
        refuse(it, SRC_INVALID_VALUE, "created_at");
    else
        it->has_assigned = true;
    int32_t day;
    r = str_member(seat, "pending_cancellation_date", &s, &n);
    if (r < 0 || (r > 0 && parse_date(s, n, &day)))
        refuse(it, SRC_INVALID_VALUE, "pending_cancellation_date");
    r = str_member(seat, "last_activity_editor", &s, &n);
    if (r < 0)
        refuse(it, SRC_INVALID_VALUE, "last_activity_editor");
    r = str_member(seat, "last_activity_at", &s, &n);
    if (r < 0) {
        refuse(it, SRC_INVALID_VALUE, "last_activity_at");
    } else if (r > 0) {
        struct apipage_activity *a = &it->act[0];
        if (parse_rfc3339(s, n, &a->ts_us, &a->day)) {
            refuse(it, SRC_INVALID_VALUE, "last_activity_at");
        } else {
            a->app[0] = '\0';
            it->nact = 1;
        }
    }
}

/* Hands each element of arr to fn as an item parsed by parse (an element that is not an
 * object: a malformed item). Returns 0 or fn's non-zero result, which stops the walk. */
static int each_item(json_t *arr, void (*parse)(json_t *, struct apipage_item *),
                     apipage_item_fn fn, void *ud)
{
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el)
    {
        struct apipage_item it;
        memset(&it, 0, sizeof it);
        it.reason = -1;
        if (!json_is_object(el))
            refuse(&it, SRC_MALFORMED, NULL);
        else
            parse(el, &it);
        int rc = fn(ud, &it);
        if (rc)
            return rc;
    }
    return 0;
}

int apipage_github_seats(const char *buf, size_t len, apipage_item_fn fn, void *ud)
{
    json_t *root = load(buf, len);
    json_t *seats = root ? json_object_get(root, "seats") : NULL;
    if (!json_is_object(root) || !json_is_array(seats)) {
        json_decref(root);
        return -EBADMSG;
    }
    int rc = each_item(seats, github_seat, fn, ud);
    json_decref(root);
    return rc;
}

/* ---- Microsoft Graph ---- */

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *stem)
{
    size_t k = strlen(suffix);
    if (n < k || memcmp(s + n - k, suffix, k) != 0)
        return false;
    *stem = n - k;
    return true;
}

int apipage_app_name(const char *member, char out[APIPAGE_APP_MAX + 1])
{
    size_t n = strlen(member), stem;
    if (!ends_with(member, n, "LastActivityDate", &stem) || stem == 0)
        return -ENOENT;
    const char *s = member;
    size_t k;
    if (ends_with(s, stem, "Copilot", &k) && k > 0)
        stem = k;
    if (stem > 9 && strncmp(s, "microsoft", 9) == 0 && s[9] >= 'A' && s[9] <= 'Z') {
        s += 9;
        stem -= 9;
    }
    if (stem > 7 && strncmp(s, "copilot", 7) == 0 && s[7] >= 'A' && s[7] <= 'Z') {
        s += 7;
        stem -= 7;
    }
    if (stem == 0 || stem > APIPAGE_APP_MAX)
        return -ENOENT;
    for (size_t i = 0; i < stem; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -ENOENT;
        out[i] = c;
    }
    out[stem] = '\0';
    return 0;
}

static void graph_row(json_t *row, struct apipage_item *it)
{
    const char *s;
    size_t n;
    int r = str_member(row, "userPrincipalName", &s, &n);
    if (r > 0 && memchr(s, '\0', n) == NULL) {
        it->account = s;
        it->account_len = n;
    } else {
        refuse(it, r < 0 ? SRC_INVALID_VALUE : SRC_MISSING_FIELD, "userPrincipalName");
    }
    r = str_member(row, "reportRefreshDate", &s, &n);
    if (r < 0 || (r > 0 && parse_date(s, n, &it->refresh_day)))
        refuse(it, SRC_INVALID_VALUE, "reportRefreshDate");
    else
        it->has_refresh = r > 0;
    const char *key;
    json_t *v;
    json_object_foreach(row, key, v)
    {
        char app[APIPAGE_APP_MAX + 1];
        if (apipage_app_name(key, app))
            continue;
        r = str_member(row, key, &s, &n);
        if (r == 0)
            continue;
        int32_t day;
        if (r < 0 || parse_date(s, n, &day)) {
            refuse(it, SRC_INVALID_VALUE, "LastActivityDate");
            continue;
        }
        size_t j = 0;
        while (j < it->nact && strcmp(it->act[j].app, app) != 0)
            j++;
        if (j == APIPAGE_MAX_APPS)
            continue; /* more apps than a row can carry: the rest are not read */
        if (j == it->nact) {
            memcpy(it->act[j].app, app, sizeof app);
            it->nact++;
        } else if (it->act[j].day >= day) {
            continue;
        }
        it->act[j].day = day;
        it->act[j].ts_us = (int64_t)day * 86400 * US_PER_SEC;
    }
}

int apipage_graph_users(const char *buf, size_t len, apipage_item_fn fn, void *ud, char **next)
{
    *next = NULL;
    json_t *root = load(buf, len);
    json_t *rows = root ? json_object_get(root, "value") : NULL;
    json_t *link = root ? json_object_get(root, "@odata.nextLink") : NULL;
    if (!json_is_object(root) || !json_is_array(rows) ||
        (link && !json_is_null(link) && !json_is_string(link))) {
        json_decref(root);
        return -EBADMSG;
    }
    int rc = each_item(rows, graph_row, fn, ud);
    if (!rc && json_is_string(link) && json_string_length(link))
        *next = xstrndup(json_string_value(link), json_string_length(link));
    json_decref(root);
    return rc;
}

/* ---- Link header ---- */

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* Whether a rel value (unquoted, n bytes) lists "next" among its space-separated types. */
static bool rel_has_next(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        if (j - i == 4 && strncasecmp(s + i, "next", 4) == 0)
            return true;
        i = j;
    }
    return false;
}

int apipage_link_next(const char *value, size_t len, char **next)
{
    *next = NULL;
    const char *p = value, *end = value + len;
    for (;;) {
        p = skip_ws(p, end);
        while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            return 0;
        if (*p != '<')
            goto bad;
        const char *u = ++p;
        while (p < end && *p != '>')
            p++;
        if (p == end)
            goto bad;
        const char *uend = p++;
        bool is_next = false;
        for (;;) { /* parameters: ; name[=value] */
            p = skip_ws(p, end);
            if (p == end || *p == ',')
                break;
            if (*p != ';')
                goto bad;
            p = skip_ws(p + 1, end);
            const char *name = p;
            while (p < end && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
                p++;
            size_t nlen = (size_t)(p - name);
            p = skip_ws(p, end);
            const char *v = p;
            size_t vlen = 0;
            if (p < end && *p == '=') {
                p = skip_ws(p + 1, end);
                if (p < end && *p == '"') {
                    v = ++p;
                    while (p < end && *p != '"')
                        p++;
                    if (p == end)
                        goto bad;
                    vlen = (size_t)(p - v);
                    p++;
                } else {
                    v = p;
                    while (p < end && *p != ';' && *p != ',' && *p != ' ')
                        p++;
                    vlen = (size_t)(p - v);
                }
            }
            if (nlen == 3 && strncasecmp(name, "rel", 3) == 0 && rel_has_next(v, vlen))
                is_next = true;
        }
        if (is_next && !*next) {
            if (uend == u || memchr(u, '\0', (size_t)(uend - u)))
                goto bad;
            *next = xstrndup(u, (size_t)(uend - u));
        }
    }
bad:
    xfree(*next);
    *next = NULL;
    return -EBADMSG;
}

/* ---- tokens ---- */

int apipage_token(const char *buf, size_t len, char **token, int64_t *expires_in_s)
{
    json_t *root = load(buf, len);
    const char *s;
    size_t n;
    int rc = -EBADMSG;
    if (!json_is_object(root) || str_member(root, "access_token", &s, &n) <= 0 || n > TOKEN_MAX)
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            goto out;
    const char *tt;
    size_t ttn;
    int r = str_member(root, "token_type", &tt, &ttn);
    if (r < 0 || (r > 0 && strcasecmp(tt, "bearer") != 0))
        goto out;
    json_t *e = json_object_get(root, "expires_in");
    int64_t exp = 3600;
    if (json_is_integer(e))
        exp = (int64_t)json_integer_value(e);
    else if (json_is_string(e)) /* some endpoints send it as a string */
        exp = strtoll(json_string_value(e), NULL, 10);
    else if (e && !json_is_null(e))
        goto out;
    if (exp <= 0 || exp > 86400 * 366)
        goto out;
    *token = xstrndup(s, n);
    *expires_in_s = exp;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---- origins ---- */

struct origin {
    char scheme[8];
    const char *host;
    size_t hostlen;
    long port;
};

static int parse_origin(const char *url, struct origin *o)
{
    const char *p = strstr(url, "://");
    if (!p || p == url || (size_t)(p - url) >= sizeof o->scheme)
        return -1;
    size_t sl = (size_t)(p - url);
    for (size_t i = 0; i < sl; i++)
        o->scheme[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ? url[i] - 'A' + 'a' : url[i]);
    o->scheme[sl] = '\0';
    if (strcmp(o->scheme, "http") && strcmp(o->scheme, "https"))
        return -1;
    const char *h = p + 3, *e = h + strcspn(h, "/?#");
    if (memchr(h, '@', (size_t)(e - h)) || e == h)
        return -1; /* userinfo is never ours */
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(e - h));
        if (!rb)
            return -1;
        colon = rb + 1 < e && rb[1] == ':' ? rb + 1 : NULL;
        if (rb + 1 < e && !colon)
            return -1;
    } else {
        colon = memchr(h, ':', (size_t)(e - h));
    }
    o->host = h;
    o->hostlen = (size_t)((colon ? colon : e) - h);
    o->port = strcmp(o->scheme, "https") == 0 ? 443 : 80;
    if (colon) {
        if (colon + 1 == e)
            return -1;
        long port = 0;
        for (const char *q = colon + 1; q < e; q++) {
            if (*q < '0' || *q > '9' || port > 65535)
                return -1;
            port = port * 10 + (*q - '0');
        }
        o->port = port;
    }
    return o->hostlen ? 0 : -1;
}

bool apipage_same_origin(const char *base, const char *url)
{
    struct origin a, b;
    if (parse_origin(base, &a) || parse_origin(url, &b))
        return false;
    return strcmp(a.scheme, b.scheme) == 0 && a.port == b.port && a.hostlen == b.hostlen &&
           strncasecmp(a.host, b.host, a.hostlen) == 0;
}
