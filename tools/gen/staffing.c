/* staffing.c - HR rows: fake names, id spellings, mixed-case enums, restated rows. */
#include "tools/gen/staffing.h"

#include <string.h>

#include "tools/gen/rng.h"

static const char *const first_names[] = {
    "L\xc3\xa9"
    "a",
    "Zo\xc3\xab",
    "Jos\xc3\xa9",
    "Bj\xc3\xb6rn",
    "Siobh\xc3\xa1n",
    "Chlo\xc3\xa9",
    "Ngozi",
    "Mei",
    "Aarav",
    "Fatima",
    "Oluwaseun",
    "\xc3\x89milie",
    "J\xc3\xbcrgen",
    "S\xc3\xb8ren",
    "Ana",
    "Mohammed",
    "Priya",
    "Kenji",
    "Olga",
    "Tom\xc3\xa1s",
    "Isabelle",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Sophia",
    "Lucas",
    "Mia",
    "Ethan",
    "Amara",
    "Robert",
    "Mar\xc3\xad"
    "a",
    "Jean-Fran\xc3\xa7ois",
    "Nadia",
    "Samuel",
    "Grace",
    "Hiroshi",
    "Ingrid",
};
static const char *const last_names[] = {
    "Tremblay",
    "Gagnon",
    "Roy",
    "C\xc3\xb4t\xc3\xa9",
    "Smith",
    "Johnson",
    "Garc\xc3\xad"
    "a",
    "M\xc3\xbcller",
    "O'Brien",
    "Nguyen",
    "Kowalski",
    "Dubois",
    "Okafor",
    "Patel",
    "Kim",
    "Rossi",
    "Andersen",
    "Leblanc",
    "Ferreira",
    "Cohen",
    "Smith-Jones",
    "van der Berg",
    "MacDonald",
    "Haddad",
    "Yamamoto",
    "Ivanova",
    "Bergstr\xc3\xb6m",
    "\xc3\x93 S\xc3\xbaill"
    "eabh\xc3\xa1in",
    "Williams",
    "Brown",
    "Martin",
    "Lefebvre",
    "Singh",
    "Chen",
};
#define NFIRST (sizeof first_names / sizeof first_names[0])
#define NLAST (sizeof last_names / sizeof last_names[0])

/* "Last, First", "First Last" or a nickname in quotes; never shipped by the agent. */
static size_t make_name(struct rng *r, char *buf)
{
    const char *f = first_names[rng_below(r, NFIRST)], *l = last_names[rng_below(r, NLAST)];
    char *p = buf;
    uint32_t style = rng_below(r, 100);
    if (style < 55) {
        p = fmt_str(p, l);
        p = fmt_str(p, ", ");
        p = fmt_str(p, f);
    } else if (style < 97) {
        p = fmt_str(p, f);
        *p++ = ' ';
        p = fmt_str(p, l);
    } else {
        p = fmt_str(p, f);
        p = fmt_str(p, " \"Doc\" ");
        p = fmt_str(p, l);
    }
    return (size_t)(p - buf);
}

/* Writes the staff id as HR spelt it: mostly as issued, sometimes lower case or padded. */
static char *put_id(char *p, const char *id, uint32_t style)
{
    char tmp[16];
    size_t n = strlen(id);
    memcpy(tmp, id, n);
    if (style == 1) {
        tmp[0] = (char)(tmp[0] - 'A' + 'a');
        return fmt_csv(p, tmp, n, 0);
    }
    if (style == 2) { /* unquoted, padded */
        *p++ = ' ';
        p = fmt_mem(p, id, n);
        *p++ = ' ';
        return p;
    }
    if (style == 3) { /* quoted, padded */
        *p++ = '"';
        *p++ = ' ';
        *p++ = ' ';
        p = fmt_mem(p, id, n);
        *p++ = '"';
        return p;
    }
    return fmt_mem(p, id, n);
}

/* An enum label: lower case, or now and then Capitalised or UPPER case. */
static char *put_enum(char *p, const char *s, uint32_t style)
{
    char *start = p;
    p = fmt_str(p, s);
    if (style == 1 && p > start) {
        start[0] = (char)(start[0] - 'a' + 'A');
    } else if (style == 2) {
        for (char *q = start; q < p; q++)
            if (*q >= 'a' && *q <= 'z')
                *q = (char)(*q - 'a' + 'A');
    }
    return p;
}

static void write_row(const struct world *w, struct emit *e, uint32_t who, const char *name,
                      size_t namelen, const struct episode *ep, struct rng *r, int restated)
{
    const struct person *p = &w->person[who];
    struct out *o = &e->file[ep->site][REC_STAFFING];
    char *q = out_room(o);
    q = fmt_csv(q, name, namelen, 0);
    *q++ = ',';
    uint32_t u = rng_below(r, 100);
    uint32_t idstyle = restated ? 1 + u % 3 : u < 3 ? 1 : u < 5 ? 2 : u < 7 ? 3 : 0;
    q = put_id(q, p->id, idstyle);
    *q++ = ',';
    const char *dept = w->dept[ep->dept].name;
    q = fmt_csv(q, dept, strlen(dept), 0);
    *q++ = ',';
    q = fmt_str(q, role_names[ep->role]);
    *q++ = ',';
    q = fmt_date(q, ep->start);
    *q++ = ',';
    if (ep->end != DAY_NONE)
        q = fmt_date(q, ep->end);
    *q++ = ',';
    u = rng_below(r, 100);
    if (ep->reason != ER_NONE)
        q = put_enum(q, end_reason_names[ep->reason], u < 12 ? 1 : u < 15 ? 2 : 0);
    *q++ = ',';
    q = fmt_str(q, w->site[ep->site].name);
    *q++ = ',';
    u = rng_below(r, 100);
    if (ep->hybrid != HY_NONE)
        q = put_enum(q, hybrid_names[ep->hybrid], u < 10 ? 2 : 0);
    *q++ = ',';
    u = rng_below(r, 100);
    if (u < 8) { /* with trailing zeros: "1.00", "0.80", "1.20" */
        q = fmt_u64(q, ep->fte10 / 10u);
        *q++ = '.';
        *q++ = (char)('0' + ep->fte10 % 10);
        *q++ = '0';
    } else {
        q = fmt_dec(q, ep->fte10, 1);
    }
    *q++ = '\r';
    *q++ = '\n';
    out_commit(o, q);
    emit_count_staffing(e, ep->site, who, ep->start);
}

void staffing_write(const struct world *w, struct emit *e, struct badplan *bp)
{
    char name[128];
    for (uint32_t i = 0; i < w->nperson; i++) {
        badplan_emit(bp, e, REC_STAFFING, (int32_t)i);
        keyset_clear(&e->keys);
        struct rng r = rng_at(w->seed, RP_STAFFING, i, 0);
        size_t namelen = make_name(&r, name);
        const struct person *p = &w->person[i];
        for (int k = 0; k < p->nep; k++) {
            const struct episode *ep = &p->ep[k];
            if (ep->restated) {
                /* An older version first: before the exit was keyed in, or another fte.
                 * The later row wins, so the episode ends up as below. */
                struct episode old = *ep;
                if (old.end != DAY_NONE) {
                    old.end = DAY_NONE;
                    old.reason = ER_NONE;
                } else {
                    old.fte10 = old.fte10 == 10 ? 8 : 10;
                }
                write_row(w, e, i, name, namelen, &old, &r, 1);
            }
            write_row(w, e, i, name, namelen, ep, &r, 0);
        }
    }
    badplan_emit(bp, e, REC_STAFFING, INT32_MAX);
}
