/* src_poll.c - the API pollers' shared machinery: schedule, retries, identity, state, records.
 *
 * The state (checkpoint "<source>.api.ckpt") holds, per account seen licensed, a keyed
 * account id (HMAC of the account under the org key: no account name is ever written),
 * the staff key of its open licence, the licence's assigned day and the last day it was
 * seen, and the last-activity day shipped per app.
 */
#include "agent/src_poll.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/checkpoint.h"
#include "agent/pseudonym.h"
#include "cadre.pb-c.h"
#include "common/csvread.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/reckey.h"
#include "common/strutil.h"
#include "common/svc.h"
#include "common/timeutil.h"
#include "common/tokfile.h"
#include "common/xalloc.h"

#define CKPT_VERSION 1
#define NO_DAY POLL_NO_DAY
#define ACCOUNT_MAX 256   /* longer accounts are invalid_value */
#define INLINE_RETRIES 4  /* retries of one request within a poll */
#define FAIL_BACKOFF_S 30 /* first wait after a failed poll; doubles, capped by the interval */
/* Accounts one poll may list (about 100 bytes each in memory): a broken or hostile API
 * that lists more fails the poll rather than filling the agent's memory. */
#define MAX_ACCOUNTS 500000

enum { E_STAFF = 1, E_LICENSED = 2, E_BAD = 4 };

struct poll_entry {
    uint8_t acct[STAFF_KEY_LEN];   /* HMAC of "account:" + the account */
    uint8_t staff[STAFF_KEY_LEN];  /* state: of the open licence; poll: of the account now */
    uint8_t flags;                 /* E_* */
    int32_t assigned;              /* state: open licence's day; poll: the API's (or NO_DAY) */
    int32_t last_seen;             /* state: last day seen licensed */
    int64_t ts0;                   /* poll: instant of app 0's activity */
    int32_t day[APIPAGE_MAX_APPS]; /* last activity per app index; NO_DAY: none */
};

const struct opt_choice poll_account_id_choices[] = {
    {"upn_local_part", POLL_ACCOUNT_UPN_LOCAL_PART},
    {"upn", POLL_ACCOUNT_UPN},
    {NULL, 0},
};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t wall_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * US_PER_SEC + t.tv_nsec / 1000;
}

static void sleep_s(int64_t s)
{
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = 0};
    while (nanosleep(&t, &t) && errno == EINTR)
        ;
    svc_watchdog();
}

/* ---- account_map ---- */

struct map_row {
    char *account; /* normalised: trimmed, lower case */
    size_t alen;
    char *staff;
    size_t slen;
};

struct poll_map {
    struct hmap m;
    struct map_row **rows;
    size_t n, cap;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

static void map_free(struct poll_map *pm)
{
    if (!pm)
        return;
    for (size_t i = 0; i < pm->n; i++) {
        xfree(pm->rows[i]->account);
        xfree(pm->rows[i]->staff);
        xfree(pm->rows[i]);
    }
    xfree(pm->rows);
    hmap_free(&pm->m);
    xfree(pm);
}

struct map_load {
    struct poll_map *pm;
    int idx[2];
    bool header;
};

static int map_row_cb(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct map_load *l = ud;
    static const char *const names[2] = {"account", "staff_id"};
    if (ev == CSV_EV_HEADER) {
        csv_header_map(row, names, 2, l->idx);
        l->header = true;
        return l->idx[0] < 0 || l->idx[1] < 0 ? -EINVAL : 0;
    }
    if (ev != CSV_EV_ROW)
        return 0; /* a malformed row maps nobody */
    const char *a = row->field[l->idx[0]], *s = row->field[l->idx[1]];
    size_t al = row->len[l->idx[0]], sl = row->len[l->idx[1]];
    if (!al || !sl || al > ACCOUNT_MAX)
        return 0;
    struct map_row *r = xcalloc(1, sizeof *r);
    r->account = xstrndup(a, al);
    str_lower(r->account, al);
    r->alen = al;
    r->staff = xstrndup(s, sl);
    r->slen = sl;
    struct poll_map *pm = l->pm;
    xgrow((void **)&pm->rows, &pm->cap, pm->n + 1, sizeof *pm->rows);
    pm->rows[pm->n++] = r;
    hmap_put(&pm->m, hmap_hash(r->account, al, HMAP_SEED), r->account, al, r); /* later wins */
    return 0;
}

/* Reads account_map again when it changed. 0, or -errno (the old map stays). */
static int map_refresh(struct poll_src *ps)
{
    const char *path = ps->o->account_map;
    struct stat st;
    if (stat(path, &st))
        return -errno;
    struct poll_map *old = ps->map;
    if (old && old->dev == st.st_dev && old->ino == st.st_ino && old->size == st.st_size &&
        old->mtime.tv_sec == st.st_mtim.tv_sec && old->mtime.tv_nsec == st.st_mtim.tv_nsec)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    struct poll_map *pm = xcalloc(1, sizeof *pm);
    struct map_load l = {.pm = pm, .idx = {-1, -1}};
    struct csvread *r = csvread_new(map_row_cb, &l);
    char buf[1 << 14];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(buf, 1, sizeof buf, f)) > 0)
        rc = csvread_feed(r, buf, n);
    if (!rc)
        rc = ferror(f) ? -EIO : csvread_finish(r);
    csvread_free(r);
    fclose(f);
    if (!rc && !l.header)
        rc = -EINVAL;
    if (rc) {
        map_free(pm);
        return rc < 0 ? rc : -EINVAL;
    }
    pm->dev = st.st_dev;
    pm->ino = st.st_ino;
    pm->size = st.st_size;
    pm->mtime = st.st_mtim;
    map_free(old);
    ps->map = pm;
    log_info("[source %s] account_map: %zu accounts", ps->env->name, pm->n);
    return 0;
}

/* The staff key of a normalised account: 0, or -ENOENT when it names no staff id. */
static int staff_of(struct poll_src *ps, const char *acct, size_t len, uint8_t out[16])
{
    if (ps->map) {
        struct map_row *r = hmap_get(&ps->map->m, hmap_hash(acct, len, HMAP_SEED), acct, len);
        if (r)
            return pseudonym_cache_key(ps->keys, r->staff, r->slen, out) ? -ENOENT : 0;
    }
    if (ps->o->account_id == POLL_ACCOUNT_NONE)
        return -ENOENT;
    size_t n = len;
    if (ps->o->account_id == POLL_ACCOUNT_UPN_LOCAL_PART) {
        const char *at = memchr(acct, '@', len);
        if (at)
            n = (size_t)(at - acct);
    }
    return pseudonym_cache_key(ps->keys, acct, n, out) ? -ENOENT : 0;
}

/* ---- a poll in progress ---- */

void poll_fail(struct poll_src *ps, int err, int64_t retry_s, const char *fmt, ...)
{
    if (ps->fail_err >= 0)
        return;
    ps->fail_err = err;
    ps->fail_retry_s = retry_s;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->fail_msg, sizeof ps->fail_msg, fmt, ap);
    va_end(ap);
}

static int app_index(struct poll_src *ps, const char *app)
{
    for (size_t i = 0; i < ps->napps; i++)
        if (strcmp(ps->apps[i], app) == 0)
            return (int)i;
    if (ps->napps == APIPAGE_MAX_APPS)
        return -1;
    ps->apps[ps->napps] = xstrdup(app);
    return (int)ps->napps++;
}

int poll_take(void *ud, const struct apipage_item *it)
{
    struct poll_src *ps = ud;
    const struct source_env *env = ps->env;
    unsigned long n = (unsigned long)++ps->items;
    if (!it->account || it->account_len > ACCOUNT_MAX) {
        source_reject(env, n, it->account ? SRC_INVALID_VALUE : it->reason, it->field);
        return 0;
    }
    const char *s = it->account;
    size_t len = it->account_len;
    str_trim(&s, &len);
    char acct[8 + ACCOUNT_MAX + 1];
    memcpy(acct, "account:", 8);
    memcpy(acct + 8, s, len);
    str_lower(acct + 8, len);
    acct[8 + len] = '\0';
    if (ps->ncur >= MAX_ACCOUNTS) {
        poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "more than %d accounts listed", MAX_ACCOUNTS);
        return -1;
    }
    xgrow((void **)&ps->cur, &ps->capcur, ps->ncur + 1, sizeof *ps->cur);
    struct poll_entry *e = &ps->cur[ps->ncur];
    memset(e, 0, sizeof *e);
    e->assigned = e->last_seen = NO_DAY;
    for (int i = 0; i < APIPAGE_MAX_APPS; i++)
        e->day[i] = NO_DAY;
    if (!len || pseudonym_staff_key(env->pseudo, acct, 8 + len, e->acct)) {
        source_reject(env, n, SRC_MISSING_FIELD, it->field);
        return 0;
    }
    ps->ncur++;
    if (it->reason >= 0) { /* seen, so its licence stays, but nothing of it is read */
        e->flags |= E_BAD;
        source_reject(env, n, it->reason, it->field);
        return 0;
    }
    if (staff_of(ps, acct + 8, len, e->staff) == 0) {
        e->flags |= E_STAFF;
    } else {
        ps->unmapped++;
        if (env->stats)
            atomic_fetch_add(&env->stats->rejected[SRC_UNMAPPED_ACCOUNT], 1);
    }
    if (it->has_assigned)
        e->assigned = it->assigned_day;
    if (it->has_refresh && (ps->today == NO_DAY || it->refresh_day > ps->today))
        ps->today = it->refresh_day;
    for (size_t i = 0; i < it->nact; i++) {
        int k = app_index(ps, it->act[i].app);
        if (k < 0 || (e->day[k] != NO_DAY && e->day[k] >= it->act[i].day))
            continue;
        e->day[k] = it->act[i].day;
        if (k == 0)
            e->ts0 = it->act[i].ts_us;
    }
    return 0;
}

int poll_next_page(struct poll_src *ps, unsigned *pages, const char *next)
{
    if (next && !apipage_same_origin(ps->base_url, next)) {
        poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1,
                  "page %u: the next link leaves base_url's origin; not followed", *pages);
        return -1;
    }
    if (next && *pages >= (unsigned)ps->o->max_pages) {
        poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "more than max_pages (%lld) pages",
                  (long long)ps->o->max_pages);
        return -1;
    }
    ++*pages;
    return 0;
}

int poll_get(struct poll_src *ps, const char *url, const char *const *headers, struct api_resp *r)
{
    const char *hdr[16];
    size_t nh = 0;
    for (; headers && headers[nh] && nh < 14; nh++)
        hdr[nh] = headers[nh];
    bool renewed = false;
    for (int attempt = 0;; attempt++) {
        const char *auth = ps->v->auth(ps, false);
        if (!auth)
            return -1;
        hdr[nh] = auth;
        hdr[nh + 1] = NULL;
        int rc = api_get(ps->http, url, hdr, r);
        int err = -1;
        int64_t wait = -1;
        long st = r->status;
        if (rc) {
            err = SRC_ERR_NETWORK;
        } else if (st >= 200 && st < 300) {
            if (!r->too_big)
                return 0;
            api_resp_free(r);
            poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "a page is larger than max_page_bytes (%llu)",
                      (unsigned long long)ps->o->max_page_bytes);
            return -1;
        } else if (st == 401 && !renewed) {
            renewed = true;
            api_resp_free(r);
            if (!ps->v->auth(ps, true))
                return -1;
            attempt--; /* a new token is not a retry */
            continue;
        } else if (st == 429 || st == 503 ||
                   (st == 403 && (r->ratelimit_remaining == 0 || r->retry_after_s >= 0))) {
            err = SRC_ERR_RATE_LIMITED;
            wait = r->retry_after_s;
            if (wait < 0 && r->ratelimit_remaining == 0 && r->ratelimit_reset > 0)
                wait = r->ratelimit_reset - (int64_t)time(NULL) + 1;
        } else if (st == 401 || st == 403) {
            api_resp_free(r);
            poll_fail(ps, SRC_ERR_AUTH, -1, "HTTP %ld: the credentials are refused", st);
            return -1;
        } else if (st >= 500) {
            err = SRC_ERR_SERVER;
        } else if (st >= 400) {
            api_resp_free(r);
            poll_fail(ps, SRC_ERR_HTTP_CLIENT, -1, "HTTP %ld from the API", st);
            return -1;
        } else {
            api_resp_free(r);
            poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "HTTP %ld (not followed)", st);
            return -1;
        }
        int64_t backoff = (int64_t)1 << (attempt < 10 ? attempt : 10);
        if (wait < 0)
            wait = backoff;
        char why[300];
        if (rc)
            snprintf(why, sizeof why, "%s", r->err);
        else
            snprintf(why, sizeof why, "HTTP %ld", st);
        api_resp_free(r);
        if (attempt >= INLINE_RETRIES || wait > ps->o->retry_wait_max_s) {
            poll_fail(ps, err, r->retry_after_s >= 0 || err == SRC_ERR_RATE_LIMITED ? wait : -1,
                      "%s (after %d retries)", why, attempt);
            return -1;
        }
        log_debug("[source %s] %s; retrying in %lld s", ps->env->name, why, (long long)wait);
        sleep_s(wait);
    }
}

/* ---- secrets ---- */

int poll_read_secret(struct poll_src *ps, const char *path, const char *key, char **out)
{
    const struct source_env *env = ps->env;
    struct stat st;
    int rc;
    if (stat(path, &st)) {
        rc = -errno;
        log_error("[source %s] %s %s: cannot read: %s", env->name, key, path, strerror(errno));
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = -EACCES;
        log_error("[source %s] %s %s: refused: group or others may access it (mode %03o; "
                  "chmod 600)",
                  env->name, key, path, (unsigned)(st.st_mode & 0777));
    } else if ((rc = tokfile_read_token(path, out))) {
        log_error("[source %s] %s %s: %s", env->name, key, path,
                  rc == -ENODATA  ? "first line is empty"
                  : rc == -EILSEQ ? "holds a character a header cannot carry"
                  : rc == -E2BIG  ? "first line is too long"
                                  : strerror(-rc));
        if (rc == -ENODATA || rc == -EILSEQ || rc == -E2BIG)
            rc = -EINVAL;
    }
    if (rc && env->stats)
        atomic_fetch_add(&env->stats->errors[SRC_ERR_SECRET], 1);
    return rc;
}

void poll_secret_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        xfree(s);
    }
}

static int check_secret_file(const char *key, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st)) {
        snprintf(err, errlen, "%s %s: cannot read: %s", key, path, strerror(errno));
        return -EINVAL;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a regular file", key, path);
        return -EINVAL;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "%s %s: refused: group or others may access it (mode %03o; chmod 600)", key, path,
                 (unsigned)(st.st_mode & 0777));
        return -EINVAL;
    }
    char *tok = NULL;
    int rc = tokfile_read_token(path, &tok);
    if (tok) {
        explicit_bzero(tok, strlen(tok));
        xfree(tok);
    }
    if (rc) {
        snprintf(err, errlen, "%s %s: %s", key, path,
                 rc == -ENODATA  ? "first line is empty"
                 : rc == -EILSEQ ? "holds a character a header cannot carry"
                 : rc == -E2BIG  ? "first line is too long"
                                 : strerror(-rc));
        return -EINVAL;
    }
    return 0;
}

int src_poll_check(const struct source_opts *o, const char *secret_key, const char *secret_path,
                   char *err, size_t errlen)
{
    const struct source_poll_opts *p = &o->poll;
    if (!p->account_map && p->account_id == POLL_ACCOUNT_NONE) {
        snprintf(err, errlen, "needs account_map or account_id (how an account names a staff id)");
        return -EINVAL;
    }
    if (p->account_map) {
        FILE *f = fopen(p->account_map, "r");
        if (!f) {
            snprintf(err, errlen, "account_map %s: cannot read: %s", p->account_map,
                     strerror(errno));
            return -EINVAL;
        }
        fclose(f);
    }
    if (secret_path && check_secret_file(secret_key, secret_path, err, errlen))
        return -EINVAL;
    return 0;
}

/* ---- state ---- */

static int cmp_entry(const void *a, const void *b)
{
    return memcmp(((const struct poll_entry *)a)->acct, ((const struct poll_entry *)b)->acct,
                  STAFF_KEY_LEN);
}

static void state_load(struct poll_src *ps, const struct source_env *env)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = env->ckpt_dir ? ckpt_read(env->ckpt_dir, ps->ckpt_name, &data, &len) : -ENOENT;
    if (rc) {
        if (rc != -ENOENT)
            log_warn("[source %s] state unreadable (%s): starting afresh; what the API shows "
                     "now ships again (usage keys make that harmless)",
                     env->name, strerror(-rc));
        return;
    }
    struct ckpt_in in = {.p = data, .len = len};
    size_t napps = 0, n = 0;
    if (ckpt_get_u64(&in) != CKPT_VERSION)
        goto bad;
    ps->last_ok_us = (int64_t)ckpt_get_u64(&in);
    napps = (size_t)ckpt_get_u64(&in);
    if (napps > APIPAGE_MAX_APPS)
        goto bad;
    for (size_t i = 0; i < napps; i++) {
        const uint8_t *p;
        size_t l = ckpt_get_bytes(&in, &p);
        if (in.bad || l > APIPAGE_APP_MAX)
            goto bad;
        ps->apps[ps->napps++] = xstrndup((const char *)p, l);
    }
    n = (size_t)ckpt_get_u64(&in);
    if (in.bad || n > len / 16)
        goto bad;
    ps->st = xcalloc(n ? n : 1, sizeof *ps->st);
    for (size_t i = 0; i < n; i++) {
        struct poll_entry *e = &ps->st[i];
        const uint8_t *p;
        if (ckpt_get_bytes(&in, &p) != STAFF_KEY_LEN)
            goto bad;
        memcpy(e->acct, p, STAFF_KEY_LEN);
        if (ckpt_get_bytes(&in, &p) != STAFF_KEY_LEN)
            goto bad;
        memcpy(e->staff, p, STAFF_KEY_LEN);
        e->flags = (uint8_t)ckpt_get_u64(&in);
        e->assigned = (int32_t)(uint32_t)ckpt_get_u64(&in);
        e->last_seen = (int32_t)(uint32_t)ckpt_get_u64(&in);
        for (size_t k = 0; k < APIPAGE_MAX_APPS; k++)
            e->day[k] = k < napps ? (int32_t)(uint32_t)ckpt_get_u64(&in) : NO_DAY;
        if (in.bad)
            goto bad;
    }
    ps->nst = n;
    xfree(data);
    return;
bad:
    log_warn("[source %s] state damaged: starting afresh", env->name);
    for (size_t i = 0; i < ps->napps; i++)
        xfree(ps->apps[i]);
    ps->napps = 0;
    xfree(ps->st);
    ps->st = NULL;
    ps->nst = 0;
    ps->last_ok_us = 0;
    xfree(data);
}

static int state_write(struct poll_src *ps, const struct source_env *env, struct poll_entry *st,
                       size_t n, int64_t ok_us)
{
    struct ckpt_buf b = {0};
    ckpt_put_u64(&b, CKPT_VERSION);
    ckpt_put_u64(&b, (uint64_t)ok_us);
    ckpt_put_u64(&b, ps->napps);
    for (size_t i = 0; i < ps->napps; i++)
        ckpt_put_bytes(&b, ps->apps[i], strlen(ps->apps[i]));
    ckpt_put_u64(&b, n);
    for (size_t i = 0; i < n; i++) {
        ckpt_put_bytes(&b, st[i].acct, STAFF_KEY_LEN);
        ckpt_put_bytes(&b, st[i].staff, STAFF_KEY_LEN);
        ckpt_put_u64(&b, st[i].flags);
        ckpt_put_u64(&b, (uint32_t)st[i].assigned);
        ckpt_put_u64(&b, (uint32_t)st[i].last_seen);
        for (size_t k = 0; k < ps->napps; k++)
            ckpt_put_u64(&b, (uint32_t)st[i].day[k]);
    }
    int rc = ckpt_write(env->ckpt_dir, ps->ckpt_name, b.p, b.len, env->fsync);
    ckpt_buf_free(&b);
    return rc;
}

/* ---- records ---- */

static int emit_licence(struct poll_src *ps, const uint8_t *staff, int32_t assigned,
                        int32_t removed)
{
    Cadre__Licence l = CADRE__LICENCE__INIT;
    Cadre__Record rec = CADRE__RECORD__INIT;
    uint8_t key[RECKEY_MAX];
    l.staff.data = (uint8_t *)staff;
    l.staff.len = STAFF_KEY_LEN;
    l.tool = (char *)ps->v->tool;
    l.assigned_day = assigned;
    if (removed != NO_DAY) {
        l.has_removed_day = true;
        l.removed_day = removed < assigned ? assigned : removed;
    }
    rec.type = CADRE__RECORD_TYPE__RECORD_TYPE_LICENCE;
    rec.key.data = key;
    rec.key.len = reckey_licence(key, staff, l.tool, strlen(l.tool), assigned);
    rec.body_case = CADRE__RECORD__BODY_LICENCE;
    rec.licence = &l;
    return source_emit(ps->env, &rec);
}

static int emit_usage(struct poll_src *ps, const struct poll_entry *e, int app)
{
    char tool[80];
    if (ps->v->per_app)
        snprintf(tool, sizeof tool, "%s.%s", ps->v->tool, ps->apps[app]);
    else
        snprintf(tool, sizeof tool, "%s", ps->v->tool);
    /* The key hashes (source, account, app, day): the source name is in the key, the
     * keyed account and the app in the fingerprint, the day in the offset. */
    uint8_t fpin[STAFF_KEY_LEN + APIPAGE_APP_MAX + 1];
    size_t al = strlen(ps->apps[app]);
    memcpy(fpin, e->acct, STAFF_KEY_LEN);
    memcpy(fpin + STAFF_KEY_LEN, ps->apps[app], al);
    int32_t day = e->day[app];
    Cadre__Usage u = CADRE__USAGE__INIT;
    Cadre__Record rec = CADRE__RECORD__INIT;
    uint8_t key[RECKEY_MAX];
    u.staff.data = (uint8_t *)e->staff;
    u.staff.len = STAFF_KEY_LEN;
    u.day = day;
    u.ts_us = app == 0 && e->ts0 ? e->ts0 : (int64_t)day * 86400 * US_PER_SEC;
    u.tool = tool;
    u.event = (char *)"last_activity";
    rec.type = CADRE__RECORD_TYPE__RECORD_TYPE_USAGE;
    rec.key.data = key;
    rec.key.len = reckey_usage(key, ps->env->name, source_hash(fpin, STAFF_KEY_LEN + al),
                               (uint64_t)(int64_t)day);
    rec.body_case = CADRE__RECORD__BODY_USAGE;
    rec.usage = &u;
    return source_emit(ps->env, &rec);
}

/* Sorts the poll's entries and folds an account seen twice into one. */
static void fold_cur(struct poll_src *ps)
{
    qsort(ps->cur, ps->ncur, sizeof *ps->cur, cmp_entry);
    size_t w = 0;
    for (size_t i = 0; i < ps->ncur; i++) {
        struct poll_entry *e = &ps->cur[i];
        if (w && memcmp(ps->cur[w - 1].acct, e->acct, STAFF_KEY_LEN) == 0) {
            struct poll_entry *d = &ps->cur[w - 1];
            d->flags |= e->flags & E_BAD;
            if (!(d->flags & E_STAFF) && (e->flags & E_STAFF)) {
                memcpy(d->staff, e->staff, STAFF_KEY_LEN);
                d->flags |= E_STAFF;
            }
            if (e->assigned != NO_DAY && (d->assigned == NO_DAY || e->assigned < d->assigned))
                d->assigned = e->assigned;
            for (int k = 0; k < APIPAGE_MAX_APPS; k++)
                if (e->day[k] != NO_DAY && (d->day[k] == NO_DAY || e->day[k] > d->day[k])) {
                    d->day[k] = e->day[k];
                    if (k == 0)
                        d->ts0 = e->ts0;
                }
            continue;
        }
        if (w != i)
            ps->cur[w] = *e;
        w++;
    }
    ps->ncur = w;
}

struct tally {
    unsigned long long licences, removals, usage;
};

/* One account: s its state (or NULL), c what the poll saw (or NULL); writes the new state
 * into *out and returns 1 when the account stays in the state, 0 when it leaves it, or
 * -errno when a record could not be handed on. */
static int merge_one(struct poll_src *ps, const struct poll_entry *s, const struct poll_entry *c,
                     struct poll_entry *out, struct tally *t)
{
    int32_t today = ps->today;
    int rc;
    if (!c) { /* gone from the licensed set */
        if (!(s->flags & E_LICENSED))
            return 0;
        if ((rc = emit_licence(ps, s->staff, s->assigned, s->last_seen)))
            return rc;
        t->removals++;
        return 0;
    }
    if (s) {
        *out = *s;
    } else {
        memset(out, 0, sizeof *out);
        out->assigned = out->last_seen = NO_DAY;
        for (int k = 0; k < APIPAGE_MAX_APPS; k++)
            out->day[k] = NO_DAY;
    }
    memcpy(out->acct, c->acct, STAFF_KEY_LEN);
    out->ts0 = 0;
    bool licensed = s && (s->flags & E_LICENSED);
    if (c->flags & E_BAD || !(c->flags & E_STAFF)) {
        /* Seen but not readable or not mapped: an open licence stays open. */
        if (!licensed)
            return 0;
        out->last_seen = today;
        return 1;
    }
    int32_t api_day = ps->v->assigned_from_api ? c->assigned : NO_DAY;
    if (licensed && api_day != NO_DAY && api_day != s->assigned) { /* a new seat */
        if ((rc = emit_licence(ps, s->staff, s->assigned, s->last_seen)))
            return rc;
        t->removals++;
        licensed = false;
    }
    if (!licensed) {
        int32_t assigned = api_day != NO_DAY ? api_day : today;
        if ((rc = emit_licence(ps, c->staff, assigned, NO_DAY)))
            return rc;
        t->licences++;
        memcpy(out->staff, c->staff, STAFF_KEY_LEN);
        out->assigned = assigned;
        out->flags = E_LICENSED | E_STAFF;
    }
    out->last_seen = today;
    for (size_t k = 0; k < ps->napps; k++) {
        if (c->day[k] == NO_DAY || (out->day[k] != NO_DAY && c->day[k] <= out->day[k]))
            continue;
        if ((rc = emit_usage(ps, c, (int)k)))
            return rc;
        t->usage++;
        out->day[k] = c->day[k];
    }
    return 1;
}

/* Compares the poll with the state, emits, flushes and writes the new state. */
static int commit(struct poll_src *ps, const struct source_env *env, struct tally *t)
{
    fold_cur(ps);
    size_t cap = ps->nst + ps->ncur, n = 0;
    struct poll_entry *next = xcalloc(cap ? cap : 1, sizeof *next);
    size_t i = 0, j = 0;
    int rc = 0;
    while (!rc && (i < ps->nst || j < ps->ncur)) {
        int c = i == ps->nst    ? 1
                : j == ps->ncur ? -1
                                : memcmp(ps->st[i].acct, ps->cur[j].acct, STAFF_KEY_LEN);
        const struct poll_entry *s = c <= 0 ? &ps->st[i] : NULL, *p = c >= 0 ? &ps->cur[j] : NULL;
        rc = merge_one(ps, s, p, &next[n], t);
        if (rc > 0) {
            n++;
            rc = 0;
        }
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    if (!rc)
        rc = env->flush(env->ud);
    int64_t now = wall_us();
    if (!rc && !env->dry_run && env->ckpt_dir)
        rc = state_write(ps, env, next, n, now);
    if (rc) {
        xfree(next);
        return rc;
    }
    xfree(ps->st);
    ps->st = next;
    ps->nst = n;
    ps->last_ok_us = now;
    return 0;
}

/* ---- the source ---- */

int src_poll_init(void **ctx, const struct poll_vendor *v, const struct source_opts *opts,
                  const struct source_env *env)
{
    struct poll_src *ps = xcalloc(1, sizeof *ps);
    ps->v = v;
    ps->o = &opts->poll;
    ps->base_url = opts->poll.base_url ? opts->poll.base_url : v->base_url;
    ps->env = env;
    ps->fail_err = -1;
    snprintf(ps->ckpt_name, sizeof ps->ckpt_name, "%s.api.ckpt", env->name);
    ps->keys = env->keys;
    if (!ps->keys)
        ps->keys = ps->own_keys = pseudonym_cache_new(env->pseudo);
    char err[512];
    int rc = src_poll_check(opts, NULL, NULL, err, sizeof err);
    if (rc) {
        log_error("[source %s] %s", env->name, err);
        goto fail;
    }
    if ((rc = api_client_new(&ps->http, ps->o->timeout_s, ps->o->max_page_bytes)))
        goto fail;
    if ((rc = v->open(ps)))
        goto fail;
    if (ps->o->account_map && (rc = map_refresh(ps))) {
        log_error("[source %s] account_map %s: cannot read: %s", env->name, ps->o->account_map,
                  strerror(-rc));
        rc = -EINVAL;
        goto fail;
    }
    state_load(ps, env);
    if (env->stats) {
        env->stats->polls_api = true;
        atomic_store(&env->stats->last_poll_ok_us, ps->last_ok_us);
    }
    *ctx = ps;
    return 0;
fail:
    src_poll_fini(ps);
    return rc;
}

int src_poll_poll(void *ctx, const struct source_env *env)
{
    struct poll_src *ps = ctx;
    ps->env = env;
    int64_t now = mono_ms();
    if (now < ps->next_due_ms)
        return 0;
    ps->fail_err = -1;
    ps->fail_retry_s = -1;
    ps->fail_msg[0] = '\0';
    ps->today = NO_DAY;
    ps->ncur = ps->items = 0;
    ps->unmapped = 0;
    int rc = 0;
    if (ps->o->account_map && (rc = map_refresh(ps)))
        poll_fail(ps, SRC_ERR_UNREADABLE, -1, "account_map %s: cannot read: %s", ps->o->account_map,
                  strerror(-rc));
    if (ps->fail_err < 0 && ps->v->fetch(ps) && ps->fail_err < 0)
        poll_fail(ps, SRC_ERR_BAD_RESPONSE, -1, "the poll failed");
    int64_t interval_ms = ps->o->poll_interval_s * 1000;
    if (ps->fail_err >= 0) {
        if (env->stats)
            atomic_fetch_add(&env->stats->errors[ps->fail_err], 1);
        int64_t wait = (int64_t)FAIL_BACKOFF_S << (ps->failures < 10 ? ps->failures : 10);
        if (ps->fail_retry_s > wait)
            wait = ps->fail_retry_s;
        int64_t wait_ms = wait * 1000;
        if (ps->fail_err == SRC_ERR_HTTP_CLIENT || wait_ms > interval_ms)
            wait_ms = interval_ms;
        ps->failures++;
        ps->next_due_ms = mono_ms() + wait_ms;
        log_error("[source %s] poll failed (%s): %s; nothing was shipped or advanced; next "
                  "attempt in %lld s",
                  env->name, source_error_name(ps->fail_err), ps->fail_msg,
                  (long long)(wait_ms / 1000));
        ps->ncur = 0;
        return -EIO;
    }
    if (ps->today == NO_DAY)
        ps->today = (int32_t)(time(NULL) / 86400);
    struct tally t = {0};
    if ((rc = commit(ps, env, &t))) {
        log_error("[source %s] cannot hand the poll's records on: %s; the poll is repeated",
                  env->name, strerror(-rc));
        ps->next_due_ms = mono_ms() + FAIL_BACKOFF_S * 1000;
        ps->ncur = 0;
        return rc;
    }
    ps->failures = 0;
    ps->next_due_ms = mono_ms() + interval_ms;
    if (env->stats)
        atomic_store(&env->stats->last_poll_ok_us, ps->last_ok_us);
    char day[16];
    format_date(ps->today, day);
    log_info("[source %s] polled (%s): %zu items, %llu new licences, %llu ended, %llu usage "
             "events, %llu accounts without a staff id (unmapped_account)",
             env->name, day, ps->items, t.licences, t.removals, t.usage, ps->unmapped);
    ps->ncur = 0;
    if (ps->capcur > 4096) { /* a big poll's buffer is not kept between polls */
        xfree(ps->cur);
        ps->cur = NULL;
        ps->capcur = 0;
    }
    return 0;
}

void src_poll_fini(void *ctx)
{
    struct poll_src *ps = ctx;
    if (!ps)
        return;
    if (ps->v && ps->v->close)
        ps->v->close(ps);
    api_client_free(ps->http);
    map_free(ps->map);
    pseudonym_cache_free(ps->own_keys);
    for (size_t i = 0; i < ps->napps; i++)
        xfree(ps->apps[i]);
    xfree(ps->cur);
    xfree(ps->st);
    xfree(ps);
}
