/* report_html_test.c - the executive HTML report on hand-built KPI tables: escaping, no
 * external references, suppressed values never shown, formats, arrows, trend polylines,
 * valid UTF-8. With CADRE_REPORT_OUT set, also writes the rendered page there (the
 * integration test tests/integration/report_html.sh renders it with Chromium). */
#include "tests/unit/testutil.h"

#include <stdlib.h>

#include "common/sbuf.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exporters/report_html.h"

#define NQ REPORT_QUARTERS

static const char *const qnames[NQ] = {"2026Q3", "2026Q2", "2026Q1", "2025Q4"};
static const char *const qstart[NQ] = {"2026-07-01", "2026-04-01", "2026-01-01", "2025-10-01"};
static const char *const qend[NQ] = {"2026-09-30", "2026-06-30", "2026-03-31", "2025-12-31"};

static int32_t day(const char *ymd)
{
    int32_t d;
    if (parse_date(ymd, strlen(ymd), &d))
        abort();
    return d;
}

/* A KPI's org value in 2026Q3, its change per quarter going back, the spread between
 * departments, and whether it has a department breakdown. */
struct kdef {
    const char *kpi;
    double q3, step, spread;
    int by_dept;
};

static const struct kdef kdefs[] = {
    {"adoption_ratio", 0.627, 0.074, 0.21, 1},
    {"engaged_ratio", 0.318, 0.041, 0.12, 1},
    {"ai_output_accepted_ratio", 0.562, 0.012, 0.08, 1},
    {"ai_output_edited_ratio", 0.331, 0.006, 0.05, 1},
    {"ai_output_rejected_ratio", 0.107, -0.006, 0.03, 1},
    {"retention_ratio", 0.951, -0.003, 0.03, 1},
    {"leaver_ratio", 0.046, -0.002, 0.02, 1},
    {"voluntary_leaver_ratio", 0.031, 0.001, 0.015, 1},
    {"hybrid_role_retention_ratio", 0.912, 0.021, 0, 0},
    {"hybrid_role_org_retention_ratio", 0.968, 0.004, 0, 0},
    {"hybrid_role_leaver_ratio", 0.058, -0.011, 0, 0},
    {"overtime_ratio", 0.048, 0.007, 0.02, 1},
    {"long_shift_ratio", 0.213, 0.004, 0.09, 1},
    {"extended_shift_ratio", 0.052, 0.001, 0.03, 1},
    {"short_rest_ratio", 0.067, -0.004, 0.03, 1},
    {"sickness_absence_ratio", 0.038, -0.003, 0.012, 1},
    {"wow8_seconds", 4500, 180, 900, 1},
    {"ehr_time8_seconds", 7385, 120, 1200, 1},
    {"inbox_time8_seconds", 45, -3, 20, 1},
    {"burnout_risk_ratio", 0.142, -0.009, 0.05, 1},
    {"ai_literacy_ratio", 0.584, 0.093, 0.15, 1},
    {"ai_champion_coverage_ratio", 0.75, 0.125, 0, 0},
};

struct dept {
    const char *name;
    int64_t persons;
    double offset; /* in units of the KPI's spread */
};

/* Pharmacy is small (suppressed everywhere); Oncology is hidden with it (complementary). */
static const struct dept depts[] = {
    {"Emergency", 84, 0.6},
    {"ICU", 61, 0.9},
    {"Obstetrics & Gynecology <A>", 38, -0.3},
    {"Radiology", 27, 0.2},
    {"P\xC3\xA4"
     "diatrie \xE2\x80\x93 S\xC3\xA4uglinge",
     45, -0.7},
    {"Pharmacy", 6, 0.4},
    {"Oncology", 12, -0.1},
    {"Medical & Surgical Ward 4", 97, -1.0},
};
#define NDEPTS (sizeof depts / sizeof *depts)

/* The suppressed cell with a distinctive value: Pharmacy adoption 7/8 in 2026Q3. */
#define SUPPRESSED_SHOWN "87.5%"

static void add(struct kpi_table *t, int q, const char *kpi, const char *by, const char *group,
                double v, int64_t persons, int suppressed)
{
    struct kpi_row *r = kpi_table_add(t, kpi, qnames[q], by, group, v * 1000.0, 1000.0, persons,
                                      day(qstart[q]), day(qend[q]));
    r->suppressed = suppressed;
}

/* Fills the four quarters' tables (rows deliberately unsorted). */
static void build(struct kpi_table t[NQ])
{
    for (int q = 0; q < NQ; q++) {
        t[q].as_of = day("2026-09-30");
        for (size_t k = 0; k < sizeof kdefs / sizeof *kdefs; k++) {
            const struct kdef *d = &kdefs[k];
            double org = d->q3 - d->step * q;
            if (d->by_dept) {
                for (size_t i = NDEPTS; i-- > 0;) {
                    double v = org + d->spread * depts[i].offset + 0.0037 * (double)(i % 3);
                    int sup = depts[i].persons < 15;
                    if (sup && q == 0 && strcmp(d->kpi, "adoption_ratio") == 0 &&
                        strcmp(depts[i].name, "Pharmacy") == 0) {
                        struct kpi_row *r =
                            kpi_table_add(&t[q], d->kpi, qnames[q], "department", depts[i].name, 7,
                                          8, 6, day(qstart[q]), day(qend[q]));
                        r->suppressed = true;
                        continue;
                    }
                    add(&t[q], q, d->kpi, "department", depts[i].name, v < 0 ? 0 : v,
                        depts[i].persons, sup);
                }
                add(&t[q], q, d->kpi, "role", "nurse", org + 0.01, 240, 0);
                add(&t[q], q, d->kpi, "site", "north", org - 0.01, 370, 0);
            } else if (strncmp(d->kpi, "hybrid", 6) == 0) {
                add(&t[q], q, d->kpi, "hybrid_role", "ai_champion", org, 11, 0);
            }
            add(&t[q], q, d->kpi, "org", "all", org, 370, 0);
        }
        add(&t[q], q, "tool_adoption_ratio", "tool", "ambient-scribe", 0.5, 370, 0);
    }
}

struct env {
    struct kpi_table t[NQ];
    struct report_input in;
    char *page;
    size_t len;
};

static char *render(const struct report_input *in, size_t *len)
{
    struct sbuf b = {0};
    report_html(&b, in);
    return sbuf_take(&b, len);
}

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof *e);
    build(e->t);
    e->in.as_of = day("2026-09-30");
    e->in.org_name = "St Example Health";
    e->in.min_group_size = 10;
    for (int q = 0; q < NQ; q++) {
        e->in.quarter[q] = qnames[q];
        e->in.table[q] = &e->t[q];
    }
    e->page = render(&e->in, &e->len);
    const char *out = getenv("CADRE_REPORT_OUT");
    if (out && *out) {
        FILE *f = fopen(out, "wb");
        if (!f || fwrite(e->page, 1, e->len, f) != e->len || fclose(f))
            return -1;
    }
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    for (int q = 0; q < NQ; q++)
        kpi_table_clear(&e->t[q]);
    xfree(e->page);
    xfree(e);
    return 0;
}

/* Strict UTF-8: no overlong forms, surrogates or code points above U+10FFFF. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t v, min;
        if (c < 0x80) {
            if (c == 0)
                return 0;
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0)
            k = 1, v = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            k = 2, v = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            k = 3, v = c & 0x07, min = 0x10000;
        else
            return 0;
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            v = v << 6 | (s[i + j] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* The text of the first `<tag ... data-kpi="kpi" ...>` element after `from`, up to its
 * closing `</tag>`; caller frees. */
static char *element(const char *page, const char *from, const char *tag, const char *kpi)
{
    const char *p = strstr(page, from);
    assert_non_null(p);
    char attr[128], open[32], close[32];
    snprintf(attr, sizeof attr, " data-kpi=\"%s\"", kpi);
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    for (p = strstr(p, attr); p; p = strstr(p + 1, attr)) {
        const char *lt = p;
        while (lt > page && *lt != '<')
            lt--;
        if (strncmp(lt, open, strlen(open)) == 0) {
            p = lt;
            break;
        }
    }
    if (!p)
        fail_msg("no <%s%s> after %s", tag, attr, from);
    const char *q = strstr(p, close);
    assert_non_null(q);
    return xstrndup(p, (size_t)(q - p));
}

/* A copy of the page from the first `start` up to the next `end` after it; caller frees. */
static char *between(const char *page, const char *start, const char *end)
{
    const char *p = strstr(page, start);
    assert_non_null(p);
    const char *q = strstr(p, end);
    assert_non_null(q);
    return xstrndup(p, (size_t)(q - p));
}

/* Points of the first polyline of kpi's trend chart, or -1 when there is none; *nlines
 * counts its polylines. */
static int polyline_points(const char *page, const char *kpi, int *nlines)
{
    char key[96];
    snprintf(key, sizeof key, "<polyline class=\"ln\" data-kpi=\"%s\" points=\"", kpi);
    const char *p = strstr(page, key);
    *nlines = 0;
    for (const char *s = p; s; s = strstr(s + 1, key))
        (*nlines)++;
    if (!p)
        return -1;
    p += strlen(key);
    int n = 0;
    for (; *p && *p != '"'; p++)
        if (*p == ',')
            n++;
    return n;
}

static void test_doctype_and_utf8(void **state)
{
    struct env *e = *state;
    assert_true(strncmp(e->page, "<!DOCTYPE html>", 15) == 0);
    assert_int_equal(strlen(e->page), e->len);
    assert_true(valid_utf8((const unsigned char *)e->page, e->len));
    assert_non_null(strstr(e->page, "<meta charset=\"utf-8\"/>"));
    assert_non_null(strstr(e->page, "</html>\n"));
    /* Non-ASCII names pass through as UTF-8. */
    assert_non_null(strstr(e->page, "P\xC3\xA4"
                                    "diatrie \xE2\x80\x93 S\xC3\xA4uglinge"));
    assert_non_null(strstr(e->page, "Workforce &amp; AI report, Q3 2026"));
    assert_non_null(strstr(e->page, "1 Jul 2026 to 30 Sep 2026 &#183; data as of 30 Sep 2026"));
}

static void test_escaping(void **state)
{
    struct env *e = *state;
    assert_null(strstr(e->page, "Obstetrics & Gynecology <A>"));
    assert_null(strstr(e->page, "<A>"));
    assert_null(strstr(e->page, "Medical & Surgical"));
    /* In the department tables, in the bars and in the bars' tooltips. */
    const char *p = e->page;
    int n = 0;
    while ((p = strstr(p, "Obstetrics &amp; Gynecology &lt;A&gt;")))
        n++, p++;
    assert_true(n >= 3);
    /* Every '&' starts a character reference. */
    for (p = strchr(e->page, '&'); p; p = strchr(p + 1, '&'))
        assert_true(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 ||
                    strncmp(p, "&gt;", 4) == 0 || strncmp(p, "&quot;", 6) == 0 ||
                    strncmp(p, "&#", 2) == 0);
}

static void test_no_external_references(void **state)
{
    struct env *e = *state;
    static const char *const banned[] = {
        "http:",   "https:",     "ftp:",   "file:", "data:",   "src=",    "url(",
        "@import", "<script",    "<link",  "<img",  "<iframe", "<object", "<embed",
        "xlink",   "@font-face", "srcset", "<base", "<form"};
    for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
        if (strstr(e->page, banned[i]))
            fail_msg("the page contains %s", banned[i]);
    /* Any link stays inside the page. */
    for (const char *p = strstr(e->page, "href=\""); p; p = strstr(p + 1, "href=\""))
        assert_int_equal(p[6], '#');
}

static void test_suppressed_never_shown(void **state)
{
    struct env *e = *state;
    assert_null(strstr(e->page, SUPPRESSED_SHOWN));
    /* Listed as suppressed under the bars, with the group size. */
    char *fig = between(e->page, "<figure id=\"dept-bars\">", "</figure>");
    assert_non_null(strstr(fig, "Suppressed (fewer than 10 people, or hidden with such a "
                                "group): Oncology; Pharmacy."));
    assert_null(strstr(fig, ">Pharmacy</text>"));
    assert_non_null(strstr(fig, ">Emergency</text>"));
    xfree(fig);
    /* Control: the same cell published would show that value. */
    struct kpi_table *t = &e->t[0];
    struct kpi_row *cellp = NULL;
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->rows[i].kpi, "adoption_ratio") && !strcmp(t->rows[i].group, "Pharmacy"))
            cellp = &t->rows[i];
    assert_non_null(cellp);
    cellp->suppressed = false;
    size_t len;
    char *page = render(&e->in, &len);
    cellp->suppressed = true;
    assert_non_null(strstr(page, SUPPRESSED_SHOWN));
    xfree(page);
}

static void test_values_and_arrows(void **state)
{
    struct env *e = *state;
    char *row = element(e->page, "id=\"overview\"", "tr", "adoption_ratio");
    /* 0.627 now, 0.553 before: +7.4 pp, up, and up is good for adoption. */
    assert_non_null(strstr(row, ">62.7%<"));
    assert_non_null(strstr(row, ">55.3%<"));
    assert_non_null(strstr(row, "class=\"chg up good\">&#9650; +7.4 pp <em>better</em>"));
    xfree(row);
    row = element(e->page, "id=\"overview\"", "tr", "overtime_ratio");
    /* 0.048 after 0.041: overtime up is bad. */
    assert_non_null(strstr(row, ">4.8%<"));
    assert_non_null(strstr(row, "class=\"chg up bad\">&#9650; +0.7 pp <em>worse</em>"));
    xfree(row);
    row = element(e->page, "id=\"overview\"", "tr", "sickness_absence_ratio");
    assert_non_null(strstr(row, "class=\"chg down good\">&#9660; &#8722;0.3 pp <em>better</em>"));
    xfree(row);
    row = element(e->page, "id=\"overview\"", "tr", "leaver_ratio");
    assert_non_null(strstr(row, "class=\"chg down good\">&#9660;"));
    xfree(row);
    /* Outcome ratios are neutral: an arrow, no judgement. */
    row = element(e->page, "id=\"overview\"", "tr", "ai_output_edited_ratio");
    assert_non_null(strstr(row, "class=\"chg up\">&#9650; +0.6 pp</span>"));
    assert_null(strstr(row, "better"));
    assert_null(strstr(row, "worse"));
    xfree(row);
    /* Seconds as minutes:seconds, or seconds under a minute. */
    row = element(e->page, "id=\"overview\"", "tr", "wow8_seconds");
    assert_non_null(strstr(row, ">75:00 min<"));
    assert_non_null(strstr(row, ">72:00 min<"));
    assert_non_null(strstr(row, "class=\"chg up bad\">&#9650; +3:00 min <em>worse</em>"));
    xfree(row);
    row = element(e->page, "id=\"overview\"", "tr", "inbox_time8_seconds");
    assert_non_null(strstr(row, ">45 s<"));
    assert_non_null(strstr(row, "&#9660; &#8722;3 s <em>better</em>"));
    xfree(row);
    row = element(e->page, "id=\"overview\"", "tr", "ehr_time8_seconds");
    assert_non_null(strstr(row, ">123:05 min<"));
    xfree(row);
    /* The headline tile and a department table say the same. */
    row = between(strstr(e->page, "class=\"tiles\""), "data-kpi=\"adoption_ratio\"", "</section>");
    assert_non_null(strstr(row, "<div class=\"v\">62.7%</div>"));
    assert_non_null(strstr(row, "Q2 2026: 55.3%"));
    xfree(row);
    char *dept = between(e->page, "<h3>Emergency</h3>", "</table>");
    row = element(dept, "<tbody>", "tr", "adoption_ratio");
    /* 0.627 + 0.21 * 0.6 + 0.0037 * (0 % 3) = 0.753 */
    assert_non_null(strstr(row, ">75.3%<"));
    assert_non_null(strstr(row, "+7.4 pp"));
    xfree(row);
    xfree(dept);
}

static void test_trend_polylines(void **state)
{
    struct env *e = *state;
    int nlines;
    assert_int_equal(polyline_points(e->page, "adoption_ratio", &nlines), 4);
    assert_int_equal(nlines, 1);
    static const char *const trend[] = {
        "hybrid_role_retention_ratio", "overtime_ratio",     "long_shift_ratio", "short_rest_ratio",
        "sickness_absence_ratio",      "burnout_risk_ratio", "wow8_seconds"};
    for (size_t i = 0; i < sizeof trend / sizeof *trend; i++)
        assert_int_equal(polyline_points(e->page, trend[i], &nlines), 4);
    /* Oldest quarter on the left, with its label; the axis reads in percent. */
    char *fig = element(e->page, "id=\"trends\"", "figure", "adoption_ratio");
    const char *q4 = strstr(fig, ">Q4<tspan"), *q3 = strstr(fig, ">Q3<tspan");
    assert_true(q4 && q3 && q4 < q3);
    assert_non_null(strstr(q4, "\">2025</tspan>"));
    assert_non_null(strstr(q3, "\">2026</tspan>"));
    assert_non_null(strstr(fig, ">0%</text>"));
    xfree(fig);
}

/* Quarter 2025Q4 missing, org adoption suppressed in 2026Q1, burnout risk suppressed in
 * 2026Q2, the quarter cut at the as-of day. */
static void test_missing_and_suppressed_quarters(void **state)
{
    struct env *e = *state;
    struct report_input in = e->in;
    in.quarter[3] = NULL;
    in.table[3] = NULL;
    in.as_of = day("2026-09-15");
    struct kpi_row *a = NULL, *br = NULL;
    for (size_t i = 0; i < e->t[2].n; i++)
        if (!strcmp(e->t[2].rows[i].kpi, "adoption_ratio") && !strcmp(e->t[2].rows[i].by, "org"))
            a = &e->t[2].rows[i];
    for (size_t i = 0; i < e->t[1].n; i++)
        if (!strcmp(e->t[1].rows[i].kpi, "burnout_risk_ratio") &&
            !strcmp(e->t[1].rows[i].by, "org"))
            br = &e->t[1].rows[i];
    assert_true(a && br);
    a->suppressed = br->suppressed = true;
    for (size_t i = 0; i < e->t[0].n; i++)
        e->t[0].rows[i].window_end = in.as_of;
    size_t len;
    char *page = render(&in, &len);
    a->suppressed = br->suppressed = false;
    for (size_t i = 0; i < e->t[0].n; i++)
        e->t[0].rows[i].window_end = day(qend[0]);

    int nlines;
    /* Only 2026Q2 and 2026Q3 left for adoption: one line of two points. */
    assert_int_equal(polyline_points(page, "adoption_ratio", &nlines), 2);
    assert_int_equal(nlines, 1);
    /* Burnout risk: 2026Q1 and 2026Q3 with a gap between, so no line, two dots. */
    assert_int_equal(polyline_points(page, "burnout_risk_ratio", &nlines), -1);
    char *fig = element(page, "id=\"trends\"", "figure", "burnout_risk_ratio");
    int dots = 0;
    for (const char *p = strstr(fig, "<circle"); p; p = strstr(p + 1, "<circle"))
        dots++;
    assert_int_equal(dots, 2);
    xfree(fig);
    char *row = element(page, "id=\"overview\"", "tr", "burnout_risk_ratio");
    assert_non_null(strstr(row, ">14.2%<"));
    assert_non_null(strstr(row, "<span class=\"sup\">suppressed</span>"));
    assert_null(strstr(row, "&#9650;"));
    assert_null(strstr(row, "&#9660;"));
    assert_non_null(strstr(row, "<span class=\"na\">&#8212;</span>"));
    xfree(row);
    assert_non_null(strstr(page, "1 Jul 2026 to 15 Sep 2026 (quarter to date)"));
    assert_non_null(strstr(page, "data as of 15 Sep 2026"));
    assert_true(valid_utf8((const unsigned char *)page, len));
    xfree(page);
}

/* Invalid UTF-8 and control characters in a group name become U+FFFD; a report with only
 * its own quarter still renders. */
static void test_invalid_utf8_and_one_quarter(void **state)
{
    (void)state;
    struct kpi_table t = {.as_of = day("2026-09-30")};
    add(&t, 0, "adoption_ratio", "org", "all", 0.5, 40, 0);
    add(&t, 0, "adoption_ratio", "department", "Bad\xFF\xC0\xAFName\x01\xED\xA0\x80<x>", 0.25, 20,
        0);
    add(&t, 0, "adoption_ratio", "department", "Cut\xE2\x82", 0.75, 20, 0);
    struct report_input in = {.as_of = t.as_of, .quarter = {"2026Q3"}, .table = {&t}};
    size_t len;
    char *page = render(&in, &len);
    assert_true(valid_utf8((const unsigned char *)page, len));
    assert_non_null(strstr(page, "Bad\xEF\xBF\xBD"));
    assert_non_null(strstr(page, "Name\xEF\xBF\xBD"));
    assert_non_null(strstr(page, "&lt;x&gt;"));
    assert_non_null(strstr(page, "Cut\xEF\xBF\xBD"));
    assert_null(strstr(page, "\x01"));
    assert_non_null(strstr(page, ">50.0%<"));
    /* One value per trend: a dot, no line. */
    int nlines;
    assert_int_equal(polyline_points(page, "adoption_ratio", &nlines), -1);
    xfree(page);
    kpi_table_clear(&t);
}

/* The load-off section says in words whether each band includes 0. Org, 2026Q3:
 * wow8 change -300 s, stderr 100: band -496 to -104 s, excludes 0: "Less after-hours EHR
 * time". overtime change 0.001, stderr 0.002: band -0.00292 to 0.00492 includes 0: "No
 * measurable change". ehr_time8 change 50 s without a stderr row (one adopter): "Too few
 * adopters for a band". Department Medicine's wow8 change is suppressed: its row says so and
 * shows no number. */
static void test_loadoff_in_words(void **state)
{
    (void)state;
    struct kpi_table t = {.as_of = day("2026-09-30")};
    add(&t, 0, "adoption_ratio", "department", "Medicine", 0.5, 40, 0);
    add(&t, 0, "loadoff_wow8_change", "org", "all", -300, 30, 0);
    kpi_table_add(&t, "loadoff_wow8_change_stderr", "2026Q3", "org", "all", 10000, 1, 30,
                  day(qstart[0]), day(qend[0]))
        ->sqrt_value = true; /* sqrt(10000 / 1) = 100 */
    add(&t, 0, "loadoff_overtime_change", "org", "all", 0.001, 30, 0);
    add(&t, 0, "loadoff_overtime_change_stderr", "org", "all", 0.002, 30, 0);
    add(&t, 0, "loadoff_ehr_time8_change", "org", "all", 50, 1, 0);
    add(&t, 0, "loadoff_wow8_change", "department", "Medicine", -123456, 3, 1);
    struct report_input in = {.as_of = t.as_of, .quarter = {"2026Q3"}, .table = {&t}};
    size_t len;
    char *page = render(&in, &len);
    const char *sec = strstr(page, "<section id=\"loadoff\"");
    assert_non_null(sec);
    const char *wow = strstr(sec, "<tr data-kpi=\"loadoff_wow8_change\">");
    assert_non_null(wow);
    assert_non_null(strstr(wow, "&#8722;5:00 min</td>"));
    assert_non_null(strstr(wow, "&#8722;8:16 min to &#8722;1:44 min"));
    assert_true(strstr(wow, "<b>Less after-hours EHR time</b>") < strstr(wow, "</tr>"));
    const char *ot = strstr(sec, "<tr data-kpi=\"loadoff_overtime_change\">");
    assert_non_null(ot);
    assert_non_null(strstr(ot, "+0.10 pp</td>"));
    assert_true(strstr(ot, "<b>No measurable change</b>") < strstr(ot, "</tr>"));
    const char *ehr = strstr(sec, "<tr data-kpi=\"loadoff_ehr_time8_change\">");
    assert_non_null(ehr);
    assert_true(strstr(ehr, "Too few adopters for a band.") < strstr(ehr, "</tr>"));
    const char *dept = strstr(sec, "<h3>By department");
    assert_non_null(dept);
    const char *med = strstr(dept, "<td>Medicine</td>");
    assert_non_null(med);
    assert_true(strstr(med, "Too few people to show.") < strstr(med, "</tr>"));
    assert_null(strstr(page, "2057")); /* -123456 s would read 2057:36 min */
    assert_true(valid_utf8((const unsigned char *)page, len));
    xfree(page);
    kpi_table_clear(&t);
}

/* Licence utilisation in words: 0.625 of holders used a licensed tool, so 37.5 % of the
 * licences were idle; without a utilisation row there is no sentence. */
static void test_idle_licences(void **state)
{
    (void)state;
    struct kpi_table t = {.as_of = day("2026-09-30")};
    add(&t, 0, "adoption_ratio", "org", "all", 0.5, 40, 0);
    struct report_input in = {.as_of = t.as_of, .quarter = {"2026Q3"}, .table = {&t}};
    size_t len;
    char *page = render(&in, &len);
    assert_null(strstr(page, "licences were idle"));
    xfree(page);
    add(&t, 0, "ai_licence_utilisation_ratio", "org", "all", 0.625, 16, 0);
    page = render(&in, &len);
    assert_non_null(strstr(page, "62.5% used a licensed tool while they held it: <b>37.5% of "
                                 "the licences were idle</b>"));
    xfree(page);
    kpi_table_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doctype_and_utf8),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_no_external_references),
        cmocka_unit_test(test_suppressed_never_shown),
        cmocka_unit_test(test_values_and_arrows),
        cmocka_unit_test(test_trend_polylines),
        cmocka_unit_test(test_missing_and_suppressed_quarters),
        cmocka_unit_test(test_invalid_utf8_and_one_quarter),
        cmocka_unit_test(test_loadoff_in_words),
        cmocka_unit_test(test_idle_licences),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
