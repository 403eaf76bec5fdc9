/* The eviction policy interface. A policy keeps its own bookkeeping of the
 * entries a cache holds and names the next one to evict; it never frees or
 * unlinks from the store. Adding a policy is one source file with an ops
 * table and one line in policy.c. All calls but `hit` and `prefetch` are
 * made with the shard's lock held. */
#ifndef CACHE_POLICY_H
#define CACHE_POLICY_H

#include "alloc.h"
#include "entry.h"

#include <stdatomic.h>
#include <stdbool.h>

/* What a policy learns from the traffic of the whole cache rather than of
 * one shard: each shard sees a hash-chosen slice of the keys, too few in a
 * small cache for a decision of its own. Zeroed before the first init. */
typedef struct cache__policy_shared {
  /* tinylfu: the window's share of the capacity, in 2^-48 units; written
   * by every shard (relaxed: a lost update only loses one step). */
  _Alignas(64) _Atomic uint64_t window_share;
  uint32_t shards;   /* set by the cache before the shards' init */
  cache__mem_t *mem; /* where per-capacity tables go (table_bytes) */
} cache__policy_shared_t;

/* What `hit` answers. */
enum {
  CACHE__HIT_RETRY, /* do the hit again under the lock (`accessed`) */
  CACHE__HIT_DONE,  /* counted */
  CACHE__HIT_MOVE   /* counted; `touch` it if the lock is free */
};

typedef struct cache__policy_ops {
  int id;            /* CACHE_POLICY_* */
  size_t state_size; /* bytes of per-shard state, zeroed before init */
  /* capacity: the entries the shard is expected to hold at most (its share
   * of max_entries, or an estimate); 0 if unbounded. 0, or -1 when out of
   * memory. */
  int (*init)(void *state, uint64_t capacity, cache__policy_shared_t *shared);
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
   * CACHE__HIT_DONE, or CACHE__HIT_MOVE if `touch` should also move the
   * entry when the lock is free. CACHE__HIT_RETRY sends the hit to
   * `accessed` under the lock, so whatever was changed before returning
   * it must not count twice. */
  int (*hit)(void *state, cache__entry_t *e);
  /* May be NULL if `hit` never answers CACHE__HIT_MOVE. Called with the
   * lock held, after such a hit, on the key's entry then (the same or a
   * newer one), only if the lookup could take the lock without waiting:
   * a lookup never waits for a lock it does not need. */
  void (*touch)(void *state, cache__entry_t *e);
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
