/* spool.c - segment files of CRC-checked batch entries, with a small state file.
 *
 * Entry: len(4, BE) | crc(4, BE, CRC32C of len and payload) | payload(len)
 * Payload: seq(8, BE) | nrec(4, BE) | records (cadre.Batch field 7, as sent)
 * State (checkpoint file "state"): head, next_seq, dropped_records. Every batch with
 * seq < head is done; batches leave in order, so the done ones are always a prefix.
 */
#include "agent/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <isa-l.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "common/log.h"
#include "common/reckey.h"
#include "common/xalloc.h"

#define ENTRY_HEAD 8
#define PAYLOAD_HEAD 12
#define MAX_ENTRY (1u << 30)
#define DEFAULT_SEGMENT (8u << 20)

struct seg {
    uint64_t no;
    int fd;
    uint64_t size;
    uint64_t last_seq; /* seq of its last entry; 0 when it holds none */
    bool dirty;        /* appended to since its last fdatasync */
};

struct entry {
    uint64_t seq;
    uint64_t seg_no;
    uint64_t off; /* of the entry header in its segment */
    uint32_t len; /* payload bytes */
    uint32_t nrec;
};

struct spool {
    pthread_mutex_t mu;
    pthread_mutex_t append_mu; /* one append at a time; taken before mu */
    bool appending;            /* an append syncs its segment with mu released: keep that segment */
    char *dir;
    struct spool_opts o;
    struct seg *segs; /* by segment number; the last one takes appends */
    size_t nsegs, capsegs;
    struct entry *ents; /* pending entries are ents[first..nents) */
    size_t first, nents, capents;
    uint64_t head, next_seq;
    uint64_t bytes;
    uint64_t dropped_records, dropped_batches, corrupt;
    uint64_t cut_entries_bound; /* most entries the bytes cut off at open could have held */
    /* The batches the sender holds (spool_peek, spool_peek_next): in flight. The cap may
     * take one out of the spool while it is in flight; it is then not counted as dropped,
     * since the sender may still deliver it. Closed or given back (spool_unpeek) before
     * it was delivered, it is counted then. (A kill -9 in that window loses these batches
     * uncounted.) */
    struct held {
        uint64_t seq;
        uint32_t nrec;
        bool dropped;
    } held[SPOOL_MAX_HELD];
    size_t nheld;
    int64_t synced_ms; /* monotonic time of the last sync (SPOOL_FSYNC_INTERVAL) */
    bool state_stale;  /* acks moved head past the state file's (spool_done) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fdatasyncs every dirty segment. Lock held. */
static int sync_dirty(struct spool *sp)
{
    int rc = 0;
    for (size_t i = 0; i < sp->nsegs; i++) {
        if (sp->segs[i].dirty) {
            if (fdatasync(sp->segs[i].fd) && !rc)
                rc = -errno;
            else
                sp->segs[i].dirty = false;
        }
    }
    sp->synced_ms = mono_ms();
    return rc;
}

static struct seg *find_seg(struct spool *sp, uint64_t no);

/* sync_dirty for the interval timer: a second's worth of appends can take a while to
 * flush, so the lock is released meanwhile and neither the sender nor the readers wait on
 * it. Lock held on entry and on return. Each segment is synced through a duplicate of its
 * descriptor, so one the sender closes meanwhile is still synced safely; an append
 * meanwhile marks its segment dirty again, for the next sync. */
static int sync_dirty_unlocked(struct spool *sp)
{
    struct pending {
        int fd;
        uint64_t no;
    } *v = xcalloc(sp->nsegs + 1, sizeof *v);
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < sp->nsegs; i++) {
        struct seg *g = &sp->segs[i];
        if (!g->dirty)
            continue;
        int fd = fcntl(g->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) { /* out of descriptors: sync this one with the lock held */
            if (fdatasync(g->fd) && !rc)
                rc = -errno;
            else
                g->dirty = false;
            continue;
        }
        v[n++] = (struct pending){.fd = fd, .no = g->no};
        g->dirty = false;
    }
    sp->synced_ms = mono_ms();
    pthread_mutex_unlock(&sp->mu);
    for (size_t i = 0; i < n; i++) {
        if (fdatasync(v[i].fd)) {
            if (!rc)
                rc = -errno;
        } else {
            v[i].no = UINT64_MAX; /* synced */
        }
        close(v[i].fd);
    }
    pthread_mutex_lock(&sp->mu);
    for (size_t i = 0; i < n; i++) {
        struct seg *g = v[i].no == UINT64_MAX ? NULL : find_seg(sp, v[i].no);
        if (g)
            g->dirty = true;
    }
    xfree(v);
    return rc;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t entry_crc(const uint8_t *lenbytes, const uint8_t *payload, size_t len)
{
    uint32_t crc = crc32_iscsi((unsigned char *)lenbytes, 4, 0xFFFFFFFFu);
    return crc32_iscsi((unsigned char *)payload, (int)len, crc);
}

static void seg_path(const struct spool *sp, uint64_t no, char *out, size_t n)
{
    snprintf(out, n, "%s/seg-%016" PRIx64 ".log", sp->dir, no);
}

static int save_state(struct spool *sp)
{
    uint8_t b[24];
    be_put_u64(b, sp->head);
    be_put_u64(b + 8, sp->next_seq);
    be_put_u64(b + 16, sp->dropped_records);
    int rc = ckpt_write(sp->dir, "state", b, sizeof b, sp->o.fsync == SPOOL_FSYNC_ALWAYS);
    if (!rc)
        sp->state_stale = false;
    return rc;
}

/* The held batch seq, or NULL. Lock held. */
static struct held *held_of(struct spool *sp, uint64_t seq)
{
    for (size_t i = 0; i < sp->nheld; i++)
        if (sp->held[i].seq == seq)
            return &sp->held[i];
    return NULL;
}

/* The sender no longer holds h: delivered (counted nowhere), or not (counted as dropped
 * when the cap took it meanwhile). Lock held. */
static void release_held(struct spool *sp, struct held *h, bool delivered)
{
    if (h->dropped && !delivered) { /* it left while in flight and never arrived */
        sp->dropped_records += h->nrec;
        sp->dropped_batches++;
        log_warn("spool: batch %" PRIu64 " (%" PRIu32 " records), dropped by spool_max_bytes "
                 "while in flight, was not delivered; counted as dropped",
                 h->seq, h->nrec);
        int rc = save_state(sp);
        if (rc)
            log_error("spool: cannot save the dropped count: %s", strerror(-rc));
    }
    size_t i = (size_t)(h - sp->held);
    memmove(h, h + 1, (sp->nheld - i - 1) * sizeof *h);
    sp->nheld--;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            return -ENODATA;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void push_entry(struct spool *sp, const struct entry *e)
{
    if (sp->first && sp->first == sp->nents)
        sp->first = sp->nents = 0;
    xgrow((void **)&sp->ents, &sp->capents, sp->nents + 1, sizeof *sp->ents);
    sp->ents[sp->nents++] = *e;
    sp->bytes += ENTRY_HEAD + e->len;
}

/* Reads the entries of segment s, keeping those not yet done; cuts a damaged tail off. */
static int scan_segment(struct spool *sp, struct seg *s, uint64_t *max_seq)
{
    uint64_t off = 0;
    uint8_t *payload = NULL;
    size_t cap = 0;
    while (off < s->size) {
        uint8_t h[ENTRY_HEAD];
        if (s->size - off < ENTRY_HEAD || pread_all(s->fd, h, ENTRY_HEAD, off))
            break;
        uint32_t len = get_u32(h);
        if (len < PAYLOAD_HEAD || len > MAX_ENTRY || s->size - off - ENTRY_HEAD < len)
            break;
        xgrow((void **)&payload, &cap, len, 1);
        if (pread_all(s->fd, payload, len, off + ENTRY_HEAD) ||
            entry_crc(h, payload, len) != get_u32(h + 4))
            break;
        struct entry e = {.seq = be_get_u64(payload),
                          .seg_no = s->no,
                          .off = off,
                          .len = len,
                          .nrec = get_u32(payload + 8)};
        if (e.seq > *max_seq)
            *max_seq = e.seq;
        if (e.seq >= sp->head && (sp->nents == 0 || e.seq > sp->ents[sp->nents - 1].seq)) {
            push_entry(sp, &e);
            s->last_seq = e.seq;
        }
        off += ENTRY_HEAD + len;
    }
    xfree(payload);
    if (off < s->size) {
        log_warn("spool: segment %016" PRIx64 ": damaged or torn entry at byte %" PRIu64
                 ", %" PRIu64 " bytes cut off",
                 s->no, off, s->size - off);
        sp->corrupt++;
        sp->cut_entries_bound += (s->size - off) / (ENTRY_HEAD + PAYLOAD_HEAD) + 1;
        if (ftruncate(s->fd, (off_t)off))
            return -errno;
        s->size = off;
        if (sp->o.fsync != SPOOL_FSYNC_NEVER && fsync(s->fd))
            return -errno;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Closes and removes the oldest segments whose entries are all done. */
static void drop_done_segments(struct spool *sp)
{
    size_t k = 0;
    while (k < sp->nsegs && sp->segs[k].last_seq < sp->head &&
           !(sp->appending && k == sp->nsegs - 1)) {
        char path[4096];
        seg_path(sp, sp->segs[k].no, path, sizeof path);
        close(sp->segs[k].fd);
        if (unlink(path))
            log_warn("spool: cannot remove %s: %s", path, strerror(errno));
        k++;
    }
    if (k) {
        memmove(sp->segs, sp->segs + k, (sp->nsegs - k) * sizeof *sp->segs);
        sp->nsegs -= k;
    }
}

void spool_close(struct spool *sp)
{
    if (!sp)
        return;
    while (sp->nheld)
        release_held(sp, &sp->held[0], false);
    if (sp->state_stale) /* a clean stop sends no acked batch again */
        save_state(sp);
    if (sp->o.fsync != SPOOL_FSYNC_NEVER)
        sync_dirty(sp);
    for (size_t i = 0; i < sp->nsegs; i++)
        close(sp->segs[i].fd);
    pthread_mutex_destroy(&sp->mu);
    pthread_mutex_destroy(&sp->append_mu);
    xfree(sp->segs);
    xfree(sp->ents);
    xfree(sp->dir);
    xfree(sp);
}

int spool_open(struct spool **out, const char *dir, const struct spool_opts *opts)
{
    struct spool *sp = xcalloc(1, sizeof *sp);
    pthread_mutex_init(&sp->mu, NULL);
    pthread_mutex_init(&sp->append_mu, NULL);
    sp->dir = xstrdup(dir);
    sp->o = *opts;
    if (!sp->o.segment_bytes)
        sp->o.segment_bytes = DEFAULT_SEGMENT;
    if (sp->o.fsync_interval_ms <= 0)
        sp->o.fsync_interval_ms = 1000;
    sp->synced_ms = mono_ms();
    uint64_t *nos = NULL;
    size_t nnos = 0, capnos = 0;
    DIR *d = NULL;
    int rc;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        rc = -errno;
        goto fail;
    }
    uint8_t *st = NULL;
    size_t stlen = 0;
    rc = ckpt_read(dir, "state", &st, &stlen);
    if (rc == 0 && stlen == 24) {
        sp->head = be_get_u64(st);
        sp->next_seq = be_get_u64(st + 8);
        sp->dropped_records = be_get_u64(st + 16);
    } else if (rc != -ENOENT) {
        log_warn("spool: %s/state unreadable (%s); starting from its segments", dir,
                 strerror(rc < 0 ? -rc : EBADMSG));
    }
    xfree(st);
    if (!(d = opendir(dir))) {
        rc = -errno;
        goto fail;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t no;
        char tail[8];
        if (sscanf(de->d_name, "seg-%16" SCNx64 ".%4s", &no, tail) == 2 &&
            strcmp(tail, "log") == 0) {
            xgrow((void **)&nos, &capnos, nnos + 1, sizeof *nos);
            nos[nnos++] = no;
        }
    }
    closedir(d);
    d = NULL;
    if (nnos)
        qsort(nos, nnos, sizeof *nos, cmp_u64);
    uint64_t max_seq = 0;
    for (size_t i = 0; i < nnos; i++) {
        char path[4096];
        seg_path(sp, nos[i], path, sizeof path);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb)) {
            rc = -errno;
            if (fd >= 0)
                close(fd);
            goto fail;
        }
        xgrow((void **)&sp->segs, &sp->capsegs, sp->nsegs + 1, sizeof *sp->segs);
        struct seg *s = &sp->segs[sp->nsegs++];
        *s = (struct seg){.no = nos[i], .fd = fd, .size = (uint64_t)sb.st_size};
        if ((rc = scan_segment(sp, s, &max_seq)))
            goto fail;
    }
    if (sp->next_seq <= max_seq)
        sp->next_seq = max_seq + 1;
    /* Entries cut off may have been sent (not acked): their seqs are never used again. */
    sp->next_seq += sp->cut_entries_bound;
    if (sp->next_seq < sp->head)
        sp->next_seq = sp->head;
    if (sp->next_seq == 0)
        sp->next_seq = 1;
    if (sp->nents == sp->first)
        sp->head = sp->next_seq;
    else
        sp->head = sp->ents[sp->first].seq;
    drop_done_segments(sp);
    if ((rc = save_state(sp)))
        goto fail;
    xfree(nos);
    *out = sp;
    return 0;
fail:
    if (d)
        closedir(d);
    xfree(nos);
    spool_close(sp);
    return rc;
}

/* Marks the oldest pending entry done (without saving the state). */
static void pop_oldest(struct spool *sp)
{
    struct entry *e = &sp->ents[sp->first++];
    sp->bytes -= ENTRY_HEAD + e->len;
    sp->head = sp->first < sp->nents ? sp->ents[sp->first].seq : sp->next_seq;
}

static int new_segment(struct spool *sp)
{
    uint64_t no = sp->nsegs ? sp->segs[sp->nsegs - 1].no + 1 : 1;
    if (!sp->nsegs) { /* continue numbering after segments removed earlier */
        no = sp->head ? sp->head : 1;
    }
    char path[4096];
    seg_path(sp, no, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (sp->o.fsync != SPOOL_FSYNC_NEVER && fsync_dir(sp->dir)) {
        int rc = -errno;
        close(fd);
        unlink(path);
        return rc;
    }
    xgrow((void **)&sp->segs, &sp->capsegs, sp->nsegs + 1, sizeof *sp->segs);
    sp->segs[sp->nsegs++] = (struct seg){.no = no, .fd = fd};
    return 0;
}

/* fsync = always: syncs the segment *gp just written with mu released, so the sender and
 * the readers do not wait for the disk (the entry is not in the spool's list yet, and
 * drop_done_segments keeps the segment meanwhile). mu held on entry and on return; *gp
 * is looked up again. Falls back to syncing under the lock when the descriptor cannot be
 * duplicated. 0 or -errno. */
static int sync_appended(struct spool *sp, struct seg **gp)
{
    uint64_t no = (*gp)->no;
    int fd = dup((*gp)->fd);
    if (fd < 0)
        return sync_dirty(sp);
    sp->appending = true;
    pthread_mutex_unlock(&sp->mu);
    int rc = fdatasync(fd) ? -errno : 0;
    close(fd);
    pthread_mutex_lock(&sp->mu);
    sp->appending = false;
    *gp = find_seg(sp, no);
    if (!rc)
        (*gp)->dirty = false;
    for (size_t i = 0; !rc && i < sp->nsegs; i++) /* one an earlier failure left */
        if (sp->segs[i].dirty)
            rc = sync_dirty(sp);
    sp->synced_ms = mono_ms();
    return rc;
}

int spool_append(struct spool *sp, const uint8_t *recs, size_t len, uint32_t nrec, uint64_t *seq)
{
    if (len > MAX_ENTRY - PAYLOAD_HEAD)
        return -E2BIG;
    uint32_t plen = (uint32_t)(len + PAYLOAD_HEAD);
    uint8_t *buf = xmalloc(ENTRY_HEAD + plen);
    int rc = 0;
    pthread_mutex_lock(&sp->append_mu);
    pthread_mutex_lock(&sp->mu);
    uint64_t dropped_now = 0, dropped_batches_now = 0;
    bool popped = false;
    while (sp->o.max_bytes && sp->first < sp->nents &&
           sp->bytes + ENTRY_HEAD + plen > sp->o.max_bytes) {
        struct held *h = held_of(sp, sp->ents[sp->first].seq);
        if (h) {
            /* In flight: the sender holds a copy and may yet deliver it; not counted. */
            h->dropped = true;
        } else {
            dropped_now += sp->ents[sp->first].nrec;
            dropped_batches_now++;
        }
        pop_oldest(sp);
        popped = true;
    }
    if (dropped_batches_now) {
        sp->dropped_records += dropped_now;
        sp->dropped_batches += dropped_batches_now;
        log_warn("spool: over spool_max_bytes; dropped the %" PRIu64 " oldest batches (%" PRIu64
                 " records)",
                 dropped_batches_now, dropped_now);
    }
    if (popped) { /* the new head (and count) must outlive a restart */
        if ((rc = save_state(sp)))
            goto out;
        drop_done_segments(sp);
    }
    uint64_t s = sp->next_seq;
    put_u32(buf, plen);
    be_put_u64(buf + ENTRY_HEAD, s);
    put_u32(buf + ENTRY_HEAD + 8, nrec);
    if (len)
        memcpy(buf + ENTRY_HEAD + PAYLOAD_HEAD, recs, len);
    put_u32(buf + 4, entry_crc(buf, buf + ENTRY_HEAD, plen));
    if (!sp->nsegs || sp->segs[sp->nsegs - 1].size >= sp->o.segment_bytes)
        if ((rc = new_segment(sp)))
            goto out;
    struct seg *g = &sp->segs[sp->nsegs - 1];
    rc = pwrite_all(g->fd, buf, ENTRY_HEAD + plen, g->size);
    if (!rc) {
        g->dirty = true;
        if (sp->o.fsync == SPOOL_FSYNC_ALWAYS)
            rc = sync_appended(sp, &g);
    }
    if (rc) {
        if (ftruncate(g->fd, (off_t)g->size))
            log_warn("spool: cannot cut a failed append off: %s", strerror(errno));
        goto out;
    }
    push_entry(
        sp, &(struct entry){.seq = s, .seg_no = g->no, .off = g->size, .len = plen, .nrec = nrec});
    if (sp->first == sp->nents - 1)
        sp->head = s;
    g->size += ENTRY_HEAD + plen;
    g->last_seq = s;
    sp->next_seq = s + 1;
    *seq = s;
    /* Interval mode: the batch is in the spool now; a failed sync leaves its segments
     * dirty for the next one and does not undo this append. */
    if (sp->o.fsync == SPOOL_FSYNC_INTERVAL &&
        mono_ms() - sp->synced_ms >= sp->o.fsync_interval_ms) {
        int src = sync_dirty_unlocked(sp);
        if (src)
            log_error("spool: sync: %s", strerror(-src));
    }
out:
    pthread_mutex_unlock(&sp->mu);
    pthread_mutex_unlock(&sp->append_mu);
    xfree(buf);
    return rc;
}

static struct seg *find_seg(struct spool *sp, uint64_t no)
{
    for (size_t i = 0; i < sp->nsegs; i++)
        if (sp->segs[i].no == no)
            return &sp->segs[i];
    return NULL;
}

/* Copies pending entry i into *b and holds it. Lock held. 0 or -errno. */
static int hold_entry(struct spool *sp, size_t i, struct spool_batch *b)
{
    struct entry e = sp->ents[i];
    struct seg *g = find_seg(sp, e.seg_no);
    if (!g)
        return -EIO;
    uint8_t h[ENTRY_HEAD];
    uint8_t *p = xmalloc(e.len);
    int rc = pread_all(g->fd, h, ENTRY_HEAD, e.off);
    if (!rc)
        rc = pread_all(g->fd, p, e.len, e.off + ENTRY_HEAD);
    if (!rc && entry_crc(h, p, e.len) != get_u32(h + 4))
        rc = -EBADMSG;
    if (rc) {
        xfree(p);
        return rc;
    }
    b->seq = e.seq;
    b->nrec = e.nrec;
    b->len = e.len - PAYLOAD_HEAD;
    memmove(p, p + PAYLOAD_HEAD, b->len);
    b->recs = p;
    struct held *hd = held_of(sp, e.seq);
    if (!hd) {
        if (sp->nheld == SPOOL_MAX_HELD) /* a caller that forgot one: the oldest hold goes */
            release_held(sp, &sp->held[0], false);
        hd = &sp->held[sp->nheld++];
    }
    *hd = (struct held){.seq = e.seq, .nrec = e.nrec};
    return 0;
}

int spool_peek(struct spool *sp, struct spool_batch *b)
{
    pthread_mutex_lock(&sp->mu);
    int rc = -ENOENT;
    if (sp->first < sp->nents) {
        /* The sender starts over from the oldest: what else it held, it gave up. */
        for (size_t i = sp->nheld; i-- > 0;)
            if (sp->held[i].seq != sp->ents[sp->first].seq)
                release_held(sp, &sp->held[i], false);
        rc = hold_entry(sp, sp->first, b);
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int spool_peek_next(struct spool *sp, uint64_t after, struct spool_batch *b)
{
    pthread_mutex_lock(&sp->mu);
    int rc = -ENOENT;
    for (size_t i = sp->first; i + 1 < sp->nents; i++) {
        if (sp->ents[i].seq == after) {
            rc = hold_entry(sp, i + 1, b);
            break;
        }
    }
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

void spool_unpeek(struct spool *sp, uint64_t seq)
{
    pthread_mutex_lock(&sp->mu);
    struct held *h = held_of(sp, seq);
    if (h)
        release_held(sp, h, false);
    pthread_mutex_unlock(&sp->mu);
}

int spool_done(struct spool *sp, uint64_t seq)
{
    pthread_mutex_lock(&sp->mu);
    int rc = 0;
    if (sp->first == sp->nents || sp->ents[sp->first].seq != seq) {
        bool pending = false;
        for (size_t i = sp->first; i < sp->nents; i++)
            pending |= sp->ents[i].seq == seq;
        rc = pending ? -EINVAL : 0; /* not the oldest: a caller bug; gone: see below */
        struct held *h = held_of(sp, seq);
        if (!pending && h) /* left the spool while in flight, then delivered */
            release_held(sp, h, true);
        goto out;
    }
    struct held *h = held_of(sp, seq);
    if (h)
        release_held(sp, h, true);
    pop_oldest(sp);
    /* The head an ack moves is saved when it lets a segment go, and at close. After a
     * crash the older head only means some acked batches are sent again, which the
     * aggregator recognises as duplicates; saving (two syncs) at every ack cost more than
     * the sending itself. It must be saved before a segment is removed, so a restart never
     * takes next_seq from a state older than the segments it no longer finds and reuses a
     * seq. Segments whose batches are all acked go even when the state cannot be saved (a
     * full disk): they hold nothing to send, and removing them is what frees the space;
     * the older persisted head then only means batches that are gone are not looked for. */
    sp->state_stale = true;
    if (sp->nsegs && sp->segs[0].last_seq < sp->head)
        rc = save_state(sp);
    drop_done_segments(sp);
out:
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int spool_reserve_seq(struct spool *sp, uint64_t n, uint64_t *first)
{
    pthread_mutex_lock(&sp->mu);
    *first = sp->next_seq;
    sp->next_seq += n;
    if (sp->first == sp->nents)
        sp->head = sp->next_seq;
    int rc = save_state(sp);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

void spool_get_stats(struct spool *sp, struct spool_stats *st)
{
    pthread_mutex_lock(&sp->mu);
    st->pending_batches = sp->nents - sp->first;
    st->bytes = sp->bytes;
    st->dropped_records = sp->dropped_records;
    st->dropped_batches = sp->dropped_batches;
    st->corrupt_entries = sp->corrupt;
    pthread_mutex_unlock(&sp->mu);
}

int spool_sync(struct spool *sp)
{
    pthread_mutex_lock(&sp->mu);
    int rc = sync_dirty(sp);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}

int spool_tick(struct spool *sp)
{
    if (sp->o.fsync != SPOOL_FSYNC_INTERVAL)
        return 0;
    pthread_mutex_lock(&sp->mu);
    int rc = 0;
    if (mono_ms() - sp->synced_ms >= sp->o.fsync_interval_ms)
        rc = sync_dirty_unlocked(sp);
    pthread_mutex_unlock(&sp->mu);
    return rc;
}
