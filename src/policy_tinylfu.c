/* W-TinyLFU, after Caffeine.
 *
 * New entries enter a small window. When the shard is full, the oldest
 * window entry (the candidate) moves to the main space, a probation and a
 * protected segment, and must beat the probation segment's oldest entry
 * (the victim) on estimated frequency: the loser is evicted. An entry hit
 * in probation is promoted to the protected segment. All three segments
 * are run as CLOCKs (see REFERENCED below): a hit only marks the entry,
 * without the shard lock (tinylfu_hit), and the moves a hit calls for are
 * made when the marked entry reaches its segment's old end. Promotion out
 * of probation waits until the entry would otherwise be the victim.
 * So a burst of one-time keys cannot flush the frequently used ones (the
 * frequency filter), while the window still gives new entries a chance to
 * prove themselves (recency).
 *
 * Frequencies are estimated by a count-min sketch of 4-bit counters, four
 * per key, with conservative update (only the smallest of the four grow,
 * which keeps collisions from inflating rare keys), halved after 15 x
 * capacity increments so that old popularity fades. Conservative counters
 * grow more slowly than plain ones, hence a longer period than Caffeine's
 * 10; 20 gave Zipf traces a little more (W3 +0.002) and a hot set that
 * moves much less (0.706 against 0.738 on bench's `shift` trace at 20,000
 * entries), 10 the other way round.
 * The sketch is what remembers the keys that come back after being
 * evicted, and it costs: a build whose new entries started at a count of 1
 * and handed nothing back ran W1 at 1 thread 1.10 to 1.20 times as fast,
 * but its hit ratio fell from 0.824 to 0.807, and W3's at 1% to 0.5767,
 * below the best published row less 0.003 (0.5787). A sketch of half the
 * words (one per two entries of capacity) ran no faster, and read W3 0.003
 * lower at 1%.
 * The window is 1% of the capacity. Hill climbing on the window size, as
 * Caffeine does, was measured and left out: on the standard traces it cost
 * more hit ratio (noisy samples per shard) than it won on a shifting hot
 * set.
 *
 * An entry in the cache carries its own counter (see policy_aux below): a
 * hit bumps it in the entry's header, a line the lookup has just read,
 * instead of a sketch block elsewhere in memory. The sketch holds the
 * counts of the keys that are not in the cache: a new entry starts from the
 * sketch's estimate (and counts its insert there), and an entry that
 * leaves hands its count back. Both
 * sides of an admission are in the cache, so admission reads no sketch
 * either. A hit thus costs no cache miss beyond the table and the entry, no
 * allocation and no global lock (the state is per shard). */
#include "cache.h"
#include "policy.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

enum { WINDOW, PROBATION, PROTECTED, N_SEGMENTS };
#define SEGMENT_BITS 0x03u
/* A hit only sets this bit (if it is not already set): each segment is a
 * CLOCK, whose oldest entries get a second chance instead of being moved
 * on every hit, so the hottest entries are read, never written, and two
 * cores reading them do not pass their cache lines back and forth. A CLOCK
 * window measured as well as an LRU one: W3 +0.0002..+0.0008, the
 * synthetic traces' mean +0.0004. Promoting out of probation when the
 * entry reaches the old end, rather than at the hit, keeps a hit off the
 * lock and off the list neighbours' cache lines: at W1 a quarter of all
 * hits were promotions, each taking the lock and writing three entries. */
#define REFERENCED 0x80u

/* policy_aux of an entry: its access count (low 4 bits, like a sketch
 * counter) and the sketch's age when the count was last written (high 4
 * bits). A resident count is halved as many times as the sketch was since,
 * when it is next read. Four halvings bring any count to 0; sixteen bring
 * the age round to the same value, and the old count would count again.
 * That needs an entry left untouched in the cache through 240 x capacity
 * increments of other keys, and costs at most one admission decided on an
 * old count. */
#define FREQ_MAX 15u
#define AGE_SHIFT 4

#define MIN_CAPACITY 64u
#define RESET_FACTOR 15u /* halve the sketch after this many x capacity */
#define WINDOW_PERCENT 1u

typedef struct sketch {
  uint64_t *table; /* 16 four-bit counters per word */
  uint64_t mask;   /* words - 1 */
  uint64_t reset_at;
  unsigned age; /* times halved, mod 16; read without the lock */
  /* Counted without the lock too (tinylfu_hit): a line of its own, so
   * that it does not drag the fields every hit reads along. */
  _Alignas(64) _Atomic uint64_t accesses;
} sketch_t;

typedef struct tinylfu {
  cache__list_t seg[N_SEGMENTS];
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
  atomic_init(&s->accesses, 0);
  s->age = 0;
  s->reset_at =
      RESET_FACTOR * (capacity > MIN_CAPACITY ? capacity : MIN_CAPACITY);
  return 0;
}

/* Where a key's four counters are: one 64-byte block (8 words), so that
 * reading or bumping them costs one cache miss, not four; counter i is a
 * nibble of one of its words. The key's hash is mixed once for all four. */
typedef struct slots {
  uint64_t block; /* index of the block's first word */
  uint32_t g;     /* picks the word and the nibble of each counter */
} slots_t;

static slots_t locate(const sketch_t *s, uint32_t hash) {
  uint64_t h = mix64(hash);
  /* the low half picks the block, the high half the places within it */
  return (slots_t){h & s->mask & ~UINT64_C(7), (uint32_t)(h >> 32)};
}

static uint64_t *counter_word(const sketch_t *s, slots_t at, int i) {
  return &s->table[at.block + ((at.g >> (3 * i)) & 7)];
}

static unsigned counter_shift(slots_t at, int i) {
  return ((at.g >> (12 + 4 * i)) & 15) * 4;
}

static unsigned sketch_frequency(const sketch_t *s, slots_t at) {
  unsigned min = 15;
  for (int i = 0; i < 4; i++) {
    unsigned c =
        (unsigned)(*counter_word(s, at, i) >> counter_shift(at, i)) & 15;
    min = c < min ? c : min;
  }
  return min;
}

static void sketch_halve(sketch_t *s) {
  for (uint64_t i = 0; i <= s->mask; i++)
    s->table[i] = (s->table[i] >> 1) & 0x7777777777777777ULL;
  atomic_store_explicit(
      &s->accesses,
      atomic_load_explicit(&s->accesses, memory_order_relaxed) / 2,
      memory_order_relaxed);
  /* Atomic: tinylfu_hit reads it without the lock. */
  __atomic_store_n(&s->age, (s->age + 1) & 15, __ATOMIC_RELAXED);
}

/* Counts one increment of any key's count, for the halving period. As in
 * a sketch, a count that is already saturated does not count. */
static void sketch_tick(sketch_t *s) {
  if (atomic_fetch_add_explicit(&s->accesses, 1, memory_order_relaxed) + 1 >=
      s->reset_at)
    sketch_halve(s);
}

/* Raises the counters of a key to at least `count`: how an entry leaving
 * the cache hands back the accesses it counted while it was in. Raising,
 * never adding, is the conservative update done in one step. */
static void sketch_raise(sketch_t *s, slots_t at, unsigned count) {
  for (int i = 0; i < 4; i++) {
    uint64_t *w = counter_word(s, at, i);
    unsigned sh = counter_shift(at, i);
    unsigned c = (unsigned)(*w >> sh) & 15;
    if (c < count)
      *w += (uint64_t)(count - c) << sh;
  }
}

/* ---- resident counts -------------------------------------------------------
 */

static unsigned age_of(const cache__entry_t *e) {
  return (unsigned)cache__entry_aux(e) >> AGE_SHIFT;
}

/* The count in policy_aux `aux`, halved once for every halving of the
 * sketch since it was written, the sketch being at `age` now. */
static unsigned count_at(unsigned age, unsigned aux) {
  unsigned since = (age - (aux >> AGE_SHIFT)) & 15;
  return (aux & FREQ_MAX) >> since;
}

static unsigned freq_of(const sketch_t *s, const cache__entry_t *e) {
  return count_at(s->age, cache__entry_aux(e));
}

static void freq_set(const sketch_t *s, cache__entry_t *e, unsigned count) {
  cache__entry_set_aux(e, s->age << AGE_SHIFT | count);
}

/* A hit. A saturated count of the current age is left alone, so the
 * hottest entries are read and never written. */
static void freq_bump(sketch_t *s, cache__entry_t *e) {
  unsigned count = freq_of(s, e);
  if (count < FREQ_MAX) {
    freq_set(s, e, count + 1);
    sketch_tick(s);
  } else if (age_of(e) != s->age) {
    freq_set(s, e, count);
  }
}

/* ---- segments --------------------------------------------------------------
 */

static void put(tinylfu_t *t, int seg, cache__entry_t *e) {
  cache__entry_set_bits(e, (unsigned)seg); /* clears REFERENCED */
  cache__list_push(&t->seg[seg], e);
  t->size[seg]++;
}

static void take(tinylfu_t *t, cache__entry_t *e) {
  cache__list_unlink(e);
  t->size[cache__entry_bits(e) & SEGMENT_BITS]--;
}

static cache__entry_t *oldest(tinylfu_t *t, int seg) {
  return cache__list_oldest(&t->seg[seg]);
}

/* Moving a segment's oldest entry out writes the entry after it, which is
 * seldom in the CPU's caches: an eviction costs such a miss in the window,
 * in probation, and again for the victim. When the oldest has just been
 * written (it is the neighbour of the last move), reading its link is
 * cheap, and the entry after it can be loaded ahead of the next eviction,
 * a few requests later. */
static void prefetch_ahead(tinylfu_t *t, int seg) {
  const cache__entry_t *e = oldest(t, seg);
  if (e != NULL)
    __builtin_prefetch(cache__node_next(e->link), 1);
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
    put(t, cache__entry_bits(e) & REFERENCED ? PROTECTED : PROBATION, e);
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

/* A new entry counts its insert in the sketch too (a conservative
 * increment), as a sketch that counts every access would. It costs no
 * extra miss (the block was just read), and it makes the sketch resident
 * as the cache fills, rather than one page fault at a time when entries
 * first leave (an expiry pass, say). */
static void tinylfu_inserted(void *state, cache__entry_t *e, uint32_t hash) {
  tinylfu_t *t = state;
  slots_t at = locate(&t->sketch, hash);
  unsigned count = sketch_frequency(&t->sketch, at);
  if (count < FREQ_MAX) {
    count++;
    sketch_raise(&t->sketch, at, count);
    sketch_tick(&t->sketch);
  }
  freq_set(&t->sketch, e, count);
  put(t, WINDOW, e);
}

/* A hit under the lock: the entry is marked (see REFERENCED), in any
 * segment. */
static void tinylfu_accessed(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  freq_bump(&t->sketch, e);
  unsigned bits = cache__entry_bits(e);
  if (!(bits & REFERENCED))
    cache__entry_set_bits(e, bits | REFERENCED);
}

/* Bumps of a count by hits without the lock, in this thread, not yet
 * added to a sketch's period. */
static _Thread_local unsigned hit_bumps;
/* They are added HIT_TICK at a time, to the sketch of the shard where the
 * HIT_TICK-th bump fell: the period's line is written by every thread
 * that bumps a count, and two cores passing it back and forth on every
 * such hit cost W1 with 2 threads 4 to 6% when the line took 400 ns to
 * move (bench's handoff). Over many bumps each sketch gets its share. */
#define HIT_TICK 8u

/* A hit without the lock: a compare-and-swap on one or two of e's bytes.
 * The mark goes first: setting it twice does no harm if the count's swap
 * fails and the hit is done again under the lock. A bump of the count
 * ticks the sketch's period (see hit_bumps), whose halving waits for the
 * next tick under the lock. */
static bool tinylfu_hit(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  unsigned bits = cache__entry_bits(e);
  if (!(bits & REFERENCED) &&
      !cache__entry_swap_bits(e, bits, bits | REFERENCED))
    return false;
  unsigned age = __atomic_load_n(&t->sketch.age, __ATOMIC_RELAXED);
  unsigned aux = cache__entry_aux(e);
  unsigned count = count_at(age, aux);
  if (count == FREQ_MAX && aux >> AGE_SHIFT == age)
    return true; /* the hottest entries: nothing written at all */
  unsigned next = count < FREQ_MAX ? count + 1 : count;
  if (!cache__entry_swap_aux(e, aux, age << AGE_SHIFT | next))
    return false;
  if (next != count && ++hit_bumps % HIT_TICK == 0)
    atomic_fetch_add_explicit(&t->sketch.accesses, HIT_TICK,
                              memory_order_relaxed);
  return true;
}

/* A new entry's count starts from the sketch: start loading its block
 * while the entry is being built. The table pointer never changes after
 * init, so this needs no lock. */
static void tinylfu_prefetch(const void *state, uint32_t hash) {
  const tinylfu_t *t = state;
  __builtin_prefetch(&t->sketch.table[locate(&t->sketch, hash).block]);
}

static void tinylfu_removed(void *state, cache__entry_t *e, uint32_t hash) {
  tinylfu_t *t = state;
  take(t, e);
  sketch_raise(&t->sketch, locate(&t->sketch, hash), freq_of(&t->sketch, e));
  prefetch_ahead(t, PROBATION);
}

/* Moves the window's overflow into probation; returns the last entry moved
 * (the newest candidate for admission) or NULL. An entry hit since it last
 * moved gets a second chance at the window's young end instead: the window
 * is a CLOCK, close to an LRU, but a hit writes no list. */
static cache__entry_t *drain_window(tinylfu_t *t) {
  cache__entry_t *moved = NULL;
  while (t->size[WINDOW] > t->window_max) {
    cache__entry_t *e = oldest(t, WINDOW);
    if (e == NULL)
      break; /* not with a size above 0; said for the compiler */
    bool again = (cache__entry_bits(e) & REFERENCED) != 0;
    take(t, e);
    put(t, again ? WINDOW : PROBATION, e); /* clears REFERENCED */
    if (!again)
      moved = e;
  }
  return moved;
}

/* The oldest probation entry not hit since it entered probation. Those
 * that were hit are promoted on the way, as a hit under the lock would
 * have done at once. Each promotion clears a mark that a hit set, so the
 * loop ends, and its cost is the hits'. */
static cache__entry_t *probation_oldest(tinylfu_t *t) {
  cache__entry_t *e;
  while ((e = oldest(t, PROBATION)) != NULL &&
         (cache__entry_bits(e) & REFERENCED)) {
    take(t, e);
    put(t, PROTECTED, e);
    trim_protected(t);
  }
  return e;
}

static cache__entry_t *tinylfu_victim(void *state) {
  tinylfu_t *t = state;
  cache__entry_t *candidate = drain_window(t);
  prefetch_ahead(t, WINDOW);
  cache__entry_t *victim = probation_oldest(t);
  if (victim == NULL)
    victim = oldest(t, PROTECTED);
  if (victim == NULL)
    return oldest(t, WINDOW);
  if (candidate != NULL && candidate != victim) {
    /* The admission filter: the more popular of the two stays. */
    unsigned fc = freq_of(&t->sketch, candidate);
    unsigned fv = freq_of(&t->sketch, victim);
    if (fc <= fv)
      victim = candidate;
  }
  /* Its unlink, once the store has let it go, writes both neighbours. */
  __builtin_prefetch(cache__node_prev(victim->link), 1);
  __builtin_prefetch(cache__node_next(victim->link), 1);
  return victim;
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
    .hit = tinylfu_hit,
    .prefetch = tinylfu_prefetch,
};
