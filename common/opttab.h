/* opttab.h - declarative INI option tables: one row per key, one parser, one help printer. */
#ifndef CADRE_OPTTAB_H
#define CADRE_OPTTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Most rows one table may hold (the size of struct opttab_seen). */
#define OPTTAB_MAX_ROWS 64

/* What a key holds and where (the field at the row's offset). */
enum opt_kind {
    OPT_STR,      /* char *: any text; empty leaves it NULL */
    OPT_NONEMPTY, /* char *: any text but the empty one */
    OPT_IDENT,    /* char *: [a-z0-9._-]{1,64} */
    OPT_URL,      /* char *: starts http:// or https://; trailing '/' are dropped */
    OPT_LISTEN,   /* char *: host:port (port 1 to 65535); "off" or empty leaves it NULL */
    OPT_INT,      /* int64_t: a whole number in [min, max] */
    OPT_BYTES,    /* uint64_t: a size with optional KiB, MiB or GiB, in [min, max] */
    OPT_DEC,      /* int64_t: a decimal number in millionths, in [min, max] */
    OPT_BOOL,     /* bool: true, yes, on, 1 / false, no, off, 0 (words in any case) */
    OPT_CHOICE,   /* int: the value of the row's choice named by the text */
    OPT_LIST,     /* char **: comma-separated items, trimmed, empty ones dropped; NULL-ended */
    OPT_FUNC,     /* whatever the row's set callback keeps */
};

/* One accepted word of an OPT_CHOICE row and the int it stores. */
struct opt_choice {
    const char *name;
    int value;
};

/* One key. Tables are arrays ending with a row whose key is NULL. */
struct opt {
    const char *key;
    enum opt_kind kind;
    const char *def;  /* default as text, applied by opttab_defaults; NULL = none */
    size_t off;       /* offsetof the field in the struct the table fills */
    int64_t min, max; /* OPT_INT, OPT_BYTES, OPT_DEC (in millionths) */
    bool required;    /* string kinds: must end up set (see opttab_check_required) */
    const char *help; /* one line for --help */
    const struct opt_choice *choices; /* OPT_CHOICE: ends with a NULL name */
    const char *why; /* replaces the kind's "must be ..." text in errors, when set */
    /* OPT_FUNC: sets obj from value; 0, or -EINVAL with *why ("must be ..."). */
    int (*set)(void *obj, const char *value, const char **why);
};

/* The keys of one INI section. */
struct opttab {
    const char *section;     /* "agent": messages and help say [agent] */
    const struct opt *rows;  /* ends with a row whose key is NULL */
    bool repeat_cites_first; /* a repeated key's message ends "(first on line N)" */
};

/* The line on which each row of a table was set while reading one file; zero it first. */
struct opttab_seen {
    int line[OPTTAB_MAX_ROWS]; /* 0 = not yet */
};

/* Sets every row of rows that has a default, on obj. Returns 0, or -EINVAL when a
 * default is refused by its own row (a bug in the table). */
int opttab_defaults(const struct opt *rows, void *obj);

/* The row of rows for key, or NULL. */
const struct opt *opttab_find(const struct opt *rows, const char *key);

/* Sets the field of row o on obj from value. Returns 0, or -EINVAL with "KEY must be ..."
 * in err; obj's field is then unchanged unless it is a list or OPT_FUNC. A string or list
 * replaced is freed. Thread-safe for distinct objs. */
int opttab_set_value(const struct opt *o, void *obj, const char *value, char *err, size_t errlen);

/* Sets key of t's section, read on line, on obj, noting the line in seen. Returns 0;
 * -ENOENT for a key not in t ("unknown key 'K' in [S]"); -EEXIST for a key seen before
 * ("key 'K' repeated in [S]", and "(first on line N)" when t says so); -EINVAL for a
 * refused value ("K must be ..."). The message goes to err without path or line. */
int opttab_set(const struct opttab *t, void *obj, struct opttab_seen *seen, const char *key,
               const char *value, int line, char *err, size_t errlen);

/* Checks the required rows of t on obj: the first whose field is still NULL gives -EINVAL
 * with "PATH: [S] K is required" in err. Returns 0 when all are set. */
int opttab_check_required(const struct opttab *t, const void *obj, const char *path, char *err,
                          size_t errlen);

/* Frees the strings and lists that rows keep on obj and sets them to NULL (OPT_FUNC
 * fields are the caller's). Safe to call twice. */
void opttab_free(const struct opt *rows, void *obj);

/* Prints "    KEY DEFAULT HELP" for each row, " (required)" after required ones. */
void opttab_print_rows(FILE *f, const struct opt *rows);

/* Prints "  [SECTION]" and then t's rows as opttab_print_rows does. */
void opttab_print_help(FILE *f, const struct opttab *t);

#endif
