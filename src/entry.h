/* One cached item, in one block: the header below, a deadline block if
 * the entry expires, then the key bytes, then the value bytes. One
 * allocation per entry keeps a hit to as few cache-line misses as possible
 * and makes its footprint exact. Entries that never expire carry no
 * deadline (16 bytes fewer), as memcached items carry no CAS unless asked. */
#ifndef CACHE_ENTRY_H
#define CACHE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A deadline that never comes. */
#define CACHE__NEVER UINT64_MAX
/* heap_index of an entry that is not in the expiry heap. */
#define CACHE__NO_HEAP UINT32_MAX

/* flags of an entry */
#define CACHE__ENTRY_DEADLINE 0x01u /* data starts with a cache__deadline_t */

/* Doubly linked list node; the policies keep their queues with it. */
typedef struct cache__link {
  struct cache__link *prev;
  struct cache__link *next;
} cache__link_t;

typedef struct cache__entry {
  cache__link_t link; /* policy queue; must stay first */
  uint32_t hash;      /* folded key hash, to skip most memcmp */
  uint32_t value_len;
  uint16_t key_len;    /* CACHE_KEY_MAX fits */
  uint8_t policy_bits; /* owned by the eviction policy */
  uint8_t policy_aux;  /* the same */
  uint8_t flags;       /* CACHE__ENTRY_* */
  /* Once unlinked, why (CACHE_REMOVED_*). Not shared with the policy's
   * bytes: a lookup without the lock may still update those after the
   * entry has been unlinked. */
  uint8_t removal;
  /* [cache__deadline_t if flags say so] key bytes, value bytes */
  _Alignas(8) unsigned char data[];
} cache__entry_t;

/* policy_bits and policy_aux are written under the shard lock but also
 * read and updated by lookups that take no lock (policy.h, `hit`):
 * single-byte atomic accesses, which cost nothing more than plain ones,
 * and compare-and-swap where a lookup writes. Every other field of a
 * linked entry is fixed until the entry is unlinked. */
static inline uint8_t cache__entry_bits(const cache__entry_t *e) {
  return __atomic_load_n(&e->policy_bits, __ATOMIC_RELAXED);
}

static inline void cache__entry_set_bits(cache__entry_t *e, unsigned v) {
  __atomic_store_n(&e->policy_bits, (uint8_t)v, __ATOMIC_RELAXED);
}

static inline uint8_t cache__entry_aux(const cache__entry_t *e) {
  return __atomic_load_n(&e->policy_aux, __ATOMIC_RELAXED);
}

static inline void cache__entry_set_aux(cache__entry_t *e, unsigned v) {
  __atomic_store_n(&e->policy_aux, (uint8_t)v, __ATOMIC_RELAXED);
}

/* Replaces the byte if it still holds `old`. */
static inline bool cache__entry_swap_bits(cache__entry_t *e, unsigned old,
                                          unsigned v) {
  uint8_t expected = (uint8_t)old;
  return __atomic_compare_exchange_n(&e->policy_bits, &expected, (uint8_t)v,
                                     false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static inline bool cache__entry_swap_aux(cache__entry_t *e, unsigned old,
                                         unsigned v) {
  uint8_t expected = (uint8_t)old;
  return __atomic_compare_exchange_n(&e->policy_aux, &expected, (uint8_t)v,
                                     false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static inline cache__entry_t *cache__entry_of(cache__link_t *link) {
  return (cache__entry_t *)link; /* link is the first member */
}

typedef struct cache__deadline {
  uint64_t at;         /* clock ms */
  uint32_t heap_index; /* place in the expiry heap, or CACHE__NO_HEAP */
} cache__deadline_t;

static inline bool cache__entry_expires(const cache__entry_t *e) {
  return (e->flags & CACHE__ENTRY_DEADLINE) != 0;
}

/* e's deadline block; only for an entry that expires. */
static inline cache__deadline_t *cache__entry_deadline(cache__entry_t *e) {
  return (cache__deadline_t *)(void *)e->data;
}

static inline const unsigned char *cache__entry_key(const cache__entry_t *e) {
  return e->data + (cache__entry_expires(e) ? sizeof(cache__deadline_t) : 0);
}

static inline const unsigned char *cache__entry_value(const cache__entry_t *e) {
  return cache__entry_key(e) + e->key_len;
}

/* Bytes requested from the allocator for an entry of these lengths. */
static inline size_t cache__entry_size(size_t key_len, size_t value_len,
                                       bool expires) {
  return sizeof(cache__entry_t) + (expires ? sizeof(cache__deadline_t) : 0) +
         key_len + value_len;
}

static inline size_t cache__entry_size_of(const cache__entry_t *e) {
  return cache__entry_size(e->key_len, e->value_len, cache__entry_expires(e));
}

static inline int cache__entry_is_expired(const cache__entry_t *e,
                                          uint64_t now) {
  return cache__entry_expires(e) &&
         now >= ((const cache__deadline_t *)(const void *)e->data)->at;
}

/* Keys of 8 to 16 bytes (the common size of ids and short names) are
 * compared as two 8-byte words, which may overlap, instead of by a call
 * to memcmp. */
static inline bool cache__keys_equal(const unsigned char *a, const void *key,
                                     size_t n) {
  const unsigned char *b = key;
  if (n < 8 || n > 16)
    return memcmp(a, b, n) == 0;
  uint64_t a0, a1, b0, b1;
  memcpy(&a0, a, 8);
  memcpy(&b0, b, 8);
  memcpy(&a1, a + n - 8, 8);
  memcpy(&b1, b + n - 8, 8);
  return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline int cache__entry_matches(const cache__entry_t *e, uint32_t hash,
                                       const void *key, size_t key_len) {
  return e->hash == hash && e->key_len == key_len &&
         cache__keys_equal(cache__entry_key(e), key, key_len);
}

/* Intrusive list helpers shared by the policies. A list is a sentinel link
 * whose prev is the tail and next the head. */
static inline void cache__list_init(cache__link_t *head) {
  head->prev = head->next = head;
}

static inline int cache__list_empty(const cache__link_t *head) {
  return head->next == head;
}

static inline void cache__list_unlink(cache__link_t *l) {
  l->prev->next = l->next;
  l->next->prev = l->prev;
  l->prev = l->next = l;
}

/* Insert at the tail (newest end). */
static inline void cache__list_push(cache__link_t *head, cache__link_t *l) {
  l->prev = head->prev;
  l->next = head;
  head->prev->next = l;
  head->prev = l;
}

#endif
