/* What happens to entries under a shard lock: lookup with lazy expiry,
 * unlinking with the bookkeeping of the totals and the counters, and the
 * hand-over of removed entries to the listener once the lock is gone. */
#include "cache_int.h"
#include "epoch.h"

uint64_t cache__entry_bytes(cache_t *c) {
  if (c->track_bytes)
    return atomic_load_explicit(&c->bytes, memory_order_relaxed);
  uint64_t sum = 0;
  for (uint32_t i = 0; i <= c->shard_mask; i++)
    sum += cache__store_bytes(&c->shards[i].store);
  return sum;
}

size_t cache__entry_footprint(cache_t *c, cache__entry_t *e) {
  return cache__mem_usable(&c->mem, e, cache__entry_size_of(e));
}

static void count_removal(cache__shard_t *s, int reason) {
  switch (reason) {
  case CACHE_REMOVED_EXPIRED:
    s->counters.expirations++;
    break;
  case CACHE_REMOVED_MEMORY:
    s->counters.memory_evictions++;
    s->counters.evictions++;
    break;
  case CACHE_REMOVED_EVICTED:
    s->counters.evictions++;
    break;
  case CACHE_REMOVED_DELETED:
    s->counters.deletes++;
    break;
  default:
    break;
  }
}

/* Limbo entries are freed in batches, each of which costs a look at every
 * thread's epoch record: a batch is 8 entries, or fewer when they add up
 * to 64 KiB, so that large values do not pile up. The memory an entry
 * holds in the limbo is memory the allocator cannot hand out again, and it
 * makes the allocator take pages elsewhere. Small batches also give an
 * entry's memory back while it is still in the CPU's caches, for the next
 * insert to write into: W1 with 2 threads ran 3-6% faster than with
 * batches of 64 (and as fast as with 4; 2 was slower again). A limbo per
 * thread instead of per shard, so that neither a limbo's lines nor its
 * entries pass from core to core, ran no faster: median 1.00 times over
 * 12 rounds (1.03 with batches of 32, 0.97 with 128). */
#define LIMBO_BATCH 8
#define LIMBO_BATCH_BYTES (64 * 1024)
/* A reader descheduled in the middle of a lookup (more threads than CPUs)
 * holds the epoch back for as long as it waits for a CPU, and meanwhile
 * every removal in the process stays in some limbo. Past this many bytes
 * in one shard's limbo, the thread that removes waits for that reader
 * (outside the lock, in cache__bury) before it goes on: the memory a
 * cache holds stays bounded, and the wait falls on the thread making the
 * garbage. */
#define LIMBO_MAX_BYTES (256 * 1024)

/* A limbo entry's dead tag holds the low 44 bits of its epoch stamp. A
 * stamp is compared with the epoch that is safe by the difference of the
 * two, modulo 2^44: the entries in a limbo are far fewer than 2^43 epochs
 * old, so the difference is small (stamp at or before safe) or close to
 * 2^44 (after it). */
static bool stamp_safe(uint64_t tag, uint64_t safe) {
  return ((safe - tag) & CACHE__WORD_MASK) < (CACHE__WORD_MASK >> 1);
}

static void limbo_push(cache__shard_t *s, cache__entry_t *e, uint64_t stamp) {
  s->limbo_bytes += cache__entry_size_of(e);
  cache__dead_set_tag(e, stamp);
  cache__dead_set_next(e, NULL);
  if (s->limbo_tail != NULL)
    cache__dead_set_next(s->limbo_tail, e);
  else
    s->limbo_head = e;
  s->limbo_tail = e;
  s->limbo_len++;
}

void cache__shard_reclaim(cache_t *c, cache__shard_t *s, bool all,
                          cache__graveyard_t *g) {
  (void)c;
  /* With no other thread left that could be reading (the readers of a
   * busy spell have ended, say), the whole limbo is safe. */
  bool every = all || cache__epoch_alone();
  uint64_t safe = every ? 0 : cache__epoch_reclaimable();
  /* A limbo that grew while a reader held the epoch back is given back a
   * few batches at a time, so that no caller waits long behind the lock. */
  uint32_t max = all ? UINT32_MAX : 4 * LIMBO_BATCH;
  cache__entry_t *e;
  while (max-- > 0 && (e = s->limbo_head) != NULL &&
         (every || stamp_safe(cache__dead_tag(e), safe))) {
    s->limbo_head = cache__dead_next(e);
    if (s->limbo_head == NULL)
      s->limbo_tail = NULL;
    s->limbo_len--;
    s->limbo_bytes -= cache__entry_size_of(e);
    cache__dead_set_next(e, g->dead);
    g->dead = e;
  }
  /* Stamps only grow along the list, so what is left is mostly not yet
   * safe: look again only after another batch. */
  s->limbo_check = s->limbo_len + LIMBO_BATCH;
  s->limbo_bytes_check = s->limbo_bytes + LIMBO_BATCH_BYTES;
}

/* e is unlinked from every structure: into the limbo with it, until no
 * lookup without the lock can be reading it. */
static void retire(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                   cache__graveyard_t *g) {
  if (cache__epoch_alone()) {
    cache__dead_set_next(e, g->dead);
    g->dead = e;
    return;
  }
  limbo_push(s, e, cache__epoch_stamp());
  if (s->limbo_len >= s->limbo_check || s->limbo_bytes >= s->limbo_bytes_check)
    cache__shard_reclaim(c, s, false, g);
  if (s->limbo_bytes > LIMBO_MAX_BYTES)
    g->stalled = s;
}

void cache__shard_unlink(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                         int reason, bool keep_slot, cache__graveyard_t *g) {
  uint32_t hash = cache__store_hash(&s->store, e);
  /* The store, the heap and the sketch each cost a miss here, usually:
   * start all three before the first is needed. */
  cache__store_prefetch(&s->store, hash);
  cache__expiry_prefetch(&s->expiry, e);
  if (c->policy->prefetch != NULL)
    c->policy->prefetch(s->policy_state, hash);
  size_t bytes = cache__entry_footprint(c, e);
  cache__store_remove(&s->store, &c->mem, e, hash, bytes);
  cache__expiry_remove(&s->expiry, &c->mem, e);
  c->policy->removed(s->policy_state, e, hash);
  if (c->track_bytes)
    atomic_fetch_sub_explicit(&c->bytes, bytes, memory_order_relaxed);
  if (!keep_slot)
    atomic_fetch_sub_explicit(&c->count, 1, memory_order_relaxed);
  count_removal(s, reason);
  if (c->options.on_remove == NULL) {
    retire(c, s, e, g);
    return;
  }
  /* The listener needs the reason, and the limbo the shard, later. */
  cache__dead_set_tag(e, (uint64_t)(s - c->shards) << 3 | (unsigned)reason);
  cache__dead_set_next(e, g->head);
  g->head = e;
}

cache__entry_t *cache__shard_lookup(cache_t *c, cache__shard_t *s,
                                    uint32_t hash, const void *key,
                                    size_t key_len, uint64_t now,
                                    cache__graveyard_t *g) {
  cache__entry_t *e = cache__store_find(&s->store, hash, key, key_len);
  if (e != NULL && cache__entry_is_expired(e, now)) {
    cache__shard_unlink(c, s, e, CACHE_REMOVED_EXPIRED, false, g);
    e = NULL;
  }
  return e;
}

static void unlink_cleared(cache__entry_t *e, void *arg) {
  void **a = arg;
  cache__shard_unlink(a[0], a[1], e, CACHE_REMOVED_CLEARED, false, a[2]);
}

/* Frees what can be freed of the limbo now. A shard that falls quiet
 * would otherwise keep its last removed entries until it is used again:
 * clears and expiry passes (the reaper's too) end with this. */
static void tidy(cache_t *c, cache__shard_t *s, cache__graveyard_t *g) {
  if (s->limbo_len > 0)
    cache__shard_reclaim(c, s, false, g);
}

void cache__shard_clear(cache_t *c, cache__shard_t *s, cache__graveyard_t *g) {
  void *args[3] = {c, s, g};
  cache__store_drain(&s->store, unlink_cleared, args);
  tidy(c, s, g);
}

uint64_t cache__shard_expire(cache_t *c, cache__shard_t *s, uint64_t now,
                             uint64_t max, cache__graveyard_t *g) {
  uint64_t n = 0;
  cache__entry_t *e;
  while (n < max && (e = cache__expiry_first(&s->expiry)) != NULL &&
         cache__entry_is_expired(e, now)) {
    cache__shard_unlink(c, s, e, CACHE_REMOVED_EXPIRED, false, g);
    n++;
  }
  if (n < max) /* the last batch of a pass */
    tidy(c, s, g);
  return n;
}

bool cache__shard_evict(cache_t *c, cache__shard_t *s, uint64_t now, int reason,
                        bool keep_slot, cache__graveyard_t *g) {
  cache__entry_t *v = cache__expiry_first(&s->expiry);
  if (v == NULL || !cache__entry_is_expired(v, now))
    v = c->policy->victim(s->policy_state);
  if (v == NULL)
    return false;
  if (cache__entry_is_expired(v, now))
    reason = CACHE_REMOVED_EXPIRED;
  cache__shard_unlink(c, s, v, reason, keep_slot, g);
  return true;
}

static void free_dead(cache_t *c, cache__entry_t *e) {
  while (e != NULL) {
    cache__entry_t *next = cache__dead_next(e);
    cache__mem_free(&c->mem, e, cache__entry_size_of(e));
    e = next;
  }
}

static cache__shard_t *shard_of_dead(cache_t *c, const cache__entry_t *e) {
  return &c->shards[cache__dead_tag(e) >> 3];
}

void cache__bury(cache_t *c, cache__graveyard_t *g) {
  cache_remove_cb cb = c->options.on_remove;
  cache__entry_t *l = g->head;
  g->head = NULL;
  for (cache__entry_t *e = l; e != NULL; e = cache__dead_next(e))
    cb(cache__entry_key(e), cache__entry_key_len(e), cache__entry_value(e),
       cache__entry_value_len(e), (int)(cache__dead_tag(e) & 7),
       c->options.on_remove_ctx);
  /* Into the limbo of the shard each came from, one lock hold for each
   * run of entries of the same shard. */
  while (l != NULL) {
    cache__shard_t *s = shard_of_dead(c, l);
    cache__shard_lock(s);
    do {
      cache__entry_t *next = cache__dead_next(l);
      retire(c, s, l, g);
      l = next;
    } while (l != NULL && shard_of_dead(c, l) == s);
    pthread_mutex_unlock(&s->lock);
  }
  cache__shard_t *s = g->stalled;
  if (s != NULL) {
    g->stalled = NULL;
    cache__epoch_synchronize();
    cache__shard_lock(s);
    cache__shard_reclaim(c, s, false, g);
    pthread_mutex_unlock(&s->lock);
  }
  l = g->dead;
  g->dead = NULL;
  free_dead(c, l);
}

void cache__stripe_add(cache_t *c, uint64_t *hits, uint64_t *misses) {
  for (int i = 0; i < CACHE__STRIPES; i++) {
    const cache__stripe_t *st = &c->lookup_stripes[i];
    *hits += atomic_load_explicit(&st->hits, memory_order_relaxed);
    *misses += atomic_load_explicit(&st->misses, memory_order_relaxed);
  }
}
