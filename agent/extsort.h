/* extsort.h - sorting (key, value) pairs in bounded memory, keeping the last value of a key.
 *
 * Pairs are collected in a buffer of a set size; a full buffer is sorted by key (then by
 * arrival) and written as a sorted run to an anonymous temporary file. Reading merges the
 * runs, at most EXTSORT_FANIN at a time, and yields each key once with the value added last
 * for it. Memory: the buffer plus one read buffer per run being merged (docs/agent.md,
 * "CSV snapshot sources"). Keys are compared as bytes, shorter first on a tie. One thread.
 */
#ifndef CADRE_AGENT_EXTSORT_H
#define CADRE_AGENT_EXTSORT_H

#include <stddef.h>
#include <stdint.h>

#define EXTSORT_FANIN 64             /* runs merged at once */
#define EXTSORT_READ_BUF (64 << 10)  /* read buffer per run while merging */
#define EXTSORT_MAX_KEY 65535        /* longest key */
#define EXTSORT_MAX_VALUE (1u << 30) /* longest value */

struct extsort;

/* A sorter whose buffer holds about run_bytes (keys, values and their index) before a run
 * is written; runs go to anonymous files in tmp_dir (NULL: $TMPDIR, see seqfile_tmp).
 * Caller frees with extsort_free(). */
struct extsort *extsort_new(size_t run_bytes, const char *tmp_dir);

/* Adds a pair (both copied). Pairs of one key added later win. Returns 0, -EINVAL for a
 * key or value out of bounds, or -errno when a run cannot be written. */
int extsort_add(struct extsort *s, const void *key, size_t klen, const void *val, size_t vlen);

/* Ends the adding and prepares the merge (which may write merged runs when there are more
 * than EXTSORT_FANIN). Returns 0 or -errno. */
int extsort_finish(struct extsort *s);

/* The next key in order and its last value: 1 with the pointers set (valid until the next
 * call), 0 at the end, or -errno. Only after extsort_finish returned 0. */
int extsort_next(struct extsort *s, const uint8_t **key, size_t *klen, const uint8_t **val,
                 size_t *vlen);

/* Runs written so far (for tests and logs). */
size_t extsort_runs(const struct extsort *s);

/* Frees the sorter, closing (and so deleting) its files. NULL is ignored. */
void extsort_free(struct extsort *s);

#endif
