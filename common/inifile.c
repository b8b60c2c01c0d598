/* inifile.c - a counting line reader under ini_parse_stream, so handlers know their line. */
#include "common/inifile.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct reader {
    FILE *f;
    const char *path;
    int line;   /* line last handed to inih */
    int failed; /* set by the reader or the handler */
    inifile_fn fn;
    void *ud;
    char *err;
    size_t errlen;
};

static char *read_line(char *str, int num, void *stream)
{
    struct reader *r = stream;
    char buf[INIFILE_MAX_LINE + 3];
    if (r->failed || !fgets(buf, sizeof buf, r->f))
        return NULL;
    r->line++;
    size_t n = strlen(buf);
    int whole = n > 0 && buf[n - 1] == '\n';
    size_t content = n - (whole ? 1 : 0);
    if (content && buf[content - 1] == '\r')
        content--;
    if (content > INIFILE_MAX_LINE || (!whole && !feof(r->f))) {
        snprintf(r->err, r->errlen, "%s:%d: line longer than %d bytes", r->path, r->line,
                 INIFILE_MAX_LINE);
        r->failed = 1;
        return NULL;
    }
    if (content && (buf[0] == ' ' || buf[0] == '\t')) {
        /* Indented text would be a continuation line in inih; Cadre refuses it. */
        size_t i = 0;
        while (i < content && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        if (i < content) {
            snprintf(r->err, r->errlen, "%s:%d: lines must start in column 1", r->path, r->line);
            r->failed = 1;
            return NULL;
        }
    }
    if ((int)n + 1 > num)
        n = (size_t)num - 1;
    memcpy(str, buf, n);
    str[n] = '\0';
    return str;
}

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    struct reader *r = user;
    if (r->failed)
        return 0;
    char msg[512] = "";
    if (r->fn(r->ud, section, name, value, r->line, msg, sizeof msg)) {
        snprintf(r->err, r->errlen, "%s:%d: %s", r->path, r->line, msg);
        r->failed = 1;
        return 0;
    }
    return 1;
}

int inifile_parse(const char *path, inifile_fn fn, void *ud, char *err, size_t errlen)
{
    struct reader r = {.path = path, .fn = fn, .ud = ud, .err = err, .errlen = errlen};
    r.f = fopen(path, "r");
    if (!r.f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -EINVAL;
    }
    ini_allow_multiline = false;
    /* Debian's inih reads lines of ini_max_line - 1 bytes: room for a full line, its
     * newline (maybe CRLF) and the NUL. */
    ini_use_stack = false;
    ini_initial_alloc = ini_max_line = INIFILE_MAX_LINE + 3;
    int rc = ini_parse_stream(read_line, &r, on_kv, &r);
    fclose(r.f);
    if (r.failed)
        return -EINVAL;
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: not a section header or key = value", path, rc);
        return -EINVAL;
    }
    return 0;
}
