/* strtab.h - interning of labels (sites, departments, roles, tools) as small integers. */
#ifndef CADRE_STRTAB_H
#define CADRE_STRTAB_H

#include <stddef.h>
#include <stdint.h>

#include "common/hmap.h"

struct strtab {
    char **str; /* id -> NUL-terminated label, owned */
    size_t n, cap;
    struct hmap ids; /* label (keyed by str[id]) -> id + 1, cast to a pointer */
};

/* Returns the id of s (len bytes), adding it when new. */
uint32_t strtab_intern(struct strtab *t, const char *s, size_t len);
/* The id of s, or -1 when absent. */
int64_t strtab_find(const struct strtab *t, const char *s, size_t len);
void strtab_free(struct strtab *t);

#endif
