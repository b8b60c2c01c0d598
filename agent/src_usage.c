/* src_usage.c - usage_jsonl: tails every file of a glob, one usage event per JSON line.
 *
 * A file is known by its fingerprint, the first 8 bytes of the SHA-256 of its first line
 * (without the newline); the checkpoint maps fingerprint -> (byte offset, line number) of
 * the first line not yet consumed. A renamed file keeps its offset; a copy-truncated one
 * starts over (new first line, or shorter than the offset). Only complete lines are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/pseudonym.h"
#include "agent/source.h"
#include "common/decimal.h"
#include "common/jsonline.h"
#include "common/log.h"
#include "common/reckey.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define CKPT_VERSION 1
#define CHUNK (1 << 16)
/* A poll reads at most env->poll_bytes (this by default) of lines, then commits its
 * checkpoint and asks to be called again (poll returns 1): what one poll spools stays
 * under the free space the agent saw before it polled, so a full disk never makes a poll
 * fail half-way and read everything again (docs/agent.md, "A full disk"). */
#define POLL_MAX_BYTES (2u << 20)
#define MAX_LINE (1 << 20) /* longer lines are malformed (and skipped) */

struct tail {
    uint64_t fp;
    uint64_t off;  /* first byte not consumed */
    uint64_t line; /* lines consumed */
    bool skipping; /* off is inside an over-long line, already counted as rejected */
};

/* The checkpoint keeps `skipping` in the top bit of the line count (a file never has 2^63
 * lines), so checkpoints written before the flag existed read the same. */
#define SKIP_BIT (UINT64_C(1) << 63)

struct usage_src {
    char *glob;
    char ckpt_name[128];
    struct tail *t; /* committed positions */
    size_t n;
    struct pseudonym_cache *keys;     /* staff keys of recent ids */
    struct pseudonym_cache *own_keys; /* when the agent shares none (keys is this) */
    char *scratch;                    /* decoded JSON strings of the current line */
    size_t scratch_cap;
};

static const struct opt usage_config[] = {
    {"path", OPT_NONEMPTY, NULL, offsetof(struct source_opts, path), 0, 0, true,
     .help = "JSON Lines file or glob; every match is tailed"},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};

static const char *const outcomes[] = {"accepted", "edited", "rejected"};

/* ---- one line ---- */

enum { F_TS, F_USER, F_TOOL, F_EVENT, F_MINUTES, F_OUTCOME, NFIELDS };
static const char *const field_names[NFIELDS] = {"ts",    "user",    "tool",
                                                 "event", "minutes", "outcome"};

static bool present(const struct jsonline_value *v)
{
    return v->type != JSONLINE_ABSENT && v->type != JSONLINE_NULL;
}

/* A required string member: -1 when it is a non-empty string, else the SRC_* reason. */
static int want_string(const struct jsonline_value *v)
{
    if (!present(v))
        return SRC_MISSING_FIELD;
    if (v->type != JSONLINE_STRING)
        return SRC_INVALID_VALUE;
    return v->len ? -1 : SRC_MISSING_FIELD;
}

/* Copies an optional label member (ASCII or UTF-8 of at most max bytes) into buf (max + 1
 * bytes, NUL-terminated). Returns -1 (buf untouched when absent, null or ""), or
 * SRC_INVALID_VALUE. */
static int copy_label(const struct jsonline_value *v, char *buf, size_t max, bool ident)
{
    if (!present(v))
        return -1;
    if (v->type != JSONLINE_STRING)
        return SRC_INVALID_VALUE;
    if (!v->len)
        return -1;
    if (ident ? !str_is_ident(v->s, v->len) : !str_is_label(v->s, v->len, max))
        return SRC_INVALID_VALUE;
    if (v->len > max)
        return SRC_INVALID_VALUE;
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    return -1;
}

/* Parses one line into a record and emits it. Returns -1 when emitted (or the emit error
 * as a value < -1), or the SRC_* reason with *field set (NULL for malformed). */
static int usage_line(struct usage_src *u, const struct source_env *env, const char *s, size_t len,
                      uint64_t fp, uint64_t off, const char **field, int *emit_rc)
{
    struct jsonline_value f[NFIELDS];
    *field = NULL;
    if (len > u->scratch_cap) {
        xfree(u->scratch);
        u->scratch = xmalloc(len);
        u->scratch_cap = len;
    }
    if (jsonline_scan(s, len, field_names, NFIELDS, f, u->scratch))
        return SRC_MALFORMED;
    Cadre__Usage rec_u;
    cadre__usage__init(&rec_u);
    uint8_t staff[STAFF_KEY_LEN];
    char tool[65], event[65] = "use";
    int64_t ts;
    int32_t day;
    int reason;
    *field = "ts";
    if ((reason = want_string(&f[F_TS])) >= 0)
        return reason;
    if (parse_rfc3339(f[F_TS].s, f[F_TS].len, &ts, &day))
        return SRC_INVALID_VALUE;
    *field = "user";
    if ((reason = want_string(&f[F_USER])) >= 0)
        return reason;
    int rc = pseudonym_cache_key(u->keys, f[F_USER].s, f[F_USER].len, staff);
    if (rc)
        return rc == -ENOENT ? SRC_MISSING_FIELD : SRC_INVALID_VALUE;
    *field = "tool";
    if ((reason = want_string(&f[F_TOOL])) >= 0)
        return reason;
    if ((reason = copy_label(&f[F_TOOL], tool, 64, true)) >= 0)
        return reason;
    *field = "event";
    if ((reason = copy_label(&f[F_EVENT], event, 64, false)) >= 0)
        return reason;
    *field = "minutes";
    if (present(&f[F_MINUTES])) {
        if (f[F_MINUTES].type != JSONLINE_NUMBER ||
            decimal_parse(f[F_MINUTES].s, f[F_MINUTES].len, &rec_u.minutes_micro) ||
            rec_u.minutes_micro < 0)
            return SRC_INVALID_VALUE;
        rec_u.has_minutes_micro = 1;
    }
    *field = "outcome";
    const struct jsonline_value *o = &f[F_OUTCOME];
    if (present(o)) {
        if (o->type != JSONLINE_STRING)
            return SRC_INVALID_VALUE;
        for (int i = 0; o->len && i < 3; i++) {
            if (str_ieq(o->s, o->len, outcomes[i])) {
                rec_u.has_outcome = 1;
                rec_u.outcome = (Cadre__Outcome)(i + 1);
            }
        }
        if (o->len && !rec_u.has_outcome)
            return SRC_INVALID_VALUE;
    }
    *field = NULL;
    rec_u.tool = tool;
    rec_u.event = event;
    rec_u.staff.data = staff;
    rec_u.staff.len = STAFF_KEY_LEN;
    rec_u.ts_us = ts;
    rec_u.day = day;
    uint8_t key[RECKEY_MAX];
    Cadre__Record rec;
    cadre__record__init(&rec);
    rec.type = CADRE__RECORD_TYPE__RECORD_TYPE_USAGE;
    rec.key.data = key;
    rec.key.len = reckey_usage(key, env->name, fp, off);
    rec.body_case = CADRE__RECORD__BODY_USAGE;
    rec.usage = &rec_u;
    *emit_rc = source_emit(env, &rec);
    return -1;
}

/* ---- files ---- */

static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
    for (;;) {
        ssize_t r = pread(fd, buf, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -errno : r;
    }
}

/* The fingerprint of the file's first line. 0, -EAGAIN while the first line is not
 * complete, or -errno. */
static int fingerprint(int fd, uint64_t *fp)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = -EAGAIN;
    for (;;) {
        xgrow((void **)&buf, &cap, len + CHUNK, 1);
        ssize_t r = read_at(fd, buf + len, CHUNK, len);
        if (r < 0) {
            rc = (int)r;
            break;
        }
        if (r == 0)
            break;
        char *nl = memchr(buf + len, '\n', (size_t)r);
        if (nl) {
            *fp = source_hash(buf, (size_t)(nl - buf));
            rc = 0;
            break;
        }
        len += (size_t)r;
        if (len > MAX_LINE) { /* no newline in sight: use what there is */
            *fp = source_hash(buf, MAX_LINE);
            rc = 0;
            break;
        }
    }
    xfree(buf);
    return rc;
}

static bool is_blank(const char *s, size_t n)
{
    str_trim(&s, &n);
    return n == 0;
}

/* Reads the complete lines of fd from t->off on, advancing t. A read error is logged and
 * ends the file for this poll (0). Returns 0, or the error of env->emit (the poll must
 * then not advance any checkpoint). */
static int tail_file(struct usage_src *u, const struct source_env *env, const char *path, int fd,
                     struct tail *t, uint64_t *budget)
{
    char *buf = NULL;
    size_t cap = 0, have = 0; /* bytes in buf, starting at file offset t->off */
    int rc = 0;
    bool skipping = t->skipping; /* inside an over-long line, across polls too */
    for (;;) {
        xgrow((void **)&buf, &cap, have + CHUNK, 1);
        ssize_t r = read_at(fd, buf + have, CHUNK, t->off + have);
        if (r < 0) {
            log_warn("[source %s] reading %s: %s", env->name, path, strerror((int)-r));
            break;
        }
        if (r == 0)
            break;
        have += (size_t)r;
        size_t pos = 0;
        for (;;) {
            char *nl = memchr(buf + pos, '\n', have - pos);
            if (!nl)
                break;
            size_t n = (size_t)(nl - (buf + pos));
            uint64_t line_off = t->off + pos;
            t->line++;
            if (skipping) {
                skipping = false;
            } else if (!is_blank(buf + pos, n)) {
                const char *field;
                int emit_rc = 0;
                int why = usage_line(u, env, buf + pos, n, t->fp, line_off, &field, &emit_rc);
                if (why >= 0)
                    source_reject(env, t->line, why, field);
                if (emit_rc) {
                    rc = emit_rc;
                    t->line--;
                    t->off += pos;
                    goto out;
                }
            }
            pos += n + 1;
        }
        t->off += pos;
        *budget = pos < *budget ? *budget - pos : 0;
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        if (!*budget && !skipping)
            break; /* at a line boundary: the rest next time */
        if (have > MAX_LINE && !skipping) {
            source_reject(env, t->line + 1, SRC_MALFORMED, NULL);
            skipping = true;
        }
        if (skipping) { /* drop the over-long line's bytes as they come */
            t->off += have;
            have = 0;
        }
    }
out:
    t->skipping = skipping;
    xfree(buf);
    return rc;
}

static struct tail *find_tail(struct tail *t, size_t n, uint64_t fp)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].fp == fp)
            return &t[i];
    return NULL;
}

static int save_ckpt(struct usage_src *u, const struct source_env *env)
{
    if (!env->ckpt_dir || env->dry_run)
        return 0;
    struct ckpt_buf b = {0};
    ckpt_put_u64(&b, CKPT_VERSION);
    ckpt_put_u64(&b, u->n);
    for (size_t i = 0; i < u->n; i++) {
        ckpt_put_u64(&b, u->t[i].fp);
        ckpt_put_u64(&b, u->t[i].off);
        ckpt_put_u64(&b, u->t[i].line | (u->t[i].skipping ? SKIP_BIT : 0));
    }
    int rc = ckpt_write(env->ckpt_dir, u->ckpt_name, b.p, b.len, env->fsync);
    ckpt_buf_free(&b);
    if (rc)
        log_error("[source %s] cannot write checkpoint: %s", env->name, strerror(-rc));
    return rc;
}

static void load_ckpt(struct usage_src *u, const struct source_env *env)
{
    if (!env->ckpt_dir)
        return;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ckpt_read(env->ckpt_dir, u->ckpt_name, &data, &len);
    if (rc) {
        if (rc != -ENOENT)
            log_warn("[source %s] checkpoint unreadable (%s); files are read from the start",
                     env->name, strerror(-rc));
        return;
    }
    struct ckpt_in in = {.p = data, .len = len};
    if (ckpt_get_u64(&in) != CKPT_VERSION)
        in.bad = true;
    uint64_t n = ckpt_get_u64(&in);
    if (!in.bad && n <= len / 24) {
        struct tail *t = xcalloc(n ? n : 1, sizeof *t);
        for (uint64_t i = 0; i < n; i++) {
            t[i].fp = ckpt_get_u64(&in);
            t[i].off = ckpt_get_u64(&in);
            uint64_t line = ckpt_get_u64(&in);
            t[i].line = line & ~SKIP_BIT;
            t[i].skipping = (line & SKIP_BIT) != 0;
        }
        if (!in.bad) {
            u->t = t;
            u->n = n;
        } else {
            xfree(t);
        }
    }
    if (!u->t)
        log_warn("[source %s] checkpoint damaged; files are read from the start", env->name);
    xfree(data);
}

static int usage_init(void **ctx, const struct source_opts *o, const struct source_env *env)
{
    if (!o->path)
        return -EINVAL;
    struct usage_src *u = xcalloc(1, sizeof *u);
    u->glob = xstrdup(o->path);
    u->keys = env->keys ? env->keys : (u->own_keys = pseudonym_cache_new(env->pseudo));
    snprintf(u->ckpt_name, sizeof u->ckpt_name, "%s.usage.ckpt", env->name);
    load_ckpt(u, env);
    *ctx = u;
    return 0;
}

static void usage_fini(void *ctx)
{
    struct usage_src *u = ctx;
    if (!u)
        return;
    xfree(u->glob);
    xfree(u->t);
    pseudonym_cache_free(u->own_keys);
    xfree(u->scratch);
    xfree(u);
}

/* The source whose glob() is running in this thread, for on_glob_error(). */
static _Thread_local const struct source_env *glob_env;

/* A folder on the way to the glob's matches cannot be read: count and log it, go on. */
static int on_glob_error(const char *path, int err)
{
    if (glob_env)
        source_skip_file(glob_env, path, SRC_ERR_UNREADABLE, err);
    return 0;
}

static int usage_poll(void *ctx, const struct source_env *env)
{
    struct usage_src *u = ctx;
    glob_t g;
    glob_env = env;
    int grc = glob(u->glob, 0, on_glob_error, &g);
    glob_env = NULL;
    if (grc) {
        if (grc != GLOB_NOMATCH)
            globfree(&g);
        log_debug("[source %s] no file matches %s", env->name, u->glob);
        return 0;
    }
    /* The new positions: one per file seen now (files gone are forgotten). */
    struct tail *next = xcalloc(g.gl_pathc ? g.gl_pathc : 1, sizeof *next);
    size_t nn = 0;
    int rc = 0;
    uint64_t budget = env->poll_bytes ? env->poll_bytes : POLL_MAX_BYTES;
    for (size_t i = 0; i < g.gl_pathc && !rc; i++) {
        const char *path = g.gl_pathv[i];
        /* O_NONBLOCK: a FIFO matched by the glob must not block the poll. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) {
            source_skip_file(env, path, SRC_ERR_UNREADABLE, errno);
            if (fd >= 0)
                close(fd);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            source_skip_file(env, path, SRC_ERR_NOT_A_FILE, 0);
            close(fd);
            continue;
        }
        uint64_t fp;
        int frc = fingerprint(fd, &fp);
        if (frc) {
            if (frc != -EAGAIN)
                log_warn("[source %s] cannot read %s: %s", env->name, path, strerror(-frc));
            close(fd);
            continue;
        }
        if (find_tail(next, nn, fp)) {
            log_debug("[source %s] %s has the first line of another file; skipped", env->name,
                      path);
            close(fd);
            continue;
        }
        struct tail *old = find_tail(u->t, u->n, fp);
        struct tail t = old ? *old : (struct tail){.fp = fp};
        if ((uint64_t)st.st_size < t.off) {
            log_info("[source %s] %s shrank; reading it from the start", env->name, path);
            t.off = t.line = 0;
        }
        if (!budget) { /* keep the position; read next time */
            close(fd);
            next[nn++] = t;
            continue;
        }
        rc = tail_file(u, env, path, fd, &t, &budget);
        close(fd);
        next[nn++] = t;
    }
    globfree(&g);
    if (!rc)
        rc = env->flush(env->ud);
    if (rc) {
        log_error("[source %s] records not spooled (%s); the lines are read again", env->name,
                  strerror(-rc));
        xfree(next);
        return rc;
    }
    xfree(u->t);
    u->t = next;
    u->n = nn;
    rc = save_ckpt(u, env);
    return rc ? rc : budget ? 0 : 1; /* 1: the budget ran out, more may be waiting */
}

const struct source_type source_usage_jsonl = {
    .name = "usage_jsonl",
    .init = usage_init,
    .poll = usage_poll,
    .fini = usage_fini,
    .config = usage_config,
};
