/* Key hashing: see hash.h. The mixing step multiplies two 64-bit words into
 * 128 bits and folds the halves together, which diffuses every input bit
 * into every output bit in one multiply. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hash.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static const uint64_t P0 = 0xa0761d6478bd642fULL;
static const uint64_t P1 = 0xe7037ed1a0b428dbULL;
static const uint64_t P2 = 0x8ebc6af09c88c6e3ULL;

static inline uint64_t mix(uint64_t a, uint64_t b) {
  __uint128_t r = (__uint128_t)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Unaligned little-endian-agnostic loads: memcpy compiles to one move. */
static inline uint64_t load8(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline uint64_t load4(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* 1 to 3 bytes: first, middle and last byte cover every length. */
static inline uint64_t load_small(const unsigned char *p, size_t len) {
  return ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
}

uint64_t cache__hash(const void *key, size_t len, uint64_t seed) {
  const unsigned char *p = key;
  /* The seed is random already (cache__hash_seed): mixing it on every
   * call would put a multiply before the first load of a lookup. */
  uint64_t s = seed ^ P0;
  uint64_t a = 0, b = 0;

  if (len <= 16) {
    if (len >= 4) {
      size_t mid = (len >> 3) << 2;
      a = (load4(p) << 32) | load4(p + mid);
      b = (load4(p + len - 4) << 32) | load4(p + len - 4 - mid);
    } else if (len > 0) {
      a = load_small(p, len);
    }
  } else {
    size_t i = len;
    uint64_t s1 = s, s2 = s;
    while (i > 48) {
      s = mix(load8(p) ^ P1, load8(p + 8) ^ s);
      s1 = mix(load8(p + 16) ^ P2, load8(p + 24) ^ s1);
      s2 = mix(load8(p + 32) ^ P0, load8(p + 40) ^ s2);
      p += 48;
      i -= 48;
    }
    s ^= s1 ^ s2;
    while (i > 16) {
      s = mix(load8(p) ^ P1, load8(p + 8) ^ s);
      p += 16;
      i -= 16;
    }
    a = load8(p + i - 16);
    b = load8(p + i - 8);
  }
  return mix(P1 ^ len, mix(a ^ P1, b ^ s) ^ P0);
}

uint64_t cache__hash_seed(void) {
  uint64_t seed;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) == (ssize_t)sizeof seed)
    return seed;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return mix((uint64_t)ts.tv_nsec ^ P0, (uint64_t)(uintptr_t)&seed ^ P2);
}
