/* backup_cmd.h - `cadre-aggregator backup`: a consistent copy of the database, taken while
 * the daemon runs (or not). */
#ifndef CADRE_BACKUP_CMD_H
#define CADRE_BACKUP_CMD_H

/* The subcommand: argv holds the words after "backup". Returns the process exit code. */
int backup_main(int argc, char **argv);

#endif
