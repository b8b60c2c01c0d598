/* http.h - the aggregator's HTTP server (libmicrohttpd): ingest, metrics, API, health. */
#ifndef CADRE_HTTP_H
#define CADRE_HTTP_H

#include <stddef.h>

#include "aggregator/config.h"
#include "aggregator/ingest.h"
#include "aggregator/rwpush.h"
#include "aggregator/snapshot.h"

struct http_server;

/* Starts serving cfg->listen with a pool of threads. The config, ingest, refresher, model
 * and remote_write pusher (NULL when off) are borrowed and must outlive the server. Loads
 * the tokens files. Returns 0 or -EINVAL / -EADDRINUSE with a message in err. Caller stops
 * with http_stop(). */
int http_start(struct http_server **out, const struct agg_config *cfg, struct ingest *ing,
               struct refresher *ref, struct kpi_model *model, struct rwpush *rw, char *err,
               size_t errlen);
/* Finishes requests in flight and stops. */
void http_stop(struct http_server *h);
/* Re-reads the tokens files (SIGHUP); on error keeps the old ones and returns -EINVAL. */
int http_reload_tokens(struct http_server *h, char *err, size_t errlen);

#endif
