/* main.c - cadre-agent: command line, signals, the poll loop. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/src_csv.h"
#include "common/log.h"
#include "common/svc.h"

#define EXIT_USAGE 64
#define EXIT_TEMPFAIL 75
#define SIGTERM_GRACE_MS 5000

static void usage(FILE *f)
{
    fprintf(f, "usage: cadre-agent --config FILE [--once | --check | --dry-run] [--verbose]\n"
               "       cadre-agent --help | --version\n"
               "\n"
               "Reads AI-usage logs and staffing exports, pseudonymises staff ids with the org\n"
               "key and ships protobuf batches to a cadre-aggregator. Without a mode it runs in\n"
               "the foreground: SIGHUP reloads the config, SIGTERM flushes and exits. The\n"
               "files each source type reads (columns, formats, rejection reasons, samples)\n"
               "are described in docs/formats.md of Cadre's documentation.\n"
               "\n"
               "  --config FILE  INI configuration (below)\n"
               "  --once         poll every source once, ship, wait for acks; exit 0, or 75 when\n"
               "                 something is unacked after once_timeout_s\n"
               "  --check        validate the config and the key, token and TLS files; exit 0\n"
               "                 or 78; contacts nothing\n"
               "  --dry-run      print the records that would ship as JSON Lines; write no spool\n"
               "                 or checkpoint, send nothing\n"
               "  --verbose      debug logging\n"
               "\n"
               "Config keys (key, default, meaning):\n");
    agent_config_usage(f);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Waits up to ms for a signal of set; returns it, or 0 on timeout. */
static int wait_signal(const sigset_t *set, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    for (;;) {
        int sig = sigtimedwait(set, NULL, &t);
        if (sig > 0)
            return sig;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            return 0;
    }
}

/* --once: ships what one poll found and waits for the acks. */
static int run_once(struct agent *a, const sigset_t *set, int64_t timeout_s)
{
    int rc = agent_poll(a);
    int64_t deadline = mono_ms() + timeout_s * 1000;
    while (!agent_idle(a)) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            log_error("--once: batches still unacked after once_timeout_s (%lld s)",
                      (long long)timeout_s);
            return EXIT_TEMPFAIL;
        }
        int sig = wait_signal(set, left < 100 ? left : 100);
        agent_tick(a);
        if (sig == SIGTERM || sig == SIGINT) {
            log_warn("--once: stopped by a signal with batches unacked");
            return EXIT_TEMPFAIL;
        }
    }
    if (rc) {
        log_error("--once: a source could not finish its poll (an API failed or its records could "
                  "not be spooled); what it did not ship is read again next time");
        return EXIT_TEMPFAIL;
    }
    return 0;
}

static void run_foreground(struct agent *a, const sigset_t *set, const char *config_path)
{
    log_info("running (version " CADRE_AGENT_VERSION ")");
    svc_ready("running");
    int64_t ping = svc_watchdog_ms() * 2 / 3; /* systemd's watchdog, when the unit has one */
    for (;;) {
        agent_poll(a);
        int64_t next = mono_ms() + agent_poll_interval_s(a) * 1000LL, tick = agent_tick_ms(a);
        for (;;) {
            int64_t wait = next - mono_ms();
            if (tick && tick < wait)
                wait = tick;
            if (ping && ping < wait)
                wait = ping;
            int sig = wait_signal(set, wait);
            agent_tick(a);
            svc_watchdog();
            if (sig == 0 && mono_ms() >= next)
                break;
            if (sig == 0)
                continue;
            if (sig == SIGTERM || sig == SIGINT) {
                svc_stopping();
                log_info("signal %d: stopping", sig);
                return;
            }
            if (sig == SIGHUP) {
                struct agent_config cfg;
                char err[1024];
                svc_reloading();
                if (agent_config_load(&cfg, config_path, err, sizeof err)) {
                    log_error("reload: %s; keeping the running configuration", err);
                    svc_ready("running; the last reload failed: %s", err);
                } else {
                    log_set_format((enum log_format)cfg.log_format);
                    agent_reload(a, &cfg);
                    svc_ready("running");
                    break; /* poll with the new sources now */
                }
            }
        }
    }
}

int main(int argc, char **argv)
{
    enum { OPT_ONCE = 1, OPT_CHECK, OPT_DRY, OPT_HELP, OPT_VERSION, OPT_VERBOSE };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},    {"once", no_argument, NULL, OPT_ONCE},
        {"check", no_argument, NULL, OPT_CHECK},     {"dry-run", no_argument, NULL, OPT_DRY},
        {"help", no_argument, NULL, OPT_HELP},       {"version", no_argument, NULL, OPT_VERSION},
        {"verbose", no_argument, NULL, OPT_VERBOSE}, {NULL, 0, NULL, 0},
    };
    log_set_prog("cadre-agent");
    /* Each batch takes a few buffers of a few hundred KiB (spool read, encoded body, gzip
     * state and output). With glibc's defaults these are mapped and unmapped, or trimmed
     * from the shipping thread's heap, on every batch, and faulting them back in cost
     * about a third of the agent's CPU. Fixed thresholds keep them in the heap; in the
     * 1 M-line benchmark peak RSS grew by about 100 KiB. */
    mallopt(M_MMAP_THRESHOLD, 512 << 10);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    const char *config = NULL;
    int mode = 0, o;
    while ((o = getopt_long(argc, argv, "c:hv", longopts, NULL)) != -1) {
        switch (o) {
        case 'c': config = optarg; break;
        case OPT_ONCE:
        case OPT_CHECK:
        case OPT_DRY:
            if (mode && mode != o) {
                log_plain(LOG_ERROR, "--once, --check and --dry-run exclude each other");
                return EXIT_USAGE;
            }
            mode = o;
            break;
        case 'h':
        case OPT_HELP: usage(stdout); return 0;
        case OPT_VERSION: printf("cadre-agent " CADRE_AGENT_VERSION "\n"); return 0;
        case 'v':
        case OPT_VERBOSE: log_set_level(LOG_DEBUG); break;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!config || optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct agent_config cfg;
    char err[1024];
    if (agent_config_load(&cfg, config, err, sizeof err)) {
        log_plain(LOG_ERROR, "%s", err);
        return AGENT_EXIT_CONFIG;
    }
    log_set_format((enum log_format)cfg.log_format);
    if (mode == OPT_CHECK) {
        int rc = agent_config_check_files(&cfg, err, sizeof err);
        if (rc)
            log_plain(LOG_ERROR, "%s: %s", config, err);
        else
            printf("%s: OK (agent %s, %zu sources)\n", config, cfg.id, cfg.nsources);
        for (size_t i = 0; !rc && i < cfg.nsources; i++) /* a warning: files change */
            if (cfg.sources[i].type->csv)
                src_csv_check_header(cfg.sources[i].type->csv, cfg.sources[i].name,
                                     &cfg.sources[i].opts, stdout);
        agent_config_free(&cfg);
        return rc ? AGENT_EXIT_CONFIG : 0;
    }
    /* Signals are taken synchronously by the main thread; other threads never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int64_t once_timeout = cfg.once_timeout_s;
    enum agent_mode am = mode == OPT_ONCE  ? AGENT_ONCE
                         : mode == OPT_DRY ? AGENT_DRY_RUN
                                           : AGENT_RUN;
    struct agent *a;
    int rc = agent_open(&a, &cfg, am, stdout);
    if (rc) {
        curl_global_cleanup();
        return rc == -EINVAL || rc == -EACCES ? AGENT_EXIT_CONFIG : 1;
    }
    int status = 0;
    if (am == AGENT_DRY_RUN) {
        status = agent_poll(a) ? 1 : 0;
        agent_close(a, 0);
    } else if (am == AGENT_ONCE) {
        status = run_once(a, &set, once_timeout);
        agent_close(a, status ? 0 : SIGTERM_GRACE_MS);
    } else {
        run_foreground(a, &set, config);
        agent_close(a, SIGTERM_GRACE_MS);
        log_info("stopped");
    }
    curl_global_cleanup();
    return status;
}
