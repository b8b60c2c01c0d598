/* tokens.h - bearer tokens files: lines "agent_id token [types=..] [sites=..]
 * [inherits=..]" (or just "token" for readers); docs/wire.md, "Who may change a record". */
#ifndef CADRE_TOKENS_H
#define CADRE_TOKENS_H

#include <stddef.h>

#include "aggregator/ingest.h"

struct tokens;

/* Loads the file at path; '#' starts a comment line, blank lines are skipped. With
 * with_ids each line is "id token" and optionally the agent's scope over other agents'
 * records: types=T,... (record types: usage, staffing, shifts, absences, ehr, training),
 * sites=S,... (for staffing), inherits=ID,... (agents whose records it takes over); every
 * line of one agent must give the same scope. Else the first word is the token. With ids,
 * a token given to two different ids is an error (the token is how an agent is known).
 * Returns NULL with a message in err on error. Caller frees with tokens_free(). */
struct tokens *tokens_load(const char *path, int with_ids, char *err, size_t errlen);
void tokens_free(struct tokens *t);

/* Both files of the aggregator: the agents' tokens ("id token") and, when readers_path is
 * set, the readers' (else *readers = NULL). 0, or -EINVAL with err set and nothing kept. */
int tokens_load_files(const char *agents_path, const char *readers_path, struct tokens **agents,
                      struct tokens **readers, char *err, size_t errlen);

/* The id owning token (len bytes), "" for a reader token, or NULL when no entry matches.
 * Compares in constant time per entry. */
const char *tokens_lookup(const struct tokens *t, const char *token, size_t len);

/* The scope of agent id (NULL when its lines give none: its own records only). Valid
 * until t is freed. */
const struct ingest_scope *tokens_scope(const struct tokens *t, const char *id);

#endif
