/* fuzz_file.h - one scratch file per fuzz process for targets whose parser reads a path.
 *
 * Header-only. fz_file_write() writes the input to a file made once under $TMPDIR
 * (mkstemp) and rewritten for every input; the file is removed at exit.
 */
#ifndef CADRE_FUZZ_FILE_H
#define CADRE_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fz_path[4096];

static void fz_file_remove(void)
{
    unlink(fz_path);
}

/* Writes size bytes of data to the scratch file; returns its path. Aborts on I/O errors. */
static const char *fz_file_write(const uint8_t *data, size_t size)
{
    if (!fz_path[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fz_path, sizeof fz_path, "%s/cadre_fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(fz_path);
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        atexit(fz_file_remove);
    }
    FILE *f = fopen(fz_path, "w");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror("fuzz: writing the input");
        abort();
    }
    return fz_path;
}

#endif
