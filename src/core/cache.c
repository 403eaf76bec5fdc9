/* The life of a cache: options, creation, the presets, close, destroy and
 * the statistics. The data path is in ops.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cache_int.h"
#include "hash.h"
#include "hooks.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The default clock is read on every get and set, so it is the kernel's
 * coarse monotonic clock: a memory read rather than a timer read, at the
 * resolution of the scheduler tick (1 to 4 ms), which is finer than any
 * time to live is worth setting. */
static uint64_t monotonic_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
  clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* As many shards as keep each one at least CACHE__MIN_SHARD_ENTRIES
 * entries, up to CACHE__MAX_SHARDS; a power of two. A byte bound counts
 * as one entry per KiB. */
static uint32_t shard_count(const cache_options_t *o) {
  uint64_t capacity = o->max_entries;
  if (o->max_bytes != 0 && (capacity == 0 || o->max_bytes / 1024 < capacity))
    capacity = o->max_bytes / 1024;
  uint32_t n = CACHE__MAX_SHARDS;
  if (o->max_entries == 0 && o->max_bytes == 0)
    return n;
  while (n > 1 && capacity / n < CACHE__MIN_SHARD_ENTRIES)
    n /= 2;
  return n;
}

/* Shard locks are held for a lookup or an insert: far shorter than a
 * sleep and a wake-up. An adaptive mutex spins briefly before it sleeps. */
static int shard_lock_init(pthread_mutex_t *lock) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  int rc = pthread_mutex_init(lock, &attr);
  pthread_mutexattr_destroy(&attr);
  return rc;
}

/* A shard's expected share of the entries, for the policy's sizing: of
 * max_entries, or of max_bytes counted as one entry per 256 bytes. */
static uint64_t shard_capacity(const cache_t *c) {
  const cache_options_t *o = &c->options;
  uint64_t entries = o->max_entries ? o->max_entries : o->max_bytes / 256;
  return entries / (c->shard_mask + 1);
}

/* A shard's share of max_entries, which its table is sized to hold; 0
 * without a count bound (a byte bound says too little about counts). */
static uint64_t shard_entries(const cache_t *c) {
  return c->options.max_entries / (c->shard_mask + 1);
}

/* Sets up shard s; on failure releases what it took and returns
 * CACHE_ENOMEM. */
static int shard_init(cache_t *c, cache__shard_t *s) {
  cache__expiry_init(&s->expiry);
  /* Each shard's policy state on cache lines of its own: it is written on
   * hits, and two shards' states on one line would make cores that work on
   * different shards pass that line back and forth. */
  size_t size = (c->policy->state_size + 63) & ~(size_t)63;
  s->policy_state = aligned_alloc(64, size);
  if (s->policy_state == NULL)
    return CACHE_ENOMEM;
  /* Its queue heads are linked with entries by 44-bit words (entry.h),
   * which hold an address below 2^48, as the store's slots do. */
  if (!cache__store_can_hold(s->policy_state)) {
    free(s->policy_state);
    return CACHE_ENOMEM;
  }
  memset(s->policy_state, 0, size);
  if (c->policy->init(s->policy_state, shard_capacity(c), &c->policy_shared) !=
      0)
    goto free_state;
  if (cache__store_init(&s->store, &c->mem, shard_entries(c), c->hash_seed) !=
      0)
    goto destroy_policy;
  if (shard_lock_init(&s->lock) != 0)
    goto free_store;
  return CACHE_OK;

free_store:
  cache__store_free(&s->store, &c->mem);
destroy_policy:
  if (c->policy->destroy != NULL)
    c->policy->destroy(s->policy_state);
free_state:
  free(s->policy_state);
  s->policy_state = NULL;
  return CACHE_ENOMEM;
}

/* Frees an empty shard that shard_init set up. */
static void shard_free(cache_t *c, cache__shard_t *s) {
  cache__graveyard_t g = {NULL};
  cache__shard_reclaim(c, s, true, &g); /* no lookup can be running now */
  cache__bury(c, &g);
  pthread_mutex_destroy(&s->lock);
  cache__store_free(&s->store, &c->mem);
  cache__expiry_free(&s->expiry, &c->mem);
  if (c->policy->destroy != NULL)
    c->policy->destroy(s->policy_state);
  free(s->policy_state);
}

static int shards_init(cache_t *c) {
  uint32_t n = shard_count(&c->options);
  c->shards = aligned_alloc(_Alignof(cache__shard_t), n * sizeof *c->shards);
  if (c->shards == NULL)
    return CACHE_ENOMEM;
  memset(c->shards, 0, n * sizeof *c->shards);
  c->shard_mask = n - 1;
  c->policy_shared.shards = n;
  c->policy_shared.mem = &c->mem;
  for (uint32_t i = 0; i < n; i++) {
    if (shard_init(c, &c->shards[i]) != CACHE_OK) {
      while (i-- > 0)
        shard_free(c, &c->shards[i]);
      free(c->shards);
      c->shards = NULL;
      return CACHE_ENOMEM;
    }
  }
  return CACHE_OK;
}

static int cache_init(cache_t *c, const cache_options_t *opts) {
  c->options = *opts;
  c->monotonic_clock = opts->clock_ms == NULL;
  c->track_bytes = opts->max_bytes != 0 || opts->memory_threshold_mb != 0;
  if (c->options.clock_ms == NULL)
    c->options.clock_ms = monotonic_ms;
  c->name = strdup(opts->name ? opts->name : "");
  if (c->name == NULL)
    return CACHE_ENOMEM;
  c->options.name = c->name;
  c->hash_seed = cache__hash_seed();
  c->policy = cache__policy_find(opts->policy);
  if (cache__mem_init(&c->mem) != 0)
    return CACHE_ENOMEM;
  return shards_init(c);
}

/* Releases what cache_init acquired; every shard is already empty. */
static void cache_release(cache_t *c) {
  if (c->shards != NULL) {
    for (uint32_t i = 0; i <= c->shard_mask; i++)
      shard_free(c, &c->shards[i]);
    free(c->shards);
  }
  cache__mem_destroy(&c->mem);
  cache__alerts_destroy(&c->alerts);
  pthread_cond_destroy(&c->loads_done);
  pthread_mutex_destroy(&c->loads_lock);
  free(c->name);
  free(c);
}

int cache_create(const cache_options_t *options, cache_t **out) {
  cache_options_t opts;
  if (out == NULL)
    return CACHE_EINVAL;
  int rc = cache__options_load(options, &opts);
  if (rc != CACHE_OK)
    return rc;
  cache_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return CACHE_ENOMEM;
  cache__alerts_init(&c->alerts);
  pthread_mutex_init(&c->loads_lock, NULL);
  pthread_cond_init(&c->loads_done, NULL);
  rc = cache_init(c, &opts);
  if (rc != CACHE_OK) {
    cache_release(c);
    return rc;
  }
  cache__registry_add(c);
  if (opts.cleanup_interval_ms > 0) {
    rc = cache__reaper_add(c);
    if (rc != CACHE_OK) {
      cache_destroy(c);
      return rc;
    }
  }
  *out = c;
  return CACHE_OK;
}

static int create_preset(int preset, cache_t **out) {
  cache_options_t opts;
  int rc = cache_preset_options(preset, &opts);
  return rc == CACHE_OK ? cache_create(&opts, out) : rc;
}

int cache_create_proposal(cache_t **out) {
  return create_preset(CACHE_PRESET_PROPOSAL, out);
}

int cache_create_user(cache_t **out) {
  return create_preset(CACHE_PRESET_USER, out);
}

int cache_create_market_data(cache_t **out) {
  return create_preset(CACHE_PRESET_MARKET_DATA, out);
}

int cache_create_calculation(cache_t **out) {
  return create_preset(CACHE_PRESET_CALCULATION, out);
}

int cache_close(cache_t *c) {
  if (c == NULL)
    return CACHE_EINVAL;
  cache__reaper_remove(c); /* waits for a background pass under way */
  if (atomic_exchange(&c->closed, true))
    return CACHE_ECLOSED;
  /* Every shard lock is taken after `closed` is set, so no insert can slip
   * in behind the sweep. */
  for (uint32_t i = 0; i <= c->shard_mask; i++) {
    cache__graveyard_t g = {NULL};
    pthread_mutex_lock(&c->shards[i].lock);
    cache__shard_clear(c, &c->shards[i], &g);
    pthread_mutex_unlock(&c->shards[i].lock);
    cache__bury(c, &g);
  }
  return CACHE_OK;
}

void cache_destroy(cache_t *c) {
  if (c == NULL)
    return;
  cache__registry_remove(c);
  cache_close(c);
  cache_release(c);
}

const char *cache_name(const cache_t *c) { return c ? c->name : ""; }

int cache_stats(cache_t *c, cache_stats_t *stats) {
  if (c == NULL || stats == NULL)
    return CACHE_EINVAL;
  if (atomic_load(&c->closed))
    return CACHE_ECLOSED;
  cache_stats_t full = {.struct_size = sizeof full};
  for (uint32_t i = 0; i <= c->shard_mask; i++) {
    cache__shard_t *s = &c->shards[i];
    pthread_mutex_lock(&s->lock);
    full.hits += s->counters.hits;
    full.misses += s->counters.misses;
    full.sets += s->counters.sets;
    full.deletes += s->counters.deletes;
    full.evictions += s->counters.evictions;
    full.expirations += s->counters.expirations;
    full.memory_evictions += s->counters.memory_evictions;
    pthread_mutex_unlock(&s->lock);
  }
  cache__stripe_add(c, &full.hits, &full.misses);
  full.entries = atomic_load(&c->count);
  full.bytes = cache__entry_bytes(c);
  full.cleanup_runs = atomic_load(&c->cleanup_runs);
  full.cleanup_errors = atomic_load(&c->cleanup_errors);
  full.max_entries = c->options.max_entries;
  full.max_bytes = c->options.max_bytes;
  pthread_mutex_lock(&c->alerts.lock);
  full.alerts_warning = c->alerts.warning;
  full.alerts_critical = c->alerts.critical;
  pthread_mutex_unlock(&c->alerts.lock);
  full.table_bytes = atomic_load(&c->mem.table_bytes);
  uint64_t resident;
  if (cache__mem_arena_resident(&c->mem, &resident) == 1)
    full.arena_resident_bytes = resident;
  full.health = cache__health_of(c);
  return cache__struct_out(stats, &full, sizeof full, CACHE__STATS_V1_SIZE);
}
