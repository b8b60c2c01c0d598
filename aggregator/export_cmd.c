/* export_cmd.c - the quarterly export: the quarter's KPI rows with the previous quarter's
 * values, as CSV, JSON or the executive HTML report. */
#include "aggregator/export_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregator/config.h"
#include "aggregator/snapshot.h"
#include "aggregator/store.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "exporters/report_html.h"
#include "exporters/rows.h"

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_CANTCREAT 73
#define EX_CONFIG 78

/* Writes the quarter before q ("2026Q1" -> "2025Q4") into out (8 bytes). */
static void prev_quarter(const char *q, char *out)
{
    int y = (q[0] - '0') * 1000 + (q[1] - '0') * 100 + (q[2] - '0') * 10 + (q[3] - '0');
    int n = q[5] - '0';
    if (--n == 0) {
        n = 4;
        y--;
    }
    snprintf(out, 8, "%04d", y % 10000);
    out[4] = 'Q';
    out[5] = (char)('0' + n);
    out[6] = '\0';
}

int export_render(const struct kpi_model *m, const struct kpi_params *p, const char *quarter,
                  const char *format, struct sbuf *out, char *err, size_t errlen)
{
    int32_t s, e;
    if (strlen(quarter) != 6 || quarter[4] != 'Q') {
        snprintf(err, errlen, "quarter '%s' must be YYYYQn, e.g. 2026Q3", quarter);
        return -EINVAL;
    }
    if (kpi_window_parse(quarter, p->as_of, &s, &e, err, errlen))
        return -EINVAL;
    int html = strcmp(format, "html") == 0;
    if (!html && strcmp(format, "csv") && strcmp(format, "json")) {
        snprintf(err, errlen, "format '%s' must be csv, json or html", format);
        return -EINVAL;
    }
    char names[REPORT_QUARTERS][8];
    struct kpi_table t[REPORT_QUARTERS];
    memset(t, 0, sizeof t);
    snprintf(names[0], sizeof names[0], "%s", quarter);
    for (int i = 1; i < REPORT_QUARTERS; i++)
        prev_quarter(names[i - 1], names[i]);
    const char *windows[REPORT_QUARTERS];
    for (int i = 0; i < REPORT_QUARTERS; i++) {
        t[i].as_of = p->as_of;
        windows[i] = names[i];
    }
    kpi_compute_windows(m, p, windows, REPORT_QUARTERS, t);
    int rc = 0;
    if (t[0].n == 0) {
        snprintf(err, errlen, "no data for %s: nobody was employed in the quarter", quarter);
        rc = -EINVAL;
    } else if (html) {
        struct report_input in = {.as_of = p->as_of, .min_group_size = p->min_group_size};
        for (int i = 0; i < REPORT_QUARTERS; i++) {
            in.quarter[i] = names[i];
            in.table[i] = &t[i];
        }
        report_html(out, &in);
    } else {
        struct rows_opts o = {.prev = &t[1]};
        if (format[0] == 'c')
            rows_csv(out, &t[0], &o);
        else
            rows_json(out, &t[0], &o);
    }
    for (int i = 0; i < REPORT_QUARTERS; i++)
        kpi_table_clear(&t[i]);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: cadre-aggregator export --config FILE --quarter YYYYQn "
               "--format csv|json|html --out PATH\n"
               "\n"
               "Writes every KPI cell of the quarter (cut at the as-of day) with the previous\n"
               "quarter's value and the change, suppression applied. Works while the daemon\n"
               "runs (the database is opened as a read-only secondary) and when it is stopped.\n"
               "--out - writes to standard output.\n");
}

/* Writes len bytes to path atomically (temp file + rename), or to stdout for "-". */
static int write_out(const char *path, const char *buf, size_t len, char *err, size_t errlen)
{
    if (strcmp(path, "-") == 0)
        return fwrite(buf, 1, len, stdout) == len ? 0 : -EIO;
    /* A fresh temp name beside path, created exclusively: an existing file or a planted
     * symlink of that name makes mkostemp try another name, never write through it. */
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= sizeof tmp) {
        snprintf(err, errlen, "output path too long");
        return -ENAMETOOLONG;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file beside %.300s: %s", path,
                 strerror(errno));
        return -EIO;
    }
    if (fchmod(fd, 0644)) {
        snprintf(err, errlen, "cannot set the mode of %.300s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -EIO;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0) {
            snprintf(err, errlen, "cannot write %.300s: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            return -EIO;
        }
        off += (size_t)n;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -EIO;
    }
    return 0;
}

int export_main(int argc, char **argv)
{
    const char *config = NULL, *quarter = NULL, *format = NULL, *outp = NULL;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"quarter", required_argument, NULL, 'q'},
        {"format", required_argument, NULL, 'f'}, {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "c:q:f:o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': config = optarg; break;
        case 'q': quarter = optarg; break;
        case 'f': format = optarg; break;
        case 'o': outp = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (!config || !quarter || !format || !outp || optind < argc) {
        usage(stderr);
        return EX_USAGE;
    }
    struct agg_config cfg;
    char err[512];
    if (agg_config_load(&cfg, config, err, sizeof err)) {
        log_error("%s", err);
        agg_config_free(&cfg);
        return EX_CONFIG;
    }
    int rc = 0;
    struct store *store = NULL;
    struct kpi_model *model = NULL;
    struct sbuf out = {0};
    if (access(cfg.db_path, F_OK) != 0) {
        log_error("no database at %s (db_path): has the aggregator run yet?", cfg.db_path);
        rc = EX_NOINPUT;
        goto done;
    }
    if (store_open(&store, cfg.db_path, false, true, err, sizeof err)) {
        log_error("%s", err);
        rc = EX_NOINPUT;
        goto done;
    }
    /* A secondary sees the primary's WAL only after catching up. */
    if (store_catch_up(store)) {
        log_error("cannot read the database at %s", cfg.db_path);
        rc = EX_NOINPUT;
        goto done;
    }
    if (kpi_model_load(&model, store)) {
        log_error("cannot read the database at %s", cfg.db_path);
        rc = EX_NOINPUT;
        goto done;
    }
    struct kpi_params params;
    kpi_params_init(&params, &cfg);
    snapshot_resolve_params(&params);
    if (export_render(model, &params, quarter, format, &out, err, sizeof err)) {
        log_error("%s", err);
        rc = EX_DATAERR;
        goto done;
    }
    if (write_out(outp, out.p, out.len, err, sizeof err)) {
        log_error("%s", err);
        rc = EX_CANTCREAT;
        goto done;
    }
    if (strcmp(outp, "-"))
        log_info("wrote %s (%zu bytes)", outp, out.len);
done:
    sbuf_free(&out);
    kpi_model_free(model);
    store_close(store);
    agg_config_free(&cfg);
    return rc;
}
