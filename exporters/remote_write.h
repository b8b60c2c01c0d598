/* remote_write.h - Prometheus remote_write 1.0: KPI gauges as a snappy WriteRequest, POSTed.
 *
 * The request carries exactly the KPI series of /metrics: the published rows of each family
 * in that family's windows, as cadre_<kpi>{window,by,group} plus the external labels, one
 * sample each, stamped with the caller's time (the KPI refresh). The caller owns the
 * schedule and the backoff; nothing here keeps state between calls.
 */
#ifndef CADRE_REMOTE_WRITE_H
#define CADRE_REMOTE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "exporters/kpi_table.h"
#include "exporters/prom.h"

/* Exporter results (STYLE.md): the core retries EXP_RETRY with backoff and counts and drops
 * what came back EXP_ERROR. */
enum exp_result {
    EXP_OK = 0,    /* delivered (2xx) */
    EXP_RETRY = 1, /* 5xx, 429, connection error or timeout: same body again later */
    EXP_ERROR = 2, /* any other answer (4xx, 3xx): the body will never be accepted */
};

#define RW_CONTENT_TYPE "application/x-protobuf"
#define RW_VERSION_HEADER "X-Prometheus-Remote-Write-Version: 0.1.0"
#define RW_MAX_EXTERNAL_LABELS 32
#define RW_TIMEOUT_S 10 /* whole POST, connection included */

/* Checks an external_labels value, e.g. `region="north", env="prod"`: comma-separated
 * name="value" pairs, names [a-zA-Z_][a-zA-Z0-9_]* not starting with "__" and none of
 * window, by or group, no name twice, values non-empty, quoted, with \" \\ \n escapes.
 * NULL or blank means no labels. Returns 0, or -EINVAL with the reason in err. */
int rw_check_labels(const char *external_labels, char *err, size_t errlen);

/* rw_build flags. */
#define RW_SEND_COUNTS 1u /* also cadre_<kpi>_numerator and _denominator of additive KPIs */

/* Builds the snappy-compressed (block format) WriteRequest for the published rows of t
 * of the KPIs of defs (same selection and values as prom_render_kpis), every series
 * labelled __name__="cadre_<kpi>", window, by, group and the external labels, sorted by
 * name, with one sample (value numerator / denominator, timestamp ts_ms). With
 * RW_SEND_COUNTS in flags, each published row of a KPI whose def is additive adds two
 * series with the same labels, cadre_<kpi>_numerator and cadre_<kpi>_denominator, right
 * after its ratio; a suppressed row has none of the three. t need not be sorted; series
 * follow the order of defs, then of t. On success *body (caller frees with xfree) and *len
 * are set, also for zero series, and the number of series is returned; -EINVAL for bad
 * external labels (see rw_check_labels) or -EIO, *body untouched. Thread-safe. */
int rw_build(const struct kpi_table *t, const struct kpi_def *defs, size_t ndefs,
             const char *external_labels, unsigned flags, int64_t ts_ms, uint8_t **body,
             size_t *len);

/* POSTs body to url with Content-Encoding: snappy, Content-Type: application/x-protobuf,
 * X-Prometheus-Remote-Write-Version: 0.1.0, User-Agent: user_agent (NULL: "cadre") and,
 * when token is set, Authorization: Bearer token. Redirects are not followed. Returns
 * EXP_OK for 2xx; EXP_RETRY for 5xx, 429 and transport errors; EXP_ERROR otherwise. err gets
 * one printable line either way: the HTTP status and the start of the answer's body, or the
 * transport error. Blocks at most RW_TIMEOUT_S. Thread-safe once curl_global_init() has run. */
int rw_send(const char *url, const char *token, const char *user_agent, const uint8_t *body,
            size_t len, char *err, size_t errlen);

/* Reads a bearer token with tokfile_read_token: the first line of path without its line
 * ending and surrounding white space, visible ASCII only. On success *token is set (caller
 * frees with xfree) and 0 returned; otherwise a negative errno (-EINVAL for an empty,
 * too long or unsendable first line) with the reason in err. */
int rw_read_token(const char *path, char **token, char *err, size_t errlen);

#endif
