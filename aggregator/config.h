/* config.h - the aggregator's INI configuration ([aggregator] and [remote_write]). */
#ifndef CADRE_AGG_CONFIG_H
#define CADRE_AGG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/opttab.h"

struct agg_config {
    char *listen; /* host:port */
    char *db_path;
    char *tokens_file; /* lines "agent_id token" */
    char *read_tokens_file;
    char *tls_cert_file, *tls_key_file, *tls_client_ca_file;
    int log_format; /* enum log_format */
    int64_t min_group_size;
    int32_t as_of; /* day number; valid when has_as_of */
    bool has_as_of;
    int64_t contract_hours_micro; /* contract_hours_per_week in millionths */
    char **literacy_courses;      /* NULL-terminated; empty list = every course counts */
    size_t n_literacy_courses;
    uint64_t max_body_bytes;
    uint64_t max_inflight_bytes;   /* bodies and their decoding held at once */
    uint64_t store_min_free_bytes; /* refuse batches below this much free disk */
    int64_t max_connections, max_connections_per_ip, connection_timeout_s;
    bool sync_writes;
    int64_t kpi_refresh_interval_s;
    /* Burnout thresholds in millionths (ratios, seconds) or counts. */
    int64_t burnout_overtime_ratio, burnout_long_shift_share, burnout_wow8_seconds,
        burnout_sickness_ratio;
    int64_t burnout_short_rests, burnout_min_flags;
    int64_t dominance_min_contributors, dominance_max_share; /* share in millionths */
    int64_t drift_baseline_days;
    int64_t loadoff_period_days, loadoff_ramp_days, loadoff_min_active_days, loadoff_pre_gap_days;
    /* [remote_write] */
    char *rw_url, *rw_token_file, *rw_external_labels;
    int64_t rw_interval_s;
    bool rw_send_counts;
};

#define AGG_CONFIG_NTABLES 2

/* The keys of [aggregator] and of [remote_write], in that order (docs/config.md). */
extern const struct opttab agg_config_tables[AGG_CONFIG_NTABLES];

/* Reads the file at path into *cfg (defaults for absent keys). On error returns -EINVAL
 * and writes "FILE:LINE: message" (or "FILE: message") into err; *cfg is then empty.
 * Free with agg_config_free() (also safe after a failed load). */
int agg_config_load(struct agg_config *cfg, const char *path, char *err, size_t errlen);
void agg_config_free(struct agg_config *cfg);

/* Prints every config key with its default and help, from the tables (for --help). */
void agg_config_usage(FILE *f);

/* The as-of day: as_of when set, else yesterday in local time. */
int32_t agg_config_as_of(const struct agg_config *cfg);

/* Whether /metrics and /api are open to the network: listen is not a loopback address
 * (127.0.0.0/8, ::1, localhost) and neither read_tokens_file nor TLS client certificates
 * guard them. --check and the daemon warn about it. */
bool agg_config_open_to_network(const struct agg_config *cfg);

#endif
