/* The public entry points: argument checks, locking, and the rules that tie
 * the store, the eviction policy and the bounds together.
 *
 * Every mutation happens under the cache's lock, so the bounds hold at every
 * moment another thread can observe. Work that does not need the lock is
 * kept out of it: a new entry is allocated and filled before the lock is
 * taken, and entries removed under the lock are collected on a local list
 * and freed after it is released. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cache_int.h"
#include "hash.h"
#include "options.h"
#include "reaper.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Entries unlinked under the lock, freed once it is released. Linked
 * through the now unused policy link. */
typedef struct graveyard {
  cache__link_t *head;
} graveyard_t;

static uint64_t monotonic_ms(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ms(const cache_t *c) {
  return c->options.clock_ms(c->options.clock_ctx);
}

static uint32_t key_hash(const cache_t *c, const void *key, size_t key_len) {
  uint64_t h = cache__hash(key, key_len, c->hash_seed);
  return (uint32_t)(h ^ (h >> 32));
}

static bool key_ok(const void *key, size_t key_len) {
  return key != NULL && key_len > 0 && key_len <= CACHE_KEY_MAX;
}

static size_t footprint(cache_t *c, cache__entry_t *e) {
  return cache__mem_usable(&c->mem, e,
                           cache__entry_size(e->key_len, e->value_len));
}

static void entry_free(cache_t *c, cache__entry_t *e) {
  cache__mem_free(&c->mem, e, cache__entry_size(e->key_len, e->value_len));
}

/* ---- removal ------------------------------------------------------------ */

typedef enum reason {
  REMOVED_EXPIRED,
  REMOVED_EVICTED,
  REMOVED_DELETED,
  REMOVED_REPLACED,
  REMOVED_CLEARED,
} reason_t;

/* Unlinks e from the store and the policy, counts it, and queues it for
 * freeing. Lock held. */
static void unlink_entry(cache_t *c, cache__entry_t *e, reason_t why,
                         graveyard_t *g) {
  cache__store_remove(&c->store, e, footprint(c, e));
  c->policy->removed(c->policy_state, e);
  switch (why) {
  case REMOVED_EXPIRED:
    c->counters.expirations++;
    break;
  case REMOVED_EVICTED:
    c->counters.evictions++;
    break;
  case REMOVED_DELETED:
    c->counters.deletes++;
    break;
  case REMOVED_REPLACED:
  case REMOVED_CLEARED:
    break;
  }
  e->link.next = g->head;
  g->head = &e->link;
}

/* Frees what unlink_entry queued. Lock not held. */
static void bury(cache_t *c, graveyard_t *g) {
  cache__link_t *l = g->head;
  while (l != NULL) {
    cache__link_t *next = l->next;
    entry_free(c, cache__entry_of(l));
    l = next;
  }
  g->head = NULL;
}

/* The live entry for key, or NULL; an expired one found on the way is
 * removed. Lock held. */
static cache__entry_t *lookup(cache_t *c, uint32_t hash, const void *key,
                              size_t key_len, uint64_t now, graveyard_t *g) {
  cache__entry_t *e = cache__store_find(&c->store, hash, key, key_len);
  if (e != NULL && cache__entry_is_expired(e, now)) {
    unlink_entry(c, e, REMOVED_EXPIRED, g);
    e = NULL;
  }
  return e;
}

/* ---- life cycle --------------------------------------------------------- */

static int cache_init(cache_t *c, const cache_options_t *opts) {
  c->options = *opts;
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
  c->policy_state = calloc(1, c->policy->state_size);
  if (c->policy_state == NULL)
    return CACHE_ENOMEM;
  c->policy->init(c->policy_state);
  if (cache__store_init(&c->store, &c->mem) != 0)
    return CACHE_ENOMEM;
  if (pthread_mutex_init(&c->lock, NULL) != 0) {
    cache__store_free(&c->store, &c->mem);
    return CACHE_ENOMEM;
  }
  return CACHE_OK;
}

/* Releases what cache_init acquired, in reverse; the store is already
 * empty and freed. */
static void cache_release(cache_t *c) {
  free(c->policy_state);
  cache__mem_destroy(&c->mem);
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
  rc = cache_init(c, &opts);
  if (rc != CACHE_OK) {
    cache_release(c);
    return rc;
  }
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

static void unlink_cleared(cache__entry_t *e, void *arg);

typedef struct sweep {
  cache_t *cache;
  graveyard_t *graveyard;
  uint64_t now;
  uint64_t removed;
} sweep_t;

int cache_close(cache_t *c) {
  if (c == NULL)
    return CACHE_EINVAL;
  cache__reaper_remove(c); /* waits for a background pass under way */
  graveyard_t g = {NULL};
  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    pthread_mutex_unlock(&c->lock);
    return CACHE_ECLOSED;
  }
  c->closed = true;
  sweep_t s = {c, &g, 0, 0};
  cache__store_each(&c->store, unlink_cleared, &s);
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return CACHE_OK;
}

void cache_destroy(cache_t *c) {
  if (c == NULL)
    return;
  cache_close(c);
  cache__store_free(&c->store, &c->mem);
  pthread_mutex_destroy(&c->lock);
  cache_release(c);
}

const char *cache_name(const cache_t *c) { return c ? c->name : ""; }

/* ---- entries ------------------------------------------------------------ */

/* Deadline for a ttl given at `now`; saturates instead of wrapping. */
static uint64_t deadline(const cache_t *c, uint64_t ttl_ms, uint64_t now) {
  if (ttl_ms == 0)
    ttl_ms = c->options.ttl_ms;
  if (ttl_ms == 0 || ttl_ms >= CACHE__NEVER - now)
    return CACHE__NEVER;
  return now + ttl_ms;
}

/* A new, unlinked entry holding copies of key and value. */
static cache__entry_t *entry_new(cache_t *c, uint32_t hash, const void *key,
                                 size_t key_len, const void *value,
                                 size_t value_len) {
  cache__entry_t *e =
      cache__mem_alloc(&c->mem, cache__entry_size(key_len, value_len));
  if (e == NULL)
    return NULL;
  e->link.prev = e->link.next = &e->link;
  e->hnext = NULL;
  e->hash = hash;
  e->key_len = (uint16_t)key_len;
  e->value_len = (uint32_t)value_len;
  e->policy_bits = 0;
  e->unused = 0;
  memcpy(e->data, key, key_len);
  if (value_len > 0)
    memcpy(e->data + key_len, value, value_len);
  return e;
}

static bool over_bounds(const cache_t *c, uint64_t add_bytes) {
  const cache_options_t *o = &c->options;
  return (o->max_entries && c->store.count + 1 > o->max_entries) ||
         (o->max_bytes && c->store.bytes + add_bytes > o->max_bytes);
}

/* Evicts by policy until an entry of `bytes` fits. Lock held. The caller
 * has checked that `bytes` alone fits max_bytes, so an empty cache always
 * has room and the loop ends. */
static void make_room(cache_t *c, uint64_t bytes, uint64_t now,
                      graveyard_t *g) {
  while (over_bounds(c, bytes)) {
    cache__entry_t *victim = c->policy->victim(c->policy_state);
    if (victim == NULL)
      break; /* unreachable: an empty cache has room */
    reason_t why = cache__entry_is_expired(victim, now) ? REMOVED_EXPIRED
                                                        : REMOVED_EVICTED;
    unlink_entry(c, victim, why, g);
  }
}

int cache_set(cache_t *c, const void *key, size_t key_len, const void *value,
              size_t value_len, uint64_t ttl_ms) {
  if (c == NULL || !key_ok(key, key_len) || (value == NULL && value_len > 0))
    return CACHE_EINVAL;
  /* Refuse what can never fit before paying for an allocation. */
  if (value_len > CACHE_VALUE_MAX ||
      (c->options.max_bytes &&
       cache__entry_size(key_len, value_len) > c->options.max_bytes))
    return CACHE_ETOOBIG;
  uint32_t hash = key_hash(c, key, key_len);
  cache__entry_t *e = entry_new(c, hash, key, key_len, value, value_len);
  if (e == NULL)
    return CACHE_ENOMEM;
  size_t bytes = footprint(c, e);
  if (c->options.max_bytes && bytes > c->options.max_bytes) {
    entry_free(c, e);
    return CACHE_ETOOBIG;
  }

  graveyard_t g = {NULL};
  uint64_t now = now_ms(c);
  e->expires_at = deadline(c, ttl_ms, now);
  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    pthread_mutex_unlock(&c->lock);
    entry_free(c, e);
    return CACHE_ECLOSED;
  }
  cache__entry_t *old = cache__store_find(&c->store, hash, key, key_len);
  if (old != NULL)
    unlink_entry(c, old,
                 cache__entry_is_expired(old, now) ? REMOVED_EXPIRED
                                                   : REMOVED_REPLACED,
                 &g);
  make_room(c, bytes, now, &g);
  cache__store_insert(&c->store, &c->mem, e, bytes);
  c->policy->inserted(c->policy_state, e);
  c->counters.sets++;
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return CACHE_OK;
}

static bool lookup_args_ok(const cache_t *c, const void *key, size_t key_len) {
  return c != NULL && key_ok(key, key_len);
}

/* Counts the lookup and copies the value of e (NULL for a miss) out. Lock
 * held. */
static int read_entry(cache_t *c, cache__entry_t *e, void *buf, size_t buf_len,
                      size_t *value_len) {
  if (e == NULL) {
    c->counters.misses++;
    return CACHE_NOT_FOUND;
  }
  c->counters.hits++;
  c->policy->accessed(c->policy_state, e);
  *value_len = e->value_len;
  if (buf_len < e->value_len)
    return CACHE_ETOOSMALL;
  if (e->value_len > 0)
    memcpy(buf, cache__entry_value(e), e->value_len);
  return CACHE_OK;
}

int cache_get(cache_t *c, const void *key, size_t key_len, void *buf,
              size_t buf_len, size_t *value_len) {
  if (!lookup_args_ok(c, key, key_len) || value_len == NULL ||
      (buf == NULL && buf_len > 0))
    return CACHE_EINVAL;
  uint32_t hash = key_hash(c, key, key_len);
  uint64_t now = now_ms(c);
  graveyard_t g = {NULL};
  int rc;

  pthread_mutex_lock(&c->lock);
  if (c->closed)
    rc = CACHE_ECLOSED;
  else
    rc = read_entry(c, lookup(c, hash, key, key_len, now, &g), buf, buf_len,
                    value_len);
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return rc;
}

int cache_contains(cache_t *c, const void *key, size_t key_len) {
  if (!lookup_args_ok(c, key, key_len))
    return CACHE_EINVAL;
  uint32_t hash = key_hash(c, key, key_len);
  uint64_t now = now_ms(c);
  graveyard_t g = {NULL};
  int rc;

  pthread_mutex_lock(&c->lock);
  if (c->closed)
    rc = CACHE_ECLOSED;
  else
    rc = lookup(c, hash, key, key_len, now, &g) ? CACHE_OK : CACHE_NOT_FOUND;
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return rc;
}

int cache_delete(cache_t *c, const void *key, size_t key_len) {
  if (!lookup_args_ok(c, key, key_len))
    return CACHE_EINVAL;
  uint32_t hash = key_hash(c, key, key_len);
  uint64_t now = now_ms(c);
  graveyard_t g = {NULL};
  int rc = CACHE_NOT_FOUND;

  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    rc = CACHE_ECLOSED;
  } else {
    cache__entry_t *e = lookup(c, hash, key, key_len, now, &g);
    if (e != NULL) {
      unlink_entry(c, e, REMOVED_DELETED, &g);
      rc = CACHE_OK;
    }
  }
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return rc;
}

static void unlink_cleared(cache__entry_t *e, void *arg) {
  sweep_t *s = arg;
  unlink_entry(s->cache, e, REMOVED_CLEARED, s->graveyard);
}

int cache_clear(cache_t *c) {
  if (c == NULL)
    return CACHE_EINVAL;
  graveyard_t g = {NULL};
  int rc = CACHE_OK;
  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    rc = CACHE_ECLOSED;
  } else {
    sweep_t s = {c, &g, 0, 0};
    cache__store_each(&c->store, unlink_cleared, &s);
  }
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  return rc;
}

uint64_t cache_count(cache_t *c) {
  if (c == NULL)
    return 0;
  pthread_mutex_lock(&c->lock);
  uint64_t n = c->closed ? 0 : c->store.count;
  pthread_mutex_unlock(&c->lock);
  return n;
}

/* ---- expiry and statistics ---------------------------------------------- */

static void unlink_if_expired(cache__entry_t *e, void *arg) {
  sweep_t *s = arg;
  if (cache__entry_is_expired(e, s->now)) {
    unlink_entry(s->cache, e, REMOVED_EXPIRED, s->graveyard);
    s->removed++;
  }
}

int cache_cleanup(cache_t *c, uint64_t *removed) {
  if (c == NULL)
    return CACHE_EINVAL;
  return cache__expire_pass(c, removed);
}

int cache__expire_pass(cache_t *c, uint64_t *removed) {
  graveyard_t g = {NULL};
  sweep_t s = {c, &g, now_ms(c), 0};
  int rc = CACHE_OK;

  pthread_mutex_lock(&c->lock);
  if (c->closed) {
    rc = CACHE_ECLOSED;
  } else if (c->cleaning) {
    rc = CACHE_EBUSY;
  } else {
    c->cleaning = true;
    cache__store_each(&c->store, unlink_if_expired, &s);
    c->counters.cleanup_runs++;
    c->cleaning = false;
  }
  pthread_mutex_unlock(&c->lock);
  bury(c, &g);
  if (rc == CACHE_OK && removed != NULL)
    *removed = s.removed;
  return rc;
}

int cache_stats(cache_t *c, cache_stats_t *stats) {
  if (c == NULL || stats == NULL)
    return CACHE_EINVAL;
  cache_stats_t full = {.struct_size = sizeof full};
  pthread_mutex_lock(&c->lock);
  bool closed = c->closed;
  const cache__counters_t *k = &c->counters;
  full.entries = c->store.count;
  full.bytes = c->store.bytes;
  full.hits = k->hits;
  full.misses = k->misses;
  full.sets = k->sets;
  full.deletes = k->deletes;
  full.evictions = k->evictions;
  full.expirations = k->expirations;
  full.cleanup_runs = k->cleanup_runs;
  full.cleanup_errors = k->cleanup_errors;
  full.max_entries = c->options.max_entries;
  full.max_bytes = c->options.max_bytes;
  pthread_mutex_unlock(&c->lock);
  return closed ? CACHE_ECLOSED : cache__stats_store(&full, stats);
}
