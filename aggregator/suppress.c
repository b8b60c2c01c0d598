/* suppress.c - small-group suppression: primary, complementary and linked (docs/privacy.md).
 *
 * Primary: a cell whose person count is below min_group_size. Complementary: a breakdown
 * other than org with exactly one suppressed cell loses its next smallest cell. Linked: a
 * nested site (each of its departments has all its staff-days of W there) is the sum of
 * its department cells, so a published nested site with exactly one suppressed department
 * loses the next smallest department (or, with none left, the site cell); a suppressed
 * nested site whose departments are all published loses its smallest department. Rounds
 * run until one adds nothing. Primary also takes cells that one person dominates (the
 * family marks them, kpi_cells.h). Last, a KPI that is not a sum (KPI_SUPPRESS_FOLLOW)
 * takes no complementary or linked rule: its cell goes when the cell it follows is
 * suppressed.
 */
#include <string.h>

#include "aggregator/suppress.h"
#include "exporters/kpi_catalogue.h"
#include "common/xalloc.h"

#define NONE (-1)
#define MANY (-2)

struct seg_ctx {
    int64_t *dept_site; /* per department: its one site, NONE or MANY */
    uint8_t *site_dept; /* nsites x ndepts: the department has staff-days at the site */
    size_t ndepts;
};

static void on_segment(void *ud, int32_t from, int32_t to, const struct episode *ep)
{
    (void)from;
    (void)to;
    struct seg_ctx *c = ud;
    int64_t *ds = &c->dept_site[ep->dept];
    if (*ds == NONE)
        *ds = ep->site;
    else if (*ds != (int64_t)ep->site)
        *ds = MANY;
    c->site_dept[(size_t)ep->site * c->ndepts + ep->dept] = 1;
}

/* Is a row better (smaller) as the next cell to suppress: person count, then group name. */
static int smaller(const struct kpi_row *a, const struct kpi_row *b)
{
    if (!b)
        return 1;
    if (a->persons != b->persons)
        return a->persons < b->persons;
    return strcmp(a->group, b->group) < 0;
}

/* Whether the KPI takes the complementary and linked rules (its cells are sums). */
static bool sums(const char *kpi)
{
    const struct kpi_def *d = kpi_catalogue_find(kpi);
    return !d || d->suppression == KPI_SUPPRESS_CELLS;
}

/* Complementary rule on every breakdown but org; returns cells suppressed. */
static size_t complementary(struct kpi_table *t)
{
    size_t added = 0;
    for (size_t i = 0; i < t->n;) {
        size_t j = i;
        while (j < t->n && strcmp(t->rows[j].kpi, t->rows[i].kpi) == 0 &&
               strcmp(t->rows[j].by, t->rows[i].by) == 0)
            j++;
        if (strcmp(t->rows[i].by, "org") != 0 && sums(t->rows[i].kpi)) {
            size_t nsup = 0;
            struct kpi_row *next = NULL;
            for (size_t k = i; k < j; k++) {
                if (t->rows[k].suppressed)
                    nsup++;
                else if (smaller(&t->rows[k], next))
                    next = &t->rows[k];
            }
            if (nsup == 1 && next) {
                next->suppressed = true;
                added++;
            }
        }
        i = j;
    }
    return added;
}

/* Linked rule for the KPI of row i and the nested sites; returns cells suppressed. */
static size_t linked(struct kpi_table *t, size_t i, const struct kpi_model *m,
                     const struct seg_ctx *c, const uint8_t *nested)
{
    size_t added = 0;
    for (size_t s = 0; s < m->sites.n; s++) {
        if (!nested[s])
            continue;
        const struct kpi_row *site =
            kpi_table_find(t, t->rows[i].kpi, t->rows[i].window, "site", m->sites.str[s]);
        if (!site)
            continue;
        size_t nsup = 0, npub = 0;
        struct kpi_row *smallest_pub = NULL;
        for (size_t d = 0; d < c->ndepts; d++) {
            if (!c->site_dept[s * c->ndepts + d])
                continue;
            struct kpi_row *r = (struct kpi_row *)kpi_table_find(
                t, t->rows[i].kpi, t->rows[i].window, "department", m->depts.str[d]);
            if (!r)
                continue;
            if (r->suppressed) {
                nsup++;
            } else {
                npub++;
                if (smaller(r, smallest_pub))
                    smallest_pub = r;
            }
        }
        if (!site->suppressed && nsup == 1) {
            if (smallest_pub)
                smallest_pub->suppressed = true;
            else
                ((struct kpi_row *)site)->suppressed = true;
            added++;
        } else if (site->suppressed && nsup == 0 && smallest_pub) {
            smallest_pub->suppressed = true;
            added++;
        }
    }
    return added;
}

void suppress_window(const struct kpi_window *w)
{
    struct kpi_table *t = w->t;
    const struct kpi_model *m = w->m;
    /* Primary. Rows are sorted, so the catalogue is looked up once per KPI. */
    const struct kpi_def *def = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (!def || strcmp(def->name, t->rows[i].kpi) != 0)
            def = kpi_catalogue_find(t->rows[i].kpi);
        if ((t->rows[i].persons < w->p->min_group_size &&
             (!def || def->suppression != KPI_SUPPRESS_NEVER)) ||
            t->rows[i].dominated)
            t->rows[i].suppressed = true;
    }

    /* Which sites are nested in W, and which departments they hold. */
    struct seg_ctx c = {.ndepts = m->depts.n};
    c.dept_site = xmalloc((m->depts.n + 1) * sizeof *c.dept_site);
    for (size_t d = 0; d < m->depts.n; d++)
        c.dept_site[d] = NONE;
    c.site_dept = xcalloc(m->sites.n * m->depts.n + 1, 1);
    for (uint32_t pi = 0; pi < m->npersons; pi++)
        kpi_segments(&m->persons[pi], w->s, w->e, on_segment, &c);
    uint8_t *nested = xcalloc(m->sites.n + 1, 1);
    for (size_t s = 0; s < m->sites.n; s++) {
        int any = 0, all = 1;
        for (size_t d = 0; d < m->depts.n; d++) {
            if (!c.site_dept[s * m->depts.n + d])
                continue;
            any = 1;
            if (c.dept_site[d] != (int64_t)s)
                all = 0;
        }
        nested[s] = (uint8_t)(any && all);
    }

    for (;;) {
        size_t added = complementary(t);
        for (size_t i = 0; i < t->n;) {
            size_t j = i;
            while (j < t->n && strcmp(t->rows[j].kpi, t->rows[i].kpi) == 0)
                j++;
            if (sums(t->rows[i].kpi))
                added += linked(t, i, m, &c, nested);
            i = j;
        }
        if (!added)
            break;
    }
    /* Cells that follow another KPI's cell, now that those are final. */
    def = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct kpi_row *r = &t->rows[i];
        if (!def || strcmp(def->name, r->kpi) != 0)
            def = kpi_catalogue_find(r->kpi);
        if (!def || def->suppression != KPI_SUPPRESS_FOLLOW || r->suppressed)
            continue;
        const struct kpi_row *f = kpi_table_find(t, def->follows, r->window, r->by, r->group);
        if (!f || f->suppressed)
            r->suppressed = true;
    }
    xfree(c.dept_site);
    xfree(c.site_dept);
    xfree(nested);
}
