/* Expiry, decided with a clock the test moves by hand (no sleeping).
 *
 * Rule pinned down here: an entry set at time t with a time to live of d ms
 * is live up to t + d - 1 and expired from t + d on. */
#include "test_util.h"

#define T0 1000u

static test_clock_t clk;

static cache_t *make(uint64_t default_ttl) {
  clk.now_ms = T0;
  return tu_make_cache(&clk, default_ttl, 0);
}

/* ---- the deadline ------------------------------------------------------- */

START_TEST(default_ttl_entry_is_live_until_one_ms_before_deadline) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 50;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 99;
  ASSERT_OK(tu_contains(c, "k"));
  ASSERT_VALUE(c, "k", "v");
  cache_destroy(c);
}
END_TEST

START_TEST(default_ttl_entry_expires_exactly_at_deadline) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 100;
  ASSERT_STATUS(tu_contains(c, "k"), CACHE_NOT_FOUND);
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(entry_stays_expired_as_time_goes_on) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 100;
  ASSERT_MISSING(c, "k");
  clk.now_ms = T0 + 100000;
  ASSERT_MISSING(c, "k");
  ASSERT_STATUS(tu_contains(c, "k"), CACHE_NOT_FOUND);
  cache_destroy(c);
}
END_TEST

START_TEST(one_ms_ttl_is_live_only_at_set_time) {
  cache_t *c = make(0);
  ASSERT_OK(tu_set(c, "k", "v", 1));
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 1;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(per_entry_ttl_longer_than_default_overrides_it) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 500));
  clk.now_ms = T0 + 100;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 499;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 500;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(per_entry_ttl_shorter_than_default_overrides_it) {
  cache_t *c = make(1000);
  ASSERT_OK(tu_set(c, "k", "v", 10));
  clk.now_ms = T0 + 9;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 10;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(per_entry_ttl_applies_without_a_default) {
  cache_t *c = make(0);
  ASSERT_OK(tu_set(c, "k", "v", 300));
  clk.now_ms = T0 + 299;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 300;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(ttl_zero_uses_the_default) {
  cache_t *c = make(200);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 199;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = T0 + 200;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(no_default_and_ttl_zero_never_expires) {
  cache_t *c = make(0);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = UINT64_MAX / 2;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = UINT64_MAX - 1;
  ASSERT_VALUE(c, "k", "v");
  cache_destroy(c);
}
END_TEST

START_TEST(ttl_never_does_not_expire_despite_a_default) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", CACHE_TTL_NEVER));
  clk.now_ms = T0 + 100;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = UINT64_MAX - 1;
  ASSERT_VALUE(c, "k", "v");
  ASSERT_OK(tu_contains(c, "k"));
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_an_entry_restarts_its_ttl) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "old", 0));
  clk.now_ms = T0 + 50;
  ASSERT_OK(tu_set(c, "k", "new", 0));
  clk.now_ms = T0 + 149;
  ASSERT_VALUE(c, "k", "new");
  clk.now_ms = T0 + 150;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_with_ttl_never_removes_the_deadline) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "old", 0));
  ASSERT_OK(tu_set(c, "k", "new", CACHE_TTL_NEVER));
  clk.now_ms = T0 + 10000;
  ASSERT_VALUE(c, "k", "new");
  cache_destroy(c);
}
END_TEST

START_TEST(only_entries_that_expire_carry_a_deadline) {
  /* A deadline takes room in the entry only when there is one: the same
   * key and value cost more bytes with a ttl than without. Entries of
   * both kinds side by side keep their keys, values and deadlines. */
  cache_t *c = make(0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  uint64_t never = tu_stats(c).bytes;
  ASSERT_OK(tu_set(c, "b", "1", 100));
  uint64_t expiring = tu_stats(c).bytes - never;
  ck_assert_uint_gt(expiring, never);
  ASSERT_OK(tu_set(c, "a", "2", 50)); /* gains a deadline */
  ASSERT_OK(tu_set(c, "b", "2", 0));  /* loses it */
  ck_assert_uint_eq(tu_stats(c).bytes, never + expiring);
  clk.now_ms = T0 + 49;
  ASSERT_VALUE(c, "a", "2");
  ASSERT_VALUE(c, "b", "2");
  clk.now_ms = T0 + 50;
  ASSERT_MISSING(c, "a");
  clk.now_ms = T0 + 100000;
  ASSERT_VALUE(c, "b", "2");
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0); /* "a" went on its get */
  ck_assert_uint_eq(tu_stats(c).bytes, never);
  cache_destroy(c);
}
END_TEST

START_TEST(setting_an_expired_key_makes_it_live_again) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "old", 0));
  clk.now_ms = T0 + 100;
  ASSERT_OK(tu_set(c, "k", "new", 0));
  ASSERT_VALUE(c, "k", "new");
  ck_assert_uint_eq(cache_count(c), 1);
  clk.now_ms = T0 + 199;
  ASSERT_VALUE(c, "k", "new");
  clk.now_ms = T0 + 200;
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

/* ---- saturation at the end of the clock --------------------------------- */

START_TEST(per_entry_ttl_past_the_end_of_clock_saturates_to_never) {
  clk.now_ms = UINT64_MAX - 10;
  cache_t *c = tu_make_cache(&clk, 0, 0);
  ASSERT_OK(tu_set(c, "k", "v", 1000));
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = UINT64_MAX - 5;
  ASSERT_VALUE(c, "k", "v");
  clk.now_ms = UINT64_MAX - 1;
  ASSERT_VALUE(c, "k", "v");
  ASSERT_OK(tu_contains(c, "k"));
  uint64_t removed = 99;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0);
  ck_assert_uint_eq(cache_count(c), 1);
  cache_destroy(c);
}
END_TEST

START_TEST(default_ttl_past_the_end_of_clock_saturates_to_never) {
  clk.now_ms = UINT64_MAX - 10;
  cache_t *c = tu_make_cache(&clk, 1000, 0);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = UINT64_MAX - 1;
  ASSERT_VALUE(c, "k", "v");
  cache_destroy(c);
}
END_TEST

START_TEST(huge_ttl_saturates_to_never) {
  cache_t *c = make(0);
  ASSERT_OK(tu_set(c, "k", "v", UINT64_MAX - 1));
  clk.now_ms = UINT64_MAX - 1;
  ASSERT_VALUE(c, "k", "v");
  cache_destroy(c);
}
END_TEST

/* ---- what an expired entry does to reads and counters ------------------- */

START_TEST(expired_entry_is_never_returned_and_counts_a_miss) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 100;
  char buf[16];
  memset(buf, '#', sizeof buf);
  size_t len = 0;
  ASSERT_STATUS(tu_get(c, "k", buf, sizeof buf, &len), CACHE_NOT_FOUND);
  ck_assert_int_eq(buf[0], '#');
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.hits, 0);
  ck_assert_uint_eq(st.misses, 1);
  /* Either the get removed it (one expiration) or it is still held. */
  ck_assert_uint_eq(st.entries + st.expirations, 1);
  ck_assert_uint_eq(cache_count(c), st.entries);
  cache_destroy(c);
}
END_TEST

START_TEST(expired_entry_with_small_buffer_is_not_found_not_too_small) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "a long value", 0));
  clk.now_ms = T0 + 100;
  size_t len = 0;
  ASSERT_STATUS(tu_get(c, "k", NULL, 0, &len), CACHE_NOT_FOUND);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.hits, 0);
  ck_assert_uint_eq(st.misses, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(contains_of_expired_entry_counts_no_miss) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 100;
  ASSERT_STATUS(tu_contains(c, "k"), CACHE_NOT_FOUND);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.hits, 0);
  ck_assert_uint_eq(st.misses, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(delete_of_expired_entry_is_not_found) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "k", "v", 0));
  clk.now_ms = T0 + 100;
  ASSERT_STATUS(tu_delete(c, "k"), CACHE_NOT_FOUND);
  ASSERT_MISSING(c, "k");
  cache_destroy(c);
}
END_TEST

START_TEST(count_includes_expired_entries_not_yet_removed) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", 0));
  clk.now_ms = T0 + 1000;
  ck_assert_uint_eq(cache_count(c), 3);
  ck_assert_uint_eq(tu_stats(c).entries, 3);
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 3);
  ck_assert_uint_eq(cache_count(c), 0);
  cache_destroy(c);
}
END_TEST

/* ---- cache_cleanup ------------------------------------------------------ */

START_TEST(cleanup_removes_exactly_the_expired_entries) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "short1", "v", 0));
  ASSERT_OK(tu_set(c, "short2", "v", 50));
  ASSERT_OK(tu_set(c, "short3", "v", 500));
  ASSERT_OK(tu_set(c, "long1", "v", 501));
  ASSERT_OK(tu_set(c, "long2", "v", 10000));
  ASSERT_OK(tu_set(c, "never", "v", CACHE_TTL_NEVER));
  clk.now_ms = T0 + 500;
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 3);
  ck_assert_uint_eq(cache_count(c), 3);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 3);
  ck_assert_uint_eq(st.expirations, 3);
  ASSERT_VALUE(c, "long1", "v");
  ASSERT_VALUE(c, "long2", "v");
  ASSERT_VALUE(c, "never", "v");
  ASSERT_MISSING(c, "short1");
  ASSERT_MISSING(c, "short2");
  ASSERT_MISSING(c, "short3");
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_with_nothing_expired_removes_nothing) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  clk.now_ms = T0 + 99;
  uint64_t removed = 42;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0);
  ck_assert_uint_eq(cache_count(c), 2);
  ck_assert_uint_eq(tu_stats(c).expirations, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_of_empty_cache_is_ok) {
  cache_t *c = make(100);
  uint64_t removed = 42;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_accepts_null_removed) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  clk.now_ms = T0 + 100;
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_uint_eq(tu_stats(c).expirations, 1);
  cache_destroy(c);
}
END_TEST

START_TEST(second_cleanup_finds_nothing_more) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  clk.now_ms = T0 + 100;
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 2);
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 0);
  ck_assert_uint_eq(tu_stats(c).expirations, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_runs_counts_every_completed_pass) {
  cache_t *c = make(100);
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 0);
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_uint_eq(tu_stats(c).cleanup_runs, 1);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  clk.now_ms = T0 + 100;
  ASSERT_OK(cache_cleanup(c, NULL));
  ASSERT_OK(cache_cleanup(c, NULL));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.cleanup_runs, 3);
  ck_assert_uint_eq(st.cleanup_errors, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(cleanup_releases_the_bytes_of_expired_entries) {
  cache_t *c = make(100);
  ASSERT_OK(tu_set(c, "keep", "v", CACHE_TTL_NEVER));
  uint64_t keep_bytes = tu_stats(c).bytes;
  ASSERT_OK(tu_set(c, "a", "some value", 0));
  ASSERT_OK(tu_set(c, "b", "another value", 0));
  ck_assert_uint_gt(tu_stats(c).bytes, keep_bytes);
  clk.now_ms = T0 + 100;
  ASSERT_OK(cache_cleanup(c, NULL));
  ck_assert_uint_eq(tu_stats(c).bytes, keep_bytes);
  cache_destroy(c);
}
END_TEST

START_TEST(expired_entries_removed_by_any_path_add_up) {
  /* However the library removes them (on access or in the pass), after a
   * full pass all five expired entries are counted as expirations once. */
  cache_t *c = make(100);
  const char *keys[] = {"a", "b", "c", "d", "e"};
  for (int i = 0; i < 5; i++)
    ASSERT_OK(tu_set(c, keys[i], "v", 0));
  clk.now_ms = T0 + 100;
  ASSERT_MISSING(c, "a");
  ASSERT_STATUS(tu_contains(c, "b"), CACHE_NOT_FOUND);
  ASSERT_STATUS(tu_delete(c, "c"), CACHE_NOT_FOUND);
  ASSERT_OK(cache_cleanup(c, NULL));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.expirations, 5);
  ck_assert_uint_eq(st.deletes, 0);
  cache_destroy(c);
}
END_TEST

static Suite *ttl_suite(void) {
  Suite *s = suite_create("ttl");

  TCase *d = tcase_create("deadline");
  tcase_add_test(d, default_ttl_entry_is_live_until_one_ms_before_deadline);
  tcase_add_test(d, default_ttl_entry_expires_exactly_at_deadline);
  tcase_add_test(d, entry_stays_expired_as_time_goes_on);
  tcase_add_test(d, one_ms_ttl_is_live_only_at_set_time);
  tcase_add_test(d, per_entry_ttl_longer_than_default_overrides_it);
  tcase_add_test(d, per_entry_ttl_shorter_than_default_overrides_it);
  tcase_add_test(d, per_entry_ttl_applies_without_a_default);
  tcase_add_test(d, ttl_zero_uses_the_default);
  tcase_add_test(d, no_default_and_ttl_zero_never_expires);
  tcase_add_test(d, ttl_never_does_not_expire_despite_a_default);
  tcase_add_test(d, replacing_an_entry_restarts_its_ttl);
  tcase_add_test(d, replacing_with_ttl_never_removes_the_deadline);
  tcase_add_test(d, only_entries_that_expire_carry_a_deadline);
  tcase_add_test(d, setting_an_expired_key_makes_it_live_again);
  suite_add_tcase(s, d);

  TCase *sat = tcase_create("saturation");
  tcase_add_test(sat, per_entry_ttl_past_the_end_of_clock_saturates_to_never);
  tcase_add_test(sat, default_ttl_past_the_end_of_clock_saturates_to_never);
  tcase_add_test(sat, huge_ttl_saturates_to_never);
  suite_add_tcase(s, sat);

  TCase *e = tcase_create("expired");
  tcase_add_test(e, expired_entry_is_never_returned_and_counts_a_miss);
  tcase_add_test(e, expired_entry_with_small_buffer_is_not_found_not_too_small);
  tcase_add_test(e, contains_of_expired_entry_counts_no_miss);
  tcase_add_test(e, delete_of_expired_entry_is_not_found);
  tcase_add_test(e, count_includes_expired_entries_not_yet_removed);
  suite_add_tcase(s, e);

  TCase *cl = tcase_create("cleanup");
  tcase_add_test(cl, cleanup_removes_exactly_the_expired_entries);
  tcase_add_test(cl, cleanup_with_nothing_expired_removes_nothing);
  tcase_add_test(cl, cleanup_of_empty_cache_is_ok);
  tcase_add_test(cl, cleanup_accepts_null_removed);
  tcase_add_test(cl, second_cleanup_finds_nothing_more);
  tcase_add_test(cl, cleanup_runs_counts_every_completed_pass);
  tcase_add_test(cl, cleanup_releases_the_bytes_of_expired_entries);
  tcase_add_test(cl, expired_entries_removed_by_any_path_add_up);
  suite_add_tcase(s, cl);
  return s;
}

int main(void) { return tu_run(ttl_suite()); }
