/* export_cmd.h - `cadre-aggregator export`: the quarterly KPI export, and its HTTP twin. */
#ifndef CADRE_EXPORT_CMD_H
#define CADRE_EXPORT_CMD_H

#include <stddef.h>

#include "aggregator/kpi.h"
#include "common/sbuf.h"

/* Renders the export of quarter (YYYYQn) in format csv, json or html from the model.
 * Returns 0, or -EINVAL with a message in err (bad or future quarter, unknown format, a
 * quarter with no data). */
int export_render(const struct kpi_model *m, const struct kpi_params *p, const char *quarter,
                  const char *format, struct sbuf *out, char *err, size_t errlen);

/* The subcommand: argv holds the words after "export". Returns the process exit code. */
int export_main(int argc, char **argv);

#endif
