/* The data path: set, get, contains, delete, clear, count and the expiry
 * pass.
 *
 * Each call hashes its key and allocates or copies outside any lock, then
 * holds exactly one shard lock for the lookup itself; a get first tries
 * without any lock (get_shared). Entries removed under the lock go to the
 * listener after the lock is released, then wait in their shard's limbo
 * until no lookup without the lock can be reading them (shard.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cache_int.h"
#include "epoch.h"
#include "fault.h"
#include "hash.h"
#include "hooks.h"

#include <sched.h>
#include <string.h>

static bool key_ok(const void *key, size_t key_len) {
  return key != NULL && key_len > 0 && key_len <= CACHE_KEY_MAX;
}

static bool is_closed(const cache_t *c) {
  return atomic_load_explicit(&c->closed, memory_order_relaxed);
}

static uint64_t key_hash(const cache_t *c, const void *key, size_t key_len) {
  return cache__hash(key, key_len, c->hash_seed);
}

/* Deadline for a ttl given at `now`; saturates instead of wrapping. */
static uint64_t deadline(const cache_t *c, uint64_t ttl_ms, uint64_t now) {
  if (ttl_ms == 0)
    ttl_ms = c->options.ttl_ms;
  if (ttl_ms == 0 || ttl_ms >= CACHE__NEVER - now)
    return CACHE__NEVER;
  return now + ttl_ms;
}

/* ---- set ------------------------------------------------------------------
 */

/* A new, unlinked entry holding copies of key and value, which expires at
 * `expires_at` (CACHE__NEVER: it carries no deadline). */
static cache__entry_t *entry_new(cache_t *c, const void *key, size_t key_len,
                                 const void *value, size_t value_len,
                                 uint64_t expires_at) {
  if (CACHE__FAULT(CACHE__FAULT_ALLOC))
    return NULL;
  bool expires = expires_at != CACHE__NEVER;
  size_t size = cache__entry_size(key_len, value_len, expires);
  cache__entry_t *e = cache__mem_alloc(&c->mem, size);
  if (e == NULL)
    return NULL;
  if (!cache__store_can_hold(e)) { /* never seen on Linux: see store.h */
    cache__mem_free(&c->mem, e, size);
    return NULL;
  }
  cache__entry_init(e, key_len, value_len, expires);
  if (expires)
    *cache__entry_deadline(e) =
        (cache__deadline_t){.at = expires_at, .heap_index = CACHE__NO_HEAP};
  unsigned char *k = (unsigned char *)cache__entry_key(e);
  memcpy(k, key, key_len);
  if (value_len > 0)
    memcpy(k + key_len, value, value_len);
  return e;
}

/* Takes room for `bytes` in the byte total, and a slot in the entry total
 * if need_slot, without passing either bound. All or nothing. */
static bool reserve(cache_t *c, bool need_slot, uint64_t bytes) {
  const uint64_t max_e = c->options.max_entries, max_b = c->options.max_bytes;
  if (need_slot) {
    uint64_t n = atomic_load_explicit(&c->count, memory_order_relaxed);
    do {
      if (max_e != 0 && n >= max_e)
        return false;
    } while (!atomic_compare_exchange_weak_explicit(
        &c->count, &n, n + 1, memory_order_relaxed, memory_order_relaxed));
  }
  if (!c->track_bytes)
    return true;
  uint64_t b = atomic_load_explicit(&c->bytes, memory_order_relaxed);
  do {
    if (max_b != 0 && bytes > max_b - b) {
      if (need_slot)
        atomic_fetch_sub_explicit(&c->count, 1, memory_order_relaxed);
      return false;
    }
  } while (!atomic_compare_exchange_weak_explicit(
      &c->bytes, &b, b + bytes, memory_order_relaxed, memory_order_relaxed));
  return true;
}

/* Evicts one entry from some shard other than `own`, taking one lock at a
 * time. No lock held. For the rare case where the shard being written to
 * is empty while the others fill the bounds. */
static bool evict_elsewhere(cache_t *c, const cache__shard_t *own, uint64_t now,
                            cache__graveyard_t *g) {
  uint32_t start = (uint32_t)(own - c->shards);
  for (uint32_t i = 1; i <= c->shard_mask; i++) {
    cache__shard_t *s = &c->shards[(start + i) & c->shard_mask];
    cache__shard_lock(s);
    bool done = cache__shard_evict(c, s, now, CACHE_REMOVED_EVICTED, false, g);
    pthread_mutex_unlock(&s->lock);
    if (done)
      return true;
  }
  return false;
}

static bool full(const cache_t *c) {
  uint64_t max = c->options.max_entries;
  return max != 0 &&
         atomic_load_explicit(&c->count, memory_order_relaxed) >= max;
}

/* Links e (of `bytes`) into s, replacing an entry with the same key and
 * evicting as the bounds require. Lock of s held on entry and on return;
 * it is released and taken again only to evict from other shards. */
static int insert_locked(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                         uint32_t hash, size_t bytes, uint64_t now,
                         cache__graveyard_t *g) {
  bool have_slot = false; /* a replaced entry's slot, kept for e */
  bool held = false;      /* lookups without the lock wait for e */
  int rc = CACHE_ENOMEM;
  for (;;) {
    if (is_closed(c))
      break;
    if ((cache__entry_expires(e) &&
         cache__expiry_reserve(&s->expiry, &c->mem) != 0) ||
        cache__store_reserve(&s->store, &c->mem) != 0)
      break;
    cache__entry_t *old = cache__store_find(
        &s->store, hash, cache__entry_key(e), cache__entry_key_len(e));
    if (old != NULL) {
      int why = cache__entry_is_expired(old, now) ? CACHE_REMOVED_EXPIRED
                                                  : CACHE_REMOVED_REPLACED;
      /* Between the old entry's removal and e's insert the key is in
       * neither: a lookup without the lock must not answer a miss then. */
      if (!held)
        cache__store_hold(&s->store);
      held = true;
      cache__shard_unlink(c, s, old, why, !have_slot, g);
      CACHE__FAULT_DELAY(CACHE__FAULT_SWAP);
      have_slot = true;
    } else if (!have_slot && full(c)) {
      /* The usual case of a full cache: the victim's slot in the entry
       * total goes to the new entry, and the shared counter is not
       * touched at all. */
      have_slot = cache__shard_evict(c, s, now, CACHE_REMOVED_EVICTED, true, g);
    }
    if (reserve(c, !have_slot, bytes)) {
      cache__store_insert(&s->store, e, hash, bytes);
      cache__expiry_add(&s->expiry, e);
      c->policy->inserted(s->policy_state, e, hash);
      s->counters.sets++;
      rc = CACHE_OK;
      break;
    }
    if (cache__shard_evict(c, s, now, CACHE_REMOVED_EVICTED, false, g))
      continue;
    /* The lock is let go: lookups will find the key gone meanwhile (only
     * with a byte bound, when this shard cannot make the room alone). */
    if (held)
      cache__store_release(&s->store);
    held = false;
    pthread_mutex_unlock(&s->lock);
    if (!evict_elsewhere(c, s, now, g))
      sched_yield(); /* the room is held by inserts under way elsewhere */
    cache__shard_lock(s);
  }
  if (held)
    cache__store_release(&s->store);
  if (rc == CACHE_OK)
    return rc;
  if (have_slot)
    atomic_fetch_sub_explicit(&c->count, 1, memory_order_relaxed);
  return is_closed(c) ? CACHE_ECLOSED : CACHE_ENOMEM;
}

/* Starts the cache misses of an insert into s while the entry is being
 * built, before the lock is taken. */
static void prefetch(const cache_t *c, const cache__shard_t *s, uint32_t hash) {
  cache__store_prefetch(&s->store, hash);
  if (c->policy->prefetch != NULL)
    c->policy->prefetch(s->policy_state, hash);
}

int cache_set(cache_t *c, const void *key, size_t key_len, const void *value,
              size_t value_len, uint64_t ttl_ms) {
  if (c == NULL || !key_ok(key, key_len) || (value == NULL && value_len > 0))
    return CACHE_EINVAL;
  /* Refuse what can never fit before paying for an allocation. */
  if (value_len > CACHE_VALUE_MAX ||
      (c->options.max_bytes &&
       cache__entry_size(key_len, value_len, false) > c->options.max_bytes))
    return CACHE_ETOOBIG;
  if (is_closed(c))
    return CACHE_ECLOSED;
  uint64_t hash = key_hash(c, key, key_len);
  prefetch(c, cache__shard_of(c, hash), (uint32_t)hash);
  uint64_t now = cache__now(c);
  cache__entry_t *e =
      entry_new(c, key, key_len, value, value_len, deadline(c, ttl_ms, now));
  if (e == NULL)
    return CACHE_ENOMEM;
  size_t bytes = cache__entry_footprint(c, e);
  if (c->options.max_bytes && bytes > c->options.max_bytes) {
    cache__mem_free(&c->mem, e, cache__entry_size_of(e));
    return CACHE_ETOOBIG;
  }

  cache__graveyard_t g = {NULL};
  cache__shard_t *s = cache__shard_of(c, hash);
  cache__shard_lock(s);
  int rc = insert_locked(c, s, e, (uint32_t)hash, bytes, now, &g);
  pthread_mutex_unlock(&s->lock);
  cache__bury(c, &g);
  if (rc != CACHE_OK)
    cache__mem_free(&c->mem, e, cache__entry_size_of(e));
  else if (c->options.memory_threshold_mb != 0)
    cache__memory_check(c);
  return rc;
}

/* ---- lookups --------------------------------------------------------------
 */

/* Copies e's value out if buf holds it: CACHE_OK, or CACHE_ETOOSMALL
 * (nothing copied). *value_len gets the value's length either way. */
static int copy_value(const cache__entry_t *e, void *buf, size_t buf_len,
                      size_t *value_len) {
  size_t n = cache__entry_value_len(e);
  *value_len = n;
  if (buf_len < n)
    return CACHE_ETOOSMALL;
  if (n > 0)
    memcpy(buf, cache__entry_value(e), n);
  return CACHE_OK;
}

/* Counts the lookup and copies the value of e (NULL for a miss) out. Lock
 * held. */
static int read_entry(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                      void *buf, size_t buf_len, size_t *value_len) {
  if (e == NULL) {
    s->counters.misses++;
    return CACHE_NOT_FOUND;
  }
  s->counters.hits++;
  c->policy->accessed(s->policy_state, e);
  return copy_value(e, buf, buf_len, value_len);
}

/* Adds a lookup answered without the lock to the calling thread's
 * stripe: a hit, or a miss. */
static void count_stripe(cache_t *c, const cache__epoch_rec_t *r, bool hit) {
  if (r->index + 1 < CACHE__STRIPES) {
    cache__stripe_t *st = &c->lookup_stripes[r->index + 1];
    _Atomic uint64_t *n = hit ? &st->hits : &st->misses;
    /* Only this thread writes it: no read-modify-write needed. */
    atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                          memory_order_relaxed);
  } else {
    cache__stripe_t *st = &c->lookup_stripes[0];
    atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1,
                              memory_order_relaxed);
  }
}

/* The lookup without the lock: a hit on a live entry that the policy can
 * record without the lock (policy.h, `hit`) is answered here, writing
 * nothing that another thread reads on its way but the entry's own policy
 * bytes, and those only when they change. So is a miss, once a second probe
 * has made sure that no entry was moving meanwhile (a key in the middle of
 * a move is not seen). Anything else (an expired entry; a hit the policy
 * must see under the lock; a miss while entries moved) returns
 * CACHE__RETRY for the locked path. */
#define CACHE__RETRY 2
_Static_assert(CACHE__RETRY != CACHE_OK && CACHE__RETRY != CACHE_NOT_FOUND &&
                   CACHE__RETRY > 0,
               "CACHE__RETRY is no status a lookup returns");
/* The move a hit without the lock asked for (policy.h, `touch`), if the
 * shard's lock is free: the key is found again under it, since its entry
 * may have been replaced or unlinked since. */
static void touch_if_free(cache_t *c, cache__shard_t *s, uint32_t hash,
                          const void *key, size_t key_len) {
  if (pthread_mutex_trylock(&s->lock) != 0)
    return;
  if (!is_closed(c)) {
    cache__entry_t *e = cache__store_find(&s->store, hash, key, key_len);
    if (e != NULL)
      c->policy->touch(s->policy_state, e);
  }
  pthread_mutex_unlock(&s->lock);
}

static int get_shared(cache_t *c, cache__shard_t *s, uint32_t hash,
                      const void *key, size_t key_len, uint64_t now, void *buf,
                      size_t buf_len, size_t *value_len) {
  cache__epoch_rec_t *r = cache__epoch_self();
  if (r == NULL)
    return CACHE__RETRY;
  int rc = CACHE__RETRY;
  int hit = CACHE__HIT_RETRY;
  cache__epoch_enter(r);
  cache__entry_t *e = cache__store_find_shared(&s->store, hash, key, key_len);
  if (e == NULL) {
    if (cache__store_absent_shared(&s->store, hash, key, key_len))
      rc = CACHE_NOT_FOUND;
  } else if (!cache__entry_is_expired(e, now) &&
             (hit = c->policy->hit(s->policy_state, e)) != CACHE__HIT_RETRY) {
    rc = copy_value(e, buf, buf_len, value_len);
  }
  cache__epoch_leave(r);
  if (hit == CACHE__HIT_MOVE)
    touch_if_free(c, s, hash, key, key_len);
  if (rc != CACHE__RETRY)
    count_stripe(c, r, rc != CACHE_NOT_FOUND);
  return rc;
}

/* The lookup under the lock, for whatever get_shared could not answer.
 * Out of line, so that the lookups answered without the lock (nearly all)
 * do not set up its graveyard. */
__attribute__((noinline)) static int get_locked(cache_t *c, cache__shard_t *s,
                                                uint32_t hash, const void *key,
                                                size_t key_len, uint64_t now,
                                                void *buf, size_t buf_len,
                                                size_t *value_len) {
  cache__graveyard_t g = {NULL};
  int rc;
  cache__shard_lock(s);
  if (is_closed(c))
    rc = CACHE_ECLOSED;
  else
    rc =
        read_entry(c, s, cache__shard_lookup(c, s, hash, key, key_len, now, &g),
                   buf, buf_len, value_len);
  pthread_mutex_unlock(&s->lock);
  cache__bury(c, &g);
  return rc;
}

int cache_get(cache_t *c, const void *key, size_t key_len, void *buf,
              size_t buf_len, size_t *value_len) {
  if (c == NULL || !key_ok(key, key_len) || value_len == NULL ||
      (buf == NULL && buf_len > 0))
    return CACHE_EINVAL;
  uint64_t hash = key_hash(c, key, key_len);
  cache__shard_t *s = cache__shard_of(c, hash);
  /* Start the miss on the table while the clock is read. */
  cache__store_prefetch(&s->store, (uint32_t)hash);
  uint64_t now = cache__now(c);

  if (c->policy->hit != NULL && !is_closed(c)) {
    int rc = get_shared(c, s, (uint32_t)hash, key, key_len, now, buf, buf_len,
                        value_len);
    if (rc != CACHE__RETRY)
      return rc;
  }
  return get_locked(c, s, (uint32_t)hash, key, key_len, now, buf, buf_len,
                    value_len);
}

/* Looks key up, and deletes it if `remove`. CACHE_OK if a live entry was
 * there, CACHE_NOT_FOUND, or an error. */
static int find_or_delete(cache_t *c, const void *key, size_t key_len,
                          bool remove) {
  if (c == NULL || !key_ok(key, key_len))
    return CACHE_EINVAL;
  uint64_t hash = key_hash(c, key, key_len);
  uint64_t now = cache__now(c);
  cache__shard_t *s = cache__shard_of(c, hash);
  cache__graveyard_t g = {NULL};
  int rc = CACHE_NOT_FOUND;

  cache__shard_lock(s);
  if (is_closed(c)) {
    rc = CACHE_ECLOSED;
  } else {
    cache__entry_t *e =
        cache__shard_lookup(c, s, (uint32_t)hash, key, key_len, now, &g);
    if (e != NULL) {
      if (remove)
        cache__shard_unlink(c, s, e, CACHE_REMOVED_DELETED, false, &g);
      rc = CACHE_OK;
    }
  }
  pthread_mutex_unlock(&s->lock);
  cache__bury(c, &g);
  return rc;
}

int cache_contains(cache_t *c, const void *key, size_t key_len) {
  return find_or_delete(c, key, key_len, false);
}

int cache_delete(cache_t *c, const void *key, size_t key_len) {
  return find_or_delete(c, key, key_len, true);
}

/* ---- whole cache ------------------------------------------------------------
 */

int cache_clear(cache_t *c) {
  if (c == NULL)
    return CACHE_EINVAL;
  for (uint32_t i = 0; i <= c->shard_mask; i++) {
    cache__shard_t *s = &c->shards[i];
    cache__graveyard_t g = {NULL};
    cache__shard_lock(s);
    bool closed = is_closed(c);
    if (!closed)
      cache__shard_clear(c, s, &g);
    pthread_mutex_unlock(&s->lock);
    cache__bury(c, &g);
    if (closed)
      return CACHE_ECLOSED;
  }
  /* The freed entries went to the caller's thread cache, if it has one:
   * give them back to the arena too, so that a purge can return them. */
  const cache__epoch_rec_t *r = cache__epoch_current();
  if (r != NULL)
    cache__mem_thread_flush(&c->mem, r->index);
  return CACHE_OK;
}

uint64_t cache_count(cache_t *c) {
  if (c == NULL || is_closed(c))
    return 0;
  return atomic_load_explicit(&c->count, memory_order_relaxed);
}

uint64_t cache__expire_shard(cache_t *c, cache__shard_t *s, uint64_t now) {
  uint64_t total = 0, n;
  do {
    cache__graveyard_t g = {NULL};
    cache__shard_lock(s);
    n = is_closed(c) ? 0
                     : cache__shard_expire(c, s, now, CACHE__PASS_BATCH, &g);
    pthread_mutex_unlock(&s->lock);
    cache__bury(c, &g);
    total += n;
  } while (n == CACHE__PASS_BATCH);
  return total;
}

int cache__expire_pass(cache_t *c, uint64_t *removed) {
  if (is_closed(c))
    return CACHE_ECLOSED;
  if (atomic_exchange(&c->cleaning, true))
    return CACHE_EBUSY;
  int rc = CACHE_OK;
  uint64_t total = 0;
  if (CACHE__FAULT(CACHE__FAULT_PASS)) {
    rc = CACHE_ENOMEM;
    atomic_fetch_add(&c->cleanup_errors, 1);
  } else {
    uint64_t now = cache__now(c);
    for (uint32_t i = 0; i <= c->shard_mask; i++)
      total += cache__expire_shard(c, &c->shards[i], now);
    atomic_fetch_add(&c->cleanup_runs, 1);
  }
  atomic_store(&c->cleaning, false);
  if (rc == CACHE_OK && removed != NULL)
    *removed = total;
  return rc;
}

int cache_cleanup(cache_t *c, uint64_t *removed) {
  if (c == NULL)
    return CACHE_EINVAL;
  return cache__expire_pass(c, removed);
}
