/* main.c - cadre-aggregator: the daemon (--config FILE) and the export subcommand. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aggregator/config.h"
#include "aggregator/backup_cmd.h"
#include "aggregator/export_cmd.h"
#include "aggregator/http.h"
#include "aggregator/ingest.h"
#include "aggregator/rwpush.h"
#include "aggregator/snapshot.h"
#include "aggregator/store.h"
#include "aggregator/tokens.h"
#include "common/log.h"
#include "common/svc.h"
#include "common/sbuf.h"
#include "common/timeutil.h"
#include "common/version.h"
#include "exporters/kpi_catalogue.h"

#define EX_USAGE 64
#define EX_CONFIG 78

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cadre-aggregator --config FILE\n"
            "       cadre-aggregator --check --config FILE\n"
            "       cadre-aggregator export --config FILE --quarter YYYYQn --format csv|json|html "
            "--out PATH\n"
            "       cadre-aggregator backup --config FILE --to DIR   (a consistent copy of the "
            "database)\n"
            "       cadre-aggregator kpis      (the KPI catalogue: names, windows, breakdowns)\n"
            "\n"
            "Receives protobuf batches from cadre-agent on POST /v1/ingest, keeps them in\n"
            "RocksDB and serves workforce KPIs on GET /metrics (Prometheus) and\n"
            "GET /api/v1/kpis?window=W[&by=B][&format=json|csv]. Runs in the foreground;\n"
            "SIGTERM finishes requests in flight and exits 0, SIGHUP re-reads the tokens files.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE   configuration (INI)\n"
            "      --check         validate the configuration and the tokens files, and exit\n"
            "                      (0, or 78 on error)\n"
            "  -v, --verbose       debug logging\n"
            "  -h, --help          this text\n"
            "      --version       print the version\n"
            "\n"
            "configuration keys (default, meaning):\n");
    agg_config_usage(f);
}

static int run_daemon(struct agg_config *cfg)
{
    char err[512];
    struct store *store = NULL;
    struct kpi_model *model = NULL;
    struct ingest *ing = NULL;
    struct refresher *ref = NULL;
    struct rwpush *rw = NULL;
    struct http_server *http = NULL;
    int rc = 1;

    /* Signals are taken by sigtimedwait() in this thread only. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (store_open(&store, cfg->db_path, cfg->sync_writes, false, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    double t0 = (double)clock() / CLOCKS_PER_SEC;
    if (kpi_model_load(&model, store)) {
        log_error("cannot load the KPI model from %s", cfg->db_path);
        goto out;
    }
    log_info("loaded %u staff keys into the KPI model in %.1f s CPU", model->npersons,
             (double)clock() / CLOCKS_PER_SEC - t0);
    struct kpi_params params;
    kpi_params_init(&params, cfg);
    if (refresher_start(&ref, model, &params, cfg->kpi_refresh_interval_s)) {
        log_error("cannot start the KPI refresh thread");
        goto out;
    }
    if (rwpush_start(&rw, cfg, ref)) {
        log_error("cannot start the remote_write thread");
        goto out;
    }
    ingest_new(&ing, store, model, refresher_notify, ref);
    ingest_set_min_free(ing, (int64_t)cfg->store_min_free_bytes);
    if (http_start(&http, cfg, ing, ref, model, rw, err, sizeof err)) {
        log_error("%s", err);
        goto out;
    }
    log_info("cadre-aggregator %s listening on %s, database %s", CADRE_VERSION, cfg->listen,
             cfg->db_path);
    if (agg_config_open_to_network(cfg))
        log_warn("/metrics and /api are open to anyone who can reach %s: set read_tokens_file "
                 "(or tls_client_ca_file)",
                 cfg->listen);
    svc_ready("listening on %s", cfg->listen);
    int64_t ping = svc_watchdog_ms() * 2 / 3; /* systemd's watchdog, when the unit has one */
    for (;;) {
        struct timespec t = {.tv_sec = ping ? ping / 1000 : 3600,
                             .tv_nsec = ping ? (ping % 1000) * 1000000 : 0};
        int sig = sigtimedwait(&set, NULL, &t);
        svc_watchdog();
        if (sig <= 0)
            continue; /* the timeout, or EINTR */
        if (sig == SIGHUP) {
            svc_reloading();
            if (http_reload_tokens(http, err, sizeof err))
                log_error("reload: %s (keeping the old tokens)", err);
            else
                log_info("reload: tokens files re-read");
            svc_ready("listening on %s", cfg->listen);
            continue;
        }
        svc_stopping();
        log_info("signal %d: finishing requests and closing the store", sig);
        break;
    }
    rc = 0;
out:
    http_stop(http);
    rwpush_stop(rw);
    refresher_stop(ref);
    ingest_free(ing);
    kpi_model_free(model);
    store_close(store);
    return rc;
}

/* `cadre-aggregator kpis`: the KPI catalogue as tab-separated text. */
static int print_catalogue(void)
{
    struct sbuf b = {0};
    kpi_catalogue_tsv(&b);
    fwrite(b.p, 1, b.len, stdout);
    sbuf_free(&b);
    return ferror(stdout) ? 1 : 0;
}

/* --check reads the tokens files as the daemon will: 0, or EX_CONFIG with err set. */
static int check_tokens(const struct agg_config *cfg, char *err, size_t errlen)
{
    struct tokens *agents, *readers;
    if (tokens_load_files(cfg->tokens_file, cfg->read_tokens_file, &agents, &readers, err, errlen))
        return EX_CONFIG;
    tokens_free(agents);
    tokens_free(readers);
    return 0;
}

int main(int argc, char **argv)
{
    log_set_prog("cadre-aggregator");
    /* Every batch takes buffers of a few hundred KiB to a few MiB (its body, the inflated
     * body, the arena it is decoded into, which the KPI model's thread frees). With
     * glibc's defaults they are mapped and unmapped, or trimmed off a thread's heap, batch
     * after batch, and every page is faulted in again: 2-4% of the aggregator's time in a
     * profile of a 12 M-record delivery. Fixed thresholds keep them in the heaps; peak RSS
     * grew by 4% (bench/history.md, item 16). */
    mallopt(M_MMAP_THRESHOLD, 8 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    if (argc > 1 && strcmp(argv[1], "export") == 0)
        return export_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "backup") == 0)
        return backup_main(argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], "kpis") == 0)
        return print_catalogue();
    const char *config = NULL;
    int check = 0;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'C'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'C': check = 1; break;
        case 'v': log_set_level(LOG_DEBUG); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("cadre-aggregator %s\n", CADRE_VERSION); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind < argc) {
        log_plain(LOG_ERROR, "unexpected argument '%s' (see --help)", argv[optind]);
        return EX_USAGE;
    }
    if (!config) {
        log_plain(LOG_ERROR, "--config FILE is required (see --help)");
        return EX_USAGE;
    }
    struct agg_config cfg;
    char err[512];
    if (agg_config_load(&cfg, config, err, sizeof err)) {
        log_error("%s", err);
        agg_config_free(&cfg);
        return EX_CONFIG;
    }
    log_set_format((enum log_format)cfg.log_format);
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT); /* before any thread: remote_write uses libcurl */
    if (check) {
        rc = check_tokens(&cfg, err, sizeof err);
        if (rc)
            log_error("%s", err);
        else
            printf("%s: ok\n", config);
        if (!rc && agg_config_open_to_network(&cfg))
            log_warn("%s: listen = %s is not a loopback address and neither read_tokens_file "
                     "nor tls_client_ca_file is set: anyone who can reach it reads /metrics "
                     "and /api",
                     config, cfg.listen);
    } else {
        rc = run_daemon(&cfg);
    }
    agg_config_free(&cfg);
    curl_global_cleanup();
    return rc;
}
