/* svc.c - sd_notify(3) through libsystemd, with the watchdog pings rate-limited. */
#include "common/svc.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

void svc_ready(const char *fmt, ...)
{
    char status[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(status, sizeof status, fmt, ap);
    va_end(ap);
    sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void svc_reloading(void)
{
    sd_notify(0, "RELOADING=1");
}

void svc_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

int64_t svc_watchdog_ms(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    int64_t ms = (int64_t)(usec / 2000);
    return ms > 0 ? ms : 1;
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void svc_watchdog(void)
{
    static atomic_llong every = -1, last;
    long long e = atomic_load(&every);
    if (e < 0) { /* the environment does not change: read it once */
        e = svc_watchdog_ms();
        atomic_store(&every, e);
    }
    if (!e)
        return;
    long long now = mono_ms(), was = atomic_load(&last);
    /* A ping at a third of the timeout, not half: a late wake-up still lands in time. */
    if (now - was < e * 2 / 3 || !atomic_compare_exchange_strong(&last, &was, now))
        return;
    sd_notify(0, "WATCHDOG=1");
}
