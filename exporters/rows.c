/* rows.c - CSV and JSON renderings of KPI rows. */
#include "exporters/rows.h"

#include <csv.h>
#include <jansson.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

const struct kpi_row *rows_prev(const struct kpi_table *prev, const struct kpi_row *r)
{
    for (size_t i = 0; prev && i < prev->n; i++) {
        const struct kpi_row *p = &prev->rows[i];
        if (strcmp(p->kpi, r->kpi) == 0 && strcmp(p->by, r->by) == 0 &&
            strcmp(p->group, r->group) == 0)
            return p;
    }
    return NULL;
}

static int wanted(const struct kpi_row *r, const struct rows_opts *o)
{
    return !o || !o->by || strcmp(o->by, r->by) == 0;
}

/* The five numbers of a row as text, "" where empty. */
struct nums {
    char value[32], num[32], den[32], prev[32], delta[32];
};

static void row_nums(const struct kpi_row *r, const struct rows_opts *o, struct nums *n)
{
    memset(n, 0, sizeof *n);
    if (!r->suppressed) {
        kpi_format_double(kpi_row_value(r), n->value);
        kpi_format_double(r->numerator, n->num);
        kpi_format_double(r->denominator, n->den);
    }
    if (o && o->prev) {
        const struct kpi_row *p = rows_prev(o->prev, r);
        if (p && !p->suppressed && !r->suppressed) {
            double pv = kpi_row_value(p);
            kpi_format_double(pv, n->prev);
            kpi_format_double(kpi_row_value(r) - pv, n->delta);
        }
    }
}

static void csv_field(struct sbuf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") || (*s && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
        size_t len = strlen(s);
        char *q = xmalloc(2 * len + 3);
        size_t n = csv_write(q, 2 * len + 3, s, len);
        sbuf_add(b, q, n);
        xfree(q);
    } else {
        sbuf_adds(b, s);
    }
}

void rows_csv(struct sbuf *b, const struct kpi_table *t, const struct rows_opts *o)
{
    int prev = o && o->prev;
    sbuf_adds(b, "window,kpi,by,group,value,numerator,denominator,suppressed,window_start,"
                 "window_end");
    sbuf_adds(b, prev ? ",prev_value,delta\n" : "\n");
    for (size_t i = 0; i < t->n; i++) {
        const struct kpi_row *r = &t->rows[i];
        if (!wanted(r, o))
            continue;
        struct nums n;
        row_nums(r, o, &n);
        char s[11], e[11];
        format_date(r->window_start, s);
        format_date(r->window_end, e);
        sbuf_printf(b, "%s,%s,%s,", r->window, r->kpi, r->by);
        csv_field(b, r->group);
        sbuf_printf(b, ",%s,%s,%s,%s,%s,%s", n.value, n.num, n.den,
                    r->suppressed ? "true" : "false", s, e);
        if (prev)
            sbuf_printf(b, ",%s,%s", n.prev, n.delta);
        sbuf_adds(b, "\n");
    }
}

static void json_str(struct sbuf *b, const char *s)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    sbuf_adds(b, text ? text : "\"\"");
    free(text);
    json_decref(j);
}

static void json_num(struct sbuf *b, const char *key, const char *num)
{
    sbuf_printf(b, ",\"%s\":%s", key, *num ? num : "null");
}

void rows_json(struct sbuf *b, const struct kpi_table *t, const struct rows_opts *o)
{
    char asof[11];
    format_date(t->as_of, asof);
    sbuf_printf(b, "{\"as_of\":\"%s\",\"rows\":[", asof);
    int first = 1;
    for (size_t i = 0; i < t->n; i++) {
        const struct kpi_row *r = &t->rows[i];
        if (!wanted(r, o))
            continue;
        struct nums n;
        row_nums(r, o, &n);
        char s[11], e[11];
        format_date(r->window_start, s);
        format_date(r->window_end, e);
        sbuf_adds(b, first ? "\n{\"window\":" : ",\n{\"window\":");
        first = 0;
        json_str(b, r->window);
        sbuf_printf(b, ",\"kpi\":\"%s\",\"by\":\"%s\",\"group\":", r->kpi, r->by);
        json_str(b, r->group);
        json_num(b, "value", n.value);
        json_num(b, "numerator", n.num);
        json_num(b, "denominator", n.den);
        sbuf_printf(b, ",\"suppressed\":%s,\"window_start\":\"%s\",\"window_end\":\"%s\"",
                    r->suppressed ? "true" : "false", s, e);
        if (o && o->prev) {
            json_num(b, "prev_value", n.prev);
            json_num(b, "delta", n.delta);
        }
        sbuf_adds(b, "}");
    }
    sbuf_adds(b, "\n]}\n");
}
