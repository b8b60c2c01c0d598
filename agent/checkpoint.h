/* checkpoint.h - small state files written atomically and read back with a checksum. */
#ifndef CADRE_AGENT_CHECKPOINT_H
#define CADRE_AGENT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes len bytes to dir/name atomically: a temporary file in dir is written, fsynced (when
 * sync), renamed over dir/name, then dir is fsynced (when sync). The file carries a magic,
 * the length and a CRC32C. Returns 0 or -errno (the old file is then untouched). */
int ckpt_write(const char *dir, const char *name, const void *data, size_t len, bool sync);

/* The same, atomic and synced alike, but the file holds exactly the len bytes (no magic,
 * length or CRC): for files people read with other tools, such as rejected/ batches. */
int ckpt_write_plain(const char *dir, const char *name, const void *data, size_t len, bool sync);

/* Reads what ckpt_write wrote. Returns 0 with *data (caller frees with xfree) and *len,
 * -ENOENT when the file does not exist, -EBADMSG when it is damaged, or -errno. */
int ckpt_read(const char *dir, const char *name, uint8_t **data, size_t *len);

/* fsyncs the folder at path (after a rename or create in it). 0 or -errno. */
int fsync_dir(const char *path);

/* Builds checkpoint contents: little helpers over a growing buffer. */
struct ckpt_buf {
    uint8_t *p;
    size_t len, cap;
};
void ckpt_put_u64(struct ckpt_buf *b, uint64_t v);
void ckpt_put_bytes(struct ckpt_buf *b, const void *p, size_t n); /* u64 length + bytes */
void ckpt_buf_free(struct ckpt_buf *b);

/* Reads checkpoint contents back; a short read sets bad and yields zeros. */
struct ckpt_in {
    const uint8_t *p;
    size_t len, off;
    bool bad;
};
uint64_t ckpt_get_u64(struct ckpt_in *in);
/* Points *p into the buffer (not copied); returns the length. */
size_t ckpt_get_bytes(struct ckpt_in *in, const uint8_t **p);

#endif
