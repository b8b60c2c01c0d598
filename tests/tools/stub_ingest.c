/* stub_ingest.c - a stand-in aggregator that answers POST /v1/ingest from a script.
 *
 * stub_ingest --port P --log FILE --script "503:2,429:1,400,200"
 *
 * Each comma item is STATUS[:RETRY_AFTER_SECONDS], answered in turn to successive POSTs;
 * the last item repeats forever. The item `hang` never answers: the request is held until
 * the process gets SIGTERM or SIGINT. Every POST appends one line to FILE when its body has
 * arrived, before it is answered (flushed at once):
 *
 *   mono_ms=M wall_ms=W bytes=N plain=N kind=batch|heartbeat|bad agent=ID seq=S|- records=R
 *   status=CODE|hang
 *
 * bytes is the body as received, plain the body after gzip inflation; kind is heartbeat for a
 * cadre.Batch without seq, batch with one, bad when the body does not decode. A 400 says
 * "bad batch: stub says no". Listens on 127.0.0.1 only. Exits 0 on SIGTERM or SIGINT.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "cadre.pb-c.h"
#include "common/xalloc.h"

#define MAX_ITEMS 64
#define MAX_PLAIN (64u << 20) /* inflated bodies past this are logged as bad */
#define STATUS_HANG 0
/* A newline inside, as a hostile or odd server might send: the agent keeps the
 * reason on one line. */
#define REJECT_TEXT "bad batch:\nstub says no\n"

struct item {
    unsigned status;    /* STATUS_HANG: never answer */
    long retry_after_s; /* -1: no Retry-After header */
};

struct stub {
    struct item items[MAX_ITEMS];
    size_t nitems;
    size_t next;   /* index of the item for the next POST; under mu */
    FILE *log;     /* under mu */
    bool stopping; /* under mu: held (hang) requests give up */
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

/* One request's body, collected across upload calls. */
struct req {
    uint8_t *p;
    size_t len, cap;
};

static int64_t clock_ms(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Parses "503:2,429,hang" into s->items. Returns 0 or -EINVAL. */
static int parse_script(struct stub *s, const char *script)
{
    const char *p = script;
    s->nitems = 0;
    while (*p) {
        if (s->nitems == MAX_ITEMS)
            return -EINVAL;
        struct item *it = &s->items[s->nitems++];
        it->retry_after_s = -1;
        char *end;
        if (strncmp(p, "hang", 4) == 0) {
            it->status = STATUS_HANG;
            end = (char *)p + 4;
        } else {
            long v = strtol(p, &end, 10);
            if (end == p || v < 100 || v > 599)
                return -EINVAL;
            it->status = (unsigned)v;
            if (*end == ':') {
                p = end + 1;
                it->retry_after_s = strtol(p, &end, 10);
                if (end == p || it->retry_after_s < 0)
                    return -EINVAL;
            }
        }
        if (*end == ',' && end[1])
            end++;
        else if (*end)
            return -EINVAL;
        p = end;
    }
    return s->nitems ? 0 : -EINVAL;
}

/* Inflates a gzip body. Returns 0 and *out (caller frees with xfree) or -EINVAL. */
static int gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return -EINVAL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    int rc;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    do { /* a truncated stream ends in Z_BUF_ERROR */
        if (n == cap)
            xgrow((void **)&buf, &cap, n + 65536, 1);
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
    } while (rc == Z_OK && n < MAX_PLAIN);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        xfree(buf);
        return -EINVAL;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

/* Appends the log line of one request and takes the script item that answers it. */
static struct item take_and_log(struct stub *s, struct MHD_Connection *c, const struct req *rq)
{
    const char *enc =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    uint8_t *plain = NULL;
    const uint8_t *body = rq->p;
    size_t plen = rq->len;
    bool bad = false;
    if (enc && strcasecmp(enc, "gzip") == 0) {
        bad = gunzip(rq->p, rq->len, &plain, &plen) != 0;
        body = plain;
    }
    Cadre__Batch *b = bad ? NULL : cadre__batch__unpack(NULL, plen, body);
    const char *kind = "bad";
    char seq[24] = "-";
    if (b && b->has_seq) {
        kind = "batch";
        snprintf(seq, sizeof seq, "%" PRIu64, (uint64_t)b->seq);
    } else if (b) {
        kind = "heartbeat";
    }
    pthread_mutex_lock(&s->mu);
    struct item it = s->items[s->next];
    if (s->next + 1 < s->nitems)
        s->next++;
    char status[16] = "hang";
    if (it.status != STATUS_HANG)
        snprintf(status, sizeof status, "%u", it.status);
    fprintf(s->log,
            "mono_ms=%" PRId64 " wall_ms=%" PRId64 " bytes=%zu plain=%zu kind=%s agent=%s "
            "seq=%s records=%zu status=%s\n",
            clock_ms(CLOCK_MONOTONIC), clock_ms(CLOCK_REALTIME), rq->len, bad ? 0 : plen, kind,
            b ? b->agent_id : "-", seq, b ? b->n_records : 0, status);
    fflush(s->log);
    pthread_mutex_unlock(&s->mu);
    if (b)
        cadre__batch__free_unpacked(b, NULL);
    xfree(plain);
    return it;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *text,
                              long retry_after_s)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    if (retry_after_s >= 0) {
        char v[24];
        snprintf(v, sizeof v, "%ld", retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct stub *s = cls;
    if (strcmp(url, "/v1/ingest") || strcmp(method, MHD_HTTP_METHOD_POST))
        return answer(c, 404, "stub: only POST /v1/ingest\n", -1);
    struct req *rq = *con_cls;
    if (!rq) {
        *con_cls = xcalloc(1, sizeof *rq);
        return MHD_YES;
    }
    if (*upload_size) {
        xgrow((void **)&rq->p, &rq->cap, rq->len + *upload_size, 1);
        memcpy(rq->p + rq->len, upload, *upload_size);
        rq->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    struct item it = take_and_log(s, c, rq);
    if (it.status == STATUS_HANG) { /* hold this connection's thread until we stop */
        pthread_mutex_lock(&s->mu);
        while (!s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        return MHD_NO; /* closes the connection without an answer */
    }
    const char *text = it.status == 400 ? REJECT_TEXT : it.status < 300 ? "ok\n" : "later\n";
    return answer(c, it.status, text, it.retry_after_s);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct req *rq = *con_cls;
    if (rq) {
        xfree(rq->p);
        xfree(rq);
        *con_cls = NULL;
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: stub_ingest --port P --log FILE --script STATUS[:RETRY_AFTER_S],...|hang\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"log", required_argument, NULL, 'l'},
        {"script", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    static struct stub s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    const char *log_path = NULL, *script = "200";
    long port = 0;
    int o;
    while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (o) {
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'l': log_path = optarg; break;
        case 's': script = optarg; break;
        default: usage(stderr); return 64;
        }
    }
    if (port <= 0 || port > 65535 || !log_path || optind != argc || parse_script(&s, script)) {
        usage(stderr);
        return 64;
    }
    if (!(s.log = fopen(log_path, "a"))) {
        fprintf(stderr, "stub_ingest: %s: %s\n", log_path, strerror(errno));
        return 1;
    }
    /* Signals are taken by sigwait() in this thread; MHD's threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* A thread per connection, so a held (hang) request blocks nobody else. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, &s, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "stub_ingest: cannot listen on 127.0.0.1:%ld\n", port);
        fclose(s.log);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    pthread_mutex_lock(&s.mu);
    s.stopping = true;
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    MHD_stop_daemon(d);
    fclose(s.log);
    return 0;
}
