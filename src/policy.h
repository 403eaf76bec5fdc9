/* The eviction policy interface. A policy keeps its own bookkeeping of the
 * entries a cache holds and names the next one to evict; it never frees or
 * unlinks from the store. Adding a policy is one source file with an ops
 * table and one line in policy.c. All calls are made with the cache's lock
 * held. */
#ifndef CACHE_POLICY_H
#define CACHE_POLICY_H

#include "entry.h"

typedef struct cache__policy_ops {
  int id;            /* CACHE_POLICY_* */
  size_t state_size; /* bytes of per-shard state, zeroed before init */
  /* capacity: the entries the shard is expected to hold at most (its share
   * of max_entries, or an estimate); 0 if unbounded. 0, or -1 when out of
   * memory. */
  int (*init)(void *state, uint64_t capacity);
  void (*destroy)(void *state); /* may be NULL */
  void (*inserted)(void *state, cache__entry_t *e);
  void (*accessed)(void *state, cache__entry_t *e); /* a hit */
  void (*removed)(void *state, cache__entry_t *e);
  /* The entry to evict next, still linked; NULL when empty. */
  cache__entry_t *(*victim)(void *state);
  /* May be NULL. Called without the lock before an insert of `hash`:
   * starts loading what the policy will read for it, and must change
   * nothing. */
  void (*prefetch)(const void *state, uint32_t hash);
} cache__policy_ops_t;

/* NULL for an unknown id. */
const cache__policy_ops_t *cache__policy_find(int id);

extern const cache__policy_ops_t cache__policy_fifo;
extern const cache__policy_ops_t cache__policy_lru;
extern const cache__policy_ops_t cache__policy_tinylfu;

#endif
