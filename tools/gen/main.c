/* main.c - cadre-gen: writes a deterministic synthetic health system's exports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "tools/gen/badrows.h"
#include "tools/gen/days.h"
#include "tools/gen/emit.h"
#include "tools/gen/licences.h"
#include "tools/gen/staffing.h"
#include "tools/gen/world.h"

#define MAX_RANGE_DAYS 3660

struct opts {
    unsigned long staff;
    int sites;
    int32_t from, to;
    unsigned long long seed;
    const char *out;
    int bad_rows;
    int quiet;
    int loadoff_pct;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cadre-gen --out DIR [options]\n"
            "Writes a synthetic health system's exports, one folder per site:\n"
            "  DIR/<site>/usage.jsonl staffing.csv shifts.csv absences.csv ehr.csv training.csv\n"
            "             licences.csv\n"
            "and DIR/summary.txt (rows, distinct valid keys and invalid rows per file).\n"
            "The same arguments always give byte-identical files.\n"
            "\n"
            "  --staff N        people in the staffing exports (default 2000, max %d)\n"
            "  --sites N        sites: north, south, east, ... (default 2, max %d)\n"
            "  --from DATE      first day of activity, YYYY-MM-DD (default 2024-10-01)\n"
            "  --to DATE        last day of activity (default 2026-09-30)\n"
            "  --seed N         random seed (default 1)\n"
            "  --out DIR        output folder, created when missing (required)\n"
            "  --bad-rows       a few invalid rows of each reason per file (default)\n"
            "  --no-bad-rows    only valid rows\n"
            "  --loadoff-effect PCT  after-hours EHR time the ambient scribe takes off its\n"
            "                   users in Medicine and Emergency, percent (default 10; 0 for\n"
            "                   data without the effect)\n"
            "  --quiet          no progress on stderr\n"
            "  --help           this text\n",
            MAX_STAFF, MAX_SITES);
}

static int parse_ulong(const char *s, unsigned long long max, unsigned long long *v)
{
    if (!*s)
        return -EINVAL;
    unsigned long long x = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (x > (max - (unsigned)(*p - '0')) / 10)
            return -ERANGE;
        x = x * 10 + (unsigned)(*p - '0');
    }
    *v = x;
    return 0;
}

/* Returns 0, 1 after --help, or -EINVAL after printing what is wrong. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    o->staff = 2000;
    o->sites = 2;
    o->from = day_from_civil(2024, 10, 1);
    o->to = day_from_civil(2026, 9, 30);
    o->seed = 1;
    o->out = NULL;
    o->bad_rows = 1;
    o->quiet = 0;
    o->loadoff_pct = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[32];
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof name)
            n = sizeof name - 1;
        memcpy(name, a, n);
        name[n] = '\0';
        if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(name, "--bad-rows") || !strcmp(name, "--no-bad-rows") ||
            !strcmp(name, "--quiet")) {
            if (eq) {
                fprintf(stderr, "cadre-gen: %s takes no value\n", name);
                return -EINVAL;
            }
            if (!strcmp(name, "--quiet"))
                o->quiet = 1;
            else
                o->bad_rows = !strcmp(name, "--bad-rows");
            continue;
        }
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "cadre-gen: %s needs a value (see --help)\n", name);
            return -EINVAL;
        }
        unsigned long long v = 0;
        int rc = 0;
        if (!strcmp(name, "--staff")) {
            if (!(rc = parse_ulong(val, MAX_STAFF, &v)) && v == 0)
                rc = -ERANGE;
            o->staff = (unsigned long)v;
        } else if (!strcmp(name, "--sites")) {
            if (!(rc = parse_ulong(val, MAX_SITES, &v)) && v == 0)
                rc = -ERANGE;
            o->sites = (int)v;
        } else if (!strcmp(name, "--seed")) {
            rc = parse_ulong(val, ~0ULL, &v);
            o->seed = v;
        } else if (!strcmp(name, "--from")) {
            rc = parse_date(val, strlen(val), &o->from);
        } else if (!strcmp(name, "--to")) {
            rc = parse_date(val, strlen(val), &o->to);
        } else if (!strcmp(name, "--loadoff-effect")) {
            rc = parse_ulong(val, 90, &v);
            o->loadoff_pct = (int)v;
        } else if (!strcmp(name, "--out")) {
            o->out = val;
            rc = *val ? 0 : -EINVAL;
        } else {
            fprintf(stderr, "cadre-gen: unknown option %s (see --help)\n", a);
            return -EINVAL;
        }
        if (rc) {
            fprintf(stderr, "cadre-gen: bad value for %s: '%s'%s\n", name, val,
                    rc == -ERANGE ? " (out of range)" : "");
            return -EINVAL;
        }
    }
    if (!o->out) {
        fprintf(stderr, "cadre-gen: --out DIR is required (see --help)\n");
        return -EINVAL;
    }
    if (o->to < o->from || o->to - o->from + 1 > MAX_RANGE_DAYS) {
        fprintf(stderr, "cadre-gen: --to must be on or after --from, at most %d days later\n",
                MAX_RANGE_DAYS);
        return -EINVAL;
    }
    return 0;
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : 2;
    double t0 = seconds_now();
    char from[11], to[11], args[256], err[4352] = "";
    format_date(o.from, from);
    format_date(o.to, to);
    int n = snprintf(args, sizeof args, "staff=%lu sites=%d from=%s to=%s seed=%llu bad_rows=%d",
                     o.staff, o.sites, from, to, o.seed, o.bad_rows);
    if (o.loadoff_pct != 10 && n > 0 && (size_t)n < sizeof args)
        snprintf(args + n, sizeof args - (size_t)n, " loadoff_effect=%d", o.loadoff_pct);
    if (!o.quiet)
        fprintf(stderr, "cadre-gen: %s -> %s\n", args, o.out);

    struct world w;
    world_build(&w, o.seed, (uint32_t)o.staff, o.sites, o.from, o.to);
    w.loadoff_pct = o.loadoff_pct;
    struct badplan bp;
    badplan_make(&bp, &w, o.bad_rows);
    struct emit *e = xcalloc(1, sizeof *e);
    int status = 1;
    rc = emit_open(e, &w, o.out, err, sizeof err);
    if (!rc) {
        staffing_write(&w, e, &bp);
        licences_write(&w, e, &bp);
        days_run(&w, e, &bp, o.quiet);
    }
    int rc2 = emit_close(e, o.out, rc ? NULL : err, rc ? 0 : sizeof err);
    if (!rc)
        rc = rc2;
    if (!rc && (rc = emit_summary(e, o.out, args)))
        snprintf(err, sizeof err, "%s/summary.txt: %s", o.out, strerror(-rc));
    if (rc) {
        fprintf(stderr, "cadre-gen: %s\n", err);
    } else {
        status = 0;
        if (!o.quiet) {
            uint64_t bytes = 0, rows = 0;
            for (int s = 0; s < w.nsites; s++)
                for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
                    bytes += e->file[s][t].bytes;
                    rows += e->tally[s][t].rows;
                }
            fprintf(stderr, "cadre-gen: wrote %llu rows, %.1f MB in %.1f s\n",
                    (unsigned long long)rows, bytes / 1e6, seconds_now() - t0);
        }
    }
    xfree(e);
    badplan_free(&bp);
    world_free(&w);
    return status;
}
