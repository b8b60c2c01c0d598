/* tokens_test.c - token files: the first-line token, line iteration and the tokens lists. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "aggregator/tokens.h"
#include "common/tokfile.h"
#include "common/xalloc.h"
#include "exporters/remote_write.h"

struct fx {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cadre-tokens-test.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/tok", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    xfree(f);
    return 0;
}

static void write_bytes(const struct fx *f, const char *text, size_t len)
{
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    fclose(fp);
}

static void write_text(const struct fx *f, const char *text)
{
    write_bytes(f, text, strlen(text));
}

static void test_read_token(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text;
        int rc;          /* of tokfile_read_token */
        const char *tok; /* when rc == 0 */
    } cases[] = {
        {"abc\n", 0, "abc"},
        {"abc", 0, "abc"},
        {"  abc \r\nsecond\n", 0, "abc"},
        {"\tA-b.c_~9\r\n", 0, "A-b.c_~9"},
        {"\nabc\n", -ENODATA, NULL},
        {"", -ENODATA, NULL},
        {" \t\r\n", -ENODATA, NULL},
        {"ab c\n", -EILSEQ, NULL},
        {"ab\rc\n", -EILSEQ, NULL},
        {"caf\xc3\xa9\n", -EILSEQ, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(f, cases[i].text);
        char *tok = NULL;
        assert_int_equal(tokfile_read_token(f->path, &tok), cases[i].rc);
        if (cases[i].tok) {
            assert_string_equal(tok, cases[i].tok);
            xfree(tok);
        } else {
            assert_null(tok);
        }
    }
    /* TOKFILE_MAX_LINE bytes are read, one more is refused (with or without '\n'). */
    char big[TOKFILE_MAX_LINE + 3];
    memset(big, 'k', sizeof big);
    big[TOKFILE_MAX_LINE] = '\n';
    write_bytes(f, big, TOKFILE_MAX_LINE + 1);
    char *tok = NULL;
    assert_int_equal(tokfile_read_token(f->path, &tok), 0);
    assert_int_equal(strlen(tok), TOKFILE_MAX_LINE);
    xfree(tok);
    write_bytes(f, big, TOKFILE_MAX_LINE);
    assert_int_equal(tokfile_read_token(f->path, &tok), 0);
    xfree(tok);
    big[TOKFILE_MAX_LINE] = 'k';
    big[TOKFILE_MAX_LINE + 1] = '\n';
    write_bytes(f, big, TOKFILE_MAX_LINE + 2);
    tok = NULL;
    assert_int_equal(tokfile_read_token(f->path, &tok), -E2BIG);
    write_bytes(f, big, TOKFILE_MAX_LINE + 1);
    assert_int_equal(tokfile_read_token(f->path, &tok), -E2BIG);
    assert_null(tok);
    unlink(f->path);
    assert_int_equal(tokfile_read_token(f->path, &tok), -ENOENT);
}

/* The agent's and remote_write's messages for the same files. */
static void test_token_messages(void **state)
{
    struct fx *f = *state;
    char err[512], want[512];
    char *tok = NULL;
    static const struct {
        const char *text;
        int agent_rc, rw_rc;
        const char *agent_msg, *rw_msg; /* after "token_file PATH: " / "PATH: " */
    } cases[] = {
        {"\n", -EINVAL, -EINVAL, "first line is empty", "the first line holds no token"},
        {"a b\n", -EINVAL, -EINVAL, "token holds a character not allowed in a header",
         "the token holds a character not allowed in a header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        write_text(f, cases[i].text);
        assert_int_equal(agent_read_token(f->path, &tok, err, sizeof err), cases[i].agent_rc);
        snprintf(want, sizeof want, "token_file %s: %s", f->path, cases[i].agent_msg);
        assert_string_equal(err, want);
        assert_int_equal(rw_read_token(f->path, &tok, err, sizeof err), cases[i].rw_rc);
        snprintf(want, sizeof want, "%s: %s", f->path, cases[i].rw_msg);
        assert_string_equal(err, want);
        assert_null(tok);
    }
    char big[TOKFILE_MAX_LINE + 2];
    memset(big, 'k', sizeof big);
    write_bytes(f, big, sizeof big);
    assert_int_equal(rw_read_token(f->path, &tok, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s: the first line is longer than 4095 bytes", f->path);
    assert_string_equal(err, want);
    assert_int_equal(agent_read_token(f->path, &tok, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "token_file %s: first line is longer than 4095 bytes", f->path);
    assert_string_equal(err, want);
    unlink(f->path);
    assert_int_equal(agent_read_token(f->path, &tok, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "token_file %s: cannot open: No such file or directory", f->path);
    assert_string_equal(err, want);
    assert_int_equal(rw_read_token(f->path, &tok, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "%s: No such file or directory", f->path);
    assert_string_equal(err, want);
}

struct seen_lines {
    char text[8][32];
    int lineno[8];
    int n, stop_at;
};

static int collect(void *ud, char *line, int lineno)
{
    struct seen_lines *s = ud;
    snprintf(s->text[s->n], sizeof s->text[0], "%s", line);
    s->lineno[s->n++] = lineno;
    return lineno == s->stop_at ? 42 : 0;
}

static void test_each_line(void **state)
{
    struct fx *f = *state;
    write_bytes(f, "one\r\n\ntwo \nthr\0ee\nlast", 23);
    struct seen_lines s = {.stop_at = -1};
    assert_int_equal(tokfile_each_line(f->path, collect, &s), 0);
    assert_int_equal(s.n, 5);
    static const char *const want[] = {"one", "", "two ", "thr", "last"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(s.text[i], want[i]);
        assert_int_equal(s.lineno[i], i + 1);
    }
    struct seen_lines s2 = {.stop_at = 2};
    assert_int_equal(tokfile_each_line(f->path, collect, &s2), 42);
    assert_int_equal(s2.n, 2);
    unlink(f->path);
    assert_int_equal(tokfile_each_line(f->path, collect, &s2), -ENOENT);
}

static void test_tokens_load(void **state)
{
    struct fx *f = *state;
    char err[512] = "", want[512];
    write_text(f, "# agents\n"
                  "north-1 tok-n1\n"
                  "\n"
                  "  south-2\ttok-s2  \r\n"
                  "north-1 tok-n1\n"
                  "north-1 tok-n1b\n");
    struct tokens *t = tokens_load(f->path, 1, err, sizeof err);
    assert_non_null(t);
    assert_string_equal(tokens_lookup(t, "tok-n1", 6), "north-1");
    assert_string_equal(tokens_lookup(t, "tok-n1b", 7), "north-1");
    assert_string_equal(tokens_lookup(t, "tok-s2", 6), "south-2");
    assert_null(tokens_lookup(t, "tok-s", 5));
    assert_null(tokens_lookup(t, "tok-s22", 7));
    assert_null(tokens_lookup(t, "#", 1));
    tokens_free(t);

    /* One token, two agents: refused, naming both. */
    write_text(f, "a1 same\nb2 other\nc3 same\n");
    assert_null(tokens_load(f->path, 1, err, sizeof err));
    snprintf(want, sizeof want,
             "%s:3: agent c3 has the token of agent a1; each agent needs its own token", f->path);
    assert_string_equal(err, want);

    static const struct {
        const char *text;
        int with_ids, line;
    } bad[] = {
        {"a1\n", 1, 1},
        {"\nBad t1\n", 1, 2},
        {"r1\nr2 r3\n", 0, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_text(f, bad[i].text);
        assert_null(tokens_load(f->path, bad[i].with_ids, err, sizeof err));
        snprintf(want, sizeof want, "%s:%d: expected \"%s\"", f->path, bad[i].line,
                 bad[i].with_ids ? "agent_id token [types=..] [sites=..] [inherits=..]" : "token");
        assert_string_equal(err, want);
    }

    write_text(f, "reader-tok\n# comment\n\nsecond\n");
    t = tokens_load(f->path, 0, err, sizeof err);
    assert_non_null(t);
    assert_string_equal(tokens_lookup(t, "reader-tok", 10), "");
    assert_string_equal(tokens_lookup(t, "second", 6), "");
    assert_null(tokens_lookup(t, "comment", 7));
    tokens_free(t);

    unlink(f->path);
    assert_null(tokens_load(f->path, 1, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", f->path);
    assert_string_equal(err, want);
}

/* Scopes on agents' lines: types, sites, inherits; errors name the line. */
static void test_scopes(void **state)
{
    struct fx *f = *state;
    char err[512] = "", want[512];
    write_text(f, "hr tok-hr types=staffing,absences sites=north,east\n"
                  "hr tok-hr2 types=staffing,absences sites=north,east\n"
                  "icu-2 tok-i2 inherits=icu-1\n"
                  "icu-1 tok-i1\n");
    struct tokens *t = tokens_load(f->path, 1, err, sizeof err);
    assert_non_null(t);
    const struct ingest_scope *s = tokens_scope(t, "hr");
    assert_non_null(s);
    assert_int_equal(s->types, (1u << REC_STAFFING) | (1u << REC_ABSENCES));
    assert_string_equal(s->sites[0], "north");
    assert_string_equal(s->sites[1], "east");
    assert_null(s->sites[2]);
    assert_null(s->inherits);
    s = tokens_scope(t, "icu-2");
    assert_int_equal(s->types, 0);
    assert_string_equal(s->inherits[0], "icu-1");
    assert_null(s->inherits[1]);
    assert_null(tokens_scope(t, "icu-1"));
    assert_null(tokens_scope(t, "nobody"));
    tokens_free(t);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"a1 t1 extra\n", "1: expected key=value after the token, not 'extra'"},
        {"a1 t1 colour=blue\n", "1: unknown or repeated option 'colour' (types, sites, inherits)"},
        {"a1 t1 types=usage types=ehr\n",
         "1: unknown or repeated option 'types' (types, sites, inherits)"},
        {"a1 t1 types=payroll\n",
         "1: types: 'payroll' is not usage, staffing, shifts, absences, ehr or training"},
        {"a1 t1 sites=north\n", "1: sites needs types=staffing (only staffing has a site)"},
        {"a1 t1 inherits=Bad!\n", "1: inherits: 'Bad!' is not an agent id"},
        {"a1 t1 types=ehr\na1 t2\n", "2: agent a1 is given another scope than on an earlier line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_text(f, bad[i].text);
        assert_null(tokens_load(f->path, 1, err, sizeof err));
        snprintf(want, sizeof want, "%s:%s", f->path, bad[i].msg);
        assert_string_equal(err, want);
    }
}

static void test_tokens_load_files(void **state)
{
    struct fx *f = *state;
    char err[512], readers[128];
    struct tokens *a = NULL, *r = NULL;
    write_text(f, "a1 t1\n");
    assert_int_equal(tokens_load_files(f->path, NULL, &a, &r, err, sizeof err), 0);
    assert_non_null(a);
    assert_null(r);
    tokens_free(a);
    snprintf(readers, sizeof readers, "%s/missing", f->dir);
    assert_int_equal(tokens_load_files(f->path, readers, &a, &r, err, sizeof err), -EINVAL);
    assert_null(a);
    assert_null(r);
    assert_non_null(strstr(err, "missing: cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens_load_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
