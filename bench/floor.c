/* See floor.h. */
#define _POSIX_C_SOURCE 200809L

#include "floor.h"

#include <cache.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WAYS 8

/* One cache line: which ways hold an entry (tag 0: empty) and when each
 * was last used. */
typedef struct fl_set {
  _Alignas(64) uint8_t tag[WAYS];
  uint16_t used[WAYS];
  uint16_t clock;
} fl_set_t;

/* 96 bytes, as a libcache entry of W1's sizes without a deadline. */
typedef struct fl_entry {
  uint64_t expires_ms; /* UINT64_MAX: never */
  uint64_t value_len;
  unsigned char key[FL_KEY_LEN];
  unsigned char value[FL_VALUE_MAX];
} fl_entry_t;

struct fl_cache {
  fl_set_t *sets;
  fl_entry_t *entries; /* WAYS per set, the set's ways side by side */
  uint32_t n_sets;
  uint64_t ttl_ms;
  uint64_t (*clock_ms)(void *ctx);
  void *clock_ctx;
};

static uint64_t now_ms(const fl_cache_t *c) {
  if (c->clock_ms != NULL)
    return c->clock_ms(c->clock_ctx);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* W1's key, two words, mixed by one 64 x 64 -> 128-bit multiply. */
static uint64_t hash(const unsigned char *key) {
  uint64_t a, b;
  memcpy(&a, key, 8);
  memcpy(&b, key + 8, 8);
  __uint128_t m =
      (__uint128_t)(a ^ 0x9e3779b97f4a7c15u) * (b ^ 0xe7037ed1a0b428dbu);
  return (uint64_t)m ^ (uint64_t)(m >> 64);
}

static bool same_key(const unsigned char *a, const unsigned char *b) {
  return memcmp(a, b, FL_KEY_LEN) == 0; /* two loads and compares */
}

/* Copies a value: the full size as a constant, so that W1's copy is a few
 * moves and not a call. */
static void copy_value(void *to, const void *from, size_t len) {
  if (len == FL_VALUE_MAX)
    memcpy(to, from, FL_VALUE_MAX);
  else
    memcpy(to, from, len);
}

fl_cache_t *fl_create(uint64_t max_entries, uint64_t ttl_ms,
                      uint64_t (*clock_ms)(void *ctx), void *clock_ctx) {
  uint64_t n_sets = max_entries / WAYS ? max_entries / WAYS : 1;
  if (n_sets > UINT32_MAX)
    return NULL;
  fl_cache_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  /* Both on line boundaries: a 96-byte entry at an odd multiple of 16
   * would span three lines, not two. */
  size_t entries_size = n_sets * WAYS * sizeof *c->entries;
  c->sets = aligned_alloc(64, n_sets * sizeof *c->sets);
  c->entries = aligned_alloc(64, (entries_size + 63) & ~(size_t)63);
  if (c->sets == NULL || c->entries == NULL) {
    fl_destroy(c);
    return NULL;
  }
  memset(c->sets, 0, n_sets * sizeof *c->sets);
  memset(c->entries, 0, entries_size);
  c->n_sets = (uint32_t)n_sets;
  c->ttl_ms = ttl_ms;
  c->clock_ms = clock_ms;
  c->clock_ctx = clock_ctx;
  return c;
}

void fl_destroy(fl_cache_t *c) {
  free(c->sets);
  free(c->entries);
  free(c);
}

/* The set of a hash (its high half, scaled: no division), and its tag (the
 * low byte, never 0). */
static uint32_t set_of(const fl_cache_t *c, uint64_t h) {
  return (uint32_t)(((h >> 32) * c->n_sets) >> 32);
}

static uint8_t tag_of(uint64_t h) { return (uint8_t)(h | 1); }

static fl_entry_t *entry_at(const fl_cache_t *c, size_t s, int w) {
  return &c->entries[s * WAYS + (size_t)w];
}

/* The way of set s that holds key, or -1. */
static int find_way(const fl_cache_t *c, const fl_set_t *set, size_t s,
                    uint8_t tag, const unsigned char *key) {
  for (int w = 0; w < WAYS; w++)
    if (set->tag[w] == tag && same_key(entry_at(c, s, w)->key, key))
      return w;
  return -1;
}

int fl_get(fl_cache_t *c, const void *key, size_t key_len, void *buf,
           size_t buf_len, size_t *value_len) {
  if (key_len != FL_KEY_LEN)
    return CACHE_NOT_FOUND;
  uint64_t h = hash(key);
  uint32_t s = set_of(c, h);
  fl_set_t *set = &c->sets[s];
  int w = find_way(c, set, s, tag_of(h), key);
  if (w < 0)
    return CACHE_NOT_FOUND;
  fl_entry_t *e = entry_at(c, s, w);
  if (e->expires_ms <= now_ms(c)) {
    set->tag[w] = 0;
    return CACHE_NOT_FOUND;
  }
  *value_len = e->value_len;
  if (buf_len < e->value_len)
    return CACHE_ETOOSMALL;
  copy_value(buf, e->value, e->value_len);
  set->used[w] = ++set->clock;
  return CACHE_OK;
}

/* The way for a key: the one that holds it, else an empty one, else the
 * least recently used. */
static int way_for(const fl_cache_t *c, const fl_set_t *set, size_t s,
                   uint8_t tag, const unsigned char *key) {
  int victim = find_way(c, set, s, tag, key);
  if (victim >= 0)
    return victim;
  uint16_t oldest = 0;
  for (int w = 0; w < WAYS; w++) {
    uint16_t age =
        set->tag[w] == 0 ? UINT16_MAX : (uint16_t)(set->clock - set->used[w]);
    if (victim < 0 || age > oldest) {
      victim = w;
      oldest = age;
    }
  }
  return victim;
}

int fl_set(fl_cache_t *c, const void *key, size_t key_len, const void *value,
           size_t value_len, uint64_t ttl_ms) {
  if (key_len != FL_KEY_LEN || value_len > FL_VALUE_MAX)
    return CACHE_ETOOBIG;
  uint64_t h = hash(key);
  uint32_t s = set_of(c, h);
  uint8_t tag = tag_of(h);
  fl_set_t *set = &c->sets[s];
  int w = way_for(c, set, s, tag, key);
  fl_entry_t *e = entry_at(c, s, w);
  if (ttl_ms == 0)
    ttl_ms = c->ttl_ms;
  uint64_t now = now_ms(c);
  e->expires_ms =
      ttl_ms == 0 || ttl_ms >= UINT64_MAX - now ? UINT64_MAX : now + ttl_ms;
  e->value_len = value_len;
  memcpy(e->key, key, FL_KEY_LEN);
  if (value_len > 0)
    copy_value(e->value, value, value_len);
  set->tag[w] = tag;
  set->used[w] = ++set->clock;
  return CACHE_OK;
}
