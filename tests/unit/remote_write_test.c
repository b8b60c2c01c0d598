/* remote_write_test.c - the remote_write request (decoded with the generated protobuf-c
 * code after snappy) carries exactly /metrics' KPI series, sorted labels and the external
 * labels; rw_send's headers and answer classes against a libmicrohttpd server. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <microhttpd.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/sbuf.h"
#include "common/xalloc.h"
#include "exporters/prom.h"
#include "exporters/remote_write.h"
#include "remote.pb-c.h"

static const char *const w_adoption[] = {"7d", "28d", NULL};
static const char *const w_retention[] = {"90d", NULL};
/* Two hand-made KPI definitions (not the catalogue's windows), so the selection by window
 * is tested on its own. */
static const struct kpi_def fams[] = {
    {.name = "adoption_ratio", .help = "help", .windows = w_adoption, .additive = true},
    {.name = "retention_ratio", .help = "help", .windows = w_retention, .additive = false},
};
#define NFAMS (sizeof fams / sizeof *fams)

/* Published: 4 series. Absent: a suppressed cell, a window /metrics does not carry, a KPI
 * outside the families. Rows are added unsorted on purpose. */
static void fill(struct kpi_table *t)
{
    memset(t, 0, sizeof *t);
    kpi_table_add(t, "retention_ratio", "90d", "department", "ICU", 9, 10, 10, 0, 0);
    kpi_table_add(t, "adoption_ratio", "28d", "org", "all", 6, 12, 12, 0, 0);
    kpi_table_add(t, "adoption_ratio", "28d", "department", "ER \"A\"\\n", 2, 6, 6, 0, 0);
    kpi_table_add(t, "adoption_ratio", "28d", "role", "physician", 1, 2, 2, 0, 0)->suppressed =
        true;
    kpi_table_add(t, "adoption_ratio", "90d", "org", "all", 7, 13, 13, 0, 0);
    kpi_table_add(t, "adoption_ratio", "7d", "org", "all", 0, 12, 12, 0, 0);
    kpi_table_add(t, "overtime_ratio", "28d", "org", "all", 1, 100, 12, 0, 0);
}

/* Builds with flags, uncompresses and unpacks; the caller frees with
 * prometheus__write_request__free_unpacked(). */
static Prometheus__WriteRequest *roundtrip_flags(const struct kpi_table *t, const char *ext,
                                                 unsigned flags, int64_t ts, int *nseries)
{
    uint8_t *body = NULL;
    size_t len = 0;
    *nseries = rw_build(t, fams, NFAMS, ext, flags, ts, &body, &len);
    assert_true(*nseries >= 0);
    size_t plen;
    assert_int_equal(snappy_uncompressed_length((const char *)body, len, &plen), SNAPPY_OK);
    char *packed = xmalloc(plen + 1);
    assert_int_equal(snappy_uncompress((const char *)body, len, packed, &plen), SNAPPY_OK);
    Prometheus__WriteRequest *req =
        prometheus__write_request__unpack(NULL, plen, (const uint8_t *)packed);
    assert_non_null(req);
    xfree(packed);
    xfree(body);
    return req;
}

static Prometheus__WriteRequest *roundtrip(const struct kpi_table *t, const char *ext, int64_t ts,
                                           int *nseries)
{
    return roundtrip_flags(t, ext, 0, ts, nseries);
}

/* Asserts the labels of ts are exactly the NULL-terminated name, value list. */
static void assert_labels(const Prometheus__TimeSeries *ts, const char *const *want)
{
    size_t n = 0;
    for (; want[2 * n]; n++) {
        assert_true(n < ts->n_labels);
        assert_string_equal(ts->labels[n]->name, want[2 * n]);
        assert_string_equal(ts->labels[n]->value, want[2 * n + 1]);
    }
    assert_int_equal(ts->n_labels, n);
    for (size_t i = 1; i < ts->n_labels; i++)
        assert_true(strcmp(ts->labels[i - 1]->name, ts->labels[i]->name) < 0);
}

static void assert_one_sample(const Prometheus__TimeSeries *ts, double v, int64_t ms)
{
    assert_int_equal(ts->n_samples, 1);
    assert_double_exact(ts->samples[0]->value, v);
    assert_int_equal(ts->samples[0]->timestamp, ms);
}

static void test_series_and_labels(void **state)
{
    (void)state;
    struct kpi_table t;
    fill(&t);
    int n;
    const int64_t ms = 1790000000123;
    /* Capitals sort before '_' in byte order, so Zone comes before __name__. */
    Prometheus__WriteRequest *req =
        roundtrip(&t, " region = \"north\", Zone=\"b\\\"1\\\\\",env=\"prod\" ,", ms, &n);
    assert_int_equal(n, 4);
    assert_int_equal(req->n_timeseries, 4);
    /* Order: families in order, then the table's rows (unsorted). */
    assert_labels(req->timeseries[0],
                  (const char *const[]){"Zone", "b\"1\\", "__name__", "cadre_adoption_ratio", "by",
                                        "org", "env", "prod", "group", "all", "region", "north",
                                        "window", "28d", NULL});
    assert_one_sample(req->timeseries[0], 0.5, ms);
    assert_labels(req->timeseries[1],
                  (const char *const[]){"Zone", "b\"1\\", "__name__", "cadre_adoption_ratio", "by",
                                        "department", "env", "prod", "group", "ER \"A\"\\n",
                                        "region", "north", "window", "28d", NULL});
    assert_one_sample(req->timeseries[1], 2.0 / 6.0, ms);
    assert_labels(req->timeseries[2],
                  (const char *const[]){"Zone", "b\"1\\", "__name__", "cadre_adoption_ratio", "by",
                                        "org", "env", "prod", "group", "all", "region", "north",
                                        "window", "7d", NULL});
    assert_one_sample(req->timeseries[2], 0.0, ms);
    assert_labels(req->timeseries[3],
                  (const char *const[]){"Zone", "b\"1\\", "__name__", "cadre_retention_ratio", "by",
                                        "department", "env", "prod", "group", "ICU", "region",
                                        "north", "window", "90d", NULL});
    assert_one_sample(req->timeseries[3], 0.9, ms);
    prometheus__write_request__free_unpacked(req, NULL);
    kpi_table_clear(&t);
}

/* send_counts: each published row of an additive KPI (adoption here, not retention) is
 * followed by its numerator and denominator with the ratio's labels; the suppressed row and
 * the rows outside the windows get none of the three. Values are fill()'s numerators and
 * denominators as given: 6/12, 2/6 and 0/12 for adoption, 9/10 for retention. */
static void test_send_counts(void **state)
{
    (void)state;
    struct kpi_table t;
    fill(&t);
    int n;
    const int64_t ms = 1790000000456;
    Prometheus__WriteRequest *req = roundtrip_flags(&t, "region=\"south\"", RW_SEND_COUNTS, ms, &n);
    assert_int_equal(n, 10);
    assert_int_equal(req->n_timeseries, 10);
    static const struct {
        const char *name, *by, *group, *window;
        double v;
    } want[] = {
        {"cadre_adoption_ratio", "org", "all", "28d", 0.5},
        {"cadre_adoption_ratio_numerator", "org", "all", "28d", 6},
        {"cadre_adoption_ratio_denominator", "org", "all", "28d", 12},
        {"cadre_adoption_ratio", "department", "ER \"A\"\\n", "28d", 2.0 / 6.0},
        {"cadre_adoption_ratio_numerator", "department", "ER \"A\"\\n", "28d", 2},
        {"cadre_adoption_ratio_denominator", "department", "ER \"A\"\\n", "28d", 6},
        {"cadre_adoption_ratio", "org", "all", "7d", 0},
        {"cadre_adoption_ratio_numerator", "org", "all", "7d", 0},
        {"cadre_adoption_ratio_denominator", "org", "all", "7d", 12},
        {"cadre_retention_ratio", "department", "ICU", "90d", 0.9},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        assert_labels(req->timeseries[i],
                      (const char *const[]){"__name__", want[i].name, "by", want[i].by, "group",
                                            want[i].group, "region", "south", "window",
                                            want[i].window, NULL});
        assert_one_sample(req->timeseries[i], want[i].v, ms);
    }
    prometheus__write_request__free_unpacked(req, NULL);
    /* Without the flag the same table gives the four ratios only. */
    req = roundtrip_flags(&t, "region=\"south\"", 0, ms, &n);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < req->n_timeseries; i++)
        assert_null(strstr(req->timeseries[i]->labels[0]->value, "_numerator"));
    prometheus__write_request__free_unpacked(req, NULL);
    kpi_table_clear(&t);
}

static void test_no_external_labels(void **state)
{
    (void)state;
    struct kpi_table t;
    fill(&t);
    int n;
    for (int k = 0; k < 2; k++) {
        Prometheus__WriteRequest *req = roundtrip(&t, k ? "  " : NULL, -5, &n);
        assert_int_equal(n, 4);
        assert_labels(req->timeseries[3],
                      (const char *const[]){"__name__", "cadre_retention_ratio", "by", "department",
                                            "group", "ICU", "window", "90d", NULL});
        assert_one_sample(req->timeseries[3], 0.9, -5);
        prometheus__write_request__free_unpacked(req, NULL);
    }
    kpi_table_clear(&t);
}

/* The same values /metrics shows, digit for digit. */
static void test_values_match_exposition(void **state)
{
    (void)state;
    struct kpi_table t;
    memset(&t, 0, sizeof t);
    kpi_table_add(&t, "adoption_ratio", "28d", "org", "all", 1, 3, 12, 0, 0);
    kpi_table_add(&t, "adoption_ratio", "7d", "org", "all", 0.1, 0.7, 12, 0, 0);
    struct sbuf b = {0};
    prom_render_kpis(&b, &t, fams, 1);
    int n;
    Prometheus__WriteRequest *req = roundtrip(&t, "", 0, &n);
    assert_int_equal(n, 2);
    for (size_t i = 0; i < req->n_timeseries; i++) {
        char want[128], num[32];
        kpi_format_double(req->timeseries[i]->samples[0]->value, num);
        snprintf(want, sizeof want,
                 "cadre_adoption_ratio{window=\"%s\",by=\"org\",group=\"all\"} %s\n",
                 req->timeseries[i]->labels[3]->value, num);
        assert_non_null(strstr(b.p, want));
    }
    prometheus__write_request__free_unpacked(req, NULL);
    sbuf_free(&b);
    kpi_table_clear(&t);
}

static void test_empty(void **state)
{
    (void)state;
    struct kpi_table t;
    memset(&t, 0, sizeof t);
    int n;
    Prometheus__WriteRequest *req = roundtrip(&t, "region=\"north\"", 1, &n);
    assert_int_equal(n, 0);
    assert_int_equal(req->n_timeseries, 0);
    prometheus__write_request__free_unpacked(req, NULL);
}

static void test_bad_labels(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "region",           "region=north",    "region=\"north", "region=\"\"", "1region=\"x\"",
        "__x=\"y\"",        "__name__=\"y\"",  "window=\"x\"",   "by=\"x\"",    "group=\"x\"",
        "a=\"1\",a=\"2\"",  "a=\"1\" b=\"2\"", "a=\"\\t\"",      "a-b=\"1\"",   ",",
        "a=\"1\",,b=\"2\"",
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        if (rw_check_labels(bad[i], err, sizeof err) != -EINVAL)
            fail_msg("accepted external_labels '%s'", bad[i]);
        assert_non_null(strstr(err, "external_labels"));
        struct kpi_table t;
        fill(&t);
        uint8_t *body = (uint8_t *)"untouched";
        size_t len = 0;
        assert_int_equal(rw_build(&t, fams, NFAMS, bad[i], 0, 0, &body, &len), -EINVAL);
        assert_string_equal((const char *)body, "untouched");
        kpi_table_clear(&t);
    }
    assert_int_equal(rw_check_labels("a=\"1\", b_2=\"x,y=\\\"z\\\"\" ,", err, sizeof err), 0);
    assert_int_equal(rw_check_labels(NULL, err, sizeof err), 0);
    struct sbuf many = {0};
    for (int i = 0; i <= RW_MAX_EXTERNAL_LABELS; i++)
        sbuf_printf(&many, "l%d=\"v\",", i);
    assert_int_equal(rw_check_labels(many.p, err, sizeof err), -EINVAL);
    sbuf_free(&many);
}

/* ---- rw_send against a local HTTP server ---- */

struct server {
    struct MHD_Daemon *d;
    unsigned status; /* answer for the next request */
    char headers[2048];
    struct sbuf body;
    int requests;
};

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
    (void)kind;
    struct server *s = cls;
    size_t n = strlen(s->headers);
    snprintf(s->headers + n, sizeof s->headers - n, "%s: %s\n", k, v ? v : "");
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    (void)url, (void)version;
    struct server *s = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = s;
        s->headers[0] = '\0';
        sbuf_free(&s->body);
        snprintf(s->headers, sizeof s->headers, "%s %s\n", method, url);
        MHD_get_connection_values(c, MHD_HEADER_KIND, on_header, s);
        return MHD_YES;
    }
    if (*size) {
        sbuf_add(&s->body, data, *size);
        *size = 0;
        return MHD_YES;
    }
    s->requests++;
    static const char msg[] = "out of order sample\nsecond line";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, s->status, r);
    MHD_destroy_response(r);
    return ret;
}

static int server_start(void **state)
{
    struct server *s = xcalloc(1, sizeof *s);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            on_request, s, MHD_OPTION_END);
    if (!s->d)
        return -1;
    *state = s;
    return 0;
}

static int server_stop(void **state)
{
    struct server *s = *state;
    MHD_stop_daemon(s->d);
    sbuf_free(&s->body);
    xfree(s);
    return 0;
}

static void server_url(struct server *s, char *url, size_t n)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, n, "http://127.0.0.1:%u/api/v1/write", (unsigned)i->port);
}

static void test_send_headers_and_body(void **state)
{
    struct server *s = *state;
    char url[128], err[512];
    server_url(s, url, sizeof url);
    struct kpi_table t;
    fill(&t);
    uint8_t *body;
    size_t len;
    assert_int_equal(rw_build(&t, fams, NFAMS, "region=\"north\"", 0, 7, &body, &len), 4);
    s->status = 204;
    assert_int_equal(rw_send(url, "s3cret", "cadre-aggregator/test", body, len, err, sizeof err),
                     EXP_OK);
    assert_int_equal(s->requests, 1);
    assert_int_equal(s->body.len, len);
    assert_memory_equal(s->body.p, body, len);
    static const char *const want[] = {
        "POST /api/v1/write\n",
        "\nContent-Encoding: snappy\n",
        "\nContent-Type: application/x-protobuf\n",
        "\nX-Prometheus-Remote-Write-Version: 0.1.0\n",
        "\nAuthorization: Bearer s3cret\n",
        "\nUser-Agent: cadre-aggregator/test\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(s->headers, want[i]))
            fail_msg("no '%s' in the request:\n%s", want[i], s->headers);
    assert_null(strstr(s->headers, "Expect:"));
    assert_non_null(strstr(err, "HTTP 204"));
    kpi_table_clear(&t);
    xfree(body);
}

static void test_send_answers(void **state)
{
    struct server *s = *state;
    char url[128], err[512];
    server_url(s, url, sizeof url);
    static const uint8_t body[] = {0x00};
    static const struct {
        unsigned status;
        int want;
    } cases[] = {{200, EXP_OK},    {204, EXP_OK},    {400, EXP_ERROR}, {401, EXP_ERROR},
                 {404, EXP_ERROR}, {413, EXP_ERROR}, {429, EXP_RETRY}, {500, EXP_RETRY},
                 {503, EXP_RETRY}, {302, EXP_ERROR}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        s->status = cases[i].status;
        int got = rw_send(url, NULL, NULL, body, sizeof body, err, sizeof err);
        if (got != cases[i].want)
            fail_msg("HTTP %u gave %d, want %d (%s)", cases[i].status, got, cases[i].want, err);
        char want[256];
        snprintf(want, sizeof want, "POST %s: HTTP %u%s", url, cases[i].status,
                 cases[i].status == 204 ? "" : ": out of order sample second line");
        assert_string_equal(err, want); /* 204 has no body */
        assert_null(strchr(err, '\n'));
    }
    /* No token: no Authorization header; the default User-Agent. */
    assert_null(strstr(s->headers, "Authorization"));
    assert_non_null(strstr(s->headers, "User-Agent: cadre\n"));
}

static void test_send_transport_errors(void **state)
{
    (void)state;
    char err[512];
    static const uint8_t body[] = {0x00};
    /* A port nothing listens on: bind one, close it. */
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                            on_request, NULL, MHD_OPTION_END);
    assert_non_null(d);
    unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    MHD_stop_daemon(d);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/api/v1/write", port);
    assert_int_equal(rw_send(url, NULL, NULL, body, sizeof body, err, sizeof err), EXP_RETRY);
    assert_non_null(strstr(err, url));
    assert_int_equal(rw_send("ftp://127.0.0.1/x", NULL, NULL, body, sizeof body, err, sizeof err),
                     EXP_ERROR);
    assert_int_equal(rw_send("http://[::1", NULL, NULL, body, sizeof body, err, sizeof err),
                     EXP_ERROR);
}

static void test_read_token(void **state)
{
    (void)state;
    char dir[] = "/tmp/cadre-rw-test.XXXXXX", path[64], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/token", dir);
    static const struct {
        const char *text, *want; /* want NULL: refused */
    } cases[] = {
        {"abc\n", "abc"}, {"  abc \r\nsecond\n", "abc"},
        {"abc", "abc"},   {"\nabc\n", NULL},
        {"", NULL},       {"  \t \n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        char *tok = NULL;
        int rc = rw_read_token(path, &tok, err, sizeof err);
        if (cases[i].want) {
            assert_int_equal(rc, 0);
            assert_string_equal(tok, cases[i].want);
            xfree(tok);
        } else {
            assert_int_equal(rc, -EINVAL);
            assert_null(tok);
        }
    }
    unlink(path);
    assert_int_equal(rw_read_token(path, (char *[]){NULL}, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, path));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_and_labels),
        cmocka_unit_test(test_send_counts),
        cmocka_unit_test(test_no_external_labels),
        cmocka_unit_test(test_values_match_exposition),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_labels),
        cmocka_unit_test_setup_teardown(test_send_headers_and_body, server_start, server_stop),
        cmocka_unit_test_setup_teardown(test_send_answers, server_start, server_stop),
        cmocka_unit_test(test_send_transport_errors),
        cmocka_unit_test(test_read_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
