/* Key hashing. A keyed 64-bit hash in the style of wyhash: fast on short
 * keys, and seeded per cache so that an attacker who controls keys cannot
 * aim them all at one bucket without knowing the seed. */
#ifndef CACHE_HASH_H
#define CACHE_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t cache__hash(const void *key, size_t len, uint64_t seed);

/* A seed from the kernel's random source, or from time and address when
 * that is not available. */
uint64_t cache__hash_seed(void);

#endif
