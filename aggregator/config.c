/* config.c - the [aggregator] and [remote_write] option tables and the checks across keys. */
#include "aggregator/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "aggregator/ingest.h"
#include "common/decimal.h"
#include "common/inifile.h"
#include "common/log.h"
#include "common/opttab.h"
#include "common/timeutil.h"
#include "exporters/remote_write.h"

static const struct opt_choice log_format_choices[] = {
    {"text", LOG_TEXT}, {"logfmt", LOG_LOGFMT}, {NULL, 0}};

/* as_of: a day, or empty for "yesterday at each refresh". */
static int set_as_of(void *obj, const char *v, const char **why)
{
    struct agg_config *cfg = obj;
    size_t len = strlen(v);
    if (len == 0) {
        cfg->has_as_of = false;
        return 0;
    }
    if (parse_date(v, len, &cfg->as_of)) {
        *why = "must be a date YYYY-MM-DD";
        return -EINVAL;
    }
    cfg->has_as_of = true;
    return 0;
}

#define O(f) offsetof(struct agg_config, f)
static const struct opt agg_rows[] = {
    {"listen", OPT_NONEMPTY, "127.0.0.1:9470", O(listen), 0, 0, false,
     .help = "host:port to serve HTTP on"},
    {"db_path", OPT_NONEMPTY, "/var/lib/cadre/db", O(db_path), 0, 0, false,
     .help = "RocksDB folder"},
    {"tokens_file", OPT_STR, NULL, O(tokens_file), 0, 0, true, .help = "lines \"agent_id token\""},
    {"read_tokens_file", OPT_STR, NULL, O(read_tokens_file), 0, 0, false,
     .help = "bearer tokens for /metrics and /api (off)"},
    {"min_group_size", OPT_INT, "10", O(min_group_size), 5, 1000000, false,
     .help = "k for suppression (>= 5)"},
    {"as_of", OPT_FUNC, NULL, 0, 0, 0, false, .help = "as-of day YYYY-MM-DD (default yesterday)",
     .set = set_as_of},
    {"contract_hours_per_week", OPT_DEC, "40", O(contract_hours_micro), 1, 168 * MICRO, false,
     .help = "hours of a 1.0 FTE week"},
    {"literacy_courses", OPT_LIST, "", O(literacy_courses), 0, 0, false,
     .help = "comma-separated AI-literacy courses (empty = all)"},
    {"max_body_bytes", OPT_BYTES, "16MiB", O(max_body_bytes), 1024, INT64_MAX, false,
     .help = "largest ingest body, before or after gzip",
     .why = "must be a size such as 16MiB (suffixes KiB, MiB, GiB)"},
    {"max_inflight_bytes", OPT_BYTES, "512MiB", O(max_inflight_bytes), 1 << 20, INT64_MAX, false,
     .help = "request bodies and their decoding held at once; past it ingest answers 503 "
             "with Retry-After",
     .why = "must be a size such as 512MiB (suffixes KiB, MiB, GiB)"},
    {"max_connections", OPT_INT, "4096", O(max_connections), 16, 1000000, false,
     .help = "open HTTP connections at most (the open-files limit is raised to fit)"},
    {"max_connections_per_ip", OPT_INT, "256", O(max_connections_per_ip), 1, 1000000, false,
     .help = "open HTTP connections from one client address at most"},
    {"connection_timeout_s", OPT_INT, "30", O(connection_timeout_s), 1, 3600, false,
     .help = "an HTTP connection idle this long is closed"},
    {"store_min_free_bytes", OPT_BYTES, "256MiB", O(store_min_free_bytes), 0, INT64_MAX, false,
     .help = "batches are refused (503) while the database's disk has less free (0: off)",
     .why = "must be a size such as 256MiB (suffixes KiB, MiB, GiB)"},
    {"sync_writes", OPT_BOOL, "true", O(sync_writes), 0, 0, false,
     .help = "fsync the WAL before acking"},
    {"kpi_refresh_interval_s", OPT_INT, "60", O(kpi_refresh_interval_s), 1, 86400, false,
     .help = "seconds between KPI refreshes"},
    {"burnout_overtime_ratio", OPT_DEC, "0.10", O(burnout_overtime_ratio), 0, INT64_MAX, false,
     .help = "flag: own overtime ratio above"},
    {"burnout_long_shift_share", OPT_DEC, "0.25", O(burnout_long_shift_share), 0, MICRO, false,
     .help = "flag: share of shifts >= 12 h at least"},
    {"burnout_short_rests", OPT_INT, "2", O(burnout_short_rests), 0, 1000000, false,
     .help = "flag: short rests at least"},
    {"burnout_wow8_seconds", OPT_DEC, "3600", O(burnout_wow8_seconds), 0, INT64_MAX, false,
     .help = "flag: own wow8 above"},
    {"burnout_sickness_ratio", OPT_DEC, "0.05", O(burnout_sickness_ratio), 0, INT64_MAX, false,
     .help = "flag: own sickness ratio above"},
    {"burnout_min_flags", OPT_INT, "2", O(burnout_min_flags), 1, 5, false,
     .help = "flags that make a person at risk"},
    {"dominance_min_contributors", OPT_INT, "3", O(dominance_min_contributors), 1, 1000000, false,
     .help = "dominance: a magnitude cell needs this many people adding to it"},
    {"dominance_max_share", OPT_DEC, "0.5", O(dominance_max_share), 1, MICRO, false,
     .help = "dominance: a cell is suppressed when one person's part exceeds this share"},
    {"drift_baseline_days", OPT_INT, "84", O(drift_baseline_days), 1, 730, false,
     .help = "days before the window that AI-output drift compares against"},
    {"loadoff_period_days", OPT_INT, "56", O(loadoff_period_days), 7, 365, false,
     .help = "load-off: days of the periods before and after adoption"},
    {"loadoff_ramp_days", OPT_INT, "28", O(loadoff_ramp_days), 0, 365, false,
     .help = "load-off: days after adoption left out while use ramps up"},
    {"loadoff_min_active_days", OPT_INT, "4", O(loadoff_min_active_days), 1, 28, false,
     .help = "load-off: days of use in the first 28 that make an adopter"},
    {"loadoff_pre_gap_days", OPT_INT, "0", O(loadoff_pre_gap_days), 0, 56, false,
     .help = "load-off: days before adoption left out of the pre period (0: none)"},
    {"tls_cert_file", OPT_STR, NULL, O(tls_cert_file), 0, 0, false,
     .help = "serve HTTPS with this certificate"},
    {"tls_key_file", OPT_STR, NULL, O(tls_key_file), 0, 0, false,
     .help = "private key of tls_cert_file"},
    {"tls_client_ca_file", OPT_STR, NULL, O(tls_client_ca_file), 0, 0, false,
     .help = "require client certificates from this CA"},
    {"log_format", OPT_CHOICE, "text", O(log_format), 0, 0, false,
     .help = "text, or logfmt (key=value lines for Fluent Bit, Loki)",
     .choices = log_format_choices},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};

static const struct opt rw_rows[] = {
    {"url", OPT_STR, NULL, O(rw_url), 0, 0, false, .help = "remote_write endpoint (off)"},
    {"interval_s", OPT_INT, "60", O(rw_interval_s), 1, 86400, false,
     .help = "seconds between pushes"},
    {"token_file", OPT_STR, NULL, O(rw_token_file), 0, 0, false,
     .help = "bearer token for the endpoint"},
    {"external_labels", OPT_STR, NULL, O(rw_external_labels), 0, 0, false,
     .help = "labels added to every series, e.g. region=\"north\""},
    {"send_counts", OPT_BOOL, "false", O(rw_send_counts), 0, 0, false,
     .help = "also push each additive KPI's numerator and denominator"},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};
#undef O

const struct opttab agg_config_tables[AGG_CONFIG_NTABLES] = {
    {.section = "aggregator", .rows = agg_rows},
    {.section = "remote_write", .rows = rw_rows},
};

struct parse_ctx {
    struct agg_config *cfg;
    struct opttab_seen seen[AGG_CONFIG_NTABLES];
};

static int on_kv(void *user, const char *section, const char *name, const char *value, int line,
                 char *err, size_t errlen)
{
    struct parse_ctx *c = user;
    for (size_t i = 0; i < AGG_CONFIG_NTABLES; i++) {
        if (strcmp(section, agg_config_tables[i].section))
            continue;
        int rc =
            opttab_set(&agg_config_tables[i], c->cfg, &c->seen[i], name, value, line, err, errlen);
        return rc ? -1 : 0;
    }
    snprintf(err, errlen, "unknown section [%s]", section);
    return -1;
}

int agg_config_load(struct agg_config *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < AGG_CONFIG_NTABLES; i++)
        opttab_defaults(agg_config_tables[i].rows, cfg);
    struct parse_ctx c = {.cfg = cfg};
    int rc = -EINVAL;
    char why[256];
    if (inifile_parse(path, on_kv, &c, err, errlen))
        goto fail;
    if (opttab_check_required(&agg_config_tables[0], cfg, path, err, errlen))
        goto fail;
    if (!!cfg->tls_cert_file != !!cfg->tls_key_file) {
        snprintf(err, errlen, "%s: tls_cert_file and tls_key_file go together", path);
        goto fail;
    }
    /* One largest gzip body, inflated, and decoded must fit, or it could never be taken. */
    uint64_t one = 2 * cfg->max_body_bytes + INGEST_DECODE_BYTES(cfg->max_body_bytes);
    if (cfg->max_body_bytes > (UINT64_MAX - (1u << 20)) / (INGEST_DECODE_FACTOR + 2) ||
        cfg->max_inflight_bytes < one) {
        snprintf(err, errlen,
                 "%s: max_inflight_bytes must hold at least one largest batch: 2 x "
                 "max_body_bytes + %d x max_body_bytes + 1MiB",
                 path, INGEST_DECODE_FACTOR);
        goto fail;
    }
    if (rw_check_labels(cfg->rw_external_labels, why, sizeof why)) {
        snprintf(err, errlen, "%s: [remote_write] %s", path, why);
        goto fail;
    }
    if (cfg->rw_url && *cfg->rw_url && strncmp(cfg->rw_url, "http://", 7) &&
        strncmp(cfg->rw_url, "https://", 8)) {
        snprintf(err, errlen, "%s: [remote_write] url must start with http:// or https://", path);
        goto fail;
    }
    if ((cfg->rw_token_file || cfg->rw_external_labels || cfg->rw_send_counts) &&
        !(cfg->rw_url && *cfg->rw_url)) {
        snprintf(err, errlen,
                 "%s: [remote_write] token_file, external_labels and send_counts need url", path);
        goto fail;
    }
    while (cfg->literacy_courses[cfg->n_literacy_courses])
        cfg->n_literacy_courses++;
    return 0;
fail:
    agg_config_free(cfg);
    return rc;
}

void agg_config_free(struct agg_config *cfg)
{
    for (size_t i = 0; i < AGG_CONFIG_NTABLES; i++)
        opttab_free(agg_config_tables[i].rows, cfg);
    cfg->n_literacy_courses = 0;
}

void agg_config_usage(FILE *f)
{
    for (size_t i = 0; i < AGG_CONFIG_NTABLES; i++)
        opttab_print_help(f, &agg_config_tables[i]);
}

int32_t agg_config_as_of(const struct agg_config *cfg)
{
    return cfg->has_as_of ? cfg->as_of : today_local() - 1;
}

bool agg_config_open_to_network(const struct agg_config *cfg)
{
    if (cfg->read_tokens_file || cfg->tls_client_ca_file)
        return false;
    const char *l = cfg->listen, *colon = strrchr(l, ':');
    size_t n = colon ? (size_t)(colon - l) : strlen(l);
    if (n >= 2 && l[0] == '[' && l[n - 1] == ']')
        l++, n -= 2;
    bool loopback = (n == 9 && strncmp(l, "localhost", 9) == 0) ||
                    (n == 3 && strncmp(l, "::1", 3) == 0) || (n >= 4 && strncmp(l, "127.", 4) == 0);
    return !loopback;
}
