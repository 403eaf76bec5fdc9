/* Statistics counters and the struct_size contract of cache_stats(). */
#include <stddef.h>
#include <stdio.h>

#include "test_util.h"

/* ---- counters ----------------------------------------------------------- */

START_TEST(fresh_cache_has_zero_counters) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 10, 5000, NULL};
  cache_t *c = tu_make_cache_cfg(&cfg);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.bytes, 0);
  ck_assert_uint_eq(st.hits, 0);
  ck_assert_uint_eq(st.misses, 0);
  ck_assert_uint_eq(st.sets, 0);
  ck_assert_uint_eq(st.deletes, 0);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.expirations, 0);
  ck_assert_uint_eq(st.cleanup_runs, 0);
  ck_assert_uint_eq(st.cleanup_errors, 0);
  ck_assert_uint_eq(st.max_entries, 10);
  ck_assert_uint_eq(st.max_bytes, 5000);
  cache_destroy(c);
}
END_TEST

START_TEST(hits_plus_misses_equals_gets) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  char key[16], buf[16];
  for (int i = 0; i < 50; i += 2) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_set(c, key, (size_t)n, "v", 1, 0));
  }
  uint64_t gets = 0, expect_hits = 0;
  for (int i = 0; i < 100; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    size_t len;
    int st = cache_get(c, key, (size_t)n, buf, sizeof buf, &len);
    ck_assert(st == CACHE_OK || st == CACHE_NOT_FOUND);
    gets++;
    if (st == CACHE_OK)
      expect_hits++;
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.hits + st.misses, gets);
  ck_assert_uint_eq(st.hits, expect_hits);
  ck_assert_uint_eq(st.hits, 25);
  ck_assert_uint_eq(st.misses, 75);
  cache_destroy(c);
}
END_TEST

START_TEST(sets_count_successful_sets_only) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 0, 1024, NULL};
  cache_t *c = tu_make_cache_cfg(&cfg);
  static char big[2048];
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "a", "2", 0)); /* a replacement is a set too */
  ASSERT_OK(tu_set(c, "b", "3", 0));
  ASSERT_STATUS(cache_set(c, "x", 1, big, sizeof big, 0), CACHE_ETOOBIG);
  ASSERT_STATUS(cache_set(c, NULL, 1, "v", 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_set(c, "x", 0, "v", 1, 0), CACHE_EINVAL);
  ck_assert_uint_eq(tu_stats(c).sets, 3);
  cache_destroy(c);
}
END_TEST

START_TEST(deletes_count_removed_entries_only) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_delete(c, "a"));
  ASSERT_STATUS(tu_delete(c, "a"), CACHE_NOT_FOUND);
  ASSERT_STATUS(tu_delete(c, "zz"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_delete(c, "b"));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.deletes, 2);
  ck_assert_uint_eq(st.entries, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(clear_is_not_counted_as_deletes_or_evictions) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(cache_clear(c));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.entries, 0);
  ck_assert_uint_eq(st.deletes, 0);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.expirations, 0);
  ck_assert_uint_eq(st.sets, 2);
  cache_destroy(c);
}
END_TEST

START_TEST(table_bytes_shrink_when_the_cache_empties) {
  /* Tables (hash slots, expiry heap) grow with the entries; once most are
   * gone, by delete or by clear, the tables give most of it back. */
  test_clock_t clk = {1000};
  cache_t *c = tu_make_cache(&clk, 60000, 0);
  uint64_t empty = tu_stats(c).table_bytes;
  char key[16];
  for (int i = 0; i < 20000; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_set(c, key, (size_t)n, "v", 1, 0));
  }
  uint64_t full = tu_stats(c).table_bytes;
  ck_assert_uint_gt(full, empty + 20000 * 16); /* slot + heap pair each */
  for (int i = 0; i < 19900; i++) {
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_delete(c, key, (size_t)n));
  }
  uint64_t few = tu_stats(c).table_bytes;
  ck_assert_msg(few < full / 8, "%llu of %llu bytes kept for 100 entries",
                (unsigned long long)few, (unsigned long long)full);
  for (int i = 19900; i < 20000; i++) { /* what is left is all there */
    int n = snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(cache_contains(c, key, (size_t)n));
  }
  ASSERT_OK(cache_clear(c));
  ck_assert_uint_le(tu_stats(c).table_bytes, few);
  cache_destroy(c);
}
END_TEST

/* The smallest expiry heap: 64 slots of a deadline and an entry. Table
 * bytes count what the allocator gave, which can be a little more than was
 * asked for, and how much more depends on what was freed before (with the
 * C library's allocator), so the tables of two caches are not compared:
 * each cache is compared with itself. */
#define HEAP_BYTES_MIN (64 * 16)

START_TEST(a_cache_without_deadlines_has_no_expiry_heap) {
  /* The expiry heap is allocated for the first entry that expires, not
   * for the first entry. */
  cache_t *never = tu_make_cache(NULL, 0, 0);
  uint64_t empty = tu_stats(never).table_bytes;
  ASSERT_OK(tu_set(never, "k", "v", 0));
  ck_assert_uint_eq(tu_stats(never).table_bytes, empty);
  ASSERT_OK(tu_set(never, "k", "v", 60000)); /* now it has one */
  ck_assert_uint_ge(tu_stats(never).table_bytes, empty + HEAP_BYTES_MIN);

  cache_t *ttl = tu_make_cache(NULL, 60000, 0); /* a default TTL */
  empty = tu_stats(ttl).table_bytes;
  ASSERT_OK(tu_set(ttl, "k", "v", 0));
  ck_assert_uint_ge(tu_stats(ttl).table_bytes, empty + HEAP_BYTES_MIN);
  cache_destroy(never);
  cache_destroy(ttl);
}
END_TEST

START_TEST(evictions_count_entries_removed_for_the_bound) {
  cache_t *c = tu_make_cache(NULL, 0, 2);
  char key[8];
  for (int i = 0; i < 7; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(tu_set(c, key, "v", 0));
  }
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.evictions, 5);
  ck_assert_uint_eq(st.entries, 2);
  ck_assert_uint_eq(st.sets, 7);
  cache_destroy(c);
}
END_TEST

START_TEST(expirations_count_expired_entries_removed) {
  test_clock_t clk = {500};
  cache_t *c = tu_make_cache(&clk, 10, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "c", "3", CACHE_TTL_NEVER));
  clk.now_ms += 10;
  uint64_t removed = 0;
  ASSERT_OK(cache_cleanup(c, &removed));
  ck_assert_uint_eq(removed, 2);
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.expirations, 2);
  ck_assert_uint_eq(st.entries, 1);
  ck_assert_uint_eq(st.cleanup_runs, 1);
  ck_assert_uint_eq(st.deletes, 0);
  ck_assert_uint_eq(st.evictions, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(entries_matches_count) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  ASSERT_OK(tu_set(c, "b", "3", 0));
  ck_assert_uint_eq(tu_stats(c).entries, cache_count(c));
  ck_assert_uint_eq(cache_count(c), 2);
  cache_destroy(c);
}
END_TEST

START_TEST(reading_stats_changes_nothing) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_VALUE(c, "a", "1");
  cache_stats_t a = tu_stats(c);
  cache_stats_t b = tu_stats(c);
  ASSERT_STATS_EQ(a, b);
  cache_destroy(c);
}
END_TEST

/* ---- struct_size -------------------------------------------------------- */

START_TEST(stats_null_is_einval) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_STATUS(cache_stats(c, NULL), CACHE_EINVAL);
  cache_destroy(c);
}
END_TEST

/* The first layout of cache_stats_t ended after max_bytes (before the alert
 * counters), so any struct_size shorter than that is below it. */
static const size_t short_sizes[] = {
    0,
    1,
    sizeof(size_t),
    offsetof(cache_stats_t, entries) + sizeof(uint64_t),
    offsetof(cache_stats_t, misses) + sizeof(uint64_t),
    offsetof(cache_stats_t, max_bytes),
    offsetof(cache_stats_t, alerts_warning) - 1,
};
#define N_SHORT ((int)(sizeof short_sizes / sizeof short_sizes[0]))

/* A cache with one entry, destroyed by the fixture even when a check fails
 * (so a failure here does not also show up as a leak under valgrind). */
static cache_t *fixture_cache;

static void setup_cache(void) {
  fixture_cache = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(fixture_cache, "a", "1", 0));
}

static void teardown_cache(void) {
  cache_destroy(fixture_cache);
  fixture_cache = NULL;
}

START_TEST(stats_struct_size_below_first_version_is_einval_and_writes_nothing) {
  union {
    cache_stats_t st;
    unsigned char raw[sizeof(cache_stats_t)];
  } u, before;
  memset(&u, 0xAB, sizeof u);
  u.st.struct_size = short_sizes[_i];
  memcpy(&before, &u, sizeof u);
  ASSERT_STATUS(cache_stats(fixture_cache, &u.st), CACHE_EINVAL);
  ck_assert_mem_eq(u.raw, before.raw, sizeof u.raw);
}
END_TEST

START_TEST(stats_exact_struct_size_fills_every_field) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 77, 0, NULL};
  cache_t *c = tu_make_cache_cfg(&cfg);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_VALUE(c, "a", "1");
  ASSERT_MISSING(c, "b");
  cache_stats_t st;
  memset(&st, 0xAB, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_OK(cache_stats(c, &st));
  ck_assert_uint_eq(st.struct_size, sizeof st);
  ck_assert_uint_eq(st.entries, 1);
  ck_assert_uint_gt(st.bytes, 2);
  ck_assert_uint_eq(st.hits, 1);
  ck_assert_uint_eq(st.misses, 1);
  ck_assert_uint_eq(st.sets, 1);
  ck_assert_uint_eq(st.deletes, 0);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.expirations, 0);
  ck_assert_uint_eq(st.cleanup_runs, 0);
  ck_assert_uint_eq(st.cleanup_errors, 0);
  ck_assert_uint_eq(st.max_entries, 77);
  ck_assert_uint_eq(st.max_bytes, 0);
  cache_destroy(c);
}
END_TEST

/* A stats struct from a future, longer header. */
#define EXTRA 32
typedef union bigger_stats {
  cache_stats_t st;
  unsigned char raw[sizeof(cache_stats_t) + 2 * EXTRA];
} bigger_stats_t;

START_TEST(stats_larger_struct_size_is_ok_and_fills_known_fields) {
  cache_t *c = tu_make_cache(NULL, 0, 9);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_VALUE(c, "a", "1");
  bigger_stats_t b;
  memset(&b, 0xAB, sizeof b);
  b.st.struct_size = sizeof(cache_stats_t) + EXTRA;
  ASSERT_OK(cache_stats(c, &b.st));
  ck_assert_uint_eq(b.st.struct_size, sizeof(cache_stats_t) + EXTRA);
  ck_assert_uint_eq(b.st.entries, 1);
  ck_assert_uint_eq(b.st.hits, 1);
  ck_assert_uint_eq(b.st.sets, 1);
  ck_assert_uint_eq(b.st.max_entries, 9);
  cache_destroy(c);
}
END_TEST

START_TEST(stats_larger_struct_size_writes_nothing_past_struct_size) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  bigger_stats_t b;
  memset(&b, 0xAB, sizeof b);
  b.st.struct_size = sizeof(cache_stats_t) + EXTRA;
  ASSERT_OK(cache_stats(c, &b.st));
  for (size_t i = sizeof(cache_stats_t) + EXTRA; i < sizeof b.raw; i++)
    ck_assert_uint_eq(b.raw[i], 0xAB);
  cache_destroy(c);
}
END_TEST

START_TEST(stats_larger_struct_size_zeroes_the_unknown_fields) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  bigger_stats_t b;
  memset(&b, 0xAB, sizeof b);
  b.st.struct_size = sizeof(cache_stats_t) + EXTRA;
  ASSERT_OK(cache_stats(c, &b.st));
  for (size_t i = sizeof(cache_stats_t); i < sizeof(cache_stats_t) + EXTRA; i++)
    ck_assert_uint_eq(b.raw[i], 0);
  cache_destroy(c);
}
END_TEST

START_TEST(failed_calls_change_no_counter) {
  cache_t *c = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  cache_stats_t before = tu_stats(c);
  size_t len;
  char buf[4];
  ASSERT_STATUS(cache_get(c, "a", 1, buf, sizeof buf, NULL), CACHE_EINVAL);
  ASSERT_STATUS(cache_get(c, "a", 1, NULL, 4, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_get(c, NULL, 1, buf, sizeof buf, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_get(c, "a", 0, buf, sizeof buf, &len), CACHE_EINVAL);
  ASSERT_STATUS(cache_delete(c, NULL, 1), CACHE_EINVAL);
  ASSERT_STATUS(cache_set(c, "b", 1, NULL, 3, 0), CACHE_EINVAL);
  cache_stats_t after = tu_stats(c);
  ASSERT_STATS_EQ(after, before);
  cache_destroy(c);
}
END_TEST

static Suite *stats_suite(void) {
  Suite *s = suite_create("stats");

  TCase *k = tcase_create("counters");
  tcase_add_test(k, table_bytes_shrink_when_the_cache_empties);
  tcase_add_test(k, a_cache_without_deadlines_has_no_expiry_heap);
  tcase_add_test(k, fresh_cache_has_zero_counters);
  tcase_add_test(k, hits_plus_misses_equals_gets);
  tcase_add_test(k, sets_count_successful_sets_only);
  tcase_add_test(k, deletes_count_removed_entries_only);
  tcase_add_test(k, clear_is_not_counted_as_deletes_or_evictions);
  tcase_add_test(k, evictions_count_entries_removed_for_the_bound);
  tcase_add_test(k, expirations_count_expired_entries_removed);
  tcase_add_test(k, entries_matches_count);
  tcase_add_test(k, reading_stats_changes_nothing);
  tcase_add_test(k, failed_calls_change_no_counter);
  suite_add_tcase(s, k);

  TCase *z = tcase_create("struct_size");
  tcase_add_test(z, stats_null_is_einval);
  suite_add_tcase(s, z);

  TCase *sh = tcase_create("struct_size_short");
  tcase_add_checked_fixture(sh, setup_cache, teardown_cache);
  tcase_add_loop_test(
      sh, stats_struct_size_below_first_version_is_einval_and_writes_nothing, 0,
      N_SHORT);
  suite_add_tcase(s, sh);

  z = tcase_create("struct_size_other");
  tcase_add_test(z, stats_exact_struct_size_fills_every_field);
  tcase_add_test(z, stats_larger_struct_size_is_ok_and_fills_known_fields);
  tcase_add_test(z, stats_larger_struct_size_writes_nothing_past_struct_size);
  tcase_add_test(z, stats_larger_struct_size_zeroes_the_unknown_fields);
  suite_add_tcase(s, z);
  return s;
}

int main(void) { return tu_run(stats_suite()); }
