/* metrics.h - the agent's self-metrics endpoint (GET /metrics) on libmicrohttpd. */
#ifndef CADRE_AGENT_METRICS_H
#define CADRE_AGENT_METRICS_H

#include "common/sbuf.h"

struct metrics;

/* Appends the exposition text to out; called on the server's thread for every scrape. */
typedef void (*metrics_render_fn)(void *ud, struct sbuf *out);

/* Serves GET /metrics on listen ("host:port", "[v6]:port" or ":port" for every address).
 * Returns 0 and *out (stop with metrics_stop) or -errno. */
int metrics_start(struct metrics **out, const char *listen, metrics_render_fn fn, void *ud);
/* Stops serving and frees m; NULL is fine. */
void metrics_stop(struct metrics *m);

#endif
