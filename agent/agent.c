/* agent.c - the agent core: state folder, source instances, the batcher, delivery. */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "agent/metrics.h"
#include "agent/pseudonym.h"
#include "agent/ship.h"
#include "agent/spool.h"
#include "common/decimal.h"
#include "common/log.h"
#include "common/svc.h"
#include "common/reckey.h"
#include "common/timeutil.h"
#include "common/wire.h"
#include "common/xalloc.h"

#define BATCH_MAX_BYTES (2u << 20) /* a batch is cut past this many record bytes too */
/* Free space state_dir must have before the sources are read: two largest batches and
 * room for checkpoints and the spool's state. Below it the sources wait. */
#define STATE_RESERVE_BYTES (2 * BATCH_MAX_BYTES + (1u << 20))
/* What a poll may read: little when state_dir is tight (what it spools must fit the
 * reserve), much more when the disk has four times that to spare (fewer checkpoint
 * commits on a backlog). */
#define POLL_BYTES_TIGHT (2u << 20)
#define POLL_BYTES_ROOMY (64u << 20)

struct agent_source {
    struct agent *a;
    char *name;
    const struct source_type *type;
    void *ctx;
    struct source_env env;
    struct source_stats stats;
};

struct agent {
    struct agent_config cfg;
    enum agent_mode mode;
    FILE *dry_out;
    struct pseudonym *pseudo;
    struct pseudonym_cache *keys; /* shared by the sources (all polled on one thread) */
    char *ckpt_dir, *spool_dir;
    int lock_fd;
    uint8_t spool_id[16];
    struct spool *spool;
    struct ship *ship;
    struct ship_stats ship_stats;
    struct metrics *metrics;
    pthread_mutex_t mu; /* guards src against the metrics thread during a reload */
    struct agent_source *src;
    size_t nsrc;
    /* The batch being filled: records as cadre.Batch field 7. */
    struct wire_recs batch; /* framed records not yet spooled */
    int64_t batch_first_us;
    atomic_llong state_free; /* bytes free in state_dir at the last poll; -1: unknown */
    atomic_int paused;       /* sources wait: state_dir is (nearly) full */
    int64_t pause_logged_s, resume_logged_s; /* monotonic; the poll thread only */
};

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* ---- batching ---- */

static int spool_batch(struct agent *a)
{
    if (!a->batch.n)
        return 0;
    uint64_t seq;
    int rc = spool_append(a->spool, a->batch.p, a->batch.len, a->batch.n, &seq);
    if (rc) {
        /* The records of this batch come from polls that now fail, so their sources read
         * them again; keeping them would spool them twice. */
        log_error("spool: cannot append a batch of %u records: %s", a->batch.n, strerror(-rc));
        wire_recs_reset(&a->batch);
        return rc;
    }
    log_debug("spool: batch %" PRIu64 " with %u records", seq, a->batch.n);
    wire_recs_reset(&a->batch);
    if (a->ship)
        ship_kick(a->ship);
    return 0;
}

static int emit_spool(void *ud, const uint8_t *rec, size_t len)
{
    struct agent *a = ((struct agent_source *)ud)->a;
    if (!a->batch.n)
        a->batch_first_us = mono_us();
    wire_recs_append(&a->batch, rec, len);
    if (a->batch.n >= (uint64_t)a->cfg.batch_max_records || a->batch.len >= BATCH_MAX_BYTES ||
        mono_us() - a->batch_first_us >= a->cfg.batch_max_wait_ms * 1000)
        return spool_batch(a);
    return 0;
}

static int flush_spool(void *ud)
{
    struct agent *a = ((struct agent_source *)ud)->a;
    return spool_batch(a);
}

/* ---- dry run ---- */

static char *hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
    char buf[2 * RECKEY_MAX + 1];
    json_object_set_new(o, k, json_string(hex(p, n, buf)));
}

static void set_dec(json_t *o, const char *k, int64_t micros)
{
    char buf[32];
    decimal_format(micros, buf);
    json_object_set_new(o, k, json_string(buf));
}

static void set_day(json_t *o, const char *k, int32_t day)
{
    char buf[16];
    format_date(day, buf);
    json_object_set_new(o, k, json_string(buf));
}

static void set_instant(json_t *o, const char *k, int64_t us)
{
    int64_t secs = us >= 0 ? us / US_PER_SEC : -((-us + US_PER_SEC - 1) / US_PER_SEC);
    int64_t frac = us - secs * US_PER_SEC;
    int32_t day = (int32_t)(secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400));
    int64_t sod = secs - (int64_t)day * 86400;
    char d[16], buf[48];
    format_date(day, d);
    snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%06dZ", d, (int)(sod / 3600), (int)(sod / 60 % 60),
             (int)(sod % 60), (int)frac);
    json_object_set_new(o, k, json_string(buf));
}

/* The enum value's name without its type prefix, lower case: "accepted", "role_change". */
static json_t *enum_name(const ProtobufCEnumDescriptor *d, int v, const char *prefix)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    if (!ev)
        return json_integer(v);
    const char *n = ev->name;
    size_t pl = strlen(prefix);
    if (strncmp(n, prefix, pl) == 0)
        n += pl;
    char buf[64];
    size_t i = 0;
    for (; i < sizeof buf - 1 && n[i]; i++)
        buf[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
    buf[i] = '\0';
    return json_string(buf);
}

static int emit_print(void *ud, const uint8_t *buf, size_t len)
{
    struct agent_source *s = ud;
    Cadre__Record *r = cadre__record__unpack(NULL, len, buf);
    if (!r)
        return -EINVAL;
    json_t *o = json_object();
    json_object_set_new(o, "source", json_string(s->name));
    json_object_set_new(o, "type", json_string(rec_type_name(r->type)));
    set_hex(o, "key", r->key.data, r->key.len);
    switch (r->body_case) {
    case CADRE__RECORD__BODY_USAGE: {
        Cadre__Usage *u = r->usage;
        set_hex(o, "staff", u->staff.data, u->staff.len);
        set_instant(o, "ts", u->ts_us);
        set_day(o, "day", u->day);
        json_object_set_new(o, "tool", json_string(u->tool));
        json_object_set_new(o, "event", json_string(u->event ? u->event : "use"));
        if (u->has_minutes_micro)
            set_dec(o, "minutes", u->minutes_micro);
        if (u->has_outcome && u->outcome)
            json_object_set_new(o, "outcome",
                                enum_name(&cadre__outcome__descriptor, u->outcome, "OUTCOME_"));
        break;
    }
    case CADRE__RECORD__BODY_STAFFING: {
        Cadre__Staffing *t = r->staffing;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        set_day(o, "start_date", t->start_day);
        if (t->has_end_day) {
            set_day(o, "end_date", t->end_day);
            json_object_set_new(
                o, "end_reason",
                enum_name(&cadre__end_reason__descriptor, t->end_reason, "END_REASON_"));
        }
        json_object_set_new(o, "site", json_string(t->site));
        json_object_set_new(o, "department", json_string(t->department));
        json_object_set_new(o, "role", json_string(t->role));
        if (t->has_hybrid_role && t->hybrid_role)
            json_object_set_new(
                o, "hybrid_role",
                enum_name(&cadre__hybrid_role__descriptor, t->hybrid_role, "HYBRID_ROLE_"));
        set_dec(o, "fte", t->fte_micro);
        break;
    }
    case CADRE__RECORD__BODY_SHIFT: {
        Cadre__Shift *t = r->shift;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        set_instant(o, "start", t->start_us);
        set_instant(o, "end", t->end_us);
        set_day(o, "day", t->day);
        set_dec(o, "overtime_hours", t->overtime_micro);
        break;
    }
    case CADRE__RECORD__BODY_ABSENCE: {
        Cadre__Absence *t = r->absence;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        set_day(o, "date", t->day);
        set_dec(o, "hours", t->hours_micro);
        json_object_set_new(o, "kind",
                            enum_name(&cadre__absence_kind__descriptor, t->kind, "ABSENCE_KIND_"));
        break;
    }
    case CADRE__RECORD__BODY_EHR: {
        Cadre__Ehr *t = r->ehr;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        set_day(o, "date", t->day);
        set_dec(o, "scheduled_patient_hours", t->scheduled_hours_micro);
        set_dec(o, "ehr_minutes", t->ehr_minutes_micro);
        set_dec(o, "outside_scheduled_minutes", t->outside_minutes_micro);
        set_dec(o, "inbox_minutes", t->inbox_minutes_micro);
        break;
    }
    case CADRE__RECORD__BODY_TRAINING: {
        Cadre__Training *t = r->training;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        json_object_set_new(o, "course", json_string(t->course));
        set_day(o, "completed_date", t->day);
        break;
    }
    case CADRE__RECORD__BODY_LICENCE: {
        Cadre__Licence *t = r->licence;
        set_hex(o, "staff", t->staff.data, t->staff.len);
        json_object_set_new(o, "tool", json_string(t->tool));
        set_day(o, "assigned_date", t->assigned_day);
        if (t->has_removed_day)
            set_day(o, "removed_date", t->removed_day);
        break;
    }
    default: json_object_set_new(o, "tombstone", json_true()); break;
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        fprintf(s->a->dry_out, "%s\n", line);
        free(line);
    }
    json_decref(o);
    cadre__record__free_unpacked(r, NULL);
    return 0;
}

static int flush_print(void *ud)
{
    struct agent_source *s = ud;
    return fflush(s->a->dry_out) ? -errno : 0;
}

/* ---- state folder ---- */

static int open_state(struct agent *a)
{
    const char *dir = a->cfg.state_dir;
    if (mkdir(dir, 0700) && errno != EEXIST) {
        int rc = -errno;
        log_error("state_dir %s: cannot create: %s", dir, strerror(errno));
        return rc;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    a->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (a->lock_fd < 0 || flock(a->lock_fd, LOCK_EX | LOCK_NB)) {
        int rc = -errno;
        log_error("state_dir %s: %s", dir,
                  errno == EWOULDBLOCK ? "another cadre-agent uses it" : strerror(errno));
        return rc;
    }
    uint8_t *id = NULL;
    size_t idlen = 0;
    int rc = ckpt_read(dir, "spool_id", &id, &idlen);
    if (rc == 0 && idlen == 16) {
        memcpy(a->spool_id, id, 16);
    } else {
        if (rc != -ENOENT)
            log_warn("state_dir %s: spool_id unreadable; starting a new spool id", dir);
        if (getrandom(a->spool_id, 16, 0) != 16) {
            rc = -errno;
            xfree(id);
            log_error("getrandom: %s", strerror(errno));
            return rc;
        }
        if ((rc = ckpt_write(dir, "spool_id", a->spool_id, 16, true))) {
            xfree(id);
            log_error("state_dir %s: cannot write spool_id: %s", dir, strerror(-rc));
            return rc;
        }
    }
    xfree(id);
    size_t n = strlen(dir) + 16;
    a->ckpt_dir = xmalloc(n);
    snprintf(a->ckpt_dir, n, "%s/checkpoints", dir);
    a->spool_dir = xmalloc(n);
    snprintf(a->spool_dir, n, "%s/spool", dir);
    if (mkdir(a->ckpt_dir, 0700) && errno != EEXIST) {
        rc = -errno;
        log_error("%s: cannot create: %s", a->ckpt_dir, strerror(errno));
        return rc;
    }
    struct spool_opts so = {.max_bytes = a->cfg.spool_max_bytes,
                            .fsync = a->cfg.fsync,
                            .fsync_interval_ms = a->cfg.fsync_interval_ms};
    if ((rc = spool_open(&a->spool, a->spool_dir, &so))) {
        log_error("%s: cannot open the spool: %s", a->spool_dir, strerror(-rc));
        return rc;
    }
    return fsync_dir(dir);
}

/* ---- sources ---- */

static void stop_sources(struct agent *a)
{
    for (size_t i = 0; i < a->nsrc; i++) {
        if (a->src[i].ctx)
            a->src[i].type->fini(a->src[i].ctx);
        xfree(a->src[i].name);
    }
    xfree(a->src);
    a->src = NULL;
    a->nsrc = 0;
}

static int start_sources(struct agent *a)
{
    int first = 0;
    a->src = xcalloc(a->cfg.nsources ? a->cfg.nsources : 1, sizeof *a->src);
    for (size_t i = 0; i < a->cfg.nsources; i++) {
        const struct agent_source_conf *c = &a->cfg.sources[i];
        struct agent_source *s = &a->src[a->nsrc++];
        s->a = a;
        s->name = xstrdup(c->name);
        s->type = c->type;
        bool dry = a->mode == AGENT_DRY_RUN;
        s->env = (struct source_env){
            .name = s->name,
            .pseudo = a->pseudo,
            .keys = a->keys,
            .ckpt_dir = a->ckpt_dir,
            .fsync = a->cfg.fsync == SPOOL_FSYNC_ALWAYS,
            .dry_run = dry,
            .emit = dry ? emit_print : emit_spool,
            .flush = dry ? flush_print : flush_spool,
            .ud = s,
            .stats = &s->stats,
        };
        int rc = s->type->init(&s->ctx, &c->opts, &s->env);
        if (rc) {
            s->ctx = NULL;
            log_error("[source %s] cannot start: %s", s->name, strerror(-rc));
            if (!first)
                first = rc;
        }
    }
    return first;
}

static void fill_ship_opts(const struct agent *a, struct ship_opts *o)
{
    *o = (struct ship_opts){
        .url = a->cfg.aggregator_url,
        .token_file = a->cfg.token_file,
        .agent_id = a->cfg.id,
        .state_dir = a->cfg.state_dir,
        .gzip = a->cfg.gzip,
        .rejected_max_bytes = a->cfg.rejected_max_bytes,
        .tls_ca_file = a->cfg.tls_ca_file,
        .tls_cert_file = a->cfg.tls_cert_file,
        .tls_key_file = a->cfg.tls_key_file,
        .retry_max_s = a->cfg.retry_max_s,
        .heartbeat_s = a->mode == AGENT_RUN ? a->cfg.heartbeat_s : 0,
    };
    memcpy(o->spool_id, a->spool_id, 16);
}

/* ---- self-metrics ---- */

static void render_metrics(void *ud, struct sbuf *out)
{
    struct agent *a = ud;
    pthread_mutex_lock(&a->mu);
    sbuf_adds(out, "# HELP cadre_agent_source_records_total Records handed to the spool.\n"
                   "# TYPE cadre_agent_source_records_total counter\n");
    for (size_t i = 0; i < a->nsrc; i++)
        sbuf_printf(out, "cadre_agent_source_records_total{source=\"%s\"} %llu\n", a->src[i].name,
                    (unsigned long long)atomic_load(&a->src[i].stats.records));
    sbuf_adds(out, "# HELP cadre_agent_source_rejected_records_total Rows or lines rejected.\n"
                   "# TYPE cadre_agent_source_rejected_records_total counter\n");
    for (size_t i = 0; i < a->nsrc; i++)
        for (int r = 0; r < SRC_NREASONS; r++)
            sbuf_printf(out,
                        "cadre_agent_source_rejected_records_total{source=\"%s\",reason=\"%s\"} "
                        "%llu\n",
                        a->src[i].name, source_reason_name(r),
                        (unsigned long long)atomic_load(&a->src[i].stats.rejected[r]));
    sbuf_adds(out, "# HELP cadre_agent_source_errors_total Files a source matched but could not "
                   "read, or polls of an API that failed, by reason.\n"
                   "# TYPE cadre_agent_source_errors_total counter\n");
    for (size_t i = 0; i < a->nsrc; i++)
        for (int r = 0; r < SRC_NERRORS; r++)
            sbuf_printf(out, "cadre_agent_source_errors_total{source=\"%s\",reason=\"%s\"} %llu\n",
                        a->src[i].name, source_error_name(r),
                        (unsigned long long)atomic_load(&a->src[i].stats.errors[r]));
    bool pollers = false;
    for (size_t i = 0; i < a->nsrc; i++)
        pollers |= a->src[i].stats.polls_api;
    if (pollers)
        sbuf_adds(out, "# HELP cadre_agent_source_last_poll_success_timestamp_seconds When an "
                       "API poller last read every page of its API and handed the records on "
                       "(0: never).\n"
                       "# TYPE cadre_agent_source_last_poll_success_timestamp_seconds gauge\n");
    for (size_t i = 0; i < a->nsrc; i++)
        if (a->src[i].stats.polls_api)
            sbuf_printf(out,
                        "cadre_agent_source_last_poll_success_timestamp_seconds{source=\"%s\"} "
                        "%.3f\n",
                        a->src[i].name,
                        (double)atomic_load(&a->src[i].stats.last_poll_ok_us) / 1e6);
    pthread_mutex_unlock(&a->mu);
    struct spool_stats st = {0};
    if (a->spool)
        spool_get_stats(a->spool, &st);
    sbuf_printf(out,
                "# HELP cadre_agent_spool_bytes Bytes of batches waiting in the spool.\n"
                "# TYPE cadre_agent_spool_bytes gauge\n"
                "cadre_agent_spool_bytes %llu\n"
                "# HELP cadre_agent_spool_batches Batches waiting in the spool.\n"
                "# TYPE cadre_agent_spool_batches gauge\n"
                "cadre_agent_spool_batches %llu\n"
                "# HELP cadre_agent_spool_dropped_records_total Records dropped by the spool cap.\n"
                "# TYPE cadre_agent_spool_dropped_records_total counter\n"
                "cadre_agent_spool_dropped_records_total %llu\n"
                "# HELP cadre_agent_send_retries_total Failed POSTs that are retried.\n"
                "# TYPE cadre_agent_send_retries_total counter\n"
                "cadre_agent_send_retries_total %llu\n"
                "# HELP cadre_agent_rejected_batches_total Batches refused and kept in rejected/.\n"
                "# TYPE cadre_agent_rejected_batches_total counter\n"
                "cadre_agent_rejected_batches_total %llu\n"
                "# HELP cadre_agent_last_ack_timestamp_seconds When the aggregator last acked.\n"
                "# TYPE cadre_agent_last_ack_timestamp_seconds gauge\n"
                "cadre_agent_last_ack_timestamp_seconds %.3f\n"
                "# HELP cadre_agent_state_dir_free_bytes Bytes free in state_dir at the last "
                "poll (-1: unknown).\n"
                "# TYPE cadre_agent_state_dir_free_bytes gauge\n"
                "cadre_agent_state_dir_free_bytes %lld\n"
                "# HELP cadre_agent_sources_paused 1 while the sources wait for space in "
                "state_dir.\n"
                "# TYPE cadre_agent_sources_paused gauge\n"
                "cadre_agent_sources_paused %d\n"
                "# HELP cadre_agent_build_info The agent's version.\n"
                "# TYPE cadre_agent_build_info gauge\n"
                "cadre_agent_build_info{version=\"" CADRE_AGENT_VERSION "\"} 1\n",
                (unsigned long long)st.bytes, (unsigned long long)st.pending_batches,
                (unsigned long long)st.dropped_records,
                (unsigned long long)atomic_load(&a->ship_stats.retries),
                (unsigned long long)atomic_load(&a->ship_stats.rejected_batches),
                (double)atomic_load(&a->ship_stats.last_ack_us) / 1e6,
                (long long)atomic_load(&a->state_free), atomic_load(&a->paused));
}

/* ---- life cycle ---- */

int agent_open(struct agent **out, struct agent_config *cfg, enum agent_mode mode, FILE *dry_out)
{
    struct agent *a = xcalloc(1, sizeof *a);
    a->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    a->mode = mode;
    a->dry_out = dry_out ? dry_out : stdout;
    a->lock_fd = -1;
    atomic_store(&a->state_free, -1);
    pthread_mutex_init(&a->mu, NULL);
    char err[512];
    int rc = pseudonym_load(&a->pseudo, a->cfg.org_key_file, err, sizeof err);
    if (rc) {
        log_error("%s", err);
        goto fail;
    }
    a->keys = pseudonym_cache_new(a->pseudo);
    if (mode == AGENT_DRY_RUN) {
        /* Checkpoints are read when they exist (what would ship now), never written. */
        size_t n = strlen(a->cfg.state_dir) + 16;
        a->ckpt_dir = xmalloc(n);
        snprintf(a->ckpt_dir, n, "%s/checkpoints", a->cfg.state_dir);
    } else if ((rc = open_state(a))) {
        goto fail;
    }
    if ((rc = start_sources(a)))
        goto fail;
    if (mode != AGENT_DRY_RUN) {
        struct ship_opts so;
        fill_ship_opts(a, &so);
        if ((rc = ship_start(&a->ship, &so, a->spool, &a->ship_stats))) {
            log_error("cannot start delivery: %s", strerror(-rc));
            goto fail;
        }
    }
    if (mode == AGENT_RUN && a->cfg.metrics_listen &&
        (rc = metrics_start(&a->metrics, a->cfg.metrics_listen, render_metrics, a))) {
        log_error("metrics_listen %s: cannot listen: %s", a->cfg.metrics_listen, strerror(-rc));
        goto fail;
    }
    *out = a;
    return 0;
fail:
    agent_close(a, 0);
    return rc;
}

/* Whether state_dir has room to spool what a poll reads. Logs when that changes: while it
 * has not, the sources are not read, so nothing is read that could not be kept, and
 * nothing is lost: the sources' checkpoints wait where they are. */
static bool room_to_poll(struct agent *a)
{
    struct statvfs v;
    if (statvfs(a->cfg.state_dir, &v)) {
        atomic_store(&a->state_free, -1);
        return true; /* cannot tell: let the writes say */
    }
    long long free_bytes = (long long)v.f_bavail * (long long)v.f_frsize;
    atomic_store(&a->state_free, free_bytes);
    bool room = free_bytes >= (long long)STATE_RESERVE_BYTES;
    int was = atomic_exchange(&a->paused, !room);
    /* Pausing and resuming alternate while delivery frees space a batch at a time: each
     * is said at most once a minute. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t *last = room ? &a->resume_logged_s : &a->pause_logged_s;
    if (room != (was != 0) || (*last && now.tv_sec - *last < 60))
        return room;
    *last = now.tv_sec;
    if (!room)
        log_error("state_dir %s has %lld bytes free, under the %u needed to spool a batch: the "
                  "sources wait until space returns (no line is lost; delivery goes on and frees "
                  "space as batches are acked)",
                  a->cfg.state_dir, free_bytes, STATE_RESERVE_BYTES);
    else
        log_info("state_dir %s has %lld bytes free again: the sources are read", a->cfg.state_dir,
                 free_bytes);
    return room;
}

int agent_poll(struct agent *a)
{
    if (a->mode != AGENT_DRY_RUN && !room_to_poll(a))
        return -ENOSPC;
    int first = 0;
    for (size_t i = 0; i < a->nsrc; i++) {
        struct agent_source *s = &a->src[i];
        if (!s->ctx)
            continue;
        int rc;
        do { /* a source that stopped early is read on while there is room to spool */
            long long free_bytes = atomic_load(&a->state_free);
            s->env.poll_bytes =
                free_bytes < 0 || free_bytes >= 4LL * POLL_BYTES_ROOMY + STATE_RESERVE_BYTES
                    ? POLL_BYTES_ROOMY
                    : POLL_BYTES_TIGHT;
            rc = s->type->poll(s->ctx, &s->env);
            svc_watchdog(); /* a long snapshot is read in bounded polls: alive between */
        } while (rc == 1 && (a->mode == AGENT_DRY_RUN || room_to_poll(a)));
        source_reject_flush(&s->env, a->mode != AGENT_RUN);
        if (rc == 1 && !first)
            first = -ENOSPC;
        else if (rc < 0 && !first)
            first = rc;
    }
    return first;
}

void agent_reload(struct agent *a, struct agent_config *cfg)
{
    static const struct {
        const char *key;
        size_t off;
    } fixed[] = {
        {"id", offsetof(struct agent_config, id)},
        {"org_key_file", offsetof(struct agent_config, org_key_file)},
        {"state_dir", offsetof(struct agent_config, state_dir)},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        char **nv = (char **)((char *)cfg + fixed[i].off);
        char **ov = (char **)((char *)&a->cfg + fixed[i].off);
        if (strcmp(*nv, *ov)) {
            log_warn("reload: %s cannot change while running; keeping %s", fixed[i].key, *ov);
            xfree(*nv);
            *nv = xstrdup(*ov);
        }
    }
    if (cfg->spool_max_bytes != a->cfg.spool_max_bytes || cfg->fsync != a->cfg.fsync ||
        cfg->fsync_interval_ms != a->cfg.fsync_interval_ms)
        log_warn("reload: spool_max_bytes, fsync and fsync_interval_ms take effect at the next "
                 "start");
    if (a->cfg.metrics_listen && cfg->metrics_listen &&
        strcmp(a->cfg.metrics_listen, cfg->metrics_listen))
        log_warn("reload: metrics_listen takes effect at the next start");
    pthread_mutex_lock(&a->mu);
    stop_sources(a);
    agent_config_free(&a->cfg);
    a->cfg = *cfg;
    memset(cfg, 0, sizeof *cfg);
    if (start_sources(a))
        log_error("reload: a source failed to start; fix the config and reload again");
    pthread_mutex_unlock(&a->mu);
    if (a->ship) {
        struct ship_opts so;
        fill_ship_opts(a, &so);
        ship_set_opts(a->ship, &so);
    }
    log_info("reload: configuration applied (%zu sources)", a->nsrc);
}

bool agent_idle(const struct agent *a)
{
    return !a->ship || ship_idle(a->ship);
}

int agent_poll_interval_s(const struct agent *a)
{
    return (int)a->cfg.poll_interval_s;
}

int64_t agent_tick_ms(const struct agent *a)
{
    return a->spool && a->cfg.fsync == SPOOL_FSYNC_INTERVAL ? a->cfg.fsync_interval_ms : 0;
}

void agent_tick(struct agent *a)
{
    if (!a->spool)
        return;
    int rc = spool_tick(a->spool);
    if (rc)
        log_error("spool: sync: %s", strerror(-rc));
}

void agent_close(struct agent *a, int grace_ms)
{
    if (!a)
        return;
    metrics_stop(a->metrics);
    ship_stop(a->ship, grace_ms);
    stop_sources(a);
    if (a->spool) {
        int rc = spool_sync(a->spool);
        if (rc)
            log_error("spool: sync: %s", strerror(-rc));
        spool_close(a->spool);
    }
    wire_recs_free(&a->batch);
    pseudonym_cache_free(a->keys);
    pseudonym_free(a->pseudo);
    if (a->lock_fd >= 0)
        close(a->lock_fd);
    xfree(a->ckpt_dir);
    xfree(a->spool_dir);
    agent_config_free(&a->cfg);
    pthread_mutex_destroy(&a->mu);
    xfree(a);
}
