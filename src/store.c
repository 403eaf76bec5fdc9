/* The store's hash table: see store.h. */
#include "store.h"
#include "epoch.h"

#define INITIAL_SLOTS 16
#define ADDRESS_BITS 48
#define ADDRESS_MASK ((UINT64_C(1) << ADDRESS_BITS) - 1)
#define DIST_MASK UINT64_C(15) /* the distance bits; 15 = "15 or more" */
#define POINTER_MASK (ADDRESS_MASK & ~DIST_MASK)

/* The slot of e, at distance 0 from its home. */
static uint64_t slot_of(const cache__entry_t *e) {
  return (uint64_t)(uintptr_t)e | ((uint64_t)(e->hash >> 16) << ADDRESS_BITS);
}

static cache__entry_t *entry_in(uint64_t slot) {
  return (cache__entry_t *)(uintptr_t)(slot & POINTER_MASK);
}

static uint64_t with_dist(uint64_t slot, size_t dist) {
  return (slot & ~DIST_MASK) | (dist < DIST_MASK ? dist : DIST_MASK);
}

static uint64_t tag_bits(uint32_t hash) {
  return (uint64_t)(hash >> 16) << ADDRESS_BITS;
}

static size_t home_of(const cache__store_t *st, uint32_t hash) {
  return hash & st->mask;
}

/* A table's block: a 64-byte head whose last word is the mask, then the
 * slots. A lookup without the lock reads the block's address once and the
 * mask in it, so the two always belong together. */
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
  block[HEAD_WORDS - 1] = n - 1;
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

int cache__store_init(cache__store_t *st, cache__mem_t *mem) {
  st->slots = table_new(mem, INITIAL_SLOTS);
  if (st->slots == NULL)
    return -1;
  st->table = st->slots - HEAD_WORDS;
  st->mask = INITIAL_SLOTS - 1;
  atomic_init(&st->count, 0);
  atomic_init(&st->bytes, 0);
  return 0;
}

void cache__store_free(cache__store_t *st, cache__mem_t *mem) {
  table_free(mem, st->slots, st->mask + 1);
  st->slots = NULL;
  st->table = NULL;
}

/* The probe of both lookups. Loads are atomic for the one without the
 * lock (they cost nothing more under it), and the probe is bounded: a table
 * changing under it may show no empty slot. */
static cache__entry_t *probe(const uint64_t *slots, size_t mask, uint32_t hash,
                             const void *key, size_t key_len) {
  const uint64_t tag = tag_bits(hash);
  for (size_t i = hash & mask, n = 0; n <= mask; i = (i + 1) & mask, n++) {
    uint64_t slot = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
    if (slot == 0)
      return NULL;
    if ((slot & ~ADDRESS_MASK) == tag) {
      cache__entry_t *e = entry_in(slot);
      if (cache__entry_matches(e, hash, key, key_len))
        return e;
    }
  }
  return NULL;
}

cache__entry_t *cache__store_find(const cache__store_t *st, uint32_t hash,
                                  const void *key, size_t key_len) {
  return probe(st->slots, st->mask, hash, key, key_len);
}

cache__entry_t *cache__store_find_shared(const cache__store_t *st,
                                         uint32_t hash, const void *key,
                                         size_t key_len) {
  const uint64_t *table = __atomic_load_n(&st->table, __ATOMIC_ACQUIRE);
  return probe(table + HEAD_WORDS, (size_t)table[HEAD_WORDS - 1], hash, key,
               key_len);
}

static void place(uint64_t *slots, size_t mask, uint64_t slot, uint32_t hash) {
  size_t home = hash & mask, i = home;
  while (slots[i] != 0)
    i = (i + 1) & mask;
  slot_set(slots, i, with_dist(slot, (i - home) & mask));
}

/* Adds delta to a figure only the lock holder writes: no read-modify-write
 * is needed, so none is paid for. */
static void bump(_Atomic uint64_t *v, uint64_t delta) {
  atomic_store_explicit(v,
                        atomic_load_explicit(v, memory_order_relaxed) + delta,
                        memory_order_relaxed);
}

/* How far slot i is from the home of its entry. Only a distance of 15 or
 * more costs a look at the entry. */
static size_t dist_at(const cache__store_t *st, size_t i) {
  size_t d = (size_t)(st->slots[i] & DIST_MASK);
  if (d < DIST_MASK)
    return d;
  return (i - home_of(st, entry_in(st->slots[i])->hash)) & st->mask;
}

/* Moves every entry to a table of new_n slots. Growing needs one more bit
 * of each entry's hash, so it reads every entry; shrinking needs only the
 * old home, which the slot's distance gives (an entry is read only when
 * that distance is saturated). */
static int resize(cache__store_t *st, cache__mem_t *mem, size_t new_n) {
  size_t old_n = st->mask + 1;
  uint64_t *slots = table_new(mem, new_n);
  if (slots == NULL)
    return -1;
  for (size_t i = 0; i < old_n; i++) {
    uint64_t slot = st->slots[i];
    if (slot == 0)
      continue;
    /* A new home is the old one's low bits when shrinking. */
    uint32_t hash = new_n < old_n ? (uint32_t)((i - dist_at(st, i)) & st->mask)
                                  : entry_in(slot)->hash;
    place(slots, new_n - 1, slot, hash);
  }
  uint64_t *old = st->slots;
  /* Atomic stores: lookups read these without the lock. */
  __atomic_store_n(&st->table, slots - HEAD_WORDS, __ATOMIC_RELEASE);
  __atomic_store_n(&st->slots, slots, __ATOMIC_RELAXED);
  __atomic_store_n(&st->mask, new_n - 1, __ATOMIC_RELAXED);
  /* A lookup may still be probing the old table. Resizes are rare (the
   * size doubles or halves), so waiting for such lookups costs little. */
  cache__epoch_synchronize();
  table_free(mem, old, old_n);
  return 0;
}

int cache__store_reserve(cache__store_t *st, cache__mem_t *mem) {
  /* At most 4/5 full. Probes stay short (a miss reads about 13 slots, two
   * lines, and dereferences no entry unless 16 bits of hash match), and
   * the table is as small as that allows: which slots a workload keeps
   * reading decides whether they stay in the CPU's caches. W1's table at
   * 4/5 (76% full, 1 MB) against 3/4 (38%, 2 MB): 1 thread +16%. */
  if ((cache__store_count(st) + 1) * 5 <= (uint64_t)(st->mask + 1) * 4)
    return 0;
  return resize(st, mem, (st->mask + 1) * 2);
}

void cache__store_insert(cache__store_t *st, cache__entry_t *e,
                         size_t footprint) {
  place(st->slots, st->mask, slot_of(e), e->hash);
  bump(&st->count, 1);
  bump(&st->bytes, footprint);
}

/* Empties slot i, then moves back the entries after it that would no
 * longer be found past the gap (backward-shift deletion). */
static void delete_at(cache__store_t *st, size_t i) {
  size_t gap = i;
  for (size_t j = (i + 1) & st->mask; st->slots[j] != 0;
       j = (j + 1) & st->mask) {
    size_t dist = dist_at(st, j), shift = (j - gap) & st->mask;
    /* j's entry may fill the gap if its home is not in (gap, j]. */
    if (dist >= shift) {
      slot_set(st->slots, gap, with_dist(st->slots[j], dist - shift));
      gap = j;
    }
  }
  slot_set(st->slots, gap, 0);
}

void cache__store_remove(cache__store_t *st, cache__mem_t *mem,
                         cache__entry_t *e, size_t footprint) {
  const uint64_t slot = slot_of(e);
  size_t i = home_of(st, e->hash);
  while ((st->slots[i] & ~DIST_MASK) != slot)
    i = (i + 1) & st->mask;
  delete_at(st, i);
  bump(&st->count, (uint64_t)-1);
  bump(&st->bytes, (uint64_t)0 - footprint);
  /* Halved at an eighth, the table is a quarter full: well below the
   * four fifths at which it doubles again. */
  size_t n = st->mask + 1;
  if (n > INITIAL_SLOTS && cache__store_count(st) < n / 8)
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
      i = (i + 1) & st->mask;
      continue;
    }
    fn(entry_in(slots[i]), arg);
    if (st->slots != slots)
      i = 0;
  }
}
