/* aggregator_config_test.c - the aggregator's INI file: defaults, every key, errors, help. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "aggregator/config.h"
#include "common/decimal.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

struct fx {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-agg-config-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/agg.ini", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    xfree(f);
    return 0;
}

/* The one required key on lines 1 and 2, then extra (line 3 on). */
#define BASE "[aggregator]\ntokens_file = /etc/cadre/agents.tokens\n"

static void write_ini(const struct fx *f, const char *text)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_defaults(void **state)
{
    struct fx *f = *state;
    write_ini(f, BASE);
    struct agg_config c;
    char err[512] = "";
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), 0);
    assert_string_equal(c.listen, "127.0.0.1:9470");
    assert_string_equal(c.db_path, "/var/lib/cadre/db");
    assert_string_equal(c.tokens_file, "/etc/cadre/agents.tokens");
    assert_null(c.read_tokens_file);
    assert_null(c.tls_cert_file);
    assert_null(c.tls_key_file);
    assert_null(c.tls_client_ca_file);
    assert_int_equal(c.log_format, LOG_TEXT);
    assert_int_equal(c.min_group_size, 10);
    assert_false(c.has_as_of);
    assert_int_equal(agg_config_as_of(&c), today_local() - 1);
    assert_int_equal(c.contract_hours_micro, 40 * MICRO);
    assert_non_null(c.literacy_courses);
    assert_null(c.literacy_courses[0]);
    assert_int_equal(c.n_literacy_courses, 0);
    assert_int_equal(c.max_body_bytes, 16777216);        /* 16MiB = 16 * 2^20 */
    assert_int_equal(c.max_inflight_bytes, 536870912);   /* 512MiB */
    assert_int_equal(c.store_min_free_bytes, 268435456); /* 256MiB */
    assert_int_equal(c.max_connections, 4096);
    assert_int_equal(c.max_connections_per_ip, 256);
    assert_int_equal(c.connection_timeout_s, 30);
    assert_true(c.sync_writes);
    assert_int_equal(c.kpi_refresh_interval_s, 60);
    assert_int_equal(c.burnout_overtime_ratio, 100000);   /* 0.10 */
    assert_int_equal(c.burnout_long_shift_share, 250000); /* 0.25 */
    assert_int_equal(c.burnout_short_rests, 2);
    assert_int_equal(c.burnout_wow8_seconds, 3600 * MICRO);
    assert_int_equal(c.burnout_sickness_ratio, 50000); /* 0.05 */
    assert_int_equal(c.burnout_min_flags, 2);
    assert_int_equal(c.dominance_min_contributors, 3);
    assert_int_equal(c.dominance_max_share, 500000); /* 0.5 */
    assert_int_equal(c.drift_baseline_days, 84);
    assert_int_equal(c.loadoff_period_days, 56);
    assert_int_equal(c.loadoff_ramp_days, 28);
    assert_int_equal(c.loadoff_min_active_days, 4);
    assert_int_equal(c.loadoff_pre_gap_days, 0);
    assert_null(c.rw_url);
    assert_null(c.rw_token_file);
    assert_null(c.rw_external_labels);
    assert_int_equal(c.rw_interval_s, 60);
    assert_false(c.rw_send_counts);
    agg_config_free(&c);
}

static void test_every_key(void **state)
{
    struct fx *f = *state;
    write_ini(f, BASE "listen = 0.0.0.0:8080\n"
                      "db_path = /data/db\n"
                      "read_tokens_file = /etc/cadre/readers.tokens\n"
                      "min_group_size = 5\n"
                      "as_of = 2026-09-30\n"
                      "contract_hours_per_week = 37.5\n"
                      "literacy_courses = AI basics , ,Prompting 101\n"
                      "max_body_bytes = 1KiB\n"
                      "max_inflight_bytes = 2MiB\n"
                      "max_connections = 16\n"
                      "max_connections_per_ip = 1\n"
                      "connection_timeout_s = 3600\n"
                      "sync_writes = off\n"
                      "kpi_refresh_interval_s = 86400\n"
                      "burnout_overtime_ratio = 0.2\n"
                      "burnout_long_shift_share = 1\n"
                      "burnout_short_rests = 0\n"
                      "burnout_wow8_seconds = 1800.5\n"
                      "burnout_sickness_ratio = 0\n"
                      "burnout_min_flags = 5\n"
                      "dominance_min_contributors = 1\n"
                      "dominance_max_share = 1\n"
                      "drift_baseline_days = 730\n"
                      "loadoff_period_days = 7\n"
                      "loadoff_ramp_days = 0\n"
                      "loadoff_min_active_days = 28\n"
                      "loadoff_pre_gap_days = 56\n"
                      "tls_cert_file = /c.pem\n"
                      "tls_key_file = /k.pem\n"
                      "tls_client_ca_file = /ca.pem\n"
                      "log_format = logfmt\n"
                      "[remote_write]\n"
                      "url = https://prom.example/api/v1/write\n"
                      "interval_s = 1\n"
                      "token_file = /etc/cadre/rw.token\n"
                      "external_labels = region=\"north\"\n"
                      "send_counts = yes\n");
    struct agg_config c;
    char err[512] = "";
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), 0);
    assert_string_equal(c.listen, "0.0.0.0:8080");
    assert_string_equal(c.db_path, "/data/db");
    assert_string_equal(c.read_tokens_file, "/etc/cadre/readers.tokens");
    assert_int_equal(c.min_group_size, 5);
    assert_true(c.has_as_of);
    /* 2026-09-30 is day 20454 + 243 + 29 (see common_test's test_dates). */
    assert_int_equal(c.as_of, 20454 + 243 + 29);
    assert_int_equal(agg_config_as_of(&c), 20454 + 243 + 29);
    assert_int_equal(c.contract_hours_micro, 37500000);
    assert_int_equal(c.n_literacy_courses, 2);
    assert_string_equal(c.literacy_courses[0], "AI basics");
    assert_string_equal(c.literacy_courses[1], "Prompting 101");
    assert_null(c.literacy_courses[2]);
    assert_int_equal(c.max_body_bytes, 1024);
    assert_int_equal(c.max_inflight_bytes, 2 << 20);
    assert_int_equal(c.max_connections, 16);
    assert_int_equal(c.max_connections_per_ip, 1);
    assert_int_equal(c.connection_timeout_s, 3600);
    assert_false(c.sync_writes);
    assert_int_equal(c.kpi_refresh_interval_s, 86400);
    assert_int_equal(c.burnout_overtime_ratio, 200000);
    assert_int_equal(c.burnout_long_shift_share, MICRO);
    assert_int_equal(c.burnout_short_rests, 0);
    assert_int_equal(c.burnout_wow8_seconds, 1800500000);
    assert_int_equal(c.burnout_sickness_ratio, 0);
    assert_int_equal(c.burnout_min_flags, 5);
    assert_int_equal(c.dominance_min_contributors, 1);
    assert_int_equal(c.dominance_max_share, MICRO);
    assert_int_equal(c.drift_baseline_days, 730);
    assert_int_equal(c.loadoff_period_days, 7);
    assert_int_equal(c.loadoff_ramp_days, 0);
    assert_int_equal(c.loadoff_min_active_days, 28);
    assert_int_equal(c.loadoff_pre_gap_days, 56);
    assert_string_equal(c.tls_cert_file, "/c.pem");
    assert_string_equal(c.tls_key_file, "/k.pem");
    assert_string_equal(c.tls_client_ca_file, "/ca.pem");
    assert_int_equal(c.log_format, LOG_LOGFMT);
    assert_string_equal(c.rw_url, "https://prom.example/api/v1/write");
    assert_int_equal(c.rw_interval_s, 1);
    assert_string_equal(c.rw_token_file, "/etc/cadre/rw.token");
    assert_string_equal(c.rw_external_labels, "region=\"north\"");
    assert_true(c.rw_send_counts);
    agg_config_free(&c);

    /* An empty as_of is "yesterday". */
    write_ini(f, BASE "as_of =\n");
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), 0);
    assert_false(c.has_as_of);
    agg_config_free(&c);
}

static void test_errors(void **state)
{
    struct fx *f = *state;
    char line200[256], line201[256];
    snprintf(line200, sizeof line200, "db_path = /%0189d\n", 0); /* 10 + 1 + 189 = 200 */
    snprintf(line201, sizeof line201, "db_path = /%0190d\n", 0);
    struct {
        const char *extra; /* after BASE, from line 3 */
        const char *msg;   /* after "PATH" */
    } cases[] = {
        {line201, ":3: line longer than 200 bytes"},
        {"listn = x\n", ":3: unknown key 'listn' in [aggregator]"},
        {"listen = a:1\nlisten = b:2\n", ":4: key 'listen' repeated in [aggregator]"},
        {"listen =\n", ":3: listen must not be empty"},
        {"min_group_size = 4\n", ":3: min_group_size must be a whole number from 5 to 1000000"},
        {"min_group_size = 1000001\n",
         ":3: min_group_size must be a whole number from 5 to 1000000"},
        {"burnout_min_flags = 6\n", ":3: burnout_min_flags must be a whole number from 1 to 5"},
        {"max_body_bytes = 1023\n",
         ":3: max_body_bytes must be a size such as 16MiB (suffixes KiB, MiB, GiB)"},
        {"as_of = 2026-02-29\n", ":3: as_of must be a date YYYY-MM-DD"},
        {"contract_hours_per_week = 0\n", ":3: contract_hours_per_week must be a decimal number "
                                          "in range"},
        {"contract_hours_per_week = 168.000001\n",
         ":3: contract_hours_per_week must be a decimal number in range"},
        {"burnout_long_shift_share = 1.1\n",
         ":3: burnout_long_shift_share must be a decimal number in range"},
        {"sync_writes = maybe\n", ":3: sync_writes must be true or false"},
        {"max_connections = 15\n", ":3: max_connections must be a whole number from 16 to 1000000"},
        /* 16MiB bodies need 2 x 16 + 12 x 16 + 1 = 225 MiB. */
        {"max_inflight_bytes = 224MiB\n",
         ": max_inflight_bytes must hold at least one largest batch: 2 x max_body_bytes + 12 x "
         "max_body_bytes + 1MiB"},
        {"[nope]\nx = 1\n", ":4: unknown section [nope]"},
        {"[remote_write]\nbogus = 1\n", ":4: unknown key 'bogus' in [remote_write]"},
        {"[remote_write]\nurl = http://a\nurl = http://b\n",
         ":5: key 'url' repeated in [remote_write]"},
        {"[remote_write]\ninterval_s = 0\n",
         ":4: interval_s must be a whole number from 1 to 86400"},
        {"[remote_write]\nurl = ftp://x\n",
         ": [remote_write] url must start with http:// or https://"},
        {"[remote_write]\ntoken_file = /t\n",
         ": [remote_write] token_file, external_labels and send_counts need url"},
        {"[remote_write]\nsend_counts = true\n",
         ": [remote_write] token_file, external_labels and send_counts need url"},
        {"dominance_min_contributors = 0\n",
         ":3: dominance_min_contributors must be a whole number from 1 to 1000000"},
        {"dominance_max_share = 0\n", ":3: dominance_max_share must be a decimal number in range"},
        {"tls_key_file = /k.pem\n", ": tls_cert_file and tls_key_file go together"},
        {"tokens_file = /x\n", ":3: key 'tokens_file' repeated in [aggregator]"},
    };
    char text[1024], want[512], err[512];
    struct agg_config c;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(text, sizeof text, "%s%s", BASE, cases[i].extra);
        write_ini(f, text);
        err[0] = '\0';
        assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), -EINVAL);
        snprintf(want, sizeof want, "%s%s", f->path, cases[i].msg);
        assert_string_equal(err, want);
        assert_null(c.tokens_file); /* emptied on error */
        agg_config_free(&c);        /* and still safe to free */
    }

    write_ini(f, "[aggregator]\nlisten = a:1\n");
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s: [aggregator] tokens_file is required", f->path);
    assert_string_equal(err, want);
    write_ini(f, "[aggregator]\ntokens_file =\n");
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), -EINVAL);
    assert_string_equal(err, want);

    snprintf(text, sizeof text, "%s%s", BASE, line200);
    write_ini(f, text);
    assert_int_equal(strlen(line200), 201); /* 200 bytes and the newline */
    assert_int_equal(agg_config_load(&c, f->path, err, sizeof err), 0);
    assert_int_equal(strlen(c.db_path), 190);
    agg_config_free(&c);
}

/* --help lists every key of both tables under its section, with default and help. */
static void test_usage(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    agg_config_usage(fp);
    fclose(fp);
    const char *prev = text;
    size_t lines = 0;
    for (size_t t = 0; t < AGG_CONFIG_NTABLES; t++) {
        char want[200];
        snprintf(want, sizeof want, "  [%s]\n", agg_config_tables[t].section);
        const char *at = strstr(prev, want);
        assert_non_null(at);
        lines++;
        struct agg_config c;
        memset(&c, 0, sizeof c);
        assert_int_equal(opttab_defaults(agg_config_tables[t].rows, &c), 0);
        agg_config_free(&c);
        for (const struct opt *o = agg_config_tables[t].rows; o->key; o++, lines++) {
            snprintf(want, sizeof want, "\n    %-26s %-18s %s%s\n", o->key, o->def ? o->def : "",
                     o->help, o->required ? " (required)" : "");
            assert_non_null(strstr(at, want));
        }
        prev = at;
    }
    assert_int_equal(lines, 2 + 33 + 5); /* two sections, their keys */
    assert_non_null(strstr(text, "    tokens_file                                   lines "
                                 "\"agent_id token\" (required)\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
