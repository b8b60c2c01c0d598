/* store.h - the RocksDB store: one column family per record type, plus meta and batches.
 *
 * Knows nothing about KPIs: it stores bytes under keys in named families (docs/store.md).
 * Thread-safe: RocksDB serialises writers; callers that read-modify-write hold their own
 * lock around a store_txn.
 */
#ifndef CADRE_STORE_H
#define CADRE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum store_cf {
    CF_META = 0, /* RocksDB's "default" family: counters and agent state */
    CF_USAGE,    /* CF_USAGE..CF_LICENCE equal enum rec_type */
    CF_STAFFING,
    CF_SHIFTS,
    CF_ABSENCES,
    CF_EHR,
    CF_TRAINING,
    CF_LICENCE,
    CF_BATCHES, /* (agent id, spool id, seq) of every stored batch */
    CF_OWNERS,  /* (type byte, record key) -> its writer, for records stored before writers
                   were kept in values (see store_value_writer) */
    CF_COUNT
};

struct arena;
struct store;
struct store_txn;
struct store_iter;

/* Opens (creating when missing) the database at path. read_only opens a secondary
 * instance that works beside a running daemon (scratch dir path + ".secondary-PID").
 * On error returns -EIO with a message in errbuf (errlen bytes). Caller closes with
 * store_close(). */
int store_open(struct store **out, const char *path, bool sync_writes, bool read_only, char *errbuf,
               size_t errlen);
void store_close(struct store *s);

/* Looks up key in family cf. Returns 1 and sets *val (caller frees with xfree) and *vlen,
 * 0 when absent, -EIO on error. */
int store_get(struct store *s, enum store_cf cf, const void *key, size_t klen, char **val,
              size_t *vlen);

/* A stored record of a type other than usage names the agent that last wrote it in front
 * of its body: 0xFA 0x7F (the protobuf tag of field 2047, length-delimited), one byte n
 * (1..STORE_WRITER_MAX), the n bytes of the agent id, then the packed body. So the value is
 * still one valid protobuf message, and no body this aggregator packs starts with 0xFA
 * (body fields are numbered below 16): a value without the prefix is a body stored before
 * writers were kept there, whose writer is in CF_OWNERS. */
#define STORE_WRITER_MAX 64
#define STORE_WRITER_PREFIX(n) (3 + (size_t)(n))
/* Splits a stored value: returns the prefix length (0: none) and sets *writer, *wlen (NULL,
 * 0 when none). The body is val + the result, vlen - the result bytes. */
size_t store_value_writer(const char *val, size_t vlen, const char **writer, size_t *wlen);
/* Writes the prefix for writer (1..STORE_WRITER_MAX bytes) at out; returns its length. */
size_t store_put_writer(uint8_t *out, const char *writer, size_t wlen);

/* A write batch whose reads see its own writes. Caller frees with store_txn_free(). */
struct store_txn *store_txn_new(struct store *s);
/* A write batch that keeps no index of its writes, for a caller that never reads a key it
 * wrote in the same batch: store_txn_own then always answers -ENOENT, and store_txn_get
 * reads the database only. */
struct store_txn *store_txn_new_unindexed(struct store *s);
void store_txn_put(struct store_txn *t, enum store_cf cf, const void *key, size_t klen,
                   const void *val, size_t vlen);
void store_txn_delete(struct store_txn *t, enum store_cf cf, const void *key, size_t klen);
/* Looks n keys of family cf up at once (RocksDB MultiGet). For each i, found[i] becomes 1
 * or 0; the value of a found key is copied into ar (vals[i], vlens[i]). Returns 0 or -EIO
 * (found and vals then undefined). */
int store_multi_get(struct store *s, enum store_cf cf, size_t n, const uint8_t *const *keys,
                    const size_t *klens, struct arena *ar, uint8_t *found, const char **vals,
                    size_t *vlens);

/* Only the batch's own writes: 1 with *val pointing at the value the batch put (valid
 * until store_txn_free), 0 when the batch deleted the key, -ENOENT when it did not touch
 * it. */
int store_txn_own(struct store_txn *t, enum store_cf cf, const void *key, size_t klen,
                  const char **val, size_t *vlen);
/* As store_get, through the batch then the database. */
int store_txn_get(struct store_txn *t, enum store_cf cf, const void *key, size_t klen, char **val,
                  size_t *vlen);
/* Writes the batch atomically (WAL synced when the store was opened with sync_writes).
 * Returns 0 or -EIO. */
int store_txn_commit(struct store_txn *t);
void store_txn_free(struct store_txn *t);

/* Iterates family cf in key order over a consistent view. Caller frees with
 * store_iter_free(). Key and value pointers are valid until the next step. */
struct store_iter *store_iter_new(struct store *s, enum store_cf cf);
/* The family's greatest key (bytewise) into *key (xfree) and *len: 1, 0 when the family
 * is empty (*key NULL), -EIO. */
int store_last_key(struct store *s, enum store_cf cf, uint8_t **key, size_t *len);
bool store_iter_valid(struct store_iter *it);
void store_iter_next(struct store_iter *it);
const void *store_iter_key(struct store_iter *it, size_t *len);
const void *store_iter_value(struct store_iter *it, size_t *len);
void store_iter_free(struct store_iter *it);

/* Writes every family's memtable to table files and waits (the data then needs no WAL
 * replay). 0 or -EIO. */
int store_flush(struct store *s);
/* Deletes the database at path (a closed store) and its folder. */
void store_destroy(const char *path);

/* Brings a read-only (secondary) store up to date with the primary. 0 or -EIO. */
int store_catch_up(struct store *s);

/* Total size of the database's SST and WAL files in bytes (approximate). */
uint64_t store_disk_bytes(struct store *s);

/* Bytes free to the aggregator on the database's file system, or -1 when unknown. Any
 * thread. */
int64_t store_free_bytes(struct store *s);

#endif
