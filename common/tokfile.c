/* tokfile.c - reading bearer-token files: the first-line token and line-by-line lists. */
#include "common/tokfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
#include "common/xalloc.h"

int tokfile_read_token(const char *path, char **out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char line[TOKFILE_MAX_LINE + 2]; /* the longest line, its '\n' and the NUL */
    const char *got = fgets(line, sizeof line, f);
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc)
        return rc;
    const char *s = got ? line : "";
    size_t n = strcspn(s, "\n");
    if (n > TOKFILE_MAX_LINE)
        return -E2BIG;
    str_trim(&s, &n);
    if (!n)
        return -ENODATA;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7E)
            return -EILSEQ;
    *out = xstrndup(s, n);
    return 0;
}

int tokfile_each_line(const char *path, tokfile_line_fn fn, void *ud)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = 0;
    while (!rc && (n = getline(&line, &cap, f)) != -1) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        if (n && line[n - 1] == '\r')
            line[--n] = '\0';
        rc = fn(ud, line, ++lineno);
    }
    if (!rc && ferror(f))
        rc = -EIO;
    fclose(f);
    free(line); /* getline's buffer comes from libc's malloc */
    return rc;
}
