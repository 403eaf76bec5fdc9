/* The store: an open-addressing hash table of entries, keyed by their
 * bytes. It owns no policy and no lock; the caller holds whatever lock
 * guards it.
 *
 * Each slot is one 64-bit word: the entry's address in the low 48 bits,
 * 12 bits of its hash (the tag) in the top ones, and, in the 4 low bits
 * that the entry's 16-byte alignment leaves free and the 4 between the
 * address and the tag, how far the slot is from the entry's home slot
 * (255: that far or farther). A probe reads slots (neighbours share a
 * cache line) and dereferences an entry only when the tag matches (1 in
 * 4,096 for another key), so a lookup costs about one cache miss in the
 * table and, on a hit, one in the entry; a miss usually touches no entry
 * at all.
 * Linear probing with backward-shift deletion keeps no tombstones, and the
 * distances let a deletion shift its neighbours back without reading
 * their entries. */
#ifndef CACHE_STORE_H
#define CACHE_STORE_H

#include "alloc.h"
#include "entry.h"

#include <stdatomic.h>
#include <stdbool.h>

typedef struct cache__store {
  uint64_t *slots; /* 0 = empty */
  size_t size;     /* slot count: any number from 16 up */
  /* The block that holds the slots after a head with the count, as
   * lookups without the lock read them (store.c). */
  uint64_t *table;
  size_t fit;    /* the count that holds the expected entries, or 0 */
  uint64_t seed; /* of the keys' hashes */
  /* Entries linked in, and their footprint as the allocator sized them.
   * Written only under the lock that guards the store, read without it
   * (cache__store_count/_bytes) by whoever adds up the shards. Every
   * insert and removal writes them: they live on a cache line of their
   * own, away from slots and size, which every lookup reads. */
  _Alignas(64) _Atomic uint64_t count;
  _Atomic uint64_t bytes;
  /* Odd while a deletion moves entries back, or while a change that a
   * lookup must not see half done is under way (cache__store_hold); two
   * more after each. A lookup without the lock reads it only to confirm a
   * miss. */
  _Atomic uint64_t moves;
} cache__store_t;

static inline uint64_t cache__store_count(const cache__store_t *st) {
  return atomic_load_explicit(&st->count, memory_order_relaxed);
}

static inline uint64_t cache__store_bytes(const cache__store_t *st) {
  return atomic_load_explicit(&st->bytes, memory_order_relaxed);
}

/* True if an entry at this address can be stored: its address fits the
 * 48 bits of a slot, as every user-space address does on x86-64 and on
 * 48-bit arm64, and is 16-byte aligned, as malloc's blocks of 16 bytes or
 * more (every entry: entry.h) are. The same two facts let the policy
 * queues link entries by 44-bit words. */
static inline bool cache__store_can_hold(const void *entry) {
  return ((uintptr_t)entry >> 48) == 0 && ((uintptr_t)entry & 15) == 0;
}

/* capacity: the entries the store is expected to hold at most, or 0 if
 * unknown. The table grows to fit them rather than to a power of two. */
int cache__store_init(cache__store_t *st, cache__mem_t *mem, uint64_t capacity,
                      uint64_t seed);

/* The hash (its low 32 bits) of e's key, as lookups and inserts give it. */
uint32_t cache__store_hash(const cache__store_t *st, const cache__entry_t *e);

/* Bits of the hash a slot keeps as its tag: the highest ones. */
#define CACHE__STORE_TAG_BITS 12

/* The home slot of a hash in a table of n slots: a multiply and a shift
 * rather than a division. The hash is rotated first, because its high 12
 * bits are the slot's tag; this way a table of up to 2^20 slots takes its
 * homes from the other 20. */
static inline size_t cache__store_home(size_t n, uint32_t hash) {
  uint32_t mixed =
      hash << CACHE__STORE_TAG_BITS | hash >> (32 - CACHE__STORE_TAG_BITS);
  return (size_t)(((uint64_t)mixed * n) >> 32);
}
void cache__store_free(cache__store_t *st, cache__mem_t *mem);

cache__entry_t *cache__store_find(const cache__store_t *st, uint32_t hash,
                                  const void *key, size_t key_len);

/* The same without the lock, inside an epoch (epoch.h): the table may be
 * changing meanwhile. An entry it returns was linked at some moment of the
 * call; NULL may also mean the key was being moved by a deletion, so a
 * miss must be confirmed under the lock. */
cache__entry_t *cache__store_find_shared(const cache__store_t *st,
                                         uint32_t hash, const void *key,
                                         size_t key_len);

/* After cache__store_find_shared found nothing: true if the key was
 * absent at some moment of the call, which a second probe shows when no
 * deletion moved entries while it ran; false if it cannot tell (or found
 * the key after all), and the lock must decide. Inside an epoch. */
bool cache__store_absent_shared(const cache__store_t *st, uint32_t hash,
                                const void *key, size_t key_len);

/* Starts loading the slot where a lookup for hash begins, before the lock
 * is taken, so that the miss overlaps with other work. Safe without the
 * lock: at worst it loads a line of a table being replaced, or, with the
 * count of one table and the address of another, a line outside both (a
 * prefetch never faults). */
static inline void cache__store_prefetch(const cache__store_t *st,
                                         uint32_t hash) {
  const uint64_t *slots = __atomic_load_n(&st->slots, __ATOMIC_RELAXED);
  size_t n = __atomic_load_n(&st->size, __ATOMIC_RELAXED);
  __builtin_prefetch(&slots[cache__store_home(n, hash)]);
}

/* Makes sure one more entry can be inserted without growing past the
 * maximum load. 0, or -1 when out of memory (nothing changed). */
int cache__store_reserve(cache__store_t *st, cache__mem_t *mem);

/* Links e, of this hash, in; room must have been reserved and the key must
 * be absent. */
void cache__store_insert(cache__store_t *st, cache__entry_t *e, uint32_t hash,
                         size_t footprint);

/* Keeps lookups without the lock from confirming any miss until the
 * release, for a change made of several steps that they must not see half
 * done: a key replaced, whose old entry goes out before the new one comes
 * in. Such lookups take the lock instead, and find the change complete.
 * Lock held from the hold to the release; deletions in between count as
 * part of it. */
void cache__store_hold(cache__store_t *st);
void cache__store_release(cache__store_t *st);

/* Unlinks e. The table halves when it is less than an eighth full (if
 * there is memory for the smaller one), so that a cache that was once
 * large and is now small does not keep the large table. */
void cache__store_remove(cache__store_t *st, cache__mem_t *mem,
                         cache__entry_t *e, uint32_t hash, size_t footprint);

/* Calls fn on every entry; fn must remove the entry it is given (with
 * cache__store_remove, which may shrink the table meanwhile). */
void cache__store_drain(cache__store_t *st,
                        void (*fn)(cache__entry_t *e, void *arg), void *arg);

#endif
