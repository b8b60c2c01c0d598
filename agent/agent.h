/* agent.h - the running agent: state folder, sources, batching into the spool, delivery. */
#ifndef CADRE_AGENT_AGENT_H
#define CADRE_AGENT_AGENT_H

#include <stdbool.h>
#include <stdio.h>

#include "agent/config.h"

#define CADRE_AGENT_VERSION "0.1.0"

enum agent_mode {
    AGENT_RUN,     /* foreground: poll every poll_interval_s, ship, heartbeat */
    AGENT_ONCE,    /* poll once, ship, wait for acks */
    AGENT_DRY_RUN, /* poll once, print records as JSON Lines, write and send nothing */
};

struct agent;

/* Starts an agent from cfg (taken: freed by agent_close). Outside a dry run it creates and
 * locks state_dir, makes the spool id on first use, opens the spool and starts delivery.
 * dry_out receives the JSON Lines of a dry run. Returns 0 and *out, or -errno after
 * logging why (cfg is freed then too). */
int agent_open(struct agent **out, struct agent_config *cfg, enum agent_mode mode, FILE *dry_out);

/* Polls every source once; their records are spooled before their checkpoints advance.
 * Returns 0, or the first error of a source (the others are still polled). */
int agent_poll(struct agent *a);

/* Applies a new config (taken) as SIGHUP does: id, org_key_file and state_dir keep their
 * old values (logged when they differ); sources are restarted from their checkpoints. */
void agent_reload(struct agent *a, struct agent_config *cfg);

/* True when every spooled batch is acked (or refused) and nothing is in flight. */
bool agent_idle(const struct agent *a);

/* The configured poll interval in seconds. */
int agent_poll_interval_s(const struct agent *a);

/* How often agent_tick wants to run, in ms (fsync = interval); 0 when it has nothing to
 * do. */
int64_t agent_tick_ms(const struct agent *a);
/* Periodic work between polls: syncs the spool when fsync = interval says it is time.
 * Main thread. */
void agent_tick(struct agent *a);

/* Stops delivery (a POST in flight gets grace_ms), syncs the spool, frees everything. */
void agent_close(struct agent *a, int grace_ms);

#endif
