/* tokens.c - loading and constant-time lookup of bearer tokens. */
#include "aggregator/tokens.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/strutil.h"
#include "common/tokfile.h"
#include "common/xalloc.h"

struct entry {
    char *id;
    char *token;
    size_t len;
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

/* Adds one line's entry; 1 with err written when the line is refused. */
static int on_line(void *ud, char *line, int lineno)
{
    struct load_ctx *c = ud;
    char *save, *a = strtok_r(line, " \t\r\n", &save);
    if (!a || a[0] == '#')
        return 0;
    char *b = c->with_ids ? strtok_r(NULL, " \t\r\n", &save) : NULL;
    if ((c->with_ids && (!b || !str_is_ident(a, strlen(a)))) || strtok_r(NULL, " \t\r\n", &save)) {
        snprintf(c->err, c->errlen, "%s:%d: expected \"%s\"", c->path, lineno,
                 c->with_ids ? "agent_id token" : "token");
        return 1;
    }
    /* The token says who the agent is: one token, one agent. */
    const char *owner = c->with_ids ? tokens_lookup(c->t, b, strlen(b)) : NULL;
    if (owner && strcmp(owner, a) != 0) {
        snprintf(c->err, c->errlen,
                 "%s:%d: agent %s has the token of agent %s; each agent needs its own token",
                 c->path, lineno, a, owner);
        return 1;
    }
    struct tokens *t = c->t;
    xgrow((void **)&t->e, &t->cap, t->n + 1, sizeof *t->e);
    struct entry *e = &t->e[t->n++];
    e->id = xstrdup(c->with_ids ? a : "");
    e->token = xstrdup(c->with_ids ? b : a);
    e->len = strlen(e->token);
    return 0;
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
