/* rng.h - splitmix64 streams: every random choice derives from (seed, purpose, ids). */
#ifndef CADRE_GEN_RNG_H
#define CADRE_GEN_RNG_H

#include <math.h>
#include <stdint.h>

/* A stream is 64 bits of state advanced by splitmix64. Streams are made from the run's
 * seed and the ids of what they decide (a person, a day), so one person's day does not
 * depend on how many numbers anything else drew: the output is the same on every run. */
struct rng {
    uint64_t s;
};

/* Stream purposes, so that two decisions about the same ids never share numbers. */
enum rng_purpose {
    RP_WORLD = 1, /* departments, hybrid appointments */
    RP_PERSON,    /* a person's career, traits and courses */
    RP_DAY,       /* a person's day */
    RP_GHOST,     /* usage from ids without an episode */
    RP_BAD,       /* where invalid rows go and what they look like */
    RP_STAFFING,  /* how staffing rows are spelt */
    RP_LICENCE,   /* a person's or ghost's licences and how their rows are spelt */
};

static inline uint64_t rng_mix(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* The stream for (seed, purpose, a, b). */
static inline struct rng rng_at(uint64_t seed, enum rng_purpose purpose, uint64_t a, uint64_t b)
{
    struct rng r = {rng_mix(rng_mix(rng_mix(seed) ^ (uint64_t)purpose) ^ a) ^ rng_mix(b)};
    return r;
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int32_t rng_range(struct rng *r, int32_t lo, int32_t hi)
{
    return lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* Uniform in [0, 1). */
static inline double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability p. */
static inline int rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Index drawn from weights w[0..n-1] (not all zero). */
static inline int rng_pick(struct rng *r, const uint16_t *w, int n)
{
    uint32_t total = 0;
    for (int i = 0; i < n; i++)
        total += w[i];
    uint32_t x = rng_below(r, total);
    for (int i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

/* Natural logarithm (x > 0) and exponential from +, -, *, / and exact scaling only, so
 * that the output does not depend on the C library's libm: the same arguments give the
 * same bytes on every platform. Accurate to a few ulps, which is all a generator needs. */
static inline double det_log(double x)
{
    int e;
    double m = frexp(x, &e) * 2.0; /* [1, 2) */
    e -= 1;
    if (m > 1.4142135623730951) {
        m /= 2.0;
        e += 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 1; k < 40; k += 2) {
        sum += term / k;
        term *= s2;
    }
    return e * 0.6931471805599453 + 2.0 * sum;
}

static inline double det_exp(double x)
{
    double n = x >= 0 ? (double)(long)(x / 0.6931471805599453 + 0.5)
                      : (double)(long)(x / 0.6931471805599453 - 0.5);
    double r = x - n * 0.6931471805599453, term = 1.0, sum = 1.0;
    for (int k = 1; k < 30; k++) {
        term *= r / k;
        sum += term;
    }
    return ldexp(sum, (int)n);
}

#endif
