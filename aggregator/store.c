/* store.c - RocksDB behind store.h: column families, atomic batches, iterators. */
#include "aggregator/store.h"

#include <dirent.h>
#include <errno.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/xalloc.h"

static const char *const cf_names[CF_COUNT] = {
    "default", "usage",    "staffing", "shifts",  "absences",
    "ehr",     "training", "licence",  "batches", "owners",
};

struct store {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_options_t *cf_opts[CF_COUNT];
    rocksdb_column_family_handle_t *cf[CF_COUNT];
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *bloom;
    char *path;
    char *secondary_path;
};

/* A write of the batch, found again by store_txn_get. */
struct txn_entry {
    size_t klen, vlen;
    bool deleted;
    char data[]; /* key, then value */
};

/* A plain RocksDB write batch plus a hash index of its own writes (cheaper than a
 * WriteBatchWithIndex, whose skiplist ingest paid for on every record). */
struct store_txn {
    struct store *s;
    rocksdb_writebatch_t *wb;
    struct hmap tab[CF_COUNT]; /* per family: key -> its newest txn_entry */
    struct arena mem;          /* the entries */
    bool unindexed;            /* tab and mem stay empty */
};

struct store_iter {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ropts;
    const rocksdb_snapshot_t *snap;
    struct store *s;
};

int store_open(struct store **out, const char *path, bool sync_writes, bool read_only, char *errbuf,
               size_t errlen)
{
    struct store *s = xcalloc(1, sizeof *s);
    char *err = NULL;
    s->path = xstrdup(path);
    s->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(s->opts, !read_only);
    rocksdb_options_set_create_missing_column_families(s->opts, !read_only);
    rocksdb_options_increase_parallelism(s->opts, 2);
    rocksdb_options_set_compression(s->opts, rocksdb_lz4_compression);
    /* Ingest looks every record's key up before writing it, and almost every key is new:
     * a whole-key bloom filter in front of each memtable answers those misses. A
     * hundredth of the memtable's size gives it about 8 bits per key: few false
     * positives, and small enough to stay in cache (at 0.05 every insert and lookup
     * missed the cache; bench/history.md, item 14). */
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(s->opts, 0.01);
    rocksdb_options_set_memtable_whole_key_filtering(s->opts, 1);
    if (read_only)
        rocksdb_options_set_max_open_files(s->opts, -1); /* required by secondaries */
    s->cache = rocksdb_cache_create_lru(64 << 20);
    s->table = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(s->table, s->cache);
    s->bloom = rocksdb_filterpolicy_create_bloom(10);
    rocksdb_block_based_options_set_filter_policy(s->table, s->bloom);
    const rocksdb_options_t *cfo[CF_COUNT];
    for (int i = 0; i < CF_COUNT; i++) {
        s->cf_opts[i] = rocksdb_options_create_copy(s->opts);
        rocksdb_options_set_block_based_table_factory(s->cf_opts[i], s->table);
        cfo[i] = s->cf_opts[i];
    }
    if (read_only) {
        size_t n = strlen(path) + 48;
        s->secondary_path = xmalloc(n);
        snprintf(s->secondary_path, n, "%s.secondary-%ld", path, (long)getpid());
        /* A database written by an older version lacks the newer families: a secondary
         * opens those that exist (a reader never needs the others). */
        const char *names[CF_COUNT];
        const rocksdb_options_t *opts[CF_COUNT];
        rocksdb_column_family_handle_t *handles[CF_COUNT];
        int which[CF_COUNT], m = 0;
        size_t nexist = 0;
        char **exist = rocksdb_list_column_families(s->opts, path, &nexist, &err);
        for (int i = 0; !err && i < CF_COUNT; i++) {
            for (size_t j = 0; j < nexist; j++) {
                if (strcmp(exist[j], cf_names[i]) == 0) {
                    names[m] = cf_names[i], opts[m] = cfo[i], which[m++] = i;
                    break;
                }
            }
        }
        if (exist)
            rocksdb_list_column_families_destroy(exist, nexist);
        if (!err)
            s->db = rocksdb_open_as_secondary_column_families(s->opts, path, s->secondary_path, m,
                                                              names, opts, handles, &err);
        for (int k = 0; !err && k < m; k++)
            s->cf[which[k]] = handles[k];
    } else {
        s->db = rocksdb_open_column_families(s->opts, path, CF_COUNT, cf_names, cfo, s->cf, &err);
    }
    if (err) {
        snprintf(errbuf, errlen, "cannot open database %s: %s", path, err);
        rocksdb_free(err);
        s->db = NULL;
        store_close(s);
        return -EIO;
    }
    s->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(s->wopts, sync_writes);
    s->ropts = rocksdb_readoptions_create();
    *out = s;
    return 0;
}

/* Removes a folder of plain files (a secondary instance's scratch folder). */
static void remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->db) {
        for (int i = 0; i < CF_COUNT; i++)
            if (s->cf[i])
                rocksdb_column_family_handle_destroy(s->cf[i]);
        rocksdb_close(s->db);
    }
    for (int i = 0; i < CF_COUNT; i++)
        if (s->cf_opts[i])
            rocksdb_options_destroy(s->cf_opts[i]);
    if (s->wopts)
        rocksdb_writeoptions_destroy(s->wopts);
    if (s->ropts)
        rocksdb_readoptions_destroy(s->ropts);
    if (s->table)
        rocksdb_block_based_options_destroy(s->table); /* also releases the bloom policy */
    if (s->cache)
        rocksdb_cache_destroy(s->cache);
    if (s->opts)
        rocksdb_options_destroy(s->opts);
    if (s->secondary_path)
        remove_flat_dir(s->secondary_path);
    xfree(s->secondary_path);
    xfree(s->path);
    xfree(s);
}

static int copy_value(char *v, size_t vl, char *err, char **val, size_t *vlen)
{
    if (err) {
        log_error("store: read failed: %s", err);
        rocksdb_free(err);
        return -EIO;
    }
    if (!v)
        return 0;
    if (val) {
        *val = xmalloc(vl + 1);
        memcpy(*val, v, vl);
        (*val)[vl] = '\0';
        *vlen = vl;
    }
    rocksdb_free(v);
    return 1;
}

int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen, char **val,
              size_t *vlen)
{
    char *err = NULL;
    size_t vl = 0;
    char *v = rocksdb_get_cf(s->db, s->ropts, s->cf[cf], key, klen, &vl, &err);
    return copy_value(v, vl, err, val, vlen);
}

size_t store_value_writer(const char *val, size_t vlen, const char **writer, size_t *wlen)
{
    const uint8_t *v = (const uint8_t *)val;
    if (vlen >= 3 && v[0] == 0xFA && v[1] == 0x7F && v[2] >= 1 && v[2] <= STORE_WRITER_MAX &&
        STORE_WRITER_PREFIX(v[2]) <= vlen) {
        *writer = val + 3;
        *wlen = v[2];
        return STORE_WRITER_PREFIX(v[2]);
    }
    *writer = NULL;
    *wlen = 0;
    return 0;
}

size_t store_put_writer(uint8_t *out, const char *writer, size_t wlen)
{
    out[0] = 0xFA;
    out[1] = 0x7F;
    out[2] = (uint8_t)wlen;
    memcpy(out + 3, writer, wlen);
    return STORE_WRITER_PREFIX(wlen);
}

struct store_txn *store_txn_new(struct store *s)
{
    struct store_txn *t = xcalloc(1, sizeof *t);
    t->s = s;
    t->wb = rocksdb_writebatch_create();
    t->mem.block = 256 << 10;
    return t;
}

struct store_txn *store_txn_new_unindexed(struct store *s)
{
    struct store_txn *t = store_txn_new(s);
    t->unindexed = true;
    return t;
}

static void txn_remember(struct store_txn *t, enum store_cf cf, const void *key, size_t klen,
                         const void *val, size_t vlen, bool deleted)
{
    if (t->unindexed)
        return;
    struct txn_entry *e = arena_alloc(&t->mem, sizeof *e + klen + vlen);
    e->klen = klen;
    e->vlen = vlen;
    e->deleted = deleted;
    memcpy(e->data, key, klen);
    if (vlen)
        memcpy(e->data + klen, val, vlen);
    /* A newer write of the key replaces the older one in the index (both stay in mem). */
    hmap_put(&t->tab[cf], hmap_hash(key, klen, HMAP_SEED), e->data, klen, e);
}

void store_txn_put(struct store_txn *t, enum store_cf cf, const void *key, size_t klen,
                   const void *val, size_t vlen)
{
    rocksdb_writebatch_put_cf(t->wb, t->s->cf[cf], key, klen, val, vlen);
    txn_remember(t, cf, key, klen, val, vlen, false);
}

void store_txn_delete(struct store_txn *t, enum store_cf cf, const void *key, size_t klen)
{
    rocksdb_writebatch_delete_cf(t->wb, t->s->cf[cf], key, klen);
    txn_remember(t, cf, key, klen, NULL, 0, true);
}

int store_txn_own(struct store_txn *t, enum store_cf cf, const void *key, size_t klen,
                  const char **val, size_t *vlen)
{
    const struct txn_entry *e = hmap_get(&t->tab[cf], hmap_hash(key, klen, HMAP_SEED), key, klen);
    if (!e)
        return -ENOENT;
    if (e->deleted)
        return 0;
    *val = e->data + klen;
    *vlen = e->vlen;
    return 1;
}

int store_txn_get(struct store_txn *t, enum store_cf cf, const void *key, size_t klen, char **val,
                  size_t *vlen)
{
    const char *v;
    size_t vl;
    int own = store_txn_own(t, cf, key, klen, &v, &vl);
    if (own == -ENOENT)
        return store_get(t->s, cf, key, klen, val, vlen);
    if (own && val) {
        *val = xmalloc(vl + 1);
        memcpy(*val, v, vl);
        (*val)[vl] = '\0';
        *vlen = vl;
    }
    return own;
}

/* RocksDB counts key comparisons and more in a per-thread perf context unless told not
 * to, in the calling thread; every count is a thread-local lookup in the shared library,
 * 8% of the ingest thread's time in a profile (bench/history.md, item 14). Nothing reads
 * them. The setting is per thread, so it is made before each hot call. */
static void no_perf_counts(void)
{
    rocksdb_set_perf_level(1); /* rocksdb::kDisable */
}

int store_multi_get(struct store *s, enum store_cf cf, size_t n, const uint8_t *const *keys,
                    const size_t *klens, struct arena *ar, uint8_t *found, const char **vals,
                    size_t *vlens)
{
    if (!n)
        return 0;
    no_perf_counts();
    rocksdb_pinnableslice_t **ps = xcalloc(n, sizeof *ps);
    char **errs = xcalloc(n, sizeof *errs);
    /* In calls of 32 keys: RocksDB keeps up to 32 key contexts inline (MAX_BATCH_SIZE);
     * past that it grows a vector on the heap, which cost more than the lookups saved. */
    for (size_t i = 0; i < n; i += 32)
        rocksdb_batched_multi_get_cf(s->db, s->ropts, s->cf[cf], n - i < 32 ? n - i : 32,
                                     (const char *const *)keys + i, klens + i, ps + i, errs + i,
                                     false);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        found[i] = 0;
        if (errs[i]) {
            if (!rc)
                log_error("store: read failed: %s", errs[i]);
            rocksdb_free(errs[i]);
            rc = -EIO;
        } else if (ps[i]) {
            size_t vl;
            const char *v = rocksdb_pinnableslice_value(ps[i], &vl);
            if (v) {
                char *copy = arena_alloc(ar, vl + 1);
                memcpy(copy, v, vl);
                copy[vl] = '\0';
                found[i] = 1;
                vals[i] = copy;
                vlens[i] = vl;
            }
        }
        if (ps[i])
            rocksdb_pinnableslice_destroy(ps[i]);
    }
    xfree(ps);
    xfree(errs);
    return rc;
}

int store_txn_commit(struct store_txn *t)
{
    char *err = NULL;
    no_perf_counts();
    rocksdb_write(t->s->db, t->s->wopts, t->wb, &err);
    if (err) {
        log_error("store: write failed: %s", err);
        rocksdb_free(err);
        return -EIO;
    }
    return 0;
}

void store_txn_free(struct store_txn *t)
{
    if (!t)
        return;
    rocksdb_writebatch_destroy(t->wb);
    arena_release(&t->mem);
    for (int cf = 0; cf < CF_COUNT; cf++)
        hmap_free(&t->tab[cf]);
    xfree(t);
}

struct store_iter *store_iter_new(struct store *s, enum store_cf cf)
{
    struct store_iter *it = xcalloc(1, sizeof *it);
    it->s = s;
    it->ropts = rocksdb_readoptions_create();
    /* A secondary instance has no snapshots of its own (one would read as of sequence 0);
     * its view only moves on store_catch_up(), which nothing runs during an iteration. */
    if (!s->secondary_path) {
        it->snap = rocksdb_create_snapshot(s->db);
        rocksdb_readoptions_set_snapshot(it->ropts, it->snap);
    }
    rocksdb_readoptions_set_fill_cache(it->ropts, 0);
    /* A secondary of a database written before the family existed has no handle for it:
     * the iteration is empty. */
    if (s->cf[cf]) {
        it->it = rocksdb_create_iterator_cf(s->db, it->ropts, s->cf[cf]);
        rocksdb_iter_seek_to_first(it->it);
    }
    return it;
}

int store_last_key(struct store *s, enum store_cf cf, uint8_t **key, size_t *len)
{
    *key = NULL;
    *len = 0;
    if (!s->cf[cf])
        return 0;
    rocksdb_iterator_t *it = rocksdb_create_iterator_cf(s->db, s->ropts, s->cf[cf]);
    rocksdb_iter_seek_to_last(it);
    int rc = 0;
    if (rocksdb_iter_valid(it)) {
        size_t kl;
        const char *k = rocksdb_iter_key(it, &kl);
        *key = xmemdup(k, kl);
        *len = kl;
        rc = 1;
    } else {
        char *err = NULL;
        rocksdb_iter_get_error(it, &err);
        if (err) {
            log_error("store: cannot read the last key: %s", err);
            rocksdb_free(err);
            rc = -EIO;
        }
    }
    rocksdb_iter_destroy(it);
    return rc;
}

bool store_iter_valid(struct store_iter *it)
{
    return it->it && rocksdb_iter_valid(it->it);
}

void store_iter_next(struct store_iter *it)
{
    rocksdb_iter_next(it->it);
}

const void *store_iter_key(struct store_iter *it, size_t *len)
{
    return rocksdb_iter_key(it->it, len);
}

const void *store_iter_value(struct store_iter *it, size_t *len)
{
    return rocksdb_iter_value(it->it, len);
}

void store_iter_free(struct store_iter *it)
{
    if (!it)
        return;
    if (it->it)
        rocksdb_iter_destroy(it->it);
    if (it->snap)
        rocksdb_release_snapshot(it->s->db, it->snap);
    rocksdb_readoptions_destroy(it->ropts);
    xfree(it);
}

int store_flush(struct store *s)
{
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    int rc = 0;
    for (int i = 0; i < CF_COUNT && !rc; i++) {
        char *err = NULL;
        rocksdb_flush_cf(s->db, fo, s->cf[i], &err);
        if (err) {
            log_error("store: flush failed: %s", err);
            rocksdb_free(err);
            rc = -EIO;
        }
    }
    rocksdb_flushoptions_destroy(fo);
    return rc;
}

void store_destroy(const char *path)
{
    rocksdb_options_t *o = rocksdb_options_create();
    char *err = NULL;
    rocksdb_destroy_db(o, path, &err);
    if (err) {
        log_error("store: cannot remove %s: %s", path, err);
        rocksdb_free(err);
    }
    rocksdb_options_destroy(o);
    remove_flat_dir(path); /* what destroy_db leaves (the info logs), then the folder */
}

int store_catch_up(struct store *s)
{
    char *err = NULL;
    rocksdb_try_catch_up_with_primary(s->db, &err);
    if (err) {
        log_error("store: catching up with the primary failed: %s", err);
        rocksdb_free(err);
        return -EIO;
    }
    return 0;
}

uint64_t store_disk_bytes(struct store *s)
{
    uint64_t total = 0;
    for (int i = 0; i < CF_COUNT; i++) {
        if (!s->cf[i])
            continue;
        char *v = rocksdb_property_value_cf(s->db, s->cf[i], "rocksdb.total-sst-files-size");
        if (v) {
            total += strtoull(v, NULL, 10);
            rocksdb_free(v);
        }
    }
    return total;
}

int64_t store_free_bytes(struct store *s)
{
    struct statvfs v;
    if (statvfs(s->path, &v))
        return -1;
    return (int64_t)v.f_bavail * (int64_t)v.f_frsize;
}
