/* tokfile.h - bearer-token files: one token on a first line, or a list read line by line. */
#ifndef CADRE_TOKFILE_H
#define CADRE_TOKFILE_H

#include <stddef.h>

/* Longest first line of a token file, in bytes without its line ending. */
#define TOKFILE_MAX_LINE 4095

/* Reads the token on the first line of the file at path: the bytes before the first '\n',
 * without surrounding ASCII white space (so a CRLF ending goes too). Returns 0 with *out
 * set (NUL-terminated; caller frees with xfree), else *out untouched and: -errno when the
 * file cannot be opened (errno also set, for strerror), -EIO on a read error, -E2BIG when
 * the first line is longer than TOKFILE_MAX_LINE bytes, -ENODATA when it holds nothing but
 * white space (or the file is empty), -EILSEQ when the token holds a byte that is not
 * visible ASCII (0x21 to 0x7E: an HTTP header could not carry it). Thread-safe. */
int tokfile_read_token(const char *path, char **out);

/* Called with each line, NUL-terminated and without its "\n" or "\r\n" (a NUL byte in the
 * line ends it early for the callee), and its 1-based number. The callee may change the
 * text in place. Return 0 to go on, anything else to stop. */
typedef int (*tokfile_line_fn)(void *ud, char *line, int lineno);

/* Calls fn for every line of the file at path, the last one also without a line ending.
 * Lines may be of any length. Returns 0 after the last line, fn's value when it stopped
 * the reading, -errno when the file cannot be opened (errno also set) or -EIO on a read
 * error. Thread-safe. */
int tokfile_each_line(const char *path, tokfile_line_fn fn, void *ud);

#endif
