/* remote_write.c - KPI gauges as a Prometheus remote_write 1.0 request: build and POST. */
#include "exporters/remote_write.h"

#include <curl/curl.h>
#include <errno.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tokfile.h"
#include "common/xalloc.h"
#include "remote.pb-c.h"

/* ---- external labels ---- */

struct rw_label {
    const char *name;
    char *value;    /* owned by the label set */
    char *name_buf; /* owned, NULL for the static names */
};

struct label_set {
    struct rw_label l[RW_MAX_EXTERNAL_LABELS + 4];
    size_t n;
};

static void labels_free(struct label_set *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        xfree(ls->l[i].value);
        xfree(ls->l[i].name_buf);
    }
    ls->n = 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static int fail(char *err, size_t errlen, size_t pos, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "external_labels, byte %zu: %s", pos + 1, what);
    return -EINVAL;
}

/* Parses spec into ls (appending). On error ls keeps what it had parsed; the caller frees. */
static int parse_labels(const char *spec, struct label_set *ls, char *err, size_t errlen)
{
    static const char *const reserved[] = {"window", "by", "group", NULL};
    const char *p = spec ? spec : "";
    size_t start = ls->n;
    for (;;) {
        while (is_blank(*p))
            p++;
        if (!*p)
            return 0;
        const char *n0 = p;
        if (!name_start(*p))
            return fail(err, errlen, (size_t)(p - spec), "expected a label name");
        while (name_char(*p))
            p++;
        size_t nlen = (size_t)(p - n0);
        if (nlen >= 2 && n0[0] == '_' && n0[1] == '_')
            return fail(err, errlen, (size_t)(n0 - spec), "names starting with __ are reserved");
        for (const char *const *r = reserved; *r; r++)
            if (strlen(*r) == nlen && memcmp(*r, n0, nlen) == 0)
                return fail(err, errlen, (size_t)(n0 - spec),
                            "window, by and group are the KPI labels");
        for (size_t i = 0; i < ls->n; i++)
            if (strlen(ls->l[i].name) == nlen && memcmp(ls->l[i].name, n0, nlen) == 0)
                return fail(err, errlen, (size_t)(n0 - spec), "label name given twice");
        if (ls->n - start >= RW_MAX_EXTERNAL_LABELS)
            return fail(err, errlen, (size_t)(n0 - spec), "too many labels");
        while (is_blank(*p))
            p++;
        if (*p++ != '=')
            return fail(err, errlen, (size_t)(p - 1 - spec), "expected '=' after the name");
        while (is_blank(*p))
            p++;
        if (*p++ != '"')
            return fail(err, errlen, (size_t)(p - 1 - spec), "expected a double-quoted value");
        char *v = xmalloc(strlen(p) + 1);
        size_t vlen = 0;
        for (; *p && *p != '"'; p++) {
            if (*p != '\\') {
                v[vlen++] = *p;
                continue;
            }
            p++;
            if (*p == '\\' || *p == '"')
                v[vlen++] = *p;
            else if (*p == 'n')
                v[vlen++] = '\n';
            else {
                xfree(v);
                return fail(err, errlen, (size_t)(p - spec), "unknown escape (use \\\" \\\\ \\n)");
            }
        }
        v[vlen] = '\0';
        if (*p != '"') {
            xfree(v);
            return fail(err, errlen, (size_t)(p - spec), "unterminated value");
        }
        if (vlen == 0) {
            xfree(v);
            return fail(err, errlen, (size_t)(p - spec), "empty value");
        }
        p++;
        struct rw_label *l = &ls->l[ls->n++];
        l->name_buf = xstrndup(n0, nlen);
        l->name = l->name_buf;
        l->value = v;
        while (is_blank(*p))
            p++;
        if (*p == ',')
            p++;
        else if (*p)
            return fail(err, errlen, (size_t)(p - spec), "expected ',' between labels");
    }
}

int rw_check_labels(const char *external_labels, char *err, size_t errlen)
{
    struct label_set ls = {.n = 0};
    int rc = parse_labels(external_labels, &ls, err, errlen);
    labels_free(&ls);
    return rc;
}

/* ---- WriteRequest ---- */

static int published(const struct kpi_row *r, const struct kpi_def *d)
{
    return !r->suppressed && strcmp(r->kpi, d->name) == 0 && kpi_def_has_window(d, r->window);
}

enum { L_NAME, L_WINDOW, L_BY, L_GROUP, L_FIXED }; /* slots of the per-series labels */

static int by_label_name(const void *a, const void *b)
{
    return strcmp(((const struct rw_label *)a)->name, ((const struct rw_label *)b)->name);
}

/* The series of one published row: the ratio, then its two counts when they are sent. */
static size_t row_series(const struct kpi_def *d, unsigned flags)
{
    return (flags & RW_SEND_COUNTS) && d->additive ? 3 : 1;
}

static const char *const series_suffix[3] = {"", "_numerator", "_denominator"};

int rw_build(const struct kpi_table *t, const struct kpi_def *defs, size_t ndefs,
             const char *external_labels, unsigned flags, int64_t ts_ms, uint8_t **body,
             size_t *len)
{
    struct label_set ls = {.n = 0};
    ls.l[ls.n++].name = "__name__";
    ls.l[ls.n++].name = "window";
    ls.l[ls.n++].name = "by";
    ls.l[ls.n++].name = "group";
    int rc = parse_labels(external_labels, &ls, NULL, 0);
    if (rc) {
        labels_free(&ls);
        return rc;
    }
    /* Every series has the same label names: sort them once and remember where the four
     * KPI labels went (they are the ones without a value yet). */
    size_t nl = ls.n, slot[L_FIXED];
    qsort(ls.l, nl, sizeof *ls.l, by_label_name);
    static const char *const fixed[L_FIXED] = {"__name__", "window", "by", "group"};
    for (size_t i = 0; i < nl; i++)
        for (int k = 0; k < L_FIXED; k++)
            if (!ls.l[i].value && strcmp(ls.l[i].name, fixed[k]) == 0)
                slot[k] = i;

    size_t ns = 0;
    for (size_t f = 0; f < ndefs; f++)
        for (size_t i = 0; i < t->n; i++)
            if (published(&t->rows[i], &defs[f]))
                ns += row_series(&defs[f], flags);

    /* names[3f + k]: cadre_<kpi> and, when sent, its _numerator and _denominator */
    char **names = xcalloc(3 * ndefs + 1, sizeof *names);
    Prometheus__TimeSeries *series = xcalloc(ns ? ns : 1, sizeof *series);
    Prometheus__TimeSeries **series_p = xcalloc(ns ? ns : 1, sizeof *series_p);
    Prometheus__Label *labels = xcalloc(ns * nl + 1, sizeof *labels);
    Prometheus__Label **labels_p = xcalloc(ns * nl + 1, sizeof *labels_p);
    Prometheus__Sample *samples = xcalloc(ns ? ns : 1, sizeof *samples);
    Prometheus__Sample **samples_p = xcalloc(ns ? ns : 1, sizeof *samples_p);
    size_t s = 0;
    for (size_t f = 0; f < ndefs; f++) {
        size_t per_row = row_series(&defs[f], flags);
        for (size_t k = 0; k < per_row; k++) {
            size_t nn = strlen(defs[f].name) + strlen(series_suffix[k]) + sizeof "cadre_";
            names[3 * f + k] = xmalloc(nn);
            snprintf(names[3 * f + k], nn, "cadre_%s%s", defs[f].name, series_suffix[k]);
        }
        for (size_t i = 0; i < t->n; i++) {
            const struct kpi_row *r = &t->rows[i];
            if (!published(r, &defs[f]))
                continue;
            /* as prom_render_kpis for the ratio; the two sides as the API has them */
            const double value[3] = {kpi_row_value(r), r->numerator, r->denominator};
            for (size_t k = 0; k < per_row; k++, s++) {
                Prometheus__TimeSeries *ts = &series[s];
                prometheus__time_series__init(ts);
                ts->n_labels = nl;
                ts->labels = &labels_p[s * nl];
                for (size_t j = 0; j < nl; j++) {
                    Prometheus__Label *l = &labels[s * nl + j];
                    prometheus__label__init(l);
                    /* protobuf-c's fields are not const; packing only reads them. */
                    l->name = (char *)ls.l[j].name;
                    l->value = ls.l[j].value;
                    ts->labels[j] = l;
                }
                ts->labels[slot[L_NAME]]->value = names[3 * f + k];
                ts->labels[slot[L_WINDOW]]->value = (char *)r->window;
                ts->labels[slot[L_BY]]->value = (char *)r->by;
                ts->labels[slot[L_GROUP]]->value = r->group;
                prometheus__sample__init(&samples[s]);
                samples[s].value = value[k];
                samples[s].timestamp = ts_ms;
                samples_p[s] = &samples[s];
                ts->n_samples = 1;
                ts->samples = &samples_p[s];
                series_p[s] = ts;
            }
        }
    }
    Prometheus__WriteRequest req;
    prometheus__write_request__init(&req);
    req.n_timeseries = ns;
    req.timeseries = series_p;
    size_t plen = prometheus__write_request__get_packed_size(&req);
    uint8_t *packed = xmalloc(plen ? plen : 1);
    prometheus__write_request__pack(&req, packed);
    size_t zlen = snappy_max_compressed_length(plen);
    uint8_t *z = xmalloc(zlen);
    rc = (int)(ns > (size_t)INT32_MAX ? INT32_MAX : ns);
    /* snappy fails only on a short output buffer, which max_compressed_length rules out. */
    if (snappy_compress((const char *)packed, plen, (char *)z, &zlen) == SNAPPY_OK) {
        *body = z;
        *len = zlen;
    } else {
        xfree(z);
        rc = -EIO;
    }

    xfree(packed);
    for (size_t f = 0; f < 3 * ndefs; f++)
        xfree(names[f]);
    xfree(names);
    xfree(series);
    xfree(series_p);
    xfree(labels);
    xfree(labels_p);
    xfree(samples);
    xfree(samples_p);
    labels_free(&ls);
    return rc;
}

/* ---- HTTP ---- */

struct answer {
    char text[256]; /* start of the answer's body */
    size_t n;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t len = size * nmemb, room = sizeof a->text - 1 - a->n;
    size_t k = len < room ? len : room;
    memcpy(a->text + a->n, p, k);
    a->n += k;
    a->text[a->n] = '\0';
    return len;
}

/* One line of printable ASCII: control bytes and line breaks become spaces. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

int rw_send(const char *url, const char *token, const char *user_agent, const uint8_t *body,
            size_t len, char *err, size_t errlen)
{
    char curlerr[CURL_ERROR_SIZE] = "";
    struct answer a = {.n = 0};
    a.text[0] = '\0';
    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(err, errlen, "cannot create a libcurl handle");
        return EXP_RETRY;
    }
    struct curl_slist *h = NULL;
    char *auth = NULL;
    h = curl_slist_append(h, "Content-Encoding: snappy");
    h = curl_slist_append(h, "Content-Type: " RW_CONTENT_TYPE);
    h = curl_slist_append(h, RW_VERSION_HEADER);
    h = curl_slist_append(h, "Expect:");
    if (token && *token) {
        size_t n = strlen(token) + sizeof "Authorization: Bearer ";
        auth = xmalloc(n);
        snprintf(auth, n, "Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, (const char *)body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_USERAGENT, user_agent ? user_agent : "cadre");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)RW_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)RW_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    int rc;
    if (cc != CURLE_OK) {
        /* A URL that can never work is a configuration error, not a reason to retry. */
        rc = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ? EXP_ERROR : EXP_RETRY;
        snprintf(err, errlen, "POST %s: %s", url, curlerr[0] ? curlerr : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300)
            rc = EXP_OK;
        else if (status >= 500 || status == 429)
            rc = EXP_RETRY;
        else
            rc = EXP_ERROR;
        one_line(a.text);
        snprintf(err, errlen, "POST %s: HTTP %ld%s%s", url, status, a.n ? ": " : "", a.text);
    }
    curl_slist_free_all(h);
    xfree(auth);
    curl_easy_cleanup(c);
    return rc;
}

int rw_read_token(const char *path, char **token, char *err, size_t errlen)
{
    int rc = tokfile_read_token(path, token);
    switch (rc) {
    case 0: return 0;
    case -EIO: snprintf(err, errlen, "%s: read error", path); return rc;
    case -E2BIG:
        snprintf(err, errlen, "%s: the first line is longer than %d bytes", path, TOKFILE_MAX_LINE);
        return -EINVAL;
    case -ENODATA: snprintf(err, errlen, "%s: the first line holds no token", path); return -EINVAL;
    case -EILSEQ:
        snprintf(err, errlen, "%s: the token holds a character not allowed in a header", path);
        return -EINVAL;
    default: snprintf(err, errlen, "%s: %s", path, strerror(-rc)); return rc;
    }
}
