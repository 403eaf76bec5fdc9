/* The max_bytes bound and the accounting of stats.bytes. */
#include <stdio.h>

#include "test_util.h"

static cache_t *make_bytes(uint64_t max_bytes) {
  tu_config_t cfg = {NULL, CACHE_POLICY_LRU, 0, 0, max_bytes, NULL};
  return tu_make_cache_cfg(&cfg);
}

/* The bytes one entry with this key and a value of value_len bytes
 * occupies, measured in a fresh unbounded cache. */
static uint64_t entry_bytes(const char *key, size_t value_len) {
  cache_t *c = make_bytes(0);
  unsigned char *value = calloc(1, value_len + 1);
  ck_assert_ptr_nonnull(value);
  ASSERT_OK(cache_set(c, key, strlen(key), value, value_len, 0));
  uint64_t b = tu_stats(c).bytes;
  free(value);
  cache_destroy(c);
  return b;
}

static int set_len(cache_t *c, const char *key, size_t value_len, char fill) {
  unsigned char *value = malloc(value_len + 1);
  ck_assert_ptr_nonnull(value);
  memset(value, fill, value_len + 1);
  int st = cache_set(c, key, strlen(key), value, value_len, 0);
  free(value);
  return st;
}

/* ---- accounting --------------------------------------------------------- */

START_TEST(empty_cache_holds_zero_bytes) {
  cache_t *c = make_bytes(0);
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(entry_bytes_include_a_header) {
  cache_t *c = make_bytes(0);
  ASSERT_OK(tu_set(c, "key", "0123456789", 0));
  ck_assert_uint_gt(tu_stats(c).bytes, 3 + 10);
  ASSERT_OK(cache_set(c, "empty", 5, NULL, 0, 0));
  ck_assert_uint_gt(tu_stats(c).bytes, 3 + 10 + 5);
  cache_destroy(c);
}
END_TEST

START_TEST(bytes_grow_with_the_value) {
  uint64_t small = entry_bytes("k", 1);
  uint64_t big = entry_bytes("k", 1000);
  ck_assert_uint_gt(small, 1 + 1);
  ck_assert_uint_gt(big, 1 + 1000);
  ck_assert_uint_gt(big, small);
}
END_TEST

START_TEST(bytes_add_up_over_entries) {
  uint64_t one = entry_bytes("k1", 20);
  cache_t *c = make_bytes(0);
  ASSERT_OK(set_len(c, "k1", 20, 'a'));
  ASSERT_OK(set_len(c, "k2", 20, 'b'));
  ASSERT_OK(set_len(c, "k3", 20, 'c'));
  ck_assert_uint_eq(tu_stats(c).bytes, 3 * one);
  ASSERT_OK(tu_delete(c, "k2"));
  ck_assert_uint_eq(tu_stats(c).bytes, 2 * one);
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_a_value_updates_the_bytes) {
  uint64_t small = entry_bytes("k", 10);
  uint64_t big = entry_bytes("k", 5000);
  cache_t *c = make_bytes(0);
  ASSERT_OK(set_len(c, "k", 10, 'a'));
  ck_assert_uint_eq(tu_stats(c).bytes, small);
  ASSERT_OK(set_len(c, "k", 5000, 'b'));
  ck_assert_uint_eq(tu_stats(c).bytes, big);
  ASSERT_OK(set_len(c, "k", 10, 'c'));
  ck_assert_uint_eq(tu_stats(c).bytes, small);
  cache_destroy(c);
}
END_TEST

START_TEST(bytes_return_to_zero_after_clear) {
  cache_t *c = make_bytes(0);
  ASSERT_OK(set_len(c, "a", 100, 'a'));
  ASSERT_OK(set_len(c, "b", 1000, 'b'));
  ASSERT_OK(cache_clear(c));
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(bytes_return_to_zero_after_deleting_everything) {
  cache_t *c = make_bytes(0);
  ASSERT_OK(set_len(c, "a", 100, 'a'));
  ASSERT_OK(set_len(c, "b", 1000, 'b'));
  ASSERT_OK(tu_delete(c, "a"));
  ASSERT_OK(tu_delete(c, "b"));
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(stats_report_the_byte_bound) {
  cache_t *c = make_bytes(12345);
  ck_assert_uint_eq(tu_stats(c).max_bytes, 12345);
  cache_destroy(c);
}
END_TEST

/* ---- the bound ---------------------------------------------------------- */

START_TEST(bytes_never_exceed_max_bytes) {
  const uint64_t max = 4096;
  cache_t *c = make_bytes(max);
  uint32_t rng = 12345;
  char key[24];
  for (int i = 0; i < 600; i++) {
    uint32_t r = tu_rand(&rng);
    size_t vlen = (r >> 8) % 300;
    snprintf(key, sizeof key, "key-%d", (int)(r % 97));
    ASSERT_OK(set_len(c, key, vlen, (char)('a' + i % 26)));
    cache_stats_t st = tu_stats(c);
    ck_assert_uint_le(st.bytes, max);
    ck_assert_uint_eq(st.entries, cache_count(c));
  }
  ck_assert_uint_gt(tu_stats(c).evictions, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(entry_that_exactly_fits_max_bytes_is_stored) {
  uint64_t b = entry_bytes("k1", 64);
  cache_t *c = make_bytes(b);
  ASSERT_OK(set_len(c, "k1", 64, 'x'));
  ck_assert_uint_eq(tu_stats(c).bytes, b);
  /* A second one of the same size pushes the first out. */
  ASSERT_OK(set_len(c, "k2", 64, 'y'));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.bytes, b);
  ck_assert_uint_eq(st.entries, 1);
  ck_assert_uint_eq(st.evictions, 1);
  ASSERT_STATUS(tu_contains(c, "k1"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "k2"));
  cache_destroy(c);
}
END_TEST

START_TEST(insertion_evicts_by_policy_to_respect_max_bytes) {
  uint64_t b = entry_bytes("k0", 32);
  cache_t *c = make_bytes(3 * b);
  ASSERT_OK(set_len(c, "k0", 32, '0'));
  ASSERT_OK(set_len(c, "k1", 32, '1'));
  ASSERT_OK(set_len(c, "k2", 32, '2'));
  ck_assert_uint_eq(tu_stats(c).evictions, 0);
  ASSERT_OK(set_len(c, "k3", 32, '3'));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.evictions, 1);
  ck_assert_uint_le(st.bytes, 3 * b);
  ASSERT_STATUS(tu_contains(c, "k0"), CACHE_NOT_FOUND); /* least recent */
  ASSERT_OK(tu_contains(c, "k1"));
  ASSERT_OK(tu_contains(c, "k2"));
  ASSERT_OK(tu_contains(c, "k3"));
  cache_destroy(c);
}
END_TEST

START_TEST(entry_bigger_than_max_bytes_is_etoobig_and_changes_nothing) {
  cache_t *c = make_bytes(1024);
  ASSERT_OK(tu_set(c, "a", "1", 0));
  ASSERT_OK(tu_set(c, "b", "2", 0));
  cache_stats_t before = tu_stats(c);
  ASSERT_STATUS(set_len(c, "huge", 2048, 'h'), CACHE_ETOOBIG);
  cache_stats_t after = tu_stats(c);
  ASSERT_STATS_EQ(after, before);
  ASSERT_STATUS(tu_contains(c, "huge"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_contains(c, "a"));
  ASSERT_OK(tu_contains(c, "b"));
  cache_destroy(c);
}
END_TEST

START_TEST(etoobig_keeps_the_existing_value_of_that_key) {
  cache_t *c = make_bytes(1024);
  ASSERT_OK(tu_set(c, "k", "small", 0));
  cache_stats_t before = tu_stats(c);
  ASSERT_STATUS(set_len(c, "k", 4096, 'h'), CACHE_ETOOBIG);
  cache_stats_t after = tu_stats(c);
  ASSERT_STATS_EQ(after, before);
  ASSERT_VALUE(c, "k", "small");
  cache_destroy(c);
}
END_TEST

START_TEST(entry_whose_header_pushes_it_over_max_bytes_is_etoobig) {
  /* Key and value alone are exactly max_bytes; with the per-entry header
   * the entry exceeds it. */
  cache_t *c = make_bytes(100);
  ASSERT_STATUS(set_len(c, "key", 97, 'v'), CACHE_ETOOBIG);
  ck_assert_uint_eq(cache_count(c), 0);
  ck_assert_uint_eq(tu_stats(c).bytes, 0);
  ck_assert_uint_eq(tu_stats(c).sets, 0);
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_with_a_larger_value_may_evict_others) {
  uint64_t small = entry_bytes("k0", 16);
  size_t big_len = (size_t)(2 * small);
  uint64_t big = entry_bytes("k0", big_len);
  const uint64_t max = 4 * small;
  ck_assert_uint_le(big, max);
  ck_assert_uint_gt(big, small);

  cache_t *c = make_bytes(max);
  ASSERT_OK(set_len(c, "k0", 16, '0'));
  ASSERT_OK(set_len(c, "k1", 16, '1'));
  ASSERT_OK(set_len(c, "k2", 16, '2'));
  ASSERT_OK(set_len(c, "k3", 16, '3'));
  ck_assert_uint_eq(tu_stats(c).bytes, max);
  ck_assert_uint_eq(tu_stats(c).evictions, 0);

  ASSERT_OK(set_len(c, "k0", big_len, 'B'));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_le(st.bytes, max);
  ck_assert_uint_ge(st.evictions, 1);
  ck_assert_uint_lt(st.entries, 4);
  /* The replaced entry holds the new value; the least recently used other
   * entry went first. */
  size_t len = 0;
  ASSERT_STATUS(tu_get(c, "k0", NULL, 0, &len), CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, big_len);
  ASSERT_STATUS(tu_contains(c, "k1"), CACHE_NOT_FOUND);
  cache_destroy(c);
}
END_TEST

START_TEST(replacing_with_a_smaller_value_evicts_nothing) {
  uint64_t small = entry_bytes("k0", 64);
  cache_t *c = make_bytes(3 * small);
  ASSERT_OK(set_len(c, "k0", 64, '0'));
  ASSERT_OK(set_len(c, "k1", 64, '1'));
  ASSERT_OK(set_len(c, "k2", 64, '2'));
  ASSERT_OK(set_len(c, "k1", 8, 'x'));
  cache_stats_t st = tu_stats(c);
  ck_assert_uint_eq(st.evictions, 0);
  ck_assert_uint_eq(st.entries, 3);
  ck_assert_uint_le(st.bytes, 3 * small);
  cache_destroy(c);
}
END_TEST

START_TEST(both_bounds_apply_together) {
  tu_config_t cfg = {NULL, CACHE_POLICY_FIFO, 0, 5, 2048, NULL};
  cache_t *c = tu_make_cache_cfg(&cfg);
  char key[16];
  for (int i = 0; i < 200; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ASSERT_OK(set_len(c, key, (size_t)(i % 7) * 50, 'v'));
    cache_stats_t st = tu_stats(c);
    ck_assert_uint_le(st.entries, 5);
    ck_assert_uint_le(st.bytes, 2048);
  }
  cache_destroy(c);
}
END_TEST

static Suite *bounds_suite(void) {
  Suite *s = suite_create("bounds");

  TCase *a = tcase_create("accounting");
  tcase_add_test(a, empty_cache_holds_zero_bytes);
  tcase_add_test(a, entry_bytes_include_a_header);
  tcase_add_test(a, bytes_grow_with_the_value);
  tcase_add_test(a, bytes_add_up_over_entries);
  tcase_add_test(a, replacing_a_value_updates_the_bytes);
  tcase_add_test(a, bytes_return_to_zero_after_clear);
  tcase_add_test(a, bytes_return_to_zero_after_deleting_everything);
  tcase_add_test(a, stats_report_the_byte_bound);
  suite_add_tcase(s, a);

  TCase *b = tcase_create("bound");
  tcase_add_test(b, bytes_never_exceed_max_bytes);
  tcase_add_test(b, entry_that_exactly_fits_max_bytes_is_stored);
  tcase_add_test(b, insertion_evicts_by_policy_to_respect_max_bytes);
  tcase_add_test(b, entry_bigger_than_max_bytes_is_etoobig_and_changes_nothing);
  tcase_add_test(b, etoobig_keeps_the_existing_value_of_that_key);
  tcase_add_test(b, entry_whose_header_pushes_it_over_max_bytes_is_etoobig);
  tcase_add_test(b, replacing_with_a_larger_value_may_evict_others);
  tcase_add_test(b, replacing_with_a_smaller_value_evicts_nothing);
  tcase_add_test(b, both_bounds_apply_together);
  suite_add_tcase(s, b);
  return s;
}

int main(void) { return tu_run(bounds_suite()); }
