/* metrics.c - one route, text format 0.0.4, rendered on demand from counters. */
#include "agent/metrics.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/xalloc.h"

struct metrics {
    struct MHD_Daemon *d;
    metrics_render_fn fn;
    void *ud;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **con_cls)
{
    (void)version, (void)upload, (void)upload_len, (void)con_cls;
    struct metrics *m = cls;
    struct sbuf b = {0};
    unsigned status = MHD_HTTP_OK;
    const char *type = "text/plain; version=0.0.4; charset=utf-8";
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        sbuf_adds(&b, "method not allowed\n");
    } else if (strcmp(url, "/metrics") == 0) {
        m->fn(m->ud, &b);
    } else if (strcmp(url, "/healthz") == 0) {
        sbuf_adds(&b, "ok\n");
    } else {
        status = MHD_HTTP_NOT_FOUND;
        sbuf_adds(&b, "not found\n");
    }
    size_t len;
    char *body = sbuf_take(&b, &len);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
    xfree(body);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

int metrics_start(struct metrics **out, const char *listen, metrics_render_fn fn, void *ud)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host)
        return -EINVAL;
    size_t hl = (size_t)(colon - listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    char *h = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        h = host + 1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(*h ? h : NULL, colon + 1, &hints, &ai) || !ai)
        return -EINVAL;
    struct metrics *m = xcalloc(1, sizeof *m);
    m->fn = fn;
    m->ud = ud;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    m->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!m->d) {
        xfree(m);
        return -EADDRINUSE;
    }
    *out = m;
    return 0;
}

void metrics_stop(struct metrics *m)
{
    if (!m)
        return;
    MHD_stop_daemon(m->d);
    xfree(m);
}
