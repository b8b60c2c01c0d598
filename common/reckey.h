/* reckey.h - record keys (docs/store.md) as bytes, shared by agent and aggregator.
 *
 * Keyed records start with the 16-byte staff key, then their key fields big-endian with the
 * sign bit flipped, so that RocksDB's byte order is (staff, time) order:
 *   staffing  staff | start_day(4)                    20 bytes
 *   shifts    staff | start_us(8)                     24 bytes
 *   absences  staff | day(4) | kind(1)                21 bytes
 *   ehr       staff | day(4)                          20 bytes
 *   training  staff | day(4) | course (1..128 bytes)  21..148 bytes
 * Usage lines are keyed by where they were read:
 *   usage     len(1) | source name | fingerprint(8) | offset(8)
 */
#ifndef CADRE_RECKEY_H
#define CADRE_RECKEY_H

#include <stddef.h>
#include <stdint.h>

#define STAFF_KEY_LEN 16
#define RECKEY_MAX 160

enum rec_type {
    REC_USAGE = 1, /* values equal cadre.proto's RecordType */
    REC_STAFFING,
    REC_SHIFTS,
    REC_ABSENCES,
    REC_EHR,
    REC_TRAINING,
    REC_LICENCE,
};
#define REC_TYPE_MIN REC_USAGE
#define REC_TYPE_MAX REC_LICENCE

/* "usage", "staffing", ... (the source type without its suffix); NULL when out of range. */
const char *rec_type_name(int type);

/* Each writes the key into out (RECKEY_MAX bytes) and returns its length. */
size_t reckey_usage(uint8_t *out, const char *source, uint64_t fingerprint, uint64_t offset);
size_t reckey_staffing(uint8_t *out, const uint8_t *staff, int32_t start_day);
size_t reckey_shift(uint8_t *out, const uint8_t *staff, int64_t start_us);
size_t reckey_absence(uint8_t *out, const uint8_t *staff, int32_t day, int kind);
size_t reckey_ehr(uint8_t *out, const uint8_t *staff, int32_t day);
size_t reckey_training(uint8_t *out, const uint8_t *staff, int32_t day, const char *course,
                       size_t course_len);
/* (staff, tool, assigned_day): the staff key, the tool's length and bytes (1..64, longer is
 * cut), the day. */
size_t reckey_licence(uint8_t *out, const uint8_t *staff, const char *tool, size_t tool_len,
                      int32_t assigned_day);

/* Checks that a key has the shape of its type (length, source name). 0 or -EINVAL. */
int reckey_check(int type, const uint8_t *key, size_t len);

/* Big-endian order-preserving encodings of signed integers. */
void be_put_i32(uint8_t *p, int32_t v);
void be_put_i64(uint8_t *p, int64_t v);
void be_put_u64(uint8_t *p, uint64_t v);
int32_t be_get_i32(const uint8_t *p);
int64_t be_get_i64(const uint8_t *p);
uint64_t be_get_u64(const uint8_t *p);

#endif
