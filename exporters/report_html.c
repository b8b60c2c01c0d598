/* report_html.c - the quarterly executive report: one self-contained HTML page.
 *
 * Inline CSS and inline SVG charts, no scripts and no external references (the <svg>
 * elements carry no xmlns: the HTML parser puts them in the SVG namespace, and the page
 * holds no URL at all). The markup is also well-formed XML with numeric character
 * references only, so `xmllint --noout` checks it strictly. Every number comes through
 * cell(), which never reads past the flag of a suppressed row.
 */
#include "exporters/report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"
#include "exporters/kpi_catalogue.h"

/* ---- What each KPI is ---------------------------------------------------------------- */

/* The four headline tiles (one per family), the columns of the department scorecard and
 * the four-quarter trend charts. */
static const char *const headline_kpis[] = {"adoption_ratio", "hybrid_role_retention_ratio",
                                            "burnout_risk_ratio", "ai_literacy_ratio"};
static const char *const scorecard_kpis[] = {"adoption_ratio",    "engaged_ratio",
                                             "ai_literacy_ratio", "retention_ratio",
                                             "overtime_ratio",    "burnout_risk_ratio"};
static const char *const trend_kpis[] = {"adoption_ratio",         "hybrid_role_retention_ratio",
                                         "burnout_risk_ratio",     "overtime_ratio",
                                         "long_shift_ratio",       "short_rest_ratio",
                                         "sickness_absence_ratio", "wow8_seconds"};

static const struct kpi_def *kpi_info(const char *kpi)
{
    return kpi_catalogue_find(kpi);
}

static int is_seconds(const char *kpi)
{
    const struct kpi_def *d = kpi_catalogue_find(kpi);
    return d && d->unit == KPI_UNIT_SECONDS;
}

/* ---- The report's view of its input -------------------------------------------------- */

struct quarter {
    const char *name;            /* "2026Q3", or NULL when missing */
    const struct kpi_row **rows; /* the rows sorted by (kpi, by, group); owned */
    size_t n;
};

struct report {
    struct sbuf *b;
    const struct report_input *in;
    struct quarter q[REPORT_QUARTERS];
    const char **depts; /* distinct department groups of quarter 0, byte order; owned */
    size_t ndepts, depts_cap;
    const struct kpi_def **kpis; /* the catalogue's KPIs with a title, by family; owned */
    size_t nkpis;
};

enum cell_state { CELL_MISSING, CELL_SUPPRESSED, CELL_VALUE };

static int row_key_cmp(const char *kpi, const char *by, const char *group, const struct kpi_row *r)
{
    int c = strcmp(kpi, r->kpi);
    if (!c)
        c = strcmp(by, r->by);
    return c ? c : strcmp(group, r->group);
}

static int row_ptr_cmp(const void *x, const void *y)
{
    const struct kpi_row *a = *(const struct kpi_row *const *)x;
    return row_key_cmp(a->kpi, a->by, a->group, *(const struct kpi_row *const *)y);
}

static int str_ptr_cmp(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void report_init(struct report *r, struct sbuf *b, const struct report_input *in)
{
    memset(r, 0, sizeof *r);
    r->b = b;
    r->in = in;
    for (int i = 0; i < REPORT_QUARTERS; i++) {
        const struct kpi_table *t = in->table[i];
        struct quarter *q = &r->q[i];
        q->name = in->quarter[i];
        if (!q->name || !t || !t->n)
            continue;
        q->rows = xmalloc(t->n * sizeof *q->rows);
        for (size_t j = 0; j < t->n; j++)
            q->rows[q->n++] = &t->rows[j];
        qsort(q->rows, q->n, sizeof *q->rows, row_ptr_cmp);
    }
    for (size_t j = 0; j < r->q[0].n; j++) {
        const struct kpi_row *row = r->q[0].rows[j];
        if (strcmp(row->by, "department") == 0) {
            xgrow((void **)&r->depts, &r->depts_cap, r->ndepts + 1, sizeof *r->depts);
            r->depts[r->ndepts++] = row->group;
        }
    }
    if (r->ndepts)
        qsort(r->depts, r->ndepts, sizeof *r->depts, str_ptr_cmp);
    size_t u = 0;
    for (size_t j = 0; j < r->ndepts; j++)
        if (u == 0 || strcmp(r->depts[u - 1], r->depts[j]))
            r->depts[u++] = r->depts[j];
    r->ndepts = u;
    /* The KPIs the tables show: those with a report title, family by family. */
    size_t ncat;
    const struct kpi_def *cat = kpi_catalogue(&ncat);
    r->kpis = xmalloc((ncat + 1) * sizeof *r->kpis);
    for (int f = 0; f < KPI_FAM_COUNT; f++)
        for (size_t i = 0; i < ncat; i++)
            if ((int)cat[i].family == f && cat[i].title)
                r->kpis[r->nkpis++] = &cat[i];
}

static void report_fini(struct report *r)
{
    for (int i = 0; i < REPORT_QUARTERS; i++)
        xfree(r->q[i].rows);
    xfree(r->depts);
    xfree(r->kpis);
}

/* The value of cell (kpi, by, group) in quarter qi. A suppressed row is never read for a
 * number; a row whose value is not finite counts as missing. */
static enum cell_state cell(const struct report *r, int qi, const char *kpi, const char *by,
                            const char *group, double *v)
{
    const struct quarter *q = &r->q[qi];
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = row_key_cmp(kpi, by, group, q->rows[mid]);
        if (c == 0) {
            const struct kpi_row *row = q->rows[mid];
            if (row->suppressed)
                return CELL_SUPPRESSED;
            *v = kpi_row_value(row);
            return isfinite(*v) ? CELL_VALUE : CELL_MISSING;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return CELL_MISSING;
}

/* ---- Text ---------------------------------------------------------------------------- */

/* Decodes one code point at s (NUL-terminated) into *cp: U+FFFD for an invalid sequence, a
 * control character or a noncharacter. Returns the bytes consumed (at least 1). */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
    uint32_t c = s[0], v, min;
    size_t n;
    if (c < 0x80) {
        *cp = (c < 0x20 || c == 0x7F) ? (c == '\t' || c == '\n' ? ' ' : 0xFFFD) : c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, v = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, v = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, v = c & 0x07, min = 0x10000;
    else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return i;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    int bad = v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || v <= 0x9F ||
              (v >= 0xFDD0 && v <= 0xFDEF) || (v & 0xFFFE) == 0xFFFE;
    *cp = bad ? 0xFFFD : v;
    return n;
}

/* Appends s HTML-escaped as valid UTF-8, at most max code points (0: all) and then an
 * ellipsis. Returns 1 when it cut s short. */
static int esc_n(struct sbuf *b, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    for (size_t count = 0; *p; count++) {
        if (max && count == max) {
            sbuf_adds(b, "&#8230;");
            return 1;
        }
        uint32_t cp;
        size_t n = utf8_next(p, &cp);
        switch (cp) {
        case '<': sbuf_adds(b, "&lt;"); break;
        case '>': sbuf_adds(b, "&gt;"); break;
        case '&': sbuf_adds(b, "&amp;"); break;
        case '"': sbuf_adds(b, "&quot;"); break;
        case '\'': sbuf_adds(b, "&#39;"); break;
        case 0xFFFD: sbuf_adds(b, "\xEF\xBF\xBD"); break;
        default: sbuf_add(b, p, n);
        }
        p += n;
    }
    return 0;
}

static void esc(struct sbuf *b, const char *s)
{
    esc_n(b, s, 0);
}

/* "Q3 2026" for "2026Q3"; anything else escaped as it is. */
static void put_quarter(struct sbuf *b, const char *q)
{
    if (!q)
        sbuf_adds(b, "&#8212;");
    else if (strlen(q) == 6 && q[4] == 'Q' && q[5] >= '1' && q[5] <= '4')
        sbuf_printf(b, "Q%c %.4s", q[5], q);
    else
        esc(b, q);
}

/* "1 Jul 2026" */
static void put_date(struct sbuf *b, int32_t day)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y, m, d;
    civil_from_day(day, &y, &m, &d);
    sbuf_printf(b, "%d %s %d", d, mon[(m - 1) % 12], y);
}

/* A value as shown: ratios as percentages with one decimal, seconds as m:ss min or s. */
#define VAL_LEN 48 /* room for any value fmt_value() writes */

static void fmt_value(const char *kpi, double v, char out[VAL_LEN])
{
    if (!is_seconds(kpi)) {
        double pct = round(v * 1000.0) / 10.0;
        snprintf(out, VAL_LEN, "%.1f%%", pct == 0 ? 0.0 : pct);
        return;
    }
    long long s = llround(v);
    if (llabs(s) < 60)
        snprintf(out, VAL_LEN, "%lld s", s);
    else
        snprintf(out, VAL_LEN, "%s%lld:%02lld min", s < 0 ? "&#8722;" : "", llabs(s) / 60,
                 llabs(s) % 60);
}

static void put_value(struct sbuf *b, const char *kpi, enum cell_state st, double v)
{
    char s[VAL_LEN];
    if (st == CELL_VALUE) {
        fmt_value(kpi, v, s);
        sbuf_adds(b, s);
    } else if (st == CELL_SUPPRESSED) {
        sbuf_adds(b, "<span class=\"sup\">suppressed</span>");
    } else {
        sbuf_adds(b, "<span class=\"na\">&#8212;</span>");
    }
}

/* The change from v1 (previous quarter) to v0, rounded as displayed: an arrow, the signed
 * difference (percentage points or time) and, where the KPI has a good direction,
 * "better" or "worse" in words so the page reads in black and white. compact: the arrow
 * alone, the rest in its tooltip. */
static void put_change(struct sbuf *b, const struct kpi_def *k, enum cell_state s0, double v0,
                       enum cell_state s1, double v1, int compact)
{
    if (s0 != CELL_VALUE || s1 != CELL_VALUE) {
        sbuf_adds(b, compact ? "<span class=\"chg\"></span>" : "<span class=\"na\">&#8212;</span>");
        return;
    }
    char txt[48];
    long long q;
    if (is_seconds(k->name)) {
        q = llround(v0 - v1);
        if (llabs(q) < 60)
            snprintf(txt, sizeof txt, "%lld s", llabs(q));
        else
            snprintf(txt, sizeof txt, "%lld:%02lld min", llabs(q) / 60, llabs(q) % 60);
    } else {
        q = llround((v0 - v1) * 1000.0); /* tenths of a percentage point */
        snprintf(txt, sizeof txt, "%lld.%lld pp", llabs(q) / 10, llabs(q) % 10);
    }
    if (q == 0) {
        sbuf_adds(b, compact ? "<span class=\"chg flat\" title=\"no change\">&#9656;</span>"
                             : "<span class=\"chg flat\">&#9656; no change</span>");
        return;
    }
    int up = q > 0;
    const char *judge = k->polarity == KPI_NEUTRAL           ? NULL
                        : (k->polarity == KPI_UP_GOOD) == up ? "better"
                                                             : "worse";
    sbuf_printf(b, "<span class=\"chg %s%s%s\"", up ? "up" : "down", judge ? " " : "",
                judge ? (judge[0] == 'b' ? "good" : "bad") : "");
    if (compact)
        sbuf_printf(b, " title=\"%s%s%s%s\">%s</span>", up ? "+" : "&#8722;", txt,
                    judge ? ", " : "", judge ? judge : "", up ? "&#9650;" : "&#9660;");
    else
        sbuf_printf(b, ">%s %s%s%s%s%s</span>", up ? "&#9650;" : "&#9660;", up ? "+" : "&#8722;",
                    txt, judge ? " <em>" : "", judge ? judge : "", judge ? "</em>" : "");
}

/* "fewer than 10 people" */
static void put_k(struct sbuf *b, const struct report *r)
{
    if (r->in->min_group_size > 0)
        sbuf_printf(b, "fewer than %lld people", (long long)r->in->min_group_size);
    else
        sbuf_adds(b, "fewer people than the minimum group size");
}

/* ---- SVG charts ---------------------------------------------------------------------- */

struct bar {
    const char *label; /* raw group name; escaped when drawn */
    double v;          /* a ratio, 0..1 */
};

static int bar_cmp(const void *x, const void *y)
{
    const struct bar *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? 1 : -1;
    return strcmp(a->label, b->label);
}

/* Horizontal bars of ratios on a fixed 0-100% scale (so the scale reveals nothing), with a
 * dashed line at the organisation's value when have_ref. Value labels are drawn last, with
 * a halo, so the line never hides them. */
static void svg_bars(struct sbuf *b, const char *kpi, const char *title, const struct bar *bars,
                     size_t n, int have_ref, double ref)
{
    const double W = 760, LX = 236, PX0 = 244, PX1 = 680, TOP = 22, ROW = 24, BH = 15;
    double h = TOP + (double)n * ROW + 24, pw = PX1 - PX0;
    char val[VAL_LEN];
    sbuf_printf(b,
                "<svg class=\"bars\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "aria-label=\"%s\"><title>%s</title>",
                W, h, title, title);
    for (int t = 0; t <= 4; t++) {
        double x = PX0 + pw * t / 4;
        sbuf_printf(b,
                    "<line class=\"grid\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
                    "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d%%"
                    "</text>",
                    x, TOP - 4, x, h - 20, x, h - 6, t * 25);
    }
    for (size_t i = 0; i < n; i++) {
        double y = TOP + (double)i * ROW, v = fmin(fmax(bars[i].v, 0), 1);
        fmt_value(kpi, bars[i].v, val);
        sbuf_adds(b, "<g><title>");
        esc(b, bars[i].label);
        sbuf_printf(b,
                    ": %s</title><text class=\"lbl\" x=\"%.0f\" y=\"%.1f\" "
                    "text-anchor=\"end\">",
                    val, LX, y + BH - 3);
        esc_n(b, bars[i].label, 34);
        sbuf_printf(b,
                    "</text><rect class=\"bar\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.0f\"/></g>",
                    PX0, y + 1, pw * v, BH);
    }
    if (have_ref) {
        double x = PX0 + pw * fmin(fmax(ref, 0), 1);
        fmt_value(kpi, ref, val);
        sbuf_printf(b,
                    "<line class=\"ref\" x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\"/>"
                    "<text class=\"reflbl\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">"
                    "Organisation %s</text>",
                    x, TOP - 6, x, h - 20, x, TOP - 9, val);
    }
    for (size_t i = 0; i < n; i++) {
        double y = TOP + (double)i * ROW, v = fmin(fmax(bars[i].v, 0), 1);
        fmt_value(kpi, bars[i].v, val);
        sbuf_printf(b, "<text class=\"val\" x=\"%.1f\" y=\"%.1f\">%s</text>", PX0 + pw * v + 5,
                    y + BH - 3, val);
    }
    sbuf_adds(b, "</svg>\n");
}

/* A y axis from 0 to top in steps, in display units (% for ratios, s or min for seconds). */
struct axis {
    double scale;     /* value units per display unit */
    double step, top; /* display units */
    const char *unit; /* "%", " s", " min" */
};

static void nice_axis(const char *kpi, double max, struct axis *a)
{
    if (is_seconds(kpi)) {
        a->scale = max >= 60 ? 60 : 1;
        a->unit = max >= 60 ? " min" : " s";
    } else {
        a->scale = 0.01;
        a->unit = "%";
    }
    double m = fmax(max / a->scale, 1.0); /* at least 0-1% or 0-1 s */
    double raw = m / 4.0, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    a->step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
    a->top = ceil(m / a->step - 1e-9) * a->step;
}

/* One four-quarter line chart: v[j], have[j] for quarter[3 - j] (oldest first). Runs of
 * consecutive values are polylines (data-kpi names the KPI); a lone value is a dot. */
static void svg_trend(struct sbuf *b, const char *kpi, const char *label, const double *v,
                      const int *have, const char *const *names)
{
    const double W = 200, H = 126, X0 = 38, X1 = 194, Y0 = 12, Y1 = 96;
    double max = 0;
    int any = 0;
    for (int j = 0; j < REPORT_QUARTERS; j++)
        if (have[j]) {
            any = 1;
            max = v[j] > max ? v[j] : max;
        }
    struct axis a;
    nice_axis(kpi, max, &a);
    sbuf_printf(b,
                "<svg class=\"trend\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "aria-label=\"%s, four quarters\"><title>%s, four quarters</title>",
                W, H, label, label);
    int nt = (int)llround(a.top / a.step);
    for (int t = 0; t <= nt; t++) {
        double y = Y1 - (Y1 - Y0) * t / nt;
        sbuf_printf(b, "<line class=\"%s\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
                    t ? "grid" : "axis", X0, y, X1, y);
        sbuf_printf(b, "<text class=\"tick\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>",
                    X0 - 5, y + 4, a.step * t, a.unit);
    }
    double xs[REPORT_QUARTERS], ys[REPORT_QUARTERS];
    for (int j = 0; j < REPORT_QUARTERS; j++) {
        xs[j] = X0 + 14 + (X1 - X0 - 28) * j / (REPORT_QUARTERS - 1);
        ys[j] = Y1 - (Y1 - Y0) * (have[j] ? v[j] / a.scale / a.top : 0);
        if (!names[j])
            continue;
        sbuf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", xs[j],
                    Y1 + 13);
        if (strlen(names[j]) == 6 && names[j][4] == 'Q')
            sbuf_printf(b, "Q%c<tspan x=\"%.1f\" dy=\"11\">%.4s</tspan>", names[j][5], xs[j],
                        names[j]);
        else
            esc(b, names[j]);
        sbuf_adds(b, "</text>");
    }
    for (int j = 0; j < REPORT_QUARTERS;) {
        int k = j;
        while (k < REPORT_QUARTERS && have[k])
            k++;
        if (k - j >= 2) {
            sbuf_printf(b, "<polyline class=\"ln\" data-kpi=\"%s\" points=\"", kpi);
            for (int i = j; i < k; i++)
                sbuf_printf(b, "%s%.1f,%.1f", i > j ? " " : "", xs[i], ys[i]);
            sbuf_adds(b, "\"/>");
        }
        j = k > j ? k : j + 1;
    }
    for (int j = 0; j < REPORT_QUARTERS; j++) {
        if (!have[j])
            continue;
        char val[VAL_LEN];
        fmt_value(kpi, v[j], val);
        sbuf_printf(b, "<circle class=\"pt%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.2\"><title>",
                    j == REPORT_QUARTERS - 1 ? " last" : "", xs[j], ys[j]);
        put_quarter(b, names[j]);
        sbuf_printf(b, ": %s</title></circle>", val);
        if (j == REPORT_QUARTERS - 1)
            sbuf_printf(b,
                        "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                        xs[j] + 6, ys[j] - 7 < 10 ? 10 : ys[j] - 7, val);
    }
    if (!any)
        sbuf_printf(b,
                    "<text class=\"tick\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
                    "no published figures</text>",
                    (X0 + X1) / 2, (Y0 + Y1) / 2);
    sbuf_adds(b, "</svg>");
}

/* ---- Sections ------------------------------------------------------------------------ */

static const char css[] =
    "@page{margin:14mm 13mm 15mm}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
    "body{margin:0;background:#fff;color:#1c2530;font:14px/1.45 'Segoe UI','Helvetica Neue',"
    "Helvetica,Arial,'Liberation Sans','DejaVu Sans',sans-serif}\n"
    "main{max-width:1100px;margin:0 auto;padding:28px 36px 36px}\n"
    "header.top{border-bottom:3px solid #1f4e79;padding-bottom:10px}\n"
    "h1{font-size:26px;line-height:1.2;margin:0;color:#1f4e79}\n"
    ".sub{color:#4d5866;margin:4px 0 0}\n"
    ".howto{background:#f1f5f9;border-left:4px solid #1f4e79;padding:7px 12px;margin:12px 0 0;"
    "font-size:13px}\n"
    "h2{font-size:18px;color:#1f4e79;border-bottom:1px solid #c9d2dc;padding-bottom:3px;"
    "margin:26px 0 10px;break-after:avoid;page-break-after:avoid}\n"
    "h3{font-size:14px;margin:0 0 4px;color:#1c2530}\n"
    ".lead{margin:-4px 0 10px;color:#4d5866;font-size:13px}\n"
    ".tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:16px}\n"
    ".tile{border:1px solid #c9d2dc;border-top:4px solid #1f4e79;border-radius:3px;"
    "padding:8px 12px 10px;break-inside:avoid}\n"
    ".tile .k{font-size:11.5px;color:#4d5866;text-transform:uppercase;letter-spacing:.04em}\n"
    ".tile .v{font-size:30px;font-weight:700;line-height:1.15;margin:2px 0;"
    "font-variant-numeric:tabular-nums}\n"
    ".tile .p{font-size:12px;color:#4d5866}\n"
    ".grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px 26px}\n"
    ".card{break-inside:avoid;page-break-inside:avoid}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;break-inside:avoid;"
    "page-break-inside:avoid}\n"
    "th,td{padding:3px 6px;border-bottom:1px solid #dde3ea;text-align:left;"
    "vertical-align:baseline}\n"
    "th{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;"
    "color:#4d5866;border-bottom:1.5px solid #1c2530}\n"
    ".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.fam th{background:#f1f5f9;color:#1f4e79;border-bottom:1px solid #c9d2dc;"
    "padding-top:6px}\n"
    ".chg{white-space:nowrap}\n"
    ".chg em{font-style:normal;font-size:11px;margin-left:2px}\n"
    ".good{color:#176b34}.bad{color:#b0261c}.flat{color:#4d5866}\n"
    ".sup,.na{color:#6b7582;font-style:italic}\n"
    "figure{margin:0;break-inside:avoid;page-break-inside:avoid}\n"
    "figcaption{font-size:13px;margin-bottom:2px}\n"
    "figcaption .n{color:#4d5866;float:right}\n"
    "svg{display:block;width:100%;height:auto}\n"
    "svg text{font-family:inherit;fill:#1c2530}\n"
    "svg .tick{font-size:9.5px;fill:#4d5866}\n"
    "svg .val{font-size:10.5px;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;"
    "stroke-linejoin:round}\n"
    "svg.bars{max-width:860px}\n"
    "svg.bars .tick,svg.bars .lbl,svg.bars .val,svg.bars .reflbl{font-size:12.5px}\n"
    "svg .grid{stroke:#dde3ea;stroke-width:1}\n"
    "svg .axis{stroke:#1c2530;stroke-width:1}\n"
    "svg .bar{fill:#3b6e9e}\n"
    "svg .ref{stroke:#1c2530;stroke-width:1.5;stroke-dasharray:5 3}\n"
    "svg .reflbl{font-weight:600}\n"
    "svg .ln{fill:none;stroke:#1f4e79;stroke-width:2.2;stroke-linejoin:round}\n"
    "svg .pt{fill:#fff;stroke:#1f4e79;stroke-width:1.8}\n"
    "svg .pt.last{fill:#1f4e79}\n"
    ".trends{display:grid;grid-template-columns:repeat(4,1fr);gap:14px 18px}\n"
    ".supl{font-size:12.5px;color:#4d5866;margin:6px 0 0}\n"
    "table.overview td:first-child{width:46%}\n"
    "table.defs{break-inside:auto;page-break-inside:auto}\n"
    "tr,tbody{break-inside:avoid;page-break-inside:avoid}\n"
    ".defs td:first-child{width:30%}\n"
    "table.score td.n{white-space:nowrap}\n"
    "table.score th{white-space:normal;vertical-align:bottom}\n"
    "table.score td:first-child{min-width:11em}\n"
    ".score .chg{display:inline-block;width:1.2em;text-align:center;font-size:11px}\n"
    ".trends figcaption{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}\n"
    ".defs code{font-size:11px;color:#4d5866}\n"
    ".notes{font-size:12.5px;padding-left:20px}\n"
    ".notes li{margin-bottom:4px}\n"
    "footer{margin-top:20px;border-top:1px solid #c9d2dc;padding-top:6px;font-size:11.5px;"
    "color:#6b7582}\n"
    "@media screen and (max-width:800px){.tiles,.trends{grid-template-columns:1fr 1fr}"
    ".grid2{grid-template-columns:1fr}}\n"
    "@media print{body{font-size:9.5pt;line-height:1.35}main{max-width:none;padding:0}"
    "h1{font-size:19pt}h2{font-size:13pt;margin:14px 0 6px}.howto{font-size:8.5pt}"
    "table{font-size:8.6pt;line-height:1.3}th,td{padding:1.5px 5px}th{font-size:7pt}"
    ".tiles{margin-top:10px}.tile{padding:5px 9px 6px}.tile .k{font-size:6.8pt;"
    "white-space:nowrap}.tile .v{font-size:19pt}.tile .p{font-size:7.5pt}"
    ".tiles,.trends{gap:8px 12px}figcaption{font-size:8.5pt}.lead{font-size:8.5pt}"
    ".notes,.supl{font-size:8.5pt}table.overview{break-inside:auto;page-break-inside:auto}"
    ".newpage{break-before:page;page-break-before:always}}\n";

static void section_head(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                 "<title>");
    if (r->in->org_name) {
        esc(b, r->in->org_name);
        sbuf_adds(b, " &#8212; ");
    }
    sbuf_adds(b, "Workforce &amp; AI report, ");
    put_quarter(b, r->q[0].name);
    sbuf_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
}

static void section_title(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<header class=\"top\">\n<h1>");
    if (r->in->org_name) {
        esc(b, r->in->org_name);
        sbuf_adds(b, ": ");
    }
    sbuf_adds(b, "Workforce &amp; AI report, ");
    put_quarter(b, r->q[0].name);
    sbuf_adds(b, "</h1>\n<p class=\"sub\">");
    const struct quarter *q = &r->q[0];
    if (q->n) {
        put_date(b, q->rows[0]->window_start);
        sbuf_adds(b, " to ");
        put_date(b, q->rows[0]->window_end);
        const char *n = q->name;
        if (strlen(n) == 6 && n[4] == 'Q' && n[5] >= '1' && n[5] <= '4') {
            int y = atoi(n), k = n[5] - '0';
            int32_t end = day_from_civil(k == 4 ? y + 1 : y, k == 4 ? 1 : 3 * k + 1, 1) - 1;
            if (q->rows[0]->window_end < end)
                sbuf_adds(b, " (quarter to date)");
        }
        sbuf_adds(b, " &#183; ");
    }
    sbuf_adds(b, "data as of ");
    put_date(b, r->in->as_of);
    if (r->q[1].name) {
        sbuf_adds(b, " &#183; changes compared with ");
        put_quarter(b, r->q[1].name);
    }
    sbuf_adds(b, "</p>\n<p class=\"howto\"><b>How to read.</b> Figures describe groups of "
                 "staff, never individuals. &#9650;/&#9660; show the change from the previous "
                 "quarter (pp = percentage points), and <em>better</em> or <em>worse</em> says "
                 "whether that direction is good news for the measure. <i>suppressed</i> "
                 "means the group is too small to show safely; &#8212; means no data. "
                 "Definitions and notes are at the end.</p>\n</header>\n");
}

static void section_headlines(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<section class=\"tiles\" aria-label=\"Headline figures\">\n");
    for (size_t i = 0; i < sizeof headline_kpis / sizeof *headline_kpis; i++) {
        const struct kpi_def *k = kpi_info(headline_kpis[i]);
        double v0 = 0, v1 = 0;
        enum cell_state s0 = cell(r, 0, k->name, "org", "all", &v0);
        enum cell_state s1 = cell(r, 1, k->name, "org", "all", &v1);
        sbuf_printf(b,
                    "<div class=\"tile\" data-kpi=\"%s\"><div class=\"k\">%s</div>"
                    "<div class=\"v\">",
                    k->name, k->title);
        put_value(b, k->name, s0, v0);
        sbuf_adds(b, "</div><div>");
        put_change(b, k, s0, v0, s1, v1, 0);
        sbuf_adds(b, "</div><div class=\"p\">");
        put_quarter(b, r->q[1].name);
        sbuf_adds(b, ": ");
        put_value(b, k->name, s1, v1);
        sbuf_adds(b, "</div></div>\n");
    }
    sbuf_adds(b, "</section>\n");
}

/* The column headers "Measure | <quarter 0> [| <quarter 1>] | Change". */
static void table_head(struct report *r, int with_prev)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<thead><tr><th>Measure</th><th class=\"n\">");
    put_quarter(b, r->q[0].name);
    if (with_prev) {
        sbuf_adds(b, "</th><th class=\"n\">");
        put_quarter(b, r->q[1].name);
    }
    sbuf_adds(b, "</th><th>Change</th></tr></thead>\n");
}

static void section_overview(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<section id=\"overview\">\n<h2>Overview: the whole organisation</h2>\n"
                 "<table class=\"kpis overview\">");
    table_head(r, 1);
    for (int f = 0; f < KPI_FAM_COUNT; f++) {
        sbuf_printf(b, "<tbody><tr class=\"fam\"><th colspan=\"4\">%s</th></tr>\n",
                    kpi_family_title(f));
        for (size_t i = 0; i < r->nkpis; i++) {
            const struct kpi_def *k = r->kpis[i];
            if ((int)k->family != f)
                continue;
            double v0 = 0, v1 = 0;
            enum cell_state s0 = cell(r, 0, k->name, "org", "all", &v0);
            enum cell_state s1 = cell(r, 1, k->name, "org", "all", &v1);
            sbuf_printf(b, "<tr data-kpi=\"%s\"><td>%s</td><td class=\"n\">", k->name, k->title);
            put_value(b, k->name, s0, v0);
            sbuf_adds(b, "</td><td class=\"n\">");
            put_value(b, k->name, s1, v1);
            sbuf_adds(b, "</td><td>");
            put_change(b, k, s0, v0, s1, v1, 0);
            sbuf_adds(b, "</td></tr>\n");
        }
        sbuf_adds(b, "</tbody>\n");
    }
    sbuf_adds(b, "</table>\n");
    /* The licences in words: the idle share of what is paid for. */
    double u = 0;
    if (cell(r, 0, "ai_licence_utilisation_ratio", "org", "all", &u) == CELL_VALUE) {
        char used[VAL_LEN], idle[VAL_LEN];
        fmt_value("ai_licence_utilisation_ratio", u, used);
        fmt_value("ai_licence_utilisation_ratio", 1 - u, idle);
        sbuf_printf(b,
                    "<p class=\"licences\">Of the staff holding an AI-tool licence in the "
                    "quarter, %s used a licensed tool while they held it: <b>%s of the "
                    "licences were idle</b>.</p>\n",
                    used, idle);
    }
    sbuf_adds(b, "</section>\n");
}

static void section_dept_adoption(struct report *r)
{
    struct sbuf *b = r->b;
    struct bar *bars = r->ndepts ? xmalloc(r->ndepts * sizeof *bars) : NULL;
    size_t nb = 0, nsup = 0;
    for (size_t i = 0; i < r->ndepts; i++) {
        double v;
        enum cell_state st = cell(r, 0, "adoption_ratio", "department", r->depts[i], &v);
        if (st == CELL_VALUE)
            bars[nb++] = (struct bar){r->depts[i], v};
        else if (st == CELL_SUPPRESSED)
            nsup++;
    }
    if (nb)
        qsort(bars, nb, sizeof *bars, bar_cmp);
    sbuf_adds(b, "<section id=\"adoption-by-department\" class=\"newpage\">\n"
                 "<h2>AI adoption by department</h2>\n<p class=\"lead\">Share of each "
                 "department's staff who used an AI tool at least once in ");
    put_quarter(b, r->q[0].name);
    sbuf_adds(b, "; highest first. The dashed line is the organisation as a whole.</p>\n"
                 "<figure id=\"dept-bars\">");
    double ref = 0;
    int have_ref = cell(r, 0, "adoption_ratio", "org", "all", &ref) == CELL_VALUE;
    if (nb)
        svg_bars(b, "adoption_ratio", "AI adoption by department", bars, nb, have_ref, ref);
    else
        sbuf_adds(b, "<p class=\"na\">No department has a published adoption figure for "
                     "this quarter.</p>");
    if (nsup) {
        sbuf_adds(b, "<figcaption class=\"supl\">Suppressed (");
        put_k(b, r);
        sbuf_adds(b, ", or hidden with such a group): ");
        size_t shown = 0;
        for (size_t i = 0; i < r->ndepts; i++) {
            double v;
            if (cell(r, 0, "adoption_ratio", "department", r->depts[i], &v) != CELL_SUPPRESSED)
                continue;
            sbuf_adds(b, shown++ ? "; " : "");
            esc(b, r->depts[i]);
        }
        sbuf_adds(b, ".</figcaption>");
    }
    sbuf_adds(b, "</figure>\n</section>\n");
    xfree(bars);
}

static void section_trends(struct report *r)
{
    struct sbuf *b = r->b;
    const char *names[REPORT_QUARTERS];
    for (int j = 0; j < REPORT_QUARTERS; j++)
        names[j] = r->q[REPORT_QUARTERS - 1 - j].name;
    sbuf_adds(b, "<section id=\"trends\">\n<h2>Four-quarter trends</h2>\n<p class=\"lead\">"
                 "Whole organisation, oldest quarter on the left; the filled dot is the "
                 "latest quarter. Gaps are quarters with no published figure.</p>\n"
                 "<div class=\"trends\">\n");
    for (size_t i = 0; i < sizeof trend_kpis / sizeof *trend_kpis; i++) {
        const struct kpi_def *k = kpi_info(trend_kpis[i]);
        double v[REPORT_QUARTERS];
        int have[REPORT_QUARTERS];
        for (int j = 0; j < REPORT_QUARTERS; j++) {
            v[j] = 0;
            have[j] = r->q[REPORT_QUARTERS - 1 - j].name &&
                      cell(r, REPORT_QUARTERS - 1 - j, k->name, "org", "all", &v[j]) == CELL_VALUE;
        }
        sbuf_printf(b,
                    "<figure class=\"card\" data-kpi=\"%s\"><figcaption><b>%s</b>"
                    "</figcaption>",
                    k->name, k->title);
        svg_trend(b, k->name, k->title, v, have, names);
        sbuf_adds(b, "</figure>\n");
    }
    sbuf_adds(b, "</div>\n</section>\n");
}

static void section_scorecard(struct report *r)
{
    struct sbuf *b = r->b;
    if (!r->ndepts)
        return;
    sbuf_adds(b, "<section id=\"scorecard\" class=\"newpage\">\n<h2>Departments at a glance"
                 "</h2>\n<p class=\"lead\">Key measures for ");
    put_quarter(b, r->q[0].name);
    sbuf_adds(b, ". &#9650;/&#9660; mark the direction of change since ");
    put_quarter(b, r->q[1].name);
    sbuf_adds(b, " (green better, red worse); the department tables below give each change "
                 "in figures and words.</p>\n<table class=\"score\"><thead><tr>"
                 "<th>Department</th>");
    for (size_t i = 0; i < sizeof scorecard_kpis / sizeof *scorecard_kpis; i++)
        sbuf_printf(b, "<th class=\"n\">%s</th>", kpi_info(scorecard_kpis[i])->title);
    sbuf_adds(b, "</tr></thead>\n<tbody>\n");
    for (size_t d = 0; d < r->ndepts; d++) {
        sbuf_adds(b, "<tr><td>");
        esc(b, r->depts[d]);
        sbuf_adds(b, "</td>");
        for (size_t i = 0; i < sizeof scorecard_kpis / sizeof *scorecard_kpis; i++) {
            const struct kpi_def *k = kpi_info(scorecard_kpis[i]);
            double v0 = 0, v1 = 0;
            enum cell_state s0 = cell(r, 0, k->name, "department", r->depts[d], &v0);
            enum cell_state s1 = cell(r, 1, k->name, "department", r->depts[d], &v1);
            sbuf_printf(b, "<td class=\"n\" data-kpi=\"%s\">", k->name);
            put_value(b, k->name, s0, v0);
            sbuf_adds(b, " ");
            put_change(b, k, s0, v0, s1, v1, 1);
            sbuf_adds(b, "</td>");
        }
        sbuf_adds(b, "</tr>\n");
    }
    sbuf_adds(b, "</tbody></table>\n</section>\n");
}

static void section_departments(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<section id=\"departments\">\n<h2>Department detail</h2>\n"
                 "<p class=\"lead\">Each department's published figures for ");
    put_quarter(b, r->q[0].name);
    sbuf_adds(b, " and the change from the previous quarter. Measures hidden to protect "
                 "small groups are counted under each table.</p>\n<div class=\"grid2\">\n");
    if (!r->ndepts)
        sbuf_adds(b, "<p class=\"na\">No department figures for this quarter.</p>\n");
    for (size_t d = 0; d < r->ndepts; d++) {
        const char *g = r->depts[d];
        size_t nshown = 0, nsup = 0;
        sbuf_adds(b, "<div class=\"card dept\"><h3>");
        esc(b, g);
        sbuf_adds(b, "</h3>\n<table>");
        table_head(r, 0);
        sbuf_adds(b, "<tbody>\n");
        for (size_t i = 0; i < r->nkpis; i++) {
            const struct kpi_def *k = r->kpis[i];
            double v0 = 0, v1 = 0;
            enum cell_state s0 = cell(r, 0, k->name, "department", g, &v0);
            nsup += s0 == CELL_SUPPRESSED;
            if (s0 != CELL_VALUE)
                continue;
            enum cell_state s1 = cell(r, 1, k->name, "department", g, &v1);
            sbuf_printf(b, "<tr data-kpi=\"%s\"><td>%s</td><td class=\"n\">", k->name, k->title);
            put_value(b, k->name, s0, v0);
            sbuf_adds(b, "</td><td>");
            put_change(b, k, s0, v0, s1, v1, 0);
            sbuf_adds(b, "</td></tr>\n");
            nshown++;
        }
        if (!nshown)
            sbuf_adds(b, "<tr><td colspan=\"3\" class=\"sup\">No published figures.</td></tr>\n");
        sbuf_adds(b, "</tbody></table>");
        if (nsup) {
            sbuf_printf(b, "<p class=\"supl\">%zu measure%s suppressed (", nsup,
                        nsup == 1 ? "" : "s");
            put_k(b, r);
            sbuf_adds(b, ", or hidden with such a group).</p>");
        }
        sbuf_adds(b, "</div>\n");
    }
    sbuf_adds(b, "</div>\n</section>\n");
}

/* ---- Load-off ---- */

static const struct {
    const char *outcome, *label, *less; /* "less" completes "Less ... after adoption" */
} loadoff_outcomes[] = {
    {"wow8", "After-hours EHR time per 8 scheduled hours", "after-hours EHR time"},
    {"ehr_time8", "EHR time per 8 scheduled hours", "EHR time"},
    {"inbox_time8", "Inbox time per 8 scheduled hours", "inbox time"},
    {"overtime", "Overtime (share of contracted hours)", "overtime"},
    {"sickness", "Sick leave (share of contracted hours)", "sick leave"},
};
#define NLOADOFF (sizeof loadoff_outcomes / sizeof *loadoff_outcomes)

/* A load-off change as shown: time for the EHR outcomes, percentage points for the shares,
 * with its sign. */
static void put_loadoff_value(struct sbuf *b, const char *kpi, double v)
{
    char s[VAL_LEN];
    if (is_seconds(kpi)) {
        fmt_value(kpi, v, s);
        sbuf_printf(b, "%s%s", v > 0 ? "+" : "", s);
    } else {
        double pp = round(v * 10000.0) / 100.0;
        sbuf_printf(b, "%s%.2f pp",
                    pp > 0   ? "+"
                    : pp < 0 ? "&#8722;"
                             : "",
                    fabs(pp) == 0 ? 0.0 : fabs(pp));
    }
}

/* One row of the load-off tables: change, band, pretrend and the answer in words. */
static void loadoff_row(struct report *r, size_t o, const char *by, const char *group,
                        const char *label)
{
    struct sbuf *b = r->b;
    char kc[64], ks[64], kp[64];
    snprintf(kc, sizeof kc, "loadoff_%s_change", loadoff_outcomes[o].outcome);
    snprintf(ks, sizeof ks, "loadoff_%s_change_stderr", loadoff_outcomes[o].outcome);
    snprintf(kp, sizeof kp, "loadoff_%s_pretrend", loadoff_outcomes[o].outcome);
    double c = 0, se = 0, pt = 0;
    enum cell_state sc = cell(r, 0, kc, by, group, &c);
    enum cell_state ss = cell(r, 0, ks, by, group, &se);
    enum cell_state sp = cell(r, 0, kp, by, group, &pt);
    sbuf_printf(b, "<tr data-kpi=\"%s\"><td>", kc);
    esc(b, label);
    sbuf_adds(b, "</td><td class=\"n\">");
    if (sc == CELL_VALUE)
        put_loadoff_value(b, kc, c);
    else
        put_value(b, kc, sc, c);
    sbuf_adds(b, "</td><td class=\"n\">");
    int band = sc == CELL_VALUE && ss == CELL_VALUE;
    if (band) {
        put_loadoff_value(b, kc, c - 1.96 * se);
        sbuf_adds(b, " to ");
        put_loadoff_value(b, kc, c + 1.96 * se);
    } else {
        sbuf_adds(b, "<span class=\"na\">&#8212;</span>");
    }
    sbuf_adds(b, "</td><td class=\"n\">");
    if (sp == CELL_VALUE)
        put_loadoff_value(b, kp, pt);
    else
        put_value(b, kp, sp, pt);
    sbuf_adds(b, "</td><td>");
    if (sc == CELL_SUPPRESSED)
        sbuf_adds(b, "Too few people to show.");
    else if (sc != CELL_VALUE)
        sbuf_adds(b, "No adopter with a comparison group.");
    else if (!band)
        sbuf_adds(b, "Too few adopters for a band.");
    else if (c - 1.96 * se <= 0 && c + 1.96 * se >= 0)
        sbuf_adds(b, "<b>No measurable change</b> (the band includes 0).");
    else
        sbuf_printf(b, "<b>%s %s</b> after adoption (the band excludes 0).",
                    c < 0 ? "Less" : "More", loadoff_outcomes[o].less);
    sbuf_adds(b, "</td></tr>\n");
}

static void loadoff_head(struct sbuf *b, const char *first)
{
    sbuf_printf(b,
                "<table class=\"loadoff\"><thead><tr><th>%s</th><th>Change</th><th>95%% "
                "band</th><th>Pretrend</th><th>In words</th></tr></thead>\n<tbody>\n",
                first);
}

static void section_loadoff(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<section id=\"loadoff\" class=\"newpage\">\n<h2>Did AI take load off the "
                 "floor?</h2>\n<p class=\"lead\">For staff who adopted AI tools, the change in "
                 "their workload from the weeks before adoption to the weeks after a ramp-up "
                 "(by default eight weeks each, four weeks apart), minus the same change among "
                 "colleagues of the same "
                 "department and role who had not adopted yet (a difference in differences), "
                 "for adopters whose after-period ended in ");
    put_quarter(b, r->q[0].name);
    sbuf_adds(b, ". Negative means less load. The band is the change &#177; 1.96 standard "
                 "errors; when it includes 0 the honest answer is <i>no measurable change</i>. "
                 "The pretrend is the same comparison before adoption and should be near 0. "
                 "These figures show a change that goes with adoption, not proof that a tool "
                 "caused it.</p>\n<h3>Whole organisation</h3>\n");
    loadoff_head(b, "Outcome");
    for (size_t o = 0; o < NLOADOFF; o++)
        loadoff_row(r, o, "org", "all", loadoff_outcomes[o].label);
    sbuf_adds(b, "</tbody></table>\n<h3>By department: after-hours EHR time</h3>\n");
    loadoff_head(b, "Department");
    for (size_t d = 0; d < r->ndepts; d++) {
        double v;
        if (cell(r, 0, "loadoff_wow8_change", "department", r->depts[d], &v) != CELL_MISSING)
            loadoff_row(r, 0, "department", r->depts[d], r->depts[d]);
    }
    sbuf_adds(b, "</tbody></table>\n</section>\n");
}

static void section_definitions(struct report *r)
{
    struct sbuf *b = r->b;
    sbuf_adds(b, "<section id=\"definitions\" class=\"newpage\">\n<h2>Definitions</h2>\n"
                 "<table class=\"defs\"><thead><tr><th>Measure</th><th>What it counts "
                 "(for the quarter, per group)</th></tr></thead>\n<tbody>\n");
    for (int f = 0; f < KPI_FAM_COUNT; f++) {
        sbuf_printf(b, "<tr class=\"fam\"><th colspan=\"2\">%s</th></tr>\n", kpi_family_title(f));
        for (size_t i = 0; i < r->nkpis; i++)
            if ((int)r->kpis[i]->family == f)
                sbuf_printf(b, "<tr><td>%s<br/><code>%s</code></td><td>%s</td></tr>\n",
                            r->kpis[i]->title, r->kpis[i]->name, r->kpis[i]->definition);
    }
    sbuf_adds(b, "</tbody></table>\n<h2>Notes</h2>\n<ol class=\"notes\">\n<li><b>Suppression."
                 "</b> A figure is shown as <i>suppressed</i> when ");
    put_k(b, r);
    sbuf_adds(b, " stand behind it. So that a hidden figure cannot be worked out by "
                 "subtracting the published ones from the organisation or a site total, one "
                 "more figure of the same breakdown is hidden with it (complementary "
                 "suppression), and the same is done between a site and its departments "
                 "(linked suppression). Suppression is decided per quarter, so a group hidden "
                 "in one quarter may be shown in another; a change is shown only when both "
                 "quarters are published.</li>\n"
                 "<li><b>Workload, not diagnosis.</b> Burnout figures are workload proxies "
                 "computed from shifts, sick hours and EHR time for groups of staff; they are "
                 "never a diagnosis of a person, and nothing in this report identifies one."
                 "</li>\n"
                 "<li><b>Pooled, not median.</b> The per-8-hour EHR figures are pooled: the "
                 "minutes of everyone in the group over their scheduled patient hours, so "
                 "each scheduled hour weighs the same. EHR vendors' reports usually show the "
                 "median of per-clinician values, which weighs a part-time clinician as much "
                 "as a full-time one. The two differ, sometimes a lot, and neither is wrong: "
                 "compare these figures with earlier Cadre quarters, not with vendor medians."
                 "</li>\n"
                 "<li><b>Periods.</b> A quarter still in progress is cut at the as-of date. "
                 "&#8212; means there was no data for the group (for example no shifts "
                 "recorded) or the quarter is outside the data kept.</li>\n</ol>\n"
                 "</section>\n");
}

static void section_footer(struct report *r)
{
    sbuf_adds(r->b, "<footer>Produced by Cadre from pseudonymised workforce records for ");
    put_quarter(r->b, r->q[0].name);
    sbuf_adds(r->b, ". Self-contained page: no scripts, fonts or images are loaded from "
                    "elsewhere.</footer>\n</main>\n</body>\n</html>\n");
}

void report_html(struct sbuf *b, const struct report_input *in)
{
    struct report r;
    report_init(&r, b, in);
    section_head(&r);
    section_title(&r);
    section_headlines(&r);
    section_overview(&r);
    section_dept_adoption(&r);
    section_trends(&r);
    section_scorecard(&r);
    section_departments(&r);
    section_loadoff(&r);
    section_definitions(&r);
    section_footer(&r);
    report_fini(&r);
}
