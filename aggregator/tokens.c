/* tokens.c - loading and constant-time lookup of bearer tokens. */
#include "aggregator/tokens.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strutil.h"
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

struct tokens *tokens_load(const char *path, int with_ids, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct tokens *t = xcalloc(1, sizeof *t);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *save, *a = strtok_r(line, " \t\r\n", &save);
        if (!a || a[0] == '#')
            continue;
        char *b = with_ids ? strtok_r(NULL, " \t\r\n", &save) : NULL;
        if ((with_ids && (!b || !str_is_ident(a, strlen(a)))) || strtok_r(NULL, " \t\r\n", &save)) {
            snprintf(err, errlen, "%s:%d: expected \"%s\"", path, lineno,
                     with_ids ? "agent_id token" : "token");
            goto fail;
        }
        /* The token says who the agent is: one token, one agent. */
        const char *owner = with_ids ? tokens_lookup(t, b, strlen(b)) : NULL;
        if (owner && strcmp(owner, a) != 0) {
            snprintf(err, errlen,
                     "%s:%d: agent %s has the token of agent %s; each agent needs its own token",
                     path, lineno, a, owner);
            goto fail;
        }
        xgrow((void **)&t->e, &t->cap, t->n + 1, sizeof *t->e);
        struct entry *e = &t->e[t->n++];
        e->id = xstrdup(with_ids ? a : "");
        e->token = xstrdup(with_ids ? b : a);
        e->len = strlen(e->token);
    }
    fclose(f);
    free(line);
    return t;
fail:
    fclose(f);
    free(line);
    tokens_free(t);
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
