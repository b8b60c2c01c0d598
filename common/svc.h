/* svc.h - telling systemd how a daemon is doing (sd_notify(3)): ready, reloading,
 * stopping, and watchdog pings. Every call does nothing when the process was not started
 * by a unit of Type=notify (no NOTIFY_SOCKET), so the daemons need no option for it. */
#ifndef CADRE_SVC_H
#define CADRE_SVC_H

#include <stdint.h>

/* READY=1 with a one-line STATUS= (printf format). */
void svc_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* RELOADING=1: a configuration reload begins; svc_ready ends it. */
void svc_reloading(void);
/* STOPPING=1: shutdown begins (SIGTERM). */
void svc_stopping(void);
/* Milliseconds between watchdog pings the unit expects (half its WatchdogSec), or 0 when
 * the unit has no watchdog. */
int64_t svc_watchdog_ms(void);
/* WATCHDOG=1, at most once per svc_watchdog_ms (callers may call it as often as they
 * like: from a main loop, between polls). Thread-safe. */
void svc_watchdog(void);

#endif
