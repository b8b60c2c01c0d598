/* src_csv.c - CSV snapshot reading, row checks, diffing against the shipped checkpoint. */
#include "agent/src_csv.h"

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
#include "common/csvread.h"
#include "common/decimal.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define CKPT_VERSION 1

const struct opt src_csv_config[] = {
    {"path", OPT_NONEMPTY, NULL, offsetof(struct source_opts, path), 0, 0, true,
     .help = "CSV file or glob; the newest match by mtime is the snapshot"},
    {"authoritative", OPT_BOOL, "false", offsetof(struct source_opts, authoritative), 0, 0, false,
     .help = "ship tombstones for keys missing from a newer snapshot"},
    {NULL, 0, NULL, 0, 0, 0, false, .help = NULL},
};

/* Identity of a snapshot file: it is read again when any of this changes. */
struct snapid {
    char *path;
    uint64_t dev, ino, size, mtime_s, mtime_ns;
};

/* Key -> hash of the packed record last shipped for it. */
struct kv {
    uint8_t *key;
    size_t klen;
    uint64_t hash;
};

struct csv_src {
    const struct csv_type *t;
    char *path;
    bool authoritative;
    char ckpt_name[128];
    struct snapid snap; /* the snapshot shipped last (path NULL: none) */
    struct kv *map;     /* sorted by key */
    size_t nmap;
};

/* One good row of the snapshot being read. */
struct row {
    uint8_t *key;
    size_t klen;
    uint8_t *rec;
    size_t rlen;
    size_t ord; /* position in the file: the later row of one key wins */
};

struct reading {
    struct csv_src *c;
    const struct source_env *env;
    int idx[CSV_MAX_COLS];
    bool header;
    struct row *rows;
    size_t nrows, caprows;
};

/* ---- field helpers ---- */

bool csvf_fail(struct csv_fields *f, int col, int reason)
{
    f->reason = reason;
    f->bad = f->cols[col].name;
    return false;
}

/* True when the field has a value; otherwise handles absence per present. */
static bool get(struct csv_fields *f, int col, bool *present, bool *ok)
{
    *ok = true;
    if (f->s[col] && f->len[col]) {
        if (present)
            *present = true;
        return true;
    }
    if (present)
        *present = false;
    else
        *ok = csvf_fail(f, col, SRC_MISSING_FIELD);
    return false;
}

bool csvf_staff(struct csv_fields *f, int col, const struct pseudonym *p, uint8_t out[16])
{
    bool ok;
    if (!get(f, col, NULL, &ok))
        return ok;
    int rc = pseudonym_staff_key(p, f->s[col], f->len[col], out);
    if (rc == -ENOENT)
        return csvf_fail(f, col, SRC_MISSING_FIELD);
    return rc ? csvf_fail(f, col, SRC_INVALID_VALUE) : true;
}

bool csvf_date(struct csv_fields *f, int col, bool *present, int32_t *day)
{
    bool ok;
    if (!get(f, col, present, &ok))
        return ok;
    return parse_date(f->s[col], f->len[col], day) ? csvf_fail(f, col, SRC_INVALID_VALUE) : true;
}

bool csvf_instant(struct csv_fields *f, int col, int64_t *us, int32_t *day)
{
    bool ok;
    if (!get(f, col, NULL, &ok))
        return ok;
    return parse_rfc3339(f->s[col], f->len[col], us, day) ? csvf_fail(f, col, SRC_INVALID_VALUE)
                                                          : true;
}

bool csvf_decimal(struct csv_fields *f, int col, bool *present, int64_t *v, int64_t min,
                  bool min_open, int64_t max)
{
    bool ok;
    if (!get(f, col, present, &ok))
        return ok;
    int64_t x;
    if (decimal_parse(f->s[col], f->len[col], &x) || x < min || (min_open && x == min) || x > max)
        return csvf_fail(f, col, SRC_INVALID_VALUE);
    *v = x;
    return true;
}

bool csvf_enum(struct csv_fields *f, int col, bool *present, const char *const *names, int n,
               int *val)
{
    bool ok;
    *val = 0;
    if (!get(f, col, present, &ok))
        return ok;
    for (int i = 0; i < n; i++) {
        if (str_ieq(f->s[col], f->len[col], names[i])) {
            *val = i + 1;
            return true;
        }
    }
    return csvf_fail(f, col, SRC_INVALID_VALUE);
}

bool csvf_label(struct csv_fields *f, int col, bool *present, size_t max, const char **s)
{
    bool ok;
    if (!get(f, col, present, &ok))
        return ok;
    if (!str_is_label(f->s[col], f->len[col], max))
        return csvf_fail(f, col, SRC_INVALID_VALUE);
    *s = f->s[col];
    return true;
}

void csv_out_key(struct csv_out *out, size_t len)
{
    out->rec.key.data = out->key;
    out->rec.key.len = len;
}

/* ---- reading a snapshot ---- */

static int on_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct reading *r = ud;
    const struct csv_type *t = r->c->t;
    if (ev == CSV_EV_HEADER) {
        const char *names[CSV_MAX_COLS];
        for (size_t i = 0; i < t->ncols; i++)
            names[i] = t->cols[i].name;
        csv_header_map(row, names, t->ncols, r->idx);
        r->header = true;
        for (size_t i = 0; i < t->ncols; i++)
            if (r->idx[i] < 0)
                log_debug("[source %s] header has no column %s", r->env->name, names[i]);
        return 0;
    }
    if (ev == CSV_EV_MALFORMED) {
        source_reject(r->env, row->line, SRC_MALFORMED, NULL);
        return 0;
    }
    struct csv_fields f = {.cols = t->cols};
    for (size_t i = 0; i < t->ncols; i++) {
        if (r->idx[i] >= 0) {
            f.s[i] = row->field[r->idx[i]];
            f.len[i] = row->len[r->idx[i]];
        }
    }
    struct csv_out out;
    memset(&out, 0, sizeof out);
    cadre__record__init(&out.rec);
    if (!t->build(&f, r->env->pseudo, &out)) {
        source_reject(r->env, row->line, f.reason, f.bad);
        return 0;
    }
    out.rec.type = (Cadre__RecordType)t->rec_type;
    size_t n = cadre__record__get_packed_size(&out.rec);
    xgrow((void **)&r->rows, &r->caprows, r->nrows + 1, sizeof *r->rows);
    struct row *w = &r->rows[r->nrows];
    w->rec = xmalloc(n);
    w->rlen = cadre__record__pack(&out.rec, w->rec);
    w->key = xmemdup(out.rec.key.data, out.rec.key.len);
    w->klen = out.rec.key.len;
    w->ord = r->nrows++;
    return 0;
}

static int cmp_key(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int cmp_row(const void *x, const void *y)
{
    const struct row *a = x, *b = y;
    int c = cmp_key(a->key, a->klen, b->key, b->klen);
    return c ? c : (a->ord > b->ord) - (a->ord < b->ord);
}

static void free_rows(struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xfree(rows[i].key);
        xfree(rows[i].rec);
    }
    xfree(rows);
}

static void free_map(struct kv *map, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xfree(map[i].key);
    xfree(map);
}

/* Reads the file at path into r (good rows, rejections counted). 0 or -errno. */
static int read_snapshot(struct reading *r, const char *path, struct snapid *id)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st)) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    *id = (struct snapid){.dev = st.st_dev,
                          .ino = st.st_ino,
                          .size = (uint64_t)st.st_size,
                          .mtime_s = (uint64_t)st.st_mtim.tv_sec,
                          .mtime_ns = (uint64_t)st.st_mtim.tv_nsec};
    struct csvread *cr = csvread_new(on_row, r);
    char *buf = xmalloc(1 << 16);
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, 1 << 16);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) {
            csvread_finish(cr);
            break;
        }
        csvread_feed(cr, buf, (size_t)n);
    }
    xfree(buf);
    csvread_free(cr);
    close(fd);
    return rc;
}

/* The newest file (by mtime, then name) matching the glob into *out (caller frees).
 * Returns 0, or -ENOENT when nothing matches. */
static int newest_match(const struct source_env *env, const char *pattern, char **out)
{
    glob_t g;
    int grc = glob(pattern, GLOB_NOSORT, NULL, &g);
    if (grc) {
        if (grc != GLOB_NOMATCH)
            globfree(&g);
        return -ENOENT;
    }
    const char *best = NULL;
    struct timespec bt = {0, 0};
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st)) {
            source_skip_file(env, g.gl_pathv[i], SRC_ERR_UNREADABLE, errno);
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            source_skip_file(env, g.gl_pathv[i], SRC_ERR_NOT_A_FILE, 0);
            continue;
        }
        struct timespec t = st.st_mtim;
        if (!best || t.tv_sec > bt.tv_sec || (t.tv_sec == bt.tv_sec && t.tv_nsec > bt.tv_nsec) ||
            (t.tv_sec == bt.tv_sec && t.tv_nsec == bt.tv_nsec && strcmp(g.gl_pathv[i], best) > 0)) {
            best = g.gl_pathv[i];
            bt = t;
        }
    }
    int rc = best ? 0 : -ENOENT;
    if (best)
        *out = xstrdup(best);
    globfree(&g);
    return rc;
}

static bool same_snap(const struct snapid *a, const char *path, const struct stat *st)
{
    return a->path && strcmp(a->path, path) == 0 && a->dev == (uint64_t)st->st_dev &&
           a->ino == (uint64_t)st->st_ino && a->size == (uint64_t)st->st_size &&
           a->mtime_s == (uint64_t)st->st_mtim.tv_sec &&
           a->mtime_ns == (uint64_t)st->st_mtim.tv_nsec;
}

static int save_ckpt(struct csv_src *c, const struct source_env *env)
{
    if (!env->ckpt_dir || env->dry_run)
        return 0;
    struct ckpt_buf b = {0};
    ckpt_put_u64(&b, CKPT_VERSION);
    ckpt_put_bytes(&b, c->snap.path, c->snap.path ? strlen(c->snap.path) : 0);
    ckpt_put_u64(&b, c->snap.dev);
    ckpt_put_u64(&b, c->snap.ino);
    ckpt_put_u64(&b, c->snap.size);
    ckpt_put_u64(&b, c->snap.mtime_s);
    ckpt_put_u64(&b, c->snap.mtime_ns);
    ckpt_put_u64(&b, c->nmap);
    for (size_t i = 0; i < c->nmap; i++) {
        ckpt_put_bytes(&b, c->map[i].key, c->map[i].klen);
        ckpt_put_u64(&b, c->map[i].hash);
    }
    int rc = ckpt_write(env->ckpt_dir, c->ckpt_name, b.p, b.len, env->fsync);
    ckpt_buf_free(&b);
    if (rc)
        log_error("[source %s] cannot write checkpoint: %s", env->name, strerror(-rc));
    return rc;
}

static void load_ckpt(struct csv_src *c, const struct source_env *env)
{
    if (!env->ckpt_dir)
        return;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = ckpt_read(env->ckpt_dir, c->ckpt_name, &data, &len);
    if (rc) {
        if (rc != -ENOENT)
            log_warn("[source %s] checkpoint unreadable (%s); the snapshot is shipped again",
                     env->name, strerror(-rc));
        return;
    }
    struct ckpt_in in = {.p = data, .len = len};
    const uint8_t *p;
    struct kv *map = NULL;
    size_t n = 0, cap = 0;
    if (ckpt_get_u64(&in) != CKPT_VERSION)
        in.bad = true;
    size_t pl = ckpt_get_bytes(&in, &p);
    struct snapid id = {0};
    id.dev = ckpt_get_u64(&in);
    id.ino = ckpt_get_u64(&in);
    id.size = ckpt_get_u64(&in);
    id.mtime_s = ckpt_get_u64(&in);
    id.mtime_ns = ckpt_get_u64(&in);
    uint64_t count = ckpt_get_u64(&in);
    for (uint64_t i = 0; i < count && !in.bad; i++) {
        const uint8_t *k;
        size_t kl = ckpt_get_bytes(&in, &k);
        uint64_t h = ckpt_get_u64(&in);
        if (in.bad || kl == 0 || kl > RECKEY_MAX)
            break;
        xgrow((void **)&map, &cap, n + 1, sizeof *map);
        map[n++] = (struct kv){.key = xmemdup(k, kl), .klen = kl, .hash = h};
    }
    if (in.bad || n != count) {
        log_warn("[source %s] checkpoint damaged; the snapshot is shipped again", env->name);
        free_map(map, n);
    } else {
        if (pl)
            id.path = xstrndup((const char *)p, pl);
        c->snap = id;
        c->map = map;
        c->nmap = n;
    }
    xfree(data);
}

int src_csv_init(void **ctx, const struct csv_type *t, const struct source_opts *opts,
                 const struct source_env *env)
{
    if (t->ncols > CSV_MAX_COLS || !opts->path)
        return -EINVAL;
    struct csv_src *c = xcalloc(1, sizeof *c);
    c->t = t;
    c->path = xstrdup(opts->path);
    c->authoritative = opts->authoritative;
    snprintf(c->ckpt_name, sizeof c->ckpt_name, "%s.%s.ckpt", env->name,
             rec_type_name(t->rec_type));
    load_ckpt(c, env);
    *ctx = c;
    return 0;
}

void src_csv_fini(void *ctx)
{
    struct csv_src *c = ctx;
    if (!c)
        return;
    xfree(c->path);
    xfree(c->snap.path);
    free_map(c->map, c->nmap);
    xfree(c);
}

static int emit_tombstone(const struct source_env *env, int type, const struct kv *k)
{
    Cadre__Record rec;
    cadre__record__init(&rec);
    rec.type = (Cadre__RecordType)type;
    rec.key.data = k->key;
    rec.key.len = k->klen;
    return source_emit(env, &rec);
}

int src_csv_poll(void *ctx, const struct source_env *env)
{
    struct csv_src *c = ctx;
    char *path = NULL;
    if (newest_match(env, c->path, &path)) {
        log_debug("[source %s] no file matches %s", env->name, c->path);
        return 0;
    }
    struct stat st;
    if (stat(path, &st) || same_snap(&c->snap, path, &st)) {
        xfree(path);
        return 0;
    }
    struct reading r = {.c = c, .env = env};
    struct snapid id = {0};
    int rc = read_snapshot(&r, path, &id);
    if (rc) {
        source_skip_file(env, path, SRC_ERR_UNREADABLE, -rc);
        goto out;
    }
    /* Keep the later row of each key. */
    if (r.nrows)
        qsort(r.rows, r.nrows, sizeof *r.rows, cmp_row);
    size_t m = 0;
    for (size_t i = 0; i < r.nrows; i++) {
        if (i + 1 < r.nrows &&
            cmp_key(r.rows[i].key, r.rows[i].klen, r.rows[i + 1].key, r.rows[i + 1].klen) == 0) {
            xfree(r.rows[i].key);
            xfree(r.rows[i].rec);
            continue;
        }
        r.rows[m++] = r.rows[i];
    }
    r.nrows = m;
    /* Merge the sorted rows with the sorted map: ship what is new or changed. */
    struct kv *nmap = NULL;
    size_t nn = 0, cap = 0;
    size_t i = 0, j = 0;
    size_t shipped = 0, deleted = 0;
    while (i < r.nrows || j < c->nmap) {
        int cmp = i == r.nrows ? 1
                  : j == c->nmap
                      ? -1
                      : cmp_key(r.rows[i].key, r.rows[i].klen, c->map[j].key, c->map[j].klen);
        xgrow((void **)&nmap, &cap, nn + 1, sizeof *nmap);
        if (cmp > 0) { /* shipped before, missing now */
            if (c->authoritative) {
                if ((rc = emit_tombstone(env, c->t->rec_type, &c->map[j])))
                    break;
                deleted++;
            } else {
                nmap[nn++] = (struct kv){.key = xmemdup(c->map[j].key, c->map[j].klen),
                                         .klen = c->map[j].klen,
                                         .hash = c->map[j].hash};
            }
            j++;
            continue;
        }
        struct row *w = &r.rows[i];
        uint64_t h = source_hash(w->rec, w->rlen);
        if (cmp < 0 || c->map[j].hash != h) {
            if ((rc = env->emit(env->ud, w->rec, w->rlen)))
                break;
            if (env->stats)
                atomic_fetch_add(&env->stats->records, 1);
            shipped++;
        }
        nmap[nn++] = (struct kv){.key = w->key, .klen = w->klen, .hash = h};
        w->key = NULL;
        i++;
        if (cmp == 0)
            j++;
    }
    if (!rc)
        rc = env->flush(env->ud);
    if (rc) {
        log_error("[source %s] records not spooled (%s); the snapshot is read again", env->name,
                  strerror(-rc));
        free_map(nmap, nn);
        goto out;
    }
    log_info("[source %s] snapshot %s: %zu rows, %zu changed, %zu deleted", env->name, path,
             r.nrows, shipped, deleted);
    free_map(c->map, c->nmap);
    c->map = nmap;
    c->nmap = nn;
    xfree(c->snap.path);
    c->snap = id;
    c->snap.path = path;
    path = NULL;
    rc = save_ckpt(c, env);
out:
    free_rows(r.rows, r.nrows);
    xfree(path);
    return rc;
}
