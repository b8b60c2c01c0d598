/* source.h - the source plugin interface: one constant struct per type, a config table. */
#ifndef CADRE_AGENT_SOURCE_H
#define CADRE_AGENT_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cadre.pb-c.h"
#include "common/opttab.h"

struct pseudonym;
struct pseudonym_cache;
struct csv_type;
struct csvmap;

/* Why a row or line is rejected (docs/agent.md), as counted and logged. */
enum source_reason {
    SRC_MALFORMED,
    SRC_MISSING_FIELD,
    SRC_INVALID_VALUE,
    SRC_UNMAPPED_ACCOUNT, /* API pollers: an account with no staff id (docs/sources.md) */
    SRC_NREASONS
};

/* "malformed", "missing_field", "invalid_value", "unmapped_account". */
const char *source_reason_name(int reason);

/* The keys of the API pollers (m365_copilot, github_copilot; docs/sources.md). */
struct source_poll_opts {
    char *base_url;           /* the API's root, without a trailing '/' */
    char *token_url;          /* m365: OAuth 2.0 token endpoint */
    char *client_id, *scope;  /* m365: client credentials */
    char *client_secret_file; /* m365: the client secret on its first line, mode 600 */
    char *token_file;         /* github: the bearer token on its first line, mode 600 */
    char *org;                /* github: organisation */
    char *api_version;        /* github: X-GitHub-Api-Version */
    char *period;             /* m365: report period (D7, D30, ...) */
    char *account_map;        /* CSV account,staff_id */
    int account_id;           /* enum poll_account_id: how an account names its staff id */
    int64_t poll_interval_s, timeout_s, max_pages, retry_wait_max_s;
    uint64_t max_page_bytes;
};

/* Options of a [source NAME] section besides `type`. Each type's table (rows of
 * common/opttab.h with offsets into this struct) says which apply. */
struct source_opts {
    char *path;                   /* glob */
    bool authoritative;           /* CSV: ship tombstones for keys gone from the snapshot */
    struct csvmap *map;           /* CSV: how a vendor export maps onto the type (csvmap.h); NULL:
                                     canonical. Built by the config loader, which frees it */
    struct source_poll_opts poll; /* API pollers only */
};

/* Counters of one source instance, read by the self-metrics endpoint (any thread). */
/* Why a source could not read something it was pointed at (not a row's fault). */
enum source_error {
    SRC_ERR_UNREADABLE,
    SRC_ERR_NOT_A_FILE,
    /* API pollers: why a poll failed (docs/sources.md) */
    SRC_ERR_HTTP_CLIENT,  /* a 4xx other than 401, 403, 429: the source waits for its next poll */
    SRC_ERR_AUTH,         /* 401 or 403 (after a new token), or the token endpoint refused */
    SRC_ERR_RATE_LIMITED, /* 429, 503 or an exhausted rate limit, past what a poll waits */
    SRC_ERR_SERVER,       /* other 5xx */
    SRC_ERR_NETWORK,      /* connection failed or timed out */
    SRC_ERR_BAD_RESPONSE, /* not the documented JSON, a bad next link, too big, too many pages */
    SRC_ERR_SECRET,       /* the secret or token file cannot be read */
    SRC_NERRORS
};

/* "unreadable", "not_a_file", "http_client_error", "unauthorized", "rate_limited",
 * "server_error", "network", "bad_response", "secret": the reason label of
 * cadre_agent_source_errors_total. */
const char *source_error_name(int error);

struct source_stats {
    atomic_ullong records;                /* records handed to the spool */
    atomic_ullong rejected[SRC_NREASONS]; /* rows or lines rejected, by reason */
    atomic_ullong errors[SRC_NERRORS];    /* files matched but not read, by reason */
    atomic_llong last_error_log_s;        /* monotonic second of the last warning logged */
    /* Rejected rows are logged one by one up to SOURCE_REJECT_LOG_MAX a minute, the rest
     * counted and summarised (source_reject, source_reject_flush); the poll thread only. */
    long long reject_window_s;       /* monotonic second the current minute began (0: none) */
    unsigned reject_logged;          /* rows logged one by one in it */
    unsigned long long reject_quiet; /* rows rejected in it and not logged one by one */
    bool polls_api;                  /* an API poller: has a last-success gauge */
    atomic_llong last_poll_ok_us;    /* wall clock of its last complete poll; 0 = none */
};
#define SOURCE_REJECT_LOG_MAX 10

/* What a source's poll talks to: where records go and where its checkpoint lives. */
struct source_env {
    const char *name;               /* instance name: logs and usage record keys */
    const struct pseudonym *pseudo; /* the org key */
    /* Staff keys of recent ids, shared by the sources of one agent (they are polled on one
     * thread); NULL: a source makes its own. */
    struct pseudonym_cache *keys;
    const char *ckpt_dir; /* checkpoint folder; NULL keeps state in memory only */
    bool fsync;           /* fsync checkpoint files */
    bool dry_run;         /* read checkpoints but never write them */
    /* Hands one record on: rec is a packed cadre.Record of len bytes, only borrowed
     * (batched for the spool, or printed in a dry run). Returns 0 or a negative errno. */
    int (*emit)(void *ud, const uint8_t *rec, size_t len);
    /* Makes every record emitted so far durable (spooled and synced). A source writes its
     * checkpoint only after this returned 0. */
    int (*flush)(void *ud);
    void *ud;
    struct source_stats *stats;
    /* Input a poll may read before it commits and returns 1 (0: the source's default),
     * set by the agent before each poll from the free space of state_dir. */
    uint64_t poll_bytes;
};

/* A source type. init allocates the instance's context (caller releases it with fini);
 * poll reads what is new, emits records, flushes, then advances its checkpoint; it never
 * touches the network. Both return 0 or a negative errno; poll returns 1 when it stopped
 * early (a bounded read) and more may be waiting: the caller polls it again. */
struct source_type {
    const char *name; /* the `type =` value */
    int (*init)(void **ctx, const struct source_opts *opts, const struct source_env *env);
    int (*poll)(void *ctx, const struct source_env *env);
    void (*fini)(void *ctx);
    const struct opt *config;   /* its keys; terminated by a row with key NULL */
    const struct csv_type *csv; /* a CSV type: its columns (vendor mappings apply) */
    /* Optional: checks what the keys name without contacting anything (--check and
     * before init): keys that go together, secret files and their modes. 0, or -EINVAL
     * with a message in err that never quotes a secret. */
    int (*check)(const struct source_opts *opts, char *err, size_t errlen);
};

/* Looks a type up by name; NULL when unknown. */
const struct source_type *source_type_find(const char *name);
/* All types, NULL-terminated (for --help). */
extern const struct source_type *const source_types[];

/* Counts a rejection and logs "[source NAME] line N: reason field" (field may be NULL).
 * Never logs a value. */
void source_reject(const struct source_env *env, unsigned long line, int reason, const char *field);
/* Logs how many rejected rows went unlogged in the current minute, when there are some and
 * the minute is over (or now, with force: the end of --once or --dry-run). */
void source_reject_flush(const struct source_env *env, bool force);

/* Counts a file that matched the source's path but cannot be read (err: the errno, or 0)
 * and logs it naming the path: at warning level at most once a minute per source, at
 * debug level otherwise, so a lasting permission mistake is seen without flooding the
 * log. Any thread. */
void source_skip_file(const struct source_env *env, const char *path, int error, int err);

/* The first 8 bytes of the SHA-256 of len bytes, big-endian (change detection, usage file
 * fingerprints). */
uint64_t source_hash(const void *p, size_t len);

/* Packs rec and hands it to env->emit, counting it. Returns emit's result. */
int source_emit(const struct source_env *env, const Cadre__Record *rec);

/* The source types. */
extern const struct source_type source_usage_jsonl;
extern const struct source_type source_staffing_csv;
extern const struct source_type source_shifts_csv;
extern const struct source_type source_absences_csv;
extern const struct source_type source_ehr_csv;
extern const struct source_type source_training_csv;
extern const struct source_type source_licences_csv;
extern const struct source_type source_m365_copilot;
extern const struct source_type source_github_copilot;

#endif
