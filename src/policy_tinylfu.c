/* W-TinyLFU, after Caffeine.
 *
 * New entries enter a small LRU window. When the shard is full, the oldest
 * window entry (the candidate) moves to the main space, a probation and a
 * protected segment, and must beat the probation segment's oldest entry
 * (the victim) on estimated frequency: the loser is evicted. A hit in
 * probation promotes the entry to the protected segment, which is run as a
 * CLOCK (see REFERENCED below).
 * So a burst of one-time keys cannot flush the frequently used ones (the
 * frequency filter), while the window still gives new entries a chance to
 * prove themselves (recency).
 *
 * Frequencies are estimated by a count-min sketch of 4-bit counters, four
 * per key, with conservative update (only the smallest of the four grow,
 * which keeps collisions from inflating rare keys), halved after 20 x
 * capacity increments so that old popularity fades. Conservative counters
 * grow more slowly than plain ones, hence twice Caffeine's period of 10.
 * The window is 1% of the capacity. Hill climbing on the window size, as
 * Caffeine does, was measured and left out: on the standard traces it cost
 * more hit ratio (noisy samples per shard) than it won on a shifting hot
 * set.
 *
 * A hit costs a sketch increment and a move within an intrusive list: no
 * allocation, no global lock (the state is per shard). */
#include "cache.h"
#include "policy.h"

#include <stdbool.h>
#include <stdlib.h>

enum { WINDOW, PROBATION, PROTECTED, N_SEGMENTS };
#define SEGMENT_BITS 0x03u
/* A hit on a protected entry only sets this bit (if it is not already
 * set): the segment is a CLOCK, whose oldest entries get a second chance
 * instead of being moved on every hit, so the hottest entries are read,
 * never written, and two cores reading them do not pass their cache lines
 * back and forth. */
#define REFERENCED 0x80u

#define MIN_CAPACITY 64u
#define RESET_FACTOR 20u /* halve the sketch after this many x capacity */
#define WINDOW_PERCENT 1u

typedef struct sketch {
  uint64_t *table; /* 16 four-bit counters per word */
  uint64_t mask;   /* words - 1 */
  uint64_t additions, reset_at;
} sketch_t;

typedef struct tinylfu {
  cache__link_t seg[N_SEGMENTS]; /* head = oldest */
  uint64_t size[N_SEGMENTS];
  uint64_t capacity; /* 0: unknown, follow the current size */
  uint64_t window_max;
  sketch_t sketch;
} tinylfu_t;

/* ---- the frequency sketch ---------------------------------------------------
 */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static int sketch_init(sketch_t *s, uint64_t capacity) {
  uint64_t words = 16; /* at least two 64-byte blocks */
  while (words < capacity && words < (UINT64_C(1) << 26))
    words <<= 1;
  s->table = calloc(words, sizeof *s->table);
  if (s->table == NULL)
    return -1;
  s->mask = words - 1;
  s->additions = 0;
  s->reset_at =
      RESET_FACTOR * (capacity > MIN_CAPACITY ? capacity : MIN_CAPACITY);
  return 0;
}

/* Counter i (0..3) of a key: a word and a nibble within it. The four
 * counters of a key lie in one 64-byte block (8 words), so that reading or
 * bumping them costs one cache miss, not four. */
static void locate(const sketch_t *s, uint32_t hash, int i, uint64_t *word,
                   unsigned *shift) {
  uint64_t h = mix64(hash);
  uint64_t block = h & s->mask & ~UINT64_C(7); /* the low half picks it */
  uint32_t g = (uint32_t)(h >> 32);            /* the high half, within */
  *word = block + ((g >> (3 * i)) & 7);
  *shift = ((g >> (12 + 4 * i)) & 15) * 4;
}

static unsigned sketch_frequency(const sketch_t *s, uint32_t hash) {
  unsigned min = 15;
  for (int i = 0; i < 4; i++) {
    uint64_t w;
    unsigned sh;
    locate(s, hash, i, &w, &sh);
    unsigned c = (unsigned)(s->table[w] >> sh) & 15;
    min = c < min ? c : min;
  }
  return min;
}

static void sketch_halve(sketch_t *s) {
  for (uint64_t i = 0; i <= s->mask; i++)
    s->table[i] = (s->table[i] >> 1) & 0x7777777777777777ULL;
  s->additions /= 2;
}

/* Conservative update: only the counters at the current minimum grow,
 * which keeps collisions from inflating the estimates of rare keys. */
static void sketch_increment(sketch_t *s, uint32_t hash) {
  uint64_t w[4];
  unsigned sh[4], min = 15;
  for (int i = 0; i < 4; i++) {
    locate(s, hash, i, &w[i], &sh[i]);
    unsigned c = (unsigned)(s->table[w[i]] >> sh[i]) & 15;
    min = c < min ? c : min;
  }
  if (min == 15)
    return;
  for (int i = 0; i < 4; i++)
    if (((s->table[w[i]] >> sh[i]) & 15) == min)
      s->table[w[i]] += UINT64_C(1) << sh[i];
  if (++s->additions >= s->reset_at)
    sketch_halve(s);
}

/* ---- segments --------------------------------------------------------------
 */

static void put(tinylfu_t *t, int seg, cache__entry_t *e) {
  e->policy_bits = (uint8_t)seg; /* clears REFERENCED */
  cache__list_push(&t->seg[seg], &e->link);
  t->size[seg]++;
}

static void take(tinylfu_t *t, cache__entry_t *e) {
  cache__list_unlink(&e->link);
  t->size[e->policy_bits & SEGMENT_BITS]--;
}

static cache__entry_t *oldest(tinylfu_t *t, int seg) {
  return cache__list_empty(&t->seg[seg]) ? NULL
                                         : cache__entry_of(t->seg[seg].next);
}

static uint64_t capacity_of(const tinylfu_t *t) {
  if (t->capacity != 0)
    return t->capacity;
  return t->size[WINDOW] + t->size[PROBATION] + t->size[PROTECTED];
}

static uint64_t protected_max(const tinylfu_t *t) {
  uint64_t cap = capacity_of(t);
  uint64_t main = cap > t->window_max ? cap - t->window_max : 1;
  return main - main / 5; /* 80% of the main space */
}

/* Demotes the oldest protected entries while the segment is over size. */
static void trim_protected(tinylfu_t *t) {
  while (t->size[PROTECTED] > protected_max(t)) {
    cache__entry_t *e = oldest(t, PROTECTED);
    take(t, e);
    /* Referenced since it last moved: a second chance at the young end. */
    put(t, e->policy_bits & REFERENCED ? PROTECTED : PROBATION, e);
  }
}

/* ---- the policy ------------------------------------------------------------
 */

static int tinylfu_init(void *state, uint64_t capacity) {
  tinylfu_t *t = state;
  for (int i = 0; i < N_SEGMENTS; i++)
    cache__list_init(&t->seg[i]);
  t->capacity = capacity;
  t->window_max = capacity * WINDOW_PERCENT / 100;
  if (t->window_max == 0)
    t->window_max = 1;
  return sketch_init(&t->sketch, capacity);
}

static void tinylfu_destroy(void *state) {
  tinylfu_t *t = state;
  free(t->sketch.table);
}

static void tinylfu_inserted(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  sketch_increment(&t->sketch, e->hash);
  put(t, WINDOW, e);
}

static void tinylfu_accessed(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  sketch_increment(&t->sketch, e->hash);
  int seg = e->policy_bits & SEGMENT_BITS;
  if (seg == PROTECTED) {
    if (!(e->policy_bits & REFERENCED))
      e->policy_bits |= REFERENCED;
    return;
  }
  take(t, e);
  put(t, seg == PROBATION ? PROTECTED : seg, e);
  if (seg == PROBATION)
    trim_protected(t);
}

/* The sketch block of a key is bumped on every access: start loading it
 * while the table and the entry are being looked up. The table pointer
 * never changes after init, so this needs no lock. */
static void tinylfu_prefetch(const void *state, uint32_t hash) {
  const tinylfu_t *t = state;
  uint64_t w;
  unsigned sh;
  locate(&t->sketch, hash, 0, &w, &sh);
  __builtin_prefetch(&t->sketch.table[w]);
}

static void tinylfu_removed(void *state, cache__entry_t *e) { take(state, e); }

/* Moves the window's overflow into probation; returns the last entry moved
 * (the newest candidate for admission) or NULL. */
static cache__entry_t *drain_window(tinylfu_t *t) {
  cache__entry_t *moved = NULL;
  while (t->size[WINDOW] > t->window_max) {
    moved = oldest(t, WINDOW);
    take(t, moved);
    put(t, PROBATION, moved);
  }
  return moved;
}

static cache__entry_t *tinylfu_victim(void *state) {
  tinylfu_t *t = state;
  cache__entry_t *candidate = drain_window(t);
  cache__entry_t *victim = oldest(t, PROBATION);
  if (victim == NULL)
    victim = oldest(t, PROTECTED);
  if (victim == NULL)
    return oldest(t, WINDOW);
  if (candidate == NULL || candidate == victim)
    return victim;
  /* The admission filter: the more popular of the two stays. */
  unsigned fc = sketch_frequency(&t->sketch, candidate->hash);
  unsigned fv = sketch_frequency(&t->sketch, victim->hash);
  return fc > fv ? victim : candidate;
}

const cache__policy_ops_t cache__policy_tinylfu = {
    .id = CACHE_POLICY_TINYLFU,
    .state_size = sizeof(tinylfu_t),
    .init = tinylfu_init,
    .destroy = tinylfu_destroy,
    .inserted = tinylfu_inserted,
    .accessed = tinylfu_accessed,
    .removed = tinylfu_removed,
    .victim = tinylfu_victim,
    .prefetch = tinylfu_prefetch,
};
