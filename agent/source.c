/* source.c - the registry of source types and what every source shares. */
/* source_hash uses OpenSSL's low-level SHA256_* calls, which OpenSSL 3 marks deprecated
 * but keeps: EVP_Digest fetched the digest under a lock on every call (a CSV row's hash). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "agent/source.h"

#include <openssl/sha.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/reckey.h"
#include "common/xalloc.h"

const struct source_type *const source_types[] = {
    &source_usage_jsonl,    &source_staffing_csv,
    &source_shifts_csv,     &source_absences_csv,
    &source_ehr_csv,        &source_training_csv,
    &source_licences_csv,   &source_m365_copilot,
    &source_github_copilot, NULL,
};

const struct source_type *source_type_find(const char *name)
{
    for (size_t i = 0; source_types[i]; i++)
        if (strcmp(source_types[i]->name, name) == 0)
            return source_types[i];
    return NULL;
}

const char *source_reason_name(int reason)
{
    static const char *const names[SRC_NREASONS] = {"malformed", "missing_field", "invalid_value",
                                                    "unmapped_account"};
    return reason >= 0 && reason < SRC_NREASONS ? names[reason] : "unknown";
}

static long long mono_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)now.tv_sec;
}

void source_reject_flush(const struct source_env *env, bool force)
{
    struct source_stats *st = env->stats;
    if (!st || !st->reject_quiet)
        return;
    long long now = mono_s();
    if (!force && now - st->reject_window_s < 60)
        return;
    log_warn("[source %s] %llu more rows rejected in the last %llds, not logged one by one "
             "(at most %d a minute are; all are counted in "
             "cadre_agent_source_rejected_records_total)",
             env->name, st->reject_quiet, now - st->reject_window_s, SOURCE_REJECT_LOG_MAX);
    st->reject_quiet = 0;
    st->reject_logged = 0;
    st->reject_window_s = now;
}

void source_reject(const struct source_env *env, unsigned long line, int reason, const char *field)
{
    struct source_stats *st = env->stats;
    if (st && reason >= 0 && reason < SRC_NREASONS)
        atomic_fetch_add(&st->rejected[reason], 1);
    if (st) { /* the first SOURCE_REJECT_LOG_MAX of a minute, then a count */
        long long now = mono_s();
        if (!st->reject_window_s || now - st->reject_window_s >= 60) {
            source_reject_flush(env, true);
            st->reject_window_s = now;
            st->reject_logged = 0;
        }
        if (st->reject_logged >= SOURCE_REJECT_LOG_MAX) {
            st->reject_quiet++;
            return;
        }
        st->reject_logged++;
    }
    if (field)
        log_warn("[source %s] line %lu: %s %s", env->name, line, source_reason_name(reason), field);
    else
        log_warn("[source %s] line %lu: %s", env->name, line, source_reason_name(reason));
}

const char *source_error_name(int error)
{
    static const char *const names[SRC_NERRORS] = {
        "unreadable",   "not_a_file", "http_client_error", "unauthorized", "rate_limited",
        "server_error", "network",    "bad_response",      "secret"};
    return error >= 0 && error < SRC_NERRORS ? names[error] : "unknown";
}

void source_skip_file(const struct source_env *env, const char *path, int error, int err)
{
    int warn = 1;
    if (env->stats) {
        atomic_fetch_add(&env->stats->errors[error], 1);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long last = atomic_load(&env->stats->last_error_log_s);
        warn = (last == 0 || now.tv_sec - last >= 60) &&
               atomic_compare_exchange_strong(&env->stats->last_error_log_s, &last,
                                              (long long)now.tv_sec);
    }
    const char *why = error == SRC_ERR_NOT_A_FILE ? "not a regular file" : "cannot be read";
    if (warn)
        log_warn("[source %s] %s %s%s%s; skipped (counted in cadre_agent_source_errors_total; "
                 "this warning at most once a minute)",
                 env->name, path, why, err ? ": " : "", err ? strerror(err) : "");
    else
        log_debug("[source %s] %s %s%s%s; skipped", env->name, path, why, err ? ": " : "",
                  err ? strerror(err) : "");
}

uint64_t source_hash(const void *p, size_t len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, p, len);
    SHA256_Final(md, &c);
    return be_get_u64(md);
}

int source_emit(const struct source_env *env, const Cadre__Record *rec)
{
    size_t n = cadre__record__get_packed_size(rec);
    uint8_t stackbuf[512];
    uint8_t *buf = n <= sizeof stackbuf ? stackbuf : xmalloc(n);
    cadre__record__pack(rec, buf);
    int rc = env->emit(env->ud, buf, n);
    if (buf != stackbuf)
        xfree(buf);
    if (!rc && env->stats)
        atomic_fetch_add(&env->stats->records, 1);
    return rc;
}
