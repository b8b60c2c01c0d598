/* ship.c - the delivery thread: POST, classify the answer, back off, split, reject. */
#include "agent/ship.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/checkpoint.h"
#include "agent/config.h"
#include "agent/spool.h"
#include "cadre.pb-c.h"
#include "common/gz.h"
#include "common/log.h"
#include "common/wire.h"
#include "common/xalloc.h"

#define MAX_REASON 1024
#define MAX_RETRY_AFTER_S 3600
#define MAX_SOCKS 8 /* past this many open connections, the progress callback cuts off */

struct opts_copy {
    char *url, *token_file, *agent_id, *state_dir, *tls_ca_file, *tls_cert_file, *tls_key_file;
    uint8_t spool_id[16];
    bool gzip;
    int64_t retry_max_s, heartbeat_s;
    uint64_t rejected_max_bytes;
};

/* What one POST came back with. */
struct answer {
    long status; /* 0: no HTTP answer */
    char reason[MAX_REASON];
    size_t rlen;
    int64_t retry_after_s; /* -1: none */
    bool pipeline;         /* Cadre-Pipeline: 2 or more (docs/wire.md) */
    char err[CURL_ERROR_SIZE + 512];
};

/* One POST in the making: two can be in flight (a batch, and the one after it). */
struct xfer {
    struct ship *s;
    CURL *c;
    struct curl_slist *h;
    uint8_t *z; /* the gzipped body */
    char *token;
    bool busy; /* added to the multi handle, not finished */
    bool sent; /* the whole body went out */
    struct answer a;
};

struct ship {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct spool *sp;
    struct ship_stats *stats;
    struct opts_copy o; /* under mu */
    bool stop;
    bool kicked;
    bool in_flight;
    unsigned posting; /* POSTs in flight; under mu */
    /* The open connections' sockets (the two handles share a pool of connections), so
     * that ship_stop can cut POSTs off at the end of the grace time (libcurl looks at the
     * progress callback only about once a second); under mu. */
    curl_socket_t socks[MAX_SOCKS];
    unsigned nsocks;
    int64_t abort_at_us; /* a POST in flight is cut off past this (0 = never) */
    CURLM *multi;
    struct xfer x[2];
    bool pipeline;    /* the aggregator's last 2xx allowed two batches in flight */
    unsigned attempt; /* consecutive failures */
    int64_t last_post_us;
    unsigned rnd;
};

enum outcome { OUT_DONE, OUT_RETRY, OUT_STOPPED };

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

enum ship_verdict ship_classify(long status)
{
    if (status >= 200 && status < 300)
        return SHIP_ACK;
    if (status == 400)
        return SHIP_REJECT;
    if (status == 413)
        return SHIP_SPLIT;
    return SHIP_RETRY; /* 401, 403, 429, 5xx, no answer, anything unexpected */
}

/* ---- HTTP ---- */

/* Keeps the start of the answer's body as one printable line: control bytes become
 * spaces (a newline in a server's reply must not split a log line), trailing blanks go. */
static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    size_t len = size * n, room = sizeof a->reason - 1 - a->rlen;
    size_t k = len < room ? len : room;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)p[i];
        a->reason[a->rlen + i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    a->rlen += k;
    while (a->rlen && a->reason[a->rlen - 1] == ' ')
        a->rlen--;
    a->reason[a->rlen] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct answer *a = ud;
    size_t len = size * n;
    if (len > 15 && strncasecmp(p, "Cadre-Pipeline:", 15) == 0) {
        char buf[16];
        size_t k = len - 15 < sizeof buf - 1 ? len - 15 : sizeof buf - 1;
        memcpy(buf, p + 15, k);
        buf[k] = '\0';
        a->pipeline = strtol(buf, NULL, 10) >= 2;
    }
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char buf[64];
        size_t k = len - 12 < sizeof buf - 1 ? len - 12 : sizeof buf - 1;
        memcpy(buf, p + 12, k);
        buf[k] = '\0';
        char *end;
        long v = strtol(buf, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (end != buf && *end == '\0' && v >= 0) {
            a->retry_after_s = v;
        } else { /* an HTTP date */
            time_t t = curl_getdate(buf, NULL);
            if (t > 0)
                a->retry_after_s = t > time(NULL) ? (int64_t)(t - time(NULL)) : 0;
        }
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow;
    struct xfer *x = ud;
    struct ship *s = x->s;
    if (ultotal > 0 && ulnow >= ultotal)
        x->sent = true;
    pthread_mutex_lock(&s->mu);
    int64_t at = s->abort_at_us;
    pthread_mutex_unlock(&s->mu);
    return at && now_us() > at; /* non-zero aborts the transfer */
}

/* A new connection's socket, for ship_stop. */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
    (void)purpose;
    struct ship *s = ((struct xfer *)ud)->s;
    pthread_mutex_lock(&s->mu);
    if (s->nsocks < MAX_SOCKS)
        s->socks[s->nsocks++] = fd;
    pthread_mutex_unlock(&s->mu);
    return CURL_SOCKOPT_OK;
}

static int on_close_socket(void *ud, curl_socket_t fd)
{
    struct ship *s = ((struct xfer *)ud)->s;
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < s->nsocks; i++) {
        if (s->socks[i] == fd) {
            s->socks[i] = s->socks[--s->nsocks];
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return close(fd);
}

/* Starts POSTing body on x (not busy), following batch *follows (NULL: none); the
 * answer goes to x->a. The options are a snapshot taken by the caller. False when it
 * could not start (x->a.err says why). */
static bool xfer_start(struct ship *s, struct xfer *x, const struct opts_copy *o,
                       const uint8_t *body, size_t len, const uint64_t *follows)
{
    memset(&x->a, 0, sizeof x->a);
    x->a.retry_after_s = -1;
    x->sent = false;
    if (agent_read_token(o->token_file, &x->token, x->a.err, sizeof x->a.err))
        return false;
    size_t zlen = 0;
    if (o->gzip && (x->z = gz_deflate(body, len, &zlen))) {
        body = x->z;
        len = zlen;
    }
    char url[2048], auth[4200], fol[64];
    snprintf(url, sizeof url, "%s/v1/ingest", o->url);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", x->token);
    x->h = curl_slist_append(x->h, "Content-Type: application/x-protobuf");
    x->h = curl_slist_append(x->h, auth);
    x->h = curl_slist_append(x->h, "Expect:");
    if (x->z)
        x->h = curl_slist_append(x->h, "Content-Encoding: gzip");
    if (follows) {
        snprintf(fol, sizeof fol, "Cadre-Follows: %" PRIu64, *follows);
        x->h = curl_slist_append(x->h, fol);
    }
    CURL *c = x->c;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &x->a);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->a.err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "cadre-agent/" CADRE_AGENT_VERSION);
    if (o->tls_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, o->tls_ca_file);
    if (o->tls_cert_file)
        curl_easy_setopt(c, CURLOPT_SSLCERT, o->tls_cert_file);
    if (o->tls_key_file)
        curl_easy_setopt(c, CURLOPT_SSLKEY, o->tls_key_file);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, x);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, x);
    CURLMcode mc = curl_multi_add_handle(s->multi, c);
    if (mc != CURLM_OK) {
        snprintf(x->a.err, sizeof x->a.err, "%s", curl_multi_strerror(mc));
        return false;
    }
    pthread_mutex_lock(&s->mu);
    s->posting++;
    x->busy = true;
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* Frees what x's request held (its answer stays). */
static void xfer_clear(struct xfer *x)
{
    curl_slist_free_all(x->h);
    x->h = NULL;
    xfree(x->z);
    x->z = NULL;
    xfree(x->token);
    x->token = NULL;
}

/* Moves the POSTs in flight on for at most ms: sends, receives, and notes those that
 * finished (x->busy false, x->a filled). */
static void drive(struct ship *s, int ms)
{
    int running = 0;
    curl_multi_perform(s->multi, &running);
    CURLMsg *m;
    int left;
    bool finished = false;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = m->easy_handle == s->x[0].c ? &s->x[0] : &s->x[1];
        if (m->data.result == CURLE_OK)
            curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->a.status);
        else if (!x->a.err[0])
            snprintf(x->a.err, sizeof x->a.err, "%s", curl_easy_strerror(m->data.result));
        if (m->data.result != CURLE_OK) /* the aggregator may come back as another version */
            s->pipeline = false;
        curl_multi_remove_handle(s->multi, x->c);
        xfer_clear(x);
        pthread_mutex_lock(&s->mu);
        x->busy = false;
        s->posting--;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        finished = true;
    }
    if (!finished && running)
        curl_multi_poll(s->multi, NULL, 0, ms, NULL);
}

/* POSTs body on x and waits for the answer, in x->a. */
static void post(struct ship *s, struct xfer *x, const struct opts_copy *o, const uint8_t *body,
                 size_t len)
{
    if (!xfer_start(s, x, o, body, len, NULL)) {
        xfer_clear(x);
        return;
    }
    while (x->busy)
        drive(s, 1000);
}

/* ---- options ---- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void opts_copy(struct opts_copy *d, const struct ship_opts *o)
{
    d->url = dup_or_null(o->url);
    d->token_file = dup_or_null(o->token_file);
    d->agent_id = dup_or_null(o->agent_id);
    d->state_dir = dup_or_null(o->state_dir);
    d->tls_ca_file = dup_or_null(o->tls_ca_file);
    d->tls_cert_file = dup_or_null(o->tls_cert_file);
    d->tls_key_file = dup_or_null(o->tls_key_file);
    memcpy(d->spool_id, o->spool_id, 16);
    d->gzip = o->gzip;
    d->retry_max_s = o->retry_max_s;
    d->heartbeat_s = o->heartbeat_s;
    d->rejected_max_bytes = o->rejected_max_bytes;
}

static void opts_free(struct opts_copy *d)
{
    xfree(d->url);
    xfree(d->token_file);
    xfree(d->agent_id);
    xfree(d->state_dir);
    xfree(d->tls_ca_file);
    xfree(d->tls_cert_file);
    xfree(d->tls_key_file);
    memset(d, 0, sizeof *d);
}

static struct opts_copy snapshot_opts(struct ship *s)
{
    struct opts_copy c;
    pthread_mutex_lock(&s->mu);
    struct ship_opts o = {.url = s->o.url,
                          .token_file = s->o.token_file,
                          .agent_id = s->o.agent_id,
                          .state_dir = s->o.state_dir,
                          .gzip = s->o.gzip,
                          .tls_ca_file = s->o.tls_ca_file,
                          .tls_cert_file = s->o.tls_cert_file,
                          .tls_key_file = s->o.tls_key_file,
                          .retry_max_s = s->o.retry_max_s,
                          .heartbeat_s = s->o.heartbeat_s,
                          .rejected_max_bytes = s->o.rejected_max_bytes};
    memcpy(o.spool_id, s->o.spool_id, 16);
    opts_copy(&c, &o);
    pthread_mutex_unlock(&s->mu);
    return c;
}

/* ---- delivery ---- */

/* Sleeps until ms passed, the thread is kicked (when wake_on_kick) or stopped. Called and
 * returns with mu held. */
static void nap(struct ship *s, int64_t ms, bool wake_on_kick)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    while (!s->stop && !(wake_on_kick && s->kicked))
        if (pthread_cond_timedwait(&s->cv, &s->mu, &t) == ETIMEDOUT)
            break;
}

/* Backs off after a failed attempt: full jitter over min(retry_max, 0.5 s * 2^attempt), or
 * the server's Retry-After. Returns with mu released. */
static void back_off(struct ship *s, const struct opts_copy *o, const struct answer *a)
{
    int64_t cap_ms = 500;
    for (unsigned i = 0; i < s->attempt && cap_ms < o->retry_max_s * 1000; i++)
        cap_ms *= 2;
    if (cap_ms > o->retry_max_s * 1000)
        cap_ms = o->retry_max_s * 1000;
    int64_t ms = (int64_t)(rand_r(&s->rnd) % (unsigned)(cap_ms + 1));
    if ((a->status == 429 || a->status == 503) && a->retry_after_s >= 0)
        ms = (a->retry_after_s < MAX_RETRY_AFTER_S ? a->retry_after_s : MAX_RETRY_AFTER_S) * 1000;
    s->attempt++;
    pthread_mutex_lock(&s->mu);
    nap(s, ms, false);
    pthread_mutex_unlock(&s->mu);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Removes the oldest batches of rejected/ (by name: batch-SEQ, zero-padded, so by seq)
 * until `need` more bytes fit under cap. Returns the bytes that stay. */
static uint64_t trim_rejected(const char *dir, uint64_t cap, uint64_t need)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, ncap = 0;
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        if (strncmp(e->d_name, "batch-", 6) || fstatat(dirfd(d), e->d_name, &st, 0) ||
            !S_ISREG(st.st_mode))
            continue;
        total += (uint64_t)st.st_size;
        xgrow((void **)&names, &ncap, n + 1, sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    if (n)
        qsort(names, n, sizeof *names, by_name);
    size_t removed = 0;
    for (size_t i = 0; i < n && total + need > cap; i++) {
        struct stat st;
        if (fstatat(dirfd(d), names[i], &st, 0) == 0 && unlinkat(dirfd(d), names[i], 0) == 0) {
            total -= (uint64_t)st.st_size;
            removed++;
        }
    }
    if (removed)
        log_warn("ship: rejected/ over rejected_max_bytes: removed its %zu oldest files", removed);
    for (size_t i = 0; i < n; i++)
        xfree(names[i]);
    xfree(names);
    closedir(d);
    return total;
}

/* Keeps a refused batch as two plain files people can read: rejected/batch-SEQ.pb, the
 * request body before gzip (a cadre.Batch), and rejected/batch-SEQ.txt, the reason. The
 * folder stays under rejected_max_bytes: the oldest batches go first, and a body larger
 * than the cap on its own is not kept (its reason is). */
static void write_rejected(struct ship *s, const struct opts_copy *o, uint64_t seq,
                           const uint8_t *body, size_t len, const char *why)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/rejected", o->state_dir);
    if (mkdir(dir, 0700) && errno != EEXIST)
        log_error("ship: cannot create %s: %s", dir, strerror(errno));
    uint64_t cap = o->rejected_max_bytes;
    size_t whylen = strlen(why);
    bool keep_body = (uint64_t)len + whylen <= cap;
    trim_rejected(dir, cap, (keep_body ? len : 0) + whylen);
    char name[64];
    snprintf(name, sizeof name, "batch-%020" PRIu64 ".pb", seq);
    int rc = 0;
    if (keep_body)
        rc = ckpt_write_plain(dir, name, body, len, true);
    else
        log_warn("ship: batch %" PRIu64 " (%zu bytes) is larger than rejected_max_bytes; only "
                 "its reason is kept in rejected/",
                 seq, len);
    snprintf(name, sizeof name, "batch-%020" PRIu64 ".txt", seq);
    if (!rc)
        rc = ckpt_write_plain(dir, name, why, strlen(why), true);
    if (rc)
        log_error("ship: cannot write rejected batch %" PRIu64 ": %s", seq, strerror(-rc));
    atomic_fetch_add(&s->stats->rejected_batches, 1);
}

/* The envelope of batch seq around recs, for sending now. */
static uint8_t *encode(struct ship *s, const struct opts_copy *o, uint64_t seq, const uint8_t *recs,
                       size_t len, size_t *blen)
{
    struct spool_stats st;
    spool_get_stats(s->sp, &st);
    struct wire_envelope env = {.agent_id = o->agent_id,
                                .spool_id = o->spool_id,
                                .has_seq = true,
                                .seq = seq,
                                .sent_us = now_us(),
                                .spool_bytes = st.bytes,
                                .dropped_records = st.dropped_records};
    return wire_encode(&env, recs, len, blen);
}

/* What became of batch seq (records recs of n) given answer a to body: ack, refusal or
 * split (done here), or OUT_RETRY. */
static enum outcome settle(struct ship *s, const struct opts_copy *o, uint64_t seq,
                           const uint8_t *recs, size_t len, uint32_t n, const uint8_t *body,
                           size_t blen, const struct answer *a);

/* Sends one batch (records recs of n) until it is acked, refused or the thread stops.
 * first: the answer to a first attempt already made (body first_body), or NULL. */
static enum outcome deliver(struct ship *s, uint64_t seq, const uint8_t *recs, size_t len,
                            uint32_t n, const struct answer *first, uint8_t *first_body,
                            size_t first_blen)
{
    for (;;) {
        pthread_mutex_lock(&s->mu);
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop && !first)
            return OUT_STOPPED;
        struct opts_copy o = snapshot_opts(s);
        size_t blen;
        uint8_t *body;
        struct answer *a = xcalloc(1, sizeof *a);
        if (first) {
            *a = *first;
            body = first_body;
            blen = first_blen;
            first = NULL;
        } else {
            body = encode(s, &o, seq, recs, len, &blen);
            post(s, &s->x[0], &o, body, blen);
            *a = s->x[0].a;
            s->last_post_us = now_us();
        }
        enum outcome out = settle(s, &o, seq, recs, len, n, body, blen, a);
        xfree(body);
        if (out == OUT_RETRY)
            back_off(s, &o, a);
        xfree(a);
        opts_free(&o);
        if (out != OUT_RETRY)
            return out;
    }
}

static enum outcome settle(struct ship *s, const struct opts_copy *o, uint64_t seq,
                           const uint8_t *recs, size_t len, uint32_t n, const uint8_t *body,
                           size_t blen, const struct answer *a)
{
    enum outcome out = OUT_DONE;
    switch (ship_classify(a->status)) {
    case SHIP_ACK:
        s->attempt = 0;
        s->pipeline = a->pipeline;
        atomic_fetch_add(&s->stats->acked_batches, 1);
        atomic_store(&s->stats->last_ack_us, now_us());
        log_debug("ship: batch %" PRIu64 " (%u records) acked", seq, n);
        break;
    case SHIP_REJECT: {
        char why[MAX_REASON + 64];
        snprintf(why, sizeof why, "HTTP 400: %s\n", a->reason);
        log_error("ship: batch %" PRIu64 " (%u records) refused with 400 (%s); kept in "
                  "rejected/",
                  seq, n, a->reason);
        write_rejected(s, o, seq, body, blen, why);
        s->attempt = 0;
        break;
    }
    case SHIP_SPLIT:
        s->attempt = 0;
        if (n <= 1) {
            log_error("ship: batch %" PRIu64 ": one record too large for the aggregator "
                      "(413); kept in rejected/",
                      seq);
            write_rejected(s, o, seq, body, blen, "HTTP 413: one record too large\n");
            break;
        }
        size_t cut;
        uint64_t first;
        if (wire_split_point(recs, len, n, &cut) || spool_reserve_seq(s->sp, 2, &first)) {
            log_error("ship: batch %" PRIu64 " cannot be split; kept in rejected/", seq);
            write_rejected(s, o, seq, body, blen, "HTTP 413: cannot split\n");
            break;
        }
        log_warn("ship: batch %" PRIu64 " too large (413); sent as batches %" PRIu64
                 " and %" PRIu64,
                 seq, first, first + 1);
        out = deliver(s, first, recs, cut, n / 2, NULL, NULL, 0);
        if (out == OUT_DONE)
            out = deliver(s, first + 1, recs + cut, len - cut, n - n / 2, NULL, NULL, 0);
        break;
    case SHIP_RETRY:
        atomic_fetch_add(&s->stats->retries, 1);
        if (a->status)
            log_warn("ship: batch %" PRIu64 ": HTTP %ld (%.200s); retrying", seq, a->status,
                     a->reason);
        else
            log_warn("ship: batch %" PRIu64 ": %s; retrying", seq, a->err);
        out = OUT_RETRY;
        break;
    }
    return out;
}

/* A batch in flight beside another: its copy out of the spool and its request. */
struct flying {
    struct spool_batch b;
    struct xfer *x;
    uint8_t *body;
    size_t blen;
};

static bool stopping(struct ship *s)
{
    pthread_mutex_lock(&s->mu);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* Starts f (its batch copied out) on x, following *follows (NULL: none). */
static bool fly(struct ship *s, struct flying *f, struct xfer *x, const uint64_t *follows)
{
    struct opts_copy o = snapshot_opts(s);
    f->x = x;
    f->body = encode(s, &o, f->b.seq, f->b.recs, f->b.len, &f->blen);
    bool ok = xfer_start(s, x, &o, f->body, f->blen, follows);
    if (!ok)
        xfer_clear(x);
    s->last_post_us = now_us();
    opts_free(&o);
    return ok;
}

static void land(struct flying *f)
{
    xfree(f->b.recs);
    xfree(f->body);
    memset(f, 0, sizeof *f);
}

/* Delivers the spool's batches starting with b (held, copied out) two at a time: the next
 * one goes out, naming the first in Cadre-Follows, as soon as the first's body is sent,
 * and so on while the aggregator acks them. Returns at the first batch that is not acked
 * (settled here, one at a time, as deliver does), when the spool has nothing more, or
 * when the thread stops. */
static enum outcome deliver_two(struct ship *s, struct spool_batch *b)
{
    struct flying cur = {.b = *b}, nxt = {0};
    if (!fly(s, &cur, &s->x[0], NULL)) { /* could not even start: settle it as one */
        struct answer a = s->x[0].a;
        enum outcome out =
            deliver(s, cur.b.seq, cur.b.recs, cur.b.len, cur.b.nrec, &a, cur.body, cur.blen);
        cur.body = NULL;
        if (out == OUT_DONE)
            spool_done(s->sp, cur.b.seq);
        land(&cur);
        return out;
    }
    for (;;) {
        while (cur.x->busy) {
            if (!nxt.x && cur.x->sent && s->pipeline && !stopping(s) &&
                spool_peek_next(s->sp, cur.b.seq, &nxt.b) == 0) {
                struct xfer *other = cur.x == &s->x[0] ? &s->x[1] : &s->x[0];
                if (!fly(s, &nxt, other, &cur.b.seq)) {
                    spool_unpeek(s->sp, nxt.b.seq);
                    land(&nxt);
                }
            }
            drive(s, nxt.x ? 1000 : 5);
        }
        struct answer a = cur.x->a;
        if (ship_classify(a.status) != SHIP_ACK) {
            /* The one after it is not stored without it (the aggregator waits for or
             * refuses it): its answer is left aside and it is sent again later. */
            while (nxt.x && nxt.x->busy)
                drive(s, 1000);
            if (nxt.x) {
                spool_unpeek(s->sp, nxt.b.seq);
                land(&nxt);
            }
            enum outcome out =
                deliver(s, cur.b.seq, cur.b.recs, cur.b.len, cur.b.nrec, &a, cur.body, cur.blen);
            cur.body = NULL; /* deliver freed it */
            if (out == OUT_DONE)
                spool_done(s->sp, cur.b.seq);
            land(&cur);
            return out;
        }
        struct opts_copy o = snapshot_opts(s);
        settle(s, &o, cur.b.seq, cur.b.recs, cur.b.len, cur.b.nrec, cur.body, cur.blen, &a);
        opts_free(&o);
        int drc = spool_done(s->sp, cur.b.seq);
        if (drc)
            log_error("ship: cannot mark batch %" PRIu64 " done: %s", cur.b.seq, strerror(-drc));
        land(&cur);
        if (!nxt.x)
            return stopping(s) ? OUT_STOPPED : OUT_DONE;
        cur = nxt;
        memset(&nxt, 0, sizeof nxt);
        if (!cur.x->busy && ship_classify(cur.x->a.status) != SHIP_ACK) {
            /* Refused while the one before was in flight (it raced ahead of it, say):
             * sent again as the oldest, without backing off. */
            log_debug("ship: batch %" PRIu64 " answered %ld while the one before was in "
                      "flight; sending it again",
                      cur.b.seq, cur.x->a.status);
            spool_unpeek(s->sp, cur.b.seq);
            land(&cur);
            return OUT_DONE;
        }
    }
}

static void heartbeat(struct ship *s)
{
    struct opts_copy o = snapshot_opts(s);
    struct spool_stats st;
    spool_get_stats(s->sp, &st);
    size_t blen;
    struct wire_envelope env = {.agent_id = o.agent_id,
                                .spool_id = o.spool_id,
                                .sent_us = now_us(),
                                .spool_bytes = st.bytes,
                                .dropped_records = st.dropped_records};
    uint8_t *body = wire_encode(&env, NULL, 0, &blen);
    post(s, &s->x[0], &o, body, blen);
    const struct answer *a = &s->x[0].a;
    if (!a->status)
        log_warn("ship: heartbeat: %s", a->err);
    else if (ship_classify(a->status) != SHIP_ACK)
        log_warn("ship: heartbeat: HTTP %ld", a->status);
    s->last_post_us = now_us();
    xfree(body);
    opts_free(&o);
}

static void *run(void *arg)
{
    struct ship *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct spool_batch b;
        int rc = spool_peek(s->sp, &b);
        if (rc == -ENOENT) {
            s->in_flight = false;
            int64_t hb = s->o.heartbeat_s * 1000000;
            int64_t idle = now_us() - s->last_post_us;
            if (hb && idle >= hb && !s->kicked) {
                pthread_mutex_unlock(&s->mu);
                heartbeat(s);
                pthread_mutex_lock(&s->mu);
                continue;
            }
            if (!s->kicked)
                nap(s, hb ? (hb - idle) / 1000 + 1 : 60000, true);
            s->kicked = false;
            continue;
        }
        if (rc) {
            log_error("ship: cannot read the spool: %s; retrying", strerror(-rc));
            nap(s, 1000, false);
            continue;
        }
        s->in_flight = true;
        s->kicked = false;
        pthread_mutex_unlock(&s->mu);
        if (s->pipeline) {
            deliver_two(s, &b);
        } else {
            enum outcome out = deliver(s, b.seq, b.recs, b.len, b.nrec, NULL, NULL, 0);
            if (out == OUT_DONE) {
                int drc = spool_done(s->sp, b.seq);
                if (drc)
                    log_error("ship: cannot mark batch %" PRIu64 " done: %s", b.seq,
                              strerror(-drc));
            }
            xfree(b.recs);
        }
        pthread_mutex_lock(&s->mu);
    }
    s->in_flight = false;
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Frees the handles (none is in the multi handle any more). */
static void curl_free_all(struct ship *s)
{
    for (int i = 0; i < 2; i++) {
        if (s->x[i].c)
            curl_easy_cleanup(s->x[i].c);
        s->x[i].c = NULL;
    }
    if (s->multi)
        curl_multi_cleanup(s->multi);
    s->multi = NULL;
}

int ship_start(struct ship **out, const struct ship_opts *o, struct spool *sp,
               struct ship_stats *stats)
{
    struct ship *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->sp = sp;
    s->stats = stats;
    opts_copy(&s->o, o);
    s->rnd = (unsigned)now_us() ^ (unsigned)getpid();
    s->last_post_us = now_us();
    s->multi = curl_multi_init();
    for (int i = 0; i < 2; i++)
        s->x[i] = (struct xfer){.s = s, .c = curl_easy_init()};
    if (!s->multi || !s->x[0].c || !s->x[1].c) {
        curl_free_all(s);
        ship_stop(s, 0);
        return -ENOMEM;
    }
    s->in_flight = true; /* until the thread has looked at the spool */
    int rc = pthread_create(&s->thread, NULL, run, s);
    if (rc) {
        s->in_flight = false;
        curl_free_all(s);
        opts_free(&s->o);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        xfree(s);
        return -rc;
    }
    *out = s;
    return 0;
}

void ship_kick(struct ship *s)
{
    pthread_mutex_lock(&s->mu);
    s->kicked = true;
    s->in_flight = true; /* not idle until the thread has seen the new batches */
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void ship_set_opts(struct ship *s, const struct ship_opts *o)
{
    struct opts_copy c;
    opts_copy(&c, o);
    pthread_mutex_lock(&s->mu);
    struct opts_copy old = s->o;
    s->o = c;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    opts_free(&old);
}

bool ship_idle(struct ship *s)
{
    struct spool_stats st;
    spool_get_stats(s->sp, &st);
    pthread_mutex_lock(&s->mu);
    bool idle = !s->in_flight && st.pending_batches == 0;
    pthread_mutex_unlock(&s->mu);
    return idle;
}

void ship_stop(struct ship *s, int grace_ms)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    s->abort_at_us = now_us() + (int64_t)grace_ms * 1000;
    pthread_cond_broadcast(&s->cv);
    /* The POSTs in flight get grace_ms to finish; then their connections are shut down. */
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += grace_ms / 1000;
    t.tv_nsec += (long)(grace_ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    while (s->posting)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &t) == ETIMEDOUT)
            break;
    if (s->posting) {
        log_warn("ship: the POST in flight did not finish within %d ms; cut off", grace_ms);
        for (unsigned i = 0; i < s->nsocks; i++)
            shutdown(s->socks[i], SHUT_RDWR);
    }
    pthread_mutex_unlock(&s->mu);
    if (s->multi) {
        pthread_join(s->thread, NULL);
        curl_free_all(s);
    }
    opts_free(&s->o);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    xfree(s);
}
