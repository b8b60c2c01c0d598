/* badrows.c - invalid rows, each with exactly one fault, so their reason is unambiguous. */
#include "tools/gen/badrows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "tools/gen/rng.h"

/* Variants per (type, reason); see bad_text(). */
static const uint8_t variants[NTYPES][BAD_COUNT] = {
    [REC_USAGE] = {3, 3, 4},    [REC_STAFFING] = {2, 4, 5}, [REC_SHIFTS] = {2, 3, 5},
    [REC_ABSENCES] = {1, 2, 5}, [REC_EHR] = {1, 3, 3},      [REC_TRAINING] = {1, 3, 2},
    [REC_LICENCE] = {2, 3, 4},
};

static int cmp_slot(const void *a, const void *b)
{
    const struct badslot *x = a, *y = b;
    if (x->type != y->type)
        return x->type < y->type ? -1 : 1;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    if (x->site != y->site)
        return x->site < y->site ? -1 : 1;
    if (x->reason != y->reason)
        return x->reason < y->reason ? -1 : 1;
    return (x->variant > y->variant) - (x->variant < y->variant);
}

void badplan_make(struct badplan *b, const struct world *w, int enabled)
{
    memset(b, 0, sizeof *b);
    if (!enabled)
        return;
    size_t cap = (size_t)w->nsites * NTYPES * BAD_COUNT * 3;
    b->slot = xcalloc(cap, sizeof *b->slot);
    /* Licence rows draw from a stream of their own, so the other files' invalid rows stay
     * where they were before licences.csv existed. */
    struct rng r0 = rng_at(w->seed, RP_BAD, 0, 0), rl = rng_at(w->seed, RP_BAD, 0, REC_LICENCE);
    for (int s = 0; s < w->nsites; s++) {
        for (int t = REC_TYPE_MIN; t <= GEN_TYPE_MAX; t++) {
            struct rng *r = t == REC_LICENCE ? &rl : &r0;
            for (int why = 0; why < BAD_COUNT; why++) {
                int n = 2 + (int)rng_below(r, 2);
                for (int k = 0; k < n; k++) {
                    struct badslot *x = &b->slot[b->n++];
                    x->type = (uint8_t)t;
                    x->site = (uint8_t)s;
                    x->reason = (uint8_t)why;
                    x->variant = (uint8_t)((k + rng_below(r, 8)) % variants[t][why]);
                    if (badplan_by_person(t))
                        x->at = (int32_t)rng_below(r, w->nperson);
                    else
                        x->at = w->from + (int32_t)rng_below(r, (uint32_t)(w->to - w->from + 1));
                }
            }
        }
    }
    qsort(b->slot, b->n, sizeof *b->slot, cmp_slot);
    for (size_t i = b->n; i-- > 0;)
        b->next[b->slot[i].type] = i;
    for (size_t i = 0; i < b->n; i++)
        b->end[b->slot[i].type] = i + 1;
}

void badplan_free(struct badplan *b)
{
    xfree(b->slot);
    memset(b, 0, sizeof *b);
}

/* Formats the row into buf (with its line end) and returns its length. */
static size_t bad_text(const struct world *w, const struct badslot *x, struct rng *r, char *buf,
                       size_t size)
{
    const struct person *p = &w->person[rng_below(r, w->nperson)];
    const char *id = p->id, *site = w->site[x->site].name;
    char d[11], d2[11], yr[5];
    int32_t day = x->type == REC_STAFFING  ? w->from - (int32_t)rng_below(r, 1000)
                  : x->type == REC_LICENCE ? w->from + (int32_t)rng_below(r, 300)
                                           : x->at;
    *fmt_date(d, day) = '\0';
    *fmt_date(d2, day + 30) = '\0';
    memcpy(yr, d, 4);
    yr[4] = '\0';
    int v = x->variant;
#define OUT(...) return (size_t)snprintf(buf, size, __VA_ARGS__)
    switch (x->type) {
    case REC_USAGE:
        if (x->reason == BAD_MALFORMED) {
            if (v == 0)
                OUT("this is not json\n");
            if (v == 1)
                OUT("%sT10:00:00Z WARN scribe-gateway: upstream timeout, retrying\n", d);
            OUT("{\"ts\":\"%sT10:00:00Z\",\"user\":\"%s\",\"tool\":\"ambient-scr\n", d, id);
        }
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT("{\"ts\":\"%sT10:00:00Z\",\"user\":\"%s\",\"event\":\"note\"}\n", d, id);
            if (v == 1)
                OUT("{\"user\":\"%s\",\"tool\":\"chat-assistant\",\"minutes\":1}\n", id);
            OUT("{\"ts\":\"%sT10:00:00Z\",\"tool\":\"chat-assistant\"}\n", d);
        }
        if (v == 0)
            OUT("{\"ts\":\"%sT10:00:00Z\",\"user\":\"%s\",\"tool\":\"Ambient Scribe\"}\n", d, id);
        if (v == 1)
            OUT("{\"ts\":\"%sT10:00:00Z\",\"user\":\"%s\",\"tool\":\"ambient-scribe\","
                "\"minutes\":-1}\n",
                d, id);
        if (v == 2)
            OUT("{\"ts\":\"%sT25:00:00Z\",\"user\":\"%s\",\"tool\":\"chat-assistant\"}\n", d, id);
        OUT("{\"ts\":\"%sT10:00:00Z\",\"user\":12345,\"tool\":\"chat-assistant\"}\n", d);
    case REC_STAFFING:
        if (x->reason == BAD_MALFORMED) {
            if (v == 0)
                OUT("Short Row,%s,ICU\r\n", id);
            OUT("\"Doe, Jane\",%s,Medicine,nurse,%s,,,%s,,1,1\r\n", id, d, site);
        }
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT("Jane Doe,,Medicine,nurse,%s,,,%s,,1\r\n", d, site);
            if (v == 1)
                OUT("Jane Doe,%s,  ,nurse,%s,,,%s,,1\r\n", id, d, site);
            if (v == 2)
                OUT("Jane Doe,%s,Medicine,,%s,,,%s,,1\r\n", id, d, site);
            OUT("Jane Doe,%s,Medicine,nurse,,,,%s,,1\r\n", id, site);
        }
        if (v == 0)
            OUT("Jane Doe,%s,Medicine,nurse,%s-13-01,,,%s,,1\r\n", id, yr, site);
        if (v == 1)
            OUT("Jane Doe,%s,Medicine,nurse,%s,,,%s,,2\r\n", id, d, site);
        if (v == 2)
            OUT("Jane Doe,%s,Medicine,nurse,%s,,,%s,ai_evangelist,1\r\n", id, d, site);
        if (v == 3)
            OUT("Jane Doe,%s,Medicine,nurse,%s,%s,resigned,%s,,1\r\n", id, d, d2, site);
        OUT("Jane Doe,%s,Medicine,nurse,%s,,,%s,,0\r\n", id, d, site);
    case REC_SHIFTS:
        if (x->reason == BAD_MALFORMED) {
            if (v == 0)
                OUT("%s,%sT07:00:00Z\n", id, d);
            OUT("%s,%sT07:00:00Z,%sT19:00:00Z,0,extra\n", id, d, d);
        }
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT(",%sT07:00:00Z,%sT19:00:00Z,0\n", d, d);
            if (v == 1)
                OUT("%s,,%sT19:00:00Z,0\n", id, d);
            OUT("%s,%sT07:00:00Z,,0\n", id, d);
        }
        if (v == 0)
            OUT("%s,%sT19:00:00Z,%sT07:00:00Z,0\n", id, d, d);
        if (v == 1) {
            char d1[11];
            *fmt_date(d1, day + 1) = '\0';
            OUT("%s,%sT07:00:00Z,%sT23:00:00Z,0\n", id, d, d1);
        }
        if (v == 2)
            OUT("%s,%s 7am,%sT15:00:00Z,0\n", id, d, d);
        if (v == 3)
            OUT("%s,%sT07:00:00Z,%sT15:00:00Z,-1\n", id, d, d);
        OUT("%s,%sT25:00:00Z,%sT23:00:00Z,0\n", id, d, d);
    case REC_ABSENCES:
        if (x->reason == BAD_MALFORMED)
            OUT("\"%s\",\"%s\",\"8\"\n", d, id);
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT("\"%s\",\"\",\"8\",\"sick\",\"\"\n", d);
            OUT("\"\",\"%s\",\"8\",\"sick\",\"\"\n", id);
        }
        if (v == 0)
            OUT("\"%s\",\"%s\",\"30\",\"sick\",\"\"\n", d, id);
        if (v == 1)
            OUT("\"%s\",\"%s\",\"-4\",\"pto\",\"\"\n", d, id);
        if (v == 2)
            OUT("\"%s\",\"%s\",\"8\",\"holiday\",\"\"\n", d, id);
        if (v == 3)
            OUT("\"%s-02-30\",\"%s\",\"8\",\"sick\",\"\"\n", yr, id);
        OUT("\"%s\",\"%s\",\"0\",\"other\",\"\"\n", d, id);
    case REC_EHR:
        if (x->reason == BAD_MALFORMED)
            OUT("%s,%s,8,95\n", id, d);
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT("%s,%s,8,95,30,\n", id, d);
            if (v == 1)
                OUT(",%s,8,95,30,12\n", d);
            OUT("%s,,8,95,30,12\n", id);
        }
        if (v == 0)
            OUT("%s,%s,8,-12,30,12\n", id, d);
        if (v == 1)
            OUT("%s,%s-02-30,8,95,30,12\n", id, yr);
        OUT("%s,%s,eight,95,30,12\n", id, d);
    case REC_TRAINING:
        if (x->reason == BAD_MALFORMED)
            OUT("ai-safety,%s\n", d);
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT(",%s,%s,88\n", d, id);
            if (v == 1)
                OUT("ai-safety,%s,,88\n", d);
            OUT("ai-safety,,%s,88\n", id);
        }
        if (v == 0)
            OUT("ai-safety,%s-02-30,%s,\n", yr, id);
        OUT("ai-literacy-101,31/01/%s,%s,\n", yr, id);
    case REC_LICENCE:
        if (x->reason == BAD_MALFORMED) {
            if (v == 0)
                OUT("chat-assistant,%s,%s\n", id, d);
            OUT("chat-assistant,%s,%s,,it-servicedesk,E5\n", id, d);
        }
        if (x->reason == BAD_MISSING_FIELD) {
            if (v == 0)
                OUT("chat-assistant,,%s,,it-servicedesk\n", d);
            if (v == 1)
                OUT(",%s,%s,,it-servicedesk\n", id, d);
            OUT("ambient-scribe,%s,  ,%s,it-servicedesk\n", id, d2);
        }
        if (v == 0)
            OUT("Chat Assistant,%s,%s,,it-servicedesk\n", id, d);
        if (v == 1)
            OUT("chat-assistant,%s,%s,%s,it-servicedesk\n", id, d2, d);
        if (v == 2)
            OUT("coding-assistant,%s,%s-02-30,,it-servicedesk\n", id, yr);
        OUT("imaging-triage,%s,31/01/%s,,it-servicedesk\n", id, yr);
    }
#undef OUT
    return 0;
}

void badplan_emit(struct badplan *b, struct emit *e, int type, int32_t at)
{
    char buf[512];
    while (b->next[type] < b->end[type] && b->slot[b->next[type]].at <= at) {
        const struct badslot *x = &b->slot[b->next[type]];
        struct rng r = rng_at(e->w->seed, RP_BAD, 1 + b->next[type], 0);
        size_t n = bad_text(e->w, x, &r, buf, sizeof buf);
        if (n >= sizeof buf)
            n = sizeof buf - 1;
        emit_bad(e, x->site, type, x->reason, buf, n);
        b->next[type]++;
    }
}
