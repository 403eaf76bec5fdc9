/* The cache handle. Internal: only the library's own files see it. */
#ifndef CACHE_INT_H
#define CACHE_INT_H

#include "alloc.h"
#include "cache.h"
#include "policy.h"
#include "store.h"

#include <pthread.h>
#include <stdbool.h>

typedef struct cache__counters {
  uint64_t hits, misses, sets, deletes, evictions, expirations;
  uint64_t cleanup_runs, cleanup_errors;
} cache__counters_t;

struct cache {
  pthread_mutex_t lock; /* guards everything below that changes */
  cache__store_t store;
  const cache__policy_ops_t *policy;
  void *policy_state;
  cache__counters_t counters;
  bool closed;
  bool cleaning; /* an expiry pass is running */

  /* Fixed at creation. */
  cache__mem_t mem;
  uint64_t hash_seed;
  cache_options_t options; /* validated copy; options.name is `name` */
  char *name;

  /* Guarded by the reaper's lock (reaper.c). */
  struct cache *reaper_next;
  uint64_t reaper_due; /* monotonic ms of the next background pass */
  bool reaper_listed;
  bool reaper_busy; /* the reaper is running a pass on this cache */
};

/* One expiry pass: cache_cleanup() without the argument checks. */
int cache__expire_pass(cache_t *c, uint64_t *removed);

#endif
