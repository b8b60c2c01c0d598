/* seqfile.h - buffered sequential reads and writes of state and temporary files, CRC32C.
 *
 * The CSV sources stream their sorted runs and key maps through these instead of holding
 * them in memory (docs/agent.md, "CSV snapshot sources"). A reader or writer wraps a file
 * descriptor it does not own; its buffer is the only memory it holds. One thread each.
 */
#ifndef CADRE_AGENT_SEQFILE_H
#define CADRE_AGENT_SEQFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opens an anonymous temporary file for reading and writing in dir (NULL: $TMPDIR, else
 * /tmp): O_TMPFILE where the file system has it, else a file unlinked right after it is
 * made. Nothing is left behind when it is closed. Returns the descriptor (caller closes)
 * or -errno. */
int seqfile_tmp(const char *dir);

/* Writes through a buffer; the first error sticks in err and later calls do nothing. */
struct seqw {
    int fd;       /* not owned */
    uint8_t *buf; /* cap bytes */
    size_t len, cap;
    uint64_t written; /* bytes handed to seqw_put so far */
    uint32_t crc;     /* running CRC32C of those bytes but buf's (see seqw_crc) */
    int err;          /* 0 or the first -errno */
};

/* Starts writing at fd's current offset with a buffer of cap bytes (xfree'd by
 * seqw_free). */
void seqw_init(struct seqw *w, int fd, size_t cap);
void seqw_put(struct seqw *w, const void *p, size_t n);
void seqw_u8(struct seqw *w, uint8_t v);
void seqw_u32(struct seqw *w, uint32_t v); /* big-endian */
void seqw_u64(struct seqw *w, uint64_t v); /* big-endian */
/* The CRC32C of every byte put so far. */
uint32_t seqw_crc(const struct seqw *w);
/* Writes the buffer out. Returns 0 or the sticky -errno. */
int seqw_flush(struct seqw *w);
/* Frees the buffer (not the descriptor); unflushed bytes are dropped. */
void seqw_free(struct seqw *w);

/* Reads through a buffer. */
struct seqr {
    int fd; /* not owned */
    uint8_t *buf;
    size_t pos, len, cap;
    uint64_t consumed; /* bytes returned by seqr_get so far */
    uint32_t crc;      /* running CRC32C of those bytes before buf + crc_pos (see seqr_crc) */
    size_t crc_pos;    /* buf[crc_pos, pos) is returned, not yet in crc */
    int err;           /* 0, or -errno of a failed read, or -EBADMSG after a short read */
};

/* Starts reading at fd's current offset with a buffer of cap bytes (grown when one
 * seqr_get asks for more; xfree'd by seqr_free). */
void seqr_init(struct seqr *r, int fd, size_t cap);
/* The next n contiguous bytes, valid until the next call, or NULL at the end of the file
 * or on an error (err tells which: 0 when the file ended exactly before them, -EBADMSG
 * when it ended inside them). */
const uint8_t *seqr_get(struct seqr *r, size_t n);
/* The next byte or big-endian integer; at the end or on an error they return 0 and set
 * err (-EBADMSG when the file ended). */
uint8_t seqr_u8(struct seqr *r);
uint32_t seqr_u32(struct seqr *r);
uint64_t seqr_u64(struct seqr *r);
/* The CRC32C of every byte returned so far. */
uint32_t seqr_crc(const struct seqr *r);
void seqr_free(struct seqr *r);

#endif
