/* config.c - table-driven [agent] keys, [source NAME] sections checked against the type. */
#include "agent/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/csvmap.h"
#include "agent/pseudonym.h"
#include "common/inifile.h"
#include "common/log.h"
#include "common/opttab.h"
#include "common/strutil.h"
#include "common/tokfile.h"
#include "common/xalloc.h"

_Static_assert(sizeof(enum spool_fsync) == sizeof(int), "OPT_CHOICE stores an int");

static const struct opt_choice fsync_choices[] = {
    {"always", SPOOL_FSYNC_ALWAYS},
    {"interval", SPOOL_FSYNC_INTERVAL},
    {"never", SPOOL_FSYNC_NEVER},
    {NULL, 0},
};
static const struct opt_choice compress_choices[] = {{"gzip", 1}, {"none", 0}, {NULL, 0}};
static const struct opt_choice log_format_choices[] = {
    {"text", LOG_TEXT}, {"logfmt", LOG_LOGFMT}, {NULL, 0}};

#define O(f) offsetof(struct agent_config, f)
static const struct opt agent_rows[] = {
    {"id", OPT_IDENT, NULL, O(id), 0, 0, true, .help = "agent id, [a-z0-9._-]{1,64}"},
    {"aggregator_url", OPT_URL, NULL, O(aggregator_url), 0, 0, true,
     .help = "http(s)://host:port of the aggregator"},
    {"token_file", OPT_STR, NULL, O(token_file), 0, 0, true,
     .help = "bearer token on its first line"},
    {"org_key_file", OPT_STR, NULL, O(org_key_file), 0, 0, true,
     .help = "HMAC key, >= 32 bytes, mode 600"},
    {"state_dir", OPT_STR, NULL, O(state_dir), 0, 0, true, .help = "spool and checkpoints"},
    {"poll_interval_s", OPT_INT, "5", O(poll_interval_s), 1, 86400, false,
     .help = "seconds between polls of the sources"},
    {"batch_max_records", OPT_INT, "5000", O(batch_max_records), 1, 1000000, false,
     .help = "records per batch at most"},
    {"batch_max_wait_ms", OPT_INT, "1000", O(batch_max_wait_ms), 0, 3600000, false,
     .help = "longest a record waits in memory before it is spooled"},
    {"spool_max_bytes", OPT_BYTES, "1GiB", O(spool_max_bytes), 1 << 20, INT64_MAX, false,
     .help = "spool cap (KiB/MiB/GiB); past it the oldest batches are dropped",
     .why = "must be a size of at least 1MiB (suffixes KiB, MiB, GiB)"},
    {"rejected_max_bytes", OPT_BYTES, "64MiB", O(rejected_max_bytes), 0, INT64_MAX, false,
     .help = "cap of state_dir/rejected/ (KiB/MiB/GiB); past it the oldest are removed",
     .why = "must be a size such as 64MiB (suffixes KiB, MiB, GiB)"},
    {"fsync", OPT_CHOICE, "always", O(fsync), 0, 0, false,
     .help = "always: fsync every batch and checkpoint; interval: every fsync_interval_ms; "
             "never: leave it to the OS",
     .choices = fsync_choices},
    {"fsync_interval_ms", OPT_INT, "1000", O(fsync_interval_ms), 10, 60000, false,
     .help = "with fsync = interval, longest time spooled records wait for an fsync"},
    {"compress", OPT_CHOICE, "gzip", O(gzip), 0, 0, false, .help = "gzip or none (request bodies)",
     .choices = compress_choices},
    {"retry_max_s", OPT_INT, "30", O(retry_max_s), 1, 86400, false,
     .help = "backoff cap in seconds"},
    {"metrics_listen", OPT_LISTEN, "off", O(metrics_listen), 0, 0, false,
     .help = "host:port for self-metrics, or off"},
    {"tls_ca_file", OPT_STR, NULL, O(tls_ca_file), 0, 0, false,
     .help = "CA bundle to verify the aggregator"},
    {"tls_cert_file", OPT_STR, NULL, O(tls_cert_file), 0, 0, false, .help = "client certificate"},
    {"tls_key_file", OPT_STR, NULL, O(tls_key_file), 0, 0, false, .help = "key of tls_cert_file"},
    {"heartbeat_s", OPT_INT, "60", O(heartbeat_s), 1, 86400, false,
     .help = "idle seconds between empty heartbeat batches"},
    {"once_timeout_s", OPT_INT, "600", O(once_timeout_s), 1, 7 * 86400, false,
     .help = "--once gives up (exit 75) after this many seconds"},
    {"log_format", OPT_CHOICE, "text", O(log_format), 0, 0, false,
     .help = "text, or logfmt (key=value lines for Fluent Bit, Loki)",
     .choices = log_format_choices},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};
#undef O

const struct opttab agent_config_table = {
    .section = "agent", .rows = agent_rows, .repeat_cites_first = true};

/* A key = value of a [source NAME] section, checked once its type is known. */
struct pending_kv {
    size_t src;
    char *key, *value;
    int line;
};

struct parse_ctx {
    struct agent_config *cfg;
    const char *path;
    struct opttab_seen seen; /* [agent] keys */
    struct pending_kv *kv;
    size_t nkv, capkv;
};

static struct agent_source_conf *find_source(struct agent_config *cfg, const char *name,
                                             size_t *idx)
{
    for (size_t i = 0; i < cfg->nsources; i++) {
        if (strcmp(cfg->sources[i].name, name) == 0) {
            *idx = i;
            return &cfg->sources[i];
        }
    }
    return NULL;
}

static int on_kv(void *user, const char *section, const char *name, const char *value, int line,
                 char *err, size_t errlen)
{
    struct parse_ctx *c = user;
    struct agent_config *cfg = c->cfg;
    if (strcmp(section, "agent") == 0) {
        int rc = opttab_set(&agent_config_table, cfg, &c->seen, name, value, line, err, errlen);
        return rc ? -1 : 0;
    }
    if (strncmp(section, "source ", 7) != 0) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    const char *sname = section + 7;
    if (!str_is_ident(sname, strlen(sname))) {
        snprintf(err, errlen, "source name '%s' must be 1 to 64 characters of [a-z0-9._-]", sname);
        return -1;
    }
    size_t si;
    struct agent_source_conf *s = find_source(cfg, sname, &si);
    if (!s) {
        size_t cap = cfg->nsources; /* the array is grown one by one */
        xgrow((void **)&cfg->sources, &cap, cfg->nsources + 1, sizeof *cfg->sources);
        si = cfg->nsources++;
        s = &cfg->sources[si];
        memset(s, 0, sizeof *s);
        s->name = xstrdup(sname);
        s->line = line;
    }
    for (size_t k = 0; k < c->nkv; k++) {
        if (c->kv[k].src == si && strcmp(c->kv[k].key, name) == 0) {
            snprintf(err, errlen, "key '%s' repeated in [source %s] (first on line %d)", name,
                     sname, c->kv[k].line);
            return -1;
        }
    }
    if (strcmp(name, "type") == 0) {
        if (!(s->type = source_type_find(value))) {
            snprintf(err, errlen, "unknown source type '%s'", value);
            return -1;
        }
    }
    xgrow((void **)&c->kv, &c->capkv, c->nkv + 1, sizeof *c->kv);
    c->kv[c->nkv++] =
        (struct pending_kv){.src = si, .key = xstrdup(name), .value = xstrdup(value), .line = line};
    return 0;
}

/* Builds the vendor export mapping of each CSV source from its mapping keys. */
static int build_maps(struct parse_ctx *c, char *err, size_t errlen)
{
    struct agent_config *cfg = c->cfg;
    struct csvmap_kv *kv = xcalloc(c->nkv ? c->nkv : 1, sizeof *kv);
    int rc = 0;
    for (size_t i = 0; i < cfg->nsources && !rc; i++) {
        struct agent_source_conf *s = &cfg->sources[i];
        if (!s->type->csv)
            continue;
        size_t n = 0;
        for (size_t k = 0; k < c->nkv; k++)
            if (c->kv[k].src == i)
                kv[n++] = (struct csvmap_kv){c->kv[k].key, c->kv[k].value, c->kv[k].line};
        rc = csvmap_build(s->type->csv, s->type->name, s->name, kv, n, c->path, &s->opts.map, err,
                          errlen);
    }
    xfree(kv);
    return rc;
}

/* Applies the pending [source] keys against each source's type table. */
static int finish_sources(struct parse_ctx *c, char *err, size_t errlen)
{
    struct agent_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->nsources; i++) {
        struct agent_source_conf *s = &cfg->sources[i];
        if (!s->type) {
            snprintf(err, errlen, "%s:%d: [source %s] needs a type (one of", c->path, s->line,
                     s->name);
            for (size_t t = 0; source_types[t]; t++)
                snprintf(err + strlen(err), errlen - strlen(err), " %s", source_types[t]->name);
            snprintf(err + strlen(err), errlen - strlen(err), ")");
            return -EINVAL;
        }
        opttab_defaults(s->type->config, &s->opts);
        for (const struct opt *so = s->type->config; so->key; so++) {
            bool given = false;
            for (size_t k = 0; k < c->nkv; k++)
                given |= c->kv[k].src == i && strcmp(c->kv[k].key, so->key) == 0;
            if (so->required && !given) {
                snprintf(err, errlen, "%s:%d: [source %s] needs %s", c->path, s->line, s->name,
                         so->key);
                return -EINVAL;
            }
        }
    }
    for (size_t k = 0; k < c->nkv; k++) {
        struct pending_kv *kv = &c->kv[k];
        struct agent_source_conf *s = &cfg->sources[kv->src];
        if (strcmp(kv->key, "type") == 0 || (s->type->csv && csvmap_is_key(kv->key)))
            continue;
        const struct opt *so = opttab_find(s->type->config, kv->key);
        if (!so) {
            snprintf(err, errlen, "%s:%d: unknown key '%s' in [source %s] (type %s)", c->path,
                     kv->line, kv->key, s->name, s->type->name);
            return -EINVAL;
        }
        char why[256];
        if (opttab_set_value(so, &s->opts, kv->value, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s", c->path, kv->line, why);
            return -EINVAL;
        }
    }
    return build_maps(c, err, errlen);
}

int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    opttab_defaults(agent_rows, cfg);
    struct parse_ctx c = {.cfg = cfg, .path = path};
    int rc = -EINVAL;
    if (inifile_parse(path, on_kv, &c, err, errlen))
        goto out;
    if ((rc = finish_sources(&c, err, errlen)))
        goto out;
    if ((rc = opttab_check_required(&agent_config_table, cfg, path, err, errlen)))
        goto out;
    rc = -EINVAL;
    if (!!cfg->tls_cert_file != !!cfg->tls_key_file) {
        snprintf(err, errlen, "%s: tls_cert_file and tls_key_file go together", path);
        goto out;
    }
    rc = 0;
out:
    for (size_t k = 0; k < c.nkv; k++) {
        xfree(c.kv[k].key);
        xfree(c.kv[k].value);
    }
    xfree(c.kv);
    if (rc)
        agent_config_free(cfg);
    return rc;
}

void agent_config_free(struct agent_config *cfg)
{
    opttab_free(agent_rows, cfg);
    for (size_t i = 0; i < cfg->nsources; i++) {
        xfree(cfg->sources[i].name);
        if (cfg->sources[i].type)
            opttab_free(cfg->sources[i].type->config, &cfg->sources[i].opts);
        csvmap_free(cfg->sources[i].opts.map);
    }
    xfree(cfg->sources);
    cfg->sources = NULL;
    cfg->nsources = 0;
}

int agent_read_token(const char *path, char **out, char *err, size_t errlen)
{
    int rc = tokfile_read_token(path, out);
    switch (rc) {
    case 0: return 0;
    case -EIO: snprintf(err, errlen, "token_file %s: read error", path); return rc;
    case -E2BIG:
        snprintf(err, errlen, "token_file %s: first line is longer than %d bytes", path,
                 TOKFILE_MAX_LINE);
        return -EINVAL;
    case -ENODATA:
        snprintf(err, errlen, "token_file %s: first line is empty", path);
        return -EINVAL;
    case -EILSEQ:
        snprintf(err, errlen,
                 "token_file %s: token holds a character not allowed in a "
                 "header",
                 path);
        return -EINVAL;
    default:
        snprintf(err, errlen, "token_file %s: cannot open: %s", path, strerror(-rc));
        return rc;
    }
}

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s %s: cannot open: %s", what, path, strerror(errno));
        return -EINVAL;
    }
    close(fd);
    return 0;
}

int agent_config_check_files(const struct agent_config *cfg, char *err, size_t errlen)
{
    struct pseudonym *p = NULL;
    if (pseudonym_load(&p, cfg->org_key_file, err, errlen))
        return -EINVAL;
    pseudonym_free(p);
    char *tok = NULL;
    if (agent_read_token(cfg->token_file, &tok, err, errlen))
        return -EINVAL;
    xfree(tok);
    if ((cfg->tls_ca_file && check_readable("tls_ca_file", cfg->tls_ca_file, err, errlen)) ||
        (cfg->tls_cert_file && check_readable("tls_cert_file", cfg->tls_cert_file, err, errlen)) ||
        (cfg->tls_key_file && check_readable("tls_key_file", cfg->tls_key_file, err, errlen)))
        return -EINVAL;
    for (size_t i = 0; i < cfg->nsources; i++) {
        const struct agent_source_conf *s = &cfg->sources[i];
        char why[512];
        if (s->type->check && s->type->check(&s->opts, why, sizeof why)) {
            snprintf(err, errlen, "[source %s] %s", s->name, why);
            return -EINVAL;
        }
    }
    return 0;
}

void agent_config_usage(FILE *f)
{
    opttab_print_help(f, &agent_config_table);
    fprintf(f, "  [source NAME]                NAME is [a-z0-9._-]{1,64}\n");
    fprintf(f, "    %-26s %-18s one of:", "type", "");
    for (size_t t = 0; source_types[t]; t++)
        fprintf(f, " %s", source_types[t]->name);
    fprintf(f, "\n");
    for (size_t t = 0; source_types[t]; t++) {
        fprintf(f, "   type = %s:\n", source_types[t]->name);
        opttab_print_rows(f, source_types[t]->config);
    }
    csvmap_usage(f);
}
