/* backup_cmd.c - a backup is a new RocksDB database holding every key of every family as
 * one read-only view saw them (docs/operations.md).
 *
 * The view is a secondary instance (store_open read_only) brought up to date once: it
 * changes only when asked to catch up again, and keeps the table files it reads open, so
 * the running daemon's flushes and compactions cannot pull files from under it. Since the
 * daemon writes a batch in one atomic write, the view holds whole batches: the backup is
 * the database as it was between two batches. Keys are copied in order into a folder next
 * to the target, flushed to table files and synced, then renamed to the target: a backup
 * that fails half-way leaves no folder behind that looks complete. */
#include "aggregator/backup_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregator/config.h"
#include "aggregator/store.h"
#include "common/log.h"
#include "common/xalloc.h"

#define EX_USAGE 64
#define EX_NOINPUT 66
#define EX_CANTCREAT 73
#define EX_IOERR 74
#define EX_CONFIG 78

#define CHUNK_BYTES ((size_t)8 << 20) /* written per batch into the copy */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cadre-aggregator backup --config FILE --to DIR\n"
            "\n"
            "Copies the database of FILE's db_path into DIR (which must not exist), consistent\n"
            "as of one moment between two batches, while the daemon runs or when it is stopped.\n"
            "Restore: stop the daemon, put DIR where db_path points, start it\n"
            "(docs/operations.md). Exit 0; 64 usage, 66 no database, 73 DIR exists or cannot\n"
            "be made, 74 read or write error, 78 bad configuration.\n");
}

/* Designated, so that a family added to enum store_cf without a name here shows as a
 * NULL in review rather than shifting every name after it. */
static const char *const family_names[CF_COUNT] = {
    [CF_META] = "meta",         [CF_USAGE] = "usage",       [CF_STAFFING] = "staffing",
    [CF_SHIFTS] = "shifts",     [CF_ABSENCES] = "absences", [CF_EHR] = "ehr",
    [CF_TRAINING] = "training", [CF_LICENCE] = "licence",   [CF_BATCHES] = "batches",
    [CF_OWNERS] = "owners",
};

/* Copies every key of every family of src into dst. 0 or -EIO. */
static int copy_all(struct store *src, struct store *dst, uint64_t *total)
{
    *total = 0;
    for (int cf = 0; cf < CF_COUNT; cf++) {
        uint64_t n = 0, bytes = 0;
        size_t chunk = 0;
        struct store_txn *t = store_txn_new_unindexed(dst);
        struct store_iter *it = store_iter_new(src, (enum store_cf)cf);
        int rc = 0;
        for (; store_iter_valid(it); store_iter_next(it)) {
            size_t kl, vl;
            const void *k = store_iter_key(it, &kl), *v = store_iter_value(it, &vl);
            store_txn_put(t, (enum store_cf)cf, k, kl, v, vl);
            n++;
            chunk += kl + vl;
            bytes += kl + vl;
            if (chunk >= CHUNK_BYTES) {
                rc = store_txn_commit(t);
                store_txn_free(t);
                t = store_txn_new_unindexed(dst);
                chunk = 0;
                if (rc)
                    break;
            }
        }
        if (!rc)
            rc = store_txn_commit(t);
        store_txn_free(t);
        store_iter_free(it);
        if (rc)
            return -EIO;
        log_info("backup: %-8s %12llu keys, %llu bytes", family_names[cf] ? family_names[cf] : "?",
                 (unsigned long long)n, (unsigned long long)bytes);
        *total += n;
    }
    return 0;
}

int backup_main(int argc, char **argv)
{
    const char *config = NULL, *to = NULL;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"to", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 't': to = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (!config || !to || !*to || optind < argc) {
        usage(stderr);
        return EX_USAGE;
    }
    struct agg_config cfg;
    char err[512];
    if (agg_config_load(&cfg, config, err, sizeof err)) {
        log_error("%s", err);
        agg_config_free(&cfg);
        return EX_CONFIG;
    }
    log_set_format((enum log_format)cfg.log_format);
    int rc = 0;
    struct store *src = NULL, *dst = NULL;
    size_t tmplen = strlen(to) + 32;
    char *tmp = xmalloc(tmplen);
    snprintf(tmp, tmplen, "%s.tmp-%ld", to, (long)getpid());
    struct stat st;
    if (lstat(to, &st) == 0) {
        log_error("backup: %s exists; give a new folder (a backup never overwrites)", to);
        rc = EX_CANTCREAT;
        goto done;
    }
    if (access(cfg.db_path, F_OK) != 0) {
        log_error("no database at %s (db_path): has the aggregator run yet?", cfg.db_path);
        rc = EX_NOINPUT;
        goto done;
    }
    if (store_open(&src, cfg.db_path, false, true, err, sizeof err) || store_catch_up(src)) {
        log_error("%s", src ? "cannot read the database" : err);
        rc = EX_NOINPUT;
        goto done;
    }
    if (store_open(&dst, tmp, false, false, err, sizeof err)) {
        log_error("backup: %s", err);
        rc = EX_CANTCREAT;
        goto done;
    }
    log_info("backup: copying %s into %s", cfg.db_path, to);
    uint64_t total = 0;
    if (copy_all(src, dst, &total) || store_flush(dst)) {
        log_error("backup: writing %s failed (it is removed)", tmp);
        rc = EX_IOERR;
        goto done;
    }
    store_close(dst);
    dst = NULL;
    if (rename(tmp, to) != 0) {
        log_error("backup: cannot rename %s to %s: %s", tmp, to, strerror(errno));
        rc = EX_CANTCREAT;
        goto done;
    }
    log_info("backup: done, %llu keys in %s", (unsigned long long)total, to);
done:
    if (dst)
        store_close(dst);
    if (rc && access(tmp, F_OK) == 0) /* only this run makes tmp (its name has our pid) */
        store_destroy(tmp);
    store_close(src);
    xfree(tmp);
    agg_config_free(&cfg);
    return rc;
}
