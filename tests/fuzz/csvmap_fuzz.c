/* csvmap_fuzz.c - libFuzzer target for agent/csvmap: vendor export mappings, their value map
 * files and the rows they rewrite.
 *
 * Input: byte 0 picks the CSV type (staffing, shifts, absences, ehr, training, licences);
 * the rest is up to three parts separated by a line "%%":
 *   1. the mapping keys of one [source fz] section, "key = value" per line (trimmed, as
 *      the INI reader gives them; a key repeated is skipped, as the config refuses it). A
 *      value_map.FIELD value "MAP" names a scratch file holding part 2 (fuzz_file.h), any
 *      other value a file that does not exist;
 *   2. a value map file (CSV from,to);
 *   3. an export: a header row, then rows read with common/csvread; field i of a row is
 *      the type's column i, absent when the header has no field i or the field "-" there.
 *
 * Part 2 alone: csvmap_vmap_parse returns 0 or -EINVAL with a message that names a line or
 * says the file is empty, never empty itself; it accepts exactly what a reference reading
 * of the same bytes (csvread, from and to found in the header, rows of the header's field
 * count, a non-empty from, from < 1024 and to < 64 bytes, repeats of a from with one to)
 * accepts, and then holds one entry per distinct from, each giving its to, and gives
 * nothing for a value that is no from.
 *
 * Part 1: csvmap_build returns 0 or -EINVAL with "fuzz.conf:LINE: [source fz] KEY: " for
 * one of the lines given. Built, the mapping is applied to every row of part 3:
 * csvmap_apply returns false iff it set f->bad (to a column of the type, reason
 * invalid_value); when it returns true, every field is NUL-terminated with len == strlen,
 * an absent field stays absent, an empty one empty, and a present one, after its value map
 * (the reference's to of the value, which must exist), is
 *   - on a date column with date_format: a date parse_date reads;
 *   - on a timestamp column with timestamp_format: an RFC 3339 time parse_rfc3339 reads;
 *     with timezone, its offset is the zone's offset at that instant and the wall time
 *     written maps back to that instant (tz_from_local);
 *   - on a minutes_from_hours column: a decimal 60 times the hours (decimal_parse);
 *   - otherwise the value itself, byte for byte.
 * Part 2 is cut at 8 KiB (the reference is quadratic), at most 64 rows of part 3 are read.
 * CSVMAP_FUZZ_VERBOSE=1 prints the build's result and every row rewritten.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/csvmap.h"
#include "agent/source.h"
#include "agent/src_csv.h"
#include "common/csvread.h"
#include "common/decimal.h"
#include "common/strutil.h"
#include "common/timeutil.h"
#include "common/tzfile.h"
#include "common/xalloc.h"
#include "tests/fuzz/fuzz_file.h"

#define CFG "fuzz.conf"
#define SEP "\n%%\n"
#define MAXKV 24
#define MAXROWS 64
#define VMAP_MAX 8192 /* bytes of part 2 used: the reference is quadratic */

static int verbose = -1; /* CSVMAP_FUZZ_VERBOSE=1: print what each input does */

static const char *const types[] = {"staffing_csv", "shifts_csv",   "absences_csv",
                                    "ehr_csv",      "training_csv", "licences_csv"};

static _Noreturn void fail(const char *what, const char *detail)
{
    fprintf(stderr, "csvmap_fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* ---- the reference reading of a value map ---- */

struct pair {
    char *from, *to;
    size_t flen;
};

struct ref {
    struct pair *p;
    size_t n, cap;
    int from_col, to_col;
    int header, bad;
};

static int ref_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct ref *r = ud;
    if (ev == CSV_EV_HEADER) {
        r->header = 1;
        r->from_col = r->to_col = -1;
        for (size_t i = row->nfields; i-- > 0;) { /* the first of two names wins */
            if (str_ieq(row->field[i], row->len[i], "from"))
                r->from_col = (int)i;
            if (str_ieq(row->field[i], row->len[i], "to"))
                r->to_col = (int)i;
        }
        if (r->from_col < 0 || r->to_col < 0)
            r->bad = 1;
        return r->bad;
    }
    if (ev == CSV_EV_MALFORMED) {
        r->bad = 1;
        return 1;
    }
    size_t fl = row->len[r->from_col], tl = row->len[r->to_col];
    if (fl == 0 || fl >= 1024 || tl >= 64) {
        r->bad = 1;
        return 1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->p[i].flen == fl && memcmp(r->p[i].from, row->field[r->from_col], fl) == 0) {
            if (strcmp(r->p[i].to, row->field[r->to_col]) != 0)
                r->bad = 1;
            return r->bad;
        }
    }
    xgrow((void **)&r->p, &r->cap, r->n + 1, sizeof *r->p);
    r->p[r->n++] = (struct pair){xstrndup(row->field[r->from_col], fl),
                                 xstrndup(row->field[r->to_col], tl), fl};
    return 0;
}

static void ref_free(struct ref *r)
{
    for (size_t i = 0; i < r->n; i++) {
        xfree(r->p[i].from);
        xfree(r->p[i].to);
    }
    xfree(r->p);
    memset(r, 0, sizeof *r);
}

/* The reference's to of s, or NULL. */
static const char *ref_get(const struct ref *r, const char *s, size_t len)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->p[i].flen == len && memcmp(r->p[i].from, s, len) == 0)
            return r->p[i].to;
    return NULL;
}

/* Parses the value map both ways and compares. Returns the parsed map (or NULL) and fills
 * ref; the caller frees both. */
static struct csvmap_vmap *check_vmap(const char *buf, size_t len, struct ref *ref)
{
    char err[256];
    memset(err, 'x', sizeof err);
    struct csvmap_vmap *v = NULL;
    int rc = csvmap_vmap_parse(buf, len, &v, err, sizeof err);
    if (rc != 0 && rc != -EINVAL)
        fail("csvmap_vmap_parse returns neither 0 nor -EINVAL", NULL);
    if (!memchr(err, 0, sizeof err))
        fail("value map message not terminated", NULL);
    if (rc && strncmp(err, "line ", 5) != 0 && strncmp(err, "empty: ", 7) != 0)
        fail("value map message names no line", err);

    struct csvread *r = csvread_new(ref_row, ref);
    if (csvread_feed(r, buf, len) == 0)
        csvread_finish(r);
    csvread_free(r);
    int ok = ref->header && !ref->bad;
    if (ok != (rc == 0))
        fail(ok ? "a good value map refused" : "a bad value map accepted", rc ? err : NULL);
    if (rc)
        return NULL;
    if (csvmap_vmap_count(v) != ref->n)
        fail("value map count differs from the distinct from values", NULL);
    for (size_t i = 0; i < ref->n; i++) {
        const struct pair *p = &ref->p[i];
        const char *to = csvmap_vmap_get(v, p->from, p->flen);
        if (!to || strcmp(to, p->to) != 0)
            fail("a from value does not give its to", to);
        /* a value one byte longer or shorter is another value */
        char probe[1100];
        memcpy(probe, p->from, p->flen);
        probe[p->flen] = '\x01';
        if (!ref_get(ref, probe, p->flen + 1) && csvmap_vmap_get(v, probe, p->flen + 1))
            fail("a value that is no from gives a to", NULL);
        if (p->flen > 1 && !ref_get(ref, p->from, p->flen - 1) &&
            csvmap_vmap_get(v, p->from, p->flen - 1))
            fail("a prefix of a from gives a to", NULL);
    }
    return v;
}

/* ---- the mapping ---- */

struct conf {
    char key[MAXKV][128], val[MAXKV][512];
    struct csvmap_kv kv[MAXKV];
    size_t n;
};

static void trim(const char **s, size_t *len)
{
    str_trim(s, len);
}

/* Reads "key = value" lines into c; lines without '=', comments and sections are skipped. */
static void read_conf(const char *p, size_t len, const char *map_path, struct conf *c)
{
    int line = 0;
    c->n = 0;
    while (len && c->n < MAXKV) {
        const char *nl = memchr(p, '\n', len);
        size_t l = nl ? (size_t)(nl - p) : len;
        const char *s = p;
        line++;
        p += l + (nl != NULL);
        len -= l + (nl != NULL);
        if (memchr(s, 0, l))
            continue;
        const char *eq = memchr(s, '=', l);
        if (!eq || s[0] == '[' || s[0] == '#' || s[0] == ';')
            continue;
        const char *k = s, *v = eq + 1;
        size_t kl = (size_t)(eq - s), vl = l - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        if (kl == 0 || kl >= sizeof c->key[0] || vl >= sizeof c->val[0])
            continue;
        char key[128];
        memcpy(key, k, kl);
        key[kl] = 0;
        int dup = 0;
        for (size_t i = 0; i < c->n; i++)
            dup |= strcmp(c->key[i], key) == 0;
        if (dup)
            continue;
        memcpy(c->key[c->n], key, kl + 1);
        if (strncmp(key, "value_map.", 10) == 0)
            snprintf(c->val[c->n], sizeof c->val[0], "%s%s", map_path,
                     vl == 3 && memcmp(v, "MAP", 3) == 0 ? "" : ".none");
        else
            snprintf(c->val[c->n], sizeof c->val[0], "%.*s", (int)vl, v);
        c->kv[c->n] = (struct csvmap_kv){c->key[c->n], c->val[c->n], line};
        c->n++;
    }
}

static const char *conf_get(const struct conf *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->key[i], key) == 0)
            return c->val[i];
    return NULL;
}

/* What a built mapping does to each column, from the keys. */
struct model {
    const struct csv_type *t;
    int date, ts, hours[CSV_MAX_COLS], vmap[CSV_MAX_COLS];
    struct tzinfo *tz;
    const struct ref *ref;
};

static int column_of(const struct csv_type *t, const char *s, size_t len)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (str_ieq(s, len, t->cols[i].name))
            return (int)i;
    return -1;
}

static void model_of(const struct conf *c, const struct csv_type *t, const struct ref *ref,
                     struct model *m)
{
    memset(m, 0, sizeof *m);
    m->t = t;
    m->ref = ref;
    m->date = conf_get(c, "date_format") != NULL;
    m->ts = conf_get(c, "timestamp_format") != NULL;
    const char *tz = conf_get(c, "timezone");
    char err[512];
    if (tz && tz_load(tz, &m->tz, err, sizeof err))
        fail("timezone accepted by csvmap_build but not by tz_load", err);
    const char *h = conf_get(c, "minutes_from_hours");
    while (h && *h) {
        const char *end = strchr(h, ',');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        const char *name = h;
        size_t nl = len;
        trim(&name, &nl);
        int col = nl ? column_of(t, name, nl) : -1;
        if (col >= 0)
            m->hours[col] = 1;
        h = end ? end + 1 : h + len;
    }
    for (size_t i = 0; i < c->n; i++) {
        if (strncmp(c->key[i], "value_map.", 10) != 0)
            continue;
        int col = column_of(t, c->key[i] + 10, strlen(c->key[i] + 10));
        if (col < 0)
            fail("value_map of no column accepted", c->key[i]);
        if (strstr(c->val[i], ".none"))
            fail("value_map of a missing file accepted", NULL);
        if (ref->bad || !ref->header)
            fail("value_map of a file the reference refuses accepted", NULL);
        m->vmap[col] = 1;
    }
}

static void check_build_error(const struct conf *c, const char *err)
{
    const char *p = err;
    if (strncmp(p, CFG ":", strlen(CFG ":")) != 0)
        fail("build error does not start with the config path", err);
    p += strlen(CFG ":");
    char *end;
    long line = strtol(p, &end, 10);
    const struct csvmap_kv *kv = NULL;
    for (size_t i = 0; i < c->n; i++)
        if (c->kv[i].line == line)
            kv = &c->kv[i];
    if (end == p || !kv)
        fail("build error names no line of a key", err);
    char want[256];
    snprintf(want, sizeof want, ": [source fz] %s: ", kv->key);
    if (strncmp(end, want, strlen(want)) != 0)
        fail("build error does not name the source and the key of its line", err);
}

/* ---- rows ---- */

struct rows {
    const struct csvmap *map;
    const struct model *m;
    int present[CSV_MAX_COLS];
    size_t nrows;
};

static void check_field(const struct model *m, size_t i, const char *in, size_t inlen,
                        const char *out, size_t outlen)
{
    const struct csv_type *t = m->t;
    if (!out || strlen(out) != outlen)
        fail("a field is not NUL-terminated at its length", t->cols[i].name);
    const char *v = in;
    size_t vl = inlen;
    if (m->vmap[i] && inlen) {
        v = ref_get(m->ref, in, inlen);
        if (!v)
            fail("a value not in the value map accepted", t->cols[i].name);
        vl = strlen(v);
    }
    if (vl == 0) {
        if (outlen)
            fail("an empty field is not empty after the mapping", t->cols[i].name);
        return;
    }
    enum csv_kind k = t->cols[i].kind;
    if (k == CSV_DATE && m->date) {
        int32_t day;
        if (parse_date(out, outlen, &day))
            fail("a rewritten date is no date", out);
    } else if (k == CSV_INSTANT && m->ts) {
        int64_t us;
        int32_t day;
        if (parse_rfc3339(out, outlen, &us, &day) || outlen != 25)
            fail("a rewritten timestamp is no RFC 3339 time", out);
        if (m->tz) {
            int sign = out[19] == '-' ? -1 : 1;
            int32_t off = sign * ((out[20] - '0') * 36000 + (out[21] - '0') * 3600 +
                                  (out[23] - '0') * 600 + (out[24] - '0') * 60);
            int64_t t = us / US_PER_SEC, back;
            int32_t o;
            if (tz_offset_at(m->tz, t) != off)
                fail("a rewritten timestamp's offset is not the zone's", out);
            if (tz_from_local(m->tz, t + off, &back, &o) || back != t)
                fail("a rewritten timestamp's wall time is not its earliest instant", out);
        }
    } else if (m->hours[i]) {
        int64_t h, min, want;
        if (decimal_parse(v, vl, &h) || decimal_parse(out, outlen, &min))
            fail("rewritten minutes are no decimal", out);
        if (__builtin_mul_overflow(h, 60, &want))
            fail("hours whose minutes overflow accepted", v);
        if (min != want)
            fail("rewritten minutes are not 60 times the hours", out);
    } else if (outlen != vl || memcmp(out, v, vl) != 0) {
        fail("a field with no conversion changed", t->cols[i].name);
    }
}

static int on_row(void *ud, enum csv_event ev, const struct csv_row *row)
{
    struct rows *r = ud;
    const struct csv_type *t = r->m->t;
    if (ev == CSV_EV_HEADER) {
        for (size_t i = 0; i < t->ncols; i++)
            r->present[i] = i < row->nfields && !(row->len[i] == 1 && row->field[i][0] == '-');
        return 0;
    }
    if (ev != CSV_EV_ROW || r->nrows++ >= MAXROWS)
        return 0;
    struct csv_fields f = {.cols = t->cols, .reason = -1};
    for (size_t i = 0; i < t->ncols; i++) {
        if (r->present[i]) {
            f.s[i] = row->field[i];
            f.len[i] = row->len[i];
        }
    }
    struct csv_fields in = f;
    struct csvmap_row out;
    bool ok = csvmap_apply(r->map, &f, &out);
    if (verbose) {
        fprintf(stderr, "  row %lu:", row->line);
        for (size_t i = 0; i < t->ncols; i++)
            fprintf(stderr, " [%.*s]", f.s[i] ? (int)f.len[i] : 1, f.s[i] ? f.s[i] : "-");
        fprintf(stderr, "%s%s\n", ok ? "" : " refused: ", ok ? "" : f.bad);
    }
    if (ok != (f.bad == NULL))
        fail("csvmap_apply's answer and f->bad disagree", NULL);
    if (!ok) {
        int named = 0;
        for (size_t i = 0; i < t->ncols; i++)
            named |= f.bad == t->cols[i].name && in.s[i] && in.len[i];
        if (!named || f.reason != SRC_INVALID_VALUE)
            fail("a refused row names no non-empty column as invalid_value", f.bad);
        return 0;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        if (!in.s[i]) {
            if (f.s[i])
                fail("an absent field became present", t->cols[i].name);
            continue;
        }
        check_field(r->m, i, in.s[i], in.len[i], f.s[i], f.len[i]);
    }
    return 0;
}

/* The bytes of part k (0-based) of [p, p + len) split at SEP, or NULL. */
static const char *part(const char *p, size_t len, int k, size_t *plen)
{
    size_t sl = strlen(SEP);
    for (int i = 0; i < k; i++) {
        const char *s = memmem(p, len, SEP, sl);
        if (!s)
            return NULL;
        len -= (size_t)(s - p) + sl;
        p = s + sl;
    }
    const char *s = memmem(p, len, SEP, sl);
    *plen = s ? (size_t)(s - p) : len;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (verbose < 0) {
        const char *e = getenv("CSVMAP_FUZZ_VERBOSE");
        verbose = e && *e == '1';
    }
    const char *tname = types[data[0] % (sizeof types / sizeof types[0])];
    const struct csv_type *t = source_type_find(tname)->csv;
    const char *in = (const char *)data + 1;
    size_t len = size - 1, clen = 0, vlen = 0, rlen = 0;
    const char *cfg = part(in, len, 0, &clen);
    const char *vm = part(in, len, 1, &vlen);
    const char *rows = part(in, len, 2, &rlen);
    if (!vm)
        vm = "";
    if (vlen > VMAP_MAX)
        vlen = VMAP_MAX;

    struct ref ref;
    memset(&ref, 0, sizeof ref);
    struct csvmap_vmap *v = check_vmap(vm, vlen, &ref);
    csvmap_vmap_free(v);

    const char *map_path = fz_file_write((const uint8_t *)vm, vlen);
    static struct conf c;
    read_conf(cfg, clen, map_path, &c);
    struct csvmap *map = (struct csvmap *)&c; /* must be overwritten */
    char err[1024];
    memset(err, 'x', sizeof err);
    int rc = csvmap_build(t, tname, "fz", c.kv, c.n, CFG, &map, err, sizeof err);
    if (rc != 0 && rc != -EINVAL)
        fail("csvmap_build returns neither 0 nor -EINVAL", NULL);
    if (verbose)
        fprintf(stderr, "%s, %zu keys, value map %s (%zu entries): %s\n", tname, c.n,
                ref.bad || !ref.header ? "refused" : "read", ref.n, rc ? err : "built");
    if (rc) {
        if (map)
            fail("a failed build gives a mapping", NULL);
        if (!memchr(err, 0, sizeof err))
            fail("build error not terminated", NULL);
        check_build_error(&c, err);
        ref_free(&ref);
        return 0;
    }
    int keys = 0;
    for (size_t i = 0; i < c.n; i++)
        keys |= csvmap_is_key(c.key[i]);
    if (!map != !keys)
        fail(keys ? "mapping keys gave no mapping" : "a mapping without mapping keys", NULL);
    if (map && rows) {
        struct model m;
        model_of(&c, t, &ref, &m);
        struct rows r = {.map = map, .m = &m};
        struct csvread *cr = csvread_new(on_row, &r);
        if (csvread_feed(cr, rows, rlen) == 0)
            csvread_finish(cr);
        csvread_free(cr);
        tz_free(m.tz);
    }
    csvmap_free(map);
    ref_free(&ref);
    return 0;
}
