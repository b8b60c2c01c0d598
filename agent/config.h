/* config.h - the agent's INI configuration: [agent] and one [source NAME] per source. */
#ifndef CADRE_AGENT_CONFIG_H
#define CADRE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "agent/source.h"
#include "agent/spool.h"
#include "common/opttab.h"

/* Exit status of --check (and of any start) on a configuration error (EX_CONFIG). */
#define AGENT_EXIT_CONFIG 78

struct agent_source_conf {
    char *name; /* [a-z0-9._-]{1,64} */
    const struct source_type *type;
    struct source_opts opts;
    int line; /* first line of the section */
};

struct agent_config {
    char *id;
    char *aggregator_url; /* without a trailing '/' */
    char *token_file, *org_key_file, *state_dir;
    int64_t poll_interval_s, batch_max_records, batch_max_wait_ms, retry_max_s, heartbeat_s,
        once_timeout_s, fsync_interval_ms;
    uint64_t spool_max_bytes;
    uint64_t rejected_max_bytes; /* cap of state_dir/rejected/ */
    enum spool_fsync fsync;
    int gzip;             /* compress = gzip (1) or none (0) */
    int log_format;       /* enum log_format */
    char *metrics_listen; /* host:port; NULL = off */
    char *tls_ca_file, *tls_cert_file, *tls_key_file;
    struct agent_source_conf *sources;
    size_t nsources;
};

/* The [agent] keys: names, kinds, defaults, limits and help (docs/config.md). */
extern const struct opttab agent_config_table;

/* Reads the file at path into *cfg (defaults for absent keys). The strict rules of docs/config.md
 * apply: lines start in column 1 and hold at most 200 bytes; an unknown section or key, a
 * key repeated in a section or a bad value is an error. Returns 0, or -EINVAL with
 * "FILE:LINE: message" (or "FILE: message") in err; *cfg is then empty. Free with
 * agent_config_free(). */
int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t errlen);
void agent_config_free(struct agent_config *cfg);

/* Opens what the config names without contacting anything: the org key (length and mode),
 * the token file (a non-empty first line) and the TLS files. 0 or -EINVAL with err. */
int agent_config_check_files(const struct agent_config *cfg, char *err, size_t errlen);

/* Reads the bearer token with tokfile_read_token: the first line of path, trimmed, visible
 * ASCII only. Returns 0 with *out (caller frees with xfree), or -errno (cannot open, read
 * error) / -EINVAL (empty, too long, a byte a header cannot carry) with err. */
int agent_read_token(const char *path, char **out, char *err, size_t errlen);

/* Prints every config key with its default and help, from the declarative tables: the
 * [agent] table, then `type` and each source type's table. */
void agent_config_usage(FILE *f);

#endif
