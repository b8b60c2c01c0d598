/* reckey.c - byte encodings of record keys (see reckey.h for the layout). */
#include "common/reckey.h"

#include <errno.h>
#include <string.h>

static const char *const type_names[] = {
    [REC_USAGE] = "usage",       [REC_STAFFING] = "staffing", [REC_SHIFTS] = "shifts",
    [REC_ABSENCES] = "absences", [REC_EHR] = "ehr",           [REC_TRAINING] = "training",
    [REC_LICENCE] = "licence",
};

const char *rec_type_name(int type)
{
    return type >= REC_TYPE_MIN && type <= REC_TYPE_MAX ? type_names[type] : NULL;
}

void be_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t be_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void be_put_i64(uint8_t *p, int64_t v)
{
    be_put_u64(p, (uint64_t)v ^ (UINT64_C(1) << 63));
}

int64_t be_get_i64(const uint8_t *p)
{
    return (int64_t)(be_get_u64(p) ^ (UINT64_C(1) << 63));
}

void be_put_i32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v ^ (UINT32_C(1) << 31);
    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
}

int32_t be_get_i32(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (int32_t)(u ^ (UINT32_C(1) << 31));
}

size_t reckey_usage(uint8_t *out, const char *source, uint64_t fingerprint, uint64_t offset)
{
    size_t n = strlen(source);
    if (n > 64)
        n = 64;
    out[0] = (uint8_t)n;
    memcpy(out + 1, source, n);
    be_put_u64(out + 1 + n, fingerprint);
    be_put_u64(out + 9 + n, offset);
    return 17 + n;
}

size_t reckey_staffing(uint8_t *out, const uint8_t *staff, int32_t start_day)
{
    memcpy(out, staff, STAFF_KEY_LEN);
    be_put_i32(out + 16, start_day);
    return 20;
}

size_t reckey_shift(uint8_t *out, const uint8_t *staff, int64_t start_us)
{
    memcpy(out, staff, STAFF_KEY_LEN);
    be_put_i64(out + 16, start_us);
    return 24;
}

size_t reckey_absence(uint8_t *out, const uint8_t *staff, int32_t day, int kind)
{
    memcpy(out, staff, STAFF_KEY_LEN);
    be_put_i32(out + 16, day);
    out[20] = (uint8_t)kind;
    return 21;
}

size_t reckey_ehr(uint8_t *out, const uint8_t *staff, int32_t day)
{
    memcpy(out, staff, STAFF_KEY_LEN);
    be_put_i32(out + 16, day);
    return 20;
}

size_t reckey_training(uint8_t *out, const uint8_t *staff, int32_t day, const char *course,
                       size_t course_len)
{
    if (course_len > 128)
        course_len = 128;
    memcpy(out, staff, STAFF_KEY_LEN);
    be_put_i32(out + 16, day);
    memcpy(out + 20, course, course_len);
    return 20 + course_len;
}

size_t reckey_licence(uint8_t *out, const uint8_t *staff, const char *tool, size_t tool_len,
                      int32_t assigned_day)
{
    if (tool_len > 64)
        tool_len = 64;
    memcpy(out, staff, STAFF_KEY_LEN);
    out[16] = (uint8_t)tool_len;
    memcpy(out + 17, tool, tool_len);
    be_put_i32(out + 17 + tool_len, assigned_day);
    return 21 + tool_len;
}

int reckey_check(int type, const uint8_t *key, size_t len)
{
    switch (type) {
    case REC_USAGE:
        return len >= 18 && key[0] >= 1 && key[0] <= 64 && len == 17u + key[0] ? 0 : -EINVAL;
    case REC_STAFFING:
    case REC_EHR: return len == 20 ? 0 : -EINVAL;
    case REC_SHIFTS: return len == 24 ? 0 : -EINVAL;
    case REC_ABSENCES: return len == 21 && key[20] >= 1 && key[20] <= 3 ? 0 : -EINVAL;
    case REC_TRAINING: return len >= 21 && len <= 148 ? 0 : -EINVAL;
    case REC_LICENCE:
        return len >= 22 && key[16] >= 1 && key[16] <= 64 && len == 21u + key[16] ? 0 : -EINVAL;
    default: return -EINVAL;
    }
}
