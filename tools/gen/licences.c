/* licences.c - seats of the AI tools: assigned before first use, idle ones, removed ones. */
#include "tools/gen/licences.h"

#include <stdint.h>
#include <string.h>

#include "tools/gen/rng.h"

/* One seat of a tool: its first day and its last (DAY_NONE while still assigned on --to). */
struct seat {
    int32_t from, to;
};

/* A run of days on which p is employed without a break (episodes that overlap or follow
 * each other day after day); end is DAY_NONE while ongoing. */
struct stint {
    int32_t start, end;
};

/* p's stints in order. Episodes are sorted by start. */
static int stints_of(const struct person *p, struct stint *out)
{
    int n = 0;
    for (int i = 0; i < p->nep; i++) {
        const struct episode *ep = &p->ep[i];
        if (n && (int64_t)ep->start <= (int64_t)out[n - 1].end + 1) {
            if (ep->end > out[n - 1].end)
                out[n - 1].end = ep->end;
            continue;
        }
        out[n++] = (struct stint){ep->start, ep->end};
    }
    return n;
}

/* The days of stint s on which days.c may have p log tool t, up to --to: adopted, not yet
 * lapsed, employed, and for chat adopted by the stint's end also the LINGER_DAYS after it
 * (a leaver's account). lo is not raised to --from: when use began before the range, so did
 * the seat. Sets *by_exit when the stint's end (not a lapse) closes the window. Returns 0
 * when empty. */
static int use_window(const struct world *w, const struct person *p, int t, const struct stint *s,
                      int32_t *lo, int32_t *hi, int *by_exit)
{
    if (p->adopt[t] == DAY_NONE)
        return 0;
    int64_t a = p->adopt[t] > s->start ? p->adopt[t] : s->start;
    int64_t stop = s->end == DAY_NONE ? INT64_MAX : (int64_t)s->end;
    if (t == TOOL_CHAT && s->end != DAY_NONE && p->adopt[t] <= s->end)
        stop += LINGER_DAYS;
    int64_t lapse = p->lapse[t] == DAY_NONE ? INT64_MAX : (int64_t)p->lapse[t] - 1;
    int64_t b = stop < lapse ? stop : lapse;
    *by_exit = stop <= lapse;
    if (b > w->to)
        b = w->to;
    if (a > b)
        return 0;
    *lo = (int32_t)a;
    *hi = (int32_t)b;
    return 1;
}

/* Whether p is employed on some day of [from, to] (to DAY_NONE: open). */
static int employed_within(const struct person *p, int32_t from, int32_t to)
{
    for (int i = 0; i < p->nep; i++)
        if (p->ep[i].start <= to && p->ep[i].end >= from)
            return 1;
    return 0;
}

/* p's seats of tool t into out (at most one per stint). A seat is assigned 1-14 days
 * (sometimes up to 120) before the first day of its window: usage of day d may be written
 * on d - 1 or d + 1 (night shifts, tools logging UTC), so a seat covers each window with a
 * day to spare on both sides. A window closed by an exit loses its seat 1-30 days later
 * (15 % keep it: nobody told IT), one closed by a lapse 30-120 days later half the time (the
 * others keep an idle seat); a removal after --to is not in the export yet. Windows of one
 * seat merge. */
static int used_seats(const struct world *w, const struct person *p, int t, const struct stint *st,
                      int nst, struct rng *r, struct seat *out)
{
    int n = 0;
    for (int k = 0; k < nst; k++) {
        int32_t lo, hi;
        int by_exit;
        if (!use_window(w, p, t, &st[k], &lo, &hi, &by_exit))
            continue;
        int32_t lead = 1 + (int32_t)(rng_chance(r, 0.7) ? rng_below(r, 14) : rng_below(r, 120));
        int32_t from = lo - lead, to = DAY_NONE;
        if (hi < w->to) {
            if (by_exit && rng_chance(r, 0.85))
                to = hi + rng_range(r, 1, 30);
            else if (!by_exit && rng_chance(r, 0.5))
                to = hi + rng_range(r, 30, 120);
            if (to != DAY_NONE && to > w->to)
                to = DAY_NONE;
        }
        struct seat *prev = n ? &out[n - 1] : NULL;
        if (prev && (prev->to == DAY_NONE || (int64_t)from <= (int64_t)prev->to + 1)) {
            if (prev->to != DAY_NONE)
                prev->to = to == DAY_NONE || to > prev->to ? to : prev->to;
            continue;
        }
        out[n++] = (struct seat){from, to};
    }
    return n;
}

/* An idle seat of tool t for someone who never logs it (chance by how well the tool fits
 * them, at most 30 %), assigned on a day of their first stint that reaches into the range
 * (or up to 180 days before it); 35 % are reclaimed 60-300 days later. Returns 0 or 1. */
static int idle_seat(const struct world *w, const struct person *p, int t, const struct stint *st,
                     int nst, struct rng *r, struct seat *out)
{
    for (int k = 0; k < nst; k++) {
        if (st[k].end < w->from || st[k].start > w->to)
            continue;
        const struct episode *ep = world_episode_on(p, st[k].start);
        double chance = ep ? 0.25 * world_tool_fit(t, ep) : 0;
        if (!rng_chance(r, chance < 0.3 ? chance : 0.3))
            return 0;
        int32_t lo = st[k].start > w->from - 180 ? st[k].start : w->from - 180;
        int32_t hi = st[k].end < w->to ? st[k].end : w->to;
        out->from = lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
        out->to = rng_chance(r, 0.35) ? out->from + rng_range(r, 60, 300) : DAY_NONE;
        if (out->to != DAY_NONE && out->to > w->to)
            out->to = DAY_NONE;
        return 1;
    }
    return 0;
}

static const char *const assigners[] = {
    "auto-provisioning",
    "it-servicedesk",
    "",
    "Okafor, Ngozi (CMIO office)",
};

/* Writes one seat as a vendor's admin export spells it: ids mostly as issued, some lower
 * case or padded; a tool now and then padded (quoted); an unknown assigned_by column; a
 * removed seat now and then listed first as still assigned (the later row wins). */
static void write_seat(struct emit *e, int site, uint32_t who, const char *id, int tool,
                       const struct seat *s, int matched, struct rng *r)
{
    char idbuf[32], toolbuf[80];
    size_t idlen = strlen(id);
    memcpy(idbuf, id, idlen + 1);
    uint32_t u = rng_below(r, 100);
    if (u < 3 && idbuf[0] >= 'A' && idbuf[0] <= 'Z') {
        idbuf[0] = (char)(idbuf[0] - 'A' + 'a');
    } else if (u < 5) {
        idbuf[0] = ' ';
        memcpy(idbuf + 1, id, idlen);
        idbuf[idlen + 1] = ' ';
        idbuf[idlen + 2] = '\0';
        idlen += 2;
    }
    const char *name = tool_names[tool];
    if (rng_chance(r, 0.01)) {
        size_t n = strlen(name);
        toolbuf[0] = ' ';
        memcpy(toolbuf + 1, name, n);
        toolbuf[n + 1] = ' ';
        toolbuf[n + 2] = '\0';
        name = toolbuf;
    }
    static const uint16_t by_w[4] = {50, 35, 10, 5};
    const char *by = assigners[rng_pick(r, by_w, 4)];
    if (s->to != DAY_NONE && rng_chance(r, 0.03))
        emit_licence(e, site, who, idbuf, idlen, name, tool, s->from, DAY_NONE, by, matched);
    emit_licence(e, site, who, idbuf, idlen, name, tool, s->from, s->to, by, matched);
}

void licences_write(const struct world *w, struct emit *e, struct badplan *bp)
{
    struct stint st[MAX_EP];
    struct seat seat[MAX_EP];
    for (uint32_t i = 0; i < w->nperson; i++) {
        badplan_emit(bp, e, REC_LICENCE, (int32_t)i);
        if (i == w->nperson / 2) /* one blank line in each file: readers skip it */
            for (int s = 0; s < w->nsites; s++)
                emit_blank(e, s, REC_LICENCE);
        keyset_clear(&e->keys);
        const struct person *p = &w->person[i];
        struct rng r = rng_at(w->seed, RP_LICENCE, i, 0);
        int nst = stints_of(p, st);
        for (int t = 0; t < TOOL_COUNT; t++) {
            int n = used_seats(w, p, t, st, nst, &r, seat);
            if (!n)
                n = idle_seat(w, p, t, st, nst, &r, seat);
            for (int k = 0; k < n; k++) {
                int site = world_site_of(p, seat[k].from);
                int matched = employed_within(p, seat[k].from, seat[k].to);
                write_seat(e, site, i, p->id, t, &seat[k], matched, &r);
            }
        }
    }
    /* Contractors, students and service accounts have seats too, from before the range and
     * never removed: no episode, so every one is unmatched. */
    for (uint32_t g = 0; g < w->nghost; g++) {
        const struct ghost *h = &w->ghost[g];
        struct rng r = rng_at(w->seed, RP_LICENCE, g, 1);
        struct seat s = {w->from - rng_range(&r, 1, 120), DAY_NONE};
        keyset_clear(&e->keys);
        write_seat(e, h->site, w->nperson + g, h->id, h->tool, &s, 0, &r);
    }
    badplan_emit(bp, e, REC_LICENCE, INT32_MAX);
}
