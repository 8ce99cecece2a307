/* A small reproducible random stream (splitmix64) for simulations: the
 * pricing benchmark and the pricing model's tests draw synthetic seasons from
 * fixed seeds, so every run sees the same buyers. Not for secrets (those come
 * from libsodium, util/secure.h). Each caller owns its own state: no globals. */
#ifndef BO_UTIL_SEEDED_RANDOM_H
#define BO_UTIL_SEEDED_RANDOM_H
#include <math.h>
#include <stdint.h>

typedef struct {
    uint64_t state;
} seeded_random;

static inline uint64_t seeded_random_next(seeded_random *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so log() and pow(u, -k) stay finite. */
static inline double seeded_random_unit(seeded_random *r)
{
    return ((double)(seeded_random_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* The waiting time of a Poisson process of the given rate (events per unit). */
static inline double seeded_random_exponential(seeded_random *r, double rate)
{
    return -log(seeded_random_unit(r)) / rate;
}
#endif
