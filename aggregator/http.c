/* http.c - routes: POST /v1/ingest, GET /metrics, GET /api/v1/kpis, GET /healthz. */
#include "aggregator/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "aggregator/export_cmd.h"
#include "aggregator/metrics.h"
#include "aggregator/tokens.h"
#include "common/gz.h"
#include "common/log.h"
#include "common/sbuf.h"
#include "common/xalloc.h"
#include "exporters/kpi_catalogue.h"
#include "exporters/prom.h"
#include "exporters/rows.h"

struct http_server {
    struct MHD_Daemon *d;
    const struct agg_config *cfg;
    struct ingest *ing;
    struct refresher *ref;
    struct kpi_model *model;
    struct rwpush *rw; /* NULL: remote_write off */
    pthread_rwlock_t tokens_lock;
    struct tokens *agents;             /* guarded by tokens_lock */
    struct tokens *readers;            /* NULL: /metrics and /api are open */
    char *tls_key, *tls_cert, *tls_ca; /* PEM contents, kept while the daemon runs */
    uint64_t metrics_oversize;         /* scrapes whose body passed METRICS_WARN_BYTES */
    _Atomic uint64_t inflight;         /* bytes held for bodies and their decoding */
    _Atomic uint64_t busy;             /* ingest requests refused for max_inflight_bytes */
};

#define METRICS_WARN_BYTES (8u << 20)

/* Per-request state of a POST. */
struct req {
    struct sbuf body;
    uint64_t held; /* bytes of h->inflight this request holds */
    int status;    /* non-zero: answer this once the body is drained */
    char msg[160];
    char agent[65]; /* the token's agent id */
};

/* Takes n bytes of the in-flight budget for rq; false (nothing taken) past
 * max_inflight_bytes. */
static bool budget_take(struct http_server *h, struct req *rq, uint64_t n)
{
    uint64_t cur = atomic_load(&h->inflight);
    do {
        if (n > h->cfg->max_inflight_bytes || cur > h->cfg->max_inflight_bytes - n)
            return false;
    } while (!atomic_compare_exchange_weak(&h->inflight, &cur, cur + n));
    rq->held += n;
    return true;
}

/* Gives back n of what rq holds (all of it when n is larger). */
static void budget_give(struct http_server *h, struct req *rq, uint64_t n)
{
    if (n > rq->held)
        n = rq->held;
    atomic_fetch_sub(&h->inflight, n);
    rq->held -= n;
}

/* 503 with Retry-After: the in-flight budget is spent; the agent comes back shortly. */
static enum MHD_Result reply_busy(struct http_server *h, struct MHD_Connection *c)
{
    atomic_fetch_add(&h->busy, 1);
    static const char msg[] = "the aggregator holds max_inflight_bytes of batches; retry later\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    enum MHD_Result ret = MHD_queue_response(c, 503, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers body (freed by the library) of type; plus header name: value unless NULL. */
static enum MHD_Result reply_with(struct MHD_Connection *c, unsigned status, const char *type,
                                  char *body, size_t len, const char *name, const char *value)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (name)
        MHD_add_response_header(r, name, value);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len)
{
    return reply_with(c, status, type, body, len, NULL, NULL);
}

/* msg and a newline as text/plain; plus header name: value unless NULL. */
static enum MHD_Result reply_text_with(struct MHD_Connection *c, unsigned status, const char *msg,
                                       const char *name, const char *value)
{
    struct sbuf b = {0};
    sbuf_printf(&b, "%s\n", msg);
    size_t len;
    char *p = sbuf_take(&b, &len);
    return reply_with(c, status, "text/plain; charset=utf-8", p, len, name, value);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *msg)
{
    return reply_text_with(c, status, msg, NULL, NULL);
}

/* With tls_client_ca_file set, a client must present a certificate that verifies against
 * that CA. Returns 0 when the connection may proceed. */
static int client_cert_ok(struct http_server *h, struct MHD_Connection *c)
{
    if (!h->tls_ca)
        return 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return -1;
    gnutls_session_t tls = (gnutls_session_t)ci->tls_session;
    unsigned status = 0;
    if (gnutls_certificate_type_get(tls) != GNUTLS_CRT_X509 ||
        !gnutls_certificate_get_peers(tls, &(unsigned){0}) ||
        gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0)
        return -1;
    return 0;
}

/* The bearer token of the request, or NULL. */
static const char *bearer(struct MHD_Connection *c, size_t *len)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    *len = strlen(h);
    while (*len && (h[*len - 1] == ' ' || h[*len - 1] == '\t'))
        (*len)--;
    return *len ? h : NULL;
}

/* Looks the request's token up in the agents file; copies the agent id. */
static int agent_of(struct http_server *h, struct MHD_Connection *c, char *agent)
{
    size_t len;
    const char *tok = bearer(c, &len);
    if (!tok)
        return -1;
    pthread_rwlock_rdlock(&h->tokens_lock);
    const char *id = tokens_lookup(h->agents, tok, len);
    if (id)
        snprintf(agent, 65, "%s", id);
    pthread_rwlock_unlock(&h->tokens_lock);
    return id ? 0 : -1;
}

static int reader_ok(struct http_server *h, struct MHD_Connection *c)
{
    pthread_rwlock_rdlock(&h->tokens_lock);
    int ok = 1;
    if (h->readers) {
        size_t len;
        const char *tok = bearer(c, &len);
        ok = tok && tokens_lookup(h->readers, tok, len) != NULL;
    }
    pthread_rwlock_unlock(&h->tokens_lock);
    return ok;
}

/* The HTTP status of an ingest result (docs/wire.md, "Answers"). */
static unsigned ingest_status(enum ingest_result r)
{
    switch (r) {
    case INGEST_STORED:
    case INGEST_DUPLICATE:
    case INGEST_HEARTBEAT: return 200;
    case INGEST_MALFORMED: return 400;
    case INGEST_WRONG_AGENT: return 401;
    case INGEST_UNAVAILABLE:
    case INGEST_OUT_OF_ORDER: return 503;
    case INGEST_TOO_COSTLY: return 413;
    }
    return 500;
}

/* The Cadre-Follows header: 0 and *seq, 1 when absent, -1 when not a number. */
static int follows_of(struct MHD_Connection *c, uint64_t *seq)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cadre-Follows");
    if (!v)
        return 1;
    size_t n = strlen(v);
    if (n < 1 || n > 20 || strspn(v, "0123456789") != n)
        return -1;
    errno = 0;
    unsigned long long x = strtoull(v, NULL, 10);
    if (errno)
        return -1;
    *seq = x;
    return 0;
}

/* The body of a request of a known agent, whole. */
static enum MHD_Result ingest_body(struct http_server *h, struct MHD_Connection *c, struct req *rq)
{
    uint64_t follows;
    int fr = follows_of(c, &follows);
    if (fr < 0)
        return reply_text(c, 400, "Cadre-Follows must be a batch sequence number");
    const char *ctype =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ctype || strncmp(ctype, "application/x-protobuf", 22) != 0)
        return reply_text(c, 400, "Content-Type must be application/x-protobuf");
    const char *enc =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    const char *body = rq->body.p ? rq->body.p : "";
    size_t len = rq->body.len;
    char *plain = NULL;
    if (enc && strcasecmp(enc, "gzip") == 0) {
        /* The inflated body may take up to max_body_bytes: hold that, then what it took. */
        if (!budget_take(h, rq, h->cfg->max_body_bytes))
            return reply_busy(h, c);
        int rc = gz_inflate(body, len, h->cfg->max_body_bytes, &plain, &len);
        budget_give(h, rq, h->cfg->max_body_bytes - (rc ? 0 : len));
        if (rc == -E2BIG)
            return reply_text(c, 413, "body exceeds max_body_bytes after gzip decompression");
        if (rc == -ENOMEM)
            return reply_text(c, 503, "the aggregator is out of memory for this body; retry later");
        if (rc)
            return reply_text(c, 400, "body is not valid gzip");
        body = plain;
    } else if (enc && strcasecmp(enc, "identity") != 0) {
        return reply_text(c, 415, "Content-Encoding must be gzip or identity");
    }
    if (!budget_take(h, rq, INGEST_DECODE_BYTES(len))) {
        xfree(plain);
        return reply_busy(h, c);
    }
    char msg[256];
    /* The tokens (and the agent's scope in them) stay as they are while the batch is
     * applied: a SIGHUP reload waits for it. */
    pthread_rwlock_rdlock(&h->tokens_lock);
    enum ingest_result res =
        ingest_batch_after(h->ing, rq->agent, tokens_scope(h->agents, rq->agent),
                           fr ? NULL : &follows, (const uint8_t *)body, len, msg, sizeof msg);
    pthread_rwlock_unlock(&h->tokens_lock);
    xfree(plain);
    unsigned status = ingest_status(res);
    if (res == INGEST_OUT_OF_ORDER) /* the agent sends it again at once: not a fault */
        log_debug("ingest from %s: %u %s", rq->agent, status, msg);
    else if (status != 200)
        log_warn("ingest from %s: %u %s", rq->agent, status, msg);
    /* A 200 tells the agent it may send a batch while the one before is unanswered
     * (docs/wire.md, "Two batches in flight"). */
    return status == 200 ? reply_text_with(c, status, msg, "Cadre-Pipeline", "2")
                         : reply_text(c, status, msg);
}

static enum MHD_Result finish_ingest(struct http_server *h, struct MHD_Connection *c,
                                     struct req *rq)
{
    if (rq->status == 503)
        return reply_busy(h, c);
    if (rq->status)
        return reply_text(c, (unsigned)rq->status, rq->msg);
    ingest_enter(h->ing, rq->agent);
    enum MHD_Result r = ingest_body(h, c, rq);
    ingest_leave(h->ing, rq->agent);
    return r;
}

static int accepts_gzip(struct MHD_Connection *c)
{
    const char *ae =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    return ae && strstr(ae, "gzip") != NULL;
}

static enum MHD_Result serve_metrics(struct http_server *h, struct MHD_Connection *c)
{
    struct sbuf b = {0};
    struct snapshot *s = snapshot_acquire(h->ref);
    struct ingest_stats st;
    ingest_stats(h->ing, &st);
    struct rw_stats rw;
    struct metrics_inputs in = {
        .refresh = s ? &s->stats : NULL,
        .ingest = &st,
        .rw = rwpush_stats(h->rw, &rw) ? &rw : NULL,
        .oversize_scrapes = __atomic_load_n(&h->metrics_oversize, __ATOMIC_RELAXED),
        .inflight_bytes = atomic_load(&h->inflight),
        .busy_refusals = atomic_load(&h->busy),
    };
    metrics_render(&b, &in);
    ingest_stats_free(&st);
    snapshot_release(h->ref, s);
    if (b.len > METRICS_WARN_BYTES) {
        __atomic_add_fetch(&h->metrics_oversize, 1, __ATOMIC_RELAXED);
        log_warn("/metrics body is %zu bytes (over 8 MiB): consider fewer breakdowns", b.len);
    }
    size_t len;
    char *p = sbuf_take(&b, &len);
    if (accepts_gzip(c)) {
        size_t zlen;
        char *z = (char *)gz_deflate(p, len, &zlen);
        if (z) {
            xfree(p);
            struct MHD_Response *r =
                MHD_create_response_from_buffer(zlen, z, MHD_RESPMEM_MUST_FREE);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
            enum MHD_Result ret = MHD_queue_response(c, 200, r);
            MHD_destroy_response(r);
            return ret;
        }
    }
    return reply(c, 200, PROM_CONTENT_TYPE, p, len);
}

/* 400 naming every breakdown of the catalogue. */
static enum MHD_Result reply_bad_by(struct MHD_Connection *c)
{
    struct sbuf b = {0};
    sbuf_adds(&b, "by must be one of ");
    for (int i = 0; i < KPI_BY_COUNT; i++)
        sbuf_printf(&b, "%s%s", i ? ", " : "", kpi_by_name(i));
    enum MHD_Result r = reply_text(c, 400, b.p);
    sbuf_free(&b);
    return r;
}

static enum MHD_Result serve_kpis(struct http_server *h, struct MHD_Connection *c)
{
    const char *window = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "window");
    const char *by = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "by");
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    if (!window)
        return reply_text(c, 400, "window is required: Nd (1 <= N <= 730) or YYYYQn");
    if (by && kpi_by_parse(by) < 0)
        return reply_bad_by(c);
    if (format && strcmp(format, "json") && strcmp(format, "csv"))
        return reply_text(c, 400, "format must be json or csv");
    struct kpi_table t;
    char err[160];
    int rc = snapshot_query(h->ref, h->model, window, &t, err, sizeof err);
    if (rc == -EAGAIN)
        return reply_text(c, 503, "KPIs are not computed yet; retry in a few seconds");
    if (rc)
        return reply_text(c, 400, err);
    struct rows_opts o = {.by = by};
    struct sbuf b = {0};
    int csv = format && strcmp(format, "csv") == 0;
    if (csv)
        rows_csv(&b, &t, &o);
    else
        rows_json(&b, &t, &o);
    kpi_table_clear(&t);
    size_t len;
    char *p = sbuf_take(&b, &len);
    return reply(c, 200, csv ? "text/csv; charset=utf-8" : "application/json", p, len);
}

static enum MHD_Result serve_export(struct http_server *h, struct MHD_Connection *c)
{
    const char *quarter = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "quarter");
    const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    if (!quarter)
        return reply_text(c, 400, "quarter is required: YYYYQn");
    if (!format)
        format = "json";
    struct snapshot *s = snapshot_acquire(h->ref);
    if (!s)
        return reply_text(c, 503, "KPIs are not computed yet; retry in a few seconds");
    struct sbuf b = {0};
    char err[200];
    struct kpi_params params = s->params;
    snapshot_release(h->ref, s);
    kpi_model_rdlock(h->model);
    int rc = export_render(h->model, &params, quarter, format, &b, err, sizeof err);
    kpi_model_unlock(h->model);
    if (rc) {
        sbuf_free(&b);
        return reply_text(c, 400, err);
    }
    size_t len;
    char *p = sbuf_take(&b, &len);
    const char *type = format[0] == 'c'   ? "text/csv; charset=utf-8"
                       : format[0] == 'h' ? "text/html; charset=utf-8"
                                          : "application/json";
    return reply(c, 200, type, p, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct http_server *h = cls;
    int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (h->tls_ca && !*con_cls && client_cert_ok(h, c)) {
        if (is_post) { /* drain the body, then answer */
            struct req *rq = xcalloc(1, sizeof *rq);
            rq->status = 403;
            snprintf(rq->msg, sizeof rq->msg,
                     "a client certificate from the configured CA is required");
            *con_cls = rq;
            return MHD_YES;
        }
        return reply_text(c, 403, "a client certificate from the configured CA is required");
    }
    if (strcmp(url, "/v1/ingest") == 0 && is_post) {
        struct req *rq = *con_cls;
        if (!rq) {
            rq = xcalloc(1, sizeof *rq);
            *con_cls = rq;
            const char *cl =
                MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (agent_of(h, c, rq->agent)) {
                rq->status = 401;
                snprintf(rq->msg, sizeof rq->msg, "missing or unknown bearer token");
            } else if (cl && strtoull(cl, NULL, 10) > h->cfg->max_body_bytes) {
                rq->status = 413;
                snprintf(rq->msg, sizeof rq->msg, "body exceeds max_body_bytes");
            }
            return MHD_YES;
        }
        if (*upload_size) {
            if (!rq->status && rq->body.len + *upload_size > h->cfg->max_body_bytes) {
                rq->status = 413;
                snprintf(rq->msg, sizeof rq->msg, "body exceeds max_body_bytes");
                sbuf_free(&rq->body);
            }
            if (!rq->status && !budget_take(h, rq, *upload_size)) {
                rq->status = 503; /* answered with Retry-After once the body is drained */
                sbuf_free(&rq->body);
                budget_give(h, rq, rq->held);
            }
            if (!rq->status && sbuf_try_add(&rq->body, upload, *upload_size)) {
                rq->status = 503;
                sbuf_free(&rq->body);
                budget_give(h, rq, rq->held);
            }
            *upload_size = 0;
            return MHD_YES;
        }
        return finish_ingest(h, c, rq);
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
        return reply_text(c, 405, "method not allowed");
    if (strcmp(url, "/healthz") == 0)
        return reply_text(c, 200, "ok");
    int metrics = strcmp(url, "/metrics") == 0, kpis = strcmp(url, "/api/v1/kpis") == 0;
    int export = strcmp(url, "/api/v1/export") == 0;
    if (metrics || kpis || export) {
        if (!reader_ok(h, c))
            return reply_text(c, 401, "missing or unknown bearer token");
        return metrics ? serve_metrics(h, c) : kpis ? serve_kpis(h, c) : serve_export(h, c);
    }
    return reply_text(
        c, 404, "not found: try /metrics, /api/v1/kpis, /api/v1/export, /healthz, /v1/ingest");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)c, (void)toe;
    struct req *rq = *con_cls;
    if (rq) {
        budget_give(cls, rq, rq->held);
        sbuf_free(&rq->body);
        xfree(rq);
        *con_cls = NULL;
    }
}

static int load_tokens(struct http_server *h, char *err, size_t errlen)
{
    struct tokens *agents, *readers;
    int rc = tokens_load_files(h->cfg->tokens_file, h->cfg->read_tokens_file, &agents, &readers,
                               err, errlen);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&h->tokens_lock);
    struct tokens *oa = h->agents, *orr = h->readers;
    h->agents = agents;
    h->readers = readers;
    pthread_rwlock_unlock(&h->tokens_lock);
    tokens_free(oa);
    tokens_free(orr);
    return 0;
}

int http_reload_tokens(struct http_server *h, char *err, size_t errlen)
{
    return load_tokens(h, err, errlen);
}

/* Reads a whole (PEM) file into a NUL-terminated buffer. */
static int read_file(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -EINVAL;
    }
    struct sbuf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sbuf_add(&b, buf, n);
    fclose(f);
    *out = sbuf_take(&b, NULL);
    return 0;
}

/* Splits "host:port" or "[v6]:port" and resolves it. */
static int resolve(const char *listen, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host) {
        snprintf(err, errlen, "listen '%s' must be host:port", listen);
        return -EINVAL;
    }
    const char *hs = listen;
    size_t hl = (size_t)(colon - listen);
    if (hs[0] == '[' && hl >= 2 && hs[hl - 1] == ']')
        hs++, hl -= 2;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai;
    int rc = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &ai);
    if (rc) {
        snprintf(err, errlen, "listen '%s': %s", listen, gai_strerror(rc));
        return -EINVAL;
    }
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

/* libmicrohttpd's own messages (a client that closed early, a refused connection) go
 * through Cadre's log at debug level, timestamped; at most one a second reaches the log
 * at warning level so a flood of connections cannot flood the log. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = 0;
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    static _Atomic int64_t last_warn_s;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t prev = atomic_load(&last_warn_s);
    if (now.tv_sec > prev && atomic_compare_exchange_strong(&last_warn_s, &prev, now.tv_sec))
        log_warn("http: %s (further HTTP library messages this second at debug level)", msg);
    else
        log_debug("http: %s", msg);
}

/* Raises the soft open-files limit to want (within the hard limit) so max_connections can
 * be reached; logs when it cannot. */
static void raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
        return;
    rlim_t to = rl.rlim_max < want ? rl.rlim_max : want;
    if (to > rl.rlim_cur) {
        rl.rlim_cur = to;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (to < want)
        log_warn("open-files limit %llu is below max_connections + 256 = %llu: connections "
                 "past it are refused",
                 (unsigned long long)to, (unsigned long long)want);
}

int http_start(struct http_server **out, const struct agg_config *cfg, struct ingest *ing,
               struct refresher *ref, struct kpi_model *model, struct rwpush *rw, char *err,
               size_t errlen)
{
    struct http_server *h = xcalloc(1, sizeof *h);
    h->model = model;
    h->rw = rw;
    h->cfg = cfg;
    h->ing = ing;
    h->ref = ref;
    pthread_rwlock_init(&h->tokens_lock, NULL);
    struct sockaddr_storage ss;
    if (load_tokens(h, err, errlen) || resolve(cfg->listen, &ss, err, errlen))
        goto fail;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem tls[4] = {{MHD_OPTION_END, 0, NULL}};
    if (cfg->tls_cert_file) {
        if (read_file(cfg->tls_key_file, &h->tls_key, err, errlen) ||
            read_file(cfg->tls_cert_file, &h->tls_cert, err, errlen) ||
            (cfg->tls_client_ca_file &&
             read_file(cfg->tls_client_ca_file, &h->tls_ca, err, errlen)))
            goto fail;
        flags |= MHD_USE_TLS;
        int n = 0;
        tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key};
        tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert};
        if (h->tls_ca)
            tls[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->tls_ca};
        tls[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    raise_nofile((rlim_t)cfg->max_connections + 256);
    /* The logger first, so that no option's message reaches stderr raw. */
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, h, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned)4, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                            (unsigned)cfg->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)cfg->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, h, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s (address in use or not allowed)", cfg->listen);
        goto fail;
    }
    *out = h;
    return 0;
fail:
    tokens_free(h->agents);
    tokens_free(h->readers);
    pthread_rwlock_destroy(&h->tokens_lock);
    xfree(h->tls_key);
    xfree(h->tls_cert);
    xfree(h->tls_ca);
    xfree(h);
    return -EINVAL;
}

void http_stop(struct http_server *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    tokens_free(h->agents);
    tokens_free(h->readers);
    pthread_rwlock_destroy(&h->tokens_lock);
    xfree(h->tls_key);
    xfree(h->tls_cert);
    xfree(h->tls_ca);
    xfree(h);
}
