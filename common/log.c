/* log.c - log lines on stderr: timestamped, or with syslog priority prefixes for journald. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static const char *prog = "cadre";

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

void log_set_prog(const char *p)
{
    prog = p;
}

static _Atomic int format = LOG_TEXT;

void log_set_format(enum log_format f)
{
    format = f;
}

/* The logfmt value of msg: in double quotes, with backslash and quote escaped (newlines
 * are already spaces). */
static void quote(char *out, size_t cap, const char *msg)
{
    size_t n = 0;
    out[n++] = '"';
    for (const char *p = msg; *p && n + 3 < cap; p++) {
        if (*p == '"' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n++] = '"';
    out[n] = '\0';
}

static int journal; /* stderr is the journal: "<N>" prefixes, no timestamp */
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to stderr; when
 * stderr is still that stream, journald adds the time and reads the priority from a
 * "<N>" prefix (sd-daemon(3)), so `journalctl -p warning` works. */
static void detect_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
        (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
        journal = 1;
}

/* Writes one line: "[<N>|TIMESTAMP ]PROG[ LEVEL]: message". plain leaves out the
 * timestamp and the level word (messages for the person at the terminal). */
static void emit(enum log_level lvl, int plain, const char *fmt, va_list ap)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    static const int priority[] = {7, 6, 4, 3}; /* debug, info, warning, err */
    pthread_once(&journal_once, detect_journal);
    bool logfmt = format == LOG_LOGFMT && !plain;
    char head[48] = "";
    if (journal) {
        snprintf(head, sizeof head, "<%d>", priority[lvl]);
    } else if (!plain) {
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(head, sizeof head, logfmt ? "ts=%Y-%m-%dT%H:%M:%SZ " : "%Y-%m-%dT%H:%M:%SZ ", &tm);
    }
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    /* A message is one line, whatever its arguments held. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* One fprintf per line keeps lines whole across threads (stdio locks the stream). */
    if (logfmt) {
        char q[2 * sizeof line + 3];
        quote(q, sizeof q, line);
        fprintf(stderr, "%slevel=%s prog=%s msg=%s\n", head, names[lvl], prog, q);
    } else {
        fprintf(stderr, "%s%s%s%s: %s\n", head, prog, plain ? "" : " ", plain ? "" : names[lvl],
                line);
    }
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if (lvl < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(lvl, 0, fmt, ap);
    va_end(ap);
}

void log_plain(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(lvl, 1, fmt, ap);
    va_end(ap);
}
