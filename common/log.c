/* log.c - log lines on stderr: timestamped, or with syslog priority prefixes for journald. */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
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

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    static const int priority[] = {7, 6, 4, 3}; /* debug, info, warning, err */
    if (lvl < min_level)
        return;
    pthread_once(&journal_once, detect_journal);
    char ts[32];
    struct timespec now;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* A message is one line, whatever its arguments held. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    /* One fprintf per line keeps lines whole across threads (stdio locks the stream). */
    if (journal)
        fprintf(stderr, "<%d>%s %s: %s\n", priority[lvl], prog, names[lvl], line);
    else
        fprintf(stderr, "%s %s %s: %s\n", ts, prog, names[lvl], line);
}

void log_plain(enum log_level lvl, const char *fmt, ...)
{
    static const int priority[] = {7, 6, 4, 3};
    pthread_once(&journal_once, detect_journal);
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (journal)
        fprintf(stderr, "<%d>%s: %s\n", priority[lvl], prog, line);
    else
        fprintf(stderr, "%s: %s\n", prog, line);
}
