/* Storing, reading, testing, deleting and clearing entries. */
#include "test_util.h"

static cache_t *cache;

static void setup(void) { cache = tu_make_cache(NULL, 0, 0); }
static void teardown(void) {
  cache_destroy(cache);
  cache = NULL;
}

/* ---- set / get ---------------------------------------------------------- */

START_TEST(set_then_get_returns_the_value) {
  ASSERT_OK(tu_set(cache, "alpha", "one", 0));
  ASSERT_VALUE(cache, "alpha", "one");
}
END_TEST

START_TEST(get_of_unknown_key_is_not_found) {
  ASSERT_MISSING(cache, "nope");
  ASSERT_OK(tu_set(cache, "alpha", "one", 0));
  ASSERT_MISSING(cache, "alph");
  ASSERT_MISSING(cache, "alphaa");
}
END_TEST

START_TEST(keys_with_nul_bytes_are_distinct) {
  static const char k1[] = {'a', '\0', 'b'};
  static const char k2[] = {'a', '\0', 'c'};
  static const char k3[] = {'a'};
  static const char k4[] = {'a', '\0'};
  ASSERT_OK(cache_set(cache, k1, sizeof k1, "1", 1, 0));
  ASSERT_OK(cache_set(cache, k2, sizeof k2, "2", 1, 0));
  ASSERT_OK(cache_set(cache, k3, sizeof k3, "3", 1, 0));
  ASSERT_OK(cache_set(cache, k4, sizeof k4, "4", 1, 0));
  ck_assert_uint_eq(cache_count(cache), 4);

  const struct {
    const char *key;
    size_t len;
    char value;
  } expect[] = {{k1, sizeof k1, '1'},
                {k2, sizeof k2, '2'},
                {k3, sizeof k3, '3'},
                {k4, sizeof k4, '4'}};
  for (size_t i = 0; i < 4; i++) {
    char buf[8];
    size_t len = 0;
    ASSERT_OK(
        cache_get(cache, expect[i].key, expect[i].len, buf, sizeof buf, &len));
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(buf[0], expect[i].value);
  }
}
END_TEST

START_TEST(binary_value_round_trips_exactly) {
  unsigned char value[256];
  for (int i = 0; i < 256; i++)
    value[i] = (unsigned char)(255 - i);
  value[10] = 0;
  ASSERT_OK(cache_set(cache, "bin", 3, value, sizeof value, 0));
  unsigned char buf[256];
  size_t len = 0;
  ASSERT_OK(cache_get(cache, "bin", 3, buf, sizeof buf, &len));
  ck_assert_uint_eq(len, sizeof value);
  ck_assert_mem_eq(buf, value, sizeof value);
}
END_TEST

START_TEST(empty_value_with_null_pointer_round_trips) {
  ASSERT_OK(cache_set(cache, "empty", 5, NULL, 0, 0));
  char buf[4] = {'x', 'x', 'x', 'x'};
  size_t len = 99;
  ASSERT_OK(cache_get(cache, "empty", 5, buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 0);
  ASSERT_OK(tu_contains(cache, "empty"));
  ck_assert_uint_eq(cache_count(cache), 1);
}
END_TEST

START_TEST(empty_value_with_non_null_pointer_round_trips) {
  ASSERT_OK(cache_set(cache, "empty", 5, "ignored", 0, 0));
  size_t len = 99;
  char buf[4];
  ASSERT_OK(cache_get(cache, "empty", 5, buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(empty_value_fits_a_null_zero_length_buffer) {
  ASSERT_OK(cache_set(cache, "empty", 5, NULL, 0, 0));
  size_t len = 99;
  ASSERT_OK(cache_get(cache, "empty", 5, NULL, 0, &len));
  ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(set_replaces_existing_value) {
  ASSERT_OK(tu_set(cache, "k", "first", 0));
  ASSERT_OK(tu_set(cache, "k", "second-and-longer", 0));
  ASSERT_VALUE(cache, "k", "second-and-longer");
  ASSERT_OK(tu_set(cache, "k", "3", 0));
  ASSERT_VALUE(cache, "k", "3");
  ck_assert_uint_eq(cache_count(cache), 1);
  ck_assert_uint_eq(tu_stats(cache).entries, 1);
}
END_TEST

START_TEST(set_copies_key_and_value) {
  char key[] = "key1";
  char value[] = "value1";
  ASSERT_OK(cache_set(cache, key, 4, value, 6, 0));
  memset(key, 'z', 4);
  memset(value, 'z', 6);
  ASSERT_VALUE(cache, "key1", "value1");
  ASSERT_MISSING(cache, "zzzz");
}
END_TEST

START_TEST(get_with_exact_size_buffer_is_ok) {
  ASSERT_OK(tu_set(cache, "k", "12345", 0));
  char buf[5];
  size_t len = 0;
  ASSERT_OK(tu_get(cache, "k", buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 5);
  ck_assert_mem_eq(buf, "12345", 5);
}
END_TEST

START_TEST(get_with_larger_buffer_reports_value_length) {
  ASSERT_OK(tu_set(cache, "k", "abc", 0));
  char buf[64];
  size_t len = 0;
  ASSERT_OK(tu_get(cache, "k", buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 3);
  ck_assert_mem_eq(buf, "abc", 3);
}
END_TEST

START_TEST(get_into_too_small_buffer_is_etoosmall_and_copies_nothing) {
  ASSERT_OK(tu_set(cache, "k", "0123456789", 0));
  char buf[9];
  memset(buf, '#', sizeof buf);
  size_t len = 0;
  ASSERT_STATUS(tu_get(cache, "k", buf, sizeof buf, &len), CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, 10);
  for (size_t i = 0; i < sizeof buf; i++)
    ck_assert_int_eq(buf[i], '#');
  /* Calling again with a buffer of the reported size works. */
  char big[10];
  ASSERT_OK(tu_get(cache, "k", big, len, &len));
  ck_assert_mem_eq(big, "0123456789", 10);
}
END_TEST

START_TEST(get_with_null_buffer_and_zero_length_queries_size) {
  ASSERT_OK(tu_set(cache, "k", "hello", 0));
  size_t len = 0;
  ASSERT_STATUS(tu_get(cache, "k", NULL, 0, &len), CACHE_ETOOSMALL);
  ck_assert_uint_eq(len, 5);
}
END_TEST

START_TEST(too_small_get_counts_as_a_hit) {
  ASSERT_OK(tu_set(cache, "k", "hello", 0));
  size_t len = 0;
  char buf[2];
  ASSERT_STATUS(tu_get(cache, "k", NULL, 0, &len), CACHE_ETOOSMALL);
  ASSERT_STATUS(tu_get(cache, "k", buf, sizeof buf, &len), CACHE_ETOOSMALL);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.hits, 2);
  ck_assert_uint_eq(st.misses, 0);
}
END_TEST

START_TEST(hit_and_miss_are_counted_by_get) {
  ASSERT_OK(tu_set(cache, "k", "v", 0));
  ASSERT_VALUE(cache, "k", "v");
  ASSERT_MISSING(cache, "other");
  ASSERT_MISSING(cache, "other2");
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.hits, 1);
  ck_assert_uint_eq(st.misses, 2);
}
END_TEST

START_TEST(key_of_maximum_length_works) {
  size_t klen = CACHE_KEY_MAX;
  unsigned char *key = malloc(klen);
  ck_assert_ptr_nonnull(key);
  for (size_t i = 0; i < klen; i++)
    key[i] = (unsigned char)(i * 7);
  ASSERT_OK(cache_set(cache, key, klen, "v", 1, 0));
  char buf[4];
  size_t len = 0;
  ASSERT_OK(cache_get(cache, key, klen, buf, sizeof buf, &len));
  ck_assert_uint_eq(len, 1);
  ASSERT_OK(cache_contains(cache, key, klen));
  /* The same key one byte shorter is another key. */
  ASSERT_STATUS(cache_contains(cache, key, klen - 1), CACHE_NOT_FOUND);
  ASSERT_OK(cache_delete(cache, key, klen));
  free(key);
}
END_TEST

START_TEST(single_byte_key_works) {
  ASSERT_OK(cache_set(cache, "x", 1, "v", 1, 0));
  ASSERT_VALUE(cache, "x", "v");
}
END_TEST

START_TEST(large_value_round_trips) {
  size_t n = 1u << 20;
  unsigned char *value = malloc(n);
  unsigned char *buf = malloc(n);
  ck_assert_ptr_nonnull(value);
  ck_assert_ptr_nonnull(buf);
  for (size_t i = 0; i < n; i++)
    value[i] = (unsigned char)(i ^ (i >> 8));
  ASSERT_OK(cache_set(cache, "big", 3, value, n, 0));
  size_t len = 0;
  ASSERT_OK(cache_get(cache, "big", 3, buf, n, &len));
  ck_assert_uint_eq(len, n);
  ck_assert_int_eq(memcmp(buf, value, n), 0);
  free(value);
  free(buf);
}
END_TEST

/* Entries keep their lengths in 22 bits of the header up to a 64-byte key
 * and a 65,535-byte value, and in a block of their own past either; a
 * deadline comes after that block. Every side of both edges, with and
 * without a time to live, must read back exactly. */
START_TEST(lengths_on_both_sides_of_the_short_header_round_trip) {
  static const size_t key_lens[] = {1, 63, 64, 65, 300};
  static const size_t value_lens[] = {0, 1, 65535, 65536, 70001};
  size_t most = 70001;
  unsigned char *key = malloc(301), *value = malloc(most), *buf = malloc(most);
  ck_assert(key != NULL && value != NULL && buf != NULL);
  for (size_t i = 0; i < most; i++)
    value[i] = (unsigned char)(i * 31 + (i >> 9));
  uint64_t bytes_before = tu_stats(cache).bytes;
  int n = 0;
  for (size_t k = 0; k < sizeof key_lens / sizeof *key_lens; k++)
    for (size_t v = 0; v < sizeof value_lens / sizeof *value_lens; v++)
      for (uint64_t ttl = 0; ttl <= 60000; ttl += 60000) {
        size_t kl = key_lens[k], vl = value_lens[v];
        memset(key, 'k', kl + 1);
        key[0] = (unsigned char)n++; /* a key of its own each time */
        ASSERT_OK(cache_set(cache, key, kl, value, vl, ttl));
        size_t len = 0;
        memset(buf, 0, most);
        ASSERT_OK(cache_get(cache, key, kl, buf, most, &len));
        ck_assert_uint_eq(len, vl);
        ck_assert_int_eq(memcmp(buf, value, vl), 0);
        /* The key one byte longer or shorter is another key. */
        if (kl > 1)
          ASSERT_STATUS(cache_contains(cache, key, kl - 1), CACHE_NOT_FOUND);
        ASSERT_STATUS(cache_contains(cache, key, kl + 1), CACHE_NOT_FOUND);
        ASSERT_OK(cache_delete(cache, key, kl));
        ASSERT_STATUS(cache_contains(cache, key, kl), CACHE_NOT_FOUND);
      }
  /* Every byte counted in was counted out. */
  ck_assert_uint_eq(tu_stats(cache).bytes, bytes_before);
  free(key);
  free(value);
  free(buf);
}
END_TEST

START_TEST(many_keys_are_all_retrievable) {
  enum { N = 5000 };
  char key[32], val[32], buf[32];
  for (int i = 0; i < N; i++) {
    int kl = snprintf(key, sizeof key, "key-%d", i);
    int vl = snprintf(val, sizeof val, "val-%d", i * 3);
    ASSERT_OK(cache_set(cache, key, (size_t)kl, val, (size_t)vl, 0));
  }
  ck_assert_uint_eq(cache_count(cache), N);
  for (int i = 0; i < N; i++) {
    int kl = snprintf(key, sizeof key, "key-%d", i);
    int vl = snprintf(val, sizeof val, "val-%d", i * 3);
    size_t len = 0;
    ASSERT_OK(cache_get(cache, key, (size_t)kl, buf, sizeof buf, &len));
    ck_assert_uint_eq(len, (size_t)vl);
    ck_assert_mem_eq(buf, val, len);
  }
}
END_TEST

/* ---- contains ----------------------------------------------------------- */

START_TEST(contains_finds_live_entry) {
  ASSERT_OK(tu_set(cache, "k", "v", 0));
  ASSERT_OK(tu_contains(cache, "k"));
}
END_TEST

START_TEST(contains_of_unknown_key_is_not_found) {
  ASSERT_STATUS(tu_contains(cache, "k"), CACHE_NOT_FOUND);
}
END_TEST

START_TEST(contains_counts_neither_hit_nor_miss) {
  ASSERT_OK(tu_set(cache, "k", "v", 0));
  ASSERT_OK(tu_contains(cache, "k"));
  ASSERT_STATUS(tu_contains(cache, "missing"), CACHE_NOT_FOUND);
  cache_stats_t st = tu_stats(cache);
  ck_assert_uint_eq(st.hits, 0);
  ck_assert_uint_eq(st.misses, 0);
}
END_TEST

/* ---- delete ------------------------------------------------------------- */

START_TEST(delete_removes_the_entry) {
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "2", 0));
  ASSERT_OK(tu_delete(cache, "a"));
  ASSERT_MISSING(cache, "a");
  ASSERT_STATUS(tu_contains(cache, "a"), CACHE_NOT_FOUND);
  ASSERT_VALUE(cache, "b", "2");
  ck_assert_uint_eq(cache_count(cache), 1);
}
END_TEST

START_TEST(delete_of_unknown_key_is_not_found) {
  ASSERT_STATUS(tu_delete(cache, "ghost"), CACHE_NOT_FOUND);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_delete(cache, "a"));
  ASSERT_STATUS(tu_delete(cache, "a"), CACHE_NOT_FOUND);
  ck_assert_uint_eq(tu_stats(cache).deletes, 1);
}
END_TEST

START_TEST(deleted_key_can_be_set_again) {
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_delete(cache, "a"));
  ASSERT_OK(tu_set(cache, "a", "2", 0));
  ASSERT_VALUE(cache, "a", "2");
  ck_assert_uint_eq(cache_count(cache), 1);
}
END_TEST

/* ---- clear and count ---------------------------------------------------- */

START_TEST(clear_removes_every_entry) {
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "2", 0));
  ASSERT_OK(tu_set(cache, "c", "3", 0));
  ASSERT_OK(cache_clear(cache));
  ck_assert_uint_eq(cache_count(cache), 0);
  ck_assert_uint_eq(tu_stats(cache).entries, 0);
  ASSERT_MISSING(cache, "a");
  ASSERT_MISSING(cache, "b");
  ASSERT_MISSING(cache, "c");
}
END_TEST

START_TEST(clear_of_empty_cache_is_ok) {
  ASSERT_OK(cache_clear(cache));
  ASSERT_OK(cache_clear(cache));
  ck_assert_uint_eq(cache_count(cache), 0);
}
END_TEST

START_TEST(cache_is_usable_after_clear) {
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(cache_clear(cache));
  ASSERT_OK(tu_set(cache, "a", "2", 0));
  ASSERT_VALUE(cache, "a", "2");
  ck_assert_uint_eq(cache_count(cache), 1);
}
END_TEST

START_TEST(count_tracks_distinct_keys) {
  ck_assert_uint_eq(cache_count(cache), 0);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ck_assert_uint_eq(cache_count(cache), 1);
  ASSERT_OK(tu_set(cache, "b", "1", 0));
  ck_assert_uint_eq(cache_count(cache), 2);
  ASSERT_OK(tu_set(cache, "a", "2", 0));
  ck_assert_uint_eq(cache_count(cache), 2);
  ASSERT_OK(tu_delete(cache, "a"));
  ck_assert_uint_eq(cache_count(cache), 1);
  ck_assert_uint_eq(tu_stats(cache).entries, 1);
}
END_TEST

static Suite *set_get_suite(void) {
  Suite *s = suite_create("set_get");

  TCase *sg = tcase_create("set_get");
  tcase_add_checked_fixture(sg, setup, teardown);
  tcase_add_test(sg, set_then_get_returns_the_value);
  tcase_add_test(sg, get_of_unknown_key_is_not_found);
  tcase_add_test(sg, keys_with_nul_bytes_are_distinct);
  tcase_add_test(sg, binary_value_round_trips_exactly);
  tcase_add_test(sg, empty_value_with_null_pointer_round_trips);
  tcase_add_test(sg, empty_value_with_non_null_pointer_round_trips);
  tcase_add_test(sg, empty_value_fits_a_null_zero_length_buffer);
  tcase_add_test(sg, set_replaces_existing_value);
  tcase_add_test(sg, set_copies_key_and_value);
  tcase_add_test(sg, get_with_exact_size_buffer_is_ok);
  tcase_add_test(sg, get_with_larger_buffer_reports_value_length);
  tcase_add_test(sg, get_into_too_small_buffer_is_etoosmall_and_copies_nothing);
  tcase_add_test(sg, get_with_null_buffer_and_zero_length_queries_size);
  tcase_add_test(sg, too_small_get_counts_as_a_hit);
  tcase_add_test(sg, hit_and_miss_are_counted_by_get);
  tcase_add_test(sg, key_of_maximum_length_works);
  tcase_add_test(sg, single_byte_key_works);
  tcase_add_test(sg, large_value_round_trips);
  tcase_add_test(sg, lengths_on_both_sides_of_the_short_header_round_trip);
  tcase_add_test(sg, many_keys_are_all_retrievable);
  suite_add_tcase(s, sg);

  TCase *ct = tcase_create("contains");
  tcase_add_checked_fixture(ct, setup, teardown);
  tcase_add_test(ct, contains_finds_live_entry);
  tcase_add_test(ct, contains_of_unknown_key_is_not_found);
  tcase_add_test(ct, contains_counts_neither_hit_nor_miss);
  suite_add_tcase(s, ct);

  TCase *dl = tcase_create("delete_clear");
  tcase_add_checked_fixture(dl, setup, teardown);
  tcase_add_test(dl, delete_removes_the_entry);
  tcase_add_test(dl, delete_of_unknown_key_is_not_found);
  tcase_add_test(dl, deleted_key_can_be_set_again);
  tcase_add_test(dl, clear_removes_every_entry);
  tcase_add_test(dl, clear_of_empty_cache_is_ok);
  tcase_add_test(dl, cache_is_usable_after_clear);
  tcase_add_test(dl, count_tracks_distinct_keys);
  suite_add_tcase(s, dl);
  return s;
}

int main(void) { return tu_run(set_get_suite()); }
