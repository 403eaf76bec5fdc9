/* Memory pressure: a cache's own threshold (memory_threshold_mb) and the
 * process-wide limit (cache_set_process_memory_limit).
 *
 * A cache's footprint is two atomic loads (its entries' bytes and its
 * tables' bytes), so the check after an insert costs next to nothing and
 * reads no file. Alerts are raised when the footprint crosses a level
 * upwards, not on every insert above it. Above twice the threshold the
 * cache sheds (expired entries first, then by policy) down to half of it,
 * visiting its shards in turn and holding each lock for a small batch. The
 * process limit needs the resident set from /proc, so it is checked only
 * by the background thread, once a second. */
#include "cache_int.h"
#include "process.h"
#include "reaper.h"
#include "registry.h"

#include <stdlib.h>

#define SHED_BATCH 8 /* entries evicted per shard per turn */

static _Atomic uint64_t process_limit;

uint64_t cache__footprint(cache_t *c) {
  return cache__entry_bytes(c) +
         atomic_load_explicit(&c->mem.table_bytes, memory_order_relaxed);
}

static uint64_t mib(uint64_t mb) {
  return mb > (UINT64_MAX >> 20) ? UINT64_MAX : mb << 20;
}

/* 0 under the threshold t, 1 above it, 2 above twice it. */
static int level_of(uint64_t footprint, uint64_t t) {
  if (footprint <= t)
    return 0;
  return footprint - t > t ? 2 : 1;
}

/* One turn over the shards, evicting up to SHED_BATCH from each while the
 * footprint is above target. False if nothing could be evicted. */
static bool shed_turn(cache_t *c, uint64_t target, uint64_t now) {
  bool progress = false;
  for (uint32_t i = 0; i <= c->shard_mask; i++) {
    cache__shard_t *s = &c->shards[i];
    cache__graveyard_t g = {NULL};
    cache__shard_lock(s);
    for (int n = 0; n < SHED_BATCH && !atomic_load(&c->closed) &&
                    cache__footprint(c) > target;
         n++) {
      if (!cache__shard_evict(c, s, now, CACHE_REMOVED_MEMORY, false, &g))
        break;
      progress = true;
    }
    pthread_mutex_unlock(&s->lock);
    cache__bury(c, &g);
    if (cache__footprint(c) <= target)
      return progress;
  }
  return progress;
}

uint64_t cache__shed(cache_t *c, uint64_t target) {
  uint64_t before = cache__footprint(c);
  uint64_t now = cache__now(c);
  for (uint32_t i = 0; i <= c->shard_mask && cache__footprint(c) > target; i++)
    cache__expire_shard(c, &c->shards[i], now);
  while (cache__footprint(c) > target && !atomic_load(&c->closed) &&
         shed_turn(c, target, now))
    ;
  uint64_t after = cache__footprint(c);
  return before > after ? before - after : 0;
}

int cache__memory_level(cache_t *c) {
  uint64_t t = mib(c->options.memory_threshold_mb);
  return t == 0 ? 0 : level_of(cache__footprint(c), t);
}

/* Raises the alerts for a rise from level `from` to level `to`. */
static void alert_rise(cache_t *c, int from, int to, uint64_t footprint) {
  unsigned long long mb = c->options.memory_threshold_mb;
  if (from < 1 && to >= 1)
    cache__alert(c, CACHE_ALERT_WARNING,
                 "footprint %llu bytes is above the threshold of %llu MiB",
                 (unsigned long long)footprint, mb);
  if (from < 2 && to >= 2)
    cache__alert(c, CACHE_ALERT_CRITICAL,
                 "footprint %llu bytes is above twice the threshold of %llu "
                 "MiB: shedding to half of it",
                 (unsigned long long)footprint, mb);
}

void cache__memory_check(cache_t *c) {
  uint64_t t = mib(c->options.memory_threshold_mb);
  if (t == 0)
    return;
  for (;;) {
    uint64_t footprint = cache__footprint(c);
    int level = level_of(footprint, t);
    int prev = atomic_load(&c->memory_level);
    if (level != prev) {
      /* Only the caller that changes the level raises its alerts. */
      prev = atomic_exchange(&c->memory_level, level);
      if (level > prev)
        alert_rise(c, prev, level, footprint);
    }
    if (level < 2)
      return;
    /* Every inserter that finds the cache above twice its threshold helps
     * to shed, so that inserting threads cannot outrun one shedder. */
    if (cache__shed(c, t / 2) == 0)
      return; /* nothing left to shed (the tables alone are that large) */
  }
}

int cache_set_process_memory_limit(uint64_t mb) {
  atomic_store(&process_limit, mib(mb));
  cache__reaper_limit_changed();
  return CACHE_OK;
}

bool cache__process_limit_active(void) {
  return atomic_load(&process_limit) != 0;
}

/* The process's memory use: its resident set, or its cgroup's usage where
 * /proc cannot tell. False if neither is known. */
static bool process_usage(uint64_t *out) {
  if (cache__memory_rss(out) == 1)
    return true;
  return cache__memory_cgroup_usage(out) == 1;
}

typedef struct sized {
  cache_t *cache;
  uint64_t footprint; /* taken once: the sort needs stable keys */
} sized_t;

static int by_footprint_desc(const void *a, const void *b) {
  uint64_t fa = ((const sized_t *)a)->footprint;
  uint64_t fb = ((const sized_t *)b)->footprint;
  return fa < fb ? 1 : fa > fb ? -1 : 0;
}

/* Sheds `excess` bytes from the caches, largest first. */
static void shed_largest_first(cache_t **list, size_t n, uint64_t excess,
                               uint64_t usage, uint64_t limit) {
  sized_t *v = malloc(n * sizeof *v);
  if (v == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    v[i] = (sized_t){list[i], cache__footprint(list[i])};
  qsort(v, n, sizeof *v, by_footprint_desc);
  for (size_t i = 0; i < n && excess > 0; i++) {
    if (cache_count(v[i].cache) == 0)
      continue; /* its tables alone: nothing to shed */
    uint64_t f = v[i].footprint;
    uint64_t freed = cache__shed(v[i].cache, f > excess ? f - excess : 0);
    if (freed > 0)
      cache__alert(v[i].cache, CACHE_ALERT_CRITICAL,
                   "process memory %llu bytes is above the limit of %llu "
                   "bytes: shed %llu bytes",
                   (unsigned long long)usage, (unsigned long long)limit,
                   (unsigned long long)freed);
    excess -= freed < excess ? freed : excess;
  }
  free(v);
}

void cache__process_limit_check(void) {
  uint64_t limit = atomic_load(&process_limit), usage;
  if (limit == 0 || !process_usage(&usage) || usage <= limit)
    return;
  size_t n;
  cache_t **list = cache__registry_pin_all(&n);
  if (list == NULL)
    return;
  shed_largest_first(list, n, usage - limit, usage, limit);
  cache__registry_unpin_all(list, n);
  cache__mem_purge_all(); /* so that what was freed leaves the resident set */
}
