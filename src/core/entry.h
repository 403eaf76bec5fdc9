/* One cached item, in one block: a 16-byte header, then (if the lengths
 * are long, see below) a lengths block, then (if the entry expires) a
 * deadline block, then the key bytes, then the value bytes. One
 * allocation per entry keeps a hit to as few cache-line misses as possible
 * and makes its footprint exact. Entries that never expire carry no
 * deadline, as memcached items carry no CAS unless asked.
 *
 * The header is 16 bytes because that is what decides the allocator's
 * size class of a small entry: a 16-byte key and a 64-byte value fill 96
 * bytes with it, where a header of 32 (two pointers for the policy queue,
 * the key's hash, the lengths) took them to 112. So the queue links are
 * 44 bits each (entries are 16-byte aligned below 2^48), the hash is not
 * kept (the store and the policy compute it again from the key on the
 * rare paths that need it), and the lengths take 22 bits when the key is
 * at most 64 bytes and the value at most 65,535. */
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

/* flags of an entry: bits 0 and 1 below, bits 2..7 the key length - 1
 * when CACHE__ENTRY_LONG is not set. */
#define CACHE__ENTRY_DEADLINE 0x01u /* a cache__deadline_t before the key */
#define CACHE__ENTRY_LONG 0x02u     /* a cache__lengths_t first in data */
#define CACHE__SHORT_KEY_MAX 64u
#define CACHE__SHORT_VALUE_MAX 0xffffu

typedef struct cache__entry {
  /* The policy queue's links, or, once the entry is unlinked, the
   * graveyard's (cache__dead_*). Written only under a lock. */
  unsigned char link[11];
  uint8_t flags;       /* CACHE__ENTRY_*; fixed from creation */
  uint8_t policy_bits; /* owned by the eviction policy */
  uint8_t policy_aux;  /* the same */
  uint16_t value_len;  /* when not CACHE__ENTRY_LONG */
  /* [cache__lengths_t] [cache__deadline_t] key bytes, value bytes */
  _Alignas(16) unsigned char data[];
} cache__entry_t;

_Static_assert(sizeof(cache__entry_t) == 16, "the header is 16 bytes");

typedef struct cache__lengths {
  uint32_t value_len;
  uint16_t key_len;
} cache__lengths_t;

typedef struct cache__deadline {
  uint64_t at;         /* clock ms */
  uint32_t heap_index; /* place in the expiry heap, or CACHE__NO_HEAP */
} cache__deadline_t;

static inline bool cache__entry_is_long(size_t key_len, size_t value_len) {
  return key_len > CACHE__SHORT_KEY_MAX || value_len > CACHE__SHORT_VALUE_MAX;
}

static inline bool cache__entry_expires(const cache__entry_t *e) {
  return (e->flags & CACHE__ENTRY_DEADLINE) != 0;
}

static inline size_t cache__entry_key_len(const cache__entry_t *e) {
  if (e->flags & CACHE__ENTRY_LONG)
    return ((const cache__lengths_t *)(const void *)e->data)->key_len;
  return (size_t)(e->flags >> 2) + 1;
}

static inline size_t cache__entry_value_len(const cache__entry_t *e) {
  if (e->flags & CACHE__ENTRY_LONG)
    return ((const cache__lengths_t *)(const void *)e->data)->value_len;
  return e->value_len;
}

_Static_assert(sizeof(cache__lengths_t) == 8 && sizeof(cache__deadline_t) == 16,
               "the offsets below are computed from the flag bits");

/* Where the deadline block, or the key if there is none, starts: 8 bytes
 * in when LONG (bit 1) is set. Every lookup comes here, so the offsets are
 * worked out from the flag bits without a branch. */
static inline size_t cache__entry_skip(const cache__entry_t *e) {
  return (size_t)(e->flags & CACHE__ENTRY_LONG) << 2;
}

/* e's deadline block; only for an entry that expires. */
static inline cache__deadline_t *cache__entry_deadline(cache__entry_t *e) {
  return (cache__deadline_t *)(void *)(e->data + cache__entry_skip(e));
}

/* The key, after the deadline block (16 bytes, DEADLINE: bit 0) if any. */
static inline const unsigned char *cache__entry_key(const cache__entry_t *e) {
  return e->data + cache__entry_skip(e) +
         ((size_t)(e->flags & CACHE__ENTRY_DEADLINE) << 4);
}

static inline const unsigned char *cache__entry_value(const cache__entry_t *e) {
  return cache__entry_key(e) + cache__entry_key_len(e);
}

/* Bytes requested from the allocator for an entry of these lengths. An
 * entry of 97 to 112 bytes asks for 128: the allocator's 112-byte blocks
 * start at every 16-byte offset of a cache line, and half of them cross
 * two line boundaries, so that a hit (header, deadline, key and value)
 * reads three lines instead of two. W1's entries (16-byte key, 64-byte
 * value, a deadline) are such: cachegrind counted 10 million more first-
 * level misses in its 20 million requests at 112. The 96-byte blocks of
 * entries with no deadline start at offsets 0 and 32 and cross one. */
static inline size_t cache__entry_size(size_t key_len, size_t value_len,
                                       bool expires) {
  size_t n =
      sizeof(cache__entry_t) +
      (cache__entry_is_long(key_len, value_len) ? sizeof(cache__lengths_t)
                                                : 0) +
      (expires ? sizeof(cache__deadline_t) : 0) + key_len + value_len;
  return n > 96 && n <= 112 ? 128 : n;
}

static inline size_t cache__entry_size_of(const cache__entry_t *e) {
  return cache__entry_size(cache__entry_key_len(e), cache__entry_value_len(e),
                           cache__entry_expires(e));
}

/* Fills in the header of a new entry (its links are set when it is
 * queued) and its lengths block; the deadline, key and value are the
 * caller's. */
static inline void cache__entry_init(cache__entry_t *e, size_t key_len,
                                     size_t value_len, bool expires) {
  memset(e, 0, sizeof *e);
  if (cache__entry_is_long(key_len, value_len)) {
    e->flags = CACHE__ENTRY_LONG;
    *(cache__lengths_t *)(void *)e->data = (cache__lengths_t){
        .value_len = (uint32_t)value_len, .key_len = (uint16_t)key_len};
  } else {
    e->flags = (uint8_t)((key_len - 1) << 2);
    e->value_len = (uint16_t)value_len;
  }
  if (expires)
    e->flags |= CACHE__ENTRY_DEADLINE;
}

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

static inline int cache__entry_is_expired(const cache__entry_t *e,
                                          uint64_t now) {
  return cache__entry_expires(e) &&
         now >= cache__entry_deadline((cache__entry_t *)e)->at;
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

static inline bool cache__entry_matches(const cache__entry_t *e,
                                        const void *key, size_t key_len) {
  return cache__entry_key_len(e) == key_len &&
         cache__keys_equal(cache__entry_key(e), key, key_len);
}

/* ---- links -----------------------------------------------------------------
 * A link field holds two 44-bit words, A in bits 0..43 and B in bits
 * 44..87 (little-endian over the 11 bytes, whatever the CPU's order). In a
 * queue, A is the previous node and B the next, each an address shifted
 * right by 4. Only the 11 bytes are ever written, never the flags and
 * policy bytes after them, which lookups read and swap without the lock. */
#define CACHE__WORD_BITS 44
#define CACHE__WORD_MASK ((UINT64_C(1) << CACHE__WORD_BITS) - 1)

/* 8 bytes of the field from byte `at` as a little-endian number, and
 * back: A is read and written through bytes 0..7, B through bytes 3..10,
 * so each word is one load (and one store), and no store reaches byte 11
 * (the flags) or beyond. */
static inline uint64_t cache__link_load(const unsigned char *l, int at) {
  uint64_t v;
  memcpy(&v, l + at, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

static inline void cache__link_store(unsigned char *l, int at, uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  memcpy(l + at, &v, 8);
}

/* Where word b's bits start within the 8 bytes read for it: bit 0 of
 * bytes 0..7 for A, bit 44 - 24 = 20 of bytes 3..10 for B. */
#define CACHE__LINK_AT(b) ((b) ? 3 : 0)
#define CACHE__LINK_SHIFT(b) ((b) ? CACHE__WORD_BITS - 24 : 0)

static inline uint64_t cache__link_word(const unsigned char *l, int b) {
  return cache__link_load(l, CACHE__LINK_AT(b)) >> CACHE__LINK_SHIFT(b) &
         CACHE__WORD_MASK;
}

static inline void cache__link_set_word(unsigned char *l, int b, uint64_t v) {
  const int at = CACHE__LINK_AT(b), shift = CACHE__LINK_SHIFT(b);
  uint64_t bytes = cache__link_load(l, at);
  bytes &= ~(CACHE__WORD_MASK << shift);
  cache__link_store(l, at, bytes | v << shift);
}

/* A queue: a sentinel node in a policy's state, whose previous node is the
 * newest entry and whose next is the oldest. 16-byte aligned, like an
 * entry, so that its address fits a link word too. */
typedef struct cache__list {
  _Alignas(16) unsigned char link[11];
} cache__list_t;

static inline unsigned char *cache__node_at(uint64_t word) {
  return (unsigned char *)(uintptr_t)(word << 4);
}

static inline uint64_t cache__word_of(const void *node) {
  return (uint64_t)(uintptr_t)node >> 4;
}

static inline unsigned char *cache__node_prev(const unsigned char *n) {
  return cache__node_at(cache__link_word(n, 0));
}

static inline unsigned char *cache__node_next(const unsigned char *n) {
  return cache__node_at(cache__link_word(n, 1));
}

static inline void cache__list_init(cache__list_t *head) {
  cache__link_set_word(head->link, 0, cache__word_of(head));
  cache__link_set_word(head->link, 1, cache__word_of(head));
}

/* The oldest entry, or NULL when the queue is empty. */
static inline cache__entry_t *cache__list_oldest(const cache__list_t *head) {
  unsigned char *n = cache__node_next(head->link);
  return n == head->link ? NULL : (cache__entry_t *)(void *)n;
}

static inline bool cache__list_is_newest(const cache__list_t *head,
                                         const cache__entry_t *e) {
  return cache__node_prev(head->link) == e->link;
}

static inline void cache__list_unlink(cache__entry_t *e) {
  unsigned char *prev = cache__node_prev(e->link);
  unsigned char *next = cache__node_next(e->link);
  cache__link_set_word(prev, 1, cache__word_of(next));
  cache__link_set_word(next, 0, cache__word_of(prev));
}

/* Inserts e at the newest end. */
static inline void cache__list_push(cache__list_t *head, cache__entry_t *e) {
  unsigned char *tail = cache__node_prev(head->link);
  cache__link_set_word(e->link, 0, cache__word_of(tail));
  cache__link_set_word(e->link, 1, cache__word_of(head));
  cache__link_set_word(tail, 1, cache__word_of(e));
  cache__link_set_word(head->link, 0, cache__word_of(e));
}

/* ---- unlinked entries ------------------------------------------------------
 * Once out of its queue, an entry's link field is free for the lists of
 * the graveyard and the limbo (shard.c): B links the next entry of such a
 * list and A holds a number of 44 bits (an epoch stamp, or a shard and the
 * reason for the removal). */
static inline cache__entry_t *cache__dead_next(const cache__entry_t *e) {
  return (cache__entry_t *)(void *)cache__node_next(e->link);
}

static inline void cache__dead_set_next(cache__entry_t *e, cache__entry_t *n) {
  cache__link_set_word(e->link, 1, cache__word_of(n));
}

static inline uint64_t cache__dead_tag(const cache__entry_t *e) {
  return cache__link_word(e->link, 0);
}

static inline void cache__dead_set_tag(cache__entry_t *e, uint64_t v) {
  cache__link_set_word(e->link, 0, v & CACHE__WORD_MASK);
}

#endif
