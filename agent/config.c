/* config.c - table-driven [agent] keys, [source NAME] sections checked against the type. */
#include "agent/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pseudonym.h"
#include "common/inifile.h"
#include "common/strutil.h"
#include "common/xalloc.h"

enum opt_kind {
    OPT_STR,
    OPT_IDENT,
    OPT_URL,
    OPT_INT,
    OPT_BYTES,
    OPT_FSYNC,
    OPT_COMPRESS,
    OPT_LISTEN
};

struct opt {
    const char *key;
    enum opt_kind kind;
    const char *def; /* default as text; NULL = unset (required when `required`) */
    size_t off;
    int64_t min, max; /* OPT_INT, OPT_BYTES */
    bool required;
    const char *help;
};

#define O(f) offsetof(struct agent_config, f)
static const struct opt opts[] = {
    {"id", OPT_IDENT, NULL, O(id), 0, 0, true, "agent id, [a-z0-9._-]{1,64}"},
    {"aggregator_url", OPT_URL, NULL, O(aggregator_url), 0, 0, true,
     "http(s)://host:port of the aggregator"},
    {"token_file", OPT_STR, NULL, O(token_file), 0, 0, true, "bearer token on its first line"},
    {"org_key_file", OPT_STR, NULL, O(org_key_file), 0, 0, true, "HMAC key, >= 32 bytes, mode 600"},
    {"state_dir", OPT_STR, NULL, O(state_dir), 0, 0, true, "spool and checkpoints"},
    {"poll_interval_s", OPT_INT, "5", O(poll_interval_s), 1, 86400, false,
     "seconds between polls of the sources"},
    {"batch_max_records", OPT_INT, "5000", O(batch_max_records), 1, 1000000, false,
     "records per batch at most"},
    {"batch_max_wait_ms", OPT_INT, "1000", O(batch_max_wait_ms), 0, 3600000, false,
     "longest a record waits in memory before it is spooled"},
    {"spool_max_bytes", OPT_BYTES, "1GiB", O(spool_max_bytes), 1 << 20, INT64_MAX, false,
     "spool cap (KiB/MiB/GiB); past it the oldest batches are dropped"},
    {"fsync", OPT_FSYNC, "always", O(fsync), 0, 0, false,
     "always: fsync every batch and checkpoint; interval: every fsync_interval_ms; never: "
     "leave it to the OS"},
    {"fsync_interval_ms", OPT_INT, "1000", O(fsync_interval_ms), 10, 60000, false,
     "with fsync = interval, longest time spooled records wait for an fsync"},
    {"compress", OPT_COMPRESS, "gzip", O(gzip), 0, 0, false, "gzip or none (request bodies)"},
    {"retry_max_s", OPT_INT, "30", O(retry_max_s), 1, 86400, false, "backoff cap in seconds"},
    {"metrics_listen", OPT_LISTEN, "off", O(metrics_listen), 0, 0, false,
     "host:port for self-metrics, or off"},
    {"tls_ca_file", OPT_STR, NULL, O(tls_ca_file), 0, 0, false,
     "CA bundle to verify the aggregator"},
    {"tls_cert_file", OPT_STR, NULL, O(tls_cert_file), 0, 0, false, "client certificate"},
    {"tls_key_file", OPT_STR, NULL, O(tls_key_file), 0, 0, false, "key of tls_cert_file"},
    {"heartbeat_s", OPT_INT, "60", O(heartbeat_s), 1, 86400, false,
     "idle seconds between empty heartbeat batches"},
    {"once_timeout_s", OPT_INT, "600", O(once_timeout_s), 1, 7 * 86400, false,
     "--once gives up (exit 75) after this many seconds"},
};
#undef O
#define NOPTS (sizeof opts / sizeof *opts)

/* A key = value of a [source NAME] section, checked once its type is known. */
struct pending_kv {
    size_t src;
    char *key, *value;
    int line;
};

struct parse_ctx {
    struct agent_config *cfg;
    const char *path;
    int seen[NOPTS]; /* line where each [agent] key was set, 0 = not yet */
    struct pending_kv *kv;
    size_t nkv, capkv;
};

static int set_str(char **dst, const char *v)
{
    xfree(*dst);
    *dst = *v ? xstrdup(v) : NULL;
    return 0;
}

/* Sets one [agent] key. Returns 0, or -EINVAL with *why. */
static int set_value(struct agent_config *cfg, const struct opt *o, const char *v, const char **why)
{
    static __thread char whybuf[96];
    char *base = (char *)cfg + o->off;
    size_t len = strlen(v);
    switch (o->kind) {
    case OPT_STR: return set_str((char **)base, v);
    case OPT_IDENT:
        if (!str_is_ident(v, len)) {
            *why = "must be 1 to 64 characters of [a-z0-9._-]";
            return -EINVAL;
        }
        return set_str((char **)base, v);
    case OPT_URL:
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
            *why = "must start with http:// or https://";
            return -EINVAL;
        }
        set_str((char **)base, v);
        for (char *p = *(char **)base; len && p[len - 1] == '/'; len--)
            p[len - 1] = '\0';
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
    case OPT_BYTES: {
        uint64_t b;
        if (str_parse_size(v, &b) || b < (uint64_t)o->min) {
            *why = "must be a size of at least 1MiB (suffixes KiB, MiB, GiB)";
            return -EINVAL;
        }
        *(uint64_t *)base = b;
        return 0;
    }
    case OPT_FSYNC:
        if (strcmp(v, "always") == 0)
            *(enum spool_fsync *)base = SPOOL_FSYNC_ALWAYS;
        else if (strcmp(v, "interval") == 0)
            *(enum spool_fsync *)base = SPOOL_FSYNC_INTERVAL;
        else if (strcmp(v, "never") == 0)
            *(enum spool_fsync *)base = SPOOL_FSYNC_NEVER;
        else {
            *why = "must be always, interval or never";
            return -EINVAL;
        }
        return 0;
    case OPT_COMPRESS:
        if (strcmp(v, "gzip") && strcmp(v, "none")) {
            *why = "must be gzip or none";
            return -EINVAL;
        }
        *(bool *)base = strcmp(v, "gzip") == 0;
        return 0;
    case OPT_LISTEN: {
        if (strcmp(v, "off") == 0 || !*v)
            return set_str((char **)base, "");
        const char *colon = strrchr(v, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon[1] == '\0' || *end || port < 1 || port > 65535) {
            *why = "must be host:port or off";
            return -EINVAL;
        }
        return set_str((char **)base, v);
    }
    }
    return -EINVAL;
}

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
        for (size_t i = 0; i < NOPTS; i++) {
            if (strcmp(opts[i].key, name))
                continue;
            if (c->seen[i]) {
                snprintf(err, errlen, "key '%s' repeated in [agent] (first on line %d)", name,
                         c->seen[i]);
                return -1;
            }
            c->seen[i] = line;
            const char *why = "is invalid";
            if (set_value(cfg, &opts[i], value, &why)) {
                snprintf(err, errlen, "%s %s", name, why);
                return -1;
            }
            return 0;
        }
        snprintf(err, errlen, "unknown key '%s' in [agent]", name);
        return -1;
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

static int set_source_opt(struct source_opts *o, const struct source_opt *so, const char *v)
{
    char *base = (char *)o + so->off;
    if (so->kind == SOPT_STR)
        return set_str((char **)base, v);
    size_t len = strlen(v);
    if (str_ieq(v, len, "true") || str_ieq(v, len, "yes") || str_ieq(v, len, "on") ||
        strcmp(v, "1") == 0)
        *(bool *)base = true;
    else if (str_ieq(v, len, "false") || str_ieq(v, len, "no") || str_ieq(v, len, "off") ||
             strcmp(v, "0") == 0)
        *(bool *)base = false;
    else
        return -EINVAL;
    return 0;
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
        for (const struct source_opt *so = s->type->config; so->key; so++)
            if (so->def)
                set_source_opt(&s->opts, so, so->def);
        for (const struct source_opt *so = s->type->config; so->key; so++) {
            bool given = false;
            for (size_t k = 0; k < c->nkv; k++)
                given |= c->kv[k].src == i && strcmp(c->kv[k].key, so->key) == 0;
            if (!so->def && !given) {
                snprintf(err, errlen, "%s:%d: [source %s] needs %s", c->path, s->line, s->name,
                         so->key);
                return -EINVAL;
            }
        }
    }
    for (size_t k = 0; k < c->nkv; k++) {
        struct pending_kv *kv = &c->kv[k];
        struct agent_source_conf *s = &cfg->sources[kv->src];
        if (strcmp(kv->key, "type") == 0)
            continue;
        const struct source_opt *so = s->type->config;
        while (so->key && strcmp(so->key, kv->key))
            so++;
        if (!so->key) {
            snprintf(err, errlen, "%s:%d: unknown key '%s' in [source %s] (type %s)", c->path,
                     kv->line, kv->key, s->name, s->type->name);
            return -EINVAL;
        }
        if (set_source_opt(&s->opts, so, kv->value)) {
            snprintf(err, errlen, "%s:%d: %s must be true or false", c->path, kv->line, kv->key);
            return -EINVAL;
        }
        if (so->kind == SOPT_STR && !*(char **)((char *)&s->opts + so->off)) {
            snprintf(err, errlen, "%s:%d: %s must not be empty", c->path, kv->line, kv->key);
            return -EINVAL;
        }
    }
    return 0;
}

int agent_config_load(struct agent_config *cfg, const char *path, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTS; i++) {
        const char *why;
        if (opts[i].def)
            set_value(cfg, &opts[i], opts[i].def, &why);
    }
    struct parse_ctx c = {.cfg = cfg, .path = path};
    int rc = -EINVAL;
    if (inifile_parse(path, on_kv, &c, err, errlen))
        goto out;
    if ((rc = finish_sources(&c, err, errlen)))
        goto out;
    rc = -EINVAL;
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].required && !*(char **)((char *)cfg + opts[i].off)) {
            snprintf(err, errlen, "%s: [agent] %s is required", path, opts[i].key);
            goto out;
        }
    }
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
    char **strs[] = {&cfg->id,           &cfg->aggregator_url, &cfg->token_file,
                     &cfg->org_key_file, &cfg->state_dir,      &cfg->metrics_listen,
                     &cfg->tls_ca_file,  &cfg->tls_cert_file,  &cfg->tls_key_file};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        xfree(*strs[i]);
        *strs[i] = NULL;
    }
    for (size_t i = 0; i < cfg->nsources; i++) {
        xfree(cfg->sources[i].name);
        xfree(cfg->sources[i].opts.path);
    }
    xfree(cfg->sources);
    cfg->sources = NULL;
    cfg->nsources = 0;
}

int agent_read_token(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int rc = -errno;
        snprintf(err, errlen, "token_file %s: cannot open: %s", path, strerror(errno));
        return rc;
    }
    char line[4096];
    const char *s = fgets(line, sizeof line, f) ? line : "";
    fclose(f);
    size_t n = strlen(s);
    str_trim(&s, &n);
    if (!n) {
        snprintf(err, errlen, "token_file %s: first line is empty", path);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E) {
            snprintf(err, errlen,
                     "token_file %s: token holds a character not allowed in a "
                     "header",
                     path);
            return -EINVAL;
        }
    }
    *out = xstrndup(s, n);
    return 0;
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
    return 0;
}

void agent_config_usage(FILE *f)
{
    fprintf(f, "  [agent]\n");
    for (size_t i = 0; i < NOPTS; i++)
        fprintf(f, "    %-20s %-10s %s%s\n", opts[i].key, opts[i].def ? opts[i].def : "",
                opts[i].help, opts[i].required ? " (required)" : "");
    fprintf(f, "  [source NAME]            NAME is [a-z0-9._-]{1,64}\n");
    fprintf(f, "    %-20s %-10s one of:", "type", "");
    for (size_t t = 0; source_types[t]; t++)
        fprintf(f, " %s", source_types[t]->name);
    fprintf(f, "\n");
    for (size_t t = 0; source_types[t]; t++) {
        fprintf(f, "   type = %s:\n", source_types[t]->name);
        for (const struct source_opt *so = source_types[t]->config; so->key; so++)
            fprintf(f, "    %-20s %-10s %s%s\n", so->key, so->def ? so->def : "", so->help,
                    so->def ? "" : " (required)");
    }
}
