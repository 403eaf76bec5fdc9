/* Paths only a real failure reaches, driven by the fault injection of the
 * test build (fault.h):
 *  - an entry allocation that fails: cache_set returns CACHE_ENOMEM and
 *    the cache is unchanged (old value kept, counters and totals the same,
 *    no listener call);
 *  - an expiry pass that fails when asked for with cache_cleanup: the
 *    error is returned, counted, and the expired entries stay for the next
 *    pass. */
#define _POSIX_C_SOURCE 200809L
#include "test_util.h"

#include "fault.h"

static test_clock_t clk;
static int listener_calls;

static void count_calls(const void *key, size_t key_len, const void *value,
                        size_t value_len, int reason, void *ctx) {
  (void)key, (void)key_len, (void)value, (void)value_len, (void)reason;
  (void)ctx;
  listener_calls++;
}

static void setup(void) {
  clk.now_ms = 1000;
  listener_calls = 0;
}

static void teardown(void) {
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 0);
  cache__fault_set(CACHE__FAULT_PASS, 0, 0);
}

static cache_t *make(uint64_t max_entries, uint64_t max_bytes) {
  cache_options_t o;
  cache_options_init(&o);
  o.policy = CACHE_POLICY_FIFO;
  o.max_entries = max_entries;
  o.max_bytes = max_bytes;
  o.clock_ms = test_clock_now;
  o.clock_ctx = &clk;
  o.on_remove = count_calls;
  cache_t *c = NULL;
  ASSERT_OK(cache_create(&o, &c));
  return c;
}

/* Asserts that a failing set left everything as it was. */
#define ASSERT_UNCHANGED(c, before)                                            \
  do {                                                                         \
    cache_stats_t now_ = tu_stats(c);                                          \
    ASSERT_STATS_EQ(now_, (before));                                           \
    ck_assert_uint_eq(cache_count(c), (before).entries);                       \
    ck_assert_int_eq(listener_calls, 0);                                       \
  } while (0)

/* ---- allocation --------------------------------------------------------- */

START_TEST(set_of_a_new_key_fails_with_enomem_and_changes_nothing) {
  cache_t *c = make(0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  cache_stats_t before = tu_stats(c);
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 1);
  ASSERT_STATUS(tu_set(c, "c", "3", 0), CACHE_ENOMEM);
  ASSERT_UNCHANGED(c, before);
  ASSERT_STATUS(tu_contains(c, "c"), CACHE_NOT_FOUND);
  ASSERT_VALUE(c, "a", "1");
  ASSERT_VALUE(c, "b", "2");
  cache_destroy(c);
}
END_TEST

START_TEST(set_of_an_existing_key_fails_and_keeps_the_old_value) {
  cache_t *c = make(0, 0);
  ASSERT_OK(tu_set(c, "k", "old", 0));
  cache_stats_t before = tu_stats(c);
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 1);
  ASSERT_STATUS(tu_set(c, "k", "new value", 0), CACHE_ENOMEM);
  ASSERT_UNCHANGED(c, before);
  ASSERT_VALUE(c, "k", "old");
  cache_destroy(c);
}
END_TEST

START_TEST(set_in_a_full_cache_fails_without_evicting) {
  cache_t *c = make(2, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  cache_stats_t before = tu_stats(c);
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 1);
  ASSERT_STATUS(tu_set(c, "c", "3", 0), CACHE_ENOMEM);
  ASSERT_UNCHANGED(c, before);
  ck_assert_uint_eq(before.evictions, 0);
  ASSERT_VALUE(c, "a", "1");
  ASSERT_VALUE(c, "b", "2");
  cache_destroy(c);
}
END_TEST

START_TEST(set_in_a_cache_full_of_bytes_fails_without_evicting) {
  cache_t *c = make(0, 400);
  ASSERT_OK(tu_set(c, "a", "0123456789", 0));
  ASSERT_OK(tu_set(c, "b", "0123456789", 0));
  cache_stats_t before = tu_stats(c);
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 1);
  char big[300]; /* fits alone, but not beside the other two */
  memset(big, 'x', sizeof big);
  ASSERT_STATUS(cache_set(c, "c", 1, big, sizeof big, 0), CACHE_ENOMEM);
  ASSERT_UNCHANGED(c, before);
  cache_destroy(c);
}
END_TEST

START_TEST(set_over_an_expired_entry_fails_and_leaves_it_for_later) {
  cache_t *c = make(0, 0);
  ASSERT_OK(tu_set(c, "k", "old", 10));
  clk.now_ms += 10;
  cache_stats_t before = tu_stats(c);
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 1);
  ASSERT_STATUS(tu_set(c, "k", "new", 0), CACHE_ENOMEM);
  ASSERT_UNCHANGED(c, before);
  /* Still expired, and still never returned. */
  ASSERT_MISSING(c, "k");
  ck_assert_int_eq(listener_calls, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(only_the_armed_allocations_fail) {
  cache_t *c = make(0, 0);
  cache__fault_set(CACHE__FAULT_ALLOC, 1, 2);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_STATUS(tu_set(c, "b", "2", 0), CACHE_ENOMEM);
  ASSERT_STATUS(tu_set(c, "b", "2", 0), CACHE_ENOMEM);
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.sets, 3);
  ck_assert_uint_eq(st.entries, 3);
  ASSERT_VALUE(c, "b", "2");
  cache_destroy(c);
}
END_TEST

START_TEST(failed_sets_leak_no_room_in_the_bounds) {
  /* A failure must not keep a reservation in the totals: after them the
   * cache still fills up to exactly the same point. */
  cache_t *c = make(3, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  cache__fault_set(CACHE__FAULT_ALLOC, 0, 5);
  for (int i = 0; i < 5; i++)
    ASSERT_STATUS(tu_set(c, "b", "2", 0), CACHE_ENOMEM);
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_OK(tu_set(c, "d", "4", 0));
  ck_assert_uint_eq(tu_stats(c).evictions, 1);
  ck_assert_uint_eq(cache_count(c), 3);
  ASSERT_OK(cache_clear(c));
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  cache_destroy(c);
}
END_TEST

/* ---- an expiry pass on demand ------------------------------------------- */

START_TEST(failed_cleanup_returns_the_error_and_keeps_the_expired_entries) {
  cache_t *c = make(0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 10));
  ASSERT_OK(tu_set(c, "b", "2", 10));
  clk.now_ms += 10;
  cache__fault_set(CACHE__FAULT_PASS, 0, 1);
  uint64_t removed = 12345;
  ASSERT_STATUS(cache_cleanup(c, &removed), CACHE_ENOMEM);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.cleanup_errors, 1);
  ck_assert_uint_eq(st.cleanup_runs, 0);
  ck_assert_uint_eq(st.expirations, 0);
  ck_assert_uint_eq(cache_count(c), 2);
  ck_assert_int_eq(listener_calls, 0);

  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 2);
  st = tu_stats(c);
  ck_assert_uint_eq(st.cleanup_errors, 1);
  ck_assert_uint_eq(st.cleanup_runs, 1);
  ck_assert_uint_eq(st.expirations, 2);
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_int_eq(listener_calls, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(failed_cleanup_does_not_block_the_next_one) {
  cache_t *c = make(0, 0);
  cache__fault_set(CACHE__FAULT_PASS, 0, 3);
  for (int i = 0; i < 3; i++)
    ASSERT_STATUS(cache_cleanup(c, NULL), CACHE_ENOMEM);
  ASSERT_OK(cache_cleanup(c, NULL));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.cleanup_errors, 3);
  ck_assert_uint_eq(st.cleanup_runs, 1);
  cache_destroy(c);
}
END_TEST

static Suite *faults_suite(void) {
  Suite *s = suite_create("faults");

  TCase *a = tcase_create("alloc");
  tcase_add_checked_fixture(a, setup, teardown);
  tcase_add_test(a, set_of_a_new_key_fails_with_enomem_and_changes_nothing);
  tcase_add_test(a, set_of_an_existing_key_fails_and_keeps_the_old_value);
  tcase_add_test(a, set_in_a_full_cache_fails_without_evicting);
  tcase_add_test(a, set_in_a_cache_full_of_bytes_fails_without_evicting);
  tcase_add_test(a, set_over_an_expired_entry_fails_and_leaves_it_for_later);
  tcase_add_test(a, only_the_armed_allocations_fail);
  tcase_add_test(a, failed_sets_leak_no_room_in_the_bounds);
  suite_add_tcase(s, a);

  TCase *p = tcase_create("pass");
  tcase_add_checked_fixture(p, setup, teardown);
  tcase_add_test(
      p, failed_cleanup_returns_the_error_and_keeps_the_expired_entries);
  tcase_add_test(p, failed_cleanup_does_not_block_the_next_one);
  suite_add_tcase(s, p);
  return s;
}

int main(void) { return tu_run(faults_suite()); }
