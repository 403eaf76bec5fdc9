/* The eviction policy interface. A policy keeps its own bookkeeping of the
 * entries a cache holds and names the next one to evict; it never frees or
 * unlinks from the store. Adding a policy is one source file with an ops
 * table and one line in policy.c. All calls but `hit` and `prefetch` are
 * made with the shard's lock held. */
#ifndef CACHE_POLICY_H
#define CACHE_POLICY_H

#include "entry.h"

#include <stdbool.h>

typedef struct cache__policy_ops {
  int id;            /* CACHE_POLICY_* */
  size_t state_size; /* bytes of per-shard state, zeroed before init */
  /* capacity: the entries the shard is expected to hold at most (its share
   * of max_entries, or an estimate); 0 if unbounded. 0, or -1 when out of
   * memory. */
  int (*init)(void *state, uint64_t capacity);
  void (*destroy)(void *state); /* may be NULL */
  /* hash: of e's key (the low 32 bits), which entries do not keep. */
  void (*inserted)(void *state, cache__entry_t *e, uint32_t hash);
  void (*accessed)(void *state, cache__entry_t *e); /* a hit */
  void (*removed)(void *state, cache__entry_t *e, uint32_t hash);
  /* The entry to evict next, still linked; NULL when empty. */
  cache__entry_t *(*victim)(void *state);
  /* May be NULL (every hit then takes the lock). Called WITHOUT the lock,
   * by a lookup that found e, which may be being unlinked meanwhile:
   * records the hit if that needs only atomic updates of e's policy bytes
   * (cache__entry_swap_*) and of state fields kept atomic, and returns
   * true. False sends the hit to `accessed` under the lock, so whatever
   * was changed before returning false must not count twice. */
  bool (*hit)(void *state, cache__entry_t *e);
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
