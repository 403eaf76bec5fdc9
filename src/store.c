/* The store's hash table: see store.h.
 *
 * Buckets hold singly linked chains through cache__entry_t.hnext. The table
 * doubles when the load passes one entry per bucket. Each entry keeps a
 * 32-bit hash so that a probe compares keys only on a likely match and a
 * resize never rehashes key bytes. */
#include "store.h"

#define INITIAL_BUCKETS 16

static size_t bucket_of(const cache__store_t *st, uint32_t hash) {
  return hash & st->mask;
}

int cache__store_init(cache__store_t *st, cache__mem_t *mem) {
  st->buckets = cache__mem_calloc(mem, INITIAL_BUCKETS * sizeof *st->buckets);
  if (st->buckets == NULL)
    return -1;
  st->mask = INITIAL_BUCKETS - 1;
  st->count = 0;
  st->bytes = 0;
  return 0;
}

void cache__store_free(cache__store_t *st, cache__mem_t *mem) {
  cache__mem_free(mem, st->buckets, (st->mask + 1) * sizeof *st->buckets);
  st->buckets = NULL;
}

cache__entry_t *cache__store_find(const cache__store_t *st, uint32_t hash,
                                  const void *key, size_t key_len) {
  cache__entry_t *e = st->buckets[bucket_of(st, hash)];
  while (e != NULL && !cache__entry_matches(e, hash, key, key_len))
    e = e->hnext;
  return e;
}

static void grow(cache__store_t *st, cache__mem_t *mem) {
  size_t old_n = st->mask + 1, new_n = old_n * 2;
  if (new_n > SIZE_MAX / sizeof *st->buckets)
    return;
  cache__entry_t **nb = cache__mem_calloc(mem, new_n * sizeof *nb);
  if (nb == NULL)
    return; /* keep working with longer chains */
  for (size_t i = 0; i < old_n; i++) {
    cache__entry_t *e = st->buckets[i];
    while (e != NULL) {
      cache__entry_t *next = e->hnext;
      size_t b = e->hash & (new_n - 1);
      e->hnext = nb[b];
      nb[b] = e;
      e = next;
    }
  }
  cache__mem_free(mem, st->buckets, old_n * sizeof *st->buckets);
  st->buckets = nb;
  st->mask = new_n - 1;
}

void cache__store_insert(cache__store_t *st, cache__mem_t *mem,
                         cache__entry_t *e, size_t footprint) {
  if (st->count >= st->mask + 1)
    grow(st, mem);
  size_t b = bucket_of(st, e->hash);
  e->hnext = st->buckets[b];
  st->buckets[b] = e;
  st->count++;
  st->bytes += footprint;
}

void cache__store_remove(cache__store_t *st, cache__entry_t *e,
                         size_t footprint) {
  cache__entry_t **pp = &st->buckets[bucket_of(st, e->hash)];
  while (*pp != e)
    pp = &(*pp)->hnext;
  *pp = e->hnext;
  e->hnext = NULL;
  st->count--;
  st->bytes -= footprint;
}

void cache__store_each(cache__store_t *st,
                       void (*fn)(cache__entry_t *e, void *arg), void *arg) {
  for (size_t i = 0; i <= st->mask; i++) {
    cache__entry_t *e = st->buckets[i];
    while (e != NULL) {
      cache__entry_t *next = e->hnext; /* fn may unlink e */
      fn(e, arg);
      e = next;
    }
  }
}
