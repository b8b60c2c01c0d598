/* extsort.c - external sort of (key, value) pairs: sorted runs in temp files, k-way merge. */
#include "agent/extsort.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/seqfile.h"
#include "common/xalloc.h"

#define ENTRY_HEAD 8         /* u32 klen, u32 vlen: in the buffer (native) and runs (BE) */
#define WRITE_BUF (64 << 10) /* write buffer of a run */

/* One input of a merge: a run file, or the sorted buffer (fd -1). */
struct src {
    int fd;
    struct seqr r;
    size_t next; /* buffer: index of the next entry */
    size_t ord;  /* position among the runs: on one key the higher wins */
    const uint8_t *k, *v;
    size_t kl, vl;
};

struct merge {
    struct src *s;
    size_t n;
    size_t *heap; /* indexes into s, ordered by (key, ord) */
    size_t nheap;
    size_t *pend; /* the sources whose current pair was the last key handed out */
    size_t npend;
};

struct extsort {
    size_t run_bytes;
    char *dir;
    uint8_t *arena; /* entries: u32 klen, u32 vlen, key, value */
    size_t alen, acap;
    size_t *idx; /* offsets of the entries in the arena, in arrival order until sorted */
    size_t n, icap;
    int *runs; /* run files in the order written */
    size_t nruns, caprun;
    size_t written; /* runs written in all */
    struct merge m;
    bool finished;
};

static int cmp_key(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static void entry_at(const struct extsort *s, size_t off, const uint8_t **k, size_t *kl,
                     const uint8_t **v, size_t *vl)
{
    uint32_t h[2];
    memcpy(h, s->arena + off, sizeof h);
    *kl = h[0];
    *vl = h[1];
    *k = s->arena + off + ENTRY_HEAD;
    *v = *k + h[0];
}

/* Orders buffer entries by key, then by offset (= arrival). */
static int cmp_entry(const void *x, const void *y, void *ud)
{
    const struct extsort *s = ud;
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    const uint8_t *ka, *kb, *va, *vb;
    size_t kla, klb, vla, vlb;
    entry_at(s, a, &ka, &kla, &va, &vla);
    entry_at(s, b, &kb, &klb, &vb, &vlb);
    int c = cmp_key(ka, kla, kb, klb);
    return c ? c : (a > b) - (a < b);
}

struct extsort *extsort_new(size_t run_bytes, const char *tmp_dir)
{
    struct extsort *s = xcalloc(1, sizeof *s);
    s->run_bytes = run_bytes;
    s->dir = tmp_dir ? xstrdup(tmp_dir) : NULL;
    return s;
}

/* ---- merging ---- */

/* Moves src to its next pair: 1, 0 when it has none left, or -errno. */
static int src_advance(struct extsort *s, struct src *x)
{
    if (x->fd < 0) {
        if (x->next >= s->n)
            return 0;
        /* Of the entries with one key (adjacent once sorted) the last arrived wins. */
        size_t i = x->next;
        entry_at(s, s->idx[i], &x->k, &x->kl, &x->v, &x->vl);
        while (i + 1 < s->n) {
            const uint8_t *k, *v;
            size_t kl, vl;
            entry_at(s, s->idx[i + 1], &k, &kl, &v, &vl);
            if (cmp_key(k, kl, x->k, x->kl))
                break;
            x->v = v;
            x->vl = vl;
            i++;
        }
        x->next = i + 1;
        return 1;
    }
    const uint8_t *h = seqr_get(&x->r, ENTRY_HEAD);
    if (!h)
        return x->r.err;
    x->kl = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
    x->vl = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
    if (x->kl > EXTSORT_MAX_KEY || x->vl > EXTSORT_MAX_VALUE)
        return -EBADMSG;
    const uint8_t *kv = seqr_get(&x->r, x->kl + x->vl);
    if (!kv)
        return x->r.err ? x->r.err : -EBADMSG;
    x->k = kv;
    x->v = kv + x->kl;
    return 1;
}

static bool src_less(const struct src *a, const struct src *b)
{
    int c = cmp_key(a->k, a->kl, b->k, b->kl);
    return c ? c < 0 : a->ord < b->ord;
}

static void heap_push(struct merge *m, size_t i)
{
    size_t j = m->nheap++;
    while (j) {
        size_t p = (j - 1) / 2;
        if (!src_less(&m->s[i], &m->s[m->heap[p]]))
            break;
        m->heap[j] = m->heap[p];
        j = p;
    }
    m->heap[j] = i;
}

static size_t heap_pop(struct merge *m)
{
    size_t top = m->heap[0], last = m->heap[--m->nheap], j = 0;
    for (;;) {
        size_t c = 2 * j + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && src_less(&m->s[m->heap[c + 1]], &m->s[m->heap[c]]))
            c++;
        if (!src_less(&m->s[m->heap[c]], &m->s[last]))
            break;
        m->heap[j] = m->heap[c];
        j = c;
    }
    if (m->nheap)
        m->heap[j] = last;
    return top;
}

static void merge_free(struct merge *m)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->s[i].fd >= 0)
            seqr_free(&m->s[i].r);
    xfree(m->s);
    xfree(m->heap);
    xfree(m->pend);
    *m = (struct merge){0};
}

/* Sets m up over the run files fds[0..n) and, when with_buffer, the sorted buffer (last).
 * The files are read from their start. Returns 0 or -errno. */
static int merge_init(struct extsort *s, struct merge *m, const int *fds, size_t n,
                      bool with_buffer)
{
    size_t total = n + (with_buffer ? 1 : 0);
    *m = (struct merge){.s = xcalloc(total ? total : 1, sizeof *m->s),
                        .heap = xcalloc(total ? total : 1, sizeof *m->heap),
                        .pend = xcalloc(total ? total : 1, sizeof *m->pend)};
    for (size_t i = 0; i < total; i++) {
        struct src *x = &m->s[i];
        x->ord = i;
        x->fd = fds && i < n ? fds[i] : -1;
        if (x->fd >= 0) {
            if (lseek(x->fd, 0, SEEK_SET) < 0)
                return -errno;
            seqr_init(&x->r, x->fd, EXTSORT_READ_BUF);
        }
        m->n = i + 1;
        int rc = src_advance(s, x);
        if (rc < 0)
            return rc;
        if (rc)
            heap_push(m, i);
    }
    return 0;
}

/* The next key: 1 with *win set to the source holding its last value, 0 at the end, or
 * -errno. */
static int merge_next(struct extsort *s, struct merge *m, struct src **win)
{
    for (size_t i = 0; i < m->npend; i++) {
        int rc = src_advance(s, &m->s[m->pend[i]]);
        if (rc < 0)
            return rc;
        if (rc)
            heap_push(m, m->pend[i]);
    }
    m->npend = 0;
    if (!m->nheap)
        return 0;
    m->pend[m->npend++] = heap_pop(m);
    const struct src *first = &m->s[m->pend[0]];
    while (m->nheap) {
        const struct src *t = &m->s[m->heap[0]];
        if (cmp_key(t->k, t->kl, first->k, first->kl))
            break;
        m->pend[m->npend++] = heap_pop(m);
    }
    *win = &m->s[m->pend[m->npend - 1]]; /* popped in (key, ord) order: the last run */
    return 1;
}

/* ---- writing runs ---- */

static void put_pair(struct seqw *w, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    seqw_u32(w, (uint32_t)kl);
    seqw_u32(w, (uint32_t)vl);
    seqw_put(w, k, kl);
    seqw_put(w, v, vl);
}

static void add_run(struct extsort *s, int fd)
{
    xgrow((void **)&s->runs, &s->caprun, s->nruns + 1, sizeof *s->runs);
    s->runs[s->nruns++] = fd;
    s->written++;
}

/* Writes what m yields to a new run file; *out gets its descriptor. 0 or -errno. */
static int write_merge(struct extsort *s, struct merge *m, int *out)
{
    int fd = seqfile_tmp(s->dir);
    if (fd < 0)
        return fd;
    struct seqw w;
    seqw_init(&w, fd, WRITE_BUF);
    struct src *x;
    int rc;
    while ((rc = merge_next(s, m, &x)) == 1)
        put_pair(&w, x->k, x->kl, x->v, x->vl);
    if (!rc)
        rc = seqw_flush(&w);
    seqw_free(&w);
    if (rc) {
        close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

static void sort_buffer(struct extsort *s)
{
    if (s->n > 1)
        qsort_r(s->idx, s->n, sizeof *s->idx, cmp_entry, s);
}

/* Sorts the buffer and writes it as a run; the buffer is then empty. */
static int spill(struct extsort *s)
{
    sort_buffer(s);
    struct merge m;
    int fd = -1;
    int rc = merge_init(s, &m, NULL, 0, true);
    if (!rc)
        rc = write_merge(s, &m, &fd);
    merge_free(&m);
    if (rc)
        return rc;
    add_run(s, fd);
    s->alen = 0;
    s->n = 0;
    return 0;
}

int extsort_add(struct extsort *s, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (s->finished || klen > EXTSORT_MAX_KEY || vlen > EXTSORT_MAX_VALUE)
        return -EINVAL;
    size_t need = ENTRY_HEAD + klen + vlen;
    if (s->n && s->alen + need + (s->n + 1) * sizeof *s->idx > s->run_bytes) {
        int rc = spill(s);
        if (rc)
            return rc;
    }
    xgrow((void **)&s->arena, &s->acap, s->alen + need, 1);
    xgrow((void **)&s->idx, &s->icap, s->n + 1, sizeof *s->idx);
    uint32_t h[2] = {(uint32_t)klen, (uint32_t)vlen};
    uint8_t *p = s->arena + s->alen;
    memcpy(p, h, sizeof h);
    if (klen)
        memcpy(p + ENTRY_HEAD, key, klen);
    if (vlen)
        memcpy(p + ENTRY_HEAD + klen, val, vlen);
    s->idx[s->n++] = s->alen;
    s->alen += need;
    return 0;
}

/* Merges consecutive groups of EXTSORT_FANIN run files into one each, keeping their
 * order, until the files and the buffer can be merged at once. */
static int reduce_runs(struct extsort *s)
{
    while (s->nruns + (s->n ? 1 : 0) > EXTSORT_FANIN) {
        size_t out = 0;
        for (size_t g = 0; g < s->nruns; g += EXTSORT_FANIN) {
            size_t k = s->nruns - g < EXTSORT_FANIN ? s->nruns - g : EXTSORT_FANIN;
            int fd = s->runs[g];
            if (k > 1) {
                struct merge m;
                int rc = merge_init(s, &m, s->runs + g, k, false);
                if (!rc)
                    rc = write_merge(s, &m, &fd);
                merge_free(&m);
                if (rc) {
                    /* Keep every descriptor owned by s->runs so extsort_free closes them. */
                    memmove(s->runs + out, s->runs + g, (s->nruns - g) * sizeof *s->runs);
                    s->nruns = out + s->nruns - g;
                    return rc;
                }
                for (size_t i = 0; i < k; i++)
                    close(s->runs[g + i]);
                s->written++;
            }
            s->runs[out++] = fd;
        }
        s->nruns = out;
    }
    return 0;
}

int extsort_finish(struct extsort *s)
{
    if (s->finished)
        return -EINVAL;
    s->finished = true;
    sort_buffer(s);
    int rc = reduce_runs(s);
    if (!rc)
        rc = merge_init(s, &s->m, s->runs, s->nruns, s->n > 0);
    return rc;
}

int extsort_next(struct extsort *s, const uint8_t **key, size_t *klen, const uint8_t **val,
                 size_t *vlen)
{
    if (!s->finished)
        return -EINVAL;
    struct src *x;
    int rc = merge_next(s, &s->m, &x);
    if (rc == 1) {
        *key = x->k;
        *klen = x->kl;
        *val = x->v;
        *vlen = x->vl;
    }
    return rc;
}

size_t extsort_runs(const struct extsort *s)
{
    return s->written;
}

void extsort_free(struct extsort *s)
{
    if (!s)
        return;
    merge_free(&s->m);
    for (size_t i = 0; i < s->nruns; i++)
        close(s->runs[i]);
    xfree(s->runs);
    xfree(s->arena);
    xfree(s->idx);
    xfree(s->dir);
    xfree(s);
}
