/* config_fuzz.c - libFuzzer target for aggregator/config: the aggregator's INI file.
 *
 * The input is the file (fuzz_file.h). agg_config_load must return 0 or -EINVAL with a
 * message that names the file; a loaded config has tokens_file set, the TLS cert and key
 * together, every number within the bounds of its key and a literacy list of
 * n_literacy_courses trimmed, non-empty names. agg_config_free releases everything (leaks
 * are caught by LeakSanitizer), after a failed load too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregator/config.h"
#include "common/decimal.h"
#include "tests/fuzz/fuzz_file.h"

static void fail(const char *what, long long v)
{
    fprintf(stderr, "config_fuzz: %s (%lld)\n", what, v);
    abort();
}

static void in_range(const char *key, int64_t v, int64_t min, int64_t max)
{
    if (v < min || v > max) {
        fprintf(stderr, "config_fuzz: %s = %lld outside [%lld, %lld]\n", key, (long long)v,
                (long long)min, (long long)max);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_file_write(data, size);
    struct agg_config cfg;
    char err[512] = "";
    int rc = agg_config_load(&cfg, path, err, sizeof err);
    if (rc != 0 && rc != -EINVAL)
        fail("unexpected return code", rc);
    if (rc) {
        if (strncmp(err, path, strlen(path)) != 0)
            fail("error message does not name the file", 0);
        agg_config_free(&cfg);
        return 0;
    }
    if (!cfg.tokens_file || !cfg.listen || !cfg.db_path)
        fail("tokens_file, listen or db_path unset", 0);
    if (!cfg.tls_cert_file != !cfg.tls_key_file)
        fail("tls_cert_file without tls_key_file", 0);
    in_range("min_group_size", cfg.min_group_size, 5, 1000000);
    in_range("contract_hours_per_week", cfg.contract_hours_micro, 1, 168 * MICRO);
    in_range("kpi_refresh_interval_s", cfg.kpi_refresh_interval_s, 1, 86400);
    in_range("burnout_long_shift_share", cfg.burnout_long_shift_share, 0, MICRO);
    in_range("burnout_overtime_ratio", cfg.burnout_overtime_ratio, 0, INT64_MAX);
    in_range("burnout_wow8_seconds", cfg.burnout_wow8_seconds, 0, INT64_MAX);
    in_range("burnout_sickness_ratio", cfg.burnout_sickness_ratio, 0, INT64_MAX);
    in_range("burnout_short_rests", cfg.burnout_short_rests, 0, 1000000);
    in_range("burnout_min_flags", cfg.burnout_min_flags, 1, 5);
    in_range("interval_s", cfg.rw_interval_s, 1, 86400);
    if (cfg.max_body_bytes < 1024 || cfg.max_body_bytes > (uint64_t)INT64_MAX)
        fail("max_body_bytes outside [1024, INT64_MAX]", (long long)cfg.max_body_bytes);
    if (!cfg.literacy_courses)
        fail("literacy_courses is NULL", 0);
    size_t n = 0;
    for (; cfg.literacy_courses[n]; n++) {
        const char *c = cfg.literacy_courses[n];
        size_t l = strlen(c);
        if (l == 0 || c[0] == ' ' || c[0] == '\t' || c[l - 1] == ' ' || c[l - 1] == '\t' ||
            strchr(c, ','))
            fail("a literacy course empty, untrimmed or with a comma", (long long)n);
    }
    if (n != cfg.n_literacy_courses)
        fail("n_literacy_courses differs from the list", (long long)n);
    agg_config_free(&cfg);
    return 0;
}
