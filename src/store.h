/* The store: a chained hash table of entries, keyed by their bytes. It owns
 * no policy and no lock; the caller holds whatever lock guards it. */
#ifndef CACHE_STORE_H
#define CACHE_STORE_H

#include "alloc.h"
#include "entry.h"

typedef struct cache__store {
  cache__entry_t **buckets;
  size_t mask;    /* bucket count - 1; the count is a power of two */
  uint64_t count; /* entries linked in */
  uint64_t bytes; /* their footprint as the allocator sized them */
} cache__store_t;

int cache__store_init(cache__store_t *st, cache__mem_t *mem);
void cache__store_free(cache__store_t *st, cache__mem_t *mem);

cache__entry_t *cache__store_find(const cache__store_t *st, uint32_t hash,
                                  const void *key, size_t key_len);

/* Links e in. The key must not be present. Growing the table is best
 * effort: if memory is short the table stays as it is, only slower. */
void cache__store_insert(cache__store_t *st, cache__mem_t *mem,
                         cache__entry_t *e, size_t footprint);

void cache__store_remove(cache__store_t *st, cache__entry_t *e,
                         size_t footprint);

/* Calls fn on every entry; fn may remove the entry it is given. */
void cache__store_each(cache__store_t *st,
                       void (*fn)(cache__entry_t *e, void *arg), void *arg);

#endif
