/* config.c - table-driven [aggregator] / [remote_write] parsing with inih. */
#include "aggregator/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/inifile.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exporters/remote_write.h"

enum opt_kind { OPT_STR, OPT_INT, OPT_DEC, OPT_BOOL, OPT_BYTES, OPT_DATE, OPT_LIST };

struct opt {
    const char *section, *key;
    enum opt_kind kind;
    const char *def; /* default as text, NULL = unset */
    size_t off;
    int64_t min, max; /* for OPT_INT (units) and OPT_DEC (millionths) */
    const char *help;
};

#define O(f) offsetof(struct agg_config, f)
static const struct opt opts[] = {
    {"aggregator", "listen", OPT_STR, "127.0.0.1:9470", O(listen), 0, 0,
     "host:port to serve HTTP on"},
    {"aggregator", "db_path", OPT_STR, "/var/lib/cadre/db", O(db_path), 0, 0, "RocksDB folder"},
    {"aggregator", "tokens_file", OPT_STR, NULL, O(tokens_file), 0, 0,
     "lines \"agent_id token\" (required)"},
    {"aggregator", "read_tokens_file", OPT_STR, NULL, O(read_tokens_file), 0, 0,
     "bearer tokens for /metrics and /api (off)"},
    {"aggregator", "min_group_size", OPT_INT, "10", O(min_group_size), 5, 1000000,
     "k for suppression (>= 5)"},
    {"aggregator", "as_of", OPT_DATE, NULL, O(as_of), 0, 0,
     "as-of day YYYY-MM-DD (default yesterday)"},
    {"aggregator", "contract_hours_per_week", OPT_DEC, "40", O(contract_hours_micro), 1,
     168 * MICRO, "hours of a 1.0 FTE week"},
    {"aggregator", "literacy_courses", OPT_LIST, "", O(literacy_courses), 0, 0,
     "comma-separated AI-literacy courses (empty = all)"},
    {"aggregator", "max_body_bytes", OPT_BYTES, "16MiB", O(max_body_bytes), 1024, INT64_MAX,
     "largest ingest body, before or after gzip"},
    {"aggregator", "sync_writes", OPT_BOOL, "true", O(sync_writes), 0, 0,
     "fsync the WAL before acking"},
    {"aggregator", "kpi_refresh_interval_s", OPT_INT, "60", O(kpi_refresh_interval_s), 1, 86400,
     "seconds between KPI refreshes"},
    {"aggregator", "burnout_overtime_ratio", OPT_DEC, "0.10", O(burnout_overtime_ratio), 0,
     INT64_MAX, "flag: own overtime ratio above"},
    {"aggregator", "burnout_long_shift_share", OPT_DEC, "0.25", O(burnout_long_shift_share), 0,
     MICRO, "flag: share of shifts >= 12 h at least"},
    {"aggregator", "burnout_short_rests", OPT_INT, "2", O(burnout_short_rests), 0, 1000000,
     "flag: short rests at least"},
    {"aggregator", "burnout_wow8_seconds", OPT_DEC, "3600", O(burnout_wow8_seconds), 0, INT64_MAX,
     "flag: own wow8 above"},
    {"aggregator", "burnout_sickness_ratio", OPT_DEC, "0.05", O(burnout_sickness_ratio), 0,
     INT64_MAX, "flag: own sickness ratio above"},
    {"aggregator", "burnout_min_flags", OPT_INT, "2", O(burnout_min_flags), 1, 5,
     "flags that make a person at risk"},
    {"aggregator", "tls_cert_file", OPT_STR, NULL, O(tls_cert_file), 0, 0,
     "serve HTTPS with this certificate"},
    {"aggregator", "tls_key_file", OPT_STR, NULL, O(tls_key_file), 0, 0,
     "private key of tls_cert_file"},
    {"aggregator", "tls_client_ca_file", OPT_STR, NULL, O(tls_client_ca_file), 0, 0,
     "require client certificates from this CA"},
    {"remote_write", "url", OPT_STR, NULL, O(rw_url), 0, 0, "remote_write endpoint (off)"},
    {"remote_write", "interval_s", OPT_INT, "60", O(rw_interval_s), 1, 86400,
     "seconds between pushes"},
    {"remote_write", "token_file", OPT_STR, NULL, O(rw_token_file), 0, 0,
     "bearer token for the endpoint"},
    {"remote_write", "external_labels", OPT_STR, NULL, O(rw_external_labels), 0, 0,
     "labels added to every series, e.g. region=\"north\""},
};
#undef O

struct parse_ctx {
    struct agg_config *cfg;
    bool seen[sizeof opts / sizeof *opts];
};

static void free_list(char **list)
{
    if (!list)
        return;
    for (char **p = list; *p; p++)
        xfree(*p);
    xfree(list);
}

static int set_value(struct agg_config *cfg, const struct opt *o, const char *v, const char **why)
{
    static __thread char whybuf[96];
    char *base = (char *)cfg + o->off;
    size_t len = strlen(v);
    switch (o->kind) {
    case OPT_STR:
        if (!len && o->def) {
            *why = "must not be empty";
            return -EINVAL;
        }
        xfree(*(char **)base);
        *(char **)base = len ? xstrdup(v) : NULL;
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (end == v || *end || errno || n < o->min || n > o->max) {
            snprintf(whybuf, sizeof whybuf, "must be a whole number from %lld to %lld",
                     (long long)o->min, (long long)o->max);
            *why = whybuf;
            return -EINVAL;
        }
        *(int64_t *)base = n;
        return 0;
    }
    case OPT_DEC: {
        int64_t m;
        if (decimal_parse(v, len, &m) || m < o->min || m > o->max) {
            *why = "must be a decimal number in range";
            return -EINVAL;
        }
        *(int64_t *)base = m;
        return 0;
    }
    case OPT_BOOL:
        if (str_ieq(v, len, "true") || str_ieq(v, len, "yes") || str_ieq(v, len, "on") ||
            strcmp(v, "1") == 0)
            *(bool *)base = true;
        else if (str_ieq(v, len, "false") || str_ieq(v, len, "no") || str_ieq(v, len, "off") ||
                 strcmp(v, "0") == 0)
            *(bool *)base = false;
        else {
            *why = "must be true or false";
            return -EINVAL;
        }
        return 0;
    case OPT_BYTES:
        if (str_parse_size(v, (uint64_t *)base) || *(uint64_t *)base < (uint64_t)o->min) {
            *why = "must be a size such as 16MiB (suffixes KiB, MiB, GiB)";
            return -EINVAL;
        }
        return 0;
    case OPT_DATE:
        if (len == 0) {
            cfg->has_as_of = false;
            return 0;
        }
        if (parse_date(v, len, (int32_t *)base)) {
            *why = "must be a date YYYY-MM-DD";
            return -EINVAL;
        }
        cfg->has_as_of = true;
        return 0;
    case OPT_LIST: {
        free_list(*(char ***)base);
        size_t n = 0, cap = 0;
        char **list = NULL;
        const char *p = v;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            const char *item = p;
            size_t il = l;
            str_trim(&item, &il);
            if (il) {
                xgrow((void **)&list, &cap, n + 2, sizeof *list);
                list[n++] = xstrndup(item, il);
            }
            p += l + (comma ? 1 : 0);
        }
        if (!list)
            list = xcalloc(1, sizeof *list);
        list[n] = NULL;
        *(char ***)base = list;
        if (base == (char *)&cfg->literacy_courses)
            cfg->n_literacy_courses = n;
        return 0;
    }
    }
    return -EINVAL;
}

static int on_kv(void *user, const char *section, const char *name, const char *value, int line,
                 char *err, size_t errlen)
{
    struct parse_ctx *c = user;
    (void)line;
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        if (strcmp(opts[i].section, section) || strcmp(opts[i].key, name))
            continue;
        if (c->seen[i]) {
            snprintf(err, errlen, "key '%s' repeated in [%s]", name, section);
            return -1;
        }
        c->seen[i] = true;
        const char *why = "is invalid";
        if (set_value(c->cfg, &opts[i], value, &why)) {
            snprintf(err, errlen, "%s %s", name, why);
            return -1;
        }
        return 0;
    }
    if (strcmp(section, "aggregator") && strcmp(section, "remote_write"))
        snprintf(err, errlen, "unknown section [%s]", section);
    else
        snprintf(err, errlen, "unknown key '%s' in [%s]", name, section);
    return -1;
}

int agg_config_load(struct agg_config *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        const char *why;
        if (opts[i].def)
            set_value(cfg, &opts[i], opts[i].def, &why);
    }
    struct parse_ctx c = {.cfg = cfg};
    if (inifile_parse(path, on_kv, &c, err, errlen))
        return -EINVAL;
    if (!cfg->tokens_file) {
        snprintf(err, errlen, "%s: [aggregator] tokens_file is required", path);
        return -EINVAL;
    }
    if (!!cfg->tls_cert_file != !!cfg->tls_key_file) {
        snprintf(err, errlen, "%s: tls_cert_file and tls_key_file go together", path);
        return -EINVAL;
    }
    char why[256];
    if (rw_check_labels(cfg->rw_external_labels, why, sizeof why)) {
        snprintf(err, errlen, "%s: [remote_write] %s", path, why);
        return -EINVAL;
    }
    if (cfg->rw_url && *cfg->rw_url && strncmp(cfg->rw_url, "http://", 7) &&
        strncmp(cfg->rw_url, "https://", 8)) {
        snprintf(err, errlen, "%s: [remote_write] url must start with http:// or https://", path);
        return -EINVAL;
    }
    if ((cfg->rw_token_file || cfg->rw_external_labels) && !(cfg->rw_url && *cfg->rw_url)) {
        snprintf(err, errlen, "%s: [remote_write] token_file and external_labels need url", path);
        return -EINVAL;
    }
    return 0;
}

void agg_config_free(struct agg_config *cfg)
{
    char **strs[] = {&cfg->listen,
                     &cfg->db_path,
                     &cfg->tokens_file,
                     &cfg->read_tokens_file,
                     &cfg->tls_cert_file,
                     &cfg->tls_key_file,
                     &cfg->tls_client_ca_file,
                     &cfg->rw_url,
                     &cfg->rw_token_file,
                     &cfg->rw_external_labels};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        xfree(*strs[i]);
        *strs[i] = NULL;
    }
    free_list(cfg->literacy_courses);
    cfg->literacy_courses = NULL;
}

void agg_config_usage(void)
{
    const char *sec = "";
    for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
        if (strcmp(sec, opts[i].section)) {
            sec = opts[i].section;
            printf("  [%s]\n", sec);
        }
        printf("    %-26s %-18s %s\n", opts[i].key, opts[i].def ? opts[i].def : "", opts[i].help);
    }
}

int32_t agg_config_as_of(const struct agg_config *cfg)
{
    return cfg->has_as_of ? cfg->as_of : today_local() - 1;
}
