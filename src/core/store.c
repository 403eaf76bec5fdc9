/* The store's hash table: see store.h. */
#include "store.h"
#include "epoch.h"
#include "fault.h"
#include "hash.h"

#define INITIAL_SLOTS 16
#define ADDRESS_BITS 48
#define ADDRESS_MASK ((UINT64_C(1) << ADDRESS_BITS) - 1)
/* A slot's distance from its entry's home takes 8 bits: the low 4 are the
 * bits below the entry's 16-byte alignment, the high 4 those just above
 * the address. The tag is the 12 bits above them. */
#define DIST_LOW UINT64_C(15)
#define DIST_HIGH (UINT64_C(15) << ADDRESS_BITS)
#define DIST_BITS (DIST_LOW | DIST_HIGH)
#define DIST_MAX 255u /* stored for "255 or more" */
#define TAG_SHIFT (64 - CACHE__STORE_TAG_BITS)
#define TAG_MASK (~UINT64_C(0) << TAG_SHIFT)
#define POINTER_MASK (ADDRESS_MASK & ~DIST_LOW)

static uint64_t tag_bits(uint32_t hash) {
  return (uint64_t)(hash >> (32 - CACHE__STORE_TAG_BITS)) << TAG_SHIFT;
}

/* The slot of e, of this hash, at distance 0 from its home. */
static uint64_t slot_of(const cache__entry_t *e, uint32_t hash) {
  return (uint64_t)(uintptr_t)e | tag_bits(hash);
}

static cache__entry_t *entry_in(uint64_t slot) {
  return (cache__entry_t *)(uintptr_t)(slot & POINTER_MASK);
}

static uint64_t with_dist(uint64_t slot, size_t dist) {
  uint64_t d = dist < DIST_MAX ? dist : DIST_MAX;
  return (slot & ~DIST_BITS) | (d & DIST_LOW) | (d >> 4) << ADDRESS_BITS;
}

static size_t dist_field(uint64_t slot) {
  return (size_t)((slot & DIST_LOW) | (slot & DIST_HIGH) >> (ADDRESS_BITS - 4));
}

static size_t next(size_t i, size_t n) { return i + 1 == n ? 0 : i + 1; }

/* How many slots past `from` slot i is, going round the end. */
static size_t gap(size_t from, size_t i, size_t n) {
  return i >= from ? i - from : i + n - from;
}

/* A table's block: a 64-byte head whose last word is the slot count, then
 * the slots. A lookup without the lock reads the block's address once and
 * the count in it, so the two always belong together. */
#define HEAD_WORDS 8

static size_t table_size(size_t slots) {
  return (slots + HEAD_WORDS) * sizeof(uint64_t);
}

static uint64_t *table_new(cache__mem_t *mem, size_t n) {
  if (n > SIZE_MAX / sizeof(uint64_t) - HEAD_WORDS)
    return NULL;
  uint64_t *block = cache__mem_table_alloc(mem, table_size(n));
  if (block == NULL)
    return NULL;
  block[HEAD_WORDS - 1] = n;
  return block + HEAD_WORDS;
}

static void table_free(cache__mem_t *mem, uint64_t *slots, size_t n) {
  if (slots != NULL)
    cache__mem_table_free(mem, slots - HEAD_WORDS, table_size(n));
}

/* Slots are written only under the lock, but read without it too. */
static void slot_set(uint64_t *slots, size_t i, uint64_t v) {
  __atomic_store_n(&slots[i], v, __ATOMIC_RELEASE);
}

/* The slot count that holds `capacity` entries, and 1/32 more for the
 * unevenness of shards, at the most load reserve() allows; 0 if none is
 * known or it would not fit a size_t. */
static size_t fitting(uint64_t capacity) {
  if (capacity == 0 || capacity > SIZE_MAX / 8)
    return 0;
  size_t held = (size_t)capacity + (size_t)capacity / 32 + 1;
  return held + (held + 3) / 4; /* held / (4/5), rounded up */
}

uint32_t cache__store_hash(const cache__store_t *st, const cache__entry_t *e) {
  return (uint32_t)cache__hash(cache__entry_key(e), cache__entry_key_len(e),
                               st->seed);
}

int cache__store_init(cache__store_t *st, cache__mem_t *mem, uint64_t capacity,
                      uint64_t seed) {
  st->slots = table_new(mem, INITIAL_SLOTS);
  if (st->slots == NULL)
    return -1;
  st->table = st->slots - HEAD_WORDS;
  st->size = INITIAL_SLOTS;
  st->fit = fitting(capacity);
  st->seed = seed;
  atomic_init(&st->count, 0);
  atomic_init(&st->bytes, 0);
  atomic_init(&st->moves, 0);
  return 0;
}

void cache__store_free(cache__store_t *st, cache__mem_t *mem) {
  table_free(mem, st->slots, st->size);
  st->slots = NULL;
  st->table = NULL;
}

/* The probe of both lookups. Loads are atomic for the one without the
 * lock (they cost nothing more under it), and the probe is bounded: a table
 * changing under it may show no empty slot. `shared`: without the lock,
 * where the test build may slow the probe down (fault.h). */
static cache__entry_t *probe(const uint64_t *slots, size_t n, uint32_t hash,
                             const void *key, size_t key_len, bool shared) {
  const uint64_t tag = tag_bits(hash);
  (void)shared;
  for (size_t i = cache__store_home(n, hash), k = 0; k < n;
       i = next(i, n), k++) {
    if (shared)
      CACHE__FAULT_DELAY(CACHE__FAULT_PROBE);
    uint64_t slot = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
    if (slot == 0)
      return NULL;
    if ((slot & TAG_MASK) == tag) {
      cache__entry_t *e = entry_in(slot);
      if (cache__entry_matches(e, key, key_len))
        return e;
    }
  }
  return NULL;
}

cache__entry_t *cache__store_find(const cache__store_t *st, uint32_t hash,
                                  const void *key, size_t key_len) {
  return probe(st->slots, st->size, hash, key, key_len, false);
}

cache__entry_t *cache__store_find_shared(const cache__store_t *st,
                                         uint32_t hash, const void *key,
                                         size_t key_len) {
  const uint64_t *table = __atomic_load_n(&st->table, __ATOMIC_ACQUIRE);
  return probe(table + HEAD_WORDS, (size_t)table[HEAD_WORDS - 1], hash, key,
               key_len, true);
}

/* A sequence lock, for the readers only. Inserts and resizes need none:
 * an insert fills an empty slot, and a resize fills a new table, leaving
 * the old one as it was for the lookups still reading it. Only the moves
 * of a deletion can carry an entry past a probe that is looking for it,
 * and only a replacement (a removal, then an insert, under one hold: see
 * cache__store_hold) can leave a key in neither entry for a moment.
 * The count is read for a second probe, after a first one missed, rather
 * than before every probe: it shares a line with the counts that every
 * insert and removal writes, which a hit thus never reads. */
bool cache__store_absent_shared(const cache__store_t *st, uint32_t hash,
                                const void *key, size_t key_len) {
  uint64_t before = atomic_load_explicit(&st->moves, memory_order_acquire);
  if ((before & 1) != 0 ||
      cache__store_find_shared(st, hash, key, key_len) != NULL)
    return false;
  cache__fence(memory_order_acquire);
  return atomic_load_explicit(&st->moves, memory_order_relaxed) == before;
}

/* First come, first served: a new entry takes the first empty slot, and
 * the entries before it stay where they are. Robin Hood order would let
 * a miss stop early (3 slots read instead of 13 at 4/5 full) and shorten
 * the shifts of a deletion, but it moves the entries already in place down
 * their clusters to make room for new ones, and those that have been in
 * place longest are mostly the hot ones: W1 ran 9% slower with it, 1
 * thread. */
static void place(uint64_t *slots, size_t n, uint64_t slot, uint32_t hash) {
  size_t home = cache__store_home(n, hash), i = home;
  while (slots[i] != 0)
    i = next(i, n);
  slot_set(slots, i, with_dist(slot, gap(home, i, n)));
}

/* Adds delta to a figure only the lock holder writes: no read-modify-write
 * is needed, so none is paid for. */
static void bump(_Atomic uint64_t *v, uint64_t delta) {
  atomic_store_explicit(v,
                        atomic_load_explicit(v, memory_order_relaxed) + delta,
                        memory_order_relaxed);
}

/* How far a slot at i holding `slot` is from the home of its entry. Only
 * a distance of 255 or more costs a look at the entry (and a hash of its
 * key). With 4 bits, and 15 the most they held, a W1 eviction (tables 4/5
 * full at most, where linear probing makes long clusters) paid that look
 * 0.93 times on average while shifting the entries after its slot back:
 * a cache miss on an entry nothing else needed. */
static size_t dist_of(const cache__store_t *st, size_t i, uint64_t slot) {
  size_t d = dist_field(slot);
  if (d < DIST_MAX)
    return d;
  size_t n = st->size;
  return gap(cache__store_home(n, cache__store_hash(st, entry_in(slot))), i, n);
}

/* Moves every entry to a table of new_n slots, hashing each entry's key
 * again for its new home (entries keep no hash: entry.h). */
static int resize(cache__store_t *st, cache__mem_t *mem, size_t new_n) {
  size_t old_n = st->size;
  uint64_t *slots = table_new(mem, new_n);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < old_n; i++) {
    uint64_t slot = st->slots[i];
    if (slot != 0)
      place(slots, new_n, slot, cache__store_hash(st, entry_in(slot)));
  }
  uint64_t *old = st->slots;
  /* Atomic stores: lookups read these without the lock. */
  __atomic_store_n(&st->table, slots - HEAD_WORDS, __ATOMIC_RELEASE);
  __atomic_store_n(&st->slots, slots, __ATOMIC_RELAXED);
  __atomic_store_n(&st->size, new_n, __ATOMIC_RELAXED);
  /* A lookup may still be probing the old table. Resizes are rare (the
   * size doubles or halves), so waiting for such lookups costs little. */
  cache__epoch_synchronize();
  table_free(mem, old, old_n);
  return 0;
}

int cache__store_reserve(cache__store_t *st, cache__mem_t *mem) {
  /* At most 4/5 full. Probes stay short (a miss reads about 13 slots, two
   * lines, and dereferences no entry unless the 12-bit tag matches), and
   * the table is as small as that allows: which slots a workload keeps
   * reading decides whether they stay in the CPU's caches. W1's table at
   * 4/5 (76% full, 1 MB) against 3/4 (38%, 2 MB): 1 thread +16%.
   * A table doubles, except that it grows only to the size that fits the
   * shard's capacity if that is less: a table of a full cache is then
   * 3/4 full, not anywhere from 2/5 to 4/5 as a power of two would be
   * (W2's 1,000,000 entries: 10.3 bytes each in the table, against
   * 16.8). */
  size_t n = st->size;
  if ((cache__store_count(st) + 1) * 5 <= (uint64_t)n * 4)
    return 0;
  if (n > SIZE_MAX / 2)
    return -1;
  return resize(st, mem, st->fit > n && st->fit < n * 2 ? st->fit : n * 2);
}

void cache__store_insert(cache__store_t *st, cache__entry_t *e, uint32_t hash,
                         size_t footprint) {
  place(st->slots, st->size, slot_of(e, hash), hash);
  bump(&st->count, 1);
  bump(&st->bytes, footprint);
}

/* Makes the count of moves odd, unless it is already (a hold under way):
 * true if this call did. Only the lock holder writes the count. */
static bool moves_begin(cache__store_t *st) {
  uint64_t moves = atomic_load_explicit(&st->moves, memory_order_relaxed);
  if ((moves & 1) != 0)
    return false;
  atomic_store_explicit(&st->moves, moves + 1, memory_order_relaxed);
  cache__fence(memory_order_release); /* odd before any slot moves */
  return true;
}

static void moves_end(cache__store_t *st, bool began) {
  if (began)
    atomic_store_explicit(
        &st->moves, atomic_load_explicit(&st->moves, memory_order_relaxed) + 1,
        memory_order_release);
}

void cache__store_hold(cache__store_t *st) { (void)moves_begin(st); }

void cache__store_release(cache__store_t *st) { moves_end(st, true); }

/* Empties slot i, then moves back the entries after it that would no
 * longer be found past the gap (backward-shift deletion). */
static void delete_at(cache__store_t *st, size_t i) {
  uint64_t *const slots = st->slots;
  const size_t n = st->size;
  size_t hole = i;
  uint64_t slot;
  bool began = moves_begin(st);
  for (size_t j = next(i, n); (slot = slots[j]) != 0; j = next(j, n)) {
    size_t dist = dist_of(st, j, slot), shift = gap(hole, j, n);
    /* j's entry may fill the hole if its home is not in (hole, j]. */
    if (dist >= shift) {
      slot_set(slots, hole, with_dist(slot, dist - shift));
      hole = j;
    }
  }
  slot_set(slots, hole, 0);
  moves_end(st, began);
}

void cache__store_remove(cache__store_t *st, cache__mem_t *mem,
                         cache__entry_t *e, uint32_t hash, size_t footprint) {
  const uint64_t slot = slot_of(e, hash);
  const uint64_t *slots = st->slots;
  const size_t n = st->size;
  size_t i = cache__store_home(n, hash);
  while ((slots[i] & ~DIST_BITS) != slot)
    i = next(i, n);
  delete_at(st, i);
  bump(&st->count, (uint64_t)-1);
  bump(&st->bytes, (uint64_t)0 - footprint);
  /* Halved at an eighth, the table is a quarter full: well below the
   * four fifths at which it doubles again. */
  if (n >= INITIAL_SLOTS * 2 && cache__store_count(st) < n / 8)
    resize(st, mem, n / 2);
}

void cache__store_drain(cache__store_t *st,
                        void (*fn)(cache__entry_t *e, void *arg), void *arg) {
  /* fn removes the entry, and a later one may shift into its slot: look
   * at the same slot again until it is empty. A removal may also shrink
   * the table, which places every entry anew: start over then. */
  size_t i = 0;
  while (cache__store_count(st) > 0) {
    const uint64_t *slots = st->slots;
    if (slots[i] == 0) {
      i = next(i, st->size);
      continue;
    }
    fn(entry_in(slots[i]), arg);
    if (st->slots != slots)
      i = 0;
  }
}
