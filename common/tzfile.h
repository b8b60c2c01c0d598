/* tzfile.h - time zones of the system's tz database (TZif files, RFC 8536): the offset in
 * force at an instant and the instant of a local wall time, summer time included, without
 * touching the process's TZ (safe on any thread). */
#ifndef CADRE_TZFILE_H
#define CADRE_TZFILE_H

#include <stddef.h>
#include <stdint.h>

struct tzinfo;

/* Most bytes of a TZif file read (the largest zones are a few KiB). */
#define TZ_FILE_MAX (256 << 10)

/* Loads the zone called name ("America/Chicago", "UTC") from $TZDIR, else
 * /usr/share/zoneinfo. A name is 1-255 bytes of [A-Za-z0-9/_+-.] with no empty, "." or
 * ".." component and no leading '/'. Returns 0 with *out (caller frees with tz_free), or
 * -EINVAL (name refused, not a TZif file) / -ENOENT (no such zone) with a message in err. */
int tz_load(const char *name, struct tzinfo **out, char *err, size_t errlen);

/* Parses the n bytes of a TZif file (version 1 to 4). Returns 0 with *out (caller frees
 * with tz_free), or -EINVAL. */
int tz_parse(const uint8_t *p, size_t n, struct tzinfo **out);

void tz_free(struct tzinfo *z);

/* Seconds east of UTC in force at t (seconds since the epoch, UTC): the file's
 * transitions, and after the last one the rule of its footer (a POSIX TZ string). */
int32_t tz_offset_at(const struct tzinfo *z, int64_t t);

/* The instant of the local wall time `local` (seconds since the epoch counted as if the
 * wall clock were UTC). Returns 0 with *t and the offset *off in force then; a wall time
 * that occurs twice (clocks set back) gives the earlier instant; -ENOENT for a wall time
 * that never occurs (clocks set forward over it). */
int tz_from_local(const struct tzinfo *z, int64_t local, int64_t *t, int32_t *off);

#endif
