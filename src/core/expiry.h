/* Expiry order of one shard: a min-heap of (deadline, entry) pairs.
 * The earliest deadline is always on top, so an expiry pass pops exactly
 * the expired entries and never looks at a live one: its cost grows with
 * what has expired (times log n), not with what the shard holds. Entries
 * that never expire are not in the heap. Each entry remembers its place
 * (heap_index, in its deadline block) so that deleting or evicting it is
 * O(log n) too.
 *
 * Every slot that moves writes its entry's heap_index, a line seldom in
 * the CPU's caches, so the heap is made shallow: each slot has 4 children,
 * and the 4 children of a slot fill one 64-byte line (see expiry.c). When
 * every entry has the same TTL, the entry an LRU or FIFO shard evicts is
 * near the top, and its removal moves a slot at every level down to a
 * leaf: half as many levels as a binary heap's made W1 at 1 thread 1.07
 * to 1.10 times as fast with those policies, and 1.01 to 1.04 times with
 * W-TinyLFU, whose victims are young and near the leaves (medians of 3 to
 * 7 rounds, both builds loaded side by side); LRU at 2 threads 1.09. With
 * 8 children, whose slots span two lines, W-TinyLFU ran 0.99 to 1.01
 * times as fast. */
#ifndef CACHE_EXPIRY_H
#define CACHE_EXPIRY_H

#include "alloc.h"
#include "entry.h"

#define CACHE__HEAP_ARITY 4 /* children per slot */

typedef struct cache__expiry_slot {
  uint64_t at; /* copy of the entry's deadline: sifting reads no entry */
  cache__entry_t *entry;
} cache__expiry_slot_t;

typedef struct cache__expiry {
  cache__expiry_slot_t *heap; /* slot 0 is the top */
  uint32_t len;
  uint32_t cap;
} cache__expiry_t;

void cache__expiry_init(cache__expiry_t *x);
void cache__expiry_free(cache__expiry_t *x, cache__mem_t *mem);

/* Makes room for one more entry, so that the add that follows cannot fail.
 * 0, or -1 when out of memory (nothing changed). */
int cache__expiry_reserve(cache__expiry_t *x, cache__mem_t *mem);

/* Adds e if it has a deadline; room must have been reserved. */
void cache__expiry_add(cache__expiry_t *x, cache__entry_t *e);

/* Removes e if it is in the heap. The heap's array shrinks when it is
 * mostly empty, so a burst of entries with deadlines leaves no large
 * array behind. */
void cache__expiry_remove(cache__expiry_t *x, cache__mem_t *mem,
                          cache__entry_t *e);

/* Starts loading the heap slots that removing e will read: its own and
 * its children's. */
static inline void cache__expiry_prefetch(const cache__expiry_t *x,
                                          const cache__entry_t *e) {
  if (!cache__entry_expires(e))
    return;
  uint32_t i = cache__entry_deadline((cache__entry_t *)e)->heap_index;
  if (i < x->len) {
    __builtin_prefetch(&x->heap[i]);
    uint64_t child = (uint64_t)i * CACHE__HEAP_ARITY + 1;
    if (child < x->len)
      __builtin_prefetch(&x->heap[child]);
  }
}

/* The entry with the earliest deadline, or NULL. */
static inline cache__entry_t *cache__expiry_first(const cache__expiry_t *x) {
  return x->len > 0 ? x->heap[0].entry : NULL;
}

#endif
