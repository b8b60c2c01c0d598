/* tokens.c - loading and constant-time lookup of bearer tokens. */
#include "aggregator/tokens.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/reckey.h"
#include "common/sbuf.h"
#include "common/strutil.h"
#include "common/tokfile.h"
#include "common/xalloc.h"

struct entry {
    char *id;
    char *token;
    size_t len;
    char *opts;                 /* the line's options as written, "" for none: compared */
    struct ingest_scope *scope; /* NULL: none */
};

struct tokens {
    struct entry *e;
    size_t n, cap;
};

/* Reading state of tokens_load. */
struct load_ctx {
    struct tokens *t;
    const char *path;
    int with_ids;
    char *err;
    size_t errlen;
};

/* Splits a comma-separated value into a NULL-terminated list of copies. */
static char **split_list(const char *v)
{
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == ',';
    char **l = xcalloc(n + 1, sizeof *l), *copy = xstrdup(v), *save, *w;
    size_t k = 0;
    for (w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
        l[k++] = xstrdup(w);
    xfree(copy);
    return l;
}

static void free_list(char **l)
{
    for (char **p = l; p && *p; p++)
        xfree(*p);
    xfree(l);
}

static void scope_free(struct ingest_scope *s)
{
    if (!s)
        return;
    free_list((char **)s->sites);
    free_list((char **)s->inherits);
    xfree(s);
}

/* Parses "types=..", "sites=..", "inherits=.." words into *out (NULL when there are none).
 * Returns 0, or 1 with err written. */
static int parse_scope(struct load_ctx *c, int lineno, char *save, struct ingest_scope **out,
                       char **opts)
{
    struct ingest_scope *s = xcalloc(1, sizeof *s);
    struct sbuf all = {0};
    int any = 0;
    for (char *w; (w = strtok_r(NULL, " \t\r\n", &save));) {
        char *eq = strchr(w, '=');
        if (!eq || !eq[1]) {
            snprintf(c->err, c->errlen, "%s:%d: expected key=value after the token, not '%.40s'",
                     c->path, lineno, w);
            goto fail;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(w, "types") == 0 && !s->types) {
            char **l = split_list(v);
            for (char **p = l; *p; p++) {
                int t = REC_TYPE_MIN;
                while (t <= REC_TYPE_MAX && strcmp(rec_type_name(t), *p))
                    t++;
                if (t > REC_TYPE_MAX) {
                    snprintf(c->err, c->errlen,
                             "%s:%d: types: '%.40s' is not usage, staffing, shifts, absences, "
                             "ehr or training",
                             c->path, lineno, *p);
                    free_list(l);
                    goto fail;
                }
                s->types |= 1u << t;
            }
            free_list(l);
        } else if (strcmp(w, "sites") == 0 && !s->sites) {
            s->sites = (const char *const *)split_list(v);
        } else if (strcmp(w, "inherits") == 0 && !s->inherits) {
            s->inherits = (const char *const *)split_list(v);
            for (const char *const *p = s->inherits; *p; p++)
                if (!str_is_ident(*p, strlen(*p))) {
                    snprintf(c->err, c->errlen, "%s:%d: inherits: '%.64s' is not an agent id",
                             c->path, lineno, *p);
                    goto fail;
                }
        } else {
            snprintf(c->err, c->errlen,
                     "%s:%d: unknown or repeated option '%.40s' (types, sites, inherits)", c->path,
                     lineno, w);
            goto fail;
        }
        sbuf_printf(&all, "%s%s=%s", any ? " " : "", w, v);
        any = 1;
    }
    if (s->sites && !(s->types & (1u << REC_STAFFING))) {
        snprintf(c->err, c->errlen, "%s:%d: sites needs types=staffing (only staffing has a site)",
                 c->path, lineno);
        goto fail;
    }
    *opts = any ? sbuf_take(&all, NULL) : xstrdup("");
    *out = any ? s : NULL;
    if (!any)
        scope_free(s);
    return 0;
fail:
    sbuf_free(&all);
    scope_free(s);
    return 1;
}

/* Adds one line's entry; 1 with err written when the line is refused. */
static int on_line(void *ud, char *line, int lineno)
{
    struct load_ctx *c = ud;
    char *save, *a = strtok_r(line, " \t\r\n", &save);
    if (!a || a[0] == '#')
        return 0;
    char *b = c->with_ids ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    if ((c->with_ids && (!b || !str_is_ident(a, strlen(a)))) ||
        (!c->with_ids && strtok_r(NULL, " \t\r\n", &save))) {
        snprintf(c->err, c->errlen, "%s:%d: expected \"%s\"", c->path, lineno,
                 c->with_ids ? "agent_id token [types=..] [sites=..] [inherits=..]" : "token");
        return 1;
    }
    struct ingest_scope *scope = NULL;
    char *opts = NULL;
    if (c->with_ids && parse_scope(c, lineno, save, &scope, &opts))
        return 1;
    if (c->with_ids) { /* one agent, one scope */
        for (size_t i = 0; i < c->t->n; i++) {
            if (strcmp(c->t->e[i].id, a) == 0 && strcmp(c->t->e[i].opts, opts) != 0) {
                snprintf(c->err, c->errlen,
                         "%s:%d: agent %s is given another scope than on an earlier line", c->path,
                         lineno, a);
                scope_free(scope);
                xfree(opts);
                return 1;
            }
        }
    }
    /* The token says who the agent is: one token, one agent. */
    const char *owner = c->with_ids ? tokens_lookup(c->t, b, strlen(b)) : NULL;
    if (owner && strcmp(owner, a) != 0) {
        snprintf(c->err, c->errlen,
                 "%s:%d: agent %s has the token of agent %s; each agent needs its own token",
                 c->path, lineno, a, owner);
        scope_free(scope);
        xfree(opts);
        return 1;
    }
    struct tokens *t = c->t;
    xgrow((void **)&t->e, &t->cap, t->n + 1, sizeof *t->e);
    struct entry *e = &t->e[t->n++];
    e->id = xstrdup(c->with_ids ? a : "");
    e->token = xstrdup(c->with_ids ? b : a);
    e->len = strlen(e->token);
    e->opts = opts ? opts : xstrdup("");
    e->scope = scope;
    return 0;
}

const struct ingest_scope *tokens_scope(const struct tokens *t, const char *id)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (strcmp(t->e[i].id, id) == 0)
            return t->e[i].scope;
    return NULL;
}

struct tokens *tokens_load(const char *path, int with_ids, char *err, size_t errlen)
{
    struct load_ctx c = {.t = xcalloc(1, sizeof *c.t),
                         .path = path,
                         .with_ids = with_ids,
                         .err = err,
                         .errlen = errlen};
    int rc = tokfile_each_line(path, on_line, &c);
    if (rc > 0)
        goto fail; /* on_line wrote err */
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot %s: %s", path, rc == -EIO ? "read" : "open",
                 strerror(-rc));
        goto fail;
    }
    return c.t;
fail:
    tokens_free(c.t);
    return NULL;
}

int tokens_load_files(const char *agents_path, const char *readers_path, struct tokens **agents,
                      struct tokens **readers, char *err, size_t errlen)
{
    *readers = NULL;
    if (!(*agents = tokens_load(agents_path, 1, err, errlen)))
        return -EINVAL;
    if (readers_path && !(*readers = tokens_load(readers_path, 0, err, errlen))) {
        tokens_free(*agents);
        *agents = NULL;
        return -EINVAL;
    }
    return 0;
}

void tokens_free(struct tokens *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        xfree(t->e[i].id);
        xfree(t->e[i].token);
        xfree(t->e[i].opts);
        scope_free(t->e[i].scope);
    }
    xfree(t->e);
    xfree(t);
}

const char *tokens_lookup(const struct tokens *t, const char *token, size_t len)
{
    const char *found = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct entry *e = &t->e[i];
        unsigned char diff = e->len != len;
        for (size_t k = 0; k < len; k++)
            diff |= (unsigned char)(token[k] ^ e->token[k < e->len ? k : 0]);
        if (!diff && !found)
            found = e->id;
    }
    return found;
}
