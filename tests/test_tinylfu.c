/* The W-TinyLFU policy, white box: entries made by hand and handed to the
 * policy's operations directly, as a shard would under its lock (and, for
 * `hit`, without it). Linked against the static test build of the
 * library (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "policy.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The sketch halves after 15 x capacity counted increments (policy); a
 * window of 1% holds a few entries. */
#define CAPACITY 256
#define PERIOD (15 * CAPACITY)

static const cache__policy_ops_t *ops = &cache__policy_tinylfu;
static void *state;
static cache__mem_t mem;
static cache__policy_shared_t shared;
static cache__entry_t entries[4 * CAPACITY];

static void *new_state(uint64_t capacity) {
  void *st = calloc(1, ops->state_size);
  ck_assert_ptr_nonnull(st);
  ck_assert_int_eq(ops->init(st, capacity, &shared), 0);
  return st;
}

static void free_state(void *st) {
  ops->destroy(st);
  free(st);
}

static void setup(void) {
  ck_assert_int_eq(cache__mem_init(&mem), 0);
  memset(&shared, 0, sizeof shared);
  shared.shards = 1;
  shared.mem = &mem;
  state = new_state(CAPACITY);
}

static void teardown(void) {
  free_state(state);
  ck_assert_uint_eq(atomic_load(&mem.table_bytes), 0);
  cache__mem_destroy(&mem);
}

static uint32_t hash_of(uint32_t i) { return i * 2654435761u; }

/* Entry i, linked in. The policy reads only the header. */
static cache__entry_t *insert_into(void *st, uint32_t i) {
  cache__entry_t *e = &entries[i];
  cache__entry_init(e, 1, 0, false);
  ops->inserted(st, e, hash_of(i));
  return e;
}

static cache__entry_t *insert(uint32_t i) { return insert_into(state, i); }

/* What a shard does to make room: the victim, unlinked. Returns its
 * index in entries[]. */
static uint32_t evict(void *st) {
  cache__entry_t *v = ops->victim(st);
  ck_assert_ptr_nonnull(v);
  uint32_t i = (uint32_t)(v - entries);
  ops->removed(st, v, hash_of(i));
  return i;
}

/* Inserts entry i into a full cache, as a shard does: evict, then link. */
static uint32_t insert_full(void *st, uint32_t i) {
  uint32_t gone = evict(st);
  insert_into(st, i);
  return gone;
}

static uint64_t window_share(void) { return atomic_load(&shared.window_share); }

/* The sketch's age when e's count was last written (policy_aux). */
static unsigned age_in(const cache__entry_t *e) {
  return cache__entry_aux(e) >> 4;
}

/* Moves the window's overflow into probation, as the next eviction
 * would, so that hits on the entries moved take no lock. */
static void drain(void) { ck_assert_ptr_nonnull(ops->victim(state)); }

START_TEST(hits_without_the_lock_age_the_counts) {
  /* Every count bump of a hit without the lock counts toward the
   * sketch's period, in batches (policy/tinylfu.c, HIT_TICK): after a
   * period's worth of such hits and one insert under the lock, the sketch
   * has halved, and the next hit writes the new age into the entry.
   * Two more entries than are hit stay in the window (1%). */
  for (uint32_t i = 0; i < CAPACITY + 2; i++)
    insert(i);
  drain();
  unsigned bumps = 0;
  for (int round = 0; round < 16; round++)
    for (uint32_t i = 0; i < CAPACITY; i++) {
      unsigned before = cache__entry_aux(&entries[i]) & 15;
      ck_assert(ops->hit(state, &entries[i]));
      bumps += (cache__entry_aux(&entries[i]) & 15) != before;
    }
  /* Counts start at 1 (the insert), so each key was bumped 14 times: with
   * the inserts' 256, a whole period. 3,584 bumps in a row tick 3,584 in
   * batches of 8, wherever the thread's batch stood before. */
  ck_assert_uint_eq(bumps, 14 * CAPACITY);
  ck_assert_uint_ge(bumps + CAPACITY, PERIOD);
  ck_assert_uint_eq(age_in(&entries[0]), 0);
  insert(CAPACITY + 2); /* the tick that halves */
  ck_assert(ops->hit(state, &entries[0]));
  ck_assert_uint_eq(age_in(&entries[0]), 1);
  /* Halved once: 15 became 7, and this hit made it 8. */
  ck_assert_uint_eq(cache__entry_aux(&entries[0]) & 15, 8);
}
END_TEST

START_TEST(a_saturated_count_of_the_current_age_is_not_written) {
  cache__entry_t *e = insert(0);
  for (uint32_t i = 1; i < 4; i++)
    insert(i);
  drain(); /* e, the oldest, goes to probation */
  for (int i = 0; i < 20; i++)
    ck_assert(ops->hit(state, e));
  unsigned aux = cache__entry_aux(e);
  ck_assert_uint_eq(aux & 15, 15);
  ck_assert(ops->hit(state, e));
  ck_assert_uint_eq(cache__entry_aux(e), aux);
}
END_TEST

START_TEST(the_window_starts_at_one_percent_of_the_whole_cache) {
  ck_assert_uint_eq(window_share(), (UINT64_C(1) << 48) / 100);
  /* A second shard of the same cache shares it, and does not reset it. */
  atomic_store(&shared.window_share, (UINT64_C(1) << 48) / 2);
  void *other = new_state(CAPACITY);
  ck_assert_uint_eq(window_share(), (UINT64_C(1) << 48) / 2);
  free_state(other);
}
END_TEST

/* Fills the cache, then sends `n` new keys through it, each evicted key
 * coming back at once: a miss on a ghost of the side it left from. */
static void churn_and_return(uint32_t n) {
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  for (uint32_t next = CAPACITY; next < CAPACITY + n; next++) {
    uint32_t gone = insert_full(state, next);
    insert_full(state, gone);
  }
}

START_TEST(keys_turned_away_that_return_grow_the_window) {
  /* New keys, counted once each, lose admission to residents counted
   * just as often (a margin of 1): each returns as a window ghost. */
  uint64_t before = window_share();
  churn_and_return(20);
  ck_assert_uint_gt(window_share(), before);
}
END_TEST

START_TEST(keys_evicted_from_main_that_return_shrink_the_window) {
  /* Main's victims, returning, shrink a large window back toward 1%,
   * never below. */
  atomic_store(&shared.window_share, (UINT64_C(1) << 48) / 2);
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  /* A window of half the cache: hot new keys (counted high) win
   * admission, and the probation victims they evict come back. */
  uint32_t next = CAPACITY;
  uint64_t before = window_share();
  for (int r = 0; r < 200 && next + 1 < 4 * CAPACITY; r++) {
    cache__entry_t *v = ops->victim(state);
    uint32_t gone = (uint32_t)(v - entries);
    bool from_main = (cache__entry_bits(v) & 3) != 0;
    ops->removed(state, v, hash_of(gone));
    cache__entry_t *e = insert_into(state, next++);
    for (int h = 0; h < 8; h++)
      ops->accessed(state, e);
    if (from_main) {
      evict(state);
      insert_into(state, gone); /* a main ghost hit */
    }
  }
  ck_assert_uint_lt(window_share(), before);
  ck_assert_uint_ge(window_share(), (UINT64_C(1) << 48) / 100);
}
END_TEST

START_TEST(deleted_keys_leave_no_ghost) {
  /* Only evictions leave ghosts: a key removed otherwise and set again
   * moves nothing. */
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  uint64_t before = window_share();
  for (uint32_t i = 0; i < CAPACITY; i++) {
    ops->removed(state, &entries[i], hash_of(i));
    insert(i);
  }
  ck_assert_uint_eq(window_share(), before);
}
END_TEST

START_TEST(a_hit_in_a_large_window_asks_to_move_the_entry) {
  /* A window of half the cache orders like an LRU: a hit without the lock
   * asks for a move (done under the lock when it is free), and the entry
   * moved leaves the window after the others. */
  atomic_store(&shared.window_share, (UINT64_C(1) << 48) / 2);
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  drain(); /* all but the window's few newest go to probation */
  uint32_t first = CAPACITY - 1; /* the oldest still in the window */
  while (first > 0 && (cache__entry_bits(&entries[first - 1]) & 3) == 0)
    first--;
  ck_assert_uint_lt(first, CAPACITY - 1); /* a window of 2 or more */
  cache__entry_t *older = &entries[first];
  ck_assert_int_eq(ops->hit(state, older), CACHE__HIT_MOVE);
  ops->touch(state, older);
  /* Entries in probation take their hits without the lock. */
  ck_assert_int_eq(ops->hit(state, &entries[0]), CACHE__HIT_DONE);
  /* The next insert overflows the window by one: its oldest leaves, which
   * is the one after the entry that was hit, not that entry. */
  insert(CAPACITY);
  ops->victim(state);
  ck_assert_uint_eq(cache__entry_bits(older) & 3, 0); /* in the window */
  ck_assert_uint_ne(cache__entry_bits(&entries[first + 1]) & 3, 0);
}
END_TEST

START_TEST(a_hit_in_a_small_window_asks_for_nothing) {
  /* At 1%, the window is a CLOCK: its hits only mark, without the lock. */
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  drain();
  cache__entry_t *e = &entries[CAPACITY - 1];
  ck_assert_uint_eq(cache__entry_bits(e) & 3, 0); /* in the window */
  ck_assert_int_eq(ops->hit(state, e), CACHE__HIT_DONE);
  ck_assert_uint_ne(cache__entry_bits(e) & 0x80, 0); /* marked */
}
END_TEST

START_TEST(a_touch_on_an_entry_that_left_the_window_does_nothing) {
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  drain();
  unsigned bits = cache__entry_bits(&entries[0]);
  ops->touch(state, &entries[0]); /* in probation since the hit */
  ck_assert_uint_eq(cache__entry_bits(&entries[0]), bits);
}
END_TEST

static Suite *tinylfu_suite(void) {
  Suite *s = suite_create("tinylfu");
  TCase *tc = tcase_create("counts");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, hits_without_the_lock_age_the_counts);
  tcase_add_test(tc, a_saturated_count_of_the_current_age_is_not_written);
  suite_add_tcase(s, tc);
  tc = tcase_create("window");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, the_window_starts_at_one_percent_of_the_whole_cache);
  tcase_add_test(tc, keys_turned_away_that_return_grow_the_window);
  tcase_add_test(tc, keys_evicted_from_main_that_return_shrink_the_window);
  tcase_add_test(tc, deleted_keys_leave_no_ghost);
  tcase_add_test(tc, a_hit_in_a_large_window_asks_to_move_the_entry);
  tcase_add_test(tc, a_hit_in_a_small_window_asks_for_nothing);
  tcase_add_test(tc, a_touch_on_an_entry_that_left_the_window_does_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(tinylfu_suite()); }
