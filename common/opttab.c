/* opttab.c - applying, checking, freeing and printing declarative INI option tables. */
#include "common/opttab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/decimal.h"
#include "common/strutil.h"
#include "common/xalloc.h"

static bool is_string_kind(enum opt_kind k)
{
    return k == OPT_STR || k == OPT_NONEMPTY || k == OPT_IDENT || k == OPT_URL || k == OPT_LISTEN;
}

static void set_str(char **dst, const char *v)
{
    xfree(*dst);
    *dst = *v ? xstrdup(v) : NULL;
}

static void free_list(char ***list)
{
    if (!*list)
        return;
    for (char **p = *list; *p; p++)
        xfree(*p);
    xfree(*list);
    *list = NULL;
}

/* Comma-separated items, trimmed, empty ones dropped; an empty list is one NULL. */
static char **parse_list(const char *v)
{
    size_t n = 0, cap = 0;
    char **list = NULL;
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        size_t il = l;
        str_trim(&item, &il);
        if (il) {
            xgrow((void **)&list, &cap, n + 2, sizeof *list);
            list[n++] = xstrndup(item, il);
        }
        p += l + (comma ? 1 : 0);
    }
    if (!list)
        list = xcalloc(1, sizeof *list);
    list[n] = NULL;
    return list;
}

static int parse_bool(const char *v, bool *out)
{
    size_t len = strlen(v);
    if (str_ieq(v, len, "true") || str_ieq(v, len, "yes") || str_ieq(v, len, "on") ||
        strcmp(v, "1") == 0)
        *out = true;
    else if (str_ieq(v, len, "false") || str_ieq(v, len, "no") || str_ieq(v, len, "off") ||
             strcmp(v, "0") == 0)
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int parse_listen(const char *v)
{
    const char *colon = strrchr(v, ':');
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon[1] == '\0' || *end || port < 1 || port > 65535)
        return -EINVAL;
    return 0;
}

/* "must be a, b or c" for the names of a choice row. */
static void choice_why(const struct opt_choice *c, char *buf, size_t len)
{
    snprintf(buf, len, "must be");
    for (size_t i = 0; c[i].name; i++) {
        const char *sep = i == 0 ? " " : c[i + 1].name ? ", " : " or ";
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", sep, c[i].name);
    }
}

/* Sets the field; 0, or -EINVAL with *why pointing at a static text or into whybuf. */
static int set_field(const struct opt *o, void *obj, const char *v, const char **why, char *whybuf,
                     size_t whylen)
{
    char *base = (char *)obj + o->off;
    size_t len = strlen(v);
    switch (o->kind) {
    case OPT_STR: set_str((char **)base, v); return 0;
    case OPT_NONEMPTY:
        if (!len) {
            *why = "must not be empty";
            return -EINVAL;
        }
        set_str((char **)base, v);
        return 0;
    case OPT_IDENT:
        if (!str_is_ident(v, len)) {
            *why = "must be 1 to 64 characters of [a-z0-9._-]";
            return -EINVAL;
        }
        set_str((char **)base, v);
        return 0;
    case OPT_URL:
        if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
            *why = "must start with http:// or https://";
            return -EINVAL;
        }
        set_str((char **)base, v);
        for (char *p = *(char **)base; len && p[len - 1] == '/'; len--)
            p[len - 1] = '\0';
        return 0;
    case OPT_LISTEN:
        if (len && strcmp(v, "off") && parse_listen(v)) {
            *why = "must be host:port or off";
            return -EINVAL;
        }
        set_str((char **)base, strcmp(v, "off") ? v : "");
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (end == v || *end || errno || n < o->min || n > o->max) {
            snprintf(whybuf, whylen, "must be a whole number from %lld to %lld", (long long)o->min,
                     (long long)o->max);
            *why = whybuf;
            return -EINVAL;
        }
        *(int64_t *)base = n;
        return 0;
    }
    case OPT_BYTES: {
        uint64_t b;
        if (str_parse_size(v, &b) || b < (uint64_t)o->min || b > (uint64_t)o->max) {
            *why = "must be a size (suffixes KiB, MiB, GiB)";
            return -EINVAL;
        }
        *(uint64_t *)base = b;
        return 0;
    }
    case OPT_DEC: {
        int64_t m;
        if (decimal_parse(v, len, &m) || m < o->min || m > o->max) {
            *why = "must be a decimal number in range";
            return -EINVAL;
        }
        *(int64_t *)base = m;
        return 0;
    }
    case OPT_BOOL:
        if (parse_bool(v, (bool *)base)) {
            *why = "must be true or false";
            return -EINVAL;
        }
        return 0;
    case OPT_CHOICE:
        for (const struct opt_choice *c = o->choices; c->name; c++) {
            if (strcmp(v, c->name) == 0) {
                *(int *)base = c->value;
                return 0;
            }
        }
        choice_why(o->choices, whybuf, whylen);
        *why = whybuf;
        return -EINVAL;
    case OPT_LIST:
        free_list((char ***)base);
        *(char ***)base = parse_list(v);
        return 0;
    case OPT_FUNC: return o->set(obj, v, why);
    }
    return -EINVAL;
}

int opttab_set_value(const struct opt *o, void *obj, const char *value, char *err, size_t errlen)
{
    char whybuf[160];
    const char *why = "is invalid";
    if (!set_field(o, obj, value, &why, whybuf, sizeof whybuf))
        return 0;
    snprintf(err, errlen, "%s %s", o->key, o->why ? o->why : why);
    return -EINVAL;
}

int opttab_defaults(const struct opt *rows, void *obj)
{
    char err[256];
    for (const struct opt *o = rows; o->key; o++)
        if (o->def && opttab_set_value(o, obj, o->def, err, sizeof err))
            return -EINVAL;
    return 0;
}

const struct opt *opttab_find(const struct opt *rows, const char *key)
{
    for (const struct opt *o = rows; o->key; o++)
        if (strcmp(o->key, key) == 0)
            return o;
    return NULL;
}

int opttab_set(const struct opttab *t, void *obj, struct opttab_seen *seen, const char *key,
               const char *value, int line, char *err, size_t errlen)
{
    const struct opt *o = opttab_find(t->rows, key);
    if (!o) {
        snprintf(err, errlen, "unknown key '%s' in [%s]", key, t->section);
        return -ENOENT;
    }
    size_t i = (size_t)(o - t->rows);
    if (i >= OPTTAB_MAX_ROWS)
        return -EINVAL; /* a table too long for struct opttab_seen: the unit tests catch it */
    if (seen->line[i]) {
        if (t->repeat_cites_first)
            snprintf(err, errlen, "key '%s' repeated in [%s] (first on line %d)", key, t->section,
                     seen->line[i]);
        else
            snprintf(err, errlen, "key '%s' repeated in [%s]", key, t->section);
        return -EEXIST;
    }
    seen->line[i] = line;
    return opttab_set_value(o, obj, value, err, errlen);
}

int opttab_check_required(const struct opttab *t, const void *obj, const char *path, char *err,
                          size_t errlen)
{
    for (const struct opt *o = t->rows; o->key; o++) {
        if (!o->required || !(is_string_kind(o->kind) || o->kind == OPT_LIST))
            continue;
        if (!*(void *const *)((const char *)obj + o->off)) {
            snprintf(err, errlen, "%s: [%s] %s is required", path, t->section, o->key);
            return -EINVAL;
        }
    }
    return 0;
}

void opttab_free(const struct opt *rows, void *obj)
{
    for (const struct opt *o = rows; o->key; o++) {
        char *base = (char *)obj + o->off;
        if (is_string_kind(o->kind)) {
            xfree(*(char **)base);
            *(char **)base = NULL;
        } else if (o->kind == OPT_LIST) {
            free_list((char ***)base);
        }
    }
}

void opttab_print_rows(FILE *f, const struct opt *rows)
{
    for (const struct opt *o = rows; o->key; o++)
        fprintf(f, "    %-26s %-18s %s%s\n", o->key, o->def ? o->def : "", o->help,
                o->required ? " (required)" : "");
}

void opttab_print_help(FILE *f, const struct opttab *t)
{
    fprintf(f, "  [%s]\n", t->section);
    opttab_print_rows(f, t->rows);
}
