/* inifile.h - INI files through libinih, with line numbers and Cadre's strict line rules. */
#ifndef CADRE_INIFILE_H
#define CADRE_INIFILE_H

#include <stddef.h>

#define INIFILE_MAX_LINE 200

/* Called for each key = value; line is the 1-based line number. Return 0 to go on, or
 * non-zero after writing a message into err (errlen bytes) to stop. */
typedef int (*inifile_fn)(void *ud, const char *section, const char *key, const char *value,
                          int line, char *err, size_t errlen);

/* Parses the file at path. Lines must start in column 1 and be at most INIFILE_MAX_LINE
 * bytes; ';' and '#' start comments. Returns 0, or -EINVAL with "PATH:LINE: message" in
 * err (a file that cannot be opened is "PATH: message"). */
int inifile_parse(const char *path, inifile_fn fn, void *ud, char *err, size_t errlen);

#endif
