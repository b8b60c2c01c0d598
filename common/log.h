/* log.h - leveled logging to stderr, one line per message. Thread-safe. */
#ifndef CADRE_LOG_H
#define CADRE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Messages below this level are dropped (default LOG_INFO). */
void log_set_level(enum log_level lvl);
/* Sets the program name printed before each line (not copied: pass a literal). */
void log_set_prog(const char *prog);

/* How lines look: LOG_TEXT "2026-09-30T12:00:00Z cadre-agent warn: message" (the default),
 * or LOG_LOGFMT 'ts=2026-09-30T12:00:00Z level=warn prog=cadre-agent msg="message"' for
 * Fluent Bit, Loki and other logfmt readers. Under journald both leave the time to the
 * journal and start with the priority prefix. */
enum log_format { LOG_TEXT, LOG_LOGFMT };
void log_set_format(enum log_format f);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A message for the person at the terminal, "PROG: message", without a timestamp (usage
 * and configuration errors of the command line); under journald it gets the level's
 * priority prefix like every other line. */
void log_plain(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
