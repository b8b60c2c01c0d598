/* agent_config_test.c - the agent's INI file: defaults, every [agent] key, sources, errors. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent/config.h"
#include "common/inifile.h"
#include "common/log.h"
#include "common/xalloc.h"

struct fx {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-agent-config-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/agent.ini", f->dir);
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

/* The five required keys on lines 1 to 6, then extra (lines 7 on). */
#define BASE                                                                                       \
    "[agent]\n"                                                                                    \
    "id = site-1\n"                                                                                \
    "aggregator_url = https://agg.example:9470//\n"                                                \
    "token_file = /etc/cadre/agent.token\n"                                                        \
    "org_key_file = /etc/cadre/org.key\n"                                                          \
    "state_dir = /var/lib/cadre-agent\n"

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
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(agent_config_load(&c, f->path, err, sizeof err), 0);
    assert_string_equal(c.id, "site-1");
    assert_string_equal(c.aggregator_url, "https://agg.example:9470"); /* '/' dropped */
    assert_string_equal(c.token_file, "/etc/cadre/agent.token");
    assert_string_equal(c.org_key_file, "/etc/cadre/org.key");
    assert_string_equal(c.state_dir, "/var/lib/cadre-agent");
    assert_int_equal(c.poll_interval_s, 5);
    assert_int_equal(c.batch_max_records, 5000);
    assert_int_equal(c.batch_max_wait_ms, 1000);
    assert_int_equal(c.spool_max_bytes, 1073741824);  /* 1GiB = 2^30 */
    assert_int_equal(c.rejected_max_bytes, 67108864); /* 64MiB = 2^26 */
    assert_int_equal(c.fsync, SPOOL_FSYNC_ALWAYS);
    assert_int_equal(c.fsync_interval_ms, 1000);
    assert_int_equal(c.gzip, 1);
    assert_int_equal(c.retry_max_s, 30);
    assert_null(c.metrics_listen);
    assert_null(c.tls_ca_file);
    assert_null(c.tls_cert_file);
    assert_null(c.tls_key_file);
    assert_int_equal(c.heartbeat_s, 60);
    assert_int_equal(c.once_timeout_s, 600);
    assert_int_equal(c.log_format, LOG_TEXT);
    assert_int_equal(c.nsources, 0);
    agent_config_free(&c);
}

static void test_every_key(void **state)
{
    struct fx *f = *state;
    write_ini(f, BASE "poll_interval_s = 86400\n"
                      "batch_max_records = 1\n"
                      "batch_max_wait_ms = 0\n"
                      "spool_max_bytes = 1MiB\n"
                      "fsync = interval\n"
                      "fsync_interval_ms = 60000\n"
                      "compress = none\n"
                      "retry_max_s = 7\n"
                      "metrics_listen = 127.0.0.1:9101\n"
                      "tls_ca_file = /ca.pem\n"
                      "tls_cert_file = /c.pem\n"
                      "tls_key_file = /k.pem\n"
                      "heartbeat_s = 1\n"
                      "once_timeout_s = 604800\n"
                      "log_format = logfmt\n"
                      "[source usage]\n"
                      "type = usage_jsonl\n"
                      "path = /logs/*.jsonl\n"
                      "[source hr]\n"
                      "path = /hr/staff-*.csv\n"
                      "type = staffing_csv\n"
                      "authoritative = Yes\n"
                      "[source shifts]\n"
                      "type = shifts_csv\n"
                      "path = /hr/shifts.csv\n");
    struct agent_config c;
    char err[512] = "";
    assert_int_equal(agent_config_load(&c, f->path, err, sizeof err), 0);
    assert_int_equal(c.poll_interval_s, 86400);
    assert_int_equal(c.batch_max_records, 1);
    assert_int_equal(c.batch_max_wait_ms, 0);
    assert_int_equal(c.spool_max_bytes, 1048576);
    assert_int_equal(c.fsync, SPOOL_FSYNC_INTERVAL);
    assert_int_equal(c.fsync_interval_ms, 60000);
    assert_int_equal(c.gzip, 0);
    assert_int_equal(c.retry_max_s, 7);
    assert_string_equal(c.metrics_listen, "127.0.0.1:9101");
    assert_string_equal(c.tls_ca_file, "/ca.pem");
    assert_string_equal(c.tls_cert_file, "/c.pem");
    assert_string_equal(c.tls_key_file, "/k.pem");
    assert_int_equal(c.heartbeat_s, 1);
    assert_int_equal(c.once_timeout_s, 604800); /* 7 * 86400 */
    assert_int_equal(c.log_format, LOG_LOGFMT);
    assert_int_equal(c.nsources, 3);
    assert_string_equal(c.sources[0].name, "usage");
    assert_ptr_equal(c.sources[0].type, &source_usage_jsonl);
    assert_string_equal(c.sources[0].opts.path, "/logs/*.jsonl");
    assert_int_equal(c.sources[0].line, 23); /* its first key; the header is line 22 */
    assert_string_equal(c.sources[1].name, "hr");
    assert_ptr_equal(c.sources[1].type, &source_staffing_csv);
    assert_string_equal(c.sources[1].opts.path, "/hr/staff-*.csv");
    assert_true(c.sources[1].opts.authoritative);
    assert_ptr_equal(c.sources[2].type, &source_shifts_csv);
    assert_false(c.sources[2].opts.authoritative); /* the default */
    agent_config_free(&c);
}

/* A 200-byte line is read; the error cases give exactly today's messages. */
static void test_errors(void **state)
{
    struct fx *f = *state;
    char line200[256], line201[256];
    snprintf(line200, sizeof line200, "tls_ca_file = /%0185d\n", 0); /* 14 + 1 + 185 = 200 */
    snprintf(line201, sizeof line201, "tls_ca_file = /%0186d\n", 0);
    static const char *const src_types =
        "usage_jsonl staffing_csv shifts_csv absences_csv ehr_csv training_csv licences_csv "
        "m365_copilot github_copilot";
    struct {
        const char *extra; /* after BASE, from line 7 */
        const char *msg;   /* after "PATH" ("%s" = the source types); a [source] is
                            * known by the line of its first key */
    } cases[] = {
        {line201, ":7: line longer than 200 bytes"},
        {" poll_interval_s = 5\n", ":7: lines must start in column 1"},
        {"poll_intervall_s = 5\n", ":7: unknown key 'poll_intervall_s' in [agent]"},
        {"heartbeat_s = 10\nheartbeat_s = 20\n",
         ":8: key 'heartbeat_s' repeated in [agent] (first on line 7)"},
        {"poll_interval_s = 0\n", ":7: poll_interval_s must be a whole number from 1 to 86400"},
        {"poll_interval_s = 86401\n", ":7: poll_interval_s must be a whole number from 1 to 86400"},
        {"fsync_interval_ms = 9\n",
         ":7: fsync_interval_ms must be a whole number from 10 to 60000"},
        {"batch_max_wait_ms = -1\n",
         ":7: batch_max_wait_ms must be a whole number from 0 to 3600000"},
        {"once_timeout_s = 604801\n", ":7: once_timeout_s must be a whole number from 1 to 604800"},
        {"spool_max_bytes = 1048575\n",
         ":7: spool_max_bytes must be a size of at least 1MiB (suffixes KiB, MiB, GiB)"},
        {"spool_max_bytes = 1 GiB\n",
         ":7: spool_max_bytes must be a size of at least 1MiB (suffixes KiB, MiB, GiB)"},
        {"fsync = sometimes\n", ":7: fsync must be always, interval or never"},
        {"compress = zstd\n", ":7: compress must be gzip or none"},
        {"metrics_listen = 9101\n", ":7: metrics_listen must be host:port or off"},
        {"metrics_listen = h:70000\n", ":7: metrics_listen must be host:port or off"},
        {"[other]\nx = 1\n", ":8: unknown section [other]"},
        {"[source Bad]\ntype = usage_jsonl\n",
         ":8: source name 'Bad' must be 1 to 64 characters of [a-z0-9._-]"},
        {"[source u]\ntype = nosuch\n", ":8: unknown source type 'nosuch'"},
        {"[source u]\npath = /a\npath = /b\n",
         ":9: key 'path' repeated in [source u] (first on line 8)"},
        {"[source u]\npath = /a\n", ":8: [source u] needs a type (one of %s)"},
        {"[source u]\ntype = usage_jsonl\n", ":8: [source u] needs path"},
        {"[source u]\ntype = usage_jsonl\npath = /a\nauthoritative = true\n",
         ":10: unknown key 'authoritative' in [source u] (type usage_jsonl)"},
        {"[source hr]\ntype = staffing_csv\npath = /a\nauthoritative = maybe\n",
         ":10: authoritative must be true or false"},
        {"[source hr]\ntype = staffing_csv\npath =\n", ":9: path must not be empty"},
        {"tls_cert_file = /c.pem\n", ": tls_cert_file and tls_key_file go together"},
        {"not a key line\n", ":7: not a section header or key = value"},
    };
    char text[1024], want[512], err[512];
    struct agent_config c;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(text, sizeof text, "%s%s", BASE, cases[i].extra);
        write_ini(f, text);
        err[0] = '\0';
        assert_int_equal(agent_config_load(&c, f->path, err, sizeof err), -EINVAL);
        int n = snprintf(want, sizeof want, "%s", f->path);
        snprintf(want + n, sizeof want - (size_t)n, cases[i].msg, src_types);
        assert_string_equal(err, want);
        assert_null(c.id); /* emptied on error */
        assert_int_equal(c.nsources, 0);
    }

    snprintf(text, sizeof text, "%s%s", BASE, line200);
    write_ini(f, text);
    assert_int_equal(strlen(line200), INIFILE_MAX_LINE + 1);
    assert_int_equal(agent_config_load(&c, f->path, err, sizeof err), 0);
    assert_int_equal(strlen(c.tls_ca_file), 186);
    agent_config_free(&c);
}

/* Each required key left out, or set empty, is named. */
static void test_required(void **state)
{
    struct fx *f = *state;
    static const char *const keys[] = {"id", "aggregator_url", "token_file", "org_key_file",
                                       "state_dir"};
    char text[1024], want[256], err[512];
    for (size_t k = 0; k < 5; k++) {
        for (int empty = 0; empty < 2; empty++) {
            /* BASE without the line of keys[k] (or with it empty, for the plain paths). */
            size_t n = (size_t)snprintf(text, sizeof text, "[agent]\n");
            const char *p = BASE + strlen("[agent]\n");
            while (*p) {
                const char *nl = strchr(p, '\n');
                size_t l = (size_t)(nl - p) + 1;
                if (strncmp(p, keys[k], strlen(keys[k])) || p[strlen(keys[k])] != ' ')
                    n += (size_t)snprintf(text + n, sizeof text - n, "%.*s", (int)l, p);
                else if (empty)
                    n += (size_t)snprintf(text + n, sizeof text - n, "%s =\n", keys[k]);
                p += l;
            }
            write_ini(f, text);
            struct agent_config c;
            int rc = agent_config_load(&c, f->path, err, sizeof err);
            assert_int_equal(rc, -EINVAL);
            if (empty && k < 2) /* an empty id or URL is a bad value, on its line */
                continue;
            snprintf(want, sizeof want, "%s: [agent] %s is required", f->path, keys[k]);
            assert_string_equal(err, want);
        }
    }
    unlink(f->path);
    struct agent_config c;
    assert_int_equal(agent_config_load(&c, f->path, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", f->path);
    assert_string_equal(err, want);
}

/* --help lists every [agent] key and every key of each source type. */
static void test_usage(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    assert_non_null(fp);
    agent_config_usage(fp);
    fclose(fp);
    char want[160];
    assert_non_null(strstr(text, "  [agent]\n"));
    for (const struct opt *o = agent_config_table.rows; o->key; o++) {
        snprintf(want, sizeof want, "\n    %-26s %-18s %s", o->key, o->def ? o->def : "", o->help);
        assert_non_null(strstr(text, want));
    }
    for (size_t t = 0; source_types[t]; t++) {
        snprintf(want, sizeof want, "   type = %s:\n", source_types[t]->name);
        const char *at = strstr(text, want);
        assert_non_null(at);
        for (const struct opt *o = source_types[t]->config; o->key; o++) {
            snprintf(want, sizeof want, "\n    %-26s %-18s %s", o->key, o->def ? o->def : "",
                     o->help);
            assert_non_null(strstr(at, want));
        }
    }
    assert_non_null(strstr(text, "    spool_max_bytes            1GiB               spool cap"));
    free(text);
}

/* Every default of every table is accepted by its own row. */
static void test_tables(void **state)
{
    (void)state;
    struct agent_config c = {0};
    assert_int_equal(opttab_defaults(agent_config_table.rows, &c), 0);
    size_t n = 0;
    while (agent_config_table.rows[n].key)
        n++;
    assert_int_equal(n, 21);
    assert_true(n <= OPTTAB_MAX_ROWS);
    agent_config_free(&c);
    for (size_t t = 0; source_types[t]; t++) {
        struct source_opts o = {0};
        assert_int_equal(opttab_defaults(source_types[t]->config, &o), 0);
        opttab_free(source_types[t]->config, &o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required, setup, teardown),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
