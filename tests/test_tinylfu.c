/* The W-TinyLFU policy, white box: entries made by hand and handed to the
 * policy's operations directly, as a shard would under its lock (and, for
 * `hit`, without it). Linked against the static test build of the
 * library (internal symbols). */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "policy.h"

#include <stdlib.h>

#define CAPACITY 64
/* The sketch halves after 15 x capacity counted increments (policy). */
#define PERIOD (15 * CAPACITY)

static const cache__policy_ops_t *ops = &cache__policy_tinylfu;
static void *state;
static cache__entry_t entries[CAPACITY + 1];

static void setup(void) {
  state = calloc(1, ops->state_size);
  ck_assert_ptr_nonnull(state);
  ck_assert_int_eq(ops->init(state, CAPACITY), 0);
}

static void teardown(void) {
  ops->destroy(state);
  free(state);
}

/* Entry i, linked in. The policy reads only the header. */
static cache__entry_t *insert(uint32_t i) {
  cache__entry_t *e = &entries[i];
  cache__entry_init(e, 1, 0, false);
  ops->inserted(state, e, i * 2654435761u);
  return e;
}

/* The sketch's age when e's count was last written (policy_aux). */
static unsigned age_in(const cache__entry_t *e) {
  return cache__entry_aux(e) >> 4;
}

START_TEST(hits_without_the_lock_age_the_counts) {
  /* Every count bump of a hit without the lock counts toward the
   * sketch's period, in batches (policy_tinylfu.c, HIT_TICK): after a
   * period's worth of such hits and one insert under the lock, the sketch
   * has halved, and the next hit writes the new age into the entry. */
  for (uint32_t i = 0; i < CAPACITY; i++)
    insert(i);
  unsigned bumps = 0;
  for (int round = 0; round < 16; round++)
    for (uint32_t i = 0; i < CAPACITY; i++) {
      unsigned before = cache__entry_aux(&entries[i]) & 15;
      ck_assert(ops->hit(state, &entries[i]));
      bumps += (cache__entry_aux(&entries[i]) & 15) != before;
    }
  /* Counts start at 1 (the insert), so each key was bumped 14 times: with
   * the inserts' 64, a whole period. 896 bumps in a row tick 896 in
   * batches of 8, wherever the thread's batch stood before. */
  ck_assert_uint_eq(bumps, 14 * CAPACITY);
  ck_assert_uint_ge(bumps + CAPACITY, PERIOD);
  ck_assert_uint_eq(age_in(&entries[0]), 0);
  insert(CAPACITY); /* the tick that halves */
  ck_assert(ops->hit(state, &entries[0]));
  ck_assert_uint_eq(age_in(&entries[0]), 1);
  /* Halved once: 15 became 7, and this hit made it 8. */
  ck_assert_uint_eq(cache__entry_aux(&entries[0]) & 15, 8);
}
END_TEST

START_TEST(a_saturated_count_of_the_current_age_is_not_written) {
  cache__entry_t *e = insert(0);
  for (int i = 0; i < 20; i++)
    ck_assert(ops->hit(state, e));
  unsigned aux = cache__entry_aux(e);
  ck_assert_uint_eq(aux & 15, 15);
  ck_assert(ops->hit(state, e));
  ck_assert_uint_eq(cache__entry_aux(e), aux);
}
END_TEST

static Suite *tinylfu_suite(void) {
  Suite *s = suite_create("tinylfu");
  TCase *tc = tcase_create("counts");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, hits_without_the_lock_age_the_counts);
  tcase_add_test(tc, a_saturated_count_of_the_current_age_is_not_written);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tu_run(tinylfu_suite()); }
