/* fuzz_store.h - the scratch store, KPI model and ingest stage the batch targets share.
 *
 * Header-only (each target is one program). One RocksDB store (sync_writes off) in a
 * mkdtemp folder under $TMPDIR, a KPI model and an ingest stage over them; fz_tick() makes
 * them afresh every `every` inputs so the database stays small, and the folder is removed
 * at exit. Rejected-record warnings are silenced.
 */
#ifndef CADRE_FUZZ_STORE_H
#define CADRE_FUZZ_STORE_H

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/ingest.h"
#include "aggregator/kpi_model.h"
#include "aggregator/store.h"
#include "cadre.pb-c.h"
#include "common/log.h"

static struct {
    char dir[4096];
    struct store *store;
    struct kpi_model *model;
    struct ingest *ing;
    unsigned inputs; /* since the store was made */
} fz;

static int fz_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fz_close(void)
{
    if (!fz.store)
        return;
    ingest_free(fz.ing);
    kpi_model_free(fz.model);
    store_close(fz.store);
    nftw(fz.dir, fz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    fz.store = NULL;
}

static void fz_open(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(fz.dir, sizeof fz.dir, "%s/cadre_fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(fz.dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    char db[4200], err[512];
    snprintf(db, sizeof db, "%s/db", fz.dir);
    if (store_open(&fz.store, db, false, false, err, sizeof err)) {
        fprintf(stderr, "fuzz: %s\n", err);
        abort();
    }
    fz.model = kpi_model_new();
    if (ingest_new(&fz.ing, fz.store, fz.model, NULL, NULL)) {
        fprintf(stderr, "fuzz: ingest_new failed\n");
        abort();
    }
    fz.inputs = 0;
}

/* Call first in every input: opens the store, or makes it afresh every `every` inputs. */
static void fz_tick(unsigned every)
{
    if (!fz.store) {
        log_set_level((enum log_level)(LOG_ERROR + 1));
        fz_open();
        atexit(fz_close);
    } else if (fz.inputs >= every) {
        fz_close();
        fz_open();
    }
    fz.inputs++;
}

static uint64_t fz_hash(const uint8_t *p, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* Packs b as a batch agent "a1" accepts: agent id "a1", a 16-byte spool id and, when it has
 * records or a seq, seq = a hash of the input (data, size), so that a new input is never a
 * duplicate. b is left as it was. Caller frees the result with free(). */
static uint8_t *fz_repack(Cadre__Batch *b, const uint8_t *data, size_t size, size_t *len)
{
    static uint8_t spool[16] = "cadre_fuzz_spool";
    char *agent = b->agent_id;
    ProtobufCBinaryData sid = b->spool_id;
    protobuf_c_boolean has_seq = b->has_seq;
    uint64_t seq = b->seq;
    b->agent_id = (char *)"a1";
    if (b->spool_id.len != 16)
        b->spool_id = (ProtobufCBinaryData){16, spool};
    if (b->n_records || b->has_seq) {
        b->has_seq = 1;
        b->seq = fz_hash(data, size);
    }
    *len = cadre__batch__get_packed_size(b);
    uint8_t *out = malloc(*len ? *len : 1);
    if (!out || cadre__batch__pack(b, out) != *len)
        abort();
    b->agent_id = agent;
    b->spool_id = sid;
    b->has_seq = has_seq;
    b->seq = seq;
    return out;
}

#endif
