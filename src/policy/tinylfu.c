/* W-TinyLFU, after Caffeine, with a window that adapts to the workload.
 *
 * New entries enter a window. When the shard is full, the oldest window
 * entry (the candidate) moves to the main space, a probation and a
 * protected segment, and must beat the probation segment's oldest entry
 * (the victim) on estimated frequency: the loser is evicted. An entry hit
 * in probation is promoted to the protected segment. All three segments
 * are run as CLOCKs (see REFERENCED below): a hit only marks the entry,
 * without the shard lock (tinylfu_hit), and the moves a hit calls for are
 * made when the marked entry reaches its segment's old end. Promotion out
 * of probation waits until the entry would otherwise be the victim. A
 * window grown to a tenth of the shard or more also moves a hit entry to
 * its young end when the lock is free, as an LRU does.
 * So a burst of one-time keys cannot flush the frequently used ones (the
 * frequency filter), while the window still gives new entries a chance to
 * prove themselves (recency). The window starts at 1% of the cache and
 * grows or shrinks by what the misses say (see "the window's size"): to
 * nearly the whole cache on recency-shaped traffic, where an LRU does
 * best, and back to 1% on frequency-shaped traffic.
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
 * Hill climbing on the window size as Caffeine does it (sampling the hit
 * ratio per shard) was measured and left out: on the standard traces it
 * cost more hit ratio than it won on a shifting hot set.
 *
 * An entry in the cache carries its own counter (see policy_aux below): a
 * hit bumps it in the entry's header, a line the lookup has just read,
 * instead of a sketch block elsewhere in memory. The sketch holds the
 * counts of the keys that are not in the cache: a new entry starts from the
 * sketch's estimate (and counts its insert there), and an entry that
 * leaves hands its count back. Both
 * sides of an admission are in the cache, so admission reads no sketch
 * either. A hit thus costs no cache miss beyond the table and the entry, no
 * allocation and no global lock (the state is per shard, but for the
 * window's share of the cache, which misses write). */
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
/* At least this many words (16,384 counters, 8 KiB), so that the many
 * keys that pass through a small cache do not share their counters. With
 * 16, a loop of 1,011 keys through 50 entries hit nothing (0.0474 with
 * 1024, LIRS 0.0484), and cscope at 5% read 0.036 against 0.048
 * (bench/real.c; means of 4 seeds). */
#define MIN_SKETCH_WORDS 1024u

typedef struct sketch {
  uint64_t *table; /* 16 four-bit counters per word */
  uint64_t mask;   /* words - 1 */
  uint64_t reset_at;
  unsigned age; /* times halved, mod 16; read without the lock */
  /* Counted without the lock too (tinylfu_hit): a line of its own, so
   * that it does not drag the fields every hit reads along. */
  _Alignas(64) _Atomic uint64_t accesses;
} sketch_t;

/* ---- the frequency sketch ---------------------------------------------------
 */

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  return x ^ (x >> 33);
}

static size_t sketch_bytes(const sketch_t *s) {
  return (size_t)(s->mask + 1) * sizeof *s->table;
}

static int sketch_init(sketch_t *s, cache__mem_t *mem, uint64_t capacity) {
  uint64_t words = MIN_SKETCH_WORDS;
  while (words < capacity && words < (UINT64_C(1) << 26))
    words <<= 1;
  s->mask = words - 1;
  s->table = cache__mem_table_alloc(mem, sketch_bytes(s));
  if (s->table == NULL)
    return -1;
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

/* ---- ghosts ----------------------------------------------------------------
 *
 * A ghost table remembers the keys that left the cache lately, 16 bits of
 * each key's hash and nothing else: a miss on one of them says which side
 * of the cache, had it been larger, would have hit (see adapt). It is a
 * table of buckets of four tags, each bucket a FIFO of its own: a key
 * stays about as long as a global FIFO of the same size would keep it,
 * at 2 bytes a key and one cache line read per miss. */

typedef struct ghost {
  uint64_t *bucket; /* 4 tags of 16 bits each, newest in the low bits */
  uint64_t mask;    /* buckets - 1 */
} ghost_t;

static size_t ghost_bytes(const ghost_t *g) {
  return (size_t)(g->mask + 1) * sizeof *g->bucket;
}

/* Room for `keys` keys (four a bucket), at least one bucket. */
static int ghost_init(ghost_t *g, cache__mem_t *mem, uint64_t keys) {
  uint64_t buckets = 1;
  while (buckets * 4 < keys && buckets < (UINT64_C(1) << 26))
    buckets <<= 1;
  g->mask = buckets - 1;
  g->bucket = cache__mem_table_alloc(mem, ghost_bytes(g));
  return g->bucket == NULL ? -1 : 0;
}

static void ghost_free(ghost_t *g, cache__mem_t *mem) {
  cache__mem_table_free(mem, g->bucket, ghost_bytes(g));
}

/* A key's bucket and tag, from a mix of its hash of their own (the
 * sketch's collisions and the ghosts' are then independent). A tag is
 * never 0, which marks a free place. */
typedef struct ghost_slot {
  uint64_t *bucket;
  uint64_t tag;
} ghost_slot_t;

static ghost_slot_t ghost_locate(const ghost_t *g, uint32_t hash) {
  uint64_t h = mix64(hash ^ UINT64_C(0x9e3779b97f4a7c15));
  uint64_t tag = h >> 48;
  return (ghost_slot_t){&g->bucket[(h >> 20) & g->mask], tag ? tag : 1};
}

/* Remembers a key; the bucket's oldest tag makes room. */
static void ghost_add(ghost_t *g, uint32_t hash) {
  ghost_slot_t at = ghost_locate(g, hash);
  *at.bucket = *at.bucket << 16 | at.tag;
}

/* Whether the key is remembered; if so, it is forgotten (a key counts
 * once for each time it left). */
static bool ghost_take(ghost_t *g, uint32_t hash) {
  ghost_slot_t at = ghost_locate(g, hash);
  uint64_t b = *at.bucket;
  for (unsigned i = 0; i < 64; i += 16) {
    if ((b >> i & 0xffff) == at.tag) {
      /* Close the gap: the older tags move down one place. */
      uint64_t younger = b & ((UINT64_C(1) << i) - 1);
      uint64_t older = i == 48 ? 0 : b >> (i + 16) << i;
      *at.bucket = older | younger;
      return true;
    }
  }
  return false;
}

/* Which side of the cache an evicted key left from: the window (a
 * candidate that admission turned away) or the main space (probation's
 * victim). */
enum { SIDE_WINDOW, SIDE_MAIN, N_SIDES };

typedef struct tinylfu {
  cache__list_t seg[N_SEGMENTS];
  uint64_t size[N_SEGMENTS];
  uint64_t capacity;   /* 0: unknown, follow the current size */
  uint64_t window_max; /* from shared->window_share (window_update) */
  /* Whether a window hit asks for a move (tinylfu_hit): written under the
   * lock, read without it. */
  bool move_on_hit;
  cache__policy_shared_t *shared;
  uint64_t step; /* one entry of the whole cache, in window_share units */
  /* The eviction under way: the entry victim() named, and its side. */
  const cache__entry_t *evicting;
  int evicting_side;
  /* Window exits into probation, and how many of them admission turned
   * away; both halved once there were a capacity's worth of exits. */
  uint64_t exits, rejects;
  int last_side; /* of the last ghost hit */
  unsigned run;  /* ghost hits in a row on that side, less one */
  ghost_t ghost[N_SIDES];
  sketch_t sketch;
} tinylfu_t;

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

/* ---- the window's size -----------------------------------------------------
 *
 * The window starts at 1% of the cache, where W-TinyLFU does best on
 * frequency-shaped (Zipf) traffic, and moves on evidence that comes with
 * misses: a miss on a key that admission turned away lately (a window
 * ghost) says a larger window would have hit, one on a key that left the
 * main space lately (a main ghost) says a larger main space would have.
 * Each moves the window one entry of the whole cache its way, as ARC
 * moves its target. Caffeine's climbers instead sample the hit ratio once
 * per 10 x capacity requests, too seldom for short traces, and can grow
 * the window only to 80%: a trace shaped for LRU wants nearly all of it.
 *
 * What makes it hold up on the traces (bench/real.c, 36 cells; the
 * figures below were measured on the way there, with the other choices
 * as they then were):
 * - Shallow ghosts, 10% of the capacity on each side. A ghost hit stands
 *   for the gain of a few more entries on that side, not of a whole
 *   cache's worth: with ghosts as deep as the cache, the window grew on
 *   loops (ARC's weakness), 26 cells within 0.02 of the best peer
 *   against 33 at 10%.
 * - Window ghosts hold only the candidates turned away, a part of those
 *   that left the window: a hit on one moves the window by that part of
 *   a step (rejects / exits). Without it the window drifted to 5% on W3
 *   at 20%, where 1% does best.
 * - Hits on the same side in a row take steps twice as long every
 *   RUN_DOUBLING hits, up to 2^RUN_MAX_SHIFT: a recency-shaped trace
 *   gets its large window while it still matters, and on Zipf, where the
 *   sides alternate, the steps stay short. Up to 32 times as long, the
 *   window overshot and swung on sprite at 10% (then 4 shards of 176),
 *   which read as low as 0.854 over seeds; up to 4 times, 0.860 to 0.864.
 * - Shrinking steps are 20% longer than growing ones (STEP_DOWN_PERCENT):
 *   on Zipf the two sides' ghost hits nearly balance, and a walk with no
 *   drift wanders away from 1% (with equal steps, W3 at 20% 0.8329
 *   against 0.8335, the traces' mean difference to the best peer +0.0077
 *   against +0.0084 over 12 runs).
 * - The window's share is one figure for the whole cache, fed by every
 *   shard's misses: a shard sees a hash-chosen slice of the keys, and a
 *   small cache's shards alone see too few.
 * - A shard follows the share only when it is 1.5 entries (WINDOW_BAND)
 *   or more away from its window: each change of the window admits an
 *   entry into main or evicts one from it without the admission filter,
 *   and a share that wavered across a whole number moved the windows of
 *   W3 at 5% (then 16 shards of 296) 68,000 times in 2 million requests
 *   (0.7168 against 0.7229). */
#define WINDOW_PERCENT 1u
#define GHOST_PERCENT 10u
#define RUN_DOUBLING 4u
#define RUN_MAX_SHIFT 2u
#define STEP_DOWN_PERCENT 120u
#define WINDOW_BAND 384u /* 1.5 entries, in 1/256 entries */
/* A window of 1/LRU_WINDOW_FROM of the shard or more orders like an LRU
 * (tinylfu_hit). */
#define LRU_WINDOW_FROM 10u
#define SHARE_ONE (UINT64_C(1) << 48) /* window_share of the whole cache */

/* The window's size in this shard, from the share of the whole cache,
 * rounded, once it is WINDOW_BAND away from the current size: at least
 * one entry, and at most all but two (probation and protected keep one
 * each). */
static void window_update(tinylfu_t *t) {
  uint64_t cap = capacity_of(t);
  uint64_t share =
      atomic_load_explicit(&t->shared->window_share, memory_order_relaxed);
  uint64_t w = (uint64_t)(((unsigned __int128)share * cap) >> 40);
  uint64_t now = t->window_max << 8;
  if (t->window_max != 0 && (w > now ? w - now : now - w) < WINDOW_BAND)
    return;
  w = (w + 128) >> 8;
  if (w + 2 > cap)
    w = cap > 2 ? cap - 2 : 1;
  t->window_max = w != 0 ? w : 1;
  __atomic_store_n(&t->move_on_hit, t->window_max * LRU_WINDOW_FROM >= cap,
                   __ATOMIC_RELAXED);
}

/* A miss on a key that left from `side` lately. */
static void adapt(tinylfu_t *t, int side) {
  if (side == t->last_side) {
    t->run += t->run < RUN_DOUBLING * RUN_MAX_SHIFT;
  } else {
    t->last_side = side;
    t->run = 0;
  }
  uint64_t step = t->step << (t->run / RUN_DOUBLING);
  _Atomic uint64_t *share = &t->shared->window_share;
  uint64_t w = atomic_load_explicit(share, memory_order_relaxed);
  if (side == SIDE_WINDOW) {
    step = step * (t->rejects + 1) / (t->exits + 1);
    w = w + step < SHARE_ONE ? w + step : SHARE_ONE;
  } else {
    step = step * STEP_DOWN_PERCENT / 100;
    uint64_t floor = SHARE_ONE / 100 * WINDOW_PERCENT;
    w = w > floor + step ? w - step : floor;
  }
  atomic_store_explicit(share, w, memory_order_relaxed);
  window_update(t);
}

/* ---- the policy ------------------------------------------------------------
 */

static int tinylfu_init(void *state, uint64_t capacity,
                        cache__policy_shared_t *shared) {
  tinylfu_t *t = state;
  for (int i = 0; i < N_SEGMENTS; i++)
    cache__list_init(&t->seg[i]);
  t->capacity = capacity;
  t->shared = shared;
  /* An unbounded cache has no window to size: it never evicts. */
  if (capacity != 0)
    t->step = SHARE_ONE / (capacity * (shared->shards ? shared->shards : 1));
  uint64_t expected = 0;
  atomic_compare_exchange_strong_explicit(
      &shared->window_share, &expected, SHARE_ONE / 100 * WINDOW_PERCENT,
      memory_order_relaxed, memory_order_relaxed);
  window_update(t);
  uint64_t depth = capacity * GHOST_PERCENT / 100;
  if (ghost_init(&t->ghost[SIDE_WINDOW], shared->mem, depth) != 0)
    return -1;
  if (ghost_init(&t->ghost[SIDE_MAIN], shared->mem, depth) != 0) {
    ghost_free(&t->ghost[SIDE_WINDOW], shared->mem);
    return -1;
  }
  if (sketch_init(&t->sketch, shared->mem, capacity) != 0) {
    for (int side = 0; side < N_SIDES; side++)
      ghost_free(&t->ghost[side], shared->mem);
    return -1;
  }
  return 0;
}

static void tinylfu_destroy(void *state) {
  tinylfu_t *t = state;
  cache__mem_table_free(t->shared->mem, t->sketch.table,
                        sketch_bytes(&t->sketch));
  for (int side = 0; side < N_SIDES; side++)
    ghost_free(&t->ghost[side], t->shared->mem);
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
  /* A key in both ghosts (it left each side once lately) says nothing. */
  bool in_window = ghost_take(&t->ghost[SIDE_WINDOW], hash);
  bool in_main = ghost_take(&t->ghost[SIDE_MAIN], hash);
  if (in_window != in_main)
    adapt(t, in_window ? SIDE_WINDOW : SIDE_MAIN);
}

/* The move a window hit asked for: to the young end, marked as hit. */
static void tinylfu_touch(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  if ((cache__entry_bits(e) & SEGMENT_BITS) != WINDOW)
    return; /* it moved on meanwhile */
  take(t, e);
  put(t, WINDOW, e);
  cache__entry_set_bits(e, WINDOW | REFERENCED);
}

/* A hit under the lock: the entry is marked (see REFERENCED), in any
 * segment; a window entry also moves to the window's young end (see
 * tinylfu_hit). */
static void tinylfu_accessed(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  freq_bump(&t->sketch, e);
  unsigned bits = cache__entry_bits(e);
  if ((bits & SEGMENT_BITS) == WINDOW)
    tinylfu_touch(state, e);
  else if (!(bits & REFERENCED))
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
static int tinylfu_hit(void *state, cache__entry_t *e) {
  tinylfu_t *t = state;
  unsigned bits = cache__entry_bits(e);
  if (!(bits & REFERENCED) &&
      !cache__entry_swap_bits(e, bits, bits | REFERENCED))
    return CACHE__HIT_RETRY;
  /* A hit on a window entry asks for a move to the young end when the
   * lock is free (tinylfu_touch), once the window is a tenth of the shard
   * or more: a window that grows to most of the cache must order like an
   * LRU, which a CLOCK does not on recency-shaped traces (sprite at 10%:
   * 0.8575 with a CLOCK window of 80%, 0.8658 with an LRU one, LRU
   * 0.8648; moving only on the first hit since the entry last moved:
   * 0.853 adaptive, against 0.861). With the lock busy the mark alone
   * stands: a CLOCK's second chance. A small window (Zipf's 1%) stays a
   * CLOCK, whose hits take no lock: moving on every window hit cost W1 at
   * 2 threads 9%, for no hit ratio there. */
  int done = (bits & SEGMENT_BITS) == WINDOW &&
                     __atomic_load_n(&t->move_on_hit, __ATOMIC_RELAXED)
                 ? CACHE__HIT_MOVE
                 : CACHE__HIT_DONE;
  unsigned age = __atomic_load_n(&t->sketch.age, __ATOMIC_RELAXED);
  unsigned aux = cache__entry_aux(e);
  unsigned count = count_at(age, aux);
  if (count == FREQ_MAX && aux >> AGE_SHIFT == age)
    return done; /* the hottest entries: nothing written at all */
  unsigned next = count < FREQ_MAX ? count + 1 : count;
  if (!cache__entry_swap_aux(e, aux, age << AGE_SHIFT | next))
    return CACHE__HIT_RETRY;
  if (next != count && ++hit_bumps % HIT_TICK == 0)
    atomic_fetch_add_explicit(&t->sketch.accesses, HIT_TICK,
                              memory_order_relaxed);
  return done;
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
  int seg = (int)(cache__entry_bits(e) & SEGMENT_BITS);
  take(t, e);
  sketch_raise(&t->sketch, locate(&t->sketch, hash), freq_of(&t->sketch, e));
  /* Only evictions leave ghosts: a key deleted, replaced or expired says
   * nothing about the cache's size. */
  if (e == t->evicting) {
    ghost_add(&t->ghost[seg == WINDOW ? SIDE_WINDOW : t->evicting_side], hash);
    t->evicting = NULL;
  }
  prefetch_ahead(t, PROBATION);
}

/* Moves the window's overflow into probation; returns the last entry moved
 * (the newest candidate for admission) or NULL. An entry hit since it last
 * moved gets a second chance at the window's young end instead. Each
 * entry moved counts as an exit (adapt). */
static cache__entry_t *drain_window(tinylfu_t *t) {
  cache__entry_t *moved = NULL;
  while (t->size[WINDOW] > t->window_max) {
    cache__entry_t *e = oldest(t, WINDOW);
    if (e == NULL)
      break; /* not with a size above 0; said for the compiler */
    bool again = (cache__entry_bits(e) & REFERENCED) != 0;
    take(t, e);
    put(t, again ? WINDOW : PROBATION, e); /* clears REFERENCED */
    if (!again) {
      moved = e;
      if (++t->exits > capacity_of(t)) {
        t->exits /= 2;
        t->rejects /= 2;
      }
    }
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

/* A victim counted fewer than MARGIN_BELOW times keeps its place against
 * a candidate counted one more. Candidates' counts come from the sketch,
 * where other keys' counts can add to them; residents' counts are exact.
 * On loops, where every key is counted about as often, ties decided by
 * such noise churn the main space (cscope at 20%: 0.131 without the
 * margin, 0.172 with it). Higher counts differ by more than the noise,
 * and a margin there cost Zipf (W3 at 20%: 0.8316 with it for every
 * count, 0.8337 for counts below 2). */
#define MARGIN_BELOW 2u

static cache__entry_t *tinylfu_victim(void *state) {
  tinylfu_t *t = state;
  window_update(t);
  cache__entry_t *candidate = drain_window(t);
  prefetch_ahead(t, WINDOW);
  cache__entry_t *victim = probation_oldest(t);
  if (victim == NULL)
    victim = oldest(t, PROTECTED);
  if (victim == NULL) {
    victim = oldest(t, WINDOW);
    t->evicting = victim;
    return victim;
  }
  t->evicting_side = SIDE_MAIN;
  if (candidate != NULL && candidate != victim) {
    /* The admission filter: the more popular of the two stays. */
    unsigned fc = freq_of(&t->sketch, candidate);
    unsigned fv = freq_of(&t->sketch, victim);
    if (fc <= fv || (fc == fv + 1 && fv < MARGIN_BELOW)) {
      victim = candidate;
      t->evicting_side = SIDE_WINDOW;
      t->rejects++;
    }
  }
  t->evicting = victim;
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
    .touch = tinylfu_touch,
    .prefetch = tinylfu_prefetch,
};
