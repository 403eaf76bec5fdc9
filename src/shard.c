/* What happens to entries under a shard lock: lookup with lazy expiry,
 * unlinking with the bookkeeping of the totals and the counters, and the
 * hand-over of removed entries to the listener once the lock is gone. */
#include "cache_int.h"

cache__shard_t *cache__shard_of(const cache_t *c, uint64_t hash) {
  /* The high half picks the shard; the store keeps the low half. */
  return &c->shards[(hash >> 32) & c->shard_mask];
}

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

void cache__shard_unlink(cache_t *c, cache__shard_t *s, cache__entry_t *e,
                         int reason, bool keep_slot, cache__graveyard_t *g) {
  size_t bytes = cache__entry_footprint(c, e);
  cache__store_remove(&s->store, &c->mem, e, bytes);
  cache__expiry_remove(&s->expiry, &c->mem, e);
  c->policy->removed(s->policy_state, e);
  if (c->track_bytes)
    atomic_fetch_sub_explicit(&c->bytes, bytes, memory_order_relaxed);
  if (!keep_slot)
    atomic_fetch_sub_explicit(&c->count, 1, memory_order_relaxed);
  count_removal(s, reason);
  e->removal = (uint8_t)reason;
  e->link.next = g->head;
  g->head = &e->link;
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

void cache__shard_clear(cache_t *c, cache__shard_t *s, cache__graveyard_t *g) {
  void *args[3] = {c, s, g};
  cache__store_drain(&s->store, unlink_cleared, args);
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

void cache__bury(cache_t *c, cache__graveyard_t *g) {
  cache_remove_cb cb = c->options.on_remove;
  cache__link_t *l = g->head;
  g->head = NULL;
  while (l != NULL) {
    cache__link_t *next = l->next;
    cache__entry_t *e = cache__entry_of(l);
    if (cb != NULL)
      cb(cache__entry_key(e), e->key_len, cache__entry_value(e), e->value_len,
         e->removal, c->options.on_remove_ctx);
    cache__mem_free(&c->mem, e, cache__entry_size_of(e));
    l = next;
  }
}
