/* src_csv.c - CSV snapshot reading, row checks, diffing against the shipped map, streamed. */
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
#include "agent/csvmap.h"
#include "agent/extsort.h"
#include "agent/pseudonym.h"
#include "agent/seqfile.h"
#include "common/csvread.h"
#include "common/decimal.h"
#include "common/log.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define MAP_VERSION 2
#define RUN_BYTES_DEFAULT ((size_t)8 << 20)
#define IO_BUF (64 << 10)

/* The map file (docs/agent.md, "CSV snapshot sources"), integers big-endian:
 *   "CADRECSV" | u32 version (2) | u64 path length, path | u64 dev, ino, size, mtime_s,
 *   mtime_ns | entries: u8 key length (1..RECKEY_MAX), key, u64 hash, keys strictly
 *   increasing | u8 0 | u64 entry count | u32 CRC32C of every byte before it
 * Version 1 (read once and converted) was a ckpt_write file (checkpoint.h) holding
 *   u64 1 | bytes path | u64 dev, ino, size, mtime_s, mtime_ns | u64 count |
 *   count x (bytes key, u64 hash), where bytes is a u64 length and the bytes. */
static const char map_magic[8] = {'C', 'A', 'D', 'R', 'E', 'C', 'S', 'V'};
static const char v1_magic[8] = {'C', 'A', 'D', 'R', 'E', 'C', 'K', '1'};

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

struct csv_src {
    const struct csv_type *t;
    const struct csvmap *map; /* vendor export mapping (the config's); NULL: canonical */
    char *path;
    bool authoritative;
    char ckpt_name[128];
    struct snapid snap;           /* the snapshot shipped last (path NULL: none) */
    int map_fd;                   /* map file of what was shipped (checked); -1: nothing shipped */
    size_t run_bytes;             /* sort buffer (extsort.h) */
    struct pseudonym_cache *keys; /* staff keys of recent ids: a snapshot repeats each id
                                     on many rows (source_env.keys, or own_keys) */
    struct pseudonym_cache *own_keys; /* when the agent shares none */
};

struct reading {
    struct csv_src *c;
    const struct source_env *env;
    int idx[CSV_MAX_COLS];
    bool header;
    struct extsort *sort; /* good rows: key -> packed record */
    uint8_t *pack;        /* packing buffer */
    size_t packcap;
    struct csvmap_row mapped; /* fields rewritten by the mapping */
    int err;                  /* the sorter's failure, which stops the reading */
};

/* A map file being written: a temporary file in the checkpoint folder (renamed over the
 * map when committed) or an anonymous one (state kept without a file). */
struct mapw {
    int fd;
    bool named;
    char tmp[4096];
    struct seqw w;
    uint64_t count;
};

/* A map file being read, entry by entry. */
struct mapr {
    struct seqr r;
    uint64_t count;
    bool end;
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

bool csvf_staff(struct csv_fields *f, int col, struct pseudonym_cache *p, uint8_t out[16])
{
    bool ok;
    if (!get(f, col, NULL, &ok))
        return ok;
    int rc = pseudonym_cache_key(p, f->s[col], f->len[col], out);
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
            names[i] = csvmap_header(r->c->map, t, i);
        csv_header_map(row, names, t->ncols, r->idx);
        r->header = true;
        for (size_t i = 0; i < t->ncols; i++) {
            int line = csvmap_header_line(r->c->map, i);
            if (r->idx[i] >= 0)
                continue;
            if (line) /* a mapping that names no column of the file is a mistake */
                log_warn("[source %s] the file has no column '%s' (the header of %s, config "
                         "line %d)",
                         r->env->name, names[i], t->cols[i].name, line);
            else
                log_debug("[source %s] header has no column %s", r->env->name, names[i]);
        }
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
    if ((r->c->map && !csvmap_apply(r->c->map, &f, &r->mapped)) ||
        !t->build(&f, r->c->keys, &out)) {
        source_reject(r->env, row->line, f.reason, f.bad);
        return 0;
    }
    out.rec.type = (Cadre__RecordType)t->rec_type;
    size_t n = cadre__record__get_packed_size(&out.rec);
    xgrow((void **)&r->pack, &r->packcap, n, 1);
    n = cadre__record__pack(&out.rec, r->pack);
    r->err = extsort_add(r->sort, out.rec.key.data, out.rec.key.len, r->pack, n);
    return r->err;
}

static int cmp_key(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

/* Reads the file at path into r's sorter (good rows; rejections counted). 0, or -errno
 * of the file (r->err then 0) or of the sorter (r->err set). */
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
    char *buf = xmalloc(IO_BUF);
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, IO_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0) {
            if (csvread_finish(cr))
                rc = r->err;
            break;
        }
        if (csvread_feed(cr, buf, (size_t)n)) {
            rc = r->err;
            break;
        }
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

/* The header of a file, for src_csv_check_header. */
struct header_probe {
    const struct csv_type *t;
    const struct csvmap *map;
    const char *name, *path;
    FILE *out;
    int missing;
};

static int probe_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct header_probe *h = ud;
    if (ev != CSV_EV_HEADER)
        return 1;
    const char *names[CSV_MAX_COLS];
    int idx[CSV_MAX_COLS];
    for (size_t i = 0; i < h->t->ncols; i++)
        names[i] = csvmap_header(h->map, h->t, i);
    csv_header_map(row, names, h->t->ncols, idx);
    for (size_t i = 0; i < h->t->ncols; i++) {
        if (idx[i] >= 0 || !csvmap_header_line(h->map, i)) /* optional columns may be absent */
            continue;
        fprintf(h->out, "[source %s] %s has no column '%s' (%s)\n", h->name, h->path, names[i],
                h->t->cols[i].name);
        h->missing++;
    }
    return 1; /* the header is all it needs */
}

int src_csv_check_header(const struct csv_type *t, const char *name, const struct source_opts *o,
                         FILE *f)
{
    char *path = NULL;
    struct source_env env = {.name = name};
    if (!o->path || newest_match(&env, o->path, &path))
        return 0;
    struct header_probe h = {t, o->map, name, path, f, 0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct csvread *cr = csvread_new(probe_row, &h);
        char buf[8192];
        ssize_t n;
        int rc = 0;
        for (size_t total = 0; !rc && total < (1u << 20) && (n = read(fd, buf, sizeof buf)) > 0;
             total += (size_t)n)
            rc = csvread_feed(cr, buf, (size_t)n);
        csvread_free(cr);
        close(fd);
    }
    xfree(path);
    return h.missing;
}

static bool same_snap(const struct snapid *a, const char *path, const struct stat *st)
{
    return a->path && strcmp(a->path, path) == 0 && a->dev == (uint64_t)st->st_dev &&
           a->ino == (uint64_t)st->st_ino && a->size == (uint64_t)st->st_size &&
           a->mtime_s == (uint64_t)st->st_mtim.tv_sec &&
           a->mtime_ns == (uint64_t)st->st_mtim.tv_nsec;
}

/* ---- the map file ---- */

/* Starts a map file for snapshot id: next to the map when the state has a folder and this
 * is no dry run, else anonymous. 0 or -errno (nothing to clean up then). */
static int mapw_begin(struct mapw *m, const struct csv_src *c, const struct source_env *env,
                      const struct snapid *id)
{
    memset(m, 0, sizeof *m);
    m->named = env->ckpt_dir && !env->dry_run;
    if (m->named) {
        snprintf(m->tmp, sizeof m->tmp, "%s/.%s.tmp", env->ckpt_dir, c->ckpt_name);
        m->fd = open(m->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (m->fd < 0)
            return -errno;
    } else if ((m->fd = seqfile_tmp(NULL)) < 0) {
        return m->fd;
    }
    seqw_init(&m->w, m->fd, IO_BUF);
    seqw_put(&m->w, map_magic, sizeof map_magic);
    seqw_u32(&m->w, MAP_VERSION);
    size_t pl = id->path ? strlen(id->path) : 0;
    seqw_u64(&m->w, pl);
    seqw_put(&m->w, id->path, pl);
    seqw_u64(&m->w, id->dev);
    seqw_u64(&m->w, id->ino);
    seqw_u64(&m->w, id->size);
    seqw_u64(&m->w, id->mtime_s);
    seqw_u64(&m->w, id->mtime_ns);
    return 0;
}

static void mapw_put(struct mapw *m, const uint8_t *key, size_t klen, uint64_t hash)
{
    seqw_u8(&m->w, (uint8_t)klen);
    seqw_put(&m->w, key, klen);
    seqw_u64(&m->w, hash);
    m->count++;
}

/* Writes the trailer and everything buffered. 0 or -errno. */
static int mapw_end(struct mapw *m)
{
    seqw_u8(&m->w, 0);
    seqw_u64(&m->w, m->count);
    seqw_u32(&m->w, seqw_crc(&m->w));
    return seqw_flush(&m->w);
}

static void mapw_abort(struct mapw *m)
{
    seqw_free(&m->w);
    if (m->fd >= 0) {
        close(m->fd);
        if (m->named)
            unlink(m->tmp);
    }
    m->fd = -1;
}

/* Makes m the source's map: a named file is synced (when env->fsync) and renamed over the
 * map, and the folder synced. The descriptor passes to c either way; a failed rename
 * leaves the old file on disk and is returned (-errno). */
static int mapw_commit(struct mapw *m, struct csv_src *c, const struct source_env *env)
{
    int rc = 0;
    seqw_free(&m->w);
    if (m->named) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", env->ckpt_dir, c->ckpt_name);
        if (env->fsync && fdatasync(m->fd))
            rc = -errno;
        if (!rc && rename(m->tmp, path))
            rc = -errno;
        if (rc)
            unlink(m->tmp);
        else if (env->fsync)
            rc = fsync_dir(env->ckpt_dir);
    }
    if (c->map_fd >= 0)
        close(c->map_fd);
    c->map_fd = m->fd;
    m->fd = -1;
    return rc;
}

/* Reads the header of the map file at fd's start into *id (path: caller frees). */
static void mapr_header(struct seqr *r, struct snapid *id)
{
    const uint8_t *mg = seqr_get(r, sizeof map_magic);
    if (!mg || memcmp(mg, map_magic, sizeof map_magic) || seqr_u32(r) != MAP_VERSION) {
        if (!r->err)
            r->err = -EBADMSG;
        return;
    }
    uint64_t pl = seqr_u64(r);
    const uint8_t *p = pl <= 4096 ? seqr_get(r, (size_t)pl) : NULL;
    if (!p) {
        if (!r->err)
            r->err = -EBADMSG;
        return;
    }
    char *path = pl ? xstrndup((const char *)p, (size_t)pl) : NULL;
    id->dev = seqr_u64(r);
    id->ino = seqr_u64(r);
    id->size = seqr_u64(r);
    id->mtime_s = seqr_u64(r);
    id->mtime_ns = seqr_u64(r);
    if (r->err)
        xfree(path);
    else
        id->path = path;
}

/* The next entry: 1 with key (valid until the next call) and hash, 0 after the last,
 * -EBADMSG or -errno. */
static int mapr_next(struct mapr *m, const uint8_t **key, size_t *klen, uint64_t *hash)
{
    if (m->end)
        return 0;
    uint8_t kl = seqr_u8(&m->r);
    if (m->r.err)
        return m->r.err;
    if (kl == 0) {
        m->end = true;
        return 0;
    }
    if (kl > RECKEY_MAX)
        return -EBADMSG;
    const uint8_t *p = seqr_get(&m->r, (size_t)kl + 8);
    if (!p)
        return m->r.err ? m->r.err : -EBADMSG;
    *key = p;
    *klen = kl;
    *hash = be_get_u64(p + kl);
    m->count++;
    return 1;
}

/* Starts reading the entries of the (checked) map file fd from its start. */
static int mapr_open(struct mapr *m, int fd)
{
    memset(m, 0, sizeof *m);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    seqr_init(&m->r, fd, IO_BUF);
    struct snapid id = {0};
    mapr_header(&m->r, &id);
    xfree(id.path);
    return m->r.err;
}

/* Reads the whole map file fd once: structure, key order, count and CRC32C. 0 with *id
 * (path: caller frees), or -EBADMSG / -errno. */
static int map_check(int fd, struct snapid *id)
{
    struct mapr m = {0};
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -errno;
    seqr_init(&m.r, fd, IO_BUF);
    struct snapid got = {0};
    mapr_header(&m.r, &got);
    int rc = m.r.err;
    uint8_t prev[RECKEY_MAX];
    size_t pl = 0;
    while (!rc) {
        const uint8_t *k;
        size_t kl;
        uint64_t h;
        rc = mapr_next(&m, &k, &kl, &h);
        if (rc <= 0)
            break;
        if (pl && cmp_key(prev, pl, k, kl) >= 0)
            rc = -EBADMSG;
        memcpy(prev, k, kl);
        pl = kl;
        rc = rc < 0 ? rc : 0;
    }
    if (!rc) {
        uint64_t n = seqr_u64(&m.r);
        uint32_t want = seqr_crc(&m.r);
        uint32_t crc = seqr_u32(&m.r);
        rc = m.r.err;
        if (!rc && (n != m.count || crc != want || seqr_get(&m.r, 1) || m.r.err))
            rc = -EBADMSG;
    }
    seqr_free(&m.r);
    if (rc) {
        xfree(got.path);
        return rc;
    }
    *id = got;
    return 0;
}

/* Converts the version-1 checkpoint fd (read twice: CRC, then entries) into a map file
 * committed as c's map, with *id its snapshot (path: caller frees). 0 or -EBADMSG /
 * -errno (c unchanged). */
static int convert_v1(struct csv_src *c, const struct source_env *env, int fd, struct snapid *id)
{
    struct stat st;
    if (fstat(fd, &st))
        return -errno;
    if (st.st_size < 20 || lseek(fd, 0, SEEK_SET) < 0)
        return -EBADMSG;
    uint64_t size = (uint64_t)st.st_size;
    struct seqr r;
    seqr_init(&r, fd, IO_BUF);
    const uint8_t *mg = seqr_get(&r, 8);
    int rc = !mg || memcmp(mg, v1_magic, 8) || seqr_u64(&r) != size - 20 ? -EBADMSG : 0;
    for (uint64_t left = size - 20; !rc && left;) {
        size_t k = left < IO_BUF ? (size_t)left : IO_BUF;
        if (!seqr_get(&r, k))
            rc = -EBADMSG;
        left -= k;
    }
    if (!rc) {
        uint32_t want = seqr_crc(&r);
        if (seqr_u32(&r) != want)
            rc = -EBADMSG;
    }
    seqr_free(&r);
    if (rc)
        return rc;

    if (lseek(fd, 16, SEEK_SET) < 0)
        return -errno;
    seqr_init(&r, fd, IO_BUF);
    struct snapid got = {0};
    if (seqr_u64(&r) != 1)
        rc = -EBADMSG;
    uint64_t pl = seqr_u64(&r);
    const uint8_t *p = !rc && pl <= 4096 ? seqr_get(&r, (size_t)pl) : NULL;
    if (!p)
        rc = -EBADMSG;
    else if (pl)
        got.path = xstrndup((const char *)p, (size_t)pl);
    got.dev = seqr_u64(&r);
    got.ino = seqr_u64(&r);
    got.size = seqr_u64(&r);
    got.mtime_s = seqr_u64(&r);
    got.mtime_ns = seqr_u64(&r);
    uint64_t count = seqr_u64(&r);
    if (r.err)
        rc = -EBADMSG;
    struct mapw m = {.fd = -1};
    if (!rc)
        rc = mapw_begin(&m, c, env, &got);
    uint8_t prev[RECKEY_MAX];
    size_t prevl = 0;
    for (uint64_t i = 0; !rc && i < count; i++) {
        uint64_t kl = seqr_u64(&r);
        const uint8_t *k = kl && kl <= RECKEY_MAX ? seqr_get(&r, (size_t)kl + 8) : NULL;
        if (!k || (prevl && cmp_key(prev, prevl, k, (size_t)kl) >= 0)) {
            rc = -EBADMSG;
            break;
        }
        mapw_put(&m, k, (size_t)kl, be_get_u64(k + kl));
        memcpy(prev, k, (size_t)kl);
        prevl = (size_t)kl;
    }
    if (!rc && (r.err || r.consumed != size - 20))
        rc = -EBADMSG;
    seqr_free(&r);
    if (!rc)
        rc = mapw_end(&m);
    if (rc) {
        mapw_abort(&m);
        xfree(got.path);
        return rc;
    }
    /* Converted: a failed rename only leaves the old file for the next start. */
    if ((rc = mapw_commit(&m, c, env)))
        log_error("[source %s] cannot write checkpoint: %s", env->name, strerror(-rc));
    *id = got;
    return 0;
}

/* Loads the map file at init: checks it, or converts a version-1 checkpoint. A missing
 * file means nothing was shipped; a damaged one is logged and ignored. */
static void load_map(struct csv_src *c, const struct source_env *env)
{
    if (!env->ckpt_dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", env->ckpt_dir, c->ckpt_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            log_warn("[source %s] checkpoint unreadable (%s); the snapshot is shipped again",
                     env->name, strerror(errno));
        return;
    }
    uint8_t mg[8];
    ssize_t n = pread(fd, mg, sizeof mg, 0);
    struct snapid id = {0};
    int rc;
    if (n == (ssize_t)sizeof mg && memcmp(mg, v1_magic, sizeof mg) == 0) {
        rc = convert_v1(c, env, fd, &id);
        close(fd);
        if (!rc)
            log_info("[source %s] checkpoint converted to the map file format", env->name);
    } else {
        rc = n < 0 ? -errno : map_check(fd, &id);
        if (rc)
            close(fd);
        else
            c->map_fd = fd;
    }
    if (rc == -EBADMSG)
        log_warn("[source %s] checkpoint damaged; the snapshot is shipped again", env->name);
    else if (rc)
        log_warn("[source %s] checkpoint unreadable (%s); the snapshot is shipped again", env->name,
                 strerror(-rc));
    else
        c->snap = id;
}

int src_csv_init(void **ctx, const struct csv_type *t, const struct source_opts *opts,
                 const struct source_env *env)
{
    if (t->ncols > CSV_MAX_COLS || !opts->path)
        return -EINVAL;
    struct csv_src *c = xcalloc(1, sizeof *c);
    c->t = t;
    c->map = opts->map;
    c->path = xstrdup(opts->path);
    c->authoritative = opts->authoritative;
    c->map_fd = -1;
    c->run_bytes = RUN_BYTES_DEFAULT;
    c->keys = env->keys ? env->keys : (c->own_keys = pseudonym_cache_new(env->pseudo));
    snprintf(c->ckpt_name, sizeof c->ckpt_name, "%s.%s.ckpt", env->name,
             rec_type_name(t->rec_type));
    load_map(c, env);
    *ctx = c;
    return 0;
}

void src_csv_set_run_bytes(void *ctx, size_t bytes)
{
    struct csv_src *c = ctx;
    c->run_bytes = bytes;
}

void src_csv_fini(void *ctx)
{
    struct csv_src *c = ctx;
    if (!c)
        return;
    if (c->map_fd >= 0)
        close(c->map_fd);
    pseudonym_cache_free(c->own_keys);
    xfree(c->path);
    xfree(c->snap.path);
    xfree(c);
}

static int emit_tombstone(const struct source_env *env, int type, const uint8_t *key, size_t klen)
{
    Cadre__Record rec;
    cadre__record__init(&rec);
    rec.type = (Cadre__RecordType)type;
    rec.key.data = (uint8_t *)key;
    rec.key.len = klen;
    return source_emit(env, &rec);
}

/* What one merge of a snapshot against the map did. */
struct diff {
    size_t rows, shipped, deleted;
    int io;       /* a failure of the temporary files or the map: not the spool's */
    bool map_bad; /* the map proved damaged */
};

/* Merges the snapshot's sorted rows with the map (sorted too): ships what is new or
 * changed, tombstones for an authoritative source, and writes the new map to m. */
static int diff_snapshot(struct csv_src *c, const struct source_env *env, struct extsort *s,
                         struct mapw *m, struct diff *d)
{
    struct mapr old = {.end = true};
    int rc = 0;
    bool have_old = c->map_fd >= 0;
    if (have_old && (rc = mapr_open(&old, c->map_fd))) {
        d->io = rc;
        return rc;
    }
    const uint8_t *rk = NULL, *rv = NULL, *mk = NULL;
    size_t rkl = 0, rvl = 0, mkl = 0;
    uint64_t mh = 0;
    int rr = extsort_next(s, &rk, &rkl, &rv, &rvl);
    int mr = mapr_next(&old, &mk, &mkl, &mh);
    while (rr > 0 || mr > 0) {
        if (rr < 0 || mr < 0 || m->w.err)
            break;
        int cmp = rr == 0 ? 1 : mr == 0 ? -1 : cmp_key(rk, rkl, mk, mkl);
        if (cmp > 0) { /* shipped before, missing now */
            if (c->authoritative) {
                if ((rc = emit_tombstone(env, c->t->rec_type, mk, mkl)))
                    break;
                d->deleted++;
            } else {
                mapw_put(m, mk, mkl, mh);
            }
            mr = mapr_next(&old, &mk, &mkl, &mh);
            continue;
        }
        uint64_t h = source_hash(rv, rvl);
        if (cmp < 0 || mh != h) {
            if ((rc = env->emit(env->ud, rv, rvl)))
                break;
            if (env->stats)
                atomic_fetch_add(&env->stats->records, 1);
            d->shipped++;
        }
        mapw_put(m, rk, rkl, h);
        d->rows++;
        rr = extsort_next(s, &rk, &rkl, &rv, &rvl);
        if (cmp == 0)
            mr = mapr_next(&old, &mk, &mkl, &mh);
    }
    if (!rc)
        d->io = rr < 0 ? rr : mr < 0 ? mr : m->w.err;
    d->map_bad = mr == -EBADMSG;
    if (have_old)
        seqr_free(&old.r);
    return rc ? rc : d->io;
}

/* Forgets the map after it proved damaged while being merged: the next poll ships the
 * snapshot again, as after a damaged checkpoint at start. */
static void drop_map(struct csv_src *c, const struct source_env *env)
{
    log_warn("[source %s] checkpoint damaged; the snapshot is shipped again", env->name);
    close(c->map_fd);
    c->map_fd = -1;
    xfree(c->snap.path);
    c->snap = (struct snapid){0};
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
    const char *tmp_dir = env->dry_run ? NULL : env->ckpt_dir;
    struct reading r = {.c = c, .env = env, .sort = extsort_new(c->run_bytes, tmp_dir)};
    struct snapid id = {0};
    struct mapw m = {.fd = -1};
    struct diff d = {0};
    int rc = read_snapshot(&r, path, &id);
    if (rc && !r.err) {
        source_skip_file(env, path, SRC_ERR_UNREADABLE, -rc);
        goto out;
    }
    if (!rc)
        rc = extsort_finish(r.sort);
    if (!rc) {
        id.path = path; /* borrowed for the map's header */
        rc = mapw_begin(&m, c, env, &id);
        id.path = NULL;
    }
    if (rc) {
        log_error("[source %s] temporary files failed (%s); the snapshot is read again", env->name,
                  strerror(-rc));
        goto out;
    }
    rc = diff_snapshot(c, env, r.sort, &m, &d);
    if (!rc)
        rc = d.io = mapw_end(&m);
    if (!rc)
        rc = env->flush(env->ud);
    if (rc) {
        if (d.map_bad)
            drop_map(c, env);
        else if (d.io)
            log_error("[source %s] temporary files failed (%s); the snapshot is read again",
                      env->name, strerror(-rc));
        else
            log_error("[source %s] records not spooled (%s); the snapshot is read again", env->name,
                      strerror(-rc));
        goto out;
    }
    log_info("[source %s] snapshot %s: %zu rows, %zu changed, %zu deleted", env->name, path, d.rows,
             d.shipped, d.deleted);
    rc = mapw_commit(&m, c, env);
    if (rc)
        log_error("[source %s] cannot write checkpoint: %s", env->name, strerror(-rc));
    xfree(c->snap.path);
    c->snap = id;
    c->snap.path = path;
    path = NULL;
out:
    mapw_abort(&m);
    extsort_free(r.sort);
    xfree(r.pack);
    xfree(path);
    return rc;
}
