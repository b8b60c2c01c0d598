/* soak.c - many simulated agents posting usage batches to one aggregator, for a while.
 *
 * usage: soak --port P --agents N --seconds S [--batches B] [--records R] [--pause-ms M]
 *        soak --agents N --tokens-out FILE
 * Agent i is "soak-i" with token "tok-soak-i"; --tokens-out writes those N tokens_file lines
 * to FILE and exits (the aggregator must read them before the agents start). Each agent has
 * a random spool id, seqs 1, 2, ... and R usage records a batch with keys of its own. Each
 * thread posts its batches one after the other as an agent does: 200 moves on (a body
 * starting "duplicate" is counted apart), 503 and 429 wait Retry-After (1 s when absent)
 * and send the same batch again, other answers and connection errors wait 0.2 s and send
 * it again; it waits M ms after each acked batch. It stops after S seconds or B batches, whichever
 * comes first, then prints one line: "acked A duplicates D records R retries T busy B errors E". A
 * test tool, not part of Cadre.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cadre.pb-c.h"
#include "common/reckey.h"
#include "common/wire.h"
#include "common/xalloc.h"

static int port, nbatches = 50, nrecords = 50, pause_ms;
static const char *tokens_out;
static double seconds = 10;
static atomic_ullong acked, duplicates, records, retries, busy, errors;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

struct reply {
    char body[64];
    size_t len;
    long retry_after;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    size_t len = size * n, room = sizeof r->body - 1 - r->len;
    memcpy(r->body + r->len, p, len < room ? len : room);
    r->len += len < room ? len : room;
    r->body[r->len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct reply *r = ud;
    if (size * n > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
        r->retry_after = strtol(p + 12, NULL, 10);
    return size * n;
}

/* The body of batch seq of agent a: nrecords usage events with keys of the agent's own. */
static uint8_t *make_batch(int a, const uint8_t spool[16], uint64_t seq, size_t *len)
{
    struct wire_recs wr = {0};
    char source[32];
    snprintf(source, sizeof source, "soak-%d", a);
    for (int i = 0; i < nrecords; i++) {
        uint8_t staff[16] = {0}, key[RECKEY_MAX], buf[256];
        memcpy(staff, &a, sizeof a);
        staff[8] = (uint8_t)i;
        Cadre__Usage u;
        cadre__usage__init(&u);
        u.staff.data = staff;
        u.staff.len = 16;
        u.day = 20700; /* 2026-09-04 */
        u.ts_us = (int64_t)u.day * 86400 * 1000000 + 36000000000;
        u.tool = "soak";
        Cadre__Record r;
        cadre__record__init(&r);
        r.type = CADRE__RECORD_TYPE__RECORD_TYPE_USAGE;
        r.body_case = CADRE__RECORD__BODY_USAGE;
        r.usage = &u;
        r.key.data = key;
        r.key.len = reckey_usage(key, source, (uint64_t)a + 1, seq * (uint64_t)nrecords + i);
        wire_recs_append(&wr, buf, cadre__record__pack(&r, buf));
    }
    char id[32];
    snprintf(id, sizeof id, "soak-%d", a);
    struct wire_envelope e = {
        .agent_id = id, .spool_id = spool, .has_seq = true, .seq = seq, .sent_us = 1};
    uint8_t *body = wire_encode(&e, wr.p, wr.len, len);
    wire_recs_free(&wr);
    return body;
}

static void *agent_main(void *arg)
{
    int a = (int)(intptr_t)arg;
    uint8_t spool[16];
    if (getrandom(spool, sizeof spool, 0) != sizeof spool)
        return NULL;
    char url[64], auth[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/ingest", port);
    snprintf(auth, sizeof auth, "Authorization: Bearer tok-soak-%d", a);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, auth);
    h = curl_slist_append(h, "Content-Type: application/x-protobuf");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    double end = now_s() + seconds;
    for (uint64_t seq = 1; seq <= (uint64_t)nbatches && now_s() < end;) {
        size_t len;
        uint8_t *body = make_batch(a, spool, seq, &len);
        struct reply r = {.retry_after = -1};
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        xfree(body);
        if (rc == CURLE_OK && status == 200) {
            if (strncmp(r.body, "duplicate", 9) == 0)
                atomic_fetch_add(&duplicates, 1);
            else
                atomic_fetch_add(&acked, 1), atomic_fetch_add(&records, (unsigned)nrecords);
            seq++;
            if (pause_ms)
                usleep((useconds_t)pause_ms * 1000);
            continue;
        }
        atomic_fetch_add(&retries, 1);
        if (rc == CURLE_OK && (status == 503 || status == 429)) {
            atomic_fetch_add(&busy, 1);
            usleep((useconds_t)(r.retry_after >= 0 ? r.retry_after : 1) * 1000000);
        } else {
            atomic_fetch_add(&errors, 1);
            usleep(200000);
        }
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return NULL;
}

/* Writes the tokens_file lines of agents 0..n-1 to tokens_out; returns the exit status. */
static int write_tokens(int n)
{
    FILE *f = fopen(tokens_out, "w");
    if (!f) {
        perror(tokens_out);
        return 1;
    }
    for (int i = 0; i < n; i++)
        fprintf(f, "soak-%d tok-soak-%d\n", i, i);
    if (fclose(f) != 0) {
        perror(tokens_out);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int nagents = 0;
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},       {"agents", required_argument, NULL, 'a'},
        {"seconds", required_argument, NULL, 's'},    {"batches", required_argument, NULL, 'b'},
        {"records", required_argument, NULL, 'r'},    {"pause-ms", required_argument, NULL, 'm'},
        {"tokens-out", required_argument, NULL, 't'}, {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'p': port = atoi(optarg); break;
        case 'a': nagents = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'b': nbatches = atoi(optarg); break;
        case 'r': nrecords = atoi(optarg); break;
        case 'm': pause_ms = atoi(optarg); break;
        case 't': tokens_out = optarg; break;
        default: goto usage;
        }
    }
    if (tokens_out && nagents > 0 && nagents <= 10000)
        return write_tokens(nagents);
    if (port <= 0 || nagents <= 0 || nagents > 10000 || seconds <= 0 || nbatches <= 0 ||
        nrecords <= 0 || nrecords > 10000 || pause_ms < 0)
        goto usage;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    pthread_t *t = xcalloc((size_t)nagents, sizeof *t);
    for (int i = 0; i < nagents; i++)
        if (pthread_create(&t[i], NULL, agent_main, (void *)(intptr_t)i)) {
            fprintf(stderr, "soak: cannot start thread %d\n", i);
            return 1;
        }
    for (int i = 0; i < nagents; i++)
        pthread_join(t[i], NULL);
    xfree(t);
    curl_global_cleanup();
    printf("acked %llu duplicates %llu records %llu retries %llu busy %llu errors %llu\n",
           (unsigned long long)acked, (unsigned long long)duplicates, (unsigned long long)records,
           (unsigned long long)retries, (unsigned long long)busy, (unsigned long long)errors);
    return 0;
usage:
    fprintf(stderr, "usage: soak --port P --agents N --seconds S [--batches B] [--records R] "
                    "[--pause-ms M]\n"
                    "       soak --agents N --tokens-out FILE\n");
    return 64;
}
