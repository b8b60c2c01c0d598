/* apipage_test.c - agent/apipage: GitHub seats pages, Graph report pages, Link headers,
 * token answers, app names and origins, on the shapes the vendors document. */
#include "tests/unit/testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "agent/apipage.h"
#include "agent/source.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define MAXI 8

struct got {
    size_t n;
    char account[MAXI][64];
    struct apipage_item it[MAXI];
};

static int collect(void *ud, const struct apipage_item *it)
{
    struct got *g = ud;
    assert_true(g->n < MAXI);
    g->it[g->n] = *it;
    snprintf(g->account[g->n], sizeof g->account[0], "%.*s", (int)it->account_len,
             it->account ? it->account : "");
    g->it[g->n].account = NULL; /* borrowed: only valid in the callback */
    g->n++;
    return 0;
}

static int32_t d(const char *s)
{
    int32_t day;
    assert_int_equal(parse_date(s, strlen(s), &day), 0);
    return day;
}

/* The example of "List all Copilot seat assignments for an organization", with a seat
 * without assignee, one with a bad date and one never active. */
static const char seats_page[] =
    "{\"total_seats\": 4, \"seats\": ["
    "{\"created_at\": \"2021-08-03T18:00:00-06:00\", \"updated_at\": \"2021-09-23T15:00:00-06:00\","
    " \"pending_cancellation_date\": null, \"last_activity_at\": \"2021-10-14T00:53:32-06:00\","
    " \"last_activity_editor\": \"vscode/1.77.3/copilot/1.86.82\", \"plan_type\": \"business\","
    " \"assignee\": {\"login\": \"octocat\", \"id\": 1, \"type\": \"User\"}, \"assigning_team\": "
    "null},"
    "{\"created_at\": \"2021-09-23T18:00:00-06:00\", \"pending_cancellation_date\": \"2021-11-01\","
    " \"last_activity_at\": null, \"last_activity_editor\": null,"
    " \"assignee\": {\"login\": \"octokitten\"}},"
    "{\"created_at\": \"2021-09-23T18:00:00Z\", \"assignee\": null},"
    "{\"created_at\": \"yesterday\", \"assignee\": {\"login\": \"hubot\"}}"
    "]}";

static void test_github_seats(void **state)
{
    (void)state;
    struct got g = {0};
    assert_int_equal(apipage_github_seats(seats_page, sizeof seats_page - 1, collect, &g), 0);
    assert_int_equal(g.n, 4);
    assert_string_equal(g.account[0], "octocat");
    assert_int_equal(g.it[0].reason, -1);
    assert_true(g.it[0].has_assigned);
    assert_int_equal(g.it[0].assigned_day, d("2021-08-03")); /* its own offset's date */
    assert_int_equal(g.it[0].nact, 1);
    assert_string_equal(g.it[0].act[0].app, "");
    assert_int_equal(g.it[0].act[0].day, d("2021-10-14"));
    assert_int_equal(g.it[0].act[0].ts_us,
                     ((int64_t)d("2021-10-14") * 86400 + 6 * 3600 + 53 * 60 + 32) * US_PER_SEC);
    assert_string_equal(g.account[1], "octokitten");
    assert_int_equal(g.it[1].reason, -1);
    assert_int_equal(g.it[1].nact, 0); /* never active */
    assert_int_equal(g.it[2].reason, SRC_MISSING_FIELD);
    assert_string_equal(g.it[2].field, "assignee.login");
    assert_string_equal(g.account[2], "");
    assert_string_equal(g.account[3], "hubot"); /* named, but refused */
    assert_int_equal(g.it[3].reason, SRC_INVALID_VALUE);
    assert_string_equal(g.it[3].field, "created_at");
    static const char *const bad[] = {
        "", "[]", "{\"seats\": {}}", "{\"total_seats\": 1}", "{\"seats\": [", "null"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct got h = {0};
        assert_int_equal(apipage_github_seats(bad[i], strlen(bad[i]), collect, &h), -EBADMSG);
        assert_int_equal(h.n, 0);
    }
    struct got e = {0};
    const char *empty = "{\"total_seats\": 0, \"seats\": []}";
    assert_int_equal(apipage_github_seats(empty, strlen(empty), collect, &e), 0);
    assert_int_equal(e.n, 0);
}

/* The documented example row, a second page link, "" and null dates. */
static const char graph_page[] =
    "{\"@odata.nextLink\": \"https://graph.microsoft.com/v1.0/copilot/reports/"
    "getMicrosoft365CopilotUsageUserDetail(period='D7')?$format=application/json&$skiptoken=2\","
    "\"value\": [{\"reportRefreshDate\": \"2025-08-20\", \"userPrincipalName\": "
    "\"Jane.Doe@Contoso.com\","
    " \"displayName\": \"Jane\", \"lastActivityDate\": \"2025-08-20\","
    " \"copilotChatLastActivityDate\": \"2025-08-16\","
    " \"microsoftTeamsCopilotLastActivityDate\": \"2025-08-20\","
    " \"wordCopilotLastActivityDate\": \"2025-08-06\", \"excelCopilotLastActivityDate\": \"\","
    " \"powerPointCopilotLastActivityDate\": \"2025-03-26\","
    " \"outlookCopilotLastActivityDate\": null, \"oneNoteCopilotLastActivityDate\": \"\","
    " \"loopCopilotLastActivityDate\": \"\","
    " \"copilotActivityUserDetailsByPeriod\": [{\"reportPeriod\": 7}]},"
    "{\"reportRefreshDate\": \"2025-08-20\", \"displayName\": \"no upn\"},"
    "{\"reportRefreshDate\": \"2025-08-20\", \"userPrincipalName\": \"x@y\","
    " \"wordCopilotLastActivityDate\": \"20/08/2025\"}]}";

static int32_t app_day(const struct apipage_item *it, const char *app)
{
    for (size_t i = 0; i < it->nact; i++)
        if (strcmp(it->act[i].app, app) == 0)
            return it->act[i].day;
    return INT32_MIN;
}

static void test_graph_users(void **state)
{
    (void)state;
    struct got g = {0};
    char *next = NULL;
    assert_int_equal(apipage_graph_users(graph_page, sizeof graph_page - 1, collect, &g, &next), 0);
    assert_non_null(next);
    assert_string_equal(next, "https://graph.microsoft.com/v1.0/copilot/reports/"
                              "getMicrosoft365CopilotUsageUserDetail(period='D7')?$format="
                              "application/json&$skiptoken=2");
    xfree(next);
    assert_int_equal(g.n, 3);
    const struct apipage_item *it = &g.it[0];
    assert_string_equal(g.account[0], "Jane.Doe@Contoso.com");
    assert_int_equal(it->reason, -1);
    assert_true(it->has_refresh);
    assert_int_equal(it->refresh_day, d("2025-08-20"));
    assert_int_equal(it->nact, 4); /* chat, teams, word, powerpoint; "" and null are none */
    assert_int_equal(app_day(it, "chat"), d("2025-08-16"));
    assert_int_equal(app_day(it, "teams"), d("2025-08-20"));
    assert_int_equal(app_day(it, "word"), d("2025-08-06"));
    assert_int_equal(app_day(it, "powerpoint"), d("2025-03-26"));
    assert_int_equal(app_day(it, "excel"), INT32_MIN);
    assert_int_equal(it->act[0].ts_us % (86400 * US_PER_SEC), 0);
    assert_int_equal(g.it[1].reason, SRC_MISSING_FIELD);
    assert_string_equal(g.it[1].field, "userPrincipalName");
    assert_int_equal(g.it[2].reason, SRC_INVALID_VALUE);
    /* The last page has no link; a page that is not the documented object is refused. */
    const char *last = "{\"value\": []}";
    struct got h = {0};
    assert_int_equal(apipage_graph_users(last, strlen(last), collect, &h, &next), 0);
    assert_null(next);
    static const char *const bad[] = {"{\"value\": {}}", "{}",
                                      "{\"value\": [], "
                                      "\"@odata.nextLink\": 3}",
                                      "{\"value\": [{}]", "[]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(apipage_graph_users(bad[i], strlen(bad[i]), collect, &h, &next), -EBADMSG);
        assert_null(next);
    }
}

static void test_app_names(void **state)
{
    (void)state;
    static const struct {
        const char *member, *app; /* app NULL: not an app */
    } cases[] = {
        {"microsoftTeamsCopilotLastActivityDate", "teams"},
        {"wordCopilotLastActivityDate", "word"},
        {"excelCopilotLastActivityDate", "excel"},
        {"powerPointCopilotLastActivityDate", "powerpoint"},
        {"outlookCopilotLastActivityDate", "outlook"},
        {"oneNoteCopilotLastActivityDate", "onenote"},
        {"loopCopilotLastActivityDate", "loop"},
        {"copilotChatLastActivityDate", "chat"},
        {"edgeCopilotLastActivityDate", "edge"},
        {"lastActivityDate", NULL},
        {"reportRefreshDate", NULL},
        {"userPrincipalName", NULL},
        {"CopilotLastActivityDate", "copilot"},
        {"copilotLastActivityDate", "copilot"},
        {"my-appLastActivityDate", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char app[APIPAGE_APP_MAX + 1];
        int rc = apipage_app_name(cases[i].member, app);
        if (cases[i].app) {
            assert_int_equal(rc, 0);
            assert_string_equal(app, cases[i].app);
        } else {
            assert_int_equal(rc, -ENOENT);
        }
    }
}

static void link_is(const char *header, const char *want)
{
    char *next = (char *)"unset";
    assert_int_equal(apipage_link_next(header, strlen(header), &next), 0);
    if (want) {
        assert_non_null(next);
        assert_string_equal(next, want);
    } else {
        assert_null(next);
    }
    xfree(next);
}

static void test_link_header(void **state)
{
    (void)state;
    link_is("<https://api.github.com/repositories/1300192/issues?page=2>; rel=\"prev\", "
            "<https://api.github.com/repositories/1300192/issues?page=4>; rel=\"next\", "
            "<https://api.github.com/repositories/1300192/issues?page=515>; rel=\"last\", "
            "<https://api.github.com/repositories/1300192/issues?page=1>; rel=\"first\"",
            "https://api.github.com/repositories/1300192/issues?page=4");
    link_is("<https://x/a?page=9>; rel=\"last\"", NULL);
    link_is("", NULL);
    link_is("<https://x/b>;rel=next", "https://x/b");
    link_is("<https://x/c>; title=\"a, b; c\"; rel=\"last next\"", "https://x/c");
    link_is("<https://x/d>; REL=\"Next\"", "https://x/d");
    link_is("<https://x/e?a=1,2>; rel=\"next\"", "https://x/e?a=1,2");
    static const char *const bad[] = {"https://x/a; rel=\"next\"", "<https://x/a; rel=\"next\"",
                                      "<https://x/a>; rel=\"next", "<>; rel=\"next\"",
                                      "<https://x/a> rel=next"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *next = NULL;
        assert_int_equal(apipage_link_next(bad[i], strlen(bad[i]), &next), -EBADMSG);
        assert_null(next);
    }
}

static void test_token(void **state)
{
    (void)state;
    char *tok = NULL;
    int64_t exp = 0;
    const char *ok = "{\"token_type\": \"Bearer\", \"expires_in\": 3599, \"ext_expires_in\": "
                     "3599, \"access_token\": \"eyJ0eXAi.OiJKV1Qi\"}";
    assert_int_equal(apipage_token(ok, strlen(ok), &tok, &exp), 0);
    assert_string_equal(tok, "eyJ0eXAi.OiJKV1Qi");
    assert_int_equal(exp, 3599);
    xfree(tok);
    const char *str = "{\"access_token\": \"t\", \"expires_in\": \"120\"}";
    assert_int_equal(apipage_token(str, strlen(str), &tok, &exp), 0);
    assert_int_equal(exp, 120);
    xfree(tok);
    static const char *const bad[] = {
        "{\"token_type\": \"Bearer\", \"expires_in\": 3599}",
        "{\"access_token\": \"a b\"}",
        "{\"access_token\": \"t\", \"token_type\": \"mac\"}",
        "{\"access_token\": \"t\", \"expires_in\": 0}",
        "{\"access_token\": \"t\", \"expires_in\": true}",
        "{\"error\": \"invalid_client\"}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tok = NULL;
        assert_int_equal(apipage_token(bad[i], strlen(bad[i]), &tok, &exp), -EBADMSG);
        assert_null(tok);
    }
}

static void test_same_origin(void **state)
{
    (void)state;
    const char *g = "https://graph.microsoft.com/v1.0";
    assert_true(apipage_same_origin(g, "https://graph.microsoft.com/v1.0/x?$skiptoken=1"));
    assert_true(apipage_same_origin(g, "HTTPS://Graph.Microsoft.com:443/other"));
    assert_false(apipage_same_origin(g, "http://graph.microsoft.com/v1.0"));
    assert_false(apipage_same_origin(g, "https://graph.microsoft.com.evil.example/v1.0"));
    assert_false(apipage_same_origin(g, "https://evil.example@graph.microsoft.com/"));
    assert_false(apipage_same_origin(g, "https://graph.microsoft.com:8443/"));
    assert_false(apipage_same_origin(g, "/relative/only"));
    assert_true(apipage_same_origin("http://127.0.0.1:8080/github", "http://127.0.0.1:8080/x"));
    assert_false(apipage_same_origin("http://127.0.0.1:8080/github", "http://127.0.0.2:8080/x"));
    assert_true(apipage_same_origin("http://[::1]:81/a", "http://[::1]:81/b"));
    assert_false(apipage_same_origin("http://[::1]:81/a", "http://[::1]/b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_seats), cmocka_unit_test(test_graph_users),
        cmocka_unit_test(test_app_names),    cmocka_unit_test(test_link_header),
        cmocka_unit_test(test_token),        cmocka_unit_test(test_same_origin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
