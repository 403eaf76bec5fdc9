/* Bad input: every rejected call returns its documented status and leaves
 * the cache exactly as it was. */
#include "test_util.h"

static cache_t *cache;
static cache_stats_t before;

static void setup(void) {
  cache = tu_make_cache(NULL, 0, 0);
  ASSERT_OK(tu_set(cache, "a", "1", 0));
  ASSERT_OK(tu_set(cache, "b", "22", 0));
  before = tu_stats(cache);
}

static void teardown(void) {
  cache_destroy(cache);
  cache = NULL;
}

/* The cache holds what setup() put there and every counter is as it was. */
#define ASSERT_UNCHANGED()                                                     \
  do {                                                                         \
    cache_stats_t now_ = tu_stats(cache);                                      \
    ASSERT_STATS_EQ(now_, before);                                             \
    ck_assert_uint_eq(cache_count(cache), 2);                                  \
    ASSERT_OK(tu_contains(cache, "a"));                                        \
    ASSERT_OK(tu_contains(cache, "b"));                                        \
  } while (0)

#define TOO_LONG_KEY ((size_t)CACHE_KEY_MAX + 1)

static char buf[64];
static size_t len;

/* ---- NULL handle -------------------------------------------------------- */

START_TEST(set_null_cache_is_einval) {
  ASSERT_STATUS(cache_set(NULL, "a", 1, "v", 1, 0), CACHE_EINVAL);
}
END_TEST

START_TEST(get_null_cache_is_einval) {
  ASSERT_STATUS(cache_get(NULL, "a", 1, buf, sizeof buf, &len), CACHE_EINVAL);
}
END_TEST

START_TEST(contains_null_cache_is_einval) {
  ASSERT_STATUS(cache_contains(NULL, "a", 1), CACHE_EINVAL);
}
END_TEST

START_TEST(delete_null_cache_is_einval) {
  ASSERT_STATUS(cache_delete(NULL, "a", 1), CACHE_EINVAL);
}
END_TEST

START_TEST(clear_null_cache_is_einval) {
  ASSERT_STATUS(cache_clear(NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(cleanup_null_cache_is_einval) {
  uint64_t removed = 0;
  ASSERT_STATUS(cache_cleanup(NULL, &removed), CACHE_EINVAL);
  ASSERT_STATUS(cache_cleanup(NULL, NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(stats_null_cache_is_einval) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  ASSERT_STATUS(cache_stats(NULL, &st), CACHE_EINVAL);
}
END_TEST

START_TEST(close_null_cache_is_einval) {
  ASSERT_STATUS(cache_close(NULL), CACHE_EINVAL);
}
END_TEST

START_TEST(count_null_cache_is_zero) {
  ck_assert_uint_eq(cache_count(NULL), 0);
}
END_TEST

START_TEST(destroy_null_cache_is_safe) { cache_destroy(NULL); }
END_TEST

/* ---- cache_set ---------------------------------------------------------- */

START_TEST(set_null_key_is_einval) {
  ASSERT_STATUS(cache_set(cache, NULL, 1, "v", 1, 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(set_key_len_zero_is_einval) {
  ASSERT_STATUS(cache_set(cache, "a", 0, "v", 1, 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(set_key_len_over_max_is_einval) {
  char *key = calloc(1, TOO_LONG_KEY);
  ck_assert_ptr_nonnull(key);
  ASSERT_STATUS(cache_set(cache, key, TOO_LONG_KEY, "v", 1, 0), CACHE_EINVAL);
  free(key);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(set_huge_key_len_is_rejected_before_reading_the_key) {
  /* Only 2 bytes are readable: the length alone must reject it. */
  ASSERT_STATUS(cache_set(cache, "k", SIZE_MAX, "v", 1, 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(set_null_value_with_length_is_einval) {
  ASSERT_STATUS(cache_set(cache, "c", 1, NULL, 1, 0), CACHE_EINVAL);
  ASSERT_STATUS(cache_set(cache, "c", 1, NULL, 1000, 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
  ASSERT_STATUS(tu_contains(cache, "c"), CACHE_NOT_FOUND);
}
END_TEST

START_TEST(set_null_value_on_existing_key_keeps_old_value) {
  ASSERT_STATUS(cache_set(cache, "b", 1, NULL, 5, 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
  ASSERT_VALUE(cache, "b", "22");
}
END_TEST

#if SIZE_MAX > 0xffffffffu
START_TEST(set_value_len_over_value_max_is_etoobig_without_reading_it) {
  /* Only 2 bytes are readable: the length alone must reject it. */
  size_t huge = (size_t)CACHE_VALUE_MAX + 1;
  ASSERT_STATUS(cache_set(cache, "c", 1, "v", huge, 0), CACHE_ETOOBIG);
  ASSERT_UNCHANGED();
  ASSERT_STATUS(tu_contains(cache, "c"), CACHE_NOT_FOUND);
}
END_TEST

START_TEST(set_value_len_size_max_is_etoobig) {
  ASSERT_STATUS(cache_set(cache, "a", 1, "v", SIZE_MAX, 0), CACHE_ETOOBIG);
  ASSERT_UNCHANGED();
  ASSERT_VALUE(cache, "a", "1");
}
END_TEST
#endif

/* ---- cache_get ---------------------------------------------------------- */

START_TEST(get_null_key_is_einval) {
  ASSERT_STATUS(cache_get(cache, NULL, 1, buf, sizeof buf, &len), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_key_len_zero_is_einval) {
  ASSERT_STATUS(cache_get(cache, "a", 0, buf, sizeof buf, &len), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_key_len_over_max_is_einval) {
  char *key = calloc(1, TOO_LONG_KEY);
  ck_assert_ptr_nonnull(key);
  ASSERT_STATUS(cache_get(cache, key, TOO_LONG_KEY, buf, sizeof buf, &len),
                CACHE_EINVAL);
  free(key);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_huge_key_len_is_rejected_before_reading_the_key) {
  ASSERT_STATUS(cache_get(cache, "a", SIZE_MAX, buf, sizeof buf, &len),
                CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_null_value_len_is_einval) {
  memset(buf, '#', sizeof buf);
  ASSERT_STATUS(cache_get(cache, "a", 1, buf, sizeof buf, NULL), CACHE_EINVAL);
  ck_assert_int_eq(buf[0], '#');
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_null_value_len_on_missing_key_is_einval) {
  ASSERT_STATUS(cache_get(cache, "zz", 2, buf, sizeof buf, NULL), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_null_buf_with_length_is_einval) {
  ASSERT_STATUS(cache_get(cache, "a", 1, NULL, 8, &len), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(get_null_buf_with_length_on_missing_key_is_einval) {
  ASSERT_STATUS(cache_get(cache, "zz", 2, NULL, 8, &len), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

/* ---- cache_contains ----------------------------------------------------- */

START_TEST(contains_null_key_is_einval) {
  ASSERT_STATUS(cache_contains(cache, NULL, 1), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(contains_key_len_zero_is_einval) {
  ASSERT_STATUS(cache_contains(cache, "a", 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(contains_key_len_over_max_is_einval) {
  char *key = calloc(1, TOO_LONG_KEY);
  ck_assert_ptr_nonnull(key);
  ASSERT_STATUS(cache_contains(cache, key, TOO_LONG_KEY), CACHE_EINVAL);
  free(key);
  ASSERT_UNCHANGED();
}
END_TEST

/* ---- cache_delete ------------------------------------------------------- */

START_TEST(delete_null_key_is_einval) {
  ASSERT_STATUS(cache_delete(cache, NULL, 1), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(delete_key_len_zero_is_einval) {
  ASSERT_STATUS(cache_delete(cache, "a", 0), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(delete_key_len_over_max_is_einval) {
  char *key = calloc(1, TOO_LONG_KEY);
  ck_assert_ptr_nonnull(key);
  ASSERT_STATUS(cache_delete(cache, key, TOO_LONG_KEY), CACHE_EINVAL);
  free(key);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(delete_huge_key_len_is_rejected_before_reading_the_key) {
  ASSERT_STATUS(cache_delete(cache, "a", SIZE_MAX), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

/* ---- cache_stats -------------------------------------------------------- */

START_TEST(stats_null_struct_is_einval) {
  ASSERT_STATUS(cache_stats(cache, NULL), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

START_TEST(stats_zero_struct_size_is_einval) {
  cache_stats_t st;
  memset(&st, 0, sizeof st);
  ASSERT_STATUS(cache_stats(cache, &st), CACHE_EINVAL);
  ASSERT_UNCHANGED();
}
END_TEST

static Suite *errors_suite(void) {
  Suite *s = suite_create("errors");

  TCase *h = tcase_create("null_handle");
  tcase_add_test(h, set_null_cache_is_einval);
  tcase_add_test(h, get_null_cache_is_einval);
  tcase_add_test(h, contains_null_cache_is_einval);
  tcase_add_test(h, delete_null_cache_is_einval);
  tcase_add_test(h, clear_null_cache_is_einval);
  tcase_add_test(h, cleanup_null_cache_is_einval);
  tcase_add_test(h, stats_null_cache_is_einval);
  tcase_add_test(h, close_null_cache_is_einval);
  tcase_add_test(h, count_null_cache_is_zero);
  tcase_add_test(h, destroy_null_cache_is_safe);
  suite_add_tcase(s, h);

  TCase *set = tcase_create("set");
  tcase_add_checked_fixture(set, setup, teardown);
  tcase_add_test(set, set_null_key_is_einval);
  tcase_add_test(set, set_key_len_zero_is_einval);
  tcase_add_test(set, set_key_len_over_max_is_einval);
  tcase_add_test(set, set_huge_key_len_is_rejected_before_reading_the_key);
  tcase_add_test(set, set_null_value_with_length_is_einval);
  tcase_add_test(set, set_null_value_on_existing_key_keeps_old_value);
#if SIZE_MAX > 0xffffffffu
  tcase_add_test(set,
                 set_value_len_over_value_max_is_etoobig_without_reading_it);
  tcase_add_test(set, set_value_len_size_max_is_etoobig);
#endif
  suite_add_tcase(s, set);

  TCase *get = tcase_create("get");
  tcase_add_checked_fixture(get, setup, teardown);
  tcase_add_test(get, get_null_key_is_einval);
  tcase_add_test(get, get_key_len_zero_is_einval);
  tcase_add_test(get, get_key_len_over_max_is_einval);
  tcase_add_test(get, get_huge_key_len_is_rejected_before_reading_the_key);
  tcase_add_test(get, get_null_value_len_is_einval);
  tcase_add_test(get, get_null_value_len_on_missing_key_is_einval);
  tcase_add_test(get, get_null_buf_with_length_is_einval);
  tcase_add_test(get, get_null_buf_with_length_on_missing_key_is_einval);
  suite_add_tcase(s, get);

  TCase *other = tcase_create("contains_delete_stats");
  tcase_add_checked_fixture(other, setup, teardown);
  tcase_add_test(other, contains_null_key_is_einval);
  tcase_add_test(other, contains_key_len_zero_is_einval);
  tcase_add_test(other, contains_key_len_over_max_is_einval);
  tcase_add_test(other, delete_null_key_is_einval);
  tcase_add_test(other, delete_key_len_zero_is_einval);
  tcase_add_test(other, delete_key_len_over_max_is_einval);
  tcase_add_test(other, delete_huge_key_len_is_rejected_before_reading_the_key);
  tcase_add_test(other, stats_null_struct_is_einval);
  tcase_add_test(other, stats_zero_struct_size_is_einval);
  suite_add_tcase(s, other);
  return s;
}

int main(void) { return tu_run(errors_suite()); }
