/* The cache handle and its shards. Internal: only the library's own files
 * see it.
 *
 * A cache is split into shards, each a hash table with its own lock, its
 * own eviction queue and its own expiry heap, so that callers working on
 * different keys rarely wait for each other and no lookup takes a lock
 * shared by the whole cache. The bounds are global and exact: the entry and
 * byte totals are atomics, and a slot is reserved in them (compare and
 * swap against the bound) before an entry becomes visible, so the totals
 * never pass the bounds, not even for a moment. */
#ifndef CACHE_INT_H
#define CACHE_INT_H

#include "alloc.h"
#include "cache.h"
#include "expiry.h"
#include "policy.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* Shards of a large cache. Both threads of W1 insert into every shard, so
 * more shards do not keep one core's lines away from the other's: with 2
 * threads, 4 shards ran 0.94 to 1.01 times as fast as 16, 64 shards 0.94
 * to 0.99, 256 shards 0.83 to 0.90 (and 0.75 to 0.96 at 1 thread); both
 * builds loaded side by side, 3 rounds each. */
#define CACHE__MAX_SHARDS 16
/* A shard is only worth having if it holds at least this many entries:
 * per-shard eviction order drifts from the global order as shards shrink,
 * and a small shard's W-TinyLFU depends more on which keys the hash seed
 * gives it. With 64, a cache of 1,000 entries (8 shards of 125) read a
 * moving hot set at 0.53 instead of 0.57 for about 1 seed in 8 (13 of 100
 * caches); with 128 (4 shards of 250), for none of 100, and on average
 * 0.5736 against 0.5660. At 948 to 1,500 entries W3, the scans and Zipf
 * 0.7 read the same or up to 0.001 more, and the moving hot set at 1,500
 * 0.6007 against 0.5885 (20 seeds each). With 128,
 * the adaptive window of W-TinyLFU still wavered with the seed on caches
 * of a few shards: the sprite trace at 707 entries (4 shards of 176) read
 * as low as 0.857 over 8 seeds, and 0.861 to 0.864 over 16 as one shard
 * (LRU: 0.8648); so a cache
 * of fewer than 4,096 entries is one shard. Fewer shards cost small
 * caches some parallelism on inserts; their hits take no lock either
 * way. */
#define CACHE__MIN_SHARD_ENTRIES 2048
/* Entries removed under one hold of a shard lock by an expiry pass. */
#define CACHE__PASS_BATCH 64

/* Those an insert into a full shard writes come first (cache__shard_t). */
typedef struct cache__counters {
  uint64_t sets, evictions, hits, misses;
  uint64_t deletes, expirations;
  uint64_t memory_evictions; /* also counted in evictions */
} cache__counters_t;

/* A shard's fields are laid out by who writes them, because a cache line
 * written on one core must travel to the next core that reads it, and on
 * some machines that costs as much as a miss to memory:
 * - the lock and the limbo's figures, then the expiry heap, the limbo's
 *   ends and the first counters: the two lines an insert into a full
 *   shard writes (the limbo only with several threads); they were three
 *   before, and W1 with 2 threads ran about 3% faster with two (both
 *   builds loaded side by side, each loaded first in turn);
 * - the other counters, written by deletes and expiry;
 * - policy_state, and the store's slots and mask: read by every lookup,
 *   written only when the table is resized;
 * - the store's count and bytes: written by inserts and removals. */
typedef struct cache__shard {
  _Alignas(64) pthread_mutex_t lock;
  /* The limbo: entries unlinked but perhaps still being read by a lookup
   * without the lock (epoch.h), oldest first, linked through link.next
   * with their epoch stamp in link.prev. */
  uint32_t limbo_len, limbo_check;         /* try to free at this length */
  uint64_t limbo_bytes, limbo_bytes_check; /* or at this many bytes */
  cache__expiry_t expiry;
  cache__entry_t *limbo_head, *limbo_tail; /* through cache__dead_next */
  cache__counters_t counters;
  _Alignas(64) void *policy_state;
  cache__store_t store;
} cache__shard_t;

/* Hits and misses found without the lock are counted per thread: a
 * counter written by one core only stays in that core's cache. Stripe 0 is
 * shared (atomic adds) by the threads whose epoch record index is too large
 * for one of their own. */
#define CACHE__STRIPES 16
typedef struct cache__stripe {
  _Alignas(64) _Atomic uint64_t hits;
  _Atomic uint64_t misses;
} cache__stripe_t;

typedef struct cache__alerts {
  pthread_mutex_t lock;
  cache_alert_t ring[CACHE_ALERTS_KEPT];
  uint32_t next; /* where the next alert goes */
  uint32_t len;
  uint64_t warning, critical; /* saturating */
} cache__alerts_t;

struct cache {
  cache__shard_t *shards;
  uint32_t shard_mask;
  const cache__policy_ops_t *policy;
  cache__policy_shared_t policy_shared;
  cache__mem_t mem;
  uint64_t hash_seed;
  cache_options_t options; /* validated copy; options.name is `name` */
  char *name;
  bool monotonic_clock; /* no clock_ms of the caller's */
  /* The byte total is kept in `bytes` only when a bound or a threshold
   * needs it at every insert; otherwise the shards' own figures are added
   * up when asked, and inserts touch no shared cache line for it. */
  bool track_bytes;

  cache__stripe_t lookup_stripes[CACHE__STRIPES];

  /* Totals across shards, checked against the bounds. */
  _Alignas(64) _Atomic uint64_t count;
  _Atomic uint64_t bytes;

  _Alignas(64) atomic_bool closed;
  atomic_bool cleaning; /* an expiry pass is running */
  _Atomic uint64_t cleanup_runs, cleanup_errors;
  cache__alerts_t alerts;

  /* Loads under way (load.c). */
  pthread_mutex_t loads_lock;
  pthread_cond_t loads_done;
  struct cache__flight *flights;

  /* Memory threshold state (memory_threshold_mb): 0 under it, 1 above it,
   * 2 above twice it; alerts are raised when it goes up. */
  _Atomic int memory_level;

  /* Guarded by the registry's lock (registry.c). */
  struct cache *registry_next;
  uint64_t registry_id;   /* tells caches of the same name apart */
  unsigned registry_pins; /* a report or a shutdown is using it */
  bool shutdown_claimed;  /* cache_shutdown_all() is closing it */

  /* Guarded by the reaper's lock (reaper.c). */
  struct cache *reaper_next;
  uint64_t reaper_due;      /* cache clock ms of the next background pass */
  uint32_t reaper_failures; /* consecutive failed passes */
  bool reaper_listed;
  bool reaper_busy; /* the reaper is running a pass on this cache */
};

/* Entries unlinked under a shard lock, to be dealt with once the lock is
 * released: `head` for the listener (their shard and the reason in the
 * dead tag, shard.c), `dead` to be freed (out of the limbo, no reader can
 * see them). Linked through cache__dead_next. */
typedef struct cache__graveyard {
  cache__entry_t *head;
  cache__entry_t *dead;
  /* A shard whose limbo outgrew its bound while a reader held the epoch
   * back: cache__bury waits for that reader, then frees. */
  struct cache__shard *stalled;
} cache__graveyard_t;

static inline uint64_t cache__now(const cache_t *c) {
  return c->options.clock_ms(c->options.clock_ctx);
}

/* shard.c: what happens to entries under a shard lock. */
/* hash: the full 64-bit hash of a key. Its high half picks the shard, and
 * the store and the policy use the low half. */
static inline cache__shard_t *cache__shard_of(const cache_t *c, uint64_t hash) {
  return &c->shards[(hash >> 32) & c->shard_mask];
}

/* Takes s's lock. An insert holds it for well under a microsecond, but
 * the adaptive mutex spins only about as long as its recent waits took,
 * and past that sleeps in the kernel: a sleep and a wake-up that cost
 * many times the hold. So the lock is polled first: 8 tries with a pause
 * that doubles between them (191 pauses in all, 5 us on the 2-vCPU
 * machine of the README), spaced so as not to pull the lock's line away
 * from its holder at every turn. W1 with 2 threads made 24,335 futex
 * calls without it, 3,754 with it, and ran 3-4% faster. */
#define CACHE__LOCK_TRIES 8
static inline void cache__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

static inline void cache__shard_lock(cache__shard_t *s) {
  for (unsigned i = 0; i < CACHE__LOCK_TRIES; i++) {
    if (pthread_mutex_trylock(&s->lock) == 0)
      return;
    for (unsigned k = 1u << (i < 6 ? i : 6); k > 0; k--)
      cache__cpu_relax();
  }
  pthread_mutex_lock(&s->lock);
}

cache__entry_t *cache__shard_lookup(cache_t *c, cache__shard_t *s,
                                    uint32_t hash, const void *key,
                                    size_t key_len, uint64_t now,
                                    cache__graveyard_t *g);
/* Unlinks e and queues it on g. keep_slot leaves its place in the entry
 * total reserved, for the entry that replaces it. */
void cache__shard_unlink(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                         int reason, bool keep_slot, cache__graveyard_t *g);
void cache__shard_clear(cache_t *c, cache__shard_t *s, cache__graveyard_t *g);
/* Removes up to `max` expired entries; returns how many. */
uint64_t cache__shard_expire(cache_t *c, cache__shard_t *s, uint64_t now,
                             uint64_t max, cache__graveyard_t *g);
/* Evicts one entry of s for `reason`, an already expired one first (which
 * counts as expired). False if s is empty. */
/* keep_slot as for cache__shard_unlink. */
bool cache__shard_evict(cache_t *c, cache__shard_t *s, uint64_t now, int reason,
                        bool keep_slot, cache__graveyard_t *g);
/* Calls the listener for every entry on g and puts them in the limbo;
 * frees the dead ones, after waiting for the readers that hold back a
 * limbo grown past its bound. No lock held. */
void cache__bury(cache_t *c, cache__graveyard_t *g);
/* Moves the limbo's entries that no lookup can still see to g->dead (all
 * of them if `all`: only when no other thread can use the cache). Lock of
 * s held. */
void cache__shard_reclaim(cache_t *c, cache__shard_t *s, bool all,
                          cache__graveyard_t *g);
/* Adds the hits and misses counted without the lock to *hits and
 * *misses. */
void cache__stripe_add(cache_t *c, uint64_t *hits, uint64_t *misses);
size_t cache__entry_footprint(cache_t *c, cache__entry_t *e);

/* ops.c: one expiry pass over every shard (cache_cleanup() without the
 * argument checks). CACHE_OK, CACHE_EBUSY, CACHE_ECLOSED, or the error of
 * a failed pass. */
int cache__expire_pass(cache_t *c, uint64_t *removed);

/* Removes the expired entries of s in batches, so that no caller waits
 * behind more than one batch. Returns how many. */
uint64_t cache__expire_shard(cache_t *c, cache__shard_t *s, uint64_t now);

/* The bytes of the entries (cache_stats_t.bytes), without a lock. */
uint64_t cache__entry_bytes(cache_t *c);

/* load.c: in a fork child, drops the loads that threads other than the
 * calling one had under way: those threads do not exist there, and a
 * caller of the child would wait for them for ever. */
void cache__loads_after_fork_child(cache_t *c);

/* alerts.c */
void cache__alerts_init(cache__alerts_t *a);
void cache__alerts_destroy(cache__alerts_t *a);
void cache__alert(cache_t *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
